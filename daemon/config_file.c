#include "config_file.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
daemon_config_load (const char *path, bool must_exist, struct daemon_config *out, skiff_error_t *err)
{
  static const char *const known[] = { "data-root", "exec-root", "pidfile", "log-level", "hosts", "dns",
                                       "registry-mirrors", "insecure-registries", "live-restore", NULL };
  cleanup_json yajl_val tree = NULL;
  cleanup_strv char **hosts = NULL;
  size_t i, k;

  memset (out, 0, sizeof (*out));
  if (access (path, F_OK) < 0)
    {
      if (must_exist)
        return skiff_error_make (err, errno, "config file `%s`", path);
      return 0;
    }
  if (json_parse_file (path, &tree, err) < 0)
    return -1;
  if (!YAJL_IS_OBJECT (tree))
    return skiff_error_make (err, 0, "`%s`: expected a JSON object", path);
  for (i = 0; i < tree->u.object.len; i++)
    {
      bool ok = false;
      for (k = 0; known[k]; k++)
        if (strcmp (tree->u.object.keys[i], known[k]) == 0)
          ok = true;
      if (!ok)
        return skiff_error_make (err, 0, "`%s`: the following directives don't match any configuration option: %s",
                                 path, tree->u.object.keys[i]);
    }
  if (json_get_string (tree, "data-root", "data-root", &out->data_root, err) < 0
      || json_get_string (tree, "exec-root", "exec-root", &out->exec_root, err) < 0
      || json_get_string (tree, "pidfile", "pidfile", &out->pidfile, err) < 0
      || json_get_string (tree, "log-level", "log-level", &out->log_level, err) < 0
      || json_get_strv (tree, "hosts", "hosts", &hosts, NULL, err) < 0
      || json_get_strv (tree, "dns", "dns", &out->dns, NULL, err) < 0
      || json_get_strv (tree, "registry-mirrors", "registry-mirrors", &out->registry_mirrors, NULL, err) < 0
      || json_get_strv (tree, "insecure-registries", "insecure-registries", &out->insecure_registries, NULL, err) < 0)
    {
      daemon_config_release (out);
      return skiff_error_wrap (err, "`%s`", path);
    }
  if (hosts && hosts[0])
    out->host = strdup (hosts[0]);
  return 0;
}

void
daemon_config_release (struct daemon_config *c)
{
  free (c->data_root);
  free (c->exec_root);
  free (c->pidfile);
  free (c->log_level);
  free (c->host);
  cleanup_strvp (&c->dns);
  cleanup_strvp (&c->registry_mirrors);
  cleanup_strvp (&c->insecure_registries);
  memset (c, 0, sizeof (*c));
}
