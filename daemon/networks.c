#include "networks.h"
#include "cleanup.h"
#include "containers.h"
#include "events.h"
#include "fs.h"
#include "ipam.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "networks_internal.h"
#include "nft.h"
#include "ports.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *
networks_ip_range (const struct network *n)
{
  return n->pool ? ipam_pool_ip_range (n->pool) : "";
}

bool
network_is_builtin (const struct network *n)
{
  return n->builtin;
}

bool
network_is_user_defined (const struct network *n)
{
  return !n->builtin && n->bridge != NULL;
}

bool
network_internal (const struct network *n)
{
  return n->internal;
}

bool
network_attachable (const struct network *n)
{
  return n->attachable;
}

int
network_mtu (const struct network *n)
{
  return n->mtu;
}

const char *
network_options (const struct network *n)
{
  return n->options ? n->options : "{}";
}

const char *
network_labels (const struct network *n)
{
  return n->labels ? n->labels : "{}";
}

size_t
networks_count (struct daemon *d)
{
  return d->networks ? nets (d)->n : 0;
}

struct network *
networks_at (struct daemon *d, size_t i)
{
  return i < networks_count (d) ? nets (d)->all[i] : NULL;
}

void
network_free (struct network *n)
{
  if (n == NULL)
    return;
  free (n->name);
  free (n->driver);
  free (n->created);
  free (n->bridge);
  free (n->options);
  free (n->labels);
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
  free (nets (d)->all);
  free (nets (d)->rules);
  free (d->networks);
  d->networks = NULL;
}

int
networks_add (struct daemon *d, struct network *n, skiff_error_t *err)
{
  struct network **grown = realloc (nets (d)->all, (nets (d)->n + 1) * sizeof (*grown));
  if (grown == NULL)
    return skiff_error_make (err, ENOMEM, "networks");
  nets (d)->all = grown;
  nets (d)->all[nets (d)->n++] = n;
  return 0;
}

void
networks_drop (struct daemon *d, struct network *n)
{
  size_t i;
  for (i = 0; i < nets (d)->n; i++)
    if (nets (d)->all[i] == n)
      {
        memmove (&nets (d)->all[i], &nets (d)->all[i + 1], (nets (d)->n - i - 1) * sizeof (n));
        nets (d)->n--;
        break;
      }
  network_free (n);
}

/* The built-ins are kept by name, the others by id.  */
static char *
network_file (struct daemon *d, const struct network *n)
{
  char *s = NULL;
  if (asprintf (&s, "%s/network/%s.json", d->opts.root, n->builtin ? n->name : n->id) < 0)
    return NULL;
  return s;
}

/* The addresses in use: in the exec root, by id.  */
static char *
network_pool_file (struct daemon *d, const struct network *n)
{
  char *s = NULL;
  if (asprintf (&s, "%s/network/%s.json", d->opts.exec_root, n->id) < 0)
    return NULL;
  return s;
}

