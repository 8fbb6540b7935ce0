#include "ctr_endpoints.h"
#include "cleanup.h"
#include "containers_internal.h"
#include "ctr_dns.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "networks.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
is_bridge_network (struct network *n)
{
  return n && network_bridge (n) != NULL;
}

/* The requested address and aliases of EndpointSettings.  */
static const char *
settings_ip (yajl_val s)
{
  yajl_val v = json_get (json_get (s, "IPAMConfig"), "IPv4Address");
  return v && YAJL_IS_STRING (v) && *v->u.string ? v->u.string : NULL;
}

static bool
settings_has_aliases (yajl_val s)
{
  yajl_val v = json_get (s, "Aliases");
  return v && YAJL_IS_ARRAY (v) && v->u.array.len > 0;
}

static int
check_settings (struct network *n, yajl_val s, skiff_error_t *err)
{
  yajl_val a = json_get (s, "Aliases");
  size_t i;
  if (s == NULL || YAJL_IS_NULL (s))
    return 0;
  if (!YAJL_IS_OBJECT (s))
    return daemon_error (err, 400, "invalid endpoint settings: expected an object");
  if (settings_ip (s))
    {
      struct in_addr addr;
      if (!network_is_user_defined (n))
        return daemon_error (err, 400, "user specified IP address is supported on user defined networks only");
      if (inet_pton (AF_INET, settings_ip (s), &addr) != 1)
        return daemon_error (err, 400, "invalid IPv4 address: %s", settings_ip (s));
    }
  if (settings_has_aliases (s) && !network_is_user_defined (n))
    return daemon_error (err, 400, "network-scoped alias is supported only for containers in user defined networks");
  for (i = 0; a && YAJL_IS_ARRAY (a) && i < a->u.array.len; i++)
    if (!YAJL_IS_STRING (a->u.array.values[i]) || *a->u.array.values[i]->u.string == '\0')
      return daemon_error (err, 400, "invalid alias: expected a non-empty string");
  return 0;
}

int
endpoints_check_create (struct daemon *d, yajl_val hc, yajl_val networking, skiff_error_t *err)
{
  const char *mode = ctr_network_mode (hc);
  yajl_val ec = json_get (networking, "EndpointsConfig");
  struct network *n;
  size_t i;

  if (strncmp (mode, "container:", 10) == 0)
    return daemon_error (err, 400, "network mode %s is not supported", mode);
  n = networks_find (d, mode);
  if (n == NULL)
    return daemon_error (err, 404, "network %s not found", mode);
  if (ec == NULL || YAJL_IS_NULL (ec))
    return 0;
  if (!YAJL_IS_OBJECT (ec))
    return daemon_error (err, 400, "invalid NetworkingConfig.EndpointsConfig: expected an object");
  if (ec->u.object.len > 1)
    {
      cleanup_free char *names = NULL;
      size_t len = 0;
      FILE *f = open_memstream (&names, &len);
      if (f == NULL)
        return skiff_error_make (err, ENOMEM, "create");
      for (i = 0; i < ec->u.object.len; i++)
        fprintf (f, "%s%s", i ? ", " : "", ec->u.object.keys[i]);
      fclose (f);
      return daemon_error (err, 400, "Container cannot be connected to network endpoints: %s", names);
    }
  for (i = 0; i < ec->u.object.len; i++)
    {
      struct network *x = networks_find (d, ec->u.object.keys[i]);
      if (x == NULL)
        return daemon_error (err, 404, "network %s not found", ec->u.object.keys[i]);
      if (check_settings (x, ec->u.object.values[i], err) < 0)
        return -1;
    }
  return 0;
}

