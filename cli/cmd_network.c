/* Network verbs: network ls, inspect, create, rm, connect, disconnect and
   prune, with the docker 20.10 CLI's flags, request bodies and output.  */
#include "cli.h"
#include "cleanup.h"
#include "format.h"
#include "json.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
json_gen_null_kv (yajl_gen g, const char *key)
{
  json_gen_str (g, key);
  yajl_gen_null (g);
}

/* PromptForConfirmation: the message, " [y/N] ", and a line that must be
   "y" or "Y".  */
static bool
confirm (const char *message)
{
  char line[256] = "";
  size_t len;

  printf ("%s [y/N] ", message);
  fflush (stdout);
  clearerr (stdin);
  if (fgets (line, sizeof (line), stdin) == NULL)
    return false;
  len = strcspn (line, "\r\n");
  return len == 1 && (line[0] == 'y' || line[0] == 'Y');
}

/* ---- flag values ---- */

/* pflag's string slices: each use of the flag adds comma-separated
   values ("" adds none).  */
static int
push_csv (char ***v, const char *arg)
{
  cleanup_free char *copy = strdup (arg);
  char *item, *rest = copy;

  if (copy == NULL)
    return -1;
  if (arg[0] == '\0')
    return 0;
  while ((item = strsep (&rest, ",")) != NULL)
    if (strv_push (v, item) < 0)
      return -1;
  return 0;
}

/* opts.FilterOpt: "key=value" with the key lowercased and both sides
   trimmed; "" is ignored.  Returns 1 for a value without "=".  */
static int
push_filter (char ***v, const char *arg)
{
  cleanup_free char *item = NULL;
  const char *eq = strchr (arg, '='), *k, *ke, *val, *ve;
  size_t i;

  if (arg[0] == '\0')
    return 0;
  if (eq == NULL)
    return 1;
  for (k = arg; k < eq && isspace ((unsigned char) *k); k++)
    ;
  for (ke = eq; ke > k && isspace ((unsigned char) ke[-1]); ke--)
    ;
  for (val = eq + 1; *val && isspace ((unsigned char) *val); val++)
    ;
  for (ve = val + strlen (val); ve > val && isspace ((unsigned char) ve[-1]); ve--)
    ;
  if (asprintf (&item, "%.*s=%.*s", (int) (ke - k), k, (int) (ve - val), val) < 0)
    return -1;
  for (i = 0; i < (size_t) (ke - k); i++)
    item[i] = tolower ((unsigned char) item[i]);
  return strv_push (v, item);
}

/* "key=value" items ("key" alone is key=""); compares keys only.  */
static int
cmp_kv_key (const void *a, const void *b)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  size_t lx = strcspn (x, "="), ly = strcspn (y, "=");
  int c = memcmp (x, y, lx < ly ? lx : ly);
  return c ? c : (lx > ly) - (lx < ly);
}

/* By key, then by value.  */
static int
cmp_kv (const void *a, const void *b)
{
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  int c = cmp_kv_key (a, b);
  return c ? c : strcmp (x + strcspn (x, "="), y + strcspn (y, "="));
}

/* A Go map[string]string from "k=v" items: keys sorted, the last value
   given for a key wins.  */
static int
gen_kv_map (yajl_gen g, const char *key, char **items)
{
  size_t n = strv_len (items), i, j, count = 0;
  cleanup_free char **uniq = calloc (n + 1, sizeof (char *));

  if (uniq == NULL)
    return -1;
  for (i = 0; i < n; i++)
    {
      for (j = 0; j < count && cmp_kv_key (&uniq[j], &items[i]) != 0; j++)
        ;
      uniq[j] = items[i];
      if (j == count)
        count++;
    }
  qsort (uniq, count, sizeof (char *), cmp_kv_key);
  if (key)
    json_gen_str (g, key);
  yajl_gen_map_open (g);
  for (i = 0; i < count; i++)
    {
      size_t klen = strcspn (uniq[i], "=");
      yajl_gen_string (g, (const unsigned char *) uniq[i], klen);
      json_gen_str (g, uniq[i][klen] ? uniq[i] + klen + 1 : "");
    }
  yajl_gen_map_close (g);
  return 0;
}

/* filters.ToJSON of "k=v" items, percent-encoded for the query; NULL
   items give NULL.  */
