/* Tests of daemon/http.c, http_stream.c and router.c: a real server on a
   unix socket in /tmp, its libuv loop in a thread, and blocking clients
   that speak HTTP/1.1 by hand (responses parsed with libhttp-parser).  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "http.h"
#include "router.h"

#define TIMEOUT_MS 10000
#define UPLOAD_SIZE (50u * 1024 * 1024)

/* ---- the server side: runs on the loop thread ---- */

enum kick
{
  KICK_NONE,
  KICK_STREAM_CHUNKS, /* write three chunks to the held request, then end it */
  KICK_STOP           /* close the server */
};

struct fixture
{
  char dir[64];
  char sock[128];
  uv_loop_t loop;
  uv_async_t async;
  pthread_t thread;
  bool thread_started;
  struct router *router;
  struct http_server *srv;
  _Atomic int kick;
  atomic_int held_ready;    /* a streaming handler holds a request */
  atomic_int on_close_runs; /* http_request_on_close callbacks */
  atomic_int server_done;   /* http_server_close's done callback */
  struct http_request *held;
  /* output with back-pressure */
  size_t out_sent;
  atomic_int drains;
  /* upload accounting */
  size_t up_bytes, up_calls, up_pauses;
  bool up_ok;
  uv_timer_t resume_timer;
};

/* cmocka's asserts must not run on the loop thread: count failures there
   and check the count from the test thread.  */
static atomic_int loop_failures;
#define LOOP_CHECK(cond)                                                        \
  do                                                                            \
    if (!(cond))                                                                \
      {                                                                         \
        fprintf (stderr, "loop thread: %s:%d: %s failed\n", __FILE__, __LINE__, #cond); \
        atomic_fetch_add (&loop_failures, 1);                                   \
      }                                                                         \
  while (0)

static void
held_closed (struct http_request *req, void *data)
{
  struct fixture *fx = data;
  atomic_fetch_add (&fx->on_close_runs, 1);
  /* The request stays valid after the client left; finish it.  */
  LOOP_CHECK (http_request_closed (req));
  LOOP_CHECK (http_stream_write (req, "x", 1) == -1);
  fx->held = NULL;
  http_stream_end (req);
}

static void
h_events (struct http_request *req, void *data)
{
  struct fixture *fx = data;
  http_stream_begin (req, 200, "application/json");
  http_request_on_close (req, held_closed, fx);
  fx->held = req;
  atomic_store (&fx->held_ready, 1);
}

static void
h_ping (struct http_request *req, void *data)
{
  http_response_add_header (req, "Cache-Control", "no-cache, no-store, must-revalidate");
  http_respond (req, 200, "text/plain; charset=utf-8", "OK", 2);
}

static void
h_list (struct http_request *req, void *data)
{
  char buf[1024];
  const char *const *t = http_query_all (req, "t");
  snprintf (buf, sizeof (buf),
            "{\"path\":\"%s\",\"raw\":\"%s\",\"version\":\"%s\",\"num\":%d,\"filters\":%s,\"x\":\"%s\","
            "\"all\":%d,\"flag\":%d,\"missing\":%d,\"missing_def\":%d,\"empty\":%d,\"t\":\"%s,%s\","
            "\"ua\":\"%s\"}",
            req->path, req->raw_path, req->api_version ? req->api_version : "", http_request_api_version (req, 0),
            http_query (req, "filters") ? http_query (req, "filters") : "null",
            http_query (req, "x") ? http_query (req, "x") : "", http_query_bool (req, "all", false),
            http_query_bool (req, "flag", true), http_query_bool (req, "missing", false),
            http_query_bool (req, "missing", true), http_query_bool (req, "empty", true), t[0] ? t[0] : "",
            t[0] && t[1] ? t[1] : "", http_header (req, "user-AGENT") ? http_header (req, "user-AGENT") : "");
  http_respond_json (req, 200, buf);
}

static void
h_create (struct http_request *req, void *data)
{
  /* Echo the body, to compare byte for byte.  */
  LOOP_CHECK (req->phase == HTTP_PHASE_BODY);
  LOOP_CHECK (req->body[req->body_len] == '\0');
  http_respond (req, 201, "application/json", req->body, req->body_len);
}

static void
h_param (struct http_request *req, void *data)
{
  char buf[512];
  const char *name = http_param (req, "name");
  snprintf (buf, sizeof (buf), "%s %s id=%s name=%s", req->method, req->path,
            http_param (req, "id") ? http_param (req, "id") : "-", name ? name : "-");
  http_respond (req, 200, "text/plain", buf, strlen (buf));
}

static void
h_image_list (struct http_request *req, void *data)
{
  http_respond_json (req, 200, "[]");
}

/* Hijacked streams echo what they read, after the leftover bytes.  */
static void
echo_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  buf->base = malloc (suggested);
  buf->len = buf->base ? suggested : 0;
}

static void
echo_written (uv_write_t *w, int status)
{
  free (w->data);
  free (w);
}

static void
echo_write (uv_stream_t *s, char *base, size_t len)
{
  uv_write_t *w = calloc (1, sizeof (*w));
  uv_buf_t b = uv_buf_init (base, (unsigned) len);
  if (w == NULL)
    abort ();
  w->data = base;
  LOOP_CHECK (uv_write (w, s, &b, 1, echo_written) == 0);
}

static void
echo_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  if (n > 0)
    {
      echo_write (s, buf->base, (size_t) n);
      return;
    }
  free (buf->base);
  if (n < 0)
    uv_close ((uv_handle_t *) s, http_hijack_free_cb);
}

