/* Requests to the daemon: one unix socket connection each, the answer
   parsed with libhttp-parser.  */
#include "client.h"
#include "cleanup.h"
#include "json.h"
#include "stream.h"

#include <errno.h>
#include <http_parser.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int
client_init (struct skiff_client *c, const char *host, skiff_error_t *err)
{
  const char *path;

  memset (c, 0, sizeof (*c));
  if (strncmp (host, "unix://", 7) == 0)
    path = host + 7;
  else if (host[0] == '/')
    path = host;
  else
    return skiff_error_make (err, 0, "unable to parse skiff host `%s`: only unix:// sockets are supported", host);
  if (path[0] != '/')
    return skiff_error_make (err, 0, "unable to parse skiff host `%s`: the socket path must be absolute", host);
  c->host = host[0] == '/' ? NULL : strdup (host);
  if (c->host == NULL && asprintf (&c->host, "unix://%s", host) < 0)
    c->host = NULL;
  c->socket_path = strdup (path);
  if (c->host == NULL || c->socket_path == NULL)
    return skiff_error_make (err, ENOMEM, "client");
  return 0;
}

void
client_release (struct skiff_client *c)
{
  free (c->host);
  free (c->socket_path);
  memset (c, 0, sizeof (*c));
}

void
client_response_release (struct client_response *r)
{
  free (r->body);
  r->body = NULL;
  r->len = 0;
}

int
client_connect_error (const struct skiff_client *c, skiff_error_t *err)
{
  return skiff_error_make (err, 0, "Cannot connect to the skiff daemon at %s. Is skiffd running?", c->host);
}

char *
client_escape (const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = malloc (strlen (s) * 3 + 1), *o = out;
  if (out == NULL)
    return NULL;
  for (; *s; s++)
    {
      unsigned char ch = *s;
      if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'
          || ch == '_' || ch == '.' || ch == '~')
        *o++ = ch;
      else
        {
          *o++ = '%';
          *o++ = hex[ch >> 4];
          *o++ = hex[ch & 15];
        }
    }
  *o = '\0';
  return out;
}

char *
client_error_text (long status, const char *body, size_t len)
{
  cleanup_json yajl_val v = NULL;
  char *out = NULL;
  cleanup_free char *text = body ? strndup (body, len) : strdup ("");

  if (text == NULL)
    return NULL;
  v = yajl_tree_parse (text, NULL, 0);
  if (v && YAJL_IS_STRING (json_get (v, "message")))
    {
      if (asprintf (&out, "Error response from daemon: %s", YAJL_GET_STRING (json_get (v, "message"))) < 0)
        return NULL;
      return out;
    }
  /* Plain text: trimmed, as the docker client shows it.  */
  {
    size_t l = strlen (text);
    while (l > 0 && (text[l - 1] == '\n' || text[l - 1] == ' ' || text[l - 1] == '\r'))
      text[--l] = '\0';
    if (l == 0)
      {
        if (asprintf (&out, "Error response from daemon: HTTP status %ld", status) < 0)
          return NULL;
        return out;
      }
  }
  if (asprintf (&out, "Error response from daemon: %s", text) < 0)
    return NULL;
  return out;
}

int
client_error_from_response (const struct client_response *r, skiff_error_t *err)
{
  cleanup_free char *msg = client_error_text (r->status, r->body, r->len);
  if (msg == NULL)
    return skiff_error_make (err, ENOMEM, "error response");
  return skiff_error_make (err, 0, "%s", msg);
}

