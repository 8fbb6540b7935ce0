/* Docker's JSON views of a container: /containers/{id}/json and the
   summaries of /containers/json.  */
#include "containers.h"
#include "cleanup.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* Path and Args as Docker splits Entrypoint + Cmd.  */
static void
command_parts (yajl_val cfg, const char **path, yajl_val *entry, yajl_val *cmd)
{
  *entry = json_get (cfg, "Entrypoint");
  *cmd = json_get (cfg, "Cmd");
  *path = "";
  if (*entry && YAJL_IS_ARRAY (*entry) && (*entry)->u.array.len && YAJL_IS_STRING ((*entry)->u.array.values[0]))
    *path = (*entry)->u.array.values[0]->u.string;
  else if (*cmd && YAJL_IS_ARRAY (*cmd) && (*cmd)->u.array.len && YAJL_IS_STRING ((*cmd)->u.array.values[0]))
    *path = (*cmd)->u.array.values[0]->u.string;
}

static void
gen_args (yajl_gen g, yajl_val entry, yajl_val cmd)
{
  size_t i, skip = 1;
  bool has_entry = entry && YAJL_IS_ARRAY (entry) && entry->u.array.len;
  json_gen_str (g, "Args");
  yajl_gen_array_open (g);
  if (has_entry)
    for (i = 1; i < entry->u.array.len; i++)
      json_gen_value (g, entry->u.array.values[i]);
  if (has_entry)
    skip = 0;
  for (i = skip; cmd && YAJL_IS_ARRAY (cmd) && i < cmd->u.array.len; i++)
    json_gen_value (g, cmd->u.array.values[i]);
  yajl_gen_array_close (g);
}

char *
containers_inspect_json (struct ctr *c)
{
  struct record *r = c->rec;
  cleanup_json yajl_val cfg = NULL, hc = NULL;
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *dir = ctr_dir (c), *netns = ctr_netns_path (c), *upper = NULL, *merged = NULL, *work = NULL;
  const char *path;
  yajl_val entry, cmd;
  bool running = containers_is_running (c);

  if (g == NULL)
    return NULL;
  json_parse (r->config ? r->config : "{}", &cfg, NULL);
  json_parse (r->host_config ? r->host_config : "{}", &hc, NULL);
  command_parts (cfg, &path, &entry, &cmd);
  if (asprintf (&upper, "%s/overlay/%s/upper", c->d->opts.root, r->id) < 0
      || asprintf (&merged, "%s/overlay/%s/merged", c->d->opts.root, r->id) < 0
      || asprintf (&work, "%s/overlay/%s/work", c->d->opts.root, r->id) < 0)
    return NULL;

  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Id", r->id);
  json_gen_kv_str (g, "Created", r->created);
  json_gen_kv_str (g, "Path", path);
  gen_args (g, entry, cmd);
  json_gen_str (g, "State");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Status", r->state.status);
  json_gen_kv_bool (g, "Running", running);
  json_gen_kv_bool (g, "Paused", strcmp (r->state.status, "paused") == 0);
  json_gen_kv_bool (g, "Restarting", strcmp (r->state.status, "restarting") == 0);
  json_gen_kv_bool (g, "OOMKilled", r->state.oom_killed);
  json_gen_kv_bool (g, "Dead", strcmp (r->state.status, "dead") == 0);
  json_gen_kv_int (g, "Pid", running ? r->state.pid : 0);
  json_gen_kv_int (g, "ExitCode", r->state.exit_code);
  json_gen_kv_str (g, "Error", r->state.error ? r->state.error : "");
  json_gen_kv_str (g, "StartedAt", r->state.started_at);
  json_gen_kv_str (g, "FinishedAt", r->state.finished_at);
  yajl_gen_map_close (g);
  json_gen_kv_str (g, "Image", r->image_id);
  json_gen_kv_str (g, "ResolvConfPath", r->resolv_conf_path);
  json_gen_kv_str (g, "HostnamePath", r->hostname_path);
  json_gen_kv_str (g, "HostsPath", r->hosts_path);
  json_gen_kv_str (g, "LogPath", r->log_path);
  json_gen_kv_str (g, "Name", r->name);
  json_gen_kv_int (g, "RestartCount", r->restart_count);
  json_gen_kv_str (g, "Driver", "overlay2");
  json_gen_kv_str (g, "Platform", "linux");
  json_gen_kv_str (g, "MountLabel", "");
  json_gen_kv_str (g, "ProcessLabel", "");
  json_gen_kv_str (g, "AppArmorProfile", "");
  json_gen_str (g, "ExecIDs");
  yajl_gen_null (g);
  json_gen_kv_raw (g, "HostConfig", r->host_config);
  json_gen_str (g, "GraphDriver");
  yajl_gen_map_open (g);
  json_gen_str (g, "Data");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "MergedDir", merged);
  json_gen_kv_str (g, "UpperDir", upper);
  json_gen_kv_str (g, "WorkDir", work);
  yajl_gen_map_close (g);
  json_gen_kv_str (g, "Name", "overlay2");
  yajl_gen_map_close (g);
  json_gen_str (g, "Mounts");
  yajl_gen_array_open (g);
  yajl_gen_array_close (g);
  json_gen_kv_raw (g, "Config", r->config);
  containers_gen_network_settings (g, c, running ? netns : "");
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

