#include "networks.h"
#include "cleanup.h"
#include "containers.h"
#include "fs.h"
#include "ids.h"
#include "ipam.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "nft.h"
#include "ports.h"
#include "router.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct network
{
  char id[ID_LEN + 1];
  char *name, *driver, *created, *bridge;
  struct ipam_pool *pool; /* bridge networks */
};

struct networks
{
  struct network *all[3];
  size_t n;
};

static struct networks *
nets (struct daemon *d)
{
  return d->networks;
}

const char *
network_name (const struct network *n)
{
  return n->name;
}

const char *
network_id (const struct network *n)
{
  return n->id;
}

const char *
network_driver (const struct network *n)
{
  return n->driver;
}

const char *
network_bridge (const struct network *n)
{
  return n->bridge;
}

const char *
networks_created (const struct network *n)
{
  return n->created;
}

const char *
networks_subnet (const struct network *n)
{
  return n->pool ? ipam_pool_subnet (n->pool) : "";
}

const char *
networks_gateway (const struct network *n)
{
  return n->pool ? ipam_pool_gateway (n->pool) : "";
}

static void
network_free (struct network *n)
{
  if (n == NULL)
    return;
  free (n->name);
  free (n->driver);
  free (n->created);
  free (n->bridge);
  if (n->pool)
    ipam_pool_free (n->pool);
  free (n);
}

void
networks_free (struct daemon *d)
{
  size_t i;
  if (d->networks == NULL)
    return;
  for (i = 0; i < nets (d)->n; i++)
    network_free (nets (d)->all[i]);
  free (d->networks);
  d->networks = NULL;
}

static char *
network_file (struct daemon *d, const char *name)
{
  char *s = NULL;
  if (asprintf (&s, "%s/network/%s.json", d->opts.root, name) < 0)
    return NULL;
  return s;
}

