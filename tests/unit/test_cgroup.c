/* Unit tests for runtime/cgroup*.c: both backends against a fake
   hierarchy (regular files standing in for knobs, a fake mountinfo for
   v1), and one run against the real machine when root.

   Fake cgroup.procs files only ever hold pids above the kernel's pid_max
   limit (4194304), so that a kill through them can never reach a real
   process; the kill test uses its own child.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "cleanup.h"
#include "fs.h"

#define FAKE_PID_1 5000010
#define FAKE_PID_2 5000020
#define FAKE_PID_3 5000030

static char tmp[256];
static char mountinfo[300];
static char v2root[300];
static struct cgroup_test_hooks hooks;

/* What the fake kernel leaves out of new directories.  */
static bool no_memsw, no_kill;
static const char *skip_knob;

/* Every knob write, as "relative/path=value".  */
static char *writes[256];
static size_t n_writes;

/* ---- fake hierarchy ----------------------------------------------------- */

static void
put (const char *path, const char *content)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, strlen (content)), (ssize_t) strlen (content));
  close (fd);
}

static void
put_in (const char *dir, const char *name, const char *content)
{
  char path[1024];
  snprintf (path, sizeof (path), "%s/%s", dir, name);
  put (path, content);
}

/* Content of tmp/rel, trailing newline stripped; NULL when missing.  */
static char *
get (const char *rel)
{
  char path[1024];
  char *buf = NULL;
  size_t len = 0;
  skiff_error_t err = NULL;

  snprintf (path, sizeof (path), "%s/%s", tmp, rel);
  if (fs_read_file (path, &buf, &len, &err) < 0)
    {
      skiff_error_release (&err);
      return NULL;
    }
  while (len > 0 && buf[len - 1] == '\n')
    buf[--len] = '\0';
  return buf;
}

static void
assert_knob (const char *rel, const char *want)
{
  cleanup_free char *got = get (rel);
  if (got == NULL)
    fail_msg ("missing knob %s", rel);
  if (strcmp (got, want) != 0)
    fail_msg ("%s: got \"%s\", want \"%s\"", rel, got, want);
}

static bool
exists (const char *rel)
{
  char path[1024];
  snprintf (path, sizeof (path), "%s/%s", tmp, rel);
  return fs_exists (path);
}

static void
touch_knobs (const char *dir, const char *const *names, const char *content)
{
  for (; *names; names++)
    if (skip_knob == NULL || strcmp (*names, skip_knob) != 0)
      put_in (dir, *names, content);
}

static const char *const v2_knobs[] = { "cgroup.subtree_control", "cgroup.procs", "memory.max", "memory.low",
                                        "memory.swap.max", "memory.high", "cpu.weight", "cpu.max", "cpuset.cpus",
                                        "cpuset.mems", "pids.max", "io.weight", NULL };

/* The kernel's part: a new cgroup directory comes with its knobs.  */
static void
fake_populate (const char *dir)
{
  const char *rel = dir + strlen (tmp) + 1;
  char comp[128];
  char *save = NULL, *tok;
  static const char *const common[] = { "cgroup.procs", "tasks", NULL };
  static const char *const cpu[] = { "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", NULL };
  static const char *const cpuacct[] = { "cpuacct.usage", NULL };
  static const char *const cpuset[] = { "cpuset.cpus", "cpuset.mems", NULL };
  static const char *const memory[] = { "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.swappiness",
                                        "memory.oom_control", NULL };
  static const char *const memsw[] = { "memory.memsw.limit_in_bytes", NULL };
  static const char *const pids[] = { "pids.max", NULL };
  static const char *const devices[] = { "devices.allow", "devices.deny", NULL };
  static const char *const freezer[] = { "freezer.state", NULL };
  static const char *const blkio[] = { "blkio.weight", NULL };
  static const char *const kill_knob[] = { "cgroup.kill", NULL };

  if (strncmp (rel, "v2", 2) == 0)
    {
      touch_knobs (dir, v2_knobs, "");
      put_in (dir, "cgroup.controllers", "cpu io memory pids");
      if (!no_kill)
        touch_knobs (dir, kill_knob, "");
      return;
    }
  /* v1/<mount>/...: the mount directory names the controllers.  */
  snprintf (comp, sizeof (comp), "%s", rel + 3);
  comp[strcspn (comp, "/")] = '\0';
  touch_knobs (dir, common, "");
  for (tok = strtok_r (comp, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      if (strcmp (tok, "cpu") == 0)
        touch_knobs (dir, cpu, "");
      else if (strcmp (tok, "cpuacct") == 0)
        touch_knobs (dir, cpuacct, "");
      else if (strcmp (tok, "cpuset") == 0)
        touch_knobs (dir, cpuset, "");
      else if (strncmp (tok, "memory", 6) == 0)
        {
          touch_knobs (dir, memory, "");
          if (!no_memsw)
            touch_knobs (dir, memsw, "");
        }
      else if (strcmp (tok, "pids") == 0)
        touch_knobs (dir, pids, "");
      else if (strcmp (tok, "devices") == 0)
        touch_knobs (dir, devices, "");
      else if (strcmp (tok, "freezer") == 0)
        touch_knobs (dir, freezer, "");
      else if (strcmp (tok, "blk io") == 0)
        touch_knobs (dir, blkio, "");
    }
}

/* The kernel's part of rmdir: the knobs go with the directory.  */
static void
fake_unpopulate (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)))
    if (de->d_type == DT_REG)
      unlinkat (dirfd (d), de->d_name, 0);
  closedir (d);
}

