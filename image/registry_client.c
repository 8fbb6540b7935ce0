/* The registry client: endpoints, blocking requests (ping, manifests,
   small blobs, token servers) and blob transfers for a curl multi handle,
   with the Authorization header of registry_auth.c on every request and
   one retry after a 401.  */
#include "registry.h"
#include "cleanup.h"
#include "json.h"
#include "manifest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DOCKER_IO_ORIGIN "https://registry-1.docker.io"
#define ERROR_BODY_MAX (64 * 1024)
#define CONNECT_TIMEOUT 30L
/* A transfer that moves less than a byte a second for a minute is dead.  */
#define LOW_SPEED_TIME 60L
#define USER_AGENT "skiff/1.0 (registry client)"

struct registry_client
{
  struct registry_endpoint ep;
  char *repo;
  struct registry_auth auth;
  CURL *easy; /* reused for blocking requests: keeps the connection */
};

struct registry_blob
{
  struct registry_client *c;
  CURL *h;
  struct curl_slist *headers;
  char *url;
  char errbuf[CURL_ERROR_SIZE];
  registry_sink_fn sink;
  void *data;
  int64_t offset; /* where the request asked to start */
  int64_t pos;    /* offset of the next byte the sink gets */
  int mode;       /* 0 before the first body byte, 1 blob data, 2 error body */
  bool sink_failed;
  bool bad_range;
  struct registry_response resp;
};

static void
cleanup_curlp (CURL **h)
{
  if (*h)
    curl_easy_cleanup (*h);
}

