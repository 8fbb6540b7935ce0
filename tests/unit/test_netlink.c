/* Unit tests for net/netlink*.c, against the real kernel.  Needs root.

   The whole test process first moves into a private network namespace
   (unshare), which plays "the host": bridges and host veth ends live there
   and vanish with the process, even after a crash.  Container namespaces
   are named ones (`ip netns add skiff-nltest-<pid>-a|b`), made by each
   test's setup and removed by its teardown, which cmocka runs also when a
   test fails.  Traffic (ping) only flows between those namespaces.

   The library under test never runs `ip`; the tests use `ip -j` to look at
   what it did.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "json.h"
#include "netlink.h"

static char br[16], br2[16];
static char ns_a[64], ns_b[64];
static char path_a[128], path_b[128];

/* ---- helpers ---- */

static char *
vformat (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    fail_msg ("vasprintf");
  return s;
}

/* Runs a shell command; returns its exit status.  */
static int SKIFF_PRINTF (1, 2)
sh (const char *fmt, ...)
{
  cleanup_free char *cmd = NULL;
  va_list ap;
  int st;

  va_start (ap, fmt);
  cmd = vformat (fmt, ap);
  va_end (ap);
  st = system (cmd);
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

/* Runs a command that prints JSON (`ip -j ...`) and parses its output.  */
static yajl_val SKIFF_PRINTF (1, 2)
sh_json (const char *fmt, ...)
{
  cleanup_free char *cmd = NULL;
  cleanup_free char *out = NULL;
  skiff_error_t err = NULL;
  size_t len = 0, cap = 0;
  yajl_val v = NULL;
  char buf[4096];
  size_t n;
  FILE *f;
  va_list ap;

  va_start (ap, fmt);
  cmd = vformat (fmt, ap);
  va_end (ap);
  f = popen (cmd, "r");
  assert_non_null (f);
  while ((n = fread (buf, 1, sizeof (buf), f)) > 0)
    {
      if (len + n + 1 > cap)
        {
          cap = (len + n + 1) * 2;
          out = realloc (out, cap);
          assert_non_null (out);
        }
      memcpy (out + len, buf, n);
      len += n;
    }
  if (pclose (f) != 0)
    fail_msg ("`%s` failed", cmd);
  if (out == NULL)
    fail_msg ("`%s` printed nothing", cmd);
  out[len] = '\0';
  if (json_parse (out, &v, &err) < 0)
    fail_msg ("`%s`: %s", cmd, err->msg);
  return v;
}

static const char *
jstr (yajl_val obj, const char *key)
{
  yajl_val v = json_get (obj, key);
  return v && YAJL_IS_STRING (v) ? YAJL_GET_STRING (v) : NULL;
}

static long long
jint (yajl_val obj, const char *key)
{
  yajl_val v = json_get (obj, key);
  assert_true (v && YAJL_IS_INTEGER (v));
  return YAJL_GET_INTEGER (v);
}

static size_t
jlen (yajl_val arr)
{
  assert_true (arr && YAJL_IS_ARRAY (arr));
  return arr->u.array.len;
}

static yajl_val
jat (yajl_val arr, size_t i)
{
  assert_true (i < jlen (arr));
  return arr->u.array.values[i];
}

/* The only element of an `ip -j ... dev X` answer.  */
static yajl_val
only (yajl_val arr)
{
  assert_int_equal (jlen (arr), 1);
  return jat (arr, 0);
}

static bool
has_flag (yajl_val link, const char *flag)
{
  yajl_val flags = json_get (link, "flags");
  size_t i;
  for (i = 0; flags && i < jlen (flags); i++)
    {
      const char *f = YAJL_GET_STRING (jat (flags, i));
      if (f && strcmp (f, flag) == 0)
        return true;
    }
  return false;
}

/* Number of addresses on an `ip -j addr` link, and whether local/prefix is
   one of them (with brd, if not NULL).  */
static size_t
count_addrs (yajl_val link, const char *family)
{
  yajl_val ai = json_get (link, "addr_info");
  size_t i, n = 0;
  for (i = 0; ai && i < jlen (ai); i++)
    if (strcmp (jstr (jat (ai, i), "family"), family) == 0)
      n++;
  return n;
}

static bool
has_addr (yajl_val link, const char *local, int prefix, const char *brd)
{
  yajl_val ai = json_get (link, "addr_info");
  size_t i;
  for (i = 0; ai && i < jlen (ai); i++)
    {
      yajl_val a = jat (ai, i);
      const char *l = jstr (a, "local"), *b = jstr (a, "broadcast");
      if (l && strcmp (l, local) == 0 && jint (a, "prefixlen") == prefix
          && (brd == NULL || (b && strcmp (b, brd) == 0)))
        return true;
    }
  return false;
}

static const char *
link_kind (yajl_val link)
{
  yajl_val li = json_get (link, "linkinfo");
  return li ? jstr (li, "info_kind") : NULL;
}

/* Veth links in the test's "host" namespace.  */
static size_t
host_veth_count (void)
{
  cleanup_json yajl_val v = sh_json ("ip -j link show type veth");
  return jlen (v);
}

static bool
link_in_ns (const char *ns, const char *dev)
{
  return sh ("ip -n %s link show dev %s >/dev/null 2>&1", ns, dev) == 0;
}

static void
expect_error (int ret, skiff_error_t *err, const char *needle)
{
  assert_int_equal (ret, -1);
  assert_non_null (*err);
  if (strstr ((*err)->msg, needle) == NULL)
    fail_msg ("error `%s` does not mention `%s`", (*err)->msg, needle);
  skiff_error_release (err);
}

static void
expect_errno (int ret, skiff_error_t *err, int errno_, const char *needle)
{
  assert_int_equal (ret, -1);
  assert_non_null (*err);
  assert_int_equal ((*err)->errno_, errno_);
  expect_error (ret, err, needle);
}

static void
endpoint_ok (const struct nl_endpoint *e, char host[16])
{
  skiff_error_t err = NULL;
  if (nl_endpoint_create (e, host, &err) < 0)
    fail_msg ("nl_endpoint_create %s in %s: %s", e->ifname, e->netns_path, err->msg);
}

static void
bridge_ok (const char *name, const char *cidr, int mtu)
{
  skiff_error_t err = NULL;
  if (nl_bridge_ensure (name, cidr, mtu, &err) < 0)
    fail_msg ("nl_bridge_ensure %s: %s", name, err->msg);
}

/* ---- fixtures ---- */

static int
setup (void **state)
{
  if (sh ("ip netns add %s && ip netns add %s", ns_a, ns_b) != 0)
    return -1;
  return 0;
}

static int
teardown (void **state)
{
  int ret = 0;
  /* Not the library: the code under test must not clean up after itself.
     Deleting the namespaces also deletes the veth pairs in them.  */
  if (sh ("ip netns del %s; ip netns del %s; ip link del %s 2>/dev/null; ip link del %s 2>/dev/null; "
          "ip link del sknl-notbr 2>/dev/null; true",
          ns_a, ns_b, br, br2)
      != 0)
    ret = -1;
  if (access (path_a, F_OK) == 0 || access (path_b, F_OK) == 0)
    ret = -1;
  return ret;
}

/* ---- tests ---- */

static void
test_mac_from_ipv4 (void **state)
{
  char mac[18];

  nl_mac_from_ipv4 (0xac110002, mac); /* 172.17.0.2 */
  assert_string_equal (mac, "02:42:ac:11:00:02");
  nl_mac_from_ipv4 (0x0a0000ff, mac); /* 10.0.0.255 */
  assert_string_equal (mac, "02:42:0a:00:00:ff");
  nl_mac_from_ipv4 (0xffffffff, mac);
  assert_string_equal (mac, "02:42:ff:ff:ff:ff");
}

static void
test_bridge_create (void **state)
{
  skiff_error_t err = NULL;
  bool exists = true;

  assert_int_equal (nl_link_exists (br, &exists, &err), 0);
  assert_false (exists);

  bridge_ok (br, "172.17.0.1/16", 1400);

  assert_int_equal (nl_link_exists (br, &exists, &err), 0);
  assert_true (exists);
  {
    cleanup_json yajl_val v = sh_json ("ip -d -j addr show dev %s", br);
    yajl_val l = only (v);
    assert_string_equal (link_kind (l), "bridge");
    assert_true (has_flag (l, "UP"));
    assert_int_equal (jint (l, "mtu"), 1400);
    assert_true (has_addr (l, "172.17.0.1", 16, "172.17.255.255"));
    assert_int_equal (count_addrs (l, "inet"), 1);
  }
}

static void
test_bridge_idempotent (void **state)
{
  skiff_error_t err = NULL;

  bridge_ok (br, "172.17.0.1/16", 0);
  bridge_ok (br, "172.17.0.1/16", 0);
  {
    cleanup_json yajl_val v = sh_json ("ip -j addr show dev %s", br);
    yajl_val l = only (v);
    assert_int_equal (count_addrs (l, "inet"), 1);
    assert_true (has_flag (l, "UP"));
    assert_int_equal (jint (l, "mtu"), 1500);
  }

  /* Drifted state is put back: down, address gone, another MTU.  */
  assert_int_equal (sh ("ip link set dev %s down mtu 1300 && ip addr flush dev %s", br, br), 0);
  bridge_ok (br, "172.17.0.1/16", 1450);
  {
    cleanup_json yajl_val v = sh_json ("ip -j addr show dev %s", br);
    yajl_val l = only (v);
    assert_true (has_flag (l, "UP"));
    assert_true (has_addr (l, "172.17.0.1", 16, "172.17.255.255"));
    assert_int_equal (jint (l, "mtu"), 1450);
  }

  /* A second bridge, without address: user-defined networks may add it later.  */
  bridge_ok (br2, NULL, 0);
  {
    cleanup_json yajl_val v = sh_json ("ip -j addr show dev %s", br2);
    assert_int_equal (count_addrs (only (v), "inet"), 0);
  }

  assert_int_equal (nl_bridge_delete (br2, &err), 0);
  assert_int_equal (sh ("ip link show dev %s >/dev/null 2>&1", br2), 1);
  assert_int_equal (nl_bridge_delete (br2, &err), 0); /* missing is fine */
  assert_null (err);
}

static void
test_bridge_errors (void **state)
{
  skiff_error_t err = NULL;
  bool exists = true;

  expect_error (nl_bridge_ensure (br, "172.17.0.1", 0, &err), &err, "expected ADDRESS/PREFIX");
  expect_errno (nl_bridge_ensure (br, "172.17.0.300/16", 0, &err), &err, EINVAL,
                "invalid bridge address `172.17.0.300/16`: not an IPv4 or IPv6 address");
  expect_error (nl_bridge_ensure (br, "172.17.0.1/33", 0, &err), &err, "prefix length above 32");
  expect_error (nl_bridge_ensure (br, "172.17.0.1/1x", 0, &err), &err, "bad prefix length");
  expect_error (nl_bridge_ensure (br, "default", 0, &err), &err, "expected ADDRESS/PREFIX");
  expect_error (nl_bridge_ensure ("a-name-far-too-long", "10.0.0.1/8", 0, &err), &err, "longer than 15");
  expect_error (nl_bridge_ensure ("a/b", "10.0.0.1/8", 0, &err), &err, "invalid bridge name");
  expect_error (nl_bridge_ensure (br, "10.0.0.1/8", 70000, &err), &err, "invalid MTU");
  /* Nothing was created by the failed calls.  */
  assert_int_equal (nl_link_exists (br, &exists, &err), 0);
  assert_false (exists);

  /* veth: the kernels here have no dummy module.  */
  assert_int_equal (sh ("ip link add sknl-notbr type veth peer name sknl-notbrp"), 0);
  expect_error (nl_bridge_ensure ("sknl-notbr", "10.0.0.1/8", 0, &err), &err, "is a veth, not a bridge");
  expect_error (nl_bridge_delete ("sknl-notbr", &err), &err, "refusing to delete link `sknl-notbr`");
  assert_int_equal (sh ("ip link show dev sknl-notbr >/dev/null"), 0);
}

static void
test_endpoint_create (void **state)
{
  struct nl_endpoint e = { .bridge = br, .netns_path = path_a, .ifname = "eth0", .mac = "02:42:ac:11:00:02",
                           .addr_cidr = "172.17.0.2/16", .gateway = "172.17.0.1", .mtu = 1450 };
  char host[16] = "junk";
  char self_before[64] = "", self_after[64] = "";

  bridge_ok (br, "172.17.0.1/16", 0);
  assert_true (readlink ("/proc/thread-self/ns/net", self_before, sizeof (self_before) - 1) > 0);
  endpoint_ok (&e, host);
  /* The calling thread did not change namespace.  */
  assert_true (readlink ("/proc/thread-self/ns/net", self_after, sizeof (self_after) - 1) > 0);
  assert_string_equal (self_before, self_after);

  /* Host end: vethXXXXXXX, a veth, up, enslaved to the bridge.  */
  assert_int_equal (strlen (host), 11);
  assert_int_equal (strncmp (host, "veth", 4), 0);
  assert_int_equal (strspn (host + 4, "0123456789abcdef"), 7);
  {
    cleanup_json yajl_val v = sh_json ("ip -d -j link show dev %s", host);
    yajl_val l = only (v);
    assert_string_equal (link_kind (l), "veth");
    assert_string_equal (jstr (l, "master"), br);
    assert_true (has_flag (l, "UP"));
    assert_int_equal (jint (l, "mtu"), 1450);
  }

  /* Container end: eth0 in the namespace with MAC, address, MTU, up.  */
  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -d -j addr show dev eth0", ns_a);
    yajl_val l = only (v);
    assert_string_equal (link_kind (l), "veth");
    assert_string_equal (jstr (l, "address"), "02:42:ac:11:00:02");
    assert_true (has_flag (l, "UP"));
    assert_int_equal (jint (l, "mtu"), 1450);
    assert_true (has_addr (l, "172.17.0.2", 16, "172.17.255.255"));
    assert_int_equal (count_addrs (l, "inet"), 1);
  }
  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -j route show default", ns_a);
    yajl_val r = only (v);
    assert_string_equal (jstr (r, "gateway"), "172.17.0.1");
    assert_string_equal (jstr (r, "dev"), "eth0");
  }
  /* Nothing called eth0 appeared in the host.  */
  assert_int_equal (sh ("ip link show dev eth0 2>/dev/null | grep -q '@%s'", host), 1);
}