static int
filters_query (char **items, char **out, skiff_error_t *err)
{
  size_t n = strv_len (items), i;
  cleanup_free char **sorted = calloc (n + 1, sizeof (char *));
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *text = NULL;

  *out = NULL;
  if (n == 0)
    return 0;
  if (sorted == NULL || g == NULL)
    return skiff_error_make (err, ENOMEM, "filters");
  memcpy (sorted, items, n * sizeof (char *));
  /* Keys and values sorted, as Go marshals map[string]map[string]bool.  */
  qsort (sorted, n, sizeof (char *), cmp_kv);
  yajl_gen_map_open (g);
  for (i = 0; i < n; i++)
    {
      size_t klen = strcspn (sorted[i], "=");
      if (i > 0 && strcmp (sorted[i], sorted[i - 1]) == 0)
        continue;
      if (i == 0 || cmp_kv_key (&sorted[i], &sorted[i - 1]) != 0)
        {
          if (i > 0)
            yajl_gen_map_close (g);
          yajl_gen_string (g, (const unsigned char *) sorted[i], klen);
          yajl_gen_map_open (g);
        }
      json_gen_str (g, sorted[i] + klen + 1);
      yajl_gen_bool (g, 1);
    }
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text == NULL || (*out = client_escape (text)) == NULL)
    return skiff_error_make (err, ENOMEM, "filters");
  return 0;
}

static int
filter_flag_error (struct cli_ctx *ctx, const char *flag, const char *value)
{
  return cli_flag_error (ctx, "invalid argument \"%s\" for \"%s\" flag: bad format of filter (expected name=value)",
                         value, flag);
}

/* ---- network ls ---- */

static const struct format_header network_headers[] = {
  { "ID", "NETWORK ID" },  { "Name", "NAME" },         { "Driver", "DRIVER" },         { "Scope", "SCOPE" },
  { "IPv6", "IPV6" },      { "Internal", "INTERNAL" }, { "Labels", "LABELS" },         { "CreatedAt", "CREATED AT" },
  { NULL, NULL },
};

/* sortorder.NaturalLess: runs of digits compare as numbers (fewer leading
   zeros first), everything else bytewise, digits before other bytes.  */
static bool
natural_less (const char *a, const char *b)
{
  size_t i = 0, j = 0, la = strlen (a), lb = strlen (b);

  while (i < la && j < lb)
    {
      bool da = isdigit ((unsigned char) a[i]), db = isdigit ((unsigned char) b[j]);
      if (da != db)
        return da;
      if (!da)
        {
          if (a[i] != b[j])
            return (unsigned char) a[i] < (unsigned char) b[j];
          i++, j++;
          continue;
        }
      {
        size_t za, zb, na, nb;
        int c;
        for (; i < la && a[i] == '0'; i++)
          ;
        for (; j < lb && b[j] == '0'; j++)
          ;
        za = i, zb = j;
        for (; i < la && isdigit ((unsigned char) a[i]); i++)
          ;
        for (; j < lb && isdigit ((unsigned char) b[j]); j++)
          ;
        na = i - za, nb = j - zb;
        if (na != nb)
          return na < nb;
        c = memcmp (a + za, b + zb, na);
        if (c != 0)
          return c < 0;
        if (za != zb)
          return za < zb;
      }
    }
  return la < lb;
}

static int
cmp_network_name (const void *x, const void *y)
{
  const char *a = json_str_or (json_get (*(yajl_val const *) x, "Name"), "");
  const char *b = json_str_or (json_get (*(yajl_val const *) y, "Name"), "");
  return natural_less (a, b) ? -1 : natural_less (b, a) ? 1 : 0;
}

/* Go's time.Time.String() of an RFC 3339 time from the API:
   "2006-01-02 15:04:05.999999999 -0700 MST" (zone "UTC" for "Z").  */