static void
cleanup_slistp (struct curl_slist **l)
{
  if (*l)
    curl_slist_free_all (*l);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result;

static void
global_init (void)
{
  global_result = curl_global_init (CURL_GLOBAL_DEFAULT);
}

static int
ensure_global (skiff_error_t *err)
{
  pthread_once (&global_once, global_init);
  if (global_result != CURLE_OK)
    return skiff_error_make (err, 0, "initialise libcurl: %s", curl_easy_strerror (global_result));
  return 0;
}

int
registry_global_init (skiff_error_t *err)
{
  return ensure_global (err);
}

/* ---- endpoints ---- */

static char *
host_of (const char *domain)
{
  const char *end;
  if (domain[0] == '[')
    {
      end = strchr (domain, ']');
      return end ? strndup (domain + 1, end - domain - 1) : strdup (domain);
    }
  end = strchr (domain, ':');
  return end ? strndup (domain, end - domain) : strdup (domain);
}

static bool
in_cidr (const char *host, const char *cidr)
{
  struct in_addr ip, net;
  char buf[INET_ADDRSTRLEN];
  const char *slash = strchr (cidr, '/');
  char *end;
  long bits;
  uint32_t mask;

  if (slash == NULL || (size_t) (slash - cidr) >= sizeof (buf))
    return false;
  memcpy (buf, cidr, slash - cidr);
  buf[slash - cidr] = '\0';
  bits = strtol (slash + 1, &end, 10);
  if (*end || bits < 0 || bits > 32 || inet_pton (AF_INET, buf, &net) != 1 || inet_pton (AF_INET, host, &ip) != 1)
    return false;
  mask = bits == 0 ? 0 : htonl (~0u << (32 - bits));
  return (ip.s_addr & mask) == (net.s_addr & mask);
}

bool
registry_is_insecure (const char *domain, const char *const *insecure)
{
  cleanup_free char *host = host_of (domain);
  struct in_addr ip;

  if (host == NULL)
    return false;
  if (strcasecmp (host, "localhost") == 0 || strcmp (host, "::1") == 0)
    return true;
  if (inet_pton (AF_INET, host, &ip) == 1 && (ntohl (ip.s_addr) >> 24) == 127)
    return true;
  for (; insecure && *insecure; insecure++)
    if (strcmp (*insecure, domain) == 0 || strcmp (*insecure, host) == 0 || in_cidr (host, *insecure))
      return true;
  return false;
}

void
registry_endpoints_free (struct registry_endpoint *v, size_t n)
{
  size_t i;
  for (i = 0; v && i < n; i++)
    free (v[i].url);
  free (v);
}

static int
add_endpoint (struct registry_endpoint **v, size_t *n, const char *url, bool mirror, bool verify, bool fallback)
{
  struct registry_endpoint *nv = realloc (*v, (*n + 1) * sizeof (*nv));
  size_t len = strlen (url);
  if (nv == NULL)
    return -1;
  *v = nv;
  while (len > 0 && url[len - 1] == '/')
    len--;
  nv[*n].url = strndup (url, len);
  nv[*n].mirror = mirror;
  nv[*n].tls_verify = verify;
  nv[*n].http_fallback = fallback;
  if (nv[*n].url == NULL)
    return -1;
  (*n)++;
  return 0;
}

/* The authority of "scheme://authority/path", malloc'd; NULL if the URL
   is not http(s).  */
static char *
url_authority (const char *url)
{
  const char *p;
  if (strncmp (url, "https://", 8) == 0)
    p = url + 8;
  else if (strncmp (url, "http://", 7) == 0)
    p = url + 7;
  else
    return NULL;
  return strndup (p, strcspn (p, "/?#"));
}

/* An explicitly configured base URL (mirror or docker.io origin).  */
static int
add_configured (struct registry_endpoint **v, size_t *n, const char *url, bool mirror, const struct pull_opts *o,
                skiff_error_t *err)
{
  cleanup_free char *authority = url_authority (url);
  const char *path;
  if (authority == NULL || *authority == '\0')
    return skiff_error_make (err, 0, "invalid registry URL `%s`: expected http:// or https://", url);
  path = strstr (url, "://") + 3 + strlen (authority);
  if (strspn (path, "/") != strlen (path))
    return skiff_error_make (err, 0, "invalid registry URL `%s`: a path is not supported", url);
  if (add_endpoint (v, n, url, mirror, !registry_is_insecure (authority, o->insecure), false) < 0)
    return skiff_error_make (err, ENOMEM, "registry endpoints");
  return 0;
}

int
registry_endpoints (const char *domain, const struct pull_opts *o, struct registry_endpoint **out, size_t *n,
                    skiff_error_t *err)
{
  struct registry_endpoint *v = NULL;
  size_t count = 0, i;
  cleanup_free char *https = NULL;
  cleanup_free char *http = NULL;

  if (strcmp (domain, "docker.io") == 0)
    {
      for (i = 0; o->mirrors && o->mirrors[i]; i++)
        if (add_configured (&v, &count, o->mirrors[i], true, o, err) < 0)
          goto fail;
      if (add_configured (&v, &count, o->docker_io_url ? o->docker_io_url : DOCKER_IO_ORIGIN, false, o, err) < 0)
        goto fail;
    }
  else if (asprintf (&https, "https://%s", domain) < 0 || asprintf (&http, "http://%s", domain) < 0)
    {
      skiff_error_make (err, ENOMEM, "registry endpoints");
      goto fail;
    }
  else if (registry_is_insecure (domain, o->insecure))
    {
      /* Docker's order for insecure registries: TLS without
         verification first, plain HTTP when TLS cannot be spoken.  */
      if (add_endpoint (&v, &count, https, false, false, true) < 0
          || add_endpoint (&v, &count, http, false, false, false) < 0)
        {
          skiff_error_make (err, ENOMEM, "registry endpoints");
          goto fail;
        }
    }
  else if (add_endpoint (&v, &count, https, false, true, false) < 0)
    {
      skiff_error_make (err, ENOMEM, "registry endpoints");
      goto fail;
    }
  *out = v;
  *n = count;
  return 0;
fail:
  registry_endpoints_free (v, count);
  return -1;
}

/* ---- responses ---- */

void
registry_response_clear (struct registry_response *r)
{
  free (r->reason);
  free (r->body);
  free (r->content_type);
  free (r->digest);
  free (r->www_authenticate);
  free (r->content_range);
  free (r->location);
  memset (r, 0, sizeof (*r));
}

char *
registry_error_text (const struct registry_response *r)
{
  cleanup_json yajl_val root = NULL;
  skiff_error_t ignored = NULL;
  yajl_val errors, first, code, message;
  char *out = NULL;

  if (r->body && json_parse (r->body, &root, &ignored) == 0 && json_get_array (root, "errors", "errors", &errors, &ignored) == 0
      && errors && errors->u.array.len > 0)
    {
      first = errors->u.array.values[0];
      code = json_get (first, "code");
      message = json_get (first, "message");
      if (code && YAJL_IS_STRING (code))
        {
          const char *text = YAJL_GET_STRING (code);
          cleanup_free char *lower = text ? strdup (text) : NULL;
          char *p;
          if (lower == NULL)
            return NULL;
          /* errcode.ErrorCode.Error(): lower case, '_' as ' '.  */
          for (p = lower; *p; p++)
            *p = *p == '_' ? ' ' : tolower ((unsigned char) *p);
          if (asprintf (&out, "%s: %s", lower, message && YAJL_IS_STRING (message) ? YAJL_GET_STRING (message) : "")
              < 0)
            return NULL;
          return out;
        }
    }
  skiff_error_release (&ignored);
  /* No error body (HEAD): the challenge tells, as distribution's
     HandleErrorResponse reads it.  */
  if (r->status == 401)
    return strdup (r->www_authenticate && strstr (r->www_authenticate, "error=\"insufficient_scope\"")
                       ? "denied: requested access to the resource is denied"
                       : "unauthorized: authentication required");
  if (asprintf (&out, "received unexpected HTTP status: %s", r->reason ? r->reason : "(none)") < 0)
    return NULL;
  return out;
}

static char *
header_value (const char *line, size_t len, const char *name)
{
  size_t n = strlen (name);
  if (len <= n || strncasecmp (line, name, n) != 0 || line[n] != ':')
    return NULL;
  line += n + 1, len -= n + 1;
  while (len > 0 && (*line == ' ' || *line == '\t'))
    line++, len--;
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
    len--;
  return strndup (line, len);
}

static void
set_header (char **slot, char *value)
{
  if (value == NULL)
    return;
  free (*slot);
  *slot = value;
}

/* Keeps the headers of the last response only (redirects and 100
   Continue come first).  */
static size_t
on_header (char *line, size_t size, size_t nitems, void *data)
{
  struct registry_response *r = data;
  size_t len = size * nitems;

  if (len > 5 && strncmp (line, "HTTP/", 5) == 0)
    {
      const char *sp = memchr (line, ' ', len);
      size_t rest;
      free (r->reason);
      free (r->content_type);
      free (r->digest);
      free (r->www_authenticate);
      free (r->content_range);
      free (r->location);
      r->reason = r->content_type = r->digest = r->www_authenticate = r->content_range = r->location = NULL;
      if (sp)
        {
          sp++;
          rest = len - (sp - line);
          while (rest > 0 && (sp[rest - 1] == '\r' || sp[rest - 1] == '\n'))
            rest--;
          r->reason = strndup (sp, rest);
        }
      return len;
    }
  set_header (&r->content_type, header_value (line, len, "Content-Type"));
  set_header (&r->digest, header_value (line, len, "Docker-Content-Digest"));
  set_header (&r->content_range, header_value (line, len, "Content-Range"));
  set_header (&r->location, header_value (line, len, "Location"));
  if (r->www_authenticate == NULL)
    r->www_authenticate = header_value (line, len, "WWW-Authenticate");
  return len;
}

struct body
{
  struct registry_response *r;
  size_t max;
  bool too_large;
};

static size_t
on_body (char *buf, size_t size, size_t nitems, void *data)
{
  struct body *b = data;
  size_t len = size * nitems;
  char *nb;

  if (b->r->len + len > b->max)
    {
      b->too_large = true;
      return 0;
    }
  nb = realloc (b->r->body, b->r->len + len + 1);
  if (nb == NULL)
    return 0;
  memcpy (nb + b->r->len, buf, len);
  b->r->len += len;
  nb[b->r->len] = '\0';
  b->r->body = nb;
  return len;
}

static int
common_options (CURL *h, const char *url, bool verify, char *errbuf)
{
  if (curl_easy_setopt (h, CURLOPT_URL, url) != CURLE_OK || curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_USERAGENT, USER_AGENT) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK)
    return -1;
  errbuf[0] = '\0';
  return 0;
}

