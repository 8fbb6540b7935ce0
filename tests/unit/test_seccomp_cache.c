/* The cache of compiled seccomp programs: entries are used only for their
   own key, bad entries are replaced, a cache that cannot be written is
   no error.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "seccomp_cache.h"
#include "syscall_filter.h"

#define N(a) (sizeof (a) / sizeof ((a)[0]))

static char root[] = "/tmp/skiff-test-seccomp-cache-XXXXXX";

static struct spec_seccomp_rule rules_a[] = {
  { .names = (char *[]) { "mkdir", "mkdirat" }, .n_names = 2, .action = SCMP_ACT_ERRNO (EPERM) },
};
static struct spec_seccomp_rule rules_b[] = {
  { .names = (char *[]) { "rmdir" }, .n_names = 1, .action = SCMP_ACT_ERRNO (EPERM) },
};
static struct spec_seccomp spec_a = { .default_action = SCMP_ACT_ALLOW, .rules = rules_a, .n_rules = N (rules_a) };
static struct spec_seccomp spec_b = { .default_action = SCMP_ACT_ALLOW, .rules = rules_b, .n_rules = N (rules_b) };

static char *
sub (const char *name)
{
  char *p = NULL;
  assert_true (asprintf (&p, "%s/%s", root, name) > 0);
  return p;
}

/* The only entry of the cache under dir, malloc'd path.  */
static char *
only_entry (const char *dir)
{
  cleanup_free char *cache = NULL;
  DIR *d;
  struct dirent *de;
  char *found = NULL;
  int n = 0;

  assert_true (asprintf (&cache, "%s/.seccomp", dir) > 0);
  d = opendir (cache);
  assert_non_null (d);
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      {
        n++;
        free (found);
        assert_true (asprintf (&found, "%s/%s", cache, de->d_name) > 0);
      }
  closedir (d);
  assert_int_equal (n, 1);
  return found;
}

static int
count_entries (const char *dir)
{
  cleanup_free char *cache = NULL;
  DIR *d;
  struct dirent *de;
  int n = 0;

  assert_true (asprintf (&cache, "%s/.seccomp", dir) > 0);
  d = opendir (cache);
  if (d == NULL)
    return 0;
  while ((de = readdir (d)))
    n += de->d_name[0] != '.';
  closedir (d);
  return n;
}

/* Whether filter is the program syscall_filter_build() makes of sc.  */
static bool
same_program (void *filter, const struct spec_seccomp *sc)
{
  void *direct = NULL;
  skiff_error_t err = NULL;
  const void *a, *b;
  size_t la, lb;
  uint32_t fa, fb;
  bool same;

  assert_int_equal (syscall_filter_build (sc, &direct, &err), 0);
  syscall_filter_bpf (filter, &a, &la, &fa);
  syscall_filter_bpf (direct, &b, &lb, &fb);
  same = la == lb && fa == fb && memcmp (a, b, la) == 0;
  syscall_filter_free (direct);
  return same;
}

static void *
cached (const struct spec_seccomp *sc, const char *dir)
{
  void *filter = NULL;
  skiff_error_t err = NULL;
  if (seccomp_cache_build (sc, dir, &filter, &err) < 0)
    fail_msg ("seccomp_cache_build: %s", err->msg);
  assert_non_null (filter);
  return filter;
}

static void
write_bytes (const char *path, const char *data, size_t len)
{
  skiff_error_t err = NULL;
  assert_int_equal (fs_write_file_replace (path, data, len, 0600, &err), 0);
}

static void
test_hit (void **state)
{
  cleanup_free char *dir = sub ("hit"), *entry = NULL, *data = NULL;
  void *f;
  size_t len;
  skiff_error_t err = NULL;

  f = cached (&spec_a, dir);
  assert_true (same_program (f, &spec_a));
  syscall_filter_free (f);
  entry = only_entry (dir);

  /* A second build reads the entry: a changed instruction in it shows.  */
  assert_int_equal (fs_read_file (entry, &data, &len, &err), 0);
  data[len - 1] ^= 0x5a;
  write_bytes (entry, data, len);
  f = cached (&spec_a, dir);
  assert_false (same_program (f, &spec_a));
  syscall_filter_free (f);
  assert_int_equal (count_entries (dir), 1);
}

