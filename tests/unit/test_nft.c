/* net/nft.c and net/nft_rules.c: the ruleset text for given networks and
   ports (golden strings), and, as root, applying, replacing, listing and
   deleting tables in network namespaces the test creates, plus traffic
   through a published port.  The root network namespace's nftables are
   never touched.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "nft.h"

#define HEAD                                                                                       \
  "table ip skiff\n"                                                                               \
  "delete table ip skiff\n"                                                                        \
  "table ip skiff {\n"                                                                             \
  "\tchain prerouting {\n"                                                                         \
  "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"                                 \
  "\t\tfib daddr type local jump published\n"                                                      \
  "\t}\n"                                                                                          \
  "\tchain output {\n"                                                                             \
  "\t\ttype nat hook output priority -100; policy accept;\n"                                     \
  "\t\tfib daddr type local jump published\n"                                                      \
  "\t}\n"                                                                                          \
  "\tchain published {\n"

#define POST_HEAD                                                                                  \
  "\t}\n"                                                                                          \
  "\tchain postrouting {\n"                                                                        \
  "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"

#define FORWARD_HEAD                                                                               \
  "\t}\n"                                                                                          \
  "\tchain forward {\n"                                                                            \
  "\t\ttype filter hook forward priority filter; policy accept;\n"

#define TAIL                                                                                       \
  "\t}\n"                                                                                          \
  "}\n"

static char *
build (const struct nft_network *nets, size_t n, const struct nft_port *ports, size_t np)
{
  skiff_error_t err = NULL;
  char *text = NULL;

  if (nft_ruleset_skiff (nets, n, ports, np, &text, &err) < 0)
    fail_msg ("nft_ruleset_skiff: %s", err->msg);
  assert_non_null (text);
  return text;
}

static void
test_ruleset_empty (void **state)
{
  cleanup_free char *text = build (NULL, 0, NULL, 0);

  assert_string_equal (text, HEAD POST_HEAD FORWARD_HEAD
                       "\t\tct state established,related accept\n"
                       "\t\tct status dnat accept\n" TAIL);
}

static const struct nft_network default_net[] = {
  { .bridge = "skiff0", .subnet = "172.17.0.0/16", .masquerade = true, .icc = true },
};

static const struct nft_port default_ports[] = {
  { .proto = "tcp", .host_port = 8080, .container_ip = "172.17.0.2", .container_port = 80 },
  { .proto = "udp", .host_ip = "192.0.2.10", .host_port = 5353, .container_ip = "172.17.0.3",
    .container_port = 53 },
  { .proto = "tcp", .host_ip = "0.0.0.0", .host_port = 8443, .container_ip = "172.17.0.2",
    .container_port = 443 },
};

#define DEFAULT_TEXT                                                                               \
  HEAD "\t\ttcp dport 8080 dnat to 172.17.0.2:80\n"                                                \
       "\t\tip daddr 192.0.2.10 udp dport 5353 dnat to 172.17.0.3:53\n"                            \
       "\t\ttcp dport 8443 dnat to 172.17.0.2:443\n" POST_HEAD                                     \
       "\t\tip saddr 172.17.0.0/16 oifname != \"skiff0\" masquerade\n"                             \
       "\t\toifname \"skiff0\" ip saddr 172.17.0.0/16 ct status dnat masquerade\n"                 \
       "\t\toifname \"skiff0\" ip saddr 127.0.0.0/8 masquerade\n" FORWARD_HEAD                     \
       "\t\tct state established,related accept\n"                                                 \
       "\t\tct status dnat accept\n"                                                               \
       "\t\toifname \"skiff0\" iifname != \"skiff0\" drop\n" TAIL

static void
test_ruleset_default_bridge (void **state)
{
  cleanup_free char *text = build (default_net, 1, default_ports, 3);

  assert_string_equal (text, DEFAULT_TEXT);
}

static const struct nft_network many_nets[] = {
  { .bridge = "skiff0", .subnet = "172.17.0.0/16", .masquerade = true, .icc = true },
  { .bridge = "br-a", .subnet = "10.10.0.0/24", .masquerade = false, .icc = false },
  { .bridge = "br-int", .subnet = "10.20.0.0/24", .masquerade = true, .internal = true,
    .icc = true },
  { .bridge = "br-b", .subnet = "10.30.0.0/24", .masquerade = true, .icc = true },
};

#define MANY_TEXT                                                                                  \
  HEAD POST_HEAD "\t\tip saddr 172.17.0.0/16 oifname != \"skiff0\" masquerade\n"                   \
                 "\t\toifname \"skiff0\" ip saddr 172.17.0.0/16 ct status dnat masquerade\n"       \
                 "\t\toifname \"skiff0\" ip saddr 127.0.0.0/8 masquerade\n"                        \
                 "\t\toifname \"br-a\" ip saddr 10.10.0.0/24 ct status dnat masquerade\n"          \
                 "\t\toifname \"br-a\" ip saddr 127.0.0.0/8 masquerade\n"                          \
                 "\t\tip saddr 10.30.0.0/24 oifname != \"br-b\" masquerade\n"                      \
                 "\t\toifname \"br-b\" ip saddr 10.30.0.0/24 ct status dnat masquerade\n"          \
                 "\t\toifname \"br-b\" ip saddr 127.0.0.0/8 masquerade\n" FORWARD_HEAD             \
                 "\t\tiifname \"br-int\" oifname != \"br-int\" drop\n"                             \
                 "\t\toifname \"br-int\" iifname != \"br-int\" drop\n"                             \
                 "\t\tct state established,related accept\n"                                       \
                 "\t\tct status dnat accept\n"                                                     \
                 "\t\toifname \"skiff0\" iifname != \"skiff0\" drop\n"                             \
                 "\t\tiifname \"br-a\" oifname \"br-a\" drop\n"                                    \
                 "\t\toifname \"br-a\" iifname != \"br-a\" drop\n"                                 \
                 "\t\toifname \"br-b\" iifname != \"br-b\" drop\n" TAIL

/* Isolation, icc = false, masquerade off, an internal network.  */
static void
test_ruleset_isolation_internal (void **state)
{
  cleanup_free char *text = build (many_nets, 4, NULL, 0);

  assert_string_equal (text, MANY_TEXT);
}

