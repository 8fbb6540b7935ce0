#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "spec.h"

#define N(a) (sizeof (a) / sizeof ((a)[0]))

/* ---- fixture: a bundle directory with an empty rootfs ---- */

struct bundle
{
  char *dir;
  char *rootfs;
};

static int
setup_bundle (void **state)
{
  struct bundle *b = calloc (1, sizeof (*b));
  if (b == NULL)
    return -1;
  b->dir = strdup ("/tmp/skiff-test-spec-XXXXXX");
  if (b->dir == NULL || mkdtemp (b->dir) == NULL)
    return -1;
  if (asprintf (&b->rootfs, "%s/rootfs", b->dir) < 0 || mkdir (b->rootfs, 0755) < 0)
    return -1;
  *state = b;
  return 0;
}

static int
teardown_bundle (void **state)
{
  struct bundle *b = *state;
  char cmd[PATH_MAX + 16];
  int ret = 0;

  snprintf (cmd, sizeof (cmd), "rm -rf '%s'", b->dir);
  if (system (cmd) != 0)
    ret = -1;
  free (b->rootfs);
  free (b->dir);
  free (b);
  return ret;
}

static char *
bundle_path (struct bundle *b, const char *name)
{
  char *p = NULL;
  if (asprintf (&p, "%s/%s", b->dir, name) < 0)
    fail_msg ("asprintf");
  return p;
}

static void
bundle_write (struct bundle *b, const char *name, const char *content)
{
  cleanup_free char *p = bundle_path (b, name);
  FILE *f = fopen (p, "w");
  assert_non_null (f);
  assert_true (fputs (content, f) >= 0);
  assert_int_equal (fclose (f), 0);
}

static void
bundle_mkdir (struct bundle *b, const char *name)
{
  cleanup_free char *p = bundle_path (b, name);
  assert_int_equal (mkdir (p, 0755), 0);
}

/* A minimal valid config with `extra` (JSON members) appended.  */
static char *
config (const char *extra)
{
  char *s = NULL;
  if (asprintf (&s, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}%s%s}", extra && *extra ? ", " : "",
                extra ? extra : "")
      < 0)
    fail_msg ("asprintf");
  return s;
}

static struct spec *
parse_text_ok (struct bundle *b, const char *text)
{
  skiff_error_t err = NULL;
  struct spec *s = NULL;

  if (spec_parse (text, b->dir, &s, &err) < 0)
    fail_msg ("spec_parse failed: %s\n--- config:\n%s", err ? err->msg : "(no error)", text);
  assert_null (err);
  assert_non_null (s);
  return s;
}

static struct spec *
parse_ok (struct bundle *b, const char *extra)
{
  cleanup_free char *text = config (extra);
  return parse_text_ok (b, text);
}

/* spec_parse (or spec_parse_saved) must fail with a message containing
   want1 and want2 (if not NULL).  */
static void
expect_fail_text (struct bundle *b, bool saved, const char *text, const char *want1, const char *want2)
{
  skiff_error_t err = NULL;
  struct spec *s = NULL;
  int ret;

  ret = saved ? spec_parse_saved (text, b->dir, &s, &err) : spec_parse (text, b->dir, &s, &err);
  if (ret != -1)
    {
      spec_free (s);
      fail_msg ("config unexpectedly accepted (want error with `%s`):\n%s", want1, text);
    }
  assert_null (s);
  assert_non_null (err);
  assert_non_null (err->msg);
  if (strstr (err->msg, want1) == NULL || (want2 && strstr (err->msg, want2) == NULL))
    fail_msg ("error `%s` does not mention `%s`%s%s%s", err->msg, want1, want2 ? " and `" : "", want2 ? want2 : "",
              want2 ? "`" : "");
  skiff_error_release (&err);
}

static void
expect_fail (struct bundle *b, const char *extra, const char *want1, const char *want2)
{
  cleanup_free char *text = config (extra);
  expect_fail_text (b, false, text, want1, want2);
}

static void
assert_caps (const struct spec_capset *set, const int *want, size_t n)
{
  size_t i;
  assert_int_equal (set->n, n);
  for (i = 0; i < n; i++)
    assert_int_equal (set->caps[i], want[i]);
}

static const struct spec_mount *
find_mount (const struct spec *s, const char *dest)
{
  size_t i;
  for (i = 0; i < s->n_mounts; i++)
    if (strcmp (s->mounts[i].destination, dest) == 0)
      return &s->mounts[i];
  fail_msg ("no mount on %s", dest);
  return NULL;
}

/* ---- the default template ---- */

