/* Container endpoints on a bridge: a veth pair created in one request, its
   host end enslaved to the bridge and up, its other end born inside the
   container's network namespace (IFLA_NET_NS_FD on the peer) under its
   final name, so that no temporary name is ever visible in the host and no
   rename is needed.  The container side is then configured through a
   netlink socket opened in that namespace.  */
#include "netlink.h"
#include "netlink_internal.h"
#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>

/* Host names are drawn at random (as Docker does); a clash with an
   existing link is retried this many times.  */
#define NAME_ATTEMPTS 8

/* The largest IPv4 GSO packet on both ends of a pair ("BIG TCP" for IPv4,
   Linux 6.3): a container's TCP stack then hands 256 KiB packets to the
   veth, and the bridge, br_netfilter's hooks and the other veth handle a
   quarter as many packets as with the 64 KiB default; throughput between
   two containers about doubles (doc/performance.md).  Traffic that leaves
   through a device without it is segmented there, as any GSO packet.  */
#define ENDPOINT_GSO_IPV4_MAX_SIZE (256 * 1024)
#ifndef IFLA_GSO_IPV4_MAX_SIZE
#define IFLA_GSO_IPV4_MAX_SIZE 63 /* linux/if_link.h of Linux 6.3 */
#endif

/* Deletes a half-built pair when nl_endpoint_create fails after creating
   it.  Declared after the socket it uses, so it runs before that socket
   is freed.  */
struct pair_guard
{
  struct nl_sock **sk;
  char name[IFNAMSIZ];
  bool armed;
};

static void
pair_guard_undo (struct pair_guard *g)
{
  struct rtnl_link *link;

  if (!g->armed || *g->sk == NULL)
    return;
  link = rtnl_link_alloc ();
  if (link == NULL)
    return;
  rtnl_link_set_name (link, g->name);
  rtnl_link_delete (*g->sk, link); /* best effort: the first error is what the caller sees */
  rtnl_link_put (link);
}

static int
random_host_name (char name[IFNAMSIZ], skiff_error_t *err)
{
  uint32_t r;

  if (getrandom (&r, sizeof (r), 0) != (ssize_t) sizeof (r))
    return skiff_error_make (err, errno, "getrandom");
  snprintf (name, IFNAMSIZ, "veth%07x", r & 0xfffffff);
  return 0;
}

/* Creates the pair; on success host_name holds the host end's name.  */
static int
pair_create (struct nl_sock *sk, const struct nl_endpoint *e, int bridge_index, int nsfd,
             struct nl_addr *mac, char host_name[IFNAMSIZ], skiff_error_t *err)
{
  int attempt, ret;

  for (attempt = 0; attempt < NAME_ATTEMPTS; attempt++)
    {
      cleanup_link struct rtnl_link *veth = NULL;
      cleanup_link struct rtnl_link *peer = NULL;
      cleanup_link struct rtnl_link *clash = NULL;

      if (random_host_name (host_name, err) < 0)
        return -1;
      veth = rtnl_link_veth_alloc ();
      if (veth == NULL)
        return skiff_error_make (err, ENOMEM, "create veth pair");
      rtnl_link_set_name (veth, host_name);
      rtnl_link_set_master (veth, bridge_index);
      rtnl_link_set_flags (veth, IFF_UP);
      if (e->mtu > 0)
        rtnl_link_set_mtu (veth, (unsigned int) e->mtu);

      peer = rtnl_link_veth_get_peer (veth); /* a new reference */
      rtnl_link_set_name (peer, e->ifname);
      rtnl_link_set_ns_fd (peer, nsfd);
      if (mac != NULL)
        rtnl_link_set_addr (peer, mac);
      if (e->mtu > 0)
        rtnl_link_set_mtu (peer, (unsigned int) e->mtu);

      ret = rtnl_link_add (sk, veth, NLM_F_CREATE | NLM_F_EXCL);
      if (ret == 0)
        return 0;
      if (ret != -NLE_EXIST)
        return netlink_error (err, ret, "create veth pair `%s` for `%s` on bridge `%s`", host_name, e->ifname,
                              e->bridge);

      /* EEXIST: either our random host name or ifname in the container.  */
      if (netlink_link_get (sk, host_name, &clash, err) < 0)
        return -1;
      if (clash == NULL)
        return netlink_fail (err, EEXIST, "interface `%s` already exists in network namespace `%s`", e->ifname,
                                 e->netns_path);
    }
  return netlink_fail (err, EEXIST, "create veth pair for `%s`: %d random host names were all taken", e->ifname,
                           NAME_ATTEMPTS);
}

/* Sets the link's IPv4 GSO limit (by ifindex, or by name when ifindex is
   0).  A kernel before 6.3 ignores the attribute; one whose device allows
   less refuses it (EINVAL): both keep the default, which is no error.  */
