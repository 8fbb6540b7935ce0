/* Network interfaces, addresses and routes over rtnetlink (libnl-3 route):
   bridges, veth endpoints moved into a container's network namespace, and
   loopback.  No `ip` command is run.

   Namespaces and threads.  A netlink socket acts in the network namespace
   it was opened in, for its whole life, whichever thread uses it.  So:

   - "the host" below is the network namespace of the calling thread (for
     skiffd: its own namespace; no skiff thread ever stays in another one);
   - to act inside the namespace at `netns_path` (a bind-mounted nsfs file
     such as /run/skiff/netns/<id>, or /proc/<pid>/ns/net), a short-lived
     helper thread opens the namespace file, setns()es into it, opens and
     connects the netlink socket, and exits.  The calling thread never
     changes namespace, and the helper's namespace dies with the helper, so
     nothing leaks into the libuv thread pool even when setns or connect
     fails half-way.  The socket, bound to the target namespace, is then
     used from the calling thread.

   Every function blocks until the kernel has acknowledged each request,
   opens its own sockets (no shared state, no caches kept between calls),
   and is safe to call from any thread, concurrently.  Errors follow
   skiff_error_t: the message names the interface, address or namespace,
   and errno_ is set when the kernel's answer maps to one (EEXIST, ENODEV,
   EPERM, ...).  Link-level failures are undone before returning: a failed
   nl_endpoint_create leaves no veth pair behind.  */
#ifndef SKIFF_NET_NETLINK_H
#define SKIFF_NET_NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"

/* Creates the bridge `name` in the host if it is missing, adds addr_cidr
   ("172.17.0.1/16"; the broadcast address is derived for IPv4; NULL adds
   none), sets the MTU when mtu > 0, and brings it up.  Idempotent: an
   existing bridge is kept and brought to that state (its other addresses
   are left alone).  Fails if `name` exists and is not a bridge.  */
int nl_bridge_ensure (const char *name, const char *addr_cidr, int mtu, skiff_error_t *err);

/* Deletes the bridge `name` from the host; a missing one is fine.  Refuses
   to delete a link of another kind.  Ports still enslaved are released by
   the kernel (their veth pairs are not deleted).  */
int nl_bridge_delete (const char *name, skiff_error_t *err);

/* Whether a link called `name` exists in the host.  */
int nl_link_exists (const char *name, bool *exists, skiff_error_t *err);

/* A netlink socket kept open in a network namespace, so that interfaces
   can be made there without a helper thread entering it each time.  One
   thread at a time may use it.  */
struct nl_netns;

/* Opens one in the calling thread's own namespace: for the thread that
   has just made that namespace (unshare) and is about to leave it with
   the namespace bind-mounted at netns_path (named in errors).  */
int nl_netns_here (const char *netns_path, struct nl_netns **out, skiff_error_t *err);
void nl_netns_free (struct nl_netns *ns);

static inline void
cleanup_nl_netnsp (struct nl_netns **ns)
{
  nl_netns_free (*ns);
}
#define cleanup_nl_netns __attribute__ ((cleanup (cleanup_nl_netnsp)))

/* One container interface on a bridge: a veth pair whose host end
   (random name vethXXXXXXX) is enslaved to `bridge` and up, and whose other
   end is created directly inside netns_path under the name ifname, with the
   MAC, MTU and address given, up, and with a default route via gateway.  */
struct nl_endpoint
{
  const char *bridge;     /* "skiff0"; must exist and be a bridge */
  const char *netns_path; /* the container's named netns */
  const char *ifname;     /* "eth0"; must be free in that netns */
  const char *mac;        /* "02:42:ac:11:00:02"; NULL: nl_mac_from_ipv4 of
                             an IPv4 address, or the kernel's choice */
  const char *addr_cidr;  /* "172.17.0.2/16"; NULL: no address */
  const char *gateway;    /* "172.17.0.1"; NULL: no default route.  An
                             existing default route is replaced.  */
  int mtu;                /* 0: kernel default (1500) */
  struct nl_netns *ns;    /* a socket open in netns_path (nl_netns_here),
                             or NULL: one is opened there for the call */
};

/* Creates the endpoint described by e; host_ifname receives the name of the
   host end (the handle for nl_endpoint_delete).  On failure nothing is left
   behind and host_ifname is "".  */
int nl_endpoint_create (const struct nl_endpoint *e, char host_ifname[16], skiff_error_t *err);

/* Deletes the veth pair by its host end (the peer in the container's
   namespace goes with it); a missing link is fine.  Refuses to delete a
   link that is not a veth.  */
int nl_endpoint_delete (const char *host_ifname, skiff_error_t *err);

/* Docker's MAC for an IPv4 address: 02:42 followed by the 4 address bytes
   ("02:42:ac:11:00:02" for 172.17.0.2).  ip is in host byte order.  */
void nl_mac_from_ipv4 (uint32_t ip, char mac[18]);

/* Brings up the loopback interface of the namespace at netns_path (NULL:
   the host).  */
int nl_netns_lo_up (const char *netns_path, skiff_error_t *err);

/* The interfaces of the namespace at netns_path (NULL: the host) with their
   addresses, as a malloc'd JSON array ordered by ifindex:
   [{"ifindex":1,"ifname":"lo","kind":null,"address":"00:00:00:00:00:00",
     "mtu":65536,"up":true,"master":null,
     "addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]}, ...]
   "kind" is the rtnetlink link kind ("bridge", "veth", ...) or null;
   "master" the name of the bridge a port is enslaved to, or null.  */
int nl_addr_list_json (const char *netns_path, char **json, skiff_error_t *err);

#endif