static void
check_default_spec (struct bundle *b, const struct spec *s)
{
  static const int caps3[] = { CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE };
  static const int ns_types[] = { CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNS, CLONE_NEWCGROUP };
  const struct spec_process *p = s->process;
  const struct spec_mount *m;
  size_t i;

  assert_string_equal (s->oci_version, "1.0.2");
  assert_string_equal (s->bundle, b->dir);
  assert_string_equal (s->root_path, b->rootfs);
  assert_true (s->root_readonly);
  assert_string_equal (s->hostname, "skiff");
  assert_null (s->domainname);

  /* process */
  assert_non_null (p);
  assert_true (p->terminal);
  assert_int_equal (p->uid, 0);
  assert_int_equal (p->gid, 0);
  assert_int_equal (p->n_args, 1);
  assert_string_equal (p->args[0], "sh");
  assert_null (p->args[1]);
  assert_int_equal (p->n_env, 2);
  assert_string_equal (p->env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  assert_string_equal (p->env[1], "TERM=xterm");
  assert_string_equal (p->cwd, "/");
  assert_true (p->has_capabilities);
  assert_caps (&p->caps.bounding, caps3, 3);
  assert_caps (&p->caps.effective, caps3, 3);
  assert_caps (&p->caps.permitted, caps3, 3);
  assert_caps (&p->caps.ambient, caps3, 3);
  assert_int_equal (p->caps.inheritable.n, 0);
  assert_int_equal (p->n_rlimits, 1);
  assert_int_equal (p->rlimits[0].resource, RLIMIT_NOFILE);
  assert_true (p->rlimits[0].soft == 1024);
  assert_true (p->rlimits[0].hard == 1024);
  assert_true (p->no_new_privileges);
  assert_false (p->has_oom_score_adj);
  assert_false (p->has_umask);

  /* namespaces, in order */
  assert_int_equal (s->n_namespaces, 6);
  for (i = 0; i < N (ns_types); i++)
    {
      assert_int_equal (s->namespaces[i].type, ns_types[i]);
      assert_null (s->namespaces[i].path);
      assert_int_equal (spec_has_namespace (s, ns_types[i], NULL), 1);
    }
  assert_int_equal (spec_has_namespace (s, CLONE_NEWUSER, NULL), 0);
  assert_int_equal (spec_has_namespace (s, CLONE_NEWTIME, NULL), 0);

  /* mounts, with their options turned into flags and data */
  assert_int_equal (s->n_mounts, 7);
  assert_string_equal (s->mounts[0].destination, "/proc");
  assert_string_equal (s->mounts[6].destination, "/sys/fs/cgroup");

  m = find_mount (s, "/proc");
  assert_string_equal (m->type, "proc");
  assert_string_equal (m->source, "proc");
  assert_int_equal (m->n_options, 0);
  assert_int_equal (m->flags, 0);
  assert_null (m->data);
  assert_false (m->is_bind);

  m = find_mount (s, "/dev");
  assert_string_equal (m->type, "tmpfs");
  assert_int_equal (m->flags, MS_NOSUID | MS_STRICTATIME);
  assert_string_equal (m->data, "mode=755,size=65536k");

  m = find_mount (s, "/dev/pts");
  assert_string_equal (m->type, "devpts");
  assert_int_equal (m->n_options, 6);
  assert_int_equal (m->flags, MS_NOSUID | MS_NOEXEC);
  assert_string_equal (m->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");

  m = find_mount (s, "/dev/shm");
  assert_string_equal (m->source, "shm");
  assert_int_equal (m->flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
  assert_string_equal (m->data, "mode=1777,size=65536k");

  m = find_mount (s, "/dev/mqueue");
  assert_string_equal (m->type, "mqueue");
  assert_int_equal (m->flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
  assert_null (m->data);

  m = find_mount (s, "/sys");
  assert_string_equal (m->type, "sysfs");
  assert_int_equal (m->flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  assert_null (m->data);
  assert_false (m->is_bind);

  m = find_mount (s, "/sys/fs/cgroup");
  assert_string_equal (m->type, "cgroup");
  assert_int_equal (m->flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  assert_null (m->data);

  for (i = 0; i < s->n_mounts; i++)
    {
      assert_int_equal (s->mounts[i].propagation, 0);
      assert_false (s->mounts[i].is_bind);
    }

  /* linux */
  assert_true (s->has_resources);
  assert_int_equal (s->resources.n_devices, 1);
  assert_false (s->resources.devices[0].allow);
  assert_int_equal (s->resources.devices[0].type, 'a');
  assert_true (s->resources.devices[0].major == -1);
  assert_true (s->resources.devices[0].minor == -1);
  assert_string_equal (s->resources.devices[0].access, "rwm");
  assert_false (s->resources.has_memory_limit);
  assert_false (s->resources.has_pids_limit);
  assert_int_equal (s->n_masked_paths, 10);
  assert_string_equal (s->masked_paths[0], "/proc/acpi");
  assert_string_equal (s->masked_paths[9], "/proc/scsi");
  assert_null (s->masked_paths[10]);
  assert_int_equal (s->n_readonly_paths, 5);
  assert_string_equal (s->readonly_paths[4], "/proc/sysrq-trigger");
  assert_null (s->seccomp);
  assert_null (s->cgroups_path);
  assert_int_equal (s->n_uid_mappings, 0);
  assert_int_equal (s->n_gid_mappings, 0);
  assert_int_equal (s->n_devices, 0);
  assert_int_equal (s->n_sysctl, 0);
  assert_int_equal (s->rootfs_propagation, 0);
  for (i = 0; i < HOOK_KIND_COUNT; i++)
    assert_int_equal (s->hooks[i].n, 0);
}

static void
test_default_spec_parse (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_text_ok (b, spec_default_json ());
  check_default_spec (b, s);
}

static void
test_default_spec_load (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = NULL;
  skiff_error_t err = NULL;

  bundle_write (b, "config.json", spec_default_json ());
  assert_int_equal (spec_load (b->dir, &s, &err), 0);
  assert_null (err);
  check_default_spec (b, s);
}

static void
test_load_relative_bundle (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = NULL;
  cleanup_free char *cwd = get_current_dir_name ();
  skiff_error_t err = NULL;
  int ret;

  bundle_write (b, "config.json", spec_default_json ());
  assert_non_null (cwd);
  assert_int_equal (chdir ("/tmp"), 0);
  /* "/tmp/skiff-test-spec-XXXXXX" -> "./skiff-test-spec-XXXXXX/." */
  {
    char rel[PATH_MAX];
    snprintf (rel, sizeof (rel), "./%s/.", b->dir + strlen ("/tmp/"));
    ret = spec_load (rel, &s, &err);
  }
  assert_int_equal (chdir (cwd), 0);
  if (ret < 0)
    fail_msg ("spec_load: %s", err->msg);
  assert_string_equal (s->bundle, b->dir);
  assert_string_equal (s->root_path, b->rootfs);
}

static void
test_load_errors (void **state)
{
  struct bundle *b = *state;
  struct spec *s = NULL;
  skiff_error_t err = NULL;

  /* no config.json */
  assert_int_equal (spec_load (b->dir, &s, &err), -1);
  assert_null (s);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOENT);
  assert_non_null (strstr (err->msg, "config.json"));
  skiff_error_release (&err);

  /* default template without its rootfs */
  bundle_write (b, "config.json", spec_default_json ());
  assert_int_equal (rmdir (b->rootfs), 0);
  assert_int_equal (spec_load (b->dir, &s, &err), -1);
  assert_null (s);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, "root.path"));
  assert_non_null (strstr (err->msg, b->rootfs));
  skiff_error_release (&err);
}

/* ---- unknown fields ---- */

static void
test_unknown_fields_ignored (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_text_ok (
      b, "{\"ociVersion\": \"1.1.0\", \"futureTopLevel\": {\"x\": [1, {\"y\": null}]}, \"windows\": {\"layerFolders\": []},"
         " \"root\": {\"path\": \"rootfs\", \"newRootField\": 1},"
         " \"process\": {\"args\": [\"true\"], \"newProcField\": \"x\", \"user\": {\"uid\": 1, \"newUserField\": []},"
         "   \"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"newSet\": [\"CAP_FOO\"]}, \"ioPriority\": {\"class\": \"IOPRIO_CLASS_IDLE\"}},"
         " \"mounts\": [{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"uidMappings\": [], \"newMountField\": true}],"
         " \"hooks\": {\"newHookKind\": [{\"path\": \"relative\"}], \"prestart\": [{\"path\": \"/bin/true\", \"newHookField\": 1}]},"
         " \"annotations\": {\"org.example.key\": \"value\"},"
         " \"linux\": {\"newLinuxField\": {\"a\": 1}, \"intelRdt\": {\"closID\": \"x\"}, \"personality\": {\"domain\": \"LINUX\"},"
         "   \"namespaces\": [{\"type\": \"pid\", \"newNsField\": 2}],"
         "   \"resources\": {\"newResource\": {\"x\": 1}, \"hugepageLimits\": [], \"memory\": {\"limit\": 1048576, \"newMemField\": true},"
         "     \"devices\": [{\"allow\": true, \"newDevField\": 1}]},"
         "   \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x\", \"syscalls\": [{\"names\": [\"read\"],"
         "     \"action\": \"SCMP_ACT_ERRNO\", \"comment\": \"c\", \"includes\": {}}]}}}");

  assert_string_equal (s->oci_version, "1.1.0");
  assert_int_equal (s->process->n_args, 1);
  assert_int_equal (s->process->uid, 1);
  assert_int_equal (s->process->caps.bounding.n, 1);
  assert_int_equal (s->n_mounts, 1);
  assert_int_equal (s->hooks[HOOK_PRESTART].n, 1);
  assert_int_equal (s->n_namespaces, 1);
  assert_true (s->resources.has_memory_limit);
  assert_true (s->resources.memory_limit == 1048576);
  assert_int_equal (s->resources.n_devices, 1);
  assert_non_null (s->seccomp);
  assert_int_equal (s->seccomp->n_rules, 1);
  assert_non_null (s->annotations);
  assert_true (YAJL_IS_OBJECT (s->annotations));
  assert_string_equal (s->annotations->u.object.keys[0], "org.example.key");
}

/* ---- bad input: each fails, naming the field ---- */

static void
test_bad_document (void **state)
{
  struct bundle *b = *state;

  expect_fail_text (b, false, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}", "config.json", "invalid JSON");
  expect_fail_text (b, false, "{\"ociVersion\": \"1.0.2\",, }", "invalid JSON", NULL);
  expect_fail_text (b, false, "", "invalid JSON", NULL);
  expect_fail_text (b, false, "[]", "expected a JSON object", NULL);
  expect_fail_text (b, false, "\"1.0.2\"", "expected a JSON object", NULL);
}

static void
test_bad_oci_version (void **state)
{
  struct bundle *b = *state;

  expect_fail_text (b, false, "{\"root\": {\"path\": \"rootfs\"}}", "missing field `ociVersion`", NULL);
  expect_fail_text (b, false, "{\"ociVersion\": null, \"root\": {\"path\": \"rootfs\"}}", "missing field `ociVersion`", NULL);
  expect_fail_text (b, false, "{\"ociVersion\": 1, \"root\": {\"path\": \"rootfs\"}}", "ociVersion", "expected a string");
  expect_fail_text (b, false, "{\"ociVersion\": \"2.0.0\", \"root\": {\"path\": \"rootfs\"}}", "ociVersion", "2.0.0");
  expect_fail_text (b, false, "{\"ociVersion\": \"0.6.0\", \"root\": {\"path\": \"rootfs\"}}", "ociVersion", "0.6.0");
}

static void
test_bad_root (void **state)
{
  struct bundle *b = *state;
  cleanup_free char *missing = bundle_path (b, "missing-rootfs");
  cleanup_free char *file = bundle_path (b, "file-rootfs");

  expect_fail_text (b, false, "{\"ociVersion\": \"1.0.2\"}", "missing field `root`", NULL);
  expect_fail_text (b, false, "{\"ociVersion\": \"1.0.2\", \"root\": \"rootfs\"}", "`root`", "expected an object");
  expect_fail_text (b, false, "{\"ociVersion\": \"1.0.2\", \"root\": {}}", "missing field `root.path`", NULL);
  expect_fail_text (b, false, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\", \"readonly\": \"yes\"}}",
                    "root.readonly", NULL);
  /* a directory that does not exist: named with its absolute path */
  expect_fail_text (b, false, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"missing-rootfs\"}}", "root.path", missing);
  bundle_write (b, "file-rootfs", "");
  expect_fail_text (b, false, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"file-rootfs\"}}", "root.path", file);
}

static void
test_bad_namespaces (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"foo\"}]}", "linux.namespaces", "foo");
  expect_fail (b, "\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"pid\"}]}",
               "linux.namespaces", "`pid`");
  expect_fail (b, "\"linux\": {\"namespaces\": [{\"type\": \"PID\"}]}", "linux.namespaces", "PID");
  expect_fail (b, "\"linux\": {\"namespaces\": [{}]}", "linux.namespaces[].type", NULL);
  expect_fail (b, "\"linux\": {\"namespaces\": {\"type\": \"pid\"}}", "linux.namespaces", "expected an array");
  expect_fail (b, "\"linux\": {\"namespaces\": [{\"type\": \"net\"}]}", "linux.namespaces", "net");
  expect_fail (b, "\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"proc/1/ns/net\"}]}",
               "linux.namespaces[0].path", "proc/1/ns/net");
  expect_fail (b, "\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/nonexistent/skiff/ns\"}]}",
               "linux.namespaces[0].path", "/nonexistent/skiff/ns");
  expect_fail (b, "\"linux\": \"yes\"", "`linux`", "expected an object");
}

static void
test_bad_capabilities (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_FOO\"]}}",
               "process.capabilities.bounding", "CAP_FOO");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"capabilities\": {\"ambient\": [\"CAP_FOO\"]}}",
               "process.capabilities.ambient", "CAP_FOO");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"capabilities\": {\"effective\": [\"cap_kill\"]}}",
               "process.capabilities.effective", "cap_kill");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"capabilities\": {\"permitted\": [\"KILL\"]}}",
               "process.capabilities.permitted", "KILL");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"capabilities\": {\"inheritable\": [5]}}",
               "process.capabilities.inheritable[0]", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"capabilities\": [\"CAP_KILL\"]}", "process.capabilities", "object");
}