static const char *
method_name (const char *method)
{
  /* As Go's url.Error prints them: `Get "https://..."`.  */
  static const char *const names[][2] = { { "HEAD", "Head" }, { "POST", "Post" }, { "PUT", "Put" },
                                          { "PATCH", "Patch" }, { "DELETE", "Delete" } };
  size_t i;
  for (i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    if (strcmp (method, names[i][0]) == 0)
      return names[i][1];
  return "Get";
}

static int
transport_error (skiff_error_t *err, const char *method, const char *url, CURLcode rc, const char *errbuf)
{
  skiff_error_make (err, 0, "%s \"%s\": %s", method_name (method), url, errbuf[0] ? errbuf : curl_easy_strerror (rc));
  return REGISTRY_ERR_TRANSPORT;
}

/* The request body being sent: from memory or from a range of a file.  */
struct send_state
{
  const struct registry_send *send;
  int64_t sent;
  bool read_failed;
};

static size_t
on_send (char *buf, size_t size, size_t nitems, void *data)
{
  struct send_state *st = data;
  const struct registry_send *sd = st->send;
  size_t want = size * nitems;
  int64_t left = sd->length - st->sent;
  ssize_t n;

  if (left <= 0)
    return 0;
  if ((int64_t) want > left)
    want = left;
  if (sd->data)
    {
      memcpy (buf, sd->data + st->sent, want);
      n = want;
    }
  else
    {
      do
        n = pread (sd->fd, buf, want, sd->offset + st->sent);
      while (n < 0 && errno == EINTR);
      if (n <= 0)
        {
          st->read_failed = true;
          return CURL_READFUNC_ABORT;
        }
    }
  st->sent += n;
  if (sd->progress)
    sd->progress (sd->progress_data, st->sent);
  return n;
}

/* One request on reuse (reset first) or on a handle of its own; any HTTP
   status is a success here.  */
static int
perform (CURL *reuse, const char *method, const char *url, bool verify, const char *accept, const char *auth_header,
         const char *username, const char *password, bool follow, size_t max, const struct registry_send *send,
         struct registry_response *r, skiff_error_t *err)
{
  struct send_state st = { send, 0, false };
  cleanup_free char *ct_line = NULL;
  __attribute__ ((cleanup (cleanup_curlp))) CURL *own = NULL;
  __attribute__ ((cleanup (cleanup_slistp))) struct curl_slist *headers = NULL;
  CURL *h = reuse;
  cleanup_free char *accept_line = NULL;
  char errbuf[CURL_ERROR_SIZE];
  struct body b = { r, max, false };
  CURLcode rc;

  if (ensure_global (err) < 0)
    return -1;
  registry_response_clear (r);
  if (h)
    curl_easy_reset (h);
  else
    h = own = curl_easy_init ();
  if (h == NULL || common_options (h, url, verify, errbuf) < 0)
    return skiff_error_make (err, ENOMEM, "set up request to `%s`", url);
  if (accept)
    {
      if (asprintf (&accept_line, "Accept: %s", accept) < 0 || (headers = curl_slist_append (headers, accept_line)) == NULL)
        return skiff_error_make (err, ENOMEM, "set up request to `%s`", url);
    }
  if (auth_header)
    {
      struct curl_slist *nl = curl_slist_append (headers, auth_header);
      if (nl == NULL)
        return skiff_error_make (err, ENOMEM, "set up request to `%s`", url);
      headers = nl;
    }
  if ((headers && curl_easy_setopt (h, CURLOPT_HTTPHEADER, headers) != CURLE_OK)
      || curl_easy_setopt (h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_HEADERDATA, r) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_WRITEDATA, &b) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L) != CURLE_OK
      || curl_easy_setopt (h, CURLOPT_MAXREDIRS, 10L) != CURLE_OK
      || (strcmp (method, "HEAD") == 0 && curl_easy_setopt (h, CURLOPT_NOBODY, 1L) != CURLE_OK))
    return skiff_error_make (err, ENOMEM, "set up request to `%s`", url);
  if (send)
    {
      /* POST, PUT and PATCH alike: an upload of a known length with the
         method's name.  */
      if ((send->content_type
           && (asprintf (&ct_line, "Content-Type: %s", send->content_type) < 0
               || (headers = curl_slist_append (headers, ct_line)) == NULL))
          || (send->extra_header && (headers = curl_slist_append (headers, send->extra_header)) == NULL)
          /* No "Expect: 100-continue" wait: the body follows at once.  */
          || (headers = curl_slist_append (headers, "Expect:")) == NULL
          || curl_easy_setopt (h, CURLOPT_HTTPHEADER, headers) != CURLE_OK
          || curl_easy_setopt (h, CURLOPT_UPLOAD, 1L) != CURLE_OK
          || curl_easy_setopt (h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK
          || curl_easy_setopt (h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) send->length) != CURLE_OK
          || curl_easy_setopt (h, CURLOPT_READFUNCTION, on_send) != CURLE_OK
          || curl_easy_setopt (h, CURLOPT_READDATA, &st) != CURLE_OK)
        return skiff_error_make (err, ENOMEM, "set up request to `%s`", url);
    }
  else if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0
           && curl_easy_setopt (h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
    return skiff_error_make (err, ENOMEM, "set up request to `%s`", url);
  if (username && (curl_easy_setopt (h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC) != CURLE_OK
                   || curl_easy_setopt (h, CURLOPT_USERNAME, username) != CURLE_OK
                   || curl_easy_setopt (h, CURLOPT_PASSWORD, password ? password : "") != CURLE_OK))
    return skiff_error_make (err, ENOMEM, "set up request to `%s`", url);
  rc = curl_easy_perform (h);
  /* errbuf and the callbacks' data live on this stack frame.  */
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, NULL);
  if (b.too_large)
    return skiff_error_make (err, 0, "%s \"%s\": response larger than %zu bytes", method_name (method), url, max),
           REGISTRY_ERR_REMOTE;
  if (st.read_failed)
    return skiff_error_make (err, errno ? errno : EIO, "%s \"%s\": read the data to send", method_name (method), url);
  if (rc != CURLE_OK)
    return transport_error (err, method, url, rc, errbuf);
  curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &r->status);
  return 0;
}

