/* A container's NetworkSettings as Docker shows them: the top-level fields
   describe its interface on the default bridge; Networks lists every
   network it is configured on, with the live endpoint while it runs.  */
#include "containers.h"
#include "cleanup.h"
#include "json.h"
#include "networks.h"

#include <string.h>

/* The address fields, shared by the top level and each network.  */
static void
gen_addresses (yajl_gen g, const struct record_endpoint *ep)
{
  json_gen_kv_str (g, "Gateway", ep ? ep->gateway : "");
  json_gen_kv_str (g, "IPAddress", ep ? ep->ip : "");
  json_gen_kv_int (g, "IPPrefixLen", ep ? ep->prefix : 0);
  json_gen_kv_str (g, "IPv6Gateway", "");
  json_gen_kv_str (g, "GlobalIPv6Address", "");
  json_gen_kv_int (g, "GlobalIPv6PrefixLen", 0);
  json_gen_kv_str (g, "MacAddress", ep ? ep->mac : "");
}

/* One member of Networks: settings is the configured EndpointSettings
   (may be NULL), ep the live endpoint (NULL when not running).  */
static void
gen_network (yajl_gen g, struct network *n, yajl_val settings, const struct record_endpoint *ep)
{
  yajl_val ipam = json_get (settings, "IPAMConfig"), aliases = json_get (settings, "Aliases");
  size_t i;

  yajl_gen_map_open (g);
  json_gen_str (g, "IPAMConfig");
  if (ipam && YAJL_IS_OBJECT (ipam) && ipam->u.object.len)
    json_gen_value (g, ipam);
  else
    yajl_gen_null (g);
  json_gen_str (g, "Links");
  yajl_gen_null (g);
  json_gen_str (g, "Aliases");
  if (ep && ep->aliases && ep->aliases[0])
    {
      yajl_gen_array_open (g);
      for (i = 0; ep->aliases[i]; i++)
        json_gen_str (g, ep->aliases[i]);
      yajl_gen_array_close (g);
    }
  else if (aliases && YAJL_IS_ARRAY (aliases) && aliases->u.array.len)
    json_gen_value (g, aliases);
  else
    yajl_gen_null (g);
  json_gen_kv_str (g, "NetworkID", n ? network_id (n) : "");
  json_gen_kv_str (g, "EndpointID", ep ? ep->endpoint_id : "");
  gen_addresses (g, ep);
  json_gen_str (g, "DriverOpts");
  yajl_gen_null (g);
  yajl_gen_map_close (g);
}

void
containers_gen_networks (yajl_gen g, struct ctr *c)
{
  cleanup_json yajl_val hc = NULL, ec = NULL;
  const char *mode;
  size_t i, j;

  json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, NULL);
  json_parse (c->rec->endpoints_config ? c->rec->endpoints_config : "{}", &ec, NULL);
  mode = ctr_network_mode (hc);
  json_gen_str (g, "Networks");
  yajl_gen_map_open (g);
  if (c->rec->n_eps)
    for (i = 0; i < c->rec->n_eps; i++)
      {
        const struct record_endpoint *ep = &c->rec->eps[i];
        yajl_val settings = NULL;
        for (j = 0; YAJL_IS_OBJECT (ec) && j < ec->u.object.len; j++)
          if (networks_find (c->d, ec->u.object.keys[j]) == networks_find (c->d, ep->network_id))
            settings = ec->u.object.values[j];
        json_gen_str (g, ep->network);
        gen_network (g, networks_find (c->d, ep->network_id), settings, ep);
      }
  else if (c->rec->endpoints_config && YAJL_IS_OBJECT (ec))
    for (j = 0; j < ec->u.object.len; j++)
      {
        struct network *n = networks_find (c->d, ec->u.object.keys[j]);
        json_gen_str (g, n ? network_name (n) : ec->u.object.keys[j]);
        gen_network (g, n, ec->u.object.values[j], NULL);
      }
  else if (!containers_is_running (c) || networks_find (c->d, mode) == NULL
           || network_bridge (networks_find (c->d, mode)) == NULL)
    {
      /* host and none, and a stopped container on its NetworkMode network */
      struct network *n = networks_find (c->d, mode);
      json_gen_str (g, n ? network_name (n) : mode);
      gen_network (g, n, NULL, NULL);
    }
  yajl_gen_map_close (g);
}

void
containers_gen_network_settings (yajl_gen g, struct ctr *c, const char *sandbox_key)
{
  cleanup_json yajl_val hc = NULL;
  bool host;
  const struct record_endpoint *bridge_ep = record_endpoint_on (c->rec, "bridge");

  json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, NULL);
  host = strcmp (ctr_network_mode (hc), "host") == 0;
  json_gen_str (g, "NetworkSettings");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Bridge", "");
  json_gen_kv_str (g, "SandboxID", host ? "" : c->rec->id);
  json_gen_kv_bool (g, "HairpinMode", false);
  json_gen_kv_str (g, "LinkLocalIPv6Address", "");
  json_gen_kv_int (g, "LinkLocalIPv6PrefixLen", 0);
  if (c->rec->ports)
    json_gen_kv_raw (g, "Ports", c->rec->ports);
  else
    {
      json_gen_str (g, "Ports");
      yajl_gen_map_open (g);
      yajl_gen_map_close (g);
    }
  json_gen_kv_str (g, "SandboxKey", host ? "" : sandbox_key);
  json_gen_str (g, "SecondaryIPAddresses");
  yajl_gen_null (g);
  json_gen_str (g, "SecondaryIPv6Addresses");
  yajl_gen_null (g);
  json_gen_kv_str (g, "EndpointID", bridge_ep ? bridge_ep->endpoint_id : "");
  gen_addresses (g, bridge_ep);
  containers_gen_networks (g, c);
  yajl_gen_map_close (g);
}