static void
h_attach (struct http_request *req, void *data)
{
  uv_buf_t left;
  uv_stream_t *s;
  char *greeting;
  const char *id = http_param (req, "id");

  LOOP_CHECK (id != NULL);
  greeting = strdup (id);
  s = http_hijack (req, true, &left);
  LOOP_CHECK (s != NULL);
  if (s == NULL)
    return;
  /* The handler talks first, then echoes.  */
  echo_write (s, greeting, strlen (greeting));
  if (left.len)
    echo_write (s, left.base, left.len);
  else
    free (left.base);
  LOOP_CHECK (uv_read_start (s, echo_alloc, echo_read) == 0);
}

static void
h_exec_start (struct http_request *req, void *data)
{
  uv_buf_t left;
  uv_stream_t *s;
  /* The body arrived before the hijack.  */
  char *body = strndup (req->body, req->body_len);

  s = http_hijack (req, true, &left);
  LOOP_CHECK (s != NULL && left.len == 0);
  if (s == NULL)
    return;
  echo_write (s, body, strlen (body));
  free (left.base);
  LOOP_CHECK (uv_read_start (s, echo_alloc, echo_read) == 0);
}

static unsigned char
pattern_byte (size_t i)
{
  return (unsigned char) (i * 7 + i / 4096);
}

static void
resume_upload (uv_timer_t *t)
{
  struct fixture *fx = t->data;
  LOOP_CHECK (fx->held != NULL);
  http_request_resume_body (fx->held);
}

static int
upload_chunk (struct http_request *req, const char *chunk, size_t len, bool end, void *data)
{
  struct fixture *fx = data;
  size_t i;

  if (end)
    {
      char buf[256];
      fx->held = NULL;
      snprintf (buf, sizeof (buf), "{\"bytes\":%zu,\"calls\":%zu,\"pauses\":%zu,\"ok\":%s}", fx->up_bytes,
                fx->up_calls, fx->up_pauses, fx->up_ok ? "true" : "false");
      http_respond_json (req, 200, buf);
      return 0;
    }
  for (i = 0; i < len; i++)
    if ((unsigned char) chunk[i] != pattern_byte (fx->up_bytes + i))
      fx->up_ok = false;
  fx->up_bytes += len;
  fx->up_calls++;
  if (fx->up_calls % 16 == 0)
    {
      /* Back-pressure as when a chunk is handed to the thread pool.  */
      fx->up_pauses++;
      fx->held = req;
      http_request_pause_body (req);
      uv_timer_start (&fx->resume_timer, resume_upload, 1, 0);
    }
  return 0;
}

static void
h_load (struct http_request *req, void *data)
{
  struct fixture *fx = data;
  LOOP_CHECK (req->phase == HTTP_PHASE_HEADERS);
  fx->up_bytes = fx->up_calls = fx->up_pauses = 0;
  fx->up_ok = true;
  http_request_stream_body (req, upload_chunk, fx);
}

#define SAVE_SIZE (8u * 1024 * 1024)

/* Writes SAVE_SIZE pattern bytes, waiting for the drain callback whenever
   the queue is long, as `docker save` would.  */
static void
save_produce (struct http_request *req, void *data)
{
  struct fixture *fx = data;
  char piece[64 * 1024];
  size_t i;

  while (fx->out_sent < SAVE_SIZE)
    {
      if (http_stream_queued (req) >= HTTP_DRAIN_BYTES)
        {
          if (http_stream_on_drain (req, save_produce, fx))
            {
              atomic_fetch_add (&fx->drains, 1);
              return;
            }
        }
      for (i = 0; i < sizeof (piece); i++)
        piece[i] = (char) pattern_byte (fx->out_sent + i);
      if (http_stream_write (req, piece, sizeof (piece)) < 0)
        break;
      fx->out_sent += sizeof (piece);
    }
  http_stream_end (req);
}

static void
h_save (struct http_request *req, void *data)
{
  struct fixture *fx = data;
  fx->out_sent = 0;
  http_stream_begin (req, 200, "application/x-tar");
  save_produce (req, fx);
}

static void
server_done (void *arg)
{
  struct fixture *fx = arg;
  fx->srv = NULL;
  atomic_store (&fx->server_done, 1);
  uv_close ((uv_handle_t *) &fx->async, NULL);
  uv_close ((uv_handle_t *) &fx->resume_timer, NULL);
}

static void
on_kick (uv_async_t *a)
{
  struct fixture *fx = a->data;
  int k = atomic_exchange (&fx->kick, KICK_NONE);

  if (k == KICK_STREAM_CHUNKS && fx->held)
    {
      struct http_request *req = fx->held;
      fx->held = NULL;
      LOOP_CHECK (http_stream_write (req, "{\"a\":1}\n", 8) == 0);
      LOOP_CHECK (http_stream_printf (req, "{\"b\":%d}\n", 2) == 0);
      LOOP_CHECK (http_stream_write (req, "{\"c\":3}\n", 8) == 0);
      http_stream_end (req);
    }
  else if (k == KICK_STOP && fx->srv)
    http_server_close (fx->srv, server_done, fx);
}

