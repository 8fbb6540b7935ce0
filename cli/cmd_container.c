/* Container verbs that are plain requests: stop, kill, restart, rm, ps,
   inspect, wait, top, container prune.  */
#include "cli.h"
#include "cleanup.h"
#include "format.h"
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Runs METHOD /containers/NAME<suffix> for every name, printing the name
   on success and the error otherwise, as docker stop/kill/rm do.  */
static int
for_each_container (struct cli_ctx *ctx, int argc, char **argv, const char *method, const char *suffix,
                    bool ignore_missing, bool not_found_error)
{
  int i, status = 0;
  for (i = optind; i < argc; i++)
    {
      cleanup_free char *path = cli_path ("/containers", argv[i], suffix);
      struct client_response r;
      skiff_error_t err = NULL;

      if (path == NULL || client_do (&ctx->client, method, path, NULL, NULL, 0, &r, &err) < 0)
        {
          status = 1;
          cli_fail (&err);
          continue;
        }
      if (r.status >= 400)
        {
          /* docker rm reports a missing container as "Error: No such
             container: NAME".  */
          if (not_found_error && r.status == 404)
            skiff_error_make (&err, 0, "Error: No such container: %s", argv[i]);
          else
            client_error_from_response (&r, &err);
          if (!(ignore_missing && r.status == 404))
            status = 1;
          cli_fail (&err);
        }
      else
        printf ("%s\n", argv[i]);
      client_response_release (&r);
    }
  return status;
}

static int
parse_int (const char *s, int *out)
{
  char *end;
  long v;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno || end == s || *end)
    return -1;
  *out = (int) v;
  return 0;
}

