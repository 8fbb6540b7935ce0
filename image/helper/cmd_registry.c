/* skiff-image pull, push, login: the registry operations (libcurl).  */
#include "helper.h"
#include "base64.h"
#include "cleanup.h"
#include "json.h"
#include "log.h"
#include "push.h"
#include "registry.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CREDENTIALS_MAX (64 * 1024)

struct credentials
{
  char *username, *password; /* NULL when anonymous */
};

static void
credentials_clear (struct credentials *c)
{
  free (c->username);
  if (c->password)
    explicit_bzero (c->password, strlen (c->password));
  free (c->password);
}

/* An X-Registry-Auth value (base64url JSON, as the docker CLI sends it)
   into username and password; a value that does not decode gives none, as
   Docker.  */
static void
decode_registry_auth (const char *value, struct credentials *c)
{
  cleanup_free char *text = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  const char *user, *pass, *auth;

  if (*value == '\0' || (text = base64_decode (value, NULL)) == NULL)
    return;
  if (json_parse (text, &v, &err) < 0 || !YAJL_IS_OBJECT (v))
    {
      log_debug ("X-Registry-Auth does not decode: %s", err ? err->msg : "not an object");
      skiff_error_release (&err);
      explicit_bzero (text, strlen (text));
      return;
    }
  explicit_bzero (text, strlen (text));
  user = json_str_or (json_get (v, "username"), "");
  pass = json_str_or (json_get (v, "password"), "");
  auth = json_str_or (json_get (v, "auth"), "");
  if (*user == '\0' && *auth)
    {
      /* "auth": base64 "user:pass", as in config.json.  */
      cleanup_free char *pair = base64_decode (auth, NULL);
      char *colon = pair ? strchr (pair, ':') : NULL;
      if (colon)
        {
          c->username = strndup (pair, colon - pair);
          c->password = strdup (colon + 1);
        }
      if (pair)
        explicit_bzero (pair, strlen (pair));
      return;
    }
  if (*user)
    {
      c->username = strdup (user);
      c->password = strdup (pass);
    }
}

/* The X-Registry-Auth value skiffd writes on stdin (empty: none).  */
static int
read_credentials (struct credentials *c, skiff_error_t *err)
{
  cleanup_free char *value = NULL;

  if (read_stdin (CREDENTIALS_MAX, &value, err) < 0)
    return -1;
  value[strcspn (value, "\r\n")] = '\0';
  decode_registry_auth (value, c);
  explicit_bzero (value, strlen (value));
  return 0;
}

int
cmd_pull (struct helper *h, int argc, char **argv, skiff_error_t *err)
{
  static const struct option opts[] = { { "platform", required_argument, NULL, 'p' }, { NULL, 0, NULL, 0 } };
  __attribute__ ((cleanup (credentials_clear))) struct credentials cred = { 0 };
  cleanup_free char *id = NULL;
  const char *platform = NULL;
  int c, ret;

  optind = 1;
  while ((c = getopt_long (argc, argv, "+", opts, NULL)) != -1)
    {
      if (c != 'p')
        return skiff_error_make (err, 0, "usage: pull [--platform OS/ARCH[/VARIANT]] REFERENCE"), IMAGE_ERR_INVALID;
      platform = optarg;
    }
  if (optind + 1 != argc)
    return skiff_error_make (err, 0, "usage: pull [--platform OS/ARCH[/VARIANT]] REFERENCE"), IMAGE_ERR_INVALID;
  if (read_credentials (&cred, err) < 0)
    return -1;
  {
    struct pull_opts o = { .mirrors = h->mirrors,
                           .insecure = h->insecure,
                           .username = cred.username,
                           .password = cred.password,
                           .platform = platform,
                           .progress = output_progress };
    ret = image_pull (h->store, argv[optind], &o, &id, err);
  }
  if (ret < 0)
    return ret;
  json_gen_kv_str (h->result, "id", id);
  return 0;
}

static void
on_pushed (void *data, const char *tag, const char *digest, int64_t size)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *aux = NULL;

  if (g == NULL)
    return;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Tag", tag);
  json_gen_kv_str (g, "Digest", digest);
  json_gen_kv_int (g, "Size", size);
  yajl_gen_map_close (g);
  aux = json_gen_steal (g, NULL);
  if (aux)
    output_aux (aux);
}

int
cmd_push (struct helper *h, int argc, char **argv, skiff_error_t *err)
{
  __attribute__ ((cleanup (credentials_clear))) struct credentials cred = { 0 };
  int first = helper_operands (argc, argv);

  if (first < 0 || argc - first < 1 || argc - first > 2)
    return skiff_error_make (err, 0, "usage: push NAME [TAG]"), IMAGE_ERR_INVALID;
  if (read_credentials (&cred, err) < 0)
    return -1;
  {
    struct push_opts o = { .insecure = h->insecure,
                           .username = cred.username,
                           .password = cred.password,
                           .progress = output_progress,
                           .done = on_pushed };
    return image_push (h->store, argv[first], argc - first == 2 ? argv[first + 1] : NULL, &o, err);
  }
}

int
cmd_login (struct helper *h, int argc, char **argv, skiff_error_t *err)
{
  cleanup_free char *body = NULL;
  cleanup_json yajl_val v = NULL;
  int ret;

  if (argc != 1)
    return skiff_error_make (err, 0, "usage: login (the /auth JSON body on stdin)"), IMAGE_ERR_INVALID;
  if (read_stdin (CREDENTIALS_MAX, &body, err) < 0)
    return -1;
  ret = json_parse (body, &v, err);
  explicit_bzero (body, strlen (body));
  if (ret < 0 || !YAJL_IS_OBJECT (v))
    return skiff_error_make (err, 0, "login: stdin is not a JSON object"), IMAGE_ERR_INVALID;
  return registry_login (json_str_or (json_get (v, "serveraddress"), ""), json_str_or (json_get (v, "username"), ""),
                         json_str_or (json_get (v, "password"), ""), h->insecure, NULL, err);
}
