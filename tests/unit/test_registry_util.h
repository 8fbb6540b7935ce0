/* A real registry for the image tests: Debian's docker-registry started by
   tests/lib/registry.bash on loopback, plus in-process helpers: a relaying
   proxy that logs requests, cuts transfers or plays a mirror without the
   image, and an RS256 token server for `auth: token` that grants what it
   is asked for to USER:PASS.  Static functions, included by
   tests/unit/test_image_pull.c and test_image_push.c after cmocka.h.

   Proxies and token servers started here are tracked, so that a test's
   teardown stops them with tr_stop_all () even after a failed assertion.  */
#ifndef SKIFF_TEST_REGISTRY_UTIL_H
#define SKIFF_TEST_REGISTRY_UTIL_H

/* Each test program uses a part of these.  */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "store.h"
#include "store_internal.h"

#ifndef SKIFF_SRCDIR
#define SKIFF_SRCDIR "."
#endif

#define USER "tester"
#define PASS "s3cret"
#define TOKEN_SERVICE "skiff-test-registry"
#define TOKEN_ISSUER "skiff-test-issuer"
#define CUT_BYTES 100000

struct proxy;
struct token_server;
static void proxy_stop (struct proxy *px);
static void token_stop (struct token_server *ts);

#define TR_MAX_PROXIES 4
static struct
{
  struct proxy *px[TR_MAX_PROXIES];
  struct token_server *ts;
} tr_live;

/* Puts to in the first slot holding from (NULL: a free slot).  */
static void
tr_slot (struct proxy **slots, size_t n, struct proxy *from, struct proxy *to)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (slots[i] == from)
      {
        slots[i] = to;
        return;
      }
}

/* Stops every proxy and token server still running.  */
static void
tr_stop_all (void)
{
  size_t i;
  for (i = 0; i < TR_MAX_PROXIES; i++)
    if (tr_live.px[i])
      proxy_stop (tr_live.px[i]);
  if (tr_live.ts)
    token_stop (tr_live.ts);
}

/* ---- shell ---- */

static char *
lib (const char *name)
{
  const char *src = getenv ("SKIFF_SRCDIR") ? getenv ("SKIFF_SRCDIR") : SKIFF_SRCDIR;
  char *p = NULL;
  if (asprintf (&p, "%s/tests/lib/%s", src, name) < 0)
    fail_msg ("asprintf");
  return p;
}

static char *
tr_vformat (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    fail_msg ("vasprintf");
  return s;
}

static int __attribute__ ((format (printf, 1, 2)))
sh (const char *fmt, ...)
{
  cleanup_free char *cmd = NULL;
  va_list ap;
  int st;
  va_start (ap, fmt);
  cmd = tr_vformat (fmt, ap);
  va_end (ap);
  st = system (cmd);
  return WIFEXITED (st) ? WEXITSTATUS (st) : 128;
}

/* stdout of a command, trailing newline removed; fails the test when the
   command fails.  */
static char *__attribute__ ((format (printf, 1, 2)))
sh_out (const char *fmt, ...)
{
  cleanup_free char *cmd = NULL;
  char *out = NULL;
  size_t len = 0, n;
  char buf[4096];
  FILE *f;
  va_list ap;
  int st;

  va_start (ap, fmt);
  cmd = tr_vformat (fmt, ap);
  va_end (ap);
  f = popen (cmd, "r");
  assert_non_null (f);
  while ((n = fread (buf, 1, sizeof (buf), f)) > 0)
    {
      out = realloc (out, len + n + 1);
      memcpy (out + len, buf, n);
      len += n;
    }
  st = pclose (f);
  if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
    fail_msg ("command failed: %s", cmd);
  if (out == NULL)
    out = strdup ("");
  out[len] = '\0';
  while (len > 0 && out[len - 1] == '\n')
    out[--len] = '\0';
  return out;
}

/* ---- registries ---- */

struct registry
{
  char *dir;
  pid_t pid;
  int port;
  char addr[32];
};

static void
registry_up (struct registry *r, const char *dir, const char *storage, const char *mode)
{
  cleanup_free char *script = lib ("registry.bash");
  cleanup_free char *out = NULL;
  r->dir = strdup (dir);
  out = sh_out ("mkdir -p '%s' && SKIFF_REGISTRY_STORAGE='%s' bash '%s' start '%s' %s", dir, storage ? storage : "", script,
                dir, mode);
  if (sscanf (out, "%d %d", &r->pid, &r->port) != 2)
    fail_msg ("registry.bash start: %s", out);
  snprintf (r->addr, sizeof (r->addr), "127.0.0.1:%d", r->port);
}