int
endpoints_config_for_create (struct daemon *d, yajl_val hc, yajl_val networking, char **out, skiff_error_t *err)
{
  yajl_val ec = json_get (networking, "EndpointsConfig");
  struct network *primary = networks_find (d, ctr_network_mode (hc));
  cleanup_gen yajl_gen g = NULL;
  size_t i;
  bool has_primary = false;

  *out = NULL;
  if (ec == NULL || !YAJL_IS_OBJECT (ec) || ec->u.object.len == 0)
    return 0;
  g = json_gen_new (false);
  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "create");
  yajl_gen_map_open (g);
  for (i = 0; i < ec->u.object.len; i++)
    {
      has_primary = has_primary || networks_find (d, ec->u.object.keys[i]) == primary;
      json_gen_str (g, ec->u.object.keys[i]);
      if (YAJL_IS_OBJECT (ec->u.object.values[i]))
        json_gen_value (g, ec->u.object.values[i]);
      else
        {
          yajl_gen_map_open (g);
          yajl_gen_map_close (g);
        }
    }
  if (!has_primary && is_bridge_network (primary))
    {
      json_gen_str (g, network_name (primary));
      yajl_gen_map_open (g);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  *out = json_gen_steal (g, NULL);
  return *out ? 0 : skiff_error_make (err, ENOMEM, "create");
}

/* ---- plans -------------------------------------------------------------- */

static void
plan_entry_clear (struct ep_plan_entry *e)
{
  record_endpoint_clear (&e->ep);
  free (e->bridge);
  memset (e, 0, sizeof (*e));
}

void
endpoints_plan_free (struct ep_plan *p)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    plan_entry_clear (&p->e[i]);
  free (p->e);
  p->e = NULL;
  p->n = 0;
}

void
endpoints_plan_release (struct daemon *d, struct ep_plan *p)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    {
      struct network *n = networks_find (d, p->e[i].ep.network_id);
      if (n)
        networks_release_ip (d, n, p->e[i].ep.ip);
    }
}

/* The lowest ethN neither taken by the container nor by the plan.  */
static char *
free_ifname (const struct record *r, const struct ep_plan *p)
{
  char name[16];
  unsigned k;
  size_t i;
  for (k = 0;; k++)
    {
      bool used = false;
      snprintf (name, sizeof (name), "eth%u", k);
      for (i = 0; r && i < r->n_eps && !used; i++)
        used = strcmp (r->eps[i].ifname, name) == 0;
      for (i = 0; p && i < p->n && !used; i++)
        used = p->e[i].ep.ifname && strcmp (p->e[i].ep.ifname, name) == 0;
      if (!used)
        return strdup (name);
    }
}

/* Adds an interface on n to the plan, its address allocated.  */
static int
plan_add (struct ctr *c, struct ep_plan *p, struct network *n, yajl_val settings, bool route, skiff_error_t *err)
{
  struct ep_plan_entry *grown = realloc (p->e, (p->n + 1) * sizeof (*grown)), *e;
  char ip[16], gw[16], mac[18], eid[ID_LEN + 1];
  yajl_val aliases = json_get (settings, "Aliases");
  size_t i, k = 0;
  uint32_t a;

  if (grown == NULL)
    return skiff_error_make (err, ENOMEM, "endpoint");
  p->e = grown;
  e = &p->e[p->n];
  memset (e, 0, sizeof (*e));
  if (networks_alloc_ip (c->d, n, settings_ip (settings), ip, gw, &e->ep.prefix, err) < 0)
    return -1;
  inet_pton (AF_INET, ip, &a);
  nl_mac_from_ipv4 (ntohl (a), mac);
  if (id_generate (eid, err) < 0)
    {
      networks_release_ip (c->d, n, ip);
      return -1;
    }
  e->ep.network = strdup (network_name (n));
  e->ep.network_id = strdup (network_id (n));
  e->ep.endpoint_id = strdup (eid);
  e->ep.ip = strdup (ip);
  e->ep.gateway = strdup (gw);
  e->ep.mac = strdup (mac);
  e->ep.ifname = free_ifname (c->rec, p);
  e->ep.host_ifname = strdup ("");
  e->bridge = strdup (network_bridge (n));
  e->route = route && !network_internal (n);
  e->mtu = network_mtu (n);
  /* On user-defined networks Docker adds the short id to the aliases.  */
  e->ep.aliases = calloc ((aliases && YAJL_IS_ARRAY (aliases) ? aliases->u.array.len : 0) + 2, sizeof (char *));
  if (e->ep.aliases)
    {
      for (i = 0; aliases && YAJL_IS_ARRAY (aliases) && i < aliases->u.array.len; i++)
        if (YAJL_IS_STRING (aliases->u.array.values[i]))
          e->ep.aliases[k++] = strdup (aliases->u.array.values[i]->u.string);
      if (network_is_user_defined (n))
        e->ep.aliases[k++] = strdup (ctr_short_id (c));
    }
  p->n++;
  for (i = 0; e->ep.aliases && i < k; i++)
    if (e->ep.aliases[i] == NULL)
      break;
  if (!e->ep.network || !e->ep.network_id || !e->ep.endpoint_id || !e->ep.ip || !e->ep.gateway || !e->ep.mac
      || !e->ep.ifname || !e->ep.host_ifname || !e->bridge || !e->ep.aliases || i < k)
    {
      networks_release_ip (c->d, n, ip);
      plan_entry_clear (e);
      p->n--;
      return skiff_error_make (err, ENOMEM, "endpoint");
    }
  return 0;
}

