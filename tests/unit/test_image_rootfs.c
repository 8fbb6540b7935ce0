/* Container rootfs mounts: needs root and overlayfs (skipped otherwise).  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "fs.h"
#include "store.h"
#include "test_image_util.h"

struct fixture
{
  char *dir;
  char *root;
  struct image_store *s;
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  skiff_error_t err = NULL;
  f->dir = tu_mkdtemp ("rootfs");
  f->root = tu_path (f->dir, "root");
  if (image_store_open (f->root, &f->s, &err) < 0)
    fail_msg ("%s", err->msg);
  *state = f;
  return 0;
}

/* Unmounts whatever a failed test left under the root, then removes it.  */
static int
teardown (void **state)
{
  struct fixture *f = *state;
  char cmd[PATH_MAX * 2];
  snprintf (cmd, sizeof (cmd), "grep -o ' %s/[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l", f->dir);
  if (system (cmd) != 0)
    fail_msg ("unmount leftovers");
  image_store_free (f->s);
  tu_rm_rf (f->dir);
  free (f->dir);
  free (f->root);
  free (f);
  return 0;
}

static bool
mounted (const char *path)
{
  cleanup_free char *text = NULL;
  skiff_error_t err = NULL;
  char needle[PATH_MAX + 2];
  if (fs_read_file ("/proc/self/mounts", &text, NULL, &err) < 0)
    fail_msg ("%s", err->msg);
  snprintf (needle, sizeof (needle), " %s ", path);
  return strstr (text, needle) != NULL;
}

/* Two layers: the second deletes old/, makes d/ opaque, changes etc/hosts.  */
static char *
load_two_layers (struct fixture *f)
{
  cleanup_free char *l1 = tu_path (f->dir, "l1.tar");
  cleanup_free char *l2 = tu_path (f->dir, "l2.tar");
  cleanup_free char *cfg = tu_path (f->dir, "config.json");
  cleanup_free char *ar = tu_path (f->dir, "image.tar");
  cleanup_free char *config = NULL;
  cleanup_free char *manifest = NULL;
  cleanup_free char *mfile = tu_path (f->dir, "manifest.json");
  cleanup_free char *cname = NULL;
  cleanup_free char *n1 = NULL;
  cleanup_free char *n2 = NULL;
  cleanup_strv char **lines = NULL;
  char d1[IMAGE_ID_LEN + 1], d2[IMAGE_ID_LEN + 1], hex[65];
  const char *ids[3] = { d1, d2, NULL };
  skiff_error_t err = NULL;
  struct tu_tar t;
  int fd;

  t = tu_tar_open (l1, false);
  tu_dir (&t, "etc/");
  tu_file (&t, "etc/hosts", "h1\n");
  tu_dir (&t, "old/");
  tu_file (&t, "old/file", "old\n");
  tu_dir (&t, "d/");
  tu_file (&t, "d/a", "a\n");
  tu_tar_close (&t);
  t = tu_tar_open (l2, false);
  tu_file (&t, ".wh.old", "");
  tu_dir (&t, "d/");
  tu_file (&t, "d/.wh..wh..opq", "");
  tu_file (&t, "d/b", "b\n");
  tu_file (&t, "etc/hosts", "h2\n");
  tu_tar_close (&t);
  tu_diff_id (l1, d1);
  tu_diff_id (l2, d2);
  config = tu_config ("/bin/sh", ids);
  assert_int_equal (store_sha256_hex (config, strlen (config), hex, &err), 0);
  tu_write (cfg, config);
  if (asprintf (&cname, "%s.json", hex) < 0 || asprintf (&n1, "%s/layer.tar", d1 + 7) < 0
      || asprintf (&n2, "%s/layer.tar", d2 + 7) < 0
      || asprintf (&manifest, "[{\"Config\":\"%s\",\"RepoTags\":[\"two:1\"],\"Layers\":[\"%s\",\"%s\"]}]", cname, n1, n2) < 0)
    fail_msg ("asprintf");
  tu_write (mfile, manifest);
  t = tu_tar_open (ar, false);
  tu_tar_add_file (&t, n1, l1);
  tu_tar_add_file (&t, n2, l2);
  tu_tar_add_file (&t, cname, cfg);
  tu_tar_add_file (&t, "manifest.json", mfile);
  tu_tar_close (&t);

  fd = tu_open_read (ar);
  if (image_load (f->s, fd, &lines, &err) < 0)
    fail_msg ("%s", err->msg);
  close (fd);
  {
    char *id = NULL;
    assert_int_equal (image_resolve (f->s, "two:1", &id, &err), 0);
    return id;
  }
}

static bool
in_use_cb (const char *image_id, char **cid, bool *running, void *arg)
{
  (void) image_id;
  (void) arg;
  *cid = strdup ("ctr1");
  *running = false;
  return true;
}

