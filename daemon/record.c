#include "record.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record *
record_new (void)
{
  struct record *r = calloc (1, sizeof (*r));
  if (r == NULL)
    return NULL;
  strcpy (r->state.status, "created");
  r->state.started_at = strdup (RECORD_ZERO_TIME);
  r->state.finished_at = strdup (RECORD_ZERO_TIME);
  return r;
}

void
record_endpoint_clear (struct record_endpoint *ep)
{
  free (ep->network);
  free (ep->network_id);
  free (ep->endpoint_id);
  free (ep->ip);
  free (ep->gateway);
  free (ep->mac);
  free (ep->ifname);
  free (ep->host_ifname);
  cleanup_strvp (&ep->aliases);
  memset (ep, 0, sizeof (*ep));
}

void
record_endpoints_clear (struct record *r)
{
  size_t i;
  for (i = 0; i < r->n_eps; i++)
    record_endpoint_clear (&r->eps[i]);
  free (r->eps);
  r->eps = NULL;
  r->n_eps = 0;
  free (r->ports);
  r->ports = NULL;
}

static char *
dup_or_empty (const char *s)
{
  return strdup (s ? s : "");
}

int
record_endpoint_add (struct record *r, const struct record_endpoint *ep)
{
  struct record_endpoint *grown = realloc (r->eps, (r->n_eps + 1) * sizeof (*grown)), *e;
  size_t i, n = 0;

  if (grown == NULL)
    return -1;
  r->eps = grown;
  e = &r->eps[r->n_eps];
  memset (e, 0, sizeof (*e));
  e->network = dup_or_empty (ep->network);
  e->network_id = dup_or_empty (ep->network_id);
  e->endpoint_id = dup_or_empty (ep->endpoint_id);
  e->ip = dup_or_empty (ep->ip);
  e->gateway = dup_or_empty (ep->gateway);
  e->mac = dup_or_empty (ep->mac);
  e->ifname = dup_or_empty (ep->ifname);
  e->host_ifname = dup_or_empty (ep->host_ifname);
  e->prefix = ep->prefix;
  while (ep->aliases && ep->aliases[n])
    n++;
  e->aliases = calloc (n + 1, sizeof (char *));
  for (i = 0; e->aliases && i < n; i++)
    if ((e->aliases[i] = strdup (ep->aliases[i])) == NULL)
      break;
  if (!e->network || !e->network_id || !e->endpoint_id || !e->ip || !e->gateway || !e->mac || !e->ifname
      || !e->host_ifname || !e->aliases || i < n)
    {
      record_endpoint_clear (e);
      return -1;
    }
  r->n_eps++;
  return 0;
}

void
record_endpoint_remove (struct record *r, size_t i)
{
  if (i >= r->n_eps)
    return;
  record_endpoint_clear (&r->eps[i]);
  memmove (&r->eps[i], &r->eps[i + 1], (r->n_eps - i - 1) * sizeof (r->eps[0]));
  r->n_eps--;
}

struct record_endpoint *
record_endpoint_on (const struct record *r, const char *network)
{
  size_t i;
  for (i = 0; i < r->n_eps; i++)
    if (strcmp (r->eps[i].network, network) == 0)
      return &r->eps[i];
  return NULL;
}

void
record_free (struct record *r)
{
  if (r == NULL)
    return;
  record_endpoints_clear (r);
  free (r->endpoints_config);
  free (r->name);
  free (r->created);
  free (r->image_id);
  free (r->image_name);
  free (r->config);
  free (r->host_config);
  free (r->state.error);
  free (r->state.started_at);
  free (r->state.finished_at);
  free (r->log_path);
  free (r->hosts_path);
  free (r->hostname_path);
  free (r->resolv_conf_path);
  free (r);
}

void
record_set_str (char **field, const char *value)
{
  char *copy = value ? strdup (value) : NULL;
  free (*field);
  *field = copy;
}

void
record_set_status (struct record *r, const char *status)
{
  snprintf (r->state.status, sizeof (r->state.status), "%s", status);
}

static void
gen_endpoint (yajl_gen g, const struct record_endpoint *ep)
{
  size_t i;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Network", ep->network);
  json_gen_kv_str (g, "NetworkID", ep->network_id);
  json_gen_kv_str (g, "EndpointID", ep->endpoint_id);
  json_gen_kv_str (g, "IPAddress", ep->ip);
  json_gen_kv_str (g, "Gateway", ep->gateway);
  json_gen_kv_str (g, "MacAddress", ep->mac);
  json_gen_kv_int (g, "IPPrefixLen", ep->prefix);
  json_gen_kv_str (g, "Ifname", ep->ifname);
  json_gen_kv_str (g, "HostIfname", ep->host_ifname);
  json_gen_str (g, "Aliases");
  yajl_gen_array_open (g);
  for (i = 0; ep->aliases && ep->aliases[i]; i++)
    json_gen_str (g, ep->aliases[i]);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
}

