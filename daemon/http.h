/* skiffd's HTTP/1.1 server: libhttp-parser on a libuv loop, serving a unix
   socket the way dockerd does (Engine API v1.41).

   Threads: every function here must be called on the loop's thread.  Work
   done in the thread pool comes back through its after-work callback.

   Life of a request
   -----------------
   The server calls the handler given to http_server_listen() up to twice
   per request, both times with the same `struct http_request`:

   1. at headers time (req->phase == HTTP_PHASE_HEADERS): method, path,
      query and headers are known, the body is not.  A handler that wants
      the body in chunks (uploads of any size: `docker load`, archive PUT)
      calls http_request_stream_body() now; a handler that can answer
      without the body (an error) may respond now, and the connection is
      then closed after that response, since the body was not read.  A
      handler that does neither just returns: the server reads the whole
      body (at most HTTP_MAX_BODY bytes; more is answered with 413) and
      calls it again:
   2. at message time (req->phase == HTTP_PHASE_BODY): req->body holds the
      body (NUL-terminated; "" and 0 when empty).

   From the moment the handler streams the body or is called at message
   time, the handler OWNS the request and must finish it exactly once, now
   or later from any loop callback, with one of: http_respond(),
   http_respond_json(), http_respond_error(), http_respond_empty(),
   http_stream_end(), http_hijack().  The request stays valid until that
   call, and is freed by it: do not touch req afterwards.  It stays valid
   even when the client goes away first: then the callback set with
   http_request_on_close() runs once, writes become no-ops, and the handler
   must still finish the request (typically http_stream_end()) to free it.

   Requests on one connection are answered in order: the next request on a
   keep-alive connection is parsed only after the current one is finished.
*/
#ifndef SKIFF_DAEMON_HTTP_H
#define SKIFF_DAEMON_HTTP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <uv.h>

#include "error.h"

/* What every response says about the server.  */
#define HTTP_API_VERSION "1.41"
/* Largest body buffered in memory; bigger ones must be streamed.  */
#define HTTP_MAX_BODY (64u * 1024 * 1024)

struct http_server;

enum http_phase
{
  HTTP_PHASE_HEADERS, /* headers known, body not read yet */
  HTTP_PHASE_BODY     /* the whole body is in req->body */
};

/* Read-only for handlers, except `params`, which the router fills.  */
struct http_request
{
  enum http_phase phase;
  const char *method;      /* "GET", "POST", "HEAD", ... */
  const char *path;        /* URL-decoded, without a "/vN.NN" prefix: "/containers/x/json" */
  const char *raw_path;    /* the request target's path as received, prefix and escapes kept */
  const char *query;       /* raw query string without '?', "" when none */
  const char *api_version; /* "1.41" from a "/v1.41/..." path, NULL without a prefix */
  const char *body;        /* phase HTTP_PHASE_BODY: the body, NUL-terminated */
  size_t body_len;
  /* Set by the router: "key", "value", ..., NULL.  Freed with the request.  */
  char **params;
};

typedef void (*http_handler_fn) (struct http_request *req, void *data);

/* ---- the server ---- */

/* Listens on the unix socket socket_path (a stale socket file is removed
   first; any other kind of file there is an error), with permissions mode
   and, unless gid is (gid_t) -1, that group.  handler gets data.  */
int http_server_listen (uv_loop_t *loop, const char *socket_path, mode_t mode, gid_t gid,
                        http_handler_fn handler, void *data, struct http_server **out,
                        skiff_error_t *err);

/* Stops listening, removes the socket file and closes every connection
   (running the on-close callbacks of requests in progress).  done(arg) runs
   once every handle the server owns is closed; s is freed then.  Requests
   that handlers still own stay valid until they are finished.  Hijacked
   streams belong to their handlers and are not touched.  */
void http_server_close (struct http_server *s, void (*done) (void *), void *arg);

/* ---- the request ---- */

/* Header value by case-insensitive name (the first one), or NULL.  */
const char *http_header (const struct http_request *r, const char *name);
/* Query parameter by exact key, URL-decoded ('+' is a space); NULL if absent.
   A key given without '=' has the value "".  */
const char *http_query (const struct http_request *r, const char *key);
/* Every value of a repeated key (`?t=a&t=b`), in order, NULL-terminated;
   owned by the request.  Never NULL.  */
const char *const *http_query_all (const struct http_request *r, const char *key);
/* Docker's BoolValueOrDefault: def when the key is absent, false for "",
   "0", "no", "false", "none" (any case, blanks trimmed), true otherwise.  */
