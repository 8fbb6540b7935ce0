/* Unit tests for daemon/oci_spec.c and its pieces: Docker Config and
   HostConfig in, Docker 20.10's config.json out.  Every generated config
   is checked with the runtime's own parser (spec_parse, with its file
   checks) and its seccomp part with syscall_filter_build.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "fs.h"
#include "json.h"
#include "oci_spec.h"
#include "seccomp_profile.h"
#include "spec.h"
#include "syscall_filter.h"

#ifndef SKIFF_SRCDIR
#define SKIFF_SRCDIR "."
#endif
#define SECCOMP_DEFAULT SKIFF_SRCDIR "/data/seccomp-default.json"
#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DEFAULT_CAPEFF_MASK "00000000a80425fb"

/* ---- fixture: a bundle directory with a small rootfs ---- */

struct fx
{
  char *dir, *rootfs, *seccomp_path;
};

static void
write_file (const char *dir, const char *name, const char *content)
{
  cleanup_free char *p = NULL;
  FILE *f;
  assert_true (asprintf (&p, "%s/%s", dir, name) > 0);
  f = fopen (p, "w");
  assert_non_null (f);
  assert_true (fputs (content, f) >= 0);
  assert_int_equal (fclose (f), 0);
}

static int
setup (void **state)
{
  struct fx *f = calloc (1, sizeof (*f));
  cleanup_free char *etc = NULL;

  if (f == NULL)
    return -1;
  f->dir = strdup ("/tmp/skiff-test-oci-XXXXXX");
  if (f->dir == NULL || mkdtemp (f->dir) == NULL)
    return -1;
  if (asprintf (&f->rootfs, "%s/rootfs", f->dir) < 0 || mkdir (f->rootfs, 0755) < 0)
    return -1;
  if (asprintf (&etc, "%s/etc", f->rootfs) < 0 || mkdir (etc, 0755) < 0)
    return -1;
  write_file (etc, "passwd",
              "root:x:0:0:root:/root:/bin/sh\n"
              "tester:x:1000:1000:tester:/home/tester:/bin/sh\n"
              "\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
              "dup:x:1001:1001::/:/bin/sh\n"
              "dup:x:1002:1002::/:/bin/sh\n");
  write_file (etc, "group",
              "root:x:0:\n"
              "# a comment\n"
              "wheel:x:10:root,tester\n"
              "tester:x:1000:\n"
              "audio:x:29:tester\n"
              "nogroup:x:65534:\n");
  f->seccomp_path = strdup (SECCOMP_DEFAULT);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fx *f = *state;
  skiff_error_t err = NULL;
  int ret = fs_remove_tree (f->dir, &err) < 0 ? -1 : 0;
  skiff_error_release (&err);
  free (f->dir);
  free (f->rootfs);
  free (f->seccomp_path);
  free (f);
  return ret;
}

/* ---- helpers ---- */

struct result
{
  char *text;
  yajl_val tree;
  struct spec *spec;
};

static void
result_release (struct result *r)
{
  free (r->text);
  if (r->tree)
    yajl_tree_free (r->tree);
  spec_free (r->spec);
}
#define cleanup_result __attribute__ ((cleanup (result_release)))

static int
build_raw (struct fx *f, const char *config, const char *host_config, const char *netns, char **out, skiff_error_t *err)
{
  cleanup_json yajl_val c = NULL, h = NULL;
  struct oci_spec_input in = {
    .id = ID,
    .rootfs = f->rootfs,
    .netns_path = netns,
    .hosts_path = "/etc/hosts",
    .hostname_path = NULL,
    .resolv_conf_path = "/etc/resolv.conf",
    .seccomp_default_path = f->seccomp_path,
    .init_path = "/bin/sh", /* any existing file */
  };

  if (json_parse (config, &c, err) < 0 || json_parse (host_config ? host_config : "{}", &h, err) < 0)
    fail_msg ("test JSON: %s", (*err)->msg);
  in.config = c;
  in.host_config = h;
  return oci_spec_build (&in, out, err);
}

/* Builds, parses with the runtime's parser and builds the seccomp filter.  */
static struct result
build_ok (struct fx *f, const char *config, const char *host_config, const char *netns)
{
  struct result r = { 0 };
  skiff_error_t err = NULL;

  if (build_raw (f, config, host_config, netns, &r.text, &err) < 0)
    fail_msg ("oci_spec_build failed: %s\nConfig: %s\nHostConfig: %s", err->msg, config, host_config);
  if (json_parse (r.text, &r.tree, &err) < 0)
    fail_msg ("output is not JSON: %s", err->msg);
  if (spec_parse (r.text, f->dir, &r.spec, &err) < 0)
    fail_msg ("spec_parse rejects the output: %s\n%s", err->msg, r.text);
  if (r.spec->seccomp)
    {
      void *filter = NULL;
      if (syscall_filter_build (r.spec->seccomp, &filter, &err) < 0)
        fail_msg ("syscall_filter_build rejects the output: %s", err->msg);
      syscall_filter_free (filter);
    }
  return r;
}

static void
build_fails (struct fx *f, const char *config, const char *host_config, const char *want)
{
  skiff_error_t err = NULL;
  cleanup_free char *out = NULL;

  if (build_raw (f, config, host_config, NULL, &out, &err) == 0)
    fail_msg ("accepted, want error `%s`: Config %s HostConfig %s", want, config, host_config);
  assert_null (out);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("error `%s` does not contain `%s`", err->msg, want);
  skiff_error_release (&err);
}

static yajl_val
get_path (yajl_val v, const char **path)
{
  return yajl_tree_get (v, path, yajl_t_any);
}
/* get (tree, "a", "b", ...): the value at that path, or NULL.  */
#define get(v, ...) get_path ((v), (const char *[]){ __VA_ARGS__, NULL })

/* The string value v, failing the test when it is not one.  */
static const char *
sval (yajl_val v)
{
  if (v == NULL || !YAJL_IS_STRING (v))
    fail_msg ("expected a string value");
  return v->u.string;
}

static bool
array_has_str (yajl_val arr, const char *s)
{
  size_t i;
  if (arr == NULL || !YAJL_IS_ARRAY (arr))
    return false;
  for (i = 0; i < arr->u.array.len; i++)
    if (YAJL_IS_STRING (arr->u.array.values[i]) && strcmp (arr->u.array.values[i]->u.string, s) == 0)
      return true;
  return false;
}

static size_t
array_len (yajl_val arr)
{
  return arr && YAJL_IS_ARRAY (arr) ? arr->u.array.len : 0;
}

static const char *
str_at (yajl_val arr, size_t i)
{
  assert_true (i < array_len (arr));
  return sval (arr->u.array.values[i]);
}