static int
stop_or_restart (struct cli_ctx *ctx, int argc, char **argv, const char *verb)
{
  static const struct option opts[] = {
    { "time", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *suffix = NULL;
  int c, t = -1;
  bool have_t = false;

  while ((c = cli_getopt (ctx, argc, argv, "+:t:", opts)) != -1)
    switch (c)
      {
      case 't':
        if (parse_int (optarg, &t) < 0)
          return cli_flag_error (ctx, "invalid argument \"%s\" for \"-t, --time\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax", optarg, optarg);
        have_t = true;
        break;
      default:
        return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  if (asprintf (&suffix, "/%s%s%d", verb, have_t ? "?t=" : "", t) < 0)
    return 1;
  if (!have_t)
    suffix[strlen (verb) + 1] = '\0';
  return for_each_container (ctx, argc, argv, "POST", suffix, false, false);
}

int
cmd_stop (struct cli_ctx *ctx, int argc, char **argv)
{
  return stop_or_restart (ctx, argc, argv, "stop");
}

int
cmd_restart (struct cli_ctx *ctx, int argc, char **argv)
{
  return stop_or_restart (ctx, argc, argv, "restart");
}

int
cmd_kill (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "signal", required_argument, NULL, 's' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *suffix = NULL;
  cleanup_free char *sig = NULL;
  const char *signal = "KILL";
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:s:", opts)) != -1)
    switch (c)
      {
      case 's': signal = optarg; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  sig = client_escape (signal);
  if (sig == NULL || asprintf (&suffix, "/kill?signal=%s", sig) < 0)
    return 1;
  return for_each_container (ctx, argc, argv, "POST", suffix, false, false);
}

int
cmd_rm (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "volumes", no_argument, NULL, 'v' },
    { "link", no_argument, NULL, 'l' },
    { NULL, 0, NULL, 0 },
  };
  bool force = false, volumes = false, link = false;
  char suffix[64];
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:fvl", opts)) != -1)
    switch (c)
      {
      case 'f': force = true; break;
      case 'v': volumes = true; break;
      case 'l': link = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  snprintf (suffix, sizeof (suffix), "%s%s%s%s", "", force ? "?force=1" : "",
            link ? (force ? "&link=1" : "?link=1") : "", volumes ? (force || link ? "&v=1" : "?v=1") : "");
  /* DELETE /containers/NAME?... */
  return for_each_container (ctx, argc, argv, "DELETE", suffix, force, true);
}

int
cmd_wait (struct cli_ctx *ctx, int argc, char **argv)
{
  int i, status = 0, c;
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };

  while ((c = cli_getopt (ctx, argc, argv, "+:", opts)) != -1)
    return ctx->status;
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  for (i = optind; i < argc; i++)
    {
      cleanup_free char *path = cli_path ("/containers", argv[i], "/wait");
      cleanup_json yajl_val v = NULL;
      skiff_error_t err = NULL;
      yajl_val code;

      if (path == NULL || client_json (&ctx->client, "POST", path, NULL, &v, &err) < 0)
        {
          status = 1;
          cli_fail (&err);
          continue;
        }
      code = json_get (v, "StatusCode");
      printf ("%s\n", code && YAJL_IS_NUMBER (code) ? YAJL_GET_NUMBER (code) : "0");
      fflush (stdout);
    }
  return status;
}

int
cmd_top (struct cli_ctx *ctx, int argc, char **argv)
{
  cleanup_free char *path = NULL;
  cleanup_free char *base = NULL;
  cleanup_free char *args = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  struct tabwriter tw;
  yajl_val titles, procs;
  size_t i, j;
  int c;
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };

  while ((c = cli_getopt (ctx, argc, argv, "+:", opts)) != -1)
    return ctx->status;
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  base = cli_path ("/containers", argv[optind], "/top");
  if (base == NULL)
    return 1;
  if (argc - optind > 1)
    {
      /* The rest of the line is ps's options, joined by spaces.  */
      size_t len = 0;
      int k;
      for (k = optind + 1; k < argc; k++)
        len += strlen (argv[k]) + 1;
      args = calloc (1, len + 1);
      if (args == NULL)
        return 1;
      for (k = optind + 1; k < argc; k++)
        {
          if (k > optind + 1)
            strcat (args, " ");
          strcat (args, argv[k]);
        }
      {
        cleanup_free char *esc = client_escape (args);
        if (esc == NULL || asprintf (&path, "%s?ps_args=%s", base, esc) < 0)
          return 1;
      }
    }
  if (client_json (&ctx->client, "GET", path ? path : base, NULL, &v, &err) < 0)
    return cli_fail (&err);
  titles = json_get (v, "Titles");
  procs = json_get (v, "Processes");
  tabwriter_init (&tw, 20, 3);
  for (i = 0; titles && YAJL_IS_ARRAY (titles) && i < titles->u.array.len; i++)
    {
      yajl_val t = titles->u.array.values[i];
      const char *s = YAJL_IS_STRING (t) ? t->u.string : "";
      tabwriter_write (&tw, s, strlen (s));
      tabwriter_write (&tw, i + 1 < titles->u.array.len ? "\t" : "\n", 1);
    }
  for (i = 0; procs && YAJL_IS_ARRAY (procs) && i < procs->u.array.len; i++)
    {
      yajl_val row = procs->u.array.values[i];
      for (j = 0; YAJL_IS_ARRAY (row) && j < row->u.array.len; j++)
        {
          yajl_val cell = row->u.array.values[j];
          const char *s = YAJL_IS_STRING (cell) ? cell->u.string : "";
          tabwriter_write (&tw, s, strlen (s));
          tabwriter_write (&tw, j + 1 < row->u.array.len ? "\t" : "\n", 1);
        }
    }
  tabwriter_flush (&tw, stdout);
  tabwriter_release (&tw);
  return 0;
}

/* ---- ps ---- */

static const struct format_header ps_headers[] = {
  { "ID", "CONTAINER ID" },   { "Image", "IMAGE" },   { "Command", "COMMAND" },
  { "RunningFor", "CREATED" }, { "CreatedAt", "CREATED AT" }, { "Status", "STATUS" },
  { "Ports", "PORTS" },       { "Names", "NAMES" },   { "Size", "SIZE" },
  { "Labels", "LABELS" },     { "Mounts", "MOUNTS" }, { "Networks", "NETWORKS" },
  { "State", "STATE" },       { "LocalVolumes", "LOCAL VOLUMES" },
  { NULL, NULL },
};

/* The PORTS column, as docker's DisplayablePorts makes it: ports sorted
   by container port, then address, host port and protocol; a port
   published on the same number ("IP:80->80/tcp") or not published
   ("80/tcp") joins a run of consecutive ones ("IP:80-81->80-81/tcp",
   "80-81/tcp"); the other mappings ("IP:8080->80/tcp") follow.  */
struct port_item
{
  const char *ip, *type;
  long long priv, pub;
};

static int
cmp_port_item (const void *a, const void *b)
{
  const struct port_item *x = a, *y = b;
  int c;
  if (x->priv != y->priv)
    return x->priv < y->priv ? -1 : 1;
  if ((c = strcmp (x->ip, y->ip)) != 0)
    return c;
  if (x->pub != y->pub)
    return x->pub < y->pub ? -1 : 1;
  return strcmp (x->type, y->type);
}

struct port_group
{
  char key[96]; /* "type" or "ip/type" */
  long long first, last;
};

static int
append (char **out, const char *fmt, ...) SKIFF_PRINTF (2, 3);
static int
append (char **out, const char *fmt, ...)
{
  char *item = NULL, *tmp = NULL;
  va_list ap;
  int r;
  va_start (ap, fmt);
  r = vasprintf (&item, fmt, ap);
  va_end (ap);
  if (r < 0 || asprintf (&tmp, "%s%s%s", *out, **out ? ", " : "", item) < 0)
    {
      free (item);
      return -1;
    }
  free (item);
  free (*out);
  *out = tmp;
  return 0;
}

static int
append_group (char **out, const struct port_group *g)
{
  const char *slash = strrchr (g->key, '/');
  char range[48];
  if (g->first == g->last)
    snprintf (range, sizeof (range), "%lld", g->first);
  else
    snprintf (range, sizeof (range), "%lld-%lld", g->first, g->last);
  if (slash == NULL)
    return append (out, "%s/%s", range, g->key);
  return append (out, "%.*s:%s->%s/%s", (int) (slash - g->key), g->key, range, range, slash + 1);
}

static char *
ports_text (yajl_val ports)
{
  size_t n = ports && YAJL_IS_ARRAY (ports) ? ports->u.array.len : 0, i, k, ngroups = 0;
  cleanup_free struct port_item *items = calloc (n + 1, sizeof (*items));
  cleanup_free struct port_group *groups = calloc (n + 1, sizeof (*groups));
  cleanup_free char *mappings = strdup ("");
  char *out = strdup ("");

  if (items == NULL || groups == NULL || mappings == NULL || out == NULL)
    {
      free (out);
      return NULL;
    }
  for (i = 0; i < n; i++)
    {
      yajl_val p = ports->u.array.values[i];
      items[i].ip = json_str_or (json_get (p, "IP"), "");
      items[i].type = json_str_or (json_get (p, "Type"), "tcp");
      items[i].priv = json_int_or (json_get (p, "PrivatePort"), 0);
      items[i].pub = json_int_or (json_get (p, "PublicPort"), 0);
    }
  qsort (items, n, sizeof (*items), cmp_port_item);
  for (i = 0; i < n; i++)
    {
      struct port_item *it = &items[i];
      char key[96];
      if (*it->ip && it->pub != it->priv)
        {
          if (append (&mappings, strchr (it->ip, ':') ? "[%s]:%lld->%lld/%s" : "%s:%lld->%lld/%s", it->ip, it->pub,
                      it->priv, it->type)
              < 0)
            goto fail;
          continue;
        }
      if (*it->ip)
        snprintf (key, sizeof (key), "%s/%s", it->ip, it->type);
      else
        snprintf (key, sizeof (key), "%s", it->type);
      for (k = 0; k < ngroups && strcmp (groups[k].key, key) != 0; k++)
        ;
      if (k == ngroups)
        {
          snprintf (groups[ngroups].key, sizeof (groups[ngroups].key), "%s", key);
          groups[ngroups].first = groups[ngroups].last = it->priv;
          ngroups++;
        }
      else if (it->priv == groups[k].last + 1)
        groups[k].last = it->priv;
      else
        {
          /* A gap: the run so far is printed now, a new one starts.  */
          if (append_group (&out, &groups[k]) < 0)
            goto fail;
          groups[k].first = groups[k].last = it->priv;
        }
    }
  for (k = 0; k < ngroups; k++)
    if (append_group (&out, &groups[k]) < 0)
      goto fail;
  if (*mappings && append (&out, "%s", mappings) < 0)
    goto fail;
  return out;
fail:
  free (out);
  return NULL;
}

static char *
join_keys_or_values (yajl_val obj, const char *sep, bool kv)
{
  char *out = strdup (""), *tmp;
  size_t i;
  for (i = 0; obj && YAJL_IS_OBJECT (obj) && i < obj->u.object.len && out; i++)
    {
      tmp = NULL;
      if (kv)
        {
          if (asprintf (&tmp, "%s%s%s=%s", out, out[0] ? sep : "", obj->u.object.keys[i],
                        json_str_or (obj->u.object.values[i], ""))
              < 0)
            tmp = NULL;
        }
      else if (asprintf (&tmp, "%s%s%s", out, out[0] ? sep : "", obj->u.object.keys[i]) < 0)
        tmp = NULL;
      free (out);
      out = tmp;
    }
  return out;
}

static char *
names_text (yajl_val names, bool trunc)
{
  char *out = strdup (""), *tmp;
  size_t i;
  if (!names || !YAJL_IS_ARRAY (names))
    return out;
  for (i = 0; i < names->u.array.len && out; i++)
    {
      const char *n = json_str_or (names->u.array.values[i], "");
      if (n[0] == '/')
        n++;
      /* Truncated output keeps the first name without a link path.  */
      if (trunc && strchr (n, '/') == NULL)
        {
          free (out);
          return strdup (n);
        }
      tmp = NULL;
      if (asprintf (&tmp, "%s%s%s", out, out[0] ? "," : "", n) < 0)
        tmp = NULL;
      free (out);
      out = tmp;
    }
  return out;
}

static char *
image_text (yajl_val c, bool trunc)
{
  const char *image = json_str_or (json_get (c, "Image"), ""), *image_id = json_str_or (json_get (c, "ImageID"), "");
  const char *at;
  if (image[0] == '\0')
    return strdup ("<no image>");
  if (!trunc)
    return strdup (image);
  if (strcmp (image, image_id) == 0 || strncmp (image, "sha256:", 7) == 0)
    return format_trunc_id (image);
  at = strchr (image, '@');
  if (at && strchr (at, ':'))
    return strndup (image, at - image);
  return strdup (image);
}

static void
kv (yajl_gen g, const char *key, const char *value)
{
  json_gen_kv_str (g, key, value ? value : "");
}

/* The docker ps template context of one container (keys sorted, values
   strings, as Go marshals it).  */
static int
ps_context (yajl_val c, bool trunc, time_t now, yajl_val *out, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *command = NULL, *quoted = NULL, *created_at = NULL, *id = NULL, *image = NULL;
  cleanup_free char *labels = NULL, *mounts = NULL, *names = NULL, *networks = NULL, *ports = NULL;
  cleanup_free char *running_for = NULL, *since = NULL, *size_text = NULL, *text = NULL;
  int64_t created = json_int_or (json_get (c, "Created"), 0);
  char local_volumes[32], when[64];
  yajl_val mv = json_get (c, "Mounts");
  size_t i, nlocal = 0;
  struct tm tm;
  time_t ct = (time_t) created;

  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "ps");
  command = trunc ? format_ellipsis (json_str_or (json_get (c, "Command"), ""), 20)
                  : strdup (json_str_or (json_get (c, "Command"), ""));
  quoted = command ? format_go_quote (command) : NULL;
  localtime_r (&ct, &tm);
  strftime (when, sizeof (when), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  id = trunc ? format_trunc_id (json_str_or (json_get (c, "Id"), "")) : strdup (json_str_or (json_get (c, "Id"), ""));
  image = image_text (c, trunc);
  labels = join_keys_or_values (json_get (c, "Labels"), ",", true);
  networks = join_keys_or_values (json_get (json_get (c, "NetworkSettings"), "Networks"), ",", false);
  names = names_text (json_get (c, "Names"), trunc);
  ports = ports_text (json_get (c, "Ports"));
  since = format_human_duration (difftime (now, ct));
  mounts = strdup ("");
  for (i = 0; mv && YAJL_IS_ARRAY (mv) && i < mv->u.array.len && mounts; i++)
    {
      yajl_val m = mv->u.array.values[i];
      const char *name = json_str_or (json_get (m, "Name"), json_str_or (json_get (m, "Source"), ""));
      char *tmp = NULL;
      if (strcmp (json_str_or (json_get (m, "Driver"), ""), "local") == 0)
        nlocal++;
      if (asprintf (&tmp, "%s%s%s", mounts, mounts[0] ? "," : "", name) < 0)
        tmp = NULL;
      free (mounts);
      mounts = tmp;
    }
  snprintf (local_volumes, sizeof (local_volumes), "%zu", nlocal);
  {
    int64_t rootfs = json_int_or (json_get (c, "SizeRootFs"), 0);
    cleanup_free char *rw = format_human_size ((double) json_int_or (json_get (c, "SizeRw"), 0), 3);
    cleanup_free char *virt = format_human_size ((double) rootfs, 3);
    if (rw && virt && asprintf (&size_text, rootfs > 0 ? "%s (virtual %s)" : "%s", rw, virt) < 0)
      size_text = NULL;
  }
  if (since && asprintf (&running_for, "%s ago", since) < 0)
    running_for = NULL;
  if (!quoted || !id || !image || !labels || !networks || !names || !ports || !mounts || !size_text || !running_for)
    return skiff_error_make (err, ENOMEM, "ps");

  yajl_gen_map_open (g);
  kv (g, "Command", quoted);
  kv (g, "CreatedAt", when);
  kv (g, "ID", id);
  kv (g, "Image", image);
  kv (g, "Labels", labels);
  kv (g, "LocalVolumes", local_volumes);
  kv (g, "Mounts", mounts);
  kv (g, "Names", names);
  kv (g, "Networks", networks);
  kv (g, "Ports", ports);
  kv (g, "RunningFor", running_for);
  kv (g, "Size", size_text);
  kv (g, "State", json_str_or (json_get (c, "State"), ""));
  kv (g, "Status", json_str_or (json_get (c, "Status"), ""));
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "ps");
  return json_parse (text, out, err);
}