static void
test_bad_seccomp (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_BOGUS\"}}", "linux.seccomp.defaultAction",
               "SCMP_ACT_BOGUS");
  expect_fail (b,
               "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
               " \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\"},"
               " {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_BOGUS\"}]}}",
               "linux.seccomp.syscalls[1].action", "SCMP_ACT_BOGUS");
  expect_fail (b, "\"linux\": {\"seccomp\": {}}", "linux.seccomp.defaultAction", NULL);
  expect_fail (b, "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 70000}}",
               "linux.seccomp.defaultAction", "70000");
  expect_fail (b, "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_BOGUS\"]}}",
               "linux.seccomp.architectures", "SCMP_ARCH_BOGUS");
  expect_fail (b, "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_BOGUS\"]}}",
               "linux.seccomp.flags", "SECCOMP_FILTER_FLAG_BOGUS");
  expect_fail (b,
               "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
               " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_BOGUS\"}]}]}}",
               "linux.seccomp.syscalls[0].args[0].op", "SCMP_CMP_BOGUS");
  expect_fail (b,
               "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
               " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}}",
               "linux.seccomp.syscalls[0].args[0].index", NULL);
  expect_fail (b,
               "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
               " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}}",
               "linux.seccomp.syscalls[0].args[0].index", NULL);
  expect_fail (b,
               "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"]}]}}",
               "linux.seccomp.syscalls[].action", NULL);
  expect_fail (b,
               "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"],"
               " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}}",
               "linux.seccomp.syscalls[].args[].value", NULL);
}

static void
test_bad_process (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"process\": {\"cwd\": \"/\"}", "missing field `process.args`", NULL);
  expect_fail (b, "\"process\": {\"args\": []}", "missing field `process.args`", NULL);
  expect_fail (b, "\"process\": {\"args\": \"sh\"}", "process.args", "expected an array");
  expect_fail (b, "\"process\": {\"args\": [\"sh\", 1]}", "process.args[1]", NULL);
  expect_fail (b, "\"process\": [\"sh\"]", "`process`", "expected an object");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"env\": [1]}", "process.env[0]", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"terminal\": \"true\"}", "process.terminal", "boolean");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"noNewPrivileges\": 1}", "process.noNewPrivileges", NULL);
  /* cwd must be absolute */
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"cwd\": \"tmp\"}", "process.cwd", "tmp");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"cwd\": \"./\"}", "process.cwd", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"cwd\": 5}", "process.cwd", NULL);
  /* oomScoreAdj in -1000..1000 */
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"oomScoreAdj\": 1001}", "process.oomScoreAdj", "1001");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"oomScoreAdj\": -1001}", "process.oomScoreAdj", "-1001");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"oomScoreAdj\": 4294967296}", "process.oomScoreAdj", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"oomScoreAdj\": 1.5}", "process.oomScoreAdj", NULL);
  /* user */
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"user\": {\"uid\": -1}}", "process.user.uid", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"user\": {\"gid\": \"0\"}}", "process.user.gid", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"user\": {\"uid\": 4294967295}}", "process.user", "out of range");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"user\": {\"additionalGids\": [1, -5]}}",
               "process.user.additionalGids[1]", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"consoleSize\": {\"height\": -1}}", "process.consoleSize.height", NULL);
}

static void
test_bad_rlimits (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]}",
               "process.rlimits", "RLIMIT_FOO");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"rlimits\": [{\"type\": \"nofile\", \"soft\": 1, \"hard\": 1}]}",
               "process.rlimits", "nofile");
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"rlimits\": [{\"soft\": 1, \"hard\": 1}]}", "process.rlimits[].type",
               NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]}",
               "process.rlimits[].hard", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1}]}",
               "process.rlimits[].soft", NULL);
  expect_fail (b, "\"process\": {\"args\": [\"sh\"], \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": -1, \"hard\": 1}]}",
               "process.rlimits[].soft", NULL);
}