static void
registry_down (struct registry *r)
{
  cleanup_free char *script = lib ("registry.bash");
  if (r->dir == NULL)
    return;
  if (sh ("bash '%s' stop '%s'", script, r->dir) != 0)
    fprintf (stderr, "registry.bash stop %s failed\n", r->dir);
  free (r->dir);
  memset (r, 0, sizeof (*r));
}

/* "sha256:<hex>" of a string.  */
static char *
sha256_text (const char *text)
{
  char hex[65];
  char *out = NULL;
  skiff_error_t err = NULL;
  if (store_sha256_hex (text, strlen (text), hex, &err) < 0 || asprintf (&out, "sha256:%s", hex) < 0)
    fail_msg ("sha256");
  return out;
}

/* Whether the registry tests can run here.  */
static bool
tools_available (void)
{
  cleanup_free char *script = lib ("registry.bash");
  return sh ("bash '%s' available", script) == 0 && sh ("command -v htpasswd openssl tar >/dev/null") == 0
         && (fs_exists ("/bin/busybox") || fs_exists ("/usr/bin/busybox"));
}

/* The image id of name in s, NULL when it has none.  */
static char *
tr_resolve (struct image_store *s, const char *name)
{
  char *id = NULL;
  skiff_error_t err = NULL;
  if (image_resolve (s, name, &id, &err) < 0)
    {
      skiff_error_release (&err);
      return NULL;
    }
  return id;
}

/* ---- HTTP from the test ---- */

struct buf
{
  char *p;
  size_t n;
};

static size_t
buf_write (char *data, size_t size, size_t nitems, void *arg)
{
  struct buf *b = arg;
  b->p = realloc (b->p, b->n + size * nitems + 1);
  memcpy (b->p + b->n, data, size * nitems);
  b->n += size * nitems;
  b->p[b->n] = '\0';
  return size * nitems;
}

static char *
http_get (const char *url, const char *accept)
{
  CURL *h = curl_easy_init ();
  struct curl_slist *hdr = NULL;
  struct buf b = { strdup (""), 0 };
  char *line = NULL;
  long status = 0;
  if (asprintf (&line, "Accept: %s", accept) < 0)
    fail_msg ("asprintf");
  hdr = curl_slist_append (hdr, line);
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, buf_write);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt (h, CURLOPT_NOPROXY, "*");
  if (curl_easy_perform (h) != CURLE_OK)
    fail_msg ("GET %s", url);
  curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200)
    fail_msg ("GET %s: %ld %s", url, status, b.p);
  curl_slist_free_all (hdr);
  curl_easy_cleanup (h);
  free (line);
  return b.p;
}

/* ---- an in-process relay in front of the registry ---- */

/* Accepts connections on fd and hands each to one (arg, fd) until stop
   is readable.  */
static void
tr_serve (int fd, int stop, void (*one) (void *, int), void *arg)
{
  for (;;)
    {
      struct pollfd p[2] = { { fd, POLLIN, 0 }, { stop, POLLIN, 0 } };
      int c;
      if (poll (p, 2, -1) < 0 && errno != EINTR)
        break;
      if (p[1].revents)
        break;
      if (!(p[0].revents & POLLIN))
        continue;
      c = accept4 (fd, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        continue;
      one (arg, c);
      close (c);
    }
}

struct logged
{
  char method[8];
  char path[512];
  char range[64];
  long long body; /* bytes of body relayed */
};

struct proxy
{
  int fd;
  int port;
  int upstream;
  int stop[2];
  pthread_t thread;
  pthread_mutex_t lock;
  /* rules */
  char cut_path[128];
  int cuts_left;
  bool fail_manifests;
  bool redirect_blobs; /* 307 to the registry itself, as to a CDN */
  /* log */
  struct logged log[512];
  size_t n;
};

static int
listen_loopback (int *port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof (a);
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (fd >= 0);
  assert_int_equal (bind (fd, (struct sockaddr *) &a, sizeof (a)), 0);
  assert_int_equal (listen (fd, 64), 0);
  assert_int_equal (getsockname (fd, (struct sockaddr *) &a, &len), 0);
  *port = ntohs (a.sin_port);
  return fd;
}

static int
connect_loopback (int port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port),
                           .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (struct sockaddr *) &a, sizeof (a)) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static void
