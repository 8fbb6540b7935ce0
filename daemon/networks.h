/* skiffd's networks: the three every daemon has — `bridge` (the default:
   bridge skiff0, 172.17.0.0/16, masquerade, no name resolution), `host`
   and `none` — and user-defined bridge networks (a bridge br-<short id>
   each, isolated from the others, names resolved by the embedded DNS).
   One JSON file per network under <root>/network (the built-ins by name,
   the others by id) holds its settings and its pool's configuration; the
   addresses in use are in <exec root>/network/<id>.json (they outlive a
   crash of skiffd, not a reboot: nor do containers).  The netfilter rules
   of all of them live in skiff's own nftables table, rebuilt from that
   state at start and after every change.  Loop thread only.  */
#ifndef SKIFF_DAEMON_NETWORKS_H
#define SKIFF_DAEMON_NETWORKS_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>
#include "daemon.h"
#include "error.h"

struct router;

#define NETWORKS_DEFAULT_BRIDGE "skiff0"
#define NETWORKS_DEFAULT_SUBNET "172.17.0.0/16"
#define NETWORKS_DEFAULT_GATEWAY "172.17.0.1"

/* Docker's option keys.  */
#define NETWORK_OPT_BRIDGE_NAME "com.docker.network.bridge.name"
#define NETWORK_OPT_ICC "com.docker.network.bridge.enable_icc"
#define NETWORK_OPT_MASQUERADE "com.docker.network.bridge.enable_ip_masquerade"
#define NETWORK_OPT_MTU "com.docker.network.driver.mtu"

struct network;

/* Loads the networks (creating the three built-ins the first time) and
   sets up their bridges, forwarding and the nftables table.  */
int networks_init (struct daemon *d, skiff_error_t *err);
void networks_free (struct daemon *d);

/* By name, full id or unique id prefix; "default" is the bridge.  */
struct network *networks_find (struct daemon *d, const char *ref);
size_t networks_count (struct daemon *d);
struct network *networks_at (struct daemon *d, size_t i);

const char *network_name (const struct network *n);
const char *network_id (const struct network *n);
const char *network_driver (const struct network *n); /* "bridge", "host" or "null" */
const char *network_bridge (const struct network *n); /* device, NULL when none */
const char *networks_created (const struct network *n);
const char *networks_subnet (const struct network *n);  /* bridge networks, else "" */
const char *networks_gateway (const struct network *n);
const char *networks_ip_range (const struct network *n); /* "" when none */
/* bridge, host and none: they cannot be removed.  */
bool network_is_builtin (const struct network *n);
/* A bridge network other than the default: its containers get the
   embedded DNS server, aliases, and may connect and disconnect.  */
bool network_is_user_defined (const struct network *n);
bool network_internal (const struct network *n);
bool network_attachable (const struct network *n);
int network_mtu (const struct network *n);
/* Driver options and labels as JSON object texts ("{}" when none).  */
const char *network_options (const struct network *n);
const char *network_labels (const struct network *n);

/* POST /networks/create: checks the request as Docker does (name, driver,
   IPAM, options), then creates the bridge, the pool and the file.  Errors
   carry Docker's HTTP status and message; on error nothing is left.  */
int networks_create (struct daemon *d, yajl_val body, struct network **out, skiff_error_t *err);
/* Removes a user-defined network that no running container uses (403
   naming the containers otherwise): its bridge, file and rules.  */
int networks_remove (struct daemon *d, struct network *n, skiff_error_t *err);

/* An address for a container on a bridge network (want: a requested
   --ip, or NULL); the pool is saved.  gateway and prefix describe the
   subnet.  */
int networks_alloc_ip (struct daemon *d, struct network *n, const char *want, char ip[16], char gateway[16],
                       int *prefix, skiff_error_t *err);
void networks_release_ip (struct daemon *d, struct network *n, const char *ip);
/* Marks ip as in use if it is not (live restore: the addresses of the
   containers' records, whatever the pool's file says).  */
void networks_hold_ip (struct daemon *d, struct network *n, const char *ip);

/* Rewrites skiff's nftables table from the networks and the published
   ports of the running containers, when that gives another ruleset than
   the one last applied (skiffd's start always applies it); failures are
   logged.  */
void networks_refresh_rules (struct daemon *d);

/* Publishes a network event (create, destroy, connect, disconnect);
   container_id NULL when none.  */
void networks_event (struct daemon *d, struct network *n, const char *action, const char *container_id);

/* GET /networks/{id} document.  */
char *networks_inspect_json (struct daemon *d, struct network *n);

int api_networks_register (struct router *r, skiff_error_t *err);

#endif