static int
link_set_gso_ipv4 (struct nl_sock *sk, int ifindex, const char *name, skiff_error_t *err)
{
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
  struct nl_msg *msg = nlmsg_alloc_simple (RTM_NEWLINK, 0);
  int ret;

  if (msg == NULL)
    return skiff_error_make (err, ENOMEM, "set the GSO size of `%s`", name);
  if (nlmsg_append (msg, &ifi, sizeof (ifi), NLMSG_ALIGNTO) < 0
      || (ifindex == 0 && nla_put_string (msg, IFLA_IFNAME, name) < 0)
      || nla_put_u32 (msg, IFLA_GSO_IPV4_MAX_SIZE, ENDPOINT_GSO_IPV4_MAX_SIZE) < 0)
    {
      nlmsg_free (msg);
      return skiff_error_make (err, ENOMEM, "set the GSO size of `%s`", name);
    }
  ret = nl_send_sync (sk, msg); /* frees msg */
  if (ret == -NLE_INVAL || ret == -NLE_RANGE || ret == -NLE_OPNOTSUPP)
    return 0;
  if (ret < 0)
    return netlink_error (err, ret, "set the GSO size of `%s`", name);
  return 0;
}

static int
default_route_replace (struct nl_sock *sk, int ifindex, struct nl_addr *gw, skiff_error_t *err)
{
  static const unsigned char any[16];
  cleanup_route struct rtnl_route *route = rtnl_route_alloc ();
  cleanup_nladdr struct nl_addr *dst = NULL;
  struct rtnl_nexthop *nh;
  int family = nl_addr_get_family (gw);
  char buf[INET6_ADDRSTRLEN];
  int ret;

  nl_addr2str (gw, buf, sizeof (buf));
  dst = nl_addr_build (family, any, family == AF_INET ? 4 : 16);
  if (route == NULL || dst == NULL)
    return skiff_error_make (err, ENOMEM, "add default route via `%s`", buf);
  nl_addr_set_prefixlen (dst, 0);
  rtnl_route_set_family (route, (uint8_t) family);
  ret = rtnl_route_set_dst (route, dst);
  if (ret < 0)
    return netlink_error (err, ret, "add default route via `%s`", buf);
  rtnl_route_set_table (route, RT_TABLE_MAIN);
  rtnl_route_set_scope (route, RT_SCOPE_UNIVERSE);
  rtnl_route_set_protocol (route, RTPROT_BOOT);
  rtnl_route_set_type (route, RTN_UNICAST);

  nh = rtnl_route_nh_alloc ();
  if (nh == NULL)
    return skiff_error_make (err, ENOMEM, "add default route via `%s`", buf);
  rtnl_route_nh_set_ifindex (nh, ifindex);
  rtnl_route_nh_set_gateway (nh, gw);
  rtnl_route_add_nexthop (route, nh); /* the route owns nh from here */

  ret = rtnl_route_add (sk, route, NLM_F_REPLACE);
  if (ret < 0)
    return netlink_error (err, ret, "add default route via `%s`", buf);
  return 0;
}

/* Address, up, default route, inside the container's namespace.  */
static int
peer_configure (struct nl_sock *sk, const struct nl_endpoint *e, struct nl_addr *local, struct nl_addr *gw,
                skiff_error_t *err)
{
  cleanup_link struct rtnl_link *link = NULL;

  if (netlink_link_get (sk, e->ifname, &link, err) < 0)
    return -1;
  if (link == NULL)
    return netlink_fail (err, ENODEV, "`%s` is missing right after its creation", e->ifname);
  if (local != NULL && netlink_addr_add (sk, rtnl_link_get_ifindex (link), e->ifname, local, err) < 0)
    return -1;
  if (netlink_link_set_up (sk, link, 0, err) < 0)
    return -1;
  if (link_set_gso_ipv4 (sk, rtnl_link_get_ifindex (link), e->ifname, err) < 0)
    return -1;
  if (gw != NULL && default_route_replace (sk, rtnl_link_get_ifindex (link), gw, err) < 0)
    return -1;
  return 0;
}

