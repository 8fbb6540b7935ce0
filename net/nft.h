/* Netfilter through libnftables: NAT, port publishing and isolation for
   skiff's bridge networks.

   Ownership.  skiff keeps every rule in tables of its own (`table ip skiff`
   in the host) and replaces such a table atomically with one buffer:

       table ip skiff
       delete table ip skiff
       table ip skiff { ... }

   (the first line makes the delete succeed when the table is missing; the
   kernel commits the three as one transaction, so no packet ever sees a
   half-built table).  skiffd rebuilds the table from its state when it
   starts and after every change of networks or published ports; nothing
   here flushes the ruleset or touches anyone else's tables.

   Namespaces and threads.  netns_path NULL means the network namespace of
   the calling thread.  Otherwise (a bind-mounted nsfs file such as
   /run/skiff/netns/<id>) a short-lived helper thread setns()es into it,
   creates the libnftables context there (its netlink socket belongs to the
   namespace it was opened in) and exits, so the calling thread never
   changes namespace.  libnftables keeps process-wide state, so all calls
   are serialised by one lock; they are safe from any thread.

   What the kernel needs besides these rules is the daemon's job, not this
   module's:
   - net.ipv4.ip_forward=1 (containers reach the outside, published ports
     reach containers);
   - net.ipv4.conf.<bridge>.route_localnet=1 on every bridge with published
     ports, so that `curl 127.0.0.1:<port>` on the host may be DNAT'ed to a
     container (the source 127.0.0.1 is then masqueraded on the bridge);
   - bridge netfilter (br_netfilter, net.bridge.bridge-nf-call-iptables) may
     or may not be loaded: the forward rules for traffic between two
     containers of the same bridge (icc = false) only see bridged frames
     when it is; every other rule works either way.
   - the forward chain here has policy accept; a drop in another table's
     forward chain (iptables' FORWARD policy DROP, for one) still applies.  */
#ifndef SKIFF_NET_NFT_H
#define SKIFF_NET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* The table skiffd owns in the host's netns.  */
#define NFT_SKIFF_FAMILY "ip"
#define NFT_SKIFF_TABLE "skiff"

/* Runs the nft script `ruleset` in the namespace at netns_path as one
   transaction: either all of it applies or nothing does.  On failure the
   message carries libnftables' own error output (the offending line and
   the kernel's reason).  */
int nft_apply (const char *netns_path, const char *ruleset, skiff_error_t *err);

/* Deletes table `family name` (family: ip, ip6, inet, arp, bridge,
   netdev); a missing table is fine.  */
int nft_table_delete (const char *netns_path, const char *family, const char *name,
                      skiff_error_t *err);

/* Whether table `family name` exists.  */
int nft_table_exists (const char *netns_path, const char *family, const char *name,
                      bool *exists, skiff_error_t *err);

/* The table `family name` as `nft list table` prints it, malloc'd into
   *text.  A missing table is an error with errno_ ENOENT.  */
int nft_table_list (const char *netns_path, const char *family, const char *name,
                    char **text, skiff_error_t *err);

/* One bridge network.  */
struct nft_network
{
  const char *bridge; /* "skiff0": interface name, at most 15 of [A-Za-z0-9_.-] */
  const char *subnet; /* "172.17.0.0/16" (host bits are cleared) */
  bool masquerade;    /* masquerade traffic leaving the host (Docker's
                         enable_ip_masquerade, true for bridge networks) */
  bool internal;      /* no traffic between the bridge and anything else */
  bool icc;           /* containers of this bridge may talk to each other
                         (callers default it to true, as Docker does) */
};

/* One published port (`-p [host_ip:]host_port:container_port/proto`).  */
struct nft_port
{
  const char *proto;        /* "tcp", "udp" or "sctp" */
  const char *host_ip;      /* IPv4 address; NULL, "" or "0.0.0.0": any
                               address of the host */
  uint16_t host_port;       /* not 0 */
  const char *container_ip; /* IPv4 address of the container */
  uint16_t container_port;  /* not 0 */
};

/* Builds the full atomic-replace buffer for `table ip skiff` (pure: no I/O)
   into *ruleset (malloc'd):

   nat
   - prerouting and output: packets to a local address (`fib daddr type
     local`) jump to chain `published`, which DNATs each published port
     (restricted to `ip daddr host_ip` when one is given).  There is no
     userland proxy, so, like Docker with userland-proxy=false, packets
     coming from a container's own bridge are DNAT'ed too, and so is the
     host's own traffic, 127.0.0.1 included.
   - postrouting: per non-internal network, with masquerade: traffic from
     the subnet leaving through any other interface is masqueraded; always:
     DNAT'ed traffic from the subnet back into its own bridge (hairpin: a
     container reaching a published port of itself or of a neighbour), and
     loopback-sourced traffic into the bridge (the host's 127.0.0.1 after
     DNAT), are masqueraded, so replies come back through the host.
   filter (forward, policy accept)
   - internal networks: nothing enters or leaves their bridge;
   - ct state established,related accept;
   - DNAT'ed traffic (published ports) is accepted from anywhere, so a
     container of another network reaches a published port through the
     host, as with Docker's userland proxy;
   - icc = false: new traffic between two ports of the bridge is dropped;
   - new traffic that is not DNAT'ed is dropped on its way into a bridge
     from any other interface: this isolates the bridges from each other
     (bridge A to bridge B is "into B") and keeps the outside from reaching
     containers except through published ports (what Docker's isolation
     chains and FORWARD policy DROP do); leaving a bridge stays allowed.

   Fails (EINVAL) on an invalid name, address, protocol or port, on a bridge
   listed twice, and (EADDRINUSE) on two publishes of the same protocol and
   host port whose host addresses overlap.  */
int nft_ruleset_skiff (const struct nft_network *nets, size_t n, const struct nft_port *ports,
                       size_t np, char **ruleset, skiff_error_t *err);

#endif
