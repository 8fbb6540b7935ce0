#include "ports.h"
#include "cleanup.h"
#include "containers.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPHEMERAL_FIRST 49153
#define EPHEMERAL_LAST 65535

struct held
{
  char proto[8];
  char ip[48];
  unsigned port;
};

static bool
ip_overlaps (const char *a, const char *b)
{
  bool any_a = *a == '\0' || strcmp (a, "0.0.0.0") == 0, any_b = *b == '\0' || strcmp (b, "0.0.0.0") == 0;
  return any_a || any_b || strcmp (a, b) == 0;
}

/* Every binding in a Ports map, with a callback.  */
static void
each_binding (yajl_val ports, void (*fn) (void *, const char *key, const char *ip, unsigned port), void *data)
{
  size_t i, j;
  for (i = 0; ports && YAJL_IS_OBJECT (ports) && i < ports->u.object.len; i++)
    {
      yajl_val arr = ports->u.object.values[i];
      for (j = 0; arr && YAJL_IS_ARRAY (arr) && j < arr->u.array.len; j++)
        {
          yajl_val b = arr->u.array.values[j];
          yajl_val ip = json_get (b, "HostIp"), port = json_get (b, "HostPort");
          fn (data, ports->u.object.keys[i], ip && YAJL_IS_STRING (ip) ? ip->u.string : "",
              port && YAJL_IS_STRING (port) ? (unsigned) atoi (port->u.string) : 0);
        }
    }
}

struct held_list
{
  struct held *v;
  size_t n;
};

static void
add_held (void *data, const char *key, const char *ip, unsigned port)
{
  struct held_list *l = data;
  struct held *nv = realloc (l->v, (l->n + 1) * sizeof (*nv));
  const char *slash = strchr (key, '/');
  if (nv == NULL || port == 0)
    {
      if (nv)
        l->v = nv;
      return;
    }
  l->v = nv;
  snprintf (nv[l->n].proto, sizeof (nv[l->n].proto), "%s", slash ? slash + 1 : "tcp");
  snprintf (nv[l->n].ip, sizeof (nv[l->n].ip), "%s", ip);
  nv[l->n].port = port;
  l->n++;
}

static bool
is_held (const struct held_list *l, const char *proto, const char *ip, unsigned port)
{
  size_t i;
  for (i = 0; i < l->n; i++)
    if (l->v[i].port == port && strcmp (l->v[i].proto, proto) == 0 && ip_overlaps (l->v[i].ip, ip))
      return true;
  return false;
}

