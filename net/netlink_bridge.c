/* Bridges in the host: skiff0 for the default network, one per
   user-defined bridge network.  */
#include "netlink.h"
#include "netlink_internal.h"
#include "cleanup.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <netlink/errno.h>
#include <netlink/route/link/bridge.h>

static bool
is_bridge (struct rtnl_link *link)
{
  const char *kind = rtnl_link_get_type (link);
  return kind != NULL && strcmp (kind, "bridge") == 0;
}

static const char *
kind_of (struct rtnl_link *link)
{
  const char *kind = rtnl_link_get_type (link);
  return kind ? kind : "device";
}

static int
bridge_create (struct nl_sock *sk, const char *name, int mtu, skiff_error_t *err)
{
  cleanup_link struct rtnl_link *br = rtnl_link_bridge_alloc ();
  int ret;

  if (br == NULL)
    return skiff_error_make (err, ENOMEM, "create bridge `%s`", name);
  rtnl_link_set_name (br, name);
  if (mtu > 0)
    rtnl_link_set_mtu (br, (unsigned int) mtu);
  ret = rtnl_link_add (sk, br, NLM_F_CREATE | NLM_F_EXCL);
  /* Another caller may have created it meanwhile: the caller checks what
     is there next.  */
  if (ret < 0 && ret != -NLE_EXIST)
    return netlink_error (err, ret, "create bridge `%s`", name);
  return 0;
}

int
nl_bridge_ensure (const char *name, const char *addr_cidr, int mtu, skiff_error_t *err)
{
  cleanup_nlsock struct nl_sock *sk = NULL;
  cleanup_link struct rtnl_link *br = NULL;
  cleanup_nladdr struct nl_addr *local = NULL;

  if (netlink_check_ifname (name, "bridge name", err) < 0)
    return -1;
  if (addr_cidr != NULL && netlink_parse_cidr (addr_cidr, "bridge address", &local, err) < 0)
    return skiff_error_wrap (err, "bridge `%s`", name);
  if (mtu < 0 || mtu > 65535)
    return netlink_fail (err, EINVAL, "bridge `%s`: invalid MTU %d", name, mtu);
  if (netlink_socket_open (NULL, &sk, err) < 0)
    return -1;

  if (netlink_link_get (sk, name, &br, err) < 0)
    return -1;
  if (br == NULL)
    {
      if (bridge_create (sk, name, mtu, err) < 0)
        return -1;
      if (netlink_link_get (sk, name, &br, err) < 0)
        return -1;
      if (br == NULL)
        return netlink_fail (err, ENODEV, "bridge `%s` vanished right after its creation", name);
    }
  if (!is_bridge (br))
    return netlink_fail (err, EEXIST, "link `%s` exists and is a %s, not a bridge", name, kind_of (br));

  if (local != NULL && netlink_addr_add (sk, rtnl_link_get_ifindex (br), name, local, err) < 0)
    return -1;
  return netlink_link_set_up (sk, br, mtu, err);
}

int
nl_bridge_delete (const char *name, skiff_error_t *err)
{
  cleanup_nlsock struct nl_sock *sk = NULL;
  cleanup_link struct rtnl_link *br = NULL;
  int ret;

  if (netlink_check_ifname (name, "bridge name", err) < 0)
    return -1;
  if (netlink_socket_open (NULL, &sk, err) < 0)
    return -1;
  if (netlink_link_get (sk, name, &br, err) < 0)
    return -1;
  if (br == NULL)
    return 0;
  if (!is_bridge (br))
    return netlink_fail (err, EINVAL, "refusing to delete link `%s`: it is a %s, not a bridge", name,
                             kind_of (br));
  ret = rtnl_link_delete (sk, br);
  if (ret < 0 && !netlink_is_notfound (ret))
    return netlink_error (err, ret, "delete bridge `%s`", name);
  return 0;
}