static void
test_bad_id_mappings (void **state)
{
  struct bundle *b = *state;

  expect_fail (b,
               "\"linux\": {\"namespaces\": [{\"type\": \"pid\"}],"
               " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}",
               "linux.uidMappings", "user namespace");
  expect_fail (b, "\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}", "linux.uidMappings",
               "user namespace");
  expect_fail (b,
               "\"linux\": {\"namespaces\": [{\"type\": \"user\"}],"
               " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000}]}",
               "linux.uidMappings[0]", NULL);
  expect_fail (b,
               "\"linux\": {\"namespaces\": [{\"type\": \"user\"}],"
               " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 4294967296, \"size\": 1}]}",
               "linux.gidMappings[0]", NULL);
  expect_fail (b,
               "\"linux\": {\"namespaces\": [{\"type\": \"user\"}],"
               " \"uidMappings\": [{\"containerID\": -1, \"hostID\": 0, \"size\": 1}]}",
               "linux.uidMappings", NULL);
}

/* The message names the field that is wrong: with gidMappings alone it
   must not talk about uidMappings.  */
static void
test_bad_gid_mappings_named (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"linux\": {\"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}",
               "linux.gidMappings", "user namespace");
}

static void
test_bad_hooks (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"hooks\": {\"prestart\": [{\"path\": \"bin/hook\"}]}", "hooks.prestart[0].path", "bin/hook");
  expect_fail (b, "\"hooks\": {\"poststop\": [{\"path\": \"/bin/true\"}, {\"path\": \"hook\"}]}", "hooks.poststop[1].path",
               "hook");
  expect_fail (b, "\"hooks\": {\"createRuntime\": [{\"args\": [\"x\"]}]}", "missing field `hooks.createRuntime`", NULL);
  expect_fail (b, "\"hooks\": {\"startContainer\": [{\"path\": \"/bin/true\", \"timeout\": 0}]}",
               "hooks.startContainer[0].timeout", NULL);
  expect_fail (b, "\"hooks\": {\"poststart\": [{\"path\": \"/bin/true\", \"timeout\": -3}]}", "hooks.poststart[0].timeout",
               NULL);
  expect_fail (b, "\"hooks\": {\"createContainer\": {\"path\": \"/bin/true\"}}", "hooks.createContainer", "array");
  expect_fail (b, "\"hooks\": {\"prestart\": [{\"path\": \"/bin/true\", \"args\": \"x\"}]}", "hooks.prestart", NULL);
  expect_fail (b, "\"hooks\": [1]", "`hooks`", "object");
}

static void
test_bad_mounts (void **state)
{
  struct bundle *b = *state;
  cleanup_free char *missing = bundle_path (b, "missing-src");

  expect_fail (b, "\"mounts\": [{\"type\": \"tmpfs\", \"source\": \"tmpfs\"}]", "mounts[].destination", NULL);
  expect_fail (b, "\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\"}, {\"destination\": \"tmp\", \"type\": \"tmpfs\"}]",
               "mounts[1].destination", "tmp");
  expect_fail (b, "\"mounts\": [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"missing-src\", \"options\": [\"rbind\"]}]",
               "mounts[0].source", missing);
  expect_fail (b, "\"mounts\": [{\"destination\": \"/data\", \"source\": \"/nonexistent/skiff/src\", \"options\": [\"bind\"]}]",
               "mounts[0].source", "/nonexistent/skiff/src");
  expect_fail (b, "\"mounts\": [{\"destination\": \"/data\", \"options\": [\"rbind\"]}]", "mounts[0].source", NULL);
  expect_fail (b, "\"mounts\": [{\"destination\": \"/data\", \"source\": \"tmpfs\"}]", "mounts[0].type", NULL);
  expect_fail (b, "\"mounts\": [{\"destination\": \"/data\", \"type\": \"tmpfs\", \"options\": \"ro\"}]", "mounts[].options",
               NULL);
  expect_fail (b, "\"mounts\": {\"destination\": \"/data\"}", "`mounts`", "array");
}

static void
test_bad_devices (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"x\", \"major\": 1, \"minor\": 1}]}",
               "linux.devices[0].type", "x");
  expect_fail (b, "\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"cc\", \"major\": 1, \"minor\": 1}]}",
               "linux.devices[0].type", "cc");
  expect_fail (b, "\"linux\": {\"devices\": [{\"path\": \"dev/x\", \"type\": \"c\", \"major\": 1, \"minor\": 1}]}",
               "linux.devices[0].path", "dev/x");
  expect_fail (b, "\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1}]}",
               "linux.devices[0].major/minor", NULL);
  expect_fail (b, "\"linux\": {\"devices\": [{\"type\": \"c\", \"major\": 1, \"minor\": 1}]}", "linux.devices[].path", NULL);
  expect_fail (b, "\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]}}",
               "linux.resources.devices[0].access", "rwx");
  expect_fail (b, "\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwmr\"}]}}",
               "linux.resources.devices[0].access", NULL);
  expect_fail (b, "\"linux\": {\"resources\": {\"devices\": [{\"allow\": true}, {\"allow\": true, \"type\": \"u\"}]}}",
               "linux.resources.devices[1].type", "u");
  expect_fail (b, "\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"\"}]}}",
               "linux.resources.devices[0].type", NULL);
  expect_fail (b, "\"linux\": {\"resources\": {\"devices\": [{\"allow\": \"yes\"}]}}", "linux.resources.devices[].allow", NULL);
}

static void
test_bad_resources (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"linux\": {\"resources\": {\"memory\": {\"limit\": 1048576, \"swap\": 4096}}}",
               "linux.resources.memory.swap", NULL);
  expect_fail (b, "\"linux\": {\"resources\": {\"memory\": {\"swappiness\": 101}}}", "linux.resources.memory.swappiness", "101");
  expect_fail (b, "\"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}", "linux.resources.memory.limit", NULL);
  expect_fail (b, "\"linux\": {\"resources\": {\"cpu\": {\"shares\": -1}}}", "linux.resources.cpu.shares", NULL);
  expect_fail (b, "\"linux\": {\"resources\": {\"cpu\": {\"cpus\": 1}}}", "linux.resources.cpu.cpus", NULL);
  expect_fail (b, "\"linux\": {\"resources\": {\"pids\": {\"limit\": \"max\"}}}", "linux.resources.pids.limit", NULL);
  expect_fail (b, "\"linux\": {\"resources\": {\"unified\": {\"../memory.max\": \"1\"}}}", "linux.resources.unified",
               "../memory.max");
  expect_fail (b, "\"linux\": {\"resources\": {\"unified\": {\"memory.max\": 1}}}", "linux.resources.unified.memory.max", NULL);
  expect_fail (b, "\"linux\": {\"resources\": [1]}", "linux.resources", "object");
}

static void
test_bad_linux_misc (void **state)
{
  struct bundle *b = *state;

  expect_fail (b, "\"linux\": {\"rootfsPropagation\": \"bogus\"}", "linux.rootfsPropagation", "bogus");
  expect_fail (b, "\"linux\": {\"cgroupsPath\": \"/a/../../b\"}", "linux.cgroupsPath", "..");
  expect_fail (b, "\"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": 1}}", "linux.sysctl.net.ipv4.ip_forward", NULL);
  expect_fail (b, "\"linux\": {\"sysctl\": {\"net/ipv4/ip_forward\": \"1\"}}", "linux.sysctl", "net/ipv4/ip_forward");
  expect_fail (b, "\"linux\": {\"sysctl\": {\"..kernel\": \"1\"}}", "linux.sysctl", "..kernel");
  expect_fail (b, "\"linux\": {\"maskedPaths\": [1]}", "linux.maskedPaths[0]", NULL);
  expect_fail (b, "\"linux\": {\"readonlyPaths\": \"/proc\"}", "linux.readonlyPaths", NULL);
  expect_fail (b, "\"hostname\": 5", "hostname", NULL);
}