/* RFC 3339 to Unix seconds (UTC); 0 when unparsable.  */
static time_t
parse_time (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return timegm (&tm);
}

/* Docker's go-units HumanDuration.  */
static void
human_duration (time_t secs, char *buf, size_t len)
{
  if (secs < 1)
    snprintf (buf, len, "Less than a second");
  else if (secs == 1)
    snprintf (buf, len, "1 second");
  else if (secs < 60)
    snprintf (buf, len, "%ld seconds", (long) secs);
  else if (secs / 60 == 1)
    snprintf (buf, len, "About a minute");
  else if (secs < 3600)
    snprintf (buf, len, "%ld minutes", (long) secs / 60);
  else if ((secs + 1800) / 3600 == 1)
    snprintf (buf, len, "About an hour");
  else if (secs < 48 * 3600)
    snprintf (buf, len, "%ld hours", (long) (secs + 1800) / 3600);
  else if (secs < 7 * 24 * 3600 * 2)
    snprintf (buf, len, "%ld days", (long) secs / 86400);
  else if (secs < 30 * 24 * 3600 * 3)
    snprintf (buf, len, "%ld weeks", (long) secs / (7 * 86400));
  else if (secs < 365 * 24 * 3600 * 2)
    snprintf (buf, len, "%ld months", (long) secs / (30 * 86400));
  else
    snprintf (buf, len, "%ld years", (long) secs / (365 * 86400));
}

static void
status_text (const struct ctr *c, char *buf, size_t len)
{
  const struct record *r = c->rec;
  char d[64];
  time_t now = time (NULL);
  if (strcmp (r->state.status, "running") == 0)
    {
      human_duration (now - parse_time (r->state.started_at), d, sizeof (d));
      snprintf (buf, len, "Up %s", d);
    }
  else if (strcmp (r->state.status, "paused") == 0)
    {
      human_duration (now - parse_time (r->state.started_at), d, sizeof (d));
      snprintf (buf, len, "Up %s (Paused)", d);
    }
  else if (strcmp (r->state.status, "restarting") == 0)
    {
      human_duration (now - parse_time (r->state.finished_at), d, sizeof (d));
      snprintf (buf, len, "Restarting (%d) %s ago", r->state.exit_code, d);
    }
  else if (strcmp (r->state.status, "exited") == 0)
    {
      human_duration (now - parse_time (r->state.finished_at), d, sizeof (d));
      snprintf (buf, len, "Exited (%d) %s ago", r->state.exit_code, d);
    }
  else if (strcmp (r->state.status, "created") == 0)
    snprintf (buf, len, "Created");
  else if (strcmp (r->state.status, "dead") == 0)
    snprintf (buf, len, "Dead");
  else
    snprintf (buf, len, "%s", r->state.status);
}

/* "sh -c 'x'" as Docker's Command column: entrypoint and cmd joined.  */
static char *
command_line (yajl_val cfg)
{
  static const char *const keys[] = { "Entrypoint", "Cmd", NULL };
  char *s = strdup ("");
  size_t k, i;
  for (k = 0; keys[k] && s; k++)
    {
      yajl_val a = json_get (cfg, keys[k]);
      for (i = 0; a && YAJL_IS_ARRAY (a) && i < a->u.array.len; i++)
        {
          char *n = NULL;
          if (!YAJL_IS_STRING (a->u.array.values[i]))
            continue;
          if (asprintf (&n, "%s%s%s", s, *s ? " " : "", a->u.array.values[i]->u.string) < 0)
            n = NULL;
          free (s);
          s = n;
          if (s == NULL)
            return NULL;
        }
    }
  return s;
}