static int
network_save (struct daemon *d, const struct network *n, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *path = network_file (d, n->name), *text = NULL;
  if (g == NULL || path == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Id", n->id);
  json_gen_kv_str (g, "Name", n->name);
  json_gen_kv_str (g, "Driver", n->driver);
  json_gen_kv_str (g, "Created", n->created);
  if (n->pool)
    {
      json_gen_str (g, "IPAM");
      ipam_pool_gen (n->pool, g);
    }
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  return fs_write_file_atomic (path, text, strlen (text), 0600, err);
}

/* The network from its file, or a new one when there is none.  */
static int
network_load (struct daemon *d, const char *name, const char *driver, struct network **out, skiff_error_t *err)
{
  cleanup_free char *path = network_file (d, name);
  cleanup_json yajl_val tree = NULL;
  struct network *n = calloc (1, sizeof (*n));
  cleanup_free char *id = NULL;

  if (n == NULL || path == NULL)
    {
      free (n);
      return skiff_error_make (err, ENOMEM, "network");
    }
  n->name = strdup (name);
  n->driver = strdup (driver);
  if (strcmp (driver, "bridge") == 0)
    n->bridge = strdup (NETWORKS_DEFAULT_BRIDGE);
  if (access (path, F_OK) == 0)
    {
      if (json_parse_file (path, &tree, err) < 0 || json_get_string_req (tree, "Id", "Id", &id, err) < 0
          || json_get_string (tree, "Created", "Created", &n->created, err) < 0)
        goto fail;
      if (!id_is_full (id))
        {
          skiff_error_make (err, 0, "`%s`: invalid network id", path);
          goto fail;
        }
      strcpy (n->id, id);
      if (n->bridge && json_get (tree, "IPAM"))
        {
          n->pool = ipam_pool_from_value (json_get (tree, "IPAM"), err);
          if (n->pool == NULL)
            goto fail;
        }
    }
  else
    {
      if (id_generate (n->id, err) < 0)
        goto fail;
      n->created = state_now_rfc3339 ();
    }
  if (n->bridge && n->pool == NULL)
    {
      n->pool = ipam_pool_new (NETWORKS_DEFAULT_SUBNET, NETWORKS_DEFAULT_GATEWAY, NULL, err);
      if (n->pool == NULL)
        goto fail;
    }
  if (network_save (d, n, err) < 0)
    goto fail;
  *out = n;
  return 0;
fail:
  network_free (n);
  return -1;
}

/* Forwarding must be on for containers to reach anything past the host. */
static int
enable_forwarding (skiff_error_t *err)
{
  cleanup_free char *cur = NULL;
  if (fs_read_file ("/proc/sys/net/ipv4/ip_forward", &cur, NULL, NULL) == 0 && cur[0] == '1')
    return 0;
  return fs_write_string ("/proc/sys/net/ipv4/ip_forward", "1", err);
}

static int
networks_apply_rules (struct daemon *d, skiff_error_t *err)
{
  struct network *b = networks_find (d, "bridge");
  struct nft_network nn = { .bridge = b->bridge, .subnet = ipam_pool_subnet (b->pool), .masquerade = true,
                            .internal = false, .icc = true };
  cleanup_free char *ruleset = NULL;
  struct nft_port *ports = NULL;
  char **storage = NULL;
  size_t n = 0;
  int r;

  if (ports_collect (d, &ports, &n, &storage, err) < 0)
    return -1;
  r = nft_ruleset_skiff (&nn, 1, ports, n, &ruleset, err);
  ports_release (ports, storage);
  if (r < 0)
    return -1;
  return nft_apply (NULL, ruleset, err);
}

void
networks_refresh_rules (struct daemon *d)
{
  skiff_error_t err = NULL;
  if (d->networks && networks_apply_rules (d, &err) < 0)
    {
      log_error ("nftables: %s", err->msg);
      skiff_error_release (&err);
    }
}

int
networks_init (struct daemon *d, skiff_error_t *err)
{
  static const char *const builtin[][2] = { { "bridge", "bridge" }, { "host", "host" }, { "none", "null" } };
  cleanup_free char *dir = NULL, *gw_cidr = NULL;
  struct network *b;
  size_t i;

  if (asprintf (&dir, "%s/network", d->opts.root) < 0)
    return skiff_error_make (err, ENOMEM, "networks");
  if (fs_mkdir_p (dir, 0700, err) < 0)
    return -1;
  d->networks = calloc (1, sizeof (struct networks));
  if (d->networks == NULL)
    return skiff_error_make (err, ENOMEM, "networks");
  for (i = 0; i < 3; i++)
    {
      if (network_load (d, builtin[i][0], builtin[i][1], &nets (d)->all[i], err) < 0)
        return skiff_error_wrap (err, "network `%s`", builtin[i][0]);
      nets (d)->n++;
    }
  b = nets (d)->all[0];
  if (asprintf (&gw_cidr, "%s/%s", ipam_pool_gateway (b->pool), strchr (ipam_pool_subnet (b->pool), '/') + 1) < 0)
    return skiff_error_make (err, ENOMEM, "networks");
  if (nl_bridge_ensure (b->bridge, gw_cidr, 0, err) < 0)
    return skiff_error_wrap (err, "default bridge");
  if (enable_forwarding (err) < 0)
    return -1;
  /* `curl 127.0.0.1:PORT` on the host reaches published ports only if the
     bridge accepts DNAT'ed loopback sources.  */
  {
    cleanup_free char *knob = NULL;
    if (asprintf (&knob, "/proc/sys/net/ipv4/conf/%s/route_localnet", b->bridge) < 0
        || fs_write_string (knob, "1", err) < 0)
      return -1;
  }
  return networks_apply_rules (d, err);
}

struct network *
networks_find (struct daemon *d, const char *ref)
{
  struct network *found = NULL;
  size_t i, len = strlen (ref);
  if (strcmp (ref, "default") == 0)
    ref = "bridge";
  for (i = 0; i < nets (d)->n; i++)
    if (strcmp (nets (d)->all[i]->name, ref) == 0 || strcmp (nets (d)->all[i]->id, ref) == 0)
      return nets (d)->all[i];
  for (i = 0; len && i < nets (d)->n; i++)
    if (strncmp (nets (d)->all[i]->id, ref, len) == 0)
      {
        if (found)
          return NULL;
        found = nets (d)->all[i];
      }
  return found;
}

int
networks_alloc_ip (struct daemon *d, struct network *n, const char *want, char ip[16], char gateway[16], int *prefix,
                   skiff_error_t *err)
{
  if (n->pool == NULL)
    return daemon_error (err, 400, "network %s has no address pool", n->name);
  if (ipam_alloc (n->pool, want, ip, err) < 0)
    {
      (*err)->status = 400;
      return -1;
    }
  snprintf (gateway, 16, "%s", ipam_pool_gateway (n->pool));
  *prefix = atoi (strchr (ipam_pool_subnet (n->pool), '/') + 1);
  if (network_save (d, n, err) < 0)
    {
      ipam_release (n->pool, ip, NULL);
      return -1;
    }
  return 0;
}

void
networks_release_ip (struct daemon *d, struct network *n, const char *ip)
{
  skiff_error_t err = NULL;
  if (n->pool == NULL || ip == NULL || *ip == '\0')
    return;
  if (ipam_release (n->pool, ip, &err) < 0 || network_save (d, n, &err) < 0)
    {
      log_warning ("release %s on %s: %s", ip, n->name, err->msg);
      skiff_error_release (&err);
    }
}