/* ---- well-formed sections are parsed ---- */

static void
test_seccomp_parsed (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (
      b, "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
         " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_AARCH64\"],"
         " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_TSYNC\"],"
         " \"syscalls\": ["
         "  {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
         "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1, \"args\": ["
         "    {\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},"
         "    {\"index\": 1, \"value\": 255, \"valueTwo\": 4, \"op\": \"SCMP_CMP_MASKED_EQ\"},"
         "    {\"index\": 5, \"value\": 18446744073709551615, \"op\": \"SCMP_CMP_NE\"}]},"
         "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\"},"
         "  {\"names\": [\"kexec_load\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
         "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 7}"
         "]}}");
  const struct spec_seccomp *sc = s->seccomp;
  const struct spec_seccomp_rule *r;

  assert_non_null (sc);
  assert_int_equal (sc->default_action, SCMP_ACT_ERRNO (38));
  assert_int_equal (sc->n_archs, 2);
  assert_int_equal (sc->archs[0], SCMP_ARCH_X86_64);
  assert_int_equal (sc->archs[1], SCMP_ARCH_AARCH64);
  assert_true (sc->flag_log);
  assert_true (sc->flag_spec_allow);
  assert_int_equal (sc->n_rules, 5);

  r = &sc->rules[0];
  assert_int_equal (r->n_names, 2);
  assert_string_equal (r->names[0], "read");
  assert_string_equal (r->names[1], "write");
  assert_int_equal (r->action, SCMP_ACT_ALLOW);
  assert_int_equal (r->n_args, 0);

  r = &sc->rules[1];
  assert_int_equal (r->n_names, 1);
  assert_string_equal (r->names[0], "personality");
  assert_int_equal (r->action, SCMP_ACT_ERRNO (1));
  assert_int_equal (r->n_args, 3);
  assert_int_equal (r->args[0].index, 0);
  assert_true (r->args[0].value == 8);
  assert_true (r->args[0].value_two == 0);
  assert_int_equal (r->args[0].op, SCMP_CMP_EQ);
  assert_int_equal (r->args[1].index, 1);
  assert_true (r->args[1].value == 255);
  assert_true (r->args[1].value_two == 4);
  assert_int_equal (r->args[1].op, SCMP_CMP_MASKED_EQ);
  assert_int_equal (r->args[2].index, 5);
  assert_true (r->args[2].value == UINT64_MAX);
  assert_int_equal (r->args[2].op, SCMP_CMP_NE);

  /* ERRNO without errnoRet defaults to EPERM */
  assert_int_equal (sc->rules[2].action, SCMP_ACT_ERRNO (EPERM));
  assert_int_equal (sc->rules[3].action, SCMP_ACT_KILL_PROCESS);
  assert_int_equal (sc->rules[4].action, SCMP_ACT_TRACE (7));
}

static void
test_seccomp_minimal (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (b, "\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\"}}");

  assert_non_null (s->seccomp);
  assert_int_equal (s->seccomp->default_action, SCMP_ACT_ERRNO (EPERM));
  assert_int_equal (s->seccomp->n_archs, 0);
  assert_int_equal (s->seccomp->n_rules, 0);
  assert_false (s->seccomp->flag_log);
  assert_false (s->seccomp->flag_spec_allow);
}

static void
test_resources_parsed (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (
      b, "\"linux\": {\"resources\": {"
         " \"memory\": {\"limit\": 536870912, \"reservation\": 268435456, \"swap\": 1073741824, \"swappiness\": 60,"
         "   \"disableOOMKiller\": true},"
         " \"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\", \"mems\": \"0\"},"
         " \"pids\": {\"limit\": 100},"
         " \"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
         "   {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"},"
         "   {\"allow\": true, \"type\": \"b\", \"major\": 8},"
         "   {\"allow\": true, \"type\": \"c\", \"minor\": 5, \"access\": \"m\"}],"
         " \"unified\": {\"memory.high\": \"1G\", \"io.weight\": \"default 100\"}"
         "}, \"cgroupsPath\": \"/skiff/test\"}");
  const struct spec_resources *r = &s->resources;

  assert_true (s->has_resources);
  assert_true (r->has_memory_limit);
  assert_true (r->memory_limit == 536870912);
  assert_true (r->has_memory_reservation);
  assert_true (r->memory_reservation == 268435456);
  assert_true (r->has_memory_swap);
  assert_true (r->memory_swap == 1073741824);
  assert_true (r->has_memory_swappiness);
  assert_true (r->memory_swappiness == 60);
  assert_true (r->disable_oom_killer);

  assert_true (r->has_cpu_shares);
  assert_true (r->cpu_shares == 512);
  assert_true (r->has_cpu_quota);
  assert_true (r->cpu_quota == 50000);
  assert_true (r->has_cpu_period);
  assert_true (r->cpu_period == 100000);
  assert_string_equal (r->cpuset_cpus, "0-1");
  assert_string_equal (r->cpuset_mems, "0");

  assert_true (r->has_pids_limit);
  assert_true (r->pids_limit == 100);

  assert_int_equal (r->n_devices, 4);
  assert_false (r->devices[0].allow);
  assert_int_equal (r->devices[0].type, 'a');
  assert_true (r->devices[0].major == -1);
  assert_true (r->devices[0].minor == -1);
  assert_string_equal (r->devices[0].access, "rwm");
  assert_true (r->devices[1].allow);
  assert_int_equal (r->devices[1].type, 'c');
  assert_true (r->devices[1].major == 1);
  assert_true (r->devices[1].minor == 3);
  assert_string_equal (r->devices[1].access, "rw");
  /* missing minor is "any", missing access is "rwm" */
  assert_int_equal (r->devices[2].type, 'b');
  assert_true (r->devices[2].major == 8);
  assert_true (r->devices[2].minor == -1);
  assert_string_equal (r->devices[2].access, "rwm");
  assert_true (r->devices[3].major == -1);
  assert_true (r->devices[3].minor == 5);
  assert_string_equal (r->devices[3].access, "m");

  assert_int_equal (r->n_unified, 2);
  assert_string_equal (r->unified_keys[0], "memory.high");
  assert_string_equal (r->unified_values[0], "1G");
  assert_string_equal (r->unified_keys[1], "io.weight");
  assert_string_equal (r->unified_values[1], "default 100");

  assert_string_equal (s->cgroups_path, "/skiff/test");
}

static void
test_resources_edge_values (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (
      b, "\"linux\": {\"resources\": {\"memory\": {\"limit\": 0, \"swap\": -1},"
         " \"cpu\": {\"shares\": 0, \"period\": 0, \"quota\": -1}, \"pids\": {\"limit\": -1}}}");
  cleanup_spec struct spec *empty = parse_ok (b, "\"linux\": {\"resources\": {}}");
  cleanup_spec struct spec *none = parse_ok (b, "\"linux\": {}");
  const struct spec_resources *r = &s->resources;

  /* 0 means "not set" for limit, shares and period */
  assert_false (r->has_memory_limit);
  assert_true (r->has_memory_swap);
  assert_true (r->memory_swap == -1);
  assert_false (r->has_cpu_shares);
  assert_false (r->has_cpu_period);
  assert_true (r->has_cpu_quota);
  assert_true (r->cpu_quota == -1);
  assert_true (r->has_pids_limit);
  assert_true (r->pids_limit == -1);

  assert_true (empty->has_resources);
  assert_false (empty->resources.has_memory_limit);
  assert_false (empty->resources.has_pids_limit);
  assert_int_equal (empty->resources.n_devices, 0);
  assert_false (none->has_resources);
}

