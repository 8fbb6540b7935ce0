/* Published ports of containers on bridge networks: the effective
   bindings of a container (HostConfig.PortBindings, ephemeral host ports
   for "" and for -P), as Docker's NetworkSettings.Ports, and the nftables
   view of all of them.  */
#ifndef SKIFF_DAEMON_PORTS_H
#define SKIFF_DAEMON_PORTS_H

#include "daemon.h"
#include "error.h"
#include "nft.h"

struct ctr;

/* The bindings container c gets when it starts, as a Ports JSON map
   ({"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}), checked against
   the ports other running containers hold.  NULL ports_json: none.  */
int ports_resolve (struct daemon *d, struct ctr *c, char **ports_json, skiff_error_t *err);

/* The published ports of every running container, for nft_ruleset_skiff.
   The strings point into *storage (free both with ports_release).  */
int ports_collect (struct daemon *d, struct nft_port **ports, size_t *n, char ***storage, skiff_error_t *err);
void ports_release (struct nft_port *ports, char **storage);

#endif