static void
test_mount_merged_view (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *id = NULL;
  cleanup_free char *merged = NULL;
  cleanup_free char *merged2 = NULL;
  cleanup_free char *hosts = NULL;
  cleanup_free char *upper = NULL;
  cleanup_free char *base = NULL;
  cleanup_free char *deleted = NULL;
  cleanup_dir DIR *d = NULL;
  skiff_error_t err = NULL;
  size_t n = 0;
  struct dirent *de;

  id = load_two_layers (f);
  if (image_rootfs_mount (f->s, id, "ctr1", &merged, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_true (mounted (merged));
  /* Idempotent.  */
  assert_int_equal (image_rootfs_mount (f->s, id, "ctr1", &merged2, &err), 0);
  assert_string_equal (merged, merged2);

  /* Whiteout and opaque dir applied, top layer wins.  */
  assert_false (tu_exists (merged, "old"));
  assert_true (tu_exists (merged, "d/b"));
  assert_false (tu_exists (merged, "d/a"));
  hosts = tu_read (merged, "etc/hosts");
  assert_string_equal (hosts, "h2\n");
  d = opendir (merged);
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  assert_int_equal (n, 2); /* etc, d */

  /* A write lands in upper only.  */
  tu_write (tu_at (merged, "new"), "x");
  base = tu_path (f->root, "overlay/ctr1");
  upper = tu_path (base, "upper");
  assert_true (tu_exists (upper, "new"));
  {
    cleanup_free char *p = NULL;
    if (asprintf (&p, "find '%s/image/layers' -name new | grep -q .", f->root) < 0)
      fail_msg ("asprintf");
    assert_int_not_equal (system (p), 0);
  }

  /* rmi -f with a stopped container deletes the image (as Docker), but
     not its layers while the container's rootfs exists.  */
  assert_int_equal (image_remove (f->s, "two:1", true, in_use_cb, NULL, &deleted, &err), 0);
  {
    cleanup_free char *want = NULL;
    if (asprintf (&want, "[{\"Untagged\":\"two:1\"},{\"Deleted\":\"%s\"}]", id) < 0)
      fail_msg ("asprintf");
    assert_string_equal (deleted, want);
  }
  assert_true (tu_exists (merged, "etc/hosts"));
  {
    cleanup_free char *layers = tu_path (f->root, "image/layers");
    cleanup_dir DIR *ld = opendir (layers);
    size_t count = 0;
    while ((de = readdir (ld)))
      if (de->d_name[0] != '.')
        count++;
    assert_int_equal (count, 2);
  }

  assert_int_equal (image_rootfs_unmount (f->s, "ctr1", &err), 0);
  assert_false (mounted (merged));
  assert_false (tu_exists (merged, "etc"));
  assert_int_equal (image_rootfs_unmount (f->s, "ctr1", &err), 0);
  assert_true (tu_exists (upper, "new"));

  assert_int_equal (image_rootfs_remove (f->s, "ctr1", &err), 0);
  assert_false (fs_exists (base));
  {
    cleanup_free char *layers = tu_path (f->root, "image/layers");
    cleanup_dir DIR *ld = opendir (layers);
    size_t count = 0;
    while ((de = readdir (ld)))
      if (de->d_name[0] != '.')
        count++;
    assert_int_equal (count, 0);
  }
}

static void
test_bad_container_id (void **state)
{
  struct fixture *f = *state;
  skiff_error_t err = NULL;
  char *merged = NULL;
  assert_int_equal (image_rootfs_mount (f->s, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                                        "../x", &merged, &err),
                    IMAGE_ERR_INVALID);
  skiff_error_release (&err);
  assert_int_equal (image_rootfs_remove (f->s, "a/b", &err), IMAGE_ERR_INVALID);
  skiff_error_release (&err);
  assert_int_equal (image_rootfs_mount (f->s, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                                        "c1", &merged, &err),
                    IMAGE_ERR_NOT_FOUND);
  skiff_error_release (&err);
}

/* The busybox rootfs of the integration tests, imported and run.  */
static void
test_busybox_chroot (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *rootfs = tu_path (f->dir, "busybox");
  cleanup_free char *tarball = tu_path (f->dir, "busybox.tar");
  cleanup_free char *id = NULL;
  cleanup_free char *merged = NULL;
  char cmd[PATH_MAX * 3];
  static const char *const changes[] = { "CMD [\"/bin/sh\"]", NULL };
  skiff_error_t err = NULL;
  char out[64];
  size_t n;
  FILE *p;
  int fd, status;

  /* automake's test driver exports srcdir; by hand, run from the tree.  */
  snprintf (cmd, sizeof (cmd), "sh '%s/tests/lib/make-rootfs.sh' '%s' && tar -C '%s' -cf '%s' .",
            getenv ("srcdir") ? getenv ("srcdir") : ".", rootfs, rootfs, tarball);
  if (system (cmd) != 0)
    fail_msg ("build busybox rootfs: %s", cmd);
  fd = tu_open_read (tarball);
  if (image_import (f->s, fd, "busybox:test", changes, NULL, &id, &err) < 0)
    fail_msg ("%s", err->msg);
  close (fd);
  if (image_rootfs_mount (f->s, id, "bb", &merged, &err) < 0)
    fail_msg ("%s", err->msg);

  snprintf (cmd, sizeof (cmd), "chroot '%s' /bin/sh -c 'echo ok; echo w > /tmp/written'", merged);
  p = popen (cmd, "r");
  assert_non_null (p);
  n = fread (out, 1, sizeof (out) - 1, p);
  out[n] = '\0';
  status = pclose (p);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  assert_string_equal (out, "ok\n");
  {
    cleanup_free char *upper = tu_path (f->root, "overlay/bb/upper");
    assert_true (tu_exists (upper, "tmp/written"));
  }
  assert_int_equal (image_rootfs_remove (f->s, "bb", &err), 0);
  assert_false (mounted (merged));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_mount_merged_view, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_container_id, setup, teardown),
    cmocka_unit_test_setup_teardown (test_busybox_chroot, setup, teardown),
  };
  if (geteuid () != 0)
    {
      fprintf (stderr, "skipped: needs root (overlayfs mounts and chroot)\n");
      return 77; /* automake's SKIP */
    }
  return cmocka_run_group_tests (tests, NULL, NULL);
}
