/* Registry authentication: the WWW-Authenticate challenge, Basic
   credentials, and Bearer tokens from the challenge's realm
   (GET realm?service=...&scope=repository:NAME:pull, with the credentials
   as Basic auth when there are any), reused until they expire or the
   registry refuses them.  */
#include "registry.h"
#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_RESPONSE_MAX (1024 * 1024)
/* The distribution spec's default and minimum lifetime.  */
#define TOKEN_MIN_LIFETIME 60

struct challenge
{
  char *scheme;
  char *realm;
  char *service;
};

static void
challenge_clear (struct challenge *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
}

/* Reads a token or a quoted-string at *p into a malloc'd string.  */
static char *
read_value (const char **p)
{
  const char *s = *p;
  char *out, *o;

  if (*s != '"')
    {
      size_t n = strcspn (s, ", \t");
      *p = s + n;
      return strndup (s, n);
    }
  s++;
  out = o = malloc (strlen (s) + 1);
  if (out == NULL)
    return NULL;
  while (*s && *s != '"')
    {
      if (*s == '\\' && s[1])
        s++;
      *o++ = *s++;
    }
  *o = '\0';
  *p = *s == '"' ? s + 1 : s;
  return out;
}

/* `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`.  */
static int
parse_challenge (const char *v, struct challenge *c, skiff_error_t *err)
{
  const char *p = v;
  size_t n;

  memset (c, 0, sizeof (*c));
  p += strspn (p, " \t");
  n = strcspn (p, " \t");
  c->scheme = strndup (p, n);
  if (c->scheme == NULL)
    return skiff_error_make (err, ENOMEM, "parse WWW-Authenticate");
  p += n;
  while (*p)
    {
      cleanup_free char *key = NULL;
      char *value;
      p += strspn (p, " \t,");
      n = strcspn (p, "= \t,");
      if (n == 0 || p[n] != '=')
        {
          p += n;
          continue;
        }
      key = strndup (p, n);
      p += n + 1;
      value = read_value (&p);
      if (key == NULL || value == NULL)
        {
          free (value);
          challenge_clear (c);
          return skiff_error_make (err, ENOMEM, "parse WWW-Authenticate");
        }
      if (strcasecmp (key, "realm") == 0 && c->realm == NULL)
        c->realm = value;
      else if (strcasecmp (key, "service") == 0 && c->service == NULL)
        c->service = value;
      else
        free (value);
    }
  return 0;
}

static void
drop_token (struct registry_auth *a)
{
  free (a->header);
  a->header = NULL;
  a->expires = 0;
}

int
registry_auth_challenge (struct registry_auth *a, const char *www_authenticate, skiff_error_t *err)
{
  __attribute__ ((cleanup (challenge_clear))) struct challenge c = { 0 };

  if (www_authenticate == NULL)
    return 0;
  if (parse_challenge (www_authenticate, &c, err) < 0)
    return -1;
  if (strcasecmp (c.scheme, "Bearer") == 0)
    {
      if (c.realm == NULL || *c.realm == '\0')
        return skiff_error_make (err, 0, "registry asks for a Bearer token without a realm"), REGISTRY_ERR_REMOTE;
      free (a->realm);
      free (a->service);
      a->realm = steal_pointer (&c.realm);
      a->service = steal_pointer (&c.service);
      if (a->scheme != REGISTRY_AUTH_BEARER)
        drop_token (a);
      a->scheme = REGISTRY_AUTH_BEARER;
    }
  else if (strcasecmp (c.scheme, "Basic") == 0)
    {
      if (a->scheme != REGISTRY_AUTH_BASIC)
        drop_token (a);
      a->scheme = REGISTRY_AUTH_BASIC;
    }
  return 0;
}

static int
basic_header (struct registry_auth *a, skiff_error_t *err)
{
  cleanup_free char *pair = NULL;
  cleanup_free unsigned char *b64 = NULL;
  int n;

  if (asprintf (&pair, "%s:%s", a->username, a->password ? a->password : "") < 0)
    return skiff_error_make (err, ENOMEM, "basic auth");
  b64 = malloc (4 * ((strlen (pair) + 2) / 3) + 1);
  if (b64 == NULL)
    return skiff_error_make (err, ENOMEM, "basic auth");
  n = EVP_EncodeBlock (b64, (const unsigned char *) pair, strlen (pair));
  if (n < 0)
    return skiff_error_make (err, 0, "basic auth: base64 failed");
  free (a->header);
  if (asprintf (&a->header, "Authorization: Basic %s", b64) < 0)
    {
      a->header = NULL;
      return skiff_error_make (err, ENOMEM, "basic auth");
    }
  return 0;
}

/* A token goes into a header line: no spaces or control characters.  */
static bool
token_ok (const char *t)
{
  if (*t == '\0')
    return false;
  for (; *t; t++)
    if ((unsigned char) *t <= ' ' || (unsigned char) *t >= 0x7f)
      return false;
  return true;
}

static int
token_error (const char *url, const struct registry_response *r, skiff_error_t *err)
{
  cleanup_json yajl_val root = NULL;
  skiff_error_t ignored = NULL;
  yajl_val details = NULL;
  cleanup_free char *text = NULL;

  /* Docker Hub's token server says {"details":"incorrect username or password"}.  */
  if (r->body && json_parse (r->body, &root, &ignored) == 0)
    details = json_get (root, "details");
  skiff_error_release (&ignored);
  if (r->status == 401 || r->status == 403)
    {
      skiff_error_make (err, 0, "Get \"%s\": unauthorized: %s", url,
                        details && YAJL_IS_STRING (details) ? YAJL_GET_STRING (details) : "authentication required");
      return REGISTRY_ERR_DENIED;
    }
  text = registry_error_text (r);
  skiff_error_make (err, 0, "Get \"%s\": %s", url, text ? text : "token request failed");
  return REGISTRY_ERR_REMOTE;
}