static void
test_process_parsed (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (
      b, "\"process\": {\"terminal\": false, \"consoleSize\": {\"height\": 24, \"width\": 80},"
         " \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 18, \"additionalGids\": [5, 10, 4294967294]},"
         " \"args\": [\"/bin/sh\", \"-c\", \"echo hi\"], \"env\": [\"A=1\"], \"cwd\": \"/work\","
         " \"capabilities\": {\"bounding\": [\"CAP_SYS_ADMIN\", \"CAP_CHOWN\"], \"inheritable\": []},"
         " \"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 18446744073709551615},"
         "   {\"type\": \"RLIMIT_NPROC\", \"soft\": 10, \"hard\": 20}],"
         " \"noNewPrivileges\": false, \"apparmorProfile\": \"skiff-default\", \"selinuxLabel\": \"system_u:r:c\","
         " \"oomScoreAdj\": -1000}, \"hostname\": \"box\", \"domainname\": \"example.org\"");
  const struct spec_process *p = s->process;

  assert_non_null (p);
  assert_false (p->terminal);
  assert_int_equal (p->console_height, 24);
  assert_int_equal (p->console_width, 80);
  assert_int_equal (p->uid, 1000);
  assert_int_equal (p->gid, 100);
  assert_true (p->has_umask);
  assert_int_equal (p->umask, 022);
  assert_int_equal (p->n_additional_gids, 3);
  assert_int_equal (p->additional_gids[0], 5);
  assert_int_equal (p->additional_gids[1], 10);
  assert_int_equal (p->additional_gids[2], 4294967294U);
  assert_int_equal (p->n_args, 3);
  assert_string_equal (p->args[2], "echo hi");
  assert_int_equal (p->n_env, 1);
  assert_string_equal (p->cwd, "/work");
  assert_true (p->has_capabilities);
  {
    static const int want[] = { CAP_SYS_ADMIN, CAP_CHOWN };
    assert_caps (&p->caps.bounding, want, 2);
  }
  assert_int_equal (p->caps.inheritable.n, 0);
  assert_int_equal (p->caps.effective.n, 0);
  assert_int_equal (p->n_rlimits, 2);
  assert_int_equal (p->rlimits[0].resource, RLIMIT_CORE);
  assert_true (p->rlimits[0].soft == 0);
  assert_true (p->rlimits[0].hard == UINT64_MAX);
  assert_int_equal (p->rlimits[1].resource, RLIMIT_NPROC);
  assert_true (p->rlimits[1].soft == 10);
  assert_true (p->rlimits[1].hard == 20);
  assert_false (p->no_new_privileges);
  assert_string_equal (p->apparmor_profile, "skiff-default");
  assert_string_equal (p->selinux_label, "system_u:r:c");
  assert_true (p->has_oom_score_adj);
  assert_int_equal (p->oom_score_adj, -1000);
  assert_string_equal (s->hostname, "box");
  assert_string_equal (s->domainname, "example.org");
}

static void
test_process_defaults (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (b, "\"process\": {\"args\": [\"sh\"], \"oomScoreAdj\": 1000}");
  cleanup_spec struct spec *noproc = parse_ok (b, "\"process\": null");
  const struct spec_process *p = s->process;

  assert_string_equal (p->cwd, "/");
  assert_int_equal (p->uid, 0);
  assert_false (p->has_capabilities);
  assert_false (p->has_umask);
  assert_int_equal (p->n_rlimits, 0);
  assert_int_equal (p->n_env, 0);
  assert_true (p->has_oom_score_adj);
  assert_int_equal (p->oom_score_adj, 1000);
  assert_null (noproc->process);
}

static void
test_process_file (void **state)
{
  struct bundle *b = *state;
  cleanup_free char *path = bundle_path (b, "process.json");
  struct spec_process *p = NULL;
  skiff_error_t err = NULL;

  bundle_write (b, "process.json", "{\"args\": [\"ls\", \"-l\"], \"cwd\": \"/tmp\", \"env\": [\"X=y\"]}");
  assert_int_equal (spec_parse_process_file (path, &p, &err), 0);
  assert_null (err);
  assert_int_equal (p->n_args, 2);
  assert_string_equal (p->args[1], "-l");
  assert_string_equal (p->cwd, "/tmp");
  spec_process_free (p);
  p = NULL;

  bundle_write (b, "process.json", "{\"cwd\": \"/tmp\"}");
  assert_int_equal (spec_parse_process_file (path, &p, &err), -1);
  assert_null (p);
  assert_non_null (strstr (err->msg, "args"));
  assert_non_null (strstr (err->msg, path));
  skiff_error_release (&err);

  bundle_write (b, "process.json", "{\"args\": [\"ls\"], \"cwd\": \"rel\"}");
  assert_int_equal (spec_parse_process_file (path, &p, &err), -1);
  assert_non_null (strstr (err->msg, "process.cwd"));
  skiff_error_release (&err);
}

static void
test_namespaces_parsed (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (
      b, "\"linux\": {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"network\", \"path\": \"/proc/self/ns/net\"},"
         " {\"type\": \"time\"}, {\"type\": \"cgroup\", \"path\": null}],"
         " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
         " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536},"
         "   {\"containerID\": 65536, \"hostID\": 4294967295, \"size\": 1}]}");
  const char *path = NULL;

  assert_int_equal (s->n_namespaces, 4);
  assert_int_equal (s->namespaces[0].type, CLONE_NEWUSER);
  assert_int_equal (s->namespaces[1].type, CLONE_NEWNET);
  assert_string_equal (s->namespaces[1].path, "/proc/self/ns/net");
  assert_int_equal (s->namespaces[2].type, CLONE_NEWTIME);
  assert_null (s->namespaces[3].path);
  assert_int_equal (spec_has_namespace (s, CLONE_NEWNET, &path), 1);
  assert_string_equal (path, "/proc/self/ns/net");
  assert_int_equal (spec_has_namespace (s, CLONE_NEWPID, &path), 0);

  assert_int_equal (s->n_uid_mappings, 1);
  assert_int_equal (s->uid_mappings[0].container_id, 0);
  assert_int_equal (s->uid_mappings[0].host_id, 100000);
  assert_int_equal (s->uid_mappings[0].size, 65536);
  assert_int_equal (s->n_gid_mappings, 2);
  assert_int_equal (s->gid_mappings[1].container_id, 65536);
  assert_int_equal (s->gid_mappings[1].host_id, 4294967295U);
  assert_int_equal (s->gid_mappings[1].size, 1);
}

static void
test_mounts_parsed (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = NULL;
  cleanup_free char *data = bundle_path (b, "data");
  const struct spec_mount *m;

  bundle_mkdir (b, "data");
  s = parse_ok (b, "\"mounts\": ["
                   " {\"destination\": \"/data\", \"type\": \"none\", \"source\": \"data\", \"options\": [\"rbind\", \"ro\", \"rprivate\"]},"
                   " {\"destination\": \"/etc/resolv.conf\", \"type\": \"bind\", \"source\": \"/etc/hosts\"},"
                   " {\"destination\": \"/abs\", \"source\": \"./data/../data/\", \"options\": [\"bind\", \"shared\"]},"
                   " {\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"/nonexistent/is/fine\","
                   "  \"options\": [\"rw\", \"nosuid\", \"nodev\", \"suid\", \"mode=1777\", \"size=10m\"]}"
                   "]");
  assert_int_equal (s->n_mounts, 4);

  m = find_mount (s, "/data");
  assert_true (m->is_bind);
  assert_int_equal (m->flags, MS_BIND | MS_REC | MS_RDONLY);
  assert_int_equal (m->propagation, MS_PRIVATE | MS_REC);
  /* bind sources are made absolute against the bundle */
  assert_string_equal (m->source, data);
  assert_null (m->data);

  /* type "bind" alone is a bind mount */
  m = find_mount (s, "/etc/resolv.conf");
  assert_true (m->is_bind);
  assert_int_equal (m->flags, MS_BIND);
  assert_string_equal (m->source, "/etc/hosts");

  m = find_mount (s, "/abs");
  assert_true (m->is_bind);
  assert_string_equal (m->source, data);
  assert_int_equal (m->propagation, MS_SHARED);

  /* later options override earlier ones; non-bind sources are kept as is */
  m = find_mount (s, "/tmp");
  assert_false (m->is_bind);
  assert_int_equal (m->flags, MS_NODEV);
  assert_string_equal (m->data, "mode=1777,size=10m");
  assert_string_equal (m->source, "/nonexistent/is/fine");
}

