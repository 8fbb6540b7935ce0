/* run/create flags -> POST /containers/create body.  */
#include "container_opts.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
parse_ram_bytes (const char *s, int64_t *out, skiff_error_t *err)
{
  const char *p = s;
  double value;
  int64_t mult = 1;
  char *end;

  /* ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$ */
  if (!isdigit ((unsigned char) *p))
    return skiff_error_make (err, 0, "invalid size: '%s'", s);
  while (isdigit ((unsigned char) *p))
    p++;
  while (*p == '.' && isdigit ((unsigned char) p[1]))
    for (p++; isdigit ((unsigned char) *p); p++)
      ;
  errno = 0;
  value = strtod (s, &end);
  if (errno != 0 || end > p)
    return skiff_error_make (err, 0, "invalid size: '%s'", s);
  if (*p == ' ')
    p++;
  switch (tolower ((unsigned char) *p))
    {
    case 'k': mult = 1LL << 10; p++; break;
    case 'm': mult = 1LL << 20; p++; break;
    case 'g': mult = 1LL << 30; p++; break;
    case 't': mult = 1LL << 40; p++; break;
    case 'p': mult = 1LL << 50; p++; break;
    default: break;
    }
  if (*p == 'i' || *p == 'I')
    p++;
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0')
    return skiff_error_make (err, 0, "invalid size: '%s'", s);
  if (value * (double) mult >= 9.2e18)
    return skiff_error_make (err, 0, "invalid size: '%s'", s);
  *out = (int64_t) (value * (double) mult);
  return 0;
}

int
parse_nano_cpus (const char *s, int64_t *out, skiff_error_t *err)
{
  const char *p = s;
  int64_t whole = 0, frac = 0;
  int digits = 0;
  bool neg = false, any = false;

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  for (; isdigit ((unsigned char) *p); p++, any = true)
    {
      if (whole > 9000000000LL)
        return skiff_error_make (err, 0, "value is too large");
      whole = whole * 10 + (*p - '0');
    }
  if (*p == '.')
    for (p++; isdigit ((unsigned char) *p); p++, any = true)
      {
        if (digits < 9)
          {
            frac = frac * 10 + (*p - '0');
            digits++;
          }
        else if (*p != '0')
          return skiff_error_make (err, 0, "value is too precise");
      }
  if (!any || *p != '\0')
    return skiff_error_make (err, 0, "failed to parse %s as a rational number", s);
  for (; digits < 9; digits++)
    frac *= 10;
  *out = (whole * 1000000000LL + frac) * (neg ? -1 : 1);
  return 0;
}

void
container_opts_release (struct container_opts *o)
{
  cleanup_strvp (&o->env);
  cleanup_strvp (&o->env_files);
  cleanup_strvp (&o->labels);
  cleanup_strvp (&o->cap_add);
  cleanup_strvp (&o->cap_drop);
  cleanup_strvp (&o->security_opt);
  cleanup_strvp (&o->attach);
  cleanup_strvp (&o->aliases);
  cleanup_strvp (&o->dns);
  cleanup_strvp (&o->dns_search);
  cleanup_strvp (&o->dns_options);
  free (o->ports);
  o->ports = NULL;
  free (o->exposed);
  o->exposed = NULL;
}

enum
{
  OPT_RM = 256,
  OPT_NAME,
  OPT_ENV_FILE,
  OPT_ENTRYPOINT,
  OPT_NETWORK,
  OPT_MEMORY_SWAP,
  OPT_PIDS_LIMIT,
  OPT_CPUS,
  OPT_READ_ONLY,
  OPT_CAP_ADD,
  OPT_CAP_DROP,
  OPT_PRIVILEGED,
  OPT_SECURITY_OPT,
  OPT_RESTART,
  OPT_INIT,
  OPT_DETACH_KEYS,
  OPT_SIG_PROXY,
  OPT_NETWORK_ALIAS,
  OPT_IP,
  OPT_DNS,
  OPT_DNS_SEARCH,
  OPT_DNS_OPTION,
  OPT_EXPOSE,
};