int
ports_resolve (struct daemon *d, struct ctr *c, char **ports_json, skiff_error_t *err)
{
  cleanup_json yajl_val hc = NULL, cfg = NULL;
  struct held_list held = { 0 };
  cleanup_gen yajl_gen g = NULL;
  yajl_val bindings, exposed;
  bool all;
  size_t i, k, emitted = 0;
  unsigned next = EPHEMERAL_FIRST;
  int ret = 0;

  *ports_json = NULL;
  if (json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, err) < 0
      || json_parse (c->rec->config ? c->rec->config : "{}", &cfg, err) < 0)
    return -1;
  bindings = json_get (hc, "PortBindings");
  exposed = json_get (cfg, "ExposedPorts");
  all = YAJL_IS_TRUE (json_get (hc, "PublishAllPorts"));
  if ((bindings == NULL || !YAJL_IS_OBJECT (bindings) || bindings->u.object.len == 0) && !all
      && (exposed == NULL || !YAJL_IS_OBJECT (exposed) || exposed->u.object.len == 0))
    return 0;

  for (i = 0; i < d->n_containers; i++)
    if (d->containers[i] != c && containers_is_running (d->containers[i]) && d->containers[i]->rec->ports)
      {
        cleanup_json yajl_val p = NULL;
        if (json_parse (d->containers[i]->rec->ports, &p, NULL) == 0)
          each_binding (p, add_held, &held);
      }

  g = json_gen_new (false);
  yajl_gen_map_open (g);
  for (k = 0; k < 3 && ret == 0; k++)
    {
      /* First the explicit bindings, then -P's exposed ports, then the
         exposed ports nothing publishes (null, as Docker shows them).  */
      yajl_val src = k == 0 ? bindings : k == 1 ? (all ? exposed : NULL) : (all ? NULL : exposed);
      for (i = 0; src && YAJL_IS_OBJECT (src) && i < src->u.object.len && ret == 0; i++)
        {
          const char *key = src->u.object.keys[i];
          const char *slash = strchr (key, '/');
          const char *proto = slash ? slash + 1 : "tcp";
          yajl_val arr = k == 0 ? src->u.object.values[i] : NULL;
          size_t j, n = arr && YAJL_IS_ARRAY (arr) ? arr->u.array.len : 1;
          if (k >= 1 && bindings && json_get (bindings, key))
            continue;
          json_gen_str (g, key);
          if (k == 2)
            {
              yajl_gen_null (g);
              emitted++;
              continue;
            }
          yajl_gen_array_open (g);
          for (j = 0; j < n && ret == 0; j++)
            {
              yajl_val b = arr ? arr->u.array.values[j] : NULL;
              yajl_val ipv = json_get (b, "HostIp"), pv = json_get (b, "HostPort");
              const char *ip = ipv && YAJL_IS_STRING (ipv) && *ipv->u.string ? ipv->u.string : "0.0.0.0";
              unsigned port = pv && YAJL_IS_STRING (pv) ? (unsigned) atoi (pv->u.string) : 0;
              char buf[16];
              if (port == 0)
                {
                  while (next <= EPHEMERAL_LAST && is_held (&held, proto, ip, next))
                    next++;
                  if (next > EPHEMERAL_LAST)
                    {
                      ret = daemon_error (err, 500, "no free host port for %s", key);
                      break;
                    }
                  port = next++;
                }
              else if (is_held (&held, proto, ip, port))
                {
                  ret = daemon_error (err, 500,
                                      "driver failed programming external connectivity on endpoint %s (%s): Bind for "
                                      "%s:%u failed: port is already allocated",
                                      ctr_name (c), c->rec->id, ip, port);
                  break;
                }
              add_held (&held, key, ip, port);
              snprintf (buf, sizeof (buf), "%u", port);
              yajl_gen_map_open (g);
              json_gen_kv_str (g, "HostIp", ip);
              json_gen_kv_str (g, "HostPort", buf);
              yajl_gen_map_close (g);
              emitted++;
            }
          yajl_gen_array_close (g);
        }
    }
  yajl_gen_map_close (g);
  free (held.v);
  if (ret < 0)
    return -1;
  if (emitted)
    *ports_json = json_gen_steal (g, NULL);
  return 0;
}

struct collect
{
  struct nft_port *ports;
  size_t n;
  char **storage;
  size_t n_storage;
  const char *container_ip;
  bool failed;
};

static const char *
keep (struct collect *c, const char *s)
{
  char **ns = realloc (c->storage, (c->n_storage + 2) * sizeof (char *));
  if (ns == NULL)
    return NULL;
  c->storage = ns;
  ns[c->n_storage] = strdup (s);
  ns[c->n_storage + 1] = NULL;
  return ns[c->n_storage++];
}

static void
add_nft (void *data, const char *key, const char *ip, unsigned port)
{
  struct collect *c = data;
  struct nft_port *np = realloc (c->ports, (c->n + 1) * sizeof (*np));
  const char *slash = strchr (key, '/');
  char proto[8];
  if (np == NULL)
    {
      c->failed = true;
      return;
    }
  c->ports = np;
  snprintf (proto, sizeof (proto), "%s", slash ? slash + 1 : "tcp");
  np[c->n].proto = keep (c, proto);
  np[c->n].host_ip = *ip ? keep (c, ip) : NULL;
  np[c->n].host_port = port;
  np[c->n].container_ip = c->container_ip;
  np[c->n].container_port = (uint16_t) atoi (key);
  c->n++;
}

int
ports_collect (struct daemon *d, struct nft_port **ports, size_t *n, char ***storage, skiff_error_t *err)
{
  struct collect c = { 0 };
  size_t i;
  for (i = 0; i < d->n_containers; i++)
    {
      struct ctr *x = d->containers[i];
      cleanup_json yajl_val p = NULL;
      /* Ports are published to the address on the first network.  */
      if (!containers_is_running (x) || x->rec->ports == NULL || x->rec->n_eps == 0)
        continue;
      if (json_parse (x->rec->ports, &p, NULL) < 0)
        continue;
      c.container_ip = keep (&c, x->rec->eps[0].ip);
      each_binding (p, add_nft, &c);
    }
  if (c.failed)
    {
      ports_release (c.ports, c.storage);
      return skiff_error_make (err, ENOMEM, "ports");
    }
  *ports = c.ports;
  *n = c.n;
  *storage = c.storage;
  return 0;
}

void
ports_release (struct nft_port *ports, char **storage)
{
  free (ports);
  cleanup_strvp (&storage);
}