static void
test_hooks_parsed (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (
      b, "\"hooks\": {\"prestart\": [{\"path\": \"/usr/bin/fix-mounts\", \"args\": [\"fix-mounts\", \"arg1\"],"
         "   \"env\": [\"key1=value1\"], \"timeout\": 5}, {\"path\": \"/usr/bin/setup-network\"}],"
         " \"createRuntime\": [{\"path\": \"/bin/cr\"}], \"createContainer\": [], \"startContainer\": [{\"path\": \"/bin/sc\"}],"
         " \"poststart\": [{\"path\": \"/bin/ps\"}], \"poststop\": [{\"path\": \"/usr/sbin/cleanup.sh\", \"args\": [\"cleanup.sh\", \"-f\"]}]}");
  const struct spec_hook *h;

  assert_int_equal (s->hooks[HOOK_PRESTART].n, 2);
  h = &s->hooks[HOOK_PRESTART].hooks[0];
  assert_string_equal (h->path, "/usr/bin/fix-mounts");
  assert_string_equal (h->args[0], "fix-mounts");
  assert_string_equal (h->args[1], "arg1");
  assert_null (h->args[2]);
  assert_string_equal (h->env[0], "key1=value1");
  assert_int_equal (h->timeout, 5);
  h = &s->hooks[HOOK_PRESTART].hooks[1];
  assert_string_equal (h->path, "/usr/bin/setup-network");
  assert_null (h->args);
  assert_int_equal (h->timeout, 0);
  assert_int_equal (s->hooks[HOOK_CREATE_RUNTIME].n, 1);
  assert_string_equal (s->hooks[HOOK_CREATE_RUNTIME].hooks[0].path, "/bin/cr");
  assert_int_equal (s->hooks[HOOK_CREATE_CONTAINER].n, 0);
  assert_int_equal (s->hooks[HOOK_START_CONTAINER].n, 1);
  assert_int_equal (s->hooks[HOOK_POSTSTART].n, 1);
  assert_int_equal (s->hooks[HOOK_POSTSTOP].n, 1);
  assert_string_equal (s->hooks[HOOK_POSTSTOP].hooks[0].args[1], "-f");
}

static void
test_linux_misc_parsed (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = parse_ok (
      b, "\"linux\": {\"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229,"
         "   \"fileMode\": 8630, \"uid\": 0, \"gid\": 5}, {\"path\": \"/dev/fifo\", \"type\": \"p\"}],"
         " \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"kernel.shm_rmid_forced\": \"0\"},"
         " \"rootfsPropagation\": \"rslave\", \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": []}");

  assert_int_equal (s->n_devices, 2);
  assert_string_equal (s->devices[0].path, "/dev/fuse");
  assert_int_equal (s->devices[0].type, 'c');
  assert_true (s->devices[0].major == 10);
  assert_true (s->devices[0].minor == 229);
  assert_true (s->devices[0].has_file_mode);
  /* 8630 = 020666: the file type bits are dropped */
  assert_int_equal (s->devices[0].file_mode, 0666);
  assert_true (s->devices[0].has_uid);
  assert_true (s->devices[0].has_gid);
  assert_int_equal (s->devices[0].gid, 5);
  assert_int_equal (s->devices[1].type, 'p');
  assert_false (s->devices[1].has_file_mode);

  assert_int_equal (s->n_sysctl, 2);
  assert_string_equal (s->sysctl[0].key, "net.ipv4.ip_forward");
  assert_string_equal (s->sysctl[0].value, "1");
  assert_string_equal (s->sysctl[1].key, "kernel.shm_rmid_forced");

  assert_int_equal (s->rootfs_propagation, MS_SLAVE | MS_REC);
  assert_int_equal (s->n_masked_paths, 1);
  assert_int_equal (s->n_readonly_paths, 0);
  assert_non_null (s->readonly_paths);
}

/* ---- spec_parse_saved ---- */

static void
test_parse_saved_no_file_checks (void **state)
{
  struct bundle *b = *state;
  cleanup_spec struct spec *s = NULL;
  cleanup_free char *missing_root = bundle_path (b, "gone");
  cleanup_free char *missing_src = bundle_path (b, "gone-src");
  skiff_error_t err = NULL;
  static const char text[] =
      "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"gone\"},"
      " \"mounts\": [{\"destination\": \"/data\", \"source\": \"gone-src\", \"options\": [\"rbind\"]}],"
      " \"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/nonexistent/skiff/ns/net\"}]}}";

  /* spec_parse checks the files ... */
  expect_fail_text (b, false, text, "root.path", missing_root);
  /* ... spec_parse_saved does not */
  assert_int_equal (spec_parse_saved (text, b->dir, &s, &err), 0);
  assert_null (err);
  assert_non_null (s);
  assert_string_equal (s->root_path, missing_root);
  assert_string_equal (s->mounts[0].source, missing_src);
  assert_string_equal (s->namespaces[0].path, "/nonexistent/skiff/ns/net");

  /* but it still validates everything else */
  expect_fail_text (b, true,
                    "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"gone\"},"
                    " \"process\": {\"args\": [\"sh\"], \"capabilities\": {\"bounding\": [\"CAP_FOO\"]}}}",
                    "process.capabilities.bounding", "CAP_FOO");
  expect_fail_text (b, true, "{\"ociVersion\": \"1.0.2\"}", "missing field `root`", NULL);
}

/* ---- name tables ---- */

