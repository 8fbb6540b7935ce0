/* Docker's container.Config object of image configs (import builds it from
   changes; inspect prints its zero value for a missing ContainerConfig).  */
#include "store_internal.h"
#include "cleanup.h"

#include <stdlib.h>
#include <string.h>

static void
gen_strv_or_null (yajl_gen g, const char *key, char **v, bool set)
{
  size_t i;
  json_gen_str (g, key);
  if (v == NULL && !set)
    {
      yajl_gen_null (g);
      return;
    }
  yajl_gen_array_open (g);
  for (i = 0; v && v[i]; i++)
    json_gen_str (g, v[i]);
  yajl_gen_array_close (g);
}

/* A set of strings as Docker's map[string]struct{}: {"80/tcp":{}}.  */
static void
gen_set (yajl_gen g, const char *key, char **v)
{
  size_t i;
  json_gen_str (g, key);
  yajl_gen_map_open (g);
  for (i = 0; v[i]; i++)
    {
      json_gen_str (g, v[i]);
      yajl_gen_map_open (g);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
}

/* Docker's container.Config, in its field order; NULL changes give the
   zero value.  */
void
store_gen_container_config (yajl_gen g, const struct image_changes *c)
{
  static const struct image_changes zero = { 0 };
  size_t i;
  if (c == NULL)
    c = &zero;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Hostname", "");
  json_gen_kv_str (g, "Domainname", "");
  json_gen_kv_str (g, "User", c->user ? c->user : "");
  json_gen_kv_bool (g, "AttachStdin", false);
  json_gen_kv_bool (g, "AttachStdout", false);
  json_gen_kv_bool (g, "AttachStderr", false);
  if (c->exposed && c->exposed[0])
    gen_set (g, "ExposedPorts", c->exposed);
  json_gen_kv_bool (g, "Tty", false);
  json_gen_kv_bool (g, "OpenStdin", false);
  json_gen_kv_bool (g, "StdinOnce", false);
  gen_strv_or_null (g, "Env", c->env, false);
  gen_strv_or_null (g, "Cmd", c->cmd, c->cmd_set);
  json_gen_kv_str (g, "Image", "");
  if (c->volumes && c->volumes[0])
    gen_set (g, "Volumes", c->volumes);
  else
    {
      json_gen_str (g, "Volumes");
      yajl_gen_null (g);
    }
  json_gen_kv_str (g, "WorkingDir", c->workdir ? c->workdir : "");
  gen_strv_or_null (g, "Entrypoint", c->entrypoint, c->entrypoint_set);
  gen_strv_or_null (g, "OnBuild", c->onbuild, false);
  json_gen_str (g, "Labels");
  if (c->labels && c->labels[0])
    {
      yajl_gen_map_open (g);
      for (i = 0; c->labels[i]; i++)
        {
          cleanup_free char *k = strndup (c->labels[i], strchr (c->labels[i], '=') - c->labels[i]);
          json_gen_kv_str (g, k ? k : "", strchr (c->labels[i], '=') + 1);
        }
      yajl_gen_map_close (g);
    }
  else
    yajl_gen_null (g);
  yajl_gen_map_close (g);
}