static void
test_endpoint_mac_default (void **state)
{
  struct nl_endpoint e = { .bridge = br, .netns_path = path_a, .ifname = "eth0", .addr_cidr = "172.17.0.9/16" };
  char host[16];

  bridge_ok (br, "172.17.0.1/16", 0);
  endpoint_ok (&e, host);
  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -j addr show dev eth0", ns_a);
    assert_string_equal (jstr (only (v), "address"), "02:42:ac:11:00:09");
  }
  {
    /* No gateway: no default route.  */
    cleanup_json yajl_val v = sh_json ("ip -n %s -j route show default", ns_a);
    assert_int_equal (jlen (v), 0);
  }
}

/* A thread enters the namespace, opens an nl_netns there, and leaves.  */
struct netns_here_job
{
  const char *path;
  struct nl_netns *ns;
  char *error;
};

static void *
netns_here_thread (void *arg)
{
  struct netns_here_job *job = arg;
  skiff_error_t err = NULL;
  cleanup_close int fd = open (job->path, O_RDONLY | O_CLOEXEC);

  if (fd < 0 || setns (fd, CLONE_NEWNET) < 0)
    job->error = strdup ("enter the namespace");
  else if (nl_netns_here (job->path, &job->ns, &err) < 0)
    job->error = strdup (err->msg);
  skiff_error_release (&err);
  return NULL;
}