static void *
loop_thread (void *arg)
{
  struct fixture *fx = arg;
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void
add_route (struct router *r, const char *method, const char *pattern, route_fn fn)
{
  skiff_error_t err = NULL;
  if (router_add (r, method, pattern, fn, &err) < 0)
    fail_msg ("router_add %s %s: %s", method, pattern, err->msg);
}

static int
setup (void **state)
{
  struct fixture *fx = calloc (1, sizeof (*fx));
  skiff_error_t err = NULL;
  struct router *r;

  assert_non_null (fx);
  strcpy (fx->dir, "/tmp/skiff-test-http-XXXXXX");
  assert_non_null (mkdtemp (fx->dir));
  snprintf (fx->sock, sizeof (fx->sock), "%s/api.sock", fx->dir);
  assert_int_equal (uv_loop_init (&fx->loop), 0);
  uv_async_init (&fx->loop, &fx->async, on_kick);
  fx->async.data = fx;
  uv_timer_init (&fx->loop, &fx->resume_timer);
  fx->resume_timer.data = fx;

  r = fx->router = router_new (fx);
  assert_non_null (r);
  add_route (r, "GET", "/_ping", h_ping);
  add_route (r, "HEAD", "/_ping", h_ping);
  add_route (r, "GET", "/containers/json", h_list);
  add_route (r, "POST", "/containers/create", h_create);
  add_route (r, "GET", "/containers/{id}/json", h_param);
  add_route (r, "POST", "/containers/{id}/attach", h_attach);
  add_route (r, "POST", "/exec/{id}/start", h_exec_start);
  add_route (r, "GET", "/events", h_events);
  add_route (r, "GET", "/images/json", h_image_list);
  add_route (r, "GET", "/images/get", h_save);
  add_route (r, "GET", "/images/{name*}/json", h_param);
  add_route (r, "POST", "/images/{name*}/tag", h_param);
  add_route (r, "DELETE", "/images/{name*}", h_param);
  if (router_add_streaming (r, "POST", "/images/load", h_load, &err) < 0)
    fail_msg ("router_add_streaming: %s", err->msg);

  if (http_server_listen (&fx->loop, fx->sock, 0660, (gid_t) -1, router_dispatch, r, &fx->srv, &err) < 0)
    fail_msg ("http_server_listen: %s", err->msg);
  assert_int_equal (pthread_create (&fx->thread, NULL, loop_thread, fx), 0);
  fx->thread_started = true;
  atomic_store (&loop_failures, 0);
  *state = fx;
  return 0;
}

static void
wait_flag (atomic_int *flag, const char *what)
{
  struct timespec start, now;
  clock_gettime (CLOCK_MONOTONIC, &start);
  while (!atomic_load (flag))
    {
      clock_gettime (CLOCK_MONOTONIC, &now);
      if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > TIMEOUT_MS)
        fail_msg ("timed out waiting for %s", what);
      poll (NULL, 0, 2);
    }
}

static void
kick (struct fixture *fx, enum kick k)
{
  atomic_store (&fx->kick, k);
  uv_async_send (&fx->async);
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;

  if (fx->thread_started)
    {
      kick (fx, KICK_STOP);
      wait_flag (&fx->server_done, "the server to close");
      pthread_join (fx->thread, NULL);
    }
  assert_int_equal (uv_loop_close (&fx->loop), 0);
  router_free (fx->router);
  unlink (fx->sock);
  assert_int_equal (rmdir (fx->dir), 0);
  free (fx);
  assert_int_equal (atomic_load (&loop_failures), 0);
  return 0;
}

/* ---- the client side: blocking sockets ---- */

struct client
{
  int fd;
  char buf[256 * 1024];
  size_t len; /* bytes received and not yet parsed */
};

struct response
{
  int status;
  char head[16384]; /* "Name: value\r\n" lines */
  size_t head_len;
  char *body;
  size_t body_len;
  int chunks;
  bool complete;
  bool in_value;
};

static void
client_open (struct client *c, const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = TIMEOUT_MS / 1000 };

  c->len = 0;
  c->buf[0] = '\0';
  c->fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (c->fd >= 0);
  strncpy (addr.sun_path, path, sizeof (addr.sun_path) - 1);
  if (connect (c->fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    fail_msg ("connect %s: %s", path, strerror (errno));
  setsockopt (c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv));
}

static void
client_close (struct client *c)
{
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
}

static void
send_all (struct client *c, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = send (c->fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        fail_msg ("send: %s", strerror (errno));
      p += n;
      len -= (size_t) n;
    }
}

static void
send_str (struct client *c, const char *s)
{
  send_all (c, s, strlen (s));
}