static yajl_val
find_mount (yajl_val tree, const char *dest)
{
  yajl_val mounts = get (tree, "mounts", NULL, NULL, NULL);
  size_t i;
  for (i = 0; i < array_len (mounts); i++)
    {
      yajl_val m = mounts->u.array.values[i];
      if (strcmp (sval (get (m, "destination", NULL, NULL, NULL)), dest) == 0)
        return m;
    }
  return NULL;
}

static long long
int_at (yajl_val v, const char *a, const char *b, const char *c, const char *d)
{
  yajl_val x = get (v, a, b, c, d);
  if (x == NULL || !YAJL_IS_INTEGER (x))
    fail_msg ("no integer at %s.%s.%s.%s", a, b ? b : "", c ? c : "", d ? d : "");
  return YAJL_GET_INTEGER (x);
}

/* Does any seccomp rule list this syscall name?  */
static bool
seccomp_has (yajl_val tree, const char *name)
{
  yajl_val rules = get (tree, "linux", "seccomp", "syscalls", NULL);
  size_t i;
  for (i = 0; i < array_len (rules); i++)
    if (array_has_str (get (rules->u.array.values[i], "names", NULL, NULL, NULL), name))
      return true;
  return false;
}

/* The libcap bitmask of a capability set in the parsed spec.  */
static unsigned long long
cap_mask (const struct spec_capset *set)
{
  unsigned long long m = 0;
  size_t i;
  for (i = 0; i < set->n; i++)
    m |= 1ULL << set->caps[i];
  return m;
}

static int
last_cap (void)
{
  FILE *f = fopen ("/proc/sys/kernel/cap_last_cap", "r");
  int v = -1;
  assert_non_null (f);
  assert_int_equal (fscanf (f, "%d", &v), 1);
  fclose (f);
  return v;
}

/* Capabilities in our bounding set: what "all" means for a container
   (a sandbox may hold fewer than the kernel knows).  */
static int
bounding_count (void)
{
  int v, n = 0;
  for (v = 0; v <= last_cap (); v++)
    if (prctl (PR_CAPBSET_READ, v, 0, 0, 0) == 1)
      n++;
  return n;
}

/* ---- tests ---- */

static void
test_defaults (void **state)
{
  struct fx *f = *state;
  cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"],\"Env\":[\"FOO=bar\"]}", "{}", "/proc/self/ns/net");
  yajl_val t = r.tree, env = get (t, "process", "env", NULL, NULL), ns = get (t, "linux", "namespaces", NULL, NULL);
  static const char *const order[] = { "/proc",        "/dev",     "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                                       "/dev/shm",     "/etc/resolv.conf", "/etc/hosts" };
  yajl_val mounts = get (t, "mounts", NULL, NULL, NULL);
  size_t i;

  assert_string_equal (sval (get (t, "ociVersion", NULL, NULL, NULL)), "1.0.2-dev");
  assert_false (YAJL_IS_TRUE (get (t, "process", "terminal", NULL, NULL)));
  assert_string_equal (str_at (get (t, "process", "args", NULL, NULL), 0), "sh");
  assert_string_equal (str_at (env, 0), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  assert_string_equal (str_at (env, 1), "HOSTNAME=0123456789ab");
  assert_string_equal (str_at (env, 2), "FOO=bar");
  assert_int_equal (array_len (env), 3);
  assert_string_equal (sval (get (t, "process", "cwd", NULL, NULL)), "/");
  assert_string_equal (sval (get (t, "hostname", NULL, NULL, NULL)), "0123456789ab");
  assert_int_equal (int_at (t, "process", "oomScoreAdj", NULL, NULL), 0);
  assert_null (get (t, "process", "noNewPrivileges", NULL, NULL));
  assert_null (get (t, "process", "apparmorProfile", NULL, NULL));
  assert_null (get (t, "process", "capabilities", "inheritable", NULL));
  assert_null (get (t, "process", "capabilities", "ambient", NULL));

  /* Docker's 14 capabilities: the mask a container shows as CapEff.  */
  assert_int_equal (r.spec->process->caps.bounding.n, 14);
  assert_true (cap_mask (&r.spec->process->caps.effective) == strtoull (DEFAULT_CAPEFF_MASK, NULL, 16));
  assert_true (cap_mask (&r.spec->process->caps.permitted) == strtoull (DEFAULT_CAPEFF_MASK, NULL, 16));
  assert_true (cap_mask (&r.spec->process->caps.bounding) == strtoull (DEFAULT_CAPEFF_MASK, NULL, 16));

  assert_int_equal (array_len (mounts), sizeof (order) / sizeof (order[0]));
  for (i = 0; i < sizeof (order) / sizeof (order[0]); i++)
    assert_string_equal (sval (get (mounts->u.array.values[i], "destination", NULL, NULL)), order[i]);
  assert_true (array_has_str (get (find_mount (t, "/sys"), "options", NULL, NULL), "ro"));
  assert_true (array_has_str (get (find_mount (t, "/dev/shm"), "options", NULL, NULL), "size=67108864"));
  assert_true (array_has_str (get (find_mount (t, "/dev/pts"), "options", NULL, NULL), "gid=5"));
  assert_true (array_has_str (get (find_mount (t, "/etc/hosts"), "options", NULL, NULL), "rbind"));
  assert_true (array_has_str (get (find_mount (t, "/etc/hosts"), "options", NULL, NULL), "rprivate"));
  assert_false (array_has_str (get (find_mount (t, "/etc/hosts"), "options", NULL, NULL), "ro"));

  assert_string_equal (sval (get (t, "linux", "cgroupsPath", NULL, NULL)), "/skiff/" ID);
  assert_int_equal (r.spec->n_namespaces, array_len (ns));
  assert_true (spec_has_namespace (r.spec, CLONE_NEWPID, NULL));
  assert_true (spec_has_namespace (r.spec, CLONE_NEWIPC, NULL));
  assert_true (spec_has_namespace (r.spec, CLONE_NEWUTS, NULL));
  assert_true (spec_has_namespace (r.spec, CLONE_NEWNS, NULL));
  {
    const char *path = NULL;
    assert_true (spec_has_namespace (r.spec, CLONE_NEWNET, &path));
    assert_string_equal (path, "/proc/self/ns/net");
  }
  assert_int_equal (r.spec->n_masked_paths, 10);
  assert_int_equal (r.spec->n_readonly_paths, 5);
  /* deny all, then the 6 allowed devices and the denied tun */
  assert_int_equal (r.spec->resources.n_devices, 8);
  assert_false (r.spec->resources.devices[0].allow);
  assert_int_equal (r.spec->resources.devices[0].type, 'a');
  assert_true (r.spec->resources.devices[1].allow);
  assert_int_equal (r.spec->resources.devices[1].major, 1);
  assert_int_equal (r.spec->resources.devices[1].minor, 5);
  assert_false (r.spec->resources.has_memory_limit);
  assert_false (r.spec->resources.has_pids_limit);
  /* default profile: native architectures and EPERM by default */
  assert_non_null (r.spec->seccomp);
  assert_string_equal (sval (get (t, "linux", "seccomp", "defaultAction", NULL)), "SCMP_ACT_ERRNO");
#if defined(__x86_64__)
  assert_true (array_has_str (get (t, "linux", "seccomp", "architectures", NULL), "SCMP_ARCH_X86_64"));
  assert_true (array_has_str (get (t, "linux", "seccomp", "architectures", NULL), "SCMP_ARCH_X86"));
  assert_true (array_has_str (get (t, "linux", "seccomp", "architectures", NULL), "SCMP_ARCH_X32"));
  assert_true (seccomp_has (t, "arch_prctl"));
#endif
  assert_true (seccomp_has (t, "read"));
  assert_false (seccomp_has (t, "mount"));
  assert_false (seccomp_has (t, "bpf"));
  assert_false (seccomp_has (t, "s390_pci_mmio_read"));
  /* Docker's private-netns sysctls, when the kernel has them */
  if (access ("/proc/sys/net/ipv4/ip_unprivileged_port_start", F_OK) == 0)
    assert_string_equal (sval (get (t, "linux", "sysctl", "net.ipv4.ip_unprivileged_port_start", NULL)), "0");
}

static void
test_host_network (void **state)
{
  struct fx *f = *state;
  cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"],\"Hostname\":\"web\",\"Domainname\":\"example.org\"}",
                                             "{\"Sysctls\":{\"kernel.msgmax\":\"65536\"}}", NULL);
  assert_false (spec_has_namespace (r.spec, CLONE_NEWNET, NULL));
  assert_string_equal (sval (get (r.tree, "hostname", NULL, NULL, NULL)), "web");
  assert_string_equal (str_at (get (r.tree, "process", "env", NULL, NULL), 1), "HOSTNAME=web");
  assert_string_equal (sval (get (r.tree, "linux", "sysctl", "kernel.domainname", NULL)), "example.org");
  assert_string_equal (sval (get (r.tree, "linux", "sysctl", "kernel.msgmax", NULL)), "65536");
  assert_null (get (r.tree, "linux", "sysctl", "net.ipv4.ip_unprivileged_port_start", NULL));
}