static char *
go_time_string (const char *rfc3339)
{
  int y, mo, d, h, mi, s, n = 0, oh = 0, om = 0;
  const char *p, *frac = "";
  size_t flen = 0;
  char *out = NULL, sign = '+';

  if (sscanf (rfc3339, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
    return strdup ("0001-01-01 00:00:00 +0000 UTC");
  p = rfc3339 + n;
  if (*p == '.')
    {
      frac = ++p;
      while (isdigit ((unsigned char) *p))
        p++;
      flen = p - frac;
      while (flen > 0 && frac[flen - 1] == '0')
        flen--;
    }
  if (*p == '+' || *p == '-')
    {
      sign = *p;
      if (sscanf (p + 1, "%2d:%2d", &oh, &om) != 2)
        return strdup ("0001-01-01 00:00:00 +0000 UTC");
    }
  if (*p == 'Z' || (oh == 0 && om == 0))
    n = asprintf (&out, "%04d-%02d-%02d %02d:%02d:%02d%s%.*s +0000 UTC", y, mo, d, h, mi, s, flen ? "." : "",
                  (int) flen, frac);
  else
    n = asprintf (&out, "%04d-%02d-%02d %02d:%02d:%02d%s%.*s %c%02d%02d %c%02d%02d", y, mo, d, h, mi, s,
                  flen ? "." : "", (int) flen, frac, sign, oh, om, sign, oh, om);
  return n < 0 ? NULL : out;
}

/* The template context of one network (keys sorted, strings), as the
   docker CLI's networkContext marshals it.  */
static int
network_context (yajl_val n, bool trunc, yajl_val *out, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *id = NULL, *created = NULL, *labels = strdup (""), *text = NULL;
  yajl_val lv = json_get (n, "Labels");
  size_t i;

  if (g == NULL || labels == NULL)
    return skiff_error_make (err, ENOMEM, "network ls");
  id = trunc ? format_trunc_id (json_str_or (json_get (n, "Id"), "")) : strdup (json_str_or (json_get (n, "Id"), ""));
  created = go_time_string (json_str_or (json_get (n, "Created"), ""));
  for (i = 0; lv && YAJL_IS_OBJECT (lv) && i < lv->u.object.len && labels; i++)
    {
      char *tmp = NULL;
      if (asprintf (&tmp, "%s%s%s=%s", labels, i ? "," : "", lv->u.object.keys[i],
                    json_str_or (lv->u.object.values[i], ""))
          < 0)
        tmp = NULL;
      free (labels);
      labels = tmp;
    }
  if (id == NULL || created == NULL || labels == NULL)
    return skiff_error_make (err, ENOMEM, "network ls");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "CreatedAt", created);
  json_gen_kv_str (g, "Driver", json_str_or (json_get (n, "Driver"), ""));
  json_gen_kv_str (g, "ID", id);
  json_gen_kv_str (g, "IPv6", YAJL_IS_TRUE (json_get (n, "EnableIPv6")) ? "true" : "false");
  json_gen_kv_str (g, "Internal", YAJL_IS_TRUE (json_get (n, "Internal")) ? "true" : "false");
  json_gen_kv_str (g, "Labels", labels);
  json_gen_kv_str (g, "Name", json_str_or (json_get (n, "Name"), ""));
  json_gen_kv_str (g, "Scope", json_str_or (json_get (n, "Scope"), ""));
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "network ls");
  return json_parse (text, out, err);
}

int
cmd_network_ls (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "filter", required_argument, NULL, 'f' }, { "format", required_argument, NULL, 'F' },
    { "no-trunc", no_argument, NULL, 'T' },     { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **filters = NULL;
  cleanup_free char *fesc = NULL, *path = NULL;
  cleanup_free yajl_val *sorted = NULL;
  cleanup_json yajl_val list = NULL;
  const char *format = NULL;
  bool quiet = false, no_trunc = false;
  skiff_error_t err = NULL;
  struct formatter f;
  size_t i, n = 0;
  int c, ret;

  while ((c = cli_getopt (ctx, argc, argv, "+:f:q", opts)) != -1)
    switch (c)
      {
      case 'f':
        ret = push_filter (&filters, optarg);
        if (ret > 0)
          return filter_flag_error (ctx, "-f, --filter", optarg);
        if (ret < 0)
          return 1;
        break;
      case 'F': format = optarg; break;
      case 'T': no_trunc = true; break;
      case 'q': quiet = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 0))
    return 1;
  if (filters_query (filters, &fesc, &err) < 0)
    return cli_fail (&err);
  if (asprintf (&path, "/networks%s%s", fesc ? "?filters=" : "", fesc ? fesc : "") < 0)
    return 1;
  if (client_json (&ctx->client, "GET", path, NULL, &list, &err) < 0)
    return cli_fail (&err);
  if (list && YAJL_IS_ARRAY (list))
    n = list->u.array.len;
  sorted = calloc (n + 1, sizeof (yajl_val));
  if (sorted == NULL)
    return 1;
  if (n)
    memcpy (sorted, list->u.array.values, n * sizeof (yajl_val));
  qsort (sorted, n, sizeof (yajl_val), cmp_network_name);
  /* -q only replaces the default table, not a --format of the user.  */
  if (quiet && (format == NULL || format[0] == '\0' || strcmp (format, "table") == 0))
    format = "{{.ID}}";
  if (formatter_init (&f, format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", network_headers, true, stdout,
                      &err)
      < 0)
    return cli_fail (&err);
  for (i = 0; i < n; i++)
    {
      cleanup_json yajl_val row = NULL;
      if (network_context (sorted[i], !no_trunc, &row, &err) < 0 || formatter_row (&f, row, &err) < 0)
        {
          formatter_release (&f);
          return cli_fail (&err);
        }
    }
  ret = formatter_finish (&f, &err);
  formatter_release (&f);
  return ret < 0 ? cli_fail (&err) : 0;
}

/* ---- network inspect ---- */