/* --filter k=v ... as the API's {"k":{"v":true}} (keys sorted).  */
static int
filters_json (char **filters, char **out, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  size_t n = strv_len (filters), i, j;
  cleanup_free char **sorted = calloc (n + 1, sizeof (char *));

  if (g == NULL || sorted == NULL)
    return skiff_error_make (err, ENOMEM, "filters");
  for (i = 0; i < n; i++)
    {
      if (strchr (filters[i], '=') == NULL)
        return skiff_error_make (err, 0, "bad format of filter (expected name=value)");
      sorted[i] = filters[i];
    }
  /* Insertion sort: a handful of filters.  */
  for (i = 1; i < n; i++)
    for (j = i; j > 0 && strcmp (sorted[j - 1], sorted[j]) > 0; j--)
      {
        char *t = sorted[j];
        sorted[j] = sorted[j - 1];
        sorted[j - 1] = t;
      }
  yajl_gen_map_open (g);
  for (i = 0; i < n;)
    {
      size_t klen = strchr (sorted[i], '=') - sorted[i];
      yajl_gen_string (g, (const unsigned char *) sorted[i], klen);
      yajl_gen_map_open (g);
      for (j = i; j < n && strncmp (sorted[j], sorted[i], klen + 1) == 0; j++)
        {
          json_gen_str (g, sorted[j] + klen + 1);
          yajl_gen_bool (g, 1);
        }
      yajl_gen_map_close (g);
      i = j;
    }
  yajl_gen_map_close (g);
  *out = json_gen_steal (g, NULL);
  return *out ? 0 : skiff_error_make (err, ENOMEM, "filters");
}