/* The settings of network n in an EndpointsConfig object (keys are names
   or ids), or NULL.  */
static yajl_val
settings_for (struct daemon *d, yajl_val ec, struct network *n, const char **key)
{
  size_t i;
  for (i = 0; ec && YAJL_IS_OBJECT (ec) && i < ec->u.object.len; i++)
    if (networks_find (d, ec->u.object.keys[i]) == n)
      {
        if (key)
          *key = ec->u.object.keys[i];
        return ec->u.object.values[i];
      }
  return NULL;
}

int
endpoints_plan (struct ctr *c, struct ep_plan *p, skiff_error_t *err)
{
  cleanup_json yajl_val hc = NULL, ec = NULL;
  struct network *primary;
  size_t i;

  memset (p, 0, sizeof (*p));
  if (json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, err) < 0
      || json_parse (c->rec->endpoints_config ? c->rec->endpoints_config : "{}", &ec, err) < 0)
    return -1;
  primary = networks_find (c->d, ctr_network_mode (hc));
  if (primary == NULL)
    return daemon_error (err, 404, "network %s not found", ctr_network_mode (hc));
  if (!is_bridge_network (primary))
    return 0;
  /* The NetworkMode network first (it holds the default route), unless a
     disconnect took the container off it; then the connected ones.  */
  if (c->rec->endpoints_config == NULL || settings_for (c->d, ec, primary, NULL))
    if (plan_add (c, p, primary, settings_for (c->d, ec, primary, NULL), true, err) < 0)
      goto fail;
  for (i = 0; YAJL_IS_OBJECT (ec) && i < ec->u.object.len; i++)
    {
      struct network *n = networks_find (c->d, ec->u.object.keys[i]);
      if (n == NULL)
        {
          daemon_error (err, 404, "network %s not found", ec->u.object.keys[i]);
          goto fail;
        }
      if (n == primary || !is_bridge_network (n))
        continue;
      if (plan_add (c, p, n, ec->u.object.values[i], p->n == 0, err) < 0)
        goto fail;
    }
  return 0;
fail:
  endpoints_plan_release (c->d, p);
  endpoints_plan_free (p);
  return -1;
}

int
endpoints_plug (struct ep_plan *p, const char *netns, struct nl_netns *ns, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    {
      struct ep_plan_entry *e = &p->e[i];
      cleanup_free char *cidr = NULL;
      char host_ifname[16] = "";
      struct nl_endpoint ep = { .bridge = e->bridge, .netns_path = netns, .ifname = e->ep.ifname,
                                .mac = e->ep.mac, .gateway = e->route ? e->ep.gateway : NULL,
                                .mtu = e->mtu ? e->mtu : 1500, .ns = ns };
      if (asprintf (&cidr, "%s/%d", e->ep.ip, e->ep.prefix) < 0)
        {
          skiff_error_make (err, ENOMEM, "endpoint");
          goto undo;
        }
      ep.addr_cidr = cidr;
      if (nl_endpoint_create (&ep, host_ifname, err) < 0)
        goto undo;
      free (e->ep.host_ifname);
      e->ep.host_ifname = strdup (host_ifname);
      if (e->ep.host_ifname == NULL)
        {
          nl_endpoint_delete (host_ifname, NULL);
          skiff_error_make (err, ENOMEM, "endpoint");
          goto undo;
        }
    }
  return 0;
undo:
  endpoints_unplug (p);
  return -1;
}

