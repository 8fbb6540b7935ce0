/* Layer unpacking.  Every path of an entry is cleaned lexically (an entry
   that climbs above the layer root is rejected) and then resolved one
   component at a time with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
   so neither ".." nor a symlink planted by an earlier entry can lead a
   write outside the snapshot directory.  */
#include "layer_unpack.h"
#include "layer_gzip.h"
#include "store_internal.h"
#include "cleanup.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"
#define READ_BLOCK (64 * 1024)
#define SOURCE_BLOCK (128 * 1024)

static void
cleanup_archivep (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}
#define cleanup_archive __attribute__ ((cleanup (cleanup_archivep)))

static void
cleanup_md_ctxp (EVP_MD_CTX **c)
{
  if (*c)
    EVP_MD_CTX_free (*c);
}

int
layer_archive_support_filters (struct archive *a)
{
  /* Only the filters layers use: the bidders of exotic ones (uudecode,
     lrzip...) would otherwise get a say on untrusted input.  */
  if (archive_read_support_filter_gzip (a) < ARCHIVE_WARN || archive_read_support_filter_bzip2 (a) < ARCHIVE_WARN
      || archive_read_support_filter_xz (a) < ARCHIVE_WARN || archive_read_support_filter_zstd (a) < ARCHIVE_WARN)
    return ARCHIVE_FATAL;
  return ARCHIVE_OK;
}

int
layer_diff_id (const char *tar_path, char out[72], skiff_error_t *err)
{
  cleanup_archive struct archive *a = archive_read_new ();
  __attribute__ ((cleanup (cleanup_md_ctxp))) EVP_MD_CTX *md = EVP_MD_CTX_new ();
  struct archive_entry *e;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0, i;
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;

  if (a == NULL || md == NULL)
    return skiff_error_make (err, ENOMEM, "hash layer `%s`", tar_path);
  if (layer_archive_support_filters (a) < 0 || archive_read_support_format_raw (a) != ARCHIVE_OK
      || EVP_DigestInit_ex (md, EVP_sha256 (), NULL) != 1)
    return skiff_error_make (err, 0, "hash layer `%s`: cannot set up reader", tar_path);
  if (archive_read_open_filename (a, tar_path, READ_BLOCK) != ARCHIVE_OK)
    return skiff_error_make (err, 0, "open layer `%s`: %s", tar_path, archive_error_string (a));
  r = archive_read_next_header (a, &e);
  if (r == ARCHIVE_EOF)
    return image_invalid (skiff_error_make (err, 0, "layer `%s` is empty", tar_path));
  if (r < ARCHIVE_WARN)
    return image_invalid (skiff_error_make (err, 0, "read layer `%s`: %s", tar_path, archive_error_string (a)));
  while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK)
    if (EVP_DigestUpdate (md, buf, len) != 1)
      return skiff_error_make (err, 0, "hash layer `%s`", tar_path);
  if (r != ARCHIVE_EOF)
    return image_invalid (skiff_error_make (err, 0, "read layer `%s`: %s", tar_path, archive_error_string (a)));
  if (EVP_DigestFinal_ex (md, digest, &dlen) != 1)
    return skiff_error_make (err, 0, "hash layer `%s`", tar_path);
  memcpy (out, "sha256:", 7);
  for (i = 0; i < dlen; i++)
    sprintf (out + 7 + 2 * i, "%02x", digest[i]);
  return 0;
}

/* Lexically cleans an entry path ("./a//b/../c" -> "a/c", leading "/"
   dropped as Docker does).  Returns NULL with errno EXDEV when the path
   climbs above the root, ENOMEM on allocation failure.  "" is the root.  */
static char *
clean_entry_path (const char *in)
{
  char *out = malloc (strlen (in) + 1);
  size_t len = 0;
  const char *p = in;

  if (out == NULL)
    return NULL;
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
          if (len == 0)
            {
              free (out);
              errno = EXDEV;
              return NULL;
            }
          while (len > 0 && out[len - 1] != '/')
            len--;
          if (len > 0)
            len--;
          continue;
        }
      if (len > 0)
        out[len++] = '/';
      memcpy (out + len, start, n);
      len += n;
    }
  out[len] = '\0';
  return out;
}