/* The Ports of /containers/json: [{"IP","PrivatePort","PublicPort","Type"}]. */
static void
gen_port_summaries (yajl_gen g, const struct ctr *c)
{
  cleanup_json yajl_val p = NULL;
  size_t i, j;
  json_gen_str (g, "Ports");
  yajl_gen_array_open (g);
  if (containers_is_running (c) && c->rec->ports && json_parse (c->rec->ports, &p, NULL) == 0
      && YAJL_IS_OBJECT (p))
    for (i = 0; i < p->u.object.len; i++)
      {
        const char *key = p->u.object.keys[i], *slash = strchr (key, '/');
        yajl_val arr = p->u.object.values[i];
        if (arr == NULL || !YAJL_IS_ARRAY (arr))
          {
            /* exposed, not published */
            yajl_gen_map_open (g);
            json_gen_kv_int (g, "PrivatePort", atoi (key));
            json_gen_kv_str (g, "Type", slash ? slash + 1 : "tcp");
            yajl_gen_map_close (g);
            continue;
          }
        for (j = 0; arr && YAJL_IS_ARRAY (arr) && j < arr->u.array.len; j++)
          {
            yajl_val ip = json_get (arr->u.array.values[j], "HostIp");
            yajl_val port = json_get (arr->u.array.values[j], "HostPort");
            yajl_gen_map_open (g);
            json_gen_kv_str (g, "IP", ip && YAJL_IS_STRING (ip) ? ip->u.string : "0.0.0.0");
            json_gen_kv_int (g, "PrivatePort", atoi (key));
            json_gen_kv_int (g, "PublicPort", port && YAJL_IS_STRING (port) ? atoi (port->u.string) : 0);
            json_gen_kv_str (g, "Type", slash ? slash + 1 : "tcp");
            yajl_gen_map_close (g);
          }
      }
  yajl_gen_array_close (g);
}

static bool
filter_values_match (yajl_val filters, const char *key, const struct ctr *c)
{
  yajl_val v = json_get (filters, key);
  size_t i;
  if (v == NULL)
    return true;
  for (i = 0; i < json_filter_count (v); i++)
    {
      const char *want = json_filter_at (v, i);
      if (strcmp (key, "name") == 0 && strstr (ctr_name (c), want[0] == '/' ? want + 1 : want))
        return true;
      if (strcmp (key, "id") == 0 && strncmp (c->rec->id, want, strlen (want)) == 0)
        return true;
      if (strcmp (key, "status") == 0 && strcmp (c->rec->state.status, want) == 0)
        return true;
    }
  return false;
}

static int
cmp_created_desc (const void *a, const void *b)
{
  const struct ctr *x = *(struct ctr *const *) a, *y = *(struct ctr *const *) b;
  return strcmp (y->rec->created, x->rec->created);
}

int
containers_list_json (struct daemon *d, bool all, int limit, const char *filters, char **json, skiff_error_t *err)
{
  cleanup_json yajl_val f = NULL;
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free struct ctr **sorted = NULL;
  size_t i;
  int shown = 0;

  if (filters && *filters && json_parse (filters, &f, NULL) < 0)
    return daemon_error (err, 400, "invalid filters: %s", filters);
  if (g == NULL)
    return daemon_error (err, 500, "out of memory");
  sorted = calloc (d->n_containers + 1, sizeof (*sorted));
  if (sorted == NULL)
    return daemon_error (err, 500, "out of memory");
  memcpy (sorted, d->containers, d->n_containers * sizeof (*sorted));
  qsort (sorted, d->n_containers, sizeof (*sorted), cmp_created_desc);
  if (json_get (f, "status"))
    all = true;
  yajl_gen_array_open (g);
  for (i = 0; i < d->n_containers; i++)
    {
      struct ctr *c = sorted[i];
      cleanup_json yajl_val cfg = NULL, hc = NULL;
      cleanup_free char *cmd = NULL;
      char status[128];

      if (!all && limit <= 0 && !containers_is_running (c))
        continue;
      if (!filter_values_match (f, "name", c) || !filter_values_match (f, "id", c) || !filter_values_match (f, "status", c))
        continue;
      if (limit > 0 && shown >= limit)
        break;
      shown++;
      json_parse (c->rec->config ? c->rec->config : "{}", &cfg, NULL);
      json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, NULL);
      cmd = command_line (cfg);
      status_text (c, status, sizeof (status));
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "Id", c->rec->id);
      json_gen_str (g, "Names");
      yajl_gen_array_open (g);
      json_gen_str (g, c->rec->name);
      yajl_gen_array_close (g);
      json_gen_kv_str (g, "Image", c->rec->image_name);
      json_gen_kv_str (g, "ImageID", c->rec->image_id);
      json_gen_kv_str (g, "Command", cmd ? cmd : "");
      json_gen_kv_int (g, "Created", parse_time (c->rec->created));
      gen_port_summaries (g, c);
      json_gen_str (g, "Labels");
      if (json_get (cfg, "Labels"))
        json_gen_value (g, json_get (cfg, "Labels"));
      else
        {
          yajl_gen_map_open (g);
          yajl_gen_map_close (g);
        }
      json_gen_kv_str (g, "State", c->rec->state.status);
      json_gen_kv_str (g, "Status", status);
      json_gen_str (g, "HostConfig");
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "NetworkMode", ctr_network_mode (hc));
      yajl_gen_map_close (g);
      json_gen_str (g, "NetworkSettings");
      yajl_gen_map_open (g);
      containers_gen_networks (g, c);
      yajl_gen_map_close (g);
      json_gen_str (g, "Mounts");
      yajl_gen_array_open (g);
      yajl_gen_array_close (g);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  *json = json_gen_steal (g, NULL);
  return *json ? 0 : daemon_error (err, 500, "out of memory");
}
