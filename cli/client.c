/* libcurl over the daemon's unix socket.  */
#include "client.h"
#include "cleanup.h"
#include "json.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
client_init (struct skiff_client *c, const char *host, skiff_error_t *err)
{
  const char *path;
  static bool global_done;

  memset (c, 0, sizeof (*c));
  if (strncmp (host, "unix://", 7) == 0)
    path = host + 7;
  else if (host[0] == '/')
    path = host;
  else
    return skiff_error_make (err, 0, "unable to parse skiff host `%s`: only unix:// sockets are supported", host);
  if (path[0] != '/')
    return skiff_error_make (err, 0, "unable to parse skiff host `%s`: the socket path must be absolute", host);
  if (!global_done)
    {
      if (curl_global_init (CURL_GLOBAL_NOTHING) != CURLE_OK)
        return skiff_error_make (err, 0, "initialise libcurl");
      global_done = true;
    }
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
  if (c->curl)
    curl_easy_cleanup (c->curl);
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

struct sink
{
  struct client_response *r;
  client_data_fn fn;
  void *opaque;
  CURL *curl;
  bool failed;  /* the callback asked to stop */
};

static size_t
write_cb (char *data, size_t size, size_t nmemb, void *userdata)
{
  struct sink *s = userdata;
  size_t n = size * nmemb;
  long status = 0;

  curl_easy_getinfo (s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (s->fn && status < 400)
    {
      if (s->fn (data, n, s->opaque) < 0)
        {
          s->failed = true;
          return 0;
        }
      return n;
    }
  {
    char *b = realloc (s->r->body, s->r->len + n + 1);
    if (b == NULL)
      return 0;
    memcpy (b + s->r->len, data, n);
    s->r->body = b;
    s->r->len += n;
    b[s->r->len] = '\0';
  }
  return n;
}

static size_t
read_fd_cb (char *buf, size_t size, size_t nmemb, void *userdata)
{
  int fd = *(int *) userdata;
  ssize_t n;
  do
    n = read (fd, buf, size * nmemb);
  while (n < 0 && errno == EINTR);
  return n < 0 ? CURL_READFUNC_ABORT : (size_t) n;
}

static int
perform (struct skiff_client *c, const char *method, const char *path, const char *content_type,
         const void *body, size_t body_len, int body_fd, struct sink *sink, skiff_error_t *err)
{
  struct curl_slist *headers = NULL;
  cleanup_free char *url = NULL;
  cleanup_free char *ct = NULL;
  cleanup_free char *auth = NULL;
  CURLcode rc;
  CURL *curl;

  if (c->curl == NULL && (c->curl = curl_easy_init ()) == NULL)
    return skiff_error_make (err, 0, "initialise libcurl");
  curl = c->curl;
  curl_easy_reset (curl);
  sink->curl = curl;
  if (asprintf (&url, "http://localhost/v" SKIFF_API_VERSION "%s", path) < 0)
    return skiff_error_make (err, ENOMEM, "request");
  curl_easy_setopt (curl, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_USERAGENT, "skiff-cli/" SKIFF_API_VERSION);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  headers = curl_slist_append (headers, "Expect:");
  if (content_type && asprintf (&ct, "Content-Type: %s", content_type) >= 0)
    headers = curl_slist_append (headers, ct);
  if (c->registry_auth && asprintf (&auth, "X-Registry-Auth: %s", c->registry_auth) >= 0)
    headers = curl_slist_append (headers, auth);
  if (strcmp (method, "HEAD") == 0)
    curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
  else if (strcmp (method, "GET") != 0)
    {
      curl_easy_setopt (curl, CURLOPT_POST, 1L);
      if (body_fd >= 0)
        {
          struct stat st;
          curl_easy_setopt (curl, CURLOPT_READFUNCTION, read_fd_cb);
          curl_easy_setopt (curl, CURLOPT_READDATA, &body_fd);
          if (fstat (body_fd, &st) == 0 && S_ISREG (st.st_mode))
            curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) st.st_size);
          else
            headers = curl_slist_append (headers, "Transfer-Encoding: chunked");
        }
      else
        {
          curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body ? body : "");
          curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (body ? body_len : 0));
        }
      if (strcmp (method, "POST") != 0)
        curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    }
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  rc = curl_easy_perform (curl);
  curl_slist_free_all (headers);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &sink->r->status);
  if (rc == CURLE_COULDNT_CONNECT)
    return client_connect_error (c, err);
  if (rc == CURLE_WRITE_ERROR && sink->failed)
    return skiff_error_make (err, errno, "write output");
  if (rc != CURLE_OK)
    return skiff_error_make (err, 0, "%s %s: %s", method, path, curl_easy_strerror (rc));
  return 0;
}

int
client_do (struct skiff_client *c, const char *method, const char *path, const char *content_type,
           const void *body, size_t body_len, struct client_response *r, skiff_error_t *err)
{
  struct sink sink = { .r = r };
  memset (r, 0, sizeof (*r));
  if (perform (c, method, path, content_type, body, body_len, -1, &sink, err) < 0)
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
  struct sink sink = { .r = &r, .fn = fn, .opaque = opaque };
  int ret;

  ret = perform (c, method, path, content_type, NULL, 0, body_fd, &sink, err);
  if (ret == 0 && r.status >= 400)
    ret = client_error_from_response (&r, err);
  client_response_release (&r);
  return ret;
}
