/* /networks routes and Docker's network JSON.  */
#include "cleanup.h"
#include "containers.h"
#include "ctr_endpoints.h"
#include "events.h"
#include "http.h"
#include "json.h"
#include "networks.h"
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
gen_network (struct daemon *d, struct network *n, yajl_gen g)
{
  bool bridge = network_bridge (n) != NULL;
  size_t i, j;

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
  if (network_is_builtin (n))
    yajl_gen_null (g);
  else
    {
      yajl_gen_map_open (g);
      yajl_gen_map_close (g);
    }
  json_gen_str (g, "Config");
  yajl_gen_array_open (g);
  if (bridge)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "Subnet", networks_subnet (n));
      if (*networks_ip_range (n))
        json_gen_kv_str (g, "IPRange", networks_ip_range (n));
      json_gen_kv_str (g, "Gateway", networks_gateway (n));
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  json_gen_kv_bool (g, "Internal", network_internal (n));
  json_gen_kv_bool (g, "Attachable", network_attachable (n));
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
      if (!containers_is_running (c))
        continue;
      for (j = 0; j < c->rec->n_eps; j++)
        {
          const struct record_endpoint *ep = &c->rec->eps[j];
          char cidr[32];
          if (strcmp (ep->network_id, network_id (n)) != 0)
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
    }
  yajl_gen_map_close (g);
  if (network_is_builtin (n))
    {
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
    }
  else
    json_gen_kv_raw (g, "Options", network_options (n));
  json_gen_kv_raw (g, "Labels", network_labels (n));
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

static bool
has_running_endpoints (struct daemon *d, struct network *n)
{
  size_t i;
  for (i = 0; i < d->n_containers; i++)
    if (containers_is_running (d->containers[i]) && record_endpoint_on (d->containers[i]->rec, network_name (n)))
      return true;
  return false;
}

/* label=KEY or label=KEY=VALUE against a network's labels.  */
static bool
label_matches (struct network *n, const char *want)
{
  cleanup_json yajl_val labels = NULL;
  const char *eq = strchr (want, '=');
  size_t klen = eq ? (size_t) (eq - want) : strlen (want), i;

  if (json_parse (network_labels (n), &labels, NULL) < 0 || !YAJL_IS_OBJECT (labels))
    return false;
  for (i = 0; i < labels->u.object.len; i++)
    if (strlen (labels->u.object.keys[i]) == klen && strncmp (labels->u.object.keys[i], want, klen) == 0)
      return eq == NULL
             || (YAJL_IS_STRING (labels->u.object.values[i]) && strcmp (labels->u.object.values[i]->u.string, eq + 1) == 0);
  return false;
}

/* Whether n passes one filter key: any of the values may match.  */
static bool
filter_key_matches (struct daemon *d, struct network *n, const char *key, yajl_val values, bool *bad)
{
  size_t i;
  if (json_filter_count (values) == 0)
    return true;
  for (i = 0; i < json_filter_count (values); i++)
    {
      const char *v = json_filter_at (values, i);
      if (strcmp (key, "name") == 0 && strstr (network_name (n), v))
        return true;
      if (strcmp (key, "id") == 0 && strncmp (network_id (n), v, strlen (v)) == 0)
        return true;
      if (strcmp (key, "driver") == 0 && strcmp (network_driver (n), v) == 0)
        return true;
      if (strcmp (key, "scope") == 0 && strcmp (v, "local") == 0)
        return true;
      if (strcmp (key, "label") == 0 && label_matches (n, v))
        return true;
      if (strcmp (key, "type") == 0)
        {
          if (strcmp (v, "custom") != 0 && strcmp (v, "builtin") != 0)
            *bad = true;
          else if ((strcmp (v, "builtin") == 0) == network_is_builtin (n))
            return true;
        }
      if (strcmp (key, "dangling") == 0)
        {
          bool want = strcmp (v, "true") == 0 || strcmp (v, "1") == 0;
          if (!want && strcmp (v, "false") != 0 && strcmp (v, "0") != 0)
            *bad = true;
          else if (want == (!network_is_builtin (n) && !has_running_endpoints (d, n)))
            return true;
        }
    }
  return false;
}