static int
open_beneath (int dirfd, const char *name, int flags)
{
  struct open_how how = { 0 };
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return syscall (SYS_openat2, dirfd, name, &how, sizeof (how));
}

struct unpack
{
  int rootfd;
  const char *tar_path;
  const char *entry; /* name of the current entry, for errors */
  struct deferred_dir
  {
    char *path;
    struct timespec times[2];
  } *dirs;
  size_t n_dirs, cap_dirs;
};

/* Opens the directory that holds clean path `path` (creating missing
   directories when create is set) and points *base at its last
   component.  Returns the directory fd or -1 with errno set; ELOOP means
   a symlink on the way.  */
static int
open_parent (struct unpack *u, char *path, const char **base, bool create)
{
  cleanup_close int fd = dup (u->rootfd);
  char *p = path, *slash;

  if (fd < 0)
    return -1;
  while ((slash = strchr (p, '/')))
    {
      int next;
      *slash = '\0';
      next = open_beneath (fd, p, O_RDONLY | O_DIRECTORY);
      if (next < 0 && errno == ENOENT && create)
        {
          if (mkdirat (fd, p, 0755) < 0 && errno != EEXIST)
            {
              *slash = '/';
              return -1;
            }
          next = open_beneath (fd, p, O_RDONLY | O_DIRECTORY);
        }
      *slash = '/';
      if (next < 0)
        return -1;
      close (fd);
      fd = next;
      p = slash + 1;
    }
  *base = p;
  return steal_fd (&fd);
}

/* rm -rf of name in parent, never following symlinks.  */
static int
remove_at (int parent, const char *name)
{
  struct stat st;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR (st.st_mode))
    return unlinkat (parent, name, 0) < 0 && errno != ENOENT ? -1 : 0;
  fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  while ((de = readdir (d)))
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (remove_at (dirfd (d), de->d_name) < 0)
        return -1;
    }
  return unlinkat (parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
}

static int
set_xattrs (int fd, struct archive_entry *e)
{
  const char *name;
  const void *value;
  size_t size;

  archive_entry_xattr_reset (e);
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    {
      /* overlayfs' own attributes come from whiteout entries only: a layer
         must not plant redirects or metacopy markers.  */
      if (strncmp (name, "trusted.overlay.", 16) == 0)
        continue;
      if (fsetxattr (fd, name, value, size, 0) < 0 && errno != ENOTSUP && errno != EPERM)
        return -1;
    }
  return 0;
}

static void
entry_times (struct archive_entry *e, struct timespec ts[2])
{
  ts[1].tv_sec = archive_entry_mtime (e);
  ts[1].tv_nsec = archive_entry_mtime_nsec (e);
  if (archive_entry_atime_is_set (e))
    {
      ts[0].tv_sec = archive_entry_atime (e);
      ts[0].tv_nsec = archive_entry_atime_nsec (e);
    }
  else
    ts[0] = ts[1];
}

static int
write_regular (struct archive *a, struct archive_entry *e, int dirfd, const char *name, int64_t *size)
{
  cleanup_close int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  struct timespec ts[2];
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;

  if (fd < 0)
    return -1;
  while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK)
    {
      const char *p = buf;
      while (len > 0)
        {
          ssize_t n = pwrite (fd, p, len, off);
          if (n < 0)
            {
              if (errno == EINTR)
                continue;
              return -1;
            }
          p += n;
          off += n;
          len -= n;
        }
    }
  if (r != ARCHIVE_EOF)
    {
      errno = EIO;
      return -2;
    }
  /* Sparse files may end in a hole.  */
  if (ftruncate (fd, archive_entry_size (e)) < 0)
    return -1;
  *size += archive_entry_size (e);
  if (fchown (fd, archive_entry_uid (e), archive_entry_gid (e)) < 0
      || fchmod (fd, archive_entry_perm (e)) < 0 || set_xattrs (fd, e) < 0)
    return -1;
  entry_times (e, ts);
  return futimens (fd, ts);
}