int
client_connect (const char *socket_path, skiff_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;

  if (strlen (socket_path) >= sizeof (addr.sun_path))
    return skiff_error_make (err, 0, "socket path too long: `%s`", socket_path);
  strcpy (addr.sun_path, socket_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return skiff_error_make (err, errno, "socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    {
      cleanup_free char *host = NULL;
      struct skiff_client c = { .host = NULL };
      if (asprintf (&host, "unix://%s", socket_path) < 0)
        return skiff_error_make (err, ENOMEM, "connect");
      c.host = host;
      return client_connect_error (&c, err);
    }
  return steal_fd (&fd);
}

char *
client_request_head (const char *method, const char *path, const char *extra_headers, long long content_length,
                     size_t *len)
{
  char length[64] = "";
  char *head = NULL;
  int n;

  if (content_length == CLIENT_CHUNKED)
    snprintf (length, sizeof (length), "Transfer-Encoding: chunked\r\n");
  else if (content_length >= 0)
    snprintf (length, sizeof (length), "Content-Length: %lld\r\n", content_length);
  n = asprintf (&head,
                "%s /v" SKIFF_API_VERSION "%s HTTP/1.1\r\n"
                "Host: localhost\r\n"
                "User-Agent: skiff-cli/" SKIFF_API_VERSION "\r\n"
                "%s%s\r\n",
                method, path, extra_headers ? extra_headers : "", length);
  if (n < 0)
    return NULL;
  *len = (size_t) n;
  return head;
}

/* ---- one exchange ---- */

struct exchange
{
  http_parser parser;
  struct client_response *r;
  client_data_fn fn;  /* NULL: the whole body goes to r */
  void *opaque;
  bool head;          /* a HEAD request: the answer has no body */
  bool done;
  bool write_failed;  /* fn failed: errno says why */
};

static int
on_headers_complete (http_parser *p)
{
  struct exchange *x = p->data;
  x->r->status = p->status_code;
  return x->head ? 1 : 0; /* 1: no body follows */
}

static int
on_body (http_parser *p, const char *at, size_t len)
{
  struct exchange *x = p->data;
  char *b;

  if (x->fn && x->r->status < 400)
    {
      if (x->fn (at, len, x->opaque) < 0)
        {
          x->write_failed = true;
          return -1;
        }
      return 0;
    }
  b = realloc (x->r->body, x->r->len + len + 1);
  if (b == NULL)
    return -1;
  memcpy (b + x->r->len, at, len);
  x->r->body = b;
  x->r->len += len;
  b[x->r->len] = '\0';
  return 0;
}

static int
on_message_complete (http_parser *p)
{
  ((struct exchange *) p->data)->done = true;
  return 0;
}

static const http_parser_settings answer_settings = {
  .on_headers_complete = on_headers_complete,
  .on_body = on_body,
  .on_message_complete = on_message_complete,
};

/* 0 when sent, 1 when the daemon closed the connection (it may have
   answered already), -1 on other errors.  */
static int
send_bytes (int fd, const void *data, size_t len)
{
  if (write_all (fd, data, len) == 0)
    return 0;
  return errno == EPIPE || errno == ECONNRESET ? 1 : -1;
}

/* The body from body_fd, chunked when the length is not known.  0 when
   sent, 1 when the daemon stopped reading, -1 with *err set.  */
static int
send_fd_body (int fd, int body_fd, bool chunked, skiff_error_t *err)
{
  char buf[65536];
  for (;;)
    {
      char size[32];
      ssize_t n;
      int r = 0, m;

      do
        n = read (body_fd, buf, sizeof (buf));
      while (n < 0 && errno == EINTR);
      if (n < 0)
        return skiff_error_make (err, errno, "read the request body");
      if (chunked)
        {
          m = snprintf (size, sizeof (size), n > 0 ? "%zx\r\n" : "0\r\n\r\n", (size_t) n);
          r = send_bytes (fd, size, m);
        }
      if (r == 0 && n > 0)
        r = send_bytes (fd, buf, n);
      if (r == 0 && n > 0 && chunked)
        r = send_bytes (fd, "\r\n", 2);
      if (r < 0)
        return skiff_error_make (err, errno, "send the request body");
      if (r > 0 || n == 0)
        return r;
    }
}

static int
read_answer (int fd, struct exchange *x, const char *method, const char *path, skiff_error_t *err)
{
  char buf[65536];

  while (!x->done)
    {
      enum http_errno e;
      ssize_t n;

      do
        n = read (fd, buf, sizeof (buf));
      while (n < 0 && errno == EINTR);
      if (n < 0 && errno == ECONNRESET)
        n = 0;
      if (n < 0)
        return skiff_error_make (err, errno, "%s %s: read the answer", method, path);
      /* A zero-length read tells the parser of the EOF (a body that ends
         with the connection).  */
      http_parser_execute (&x->parser, &answer_settings, buf, (size_t) n);
      e = HTTP_PARSER_ERRNO (&x->parser);
      if (x->write_failed)
        return skiff_error_make (err, errno, "write output");
      if (e != HPE_OK && e != HPE_PAUSED)
        return skiff_error_make (err, 0, "%s %s: invalid answer from the daemon: %s", method, path,
                                 http_errno_description (e));
      if (n == 0 && !x->done)
        return skiff_error_make (err, 0, "%s %s: the daemon closed the connection before the end of its answer",
                                 method, path);
    }
  return 0;
}

static int
perform (struct skiff_client *c, const char *method, const char *path, const char *content_type,
         const void *body, size_t body_len, int body_fd, struct exchange *x, skiff_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *ct = NULL, *head = NULL;
  bool has_body = strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0;
  long long length = -1;
  size_t head_len;
  int r = 0;

  x->head = strcmp (method, "HEAD") == 0;
  http_parser_init (&x->parser, HTTP_RESPONSE);
  x->parser.data = x;
  /* Content-Type and X-Registry-Auth, each when there is one.  */
  if (asprintf (&ct, "%s%s%s%s%s%s", content_type ? "Content-Type: " : "", content_type ? content_type : "",
                content_type ? "\r\n" : "", c->registry_auth ? "X-Registry-Auth: " : "",
                c->registry_auth ? c->registry_auth : "", c->registry_auth ? "\r\n" : "")
      < 0)
    return skiff_error_make (err, ENOMEM, "request");
  if (has_body && body_fd >= 0)
    {
      struct stat st;
      length = fstat (body_fd, &st) == 0 && S_ISREG (st.st_mode) ? (long long) st.st_size : CLIENT_CHUNKED;
    }
  else if (has_body)
    length = body ? (long long) body_len : 0;
  head = client_request_head (method, path, ct, length, &head_len);
  if (head == NULL)
    return skiff_error_make (err, ENOMEM, "request");

  fd = client_connect (c->socket_path, err);
  if (fd < 0)
    return -1;
  r = send_bytes (fd, head, head_len);
  if (r == 0 && has_body && body && body_len > 0)
    r = send_bytes (fd, body, body_len);
  if (r < 0)
    return skiff_error_make (err, errno, "%s %s: send the request", method, path);
  if (r == 0 && has_body && body_fd >= 0 && send_fd_body (fd, body_fd, length == CLIENT_CHUNKED, err) < 0)
    return skiff_error_wrap (err, "%s %s", method, path);
  /* r == 1: the daemon stopped reading; its answer says why.  */
  return read_answer (fd, x, method, path, err);
}

int
client_do (struct skiff_client *c, const char *method, const char *path, const char *content_type,
           const void *body, size_t body_len, struct client_response *r, skiff_error_t *err)
{
  struct exchange x = { .r = r };
  memset (r, 0, sizeof (*r));
  if (perform (c, method, path, content_type, body, body_len, -1, &x, err) < 0)
    {
      client_response_release (r);
      return -1;
    }
  if (r->body == NULL && (r->body = strdup ("")) == NULL)
    return skiff_error_make (err, ENOMEM, "response");
  return 0;
}

int
client_json (struct skiff_client *c, const char *method, const char *path, const char *json_body,
             yajl_val *out, skiff_error_t *err)
{
  struct client_response r;
  int ret;

  if (client_do (c, method, path, json_body ? "application/json" : NULL, json_body,
                 json_body ? strlen (json_body) : 0, &r, err) < 0)
    return -1;
  if (r.status >= 400)
    {
      client_error_from_response (&r, err);
      client_response_release (&r);
      return -1;
    }
  ret = 0;
  if (out)
    {
      *out = NULL;
      if (r.len > 0)
        {
          ret = json_parse (r.body, out, err);
          if (ret < 0)
            skiff_error_wrap (err, "%s %s: daemon answer", method, path);
        }
    }
  client_response_release (&r);
  return ret;
}

int
client_stream (struct skiff_client *c, const char *method, const char *path, const char *content_type,
               int body_fd, client_data_fn fn, void *opaque, skiff_error_t *err)
{
  struct client_response r = { 0 };
  struct exchange x = { .r = &r, .fn = fn, .opaque = opaque };
  int ret;

  ret = perform (c, method, path, content_type, NULL, 0, body_fd, &x, err);
  if (ret == 0 && r.status >= 400)
    ret = client_error_from_response (&r, err);
  client_response_release (&r);
  return ret;
}