static void
record_write (const char *path, const char *value)
{
  char *s = NULL;
  assert_true (n_writes < sizeof (writes) / sizeof (writes[0]));
  assert_true (asprintf (&s, "%s=%s", path + strlen (tmp) + 1, value) > 0);
  writes[n_writes++] = s;
}

static int
write_index (const char *entry)
{
  size_t i;
  for (i = 0; i < n_writes; i++)
    if (strcmp (writes[i], entry) == 0)
      return (int) i;
  return -1;
}

static void
assert_written (const char *entry)
{
  if (write_index (entry) < 0)
    fail_msg ("no write %s", entry);
}

static void
clear_writes (void)
{
  while (n_writes > 0)
    free (writes[--n_writes]);
}

/* v1 mounts: cpu and cpuacct comounted, blkio at a path with a space,
   plus mounts the backend must skip.  */
static const char *const v1_mounts[] = { "cpu,cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blk io",
                                         "systemd", "memory-dup", "unified", NULL };

static void
make_dir (const char *path)
{
  assert_int_equal (mkdir (path, 0755), 0);
  fake_populate (path);
}

static int
setup (void **state)
{
  char path[1024];
  FILE *f;
  size_t i;

  snprintf (tmp, sizeof (tmp), "/tmp/skiff-cgtest-XXXXXX");
  assert_non_null (mkdtemp (tmp));
  snprintf (mountinfo, sizeof (mountinfo), "%s/mountinfo", tmp);
  snprintf (v2root, sizeof (v2root), "%s/v2", tmp);

  no_memsw = no_kill = false;
  skip_knob = NULL;
  snprintf (path, sizeof (path), "%s/v1", tmp);
  assert_int_equal (mkdir (path, 0755), 0);
  for (i = 0; v1_mounts[i]; i++)
    {
      snprintf (path, sizeof (path), "%s/v1/%s", tmp, v1_mounts[i]);
      make_dir (path);
    }
  snprintf (path, sizeof (path), "%s/v1/cpuset", tmp);
  put_in (path, "cpuset.cpus", "0-3\n");
  put_in (path, "cpuset.mems", "0\n");
  make_dir (v2root);

  f = fopen (mountinfo, "w");
  assert_non_null (f);
  fprintf (f, "22 1 0:21 / /proc rw,nosuid - proc proc rw\n");
  fprintf (f, "30 22 0:27 / %s/v1 rw,relatime - tmpfs tmpfs rw,mode=755\n", tmp);
  fprintf (f, "31 30 0:28 / %s/v1/cpu,cpuacct rw,relatime shared:5 - cgroup cgroup rw,cpu,cpuacct\n", tmp);
  fprintf (f, "33 30 0:30 / %s/v1/cpuset rw,relatime - cgroup cgroup rw,cpuset\n", tmp);
  fprintf (f, "34 30 0:31 / %s/v1/memory rw,relatime - cgroup cgroup rw,memory\n", tmp);
  fprintf (f, "35 30 0:32 / %s/v1/devices rw,relatime - cgroup cgroup rw,devices\n", tmp);
  fprintf (f, "36 30 0:33 / %s/v1/freezer rw,relatime - cgroup cgroup rw,freezer\n", tmp);
  fprintf (f, "37 30 0:34 / %s/v1/blk\\040io rw,relatime - cgroup cgroup rw,blkio\n", tmp);
  fprintf (f, "38 30 0:35 / %s/v1/pids rw,relatime - cgroup cgroup rw,pids\n", tmp);
  fprintf (f, "39 30 0:36 / %s/v1/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n", tmp);
  fprintf (f, "40 30 0:37 / %s/v1/unified rw,relatime - cgroup2 cgroup2 rw\n", tmp);
  fprintf (f, "41 30 0:31 / %s/v1/memory-dup rw,relatime - cgroup cgroup rw,memory\n", tmp);
  fclose (f);

  memset (&hooks, 0, sizeof (hooks));
  hooks.root = v2root;
  hooks.mountinfo = mountinfo;
  hooks.after_mkdir = fake_populate;
  hooks.before_rmdir = fake_unpopulate;
  hooks.on_write = record_write;
  hooks.mode = 1;
  cgroup_set_test_hooks (&hooks);
  return 0;
}