static void
test_capability_value (void **state)
{
  assert_int_equal (spec_capability_value ("CAP_SYS_ADMIN"), 21);
  assert_int_equal (spec_capability_value ("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  assert_int_equal (spec_capability_value ("CAP_CHOWN"), 0);
  assert_int_equal (spec_capability_value ("CAP_KILL"), CAP_KILL);
  assert_int_equal (spec_capability_value ("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
  assert_int_equal (spec_capability_value ("CAP_AUDIT_WRITE"), CAP_AUDIT_WRITE);
  assert_int_equal (spec_capability_value ("CAP_SETFCAP"), CAP_SETFCAP);
  /* only the canonical upper-case form */
  assert_int_equal (spec_capability_value ("cap_sys_admin"), -1);
  assert_int_equal (spec_capability_value ("Cap_Sys_Admin"), -1);
  assert_int_equal (spec_capability_value ("SYS_ADMIN"), -1);
  assert_int_equal (spec_capability_value ("sys_admin"), -1);
  assert_int_equal (spec_capability_value ("CAP_FOO"), -1);
  assert_int_equal (spec_capability_value ("CAP_"), -1);
  assert_int_equal (spec_capability_value (""), -1);
  assert_int_equal (spec_capability_value ("21"), -1);
  assert_int_equal (spec_capability_value ("CAP_SYS_ADMINX"), -1);
}

/* A name is the whole string: nothing may follow it.  */
static void
test_capability_value_trailing_garbage (void **state)
{
  assert_int_equal (spec_capability_value ("CAP_SYS_ADMIN "), -1);
  assert_int_equal (spec_capability_value ("CAP_SYS_ADMIN,CAP_KILL"), -1);
  assert_int_equal (spec_capability_value ("CAP_KILL+ep"), -1);
  assert_int_equal (spec_capability_value ("CAP_KILL="), -1);
}

/* "Only the canonical upper-case CAP_* form is valid in a config."  */
static void
test_capability_value_mixed_case (void **state)
{
  assert_int_equal (spec_capability_value ("CAP_sys_admin"), -1);
  assert_int_equal (spec_capability_value ("CAP_Sys_Admin"), -1);
}

static void
test_namespace_names (void **state)
{
  static const struct
  {
    const char *name;
    int type;
  } t[] = {
    { "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS }, { "ipc", CLONE_NEWIPC },
    { "uts", CLONE_NEWUTS }, { "user", CLONE_NEWUSER },   { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
  };
  size_t i;

  for (i = 0; i < N (t); i++)
    {
      assert_int_equal (spec_namespace_type (t[i].name), t[i].type);
      assert_string_equal (spec_namespace_name (t[i].type), t[i].name);
    }
  assert_int_equal (spec_namespace_type ("net"), -1);
  assert_int_equal (spec_namespace_type ("PID"), -1);
  assert_int_equal (spec_namespace_type (""), -1);
  assert_null (spec_namespace_name (0));
  assert_null (spec_namespace_name (CLONE_NEWPID | CLONE_NEWNET));
}

static void
test_rlimit_names (void **state)
{
  assert_int_equal (spec_rlimit_resource ("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  assert_int_equal (spec_rlimit_resource ("RLIMIT_AS"), RLIMIT_AS);
  assert_int_equal (spec_rlimit_resource ("RLIMIT_CORE"), RLIMIT_CORE);
  assert_int_equal (spec_rlimit_resource ("RLIMIT_NPROC"), RLIMIT_NPROC);
  assert_int_equal (spec_rlimit_resource ("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  assert_int_equal (spec_rlimit_resource ("RLIMIT_STACK"), RLIMIT_STACK);
  assert_int_equal (spec_rlimit_resource ("rlimit_nofile"), -1);
  assert_int_equal (spec_rlimit_resource ("NOFILE"), -1);
  assert_int_equal (spec_rlimit_resource ("RLIMIT_FOO"), -1);
  assert_int_equal (spec_rlimit_resource (""), -1);
}

/* ---- spec_mount_parse_options ---- */

static void
mount_options (struct spec_mount *m, const char *type, char **opts, size_t n)
{
  skiff_error_t err = NULL;

  memset (m, 0, sizeof (*m));
  m->destination = (char *) "/mnt";
  m->type = (char *) type;
  m->options = opts;
  m->n_options = n;
  assert_int_equal (spec_mount_parse_options (m, &err), 0);
  assert_null (err);
}

static void
test_mount_parse_options (void **state)
{
  struct spec_mount m;
  char *o1[] = { "ro", "nosuid", "rbind", "rprivate", "size=1m", NULL };
  char *o2[] = { "defaults", NULL };
  char *o3[] = { "ro", "rw", "noexec", "exec", "nodev", "noatime", "nodiratime", "mode=755", "uid=0", NULL };
  char *o4[] = { "bind", "slave", "rshared", NULL };
  char *o5[] = { "private", "unbindable", "runbindable", "rslave", NULL };
  char *o6[] = { "sync", "dirsync", "remount", "strictatime", "relatime", "lazytime", "silent", NULL };
  char *o7[] = { "sync", "async", "mand", "nomand", "lazytime", "nolazytime", "silent", "loud", "atime", "diratime",
                 "relatime", "norelatime", "strictatime", "nostrictatime", "suid", "dev", NULL };

  mount_options (&m, "none", o1, 5);
  assert_int_equal (m.flags, MS_RDONLY | MS_NOSUID | MS_BIND | MS_REC);
  assert_int_equal (m.propagation, MS_PRIVATE | MS_REC);
  assert_string_equal (m.data, "size=1m");
  assert_true (m.is_bind);
  free (m.data);

  mount_options (&m, "tmpfs", o2, 1);
  assert_int_equal (m.flags, 0);
  assert_int_equal (m.propagation, 0);
  assert_null (m.data);
  assert_false (m.is_bind);

  mount_options (&m, "tmpfs", NULL, 0);
  assert_int_equal (m.flags, 0);
  assert_null (m.data);

  /* clearing flags, and data in order */
  mount_options (&m, "tmpfs", o3, 9);
  assert_int_equal (m.flags, MS_NODEV | MS_NOATIME | MS_NODIRATIME);
  assert_string_equal (m.data, "mode=755,uid=0");
  assert_false (m.is_bind);
  free (m.data);

  /* the last propagation option wins */
  mount_options (&m, "none", o4, 3);
  assert_int_equal (m.flags, MS_BIND);
  assert_int_equal (m.propagation, MS_SHARED | MS_REC);
  assert_true (m.is_bind);
  mount_options (&m, "none", o5, 4);
  assert_int_equal (m.propagation, MS_SLAVE | MS_REC);
  assert_int_equal (m.flags, 0);
  mount_options (&m, "none", o5, 2);
  assert_int_equal (m.propagation, MS_UNBINDABLE);
  mount_options (&m, "none", o5, 1);
  assert_int_equal (m.propagation, MS_PRIVATE);

  mount_options (&m, "ext4", o6, 7);
  assert_int_equal (m.flags, MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_STRICTATIME | MS_RELATIME | MS_LAZYTIME | MS_SILENT);
  assert_null (m.data);

  mount_options (&m, "ext4", o7, 16);
  assert_int_equal (m.flags, 0);
  assert_null (m.data);

  /* type "bind" implies MS_BIND */
  mount_options (&m, "bind", NULL, 0);
  assert_int_equal (m.flags, MS_BIND);
  assert_true (m.is_bind);
  mount_options (&m, NULL, o2, 1);
  assert_false (m.is_bind);
}

int
main (void)
{
#define T(f) cmocka_unit_test_setup_teardown (f, setup_bundle, teardown_bundle)
  const struct CMUnitTest parse[] = {
    T (test_default_spec_parse),
    T (test_default_spec_load),
    T (test_load_relative_bundle),
    T (test_load_errors),
    T (test_unknown_fields_ignored),
    T (test_bad_document),
    T (test_bad_oci_version),
    T (test_bad_root),
    T (test_bad_namespaces),
    T (test_bad_capabilities),
    T (test_bad_seccomp),
    T (test_bad_process),
    T (test_bad_rlimits),
    T (test_bad_id_mappings),
    T (test_bad_gid_mappings_named),
    T (test_bad_hooks),
    T (test_bad_mounts),
    T (test_bad_devices),
    T (test_bad_resources),
    T (test_bad_linux_misc),
    T (test_seccomp_parsed),
    T (test_seccomp_minimal),
    T (test_resources_parsed),
    T (test_resources_edge_values),
    T (test_process_parsed),
    T (test_process_defaults),
    T (test_process_file),
    T (test_namespaces_parsed),
    T (test_mounts_parsed),
    T (test_hooks_parsed),
    T (test_linux_misc_parsed),
    T (test_parse_saved_no_file_checks),
    cmocka_unit_test (test_capability_value),
    cmocka_unit_test (test_capability_value_mixed_case),
    cmocka_unit_test (test_capability_value_trailing_garbage),
    cmocka_unit_test (test_namespace_names),
    cmocka_unit_test (test_rlimit_names),
    cmocka_unit_test (test_mount_parse_options),
  };
#undef T
  return cmocka_run_group_tests_name ("spec", parse, NULL, NULL);
}