static void
test_cap_add_drop (void **state)
{
  struct fx *f = *state;
  {
    cleanup_result struct result r
        = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"CapAdd\":[\"sys_admin\",\"CAP_NET_ADMIN\"],\"CapDrop\":[\"Chown\",\"CAP_NET_RAW\"]}", NULL);
    yajl_val b = get (r.tree, "process", "capabilities", "bounding", NULL);
    assert_int_equal (array_len (b), 14);
    assert_true (array_has_str (b, "CAP_SYS_ADMIN"));
    assert_true (array_has_str (b, "CAP_NET_ADMIN"));
    assert_false (array_has_str (b, "CAP_CHOWN"));
    assert_false (array_has_str (b, "CAP_NET_RAW"));
    /* the additions come last, in order, as in Docker */
    assert_string_equal (str_at (b, 12), "CAP_SYS_ADMIN");
    assert_string_equal (str_at (b, 13), "CAP_NET_ADMIN");
  }
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"kill\"]}", NULL);
    yajl_val b = get (r.tree, "process", "capabilities", "bounding", NULL);
    assert_int_equal (array_len (b), 1);
    assert_string_equal (str_at (b, 0), "CAP_KILL");
  }
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"CapDrop\":[\"all\"]}", NULL);
    assert_int_equal (array_len (get (r.tree, "process", "capabilities", "bounding", NULL)), 0);
  }
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"CapAdd\":[\"ALL\"],\"CapDrop\":[\"sys_module\"]}", NULL);
    yajl_val b = get (r.tree, "process", "capabilities", "bounding", NULL);
    assert_int_equal (array_len (b), bounding_count () - (prctl (PR_CAPBSET_READ, CAP_SYS_MODULE, 0, 0, 0) == 1));
    assert_false (array_has_str (b, "CAP_SYS_MODULE"));
    assert_true (array_has_str (b, "CAP_SYS_ADMIN"));
  }
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"CapAdd\":[\"CAP_FOO\"]}", "unknown capability: \"CAP_FOO\"");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"CapDrop\":[\"bogus\"]}", "unknown capability: \"CAP_BOGUS\"");
}

static void
test_privileged (void **state)
{
  struct fx *f = *state;
  cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"Privileged\":true}", "/proc/self/ns/net");
  yajl_val t = r.tree, devs = get (t, "linux", "devices", NULL, NULL);
  size_t i;
  bool has_null = false;

  assert_int_equal (r.spec->process->caps.bounding.n, bounding_count ());
  assert_int_equal (r.spec->process->caps.effective.n, bounding_count ());
  assert_null (r.spec->seccomp);
  assert_int_equal (r.spec->n_masked_paths, 0);
  assert_int_equal (r.spec->n_readonly_paths, 0);
  assert_false (array_has_str (get (find_mount (t, "/sys"), "options", NULL, NULL), "ro"));
  assert_false (array_has_str (get (find_mount (t, "/sys/fs/cgroup"), "options", NULL, NULL), "ro"));
  assert_int_equal (r.spec->resources.n_devices, 1);
  assert_true (r.spec->resources.devices[0].allow);
  assert_int_equal (r.spec->resources.devices[0].type, 'a');
  assert_true (array_len (devs) > 0);
  for (i = 0; i < r.spec->n_devices; i++)
    if (strcmp (r.spec->devices[i].path, "/dev/null") == 0)
      {
        has_null = true;
        assert_int_equal (r.spec->devices[i].type, 'c');
        assert_int_equal (r.spec->devices[i].major, 1);
        assert_int_equal (r.spec->devices[i].minor, 3);
      }
  assert_true (has_null);
}

static void
check_user (struct fx *f, const char *user, const char *group_add, long uid, long gid, const long *gids, size_t n_gids)
{
  cleanup_free char *cfg = NULL, *hc = NULL;
  size_t i;

  assert_true (asprintf (&cfg, "{\"Cmd\":[\"id\"],\"User\":\"%s\"}", user) > 0);
  assert_true (asprintf (&hc, "{\"GroupAdd\":%s}", group_add ? group_add : "null") > 0);
  {
    cleanup_result struct result r = build_ok (f, cfg, hc, NULL);
    if (r.spec->process->uid != (uid_t) uid || r.spec->process->gid != (gid_t) gid)
      fail_msg ("user `%s`: got %u:%u, want %ld:%ld", user, r.spec->process->uid, r.spec->process->gid, uid, gid);
    if (r.spec->process->n_additional_gids != n_gids)
      fail_msg ("user `%s`: %zu additional gids, want %zu", user, r.spec->process->n_additional_gids, n_gids);
    for (i = 0; i < n_gids; i++)
      assert_int_equal (r.spec->process->additional_gids[i], gids[i]);
    /* a non-root user keeps the bounding set only */
    assert_int_equal (r.spec->process->caps.bounding.n, 14);
    assert_int_equal (r.spec->process->caps.effective.n, uid == 0 ? 14 : 0);
    assert_int_equal (r.spec->process->caps.permitted.n, uid == 0 ? 14 : 0);
  }
}