static int
teardown (void **state)
{
  skiff_error_t err = NULL;

  cgroup_set_test_hooks (NULL);
  clear_writes ();
  if (fs_remove_tree (tmp, &err) < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      skiff_error_release (&err);
    }
  return 0;
}

static void
use_mode (int mode)
{
  hooks.mode = mode;
  cgroup_set_test_hooks (&hooks);
}

/* The directory of a v1 controller.  */
static const char *
v1_dir (const struct cgroup *cg, unsigned int bit)
{
  size_t i;
  for (i = 0; i < cg->n_dirs; i++)
    if (cg->dirs[i].controllers & bit)
      return cg->dirs[i].dir;
  fail_msg ("no directory for controller %#x", bit);
  return NULL;
}

static void
assert_ok (int ret, skiff_error_t *err)
{
  if (ret < 0)
    fail_msg ("unexpected error: %s", *err ? (*err)->msg : "(none)");
}

static int
expect_failure (int ret, skiff_error_t *err)
{
  int e;
  assert_true (ret < 0);
  assert_non_null (*err);
  e = (*err)->errno_;
  skiff_error_release (err);
  return e;
}

/* ---- layout and paths ---------------------------------------------------- */

static void
test_mode (void **state)
{
  int real;

  use_mode (0); /* detect: the temp directory is no cgroup2 file system */
  assert_int_equal (cgroup_mode (), 1);
  use_mode (2);
  assert_int_equal (cgroup_mode (), 2);
  cgroup_set_test_hooks (NULL);
  real = cgroup_mode ();
  assert_true (real == 1 || real == 2);
}

static void
test_paths_normalised (void **state)
{
  static const struct
  {
    const char *id, *path, *want;
  } cases[] = {
    { "abc", NULL, "/abc" },          { "abc", "", "/abc" },
    { "x", "foo/../bar//baz/", "/bar/baz" }, { "x", "rel/ative", "/rel/ative" },
    { "x", "../../etc", "/etc" },     { "x", "/./a/./b", "/a/b" },
  };
  skiff_error_t err = NULL;
  size_t i;

  use_mode (2);
  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_cgroup struct cgroup *cg = NULL;
      char rel[256];

      assert_ok (cgroup_create (cases[i].id, cases[i].path, NULL, &cg, &err), &err);
      assert_string_equal (cgroup_path (cg), cases[i].want);
      snprintf (rel, sizeof (rel), "v2%s", cases[i].want);
      assert_true (exists (rel));
      assert_ok (cgroup_destroy (cg, &err), &err);
      assert_false (exists (rel));
    }
  /* The root itself is never a container's cgroup.  */
  {
    struct cgroup *cg = NULL;
    assert_int_equal (expect_failure (cgroup_create ("x", "/", NULL, &cg, &err), &err), EINVAL);
    assert_int_equal (expect_failure (cgroup_create ("..", NULL, NULL, &cg, &err), &err), EINVAL);
    assert_int_equal (expect_failure (cgroup_create ("x", "a/../..", NULL, &cg, &err), &err), EINVAL);
    assert_null (cg);
  }
}

/* ---- v1 ------------------------------------------------------------------ */

static struct spec_device_rule rules[] = {
  { false, 'a', -1, -1, "rwm" },
  { true, 'c', 1, 3, "rwm" },
  { true, 'c', 136, -1, "rw" },
  { true, 'b', -1, -1, "m" },
};