void
endpoints_unplug (struct ep_plan *p)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    if (p->e[i].ep.host_ifname && *p->e[i].ep.host_ifname)
      {
        nl_endpoint_delete (p->e[i].ep.host_ifname, NULL);
        p->e[i].ep.host_ifname[0] = '\0';
      }
}

int
endpoints_adopt (struct ctr *c, struct ep_plan *p)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    {
      struct network *n = networks_find (c->d, p->e[i].ep.network_id);
      if (record_endpoint_add (c->rec, &p->e[i].ep) < 0)
        return -1;
      if (n)
        networks_event (c->d, n, "connect", c->rec->id);
    }
  return 0;
}

/* The network of an endpoint (records of skiffd 0.1 have no network id).  */
static struct network *
network_of (struct daemon *d, const struct record_endpoint *ep)
{
  return *ep->network_id ? networks_find (d, ep->network_id) : networks_find (d, ep->network);
}

static void
endpoint_delete_veth (const struct record_endpoint *ep)
{
  skiff_error_t err = NULL;
  if (*ep->host_ifname && nl_endpoint_delete (ep->host_ifname, &err) < 0)
    {
      log_warning ("%s", err->msg);
      skiff_error_release (&err);
    }
}

/* After its veth pair is gone: the address goes back to the pool.  */
static void
endpoint_release_ip (struct daemon *d, const struct record_endpoint *ep)
{
  struct network *n = network_of (d, ep);
  if (n)
    networks_release_ip (d, n, ep->ip);
}

static void
endpoint_disconnected (struct daemon *d, const char *container_id, const struct record_endpoint *ep)
{
  struct network *n = network_of (d, ep);
  if (n)
    networks_event (d, n, "disconnect", container_id);
}

void
endpoints_restore (struct ctr *c)
{
  size_t i;
  for (i = 0; i < c->rec->n_eps; i++)
    {
      struct network *n = network_of (c->d, &c->rec->eps[i]);
      if (n)
        networks_hold_ip (c->d, n, c->rec->eps[i].ip);
    }
}

/* A disconnect: at once, on the loop.  */
static void
endpoint_drop (struct ctr *c, size_t i)
{
  endpoint_delete_veth (&c->rec->eps[i]);
  endpoint_release_ip (c->d, &c->rec->eps[i]);
  endpoint_disconnected (c->d, c->rec->id, &c->rec->eps[i]);
  record_endpoint_remove (c->rec, i);
}

/* Deleting a veth pair takes the kernel ~20 ms (RCU grace periods): at a
   container's exit it is done in the thread pool, off the loop and off
   the path of `run --rm`; the addresses are released once it is done, so
   that no new container gets one while the old pair still holds it.  The
   `disconnect` events go at once: they are out when a wait for the exit
   returns, and a `network rm` may follow at once.  */
struct release_job
{
  uv_work_t work;
  struct daemon *d;
  struct record_endpoint *eps;
  size_t n;
};

static void
release_work (uv_work_t *w)
{
  struct release_job *j = w->data;
  size_t i;
  for (i = 0; i < j->n; i++)
    endpoint_delete_veth (&j->eps[i]);
}

static void
release_after (uv_work_t *w, int status)
{
  struct release_job *j = w->data;
  size_t i;
  (void) status;
  for (i = 0; i < j->n; i++)
    {
      endpoint_release_ip (j->d, &j->eps[i]);
      record_endpoint_clear (&j->eps[i]);
    }
  free (j->eps);
  free (j);
}

void
endpoints_release (struct ctr *c)
{
  bool had = c->rec->n_eps > 0 || c->rec->ports;
  struct release_job *j = c->rec->n_eps ? calloc (1, sizeof (*j)) : NULL;

  ctr_dns_stop (c);
  if (j)
    {
      size_t i;
      /* The job takes the endpoints over.  */
      j->d = c->d;
      j->eps = c->rec->eps;
      j->n = c->rec->n_eps;
      c->rec->eps = NULL;
      c->rec->n_eps = 0;
      for (i = 0; i < j->n; i++)
        endpoint_disconnected (c->d, c->rec->id, &j->eps[i]);
      j->work.data = j;
      uv_queue_work (c->d->loop, &j->work, release_work, release_after);
    }
  else
    while (c->rec->n_eps > 0)
      endpoint_drop (c, c->rec->n_eps - 1);
  record_endpoints_clear (c->rec);
  if (had)
    networks_refresh_rules (c->d);
}