/* Endpoints made through a socket opened in the namespace beforehand, by
   a thread that has left it since: two interfaces through the same one.  */
static void
test_endpoint_with_netns (void **state)
{
  struct netns_here_job job = { .path = path_a };
  cleanup_nl_netns struct nl_netns *ns = NULL;
  struct nl_endpoint e0 = { .bridge = br, .netns_path = path_a, .ifname = "eth0", .addr_cidr = "172.17.0.2/16",
                            .gateway = "172.17.0.1" };
  struct nl_endpoint e1 = { .bridge = br2, .netns_path = path_a, .ifname = "eth1", .addr_cidr = "172.18.0.2/16" };
  char h0[16], h1[16], self_before[64] = "", self_after[64] = "";
  pthread_t th;

  bridge_ok (br, "172.17.0.1/16", 0);
  bridge_ok (br2, "172.18.0.1/16", 0);
  assert_int_equal (pthread_create (&th, NULL, netns_here_thread, &job), 0);
  assert_int_equal (pthread_join (th, NULL), 0);
  if (job.error)
    fail_msg ("nl_netns_here: %s", job.error);
  ns = job.ns;
  e0.ns = e1.ns = ns;
  assert_true (readlink ("/proc/thread-self/ns/net", self_before, sizeof (self_before) - 1) > 0);
  endpoint_ok (&e0, h0);
  endpoint_ok (&e1, h1);
  assert_true (readlink ("/proc/thread-self/ns/net", self_after, sizeof (self_after) - 1) > 0);
  assert_string_equal (self_before, self_after);
  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -j addr show dev eth0", ns_a);
    yajl_val l = only (v);
    assert_true (has_flag (l, "UP"));
    assert_true (has_addr (l, "172.17.0.2", 16, NULL));
  }
  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -j addr show dev eth1", ns_a);
    assert_true (has_addr (only (v), "172.18.0.2", 16, NULL));
  }
  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -j route show default", ns_a);
    assert_string_equal (jstr (only (v), "dev"), "eth0");
  }
  /* The host ends are in the host, not in the namespace.  */
  assert_false (link_in_ns (ns_a, h0));
  assert_int_equal (host_veth_count (), 2);
}