/* Parses and checks the addresses of e.  */
static int
endpoint_parse (const struct nl_endpoint *e, struct nl_addr **local, struct nl_addr **gw, struct nl_addr **mac,
                skiff_error_t *err)
{
  if (netlink_check_ifname (e->bridge, "bridge name", err) < 0
      || netlink_check_ifname (e->ifname, "interface name", err) < 0)
    return -1;
  if (e->netns_path == NULL || e->netns_path[0] == '\0')
    return netlink_fail (err, EINVAL, "endpoint `%s`: missing network namespace path", e->ifname);
  if (e->mtu < 0 || e->mtu > 65535)
    return netlink_fail (err, EINVAL, "endpoint `%s`: invalid MTU %d", e->ifname, e->mtu);
  if (e->addr_cidr != NULL && netlink_parse_cidr (e->addr_cidr, "endpoint address", local, err) < 0)
    return -1;
  if (e->gateway != NULL)
    {
      if (netlink_parse_ip (e->gateway, "gateway", gw, err) < 0)
        return -1;
      if (*local != NULL && nl_addr_get_family (*local) != nl_addr_get_family (*gw))
        return netlink_fail (err, EINVAL, "gateway `%s` and address `%s` are not of the same family",
                                 e->gateway, e->addr_cidr);
      /* The kernel would refuse it later with a vaguer "network is
         unreachable".  */
      if (*local != NULL && nl_addr_cmp_prefix (*local, *gw) != 0)
        return netlink_fail (err, EINVAL, "gateway `%s` is outside the subnet of `%s`", e->gateway,
                                 e->addr_cidr);
    }
  if (e->mac != NULL)
    return netlink_parse_mac (e->mac, mac, err);
  if (*local != NULL && nl_addr_get_family (*local) == AF_INET)
    {
      char text[18];
      uint32_t ip;

      memcpy (&ip, nl_addr_get_binary_addr (*local), 4);
      nl_mac_from_ipv4 (ntohl (ip), text);
      return netlink_parse_mac (text, mac, err);
    }
  return 0;
}

int
nl_endpoint_create (const struct nl_endpoint *e, char host_ifname[16], skiff_error_t *err)
{
  cleanup_nladdr struct nl_addr *local = NULL;
  cleanup_nladdr struct nl_addr *gw = NULL;
  cleanup_nladdr struct nl_addr *mac = NULL;
  cleanup_nlsock struct nl_sock *host = NULL;
  cleanup_nlsock struct nl_sock *ns = NULL;
  cleanup_link struct rtnl_link *br = NULL;
  cleanup_close int nsfd = -1;
  __attribute__ ((cleanup (pair_guard_undo))) struct pair_guard guard = { .sk = &host };
  const char *kind;

  host_ifname[0] = '\0';
  if (endpoint_parse (e, &local, &gw, &mac, err) < 0)
    return -1;

  if (netlink_socket_open (NULL, &host, err) < 0)
    return -1;
  if (netlink_link_get (host, e->bridge, &br, err) < 0)
    return -1;
  if (br == NULL)
    return netlink_fail (err, ENODEV, "endpoint `%s`: bridge `%s` not found", e->ifname, e->bridge);
  kind = rtnl_link_get_type (br);
  if (kind == NULL || strcmp (kind, "bridge") != 0)
    return netlink_fail (err, EINVAL, "endpoint `%s`: link `%s` is not a bridge", e->ifname, e->bridge);

  /* Opening the socket there first also proves that the path is a network
     namespace before anything is created.  A socket the caller already
     has there saves a helper thread (~1 ms).  */
  nsfd = open (e->netns_path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return skiff_error_make (err, errno, "open network namespace `%s`", e->netns_path);
  if (e->ns == NULL && netlink_socket_open_fd (nsfd, e->netns_path, &ns, err) < 0)
    return -1;

  if (pair_create (host, e, rtnl_link_get_ifindex (br), nsfd, mac, guard.name, err) < 0)
    return -1;
  guard.armed = true;
  if (link_set_gso_ipv4 (host, 0, guard.name, err) < 0)
    return -1;

  if (peer_configure (e->ns ? netlink_netns_sock (e->ns) : ns, e, local, gw, err) < 0)
    return skiff_error_wrap (err, "configure `%s` in network namespace `%s`", e->ifname, e->netns_path);

  guard.armed = false;
  memcpy (host_ifname, guard.name, IFNAMSIZ);
  return 0;
}

int
nl_endpoint_delete (const char *host_ifname, skiff_error_t *err)
{
  cleanup_nlsock struct nl_sock *sk = NULL;
  cleanup_link struct rtnl_link *link = NULL;
  const char *kind;
  int ret;

  if (netlink_check_ifname (host_ifname, "veth name", err) < 0)
    return -1;
  if (netlink_socket_open (NULL, &sk, err) < 0)
    return -1;
  if (netlink_link_get (sk, host_ifname, &link, err) < 0)
    return -1;
  if (link == NULL)
    return 0;
  kind = rtnl_link_get_type (link);
  if (kind == NULL || strcmp (kind, "veth") != 0)
    return netlink_fail (err, EINVAL, "refusing to delete link `%s`: it is a %s, not a veth", host_ifname,
                             kind ? kind : "device");
  ret = rtnl_link_delete (sk, link);
  if (ret < 0 && !netlink_is_notfound (ret))
    return netlink_error (err, ret, "delete veth pair `%s`", host_ifname);
  return 0;
}