static void
test_ruleset_subnet_canonical (void **state)
{
  struct nft_network nets[] = {
    { .bridge = "skiff0", .subnet = "172.17.0.1/16", .masquerade = true, .icc = true },
    { .bridge = "b1", .subnet = "10.1.2.3/32", .masquerade = true, .icc = true },
    { .bridge = "b2", .subnet = "10.1.2.3/0", .icc = true },
  };
  cleanup_free char *text = build (nets, 3, NULL, 0);

  assert_non_null (strstr (text, "ip saddr 172.17.0.0/16 oifname != \"skiff0\" masquerade\n"));
  assert_non_null (strstr (text, "ip saddr 10.1.2.3/32 oifname != \"b1\" masquerade\n"));
  assert_non_null (strstr (text, "oifname \"b2\" ip saddr 0.0.0.0/0 ct status dnat masquerade\n"));
  assert_null (strstr (text, "172.17.0.1"));
}

static void
expect_invalid (const struct nft_network *nets, size_t n, const struct nft_port *ports, size_t np,
                int errno_, const char *needle)
{
  skiff_error_t err = NULL;
  char *text = (char *) "untouched";

  assert_int_equal (nft_ruleset_skiff (nets, n, ports, np, &text, &err), -1);
  assert_null (text);
  assert_non_null (err);
  assert_int_equal (err->errno_, errno_);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error `%s` does not mention `%s`", err->msg, needle);
  skiff_error_release (&err);
}