static bool
ping_until (const char *ns, const char *ip, int seconds)
{
  time_t deadline = time (NULL) + seconds;
  do
    {
      if (sh ("ip netns exec %s ping -c1 -W2 %s >/dev/null 2>&1", ns, ip) == 0)
        return true;
    }
  while (time (NULL) < deadline);
  return false;
}

static void
test_endpoint_ping (void **state)
{
  struct nl_endpoint a = { .bridge = br, .netns_path = path_a, .ifname = "eth0", .mac = "02:42:ac:11:00:02",
                           .addr_cidr = "172.17.0.2/16", .gateway = "172.17.0.1" };
  struct nl_endpoint b = { .bridge = br, .netns_path = path_b, .ifname = "eth0", .mac = "02:42:ac:11:00:03",
                           .addr_cidr = "172.17.0.3/16", .gateway = "172.17.0.1" };
  char ha[16], hb[16];

  bridge_ok (br, "172.17.0.1/16", 0);
  endpoint_ok (&a, ha);
  endpoint_ok (&b, hb);
  assert_string_not_equal (ha, hb);

  assert_true (ping_until (ns_a, "172.17.0.3", 6));
  assert_true (ping_until (ns_b, "172.17.0.2", 6));
  /* The gateway, the bridge itself, answers too.  */
  assert_true (ping_until (ns_a, "172.17.0.1", 6));
  {
    /* ARP learnt b's Docker-style MAC.  */
    cleanup_json yajl_val v = sh_json ("ip -n %s -j neigh show 172.17.0.3", ns_a);
    assert_string_equal (jstr (only (v), "lladdr"), "02:42:ac:11:00:03");
  }
}