set_timeouts (int fd)
{
  struct timeval tv = { 20, 0 };
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv));
}

static bool
send_all (int fd, const char *p, size_t n)
{
  while (n > 0)
    {
      ssize_t w = send (fd, p, n, MSG_NOSIGNAL);
      if (w <= 0)
        return false;
      p += w, n -= w;
    }
  return true;
}

/* Reads up to the end of the head; *total: bytes read, head and more.  */
static ssize_t
read_head (int fd, char *buf, size_t size, size_t *total)
{
  size_t n = 0;
  while (n < size - 1)
    {
      ssize_t r = recv (fd, buf + n, size - 1 - n, 0);
      char *end;
      if (r <= 0)
        return -1;
      n += r;
      buf[n] = '\0';
      /* A TLS ClientHello (the https attempt at an insecure registry):
         answer as Go's HTTP server does, at once.  */
      if ((unsigned char) buf[0] == 0x16)
        {
          static const char no_tls[] = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
          send_all (fd, no_tls, strlen (no_tls));
          return -1;
        }
      end = strstr (buf, "\r\n\r\n");
      if (end)
        {
          *total = n;
          return end + 4 - buf;
        }
    }
  return -1;
}

/* The head without Connection/Keep-Alive lines, plus "Connection: close".  */
static char *
rewrite_head (const char *head, size_t len)
{
  char *out = malloc (len + 32), *o = out;
  const char *p = head, *end = head + len - 2; /* before the final CRLF */
  while (p < end)
    {
      const char *eol = strstr (p, "\r\n");
      size_t l = eol - p + 2;
      if (strncasecmp (p, "Connection:", 11) != 0 && strncasecmp (p, "Keep-Alive:", 11) != 0)
        {
          memcpy (o, p, l);
          o += l;
        }
      p = eol + 2;
    }
  strcpy (o, "Connection: close\r\n\r\n");
  return out;
}

/* Adds n to the body count of log entry k before the bytes go out, so
   that a client that has them sees them counted.  */
static void
proxy_count_body (struct proxy *px, size_t k, size_t n)
{
  pthread_mutex_lock (&px->lock);
  if (k < px->n)
    px->log[k].body += n;
  pthread_mutex_unlock (&px->lock);
}

static void
proxy_one (struct proxy *px, int client)
{
  char req[16384], resp[16384];
  size_t total = 0, rtotal = 0, k;
  ssize_t head_len, rhead;
  struct logged lg = { 0 };
  cleanup_free char *up_head = NULL;
  cleanup_free char *down_head = NULL;
  long long limit = -1, sent = 0;
  bool fail_manifest, redirect;
  const char *range;
  char head[1024];
  int up;

  set_timeouts (client);
  head_len = read_head (client, req, sizeof (req), &total);
  if (head_len < 0)
    return;
  sscanf (req, "%7s %511s", lg.method, lg.path);
  range = strcasestr (req, "\r\nRange:");
  if (range)
    sscanf (range + 8, " %63[^\r]", lg.range);
  /* Logged before it is answered: a client that got an answer sees its
     request in the log.  */
  pthread_mutex_lock (&px->lock);
  k = px->n;
  if (px->n < sizeof (px->log) / sizeof (px->log[0]))
    px->log[px->n++] = lg;
  fail_manifest = px->fail_manifests && strstr (lg.path, "/manifests/");
  redirect = px->redirect_blobs && strstr (lg.path, "/blobs/") && strcmp (lg.method, "GET") == 0;
  if (px->cut_path[0] && strstr (lg.path, px->cut_path) && strcmp (lg.method, "GET") == 0 && px->cuts_left > 0)
    {
      px->cuts_left--;
      limit = CUT_BYTES;
    }
  pthread_mutex_unlock (&px->lock);
  if (fail_manifest)
    {
      static const char body[] = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}";
      snprintf (head, sizeof (head),
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                "Connection: close\r\n\r\n",
                strlen (body));
      send_all (client, head, strlen (head));
      if (strcmp (lg.method, "HEAD") != 0)
        send_all (client, body, strlen (body));
      return;
    }
  if (redirect)
    {
      snprintf (head, sizeof (head),
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d%s\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n",
                px->upstream, lg.path);
      send_all (client, head, strlen (head));
      return;
    }
  up = connect_loopback (px->upstream);
  if (up < 0)
    return;
  set_timeouts (up);
  up_head = rewrite_head (req, head_len);
  if (!send_all (up, up_head, strlen (up_head)))
    goto out;
  /* The request body (uploads), by its Content-Length.  */
  {
    const char *cl = strcasestr (req, "\r\nContent-Length:");
    long long want = cl ? atoll (cl + 17) : 0, have = (long long) total - head_len;
    char buf[65536];
    if (have > 0 && !send_all (up, req + head_len, have))
      goto out;
    while (have < want)
      {
        ssize_t r = recv (client, buf, sizeof (buf), 0);
        if (r <= 0 || !send_all (up, buf, r))
          goto out;
        have += r;
      }
  }
  rhead = read_head (up, resp, sizeof (resp), &rtotal);
  if (rhead < 0)
    goto out;
  down_head = rewrite_head (resp, rhead);
  if (!send_all (client, down_head, strlen (down_head)))
    goto out;
  {
    char buf[65536];
    size_t have = rtotal - rhead;
    memcpy (buf, resp + rhead, have);
    for (;;)
      {
        size_t n = have;
        ssize_t r;
        if (limit >= 0 && sent + (long long) n > limit)
          n = limit - sent;
        proxy_count_body (px, k, n);
        if (n > 0 && !send_all (client, buf, n))
          break;
        sent += n;
        if (limit >= 0 && sent >= limit)
          break;
        r = recv (up, buf, sizeof (buf), 0);
        if (r <= 0)
          break;
        have = r;
      }
  }
