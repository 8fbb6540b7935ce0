/* /networks routes and Docker's network JSON.  */
#include "cleanup.h"
#include "containers.h"
#include "http.h"
#include "ipam.h"
#include "json.h"
#include "networks.h"
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct network;

static void
gen_empty_map (yajl_gen g, const char *key)
{
  json_gen_str (g, key);
  yajl_gen_map_open (g);
  yajl_gen_map_close (g);
}

static void
gen_network (struct daemon *d, struct network *n, yajl_gen g)
{
  bool bridge = network_bridge (n) != NULL;
  size_t i;

  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Name", network_name (n));
  json_gen_kv_str (g, "Id", network_id (n));
  json_gen_kv_str (g, "Created", networks_created (n));
  json_gen_kv_str (g, "Scope", "local");
  json_gen_kv_str (g, "Driver", network_driver (n));
  json_gen_kv_bool (g, "EnableIPv6", false);
  json_gen_str (g, "IPAM");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Driver", "default");
  json_gen_str (g, "Options");
  yajl_gen_null (g);
  json_gen_str (g, "Config");
  yajl_gen_array_open (g);
  if (bridge)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "Subnet", networks_subnet (n));
      json_gen_kv_str (g, "Gateway", networks_gateway (n));
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  json_gen_kv_bool (g, "Internal", false);
  json_gen_kv_bool (g, "Attachable", false);
  json_gen_kv_bool (g, "Ingress", false);
  json_gen_str (g, "ConfigFrom");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Network", "");
  yajl_gen_map_close (g);
  json_gen_kv_bool (g, "ConfigOnly", false);
  json_gen_str (g, "Containers");
  yajl_gen_map_open (g);
  for (i = 0; i < d->n_containers; i++)
    {
      struct ctr *c = d->containers[i];
      const struct record_endpoint *ep = &c->rec->ep;
      char cidr[32];
      if (!containers_is_running (c) || ep->network == NULL || strcmp (ep->network, network_name (n)) != 0)
        continue;
      snprintf (cidr, sizeof (cidr), "%s/%d", ep->ip, ep->prefix);
      json_gen_str (g, c->rec->id);
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "Name", ctr_name (c));
      json_gen_kv_str (g, "EndpointID", ep->endpoint_id);
      json_gen_kv_str (g, "MacAddress", ep->mac);
      json_gen_kv_str (g, "IPv4Address", cidr);
      json_gen_kv_str (g, "IPv6Address", "");
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  json_gen_str (g, "Options");
  yajl_gen_map_open (g);
  if (bridge)
    {
      json_gen_kv_str (g, "com.docker.network.bridge.default_bridge", "true");
      json_gen_kv_str (g, "com.docker.network.bridge.enable_icc", "true");
      json_gen_kv_str (g, "com.docker.network.bridge.enable_ip_masquerade", "true");
      json_gen_kv_str (g, "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0");
      json_gen_kv_str (g, "com.docker.network.bridge.name", network_bridge (n));
      json_gen_kv_str (g, "com.docker.network.driver.mtu", "1500");
    }
  yajl_gen_map_close (g);
  gen_empty_map (g, "Labels");
  yajl_gen_map_close (g);
}

char *
networks_inspect_json (struct daemon *d, struct network *n)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  gen_network (d, n, g);
  return json_gen_steal (g, NULL);
}

static void
h_list (struct http_request *req, void *data)
{
  struct daemon *d = data;
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *out = NULL;
  const char *names[] = { "bridge", "host", "none" };
  size_t i;

  yajl_gen_array_open (g);
  for (i = 0; i < 3; i++)
    gen_network (d, networks_find (d, names[i]), g);
  yajl_gen_array_close (g);
  out = json_gen_steal (g, NULL);
  http_respond_json (req, 200, out);
}

static void
h_inspect (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct network *n = networks_find (d, http_param (req, "id"));
  cleanup_free char *out = NULL;
  if (n == NULL)
    {
      http_respond_error (req, 404, "network %s not found", http_param (req, "id"));
      return;
    }
  out = networks_inspect_json (d, n);
  http_respond_json (req, 200, out);
}

static void
h_not_yet (struct http_request *req, void *data)
{
  http_respond_error (req, 501, "user-defined networks are not supported yet: use bridge, host or none");
}

int
api_networks_register (struct router *r, skiff_error_t *err)
{
  if (router_add (r, "GET", "/networks", h_list, err) < 0 || router_add (r, "GET", "/networks/{id}", h_inspect, err) < 0
      || router_add (r, "POST", "/networks/create", h_not_yet, err) < 0
      || router_add (r, "POST", "/networks/prune", h_not_yet, err) < 0
      || router_add (r, "POST", "/networks/{id}/connect", h_not_yet, err) < 0
      || router_add (r, "POST", "/networks/{id}/disconnect", h_not_yet, err) < 0
      || router_add (r, "DELETE", "/networks/{id}", h_not_yet, err) < 0)
    return -1;
  return 0;
}