bool http_query_bool (const struct http_request *r, const char *key, bool def);
/* The API version of the request as major*100 + minor (141 for "1.41"),
   or def when the path had no version prefix.  */
int http_request_api_version (const struct http_request *r, int def);

/* ---- streaming request bodies ---- */

/* Receives chunks of the body as they are read, then one last call with
   end true (and len 0).  Return 0 to go on; a negative value stops the
   upload: no more calls, and the connection is closed after the response
   (which the handler still owes).  */
typedef int (*http_body_fn) (struct http_request *req, const char *chunk, size_t len, bool end,
                             void *data);

/* Only at HTTP_PHASE_HEADERS.  Takes ownership of the request (see top);
   answers `Expect: 100-continue`.  There is no size limit; req->phase stays
   HTTP_PHASE_HEADERS and req->body NULL.  */
void http_request_stream_body (struct http_request *req, http_body_fn fn, void *data);
/* Back-pressure: stop reading the socket (uv_read_stop) until resumed, e.g.
   while a chunk is being written by the thread pool.  May be called from
   within the body callback; the chunk passed to it stays consumed.  */
void http_request_pause_body (struct http_request *req);
void http_request_resume_body (struct http_request *req);

/* cb runs once if the client goes away (EOF, error, server shutdown) before
   the request is finished: stop producing and finish the request.  */
void http_request_on_close (struct http_request *req, void (*cb) (struct http_request *, void *),
                            void *data);
/* True once the client went away.  */
bool http_request_closed (const struct http_request *req);

/* ---- responses ---- */

/* Every response carries Api-Version: 1.41, Docker-Experimental: false,
   Ostype: linux, Server: skiff/<version> (linux), Date and Content-Type, and Content-Length or chunked encoding.  HEAD
   requests get the headers of the response, with its Content-Length, and
   no body.  */

/* An extra header for the coming response (e.g. Cache-Control); call
   before the response starts.  Both strings are copied.  */
void http_response_add_header (struct http_request *req, const char *name, const char *value);

/* Finishing calls: each frees req (see top).  */
void http_respond (struct http_request *req, int status, const char *content_type, const void *body,
                   size_t len);
/* Content-Type: application/json.  */
void http_respond_json (struct http_request *req, int status, const char *json_text);
/* Docker's error body: {"message":"<formatted text>"}.  */
void http_respond_error (struct http_request *req, int status, const char *fmt, ...) SKIFF_PRINTF (3, 4);
void http_respond_verror (struct http_request *req, int status, const char *fmt, va_list ap);
/* No body and no Content-Type (204, 304, ...): Content-Length: 0 otherwise.  */
void http_respond_empty (struct http_request *req, int status);

/* Streaming responses, Transfer-Encoding: chunked.  The headers are written
   at once (the docker CLI waits for them, e.g. on /containers/{id}/wait).
   http_stream_write copies data and returns at once; -1 once the client
   went away (then stop and call http_stream_end).  Empty writes are
   ignored.  http_stream_end finishes (and frees) the request; without a
   http_stream_begin before, it answers 200 with an empty body.  */
void http_stream_begin (struct http_request *req, int status, const char *content_type);
int http_stream_write (struct http_request *req, const void *data, size_t len);
int http_stream_printf (struct http_request *req, const char *fmt, ...) SKIFF_PRINTF (2, 3);
void http_stream_end (struct http_request *req);
/* Back-pressure for big output (docker save, logs): bytes queued but not
   yet taken by the kernel.  A producer that finds it at HTTP_DRAIN_BYTES or
   more registers a drain callback, which runs once when the queue falls
   below; http_stream_on_drain returns false (and registers nothing) when
   the queue is already below, or the client is gone: write on then.  */
#define HTTP_DRAIN_BYTES (1024 * 1024)
size_t http_stream_queued (const struct http_request *req);
bool http_stream_on_drain (struct http_request *req, void (*cb) (struct http_request *, void *),
                           void *data);

/* ---- hijacking (attach, exec start) ----

   Writes `HTTP/1.1 101 UPGRADED` with Content-Type
   application/vnd.docker.raw-stream, Connection: Upgrade, Upgrade: tcp when
   upgrade is true and the request asked for it (Upgrade: tcp and
   Connection: Upgrade); otherwise `HTTP/1.1 200 OK` with that content type
   and no length (the stream ends when the connection does).  Only once the
   request is read (HTTP_PHASE_BODY; exec start has a JSON body).  Finishes
   and frees req: copy what you need from it first.

   Returns the connection's stream; the handler owns it from now on: the
   server neither reads, writes nor closes it any more, and it is not
   closed by http_server_close().  It is a malloc'd uv_pipe_t, not reading,
   whose `data` the handler may set; end it with
   uv_close ((uv_handle_t *) s, http_hijack_free_cb) or with a close
   callback of the handler's that calls free() on it.

   *leftover receives the bytes the client sent after the request, which
   the server had already read (malloc'd, the caller frees base; base NULL
   and len 0 when none): process them before anything read from the stream.

   Returns NULL (and finishes the request) when the client is gone.  */
