/* skiffd's HTTP/1.1 server: connections, parsing and the request object.
   Responses, streaming and hijacking are in http_stream.c.

   A connection feeds what it reads into one buffer (conn->in) and parses it
   from there.  The parser is paused at headers-complete and at
   message-complete, so that handlers always run after http_parser_execute()
   has returned and conn->in_off tells exactly which bytes were consumed
   (what follows belongs to the next request or, after a hijack, to the
   handler).  Only body callbacks run inside the parser.  */

#define SKIFF_HTTP_INTERNAL
#include "http.h"
#include "memory.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

/* Reads are made into at least this much free space.  */
#define IN_CHUNK (64 * 1024)
/* While a response is pending, keep reading (to notice a client that goes
   away) but hold at most this much of the following requests.  */
#define IN_MAX (1024 * 1024)

static void conn_process (struct http_conn *c);

/* http_parser asserts when paused in an error state.  */
static void
parser_stop (http_parser *p)
{
  if (HTTP_PARSER_ERRNO (p) == HPE_OK)
    http_parser_pause (p, 1);
}
static void conn_update_reading (struct http_conn *c);

/* ---- small string helpers ---- */

static int
append (char **buf, size_t *len, const char *data, size_t n)
{
  char *p = realloc (*buf, *len + n + 1);
  if (p == NULL)
    return -1;
  memcpy (p + *len, data, n);
  *len += n;
  p[*len] = '\0';
  *buf = p;
  return 0;
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char) tolower ((unsigned char) c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* %XX-decodes s[0..n); '+' becomes a space when plus.  NULL on a bad
   escape or an encoded NUL (errno EINVAL) or on ENOMEM.  */
static char *
url_decode (const char *s, size_t n, bool plus)
{
  char *out = malloc (n + 1), *o = out;
  size_t i;

  if (out == NULL)
    return NULL;
  for (i = 0; i < n; i++)
    {
      if (s[i] == '%')
        {
          int hi = i + 2 < n ? hexval (s[i + 1]) : -1;
          int lo = i + 2 < n ? hexval (s[i + 2]) : -1;
          if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            {
              free (out);
              errno = EINVAL;
              return NULL;
            }
          *o++ = (char) (hi * 16 + lo);
          i += 2;
        }
      else if (plus && s[i] == '+')
        *o++ = ' ';
      else
        *o++ = s[i];
    }
  *o = '\0';
  return out;
}

/* ---- the request object ---- */

static void
strv_free (char **v)
{
  cleanup_strvp (&v);
}

void
http_req_free (struct http_req *r)
{
  size_t i;
  struct http_query_list *q, *next;

  if (r == NULL)
    return;
  memory_trim_soon ();
  for (i = 0; i < r->n_headers; i++)
    {
      free (r->headers[i].name);
      free (r->headers[i].value);
    }
  free (r->headers);
  free (r->url);
  free (r->path);
  free (r->raw_path);
  free (r->query);
  free (r->api_version);
  free (r->body);
  strv_free (r->query_kv);
  strv_free (r->extra_headers);
  strv_free (r->pub.params);
  for (q = r->query_lists; q; q = next)
    {
      next = q->next;
      free (q);
    }
  free (r);
}

const char *
http_header (const struct http_request *pub, const char *name)
{
  const struct http_req *r = http_req_of_const (pub);
  size_t i;
  for (i = 0; i < r->n_headers; i++)
    if (r->headers[i].value && strcasecmp (r->headers[i].name, name) == 0)
      return r->headers[i].value;
  return NULL;
}

const char *
http_query (const struct http_request *pub, const char *key)
{
  const struct http_req *r = http_req_of_const (pub);
  char **kv;
  for (kv = r->query_kv; kv && kv[0]; kv += 2)
    if (strcmp (kv[0], key) == 0)
      return kv[1];
  return NULL;
}

const char *const *
http_query_all (const struct http_request *pub, const char *key)
{
  /* The result lives in a list owned by the request; the request is
     logically const, its cache is not.  */
  struct http_req *r = (struct http_req *) http_req_of_const (pub);
  static const char *const none[] = { NULL };
  struct http_query_list *q;
  size_t n = 0, i = 0;
  char **kv;

  for (kv = r->query_kv; kv && kv[0]; kv += 2)
    if (strcmp (kv[0], key) == 0)
      n++;
  if (n == 0)
    return none;
  q = calloc (1, sizeof (*q) + (n + 1) * sizeof (char *));
  if (q == NULL)
    return none;
  for (kv = r->query_kv; kv && kv[0]; kv += 2)
    if (strcmp (kv[0], key) == 0)
      q->values[i++] = kv[1];
  q->values[i] = NULL;
  q->next = r->query_lists;
  r->query_lists = q;
  return q->values;
}

bool
http_query_bool (const struct http_request *r, const char *key, bool def)
{
  static const char *const falsy[] = { "", "0", "no", "false", "none" };
  const char *v = http_query (r, key);
  size_t len, i;

  if (v == NULL)
    return def;
  while (isspace ((unsigned char) *v))
    v++;
  len = strlen (v);
  while (len > 0 && isspace ((unsigned char) v[len - 1]))
    len--;
  for (i = 0; i < sizeof (falsy) / sizeof (falsy[0]); i++)
    if (strlen (falsy[i]) == len && strncasecmp (v, falsy[i], len) == 0)
      return false;
  return true;
}

int
http_request_api_version (const struct http_request *pub, int def)
{
  const struct http_req *r = http_req_of_const (pub);
  return r->api_version_num > 0 ? r->api_version_num : def;
}

/* Splits the raw query into decoded key/value pairs.  */
static int
parse_query (struct http_req *r)
{
  size_t n = 0, cap = 0;
  const char *p = r->query;

  while (*p)
    {
      const char *end = strchrnul (p, '&');
      const char *eq = memchr (p, '=', end - p);
      char *k, *v;

      if (end == p)
        {
          p++;
          continue;
        }
      k = url_decode (p, (eq ? eq : end) - p, true);
      v = eq ? url_decode (eq + 1, end - eq - 1, true) : strdup ("");
      if (k == NULL || v == NULL)
        {
          free (k);
          free (v);
          return -1;
        }
      if (n + 3 > cap)
        {
          char **nv;
          cap = cap ? cap * 2 : 8;
          nv = realloc (r->query_kv, cap * sizeof (char *));
          if (nv == NULL)
            {
              free (k);
              free (v);
              return -1;
            }
          r->query_kv = nv;
        }
      r->query_kv[n++] = k;
      r->query_kv[n++] = v;
      r->query_kv[n] = NULL;
      p = *end ? end + 1 : end;
    }
  return 0;
}

/* "/v1.41/containers/json" -> api_version "1.41", rest "/containers/json".
   Returns the length of the prefix, 0 when there is none.  */
static size_t
version_prefix (struct http_req *r, const char *path, size_t len)
{
  size_t i = 2;
  bool digit = false;

  if (len < 3 || path[0] != '/' || path[1] != 'v')
    return 0;
  while (i < len && (isdigit ((unsigned char) path[i]) || path[i] == '.'))
    digit |= isdigit ((unsigned char) path[i++]) != 0;
  if (!digit || (i < len && path[i] != '/'))
    return 0;
  r->api_version = strndup (path + 2, i - 2);
  if (r->api_version)
    {
      unsigned major = 0, minor = 0;
      if (sscanf (r->api_version, "%u.%u", &major, &minor) >= 1 && major < 1000 && minor < 100)
        r->api_version_num = (int) (major * 100 + minor);
    }
  return i;
}

/* Fills method, path, query, version from the URL.  On failure, *why says
   what is wrong with the request (a 400), or is NULL on ENOMEM.  */
static int
request_parse_target (struct http_req *r, enum http_method method, const char **why)
{
  struct http_parser_url u;
  const char *path = "/";
  size_t path_len = 1, skip;

  *why = "malformed request target";
  r->pub.method = http_method_str (method);
  if (r->url == NULL || r->url_len > UINT16_MAX)
    return -1;
  http_parser_url_init (&u);
  if (http_parser_parse_url (r->url, r->url_len, method == HTTP_CONNECT, &u) != 0)
    return -1;
  if (u.field_set & (1 << UF_PATH))
    {
      path = r->url + u.field_data[UF_PATH].off;
      path_len = u.field_data[UF_PATH].len;
    }
  r->raw_path = strndup (path, path_len);
  r->query = (u.field_set & (1 << UF_QUERY))
                 ? strndup (r->url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len)
                 : strdup ("");
  if (r->raw_path == NULL || r->query == NULL)
    goto enomem;
  skip = version_prefix (r, path, path_len);
  if (skip == path_len)
    r->path = strdup ("/");
  else
    r->path = url_decode (path + skip, path_len - skip, false);
  if (r->path == NULL)
    {
      if (errno == EINVAL)
        *why = "invalid escape in URL path";
      else
        goto enomem;
      return -1;
    }
  if (parse_query (r) < 0)
    {
      if (errno == EINVAL)
        *why = "invalid escape in URL query";
      else
        goto enomem;
      return -1;
    }
  r->pub.path = r->path;
  r->pub.raw_path = r->raw_path;
  r->pub.query = r->query;
  r->pub.api_version = r->api_version;
  return 0;

enomem:
  *why = NULL;
  return -1;
}

/* ---- parser callbacks: they only collect, except for body chunks ---- */

static int
on_message_begin (http_parser *p)
{
  struct http_conn *c = p->data;
  struct http_req *r;

  /* The parser is paused until the previous request is finished, so no
     request is current here.  */
  r = calloc (1, sizeof (*r));
  if (r == NULL)
    return -1;
  r->conn = c;
  r->pub.phase = HTTP_PHASE_HEADERS;
  c->req = r;
  return 0;
}

static int
on_url (http_parser *p, const char *at, size_t len)
{
  struct http_conn *c = p->data;
  return append (&c->req->url, &c->req->url_len, at, len);
}

static int
on_header_field (http_parser *p, const char *at, size_t len)
{
  struct http_req *r = ((struct http_conn *) p->data)->req;
  struct http_header_kv *h;
  size_t n;

  if (r->n_headers == 0 || r->headers[r->n_headers - 1].value != NULL)
    {
      h = realloc (r->headers, (r->n_headers + 1) * sizeof (*h));
      if (h == NULL)
        return -1;
      r->headers = h;
      memset (&h[r->n_headers++], 0, sizeof (*h));
    }
  h = &r->headers[r->n_headers - 1];
  n = h->name ? strlen (h->name) : 0;
  return append (&h->name, &n, at, len);
}

static int
on_header_value (http_parser *p, const char *at, size_t len)
{
  struct http_req *r = ((struct http_conn *) p->data)->req;
  struct http_header_kv *h = &r->headers[r->n_headers - 1];
  size_t n = h->value ? strlen (h->value) : 0;
  if (h->value == NULL && len == 0)
    return (h->value = strdup ("")) ? 0 : -1;
  return append (&h->value, &n, at, len);
}

static int
on_headers_complete (http_parser *p)
{
  struct http_conn *c = p->data;
  c->event = CONN_EVENT_HEADERS;
  http_parser_pause (p, 1);
  return 0;
}

static int
on_body (http_parser *p, const char *at, size_t len)
{
  struct http_conn *c = p->data;
  struct http_req *r = c->req;

  if (r == NULL || r->body_aborted)
    return 0;
  if (r->streaming)
    {
      int ret = r->body_fn (&r->pub, at, len, false, r->body_data);
      if (c->req != r)
        return 0; /* finished from the callback */
      if (ret < 0)
        r->body_aborted = true;
      if (r->body_paused)
        http_parser_pause (p, 1);
      return 0;
    }
  if (r->body_len + len > HTTP_MAX_BODY)
    {
      r->too_large = true;
      r->body_aborted = true;
      http_parser_pause (p, 1);
      return 0;
    }
  return append (&r->body, &r->body_len, at, len);
}

static int
on_message_complete (http_parser *p)
{
  struct http_conn *c = p->data;
  if (c->req)
    c->req->message_done = true;
  c->event = CONN_EVENT_MESSAGE;
  c->wait_response = c->req != NULL;
  http_parser_pause (p, 1);
  return 0;
}

static const http_parser_settings parser_settings = {
  .on_message_begin = on_message_begin,
  .on_url = on_url,
  .on_header_field = on_header_field,
  .on_header_value = on_header_value,
  .on_headers_complete = on_headers_complete,
  .on_body = on_body,
  .on_message_complete = on_message_complete,
};

/* ---- dispatching, outside the parser ---- */

static bool
header_has_token (const char *value, const char *token)
{
  size_t n = strlen (token);
  const char *p = value;

  while (p && *p)
    {
      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (strncasecmp (p, token, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
        return true;
      p = strchr (p, ',');
    }
  return false;
}

static void
conn_on_headers (struct http_conn *c)
{
  struct http_req *r = c->req;
  const char *why = NULL, *expect;
  bool chunked = (c->parser.flags & F_CHUNKED) != 0;
  uint64_t length = c->parser.content_length;

  if (request_parse_target (r, (enum http_method) c->parser.method, &why) < 0)
    {
      r->keep_alive = false;
      http_respond_error (&r->pub, why ? 400 : 500, "%s", why ? why : "out of memory");
      return;
    }
  r->keep_alive = http_should_keep_alive (&c->parser) != 0;
  r->http10 = c->parser.http_major == 1 && c->parser.http_minor == 0;
  r->head = c->parser.method == HTTP_HEAD;
  r->has_body = chunked || (length > 0 && length != UINT64_MAX);
  r->wants_upgrade = header_has_token (http_header (&r->pub, "Connection"), "upgrade")
                     && http_header (&r->pub, "Upgrade") != NULL;

  c->srv->handler (&r->pub, c->srv->data);
  if (c->req != r)
    return; /* answered without the body */

  if (!r->streaming && !chunked && r->has_body && length > HTTP_MAX_BODY)
    {
      r->keep_alive = false;
      http_respond_error (&r->pub, 413, "request body of %llu bytes is larger than the limit of %u bytes",
                          (unsigned long long) length, HTTP_MAX_BODY);
      return;
    }
  expect = http_header (&r->pub, "Expect");
  if (expect && r->has_body && strcasecmp (expect, "100-continue") == 0)
    http_conn_write_raw (c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
}

static void
conn_on_message (struct http_conn *c)
{
  struct http_req *r = c->req;

  if (r == NULL)
    return;
  if (c->parser.upgrade)
    {
      /* What follows is another protocol: unless the handler hijacks,
         the connection ends with this request.  */
      c->upgraded = true;
      r->keep_alive = false;
    }
  if (r->too_large)
    {
      r->keep_alive = false;
      http_respond_error (&r->pub, 413, "request body is larger than the limit of %u bytes", HTTP_MAX_BODY);
      return;
    }
  if (r->streaming)
    {
      if (!r->body_aborted)
        r->body_fn (&r->pub, NULL, 0, true, r->body_data);
      return;
    }
  if (r->body == NULL && (r->body = strdup ("")) == NULL)
    {
      http_respond_error (&r->pub, 500, "out of memory");
      return;
    }
  r->pub.body = r->body;
  r->pub.body_len = r->body_len;
  r->pub.phase = HTTP_PHASE_BODY;
  r->owned = true;
  c->srv->handler (&r->pub, c->srv->data);
}

/* A request the client got wrong before any handler took it.  */
static void
conn_bad_request (struct http_conn *c, enum http_errno e)
{
  static const char fmt[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n%s";
  cleanup_free char *body = NULL, *resp = NULL;
  int n;

  if (c->req && c->req->owned)
    {
      /* A handler streams this body: to it, the client is gone.  */
      http_conn_close (c);
      return;
    }
  http_req_free (c->req);
  c->req = NULL;
  if (asprintf (&body, "{\"message\":\"bad request: %s\"}\n", http_errno_description (e)) < 0)
    body = NULL;
  if (body && (n = asprintf (&resp, fmt, strlen (body), body)) >= 0)
    http_conn_write_raw (c, resp, (size_t) n);
  http_conn_shutdown (c);
}

/* Whether the parser may go on with the data that follows.  */
static bool
conn_can_parse (struct http_conn *c)
{
  return c->pipe && !c->closing && !c->upgraded && !c->wait_response
         && !(c->req && c->req->body_paused);
}

static void
conn_process (struct http_conn *c)
{
  if (c->in_process)
    return; /* the loop below picks the change up */
  c->in_process = true;
  while (c->pipe && !c->closing)
    {
      enum conn_event ev;
      enum http_errno e;
      size_t n;

      if (HTTP_PARSER_ERRNO (&c->parser) == HPE_PAUSED)
        {
          if (!conn_can_parse (c))
            break;
          http_parser_pause (&c->parser, 0);
        }
      else if (!conn_can_parse (c))
        break;
      if (c->in_off == c->in_len)
        break;

      c->event = CONN_EVENT_NONE;
      n = http_parser_execute (&c->parser, &parser_settings, c->in + c->in_off, c->in_len - c->in_off);
      c->in_off += n;
      e = HTTP_PARSER_ERRNO (&c->parser);
      ev = c->event;
      c->event = CONN_EVENT_NONE;
      if (e != HPE_OK && e != HPE_PAUSED)
        {
          conn_bad_request (c, e);
          break;
        }
      if (ev == CONN_EVENT_HEADERS)
        conn_on_headers (c);
      else if (ev == CONN_EVENT_MESSAGE)
        conn_on_message (c);
      else if (c->req && c->req->too_large)
        {
          c->req->keep_alive = false;
          http_respond_error (&c->req->pub, 413, "request body is larger than the limit of %u bytes",
                              HTTP_MAX_BODY);
        }
    }
  if (c->in_off == c->in_len)
    c->in_off = c->in_len = 0;
  c->in_process = false;
  if (c->pipe == NULL)
    {
      /* Hijacked by a handler: c may go now.  */
      http_conn_maybe_free (c);
      return;
    }
  conn_update_reading (c);
}

/* ---- connection I/O ---- */

void
http_conn_maybe_free (struct http_conn *c)
{
  if (c->pipe || c->writes > 0 || c->req || c->shutting_down || c->in_callback
      || c->in_process)
    return;
  free (c->in);
  free (c);
}

static void
server_maybe_done (struct http_server *s)
{
  void (*done) (void *);
  void *arg;

  if (!s->closing || s->listener_open || s->conns)
    return;
  done = s->done;
  arg = s->done_arg;
  free (s->path);
  free (s);
  if (done)
    done (arg);
}

void
http_server_unlink_conn (struct http_conn *c)
{
  struct http_server *s = c->srv;
  if (s == NULL)
    return;
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
  c->srv = NULL;
  server_maybe_done (s);
}

static void
on_conn_closed (uv_handle_t *h)
{
  struct http_conn *c = h->data;
  struct http_req *r = c->req;

  free (h);
  c->pipe = NULL;
  c->closing = true;
  http_server_unlink_conn (c);
  if (r && !r->owned)
    {
      http_req_free (r);
      c->req = r = NULL;
    }
  if (r)
    {
      r->closed = true;
      r->drain_cb = NULL;
      if (r->close_cb)
        {
          void (*cb) (struct http_request *, void *) = r->close_cb;
          r->close_cb = NULL;
          /* The callback may finish r: keep c until it returns.  */
          c->in_callback = true;
          cb (&r->pub, r->close_data);
          c->in_callback = false;
        }
    }
  http_conn_maybe_free (c);
}

void
http_conn_close (struct http_conn *c)
{
  if (c->pipe == NULL || uv_is_closing ((uv_handle_t *) c->pipe))
    return;
  c->closing = true;
  uv_read_stop ((uv_stream_t *) c->pipe);
  parser_stop (&c->parser);
  uv_close ((uv_handle_t *) c->pipe, on_conn_closed);
}

static void
on_shutdown (uv_shutdown_t *sreq, int status)
{
  struct http_conn *c = sreq->data;
  free (sreq);
  c->shutting_down = false;
  if (c->pipe)
    http_conn_close (c);
  else
    http_conn_maybe_free (c);
}

void
http_conn_shutdown (struct http_conn *c)
{
  uv_shutdown_t *sreq;

  if (c->pipe == NULL || c->closing)
    return;
  c->closing = true;
  uv_read_stop ((uv_stream_t *) c->pipe);
  parser_stop (&c->parser);
  /* Shutdown waits for the queued writes, then the socket is closed.  */
  sreq = calloc (1, sizeof (*sreq));
  if (sreq == NULL)
    {
      http_conn_close (c);
      return;
    }
  sreq->data = c;
  if (uv_shutdown (sreq, (uv_stream_t *) c->pipe, on_shutdown) < 0)
    {
      free (sreq);
      http_conn_close (c);
      return;
    }
  c->shutting_down = true;
}

static void
on_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct http_conn *c = h->data;

  if (c->in_off > 0 && c->in_off == c->in_len)
    c->in_off = c->in_len = 0;
  if (c->in_cap - c->in_len < IN_CHUNK)
    {
      if (c->in_off > 0)
        {
          memmove (c->in, c->in + c->in_off, c->in_len - c->in_off);
          c->in_len -= c->in_off;
          c->in_off = 0;
        }
      if (c->in_cap - c->in_len < IN_CHUNK)
        {
          char *p = realloc (c->in, c->in_len + IN_CHUNK);
          if (p == NULL)
            {
              buf->base = NULL;
              buf->len = 0; /* libuv reports UV_ENOBUFS */
              return;
            }
          c->in = p;
          c->in_cap = c->in_len + IN_CHUNK;
        }
    }
  buf->base = c->in + c->in_len;
  buf->len = c->in_cap - c->in_len;
}

static void
on_read (uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct http_conn *c = stream->data;

  if (nread < 0)
    {
      if (nread != UV_EOF && nread != UV_ECONNRESET)
        log_debug ("http: read: %s", uv_strerror ((int) nread));
      http_conn_close (c);
      return;
    }
  c->in_len += (size_t) nread;
  conn_process (c);
}

static void
conn_update_reading (struct http_conn *c)
{
  bool want = c->pipe && !c->closing && !c->upgraded && !(c->req && c->req->body_paused)
              && c->in_len - c->in_off < IN_MAX;

  if (want == c->reading)
    return;
  if (want && uv_read_start ((uv_stream_t *) c->pipe, on_alloc, on_read) < 0)
    {
      http_conn_close (c);
      return;
    }
  if (!want && c->pipe)
    uv_read_stop ((uv_stream_t *) c->pipe);
  c->reading = want;
}

/* Called by the finishing functions once the response is queued.  */
void
http_req_finished (struct http_req *r)
{
  struct http_conn *c = r->conn;
  bool close = !r->keep_alive || !r->message_done || r->body_aborted;

  if (c->req == r)
    c->req = NULL;
  http_req_free (r);
  if (c->pipe == NULL || c->closing)
    {
      http_conn_maybe_free (c);
      return;
    }
  c->wait_response = false;
  if (close)
    {
      http_conn_shutdown (c);
      return;
    }
  conn_process (c);
}

/* ---- streaming request bodies ---- */

void
http_request_stream_body (struct http_request *pub, http_body_fn fn, void *data)
{
  struct http_req *r = http_req_of (pub);

  if (r->pub.phase != HTTP_PHASE_HEADERS || r->streaming)
    {
      log_error ("http: %s %s: body streaming asked for too late", r->pub.method, r->pub.path);
      return;
    }
  r->streaming = true;
  r->owned = true;
  r->body_fn = fn;
  r->body_data = data;
}

void
http_request_pause_body (struct http_request *pub)
{
  struct http_req *r = http_req_of (pub);
  struct http_conn *c = r->conn;

  if (r->body_paused)
    return;
  r->body_paused = true;
  if (c->req == r && c->pipe && !c->closing)
    {
      parser_stop (&c->parser);
      conn_update_reading (c);
    }
}

void
http_request_resume_body (struct http_request *pub)
{
  struct http_req *r = http_req_of (pub);
  struct http_conn *c = r->conn;

  if (!r->body_paused)
    return;
  r->body_paused = false;
  if (c->req == r && c->pipe && !c->closing)
    conn_process (c);
}

void
http_request_on_close (struct http_request *pub, void (*cb) (struct http_request *, void *), void *data)
{
  struct http_req *r = http_req_of (pub);
  r->close_cb = cb;
  r->close_data = data;
}

bool
http_request_closed (const struct http_request *pub)
{
  const struct http_req *r = http_req_of_const (pub);
  return r->closed || r->conn->pipe == NULL || uv_is_closing ((uv_handle_t *) r->conn->pipe);
}

/* ---- the server ---- */

static void
on_connection (uv_stream_t *listener, int status)
{
  struct http_server *s = listener->data;
  struct http_conn *c;
  int ret;

  if (status < 0)
    {
      log_warning ("http: accept on `%s`: %s", s->path, uv_strerror (status));
      return;
    }
  c = calloc (1, sizeof (*c));
  if (c)
    c->pipe = calloc (1, sizeof (*c->pipe));
  if (c == NULL || c->pipe == NULL)
    {
      /* Left unaccepted: libuv stops polling the listener until a later
         accept, which a stuck daemon without memory cannot do anyway.  */
      log_error ("http: accept on `%s`: out of memory", s->path);
      if (c)
        free (c);
      return;
    }
  uv_pipe_init (listener->loop, c->pipe, 0);
  c->pipe->data = c;
  ret = uv_accept (listener, (uv_stream_t *) c->pipe);
  c->srv = s;
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  http_parser_init (&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (ret < 0)
    {
      log_warning ("http: accept on `%s`: %s", s->path, uv_strerror (ret));
      http_conn_close (c);
      return;
    }
  conn_update_reading (c);
}

static int
remove_stale_socket (const char *path, skiff_error_t *err)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return skiff_error_make (err, errno, "stat `%s`", path);
    }
  if (!S_ISSOCK (st.st_mode))
    return skiff_error_make (err, 0, "`%s` exists and is not a socket", path);
  if (unlink (path) < 0 && errno != ENOENT)
    return skiff_error_make (err, errno, "remove stale socket `%s`", path);
  return 0;
}

static void
on_listener_closed (uv_handle_t *h)
{
  struct http_server *s = h->data;
  s->listener_open = false;
  server_maybe_done (s);
}

int
http_server_listen (uv_loop_t *loop, const char *socket_path, mode_t mode, gid_t gid,
                    http_handler_fn handler, void *data, struct http_server **out, skiff_error_t *err)
{
  struct http_server *s;
  int ret;

  if (remove_stale_socket (socket_path, err) < 0)
    return -1;
  s = calloc (1, sizeof (*s));
  if (s == NULL || (s->path = strdup (socket_path)) == NULL)
    {
      free (s);
      return skiff_error_make (err, ENOMEM, "listen on `%s`", socket_path);
    }
  s->handler = handler;
  s->data = data;
  uv_pipe_init (loop, &s->listener, 0);
  s->listener.data = s;
  s->listener_open = true;

  ret = uv_pipe_bind (&s->listener, socket_path);
  if (ret == 0 && chmod (socket_path, mode) < 0)
    ret = skiff_error_make (err, errno, "chmod `%s`", socket_path);
  else if (ret == 0 && gid != (gid_t) -1 && chown (socket_path, (uid_t) -1, gid) < 0)
    ret = skiff_error_make (err, errno, "chown `%s` to group %u", socket_path, (unsigned) gid);
  else if (ret < 0)
    ret = skiff_error_make (err, -ret, "bind `%s`", socket_path);
  else if ((ret = uv_listen ((uv_stream_t *) &s->listener, 128, on_connection)) < 0)
    ret = skiff_error_make (err, -ret, "listen on `%s`", socket_path);
  if (ret < 0)
    {
      /* Nothing was accepted: close, free once closed, no done callback.  */
      s->closing = true;
      unlink (socket_path);
      uv_close ((uv_handle_t *) &s->listener, on_listener_closed);
      return -1;
    }
  *out = s;
  return 0;
}

void
http_server_close (struct http_server *s, void (*done) (void *), void *arg)
{
  struct http_conn *c, *next;

  s->closing = true;
  s->done = done;
  s->done_arg = arg;
  if (unlink (s->path) < 0 && errno != ENOENT)
    log_warning ("http: remove `%s`: %s", s->path, strerror (errno));
  uv_close ((uv_handle_t *) &s->listener, on_listener_closed);
  for (c = s->conns; c; c = next)
    {
      next = c->next;
      if (c->shutting_down && c->pipe && !uv_is_closing ((uv_handle_t *) c->pipe))
        continue; /* closes by itself once its writes are out */
      http_conn_close (c);
    }
}