static struct spec_resources
full_resources (void)
{
  struct spec_resources r = { 0 };
  r.has_memory_limit = r.has_memory_reservation = r.has_memory_swap = r.has_memory_swappiness = true;
  r.memory_limit = 64 << 20;
  r.memory_reservation = 32 << 20;
  r.memory_swap = 128 << 20;
  r.memory_swappiness = 10;
  r.disable_oom_killer = true;
  r.has_cpu_shares = r.has_cpu_quota = r.has_cpu_period = true;
  r.cpu_shares = 1024;
  r.cpu_quota = 50000;
  r.cpu_period = 100000;
  r.cpuset_cpus = (char *) "0-1";
  r.cpuset_mems = (char *) "0";
  r.has_pids_limit = true;
  r.pids_limit = 10;
  r.devices = rules;
  r.n_devices = sizeof (rules) / sizeof (rules[0]);
  return r;
}

static void
test_v1_create_apply (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = full_resources ();
  size_t i;

  assert_ok (cgroup_create ("ctr", "/parent/ctr", &r, &cg, &err), &err);
  assert_string_equal (cgroup_path (cg), "/parent/ctr");

  /* One directory per hierarchy: the comount once, the others skipped.  */
  assert_int_equal (cg->n_dirs, 7);
  for (i = 0; i < 7; i++)
    {
      char rel[256];
      snprintf (rel, sizeof (rel), "v1/%s/parent/ctr", v1_mounts[i]);
      assert_true (exists (rel));
    }
  assert_false (exists ("v1/systemd/parent"));
  assert_false (exists ("v1/memory-dup/parent"));
  assert_false (exists ("v1/unified/parent"));

  assert_knob ("v1/memory/parent/ctr/memory.limit_in_bytes", "67108864");
  assert_knob ("v1/memory/parent/ctr/memory.soft_limit_in_bytes", "33554432");
  assert_knob ("v1/memory/parent/ctr/memory.memsw.limit_in_bytes", "134217728");
  assert_knob ("v1/memory/parent/ctr/memory.swappiness", "10");
  assert_knob ("v1/memory/parent/ctr/memory.oom_control", "1");
  assert_true (write_index ("v1/memory/parent/ctr/memory.limit_in_bytes=67108864")
               < write_index ("v1/memory/parent/ctr/memory.memsw.limit_in_bytes=134217728"));
  assert_knob ("v1/cpu,cpuacct/parent/ctr/cpu.shares", "1024");
  assert_knob ("v1/cpu,cpuacct/parent/ctr/cpu.cfs_quota_us", "50000");
  assert_knob ("v1/cpu,cpuacct/parent/ctr/cpu.cfs_period_us", "100000");
  assert_knob ("v1/cpuset/parent/ctr/cpuset.cpus", "0-1");
  assert_knob ("v1/cpuset/parent/ctr/cpuset.mems", "0");
  assert_knob ("v1/pids/parent/ctr/pids.max", "10");

  /* Device rules in spec order.  */
  {
    int a = write_index ("v1/devices/parent/ctr/devices.deny=a *:* rwm");
    int b = write_index ("v1/devices/parent/ctr/devices.allow=c 1:3 rwm");
    int c = write_index ("v1/devices/parent/ctr/devices.allow=c 136:* rw");
    int d = write_index ("v1/devices/parent/ctr/devices.allow=b *:* m");
    assert_true (a >= 0 && a < b && b < c && c < d);
  }

  /* enter writes the pid in every hierarchy.  */
  assert_ok (cgroup_enter (cg, FAKE_PID_1, &err), &err);
  for (i = 0; i < 7; i++)
    {
      char rel[256], want[32];
      snprintf (rel, sizeof (rel), "v1/%s/parent/ctr/cgroup.procs", v1_mounts[i]);
      snprintf (want, sizeof (want), "%d", FAKE_PID_1);
      assert_knob (rel, want);
    }
}

static void
test_v1_cpuset_copied (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;

  assert_ok (cgroup_create ("ctr", "/a/b/c", NULL, &cg, &err), &err);
  assert_knob ("v1/cpuset/a/cpuset.cpus", "0-3");
  assert_knob ("v1/cpuset/a/cpuset.mems", "0");
  assert_knob ("v1/cpuset/a/b/cpuset.cpus", "0-3");
  assert_knob ("v1/cpuset/a/b/c/cpuset.cpus", "0-3");
  assert_knob ("v1/cpuset/a/b/c/cpuset.mems", "0");
  /* Nothing else was written without resources.  */
  assert_int_equal (n_writes, 6);
}