static void
test_user (void **state)
{
  struct fx *f = *state;
  static const long root[] = { 0, 10 }, tester[] = { 1000, 10, 29 }, nobody[] = { 65534 }, t_wheel[] = { 10 },
                    num[] = { 0 }, num_gid[] = { 7 }, added[] = { 0, 10, 29, 4321, 10 }, dup[] = { 1001 };

  check_user (f, "", NULL, 0, 0, root, 2);
  check_user (f, "root", NULL, 0, 0, root, 2);
  check_user (f, "tester", NULL, 1000, 1000, tester, 3);
  check_user (f, "1000", NULL, 1000, 1000, tester, 3);
  check_user (f, "nobody", NULL, 65534, 65534, nobody, 1);
  check_user (f, "tester:wheel", NULL, 1000, 10, t_wheel, 1);
  check_user (f, "4242", NULL, 4242, 0, num, 1);
  check_user (f, "4242:7", NULL, 4242, 7, num_gid, 1);
  check_user (f, "dup", NULL, 1001, 1001, dup, 1); /* first entry wins */
  /* as Docker: GroupAdd follows the member groups, duplicates removed
     only among themselves */
  check_user (f, "root", "[\"audio\",\"4321\",\"wheel\",\"29\"]", 0, 0, added, 5);

  build_fails (f, "{\"Cmd\":[\"id\"],\"User\":\"missing\"}", "{}", "unable to find user missing: no matching entries in passwd file");
  build_fails (f, "{\"Cmd\":[\"id\"],\"User\":\"tester:nogroupx\"}", "{}",
               "unable to find group nogroupx: no matching entries in group file");
  build_fails (f, "{\"Cmd\":[\"id\"],\"User\":\"-5\"}", "{}", "uids and gids must be in range 0-2147483647");
  build_fails (f, "{\"Cmd\":[\"id\"]}", "{\"GroupAdd\":[\"nosuchgroup\"]}",
               "Unable to find group nosuchgroup: no matching entries in group file");
}

static void
test_user_without_passwd (void **state)
{
  struct fx *f = *state;
  cleanup_free char *p = NULL, *g = NULL;
  static const long zero[] = { 0 }, num[] = { 5 };

  assert_true (asprintf (&p, "%s/etc/passwd", f->rootfs) > 0);
  assert_true (asprintf (&g, "%s/etc/group", f->rootfs) > 0);
  assert_int_equal (unlink (p), 0);
  assert_int_equal (unlink (g), 0);
  check_user (f, "", NULL, 0, 0, zero, 1);
  check_user (f, "1000:5", NULL, 1000, 5, num, 1);
  build_fails (f, "{\"Cmd\":[\"id\"],\"User\":\"tester\"}", "{}", "unable to find user tester: no matching entries in passwd file");
}

static void
test_user_symlink_stays_in_rootfs (void **state)
{
  struct fx *f = *state;
  cleanup_free char *p = NULL;
  static const long zero[] = { 0, 10 };

  /* An absolute symlink is resolved inside the rootfs: on the host,
     /etc/passwd.real does not exist and "root" would not be found.  */
  assert_true (asprintf (&p, "%s/etc/passwd", f->rootfs) > 0);
  {
    cleanup_free char *real = NULL;
    assert_true (asprintf (&real, "%s/etc/passwd.real", f->rootfs) > 0);
    assert_int_equal (rename (p, real), 0);
    assert_int_equal (symlink ("/etc/passwd.real", p), 0);
  }
  check_user (f, "root", NULL, 0, 0, zero, 2);
  build_fails (f, "{\"Cmd\":[\"id\"],\"User\":\"daemon\"}", "{}", "unable to find user daemon");
}