/* ---- connect and disconnect --------------------------------------------- */

bool
endpoints_configured_on (struct ctr *c, struct network *n)
{
  cleanup_json yajl_val hc = NULL, ec = NULL;
  if (c->rec->n_eps && record_endpoint_on (c->rec, network_name (n)))
    return true;
  if (json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, NULL) < 0)
    return false;
  if (c->rec->endpoints_config == NULL)
    return networks_find (c->d, ctr_network_mode (hc)) == n;
  if (json_parse (c->rec->endpoints_config, &ec, NULL) < 0)
    return false;
  return settings_for (c->d, ec, n, NULL) != NULL;
}

/* EndpointsConfig with the networks the container is on now (the
   NetworkMode one made explicit), plus n with settings, or minus n when
   settings is the NULL pointer and remove is set.  */
static int
rewrite_config (struct ctr *c, struct network *n, yajl_val settings, bool remove, skiff_error_t *err)
{
  cleanup_json yajl_val hc = NULL, ec = NULL;
  cleanup_gen yajl_gen g = json_gen_new (false);
  struct network *primary;
  char *text;
  size_t i;

  if (g == NULL || json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, err) < 0
      || json_parse (c->rec->endpoints_config ? c->rec->endpoints_config : "{}", &ec, err) < 0)
    return -1;
  primary = networks_find (c->d, ctr_network_mode (hc));
  yajl_gen_map_open (g);
  if (c->rec->endpoints_config == NULL && is_bridge_network (primary) && !(remove && primary == n))
    {
      json_gen_str (g, network_name (primary));
      yajl_gen_map_open (g);
      yajl_gen_map_close (g);
    }
  for (i = 0; YAJL_IS_OBJECT (ec) && i < ec->u.object.len; i++)
    if (!(remove && networks_find (c->d, ec->u.object.keys[i]) == n))
      {
        json_gen_str (g, ec->u.object.keys[i]);
        json_gen_value (g, ec->u.object.values[i]);
      }
  if (!remove)
    {
      json_gen_str (g, network_name (n));
      if (settings && YAJL_IS_OBJECT (settings))
        json_gen_value (g, settings);
      else
        {
          yajl_gen_map_open (g);
          yajl_gen_map_close (g);
        }
    }
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "endpoints");
  free (c->rec->endpoints_config);
  c->rec->endpoints_config = text;
  return 0;
}

struct connect_job
{
  uv_work_t work;
  struct ctr *c;
  struct ep_plan plan;
  char *netns;
  char *network_id;
  char *settings; /* JSON */
  ctr_done_fn done;
  void *data;
  skiff_error_t err;
};

static void
connect_work (uv_work_t *w)
{
  struct connect_job *j = w->data;
  endpoints_plug (&j->plan, j->netns, NULL, &j->err);
}

static void
connect_after (uv_work_t *w, int status)
{
  struct connect_job *j = w->data;
  struct ctr *c = j->c;
  struct network *n = networks_find (c->d, j->network_id);
  cleanup_json yajl_val settings = NULL;

  c->busy = false;
  if (j->err == NULL && (status != 0 || !containers_is_running (c) || n == NULL))
    daemon_error (&j->err, 409, "container %s stopped or network went away during the connect", ctr_short_id (c));
  if (j->err == NULL)
    json_parse (j->settings, &settings, NULL);
  if (j->err == NULL
      && (endpoints_adopt (c, &j->plan) < 0 || rewrite_config (c, n, settings, false, &j->err) < 0))
    {
      if (j->err == NULL)
        daemon_error (&j->err, 500, "out of memory");
    }
  if (j->err)
    {
      size_t i;
      endpoints_unplug (&j->plan);
      endpoints_plan_release (c->d, &j->plan);
      for (i = 0; i < c->rec->n_eps; i++)
        if (strcmp (c->rec->eps[i].endpoint_id, j->plan.e[0].ep.endpoint_id) == 0)
          record_endpoint_remove (c->rec, i);
    }
  else
    {
      skiff_error_t derr = NULL;
      containers_save (c);
      networks_refresh_rules (c->d);
      if (ctr_dns_start (c, &derr) < 0)
        {
          log_warning ("container %s: embedded DNS: %s", ctr_short_id (c), derr->msg);
          skiff_error_release (&derr);
        }
    }
  j->done (c, j->err, j->data);
  skiff_error_release (&j->err);
  endpoints_plan_free (&j->plan);
  free (j->netns);
  free (j->network_id);
  free (j->settings);
  ctr_unref (c);
  free (j);
}