static int
make_dir (struct unpack *u, struct archive_entry *e, int dirfd, const char *name, const char *path)
{
  cleanup_close int fd = -1;
  struct deferred_dir *d;

  if (*name == '\0')
    fd = dup (u->rootfd);
  else
    {
      if (mkdirat (dirfd, name, 0700) < 0 && errno != EEXIST)
        return -1;
      fd = open_beneath (dirfd, name, O_RDONLY | O_DIRECTORY);
    }
  if (fd < 0)
    return -1;
  if (fchown (fd, archive_entry_uid (e), archive_entry_gid (e)) < 0
      || fchmod (fd, archive_entry_perm (e)) < 0 || set_xattrs (fd, e) < 0)
    return -1;
  /* Times last: later entries inside would change them.  */
  if (u->n_dirs == u->cap_dirs)
    {
      size_t cap = u->cap_dirs ? u->cap_dirs * 2 : 64;
      struct deferred_dir *nd = realloc (u->dirs, cap * sizeof (*nd));
      if (nd == NULL)
        return -1;
      u->dirs = nd;
      u->cap_dirs = cap;
    }
  d = &u->dirs[u->n_dirs];
  d->path = strdup (path);
  if (d->path == NULL)
    return -1;
  entry_times (e, d->times);
  u->n_dirs++;
  return 0;
}