static void
test_env_cmd_entrypoint_workdir (void **state)
{
  struct fx *f = *state;
  {
    cleanup_result struct result r = build_ok (
        f, "{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"Tty\":true,\"WorkingDir\":\"/srv/app/../data/\","
           "\"Env\":[\"PATH=/opt/bin\",\"HOSTNAME\",\"A=1\",\"TERM=vt100\"]}",
        "{}", NULL);
    yajl_val args = get (r.tree, "process", "args", NULL, NULL), env = get (r.tree, "process", "env", NULL, NULL);
    cleanup_free char *dir = NULL;
    struct stat st;

    assert_int_equal (array_len (args), 3);
    assert_string_equal (str_at (args, 0), "/bin/sh");
    assert_string_equal (str_at (args, 1), "-c");
    assert_string_equal (str_at (args, 2), "echo hi");
    assert_true (YAJL_IS_TRUE (get (r.tree, "process", "terminal", NULL, NULL)));
    /* PATH and TERM replaced in place, HOSTNAME unset, the rest appended */
    assert_int_equal (array_len (env), 3);
    assert_string_equal (str_at (env, 0), "PATH=/opt/bin");
    assert_string_equal (str_at (env, 1), "TERM=vt100");
    assert_string_equal (str_at (env, 2), "A=1");
    assert_string_equal (sval (get (r.tree, "process", "cwd", NULL, NULL)), "/srv/data");
    assert_true (asprintf (&dir, "%s/srv/data", f->rootfs) > 0);
    assert_int_equal (stat (dir, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
  }
  {
    /* Entrypoint as a plain string (a Docker strslice), no Cmd; TERM with a tty */
    cleanup_result struct result r = build_ok (f, "{\"Entrypoint\":\"/bin/true\",\"Tty\":true}", "{}", NULL);
    assert_int_equal (array_len (get (r.tree, "process", "args", NULL, NULL)), 1);
    assert_true (array_has_str (get (r.tree, "process", "env", NULL, NULL), "TERM=xterm"));
  }
  build_fails (f, "{\"Cmd\":[]}", "{}", "No command specified");
  build_fails (f, "{\"Entrypoint\":null,\"Cmd\":null}", "{}", "No command specified");
  build_fails (f, "{\"Cmd\":[\"sh\"],\"WorkingDir\":\"rel\"}", "{}", "needs to be an absolute path");
  write_file (f->rootfs, "afile", "x");
  build_fails (f, "{\"Cmd\":[\"sh\"],\"WorkingDir\":\"/afile/sub\"}", "{}", "Cannot mkdir: /afile/sub is not a directory");
}

static void
test_resources (void **state)
{
  struct fx *f = *state;
  {
    cleanup_result struct result r = build_ok (
        f, "{\"Cmd\":[\"sh\"]}",
        "{\"Memory\":67108864,\"MemoryReservation\":33554432,\"NanoCpus\":1500000000,\"PidsLimit\":100,\"CpuShares\":512,"
        "\"CpusetCpus\":\"0\",\"MemorySwappiness\":-1}",
        NULL);
    const struct spec_resources *res = &r.spec->resources;
    assert_true (res->has_memory_limit);
    assert_int_equal (res->memory_limit, 67108864);
    assert_true (res->has_memory_swap);
    assert_int_equal (res->memory_swap, 2 * 67108864); /* Docker's default: twice the memory */
    assert_int_equal (res->memory_reservation, 33554432);
    assert_false (res->has_memory_swappiness);
    assert_int_equal (res->cpu_period, 100000);
    assert_int_equal (res->cpu_quota, 150000);
    assert_int_equal (res->cpu_shares, 512);
    assert_string_equal (res->cpuset_cpus, "0");
    assert_true (res->has_pids_limit);
    assert_int_equal (res->pids_limit, 100);
  }
  {
    cleanup_result struct result r = build_ok (
        f, "{\"Cmd\":[\"sh\"]}", "{\"Memory\":67108864,\"MemorySwap\":-1,\"CpuPeriod\":50000,\"CpuQuota\":25000,\"PidsLimit\":0}",
        NULL);
    const struct spec_resources *res = &r.spec->resources;
    assert_int_equal (res->memory_swap, -1);
    assert_int_equal (res->cpu_period, 50000);
    assert_int_equal (res->cpu_quota, 25000);
    assert_int_equal (res->pids_limit, -1);
  }
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"Memory\":67108864,\"MemorySwap\":100663296,\"PidsLimit\":-3}", NULL);
    assert_int_equal (r.spec->resources.memory_swap, 100663296);
    assert_int_equal (r.spec->resources.pids_limit, -1);
  }
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Memory\":1048576}", "Minimum memory limit allowed is 6MB");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Memory\":67108864,\"MemorySwap\":33554432}",
               "Minimum memoryswap limit should be larger than memory limit");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"MemorySwap\":67108864}", "You should always set the Memory limit");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"NanoCpus\":1000000000,\"CpuQuota\":50000}", "Conflicting options: Nano CPUs and CPU Quota");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"NanoCpus\":100000000000000}", "Range of CPUs is from 0.01");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"MemorySwappiness\":101}", "valid memory swappiness range is 0-100");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"CpuPeriod\":10}", "CPU cfs period can not be less than 1ms");
}

static void
test_shm_ipc_ulimits (void **state)
{
  struct fx *f = *state;
  {
    cleanup_result struct result r = build_ok (
        f, "{\"Cmd\":[\"sh\"]}",
        "{\"ShmSize\":1048576,\"OomScoreAdj\":500,\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":2048},"
        "{\"Name\":\"core\",\"Soft\":-1,\"Hard\":-1}]}",
        NULL);
    yajl_val shm = get (find_mount (r.tree, "/dev/shm"), "options", NULL, NULL);
    assert_string_equal (str_at (shm, array_len (shm) - 1), "size=1048576");
    assert_int_equal (r.spec->process->oom_score_adj, 500);
    assert_int_equal (r.spec->process->n_rlimits, 2);
    assert_int_equal (r.spec->process->rlimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal (r.spec->process->rlimits[0].soft, 1024);
    assert_int_equal (r.spec->process->rlimits[0].hard, 2048);
    assert_true (r.spec->process->rlimits[1].soft == UINT64_MAX);
  }
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"IpcMode\":\"none\"}", NULL);
    assert_null (find_mount (r.tree, "/dev/shm"));
    assert_true (spec_has_namespace (r.spec, CLONE_NEWIPC, NULL));
  }
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"IpcMode\":\"host\",\"PidMode\":\"host\",\"UTSMode\":\"host\"}", NULL);
    assert_false (spec_has_namespace (r.spec, CLONE_NEWIPC, NULL));
    assert_false (spec_has_namespace (r.spec, CLONE_NEWPID, NULL));
    assert_false (spec_has_namespace (r.spec, CLONE_NEWUTS, NULL));
    assert_null (r.spec->hostname);
  }
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Ulimits\":[{\"Name\":\"bogus\",\"Soft\":1,\"Hard\":1}]}", "invalid ulimit type: bogus");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"OomScoreAdj\":2000}", "range for oom score adj is [-1000, 1000]");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"IpcMode\":\"weird\"}", "Invalid IPC mode: weird");
}

static void
test_readonly_rootfs (void **state)
{
  struct fx *f = *state;
  cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"ReadonlyRootfs\":true,\"Tmpfs\":{\"/run\":\"\"}}", NULL);
  yajl_val t = r.tree;

  assert_true (r.spec->root_readonly);
  assert_true (array_has_str (get (find_mount (t, "/sys/fs/cgroup"), "options", NULL, NULL), "ro"));
  assert_true (array_has_str (get (find_mount (t, "/etc/hosts"), "options", NULL, NULL), "ro"));
  assert_true (array_has_str (get (find_mount (t, "/etc/resolv.conf"), "options", NULL, NULL), "ro"));
  assert_false (array_has_str (get (find_mount (t, "/proc"), "options", NULL, NULL), "ro"));
  assert_false (array_has_str (get (find_mount (t, "/dev/shm"), "options", NULL, NULL), "ro"));
  assert_false (array_has_str (get (find_mount (t, "/dev"), "options", NULL, NULL), "ro"));
  assert_false (array_has_str (get (find_mount (t, "/run"), "options", NULL, NULL), "ro"));
}