char *
record_to_json (const struct record *r)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  size_t i;
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "ID", r->id);
  json_gen_kv_str (g, "Name", r->name);
  json_gen_kv_str (g, "Created", r->created);
  json_gen_kv_str (g, "Image", r->image_id);
  json_gen_kv_str (g, "ImageName", r->image_name);
  json_gen_kv_raw (g, "Config", r->config);
  json_gen_kv_raw (g, "HostConfig", r->host_config);
  json_gen_str (g, "State");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Status", r->state.status);
  json_gen_kv_bool (g, "OOMKilled", r->state.oom_killed);
  json_gen_kv_int (g, "Pid", r->state.pid);
  json_gen_kv_int (g, "ExitCode", r->state.exit_code);
  json_gen_kv_str (g, "Error", r->state.error ? r->state.error : "");
  json_gen_kv_str (g, "StartedAt", r->state.started_at);
  json_gen_kv_str (g, "FinishedAt", r->state.finished_at);
  yajl_gen_map_close (g);
  json_gen_kv_int (g, "RestartCount", r->restart_count);
  json_gen_kv_bool (g, "ManuallyStopped", r->manually_stopped);
  json_gen_kv_str (g, "LogPath", r->log_path);
  json_gen_kv_str (g, "HostsPath", r->hosts_path);
  json_gen_kv_str (g, "HostnamePath", r->hostname_path);
  json_gen_kv_str (g, "ResolvConfPath", r->resolv_conf_path);
  if (r->endpoints_config)
    json_gen_kv_raw (g, "EndpointsConfig", r->endpoints_config);
  if (r->ports)
    json_gen_kv_raw (g, "Ports", r->ports);
  json_gen_str (g, "Endpoints");
  yajl_gen_array_open (g);
  for (i = 0; i < r->n_eps; i++)
    gen_endpoint (g, &r->eps[i]);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

/* The JSON text of a member, or NULL.  */
static char *
member_text (yajl_val obj, const char *key)
{
  yajl_val v = json_get (obj, key);
  cleanup_gen yajl_gen g = NULL;
  if (v == NULL || YAJL_IS_NULL (v))
    return NULL;
  g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  json_gen_value (g, v);
  return json_gen_steal (g, NULL);
}

static int
endpoint_from_json (yajl_val v, struct record_endpoint *ep, skiff_error_t *err)
{
  int64_t prefix = 0;
  if (json_get_string_req (v, "Network", "Endpoints.Network", &ep->network, err) < 0
      || json_get_string (v, "NetworkID", "Endpoints.NetworkID", &ep->network_id, err) < 0
      || json_get_string (v, "EndpointID", "Endpoints.EndpointID", &ep->endpoint_id, err) < 0
      || json_get_string_req (v, "IPAddress", "Endpoints.IPAddress", &ep->ip, err) < 0
      || json_get_string (v, "Gateway", "Endpoints.Gateway", &ep->gateway, err) < 0
      || json_get_string (v, "MacAddress", "Endpoints.MacAddress", &ep->mac, err) < 0
      || json_get_int64 (v, "IPPrefixLen", "Endpoints.IPPrefixLen", &prefix, NULL, err) < 0
      || json_get_string (v, "Ifname", "Endpoints.Ifname", &ep->ifname, err) < 0
      || json_get_string (v, "HostIfname", "Endpoints.HostIfname", &ep->host_ifname, err) < 0
      || json_get_strv (v, "Aliases", "Endpoints.Aliases", &ep->aliases, NULL, err) < 0)
    return -1;
  if (prefix < 0 || prefix > 32)
    return skiff_error_make (err, 0, "Endpoints.IPPrefixLen: %lld is not a prefix length", (long long) prefix);
  ep->prefix = (int) prefix;
  return 0;
}