static const struct option long_opts[] = {
  { "detach", no_argument, NULL, 'd' },
  { "interactive", no_argument, NULL, 'i' },
  { "tty", no_argument, NULL, 't' },
  { "attach", required_argument, NULL, 'a' },
  { "rm", no_argument, NULL, OPT_RM },
  { "name", required_argument, NULL, OPT_NAME },
  { "env", required_argument, NULL, 'e' },
  { "env-file", required_argument, NULL, OPT_ENV_FILE },
  { "workdir", required_argument, NULL, 'w' },
  { "user", required_argument, NULL, 'u' },
  { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
  { "hostname", required_argument, NULL, 'h' },
  { "publish", required_argument, NULL, 'p' },
  { "publish-all", no_argument, NULL, 'P' },
  { "network", required_argument, NULL, OPT_NETWORK },
  { "net", required_argument, NULL, OPT_NETWORK },
  { "network-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
  { "dns", required_argument, NULL, OPT_DNS },
  { "expose", required_argument, NULL, OPT_EXPOSE },
  { "dns-search", required_argument, NULL, OPT_DNS_SEARCH },
  { "dns-option", required_argument, NULL, OPT_DNS_OPTION },
  { "dns-opt", required_argument, NULL, OPT_DNS_OPTION },
  { "net-alias", required_argument, NULL, OPT_NETWORK_ALIAS },
  { "ip", required_argument, NULL, OPT_IP },
  { "memory", required_argument, NULL, 'm' },
  { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
  { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
  { "cpus", required_argument, NULL, OPT_CPUS },
  { "cpu-shares", required_argument, NULL, 'c' },
  { "read-only", no_argument, NULL, OPT_READ_ONLY },
  { "cap-add", required_argument, NULL, OPT_CAP_ADD },
  { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
  { "privileged", no_argument, NULL, OPT_PRIVILEGED },
  { "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
  { "restart", required_argument, NULL, OPT_RESTART },
  { "label", required_argument, NULL, 'l' },
  { "init", no_argument, NULL, OPT_INIT },
  { "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
  { "sig-proxy", no_argument, NULL, OPT_SIG_PROXY },
  { NULL, 0, NULL, 0 },
};

static int
parse_int64 (const char *s, int64_t *out)
{
  char *end;
  long long v;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return -1;
  *out = v;
  return 0;
}

static int
value_error (struct cli_ctx *ctx, const char *value, const char *flag, skiff_error_t *err)
{
  int ret = cli_flag_error (ctx, "invalid argument \"%s\" for \"%s\" flag: %s", value, flag, (*err)->msg);
  skiff_error_release (err);
  return ret;
}

/* container.NetworkMode.IsUserDefined.  */
static bool
network_user_defined (const char *mode)
{
  return strcmp (mode, "default") && strcmp (mode, "bridge") && strcmp (mode, "host") && strcmp (mode, "none")
         && strncmp (mode, "container:", 10);
}

int
container_opts_parse (struct cli_ctx *ctx, int argc, char **argv, bool run, struct container_opts *o)
{
  skiff_error_t err = NULL;
  int c;

  memset (o, 0, sizeof (*o));
  o->run = run;
  o->network = "default";
  o->restart = "no";
  o->sig_proxy = true;
  optind = 0;
  while ((c = cli_getopt (ctx, argc, argv, "+:dita:e:w:u:h:m:c:l:p:P", long_opts)) != -1)
    {
      int ret = 0;
      if (c == CLI_OPT_EXIT)
        return ctx->status;
      /* create has no -d, --detach-keys, --sig-proxy.  */
      if (!run && (c == 'd' || c == OPT_DETACH_KEYS || c == OPT_SIG_PROXY))
        {
          if (c == 'd' && argv[optind - 1][1] != '-')
            return cli_flag_error (ctx, "unknown shorthand flag: 'd' in %s", argv[optind - 1]);
          return cli_flag_error (ctx, "unknown flag: %s", argv[optind - 1]);
        }
      switch (c)
        {
        case 'd': o->detach = true; break;
        case 'i': o->interactive = true; break;
        case 't': o->tty = true; break;
        case 'a':
          if (strcasecmp (optarg, "stdin") && strcasecmp (optarg, "stdout") && strcasecmp (optarg, "stderr"))
            return cli_flag_error (ctx, "invalid argument \"%s\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", optarg);
          ret = strv_push (&o->attach, optarg);
          break;
        case OPT_RM: o->rm = true; break;
        case OPT_NAME: o->name = optarg; break;
        case 'e': ret = strv_push (&o->env, optarg); break;
        case 'p':
          if (ports_parse (optarg, &o->ports, &o->n_ports, &err) < 0)
            return value_error (ctx, optarg, "-p, --publish", &err);
          break;
        case 'P': o->publish_all = true; break;
        case OPT_EXPOSE:
          /* PORT[/PROTO] or a range: no host part.  */
          if (strchr (optarg, ':'))
            return cli_flag_error (ctx, "invalid argument \"%s\" for \"--expose\" flag: invalid range format for --expose: %s",
                                   optarg, optarg);
          if (ports_parse (optarg, &o->exposed, &o->n_exposed, &err) < 0)
            return value_error (ctx, optarg, "--expose", &err);
          break;
        case OPT_ENV_FILE: ret = strv_push (&o->env_files, optarg); break;
        case 'w': o->workdir = optarg; break;
        case 'u': o->user = optarg; break;
        case OPT_ENTRYPOINT: o->entrypoint = optarg; o->entrypoint_set = true; break;
        case 'h': o->hostname = optarg; break;
        case OPT_NETWORK:
          o->network = optarg;
          o->network_set = true;
          break;
        case OPT_NETWORK_ALIAS: ret = strv_push (&o->aliases, optarg); break;
        case OPT_DNS:
          {
            struct in_addr a4;
            struct in6_addr a6;
            if (inet_pton (AF_INET, optarg, &a4) != 1 && inet_pton (AF_INET6, optarg, &a6) != 1)
              return cli_flag_error (ctx, "invalid argument \"%s\" for \"--dns\" flag: %s is not an ip address",
                                     optarg, optarg);
            ret = strv_push (&o->dns, optarg);
            break;
          }
        case OPT_DNS_SEARCH: ret = strv_push (&o->dns_search, optarg); break;
        case OPT_DNS_OPTION: ret = strv_push (&o->dns_options, optarg); break;
        case OPT_IP: o->ip = optarg; break;
        case 'm':
          if (parse_ram_bytes (optarg, &o->memory, &err) < 0)
            return value_error (ctx, optarg, "-m, --memory", &err);
          break;
        case OPT_MEMORY_SWAP:
          if (strcmp (optarg, "-1") == 0)
            o->memory_swap = -1;
          else if (parse_ram_bytes (optarg, &o->memory_swap, &err) < 0)
            return value_error (ctx, optarg, "--memory-swap", &err);
          break;
        case OPT_PIDS_LIMIT:
          if (parse_int64 (optarg, &o->pids_limit) < 0)
            return cli_flag_error (ctx, "invalid argument \"%s\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax", optarg, optarg);
          break;
        case 'c':
          if (parse_int64 (optarg, &o->cpu_shares) < 0)
            return cli_flag_error (ctx, "invalid argument \"%s\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing \"%s\": invalid syntax", optarg, optarg);
          break;
        case OPT_CPUS:
          if (parse_nano_cpus (optarg, &o->nano_cpus, &err) < 0)
            return value_error (ctx, optarg, "--cpus", &err);
          break;
        case OPT_READ_ONLY: o->read_only = true; break;
        case OPT_CAP_ADD: ret = strv_push (&o->cap_add, optarg); break;
        case OPT_CAP_DROP: ret = strv_push (&o->cap_drop, optarg); break;
        case OPT_PRIVILEGED: o->privileged = true; break;
        case OPT_SECURITY_OPT: ret = strv_push (&o->security_opt, optarg); break;
        case OPT_RESTART: o->restart = optarg; break;
        case 'l': ret = strv_push (&o->labels, optarg); break;
        case OPT_INIT: o->init = true; break;
        case OPT_DETACH_KEYS: o->detach_keys = optarg; break;
        case OPT_SIG_PROXY: o->sig_proxy = true; break;
        default:
          return cli_flag_error (ctx, "unknown flag: %s", argv[optind - 1]);
        }
      if (ret < 0)
        {
          fprintf (stderr, "skiff: out of memory\n");
          return 1;
        }
    }
  if (cli_check_args (ctx, argc - optind, 1, -1) != 0)
    return 1;
  o->image = argv[optind];
  o->cmd = argc - optind > 1 ? argv + optind + 1 : NULL;
  o->ncmd = argc - optind - 1;
  if (o->rm && strcmp (o->restart, "no") != 0 && o->restart[0] != '\0')
    {
      cli_report_run_error (ctx, "Conflicting options: --restart and --rm", true);
      return CLI_STATUS_DAEMON;
    }
  if (o->detach && o->attach)
    {
      cli_report_run_error (ctx, "Conflicting options: -a and -d", true);
      return CLI_STATUS_DAEMON;
    }
  if (o->network_set && o->aliases && !network_user_defined (o->network))
    {
      cli_report_run_error (ctx, "network-scoped aliases are only supported for user-defined networks", true);
      return CLI_STATUS_DAEMON;
    }
  return 0;
}

/* -e NAME without "=" takes NAME's value from our environment when set.  */
static int
push_env (char ***env, const char *item)
{
  const char *val;
  if (strchr (item, '=') == NULL && (val = getenv (item)) != NULL)
    {
      cleanup_free char *kv = NULL;
      if (asprintf (&kv, "%s=%s", item, val) < 0)
        return -1;
      return strv_push (env, kv);
    }
  return strv_push (env, item);
}

static int
read_env_file (const char *path, char ***env, skiff_error_t *err)
{
  cleanup_free char *text = NULL;
  char *line, *rest;

  if (fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  for (rest = text; (line = strsep (&rest, "\n")) != NULL;)
    {
      size_t l;
      char *eq;
      while (isspace ((unsigned char) *line))
        line++;
      l = strlen (line);
      if (l > 0 && line[l - 1] == '\r')
        line[--l] = '\0';
      if (l == 0 || line[0] == '#')
        continue;
      if (line[0] == '=')
        return skiff_error_make (err, 0, "no variable name on line '%s'", line);
      eq = strchr (line, '=');
      {
        size_t nlen = eq ? (size_t) (eq - line) : l, i;
        for (i = 0; i < nlen; i++)
          if (isspace ((unsigned char) line[i]))
            return skiff_error_make (err, 0, "variable '%.*s' contains whitespaces", (int) nlen, line);
      }
      if (push_env (env, line) < 0)
        return skiff_error_make (err, ENOMEM, "env file `%s`", path);
    }
  return 0;
}

static void
gen_strv_or_null (yajl_gen g, const char *key, char **v)
{
  json_gen_str (g, key);
  if (v == NULL)
    {
      yajl_gen_null (g);
      return;
    }
  yajl_gen_array_open (g);
  for (; *v; v++)
    json_gen_str (g, *v);
  yajl_gen_array_close (g);
}

struct label
{
  const char *key;
  size_t klen;
  const char *val;
};

static int
cmp_label (const void *a, const void *b)
{
  const struct label *x = a, *y = b;
  size_t n = x->klen < y->klen ? x->klen : y->klen;
  int c = memcmp (x->key, y->key, n);
  return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* Labels as a Go map: keys sorted, the last value given for a key wins.  */
static int
gen_labels (yajl_gen g, char **labels)
{
  size_t n = strv_len (labels), i, j, count = 0;
  cleanup_free struct label *l = calloc (n + 1, sizeof (*l));
  if (l == NULL)
    return -1;
  for (i = 0; i < n; i++)
    {
      const char *eq = strchr (labels[i], '=');
      struct label cur = { labels[i], eq ? (size_t) (eq - labels[i]) : strlen (labels[i]), eq ? eq + 1 : "" };
      for (j = 0; j < count; j++)
        if (cmp_label (&l[j], &cur) == 0)
          break;
      l[j] = cur;
      if (j == count)
        count++;
    }
  qsort (l, count, sizeof (*l), cmp_label);
  json_gen_str (g, "Labels");
  yajl_gen_map_open (g);
  for (i = 0; i < count; i++)
    {
      yajl_gen_string (g, (const unsigned char *) l[i].key, l[i].klen);
      json_gen_str (g, l[i].val);
    }
  yajl_gen_map_close (g);
  return 0;
}

/* seccomp=PATH is sent as seccomp=<compact JSON of the file>, as Docker.  */
static int
security_opts (char **in, char ***out, skiff_error_t *err)
{
  for (; in && *in; in++)
    {
      const char *opt = *in, *sep = strchr (opt, '=');
      if (sep == NULL && strcmp (opt, "no-new-privileges") != 0)
        {
          sep = strchr (opt, ':');
          if (sep == NULL)
            return skiff_error_make (err, 0, "Invalid --security-opt: \"%s\"", opt);
        }
      if (sep && (size_t) (sep - opt) == 7 && strncmp (opt, "seccomp", 7) == 0 && strcmp (sep + 1, "unconfined") != 0)
        {
          cleanup_json yajl_val profile = NULL;
          cleanup_gen yajl_gen g = json_gen_new (false);
          cleanup_free char *compact = NULL, *item = NULL;
          if (json_parse_file (sep + 1, &profile, err) < 0)
            return skiff_error_wrap (err, "opening seccomp profile (%s) failed", sep + 1);
          if (g == NULL)
            return skiff_error_make (err, ENOMEM, "seccomp profile");
          json_gen_value (g, profile);
          compact = json_gen_steal (g, NULL);
          if (compact == NULL || asprintf (&item, "seccomp=%s", compact) < 0 || strv_push (out, item) < 0)
            return skiff_error_make (err, ENOMEM, "seccomp profile");
          continue;
        }
      if (strv_push (out, opt) < 0)
        return skiff_error_make (err, ENOMEM, "security options");
    }
  return 0;
}

static int
restart_policy (const char *policy, char **name, int64_t *count, skiff_error_t *err)
{
  const char *colon = strchr (policy, ':');
  *count = 0;
  if (colon == NULL)
    {
      *name = strdup (policy);
      return *name ? 0 : skiff_error_make (err, ENOMEM, "restart policy");
    }
  if (strchr (colon + 1, ':'))
    return skiff_error_make (err, 0, "invalid restart policy format");
  {
    char *end;
    long long v;
    errno = 0;
    v = strtoll (colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end)
      return skiff_error_make (err, 0, "maximum retry count must be an integer");
    *count = v;
  }
  *name = strndup (policy, colon - policy);
  return *name ? 0 : skiff_error_make (err, ENOMEM, "restart policy");
}

static bool
attach_has (char **attach, const char *stream)
{
  for (; attach && *attach; attach++)
    if (strcasecmp (*attach, stream) == 0)
      return true;
  return false;
}

int
container_opts_to_json (const struct container_opts *o, char **json, skiff_error_t *err)
{
  cleanup_strv char **env = NULL;
  cleanup_strv char **secopts = NULL;
  cleanup_free char *restart_name = NULL;
  cleanup_gen yajl_gen g = json_gen_new (false);
  int64_t restart_count;
  bool attach_stdin, attach_stdout, attach_stderr;
  char **p;
  int i;

  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "create request");
  for (p = o->env_files; p && *p; p++)
    if (read_env_file (*p, &env, err) < 0)
      return -1;
  for (p = o->env; p && *p; p++)
    if (push_env (&env, *p) < 0)
      return skiff_error_make (err, ENOMEM, "environment");
  if (security_opts (o->security_opt, &secopts, err) < 0)
    return -1;
  if (restart_policy (o->restart, &restart_name, &restart_count, err) < 0)
    return -1;

  attach_stdin = attach_has (o->attach, "stdin") || o->interactive;
  attach_stdout = o->attach ? attach_has (o->attach, "stdout") : true;
  attach_stderr = o->attach ? attach_has (o->attach, "stderr") : true;
  if (o->detach)
    attach_stdin = attach_stdout = attach_stderr = false;

  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Hostname", o->hostname ? o->hostname : "");
  json_gen_kv_str (g, "Domainname", "");
  json_gen_kv_str (g, "User", o->user ? o->user : "");
  json_gen_kv_bool (g, "AttachStdin", attach_stdin);
  json_gen_kv_bool (g, "AttachStdout", attach_stdout);
  json_gen_kv_bool (g, "AttachStderr", attach_stderr);
  json_gen_kv_bool (g, "Tty", o->tty);
  json_gen_kv_bool (g, "OpenStdin", o->interactive);
  json_gen_kv_bool (g, "StdinOnce", o->interactive && attach_stdin);
  gen_strv_or_null (g, "Env", env);
  json_gen_str (g, "Cmd");
  if (o->cmd == NULL)
    yajl_gen_null (g);
  else
    {
      yajl_gen_array_open (g);
      for (i = 0; i < o->ncmd; i++)
        json_gen_str (g, o->cmd[i]);
      yajl_gen_array_close (g);
    }
  json_gen_kv_str (g, "Image", o->image);
  if (o->n_ports || o->n_exposed)
    {
      /* -p's container ports are exposed too, as docker does.  */
      cleanup_free struct port_binding *all = calloc (o->n_ports + o->n_exposed + 1, sizeof (*all));
      if (all == NULL)
        return -1;
      if (o->n_ports)
        memcpy (all, o->ports, o->n_ports * sizeof (*all));
      if (o->n_exposed)
        memcpy (all + o->n_ports, o->exposed, o->n_exposed * sizeof (*all));
      ports_gen_exposed (g, all, o->n_ports + o->n_exposed);
    }
  json_gen_str (g, "Volumes");
  yajl_gen_map_open (g);
  yajl_gen_map_close (g);
  json_gen_kv_str (g, "WorkingDir", o->workdir ? o->workdir : "");
  json_gen_str (g, "Entrypoint");
  if (!o->entrypoint_set)
    yajl_gen_null (g);
  else
    {
      yajl_gen_array_open (g);
      json_gen_str (g, o->entrypoint);
      yajl_gen_array_close (g);
    }
  json_gen_str (g, "OnBuild");
  yajl_gen_null (g);
  if (gen_labels (g, o->labels) < 0)
    return skiff_error_make (err, ENOMEM, "labels");

  json_gen_str (g, "HostConfig");
  yajl_gen_map_open (g);
  json_gen_str (g, "Binds");
  yajl_gen_null (g);
  json_gen_kv_str (g, "ContainerIDFile", "");
  json_gen_str (g, "LogConfig");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Type", "");
  json_gen_str (g, "Config");
  yajl_gen_map_open (g);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  json_gen_kv_str (g, "NetworkMode", o->network);
  json_gen_str (g, "PortBindings");
  ports_gen_bindings (g, o->ports, o->n_ports);
  json_gen_str (g, "RestartPolicy");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Name", restart_name);
  json_gen_kv_int (g, "MaximumRetryCount", restart_count);
  yajl_gen_map_close (g);
  json_gen_kv_bool (g, "AutoRemove", o->rm);
  json_gen_kv_str (g, "VolumeDriver", "");
  json_gen_str (g, "VolumesFrom");
  yajl_gen_null (g);
  gen_strv_or_null (g, "CapAdd", o->cap_add);
  gen_strv_or_null (g, "CapDrop", o->cap_drop);
  json_gen_kv_str (g, "CgroupnsMode", "");
  {
    const char *const keys[] = { "Dns", "DnsOptions", "DnsSearch" };
    char **const values[] = { o->dns, o->dns_options, o->dns_search };
    for (i = 0; i < 3; i++)
      {
        size_t k;
        json_gen_str (g, keys[i]);
        yajl_gen_array_open (g);
        for (k = 0; values[i] && values[i][k]; k++)
          json_gen_str (g, values[i][k]);
        yajl_gen_array_close (g);
      }
  }
  json_gen_str (g, "ExtraHosts");
  yajl_gen_null (g);
  json_gen_str (g, "GroupAdd");
  yajl_gen_null (g);
  json_gen_kv_str (g, "IpcMode", "");
  json_gen_kv_str (g, "Cgroup", "");
  json_gen_str (g, "Links");
  yajl_gen_null (g);
  json_gen_kv_int (g, "OomScoreAdj", 0);
  json_gen_kv_str (g, "PidMode", "");
  json_gen_kv_bool (g, "Privileged", o->privileged);
  json_gen_kv_bool (g, "PublishAllPorts", o->publish_all);
  json_gen_kv_bool (g, "ReadonlyRootfs", o->read_only);
  gen_strv_or_null (g, "SecurityOpt", secopts);
  json_gen_kv_str (g, "UTSMode", "");
  json_gen_kv_str (g, "UsernsMode", "");
  json_gen_kv_int (g, "ShmSize", 0);
  json_gen_str (g, "ConsoleSize");
  yajl_gen_array_open (g);
  yajl_gen_integer (g, 0);
  yajl_gen_integer (g, 0);
  yajl_gen_array_close (g);
  json_gen_kv_str (g, "Isolation", "");
  json_gen_kv_int (g, "CpuShares", o->cpu_shares);
  json_gen_kv_int (g, "Memory", o->memory);
  json_gen_kv_int (g, "NanoCpus", o->nano_cpus);
  json_gen_kv_str (g, "CgroupParent", "");
  json_gen_kv_int (g, "BlkioWeight", 0);
  json_gen_str (g, "BlkioWeightDevice");
  yajl_gen_array_open (g);
  yajl_gen_array_close (g);
  {
    static const char *const nulls[] = { "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                                         "BlkioDeviceWriteIOps" };
    for (i = 0; i < 4; i++)
      {
        json_gen_str (g, nulls[i]);
        yajl_gen_null (g);
      }
  }
  json_gen_kv_int (g, "CpuPeriod", 0);
  json_gen_kv_int (g, "CpuQuota", 0);
  json_gen_kv_int (g, "CpuRealtimePeriod", 0);
  json_gen_kv_int (g, "CpuRealtimeRuntime", 0);
  json_gen_kv_str (g, "CpusetCpus", "");
  json_gen_kv_str (g, "CpusetMems", "");
  json_gen_str (g, "Devices");
  yajl_gen_array_open (g);
  yajl_gen_array_close (g);
  json_gen_str (g, "DeviceCgroupRules");
  yajl_gen_null (g);
  json_gen_str (g, "DeviceRequests");
  yajl_gen_null (g);
  json_gen_kv_int (g, "KernelMemory", 0);
  json_gen_kv_int (g, "KernelMemoryTCP", 0);
  json_gen_kv_int (g, "MemoryReservation", 0);
  json_gen_kv_int (g, "MemorySwap", o->memory_swap);
  json_gen_kv_int (g, "MemorySwappiness", -1);
  json_gen_kv_bool (g, "OomKillDisable", false);
  json_gen_kv_int (g, "PidsLimit", o->pids_limit);
  json_gen_str (g, "Ulimits");
  yajl_gen_null (g);
  json_gen_kv_int (g, "CpuCount", 0);
  json_gen_kv_int (g, "CpuPercent", 0);
  json_gen_kv_int (g, "IOMaximumIOps", 0);
  json_gen_kv_int (g, "IOMaximumBandwidth", 0);
  json_gen_str (g, "MaskedPaths");
  yajl_gen_null (g);
  json_gen_str (g, "ReadonlyPaths");
  yajl_gen_null (g);
  if (o->init)
    json_gen_kv_bool (g, "Init", true);
  yajl_gen_map_close (g);

  json_gen_str (g, "NetworkingConfig");
  yajl_gen_map_open (g);
  json_gen_str (g, "EndpointsConfig");
  yajl_gen_map_open (g);
  /* docker 20.10 sends an endpoint only for a --network given on the
     command line (without one, --ip and --network-alias are dropped).  */
  if (o->network_set && (o->aliases || (o->ip && o->ip[0])))
    {
      json_gen_str (g, o->network);
      yajl_gen_map_open (g);
      json_gen_str (g, "IPAMConfig");
      if (o->ip && o->ip[0])
        {
          yajl_gen_map_open (g);
          json_gen_kv_str (g, "IPv4Address", o->ip);
          yajl_gen_map_close (g);
        }
      else
        yajl_gen_null (g);
      json_gen_str (g, "Links");
      yajl_gen_null (g);
      gen_strv_or_null (g, "Aliases", o->aliases);
      json_gen_kv_str (g, "NetworkID", "");
      json_gen_kv_str (g, "EndpointID", "");
      json_gen_kv_str (g, "Gateway", "");
      json_gen_kv_str (g, "IPAddress", "");
      json_gen_kv_int (g, "IPPrefixLen", 0);
      json_gen_kv_str (g, "IPv6Gateway", "");
      json_gen_kv_str (g, "GlobalIPv6Address", "");
      json_gen_kv_int (g, "GlobalIPv6PrefixLen", 0);
      json_gen_kv_str (g, "MacAddress", "");
      json_gen_str (g, "DriverOpts");
      yajl_gen_null (g);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);

  *json = json_gen_steal (g, NULL);
  if (*json == NULL)
    return skiff_error_make (err, ENOMEM, "create request");
  return 0;
}