static int
make_other (struct archive_entry *e, int dirfd, const char *name)
{
  struct timespec ts[2];
  mode_t type = archive_entry_filetype (e);
  int r;

  if (type == AE_IFLNK)
    r = symlinkat (archive_entry_symlink (e) ? archive_entry_symlink (e) : "", dirfd, name);
  else if (type == AE_IFIFO)
    r = mkfifoat (dirfd, name, 0600);
  else
    r = mknodat (dirfd, name, type | 0600, archive_entry_rdev (e));
  if (r < 0)
    return -1;
  if (fchownat (dirfd, name, archive_entry_uid (e), archive_entry_gid (e), AT_SYMLINK_NOFOLLOW) < 0)
    return -1;
  /* The node was just created by us in a private directory: chmod cannot
     be redirected.  Symlinks have no mode of their own.  */
  if (type != AE_IFLNK && fchmodat (dirfd, name, archive_entry_perm (e), 0) < 0)
    return -1;
  entry_times (e, ts);
  return utimensat (dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int
make_hardlink (struct unpack *u, const char *target, int dirfd, const char *name, skiff_error_t *err)
{
  cleanup_free char *clean = clean_entry_path (target);
  cleanup_close int tdir = -1;
  const char *tbase;

  if (clean == NULL && errno == EXDEV)
    return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: hard link target `%s` is outside the layer", u->entry, target));
  if (clean == NULL)
    return skiff_error_make (err, errno, "layer entry `%s`", u->entry);
  if (*clean == '\0')
    return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: hard link to the layer root", u->entry));
  tdir = open_parent (u, clean, &tbase, false);
  if (tdir < 0 && errno == ELOOP)
    return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: hard link target `%s` goes through a symlink", u->entry, target));
  if (tdir < 0 || linkat (tdir, tbase, dirfd, name, 0) < 0)
    return image_invalid (skiff_error_make (err, errno, "layer entry `%s`: hard link to `%s`", u->entry, target));
  return 0;
}

static int
apply_whiteout (struct unpack *u, struct archive_entry *e, int dirfd, const char *base, skiff_error_t *err)
{
  const char *name = base + strlen (WHITEOUT_PREFIX);

  if (strcmp (base, WHITEOUT_OPAQUE) == 0)
    {
      if (fsetxattr (dirfd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
        return skiff_error_make (err, errno, "layer entry `%s`: set %s", u->entry, OVERLAY_OPAQUE_XATTR);
      return 0;
    }
  /* Other .wh..wh. names are AUFS bookkeeping: Docker ignores them.  */
  if (strncmp (base, WHITEOUT_META_PREFIX, strlen (WHITEOUT_META_PREFIX)) == 0)
    return 0;
  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: invalid whiteout", u->entry));
  if (remove_at (dirfd, name) < 0)
    return skiff_error_make (err, errno, "layer entry `%s`: remove `%s`", u->entry, name);
  if (mknodat (dirfd, name, S_IFCHR, makedev (0, 0)) < 0
      || fchownat (dirfd, name, archive_entry_uid (e), archive_entry_gid (e), AT_SYMLINK_NOFOLLOW) < 0)
    return skiff_error_make (err, errno, "layer entry `%s`: create whiteout `%s`", u->entry, name);
  return 0;
}

static int
apply_entry (struct unpack *u, struct archive *a, struct archive_entry *e, int64_t *size, skiff_error_t *err)
{
  cleanup_free char *path = clean_entry_path (archive_entry_pathname (e));
  cleanup_free char *copy = NULL;
  cleanup_close int dirfd = -1;
  const char *base;
  mode_t type = archive_entry_filetype (e);
  const char *hardlink = archive_entry_hardlink (e);
  struct stat st;
  int r;

  if (path == NULL && errno == EXDEV)
    return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: path is outside the layer", u->entry));
  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "layer entry `%s`", u->entry);
  if (*path == '\0')
    {
      if (type != AE_IFDIR || hardlink)
        return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: the layer root must be a directory", u->entry));
      if (make_dir (u, e, -1, "", path) < 0)
        return skiff_error_make (err, errno, "layer entry `%s`", u->entry);
      return 0;
    }
  copy = strdup (path);
  if (copy == NULL)
    return skiff_error_make (err, ENOMEM, "layer entry `%s`", u->entry);
  dirfd = open_parent (u, copy, &base, true);
  if (dirfd < 0 && (errno == ELOOP || errno == EXDEV))
    return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: path goes through a symlink", u->entry));
  if (dirfd < 0 && errno == ENOTDIR)
    return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: a parent is not a directory", u->entry));
  if (dirfd < 0)
    return skiff_error_make (err, errno, "layer entry `%s`: open parent directory", u->entry);

  if (strncmp (base, WHITEOUT_PREFIX, strlen (WHITEOUT_PREFIX)) == 0)
    return apply_whiteout (u, e, dirfd, base, err);

  /* Replace what an earlier entry left there, except dir over dir.  */
  if (fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !(S_ISDIR (st.st_mode) && type == AE_IFDIR && !hardlink))
    if (remove_at (dirfd, base) < 0)
      return skiff_error_make (err, errno, "layer entry `%s`: replace existing file", u->entry);

  if (hardlink)
    return make_hardlink (u, hardlink, dirfd, base, err);
  switch (type)
    {
    case AE_IFREG:
      r = write_regular (a, e, dirfd, base, size);
      if (r == -2)
        return image_invalid (skiff_error_make (err, 0, "layer entry `%s`: %s", u->entry, archive_error_string (a)));
      break;
    case AE_IFDIR:
      r = make_dir (u, e, dirfd, base, path);
      break;
    case AE_IFLNK:
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      r = make_other (e, dirfd, base);
      break;
    default:
      /* Sockets and unknown types: Docker skips them too.  */
      return 0;
    }
  if (r < 0)
    return skiff_error_make (err, errno, "layer entry `%s`", u->entry);
  return 0;
}

/* Directory times, deepest first, now that nothing writes into them.  */
static int
apply_dir_times (struct unpack *u, skiff_error_t *err)
{
  size_t i = u->n_dirs;
  while (i-- > 0)
    {
      cleanup_close int dirfd = -1;
      cleanup_close int fd = -1;
      const char *base;
      if (u->dirs[i].path[0] == '\0')
        fd = dup (u->rootfd);
      else
        {
          cleanup_free char *copy = strdup (u->dirs[i].path);
          if (copy == NULL)
            return skiff_error_make (err, ENOMEM, "set directory times");
          dirfd = open_parent (u, copy, &base, false);
          /* A later entry may have replaced or whited out the directory.  */
          if (dirfd < 0)
            continue;
          fd = open_beneath (dirfd, base, O_RDONLY | O_DIRECTORY);
        }
      if (fd < 0)
        continue;
      if (futimens (fd, u->dirs[i].times) < 0)
        return skiff_error_make (err, errno, "set times of `%s`", u->dirs[i].path);
    }
  return 0;
}

static void
unpack_release (struct unpack *u)
{
  size_t i;
  for (i = 0; i < u->n_dirs; i++)
    free (u->dirs[i].path);
  free (u->dirs);
  if (u->rootfd >= 0)
    close (u->rootfd);
}

/* The uncompressed stream between the two readers of
   layer_unpack_source, hashed as it passes.  */
struct stream
{
  struct layer_gzip *gz; /* gzip: ISA-L */
  struct archive *raw;   /* else: libarchive's filters */
  EVP_MD_CTX *md;
  bool ended;
  const char *error; /* set when the stream failed */
};

/* The next block of the uncompressed stream: its length, 0 at the end,
   -1 when it failed (s->error says why).  */
static ssize_t
stream_next (struct stream *s, const void **buf)
{
  size_t len = 0;
  la_int64_t off;
  int r;

  if (s->ended)
    return 0;
  if (s->error)
    return -1;
  if (s->gz)
    {
      ssize_t n = layer_gzip_next (s->gz, buf, &s->error);
      if (n <= 0)
        {
          s->ended = n == 0;
          return n;
        }
      len = n;
    }
  else
    {
      do
        r = archive_read_data_block (s->raw, buf, &len, &off);
      while (r == ARCHIVE_OK && len == 0);
      if (r == ARCHIVE_EOF)
        {
          s->ended = true;
          return 0;
        }
      if (r != ARCHIVE_OK)
        {
          s->error = archive_error_string (s->raw) ? archive_error_string (s->raw) : "read error";
          return -1;
        }
    }
  if (EVP_DigestUpdate (s->md, *buf, len) != 1)
    {
      s->error = "sha256 failed";
      return -1;
    }
  return len;
}

static la_ssize_t
stream_cb (struct archive *a, void *data, const void **buf)
{
  struct stream *s = data;
  ssize_t n = stream_next (s, buf);
  if (n < 0)
    archive_set_error (a, EIO, "%s", s->error);
  return n;
}

/* The source for libarchive, its first block (read to choose the
   decompressor) given again.  */
struct peeked
{
  const struct layer_source *src;
  const void *first;
  size_t first_len;
  bool replayed;
};

static la_ssize_t
source_cb (struct archive *a, void *data, const void **buf)
{
  struct peeked *p = data;
  ssize_t n;

  if (!p->replayed)
    {
      p->replayed = true;
      *buf = p->first;
      return p->first_len;
    }
  n = p->src->read (p->src->data, buf);
  if (n < 0)
    archive_set_error (a, errno, "read `%s`: %s", p->src->name, strerror (errno));
  return n;
}

static void
cleanup_gzipp (struct layer_gzip **g)
{
  layer_gzip_free (*g);
}

/* Entries of the tar reader into the snapshot.  */
static int
unpack_entries (struct unpack *u, struct archive *tar, int64_t *size, skiff_error_t *err)
{
  struct archive_entry *e;
  int r;

  while ((r = archive_read_next_header (tar, &e)) != ARCHIVE_EOF)
    {
      int ret;
      if (r < ARCHIVE_WARN)
        return image_invalid (skiff_error_make (err, 0, "read layer: %s", archive_error_string (tar)));
      u->entry = archive_entry_pathname (e) ? archive_entry_pathname (e) : "";
      ret = apply_entry (u, tar, e, size, err);
      if (ret < 0)
        return ret;
    }
  return apply_dir_times (u, err);
}

int
layer_unpack_source (const struct layer_source *src, const char *diff_dir, int64_t *size, char diff_id[72],
                     skiff_error_t *err)
{
  __attribute__ ((cleanup (unpack_release))) struct unpack u = { .rootfd = -1, .tar_path = src->name };
  __attribute__ ((cleanup (cleanup_md_ctxp))) EVP_MD_CTX *md = EVP_MD_CTX_new ();
  /* Freed in reverse: tar, which reads from raw, first.  */
  cleanup_archive struct archive *raw = archive_read_new ();
  cleanup_archive struct archive *tar = archive_read_new ();
  __attribute__ ((cleanup (cleanup_gzipp))) struct layer_gzip *gz = NULL;
  struct peeked pk = { .src = src };
  struct stream st = { 0 };
  struct archive_entry *e;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0, i;
  const void *buf;
  int64_t total = 0;
  ssize_t n;
  int r, ret;

  diff_id[0] = '\0';
  if (raw == NULL || tar == NULL || md == NULL)
    return skiff_error_make (err, ENOMEM, "unpack layer `%s`", src->name);
  u.rootfd = open (diff_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (u.rootfd < 0)
    return skiff_error_make (err, errno, "open `%s`", diff_dir);
  /* Two readers: raw decompresses (the stream the diff id is of), tar
     reads the entries from what raw gives it.  */
  if (layer_archive_support_filters (raw) < 0 || archive_read_support_format_raw (raw) != ARCHIVE_OK
      || archive_read_support_format_tar (tar) != ARCHIVE_OK || EVP_DigestInit_ex (md, EVP_sha256 (), NULL) != 1)
    return skiff_error_make (err, 0, "unpack layer `%s`: cannot set up reader", src->name);
  n = src->read (src->data, &buf);
  if (n < 0)
    return image_invalid (skiff_error_make (err, errno, "read layer `%s`", src->name));
  if (n == 0)
    return image_invalid (skiff_error_make (err, 0, "layer `%s` is empty", src->name));
  pk.first = buf;
  pk.first_len = n;
  if (layer_gzip_magic (buf, n))
    {
      gz = layer_gzip_new (src, buf, n);
      if (gz == NULL)
        return skiff_error_make (err, ENOMEM, "unpack layer `%s`", src->name);
      st.gz = gz;
    }
  else
    {
      if (archive_read_open (raw, &pk, NULL, source_cb, NULL) != ARCHIVE_OK)
        return image_invalid (skiff_error_make (err, 0, "open layer `%s`: %s", src->name, archive_error_string (raw)));
      r = archive_read_next_header (raw, &e);
      if (r == ARCHIVE_EOF)
        return image_invalid (skiff_error_make (err, 0, "layer `%s` is empty", src->name));
      if (r < ARCHIVE_WARN)
        return image_invalid (skiff_error_make (err, 0, "read layer `%s`: %s", src->name, archive_error_string (raw)));
      st.raw = raw;
    }
  st.md = md;
  if (archive_read_open (tar, &st, NULL, stream_cb, NULL) != ARCHIVE_OK)
    ret = image_invalid (skiff_error_make (err, 0, "open layer `%s`: %s", src->name, archive_error_string (tar)));
  else
    ret = unpack_entries (&u, tar, &total, err);
  /* The rest of the stream (the padding after the tar's end, or what a
     failed unpack left) still counts for the diff id.  */
  while ((n = stream_next (&st, &buf)) > 0)
    ;
  if (n < 0)
    {
      /* A stream that cannot be read is the cause of whatever the tar
         reader said about it.  */
      if (ret < 0)
        skiff_error_release (err);
      return image_invalid (skiff_error_make (err, 0, "read layer `%s`: %s", src->name, st.error));
    }
  if (EVP_DigestFinal_ex (md, digest, &dlen) != 1)
    return ret < 0 ? ret : skiff_error_make (err, 0, "hash layer `%s`", src->name);
  memcpy (diff_id, "sha256:", 7);
  for (i = 0; i < dlen; i++)
    sprintf (diff_id + 7 + 2 * i, "%02x", digest[i]);
  if (ret == 0)
    *size = total;
  return ret;
}

struct file_source
{
  int fd;
  char buf[SOURCE_BLOCK];
};

static ssize_t
file_read (void *data, const void **buf)
{
  struct file_source *f = data;
  ssize_t n;
  do
    n = read (f->fd, f->buf, sizeof (f->buf));
  while (n < 0 && errno == EINTR);
  *buf = f->buf;
  return n;
}

int
layer_unpack_diff_id (const char *tar_path, const char *diff_dir, int64_t *size, char diff_id[72], skiff_error_t *err)
{
  cleanup_free struct file_source *f = malloc (sizeof (*f));
  cleanup_close int fd = open (tar_path, O_RDONLY | O_CLOEXEC);
  struct layer_source src = { .read = file_read, .name = tar_path };

  diff_id[0] = '\0';
  if (f == NULL)
    return skiff_error_make (err, ENOMEM, "unpack layer `%s`", tar_path);
  if (fd < 0)
    return image_invalid (skiff_error_make (err, errno, "open layer `%s`", tar_path));
  f->fd = fd;
  src.data = f;
  return layer_unpack_source (&src, diff_dir, size, diff_id, err);
}

int
layer_unpack (const char *tar_path, const char *diff_dir, int64_t *size, skiff_error_t *err)
{
  char diff_id[72];
  return layer_unpack_diff_id (tar_path, diff_dir, size, diff_id, err);
}