int
cmd_ps (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },      { "quiet", no_argument, NULL, 'q' },
    { "last", required_argument, NULL, 'n' }, { "latest", no_argument, NULL, 'l' },
    { "no-trunc", no_argument, NULL, 'T' }, { "filter", required_argument, NULL, 'f' },
    { "format", required_argument, NULL, 'F' }, { "size", no_argument, NULL, 's' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **filters = NULL;
  cleanup_free char *fjson = NULL, *fesc = NULL;
  cleanup_json yajl_val list = NULL;
  char path[4096];
  const char *format = NULL;
  bool all = false, quiet = false, no_trunc = false, size = false;
  int c, last = -1;
  skiff_error_t err = NULL;
  struct formatter f;
  size_t i;
  time_t now = time (NULL);

  while ((c = cli_getopt (ctx, argc, argv, "+:aqn:lf:s", opts)) != -1)
    switch (c)
      {
      case 'a': all = true; break;
      case 'q': quiet = true; break;
      case 'n':
        if (parse_int (optarg, &last) < 0)
          return cli_flag_error (ctx, "invalid argument \"%s\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax", optarg, optarg);
        break;
      case 'l': last = 1; break;
      case 'T': no_trunc = true; break;
      case 'f':
        if (strv_push (&filters, optarg) < 0)
          return 1;
        break;
      case 'F': format = optarg; break;
      case 's': size = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 0))
    return 1;
  if (filters)
    {
      if (filters_json (filters, &fjson, &err) < 0)
        return cli_flag_error (ctx, "%s", err->msg);
      fesc = client_escape (fjson);
      if (fesc == NULL)
        return 1;
    }
  /* As docker: a format that shows the size asks the daemon for it.  */
  if (format && (strstr (format, ".Size") || strcmp (format, "json") == 0 || strstr (format, "json .}}")))
    size = true;
  /* Query parameters in Go's url.Values order (sorted by key).  */
  snprintf (path, sizeof (path), "/containers/json?%s", all ? "all=1&" : "");
  if (fesc)
    snprintf (path + strlen (path), sizeof (path) - strlen (path), "filters=%s&", fesc);
  if (last > 0)
    snprintf (path + strlen (path), sizeof (path) - strlen (path), "limit=%d&", last);
  if (size)
    snprintf (path + strlen (path), sizeof (path) - strlen (path), "size=1&");
  path[strlen (path) - 1] = '\0'; /* the last '&' or the '?' */
  if (client_json (&ctx->client, "GET", path, NULL, &list, &err) < 0)
    return cli_fail (&err);
  if (quiet && format == NULL)
    format = "{{.ID}}";
  if (formatter_init (&f, format,
                      size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
                           : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
                      ps_headers, true, stdout, &err)
      < 0)
    return cli_fail (&err);
  for (i = 0; list && YAJL_IS_ARRAY (list) && i < list->u.array.len; i++)
    {
      cleanup_json yajl_val row = NULL;
      if (ps_context (list->u.array.values[i], !no_trunc, now, &row, &err) < 0
          || formatter_row (&f, row, &err) < 0)
        {
          formatter_release (&f);
          return cli_fail (&err);
        }
    }
  if (formatter_finish (&f, &err) < 0)
    {
      formatter_release (&f);
      return cli_fail (&err);
    }
  formatter_release (&f);
  return 0;
}