static void
test_ruleset_invalid_networks (void **state)
{
  static const char *const bad_bridges[] = { "", "a\" drop", "0123456789abcdef", "br a", "br;x" };
  static const char *const bad_subnets[] = { "172.17.0.0", "172.17.0.0/33", "x/8", "172.17.0.0/",
                                              "172.17.0.0/-1", "172.17.0.0/8x", "::1/64" };
  struct nft_network net = { .bridge = "skiff0", .subnet = "172.17.0.0/16" };
  struct nft_network two[] = { net, net };
  size_t i;

  for (i = 0; i < sizeof (bad_bridges) / sizeof (bad_bridges[0]); i++)
    {
      net.bridge = bad_bridges[i];
      expect_invalid (&net, 1, NULL, 0, EINVAL, "bridge name");
    }
  net.bridge = NULL;
  expect_invalid (&net, 1, NULL, 0, EINVAL, "bridge name");
  net.bridge = "skiff0";
  for (i = 0; i < sizeof (bad_subnets) / sizeof (bad_subnets[0]); i++)
    {
      net.subnet = bad_subnets[i];
      expect_invalid (&net, 1, NULL, 0, EINVAL, bad_subnets[i]);
    }
  two[1].subnet = "10.0.0.0/8";
  expect_invalid (two, 2, NULL, 0, EINVAL, "listed twice");
}

static void
test_ruleset_invalid_ports (void **state)
{
  const struct nft_port good = { .proto = "tcp", .host_port = 8080, .container_ip = "172.17.0.2",
                                 .container_port = 80 };
  struct nft_port p = good;
  struct nft_port two[2];
  cleanup_free char *ok = NULL;

  p.proto = "icmp";
  expect_invalid (NULL, 0, &p, 1, EINVAL, "protocol");
  p.proto = NULL;
  expect_invalid (NULL, 0, &p, 1, EINVAL, "protocol");
  p = good;
  p.host_port = 0;
  expect_invalid (NULL, 0, &p, 1, EINVAL, "published port");
  p = good;
  p.container_port = 0;
  expect_invalid (NULL, 0, &p, 1, EINVAL, "published port");
  p = good;
  p.host_ip = "::";
  expect_invalid (NULL, 0, &p, 1, EINVAL, "host address");
  p.host_ip = "1.2.3.4 drop";
  expect_invalid (NULL, 0, &p, 1, EINVAL, "host address");
  p = good;
  p.container_ip = "172.17.0.2:80";
  expect_invalid (NULL, 0, &p, 1, EINVAL, "container address");
  p.container_ip = NULL;
  expect_invalid (NULL, 0, &p, 1, EINVAL, "container address");

  /* Same host port: any address overlaps with any other.  */
  two[0] = good;
  two[1] = good;
  two[1].host_ip = "192.0.2.1";
  expect_invalid (NULL, 0, two, 2, EADDRINUSE, "published twice");
  two[0].host_ip = "192.0.2.1";
  expect_invalid (NULL, 0, two, 2, EADDRINUSE, "published twice");
  /* Other address, or other protocol: fine.  */
  two[0].host_ip = "192.0.2.2";
  ok = build (NULL, 0, two, 2);
  free (ok);
  two[0] = good;
  two[1] = good;
  two[1].proto = "udp";
  ok = build (NULL, 0, two, 2);
  assert_non_null (strstr (ok, "\t\ttcp dport 8080 dnat to 172.17.0.2:80\n"
                               "\t\tudp dport 8080 dnat to 172.17.0.2:80\n"));
}

/* A namespace that does not exist: should validation ever let a bad name
   through, the call fails there instead of touching this namespace.  */
#define NOWHERE "/run/netns/skiff-nfttest-nowhere"

static void
test_table_name_invalid (void **state)
{
  skiff_error_t err = NULL;
  bool exists;
  char *text = NULL;

  assert_int_equal (nft_table_delete (NOWHERE, "ipx", "skiff", &err), -1);
  assert_int_equal (err->errno_, EINVAL);
  skiff_error_release (&err);
  assert_int_equal (nft_table_delete (NOWHERE, "ip", "a; flush ruleset", &err), -1);
  assert_int_equal (err->errno_, EINVAL);
  skiff_error_release (&err);
  assert_int_equal (nft_table_exists (NOWHERE, "ip", "", &exists, &err), -1);
  assert_int_equal (err->errno_, EINVAL);
  skiff_error_release (&err);
  assert_int_equal (nft_table_list (NOWHERE, NULL, "skiff", &text, &err), -1);
  assert_int_equal (err->errno_, EINVAL);
  assert_null (text);
  skiff_error_release (&err);
}

/* ------------------------------------------------------------------ */
/* As root, in namespaces of our own.  */

