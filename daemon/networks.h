/* skiffd's networks: `bridge` (the default: bridge skiff0, 172.17.0.0/16,
   masquerade, no name resolution), `host` and `none`.  The bridge's
   address pool is kept in <root>/network/bridge.json; its netfilter rules
   in skiff's own nftables table, rebuilt at start.  */
#ifndef SKIFF_DAEMON_NETWORKS_H
#define SKIFF_DAEMON_NETWORKS_H

#include <stdbool.h>
#include "daemon.h"
#include "error.h"

struct router;

#define NETWORKS_DEFAULT_BRIDGE "skiff0"
#define NETWORKS_DEFAULT_SUBNET "172.17.0.0/16"
#define NETWORKS_DEFAULT_GATEWAY "172.17.0.1"

struct network;

/* Loads or creates the three networks and sets up the default bridge:
   the device, forwarding, and the nftables table.  */
int networks_init (struct daemon *d, skiff_error_t *err);
void networks_free (struct daemon *d);

/* By name, full id or unique id prefix; "default" is the bridge.  */
struct network *networks_find (struct daemon *d, const char *ref);
const char *network_name (const struct network *n);
const char *network_id (const struct network *n);
const char *network_driver (const struct network *n); /* "bridge", "host" or "null" */
const char *network_bridge (const struct network *n); /* device, NULL when none */
const char *networks_created (const struct network *n);
const char *networks_subnet (const struct network *n);  /* bridge networks */
const char *networks_gateway (const struct network *n);

/* An address for a container on a bridge network (want: a requested
   --ip, or NULL); the pool is saved.  gateway and prefix describe the
   subnet.  */
int networks_alloc_ip (struct daemon *d, struct network *n, const char *want, char ip[16], char gateway[16],
                       int *prefix, skiff_error_t *err);
void networks_release_ip (struct daemon *d, struct network *n, const char *ip);

/* Rewrites skiff's nftables table from the networks and the published
   ports of the running containers; failures are logged.  */
void networks_refresh_rules (struct daemon *d);

/* GET /networks/{id} document.  */
char *networks_inspect_json (struct daemon *d, struct network *n);

int api_networks_register (struct router *r, skiff_error_t *err);

#endif
