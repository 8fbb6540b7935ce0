#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "fs.h"

/* Each test gets a fresh temporary directory as *state.  */
static int
setup_dir (void **state)
{
  char *dir = strdup ("/tmp/skiff-test-fs-XXXXXX");
  if (dir == NULL || mkdtemp (dir) == NULL)
    {
      free (dir);
      return -1;
    }
  *state = dir;
  return 0;
}

static int
teardown_dir (void **state)
{
  char *dir = *state;
  char cmd[PATH_MAX + 16];
  int ret = 0;

  /* Not fs_remove_tree: the code under test must not clean up after itself.  */
  snprintf (cmd, sizeof (cmd), "rm -rf '%s'", dir);
  if (system (cmd) != 0)
    ret = -1;
  free (dir);
  return ret;
}

static char *
path_in (const char *dir, const char *name)
{
  char *p = NULL;
  if (asprintf (&p, "%s/%s", dir, name) < 0)
    fail_msg ("asprintf");
  return p;
}

static void
write_file (const char *path, const char *content)
{
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  assert_int_equal (fputs (content, f) >= 0, 1);
  assert_int_equal (fclose (f), 0);
}

static char *
read_all (const char *path)
{
  skiff_error_t err = NULL;
  char *s = NULL;
  if (fs_read_file (path, &s, NULL, &err) < 0)
    fail_msg ("read %s: %s", path, err->msg);
  return s;
}

/* Number of entries in dir, other than "." and "..".  */
static int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;

  assert_non_null (d);
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      n++;
  closedir (d);
  return n;
}

static void
make_dir (const char *dir, const char *name)
{
  cleanup_free char *p = path_in (dir, name);
  assert_int_equal (mkdir (p, 0755), 0);
}

static void
make_symlink (const char *dir, const char *name, const char *target)
{
  cleanup_free char *p = path_in (dir, name);
  assert_int_equal (symlink (target, p), 0);
}

/* ---- fs_read_file ---- */

static void
test_read_file (void **state)
{
  const char *dir = *state;
  cleanup_free char *path = path_in (dir, "f");
  cleanup_free char *s = NULL;
  skiff_error_t err = NULL;
  size_t len = 12345;

  write_file (path, "hello\nworld\n");
  assert_int_equal (fs_read_file (path, &s, &len, &err), 0);
  assert_null (err);
  assert_int_equal (len, 12);
  assert_string_equal (s, "hello\nworld\n");
  free (s);
  s = NULL;

  /* len is optional */
  assert_int_equal (fs_read_file (path, &s, NULL, &err), 0);
  assert_string_equal (s, "hello\nworld\n");
}

static void
test_read_file_empty (void **state)
{
  const char *dir = *state;
  cleanup_free char *path = path_in (dir, "empty");
  cleanup_free char *s = NULL;
  skiff_error_t err = NULL;
  size_t len = 99;

  write_file (path, "");
  assert_int_equal (fs_read_file (path, &s, &len, &err), 0);
  assert_non_null (s);
  assert_int_equal (len, 0);
  assert_string_equal (s, "");
}

static void
test_read_file_large_binary (void **state)
{
  const char *dir = *state;
  cleanup_free char *path = path_in (dir, "big");
  cleanup_free char *data = malloc (100000);
  cleanup_free char *s = NULL;
  skiff_error_t err = NULL;
  size_t len = 0, i;
  FILE *f;

  assert_non_null (data);
  for (i = 0; i < 100000; i++)
    data[i] = (char) (i * 7 + i / 251);
  data[10] = '\0'; /* embedded NUL bytes are kept */
  f = fopen (path, "w");
  assert_non_null (f);
  assert_int_equal (fwrite (data, 1, 100000, f), 100000);
  assert_int_equal (fclose (f), 0);

  assert_int_equal (fs_read_file (path, &s, &len, &err), 0);
  assert_int_equal (len, 100000);
  assert_memory_equal (s, data, 100000);
  assert_int_equal (s[100000], '\0');
}