static void
test_binds_and_tmpfs (void **state)
{
  struct fx *f = *state;
  cleanup_free char *hc = NULL, *src_ro = NULL, *src_new = NULL;
  struct stat st;

  assert_true (asprintf (&src_ro, "%s/data", f->dir) > 0);
  assert_int_equal (mkdir (src_ro, 0755), 0);
  assert_true (asprintf (&src_new, "%s/created/by/docker", f->dir) > 0);
  assert_true (asprintf (&hc,
                         "{\"Binds\":[\"%s:/srv/a/b:ro\",\"%s/:/data:rshared\",\"%s:/x\"],"
                         "\"Tmpfs\":{\"/run\":\"size=1m,exec\",\"/x\":\"\"}}",
                         src_ro, src_ro, src_new)
               > 0);
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", hc, NULL);
    yajl_val t = r.tree, m = find_mount (t, "/srv/a/b"), mounts = get (t, "mounts", NULL, NULL, NULL);
    yajl_val run = get (find_mount (t, "/run"), "options", NULL, NULL);
    size_t i, idx_run = 0, idx_ab = 0;

    assert_non_null (m);
    assert_string_equal (sval (get (m, "type", NULL, NULL, NULL)), "bind");
    assert_string_equal (sval (get (m, "source", NULL, NULL, NULL)), src_ro);
    assert_string_equal (str_at (get (m, "options", NULL, NULL), 0), "rbind");
    assert_string_equal (str_at (get (m, "options", NULL, NULL), 1), "ro");
    assert_string_equal (str_at (get (m, "options", NULL, NULL), 2), "rprivate");
    /* the trailing slash is cleaned; rshared sets the root propagation */
    assert_string_equal (sval (get (find_mount (t, "/data"), "source", NULL, NULL)), src_ro);
    assert_string_equal (str_at (get (find_mount (t, "/data"), "options", NULL, NULL), 1), "rshared");
    assert_string_equal (sval (get (t, "linux", "rootfsPropagation", NULL, NULL)), "shared");
    /* tmpfs: Docker's defaults merged with the given options, last one wins */
    assert_int_equal (array_len (run), 5);
    assert_string_equal (str_at (run, 0), "nosuid");
    assert_string_equal (str_at (run, 1), "nodev");
    assert_string_equal (str_at (run, 2), "rprivate");
    assert_string_equal (str_at (run, 3), "size=1m");
    assert_string_equal (str_at (run, 4), "exec");
    /* a tmpfs wins over a bind at the same place */
    assert_string_equal (sval (get (find_mount (t, "/x"), "type", NULL, NULL)), "tmpfs");
    /* user mounts are ordered by depth: /run before /srv/a/b */
    for (i = 0; i < array_len (mounts); i++)
      {
        const char *d = sval (get (mounts->u.array.values[i], "destination", NULL, NULL));
        if (strcmp (d, "/run") == 0)
          idx_run = i;
        if (strcmp (d, "/srv/a/b") == 0)
          idx_ab = i;
      }
    assert_true (idx_run < idx_ab);
  }
  /* Docker creates a missing bind source */
  assert_int_equal (stat (src_new, &st), 0);
  assert_true (S_ISDIR (st.st_mode));

  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Binds\":[\"myvol:/data\"]}", "named volumes are not supported");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Binds\":[\"/tmp:/data:bogus\"]}", "invalid mode: bogus");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Binds\":[\"/tmp:/data:ro,rw\"]}", "invalid mode: ro,rw");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Binds\":[\"/tmp:data\"]}", "mount path must be absolute");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Binds\":[\"/tmp:/\"]}", "destination can't be '/'");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Binds\":[\"/tmp:/d\",\"/usr:/d\"]}", "Duplicate mount point: /d");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"Tmpfs\":{\"/t\":\"foo=1\"}}", "invalid tmpfs option");
}

static void
test_seccomp_follows_caps (void **state)
{
  struct fx *f = *state;
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"CapAdd\":[\"SYS_ADMIN\",\"SYS_PTRACE\"]}", NULL);
    assert_true (seccomp_has (r.tree, "mount"));
    assert_true (seccomp_has (r.tree, "bpf"));
    assert_true (seccomp_has (r.tree, "setns"));
    assert_true (seccomp_has (r.tree, "kcmp"));
    assert_true (seccomp_has (r.tree, "process_vm_readv"));
  }
  {
    /* clone with flag masks is for containers WITHOUT CAP_SYS_ADMIN; clone3
       answers ENOSYS for them */
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{}", NULL);
    yajl_val rules = get (r.tree, "linux", "seccomp", "syscalls", NULL);
    size_t i;
    bool clone_masked = false, clone3_enosys = false;
    for (i = 0; i < array_len (rules); i++)
      {
        yajl_val rule = rules->u.array.values[i];
        if (array_has_str (get (rule, "names", NULL, NULL, NULL), "clone") && get (rule, "args", NULL, NULL, NULL))
          clone_masked = true;
        if (array_has_str (get (rule, "names", NULL, NULL, NULL), "clone3"))
          clone3_enosys = int_at (rule, "errnoRet", NULL, NULL, NULL) == 38;
      }
    assert_true (clone_masked);
    assert_true (clone3_enosys);
    assert_false (seccomp_has (r.tree, "kcmp"));
  }
}

static const char custom_profile[]
    = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1,\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","
      "\"subArchitectures\":[\"SCMP_ARCH_X86\"]},{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]}],"
      "\"syscalls\":[{\"names\":[\"chmod\",\"fchmod\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
      "{\"name\":\"mkdir\",\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
      "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"minKernel\":\"4.8\"}},"
      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"excludes\":{\"minKernel\":\"4.8\"}},"
      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":18446744073709551615,"
      "\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"sync_file_range2\"],\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"arches\":[\"ppc64le\"]}},"
      "{\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_ERRNO\",\"excludes\":{\"arches\":[\"amd64\"]}}]}";

static void
test_seccomp_custom_and_unconfined (void **state)
{
  struct fx *f = *state;
  cleanup_free char *hc = NULL;
  yajl_gen g = json_gen_new (false);
  const unsigned char *buf;
  size_t len;

  /* The docker CLI sends the profile's contents in SecurityOpt.  */
  yajl_gen_map_open (g);
  json_gen_str (g, "SecurityOpt");
  yajl_gen_array_open (g);
  {
    cleanup_free char *opt = NULL;
    assert_true (asprintf (&opt, "seccomp=%s", custom_profile) > 0);
    json_gen_str (g, opt);
  }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  assert_int_equal (yajl_gen_get_buf (g, &buf, &len), yajl_gen_status_ok);
  hc = strndup ((const char *) buf, len);
  yajl_gen_free (g);
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", hc, NULL);
    assert_string_equal (sval (get (r.tree, "linux", "seccomp", "defaultAction", NULL)), "SCMP_ACT_ALLOW");
    assert_int_equal (int_at (r.tree, "linux", "seccomp", "defaultErrnoRet", NULL), 1);
    assert_true (seccomp_has (r.tree, "chmod"));
    assert_false (seccomp_has (r.tree, "mkdir"));
  }
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"seccomp=unconfined\"]}", NULL);
    assert_null (r.spec->seccomp);
    assert_null (get (r.tree, "linux", "seccomp", NULL, NULL));
  }
  {
    /* a profile without defaultAction and syscalls disables seccomp */
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"seccomp={}\"]}", NULL);
    assert_null (r.spec->seccomp);
  }
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"seccomp={nope\"]}", "Decoding seccomp profile failed");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"bogus=1\"]}", "invalid --security-opt 2: \"bogus=1\"");
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"bogus\"]}", "invalid --security-opt 1: \"bogus\"");
}