/* ---- inspect ---- */

static int
inspect_impl (struct cli_ctx *ctx, int argc, char **argv, const char *forced_type)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "type", required_argument, NULL, 't' },
    { "size", no_argument, NULL, 's' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = NULL, *type = forced_type;
  bool size = false;
  int c, i, status = 0;
  size_t nfound = 0;
  cleanup_free yajl_val *found = NULL;
  cleanup_strv char **errors = NULL;  /* printed after the output, as docker */

  while ((c = cli_getopt (ctx, argc, argv, "+:f:s", opts)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      case 't':
        if (forced_type)
          return cli_flag_error (ctx, "unknown flag: --type");
        type = optarg;
        break;
      case 's': size = true; break;
      default: return ctx->status;
      }
  if (type && strcmp (type, "container") && strcmp (type, "image"))
    {
      fprintf (stderr, "\"%s\" is not a valid value for --type\n", type);
      return 1;
    }
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  found = calloc (argc, sizeof (yajl_val));
  if (found == NULL)
    return 1;
  for (i = optind; i < argc; i++)
    {
      static const char *const kinds[] = { "container", "image" };
      bool done = false;
      int k;
      for (k = 0; k < 2 && !done; k++)
        {
          cleanup_free char *path = NULL;
          struct client_response r;
          skiff_error_t err = NULL;
          if (type && strcmp (type, kinds[k]) != 0)
            continue;
          path = cli_path (k == 0 ? "/containers" : "/images", argv[i], k == 0 && size ? "/json?size=1" : "/json");
          if (path == NULL || client_do (&ctx->client, "GET", path, NULL, NULL, 0, &r, &err) < 0)
            return cli_fail (&err);
          if (r.status == 404)
            {
              client_response_release (&r);
              continue;
            }
          done = true;
          if (r.status >= 400)
            client_error_from_response (&r, &err);
          else if (json_parse (r.body, &found[nfound], &err) == 0)
            nfound++;
          if (err)
            {
              status = 1;
              strv_push (&errors, err->msg);
              skiff_error_release (&err);
            }
          client_response_release (&r);
        }
      if (!done)
        {
          cleanup_free char *msg = NULL;
          status = 1;
          if (asprintf (&msg, "Error: No such %s: %s", type ? type : "object", argv[i]) >= 0)
            strv_push (&errors, msg);
        }
    }
  return cli_print_inspected (format, found, nfound, errors, status);
}

int
cmd_inspect (struct cli_ctx *ctx, int argc, char **argv)
{
  return inspect_impl (ctx, argc, argv, NULL);
}

int
cmd_container_inspect (struct cli_ctx *ctx, int argc, char **argv)
{
  return inspect_impl (ctx, argc, argv, "container");
}

int
cmd_image_inspect (struct cli_ctx *ctx, int argc, char **argv)
{
  return inspect_impl (ctx, argc, argv, "image");
}

/* ---- prune ---- */

int
cmd_container_prune (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "filter", required_argument, NULL, 'F' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **filters = NULL;
  cleanup_free char *fjson = NULL, *fesc = NULL, *path = NULL, *space = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  bool force = false;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:f", opts)) != -1)
    switch (c)
      {
      case 'f': force = true; break;
      case 'F':
        if (strv_push (&filters, optarg) < 0)
          return 1;
        break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 0))
    return 1;
  if (!force)
    {
      char line[64] = "";
      fprintf (stdout, "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
      fflush (stdout);
      if (fgets (line, sizeof (line), stdin) == NULL || (line[0] != 'y' && line[0] != 'Y')
          || (line[1] != '\n' && line[1] != '\0'))
        return 0;
    }
  if (filters)
    {
      if (filters_json (filters, &fjson, &err) < 0)
        return cli_flag_error (ctx, "%s", err->msg);
      fesc = client_escape (fjson);
    }
  if (asprintf (&path, "/containers/prune%s%s", fesc ? "?filters=" : "", fesc ? fesc : "") < 0)
    return 1;
  if (client_json (&ctx->client, "POST", path, NULL, &v, &err) < 0)
    return cli_fail (&err);
  cli_print_deleted (v, "ContainersDeleted", "Deleted Containers:");
  space = format_human_size ((double) json_int_or (json_get (v, "SpaceReclaimed"), 0), 4);
  printf ("Total reclaimed space: %s\n", space ? space : "0B");
  return 0;
}