static void
test_endpoint_delete (void **state)
{
  struct nl_endpoint e = { .bridge = br, .netns_path = path_a, .ifname = "eth0", .addr_cidr = "172.17.0.2/16",
                           .gateway = "172.17.0.1" };
  skiff_error_t err = NULL;
  bool exists = false;
  char host[16];

  bridge_ok (br, "172.17.0.1/16", 0);
  endpoint_ok (&e, host);
  assert_true (link_in_ns (ns_a, "eth0"));

  assert_int_equal (nl_endpoint_delete (host, &err), 0);
  assert_int_equal (nl_link_exists (host, &exists, &err), 0);
  assert_false (exists);
  assert_false (link_in_ns (ns_a, "eth0"));
  assert_int_equal (host_veth_count (), 0);
  /* Missing is fine.  */
  assert_int_equal (nl_endpoint_delete (host, &err), 0);
  assert_null (err);
  /* Not a veth: refused, left alone.  */
  expect_error (nl_endpoint_delete (br, &err), &err, "not a veth");
  assert_int_equal (nl_link_exists (br, &exists, &err), 0);
  assert_true (exists);

  /* The namespace can take a new eth0 afterwards.  */
  endpoint_ok (&e, host);
  assert_true (link_in_ns (ns_a, "eth0"));
}