struct ns_fixture
{
  char host[48];      /* the "host" netns: skiff's table goes here */
  char host_path[128];
  char ctr[64];       /* a "container" behind the host */
  char out[64];       /* an "outside" client in front of the host */
  char www[64];       /* httpd's document root */
  pid_t httpd;
  bool made_host, made_ctr, made_out;
};

static int
sh (const char *fmt, ...) SKIFF_PRINTF (1, 2);

/* Runs a shell command quietly; returns its exit status (-1 if none).  */
static int
sh (const char *fmt, ...)
{
  cleanup_free char *cmd = NULL;
  cleanup_free char *quiet = NULL;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&cmd, fmt, ap);
  va_end (ap);
  if (r < 0 || asprintf (&quiet, "(%s) >/dev/null 2>&1", cmd) < 0)
    fail_msg ("asprintf");
  r = system (quiet);
  return (r >= 0 && WIFEXITED (r)) ? WEXITSTATUS (r) : -1;
}

static void
must (int status, const char *what)
{
  if (status != 0)
    fail_msg ("%s failed (status %d)", what, status);
}

static int
ns_setup (void **state)
{
  struct ns_fixture *fx = calloc (1, sizeof (*fx));

  if (fx == NULL)
    return -1;
  *state = fx;
  if (geteuid () != 0)
    return 0;
  snprintf (fx->host, sizeof (fx->host), "skiff-nfttest-%d", (int) getpid ());
  snprintf (fx->host_path, sizeof (fx->host_path), "/run/netns/%s", fx->host);
  snprintf (fx->ctr, sizeof (fx->ctr), "%s-c", fx->host);
  snprintf (fx->out, sizeof (fx->out), "%s-o", fx->host);
  if (sh ("ip netns add %s", fx->host) != 0)
    return -1;
  fx->made_host = true;
  return 0;
}

static int
ns_teardown (void **state)
{
  struct ns_fixture *fx = *state;
  int ret = 0;

  if (fx->httpd > 0)
    {
      kill (fx->httpd, SIGKILL);
      waitpid (fx->httpd, NULL, 0);
    }
  /* Deleting a namespace takes its veth ends and nftables with it.  */
  if (fx->made_out && sh ("ip netns del %s", fx->out) != 0)
    ret = -1;
  if (fx->made_ctr && sh ("ip netns del %s", fx->ctr) != 0)
    ret = -1;
  if (fx->made_host && sh ("ip netns del %s", fx->host) != 0)
    ret = -1;
  if (fx->www[0] && sh ("rm -rf '%s'", fx->www) != 0)
    ret = -1;
  free (fx);
  return ret;
}

static char *
list_skiff (struct ns_fixture *fx)
{
  skiff_error_t err = NULL;
  char *text = NULL;

  if (nft_table_list (fx->host_path, "ip", "skiff", &text, &err) < 0)
    fail_msg ("nft_table_list: %s", err->msg);
  return text;
}

static bool
table_exists (struct ns_fixture *fx, const char *family, const char *name)
{
  skiff_error_t err = NULL;
  bool exists = false;

  if (nft_table_exists (fx->host_path, family, name, &exists, &err) < 0)
    fail_msg ("nft_table_exists: %s", err->msg);
  return exists;
}

static void
apply_ok (struct ns_fixture *fx, const char *ruleset)
{
  skiff_error_t err = NULL;

  if (nft_apply (fx->host_path, ruleset, &err) < 0)
    fail_msg ("nft_apply: %s", err->msg);
}

struct applier
{
  const char *netns_path;
  const char *ruleset;
  int failures;
};

static void *
apply_many (void *arg)
{
  struct applier *a = arg;
  int i;

  for (i = 0; i < 5; i++)
    {
      skiff_error_t err = NULL;
      if (nft_apply (a->netns_path, a->ruleset, &err) < 0)
        {
          a->failures++;
          skiff_error_release (&err);
        }
    }
  return NULL;
}