static void
test_v1_memsw_missing (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = { 0 };

  no_memsw = true;
  r.has_memory_limit = r.has_memory_swap = true;
  r.memory_limit = 1000;
  r.memory_swap = 2000;
  assert_ok (cgroup_create ("ctr", NULL, &r, &cg, &err), &err);
  assert_knob ("v1/memory/ctr/memory.limit_in_bytes", "1000");
  assert_false (exists ("v1/memory/ctr/memory.memsw.limit_in_bytes"));
}

static void
test_v1_memsw_order (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = { 0 };

  assert_ok (cgroup_create ("ctr", NULL, NULL, &cg, &err), &err);
  r.has_memory_limit = r.has_memory_swap = true;

  /* Raising above the current limit: memory+swap first.  */
  put_in (v1_dir (cg, CGROUP_V1_MEMORY), "memory.limit_in_bytes", "1000\n");
  r.memory_limit = 2000;
  r.memory_swap = 4000;
  assert_ok (cgroup_update (cg, &r, &err), &err);
  assert_true (write_index ("v1/memory/ctr/memory.memsw.limit_in_bytes=4000")
               < write_index ("v1/memory/ctr/memory.limit_in_bytes=2000"));

  /* Lowering: memory first.  */
  put_in (v1_dir (cg, CGROUP_V1_MEMORY), "memory.limit_in_bytes", "2000\n");
  r.memory_limit = 500;
  r.memory_swap = 800;
  assert_ok (cgroup_update (cg, &r, &err), &err);
  assert_true (write_index ("v1/memory/ctr/memory.limit_in_bytes=500")
               < write_index ("v1/memory/ctr/memory.memsw.limit_in_bytes=800"));
}

static void
test_v1_pids_unlimited (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = { 0 };

  r.has_pids_limit = true;
  r.pids_limit = -1;
  assert_ok (cgroup_create ("ctr", NULL, &r, &cg, &err), &err);
  assert_knob ("v1/pids/ctr/pids.max", "max");
  r.pids_limit = 0;
  put_in (v1_dir (cg, CGROUP_V1_PIDS), "pids.max", "");
  assert_ok (cgroup_update (cg, &r, &err), &err);
  assert_knob ("v1/pids/ctr/pids.max", "max");
}

static void
test_v1_failure_leaves_nothing (void **state)
{
  struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = { 0 };
  char path[1024];
  size_t i;

  /* One level already exists in one hierarchy: it must stay.  */
  snprintf (path, sizeof (path), "%s/v1/memory/parent", tmp);
  make_dir (path);
  skip_knob = "pids.max";
  r.has_pids_limit = true;
  r.pids_limit = 10;
  assert_int_equal (expect_failure (cgroup_create ("ctr", "/parent/ctr", &r, &cg, &err), &err), ENOENT);
  assert_null (cg);
  assert_true (exists ("v1/memory/parent"));
  assert_false (exists ("v1/memory/parent/ctr"));
  for (i = 0; v1_mounts[i]; i++)
    {
      char rel[256];
      if (strcmp (v1_mounts[i], "memory") == 0)
        continue;
      snprintf (rel, sizeof (rel), "v1/%s/parent", v1_mounts[i]);
      assert_false (exists (rel));
    }

  /* unified keys are v2 only.  */
  skip_knob = NULL;
  {
    char *keys[] = { (char *) "memory.high", NULL }, *values[] = { (char *) "1", NULL };
    struct spec_resources u = { 0 };
    u.unified_keys = keys;
    u.unified_values = values;
    u.n_unified = 1;
    assert_int_equal (expect_failure (cgroup_create ("ctr", "/other", &u, &cg, &err), &err), EINVAL);
    assert_false (exists ("v1/pids/other"));
  }
}

static void
test_v1_destroy (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  char path[1024];
  size_t i;

  assert_ok (cgroup_create ("ctr", "/parent/ctr", NULL, &cg, &err), &err);
  /* A cgroup the container made inside its own.  */
  snprintf (path, sizeof (path), "%s/v1/memory/parent/ctr/nested", tmp);
  make_dir (path);
  /* A paused container is thawed first, or SIGKILL would wait.  */
  put_in (v1_dir (cg, CGROUP_V1_FREEZER), "freezer.state", "FROZEN\n");
  assert_ok (cgroup_destroy (cg, &err), &err);
  assert_written ("v1/freezer/parent/ctr/freezer.state=THAWED");
  for (i = 0; i < 7; i++)
    {
      char rel[256];
      snprintf (rel, sizeof (rel), "v1/%s/parent/ctr", v1_mounts[i]);
      assert_false (exists (rel));
      /* Only the leaf goes.  */
      snprintf (rel, sizeof (rel), "v1/%s/parent", v1_mounts[i]);
      assert_true (exists (rel));
    }
  /* Idempotent.  */
  assert_ok (cgroup_destroy (cg, &err), &err);
}