static void
test_endpoint_errors (void **state)
{
  struct nl_endpoint e = { .bridge = br, .netns_path = path_a, .ifname = "eth0", .addr_cidr = "172.17.0.2/16",
                           .gateway = "172.17.0.1" };
  struct nl_endpoint bad;
  skiff_error_t err = NULL;
  char host[16] = "junk";

  bad = e;
  bad.bridge = "sknl-nope";
  expect_errno (nl_endpoint_create (&bad, host, &err), &err, ENODEV, "bridge `sknl-nope` not found");
  assert_string_equal (host, "");

  bridge_ok (br, "172.17.0.1/16", 0);

  bad = e;
  bad.addr_cidr = "172.17.0.256/16";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "invalid endpoint address `172.17.0.256/16`");
  bad.addr_cidr = "172.17.0.2";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "expected ADDRESS/PREFIX");
  bad = e;
  bad.gateway = "172.17.0";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "invalid gateway `172.17.0`");
  bad.gateway = "10.9.9.9";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "outside the subnet of `172.17.0.2/16`");
  bad.gateway = "fd00::1";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "not of the same family");
  bad = e;
  bad.mac = "02:42:ac:11:00";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "invalid MAC address `02:42:ac:11:00`");
  bad.mac = "01:00:5e:00:00:01";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "multicast");
  bad = e;
  bad.ifname = "eth0-is-far-too-long";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "longer than 15");
  bad = e;
  bad.netns_path = "/nonexistent/netns";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "open network namespace `/nonexistent/netns`");
  bad.netns_path = "/proc/self/ns/uts";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "enter network namespace `/proc/self/ns/uts`");
  bad = e;
  bad.bridge = "lo";
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "link `lo` is not a bridge");
  assert_int_equal (host_veth_count (), 0);

  /* ifname taken in the namespace: refused by the kernel, nothing left.  */
  endpoint_ok (&e, host);
  assert_int_equal (host_veth_count (), 1);
  expect_errno (nl_endpoint_create (&e, host, &err), &err, EEXIST,
                "interface `eth0` already exists in network namespace");
  assert_string_equal (host, "");
  assert_int_equal (host_veth_count (), 1);

  /* A failure after the pair exists (IPv6 disabled in the namespace, so
     the address cannot be added) removes the pair again.  */
  assert_int_equal (sh ("ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1 "
                        "net.ipv6.conf.all.disable_ipv6=1",
                        ns_b),
                    0);
  bad = e;
  bad.netns_path = path_b;
  bad.addr_cidr = "fd00::2/64";
  bad.gateway = NULL;
  expect_error (nl_endpoint_create (&bad, host, &err), &err, "configure `eth0` in network namespace");
  assert_string_equal (host, "");
  assert_int_equal (host_veth_count (), 1);
  assert_false (link_in_ns (ns_b, "eth0"));
}

