/* Helpers for the image tests: build tarballs with libarchive, temp dirs,
   file checks.  Included by each tests/unit/test_image_*.c.  */
#ifndef SKIFF_TEST_IMAGE_UTIL_H
#define SKIFF_TEST_IMAGE_UTIL_H

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "layer_unpack.h"
#include "store_internal.h"

static __attribute__ ((unused)) char *
tu_mkdtemp (const char *tag)
{
  char *dir = NULL;
  if (asprintf (&dir, "/tmp/skiff-test-%s-XXXXXX", tag) < 0 || mkdtemp (dir) == NULL)
    fail_msg ("mkdtemp");
  return dir;
}

static __attribute__ ((unused)) void
tu_rm_rf (const char *dir)
{
  char cmd[PATH_MAX + 32];
  /* Not the code under test: rm(1) cleans up.  */
  snprintf (cmd, sizeof (cmd), "rm -rf '%s'", dir);
  if (system (cmd) != 0)
    fail_msg ("rm -rf %s", dir);
}

static __attribute__ ((unused)) char *
tu_path (const char *dir, const char *name)
{
  char *p = NULL;
  if (asprintf (&p, "%s/%s", dir, name) < 0)
    fail_msg ("asprintf");
  return p;
}

/* dir/name in one of 8 rotating static buffers, for use inside asserts.  */
static __attribute__ ((unused)) const char *
tu_at (const char *dir, const char *name)
{
  static char bufs[8][PATH_MAX];
  static unsigned next;
  char *b = bufs[next++ % 8];
  snprintf (b, PATH_MAX, "%s/%s", dir, name);
  return b;
}

static __attribute__ ((unused)) bool
tu_exists (const char *dir, const char *name)
{
  cleanup_free char *p = tu_path (dir, name);
  struct stat st;
  return lstat (p, &st) == 0;
}

static __attribute__ ((unused)) char *
tu_read (const char *dir, const char *name)
{
  cleanup_free char *p = tu_path (dir, name);
  char *text = NULL;
  skiff_error_t err = NULL;
  if (fs_read_file (p, &text, NULL, &err) < 0)
    fail_msg ("read %s: %s", p, err->msg);
  return text;
}

/* ---- tar writer ---- */

struct tu_tar
{
  struct archive *a;
};

static __attribute__ ((unused)) struct tu_tar
tu_tar_open (const char *path, bool gzip)
{
  struct tu_tar t = { archive_write_new () };
  assert_non_null (t.a);
  assert_int_equal (archive_write_set_format_pax_restricted (t.a), ARCHIVE_OK);
  if (gzip)
    assert_int_equal (archive_write_add_filter_gzip (t.a), ARCHIVE_OK);
  assert_int_equal (archive_write_open_filename (t.a, path), ARCHIVE_OK);
  return t;
}

static __attribute__ ((unused)) void
tu_tar_entry (struct tu_tar *t, const char *name, mode_t type, mode_t perm, const char *data, const char *link,
              bool hard, dev_t rdev, uid_t uid)
{
  struct archive_entry *e = archive_entry_new ();
  size_t len = data ? strlen (data) : 0;
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, perm);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, uid);
  archive_entry_set_mtime (e, 1000000000, 0);
  archive_entry_set_size (e, type == AE_IFREG && !hard ? len : 0);
  if (link && hard)
    archive_entry_set_hardlink (e, link);
  else if (link)
    archive_entry_set_symlink (e, link);
  if (type == AE_IFCHR || type == AE_IFBLK)
    archive_entry_set_rdev (e, rdev);
  if (archive_write_header (t->a, e) != ARCHIVE_OK)
    fail_msg ("tar header %s: %s", name, archive_error_string (t->a));
  if (type == AE_IFREG && !hard && len)
    assert_int_equal (archive_write_data (t->a, data, len), (la_ssize_t) len);
  archive_entry_free (e);
}

#define tu_file(t, name, data) tu_tar_entry (t, name, AE_IFREG, 0644, data, NULL, false, 0, 0)
#define tu_dir(t, name) tu_tar_entry (t, name, AE_IFDIR, 0755, NULL, NULL, false, 0, 0)
#define tu_symlink(t, name, target) tu_tar_entry (t, name, AE_IFLNK, 0777, NULL, target, false, 0, 0)
#define tu_hardlink(t, name, target) tu_tar_entry (t, name, AE_IFREG, 0644, NULL, target, true, 0, 0)

static __attribute__ ((unused)) void
tu_tar_close (struct tu_tar *t)
{
  assert_int_equal (archive_write_close (t->a), ARCHIVE_OK);
  archive_write_free (t->a);
  t->a = NULL;
}

/* Adds the bytes of a file as an archive member.  */
static __attribute__ ((unused)) void
tu_tar_add_file (struct tu_tar *t, const char *name, const char *path)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  skiff_error_t err = NULL;
  struct archive_entry *e = archive_entry_new ();
  if (fs_read_file (path, &text, &len, &err) < 0)
    fail_msg ("read %s: %s", path, err->msg);
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, len);
  assert_int_equal (archive_write_header (t->a, e), ARCHIVE_OK);
  assert_int_equal (archive_write_data (t->a, text, len), (la_ssize_t) len);
  archive_entry_free (e);
}

static __attribute__ ((unused)) void
tu_diff_id (const char *path, char out[IMAGE_ID_LEN + 1])
{
  skiff_error_t err = NULL;
  if (layer_diff_id (path, out, &err) < 0)
    fail_msg ("hash %s: %s", path, err->msg);
}

/* A config blob naming the layers' diff ids.  */
static __attribute__ ((unused)) char *
tu_config (const char *cmd, const char *const *diff_ids)
{
  char *s = NULL, *ids = strdup ("");
  size_t i;
  for (i = 0; diff_ids[i]; i++)
    {
      char *n = NULL;
      if (asprintf (&n, "%s%s\"%s\"", ids, i ? "," : "", diff_ids[i]) < 0)
        fail_msg ("asprintf");
      free (ids);
      ids = n;
    }
  if (asprintf (&s,
                "{\"architecture\":\"amd64\",\"config\":{\"Cmd\":[\"%s\"],\"Env\":[\"PATH=/bin\"]},"
                "\"created\":\"2024-01-02T03:04:05.123456789Z\",\"os\":\"linux\","
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                cmd, ids)
      < 0)
    fail_msg ("asprintf");
  free (ids);
  return s;
}

/* Writes a config blob to a file and returns its image id.  */
static __attribute__ ((unused)) void
tu_write (const char *path, const char *text)
{
  skiff_error_t err = NULL;
  if (fs_write_file_atomic (path, text, strlen (text), 0644, &err) < 0)
    fail_msg ("write %s: %s", path, err->msg);
}

static __attribute__ ((unused)) yajl_val
tu_parse (const char *text)
{
  yajl_val v = NULL;
  skiff_error_t err = NULL;
  if (json_parse (text, &v, &err) < 0)
    fail_msg ("parse %s: %s", text, err->msg);
  return v;
}

/* The string at a path of keys ("a", "b", NULL) or NULL.  */
static __attribute__ ((unused)) const char *
tu_str (yajl_val v, const char *const *keys)
{
  yajl_val x = yajl_tree_get (v, (const char **) keys, yajl_t_string);
  return x ? YAJL_GET_STRING (x) : NULL;
}

static __attribute__ ((unused)) int
tu_open_read (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    fail_msg ("open %s", path);
  return fd;
}

#endif