static void
test_v1_pids (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  cleanup_free pid_t *pids = NULL;
  skiff_error_t err = NULL;
  char buf[64];
  size_t n = 0;

  assert_ok (cgroup_create ("ctr", NULL, NULL, &cg, &err), &err);
  snprintf (buf, sizeof (buf), "%d\n", FAKE_PID_2);
  put_in (v1_dir (cg, CGROUP_V1_MEMORY), "cgroup.procs", buf);
  snprintf (buf, sizeof (buf), "%d\n%d\n", FAKE_PID_3, FAKE_PID_2);
  put_in (v1_dir (cg, CGROUP_V1_PIDS), "cgroup.procs", buf);
  assert_ok (cgroup_pids (cg, &pids, &n, &err), &err);
  assert_int_equal (n, 2);
  assert_int_equal (pids[0], FAKE_PID_2);
  assert_int_equal (pids[1], FAKE_PID_3);
}

/* ---- v2 ------------------------------------------------------------------ */

static void
test_v2_create_apply (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = full_resources ();
  char *keys[] = { (char *) "memory.high", (char *) "pids.max", NULL };
  char *values[] = { (char *) "50000000", (char *) "7", NULL };

  r.unified_keys = keys;
  r.unified_values = values;
  r.n_unified = 2;
  use_mode (2);
  assert_ok (cgroup_create ("ctr", "a/b", &r, &cg, &err), &err);
  assert_string_equal (cgroup_path (cg), "/a/b");
  assert_int_equal (cg->n_dirs, 1);

  /* Controllers on offer are cpu io memory pids: cpuset is not, io is not
     wanted.  Ancestors only; the leaf is left alone.  */
  assert_knob ("v2/cgroup.subtree_control", "+memory +pids +cpu");
  assert_knob ("v2/a/cgroup.subtree_control", "+memory +pids +cpu");
  assert_knob ("v2/a/b/cgroup.subtree_control", "");

  assert_knob ("v2/a/b/memory.max", "67108864");
  assert_knob ("v2/a/b/memory.low", "33554432");
  assert_knob ("v2/a/b/memory.swap.max", "67108864");
  assert_knob ("v2/a/b/cpu.weight", "39");
  assert_knob ("v2/a/b/cpu.max", "50000 100000");
  assert_knob ("v2/a/b/cpuset.cpus", "0-1");
  assert_knob ("v2/a/b/cpuset.mems", "0");
  /* unified is written verbatim, after the rest.  */
  assert_knob ("v2/a/b/memory.high", "50000000");
  /* (the fake knob is a plain file: check the write order, not its bytes) */
  assert_true (write_index ("v2/a/b/pids.max=10") >= 0);
  assert_true (write_index ("v2/a/b/pids.max=10") < write_index ("v2/a/b/pids.max=7"));
}

static void
test_v2_unlimited_values (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = { 0 };

  use_mode (2);
  r.has_memory_limit = r.has_memory_swap = true;
  r.memory_limit = -1;
  r.memory_swap = -1;
  r.has_cpu_shares = r.has_cpu_quota = r.has_cpu_period = true;
  r.cpu_shares = 2;
  r.cpu_quota = -1;
  r.cpu_period = 250000;
  r.has_pids_limit = true;
  r.pids_limit = 0;
  assert_ok (cgroup_create ("ctr", NULL, &r, &cg, &err), &err);
  assert_knob ("v2/ctr/memory.max", "max");
  assert_knob ("v2/ctr/memory.swap.max", "max");
  assert_knob ("v2/ctr/cpu.weight", "1");
  assert_knob ("v2/ctr/cpu.max", "max 250000");
  assert_knob ("v2/ctr/pids.max", "max");

  /* Highest shares map to the highest weight.  */
  r = (struct spec_resources) { 0 };
  r.has_cpu_shares = true;
  r.cpu_shares = 262144;
  assert_ok (cgroup_update (cg, &r, &err), &err);
  assert_written ("v2/ctr/cpu.weight=10000");

  /* Swap below memory is refused.  */
  r = (struct spec_resources) { 0 };
  r.has_memory_limit = r.has_memory_swap = true;
  r.memory_limit = 2000;
  r.memory_swap = 1000;
  assert_int_equal (expect_failure (cgroup_update (cg, &r, &err), &err), EINVAL);
}