static void
test_lo_up (void **state)
{
  skiff_error_t err = NULL;
  int i;

  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -j link show dev lo", ns_a);
    assert_false (has_flag (only (v), "UP"));
  }
  for (i = 0; i < 2; i++) /* idempotent */
    if (nl_netns_lo_up (path_a, &err) < 0)
      fail_msg ("nl_netns_lo_up: %s", err->msg);
  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -j addr show dev lo", ns_a);
    assert_true (has_flag (only (v), "UP"));
    assert_true (has_addr (only (v), "127.0.0.1", 8, NULL));
  }
  assert_true (ping_until (ns_a, "127.0.0.1", 4));
  /* The other namespace is untouched.  */
  {
    cleanup_json yajl_val v = sh_json ("ip -n %s -j link show dev lo", ns_b);
    assert_false (has_flag (only (v), "UP"));
  }
}

static void
test_addr_list_json (void **state)
{
  struct nl_endpoint e = { .bridge = br, .netns_path = path_a, .ifname = "eth0", .addr_cidr = "172.17.0.5/16",
                           .gateway = "172.17.0.1" };
  cleanup_free char *ns_text = NULL;
  cleanup_free char *host_text = NULL;
  cleanup_json yajl_val ns_v = NULL;
  cleanup_json yajl_val host_v = NULL;
  skiff_error_t err = NULL;
  char host[16];
  size_t i;
  bool seen_eth0 = false, seen_br = false, seen_veth = false;

  bridge_ok (br, "172.17.0.1/16", 0);
  endpoint_ok (&e, host);

  if (nl_addr_list_json (path_a, &ns_text, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (json_parse (ns_text, &ns_v, &err), 0);
  assert_int_equal (jlen (ns_v), 2); /* lo, eth0 */
  assert_string_equal (jstr (jat (ns_v, 0), "ifname"), "lo");
  for (i = 0; i < jlen (ns_v); i++)
    {
      yajl_val l = jat (ns_v, i);
      yajl_val ai = json_get (l, "addr_info");
      if (strcmp (jstr (l, "ifname"), "eth0") != 0)
        continue;
      seen_eth0 = true;
      assert_string_equal (jstr (l, "kind"), "veth");
      assert_string_equal (jstr (l, "address"), "02:42:ac:11:00:05");
      assert_true (YAJL_IS_TRUE (json_get (l, "up")));
      assert_int_equal (jint (l, "mtu"), 1500);
      /* inet first (the kernel lists IPv4 before the IPv6 link-local).  */
      assert_true (jlen (ai) >= 1);
      assert_string_equal (jstr (jat (ai, 0), "family"), "inet");
      assert_string_equal (jstr (jat (ai, 0), "local"), "172.17.0.5");
      assert_int_equal (jint (jat (ai, 0), "prefixlen"), 16);
      assert_int_equal (count_addrs (l, "inet"), 1);
    }
  assert_true (seen_eth0);

  if (nl_addr_list_json (NULL, &host_text, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (json_parse (host_text, &host_v, &err), 0);
  for (i = 0; i < jlen (host_v); i++)
    {
      yajl_val l = jat (host_v, i);
      if (i > 0)
        assert_true (jint (l, "ifindex") > jint (jat (host_v, i - 1), "ifindex"));
      if (strcmp (jstr (l, "ifname"), br) == 0)
        {
          seen_br = true;
          assert_string_equal (jstr (l, "kind"), "bridge");
          assert_string_equal (jstr (jat (json_get (l, "addr_info"), 0), "local"), "172.17.0.1");
        }
      if (strcmp (jstr (l, "ifname"), host) == 0)
        {
          seen_veth = true;
          assert_string_equal (jstr (l, "master"), br);
        }
    }
  assert_true (seen_br && seen_veth);

  expect_error (nl_addr_list_json ("/nonexistent/netns", &ns_text, &err), &err, "open network namespace");
}

/* Many endpoints created at once from several threads, into the same
   namespace: each gets its own pair, no thread changes namespace.  */
#define N_THREADS 6

struct thread_job
{
  struct nl_endpoint e;
  char ifname[16], cidr[32], host[16], ns_before[64], ns_after[64];
  char *error;
};

static void *
thread_main (void *arg)
{
  struct thread_job *job = arg;
  skiff_error_t err = NULL;

  if (readlink ("/proc/thread-self/ns/net", job->ns_before, sizeof (job->ns_before) - 1) < 0)
    job->error = strdup ("readlink before");
  else if (nl_endpoint_create (&job->e, job->host, &err) < 0)
    job->error = strdup (err->msg);
  else if (readlink ("/proc/thread-self/ns/net", job->ns_after, sizeof (job->ns_after) - 1) < 0)
    job->error = strdup ("readlink after");
  skiff_error_release (&err);
  return NULL;
}

static void
test_threads (void **state)
{
  struct thread_job jobs[N_THREADS];
  pthread_t th[N_THREADS];
  skiff_error_t err = NULL;
  int i, j;

  bridge_ok (br, "172.17.0.1/16", 0);
  memset (jobs, 0, sizeof (jobs));
  for (i = 0; i < N_THREADS; i++)
    {
      snprintf (jobs[i].ifname, sizeof (jobs[i].ifname), "eth%d", i);
      snprintf (jobs[i].cidr, sizeof (jobs[i].cidr), "172.17.1.%d/16", i + 10);
      jobs[i].e = (struct nl_endpoint){ .bridge = br, .netns_path = path_a, .ifname = jobs[i].ifname,
                                        .addr_cidr = jobs[i].cidr };
      assert_int_equal (pthread_create (&th[i], NULL, thread_main, &jobs[i]), 0);
    }
  for (i = 0; i < N_THREADS; i++)
    assert_int_equal (pthread_join (th[i], NULL), 0);
  for (i = 0; i < N_THREADS; i++)
    {
      if (jobs[i].error)
        fail_msg ("thread %d: %s", i, jobs[i].error);
      assert_string_equal (jobs[i].ns_before, jobs[i].ns_after);
      assert_true (link_in_ns (ns_a, jobs[i].ifname));
      for (j = 0; j < i; j++)
        assert_string_not_equal (jobs[i].host, jobs[j].host);
    }
  assert_int_equal (host_veth_count (), N_THREADS);
  for (i = 0; i < N_THREADS; i++)
    assert_int_equal (nl_endpoint_delete (jobs[i].host, &err), 0);
  assert_int_equal (host_veth_count (), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_mac_from_ipv4),
    cmocka_unit_test_setup_teardown (test_bridge_create, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bridge_idempotent, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bridge_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_create, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_mac_default, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_with_netns, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_ping, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_delete, setup, teardown),
    cmocka_unit_test_setup_teardown (test_endpoint_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_lo_up, setup, teardown),
    cmocka_unit_test_setup_teardown (test_addr_list_json, setup, teardown),
    cmocka_unit_test_setup_teardown (test_threads, setup, teardown),
  };
  int pid = (int) getpid ();

  if (geteuid () != 0 || system ("command -v ip >/dev/null && command -v ping >/dev/null") != 0)
    {
      fprintf (stderr, "test_netlink: needs root, `ip` and `ping`; skipped\n");
      return 77;
    }
  /* Our own "host" namespace: bridges and host veth ends never touch the
     machine's, and go away with this process whatever happens.  Still
     single-threaded here, so the whole process moves.  */
  if (unshare (CLONE_NEWNET) < 0)
    {
      perror ("test_netlink: unshare(CLONE_NEWNET)");
      return 1;
    }
  snprintf (br, sizeof (br), "sknl%d", pid);
  snprintf (br2, sizeof (br2), "sknl%dx", pid);
  snprintf (ns_a, sizeof (ns_a), "skiff-nltest-%d-a", pid);
  snprintf (ns_b, sizeof (ns_b), "skiff-nltest-%d-b", pid);
  snprintf (path_a, sizeof (path_a), "/run/netns/%s", ns_a);
  snprintf (path_b, sizeof (path_b), "/run/netns/%s", ns_b);
  return cmocka_run_group_tests_name ("netlink", tests, NULL, NULL);
}
