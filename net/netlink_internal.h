/* Shared by net/netlink*.c: sockets per namespace, libnl error mapping,
   cleanup attributes for libnl objects, address parsing and the few link
   operations every file needs.  Not part of the public API.  */
#ifndef SKIFF_NET_NETLINK_INTERNAL_H
#define SKIFF_NET_NETLINK_INTERNAL_H

#include <stdbool.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include "error.h"

static inline void
cleanup_nl_sockp (struct nl_sock **sk)
{
  if (*sk)
    nl_socket_free (*sk); /* closes the fd too */
}
static inline void
cleanup_rtnl_linkp (struct rtnl_link **l)
{
  if (*l)
    rtnl_link_put (*l);
}
static inline void
cleanup_nl_addrp (struct nl_addr **a)
{
  if (*a)
    nl_addr_put (*a);
}
static inline void
cleanup_rtnl_addrp (struct rtnl_addr **a)
{
  if (*a)
    rtnl_addr_put (*a);
}
static inline void
cleanup_rtnl_routep (struct rtnl_route **r)
{
  if (*r)
    rtnl_route_put (*r);
}
static inline void
cleanup_nl_cachep (struct nl_cache **c)
{
  if (*c)
    nl_cache_free (*c);
}
#define cleanup_nlsock __attribute__ ((cleanup (cleanup_nl_sockp)))
#define cleanup_link __attribute__ ((cleanup (cleanup_rtnl_linkp)))
#define cleanup_nladdr __attribute__ ((cleanup (cleanup_nl_addrp)))
#define cleanup_rtaddr __attribute__ ((cleanup (cleanup_rtnl_addrp)))
#define cleanup_route __attribute__ ((cleanup (cleanup_rtnl_routep)))
#define cleanup_cache __attribute__ ((cleanup (cleanup_nl_cachep)))

/* Opens a connected NETLINK_ROUTE socket in the namespace at netns_path, or
   in the calling thread's namespace when netns_path is NULL.  See netlink.h
   for why a helper thread does the setns.  */
int netlink_socket_open (const char *netns_path, struct nl_sock **out, skiff_error_t *err);

/* Same, for a namespace already opened (nsfd); `what` names it in errors.  */
int netlink_socket_open_fd (int nsfd, const char *what, struct nl_sock **out, skiff_error_t *err);

/* The socket of an nl_netns (it stays the nl_netns's).  */
struct nl_sock *netlink_netns_sock (struct nl_netns *ns);

/* skiff_error_make for a negative libnl result: errno_ is set when the
   libnl code maps to one; the message is "<fmt>: <reason>".  */
int netlink_error (skiff_error_t *err, int nlerr, const char *fmt, ...) SKIFF_PRINTF (3, 4);

/* An error whose message already says what is wrong: errno_ is set for
   callers that dispatch on it, but strerror is not appended.  */
int netlink_fail (skiff_error_t *err, int errno_, const char *fmt, ...) SKIFF_PRINTF (3, 4);

/* libnl's "no such link" answers (the kernel's ENODEV comes back as either).  */
bool netlink_is_notfound (int nlerr);

/* Strict parsers: "a.b.c.d/len" or "x::y/len" (prefix required), and a bare
   IPv4/IPv6 address.  `field` names the value in errors.  */
int netlink_parse_cidr (const char *cidr, const char *field, struct nl_addr **out, skiff_error_t *err);
int netlink_parse_ip (const char *ip, const char *field, struct nl_addr **out, skiff_error_t *err);
/* "aa:bb:cc:dd:ee:ff".  */
int netlink_parse_mac (const char *mac, struct nl_addr **out, skiff_error_t *err);

/* A usable interface name: 1-15 bytes, no '/', ':' or white space, not "."
   or "..".  */
int netlink_check_ifname (const char *name, const char *field, skiff_error_t *err);

/* The link called name; *out is NULL when there is none.  */
int netlink_link_get (struct nl_sock *sk, const char *name, struct rtnl_link **out, skiff_error_t *err);

/* Adds local (with its prefix) to ifindex; an identical address already
   there is fine.  IPv4 gets the broadcast address of its subnet.  */
int netlink_addr_add (struct nl_sock *sk, int ifindex, const char *ifname, struct nl_addr *local,
                      skiff_error_t *err);

/* Brings link up and, when mtu > 0, sets its MTU; nothing is sent when it
   is already so.  */
int netlink_link_set_up (struct nl_sock *sk, struct rtnl_link *link, int mtu, skiff_error_t *err);

#endif