out:
  close (up);
}

struct tr_serve_args
{
  int fd, stop;
  void (*one) (void *, int);
  void *arg;
};

static void *
tr_serve_main (void *p)
{
  struct tr_serve_args a = *(struct tr_serve_args *) p;
  free (p);
  tr_serve (a.fd, a.stop, a.one, a.arg);
  return NULL;
}

/* A loopback listener whose connections a thread hands to one (arg, fd)
   until tr_server_stop.  */
static void
tr_server_start (int *fd, int *port, int stop[2], pthread_mutex_t *lock, pthread_t *thread, void (*one) (void *, int),
                 void *arg)
{
  struct tr_serve_args *a = malloc (sizeof (*a));
  assert_non_null (a);
  *fd = listen_loopback (port);
  pthread_mutex_init (lock, NULL);
  assert_int_equal (pipe2 (stop, O_CLOEXEC), 0);
  *a = (struct tr_serve_args){ *fd, stop[0], one, arg };
  assert_int_equal (pthread_create (thread, NULL, tr_serve_main, a), 0);
}

static void
tr_server_stop (int fd, int stop[2], pthread_mutex_t *lock, pthread_t thread)
{
  assert_int_equal (write (stop[1], "x", 1), 1);
  pthread_join (thread, NULL);
  close (fd);
  close (stop[0]);
  close (stop[1]);
  pthread_mutex_destroy (lock);
}

static struct proxy *
proxy_start (int upstream)
{
  struct proxy *px = calloc (1, sizeof (*px));
  px->upstream = upstream;
  tr_server_start (&px->fd, &px->port, px->stop, &px->lock, &px->thread, (void (*) (void *, int)) proxy_one, px);
  tr_slot (tr_live.px, TR_MAX_PROXIES, NULL, px);
  return px;
}

static void
proxy_stop (struct proxy *px)
{
  tr_slot (tr_live.px, TR_MAX_PROXIES, px, NULL);
  tr_server_stop (px->fd, px->stop, &px->lock, px->thread);
  free (px);
}

static void
proxy_rules (struct proxy *px, const char *cut_path, int cuts, bool fail_manifests, bool redirect_blobs)
{
  pthread_mutex_lock (&px->lock);
  snprintf (px->cut_path, sizeof (px->cut_path), "%s", cut_path ? cut_path : "");
  px->cuts_left = cuts;
  px->fail_manifests = fail_manifests;
  px->redirect_blobs = redirect_blobs;
  pthread_mutex_unlock (&px->lock);
}