static void
test_read_file_missing (void **state)
{
  const char *dir = *state;
  cleanup_free char *path = path_in (dir, "missing");
  char *s = (char *) "untouched";
  skiff_error_t err = NULL;

  assert_int_equal (fs_read_file (path, &s, NULL, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOENT);
  assert_non_null (strstr (err->msg, path));
  assert_non_null (strstr (err->msg, strerror (ENOENT)));
  assert_string_equal (s, "untouched");
  skiff_error_release (&err);

  /* a directory cannot be read as a file */
  assert_int_equal (fs_read_file (dir, &s, NULL, &err), -1);
  assert_int_equal (err->errno_, EISDIR);
  skiff_error_release (&err);
}

/* ---- fs_write_file_atomic and fs_write_file_replace (the same but the
   fsyncs, which a test cannot observe) ---- */

typedef int (*writer_fn) (const char *, const void *, size_t, mode_t, skiff_error_t *);

static void
check_write_new (const char *dir, writer_fn write_fn)
{
  cleanup_free char *path = path_in (dir, "state.json");
  cleanup_free char *s = NULL;
  skiff_error_t err = NULL;
  struct stat st;
  const char data[] = "{\"status\":\"created\"}";

  assert_int_equal (write_fn (path, data, strlen (data), 0640, &err), 0);
  assert_null (err);
  s = read_all (path);
  assert_string_equal (s, data);
  assert_int_equal (stat (path, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0640);
  /* no temporary file left beside it */
  assert_int_equal (count_entries (dir), 1);
}

static void
test_write_atomic_new (void **state)
{
  check_write_new (*state, fs_write_file_atomic);
}

static void
test_write_replace_new (void **state)
{
  check_write_new (*state, fs_write_file_replace);
}

static void
check_write_over_old (const char *dir, writer_fn write_fn)
{
  cleanup_free char *path = path_in (dir, "f");
  cleanup_free char *s = NULL;
  skiff_error_t err = NULL;
  struct stat before, after;
  mode_t old_umask;

  write_file (path, "a much longer old content that must disappear entirely");
  assert_int_equal (chmod (path, 0666), 0);
  assert_int_equal (stat (path, &before), 0);

  /* the mode is exactly the one asked for, whatever the umask */
  old_umask = umask (0077);
  assert_int_equal (write_fn (path, "new", 3, 0644, &err), 0);
  umask (old_umask);
  assert_null (err);
  s = read_all (path);
  assert_string_equal (s, "new");
  assert_int_equal (stat (path, &after), 0);
  assert_int_equal (after.st_mode & 07777, 0644);
  assert_int_equal (after.st_size, 3);
  /* replaced by rename, not rewritten in place */
  assert_true (before.st_ino != after.st_ino);
  assert_int_equal (count_entries (dir), 1);

  /* empty content */
  assert_int_equal (write_fn (path, "", 0, 0600, &err), 0);
  assert_int_equal (stat (path, &after), 0);
  assert_int_equal (after.st_size, 0);
  assert_int_equal (after.st_mode & 07777, 0600);
  assert_int_equal (count_entries (dir), 1);
}

static void
test_write_atomic_over_old (void **state)
{
  check_write_over_old (*state, fs_write_file_atomic);
}

static void
test_write_replace_over_old (void **state)
{
  check_write_over_old (*state, fs_write_file_replace);
}

static void
check_write_missing_dir (const char *dir, writer_fn write_fn)
{
  cleanup_free char *missing = path_in (dir, "nodir");
  cleanup_free char *path = path_in (dir, "nodir/file");
  skiff_error_t err = NULL;

  assert_int_equal (write_fn (path, "x", 1, 0644, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOENT);
  assert_non_null (strstr (err->msg, path));
  skiff_error_release (&err);
  /* nothing was created, not the directory nor a temporary file */
  assert_false (fs_exists (missing));
  assert_false (fs_exists (path));
  assert_int_equal (count_entries (dir), 0);
}

static void
test_write_atomic_missing_dir (void **state)
{
  check_write_missing_dir (*state, fs_write_file_atomic);
}

static void
test_write_replace_missing_dir (void **state)
{
  check_write_missing_dir (*state, fs_write_file_replace);
}

static void
check_write_over_dir (const char *dir, writer_fn write_fn)
{
  cleanup_free char *path = path_in (dir, "sub");
  skiff_error_t err = NULL;
  struct stat st;

  /* rename over a non-empty directory fails: the temporary file must go */
  make_dir (dir, "sub");
  make_dir (dir, "sub/child");
  assert_int_equal (write_fn (path, "x", 1, 0644, &err), -1);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, path));
  skiff_error_release (&err);
  assert_int_equal (stat (path, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (count_entries (dir), 1);
  assert_int_equal (count_entries (path), 1);
}

static void
test_write_atomic_over_dir (void **state)
{
  check_write_over_dir (*state, fs_write_file_atomic);
}

static void
test_write_replace_over_dir (void **state)
{
  check_write_over_dir (*state, fs_write_file_replace);
}

/* ---- fs_write_string ---- */

static void
test_write_string (void **state)
{
  const char *dir = *state;
  cleanup_free char *path = path_in (dir, "knob");
  cleanup_free char *missing = path_in (dir, "missing");
  cleanup_free char *s = NULL;
  skiff_error_t err = NULL;

  write_file (path, "");
  assert_int_equal (fs_write_string (path, "max 100000", &err), 0);
  assert_null (err);
  s = read_all (path);
  assert_string_equal (s, "max 100000");

  /* only existing files: a missing one is not created */
  assert_int_equal (fs_write_string (missing, "1", &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOENT);
  assert_non_null (strstr (err->msg, missing));
  skiff_error_release (&err);
  assert_false (fs_exists (missing));
}

/* ---- fs_mkdir_p ---- */

static void
test_mkdir_p (void **state)
{
  const char *dir = *state;
  cleanup_free char *deep = path_in (dir, "a/b/c/d");
  cleanup_free char *mid = path_in (dir, "a/b");
  cleanup_free char *slash = path_in (dir, "x/y/");
  cleanup_free char *dup = path_in (dir, "p//q/./r");
  cleanup_free char *q = path_in (dir, "p/q/r");
  skiff_error_t err = NULL;
  struct stat st;
  mode_t old_umask = umask (0);

  assert_int_equal (fs_mkdir_p (deep, 0710, &err), 0);
  assert_null (err);
  assert_int_equal (stat (deep, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0710);
  assert_int_equal (stat (mid, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0710);

  /* existing directories are fine, and keep their mode */
  assert_int_equal (fs_mkdir_p (deep, 0755, &err), 0);
  assert_int_equal (fs_mkdir_p (mid, 0755, &err), 0);
  assert_int_equal (fs_mkdir_p (dir, 0755, &err), 0);
  assert_int_equal (fs_mkdir_p ("/", 0755, &err), 0);
  assert_null (err);
  assert_int_equal (stat (mid, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0710);

  assert_int_equal (fs_mkdir_p (slash, 0755, &err), 0);
  assert_int_equal (stat (slash, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (fs_mkdir_p (dup, 0755, &err), 0);
  assert_int_equal (stat (q, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_null (err);
  umask (old_umask);
}

static void
test_mkdir_p_errors (void **state)
{
  const char *dir = *state;
  cleanup_free char *file = path_in (dir, "file");
  cleanup_free char *under = path_in (dir, "file/sub/dir");
  skiff_error_t err = NULL;

  write_file (file, "x");
  /* a file in the way of a parent */
  assert_int_equal (fs_mkdir_p (under, 0755, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOTDIR);
  skiff_error_release (&err);

  /* an empty path names nothing (and must not be read past its end) */
  assert_int_equal (fs_mkdir_p ("", 0755, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOENT);
  skiff_error_release (&err);
}

/* Like mkdir -p: an existing path that is not a directory is an error
   ("existing directories are fine", not existing files).  */
static void
test_mkdir_p_existing_file (void **state)
{
  const char *dir = *state;
  cleanup_free char *file = path_in (dir, "file");
  skiff_error_t err = NULL;

  write_file (file, "x");
  assert_int_equal (fs_mkdir_p (file, 0755, &err), -1);
  assert_non_null (err);
  assert_int_equal (err->errno_, EEXIST);
  assert_non_null (strstr (err->msg, file));
  skiff_error_release (&err);
}

/* ---- fs_remove_tree ---- */

static void
test_remove_tree (void **state)
{
  const char *dir = *state;
  cleanup_free char *tree = path_in (dir, "tree");
  cleanup_free char *f1 = path_in (dir, "tree/f1");
  cleanup_free char *f2 = path_in (dir, "tree/a/b/c/f2");
  cleanup_free char *deep = path_in (dir, "tree/a/b/c/d/e");
  cleanup_free char *fifo = path_in (dir, "tree/a/fifo");
  skiff_error_t err = NULL;

  make_dir (dir, "tree");
  assert_int_equal (fs_mkdir_p (deep, 0755, &err), 0);
  write_file (f1, "1");
  write_file (f2, "2");
  assert_int_equal (mkfifo (fifo, 0600), 0);
  make_dir (dir, "tree/empty");

  assert_int_equal (fs_remove_tree (tree, &err), 0);
  assert_null (err);
  assert_false (fs_exists (tree));
  assert_int_equal (count_entries (dir), 0);

  /* a missing path is fine */
  assert_int_equal (fs_remove_tree (tree, &err), 0);
  assert_null (err);
}

static void
test_remove_tree_symlinks_not_followed (void **state)
{
  const char *dir = *state;
  cleanup_free char *tree = path_in (dir, "tree");
  cleanup_free char *outside = path_in (dir, "outside");
  cleanup_free char *keep = path_in (dir, "outside/keep");
  cleanup_free char *keepfile = path_in (dir, "keepfile");
  cleanup_free char *link = path_in (dir, "link");
  cleanup_free char *s = NULL;
  skiff_error_t err = NULL;
  struct stat st;

  make_dir (dir, "outside");
  make_dir (dir, "outside/sub");
  write_file (keep, "precious");
  write_file (keepfile, "also precious");

  make_dir (dir, "tree");
  make_dir (dir, "tree/d");
  make_symlink (dir, "tree/to-dir", outside);
  make_symlink (dir, "tree/d/to-dir-rel", "../../outside");
  make_symlink (dir, "tree/d/to-file", keepfile);
  make_symlink (dir, "tree/dangling", "/nonexistent/skiff/target");
  make_symlink (dir, "tree/to-root", "/");

  assert_int_equal (fs_remove_tree (tree, &err), 0);
  assert_null (err);
  assert_false (fs_exists (tree));
  /* the targets are intact */
  assert_int_equal (stat (outside, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_int_equal (count_entries (outside), 2);
  s = read_all (keep);
  assert_string_equal (s, "precious");
  free (s);
  s = read_all (keepfile);
  assert_string_equal (s, "also precious");

  /* a symlink given as the path itself: only the link goes */
  make_symlink (dir, "link", outside);
  assert_int_equal (fs_remove_tree (link, &err), 0);
  assert_null (err);
  assert_int_equal (lstat (link, &st), -1);
  assert_int_equal (count_entries (outside), 2);
  assert_true (fs_exists (keep));
}

static void
test_remove_tree_file (void **state)
{
  const char *dir = *state;
  cleanup_free char *f = path_in (dir, "plain");
  skiff_error_t err = NULL;

  write_file (f, "x");
  assert_int_equal (fs_remove_tree (f, &err), 0);
  assert_null (err);
  assert_false (fs_exists (f));
}

/* ---- fs_open_in_root ---- */

struct root_fixture
{
  char *dir;   /* the temporary directory */
  char *root;  /* dir/root, the container root */
  int rootfd;
};

static int
setup_root (void **state)
{
  struct root_fixture *fx = calloc (1, sizeof (*fx));
  char *p;

  if (fx == NULL)
    return -1;
  if (setup_dir ((void **) &fx->dir) < 0)
    return -1;
  fx->root = path_in (fx->dir, "root");
  if (mkdir (fx->root, 0755) < 0)
    return -1;
  p = path_in (fx->root, "etc");
  if (mkdir (p, 0755) < 0)
    return -1;
  free (p);
  p = path_in (fx->root, "etc/passwd");
  write_file (p, "container-passwd\n");
  free (p);
  p = path_in (fx->root, "a");
  if (mkdir (p, 0755) < 0)
    return -1;
  free (p);
  p = path_in (fx->root, "a/b");
  if (mkdir (p, 0755) < 0)
    return -1;
  free (p);
  /* escapes, all of which must stay inside root */
  make_symlink (fx->root, "evil", "/etc");
  make_symlink (fx->root, "up", "../../..");
  make_symlink (fx->root, "a/b/up2", "../../../../../../etc");
  make_symlink (fx->root, "abs-passwd", "/etc/passwd");
  make_symlink (fx->root, "rel-passwd", "a/../../../etc/passwd");
  make_symlink (fx->root, "chain", "evil/passwd");
  make_symlink (fx->root, "host-tmp", fx->dir);
  fx->rootfd = open (fx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fx->rootfd < 0)
    return -1;
  *state = fx;
  return 0;
}

static int
teardown_root (void **state)
{
  struct root_fixture *fx = *state;
  int ret;

  close (fx->rootfd);
  ret = teardown_dir ((void **) &fx->dir);
  free (fx->root);
  free (fx);
  return ret;
}

/* fs_open_in_root, skipping the test where openat2 is missing (kernels
   before 5.6, valgrind).  */
static int
open_in (struct root_fixture *fx, const char *path, int flags, mode_t mode, skiff_error_t *err)
{
  int fd = fs_open_in_root (fx->rootfd, path, flags, mode, err);
  if (fd < 0 && *err && (*err)->errno_ == ENOSYS)
    {
      skiff_error_release (err);
      skip ();
    }
  return fd;
}

/* Opens path in the root and checks that it is root/etc/passwd.  */
static void
assert_opens_container_passwd (struct root_fixture *fx, const char *path)
{
  skiff_error_t err = NULL;
  cleanup_free char *want_path = path_in (fx->root, "etc/passwd");
  struct stat got, want, host;
  char buf[64] = { 0 };
  int fd;

  fd = open_in (fx, path, O_RDONLY, 0, &err);
  if (fd < 0)
    fail_msg ("open `%s` in root: %s", path, err->msg);
  assert_null (err);
  assert_int_equal (fstat (fd, &got), 0);
  assert_int_equal (stat (want_path, &want), 0);
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino)
    fail_msg ("`%s` did not resolve to the container's /etc/passwd", path);
  if (stat ("/etc/passwd", &host) == 0)
    assert_false (got.st_dev == host.st_dev && got.st_ino == host.st_ino);
  assert_true (read (fd, buf, sizeof (buf) - 1) > 0);
  assert_string_equal (buf, "container-passwd\n");
  /* O_CLOEXEC is always set */
  assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  close (fd);
}

static void
test_open_in_root_plain (void **state)
{
  struct root_fixture *fx = *state;
  assert_opens_container_passwd (fx, "etc/passwd");
  assert_opens_container_passwd (fx, "/etc/passwd");
  assert_opens_container_passwd (fx, "///etc//passwd");
  assert_opens_container_passwd (fx, "a/b/../../etc/./passwd");
}

static void
test_open_in_root_dotdot (void **state)
{
  struct root_fixture *fx = *state;
  assert_opens_container_passwd (fx, "../etc/passwd");
  assert_opens_container_passwd (fx, "../../../../../../etc/passwd");
  assert_opens_container_passwd (fx, "/a/b/../../../../../etc/passwd");
}

static void
test_open_in_root_absolute_symlink (void **state)
{
  struct root_fixture *fx = *state;
  assert_opens_container_passwd (fx, "evil/passwd");
  assert_opens_container_passwd (fx, "/evil/passwd");
  assert_opens_container_passwd (fx, "abs-passwd");
  assert_opens_container_passwd (fx, "chain");
}

static void
test_open_in_root_relative_symlink (void **state)
{
  struct root_fixture *fx = *state;
  assert_opens_container_passwd (fx, "up/etc/passwd");
  assert_opens_container_passwd (fx, "up/up/up/etc/passwd");
  assert_opens_container_passwd (fx, "a/b/up2/passwd");
  assert_opens_container_passwd (fx, "rel-passwd");
}

static void
test_open_in_root_host_path_symlink (void **state)
{
  struct root_fixture *fx = *state;
  skiff_error_t err = NULL;
  int fd;

  /* host-tmp -> <host temp dir>: that path does not exist inside root */
  fd = open_in (fx, "host-tmp/root/etc/passwd", O_RDONLY, 0, &err);
  assert_int_equal (fd, -1);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOENT);
  skiff_error_release (&err);
}

static void
test_open_in_root_root_itself (void **state)
{
  struct root_fixture *fx = *state;
  skiff_error_t err = NULL;
  struct stat a, b;
  const char *paths[] = { "", "/", ".", "..", "/../..", "up" };
  size_t i;

  assert_int_equal (fstat (fx->rootfd, &b), 0);
  for (i = 0; i < sizeof (paths) / sizeof (paths[0]); i++)
    {
      int fd = open_in (fx, paths[i], O_RDONLY | O_DIRECTORY, 0, &err);
      if (fd < 0)
        fail_msg ("open `%s`: %s", paths[i], err->msg);
      assert_int_equal (fstat (fd, &a), 0);
      if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        fail_msg ("`%s` is not the root", paths[i]);
      close (fd);
    }
}

static void
test_open_in_root_create (void **state)
{
  struct root_fixture *fx = *state;
  skiff_error_t err = NULL;
  char name[64], rel[96], host[96], sub[96];
  cleanup_free char *inside = NULL;
  struct stat st;
  int fd;

  snprintf (name, sizeof (name), "skiff-test-%d-%ld", (int) getpid (), (long) random ());
  snprintf (rel, sizeof (rel), "evil/%s", name);
  snprintf (host, sizeof (host), "/etc/%s", name);
  snprintf (sub, sizeof (sub), "etc/%s", name);
  inside = path_in (fx->root, sub);
  assert_false (fs_exists (host));

  fd = open_in (fx, rel, O_WRONLY | O_CREAT | O_EXCL, 0600, &err);
  if (fd < 0)
    fail_msg ("create `%s`: %s", rel, err->msg);
  assert_int_equal (write (fd, "x", 1), 1);
  close (fd);
  if (fs_exists (host))
    {
      unlink (host);
      fail_msg ("created %s on the host", host);
    }
  assert_int_equal (stat (inside, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  assert_int_equal (st.st_size, 1);
}

static void
test_open_in_root_missing (void **state)
{
  struct root_fixture *fx = *state;
  skiff_error_t err = NULL;
  int fd;

  /* /etc/hostname exists on the host, not in the root */
  fd = open_in (fx, "evil/hostname", O_RDONLY, 0, &err);
  assert_int_equal (fd, -1);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOENT);
  assert_non_null (strstr (err->msg, "evil/hostname"));
  skiff_error_release (&err);

  fd = open_in (fx, "etc/passwd/x", O_RDONLY, 0, &err);
  assert_int_equal (fd, -1);
  assert_int_equal (err->errno_, ENOTDIR);
  skiff_error_release (&err);
}

/* ---- lexical paths ---- */

static void
check_join (const char *root, const char *path, const char *want)
{
  cleanup_free char *got = fs_join_under (root, path);
  assert_non_null (got);
  if (strcmp (got, want) != 0)
    fail_msg ("fs_join_under(\"%s\", \"%s\") = \"%s\", want \"%s\"", root, path, got, want);
}

static void
test_join_under (void **state)
{
  check_join ("/root", "etc/passwd", "/root/etc/passwd");
  check_join ("/root", "/etc/passwd", "/root/etc/passwd");
  check_join ("/root/", "etc/", "/root/etc");
  check_join ("/root", "", "/root");
  check_join ("/root", "/", "/root");
  check_join ("/root", ".", "/root");
  check_join ("/root", "..", "/root");
  check_join ("/root", "../../etc/passwd", "/root/etc/passwd");
  check_join ("/root", "/../../../etc", "/root/etc");
  check_join ("/root", "a/b/../../../../c", "/root/c");
  check_join ("/root", "a/b/../c", "/root/a/c");
  check_join ("/root", "a/./b//c/", "/root/a/b/c");
  check_join ("/root", "a/..", "/root");
  check_join ("/root", "...", "/root/...");
  check_join ("/root", "..a/b..", "/root/..a/b..");
  /* the root itself is cleaned first */
  check_join ("//root//./x/../", "y", "/root/y");
  check_join ("/a/b/../c", "../d", "/a/c/d");
  /* a root of "/" */
  check_join ("/", "etc", "/etc");
  check_join ("/", "../etc", "/etc");
  check_join ("/", "", "/");
  check_join ("/", "..", "/");
  /* a prefix that is not a component boundary is not escaped either */
  check_join ("/sys/fs/cgroup", "../cgroupx", "/sys/fs/cgroup/cgroupx");
}

static void
check_abs (const char *base, const char *path, const char *want)
{
  cleanup_free char *got = fs_absolute (base, path);
  assert_non_null (got);
  if (strcmp (got, want) != 0)
    fail_msg ("fs_absolute(\"%s\", \"%s\") = \"%s\", want \"%s\"", base, path, got, want);
}

static void
test_absolute (void **state)
{
  check_abs ("/bundle", "rootfs", "/bundle/rootfs");
  check_abs ("/bundle", "./rootfs/", "/bundle/rootfs");
  check_abs ("/bundle/", "rootfs", "/bundle/rootfs");
  check_abs ("/bundle", "/abs/path", "/abs/path");
  check_abs ("/bundle", "/abs/../other/./x", "/other/x");
  check_abs ("/bundle", "", "/bundle");
  check_abs ("/bundle", ".", "/bundle");
  /* unlike fs_join_under, ".." may leave the base */
  check_abs ("/a/b", "..", "/a");
  check_abs ("/a/b", "../c", "/a/c");
  check_abs ("/a/b", "../../..", "/");
  check_abs ("/a", "../../../x", "/x");
  check_abs ("/", "x", "/x");
  check_abs ("/", "", "/");
  check_abs ("/", "..", "/");
  check_abs ("/a//b/./c/..", "d//e/", "/a/b/d/e");
  check_abs ("/x", "//", "/");
  check_abs ("/x", "a/b/c/../../..", "/x");
}

static void
test_exists (void **state)
{
  const char *dir = *state;
  cleanup_free char *f = path_in (dir, "f");
  cleanup_free char *dangling = path_in (dir, "dangling");

  assert_true (fs_exists (dir));
  assert_false (fs_exists (f));
  write_file (f, "");
  assert_true (fs_exists (f));
  assert_int_equal (symlink ("/nonexistent/skiff", dangling), 0);
  assert_false (fs_exists (dangling));
}

int
main (void)
{
  const struct CMUnitTest files[] = {
    cmocka_unit_test_setup_teardown (test_read_file, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_read_file_empty, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_read_file_large_binary, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_read_file_missing, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_atomic_new, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_replace_new, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_atomic_over_old, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_replace_over_old, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_atomic_missing_dir, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_replace_missing_dir, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_atomic_over_dir, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_replace_over_dir, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_write_string, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_mkdir_p, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_mkdir_p_errors, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_mkdir_p_existing_file, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_remove_tree, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_remove_tree_symlinks_not_followed, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_remove_tree_file, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_exists, setup_dir, teardown_dir),
    cmocka_unit_test_setup_teardown (test_open_in_root_plain, setup_root, teardown_root),
    cmocka_unit_test_setup_teardown (test_open_in_root_dotdot, setup_root, teardown_root),
    cmocka_unit_test_setup_teardown (test_open_in_root_absolute_symlink, setup_root, teardown_root),
    cmocka_unit_test_setup_teardown (test_open_in_root_relative_symlink, setup_root, teardown_root),
    cmocka_unit_test_setup_teardown (test_open_in_root_host_path_symlink, setup_root, teardown_root),
    cmocka_unit_test_setup_teardown (test_open_in_root_root_itself, setup_root, teardown_root),
    cmocka_unit_test_setup_teardown (test_open_in_root_create, setup_root, teardown_root),
    cmocka_unit_test_setup_teardown (test_open_in_root_missing, setup_root, teardown_root),
    cmocka_unit_test (test_join_under),
    cmocka_unit_test (test_absolute),
  };
  return cmocka_run_group_tests_name ("fs", files, NULL, NULL);
}