/* GET /networks/NAME[?verbose=true]; a 404 is "Error: No such network".  */
static int
network_get (struct cli_ctx *ctx, const char *name, bool verbose, yajl_val *out, skiff_error_t *err)
{
  cleanup_free char *path = NULL;
  struct client_response r;
  int ret;

  *out = NULL;
  if (name[0] == '\0')
    return skiff_error_make (err, 0, "Error: No such network: %s", name);
  path = cli_path ("/networks", name, verbose ? "?verbose=true" : NULL);
  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "network inspect");
  if (client_do (&ctx->client, "GET", path, NULL, NULL, 0, &r, err) < 0)
    return -1;
  if (r.status == 404)
    ret = skiff_error_make (err, 0, "Error: No such network: %s", name);
  else if (r.status >= 400)
    ret = client_error_from_response (&r, err);
  else
    ret = json_parse (r.body, out, err);
  client_response_release (&r);
  return ret;
}

int
cmd_network_inspect (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "verbose", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **errors = NULL; /* printed after the output, as docker */
  cleanup_free yajl_val *found = NULL;
  const char *format = NULL;
  bool verbose = false;
  size_t nfound = 0;
  int c, i, status = 0;

  while ((c = cli_getopt (ctx, argc, argv, "+:f:v", opts)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      case 'v': verbose = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  found = calloc (argc + 1, sizeof (yajl_val));
  if (found == NULL)
    return 1;
  for (i = optind; i < argc; i++)
    {
      skiff_error_t err = NULL;
      if (network_get (ctx, argv[i], verbose, &found[nfound], &err) == 0)
        {
          nfound++;
          continue;
        }
      status = 1;
      if (strv_push (&errors, err->msg) < 0)
        fprintf (stderr, "%s\n", err->msg);
      skiff_error_release (&err);
    }
  return cli_print_inspected (format, found, nfound, errors, status);
}

/* ---- network create ---- */

/* net.ParseIP / net.ParseCIDR into 16 bytes (IPv4 as ::ffff:a.b.c.d, as
   Go keeps it) and a prefix length counted in those 128 bits.  */
static bool
parse_ip (const char *s, unsigned char ip[16], bool *v4)
{
  struct in_addr a4;
  if (inet_pton (AF_INET, s, &a4) == 1)
    {
      memset (ip, 0, 10);
      ip[10] = ip[11] = 0xff;
      memcpy (ip + 12, &a4, 4);
      *v4 = true;
      return true;
    }
  *v4 = false;
  if (inet_pton (AF_INET6, s, ip) != 1)
    return false;
  /* An IPv4-mapped IPv6 address is an IPv4 address to Go.  */
  *v4 = memcmp (ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
  return true;
}

static bool
parse_cidr (const char *s, unsigned char ip[16], int *prefix)
{
  cleanup_free char *addr = NULL;
  const char *slash = strchr (s, '/'), *p;
  bool v4;
  int bits = 0;

  if (slash == NULL || slash[1] == '\0' || (addr = strndup (s, slash - s)) == NULL || !parse_ip (addr, ip, &v4))
    return false;
  for (p = slash + 1; *p; p++)
    {
      if (!isdigit ((unsigned char) *p) || bits > 128)
        return false;
      bits = bits * 10 + (*p - '0');
    }
  /* A dotted address takes an IPv4 prefix; an IPv6 text an IPv6 one.  */
  if (strchr (addr, ':') == NULL)
    {
      if (bits > 32)
        return false;
      bits += 96;
    }
  else if (bits > 128)
    return false;
  *prefix = bits;
  return true;
}

/* subnetMatches: whether data (an address, or the address of a CIDR)
   lies in subnet.  Returns 1, 0, or -1 with Go's message.  */
static int
subnet_matches (const char *subnet, const char *data, skiff_error_t *err)
{
  unsigned char net[16], ip[16];
  int prefix, dprefix, i;
  bool v4;

  if (!parse_cidr (subnet, net, &prefix))
    return skiff_error_make (err, 0, "invalid subnet: invalid CIDR address: %s", subnet);
  if (strchr (data, '/'))
    {
      if (!parse_cidr (data, ip, &dprefix))
        return skiff_error_make (err, 0, "invalid CIDR address: %s", data);
    }
  else if (!parse_ip (data, ip, &v4))
    return 0;
  for (i = 0; i < prefix; i++)
    if (((net[i / 8] ^ ip[i / 8]) >> (7 - i % 8)) & 1)
      return 0;
  /* An IPv6 network never contains an IPv4 address and the reverse.  */
  return prefix >= 96 || memcmp (ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0;
}

struct ipam_config
{
  const char *subnet, *ip_range, *gateway;
  char **aux; /* "name=address" */
};

struct network_create_opts
{
  const char *driver, *scope, *ipam_driver, *config_from;
  bool internal, ipv6, attachable, ingress, config_only;
  char **opts, **labels, **ipam_opts, **aux; /* "k=v" items */
  char **subnets, **ranges, **gateways;
};

static void
network_create_opts_release (struct network_create_opts *o)
{
  cleanup_strvp (&o->opts);
  cleanup_strvp (&o->labels);
  cleanup_strvp (&o->ipam_opts);
  cleanup_strvp (&o->aux);
  cleanup_strvp (&o->subnets);
  cleanup_strvp (&o->ranges);
  cleanup_strvp (&o->gateways);
}

/* Assigns one ip-range, gateway or aux address to the subnet holding it
   (consolidateIpam).  which: 0 range, 1 gateway, 2 aux address.  */
static int
ipam_assign (struct ipam_config *cfg, size_t n, const char *value, const char *item, int which, skiff_error_t *err)
{
  static const char *const what[] = { "range", "gateway", "aux-address" };
  bool match = false;
  size_t i;

  for (i = 0; i < n; i++)
    {
      int m = subnet_matches (cfg[i].subnet, value, err);
      if (m < 0)
        return -1;
      if (m == 0)
        continue;
      if (which == 0 && cfg[i].ip_range)
        return skiff_error_make (err, 0, "cannot configure multiple ranges (%s, %s) on the same subnet (%s)", value,
                                 cfg[i].ip_range, cfg[i].subnet);
      if (which == 1 && cfg[i].gateway)
        return skiff_error_make (err, 0, "cannot configure multiple gateways (%s, %s) for the same subnet (%s)",
                                 value, cfg[i].gateway, cfg[i].subnet);
      if (which == 0)
        cfg[i].ip_range = value;
      else if (which == 1)
        cfg[i].gateway = value;
      else if (strv_push (&cfg[i].aux, item) < 0)
        return skiff_error_make (err, ENOMEM, "network create");
      match = true;
    }
  if (!match)
    return skiff_error_make (err, 0, "no matching subnet for %s %s", what[which], value);
  return 0;
}

/* The IPAM Config array, one entry per subnet in the order given (Docker
   iterates a Go map here, so its order is random).  */
static int
gen_ipam_config (yajl_gen g, const struct network_create_opts *o, skiff_error_t *err)
{
  size_t n = strv_len (o->subnets), i, j;
  struct ipam_config *cfg;
  char **p;
  int ret = -1;

  if (n < strv_len (o->ranges) || n < strv_len (o->gateways))
    return skiff_error_make (err, 0, "every ip-range or gateway must have a corresponding subnet");
  cfg = calloc (n + 1, sizeof (*cfg));
  if (cfg == NULL)
    return skiff_error_make (err, ENOMEM, "network create");
  for (i = 0; i < n; i++)
    {
      for (j = 0; j < i; j++)
        {
          int a, b;
          if ((a = subnet_matches (o->subnets[i], o->subnets[j], err)) < 0
              || (b = subnet_matches (o->subnets[j], o->subnets[i], err)) < 0)
            goto out;
          if (a || b)
            {
              skiff_error_make (err, 0, "multiple overlapping subnet configuration is not supported");
              goto out;
            }
        }
      cfg[i].subnet = o->subnets[i];
    }
  for (p = o->ranges; p && *p; p++)
    if (ipam_assign (cfg, n, *p, *p, 0, err) < 0)
      goto out;
  for (p = o->gateways; p && *p; p++)
    if (ipam_assign (cfg, n, *p, *p, 1, err) < 0)
      goto out;
  for (p = o->aux; p && *p; p++)
    if (ipam_assign (cfg, n, *p + strcspn (*p, "=") + ((*p)[strcspn (*p, "=")] ? 1 : 0), *p, 2, err) < 0)
      goto out;
  json_gen_str (g, "Config");
  yajl_gen_array_open (g);
  for (i = 0; i < n; i++)
    {
      yajl_gen_map_open (g);
      if (cfg[i].subnet[0])
        json_gen_kv_str (g, "Subnet", cfg[i].subnet);
      if (cfg[i].ip_range)
        json_gen_kv_str (g, "IPRange", cfg[i].ip_range);
      if (cfg[i].gateway)
        json_gen_kv_str (g, "Gateway", cfg[i].gateway);
      if (cfg[i].aux && gen_kv_map (g, "AuxiliaryAddresses", cfg[i].aux) < 0)
        {
          skiff_error_make (err, ENOMEM, "network create");
          goto out;
        }
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  ret = 0;
out:
  for (i = 0; i < n; i++)
    cleanup_strvp (&cfg[i].aux);
  free (cfg);
  return ret;
}

/* The NetworkCreateRequest body, fields in the order Go marshals them.  */
static int
network_create_body (const struct network_create_opts *o, const char *name, char **json, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);

  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "network create");
  yajl_gen_map_open (g);
  json_gen_kv_bool (g, "CheckDuplicate", true);
  json_gen_kv_str (g, "Driver", o->driver);
  json_gen_kv_str (g, "Scope", o->scope);
  json_gen_kv_bool (g, "EnableIPv6", o->ipv6);
  json_gen_str (g, "IPAM");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Driver", o->ipam_driver);
  if (gen_kv_map (g, "Options", o->ipam_opts) < 0)
    return skiff_error_make (err, ENOMEM, "network create");
  if (gen_ipam_config (g, o, err) < 0)
    return -1;
  yajl_gen_map_close (g);
  json_gen_kv_bool (g, "Internal", o->internal);
  json_gen_kv_bool (g, "Attachable", o->attachable);
  json_gen_kv_bool (g, "Ingress", o->ingress);
  json_gen_kv_bool (g, "ConfigOnly", o->config_only);
  if (o->config_from[0] == '\0')
    json_gen_null_kv (g, "ConfigFrom");
  else
    {
      json_gen_str (g, "ConfigFrom");
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "Network", o->config_from);
      yajl_gen_map_close (g);
    }
  if (gen_kv_map (g, "Options", o->opts) < 0 || gen_kv_map (g, "Labels", o->labels) < 0)
    return skiff_error_make (err, ENOMEM, "network create");
  json_gen_kv_str (g, "Name", name);
  yajl_gen_map_close (g);
  *json = json_gen_steal (g, NULL);
  return *json ? 0 : skiff_error_make (err, ENOMEM, "network create");
}

enum
{
  OPT_ATTACHABLE = 256,
  OPT_AUX_ADDRESS,
  OPT_CONFIG_FROM,
  OPT_CONFIG_ONLY,
  OPT_GATEWAY,
  OPT_INGRESS,
  OPT_INTERNAL,
  OPT_IP_RANGE,
  OPT_IPAM_DRIVER,
  OPT_IPAM_OPT,
  OPT_IPV6,
  OPT_LABEL,
  OPT_SCOPE,
  OPT_SUBNET,
  OPT_IP,
  OPT_IP6,
  OPT_LINK,
  OPT_ALIAS,
  OPT_LINK_LOCAL_IP,
  OPT_DRIVER_OPT,
};

int
cmd_network_create (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "attachable", no_argument, NULL, OPT_ATTACHABLE },
    { "aux-address", required_argument, NULL, OPT_AUX_ADDRESS },
    { "config-from", required_argument, NULL, OPT_CONFIG_FROM },
    { "config-only", no_argument, NULL, OPT_CONFIG_ONLY },
    { "driver", required_argument, NULL, 'd' },
    { "gateway", required_argument, NULL, OPT_GATEWAY },
    { "ingress", no_argument, NULL, OPT_INGRESS },
    { "internal", no_argument, NULL, OPT_INTERNAL },
    { "ip-range", required_argument, NULL, OPT_IP_RANGE },
    { "ipam-driver", required_argument, NULL, OPT_IPAM_DRIVER },
    { "ipam-opt", required_argument, NULL, OPT_IPAM_OPT },
    { "ipv6", no_argument, NULL, OPT_IPV6 },
    { "label", required_argument, NULL, OPT_LABEL },
    { "opt", required_argument, NULL, 'o' },
    { "scope", required_argument, NULL, OPT_SCOPE },
    { "subnet", required_argument, NULL, OPT_SUBNET },
    { NULL, 0, NULL, 0 },
  };
  struct network_create_opts o = { .driver = "bridge", .scope = "", .ipam_driver = "default", .config_from = "" };
  cleanup_free char *body = NULL;
  cleanup_json yajl_val answer = NULL;
  skiff_error_t err = NULL;
  int c, ret = 0;

  while (ret == 0 && (c = cli_getopt (ctx, argc, argv, "+:d:o:", opts)) != -1)
    switch (c)
      {
      case OPT_ATTACHABLE: o.attachable = true; break;
      case OPT_AUX_ADDRESS: ret = strv_push (&o.aux, optarg); break;
      case OPT_CONFIG_FROM: o.config_from = optarg; break;
      case OPT_CONFIG_ONLY: o.config_only = true; break;
      case 'd': o.driver = optarg; break;
      case OPT_GATEWAY: ret = push_csv (&o.gateways, optarg); break;
      case OPT_INGRESS: o.ingress = true; break;
      case OPT_INTERNAL: o.internal = true; break;
      case OPT_IP_RANGE: ret = push_csv (&o.ranges, optarg); break;
      case OPT_IPAM_DRIVER: o.ipam_driver = optarg; break;
      case OPT_IPAM_OPT: ret = strv_push (&o.ipam_opts, optarg); break;
      case OPT_IPV6: o.ipv6 = true; break;
      case OPT_LABEL: ret = strv_push (&o.labels, optarg); break;
      case 'o': ret = strv_push (&o.opts, optarg); break;
      case OPT_SCOPE: o.scope = optarg; break;
      case OPT_SUBNET: ret = push_csv (&o.subnets, optarg); break;
      default:
        network_create_opts_release (&o);
        return ctx->status;
      }
  if (ret < 0 || cli_check_args (ctx, argc - optind, 1, 1))
    {
      network_create_opts_release (&o);
      return 1;
    }
  ret = network_create_body (&o, argv[optind], &body, &err);
  network_create_opts_release (&o);
  if (ret < 0 || client_json (&ctx->client, "POST", "/networks/create", body, &answer, &err) < 0)
    return cli_fail (&err);
  printf ("%s\n", json_str_or (json_get (answer, "Id"), ""));
  return 0;
}

