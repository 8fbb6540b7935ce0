/* Creating and removing user-defined bridge networks, with Docker's checks
   and messages.  */
#include "cleanup.h"
#include "containers.h"
#include "ipam.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "networks.h"
#include "networks_internal.h"
#include "state.h"

#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Docker's restriction for names that become part of other names.  */
static bool
valid_network_name (const char *s)
{
  size_t i;
  if (!isalnum ((unsigned char) s[0]))
    return false;
  for (i = 1; s[i]; i++)
    if (!isalnum ((unsigned char) s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
      return false;
  return i <= 128;
}

/* Every subnet in use: the bridge networks' and the host's own interface
   networks (an automatic subnet must not shadow a route the host has).
   NULL-terminated, malloc'd strings.  */
static int
used_subnets (struct daemon *d, bool with_host, char ***out, skiff_error_t *err)
{
  cleanup_strv char **v = NULL;
  cleanup_free char *text = NULL;
  cleanup_json yajl_val links = NULL;
  size_t i, j, n = 0, cap = networks_count (d) + 1;

  v = calloc (cap, sizeof (char *));
  if (v == NULL)
    return skiff_error_make (err, ENOMEM, "networks");
  for (i = 0; i < networks_count (d); i++)
    if (*networks_subnet (networks_at (d, i)) && (v[n++] = strdup (networks_subnet (networks_at (d, i)))) == NULL)
      return skiff_error_make (err, ENOMEM, "networks");
  if (with_host)
    {
      if (nl_addr_list_json (NULL, &text, err) < 0 || json_parse (text, &links, err) < 0)
        return -1;
      for (i = 0; YAJL_IS_ARRAY (links) && i < links->u.array.len; i++)
        {
          yajl_val ai = json_get (links->u.array.values[i], "addr_info");
          for (j = 0; ai && YAJL_IS_ARRAY (ai) && j < ai->u.array.len; j++)
            {
              yajl_val a = ai->u.array.values[j];
              yajl_val fam = json_get (a, "family"), local = json_get (a, "local"), len = json_get (a, "prefixlen");
              char cidr[64], **grown;
              struct ipam_subnet s;
              if (!YAJL_IS_STRING (fam) || strcmp (fam->u.string, "inet") != 0 || !YAJL_IS_STRING (local)
                  || !YAJL_IS_INTEGER (len) || strncmp (local->u.string, "127.", 4) == 0)
                continue;
              snprintf (cidr, sizeof (cidr), "%s/%lld", local->u.string, (long long) YAJL_GET_INTEGER (len));
              if (ipam_parse_cidr (cidr, &s, NULL) < 0)
                continue;
              grown = realloc (v, (n + 2) * sizeof (char *));
              if (grown == NULL)
                return skiff_error_make (err, ENOMEM, "networks");
              v = grown;
              v[n] = calloc (1, IPAM_CIDR_LEN);
              if (v[n] == NULL)
                return skiff_error_make (err, ENOMEM, "networks");
              ipam_format_cidr (&s, v[n++]);
              v[n] = NULL;
            }
        }
    }
  *out = steal_pointer (&v);
  return 0;
}

/* The IPv4 entry of IPAM.Config (at most one; IPv6 is refused).  */
static int
ipam_request (yajl_val body, const char **subnet, const char **gateway, const char **range, skiff_error_t *err)
{
  yajl_val ipam = json_get (body, "IPAM"), cfg, drv;
  size_t i;

  *subnet = *gateway = *range = NULL;
  if (ipam == NULL || YAJL_IS_NULL (ipam))
    return 0;
  if (!YAJL_IS_OBJECT (ipam))
    return daemon_error (err, 400, "invalid IPAM: expected an object");
  drv = json_get (ipam, "Driver");
  if (drv && YAJL_IS_STRING (drv) && *drv->u.string && strcmp (drv->u.string, "default") != 0)
    return daemon_error (err, 404, "plugin \"%s\" not found", drv->u.string);
  cfg = json_get (ipam, "Config");
  if (cfg == NULL || YAJL_IS_NULL (cfg))
    return 0;
  if (!YAJL_IS_ARRAY (cfg))
    return daemon_error (err, 400, "invalid IPAM.Config: expected an array");
  for (i = 0; i < cfg->u.array.len; i++)
    {
      yajl_val c = cfg->u.array.values[i], s = json_get (c, "Subnet"), g = json_get (c, "Gateway"),
               r = json_get (c, "IPRange");
      if (s && YAJL_IS_STRING (s) && strchr (s->u.string, ':'))
        return daemon_error (err, 400, "IPv6 subnets are not supported: %s", s->u.string);
      if (*subnet)
        return daemon_error (err, 400, "more than one IPv4 subnet is not supported");
      if (s == NULL || !YAJL_IS_STRING (s) || *s->u.string == '\0')
        {
          if ((g && YAJL_IS_STRING (g) && *g->u.string) || (r && YAJL_IS_STRING (r) && *r->u.string))
            return daemon_error (err, 400, "a gateway or an IP range needs a subnet");
          continue;
        }
      *subnet = s->u.string;
      *gateway = g && YAJL_IS_STRING (g) && *g->u.string ? g->u.string : NULL;
      *range = r && YAJL_IS_STRING (r) && *r->u.string ? r->u.string : NULL;
    }
  return 0;
}

static int
check_driver (struct daemon *d, yajl_val body, skiff_error_t *err)
{
  yajl_val drv = json_get (body, "Driver");
  const char *driver = drv && YAJL_IS_STRING (drv) && *drv->u.string ? drv->u.string : "bridge";

  if (strcmp (driver, "bridge") == 0)
    return 0;
  if (strcmp (driver, "host") == 0 || strcmp (driver, "null") == 0)
    return daemon_error (err, 403, "only one instance of \"%s\" network is allowed", driver);
  if (strcmp (driver, "overlay") == 0)
    return daemon_error (err, 503,
                         "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to "
                         "connect this node to swarm and try again.");
  return daemon_error (err, 404, "plugin \"%s\" not found", driver);
}

/* The bridge's device name: -o com.docker.network.bridge.name, else
   br-<short id>; it must not name a link that exists already.  */
static int
choose_bridge (struct daemon *d, struct network *n, yajl_val opts, skiff_error_t *err)
{
  yajl_val v = json_get (opts, NETWORK_OPT_BRIDGE_NAME);
  bool exists = false;
  size_t i;

  if (v && YAJL_IS_STRING (v) && *v->u.string)
    {
      const char *s = v->u.string;
      if (strlen (s) >= IFNAMSIZ || strpbrk (s, "/ \t\n:") != NULL)
        return daemon_error (err, 400, "invalid bridge name %s", s);
      n->bridge = strdup (s);
    }
  else if (asprintf (&n->bridge, "br-%.12s", n->id) < 0)
    n->bridge = NULL;
  if (n->bridge == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  for (i = 0; i < networks_count (d); i++)
    if (network_bridge (networks_at (d, i)) && strcmp (network_bridge (networks_at (d, i)), n->bridge) == 0)
      return daemon_error (err, 409, "bridge %s is already used by network %s", n->bridge,
                           network_name (networks_at (d, i)));
  if (nl_link_exists (n->bridge, &exists, err) < 0)
    return -1;
  if (exists)
    return daemon_error (err, 409, "a link named %s exists already on the host", n->bridge);
  return 0;
}

static int
check_string_map (yajl_val v, const char *what, skiff_error_t *err)
{
  size_t i;
  if (v == NULL || YAJL_IS_NULL (v))
    return 0;
  if (!YAJL_IS_OBJECT (v))
    return daemon_error (err, 400, "invalid %s: expected an object", what);
  for (i = 0; i < v->u.object.len; i++)
    if (!YAJL_IS_STRING (v->u.object.values[i]))
      return daemon_error (err, 400, "invalid %s: the value of %s is not a string", what, v->u.object.keys[i]);
  return 0;
}

static int
make_pool (struct daemon *d, struct network *n, yajl_val body, skiff_error_t *err)
{
  const char *subnet, *gateway, *range;
  cleanup_strv char **used = NULL;
  char automatic[IPAM_CIDR_LEN];

  if (ipam_request (body, &subnet, &gateway, &range, err) < 0)
    return -1;
  if (used_subnets (d, subnet == NULL, &used, err) < 0)
    return -1;
  if (subnet == NULL)
    {
      if (ipam_next_default_subnet ((const char *const *) used, automatic, err) < 0)
        {
          (*err)->status = 403;
          return -1;
        }
      subnet = automatic;
    }
  else if (ipam_subnet_check_free (subnet, (const char *const *) used, err) < 0)
    {
      (*err)->status = strstr ((*err)->msg, "overlaps") ? 403 : 400;
      return -1;
    }
  n->pool = ipam_pool_new (subnet, gateway, range, err);
  if (n->pool == NULL)
    {
      (*err)->status = 400;
      return -1;
    }
  return 0;
}

int
networks_create (struct daemon *d, yajl_val body, struct network **out, skiff_error_t *err)
{
  yajl_val name = json_get (body, "Name"), opts = json_get (body, "Options"), labels = json_get (body, "Labels");
  struct network *n;
  bool added = false;

  if (body == NULL || !YAJL_IS_OBJECT (body))
    return daemon_error (err, 400, "invalid JSON body: expected an object");
  if (name == NULL || !YAJL_IS_STRING (name) || *name->u.string == '\0')
    return daemon_error (err, 400, "network name is required");
  if (!valid_network_name (name->u.string))
    return daemon_error (err, 400, "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                         name->u.string);
  if (check_driver (d, body, err) < 0)
    return -1;
  if (networks_find (d, name->u.string) && strcmp (network_name (networks_find (d, name->u.string)), name->u.string) == 0)
    return daemon_error (err, 409, "network with name %s already exists", name->u.string);
  if (YAJL_IS_TRUE (json_get (body, "EnableIPv6")))
    return daemon_error (err, 400, "IPv6 networks are not supported");
  if (YAJL_IS_TRUE (json_get (body, "Ingress")) || YAJL_IS_TRUE (json_get (body, "ConfigOnly")))
    return daemon_error (err, 400, "ingress and config-only networks need swarm mode");
  if (check_string_map (opts, "Options", err) < 0 || check_string_map (labels, "Labels", err) < 0)
    return -1;

  n = calloc (1, sizeof (*n));
  if (n == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  n->name = strdup (name->u.string);
  n->driver = strdup ("bridge");
  n->created = state_now_rfc3339 ();
  n->options = json_object_text (opts);
  n->labels = json_object_text (labels);
  n->internal = YAJL_IS_TRUE (json_get (body, "Internal"));
  n->attachable = YAJL_IS_TRUE (json_get (body, "Attachable"));
  if (n->name == NULL || n->driver == NULL || n->created == NULL || n->options == NULL || n->labels == NULL)
    {
      skiff_error_make (err, ENOMEM, "network");
      goto fail;
    }
  if (id_generate (n->id, err) < 0 || network_apply_options (n, err) < 0 || choose_bridge (d, n, opts, err) < 0
      || make_pool (d, n, body, err) < 0)
    goto fail;
  if (network_bridge_setup (n, err) < 0)
    goto fail;
  if (network_save (d, n, err) < 0 || networks_add (d, n, err) < 0)
    goto fail;
  added = true;
  networks_refresh_rules (d);
  *out = n;
  return 0;
fail:
  if (!added)
    {
      if (n->bridge && n->pool)
        nl_bridge_delete (n->bridge, NULL);
      network_unlink (d, n, NULL);
      network_free (n);
    }
  return -1;
}

int
networks_remove (struct daemon *d, struct network *n, skiff_error_t *err)
{
  cleanup_free char *holders = NULL;
  size_t len = 0, i;
  bool first = true;
  FILE *f;

  if (network_is_builtin (n))
    return daemon_error (err, 403, "%s is a pre-defined network and cannot be removed", network_name (n));
  f = open_memstream (&holders, &len);
  if (f == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  for (i = 0; i < d->n_containers; i++)
    {
      struct ctr *c = d->containers[i];
      if (containers_is_running (c) && record_endpoint_on (c->rec, network_name (n)))
        {
          fprintf (f, "%sname:\"%s\" id:\"%s\"", first ? "" : ", ", ctr_name (c), ctr_short_id (c));
          first = false;
        }
    }
  fclose (f);
  if (holders && *holders)
    return daemon_error (err, 403, "error while removing network: network %s id %s has active endpoints (%s)",
                         network_name (n), network_id (n), holders);
  if (nl_bridge_delete (network_bridge (n), err) < 0)
    return -1;
  if (network_unlink (d, n, err) < 0)
    return -1;
  networks_drop (d, n);
  networks_refresh_rules (d);
  return 0;
}