static int
parse_filters (struct http_request *req, const char *const *known, yajl_val *out)
{
  const char *text = http_query (req, "filters");
  size_t i, k;
  *out = NULL;
  if (text == NULL || *text == '\0')
    return 0;
  if (json_parse (text, out, NULL) < 0 || !YAJL_IS_OBJECT (*out))
    {
      http_respond_error (req, 400, "invalid filters: %s", text);
      return -1;
    }
  for (i = 0; i < (*out)->u.object.len; i++)
    {
      bool ok = false;
      for (k = 0; known[k]; k++)
        ok = ok || strcmp ((*out)->u.object.keys[i], known[k]) == 0;
      if (!ok)
        {
          http_respond_error (req, 400, "invalid filter '%s'", (*out)->u.object.keys[i]);
          return -1;
        }
    }
  return 0;
}

static bool
network_passes (struct daemon *d, struct network *n, yajl_val filters, bool *bad)
{
  size_t i;
  for (i = 0; filters && i < filters->u.object.len; i++)
    if (!filter_key_matches (d, n, filters->u.object.keys[i], filters->u.object.values[i], bad))
      return false;
  return true;
}

static void
h_list (struct http_request *req, void *data)
{
  static const char *const known[] = { "dangling", "driver", "id", "label", "name", "scope", "type", NULL };
  struct daemon *d = data;
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_json yajl_val filters = NULL;
  cleanup_free char *out = NULL;
  bool bad = false;
  size_t i;

  if (parse_filters (req, known, &filters) < 0)
    return;
  yajl_gen_array_open (g);
  for (i = 0; i < networks_count (d); i++)
    if (network_passes (d, networks_at (d, i), filters, &bad))
      gen_network (d, networks_at (d, i), g);
  yajl_gen_array_close (g);
  if (bad)
    {
      http_respond_error (req, 400, "invalid filter value");
      return;
    }
  out = json_gen_steal (g, NULL);
  http_respond_json (req, 200, out);
}

static struct network *
find_or_404 (struct http_request *req, struct daemon *d)
{
  struct network *n = networks_find (d, http_param (req, "id"));
  if (n == NULL)
    http_respond_error (req, 404, "network %s not found", http_param (req, "id"));
  return n;
}

static void
h_inspect (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct network *n = find_or_404 (req, d);
  cleanup_free char *out = NULL;
  if (n == NULL)
    return;
  out = networks_inspect_json (d, n);
  http_respond_json (req, 200, out);
}

static bool
body_object (struct http_request *req, yajl_val *body)
{
  if (req->body_len == 0 || json_parse (req->body, body, NULL) < 0 || !YAJL_IS_OBJECT (*body))
    {
      http_respond_error (req, 400, "invalid JSON body: expected an object");
      return false;
    }
  return true;
}

static void
h_create (struct http_request *req, void *data)
{
  struct daemon *d = data;
  cleanup_json yajl_val body = NULL;
  cleanup_gen yajl_gen g = NULL;
  cleanup_free char *out = NULL;
  skiff_error_t err = NULL;
  struct network *n;

  if (!body_object (req, &body))
    return;
  if (networks_create (d, body, &n, &err) < 0)
    {
      http_respond_error (req, daemon_error_status (err), "%s", err->msg);
      skiff_error_release (&err);
      return;
    }
  networks_event (d, n, "create", NULL);
  g = json_gen_new (false);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Id", network_id (n));
  json_gen_kv_str (g, "Warning", "");
  yajl_gen_map_close (g);
  out = json_gen_steal (g, NULL);
  http_respond_json (req, 201, out);
}

static int
remove_network (struct daemon *d, struct network *n, skiff_error_t *err)
{
  char id[128], name[256];
  const char *attrs[] = { "name", name, "type", "bridge", NULL };
  snprintf (id, sizeof (id), "%s", network_id (n));
  snprintf (name, sizeof (name), "%s", network_name (n));
  if (networks_remove (d, n, err) < 0)
    return -1;
  events_publish (d->events, "network", "destroy", id, attrs);
  return 0;
}

static void
h_remove (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct network *n = find_or_404 (req, d);
  skiff_error_t err = NULL;

  if (n == NULL)
    return;
  if (remove_network (d, n, &err) < 0)
    {
      http_respond_error (req, daemon_error_status (err), "%s", err->msg);
      skiff_error_release (&err);
      return;
    }
  http_respond_empty (req, 204);
}