/* A copy of the log (malloc'd), *n entries.  */
static struct logged *
proxy_log (struct proxy *px, size_t *n)
{
  struct logged *copy;
  pthread_mutex_lock (&px->lock);
  *n = px->n;
  copy = calloc (px->n + 1, sizeof (*copy));
  memcpy (copy, px->log, px->n * sizeof (*copy));
  pthread_mutex_unlock (&px->lock);
  return copy;
}

static size_t
proxy_count (struct proxy *px, const char *method, const char *path_part)
{
  size_t i, k = 0;
  pthread_mutex_lock (&px->lock);
  for (i = 0; i < px->n; i++)
    if ((method == NULL || strcmp (px->log[i].method, method) == 0) && strstr (px->log[i].path, path_part))
      k++;
  pthread_mutex_unlock (&px->lock);
  return k;
}

static void
proxy_reset_log (struct proxy *px)
{
  pthread_mutex_lock (&px->lock);
  px->n = 0;
  pthread_mutex_unlock (&px->lock);
}

static int
dead_port (void)
{
  int port, fd = listen_loopback (&port);
  close (fd);
  return port;
}

/* ---- an RS256 token server for `auth: token` ---- */

struct token_server
{
  int fd;
  int port;
  int stop[2];
  pthread_t thread;
  pthread_mutex_t lock;
  EVP_PKEY *key;
  char *x5c; /* base64 DER of the certificate */
  int requests;
  int with_creds;
  int bad_next; /* that many tokens grant nothing */
  char last_path[4096];
};

static char *
b64 (const unsigned char *in, size_t n, bool url)
{
  char *out = malloc (4 * ((n + 2) / 3) + 1), *p;
  EVP_EncodeBlock ((unsigned char *) out, in, n);
  if (!url)
    return out;
  for (p = out; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  while (p > out && p[-1] == '=')
    *--p = '\0';
  return out;
}

static char *
make_jwt (struct token_server *ts, const char *sub, const char *access)
{
  cleanup_free char *header = NULL;
  cleanup_free char *claims = NULL;
  cleanup_free char *h64 = NULL;
  cleanup_free char *c64 = NULL;
  cleanup_free char *input = NULL;
  cleanup_free char *s64 = NULL;
  unsigned char sig[1024];
  size_t siglen = sizeof (sig);
  EVP_MD_CTX *md = EVP_MD_CTX_new ();
  long now = time (NULL);
  char *jwt = NULL;

  if (asprintf (&header, "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5c\":[\"%s\"]}", ts->x5c) < 0
      || asprintf (&claims,
                   "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%ld,\"nbf\":%ld,\"iat\":%ld,"
                   "\"jti\":\"skiff-%d\",\"access\":[%s]}",
                   TOKEN_ISSUER, sub, TOKEN_SERVICE, now + 300, now - 60, now - 60, ts->requests, access)
             < 0)
    fail_msg ("asprintf");
  h64 = b64 ((unsigned char *) header, strlen (header), true);
  c64 = b64 ((unsigned char *) claims, strlen (claims), true);
  if (asprintf (&input, "%s.%s", h64, c64) < 0)
    fail_msg ("asprintf");
  if (EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, ts->key) != 1
      || EVP_DigestSign (md, sig, &siglen, (unsigned char *) input, strlen (input)) != 1)
    fail_msg ("sign token");
  EVP_MD_CTX_free (md);
  s64 = b64 (sig, siglen, true);
  if (asprintf (&jwt, "%s.%s", input, s64) < 0)
    fail_msg ("asprintf");
  return jwt;
}

