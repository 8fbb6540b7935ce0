/* Registry credentials in the docker CLI's config.json (auth_config.h).  */
#include "auth_config.h"
#include "base64.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *
auth_config_path (skiff_error_t *err)
{
  const char *dir = getenv ("DOCKER_CONFIG");
  const char *home = getenv ("HOME");
  char *path = NULL;

  if (dir && *dir)
    {
      if (asprintf (&path, "%s/config.json", dir) < 0)
        path = NULL;
    }
  else if (home && *home)
    {
      if (asprintf (&path, "%s/.docker/config.json", home) < 0)
        path = NULL;
    }
  else
    {
      skiff_error_make (err, 0, "cannot find the docker config: neither DOCKER_CONFIG nor HOME is set");
      return NULL;
    }
  if (path == NULL)
    skiff_error_make (err, ENOMEM, "config path");
  return path;
}

/* host[:port] of "https://host:5000/v1/" or "host:5000", lower case.  */
static char *
hostname_of (const char *s)
{
  const char *p = strstr (s, "://");
  char *out, *c;
  p = p ? p + 3 : s;
  out = strndup (p, strcspn (p, "/"));
  for (c = out; c && *c; c++)
    *c = (*c >= 'A' && *c <= 'Z') ? *c + 32 : *c;
  return out;
}

static bool
is_docker_hub (const char *host)
{
  return strcmp (host, "docker.io") == 0 || strcmp (host, "index.docker.io") == 0
         || strcmp (host, "registry-1.docker.io") == 0;
}

char *
auth_server_key (const char *server)
{
  cleanup_free char *host = NULL;
  if (server == NULL || *server == '\0')
    return strdup (AUTH_DOCKER_HUB);
  host = hostname_of (server);
  if (host == NULL)
    return NULL;
  if (is_docker_hub (host))
    return strdup (AUTH_DOCKER_HUB);
  return steal_pointer (&host);
}

char *
auth_key_of_image (const char *ref)
{
  size_t n = strcspn (ref, "/");
  cleanup_free char *first = strndup (ref, n);
  if (first == NULL)
    return NULL;
  /* distribution/reference: a first component with '.' or ':' or
     "localhost", followed by more, is a registry.  */
  if (ref[n] == '/' && (strchr (first, '.') || strchr (first, ':') || strcmp (first, "localhost") == 0))
    return auth_server_key (first);
  return strdup (AUTH_DOCKER_HUB);
}

static bool
key_matches (const char *stored, const char *key)
{
  cleanup_free char *a = NULL;
  cleanup_free char *b = NULL;
  if (strcmp (stored, key) == 0)
    return true;
  a = hostname_of (stored);
  b = hostname_of (key);
  if (a == NULL || b == NULL)
    return false;
  if (is_docker_hub (a) && is_docker_hub (b))
    return true;
  return strcmp (a, b) == 0;
}

static int
load (const char *path, yajl_val *root, skiff_error_t *err)
{
  *root = NULL;
  if (!fs_exists (path))
    return 0;
  if (json_parse_file (path, root, err) < 0)
    return skiff_error_wrap (err, "read `%s`", path);
  if (!YAJL_IS_OBJECT (*root))
    {
      yajl_tree_free (*root);
      *root = NULL;
      return skiff_error_make (err, 0, "`%s`: not a JSON object", path);
    }
  return 0;
}

int
auth_config_get (const char *key, char **user, char **password, skiff_error_t *err)
{
  cleanup_free char *path = auth_config_path (err);
  cleanup_json yajl_val root = NULL;
  yajl_val auths;
  size_t i;

  *user = *password = NULL;
  if (path == NULL || load (path, &root, err) < 0)
    return -1;
  auths = root ? json_get (root, "auths") : NULL;
  if (auths == NULL || !YAJL_IS_OBJECT (auths))
    return 0;
  for (i = 0; i < auths->u.object.len; i++)
    {
      const char *auth = json_str_or (json_get (auths->u.object.values[i], "auth"), "");
      cleanup_free char *pair = NULL;
      char *colon;
      if (!key_matches (auths->u.object.keys[i], key) || *auth == '\0')
        continue;
      pair = base64_decode (auth, NULL);
      colon = pair ? strchr (pair, ':') : NULL;
      if (colon == NULL)
        return skiff_error_make (err, 0, "`%s`: invalid auth entry for %s", path, auths->u.object.keys[i]);
      *user = strndup (pair, colon - pair);
      *password = strdup (colon + 1);
      explicit_bzero (pair, strlen (pair));
      if (*user == NULL || *password == NULL)
        return skiff_error_make (err, ENOMEM, "credentials");
      return 0;
    }
  return 0;
}