static void
test_v2_enabled_skipped (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;

  use_mode (2);
  put_in (v2root, "cgroup.subtree_control", "memory pids\n");
  assert_ok (cgroup_create ("ctr", NULL, NULL, &cg, &err), &err);
  assert_written ("v2/cgroup.subtree_control=+cpu");
  assert_int_equal (n_writes, 1);
}

static void
test_v2_failure_leaves_nothing (void **state)
{
  struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = { 0 };
  char *bad_keys[][2] = { { (char *) "../x", NULL }, { (char *) "a/b", NULL }, { (char *) "..", NULL } };
  char *values[] = { (char *) "1", NULL };
  size_t i;

  use_mode (2);
  for (i = 0; i < 3; i++)
    {
      r.unified_keys = bad_keys[i];
      r.unified_values = values;
      r.n_unified = 1;
      assert_int_equal (expect_failure (cgroup_create ("ctr", "/x/y", &r, &cg, &err), &err), EINVAL);
      assert_false (exists ("v2/x"));
    }

  /* An unknown key fails too.  */
  r.unified_keys = (char *[]){ (char *) "nope.max", NULL };
  assert_int_equal (expect_failure (cgroup_create ("ctr", "/x/y", &r, &cg, &err), &err), ENOENT);
  assert_false (exists ("v2/x"));

  /* A knob missing in the kernel's directory.  */
  skip_knob = "memory.max";
  r = (struct spec_resources) { 0 };
  r.has_memory_limit = true;
  r.memory_limit = 4096;
  assert_int_equal (expect_failure (cgroup_create ("ctr", "/x/y", &r, &cg, &err), &err), ENOENT);
  assert_false (exists ("v2/x"));
  assert_null (cg);
}

static void
test_v2_destroy_and_open (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  cleanup_cgroup struct cgroup *again = NULL;
  struct cgroup *none = NULL;
  skiff_error_t err = NULL;
  char path[1024];

  use_mode (2);
  assert_ok (cgroup_create ("ctr", "/x/y", NULL, &cg, &err), &err);
  assert_ok (cgroup_open ("x//y/", &again, &err), &err);
  assert_string_equal (cgroup_path (again), "/x/y");
  assert_int_equal (expect_failure (cgroup_open ("/x/nope", &none, &err), &err), ENOENT);
  assert_null (none);

  snprintf (path, sizeof (path), "%s/x/y/sub", v2root);
  make_dir (path);
  assert_ok (cgroup_destroy (again, &err), &err);
  assert_written ("v2/x/y/cgroup.kill=1");
  assert_false (exists ("v2/x/y"));
  assert_true (exists ("v2/x"));
  assert_ok (cgroup_destroy (cg, &err), &err);
}

static void
test_v2_pids (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  cleanup_free pid_t *pids = NULL;
  skiff_error_t err = NULL;
  char path[1024], buf[64];
  size_t n = 0;

  use_mode (2);
  assert_ok (cgroup_create ("ctr", NULL, NULL, &cg, &err), &err);
  snprintf (buf, sizeof (buf), "%d\n%d\n", FAKE_PID_3, FAKE_PID_1);
  put_in (cg->dirs[0].dir, "cgroup.procs", buf);
  snprintf (path, sizeof (path), "%s/sub", cg->dirs[0].dir);
  make_dir (path);
  snprintf (buf, sizeof (buf), "%d\n%d\n", FAKE_PID_2, FAKE_PID_1);
  put_in (path, "cgroup.procs", buf);
  assert_ok (cgroup_pids (cg, &pids, &n, &err), &err);
  assert_int_equal (n, 3);
  assert_int_equal (pids[0], FAKE_PID_1);
  assert_int_equal (pids[1], FAKE_PID_2);
  assert_int_equal (pids[2], FAKE_PID_3);
}

static pid_t
spawn_sleeper (int *wfd)
{
  int p[2];
  pid_t pid;

  assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      char c;
      close (p[1]);
      /* Blocks until killed (or until the test closes the pipe).  */
      if (read (p[0], &c, 1) < 0)
        _exit (1);
      _exit (0);
    }
  close (p[0]);
  *wfd = p[1];
  return pid;
}