static void
test_distinct_specs (void **state)
{
  cleanup_free char *dir = sub ("distinct");
  void *fa, *fb;

  fa = cached (&spec_a, dir);
  fb = cached (&spec_b, dir);
  assert_true (same_program (fa, &spec_a));
  assert_true (same_program (fb, &spec_b));
  assert_false (same_program (fa, &spec_b));
  assert_int_equal (count_entries (dir), 2);
  syscall_filter_free (fa);
  syscall_filter_free (fb);
}

/* An entry named like A's but holding B's key and program is not used for
   A, and is replaced by A's.  */
static void
test_other_key (void **state)
{
  cleanup_free char *dir_a = sub ("key-a"), *dir_b = sub ("key-b");
  cleanup_free char *entry_a = NULL, *entry_b = NULL, *data = NULL;
  skiff_error_t err = NULL;
  size_t len;
  void *f;

  syscall_filter_free (cached (&spec_a, dir_a));
  syscall_filter_free (cached (&spec_b, dir_b));
  entry_a = only_entry (dir_a);
  entry_b = only_entry (dir_b);
  assert_int_equal (fs_read_file (entry_b, &data, &len, &err), 0);
  write_bytes (entry_a, data, len);

  f = cached (&spec_a, dir_a);
  assert_true (same_program (f, &spec_a));
  syscall_filter_free (f);
  {
    cleanup_free char *now = NULL;
    size_t now_len;
    assert_int_equal (fs_read_file (entry_a, &now, &now_len, &err), 0);
    assert_false (now_len == len && memcmp (now, data, len) == 0);
  }
}

static void
test_damaged_entry (void **state)
{
  cleanup_free char *dir = sub ("damaged"), *entry = NULL, *data = NULL;
  skiff_error_t err = NULL;
  size_t len, good_len;
  void *f;

  syscall_filter_free (cached (&spec_a, dir));
  entry = only_entry (dir);
  assert_int_equal (fs_read_file (entry, &data, &len, &err), 0);
  good_len = len;
  /* Cut short, then empty, then garbage: compiled again each time and
     the entry made whole.  */
  write_bytes (entry, data, len - 3);
  f = cached (&spec_a, dir);
  assert_true (same_program (f, &spec_a));
  syscall_filter_free (f);
  write_bytes (entry, "", 0);
  f = cached (&spec_a, dir);
  assert_true (same_program (f, &spec_a));
  syscall_filter_free (f);
  write_bytes (entry, "garbage that is long enough to hold a header", 44);
  f = cached (&spec_a, dir);
  assert_true (same_program (f, &spec_a));
  syscall_filter_free (f);
  free (data);
  data = NULL;
  assert_int_equal (fs_read_file (entry, &data, &len, &err), 0);
  assert_int_equal (len, good_len);
}

static void
test_unwritable_root (void **state)
{
  cleanup_free char *file = sub ("a-file");
  void *f;

  /* The root is a regular file: no cache, still a filter.  */
  write_bytes (file, "x", 1);
  f = cached (&spec_a, file);
  assert_true (same_program (f, &spec_a));
  syscall_filter_free (f);
  /* No root: no cache.  */
  f = cached (&spec_b, NULL);
  assert_true (same_program (f, &spec_b));
  syscall_filter_free (f);
}

static void
test_bad_spec (void **state)
{
  cleanup_free char *dir = sub ("bad");
  struct spec_seccomp bad = { .default_action = 0x12345678 };
  void *filter = NULL;
  skiff_error_t err = NULL;

  assert_true (seccomp_cache_build (&bad, dir, &filter, &err) < 0);
  assert_null (filter);
  assert_non_null (strstr (err->msg, "create seccomp filter"));
  skiff_error_release (&err);
  assert_int_equal (count_entries (dir), 0);
}

static int
setup (void **state)
{
  return mkdtemp (root) == NULL ? -1 : 0;
}

static int
teardown (void **state)
{
  skiff_error_t err = NULL;
  int r = fs_remove_tree (root, &err);
  skiff_error_release (&err);
  return r;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hit),
    cmocka_unit_test (test_distinct_specs),
    cmocka_unit_test (test_other_key),
    cmocka_unit_test (test_damaged_entry),
    cmocka_unit_test (test_unwritable_root),
    cmocka_unit_test (test_bad_spec),
  };
  return cmocka_run_group_tests_name ("seccomp_cache", tests, setup, teardown);
}