/* Writes root back with auths' entry for key replaced (auth != NULL) or
   removed.  */
static int
store (const char *path, yajl_val root, const char *key, const char *auth, bool *found, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (true);
  cleanup_free char *dir = NULL;
  yajl_val auths = root ? json_get (root, "auths") : NULL;
  const unsigned char *text;
  size_t len, i;
  char *slash;

  if (g == NULL || (dir = strdup (path)) == NULL)
    return skiff_error_make (err, ENOMEM, "config");
  *found = false;
  yajl_gen_map_open (g);
  json_gen_str (g, "auths");
  yajl_gen_map_open (g);
  for (i = 0; auths && YAJL_IS_OBJECT (auths) && i < auths->u.object.len; i++)
    {
      if (key_matches (auths->u.object.keys[i], key))
        {
          *found = true;
          continue;
        }
      json_gen_str (g, auths->u.object.keys[i]);
      json_gen_value (g, auths->u.object.values[i]);
    }
  if (auth)
    {
      json_gen_str (g, key);
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "auth", auth);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  for (i = 0; root && i < root->u.object.len; i++)
    if (strcmp (root->u.object.keys[i], "auths") != 0)
      {
        json_gen_str (g, root->u.object.keys[i]);
        json_gen_value (g, root->u.object.values[i]);
      }
  yajl_gen_map_close (g);
  if (yajl_gen_get_buf (g, &text, &len) != yajl_gen_status_ok)
    return skiff_error_make (err, ENOMEM, "config");
  slash = strrchr (dir, '/');
  if (slash && slash != dir)
    {
      *slash = '\0';
      if (fs_mkdir_p (dir, 0700, err) < 0)
        return -1;
    }
  return fs_write_file_atomic (path, text, len, 0600, err);
}

int
auth_config_set (const char *key, const char *user, const char *password, skiff_error_t *err)
{
  cleanup_free char *path = auth_config_path (err);
  cleanup_free char *pair = NULL;
  cleanup_free char *auth = NULL;
  cleanup_json yajl_val root = NULL;
  bool found;
  int ret;

  if (path == NULL || load (path, &root, err) < 0)
    return -1;
  if (asprintf (&pair, "%s:%s", user, password) < 0 || (auth = base64_encode (pair, strlen (pair), false)) == NULL)
    return skiff_error_make (err, ENOMEM, "credentials");
  ret = store (path, root, key, auth, &found, err);
  explicit_bzero (pair, strlen (pair));
  return ret;
}

int
auth_config_remove (const char *key, bool *found, skiff_error_t *err)
{
  cleanup_free char *path = auth_config_path (err);
  cleanup_json yajl_val root = NULL;

  *found = false;
  if (path == NULL || load (path, &root, err) < 0)
    return -1;
  if (root == NULL)
    return 0;
  {
    /* Only rewrite when there is something to remove.  */
    yajl_val auths = json_get (root, "auths");
    size_t i;
    for (i = 0; auths && YAJL_IS_OBJECT (auths) && i < auths->u.object.len; i++)
      if (key_matches (auths->u.object.keys[i], key))
        *found = true;
  }
  if (!*found)
    return 0;
  return store (path, root, key, NULL, found, err);
}

char *
auth_config_json (const char *user, const char *password, const char *server)
{
  cleanup_gen yajl_gen g = json_gen_new (false);

  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "username", user);
  json_gen_kv_str (g, "password", password);
  json_gen_kv_str (g, "serveraddress", server);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

int
auth_header_for_image (const char *ref, char **header, skiff_error_t *err)
{
  cleanup_free char *key = auth_key_of_image (ref);
  cleanup_free char *user = NULL;
  cleanup_free char *password = NULL;
  cleanup_free char *text = NULL;

  *header = NULL;
  if (key == NULL)
    return skiff_error_make (err, ENOMEM, "credentials");
  if (auth_config_get (key, &user, &password, err) < 0)
    return -1;
  if (user == NULL)
    return 0;
  text = auth_config_json (user, password, key);
  explicit_bzero (password, strlen (password));
  if (text == NULL || (*header = base64_encode (text, strlen (text), true)) == NULL)
    return skiff_error_make (err, ENOMEM, "credentials");
  explicit_bzero (text, strlen (text));
  return 0;
}