static void
translate_ok (const char *profile, const struct seccomp_profile_host *h, char *const *caps, size_t n, yajl_val *out)
{
  skiff_error_t err = NULL;
  cleanup_free char *text = NULL;
  if (seccomp_profile_translate (profile, h, caps, n, &text, &err) < 0)
    fail_msg ("translate: %s", err->msg);
  assert_non_null (text);
  assert_int_equal (json_parse (text, out, &err), 0);
}

static bool
rules_have (yajl_val oci, const char *name)
{
  yajl_val rules = get (oci, "syscalls", NULL, NULL, NULL);
  size_t i;
  for (i = 0; i < array_len (rules); i++)
    if (array_has_str (get (rules->u.array.values[i], "names", NULL, NULL, NULL), name))
      return true;
  return false;
}

static void
test_seccomp_translate_filters (void **state)
{
  struct seccomp_profile_host old = { "amd64", "SCMP_ARCH_X86_64", 4, 7 }, new_ = { "amd64", "SCMP_ARCH_X86_64", 6, 1 };
  struct seccomp_profile_host ppc = { "ppc64le", "SCMP_ARCH_PPC64LE", 5, 10 };
  char *caps[] = { "CAP_SYS_ADMIN" };
  skiff_error_t err = NULL;
  char *out = NULL;
  yajl_val v = NULL;

  (void) state;
  translate_ok (custom_profile, &old, NULL, 0, &v);
  assert_false (rules_have (v, "ptrace"));      /* includes minKernel 4.8 > 4.7 */
  assert_true (rules_have (v, "personality"));  /* excludes minKernel: kept on 4.7 */
  assert_false (rules_have (v, "mkdir"));       /* needs CAP_SYS_ADMIN */
  assert_false (rules_have (v, "arch_prctl"));  /* excluded on amd64 */
  assert_false (rules_have (v, "sync_file_range2"));
  assert_int_equal (array_len (get (v, "architectures", NULL, NULL, NULL)), 2);
  assert_string_equal (str_at (get (v, "architectures", NULL, NULL, NULL), 0), "SCMP_ARCH_X86_64");
  /* large argument values survive */
  {
    yajl_val rules = get (v, "syscalls", NULL, NULL, NULL);
    yajl_val last = rules->u.array.values[rules->u.array.len - 1];
    yajl_val value = get (last, "args", NULL, NULL, NULL)->u.array.values[0];
    assert_string_equal (YAJL_GET_NUMBER (get (value, "value", NULL, NULL, NULL)), "18446744073709551615");
    assert_null (get (value, "valueTwo", NULL, NULL, NULL));
  }
  yajl_tree_free (v);

  translate_ok (custom_profile, &new_, caps, 1, &v);
  assert_true (rules_have (v, "ptrace"));
  assert_true (rules_have (v, "mkdir"));
  assert_true (rules_have (v, "personality")); /* the rule with args is still there */
  yajl_tree_free (v);

  translate_ok (custom_profile, &ppc, NULL, 0, &v);
  assert_true (rules_have (v, "sync_file_range2"));
  assert_true (rules_have (v, "arch_prctl"));
  assert_null (get (v, "architectures", NULL, NULL, NULL)); /* no archMap entry for ppc64le */
  yajl_tree_free (v);

  assert_int_equal (seccomp_profile_translate ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86\"],"
                                               "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
                                               &new_, NULL, 0, &out, &err),
                    -1);
  assert_non_null (strstr (err->msg, "use either 'architectures' or 'archMap'"));
  skiff_error_release (&err);
  assert_int_equal (seccomp_profile_translate ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"name\":\"a\","
                                               "\"names\":[\"b\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
                                               &new_, NULL, 0, &out, &err),
                    -1);
  assert_non_null (strstr (err->msg, "use either 'name' or 'names'"));
  skiff_error_release (&err);
  assert_int_equal (seccomp_profile_translate ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],"
                                               "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"4\"}}]}",
                                               &new_, NULL, 0, &out, &err),
                    -1);
  assert_non_null (strstr (err->msg, "invalid kernel version"));
  skiff_error_release (&err);
  assert_null (out);
}

static void
test_default_profile_file (void **state)
{
  cleanup_json yajl_val p = NULL;
  skiff_error_t err = NULL;
  yajl_val syscalls;

  (void) state;
  /* Docker 20.10's profile: moby's format, errno by default (EPERM) */
  assert_int_equal (json_parse_file (SECCOMP_DEFAULT, &p, &err), 0);
  assert_string_equal (sval (get (p, "defaultAction", NULL, NULL, NULL)), "SCMP_ACT_ERRNO");
  assert_int_equal (array_len (get (p, "archMap", NULL, NULL, NULL)), 7);
  syscalls = get (p, "syscalls", NULL, NULL, NULL);
  assert_true (array_len (syscalls) > 20);
  assert_true (array_len (get (syscalls->u.array.values[0], "names", NULL, NULL, NULL)) > 300);
}

static void
test_no_new_privileges (void **state)
{
  struct fx *f = *state;
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"no-new-privileges\"]}", NULL);
    assert_true (r.spec->process->no_new_privileges);
  }
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"no-new-privileges:true\"]}", NULL);
    assert_true (r.spec->process->no_new_privileges);
  }
  {
    cleanup_result struct result r
        = build_ok (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"no-new-privileges\",\"no-new-privileges=false\",\"apparmor=x\"]}", NULL);
    assert_false (r.spec->process->no_new_privileges);
    assert_null (r.spec->process->apparmor_profile);
  }
  build_fails (f, "{\"Cmd\":[\"sh\"]}", "{\"SecurityOpt\":[\"no-new-privileges=maybe\"]}", "invalid --security-opt 2");
}

static void
test_init (void **state)
{
  struct fx *f = *state;
  {
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sleep\",\"1\"]}", "{\"Init\":true,\"ReadonlyRootfs\":true}", NULL);
    yajl_val args = get (r.tree, "process", "args", NULL, NULL), m = find_mount (r.tree, "/sbin/docker-init");
    assert_int_equal (array_len (args), 4);
    assert_string_equal (str_at (args, 0), "/sbin/docker-init");
    assert_string_equal (str_at (args, 1), "--");
    assert_string_equal (str_at (args, 2), "sleep");
    assert_non_null (m);
    assert_string_equal (sval (get (m, "source", NULL, NULL, NULL)), "/bin/sh");
    assert_string_equal (sval (get (m, "type", NULL, NULL, NULL)), "bind");
    assert_true (array_has_str (get (m, "options", NULL, NULL), "ro"));
    assert_int_equal (array_len (get (m, "options", NULL, NULL)), 2); /* bind, ro: not doubled */
  }
  {
    /* no init in the host's pid namespace */
    cleanup_result struct result r = build_ok (f, "{\"Cmd\":[\"sleep\",\"1\"]}", "{\"Init\":true,\"PidMode\":\"host\"}", NULL);
    assert_string_equal (str_at (get (r.tree, "process", "args", NULL, NULL), 0), "sleep");
    assert_null (find_mount (r.tree, "/sbin/docker-init"));
  }
}