int
registry_http_get (const char *url, bool tls_verify, const char *username, const char *password, size_t max,
                   struct registry_response *r, skiff_error_t *err)
{
  return perform (NULL, "GET", url, tls_verify, "application/json", NULL, username, password, false, max, NULL, r, err);
}

/* ---- client ---- */

int
registry_client_new (const struct registry_endpoint *ep, const char *repo, const char *username,
                     const char *password, struct registry_client **out, skiff_error_t *err)
{
  cleanup_free struct registry_client *c = calloc (1, sizeof (*c));

  if (c == NULL)
    return skiff_error_make (err, ENOMEM, "registry client");
  if (ensure_global (err) < 0)
    return -1;
  c->ep = *ep;
  c->easy = curl_easy_init ();
  c->ep.url = strdup (ep->url);
  c->repo = strdup (repo);
  c->auth.plain_http_ok = strncmp (ep->url, "http://", 7) == 0;
  c->auth.tls_verify = ep->tls_verify;
  if (c->easy == NULL || c->ep.url == NULL || c->repo == NULL || asprintf (&c->auth.scope, "repository:%s:pull", repo) < 0
      || (username && (c->auth.username = strdup (username)) == NULL)
      || (password && (c->auth.password = strdup (password)) == NULL))
    {
      registry_client_free (steal_pointer (&c));
      return skiff_error_make (err, ENOMEM, "registry client");
    }
  *out = steal_pointer (&c);
  return 0;
}

