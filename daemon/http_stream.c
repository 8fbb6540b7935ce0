/* skiffd's HTTP/1.1 server: writing responses (whole, chunked, hijacked).  */

#define SKIFF_HTTP_INTERNAL
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "config.h"
#include "json.h"
#include "log.h"

#define RAW_STREAM_TYPE "application/vnd.docker.raw-stream"

/* How the end of the body is known.  */
enum body_kind
{
  BODY_LENGTH,     /* Content-Length */
  BODY_NONE,       /* no body by definition (1xx, 204, 304) */
  BODY_CHUNKED,    /* Transfer-Encoding: chunked */
  BODY_UNTIL_CLOSE /* hijacked streams, HTTP/1.0 streams */
};

struct http_write
{
  uv_write_t w; /* first: the callback casts back */
  struct http_conn *conn;
  char data[];
};

/* ---- writing ---- */

static void
on_write (uv_write_t *w, int status)
{
  struct http_write *hw = (struct http_write *) w;
  struct http_conn *c = hw->conn;
  struct http_req *r = c->req;

  free (hw);
  /* c->writes still counts this write, so c outlives the callbacks.  */
  if (status < 0)
    {
      if (status != UV_ECANCELED && status != UV_EPIPE)
        log_debug ("http: write: %s", uv_strerror (status));
      http_conn_close (c);
    }
  else if (r && r->drain_cb && c->pipe && !c->closing
           && uv_stream_get_write_queue_size ((uv_stream_t *) c->pipe) < HTTP_DRAIN_BYTES)
    {
      void (*cb) (struct http_request *, void *) = r->drain_cb;
      r->drain_cb = NULL;
      cb (&r->pub, r->drain_data);
    }
  c->writes--;
  http_conn_maybe_free (c);
}

int
http_conn_write (struct http_conn *c, const uv_buf_t *bufs, unsigned n)
{
  struct http_write *hw;
  size_t total = 0, off = 0;
  unsigned i;
  uv_buf_t buf;
  int ret;

  if (c->pipe == NULL || c->closing)
    return -1;
  for (i = 0; i < n; i++)
    total += bufs[i].len;
  hw = malloc (sizeof (*hw) + total);
  if (hw == NULL)
    {
      log_error ("http: cannot queue a write of %zu bytes: out of memory", total);
      http_conn_close (c);
      return -1;
    }
  for (i = 0; i < n; i++)
    {
      if (bufs[i].len)
        memcpy (hw->data + off, bufs[i].base, bufs[i].len);
      off += bufs[i].len;
    }
  hw->conn = c;
  buf = uv_buf_init (hw->data, (unsigned) total);
  ret = uv_write (&hw->w, (uv_stream_t *) c->pipe, &buf, 1, on_write);
  if (ret < 0)
    {
      free (hw);
      log_debug ("http: write: %s", uv_strerror (ret));
      http_conn_close (c);
      return -1;
    }
  c->writes++;
  return 0;
}

int
http_conn_write_raw (struct http_conn *c, const char *data, size_t len)
{
  uv_buf_t b = uv_buf_init ((char *) data, (unsigned) len);
  return http_conn_write (c, &b, 1);
}

/* ---- response heads ---- */