static void
test_apply_replace_delete (void **state)
{
  struct ns_fixture *fx = *state;
  struct nft_port ports[] = {
    { .proto = "tcp", .host_port = 8080, .container_ip = "172.17.0.2", .container_port = 80 },
  };
  skiff_error_t err = NULL;
  cleanup_free char *first = NULL;
  cleanup_free char *second = NULL;
  cleanup_free char *many = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *text2 = NULL;

  if (geteuid () != 0)
    skip ();

  /* Someone else's table, there before skiff.  */
  apply_ok (fx, "table inet foreign {\n"
                "\tchain input {\n"
                "\t\ttype filter hook input priority 0; policy accept;\n"
                "\t\ttcp dport 22 counter accept\n"
                "\t}\n"
                "}\n");
  assert_false (table_exists (fx, "ip", "skiff"));

  first = build (default_net, 1, ports, 1);
  apply_ok (fx, first);
  text = list_skiff (fx);
  assert_non_null (strstr (text, "tcp dport 8080 dnat to 172.17.0.2:80"));
  assert_non_null (strstr (text, "fib daddr type local jump published"));
  assert_non_null (strstr (text, "oifname \"skiff0\" ip saddr 172.17.0.0/16 ct status dnat masquerade"));
  assert_non_null (strstr (text, "ct state established,related accept"));

  /* Atomic replace, twice: the old rule is gone, the new one there once.  */
  ports[0].host_port = 9090;
  second = build (default_net, 1, ports, 1);
  apply_ok (fx, second);
  apply_ok (fx, second);
  free (text);
  text = list_skiff (fx);
  assert_null (strstr (text, "8080"));
  assert_non_null (strstr (text, "tcp dport 9090 dnat to 172.17.0.2:80"));
  assert_null (strstr (strstr (text, "9090") + 1, "9090"));

  /* Concurrent callers (skiffd's thread pool) are serialised.  */
  {
    struct applier a[4];
    pthread_t t[4];
    int i;

    for (i = 0; i < 4; i++)
      {
        a[i] = (struct applier) { fx->host_path, second, 0 };
        assert_int_equal (pthread_create (&t[i], NULL, apply_many, &a[i]), 0);
      }
    for (i = 0; i < 4; i++)
      {
        assert_int_equal (pthread_join (t[i], NULL), 0);
        assert_int_equal (a[i].failures, 0);
      }
  }
  free (text);
  text = list_skiff (fx);
  assert_non_null (strstr (text, "tcp dport 9090 dnat to 172.17.0.2:80"));

  /* A failing buffer changes nothing, and says why.  */
  assert_int_equal (nft_apply (fx->host_path,
                               "table ip skiff\ndelete table ip skiff\n"
                               "table ip skiff {\n\tchain c {\n\t\ttcp dport 1 bogus\n\t}\n}\n",
                               &err),
                    -1);
  assert_non_null (strstr (err->msg, "line 5:"));
  assert_non_null (strstr (err->msg, "tcp dport 1 bogus"));
  assert_non_null (strstr (err->msg, fx->host_path));
  skiff_error_release (&err);
  text2 = list_skiff (fx);
  assert_string_equal (text, text2);

  /* The other golden rulesets are accepted by nft as they are.  */
  many = build (many_nets, 4, default_ports, 3);
  apply_ok (fx, many);
  free (text2);
  text2 = list_skiff (fx);
  assert_non_null (strstr (text2, "iifname \"br-a\" oifname \"br-a\" drop"));
  assert_non_null (strstr (text2, "ip daddr 192.0.2.10 udp dport 5353 dnat to 172.17.0.3:53"));

  assert_int_equal (nft_table_delete (fx->host_path, "ip", "skiff", &err), 0);
  assert_false (table_exists (fx, "ip", "skiff"));
  /* A missing table: deleting is fine, listing is ENOENT.  */
  assert_int_equal (nft_table_delete (fx->host_path, "ip", "skiff", &err), 0);
  free (text2);
  assert_int_equal (nft_table_list (fx->host_path, "ip", "skiff", &text2, &err), -1);
  assert_null (text2);
  assert_int_equal (err->errno_, ENOENT);
  skiff_error_release (&err);

  /* The foreign table survived every replace and the delete.  */
  assert_true (table_exists (fx, "inet", "foreign"));
  assert_int_equal (nft_table_list (fx->host_path, "inet", "foreign", &text2, &err), 0);
  assert_non_null (strstr (text2, "tcp dport 22"));
}