static void
test_v2_kill_signals (void **state)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  char buf[32];
  int wfd, status = 0;
  pid_t child;

  use_mode (2);
  no_kill = true;
  assert_ok (cgroup_create ("ctr", NULL, NULL, &cg, &err), &err);
  child = spawn_sleeper (&wfd);
  snprintf (buf, sizeof (buf), "%d\n", (int) child);
  put_in (cg->dirs[0].dir, "cgroup.procs", buf);
  if (cgroup_kill (cg, SIGTERM, &err) < 0)
    {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
      fail_msg ("cgroup_kill: %s", err->msg);
    }
  assert_int_equal (waitpid (child, &status, 0), child);
  close (wfd);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGTERM);
  put_in (cg->dirs[0].dir, "cgroup.procs", "");
}

/* ---- the real machine ------------------------------------------------------ */

static struct cgroup *real_cg;
static pid_t real_child = -1;

static int
real_teardown (void **state)
{
  skiff_error_t err = NULL;

  if (real_child > 0)
    {
      kill (real_child, SIGKILL);
      waitpid (real_child, NULL, 0);
      real_child = -1;
    }
  if (real_cg)
    {
      if (cgroup_destroy (real_cg, &err) < 0)
        {
          fprintf (stderr, "cleanup: %s\n", err->msg);
          skiff_error_release (&err);
        }
      cgroup_free (real_cg);
      real_cg = NULL;
    }
  return 0;
}

static void
test_real_machine (void **state)
{
  cleanup_free pid_t *pids = NULL;
  cleanup_free char *mem = NULL;
  cleanup_free char *pmax = NULL;
  skiff_error_t err = NULL;
  struct spec_resources r = { 0 };
  char path[64];
  size_t n = 0, i;
  int wfd, status = 0;
  const char *memdir = NULL, *pidsdir = NULL;

  if (geteuid () != 0)
    {
      skip ();
      return;
    }
  cgroup_set_test_hooks (NULL);
  snprintf (path, sizeof (path), "/skiff-unit-test-%d", (int) getpid ());
  r.has_memory_limit = true;
  r.memory_limit = 64 << 20;
  r.has_pids_limit = true;
  r.pids_limit = 10;
  assert_ok (cgroup_create ("skiff-unit-test", path, &r, &real_cg, &err), &err);
  assert_string_equal (cgroup_path (real_cg), path);

  if (cgroup_mode () == 2)
    memdir = pidsdir = real_cg->dirs[0].dir;
  else
    for (i = 0; i < real_cg->n_dirs; i++)
      {
        if (real_cg->dirs[i].controllers & CGROUP_V1_MEMORY)
          memdir = real_cg->dirs[i].dir;
        if (real_cg->dirs[i].controllers & CGROUP_V1_PIDS)
          pidsdir = real_cg->dirs[i].dir;
      }
  assert_non_null (memdir);
  assert_non_null (pidsdir);
  assert_ok (cgroup_read (memdir, cgroup_mode () == 2 ? "memory.max" : "memory.limit_in_bytes", &mem, &err), &err);
  assert_string_equal (mem, "67108864");
  assert_ok (cgroup_read (pidsdir, "pids.max", &pmax, &err), &err);
  assert_string_equal (pmax, "10");

  real_child = spawn_sleeper (&wfd);
  assert_ok (cgroup_enter (real_cg, real_child, &err), &err);
  assert_ok (cgroup_pids (real_cg, &pids, &n, &err), &err);
  assert_int_equal (n, 1);
  assert_int_equal (pids[0], real_child);

  assert_ok (cgroup_destroy (real_cg, &err), &err);
  assert_int_equal (waitpid (real_child, &status, 0), real_child);
  real_child = -1;
  close (wfd);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGKILL);
  for (i = 0; i < real_cg->n_dirs; i++)
    assert_false (fs_exists (real_cg->dirs[i].dir));
  cgroup_free (real_cg);
  real_cg = NULL;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_mode, setup, teardown),
    cmocka_unit_test_setup_teardown (test_paths_normalised, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_create_apply, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_cpuset_copied, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_memsw_missing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_memsw_order, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_pids_unlimited, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_failure_leaves_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_destroy, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v1_pids, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_create_apply, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_unlimited_values, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_enabled_skipped, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_failure_leaves_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_destroy_and_open, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_pids, setup, teardown),
    cmocka_unit_test_setup_teardown (test_v2_kill_signals, setup, teardown),
    cmocka_unit_test_teardown (test_real_machine, real_teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