static void
token_reply (int fd, int status, const char *body)
{
  char head[256];
  snprintf (head, sizeof (head), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n", status, status == 200 ? "OK" : "Unauthorized", strlen (body));
  send_all (fd, head, strlen (head));
  send_all (fd, body, strlen (body));
}

static void
token_one (struct token_server *ts, int fd)
{
  char req[16384], path[4096] = "", creds[512] = "";
  size_t total = 0;
  cleanup_free char *jwt = NULL;
  cleanup_free char *body = NULL;
  cleanup_free char *access = NULL;
  char *scope = NULL, *auth, *q;
  bool authed = false, bad;

  set_timeouts (fd);
  if (read_head (fd, req, sizeof (req), &total) < 0)
    return;
  sscanf (req, "%*s %4095s", path);
  auth = strcasestr (req, "\r\nAuthorization: Basic ");
  if (auth)
    {
      char b64creds[512] = "";
      unsigned char dec[512] = "";
      int n;
      sscanf (auth + 23, "%511[^\r]", b64creds);
      n = EVP_DecodeBlock (dec, (unsigned char *) b64creds, strlen (b64creds));
      if (n > 0)
        snprintf (creds, sizeof (creds), "%.*s", n, dec);
      /* EVP_DecodeBlock keeps the padding's zero bytes.  */
      if (strcmp (creds, USER ":" PASS) != 0)
        {
          token_reply (fd, 401, "{\"details\":\"incorrect username or password\"}");
          return;
        }
      authed = true;
    }
  pthread_mutex_lock (&ts->lock);
  ts->requests++;
  ts->with_creds += authed;
  bad = ts->bad_next > 0;
  if (bad)
    ts->bad_next--;
  snprintf (ts->last_path, sizeof (ts->last_path), "%s", path);
  pthread_mutex_unlock (&ts->lock);
  /* Every scope asked for ("repository:NAME:pull,push"), granted as asked
     to USER:PASS.  */
  access = strdup ("");
  for (q = strstr (path, "scope="); authed && !bad && q; q = strstr (q + 6, "scope="))
    {
      size_t n = strcspn (q + 6, "&");
      int outlen = 0;
      char *colon, *actions = NULL, *a, *next = NULL;
      scope = curl_easy_unescape (NULL, q + 6, n, &outlen);
      colon = scope ? strrchr (scope, ':') : NULL;
      if (scope && strncmp (scope, "repository:", 11) == 0 && colon > scope + 11)
        {
          actions = strdup ("");
          for (a = strtok (colon + 1, ","); a; a = strtok (NULL, ","))
            {
              char *more = NULL;
              if (asprintf (&more, "%s%s\"%s\"", actions, *actions ? "," : "", a) < 0)
                fail_msg ("asprintf");
              free (actions);
              actions = more;
            }
          if (asprintf (&next, "%s%s{\"type\":\"repository\",\"name\":\"%.*s\",\"actions\":[%s]}", access,
                        *access ? "," : "", (int) (colon - scope - 11), scope + 11, actions)
              < 0)
            fail_msg ("asprintf");
          free (access);
          access = next;
          free (actions);
        }
      curl_free (scope);
      scope = NULL;
    }
  jwt = make_jwt (ts, authed ? USER : "", access ? access : "");
  if (asprintf (&body, "{\"token\":\"%s\",\"access_token\":\"%s\",\"expires_in\":300}", jwt, jwt) < 0)
    fail_msg ("asprintf");
  token_reply (fd, 200, body);
}

static struct token_server *
token_start (const char *dir)
{
  struct token_server *ts = calloc (1, sizeof (*ts));
  cleanup_free char *script = lib ("registry.bash");
  cleanup_free char *keyp = tu_path (dir, "token.key");
  cleanup_free char *crtp = tu_path (dir, "token.crt");
  unsigned char *der = NULL;
  X509 *cert;
  FILE *f;
  int n;

  if (sh ("bash '%s' token-cert '%s'", script, dir) != 0)
    fail_msg ("token-cert failed");
  f = fopen (keyp, "r");
  assert_non_null (f);
  ts->key = PEM_read_PrivateKey (f, NULL, NULL, NULL);
  fclose (f);
  f = fopen (crtp, "r");
  assert_non_null (f);
  cert = PEM_read_X509 (f, NULL, NULL, NULL);
  fclose (f);
  assert_non_null (ts->key);
  assert_non_null (cert);
  n = i2d_X509 (cert, &der);
  assert_true (n > 0);
  ts->x5c = b64 (der, n, false);
  OPENSSL_free (der);
  X509_free (cert);
  tr_server_start (&ts->fd, &ts->port, ts->stop, &ts->lock, &ts->thread, (void (*) (void *, int)) token_one, ts);
  tr_live.ts = ts;
  return ts;
}

static void
token_stop (struct token_server *ts)
{
  if (tr_live.ts == ts)
    tr_live.ts = NULL;
  tr_server_stop (ts->fd, ts->stop, &ts->lock, ts->thread);
  EVP_PKEY_free (ts->key);
  free (ts->x5c);
  free (ts);
}


#endif
