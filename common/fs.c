#include "fs.h"
#include "cleanup.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
fs_read_file (const char *path, char **out, size_t *len, skiff_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t used = 0, cap = 0;

  if (fd < 0)
    return skiff_error_make (err, errno, "open `%s`", path);
  for (;;)
    {
      ssize_t n;
      if (cap - used < 4096)
        {
          char *nb;
          cap = cap ? cap * 2 : 8192;
          nb = realloc (buf, cap);
          if (nb == NULL)
            return skiff_error_make (err, ENOMEM, "read `%s`", path);
          buf = nb;
        }
      n = read (fd, buf + used, cap - used - 1);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return skiff_error_make (err, errno, "read `%s`", path);
        }
      if (n == 0)
        break;
      used += n;
    }
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = steal_pointer (&buf);
  return 0;
}

int
fs_write_all (int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return -1;
        }
      p += n;
      len -= n;
    }
  return 0;
}

static int
fsync_parent (const char *path)
{
  cleanup_free char *dir = strdup (path);
  char *slash;
  cleanup_close int dfd = -1;

  if (dir == NULL)
    return -1;
  slash = strrchr (dir, '/');
  if (slash == NULL)
    strcpy (dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return -1;
  return fsync (dfd);
}

static int
write_file_renamed (const char *path, const void *data, size_t len, mode_t mode, bool durable, skiff_error_t *err)
{
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = -1;

  if (asprintf (&tmp, "%s.tmp-XXXXXX", path) < 0)
    return skiff_error_make (err, ENOMEM, "write `%s`", path);
  fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "create temporary file for `%s`", path);
  if (fchmod (fd, mode) < 0 || fs_write_all (fd, data, len) < 0 || (durable && fsync (fd) < 0))
    {
      int saved = errno;
      unlink (tmp);
      return skiff_error_make (err, saved, "write `%s`", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return skiff_error_make (err, saved, "rename `%s` to `%s`", tmp, path);
    }
  if (durable && fsync_parent (path) < 0)
    return skiff_error_make (err, errno, "fsync directory of `%s`", path);
  return 0;
}

int
fs_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, skiff_error_t *err)
{
  return write_file_renamed (path, data, len, mode, true, err);
}

int
fs_write_file_replace (const char *path, const void *data, size_t len, mode_t mode, skiff_error_t *err)
{
  return write_file_renamed (path, data, len, mode, false, err);
}

int
fs_write_string (const char *path, const char *value, skiff_error_t *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "open `%s`", path);
  if (fs_write_all (fd, value, strlen (value)) < 0)
    return skiff_error_make (err, errno, "write `%s` to `%s`", value, path);
  return 0;
}

int
fs_mkdir_p (const char *path, mode_t mode, skiff_error_t *err)
{
  cleanup_free char *p = strdup (path);
  char *s;

  struct stat st;

  if (p == NULL)
    return skiff_error_make (err, ENOMEM, "mkdir `%s`", path);
  if (*p == '\0')
    return skiff_error_make (err, ENOENT, "mkdir ``");
  for (s = p + 1; *s; s++)
    {
      if (*s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, mode) < 0 && errno != EEXIST)
        return skiff_error_make (err, errno, "mkdir `%s`", p);
      *s = '/';
    }
  if (mkdir (p, mode) < 0)
    {
      if (errno != EEXIST)
        return skiff_error_make (err, errno, "mkdir `%s`", p);
      /* Something is there: it must be a directory.  */
      if (stat (p, &st) < 0)
        return skiff_error_make (err, errno, "stat `%s`", p);
      if (!S_ISDIR (st.st_mode))
        return skiff_error_make (err, EEXIST, "mkdir `%s`", p);
    }
  return 0;
}

static int
remove_at (int parentfd, const char *name, dev_t dev, skiff_error_t *err)
{
  struct stat st;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  if (fstatat (parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : skiff_error_make (err, errno, "stat `%s`", name);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (parentfd, name, 0) < 0 && errno != ENOENT)
        return skiff_error_make (err, errno, "unlink `%s`", name);
      return 0;
    }
  if (st.st_dev != dev)
    return skiff_error_make (err, EBUSY, "refusing to remove `%s` on another file system", name);
  fd = openat (parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "open `%s`", name);
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return skiff_error_make (err, errno, "opendir `%s`", name);
    }
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (remove_at (dirfd (d), de->d_name, dev, err) < 0)
        return skiff_error_wrap (err, "remove in `%s`", name);
    }
  if (unlinkat (parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return skiff_error_make (err, errno, "rmdir `%s`", name);
  return 0;
}

int
fs_remove_tree (const char *path, skiff_error_t *err)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    return errno == ENOENT ? 0 : skiff_error_make (err, errno, "stat `%s`", path);
  return remove_at (AT_FDCWD, path, st.st_dev, err);
}

int
fs_open_in_root (int rootfd, const char *path, int flags, mode_t mode, skiff_error_t *err)
{
  struct open_how how = { 0 };
  int fd;

  how.flags = flags | O_CLOEXEC;
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  fd = syscall (SYS_openat2, rootfd, path, &how, sizeof (how));
  if (fd < 0)
    return skiff_error_make (err, errno, "open `%s` in container root", path);
  return fd;
}

/* Appends the clean components of path to buf (which holds a clean
   absolute prefix of length base_len that ".." never removes).  */
static void
append_clean (char *buf, size_t base_len, const char *path)
{
  const char *p = path;
  size_t len = strlen (buf);

  while (*p)
    {
      const char *start;
      size_t n;
      while (*p == '/')
        p++;
      start = p;
      while (*p && *p != '/')
        p++;
      n = p - start;
      if (n == 0 || (n == 1 && start[0] == '.'))
        continue;
      if (n == 2 && start[0] == '.' && start[1] == '.')
        {
          while (len > base_len && buf[len - 1] != '/')
            len--;
          if (len > base_len)
            len--;
          buf[len] = '\0';
          continue;
        }
      if (len == 0 || buf[len - 1] != '/')
        buf[len++] = '/';
      memcpy (buf + len, start, n);
      len += n;
      buf[len] = '\0';
    }
  if (len == 0)
    {
      buf[0] = '/';
      buf[1] = '\0';
    }
}

char *
fs_join_under (const char *root, const char *path)
{
  size_t rlen = strlen (root);
  char *buf = malloc (rlen + strlen (path) + 3);
  if (buf == NULL)
    return NULL;
  buf[0] = '\0';
  append_clean (buf, 0, root);
  if (strcmp (buf, "/") == 0)
    buf[0] = '\0';
  append_clean (buf, strlen (buf), path);
  return buf;
}

char *
fs_absolute (const char *base, const char *path)
{
  char *buf;
  if (path[0] == '/')
    base = "";
  buf = malloc (strlen (base) + strlen (path) + 3);
  if (buf == NULL)
    return NULL;
  buf[0] = '\0';
  append_clean (buf, 0, base);
  if (strcmp (buf, "/") == 0)
    buf[0] = '\0';
  append_clean (buf, 0, path);
  return buf;
}

int
fs_exists (const char *path)
{
  return access (path, F_OK) == 0;
}
