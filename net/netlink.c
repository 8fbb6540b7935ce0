/* rtnetlink plumbing shared by the netlink_*.c files: sockets opened in a
   given network namespace, error mapping, strict parsers, and the link and
   address operations used by bridges and endpoints.  Also the small public
   calls (nl_link_exists, nl_netns_lo_up, nl_mac_from_ipv4).  */
#include "netlink.h"
#include "netlink_internal.h"
#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netlink/errno.h>

/* ---- errors ---- */

static int
nlerr_to_errno (int nlerr)
{
  switch (nlerr < 0 ? -nlerr : nlerr)
    {
    case NLE_EXIST: return EEXIST;
    case NLE_NOMEM: return ENOMEM;
    case NLE_PERM: return EPERM;
    case NLE_NOACCESS: return EACCES;
    case NLE_NODEV:
    case NLE_OBJ_NOTFOUND: return ENODEV;
    case NLE_BUSY: return EBUSY;
    case NLE_INVAL: return EINVAL;
    case NLE_RANGE: return ERANGE;
    case NLE_AGAIN: return EAGAIN;
    case NLE_INTR: return EINTR;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_MSGSIZE: return EMSGSIZE;
    case NLE_BAD_SOCK: return EBADF;
    default: return 0;
    }
}

int
netlink_error (skiff_error_t *err, int nlerr, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  int e = nlerr_to_errno (nlerr);

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (e != 0)
    return skiff_error_make (err, e, "%s", msg ? msg : "netlink");
  return skiff_error_make (err, 0, "%s: %s", msg ? msg : "netlink", nl_geterror (nlerr));
}

int
netlink_fail (skiff_error_t *err, int errno_, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  bool first = err != NULL && *err == NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  skiff_error_make (err, 0, "%s", msg ? msg : "netlink");
  if (first && *err != NULL)
    (*err)->errno_ = errno_;
  return -1;
}

bool
netlink_is_notfound (int nlerr)
{
  return nlerr == -NLE_OBJ_NOTFOUND || nlerr == -NLE_NODEV;
}

/* ---- sockets ---- */

static int
socket_connect (struct nl_sock **out)
{
  struct nl_sock *sk = nl_socket_alloc ();
  int ret;

  if (sk == NULL)
    return -NLE_NOMEM;
  /* libnl opens it with SOCK_CLOEXEC: no leak into forked shims.  */
  ret = nl_connect (sk, NETLINK_ROUTE);
  if (ret < 0)
    {
      nl_socket_free (sk);
      return ret;
    }
  *out = sk;
  return 0;
}

struct ns_open_job
{
  int nsfd;
  struct nl_sock *sk;
  int setns_errno;
  int nlerr;
};

/* Runs in a thread of its own: it may end up in the target namespace, and
   that namespace membership ends when the thread does.  */
static void *
ns_open_thread (void *arg)
{
  struct ns_open_job *job = arg;

  if (setns (job->nsfd, CLONE_NEWNET) < 0)
    {
      job->setns_errno = errno;
      return NULL;
    }
  job->nlerr = socket_connect (&job->sk);
  return NULL;
}

int
netlink_socket_open_fd (int nsfd, const char *what, struct nl_sock **out, skiff_error_t *err)
{
  struct ns_open_job job = { .nsfd = nsfd };
  sigset_t all, old;
  pthread_t th;
  int ret;

  /* The helper runs no signal handlers: nothing should happen in the other
     namespace except opening the socket.  */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  ret = pthread_create (&th, NULL, ns_open_thread, &job);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (ret != 0)
    return skiff_error_make (err, ret, "start a thread to enter network namespace `%s`", what);
  ret = pthread_join (th, NULL);
  if (ret != 0)
    return skiff_error_make (err, ret, "join the thread entering network namespace `%s`", what);

  if (job.setns_errno != 0)
    return skiff_error_make (err, job.setns_errno, "enter network namespace `%s`", what);
  if (job.nlerr < 0)
    return netlink_error (err, job.nlerr, "open a netlink socket in network namespace `%s`", what);
  *out = job.sk;
  return 0;
}

struct nl_netns
{
  struct nl_sock *sk;
};

int
nl_netns_here (const char *netns_path, struct nl_netns **out, skiff_error_t *err)
{
  struct nl_netns *ns = calloc (1, sizeof (*ns));
  int ret;

  *out = NULL;
  if (ns == NULL)
    return skiff_error_make (err, ENOMEM, "netlink socket for `%s`", netns_path);
  ret = socket_connect (&ns->sk);
  if (ret < 0)
    {
      free (ns);
      return netlink_error (err, ret, "open a netlink socket in network namespace `%s`", netns_path);
    }
  *out = ns;
  return 0;
}

void
nl_netns_free (struct nl_netns *ns)
{
  if (ns == NULL)
    return;
  nl_socket_free (ns->sk);
  free (ns);
}

struct nl_sock *
netlink_netns_sock (struct nl_netns *ns)
{
  return ns->sk;
}