void
registry_client_free (struct registry_client *c)
{
  if (c == NULL)
    return;
  if (c->easy)
    curl_easy_cleanup (c->easy);
  free (c->ep.url);
  free (c->repo);
  registry_auth_clear (&c->auth);
  free (c);
}

const char *
registry_client_url (struct registry_client *c)
{
  return c->ep.url;
}

int
registry_client_set_scope (struct registry_client *c, const char *scope, skiff_error_t *err)
{
  char *copy = strdup (scope);
  if (copy == NULL)
    return skiff_error_make (err, ENOMEM, "registry scope");
  free (c->auth.scope);
  c->auth.scope = copy;
  /* A token of the old scope would not do.  */
  if (c->auth.scheme == REGISTRY_AUTH_BEARER)
    {
      free (c->auth.header);
      c->auth.header = NULL;
    }
  return 0;
}

/* Maps an error answer to a status, with Docker's text in *err.  */
static int
classify (const struct registry_response *r, skiff_error_t *err)
{
  cleanup_free char *text = registry_error_text (r);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "registry error");
  skiff_error_make (err, 0, "%s", text);
  if (r->status == 401 || r->status == 403)
    return REGISTRY_ERR_DENIED;
  if (r->status == 404)
    return REGISTRY_ERR_NOT_FOUND;
  return REGISTRY_ERR_REMOTE;
}