/* ---- network rm ---- */

static const char ingress_warning[]
  = "WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker "
    "engine version. Otherwise, removal may not be effective and functionality of newly create ingress networks will "
    "be impaired.\nAre you sure you want to continue?";

int
cmd_network_rm (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  int c, i, status = 0;

  while ((c = cli_getopt (ctx, argc, argv, "+:", opts)) != -1)
    return ctx->status;
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  for (i = optind; i < argc; i++)
    {
      cleanup_free char *path = cli_path ("/networks", argv[i], NULL);
      cleanup_json yajl_val nw = NULL;
      skiff_error_t err = NULL;
      struct client_response r;

      /* Removing the routing mesh asks first; a failed look-up is left to
         the DELETE to report.  */
      if (network_get (ctx, argv[i], false, &nw, &err) < 0)
        skiff_error_release (&err);
      else if (YAJL_IS_TRUE (json_get (nw, "Ingress")) && !confirm (ingress_warning))
        continue;
      if (path == NULL || client_do (&ctx->client, "DELETE", path, NULL, NULL, 0, &r, &err) < 0)
        {
          status = 1;
          cli_fail (&err);
          continue;
        }
      if (r.status == 404)
        skiff_error_make (&err, 0, "Error: No such network: %s", argv[i]);
      else if (r.status >= 400)
        client_error_from_response (&r, &err);
      client_response_release (&r);
      if (err)
        {
          status = 1;
          cli_fail (&err);
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  return status;
}

/* ---- network connect / disconnect ---- */

/* opts.ValidateLink: "name" or "name:alias".  */
static bool
valid_link (const char *s)
{
  const char *colon = strchr (s, ':');
  return s[0] != '\0' && (colon == NULL || strchr (colon + 1, ':') == NULL);
}

struct connect_opts
{
  const char *ip, *ip6;
  char **links, **aliases, **link_local, **driver_opts;
};

static void
connect_opts_release (struct connect_opts *o)
{
  cleanup_strvp (&o->links);
  cleanup_strvp (&o->aliases);
  cleanup_strvp (&o->link_local);
  cleanup_strvp (&o->driver_opts);
}

static void
gen_strv (yajl_gen g, const char *key, char **v, bool null_when_unset)
{
  json_gen_str (g, key);
  if (v == NULL && null_when_unset)
    {
      yajl_gen_null (g);
      return;
    }
  yajl_gen_array_open (g);
  for (; v && *v; v++)
    json_gen_str (g, *v);
  yajl_gen_array_close (g);
}

/* The NetworkConnect body: the container and its EndpointSettings.  */
static int
network_connect_body (const struct connect_opts *o, const char *container, char **json, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_strv char **driver_opts = NULL;
  char **p;

  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "network connect");
  /* convertDriverOpt: "key=value", key lowercased, both sides trimmed.  */
  for (p = o->driver_opts; p && *p; p++)
    {
      int ret;
      if (strchr (*p, '=') == NULL)
        return skiff_error_make (err, 0, "invalid key/value pair format in driver options");
      ret = push_filter (&driver_opts, *p);
      if (ret != 0)
        return skiff_error_make (err, ENOMEM, "network connect");
    }
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Container", container);
  json_gen_str (g, "EndpointConfig");
  yajl_gen_map_open (g);
  json_gen_str (g, "IPAMConfig");
  yajl_gen_map_open (g);
  if (o->ip && o->ip[0])
    json_gen_kv_str (g, "IPv4Address", o->ip);
  if (o->ip6 && o->ip6[0])
    json_gen_kv_str (g, "IPv6Address", o->ip6);
  if (o->link_local)
    gen_strv (g, "LinkLocalIPs", o->link_local, false);
  yajl_gen_map_close (g);
  gen_strv (g, "Links", o->links, true);
  gen_strv (g, "Aliases", o->aliases, false);
  json_gen_kv_str (g, "NetworkID", "");
  json_gen_kv_str (g, "EndpointID", "");
  json_gen_kv_str (g, "Gateway", "");
  json_gen_kv_str (g, "IPAddress", "");
  json_gen_kv_int (g, "IPPrefixLen", 0);
  json_gen_kv_str (g, "IPv6Gateway", "");
  json_gen_kv_str (g, "GlobalIPv6Address", "");
  json_gen_kv_int (g, "GlobalIPv6PrefixLen", 0);
  json_gen_kv_str (g, "MacAddress", "");
  if (gen_kv_map (g, "DriverOpts", driver_opts) < 0)
    return skiff_error_make (err, ENOMEM, "network connect");
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  *json = json_gen_steal (g, NULL);
  return *json ? 0 : skiff_error_make (err, ENOMEM, "network connect");
}

/* POST /networks/NET/<verb> with body; errors are the daemon's.  */
static int
network_post (struct cli_ctx *ctx, const char *network, const char *verb, const char *body)
{
  cleanup_free char *path = cli_path ("/networks", network, verb);
  skiff_error_t err = NULL;

  if (path == NULL)
    return 1;
  if (client_json (&ctx->client, "POST", path, body, NULL, &err) < 0)
    return cli_fail (&err);
  return 0;
}

int
cmd_network_connect (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "alias", required_argument, NULL, OPT_ALIAS },
    { "driver-opt", required_argument, NULL, OPT_DRIVER_OPT },
    { "ip", required_argument, NULL, OPT_IP },
    { "ip6", required_argument, NULL, OPT_IP6 },
    { "link", required_argument, NULL, OPT_LINK },
    { "link-local-ip", required_argument, NULL, OPT_LINK_LOCAL_IP },
    { NULL, 0, NULL, 0 },
  };
  struct connect_opts o = { NULL };
  cleanup_free char *body = NULL;
  skiff_error_t err = NULL;
  int c, ret = 0;

  while (ret == 0 && (c = cli_getopt (ctx, argc, argv, "+:", opts)) != -1)
    switch (c)
      {
      case OPT_ALIAS: ret = push_csv (&o.aliases, optarg); break;
      case OPT_DRIVER_OPT: ret = push_csv (&o.driver_opts, optarg); break;
      case OPT_IP: o.ip = optarg; break;
      case OPT_IP6: o.ip6 = optarg; break;
      case OPT_LINK:
        if (!valid_link (optarg))
          {
            connect_opts_release (&o);
            return cli_flag_error (ctx, "invalid argument \"%s\" for \"--link\" flag: %s%s", optarg,
                                   optarg[0] ? "bad format for links: " : "empty string specified for links", optarg);
          }
        ret = strv_push (&o.links, optarg);
        break;
      case OPT_LINK_LOCAL_IP: ret = push_csv (&o.link_local, optarg); break;
      default:
        connect_opts_release (&o);
        return ctx->status;
      }
  /* --alias defaults to an empty list, sent as [] (Links: null).  */
  if (ret == 0 && o.aliases == NULL && (o.aliases = calloc (1, sizeof (char *))) == NULL)
    ret = -1;
  if (ret < 0 || cli_check_args (ctx, argc - optind, 2, 2))
    {
      connect_opts_release (&o);
      return 1;
    }
  ret = network_connect_body (&o, argv[optind + 1], &body, &err);
  connect_opts_release (&o);
  if (ret < 0)
    return cli_fail (&err);
  return network_post (ctx, argv[optind], "/connect", body);
}