uv_stream_t *http_hijack (struct http_request *req, bool upgrade, uv_buf_t *leftover);
void http_hijack_free_cb (uv_handle_t *h);

/* "Mon, 02 Jan 2006 15:04:05 GMT" into buf (at least 30 bytes).  */
void http_format_date (time_t t, char *buf, size_t size);

/* ---- internal to http.c and http_stream.c ---- */
#ifdef SKIFF_HTTP_INTERNAL
#include <http_parser.h>

struct http_header_kv
{
  char *name;
  char *value; /* NULL while the name is still being read */
};

/* Results of http_query_all, freed with the request.  */
struct http_query_list
{
  struct http_query_list *next;
  const char *values[];
};

struct http_conn;

struct http_req
{
  struct http_request pub;
  struct http_conn *conn;
  char *url;
  size_t url_len;
  char *path, *raw_path, *query, *api_version;
  int api_version_num;
  struct http_header_kv *headers;
  size_t n_headers;
  char **query_kv; /* decoded "key", "value", ..., NULL */
  struct http_query_list *query_lists;
  char *body;
  size_t body_len;
  char **extra_headers; /* "name", "value", ..., NULL */
  http_body_fn body_fn;
  void *body_data;
  void (*close_cb) (struct http_request *, void *);
  void *close_data;
  void (*drain_cb) (struct http_request *, void *);
  void *drain_data;
  bool owned;         /* the handler must finish it */
  bool streaming;     /* body goes to body_fn */
  bool body_paused;
  bool body_aborted;  /* body_fn refused more, or too large: close after */
  bool too_large;
  bool message_done;  /* the whole request was read */
  bool keep_alive;
  bool http10;
  bool head;
  bool has_body;
  bool wants_upgrade; /* Connection: Upgrade and an Upgrade header */
  bool started;       /* response headers written */
  bool chunked;
  bool closed;        /* the client went away */
};

enum conn_event
{
  CONN_EVENT_NONE,
  CONN_EVENT_HEADERS,
  CONN_EVENT_MESSAGE
};

struct http_server;

/* Freed when its handle is closed (or handed over by a hijack), no write
   is in flight and no handler holds its request.  */
struct http_conn
{
  struct http_server *srv; /* NULL once unlinked */
  struct http_conn *prev, *next;
  uv_pipe_t *pipe;         /* NULL once closed or hijacked */
  http_parser parser;
  char *in;                /* received bytes; [in_off, in_len) not parsed yet */
  size_t in_off, in_len, in_cap;
  struct http_req *req;    /* the request being read or answered */
  unsigned writes;         /* writes in flight */
  enum conn_event event;   /* set by the parser callbacks */
  bool reading;
  bool in_process;
  bool wait_response;      /* request read, response not finished */
  bool upgraded;           /* the parser stopped at an upgrade */
  bool closing;            /* no more requests: shutting down or closing */
  bool shutting_down;
  bool in_callback;        /* a handler's callback runs: keep c */
};

struct http_server
{
  uv_pipe_t listener;
  char *path;
  http_handler_fn handler;
  void *data;
  struct http_conn *conns;
  bool listener_open;
  bool closing;
  void (*done) (void *);
  void *done_arg;
};

static inline struct http_req *
http_req_of (struct http_request *pub)
{
  return (struct http_req *) ((char *) pub - offsetof (struct http_req, pub));
}

static inline const struct http_req *
http_req_of_const (const struct http_request *pub)
{
  return (const struct http_req *) ((const char *) pub - offsetof (struct http_req, pub));
}

void http_req_free (struct http_req *r);
/* After the last write of a response: frees r, then keeps the connection
   alive or closes it.  */
void http_req_finished (struct http_req *r);
/* Copies data and queues it; -1 when the connection is gone.  */
int http_conn_write (struct http_conn *c, const uv_buf_t *bufs, unsigned n);
int http_conn_write_raw (struct http_conn *c, const char *data, size_t len);
/* Closes at once (the client is gone), or after the queued writes.  */
void http_conn_close (struct http_conn *c);
void http_conn_shutdown (struct http_conn *c);
void http_conn_maybe_free (struct http_conn *c);
void http_server_unlink_conn (struct http_conn *c);
#endif

#endif