static int
endpoints_from_json (yajl_val tree, struct record *r, skiff_error_t *err)
{
  yajl_val arr;
  size_t i;

  if (json_get_array (tree, "Endpoints", "Endpoints", &arr, err) < 0)
    return -1;
  /* A record of skiffd 0.1 (one "Endpoint", on the default bridge): a
     container running across the upgrade keeps its address.  */
  if (arr == NULL && json_get (tree, "Endpoint") && YAJL_IS_OBJECT (json_get (tree, "Endpoint")))
    {
      yajl_val old = json_get (tree, "Endpoint");
      struct record_endpoint ep = { 0 };
      int ret = endpoint_from_json (old, &ep, err);
      if (ret == 0 && ep.ifname == NULL)
        ep.ifname = strdup ("eth0");
      if (ret == 0 && r->ports == NULL)
        r->ports = member_text (old, "Ports");
      if (ret == 0 && record_endpoint_add (r, &ep) < 0)
        ret = skiff_error_make (err, ENOMEM, "record");
      record_endpoint_clear (&ep);
      return ret;
    }
  for (i = 0; arr && i < arr->u.array.len; i++)
    {
      struct record_endpoint ep = { 0 };
      int ret = endpoint_from_json (arr->u.array.values[i], &ep, err);
      if (ret == 0 && record_endpoint_add (r, &ep) < 0)
        ret = skiff_error_make (err, ENOMEM, "record");
      record_endpoint_clear (&ep);
      if (ret < 0)
        return -1;
    }
  return 0;
}

int
record_from_json (const char *text, struct record **out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  cleanup_record struct record *r = record_new ();
  cleanup_free char *id = NULL, *status = NULL;
  yajl_val st;
  int64_t v;

  if (r == NULL)
    return skiff_error_make (err, ENOMEM, "record");
  if (json_parse (text, &tree, err) < 0)
    return -1;
  if (json_get_string_req (tree, "ID", "ID", &id, err) < 0)
    return -1;
  if (!id_is_full (id))
    return skiff_error_make (err, 0, "invalid container id `%s`", id);
  strcpy (r->id, id);
  if (json_get_string (tree, "Name", "Name", &r->name, err) < 0
      || json_get_string (tree, "Created", "Created", &r->created, err) < 0
      || json_get_string (tree, "Image", "Image", &r->image_id, err) < 0
      || json_get_string (tree, "ImageName", "ImageName", &r->image_name, err) < 0
      || json_get_string (tree, "LogPath", "LogPath", &r->log_path, err) < 0
      || json_get_string (tree, "HostsPath", "HostsPath", &r->hosts_path, err) < 0
      || json_get_string (tree, "HostnamePath", "HostnamePath", &r->hostname_path, err) < 0
      || json_get_string (tree, "ResolvConfPath", "ResolvConfPath", &r->resolv_conf_path, err) < 0
      || json_get_bool (tree, "ManuallyStopped", "ManuallyStopped", &r->manually_stopped, err) < 0)
    return -1;
  if (json_get_int64 (tree, "RestartCount", "RestartCount", &v, NULL, err) < 0)
    return -1;
  r->restart_count = (int) (json_get (tree, "RestartCount") ? v : 0);
  r->config = member_text (tree, "Config");
  r->host_config = member_text (tree, "HostConfig");
  r->endpoints_config = member_text (tree, "EndpointsConfig");
  r->ports = member_text (tree, "Ports");
  if (endpoints_from_json (tree, r, err) < 0)
    return -1;
  if (json_get_object (tree, "State", "State", &st, err) < 0)
    return -1;
  if (st)
    {
      if (json_get_string (st, "Status", "State.Status", &status, err) < 0
          || json_get_bool (st, "OOMKilled", "State.OOMKilled", &r->state.oom_killed, err) < 0
          || json_get_string (st, "Error", "State.Error", &r->state.error, err) < 0
          || json_get_string (st, "StartedAt", "State.StartedAt", &r->state.started_at, err) < 0
          || json_get_string (st, "FinishedAt", "State.FinishedAt", &r->state.finished_at, err) < 0)
        return -1;
      if (status)
        record_set_status (r, status);
      v = 0;
      if (json_get_int64 (st, "Pid", "State.Pid", &v, NULL, err) < 0)
        return -1;
      r->state.pid = (int) v;
      v = 0;
      if (json_get_int64 (st, "ExitCode", "State.ExitCode", &v, NULL, err) < 0)
        return -1;
      r->state.exit_code = (int) v;
    }
  *out = steal_pointer (&r);
  return 0;
}

int
record_save (const char *root, const struct record *r, skiff_error_t *err)
{
  cleanup_free char *dir = NULL, *path = NULL, *text = record_to_json (r);
  if (text == NULL || asprintf (&dir, "%s/containers/%s", root, r->id) < 0
      || asprintf (&path, "%s/config.json", dir) < 0)
    return skiff_error_make (err, ENOMEM, "save container");
  if (fs_mkdir_p (dir, 0700, err) < 0)
    return -1;
  return fs_write_file_atomic (path, text, strlen (text), 0600, err);
}

int
record_load (const char *root, const char *id, struct record **out, skiff_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  if (asprintf (&path, "%s/containers/%s/config.json", root, id) < 0)
    return skiff_error_make (err, ENOMEM, "load container");
  if (fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  if (record_from_json (text, out, err) < 0)
    return skiff_error_wrap (err, "`%s`", path);
  return 0;
}