void
http_format_date (time_t t, char *buf, size_t size)
{
  /* Fixed names: the C locale's, whatever setlocale() said.  */
  static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
  static const char months[12][4]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  struct tm tm;

  gmtime_r (&t, &tm);
  snprintf (buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
            months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *
reason_phrase (int status)
{
  const char *s = http_status_str ((enum http_status) status);
  return strcmp (s, "<unknown>") == 0 ? "Unknown" : s;
}

/* The head of a response, malloc'd; NULL on ENOMEM.  The headers Docker's
   daemon puts on every response, in Go's (sorted) order.  */
static char *
build_head (struct http_req *r, const char *status_line, const char *content_type,
            enum body_kind kind, size_t len, bool close, size_t *head_len)
{
  cleanup_file FILE *f = NULL;
  char *buf = NULL;
  char date[64];
  char **h;

  f = open_memstream (&buf, head_len);
  if (f == NULL)
    return NULL;
  http_format_date (time (NULL), date, sizeof (date));
  fprintf (f, "%s\r\nApi-Version: " HTTP_API_VERSION "\r\n", status_line);
  if (kind == BODY_LENGTH)
    fprintf (f, "Content-Length: %zu\r\n", len);
  if (content_type)
    fprintf (f, "Content-Type: %s\r\n", content_type);
  fprintf (f, "Date: %s\r\nDocker-Experimental: false\r\nOstype: linux\r\nServer: skiff/%s (linux)\r\n",
           date, PACKAGE_VERSION);
  for (h = r->extra_headers; h && h[0]; h += 2)
    fprintf (f, "%s: %s\r\n", h[0], h[1]);
  if (kind == BODY_CHUNKED)
    fputs ("Transfer-Encoding: chunked\r\n", f);
  if (close)
    fputs ("Connection: close\r\n", f);
  else if (r->http10)
    fputs ("Connection: keep-alive\r\n", f);
  fputs ("\r\n", f);
  if (ferror (f) || fclose (f) != 0)
    {
      f = NULL;
      free (buf);
      return NULL;
    }
  f = NULL;
  return buf;
}

static bool
client_gone (struct http_req *r)
{
  return r->closed || r->conn->pipe == NULL || r->conn->closing;
}

void
http_response_add_header (struct http_request *pub, const char *name, const char *value)
{
  struct http_req *r = http_req_of (pub);
  size_t n = 0;
  char **v;

  if (r->started)
    {
      log_error ("http: %s %s: header `%s` added after the response started", pub->method, pub->path, name);
      return;
    }
  while (r->extra_headers && r->extra_headers[n])
    n++;
  v = realloc (r->extra_headers, (n + 3) * sizeof (char *));
  if (v == NULL)
    return;
  r->extra_headers = v;
  v[n] = strdup (name);
  v[n + 1] = strdup (value);
  v[n + 2] = NULL;
  if (v[n] == NULL || v[n + 1] == NULL)
    {
      free (v[n]);
      free (v[n + 1]);
      v[n] = NULL;
    }
}

/* ---- whole responses ---- */

void
http_respond (struct http_request *pub, int status, const char *content_type, const void *body, size_t len)
{
  struct http_req *r = http_req_of (pub);
  bool no_body = status < 200 || status == 204 || status == 304;
  /* A request whose body was not read ends the connection.  */
  bool close = !r->keep_alive || r->body_aborted || !r->message_done;
  cleanup_free char *head = NULL;
  char status_line[64];
  size_t head_len = 0;

  if (r->started)
    {
      log_error ("http: %s %s: response %d after the response started", pub->method, pub->path, status);
      http_stream_end (pub);
      return;
    }
  if (!client_gone (r))
    {
      snprintf (status_line, sizeof (status_line), "HTTP/1.1 %d %s", status, reason_phrase (status));
      head = build_head (r, status_line, no_body ? NULL : content_type, no_body ? BODY_NONE : BODY_LENGTH,
                         len, close, &head_len);
      if (head == NULL)
        http_conn_close (r->conn);
      else
        {
          uv_buf_t bufs[2] = { uv_buf_init (head, (unsigned) head_len),
                               uv_buf_init ((char *) body, (unsigned) len) };
          http_conn_write (r->conn, bufs, (no_body || r->head || len == 0) ? 1 : 2);
        }
    }
  if (close)
    r->keep_alive = false;
  http_req_finished (r);
}

void
http_respond_json (struct http_request *req, int status, const char *json_text)
{
  http_respond (req, status, "application/json", json_text, strlen (json_text));
}

void
http_respond_verror (struct http_request *req, int status, const char *fmt, va_list ap)
{
  cleanup_free char *msg = NULL, *body = NULL;
  cleanup_gen yajl_gen g = NULL;
  size_t len = 0;

  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  g = json_gen_new (false);
  if (g)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "message", msg ? msg : "out of memory");
      yajl_gen_map_close (g);
      body = json_gen_steal (g, &len);
    }
  if (body == NULL)
    {
      http_respond (req, 500, "application/json", "{\"message\":\"out of memory\"}\n", 28);
      return;
    }
  log_debug ("http: %s %s: %d %s", req->method, req->path ? req->path : "?", status, msg ? msg : "");
  /* Go's JSON encoder ends the document with a newline; so does dockerd.  */
  {
    char *nl = realloc (body, len + 2);
    if (nl)
      {
        body = nl;
        body[len++] = '\n';
        body[len] = '\0';
      }
  }
  http_respond (req, status, "application/json", body, len);
}

void
http_respond_error (struct http_request *req, int status, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  http_respond_verror (req, status, fmt, ap);
  va_end (ap);
}

void
http_respond_empty (struct http_request *req, int status)
{
  http_respond (req, status, NULL, NULL, 0);
}

/* ---- streamed responses ---- */

void
http_stream_begin (struct http_request *pub, int status, const char *content_type)
{
  struct http_req *r = http_req_of (pub);
  cleanup_free char *head = NULL;
  char status_line[64];
  size_t head_len = 0;
  bool close;

  if (r->started)
    {
      log_error ("http: %s %s: stream started twice", pub->method, pub->path);
      return;
    }
  r->started = true;
  /* HTTP/1.0 has no chunked encoding: the body ends with the connection.  */
  r->chunked = !r->http10 && !r->head;
  if (r->http10)
    r->keep_alive = false;
  close = !r->keep_alive || r->body_aborted || (!r->message_done && !r->streaming);
  if (client_gone (r))
    return;
  snprintf (status_line, sizeof (status_line), "HTTP/1.1 %d %s", status, reason_phrase (status));
  head = build_head (r, status_line, content_type,
                     r->head ? BODY_NONE : r->chunked ? BODY_CHUNKED : BODY_UNTIL_CLOSE, 0, close,
                     &head_len);
  if (head == NULL)
    {
      http_conn_close (r->conn);
      return;
    }
  http_conn_write_raw (r->conn, head, head_len);
}