static int
fetch_token (struct registry_auth *a, skiff_error_t *err)
{
  __attribute__ ((cleanup (registry_response_clear))) struct registry_response r = { 0 };
  cleanup_json yajl_val root = NULL;
  cleanup_free char *url = NULL;
  cleanup_free char *token = NULL;
  cleanup_free char *access_token = NULL;
  char *service = NULL, *scope = NULL;
  const char *t, *p;
  int64_t expires_in = 0;
  bool have_expiry = false;
  int ret;

  if (strncmp (a->realm, "https://", 8) != 0
      && !(strncmp (a->realm, "http://", 7) == 0 && a->plain_http_ok))
    return skiff_error_make (err, 0, "refusing token realm `%s`: not https", a->realm), REGISTRY_ERR_REMOTE;
  service = curl_easy_escape (NULL, a->service ? a->service : "", 0);
  if (service == NULL
      || asprintf (&url, "%s%cservice=%s", a->realm, strchr (a->realm, '?') ? '&' : '?', service) < 0)
    {
      curl_free (service);
      return skiff_error_make (err, ENOMEM, "token request");
    }
  curl_free (service);
  /* One scope parameter per space-separated scope, as Docker asks for
     push and the repositories it mounts from.  */
  for (p = a->scope; p && *p;)
    {
      size_t n = strcspn (p, " ");
      char *next = NULL;
      if (n > 0)
        {
          scope = curl_easy_escape (NULL, p, n);
          if (scope == NULL || asprintf (&next, "%s&scope=%s", url, scope) < 0)
            {
              curl_free (scope);
              return skiff_error_make (err, ENOMEM, "token request");
            }
          curl_free (scope);
          free (url);
          url = next;
        }
      p += n + strspn (p + n, " ");
    }
  ret = registry_http_get (url, a->tls_verify, a->username, a->password, TOKEN_RESPONSE_MAX, &r, err);
  if (ret < 0)
    return ret;
  if (r.status != 200)
    return token_error (a->realm, &r, err);
  if (r.body == NULL || json_parse (r.body, &root, err) < 0
      || json_get_string (root, "token", "token", &token, err) < 0
      || json_get_string (root, "access_token", "access_token", &access_token, err) < 0
      || json_get_int64 (root, "expires_in", "expires_in", &expires_in, &have_expiry, err) < 0)
    {
      if (r.body == NULL)
        skiff_error_make (err, 0, "empty answer");
      return skiff_error_wrap (err, "token from `%s`", a->realm), REGISTRY_ERR_REMOTE;
    }
  t = token && *token ? token : access_token;
  if (t == NULL || !token_ok (t))
    return skiff_error_make (err, 0, "token from `%s`: no usable token in the answer", a->realm), REGISTRY_ERR_REMOTE;
  if (!have_expiry || expires_in < TOKEN_MIN_LIFETIME)
    expires_in = TOKEN_MIN_LIFETIME;
  free (a->header);
  if (asprintf (&a->header, "Authorization: Bearer %s", t) < 0)
    {
      a->header = NULL;
      return skiff_error_make (err, ENOMEM, "token");
    }
  /* Renew a little early: the clocks of registry and host differ.  */
  a->expires = time (NULL) + expires_in - 10;
  return 0;
}

int
registry_auth_header (struct registry_auth *a, const char **header, skiff_error_t *err)
{
  int ret;

  *header = NULL;
  switch (a->scheme)
    {
    case REGISTRY_AUTH_NONE:
      return 0;
    case REGISTRY_AUTH_BASIC:
      if (a->username == NULL)
        return skiff_error_make (err, 0, "no basic auth credentials"), REGISTRY_ERR_REMOTE;
      if (a->header == NULL && basic_header (a, err) < 0)
        return -1;
      break;
    case REGISTRY_AUTH_BEARER:
      if (a->header == NULL || time (NULL) >= a->expires)
        {
          ret = fetch_token (a, err);
          if (ret < 0)
            return ret;
        }
      break;
    }
  *header = a->header;
  return 0;
}

int
registry_auth_refresh (struct registry_auth *a, const char *www_authenticate, skiff_error_t *err)
{
  enum registry_auth_scheme before = a->scheme;
  bool had_header = a->header != NULL;
  int ret;

  ret = registry_auth_challenge (a, www_authenticate, err);
  if (ret < 0)
    return ret;
  switch (a->scheme)
    {
    case REGISTRY_AUTH_NONE:
      return 0;
    case REGISTRY_AUTH_BASIC:
      /* The same credentials again would get the same answer.  */
      return before != REGISTRY_AUTH_BASIC || !had_header ? 1 : 0;
    case REGISTRY_AUTH_BEARER:
      drop_token (a);
      return 1;
    }
  return 0;
}

void
registry_auth_clear (struct registry_auth *a)
{
  free (a->realm);
  free (a->service);
  free (a->scope);
  free (a->username);
  free (a->password);
  free (a->header);
  memset (a, 0, sizeof (*a));
}
