/* nl_addr_list_json: the interfaces of a namespace with their addresses,
   for `inspect`-style output and for tests.  */
#include "netlink.h"
#include "netlink_internal.h"
#include "cleanup.h"
#include "json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

static int
by_ifindex (const void *a, const void *b)
{
  int ia = rtnl_link_get_ifindex (*(struct rtnl_link *const *) a);
  int ib = rtnl_link_get_ifindex (*(struct rtnl_link *const *) b);
  return (ia > ib) - (ia < ib);
}

static void
gen_addrs (yajl_gen g, struct nl_cache *addrs, int ifindex)
{
  struct nl_object *o;

  yajl_gen_string (g, (const unsigned char *) "addr_info", strlen ("addr_info"));
  yajl_gen_array_open (g);
  for (o = nl_cache_get_first (addrs); o; o = nl_cache_get_next (o))
    {
      struct rtnl_addr *a = (struct rtnl_addr *) o;
      struct nl_addr *local = rtnl_addr_get_local (a);
      int family = rtnl_addr_get_family (a);
      char buf[INET6_ADDRSTRLEN];

      if (rtnl_addr_get_ifindex (a) != ifindex || local == NULL || (family != AF_INET && family != AF_INET6))
        continue;
      if (inet_ntop (family, nl_addr_get_binary_addr (local), buf, sizeof (buf)) == NULL)
        continue;
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "family", family == AF_INET ? "inet" : "inet6");
      json_gen_kv_str (g, "local", buf);
      json_gen_kv_int (g, "prefixlen", rtnl_addr_get_prefixlen (a));
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_link (yajl_gen g, struct rtnl_link *link, struct nl_cache *links, struct nl_cache *addrs)
{
  struct nl_addr *mac = rtnl_link_get_addr (link);
  char buf[64], master[IFNAMSIZ];
  int m = rtnl_link_get_master (link);

  yajl_gen_map_open (g);
  json_gen_kv_int (g, "ifindex", rtnl_link_get_ifindex (link));
  json_gen_kv_str (g, "ifname", rtnl_link_get_name (link));
  json_gen_kv_str (g, "kind", rtnl_link_get_type (link));
  json_gen_kv_str (g, "address", mac && nl_addr_get_len (mac) > 0 ? nl_addr2str (mac, buf, sizeof (buf)) : NULL);
  json_gen_kv_int (g, "mtu", rtnl_link_get_mtu (link));
  json_gen_kv_bool (g, "up", (rtnl_link_get_flags (link) & IFF_UP) != 0);
  json_gen_kv_str (g, "master", m > 0 ? rtnl_link_i2name (links, m, master, sizeof (master)) : NULL);
  gen_addrs (g, addrs, rtnl_link_get_ifindex (link));
  yajl_gen_map_close (g);
}

int
nl_addr_list_json (const char *netns_path, char **json, skiff_error_t *err)
{
  cleanup_nlsock struct nl_sock *sk = NULL;
  cleanup_cache struct nl_cache *links = NULL;
  cleanup_cache struct nl_cache *addrs = NULL;
  cleanup_free struct rtnl_link **sorted = NULL;
  cleanup_gen yajl_gen g = NULL;
  const char *where = netns_path ? netns_path : "the host";
  struct nl_object *o;
  size_t n = 0, i;
  int ret;

  if (netlink_socket_open (netns_path, &sk, err) < 0)
    return -1;
  ret = rtnl_link_alloc_cache (sk, AF_UNSPEC, &links);
  if (ret < 0)
    return netlink_error (err, ret, "list links in network namespace `%s`", where);
  ret = rtnl_addr_alloc_cache (sk, &addrs);
  if (ret < 0)
    return netlink_error (err, ret, "list addresses in network namespace `%s`", where);

  sorted = calloc ((size_t) nl_cache_nitems (links) + 1, sizeof (*sorted));
  if (sorted == NULL)
    return skiff_error_make (err, ENOMEM, "list links in network namespace `%s`", where);
  for (o = nl_cache_get_first (links); o; o = nl_cache_get_next (o))
    sorted[n++] = (struct rtnl_link *) o;
  qsort (sorted, n, sizeof (*sorted), by_ifindex);

  g = json_gen_new (false);
  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "list links in network namespace `%s`", where);
  yajl_gen_array_open (g);
  for (i = 0; i < n; i++)
    gen_link (g, sorted[i], links, addrs);
  yajl_gen_array_close (g);
  *json = json_gen_steal (g, NULL);
  if (*json == NULL)
    return skiff_error_make (err, ENOMEM, "list links in network namespace `%s`", where);
  return 0;
}