int
http_stream_write (struct http_request *pub, const void *data, size_t len)
{
  struct http_req *r = http_req_of (pub);
  char size_line[32];

  if (!r->started)
    http_stream_begin (pub, 200, "application/octet-stream");
  if (client_gone (r))
    return -1;
  if (len == 0 || r->head)
    return 0;
  if (!r->chunked)
    return http_conn_write_raw (r->conn, data, len);
  {
    int n = snprintf (size_line, sizeof (size_line), "%zx\r\n", len);
    uv_buf_t bufs[3] = { uv_buf_init (size_line, (unsigned) n), uv_buf_init ((char *) data, (unsigned) len),
                         uv_buf_init ((char *) "\r\n", 2) };
    return http_conn_write (r->conn, bufs, 3);
  }
}

int
http_stream_printf (struct http_request *req, const char *fmt, ...)
{
  cleanup_free char *s = NULL;
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (n < 0)
    return -1;
  return http_stream_write (req, s, (size_t) n);
}

void
http_stream_end (struct http_request *pub)
{
  struct http_req *r = http_req_of (pub);

  if (!r->started && !client_gone (r))
    {
      http_respond_empty (pub, 200);
      return;
    }
  if (r->chunked && !client_gone (r))
    http_conn_write_raw (r->conn, "0\r\n\r\n", 5);
  if (!r->message_done)
    r->keep_alive = false;
  http_req_finished (r);
}

size_t
http_stream_queued (const struct http_request *pub)
{
  const struct http_req *r = http_req_of_const (pub);
  if (r->conn->pipe == NULL)
    return 0;
  return uv_stream_get_write_queue_size ((const uv_stream_t *) r->conn->pipe);
}

bool
http_stream_on_drain (struct http_request *pub, void (*cb) (struct http_request *, void *), void *data)
{
  struct http_req *r = http_req_of (pub);

  if (client_gone (r) || http_stream_queued (pub) < HTTP_DRAIN_BYTES)
    return false;
  r->drain_cb = cb;
  r->drain_data = data;
  return true;
}

/* ---- hijacking ---- */

uv_stream_t *
http_hijack (struct http_request *pub, bool upgrade, uv_buf_t *leftover)
{
  struct http_req *r = http_req_of (pub);
  struct http_conn *c = r->conn;
  cleanup_free char *head = NULL;
  size_t head_len = 0;
  uv_stream_t *stream;

  leftover->base = NULL;
  leftover->len = 0;
  if (r->started || !r->message_done)
    {
      log_error ("http: %s %s: hijack %s", pub->method, pub->path,
                 r->started ? "after the response started" : "before the request was read");
      if (r->started)
        http_stream_end (pub);
      else
        http_respond_error (pub, 500, "cannot hijack the connection before the request is read");
      return NULL;
    }
  if (client_gone (r))
    {
      http_req_finished (r);
      return NULL;
    }
  upgrade = upgrade && r->wants_upgrade;
  /* dockerd writes its usual headers after the status and the stream ones.  */
  head = build_head (r,
                     upgrade ? "HTTP/1.1 101 UPGRADED\r\nContent-Type: " RAW_STREAM_TYPE
                               "\r\nConnection: Upgrade\r\nUpgrade: tcp"
                             : "HTTP/1.1 200 OK\r\nContent-Type: " RAW_STREAM_TYPE,
                     NULL, BODY_UNTIL_CLOSE, 0, false, &head_len);
  if (head == NULL || http_conn_write_raw (c, head, head_len) < 0)
    {
      http_conn_close (c);
      http_req_finished (r);
      return NULL;
    }

  if (c->in_len > c->in_off)
    {
      leftover->base = malloc (c->in_len - c->in_off);
      if (leftover->base == NULL)
        {
          log_error ("http: hijack: out of memory");
          http_conn_close (c);
          http_req_finished (r);
          return NULL;
        }
      memcpy (leftover->base, c->in + c->in_off, c->in_len - c->in_off);
      leftover->len = c->in_len - c->in_off;
    }
  c->in_off = c->in_len = 0;

  /* Hand the handle over; c lives on until its writes are done.  */
  stream = (uv_stream_t *) c->pipe;
  uv_read_stop (stream);
  stream->data = NULL;
  c->pipe = NULL;
  c->reading = false;
  c->closing = true;
  c->req = NULL;
  http_req_free (r);
  http_server_unlink_conn (c);
  http_conn_maybe_free (c);
  return stream;
}

void
http_hijack_free_cb (uv_handle_t *h)
{
  free (h);
}
