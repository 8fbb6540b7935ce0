#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <sys/xattr.h>

#include "fs.h"
#include "layer_unpack.h"
#include "test_image_util.h"

/* state: a sandbox dir holding diff/ (the layer root) and the tarball;
   a hostile layer must leave the sandbox exactly as it was.  */
struct fixture
{
  char *sandbox;
  char *diff;
  char *tar;
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  f->sandbox = tu_mkdtemp ("unpack");
  f->diff = tu_path (f->sandbox, "diff");
  f->tar = tu_path (f->sandbox, "layer.tar");
  if (mkdir (f->diff, 0755) < 0)
    return -1;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  tu_rm_rf (f->sandbox);
  free (f->sandbox);
  free (f->diff);
  free (f->tar);
  free (f);
  return 0;
}

static int
unpack (struct fixture *f, int64_t *size, skiff_error_t *err)
{
  int64_t s = 0;
  return layer_unpack (f->tar, f->diff, size ? size : &s, err);
}

static void
test_file_kinds (void **state)
{
  struct fixture *f = *state;
  struct tu_tar t = tu_tar_open (f->tar, true);
  skiff_error_t err = NULL;
  struct stat st, st2;
  cleanup_free char *text = NULL;
  char buf[64];
  ssize_t n;
  int64_t size = 0;

  tu_dir (&t, "etc/");
  tu_tar_entry (&t, "etc/secret", AE_IFREG, 04750, "s3cr3t", NULL, false, 0, 1000);
  tu_file (&t, "./etc/hosts", "127.0.0.1 localhost\n");
  tu_hardlink (&t, "etc/hosts.link", "etc/hosts");
  tu_symlink (&t, "etc/abs", "/etc/passwd");
  tu_tar_entry (&t, "dev/null", AE_IFCHR, 0666, NULL, NULL, false, makedev (1, 3), 0);
  tu_tar_entry (&t, "run/fifo", AE_IFIFO, 0600, NULL, NULL, false, 0, 0);
  tu_file (&t, "/abs/file", "x");       /* leading "/" is dropped */
  tu_file (&t, "a/../b", "y");          /* climbs but stays inside */
  tu_tar_close (&t);

  if (unpack (f, &size, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (size, 6 + 20 + 1 + 1);

  assert_int_equal (stat (tu_at (f->diff, "etc/secret"), &st), 0);
  assert_int_equal (st.st_mode & 07777, 04750);
  assert_int_equal (st.st_uid, 1000);
  assert_int_equal (st.st_mtime, 1000000000);
  text = tu_read (f->diff, "etc/secret");
  assert_string_equal (text, "s3cr3t");

  assert_int_equal (stat (tu_at (f->diff, "etc/hosts"), &st), 0);
  assert_int_equal (stat (tu_at (f->diff, "etc/hosts.link"), &st2), 0);
  assert_int_equal (st.st_ino, st2.st_ino);
  assert_int_equal (st.st_nlink, 2);

  n = readlink (tu_at (f->diff, "etc/abs"), buf, sizeof (buf) - 1);
  assert_true (n > 0);
  buf[n] = '\0';
  assert_string_equal (buf, "/etc/passwd");

  assert_int_equal (lstat (tu_at (f->diff, "dev/null"), &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (1, 3));
  assert_int_equal (st.st_mode & 0777, 0666);
  assert_int_equal (lstat (tu_at (f->diff, "run/fifo"), &st), 0);
  assert_true (S_ISFIFO (st.st_mode));

  assert_true (tu_exists (f->diff, "abs/file"));
  assert_true (tu_exists (f->diff, "b"));
  assert_false (tu_exists (f->diff, "a/../b") && tu_exists (f->diff, "a"));

  /* Directory times are set after their content.  */
  assert_int_equal (stat (tu_at (f->diff, "etc"), &st), 0);
  assert_int_equal (st.st_mtime, 1000000000);
}

static void
test_whiteouts (void **state)
{
  struct fixture *f = *state;
  struct tu_tar t = tu_tar_open (f->tar, false);
  skiff_error_t err = NULL;
  struct stat st;
  char v[8];
  ssize_t n;

  /* An earlier entry of the same name is replaced by the whiteout.  */
  tu_file (&t, "gone", "old");
  tu_file (&t, ".wh.gone", "");
  tu_dir (&t, "opaque/");
  tu_file (&t, "opaque/.wh..wh..opq", "");
  tu_file (&t, "opaque/kept", "k");
  tu_file (&t, "deep/er/.wh.file", "");
  tu_file (&t, ".wh..wh.plnk", ""); /* AUFS bookkeeping: ignored */
  tu_tar_close (&t);

  if (unpack (f, NULL, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (lstat (tu_at (f->diff, "gone"), &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (0, 0));
  assert_int_equal (lstat (tu_at (f->diff, "deep/er/file"), &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_false (tu_exists (f->diff, ".wh.gone"));
  assert_false (tu_exists (f->diff, ".wh..wh.plnk"));

  n = getxattr (tu_at (f->diff, "opaque"), "trusted.overlay.opaque", v, sizeof (v));
  assert_int_equal (n, 1);
  assert_int_equal (v[0], 'y');
  assert_true (tu_exists (f->diff, "opaque/kept"));
  assert_false (tu_exists (f->diff, "opaque/.wh..wh..opq"));
}

/* Lists the sandbox (recursively, outside diff/) as one string.  */
static void
snapshot (const char *dir, const char *skip, char *out, size_t len)
{
  char cmd[PATH_MAX * 2];
  FILE *p;
  size_t n;
  snprintf (cmd, sizeof (cmd), "cd '%s' && find . -path './%s' -prune -o -print | sort", dir, skip);
  p = popen (cmd, "r");
  assert_non_null (p);
  n = fread (out, 1, len - 1, p);
  out[n] = '\0';
  pclose (p);
}

static void
expect_rejected (struct fixture *f, const char *needle)
{
  skiff_error_t err = NULL;
  char before[4096], after[4096];
  struct stat st;

  snapshot (f->sandbox, "diff", before, sizeof (before));
  assert_int_equal (unpack (f, NULL, &err), IMAGE_ERR_INVALID);
  if (strstr (err->msg, needle) == NULL)
    fail_msg ("error `%s` does not mention `%s`", err->msg, needle);
  skiff_error_release (&err);
  snapshot (f->sandbox, "diff", after, sizeof (after));
  assert_string_equal (before, after);
  assert_int_equal (stat ("/x", &st), -1);
  assert_int_equal (stat ("/etc/x", &st), -1);
  assert_int_equal (stat ("/evil", &st), -1);
}

static void
test_reject_dotdot (void **state)
{
  struct fixture *f = *state;
  struct tu_tar t = tu_tar_open (f->tar, false);
  tu_file (&t, "ok", "fine");
  tu_file (&t, "../evil", "pwned");
  tu_tar_close (&t);
  expect_rejected (f, "`../evil`: path is outside the layer");
  assert_false (tu_exists (f->sandbox, "evil"));
}

static void
test_reject_abs_dotdot (void **state)
{
  struct fixture *f = *state;
  struct tu_tar t = tu_tar_open (f->tar, false);
  tu_file (&t, "/abs/../../x", "pwned");
  tu_tar_close (&t);
  expect_rejected (f, "`/abs/../../x`");
  assert_false (tu_exists (f->sandbox, "x"));
}

static void
test_reject_through_symlink (void **state)
{
  struct fixture *f = *state;
  struct tu_tar t = tu_tar_open (f->tar, false);
  tu_symlink (&t, "link", "/");
  tu_file (&t, "link/etc/x", "pwned");
  tu_tar_close (&t);
  expect_rejected (f, "`link/etc/x`: path goes through a symlink");
  assert_false (tu_exists (f->diff, "etc/x"));
}

static void
test_reject_relative_symlink_escape (void **state)
{
  struct fixture *f = *state;
  struct tu_tar t = tu_tar_open (f->tar, false);
  tu_symlink (&t, "up", "..");
  tu_file (&t, "up/escaped", "pwned");
  tu_tar_close (&t);
  expect_rejected (f, "`up/escaped`");
  assert_false (tu_exists (f->sandbox, "escaped"));
}

static void
test_reject_hardlink_escape (void **state)
{
  struct fixture *f = *state;
  struct tu_tar t = tu_tar_open (f->tar, false);
  tu_hardlink (&t, "passwd", "../../etc/passwd");
  tu_tar_close (&t);
  expect_rejected (f, "`passwd`: hard link target `../../etc/passwd` is outside the layer");
  assert_false (tu_exists (f->diff, "passwd"));
}

static void
test_reject_hardlink_through_symlink (void **state)
{
  struct fixture *f = *state;
  struct tu_tar t = tu_tar_open (f->tar, false);
  tu_symlink (&t, "root", "/");
  tu_hardlink (&t, "shadow", "root/etc/shadow");
  tu_tar_close (&t);
  expect_rejected (f, "goes through a symlink");
  assert_false (tu_exists (f->diff, "shadow"));
}

static void
test_not_a_tar (void **state)
{
  struct fixture *f = *state;
  skiff_error_t err = NULL;
  tu_write (f->tar, "this is not a tarball at all, just some text.....\n");
  assert_true (unpack (f, NULL, &err) < 0);
  skiff_error_release (&err);
}

static void
test_diff_id_of_gzip (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *plain = tu_path (f->sandbox, "plain.tar");
  char a[IMAGE_ID_LEN + 1], b[IMAGE_ID_LEN + 1], c[IMAGE_ID_LEN + 1];
  skiff_error_t err = NULL;
  struct tu_tar t = tu_tar_open (f->tar, true);
  struct tu_tar u = tu_tar_open (plain, false);

  tu_file (&t, "f", "same");
  tu_tar_close (&t);
  tu_file (&u, "f", "same");
  tu_tar_close (&u);
  /* The diff id is the digest of the uncompressed stream.  */
  assert_int_equal (layer_diff_id (f->tar, a, &err), 0);
  assert_int_equal (layer_diff_id (plain, b, &err), 0);
  tu_diff_id (plain, c);
  assert_string_equal (a, b);
  assert_string_equal (b, c);
}

/* Unpacking hashes the whole uncompressed stream on the way: the same
   diff id as a hash-only read, zero blocks after the tar's end
   included; a stream that cannot be read to its end gives none.  */
static void
test_unpack_diff_id (void **state)
{
  struct fixture *f = *state;
  char want[IMAGE_ID_LEN + 1], got[IMAGE_ID_LEN + 1];
  skiff_error_t err = NULL;
  struct tu_tar t = tu_tar_open (f->tar, false);
  cleanup_free char *text = NULL;
  cleanup_free char *padded = NULL;
  int64_t size = 0;
  size_t len = 0;
  FILE *fp;

  tu_file (&t, "a", "alpha");
  tu_tar_close (&t);
  if (fs_read_file (f->tar, &text, &len, &err) < 0)
    fail_msg ("%s", err->msg);
  padded = calloc (len + 20480, 1);
  memcpy (padded, text, len);
  fp = fopen (f->tar, "w");
  assert_non_null (fp);
  assert_int_equal (fwrite (padded, 1, len + 20480, fp), len + 20480);
  assert_int_equal (fclose (fp), 0);
  tu_diff_id (f->tar, want);
  if (layer_unpack_diff_id (f->tar, f->diff, &size, got, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_string_equal (got, want);
  assert_int_equal (size, 5);
  assert_true (tu_exists (f->diff, "a"));

  /* A gzip stream cut short: an error and no diff id.  */
  tu_rm_rf (f->diff);
  assert_int_equal (mkdir (f->diff, 0755), 0);
  t = tu_tar_open (f->tar, true);
  tu_file (&t, "a", "alpha");
  tu_tar_close (&t);
  assert_int_equal (truncate (f->tar, 30), 0);
  assert_true (layer_unpack_diff_id (f->tar, f->diff, &size, got, &err) < 0);
  assert_string_equal (got, "");
  skiff_error_release (&err);
}

/* gzip layers (ISA-L): a stream of several members is one layer, as Go's
   reader (Docker's) reads it; a wrong CRC fails.  */
static void
test_gzip_members (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *plain = tu_path (f->sandbox, "plain.tar");
  cleanup_free char *cmd = NULL;
  char want[IMAGE_ID_LEN + 1], got[IMAGE_ID_LEN + 1];
  skiff_error_t err = NULL;
  struct tu_tar t = tu_tar_open (plain, false);
  struct stat st;
  int64_t size = 0;
  int fd;
  unsigned char crc;

  tu_file (&t, "one", "first member");
  tu_file (&t, "two", "second member");
  tu_tar_close (&t);
  tu_diff_id (plain, want);
  /* Two members, split in the middle of the tar.  */
  if (asprintf (&cmd, "cd '%s' && head -c 1000 plain.tar | gzip -n > layer.tar && tail -c +1001 plain.tar | gzip -n >> layer.tar",
                f->sandbox) < 0)
    fail_msg ("asprintf");
  assert_int_equal (system (cmd), 0);
  if (layer_unpack_diff_id (f->tar, f->diff, &size, got, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_string_equal (got, want);
  assert_true (tu_exists (f->diff, "one"));
  assert_true (tu_exists (f->diff, "two"));

  /* The last member's CRC (8 bytes before the end) changed.  */
  tu_rm_rf (f->diff);
  assert_int_equal (mkdir (f->diff, 0755), 0);
  assert_int_equal (stat (f->tar, &st), 0);
  fd = open (f->tar, O_RDWR);
  assert_true (fd >= 0);
  assert_int_equal (pread (fd, &crc, 1, st.st_size - 8), 1);
  crc ^= 0xff;
  assert_int_equal (pwrite (fd, &crc, 1, st.st_size - 8), 1);
  close (fd);
  assert_int_equal (layer_unpack_diff_id (f->tar, f->diff, &size, got, &err), IMAGE_ERR_INVALID);
  if (strstr (err->msg, "checksum") == NULL)
    fail_msg ("%s", err->msg);
  assert_string_equal (got, "");
  skiff_error_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_file_kinds, setup, teardown),
    cmocka_unit_test_setup_teardown (test_whiteouts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reject_dotdot, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reject_abs_dotdot, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reject_through_symlink, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reject_relative_symlink_escape, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reject_hardlink_escape, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reject_hardlink_through_symlink, setup, teardown),
    cmocka_unit_test_setup_teardown (test_not_a_tar, setup, teardown),
    cmocka_unit_test_setup_teardown (test_diff_id_of_gzip, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unpack_diff_id, setup, teardown),
    cmocka_unit_test_setup_teardown (test_gzip_members, setup, teardown),
  };
  if (geteuid () != 0)
    {
      fprintf (stderr, "skipped: needs root (owners, device nodes and trusted.* xattrs)\n");
      return 77; /* automake's SKIP */
    }
  return cmocka_run_group_tests (tests, NULL, NULL);
}