int
registry_request (struct registry_client *c, const char *method, const char *path, const char *accept,
                  const struct registry_send *send, size_t max, struct registry_response *r, skiff_error_t *err)
{
  cleanup_free char *url = NULL;
  int attempt, ret;

  /* A Location of an upload may be absolute or a path.  */
  if (strncmp (path, "http://", 7) == 0 || strncmp (path, "https://", 8) == 0)
    url = strdup (path);
  else if (asprintf (&url, "%s%s", c->ep.url, path) < 0)
    url = NULL;
  if (url == NULL)
    return skiff_error_make (err, ENOMEM, "registry request");
  for (attempt = 0;; attempt++)
    {
      const char *auth = NULL;
      ret = registry_auth_header (&c->auth, &auth, err);
      /* Docker says "no basic auth credentials" alone; token failures
         name the request.  */
      if (ret < 0 && c->auth.scheme != REGISTRY_AUTH_BASIC)
        skiff_error_wrap (err, "%s \"%s\"", method_name (method), url);
      if (ret < 0)
        return ret;
      /* Uploads follow no redirect: the body would be lost.  */
      ret = perform (c->easy, method, url, c->ep.tls_verify, accept, auth, NULL, NULL, send == NULL, max, send, r, err);
      if (ret < 0)
        return ret;
      if (r->status != 401 || attempt > 0)
        break;
      ret = registry_auth_refresh (&c->auth, r->www_authenticate, err);
      if (ret < 0)
        return skiff_error_wrap (err, "%s \"%s\"", method_name (method), url), ret;
      if (ret == 0)
        break;
    }
  if (r->status >= 200 && r->status < 300)
    return 0;
  return classify (r, err);
}

int
registry_ping (struct registry_client *c, skiff_error_t *err)
{
  cleanup_free char *url = NULL;
  struct registry_response r = { 0 };
  int ret;

  if (asprintf (&url, "%s/v2/", c->ep.url) < 0)
    return skiff_error_make (err, ENOMEM, "ping registry");
  ret = perform (c->easy, "GET", url, c->ep.tls_verify, NULL, NULL, NULL, NULL, true, ERROR_BODY_MAX, NULL, &r, err);
  if (ret < 0)
    {
      registry_response_clear (&r);
      return ret;
    }
  if (r.status == 401 && r.www_authenticate)
    ret = registry_auth_challenge (&c->auth, r.www_authenticate, err);
  else if (r.status != 200)
    {
      cleanup_free char *text = registry_error_text (&r);
      skiff_error_make (err, 0, "Get \"%s\": %s", url, text ? text : "unexpected answer");
      ret = REGISTRY_ERR_REMOTE;
    }
  registry_response_clear (&r);
  return ret;
}

int
registry_get_manifest (struct registry_client *c, const char *reference, bool head, struct registry_response *r,
                       skiff_error_t *err)
{
  cleanup_free char *path = NULL;
  if (asprintf (&path, "/v2/%s/manifests/%s", c->repo, reference) < 0)
    return skiff_error_make (err, ENOMEM, "manifest request");
  return registry_request (c, head ? "HEAD" : "GET", path, MANIFEST_ACCEPT, NULL, MANIFEST_MAX, r, err);
}

int
registry_get_blob (struct registry_client *c, const char *digest, size_t max, struct registry_response *r,
                   skiff_error_t *err)
{
  cleanup_free char *path = NULL;
  if (asprintf (&path, "/v2/%s/blobs/%s", c->repo, digest) < 0)
    return skiff_error_make (err, ENOMEM, "blob request");
  return registry_request (c, "GET", path, NULL, NULL, max, r, err);
}

/* ---- blob transfers ---- */

static size_t
on_blob_data (char *buf, size_t size, size_t nitems, void *data)
{
  struct registry_blob *b = data;
  size_t len = size * nitems;

  if (b->mode == 0)
    {
      long status = 0;
      curl_easy_getinfo (b->h, CURLINFO_RESPONSE_CODE, &status);
      b->mode = 2;
      if (status == 200)
        b->mode = 1, b->pos = 0;
      else if (status == 206)
        {
          long long start = -1;
          /* "bytes START-END/TOTAL" must start where we asked.  */
          if (b->resp.content_range == NULL || sscanf (b->resp.content_range, "bytes %lld-", &start) != 1
              || start != b->offset)
            {
              b->bad_range = true;
              return 0;
            }
          b->mode = 1, b->pos = b->offset;
        }
    }
  if (b->mode == 2)
    {
      /* Error bodies are only read for their message.  */
      struct body eb = { &b->resp, ERROR_BODY_MAX, false };
      size_t n = on_body (buf, size, nitems, &eb);
      return eb.too_large ? 0 : n;
    }
  if (b->sink (b->data, b->pos, buf, len) < 0)
    {
      b->sink_failed = true;
      return 0;
    }
  b->pos += len;
  return len;
}