static void
test_bad_netns (void **state)
{
  skiff_error_t err = NULL;

  if (geteuid () != 0)
    skip ();
  assert_int_equal (nft_apply ("/run/netns/skiff-nfttest-missing", "table ip x\n", &err), -1);
  assert_int_equal (err->errno_, ENOENT);
  skiff_error_release (&err);
  /* Not a network namespace.  */
  assert_int_equal (nft_table_delete ("/proc/self/ns/mnt", "ip", "x", &err), -1);
  assert_int_equal (err->errno_, EINVAL);
  skiff_error_release (&err);
}

/* Polls cmd until it exits 0 or the deadline passes.  */
static bool
poll_ok (int seconds, const char *cmd)
{
  struct timespec start, now, pause = { 0, 50 * 1000 * 1000 };

  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      if (sh ("%s", cmd) == 0)
        return true;
      clock_gettime (CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec >= seconds)
        return false;
      nanosleep (&pause, NULL);
    }
}

/* The HTTP body from url, fetched inside netns ns ("" on failure).  */
static char *
fetch (const char *ns, const char *url)
{
  cleanup_free char *cmd = NULL;
  char buf[256];
  size_t len;
  FILE *p;

  if (asprintf (&cmd, "ip netns exec %s curl -sf --noproxy '*' --connect-timeout 2 -m 4 %s 2>/dev/null", ns, url) < 0)
    fail_msg ("asprintf");
  p = popen (cmd, "r");
  assert_non_null (p);
  len = fread (buf, 1, sizeof (buf) - 1, p);
  buf[len] = '\0';
  pclose (p);
  return strdup (buf);
}

static void
expect_body (const char *ns, const char *url, const char *body)
{
  cleanup_free char *got = fetch (ns, url);

  if (strcmp (got, body) != 0)
    fail_msg ("GET %s from %s: got `%s`, want `%s`", url, ns, got, body);
}

/* outside (192.0.2.2) -- (192.0.2.1) host (172.31.250.1, "bridge" vbr)
   -- container (172.31.250.2, httpd on :80).  Port 8080 of the host is
   published to the container's port 80.  */
