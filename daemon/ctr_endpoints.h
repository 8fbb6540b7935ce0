/* A container's interfaces on bridge networks: which networks it joins
   (HostConfig.NetworkMode's first, then the others of its
   NetworkingConfig.EndpointsConfig), the addresses they lend, the veth
   pairs, and `network connect` / `network disconnect`.  */
#ifndef SKIFF_DAEMON_CTR_ENDPOINTS_H
#define SKIFF_DAEMON_CTR_ENDPOINTS_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>
#include "containers.h"
#include "record.h"

struct network;
struct nl_netns;

/* One interface to make.  */
struct ep_plan_entry
{
  struct record_endpoint ep;
  char *bridge;
  bool route; /* the default route goes through this one's gateway */
  int mtu;
};

struct ep_plan
{
  struct ep_plan_entry *e;
  size_t n;
};

/* POST /containers/create: NetworkMode names a network that exists, and
   the endpoint settings (networking: NetworkingConfig, may be NULL) fit
   it, with Docker's messages.  */
int endpoints_check_create (struct daemon *d, yajl_val host_config, yajl_val networking, skiff_error_t *err);

/* The container's EndpointsConfig to record at its creation (NULL when the
   request has none: the NetworkMode network alone).  */
int endpoints_config_for_create (struct daemon *d, yajl_val host_config, yajl_val networking, char **out,
                                 skiff_error_t *err);

/* Loop thread, at a start: the interfaces container c gets, with their
   addresses allocated.  An empty plan for host and none.  */
int endpoints_plan (struct ctr *c, struct ep_plan *p, skiff_error_t *err);
/* Gives the plan's addresses back (the start failed).  */
void endpoints_plan_release (struct daemon *d, struct ep_plan *p);
void endpoints_plan_free (struct ep_plan *p);

/* Any thread: makes the plan's veth pairs into the namespace at netns
   (host_ifname filled in); all or nothing.  ns: a netlink socket open
   there (sandbox_netns_create), or NULL.  */
int endpoints_plug (struct ep_plan *p, const char *netns, struct nl_netns *ns, skiff_error_t *err);
void endpoints_unplug (struct ep_plan *p);

/* Loop thread: the plan becomes the record's endpoints (a start that
   succeeded).  */
int endpoints_adopt (struct ctr *c, struct ep_plan *p);
/* Loop thread, when the container stops: its veth pairs, addresses and
   DNS server go.  */
void endpoints_release (struct ctr *c);
/* Live restore, before any container is started or settled: the addresses
   of c's recorded endpoints are held in their pools.  */
void endpoints_restore (struct ctr *c);

/* POST /networks/{id}/connect and /disconnect.  A running container gets
   or loses the interface at once; a stopped one at its next start.  */
void endpoints_connect (struct ctr *c, struct network *n, yajl_val settings, ctr_done_fn done, void *data);
int endpoints_disconnect (struct ctr *c, struct network *n, bool force, skiff_error_t *err);

/* Whether a container, running or not, is configured on network.  */
bool endpoints_configured_on (struct ctr *c, struct network *n);

#endif