static int
check_connect (struct ctr *c, struct network *n, yajl_val settings, skiff_error_t *err)
{
  cleanup_json yajl_val hc = NULL;
  struct network *primary;

  if (json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, err) < 0)
    return -1;
  primary = networks_find (c->d, ctr_network_mode (hc));
  if (strcmp (network_driver (n), "host") == 0 || (primary && strcmp (network_driver (primary), "host") == 0))
    return daemon_error (err, 403, "container cannot be disconnected from host network or connected to host network");
  if (strcmp (network_driver (n), "null") == 0 || (primary && strcmp (network_driver (primary), "null") == 0))
    return daemon_error (err, 403,
                         "container cannot be connected to multiple networks with one of the networks in private (none) "
                         "mode");
  if (endpoints_configured_on (c, n))
    return daemon_error (err, 403, "endpoint with name %s already exists in network %s", ctr_name (c),
                         network_name (n));
  return check_settings (n, settings, err);
}

void
endpoints_connect (struct ctr *c, struct network *n, yajl_val settings, ctr_done_fn done, void *data)
{
  skiff_error_t err = NULL;
  struct connect_job *j;

  if (check_connect (c, n, settings, &err) < 0)
    goto fail;
  if (!containers_is_running (c))
    {
      if (rewrite_config (c, n, settings, false, &err) < 0)
        goto fail;
      containers_save (c);
      done (c, NULL, data);
      return;
    }
  if (c->busy)
    {
      daemon_error (&err, 409, "container %s is busy: another operation is in progress", ctr_short_id (c));
      goto fail;
    }
  j = calloc (1, sizeof (*j));
  if (j == NULL)
    {
      daemon_error (&err, 500, "out of memory");
      goto fail;
    }
  j->c = c;
  j->done = done;
  j->data = data;
  j->netns = ctr_netns_path (c);
  j->network_id = strdup (network_id (n));
  j->settings = json_object_text (settings);
  if (j->netns == NULL || j->network_id == NULL || j->settings == NULL
      || plan_add (c, &j->plan, n, settings, c->rec->n_eps == 0, &err) < 0)
    {
      if (err == NULL)
        daemon_error (&err, 500, "out of memory");
      free (j->netns);
      free (j->network_id);
      free (j->settings);
      free (j);
      goto fail;
    }
  c->busy = true;
  ctr_ref (c);
  j->work.data = j;
  uv_queue_work (c->d->loop, &j->work, connect_work, connect_after);
  return;
fail:
  done (c, err, data);
  skiff_error_release (&err);
}

int
endpoints_disconnect (struct ctr *c, struct network *n, bool force, skiff_error_t *err)
{
  size_t i;

  (void) force; /* a container that is gone is removed with its endpoints */
  if (strcmp (network_driver (n), "host") == 0)
    return daemon_error (err, 403, "container cannot be disconnected from host network or connected to host network");
  if (!endpoints_configured_on (c, n))
    return daemon_error (err, 403, "container %s is not connected to network %s", ctr_short_id (c),
                         network_name (n));
  if (c->busy)
    return daemon_error (err, 409, "container %s is busy: another operation is in progress", ctr_short_id (c));
  if (rewrite_config (c, n, NULL, true, err) < 0)
    return -1;
  for (i = 0; i < c->rec->n_eps; i++)
    if (strcmp (c->rec->eps[i].network_id, network_id (n)) == 0)
      {
        endpoint_drop (c, i);
        if (i == 0)
          {
            /* Its published ports went with the first interface.  */
            free (c->rec->ports);
            c->rec->ports = NULL;
          }
        networks_refresh_rules (c->d);
        ctr_dns_refresh (c);
        break;
      }
  containers_save (c);
  return 0;
}