static void
h_prune (struct http_request *req, void *data)
{
  static const char *const known[] = { "label", "until", NULL };
  struct daemon *d = data;
  cleanup_json yajl_val filters = NULL;
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *out = NULL;
  yajl_val labels;
  size_t i;

  if (parse_filters (req, known, &filters) < 0)
    return;
  if (json_get (filters, "until"))
    {
      http_respond_error (req, 400, "the until filter is not supported");
      return;
    }
  labels = json_get (filters, "label");
  yajl_gen_map_open (g);
  json_gen_str (g, "NetworksDeleted");
  yajl_gen_array_open (g);
  for (i = networks_count (d); i-- > 0;)
    {
      struct network *n = networks_at (d, i);
      char name[256];
      skiff_error_t err = NULL;
      size_t k;
      bool ok = true;
      if (network_is_builtin (n) || has_running_endpoints (d, n))
        continue;
      for (k = 0; k < json_filter_count (labels); k++)
        ok = ok && label_matches (n, json_filter_at (labels, k));
      if (!ok)
        continue;
      snprintf (name, sizeof (name), "%s", network_name (n));
      if (remove_network (d, n, &err) < 0)
        {
          skiff_error_release (&err);
          continue;
        }
      json_gen_str (g, name);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  out = json_gen_steal (g, NULL);
  http_respond_json (req, 200, out);
}

struct connect_req
{
  struct http_request *req;
  char network_id[128];
};

static void
connect_done (struct ctr *c, skiff_error_t err, void *data)
{
  struct connect_req *cr = data;
  if (err)
    http_respond_error (cr->req, daemon_error_status (err), "%s", err->msg);
  else
    http_respond_empty (cr->req, 200);
  free (cr);
}

static struct ctr *
body_container (struct http_request *req, struct daemon *d, yajl_val body)
{
  yajl_val who = json_get (body, "Container");
  skiff_error_t err = NULL;
  struct ctr *c;
  if (who == NULL || !YAJL_IS_STRING (who) || *who->u.string == '\0')
    {
      http_respond_error (req, 400, "a container is required");
      return NULL;
    }
  c = containers_find (d, who->u.string, &err);
  if (c == NULL)
    {
      http_respond_error (req, daemon_error_status (err), "%s", err->msg);
      skiff_error_release (&err);
    }
  return c;
}

static void
h_connect (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct network *n = find_or_404 (req, d);
  cleanup_json yajl_val body = NULL;
  struct connect_req *cr;
  struct ctr *c;

  if (n == NULL || !body_object (req, &body) || (c = body_container (req, d, body)) == NULL)
    return;
  cr = calloc (1, sizeof (*cr));
  if (cr == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  cr->req = req;
  snprintf (cr->network_id, sizeof (cr->network_id), "%s", network_id (n));
  endpoints_connect (c, n, json_get (body, "EndpointConfig"), connect_done, cr);
}

static void
h_disconnect (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct network *n = find_or_404 (req, d);
  cleanup_json yajl_val body = NULL;
  skiff_error_t err = NULL;
  struct ctr *c;

  if (n == NULL || !body_object (req, &body) || (c = body_container (req, d, body)) == NULL)
    return;
  if (endpoints_disconnect (c, n, YAJL_IS_TRUE (json_get (body, "Force")), &err) < 0)
    {
      http_respond_error (req, daemon_error_status (err), "%s", err->msg);
      skiff_error_release (&err);
      return;
    }
  http_respond_empty (req, 200);
}

int
api_networks_register (struct router *r, skiff_error_t *err)
{
  if (router_add (r, "GET", "/networks", h_list, err) < 0 || router_add (r, "GET", "/networks/{id}", h_inspect, err) < 0
      || router_add (r, "POST", "/networks/create", h_create, err) < 0
      || router_add (r, "POST", "/networks/prune", h_prune, err) < 0
      || router_add (r, "POST", "/networks/{id}/connect", h_connect, err) < 0
      || router_add (r, "POST", "/networks/{id}/disconnect", h_disconnect, err) < 0
      || router_add (r, "DELETE", "/networks/{id}", h_remove, err) < 0)
    return -1;
  return 0;
}