/* Reads more into c->buf; 0 at EOF.  */
static ssize_t
client_fill (struct client *c)
{
  ssize_t n;
  if (c->len == sizeof (c->buf))
    fail_msg ("client buffer full");
  do
    n = recv (c->fd, c->buf + c->len, sizeof (c->buf) - c->len, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    fail_msg ("recv: %s", strerror (errno));
  c->len += (size_t) n;
  return n;
}

static int
r_header_field (http_parser *p, const char *at, size_t len)
{
  struct response *r = p->data;
  if (r->in_value)
    {
      memcpy (r->head + r->head_len, "\r\n", 2);
      r->head_len += 2;
      r->in_value = false;
    }
  assert_true (r->head_len + len + 4 < sizeof (r->head));
  memcpy (r->head + r->head_len, at, len);
  r->head_len += len;
  return 0;
}

static int
r_header_value (http_parser *p, const char *at, size_t len)
{
  struct response *r = p->data;
  if (!r->in_value)
    {
      memcpy (r->head + r->head_len, ": ", 2);
      r->head_len += 2;
      r->in_value = true;
    }
  assert_true (r->head_len + len + 4 < sizeof (r->head));
  memcpy (r->head + r->head_len, at, len);
  r->head_len += len;
  return 0;
}

static int
r_headers_complete (http_parser *p)
{
  struct response *r = p->data;
  memcpy (r->head + r->head_len, "\r\n", 3);
  r->head_len += 2;
  r->status = (int) p->status_code;
  return 0;
}

static int
r_body (http_parser *p, const char *at, size_t len)
{
  struct response *r = p->data;
  r->body = realloc (r->body, r->body_len + len + 1);
  assert_non_null (r->body);
  memcpy (r->body + r->body_len, at, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return 0;
}

static int
r_chunk_header (http_parser *p)
{
  struct response *r = p->data;
  if (p->content_length > 0)
    r->chunks++;
  return 0;
}

static int
r_complete (http_parser *p)
{
  struct response *r = p->data;
  r->complete = true;
  http_parser_pause (p, 1);
  return 0;
}

static const http_parser_settings response_settings = {
  .on_header_field = r_header_field,
  .on_header_value = r_header_value,
  .on_headers_complete = r_headers_complete,
  .on_body = r_body,
  .on_chunk_header = r_chunk_header,
  .on_message_complete = r_complete,
};

/* Headers-complete that stops the parser: to look at the head alone.  */
static int
r_headers_stop (http_parser *p)
{
  r_headers_complete (p);
  http_parser_pause (p, 1);
  return 0;
}

/* For a response to HEAD: 1 tells http_parser that no body follows.  */
static int
r_headers_head (http_parser *p)
{
  r_headers_complete (p);
  return 1;
}

/* Reads one response; bytes after it stay in c->buf.  For a HEAD request
   the parser is told that there is no body.  */
static void
read_response (struct client *c, struct response *r, bool head)
{
  http_parser p;
  size_t n;

  http_parser_settings s = response_settings;

  memset (r, 0, sizeof (*r));
  http_parser_init (&p, HTTP_RESPONSE);
  p.data = r;
  if (head)
    s.on_headers_complete = r_headers_head;
  for (;;)
    {
      if (c->len > 0)
        {
          n = http_parser_execute (&p, &s, c->buf, c->len);
          if (HTTP_PARSER_ERRNO (&p) != HPE_OK && HTTP_PARSER_ERRNO (&p) != HPE_PAUSED)
            fail_msg ("bad response: %s", http_errno_description (HTTP_PARSER_ERRNO (&p)));
          memmove (c->buf, c->buf + n, c->len - n);
          c->len -= n;
          if (r->complete)
            return;
        }
      if (client_fill (c) == 0)
        {
          http_parser_execute (&p, &response_settings, NULL, 0);
          if (!r->complete)
            fail_msg ("connection closed before the response was complete");
          return;
        }
    }
}

static void
response_free (struct response *r)
{
  free (r->body);
  r->body = NULL;
}

/* Value of a response header, copied into buf; NULL when absent.  */
static const char *
resp_header (const struct response *r, const char *name, char *buf, size_t size)
{
  const char *p = r->head;
  size_t n = strlen (name);
  while (p && *p)
    {
      if (strncasecmp (p, name, n) == 0 && p[n] == ':')
        {
          const char *v = p + n + 2, *e = strstr (v, "\r\n");
          snprintf (buf, size, "%.*s", (int) (e - v), v);
          return buf;
        }
      p = strstr (p, "\r\n");
      if (p)
        p += 2;
    }
  return NULL;
}

static void
assert_header (const struct response *r, const char *name, const char *want)
{
  char buf[512];
  const char *v = resp_header (r, name, buf, sizeof (buf));
  if (v == NULL)
    fail_msg ("header %s missing in:\n%s", name, r->head);
  if (want && strcmp (v, want) != 0)
    fail_msg ("header %s: got `%s`, want `%s`", name, v, want);
}

/* One request on a new connection; the response in r.  */
static void
roundtrip (struct fixture *fx, const char *request, struct response *r)
{
  struct client c;
  client_open (&c, fx->sock);
  send_str (&c, request);
  read_response (&c, r, strncmp (request, "HEAD ", 5) == 0);
  client_close (&c);
}

/* Whether the server closed the connection (EOF without more data).  */
static bool
at_eof (struct client *c)
{
  return c->len == 0 && client_fill (c) == 0;
}

/* ---- tests ---- */

static void
test_get_query_versioned (void **state)
{
  struct fixture *fx = *state;
  struct response r;

  roundtrip (fx,
             "GET /v1.41/containers/json?all=1&filters=%7B%22status%22%3A%5B%22running%22%5D%7D"
             "&x=a+b%2Fc&flag=False&empty=&t=one&t=two HTTP/1.1\r\nHost: docker\r\nUser-Agent: test/1\r\n\r\n",
             &r);
  assert_int_equal (r.status, 200);
  assert_string_equal (r.body,
                       "{\"path\":\"/containers/json\",\"raw\":\"/v1.41/containers/json\",\"version\":\"1.41\","
                       "\"num\":141,\"filters\":{\"status\":[\"running\"]},\"x\":\"a b/c\",\"all\":1,\"flag\":0,"
                       "\"missing\":0,\"missing_def\":1,\"empty\":0,\"t\":\"one,two\",\"ua\":\"test/1\"}");
  assert_header (&r, "Content-Type", "application/json");
  response_free (&r);

  /* Without a prefix, and with another version.  */
  roundtrip (fx, "GET /containers/json HTTP/1.1\r\nHost: docker\r\n\r\n", &r);
  assert_int_equal (r.status, 200);
  assert_non_null (strstr (r.body, "\"path\":\"/containers/json\",\"raw\":\"/containers/json\",\"version\":\"\",\"num\":0,"));
  response_free (&r);
  roundtrip (fx, "GET /v1.24/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n", &r);
  assert_non_null (strstr (r.body, "\"version\":\"1.24\",\"num\":124,"));
  response_free (&r);
}

static void
test_post_json_body (void **state)
{
  struct fixture *fx = *state;
  const char *body = "{\"Image\":\"alpine\",\"Cmd\":[\"echo\",\"hi\"],\"Labels\":{\"a\":\"\\u00e9\"}}";
  char req[1024];
  struct response r;

  snprintf (req, sizeof (req),
            "POST /v1.41/containers/create?name=web HTTP/1.1\r\nHost: docker\r\n"
            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
            strlen (body), body);
  roundtrip (fx, req, &r);
  assert_int_equal (r.status, 201);
  assert_int_equal (r.body_len, strlen (body));
  assert_string_equal (r.body, body);
  response_free (&r);
}

static void
test_chunked_request_body (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  struct response r;

  client_open (&c, fx->sock);
  /* Sent in pieces, splitting chunk headers across writes.  */
  send_str (&c, "POST /containers/create HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":");
  send_str (&c, "\r\n");
  send_str (&c, "1");
  send_str (&c, "1\r\n12345678901234567\r\n3\r\n, \"");
  send_str (&c, "\r\n6\r\nb\":2}\n\r\n0\r\n\r\n");
  read_response (&c, &r, false);
  assert_int_equal (r.status, 201);
  assert_string_equal (r.body, "{\"a\":12345678901234567, \"b\":2}\n");
  response_free (&r);
  client_close (&c);
}

static void
test_keep_alive (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  struct response r;

  client_open (&c, fx->sock);
  /* Sequential requests on one connection.  */
  send_str (&c, "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
  read_response (&c, &r, false);
  assert_int_equal (r.status, 200);
  assert_string_equal (r.body, "OK");
  response_free (&r);
  send_str (&c, "POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: 2\r\n\r\n{}");
  read_response (&c, &r, false);
  assert_int_equal (r.status, 201);
  assert_string_equal (r.body, "{}");
  response_free (&r);

  /* Pipelined: three at once, answered in order.  */
  send_str (&c, "GET /containers/abc/json HTTP/1.1\r\nHost: d\r\n\r\n"
                "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 3\r\n\r\n[1]"
                "GET /nope HTTP/1.1\r\nHost: d\r\n\r\n");
  read_response (&c, &r, false);
  assert_string_equal (r.body, "GET /containers/abc/json id=abc name=-");
  response_free (&r);
  read_response (&c, &r, false);
  assert_string_equal (r.body, "[1]");
  response_free (&r);
  read_response (&c, &r, false);
  assert_int_equal (r.status, 404);
  response_free (&r);

  /* Connection: close is honoured.  */
  send_str (&c, "GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n");
  read_response (&c, &r, false);
  assert_int_equal (r.status, 200);
  assert_header (&r, "Connection", "close");
  response_free (&r);
  assert_true (at_eof (&c));
  client_close (&c);
}

static void
test_head_ping (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  struct response r;

  client_open (&c, fx->sock);
  send_str (&c, "HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\nGET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
  read_response (&c, &r, true);
  assert_int_equal (r.status, 200);
  assert_header (&r, "Content-Length", "2");
  assert_header (&r, "Api-Version", "1.41");
  assert_null (r.body);
  response_free (&r);
  /* No body bytes came between: the next response starts right away.  */
  while (c.len < 8)
    assert_true (client_fill (&c) > 0);
  assert_memory_equal (c.buf, "HTTP/1.1", 8);
  read_response (&c, &r, false);
  assert_string_equal (r.body, "OK");
  response_free (&r);
  client_close (&c);
}

static void
test_docker_headers_and_errors (void **state)
{
  struct fixture *fx = *state;
  struct response r;
  char buf[64];

  roundtrip (fx, "GET /v1.41/nothing/here HTTP/1.1\r\nHost: docker\r\n\r\n", &r);
  assert_int_equal (r.status, 404);
  assert_string_equal (r.body, "{\"message\":\"page not found\"}\n");
  assert_header (&r, "Content-Type", "application/json");
  assert_header (&r, "Api-Version", "1.41");
  assert_header (&r, "Docker-Experimental", "false");
  assert_header (&r, "Ostype", "linux");
  assert_header (&r, "Server", NULL);
  assert_int_equal (strncmp (resp_header (&r, "Server", buf, sizeof (buf)), "skiff/", 6), 0);
  assert_header (&r, "Date", NULL);
  assert_true (strlen (resp_header (&r, "Date", buf, sizeof (buf))) == 29);
  assert_int_equal (strcmp (buf + 25, " GMT"), 0);
  response_free (&r);

  /* Known path, other method.  */
  roundtrip (fx, "PUT /_ping HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n", &r);
  assert_int_equal (r.status, 405);
  assert_header (&r, "Allow", "GET, HEAD");
  assert_string_equal (r.body, "{\"message\":\"method PUT not allowed on /_ping\"}\n");
  response_free (&r);

  /* A message that needs JSON escaping.  */
  roundtrip (fx, "GET /v1.41/images/a%22b%5Cc/json HTTP/1.1\r\nHost: d\r\n\r\n", &r);
  assert_int_equal (r.status, 200);
  assert_string_equal (r.body, "GET /images/a\"b\\c/json id=- name=a\"b\\c");
  response_free (&r);

  /* Malformed: 400 with the same body shape, and the connection ends.  */
  {
    struct client c;
    client_open (&c, fx->sock);
    send_str (&c, "GET /_ping HTTP/1.1\r\nHost docker\r\n\r\n");
    read_response (&c, &r, false);
    assert_int_equal (r.status, 400);
    assert_int_equal (strncmp (r.body, "{\"message\":\"bad request: ", 25), 0);
    response_free (&r);
    assert_true (at_eof (&c));
    client_close (&c);
  }
  roundtrip (fx, "GET /containers/bad%zzescape/json HTTP/1.1\r\nHost: d\r\n\r\n", &r);
  assert_int_equal (r.status, 400);
  assert_string_equal (r.body, "{\"message\":\"invalid escape in URL path\"}\n");
  response_free (&r);
}

static void
test_body_too_large (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  struct response r;

  client_open (&c, fx->sock);
  send_str (&c, "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 70000000\r\n\r\n{");
  read_response (&c, &r, false);
  assert_int_equal (r.status, 413);
  assert_header (&r, "Connection", "close");
  assert_int_equal (strncmp (r.body, "{\"message\":\"request body of 70000000 bytes is larger", 52), 0);
  response_free (&r);
  assert_true (at_eof (&c));
  client_close (&c);
}

static void
test_stream_response_chunks (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  struct response r;
  http_parser p;
  size_t n;

  client_open (&c, fx->sock);
  send_str (&c, "GET /v1.41/events HTTP/1.1\r\nHost: d\r\n\r\n");
  wait_flag (&fx->held_ready, "the events handler");
  /* The head arrives before any body is written.  */
  memset (&r, 0, sizeof (r));
  http_parser_init (&p, HTTP_RESPONSE);
  p.data = &r;
  {
    http_parser_settings s = response_settings;
    s.on_headers_complete = r_headers_stop;
    while (r.status == 0)
      {
        assert_true (client_fill (&c) > 0);
        n = http_parser_execute (&p, &s, c.buf, c.len);
        memmove (c.buf, c.buf + n, c.len - n);
        c.len -= n;
      }
  }
  assert_int_equal (r.status, 200);
  assert_header (&r, "Transfer-Encoding", "chunked");
  assert_header (&r, "Content-Type", "application/json");
  assert_int_equal (c.len, 1); /* only the LF the paused parser left */
  http_parser_pause (&p, 0);

  kick (fx, KICK_STREAM_CHUNKS);
  while (!r.complete)
    {
      if (c.len == 0)
        assert_true (client_fill (&c) > 0);
      n = http_parser_execute (&p, &response_settings, c.buf, c.len);
      assert_true (HTTP_PARSER_ERRNO (&p) == HPE_OK || HTTP_PARSER_ERRNO (&p) == HPE_PAUSED);
      memmove (c.buf, c.buf + n, c.len - n);
      c.len -= n;
    }
  assert_int_equal (r.chunks, 3);
  assert_string_equal (r.body, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
  response_free (&r);

  /* The connection is still usable.  */
  send_str (&c, "GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n");
  read_response (&c, &r, false);
  assert_string_equal (r.body, "OK");
  response_free (&r);
  client_close (&c);
  assert_int_equal (atomic_load (&fx->on_close_runs), 0);
}

static void
test_client_disconnect_on_close (void **state)
{
  struct fixture *fx = *state;
  struct client c;

  client_open (&c, fx->sock);
  send_str (&c, "GET /events HTTP/1.1\r\nHost: d\r\n\r\n");
  wait_flag (&fx->held_ready, "the events handler");
  while (strstr (c.buf, "\r\n\r\n") == NULL)
    {
      assert_true (client_fill (&c) > 0);
      c.buf[c.len] = '\0';
    }
  client_close (&c);
  wait_flag (&fx->on_close_runs, "the on-close callback");
  assert_int_equal (atomic_load (&fx->on_close_runs), 1);
}

static void
test_server_close_with_open_stream (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  struct stat st;

  client_open (&c, fx->sock);
  send_str (&c, "GET /events HTTP/1.1\r\nHost: d\r\n\r\n");
  wait_flag (&fx->held_ready, "the events handler");
  kick (fx, KICK_STOP);
  wait_flag (&fx->server_done, "the server to close");
  assert_int_equal (atomic_load (&fx->on_close_runs), 1);
  /* The socket file is gone and the client sees the end.  */
  assert_int_equal (stat (fx->sock, &st), -1);
  assert_int_equal (errno, ENOENT);
  for (;;)
    if (client_fill (&c) == 0)
      break;
  client_close (&c);
  pthread_join (fx->thread, NULL);
  fx->thread_started = false;
}

/* Reads exactly want from c (buffered bytes first).  */
static void
read_exact (struct client *c, const char *want)
{
  size_t n = strlen (want);
  while (c->len < n)
    if (client_fill (c) == 0)
      fail_msg ("EOF while waiting for `%s`", want);
  if (memcmp (c->buf, want, n) != 0)
    fail_msg ("got `%.*s`, want `%s`", (int) n, c->buf, want);
  memmove (c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

static void
test_hijack_upgrade (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  char *end;

  client_open (&c, fx->sock);
  /* The docker CLI's attach request; bytes that follow it at once must
     reach the handler.  */
  send_str (&c, "POST /v1.41/containers/c0ffee/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\n"
                "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: text/plain\r\n\r\nearly|");
  while ((end = memmem (c.buf, c.len, "\r\n\r\n", 4)) == NULL)
    assert_true (client_fill (&c) > 0);
  *end = '\0';
  assert_int_equal (strncmp (c.buf, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                                    "Connection: Upgrade\r\nUpgrade: tcp\r\n", 94), 0);
  assert_non_null (strstr (c.buf, "\r\nApi-Version: 1.41"));
  assert_null (strstr (c.buf, "Content-Length"));
  end += 4;
  memmove (c.buf, end, c.len - (size_t) (end - c.buf));
  c.len -= (size_t) (end - c.buf);

  read_exact (&c, "c0ffee");
  read_exact (&c, "early|");
  send_str (&c, "hello, raw stream\n");
  read_exact (&c, "hello, raw stream\n");
  {
    /* Binary, both ways.  */
    char bin[4096];
    size_t i;
    for (i = 0; i < sizeof (bin); i++)
      bin[i] = (char) (i * 13);
    send_all (&c, bin, sizeof (bin));
    while (c.len < sizeof (bin))
      assert_true (client_fill (&c) > 0);
    assert_memory_equal (c.buf, bin, sizeof (bin));
    c.len = 0;
  }
  /* Half-close: the handler sees EOF and closes its end.  */
  shutdown (c.fd, SHUT_WR);
  assert_true (at_eof (&c));
  client_close (&c);
}

static void
test_hijack_exec_with_body_and_plain (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  const char *body = "{\"Detach\":false,\"Tty\":false}";
  char req[512];
  char *end;

  /* exec start: JSON body plus upgrade headers.  */
  client_open (&c, fx->sock);
  snprintf (req, sizeof (req),
            "POST /v1.41/exec/e1/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
            strlen (body), body);
  send_str (&c, req);
  while ((end = memmem (c.buf, c.len, "\r\n\r\n", 4)) == NULL)
    assert_true (client_fill (&c) > 0);
  assert_int_equal (strncmp (c.buf, "HTTP/1.1 101 UPGRADED\r\n", 23), 0);
  end += 4;
  memmove (c.buf, end, c.len - (size_t) (end - c.buf));
  c.len -= (size_t) (end - c.buf);
  read_exact (&c, body);
  send_str (&c, "ping");
  read_exact (&c, "ping");
  client_close (&c);

  /* Without Upgrade headers: a plain 200 with the raw-stream type.  */
  client_open (&c, fx->sock);
  send_str (&c, "POST /containers/abc/attach?stdout=1 HTTP/1.1\r\nHost: docker\r\n\r\n");
  while ((end = memmem (c.buf, c.len, "\r\n\r\n", 4)) == NULL)
    assert_true (client_fill (&c) > 0);
  assert_int_equal (strncmp (c.buf, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n", 66), 0);
  *end = '\0';
  assert_null (strstr (c.buf, "Content-Length"));
  assert_null (strstr (c.buf, "Transfer-Encoding"));
  end += 4;
  memmove (c.buf, end, c.len - (size_t) (end - c.buf));
  c.len -= (size_t) (end - c.buf);
  read_exact (&c, "abc");
  client_close (&c);
}

/* Uploads UPLOAD_SIZE pattern bytes to the streaming route.  */
static void
upload (struct fixture *fx, bool chunked)
{
  const size_t piece = 1024 * 1024;
  cleanup_free char *buf = malloc (piece);
  struct client c;
  struct response r;
  size_t off, i;
  char head[256];
  char want[256];

  assert_non_null (buf);
  client_open (&c, fx->sock);
  if (chunked)
    send_str (&c, "POST /v1.41/images/load?quiet=1 HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
  else
    {
      /* As curl sends big bodies: the body only after 100 Continue.  */
      snprintf (head, sizeof (head),
                "POST /images/load HTTP/1.1\r\nHost: d\r\nContent-Length: %u\r\nExpect: 100-continue\r\n\r\n",
                UPLOAD_SIZE);
      send_str (&c, head);
      read_exact (&c, "HTTP/1.1 100 Continue\r\n\r\n");
    }
  for (off = 0; off < UPLOAD_SIZE; off += piece)
    {
      for (i = 0; i < piece; i++)
        buf[i] = (char) pattern_byte (off + i);
      if (chunked)
        {
          snprintf (head, sizeof (head), "%zx\r\n", piece);
          send_str (&c, head);
        }
      send_all (&c, buf, piece);
      if (chunked)
        send_str (&c, "\r\n");
    }
  if (chunked)
    send_str (&c, "0\r\n\r\n");
  read_response (&c, &r, false);
  assert_int_equal (r.status, 200);
  snprintf (want, sizeof (want), "{\"bytes\":%u,", UPLOAD_SIZE);
  assert_int_equal (strncmp (r.body, want, strlen (want)), 0);
  assert_non_null (strstr (r.body, "\"ok\":true}"));
  /* Arrived in many pieces, with pauses on the way.  */
  assert_true (atoi (strstr (r.body, "\"calls\":") + 8) > 16);
  assert_true (atoi (strstr (r.body, "\"pauses\":") + 9) >= 1);
  response_free (&r);

  /* And the connection goes on.  */
  send_str (&c, "GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n");
  read_response (&c, &r, false);
  assert_string_equal (r.body, "OK");
  response_free (&r);
  client_close (&c);
}

static void
test_streamed_upload_length (void **state)
{
  upload (*state, false);
}

static void
test_streamed_upload_chunked (void **state)
{
  upload (*state, true);
}

static void
test_stream_back_pressure (void **state)
{
  struct fixture *fx = *state;
  struct client c;
  struct response r;
  size_t i;

  client_open (&c, fx->sock);
  send_str (&c, "GET /v1.41/images/get?names=alpine HTTP/1.1\r\nHost: d\r\n\r\n");
  /* Not reading: the producer fills the queue and must wait.  */
  wait_flag (&fx->drains, "the producer to wait for a drain");
  read_response (&c, &r, false);
  assert_int_equal (r.status, 200);
  assert_int_equal (r.body_len, SAVE_SIZE);
  for (i = 0; i < SAVE_SIZE; i++)
    if ((unsigned char) r.body[i] != pattern_byte (i))
      fail_msg ("byte %zu differs", i);
  assert_true (atomic_load (&fx->drains) >= 1);
  response_free (&r);
  client_close (&c);
}

static void
test_router_params (void **state)
{
  struct fixture *fx = *state;
  static const struct
  {
    const char *request, *want;
    int status;
  } cases[] = {
    { "GET /v1.41/containers/4f2a/json", "GET /containers/4f2a/json id=4f2a name=-", 200 },
    { "GET /v1.41/images/localhost:5000/ns/alpine/json", "GET /images/localhost:5000/ns/alpine/json id=- name=localhost:5000/ns/alpine", 200 },
    { "GET /images/alpine/json", "GET /images/alpine/json id=- name=alpine", 200 },
    { "GET /images/localhost%3A5000%2Fns%2Falpine%3A3.18/json", "GET /images/localhost:5000/ns/alpine:3.18/json id=- name=localhost:5000/ns/alpine:3.18", 200 },
    { "GET /images/json", "[]", 200 },
    { "DELETE /v1.41/images/registry.example/a/b:latest", "DELETE /images/registry.example/a/b:latest id=- name=registry.example/a/b:latest", 200 },
    { "POST /images/localhost:5000/x/tag?repo=y", "POST /images/localhost:5000/x/tag id=- name=localhost:5000/x", 200 },
    { "GET /containers//json", "{\"message\":\"page not found\"}\n", 404 },
    { "GET /containers/a/b/json", "{\"message\":\"page not found\"}\n", 404 },
    { "GET /containers/json/", "{\"message\":\"page not found\"}\n", 404 },
    { "GET /images//json", "{\"message\":\"page not found\"}\n", 404 },
    { "POST /containers/4f2a/json", "{\"message\":\"method POST not allowed on /containers/4f2a/json\"}\n", 405 },
  };
  size_t i;
  char req[512];
  struct response r;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      snprintf (req, sizeof (req), "%s HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n", cases[i].request);
      roundtrip (fx, req, &r);
      if (r.status != cases[i].status)
        fail_msg ("%s: status %d, want %d (%s)", cases[i].request, r.status, cases[i].status, r.body);
      if (strcmp (r.body, cases[i].want) != 0)
        fail_msg ("%s: got `%s`, want `%s`", cases[i].request, r.body, cases[i].want);
      response_free (&r);
    }
}

static void
test_router_bad_patterns (void **state)
{
  static const char *const bad[] = { "containers/json", "/a/{}/b", "/a/{x*}/{y*}", "/a/{x/b", "/a/b}c" };
  struct router *r = router_new (NULL);
  size_t i;

  assert_non_null (r);
  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      skiff_error_t err = NULL;
      assert_int_equal (router_add (r, "GET", bad[i], h_ping, &err), -1);
      assert_non_null (err);
      if (strstr (err->msg, bad[i]) == NULL)
        fail_msg ("message `%s` does not name `%s`", err->msg, bad[i]);
      skiff_error_release (&err);
    }
  router_free (r);
}

static void
test_listen_errors_and_stale_socket (void **state)
{
  char dir[] = "/tmp/skiff-test-http-XXXXXX";
  char path[128];
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  skiff_error_t err = NULL;
  struct http_server *s = NULL;
  uv_loop_t loop;
  struct stat st;
  int fd;

  assert_non_null (mkdtemp (dir));
  snprintf (path, sizeof (path), "%s/api.sock", dir);
  assert_int_equal (uv_loop_init (&loop), 0);

  /* A regular file is not replaced.  */
  fd = open (path, O_CREAT | O_WRONLY, 0600);
  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (http_server_listen (&loop, path, 0660, (gid_t) -1, router_dispatch, NULL, &s, &err), -1);
  assert_non_null (strstr (err->msg, "is not a socket"));
  skiff_error_release (&err);
  uv_run (&loop, UV_RUN_DEFAULT);
  assert_int_equal (unlink (path), 0);

  /* A stale socket (nobody listening) is.  */
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  strcpy (addr.sun_path, path);
  assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof (addr)), 0);
  close (fd);
  assert_int_equal (http_server_listen (&loop, path, 0640, getgid (), router_dispatch, NULL, &s, &err), 0);
  assert_int_equal (stat (path, &st), 0);
  assert_true (S_ISSOCK (st.st_mode));
  assert_int_equal (st.st_mode & 0777, 0640);
  assert_int_equal (st.st_gid, getgid ());
  http_server_close (s, NULL, NULL);
  assert_int_equal (uv_run (&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal (stat (path, &st), -1);
  assert_int_equal (uv_loop_close (&loop), 0);
  assert_int_equal (rmdir (dir), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_get_query_versioned, setup, teardown),
    cmocka_unit_test_setup_teardown (test_post_json_body, setup, teardown),
    cmocka_unit_test_setup_teardown (test_chunked_request_body, setup, teardown),
    cmocka_unit_test_setup_teardown (test_keep_alive, setup, teardown),
    cmocka_unit_test_setup_teardown (test_head_ping, setup, teardown),
    cmocka_unit_test_setup_teardown (test_docker_headers_and_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_body_too_large, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stream_response_chunks, setup, teardown),
    cmocka_unit_test_setup_teardown (test_client_disconnect_on_close, setup, teardown),
    cmocka_unit_test_setup_teardown (test_server_close_with_open_stream, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hijack_upgrade, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hijack_exec_with_body_and_plain, setup, teardown),
    cmocka_unit_test_setup_teardown (test_streamed_upload_length, setup, teardown),
    cmocka_unit_test_setup_teardown (test_streamed_upload_chunked, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stream_back_pressure, setup, teardown),
    cmocka_unit_test_setup_teardown (test_router_params, setup, teardown),
    cmocka_unit_test (test_router_bad_patterns),
    cmocka_unit_test (test_listen_errors_and_stale_socket),
  };
  signal (SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