static void
test_published_port_traffic (void **state)
{
  struct ns_fixture *fx = *state;
  const struct nft_network net = { .bridge = "vbr", .subnet = "172.31.250.0/24",
                                   .masquerade = true, .icc = true };
  const struct nft_port port = { .proto = "tcp", .host_port = 8080,
                                 .container_ip = "172.31.250.2", .container_port = 80 };
  char token[64], file[128];
  cleanup_free char *ruleset = NULL;
  cleanup_free char *probe = NULL;
  skiff_error_t err = NULL;
  FILE *f;

  if (geteuid () != 0)
    skip ();

  must (sh ("ip netns add %s", fx->ctr), "ip netns add ctr");
  fx->made_ctr = true;
  must (sh ("ip netns add %s", fx->out), "ip netns add out");
  fx->made_out = true;
  must (sh ("ip -n %s link add vbr type veth peer name eth0 netns %s", fx->host, fx->ctr),
        "veth host-ctr");
  must (sh ("ip -n %s link add vout type veth peer name eth0 netns %s", fx->host, fx->out),
        "veth host-out");
  must (sh ("ip -n %1$s addr add 172.31.250.1/24 dev vbr && ip -n %1$s link set vbr up && "
            "ip -n %1$s addr add 192.0.2.1/24 dev vout && ip -n %1$s link set vout up && "
            "ip -n %1$s link set lo up",
            fx->host),
        "host addresses");
  must (sh ("ip -n %1$s addr add 172.31.250.2/24 dev eth0 && ip -n %1$s link set eth0 up && "
            "ip -n %1$s link set lo up && ip -n %1$s route add default via 172.31.250.1",
            fx->ctr),
        "container addresses");
  /* The outside has no route to the container subnet: only NAT helps it.  */
  must (sh ("ip -n %1$s addr add 192.0.2.2/24 dev eth0 && ip -n %1$s link set eth0 up",
            fx->out),
        "outside addresses");
  /* The daemon's sysctls, here for the test's own "host".  */
  must (sh ("ip netns exec %s sysctl -w net.ipv4.ip_forward=1 "
            "net.ipv4.conf.vbr.route_localnet=1",
            fx->host),
        "sysctl");

  snprintf (fx->www, sizeof (fx->www), "/tmp/skiff-nfttest-www-XXXXXX");
  assert_non_null (mkdtemp (fx->www));
  snprintf (token, sizeof (token), "skiff-nft-%d-%ld", (int) getpid (), (long) time (NULL));
  snprintf (file, sizeof (file), "%s/t", fx->www);
  f = fopen (file, "w");
  assert_non_null (f);
  fputs (token, f);
  assert_int_equal (fclose (f), 0);
  assert_int_equal (chmod (fx->www, 0755), 0);

  fx->httpd = fork ();
  assert_true (fx->httpd >= 0);
  if (fx->httpd == 0)
    {
      execlp ("ip", "ip", "netns", "exec", fx->ctr, "busybox", "httpd", "-f", "-p", "80", "-h",
              fx->www, (char *) NULL);
      _exit (127);
    }
  if (asprintf (&probe, "ip netns exec %s curl -sf --noproxy '*' -m 1 -o /dev/null http://127.0.0.1/t",
                fx->ctr)
      < 0)
    fail_msg ("asprintf");
  if (! poll_ok (10, probe))
    fail_msg ("httpd in %s did not answer", fx->ctr);

  /* Without skiff's table nothing listens on the host's 8080.  */
  expect_body (fx->out, "http://192.0.2.1:8080/t", "");
  expect_body (fx->host, "http://127.0.0.1:8080/t", "");

  if (nft_ruleset_skiff (&net, 1, &port, 1, &ruleset, &err) < 0)
    fail_msg ("nft_ruleset_skiff: %s", err->msg);
  apply_ok (fx, ruleset);

  /* From outside (prerouting DNAT; replies un-NATed).  */
  expect_body (fx->out, "http://192.0.2.1:8080/t", token);
  /* From the host itself, on an address of its own and on loopback
     (output DNAT; 127.0.0.1 masqueraded on the bridge).  */
  expect_body (fx->host, "http://192.0.2.1:8080/t", token);
  expect_body (fx->host, "http://127.0.0.1:8080/t", token);
  /* From the container to its own published port (hairpin masquerade).  */
  expect_body (fx->ctr, "http://192.0.2.1:8080/t", token);
  /* Leaving the host, the container is masqueraded: the outside has no
     route back to 172.31.250.0/24, yet the ping is answered.  */
  must (sh ("ip netns exec %s busybox ping -c 1 -W 2 192.0.2.2", fx->ctr), "ping out");

  /* Given a route, the outside still reaches the container only through
     the published port: new forwarded traffic into the bridge is dropped
     unless it was DNAT'ed.  */
  must (sh ("ip -n %s route add 172.31.250.0/24 via 192.0.2.1", fx->out), "route");
  expect_body (fx->out, "http://172.31.250.2/t", "");

  /* Applying again keeps it working; deleting the table ends it (and the
     direct path opens, which shows it was the table that closed it).  */
  apply_ok (fx, ruleset);
  expect_body (fx->out, "http://192.0.2.1:8080/t", token);
  assert_int_equal (nft_table_delete (fx->host_path, "ip", "skiff", &err), 0);
  expect_body (fx->out, "http://192.0.2.1:8080/t", "");
  expect_body (fx->out, "http://172.31.250.2/t", token);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ruleset_empty),
    cmocka_unit_test (test_ruleset_default_bridge),
    cmocka_unit_test (test_ruleset_isolation_internal),
    cmocka_unit_test (test_ruleset_subnet_canonical),
    cmocka_unit_test (test_ruleset_invalid_networks),
    cmocka_unit_test (test_ruleset_invalid_ports),
    cmocka_unit_test (test_table_name_invalid),
    cmocka_unit_test_setup_teardown (test_apply_replace_delete, ns_setup, ns_teardown),
    cmocka_unit_test (test_bad_netns),
    cmocka_unit_test_setup_teardown (test_published_port_traffic, ns_setup, ns_teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