int
network_save (struct daemon *d, const struct network *n, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *path = network_file (d, n), *text = NULL;
  if (g == NULL || path == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Id", n->id);
  json_gen_kv_str (g, "Name", n->name);
  json_gen_kv_str (g, "Driver", n->driver);
  json_gen_kv_str (g, "Created", n->created);
  if (!n->builtin)
    {
      json_gen_kv_str (g, "Bridge", n->bridge);
      json_gen_kv_bool (g, "Internal", n->internal);
      json_gen_kv_bool (g, "Attachable", n->attachable);
      json_gen_kv_raw (g, "Options", network_options (n));
      json_gen_kv_raw (g, "Labels", network_labels (n));
    }
  if (n->pool)
    {
      json_gen_str (g, "IPAM");
      ipam_pool_gen_config (n->pool, g);
    }
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  return fs_write_file_atomic (path, text, strlen (text), 0600, err);
}

/* The pool's addresses in use are written at every container start and
   exit.  They must survive a crash of skiffd (the containers run on), not
   a reboot (no container outlives one): so they live in the exec root,
   replaced atomically but without the fsyncs (milliseconds each) of the
   network's own file.  */
static int
network_save_pool (struct daemon *d, const struct network *n, skiff_error_t *err)
{
  cleanup_free char *path = network_pool_file (d, n), *text = NULL;
  if (n->pool == NULL)
    return 0;
  text = ipam_pool_to_json (n->pool);
  if (path == NULL || text == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  return fs_write_file_replace (path, text, strlen (text), 0600, err);
}

/* The pool of the exec root replaces the one of the network's file (which
   has no addresses in use, or those an older skiffd kept there) when it
   is of the same configuration.  */
static void
network_load_pool (struct daemon *d, struct network *n)
{
  cleanup_free char *path = network_pool_file (d, n);
  cleanup_json yajl_val tree = NULL;
  skiff_error_t err = NULL;
  struct ipam_pool *p;

  if (path == NULL || access (path, F_OK) < 0)
    return;
  if (json_parse_file (path, &tree, &err) < 0 || (p = ipam_pool_from_value (tree, &err)) == NULL)
    {
      log_warning ("network %s: ignoring `%s`: %s", n->name, path, err->msg);
      skiff_error_release (&err);
      return;
    }
  if (!ipam_pool_same_config (p, n->pool))
    {
      log_warning ("network %s: ignoring `%s`: it is of another subnet, gateway or range", n->name, path);
      ipam_pool_free (p);
      return;
    }
  ipam_pool_free (n->pool);
  n->pool = p;
}

int
network_unlink (struct daemon *d, const struct network *n, skiff_error_t *err)
{
  cleanup_free char *path = network_file (d, n), *pool = network_pool_file (d, n);
  if (path == NULL || pool == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  if (unlink (path) < 0 && errno != ENOENT)
    return skiff_error_make (err, errno, "remove `%s`", path);
  if (unlink (pool) < 0 && errno != ENOENT)
    return skiff_error_make (err, errno, "remove `%s`", pool);
  return 0;
}

int
network_apply_options (struct network *n, skiff_error_t *err)
{
  cleanup_json yajl_val o = NULL;
  yajl_val v;

  n->icc = true;
  n->masquerade = true;
  n->mtu = 0;
  if (json_parse (network_options (n), &o, err) < 0)
    return -1;
  if ((v = json_get (o, NETWORK_OPT_ICC)) && YAJL_IS_STRING (v))
    n->icc = strcmp (v->u.string, "false") != 0;
  if ((v = json_get (o, NETWORK_OPT_MASQUERADE)) && YAJL_IS_STRING (v))
    n->masquerade = strcmp (v->u.string, "false") != 0;
  if ((v = json_get (o, NETWORK_OPT_MTU)) && YAJL_IS_STRING (v))
    {
      char *end;
      long mtu = strtol (v->u.string, &end, 10);
      if (*v->u.string == '\0' || *end || mtu < 68 || mtu > 65535)
        return daemon_error (err, 400, "invalid MTU number: %s", v->u.string);
      n->mtu = (int) mtu;
    }
  return 0;
}

/* A network from its file (the built-ins are created the first time).  */
static int
network_load (struct daemon *d, const char *path, const char *builtin_name, const char *builtin_driver,
              struct network **out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  struct network *n = calloc (1, sizeof (*n));
  cleanup_free char *id = NULL;

  if (n == NULL)
    return skiff_error_make (err, ENOMEM, "network");
  n->builtin = builtin_name != NULL;
  if (n->builtin)
    {
      n->name = strdup (builtin_name);
      n->driver = strdup (builtin_driver);
      if (strcmp (builtin_driver, "bridge") == 0)
        n->bridge = strdup (NETWORKS_DEFAULT_BRIDGE);
      n->icc = n->masquerade = true;
    }
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
      if (!n->builtin)
        {
          if (json_get_string_req (tree, "Name", "Name", &n->name, err) < 0
              || json_get_string_req (tree, "Driver", "Driver", &n->driver, err) < 0
              || json_get_string_req (tree, "Bridge", "Bridge", &n->bridge, err) < 0
              || json_get_bool (tree, "Internal", "Internal", &n->internal, err) < 0
              || json_get_bool (tree, "Attachable", "Attachable", &n->attachable, err) < 0)
            goto fail;
          n->options = json_object_text (json_get (tree, "Options"));
          n->labels = json_object_text (json_get (tree, "Labels"));
          if (n->options == NULL || n->labels == NULL || network_apply_options (n, err) < 0)
            goto fail;
          if (json_get (tree, "IPAM") == NULL)
            {
              skiff_error_make (err, 0, "`%s`: no IPAM", path);
              goto fail;
            }
        }
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
  /* The pool's state first: the network's file keeps no addresses.  */
  if (n->pool)
    {
      network_load_pool (d, n);
      if (network_save_pool (d, n, err) < 0)
        goto fail;
    }
  if (n->builtin && network_save (d, n, err) < 0)
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

int
network_bridge_setup (const struct network *n, skiff_error_t *err)
{
  cleanup_free char *gw_cidr = NULL, *knob = NULL;

  if (asprintf (&gw_cidr, "%s/%s", ipam_pool_gateway (n->pool), strchr (ipam_pool_subnet (n->pool), '/') + 1) < 0
      || asprintf (&knob, "/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge) < 0)
    return skiff_error_make (err, ENOMEM, "networks");
  if (nl_bridge_ensure (n->bridge, gw_cidr, n->mtu, err) < 0)
    return skiff_error_wrap (err, "network `%s`", n->name);
  /* `curl 127.0.0.1:PORT` on the host reaches published ports only if the
     bridge accepts DNAT'ed loopback sources.  */
  return fs_write_string (knob, "1", err);
}

static int
networks_apply_rules (struct daemon *d, skiff_error_t *err)
{
  cleanup_free struct nft_network *nn = calloc (networks_count (d) + 1, sizeof (*nn));
  cleanup_free char *ruleset = NULL;
  struct nft_port *ports = NULL;
  char **storage = NULL;
  size_t i, k = 0, n = 0;
  int r;

  if (nn == NULL)
    return skiff_error_make (err, ENOMEM, "nftables");
  for (i = 0; i < networks_count (d); i++)
    {
      struct network *x = networks_at (d, i);
      if (x->bridge == NULL)
        continue;
      nn[k].bridge = x->bridge;
      nn[k].subnet = ipam_pool_subnet (x->pool);
      nn[k].masquerade = x->masquerade;
      nn[k].internal = x->internal;
      nn[k].icc = x->icc;
      k++;
    }
  if (ports_collect (d, &ports, &n, &storage, err) < 0)
    return -1;
  r = nft_ruleset_skiff (nn, k, ports, n, &ruleset, err);
  ports_release (ports, storage);
  if (r < 0)
    return -1;
  /* Most starts and exits (no published port) change nothing: a
     transaction costs milliseconds on the loop, text compares do not.  */
  if (nets (d)->rules && strcmp (nets (d)->rules, ruleset) == 0)
    return 0;
  if (nft_apply (NULL, ruleset, err) < 0)
    return -1;
  free (nets (d)->rules);
  nets (d)->rules = steal_pointer (&ruleset);
  return 0;
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

/* The user-defined networks' files: <64 hex>.json.  */
static int
load_user_networks (struct daemon *d, const char *dir, skiff_error_t *err)
{
  DIR *dh = opendir (dir);
  struct dirent *e;
  int ret = 0;

  if (dh == NULL)
    return skiff_error_make (err, errno, "open `%s`", dir);
  while (ret == 0 && (e = readdir (dh)) != NULL)
    {
      char id[ID_LEN + 1];
      cleanup_free char *path = NULL;
      struct network *n;
      if (strlen (e->d_name) != ID_LEN + 5 || strcmp (e->d_name + ID_LEN, ".json") != 0)
        continue;
      memcpy (id, e->d_name, ID_LEN);
      id[ID_LEN] = '\0';
      if (!id_is_full (id))
        continue;
      if (asprintf (&path, "%s/%s", dir, e->d_name) < 0)
        ret = skiff_error_make (err, ENOMEM, "networks");
      else if (network_load (d, path, NULL, NULL, &n, err) < 0)
        ret = skiff_error_wrap (err, "network file `%s`", path);
      else if (networks_add (d, n, err) < 0)
        {
          network_free (n);
          ret = -1;
        }
    }
  closedir (dh);
  return ret;
}

int
networks_init (struct daemon *d, skiff_error_t *err)
{
  static const char *const builtin[][2] = { { "bridge", "bridge" }, { "host", "host" }, { "none", "null" } };
  cleanup_free char *dir = NULL, *pools = NULL;
  size_t i;

  if (asprintf (&dir, "%s/network", d->opts.root) < 0 || asprintf (&pools, "%s/network", d->opts.exec_root) < 0)
    return skiff_error_make (err, ENOMEM, "networks");
  if (fs_mkdir_p (dir, 0700, err) < 0 || fs_mkdir_p (pools, 0700, err) < 0)
    return -1;
  d->networks = calloc (1, sizeof (struct networks));
  if (d->networks == NULL)
    return skiff_error_make (err, ENOMEM, "networks");
  for (i = 0; i < 3; i++)
    {
      cleanup_free char *path = NULL;
      struct network *n;
      if (asprintf (&path, "%s/%s.json", dir, builtin[i][0]) < 0)
        return skiff_error_make (err, ENOMEM, "networks");
      if (network_load (d, path, builtin[i][0], builtin[i][1], &n, err) < 0)
        return skiff_error_wrap (err, "network `%s`", builtin[i][0]);
      if (networks_add (d, n, err) < 0)
        {
          network_free (n);
          return -1;
        }
    }
  if (load_user_networks (d, dir, err) < 0)
    return -1;
  for (i = 0; i < networks_count (d); i++)
    if (networks_at (d, i)->bridge && network_bridge_setup (networks_at (d, i), err) < 0)
      return -1;
  if (enable_forwarding (err) < 0)
    return -1;
  return networks_apply_rules (d, err);
}

struct network *
networks_find (struct daemon *d, const char *ref)
{
  struct network *found = NULL;
  size_t i, len = strlen (ref);
  if (strcmp (ref, "default") == 0)
    ref = "bridge";
  for (i = 0; i < networks_count (d); i++)
    if (strcmp (nets (d)->all[i]->id, ref) == 0)
      return nets (d)->all[i];
  for (i = 0; i < networks_count (d); i++)
    if (strcmp (nets (d)->all[i]->name, ref) == 0)
      return nets (d)->all[i];
  for (i = 0; len && i < networks_count (d); i++)
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
  if (network_save_pool (d, n, err) < 0)
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
  if (ipam_release (n->pool, ip, &err) < 0 || network_save_pool (d, n, &err) < 0)
    {
      log_warning ("release %s on %s: %s", ip, n->name, err->msg);
      skiff_error_release (&err);
    }
}

void
networks_hold_ip (struct daemon *d, struct network *n, const char *ip)
{
  skiff_error_t err = NULL;
  char out[IPAM_ADDR_LEN];
  if (n->pool == NULL || ip == NULL || *ip == '\0' || ipam_is_allocated (n->pool, ip))
    return;
  if (ipam_alloc (n->pool, ip, out, &err) < 0 || network_save_pool (d, n, &err) < 0)
    {
      log_warning ("hold %s on %s: %s", ip, n->name, err->msg);
      skiff_error_release (&err);
    }
}

void
networks_event (struct daemon *d, struct network *n, const char *action, const char *container_id)
{
  const char *attrs[] = { "name", n->name, "type", n->driver, container_id ? "container" : NULL, container_id, NULL };
  events_publish (d->events, "network", action, n->id, attrs);
}