int
registry_blob_new (struct registry_client *c, const char *digest, int64_t offset, registry_sink_fn sink, void *data,
                   struct registry_blob **out, skiff_error_t *err)
{
  struct registry_blob *b = calloc (1, sizeof (*b));
  cleanup_free char *range = NULL;
  const char *auth = NULL;
  int ret;

  if (b == NULL)
    return skiff_error_make (err, ENOMEM, "blob request");
  *out = b;
  if (ensure_global (err) < 0)
    return -1;
  b->c = c;
  b->sink = sink;
  b->data = data;
  b->offset = offset;
  if (asprintf (&b->url, "%s/v2/%s/blobs/%s", c->ep.url, c->repo, digest) < 0)
    {
      b->url = NULL;
      return skiff_error_make (err, ENOMEM, "blob request");
    }
  ret = registry_auth_header (&c->auth, &auth, err);
  if (ret < 0)
    return skiff_error_wrap (err, "Get \"%s\"", b->url), ret;
  b->h = curl_easy_init ();
  if (b->h == NULL || common_options (b->h, b->url, c->ep.tls_verify, b->errbuf) < 0)
    return skiff_error_make (err, ENOMEM, "blob request");
  /* Blobs may live elsewhere (a CDN): curl sends our Authorization
     header to the registry's host only.  */
  if ((auth && (b->headers = curl_slist_append (b->headers, auth)) == NULL)
      || (offset > 0
          && (asprintf (&range, "Range: bytes=%lld-", (long long) offset) < 0
              || (b->headers = curl_slist_append (b->headers, range)) == NULL)))
    return skiff_error_make (err, ENOMEM, "blob request");
  if ((b->headers && curl_easy_setopt (b->h, CURLOPT_HTTPHEADER, b->headers) != CURLE_OK)
      || curl_easy_setopt (b->h, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK
      || curl_easy_setopt (b->h, CURLOPT_MAXREDIRS, 10L) != CURLE_OK
      || curl_easy_setopt (b->h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK
      || curl_easy_setopt (b->h, CURLOPT_HEADERDATA, &b->resp) != CURLE_OK
      || curl_easy_setopt (b->h, CURLOPT_WRITEFUNCTION, on_blob_data) != CURLE_OK
      || curl_easy_setopt (b->h, CURLOPT_WRITEDATA, b) != CURLE_OK
      || curl_easy_setopt (b->h, CURLOPT_PRIVATE, b) != CURLE_OK)
    return skiff_error_make (err, ENOMEM, "blob request");
  return 0;
}

CURL *
registry_blob_handle (struct registry_blob *b)
{
  return b->h;
}

int
registry_blob_done (struct registry_blob *b, CURLcode result, skiff_error_t *err)
{
  long status = 0;
  int ret;

  if (b->sink_failed)
    return skiff_error_make (err, 0, "Get \"%s\": writing the blob failed", b->url);
  if (b->bad_range)
    return skiff_error_make (err, 0, "Get \"%s\": answer to `Range: bytes=%lld-` has Content-Range `%s`", b->url,
                             (long long) b->offset, b->resp.content_range ? b->resp.content_range : ""),
           REGISTRY_ERR_REMOTE;
  curl_easy_getinfo (b->h, CURLINFO_RESPONSE_CODE, &status);
  b->resp.status = status;
  if (result != CURLE_OK && b->mode != 2)
    {
      transport_error (err, "GET", b->url, result, b->errbuf);
      return REGISTRY_RETRY;
    }
  if (status == 200 || status == 206)
    return 0;
  if (status == 401)
    {
      ret = registry_auth_refresh (&b->c->auth, b->resp.www_authenticate, err);
      if (ret < 0)
        return skiff_error_wrap (err, "Get \"%s\"", b->url), ret;
      if (ret > 0)
        {
          skiff_error_make (err, 0, "Get \"%s\": token expired", b->url);
          return REGISTRY_RETRY;
        }
    }
  ret = classify (&b->resp, err);
  skiff_error_wrap (err, "Get \"%s\"", b->url);
  if (status >= 500 || status == 429)
    return REGISTRY_RETRY;
  return ret;
}

void
registry_blob_free (struct registry_blob *b)
{
  if (b == NULL)
    return;
  if (b->h)
    curl_easy_cleanup (b->h);
  if (b->headers)
    curl_slist_free_all (b->headers);
  free (b->url);
  registry_response_clear (&b->resp);
  free (b);
}