int
netlink_socket_open (const char *netns_path, struct nl_sock **out, skiff_error_t *err)
{
  cleanup_close int nsfd = -1;
  int ret;

  if (netns_path == NULL)
    {
      ret = socket_connect (out);
      if (ret < 0)
        return netlink_error (err, ret, "open a netlink socket");
      return 0;
    }
  nsfd = open (netns_path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return skiff_error_make (err, errno, "open network namespace `%s`", netns_path);
  return netlink_socket_open_fd (nsfd, netns_path, out, err);
}

/* ---- parsers ---- */

static int
parse_ip_family (const char *s, size_t len, unsigned char buf[16], int *family)
{
  char tmp[INET6_ADDRSTRLEN + 1];

  if (len == 0 || len >= sizeof (tmp))
    return -1;
  memcpy (tmp, s, len);
  tmp[len] = '\0';
  if (inet_pton (AF_INET, tmp, buf) == 1)
    {
      *family = AF_INET;
      return 4;
    }
  if (inet_pton (AF_INET6, tmp, buf) == 1)
    {
      *family = AF_INET6;
      return 16;
    }
  return -1;
}

int
netlink_parse_ip (const char *ip, const char *field, struct nl_addr **out, skiff_error_t *err)
{
  unsigned char buf[16];
  int family, len;

  if (ip == NULL)
    return netlink_fail (err, EINVAL, "%s: missing address", field);
  len = parse_ip_family (ip, strlen (ip), buf, &family);
  if (len < 0)
    return netlink_fail (err, EINVAL, "invalid %s `%s`: not an IPv4 or IPv6 address", field, ip);
  *out = nl_addr_build (family, buf, len);
  if (*out == NULL)
    return skiff_error_make (err, ENOMEM, "%s `%s`", field, ip);
  return 0;
}

int
netlink_parse_cidr (const char *cidr, const char *field, struct nl_addr **out, skiff_error_t *err)
{
  unsigned char buf[16];
  const char *slash, *p;
  int family, len;
  long prefix = 0;

  if (cidr == NULL)
    return netlink_fail (err, EINVAL, "%s: missing address", field);
  slash = strchr (cidr, '/');
  if (slash == NULL)
    return netlink_fail (err, EINVAL, "invalid %s `%s`: expected ADDRESS/PREFIX, as in 172.17.0.1/16",
                             field, cidr);
  len = parse_ip_family (cidr, slash - cidr, buf, &family);
  if (len < 0)
    return netlink_fail (err, EINVAL, "invalid %s `%s`: not an IPv4 or IPv6 address", field, cidr);
  p = slash + 1;
  if (*p == '\0' || strlen (p) > 3)
    return netlink_fail (err, EINVAL, "invalid %s `%s`: bad prefix length", field, cidr);
  for (; *p; p++)
    {
      if (*p < '0' || *p > '9')
        return netlink_fail (err, EINVAL, "invalid %s `%s`: bad prefix length", field, cidr);
      prefix = prefix * 10 + (*p - '0');
    }
  if (prefix > len * 8)
    return netlink_fail (err, EINVAL, "invalid %s `%s`: prefix length above %d", field, cidr, len * 8);
  *out = nl_addr_build (family, buf, len);
  if (*out == NULL)
    return skiff_error_make (err, ENOMEM, "%s `%s`", field, cidr);
  nl_addr_set_prefixlen (*out, (int) prefix);
  return 0;
}

int
netlink_parse_mac (const char *mac, struct nl_addr **out, skiff_error_t *err)
{
  struct ether_addr ea;
  const char *p;
  int digits = 0, groups = 1;

  /* ether_aton_r alone accepts "2:42:..." and ignores trailing junk in
     some versions: insist on six groups of two hex digits.  */
  for (p = mac; *p; p++)
    {
      if (*p == ':')
        {
          if (digits != 2)
            break;
          digits = 0;
          groups++;
        }
      else if (((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')) && digits < 2)
        digits++;
      else
        break;
    }
  if (*p != '\0' || groups != 6 || digits != 2 || ether_aton_r (mac, &ea) == NULL)
    return netlink_fail (err, EINVAL, "invalid MAC address `%s`: expected six hex bytes, as in 02:42:ac:11:00:02",
                             mac);
  if (ea.ether_addr_octet[0] & 1)
    return netlink_fail (err, EINVAL, "invalid MAC address `%s`: a multicast address", mac);
  *out = nl_addr_build (AF_LLC, ea.ether_addr_octet, ETH_ALEN);
  if (*out == NULL)
    return skiff_error_make (err, ENOMEM, "MAC address `%s`", mac);
  return 0;
}

int
netlink_check_ifname (const char *name, const char *field, skiff_error_t *err)
{
  size_t len;

  if (name == NULL || *name == '\0')
    return netlink_fail (err, EINVAL, "missing %s", field);
  len = strlen (name);
  if (len >= IFNAMSIZ)
    return netlink_fail (err, EINVAL, "invalid %s `%s`: longer than %d bytes", field, name, IFNAMSIZ - 1);
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0 || strpbrk (name, "/: \t\n\r\v\f") != NULL)
    return netlink_fail (err, EINVAL, "invalid %s `%s`", field, name);
  return 0;
}

/* ---- links and addresses ---- */

int
netlink_link_get (struct nl_sock *sk, const char *name, struct rtnl_link **out, skiff_error_t *err)
{
  int ret;

  *out = NULL;
  ret = rtnl_link_get_kernel (sk, 0, name, out);
  if (ret < 0)
    {
      *out = NULL;
      if (netlink_is_notfound (ret))
        return 0;
      return netlink_error (err, ret, "look up link `%s`", name);
    }
  return 0;
}

int
netlink_addr_add (struct nl_sock *sk, int ifindex, const char *ifname, struct nl_addr *local,
                  skiff_error_t *err)
{
  cleanup_rtaddr struct rtnl_addr *a = rtnl_addr_alloc ();
  cleanup_nladdr struct nl_addr *brd = NULL;
  int prefix = (int) nl_addr_get_prefixlen (local);
  char buf[INET6_ADDRSTRLEN + 8];
  int ret;

  nl_addr2str (local, buf, sizeof (buf));
  if (a == NULL)
    return skiff_error_make (err, ENOMEM, "add address `%s` to `%s`", buf, ifname);
  rtnl_addr_set_ifindex (a, ifindex);
  rtnl_addr_set_family (a, nl_addr_get_family (local));
  ret = rtnl_addr_set_local (a, local);
  if (ret < 0)
    return netlink_error (err, ret, "add address `%s` to `%s`", buf, ifname);
  rtnl_addr_set_prefixlen (a, prefix);

  /* What `ip addr add ... brd +` and Docker do; /31 and /32 have none.  */
  if (nl_addr_get_family (local) == AF_INET && prefix < 31)
    {
      uint32_t ip, mask;
      memcpy (&ip, nl_addr_get_binary_addr (local), 4);
      mask = prefix == 0 ? 0 : htonl (~0u << (32 - prefix));
      ip |= ~mask;
      brd = nl_addr_build (AF_INET, &ip, 4);
      if (brd == NULL)
        return skiff_error_make (err, ENOMEM, "add address `%s` to `%s`", buf, ifname);
      ret = rtnl_addr_set_broadcast (a, brd);
      if (ret < 0)
        return netlink_error (err, ret, "add address `%s` to `%s`", buf, ifname);
    }

  /* NLM_F_REPLACE: the same address already present is not an error.  */
  ret = rtnl_addr_add (sk, a, NLM_F_REPLACE);
  if (ret < 0)
    return netlink_error (err, ret, "add address `%s` to `%s`", buf, ifname);
  return 0;
}

int
netlink_link_set_up (struct nl_sock *sk, struct rtnl_link *link, int mtu, skiff_error_t *err)
{
  cleanup_link struct rtnl_link *changes = NULL;
  bool set_mtu = mtu > 0 && rtnl_link_get_mtu (link) != (unsigned int) mtu;
  int ret;

  if ((rtnl_link_get_flags (link) & IFF_UP) && !set_mtu)
    return 0;
  changes = rtnl_link_alloc ();
  if (changes == NULL)
    return skiff_error_make (err, ENOMEM, "bring up `%s`", rtnl_link_get_name (link));
  rtnl_link_set_flags (changes, IFF_UP);
  if (set_mtu)
    rtnl_link_set_mtu (changes, (unsigned int) mtu);
  ret = rtnl_link_change (sk, link, changes, 0);
  if (ret < 0)
    {
      if (set_mtu)
        return netlink_error (err, ret, "set MTU %d and bring up `%s`", mtu, rtnl_link_get_name (link));
      return netlink_error (err, ret, "bring up `%s`", rtnl_link_get_name (link));
    }
  return 0;
}

/* ---- public ---- */

int
nl_link_exists (const char *name, bool *exists, skiff_error_t *err)
{
  cleanup_nlsock struct nl_sock *sk = NULL;
  cleanup_link struct rtnl_link *link = NULL;

  if (netlink_check_ifname (name, "interface name", err) < 0)
    return -1;
  if (netlink_socket_open (NULL, &sk, err) < 0)
    return -1;
  if (netlink_link_get (sk, name, &link, err) < 0)
    return -1;
  *exists = link != NULL;
  return 0;
}

int
nl_netns_lo_up (const char *netns_path, skiff_error_t *err)
{
  cleanup_nlsock struct nl_sock *sk = NULL;
  cleanup_link struct rtnl_link *lo = NULL;
  const char *where = netns_path ? netns_path : "the host";

  if (netlink_socket_open (netns_path, &sk, err) < 0)
    return -1;
  if (netlink_link_get (sk, "lo", &lo, err) < 0)
    return skiff_error_wrap (err, "network namespace `%s`", where);
  if (lo == NULL)
    return netlink_fail (err, ENODEV, "no loopback interface in network namespace `%s`", where);
  if (netlink_link_set_up (sk, lo, 0, err) < 0)
    return skiff_error_wrap (err, "network namespace `%s`", where);
  return 0;
}

void
nl_mac_from_ipv4 (uint32_t ip, char mac[18])
{
  snprintf (mac, 18, "02:42:%02x:%02x:%02x:%02x", (ip >> 24) & 0xff, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
            ip & 0xff);
}
