/* linkgso: the IPv4 GSO size limit of a network interface (Linux 6.3's
 * IFLA_GSO_IPV4_MAX_SIZE), which iproute2 6.1 neither shows nor sets.
 *
 * Usage: linkgso IFNAME          prints the limit in bytes
 *        linkgso IFNAME SIZE     sets it
 *
 * Acts in the caller's network namespace (run it under nsenter for
 * another).  Exit status: 0, 1 on error (message on stderr), 2 on usage.
 * The tests check what skiffd sets on a container's veth pair with it;
 * bench/net gives a hand-made pair the same limit.  */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#ifndef IFLA_GSO_IPV4_MAX_SIZE
#define IFLA_GSO_IPV4_MAX_SIZE 63
#endif

static long found = -1;

static int
on_link (struct nl_msg *msg, void *arg)
{
  struct nlattr *tb[IFLA_GSO_IPV4_MAX_SIZE + 1];

  if (nlmsg_parse (nlmsg_hdr (msg), sizeof (struct ifinfomsg), tb, IFLA_GSO_IPV4_MAX_SIZE, NULL) < 0)
    return NL_SKIP;
  if (tb[IFLA_GSO_IPV4_MAX_SIZE])
    found = nla_get_u32 (tb[IFLA_GSO_IPV4_MAX_SIZE]);
  return NL_OK;
}

int
main (int argc, char **argv)
{
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  struct nl_sock *sk;
  struct nl_msg *msg;
  char *end = NULL;
  unsigned long size = 0;
  int ret;

  if (argc < 2 || argc > 3 || (argc == 3 && ((size = strtoul (argv[2], &end, 10)) == 0 || *end)))
    {
      fprintf (stderr, "usage: linkgso IFNAME [SIZE]\n");
      return 2;
    }
  sk = nl_socket_alloc ();
  if (sk == NULL || nl_connect (sk, NETLINK_ROUTE) < 0)
    {
      fprintf (stderr, "linkgso: cannot open a netlink socket\n");
      return 1;
    }
  msg = nlmsg_alloc_simple (argc == 3 ? RTM_NEWLINK : RTM_GETLINK, 0);
  if (msg == NULL || nlmsg_append (msg, &ifi, sizeof (ifi), NLMSG_ALIGNTO) < 0
      || nla_put_string (msg, IFLA_IFNAME, argv[1]) < 0
      || (argc == 3 && nla_put_u32 (msg, IFLA_GSO_IPV4_MAX_SIZE, (uint32_t) size) < 0))
    {
      fprintf (stderr, "linkgso: out of memory\n");
      return 1;
    }
  if (argc == 3)
    ret = nl_send_sync (sk, msg);
  else
    {
      nl_socket_modify_cb (sk, NL_CB_VALID, NL_CB_CUSTOM, on_link, NULL);
      ret = nl_send_auto (sk, msg);
      nlmsg_free (msg);
      if (ret >= 0)
        ret = nl_recvmsgs_default (sk);
    }
  nl_socket_free (sk);
  if (ret < 0)
    {
      fprintf (stderr, "linkgso: %s: %s\n", argv[1], nl_geterror (ret));
      return 1;
    }
  if (argc == 2)
    {
      if (found < 0)
        {
          fprintf (stderr, "linkgso: %s: the kernel does not report an IPv4 GSO limit\n", argv[1]);
          return 1;
        }
      printf ("%ld\n", found);
    }
  return 0;
}