int
cmd_network_disconnect (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *body = NULL;
  bool force = false;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:f", opts)) != -1)
    switch (c)
      {
      case 'f': force = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 2, 2) || g == NULL)
    return 1;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Container", argv[optind + 1]);
  json_gen_kv_bool (g, "Force", force);
  yajl_gen_map_close (g);
  body = json_gen_steal (g, NULL);
  if (body == NULL)
    return 1;
  return network_post (ctx, argv[optind], "/disconnect", body);
}

/* ---- network prune ---- */

int
cmd_network_prune (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "filter", required_argument, NULL, 'F' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **filters = NULL;
  cleanup_free char *fesc = NULL, *path = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  bool force = false;
  int c, ret;

  while ((c = cli_getopt (ctx, argc, argv, "+:f", opts)) != -1)
    switch (c)
      {
      case 'f': force = true; break;
      case 'F':
        ret = push_filter (&filters, optarg);
        if (ret > 0)
          return filter_flag_error (ctx, "--filter", optarg);
        if (ret < 0)
          return 1;
        break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 0))
    return 1;
  if (!force
      && !confirm ("WARNING! This will remove all custom networks not used by at least one container.\n"
                   "Are you sure you want to continue?"))
    return 0;
  if (filters_query (filters, &fesc, &err) < 0)
    return cli_fail (&err);
  if (asprintf (&path, "/networks/prune%s%s", fesc ? "?filters=" : "", fesc ? fesc : "") < 0)
    return 1;
  if (client_json (&ctx->client, "POST", path, NULL, &v, &err) < 0)
    return cli_fail (&err);
  cli_print_deleted (v, "NetworksDeleted", "Deleted Networks:");
  return 0;
}