/* ---- a real container, when the runtime has been built ---- */

static int
run_capture (char *const argv[], const char *out_path, int timeout_s)
{
  pid_t pid = fork ();
  struct timespec start, now;
  int status;

  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      int fd = open (out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int devnull = open ("/dev/null", O_RDONLY);
      if (fd < 0 || devnull < 0)
        _exit (126);
      dup2 (devnull, 0);
      dup2 (fd, 1);
      dup2 (fd, 2);
      execv (argv[0], argv);
      _exit (127);
    }
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      pid_t w = waitpid (pid, &status, WNOHANG);
      if (w == pid)
        return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
      clock_gettime (CLOCK_MONOTONIC, &now);
      if (now.tv_sec - start.tv_sec > timeout_s)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          return -1;
        }
      usleep (10000);
    }
}

/* Removes the cgroup parent the runtime created, in every hierarchy.  */
static void
remove_cgroup_parent (const char *name)
{
  DIR *d = opendir ("/sys/fs/cgroup");
  struct dirent *e;
  char path[PATH_MAX];

  snprintf (path, sizeof (path), "/sys/fs/cgroup/%s", name);
  rmdir (path);
  if (d == NULL)
    return;
  while ((e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof (path), "/sys/fs/cgroup/%s/%s", e->d_name, name);
      rmdir (path);
    }
  closedir (d);
}

static void
test_run_with_runtime (void **state)
{
  struct fx *f = *state;
  const char *runtime = getenv ("SKIFF_RUNTIME") ? getenv ("SKIFF_RUNTIME") : "/tmp/build/skiff-runtime";
  const char *init = getenv ("SKIFF_INIT");
  cleanup_free char *rootfs = NULL, *cmd = NULL, *out = NULL, *text = NULL, *state_dir = NULL, *bundle = NULL, *cfg = NULL,
                    *output = NULL, *hc = NULL;
  cleanup_json yajl_val c = NULL, h = NULL;
  skiff_error_t err = NULL;
  char id[32], cgparent[64];
  int rc;

  if (geteuid () != 0 || access (runtime, X_OK) != 0)
    {
      skip ();
      return;
    }
  assert_true (asprintf (&rootfs, "%s/busybox", f->dir) > 0);
  assert_true (asprintf (&cmd, "sh '%s/tests/lib/make-rootfs.sh' '%s' >/dev/null 2>&1", SKIFF_SRCDIR, rootfs) > 0);
  if (system (cmd) != 0)
    {
      skip (); /* no busybox-static */
      return;
    }
  assert_true (asprintf (&bundle, "%s/bundle", f->dir) > 0);
  assert_true (asprintf (&state_dir, "%s/state", f->dir) > 0);
  assert_int_equal (mkdir (bundle, 0755), 0);
  snprintf (id, sizeof (id), "ocispec-%d", (int) getpid ());
  snprintf (cgparent, sizeof (cgparent), "/skiff-test-oci-%d", (int) getpid ());
  assert_true (asprintf (&hc, "{\"Init\":%s}", init ? "true" : "false") > 0);
  assert_int_equal (json_parse ("{\"Cmd\":[\"sh\",\"-c\",\"grep CapEff /proc/self/status; id -u; echo pid=$$\"],"
                                "\"User\":\"\"}",
                                &c, &err),
                    0);
  assert_int_equal (json_parse (hc, &h, &err), 0);
  {
    char full_id[128];
    struct oci_spec_input in = { .id = full_id, .config = c, .host_config = h, .rootfs = rootfs, .seccomp_default_path = f->seccomp_path,
                                 .cgroup_parent = cgparent, .init_path = init };
    snprintf (full_id, sizeof (full_id), "%s-%s", id, ID);
    if (oci_spec_build (&in, &text, &err) < 0)
      fail_msg ("build: %s", err->msg);
  }
  assert_true (asprintf (&cfg, "%s/config.json", bundle) > 0);
  assert_int_equal (fs_write_file_atomic (cfg, text, strlen (text), 0644, &err), 0);
  assert_true (asprintf (&out, "%s/out.txt", f->dir) > 0);
  {
    char *const argv[] = { (char *) runtime, "--root", state_dir, "run", "-b", bundle, id, NULL };
    rc = run_capture (argv, out, 30);
  }
  {
    char *const del[] = { (char *) runtime, "--root", state_dir, "delete", "-f", id, NULL };
    cleanup_free char *dout = NULL;
    assert_true (asprintf (&dout, "%s/delete.txt", f->dir) > 0);
    run_capture (del, dout, 30);
  }
  remove_cgroup_parent (cgparent + 1);
  assert_int_equal (fs_read_file (out, &output, NULL, &err), 0);
  if (rc != 0)
    fail_msg ("runtime run exited %d:\n%s", rc, output);
  if (strstr (output, "CapEff:\t" DEFAULT_CAPEFF_MASK) == NULL)
    fail_msg ("want CapEff %s, got:\n%s", DEFAULT_CAPEFF_MASK, output);
  assert_non_null (strstr (output, "\n0\n"));
  /* with --init, the shell is not PID 1 */
  assert_non_null (strstr (output, init ? "pid=" : "pid=1\n"));
  if (init)
    assert_null (strstr (output, "pid=1\n"));
}

int
main (void)
{
#define T(fn) cmocka_unit_test_setup_teardown (fn, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_defaults),
    T (test_host_network),
    T (test_cap_add_drop),
    T (test_privileged),
    T (test_user),
    T (test_user_without_passwd),
    T (test_user_symlink_stays_in_rootfs),
    T (test_env_cmd_entrypoint_workdir),
    T (test_resources),
    T (test_shm_ipc_ulimits),
    T (test_readonly_rootfs),
    T (test_binds_and_tmpfs),
    T (test_seccomp_follows_caps),
    T (test_seccomp_custom_and_unconfined),
    cmocka_unit_test (test_seccomp_translate_filters),
    cmocka_unit_test (test_default_profile_file),
    T (test_no_new_privileges),
    T (test_init),
    T (test_run_with_runtime),
  };
#undef T
  return cmocka_run_group_tests_name ("oci_spec", tests, NULL, NULL);
}
