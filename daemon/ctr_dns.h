/* The embedded DNS server of a container on user-defined networks
   (Docker's 127.0.0.11): bound inside the container's network namespace,
   it answers the names, aliases and short ids of the containers that share
   a user-defined network with it, and forwards the rest to the upstream
   servers (HostConfig.Dns, else daemon.json's "dns", else the host's
   resolv.conf without loopback servers).  Loop thread only.  */
#ifndef SKIFF_DAEMON_CTR_DNS_H
#define SKIFF_DAEMON_CTR_DNS_H

#include "containers.h"

/* Starts the server when the running container has an interface on a
   user-defined network and none runs yet.  */
int ctr_dns_start (struct ctr *c, skiff_error_t *err);
/* Stops it when no interface on a user-defined network is left.  */
void ctr_dns_refresh (struct ctr *c);
void ctr_dns_stop (struct ctr *c);

/* The name servers container c forwards to or lists in its resolv.conf:
   HostConfig.Dns, daemon.json's "dns", or the host's non-loopback ones.
   NULL-terminated, malloc'd; may be empty.  */
char **ctr_dns_upstreams (struct daemon *d, const char *host_config);

#endif
