#include "rootfs.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define FD_PATH_LEN 32

static void
fd_path (char buf[FD_PATH_LEN], int fd)
{
  snprintf (buf, FD_PATH_LEN, "/proc/self/fd/%d", fd);
}

/* Opens (creating as needed) dest inside the rootfs, never leaving it:
   every component is resolved with RESOLVE_IN_ROOT.  Returns an O_PATH
   fd usable as a mount target through /proc/self/fd.  */
static int
open_target (int rootfd, const char *dest, bool want_dir, skiff_error_t *err)
{
  cleanup_free char *copy = strdup (dest);
  char *p, *slash;
  int fd;

  if (copy == NULL)
    return skiff_error_make (err, ENOMEM, "mount target");
  fd = fs_open_in_root (rootfd, dest, O_PATH, 0, NULL);
  if (fd >= 0)
    return fd;

  /* Create the missing components one by one.  */
  for (p = copy; *p == '/'; p++)
    ;
  while (*p)
    {
      cleanup_close int parent = -1;
      bool last;
      slash = strchr (p, '/');
      last = slash == NULL;
      if (slash)
        *slash = '\0';
      fd = fs_open_in_root (rootfd, copy, O_PATH, 0, NULL);
      if (fd >= 0)
        close (fd);
      else
        {
          char *base = strrchr (copy, '/');
          const char *name = base ? base + 1 : copy;
          if (base == copy)
            parent = fs_open_in_root (rootfd, "/", O_PATH | O_DIRECTORY, 0, err);
          else if (base)
            {
              *base = '\0';
              parent = fs_open_in_root (rootfd, copy, O_PATH | O_DIRECTORY, 0, err);
              *base = '/';
            }
          else
            parent = fs_open_in_root (rootfd, "/", O_PATH | O_DIRECTORY, 0, err);
          if (parent < 0)
            return -1;
          if (last && !want_dir)
            {
              int f = openat (parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
              if (f < 0 && errno != EEXIST)
                return skiff_error_make (err, errno, "create mount target `%s`", dest);
              if (f >= 0)
                close (f);
            }
          else if (mkdirat (parent, name, 0755) < 0 && errno != EEXIST)
            return skiff_error_make (err, errno, "create mount target `%s`", dest);
        }
      if (last)
        break;
      *slash = '/';
      p = slash + 1;
      while (*p == '/')
        p++;
    }
  return fs_open_in_root (rootfd, dest, O_PATH, 0, err);
}

/* Flags that a remount must keep when they are locked (in a user
   namespace the kernel refuses to clear them).  */
static unsigned long
locked_flags (const char *target)
{
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs (target, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY)
    f |= MS_RDONLY & 0; /* never forced: ro is what callers choose */
  return f;
}

static int
remount_bind (const char *target, unsigned long flags, skiff_error_t *err)
{
  unsigned long f = MS_REMOUNT | MS_BIND | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT));
  if (mount (NULL, target, NULL, f, NULL) == 0)
    return 0;
  f |= locked_flags (target);
  if (mount (NULL, target, NULL, f, NULL) < 0)
    return skiff_error_make (err, errno, "remount `%s`", target);
  return 0;
}

/* ---- cgroup mounts ---------------------------------------------------- */

static int
bind_cgroup_hierarchies (int rootfd, const struct spec_mount *m, const char *cgroup_path, skiff_error_t *err)
{
  cleanup_file FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  bool ro = (m->flags & MS_RDONLY) != 0;

  if (f == NULL)
    return skiff_error_make (err, errno, "open mountinfo");
  while (getline (&line, &cap, f) > 0)
    {
      char mnt[4096], fstype[64];
      char *sep = strstr (line, " - ");
      cleanup_free char *src = NULL, *dst = NULL;
      const char *name;
      char tp[FD_PATH_LEN];
      cleanup_close int tfd = -1;
      struct stat st;

      if (sep == NULL || sscanf (line, "%*s %*s %*s %*s %4095s", mnt) != 1 || sscanf (sep + 3, "%63s", fstype) != 1)
        continue;
      if (strcmp (fstype, "cgroup") != 0 && strcmp (fstype, "cgroup2") != 0)
        continue;
      if (strncmp (mnt, "/sys/fs/cgroup/", 15) != 0)
        continue;
      name = mnt + 15;
      if (asprintf (&src, "%s%s", mnt, cgroup_path ? cgroup_path : "") < 0
          || asprintf (&dst, "%s/%s", m->destination, name) < 0)
        return skiff_error_make (err, ENOMEM, "cgroup mount");
      if (stat (src, &st) < 0 || !S_ISDIR (st.st_mode))
        continue; /* the container has no cgroup in this hierarchy */
      tfd = open_target (rootfd, dst, true, err);
      if (tfd < 0)
        return -1;
      fd_path (tp, tfd);
      if (mount (src, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
        return skiff_error_make (err, errno, "bind `%s` on `%s`", src, dst);
      close (tfd);
      tfd = open_target (rootfd, dst, true, err); /* now the bind mount itself */
      if (tfd < 0)
        return -1;
      fd_path (tp, tfd);
      if (remount_bind (tp, MS_NOSUID | MS_NODEV | MS_NOEXEC | (ro ? MS_RDONLY : 0), err) < 0)
        return -1;
      /* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct".  */
      if (strchr (name, ','))
        {
          cleanup_free char *names = strdup (name);
          char *tok, *save = NULL;
          cleanup_close int dirfd_ = open_target (rootfd, m->destination, true, err);
          if (dirfd_ < 0)
            return -1;
          for (tok = strtok_r (names, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
            {
              cleanup_close int d = fs_open_in_root (rootfd, m->destination, O_DIRECTORY, 0, err);
              if (d < 0)
                return -1;
              if (symlinkat (name, d, tok) < 0 && errno != EEXIST)
                return skiff_error_make (err, errno, "symlink `%s/%s`", m->destination, tok);
            }
        }
    }
  return 0;
}

static int
mount_cgroup (int rootfd, const struct spec_mount *m, const char *cgroup_path, bool new_cgroupns, skiff_error_t *err)
{
  cleanup_close int tfd = open_target (rootfd, m->destination, true, err);
  char tp[FD_PATH_LEN];
  struct statfs;
  unsigned long base = m->flags & ~(MS_RDONLY | MS_BIND | MS_REC);

  if (tfd < 0)
    return -1;
  fd_path (tp, tfd);
  /* Unified hierarchy: with a cgroup namespace a fresh cgroup2 mount shows
     exactly the container's cgroup.  */
  if (access ("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
    {
      if (new_cgroupns && mount ("cgroup2", tp, "cgroup2", m->flags & ~(MS_BIND | MS_REC), NULL) == 0)
        return 0;
      {
        cleanup_free char *src = NULL;
        if (asprintf (&src, "/sys/fs/cgroup%s", cgroup_path ? cgroup_path : "") < 0)
          return skiff_error_make (err, ENOMEM, "cgroup mount");
        if (mount (src, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
          return skiff_error_make (err, errno, "bind `%s` on `%s`", src, m->destination);
        close (tfd);
        tfd = open_target (rootfd, m->destination, true, err);
        if (tfd < 0)
          return -1;
        fd_path (tp, tfd);
        return remount_bind (tp, m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
      }
    }
  /* v1 or hybrid: a tmpfs holding one bind mount per hierarchy.  */
  if (mount ("tmpfs", tp, "tmpfs", base, "mode=755") < 0)
    return skiff_error_make (err, errno, "mount tmpfs on `%s`", m->destination);
  if (bind_cgroup_hierarchies (rootfd, m, cgroup_path, err) < 0)
    return -1;
  if (m->flags & MS_RDONLY)
    {
      close (tfd);
      tfd = open_target (rootfd, m->destination, true, err);
      if (tfd < 0)
        return -1;
      fd_path (tp, tfd);
      if (mount (NULL, tp, NULL, MS_REMOUNT | base | MS_RDONLY, "mode=755") < 0)
        return skiff_error_make (err, errno, "remount `%s` read-only", m->destination);
    }
  return 0;
}

/* ---- spec mounts ------------------------------------------------------ */

static int
do_mount (int rootfd, const struct spec *s, const struct spec_mount *m, const char *cgroup_path, skiff_error_t *err)
{
  cleanup_close int tfd = -1;
  char tp[FD_PATH_LEN];
  bool want_dir = true;

  if (m->type && (strcmp (m->type, "cgroup") == 0 || strcmp (m->type, "cgroup2") == 0))
    return mount_cgroup (rootfd, m, cgroup_path, spec_has_namespace (s, CLONE_NEWCGROUP, NULL), err);

  if (m->is_bind)
    {
      struct stat st;
      if (stat (m->source, &st) < 0)
        return skiff_error_make (err, errno, "bind mount source `%s`", m->source);
      want_dir = S_ISDIR (st.st_mode);
    }
  tfd = open_target (rootfd, m->destination, want_dir, err);
  if (tfd < 0)
    return -1;
  fd_path (tp, tfd);

  if (m->is_bind)
    {
      if (mount (m->source, tp, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
        return skiff_error_make (err, errno, "bind `%s` on `%s`", m->source, m->destination);
      /* The new mount is on top of the O_PATH target: reopen it.  */
      close (tfd);
      tfd = open_target (rootfd, m->destination, want_dir, err);
      if (tfd < 0)
        return -1;
      fd_path (tp, tfd);
      if ((m->flags & ~(MS_BIND | MS_REC)) != 0 && remount_bind (tp, m->flags, err) < 0)
        return -1;
    }
  else
    {
      const char *type = m->type;
      unsigned long flags = m->flags;
      if (mount (m->source ? m->source : type, tp, type, flags, m->data) < 0)
        {
          /* sysfs cannot be mounted without owning the network namespace:
             fall back to a read-only bind of the host's, as runc does.  */
          if (strcmp (type, "sysfs") == 0 && (errno == EPERM || errno == EBUSY))
            {
              if (mount ("/sys", tp, NULL, MS_BIND | MS_REC, NULL) < 0)
                return skiff_error_make (err, errno, "bind `/sys` on `%s`", m->destination);
              close (tfd);
              tfd = open_target (rootfd, m->destination, true, err);
              if (tfd < 0)
                return -1;
              fd_path (tp, tfd);
              return remount_bind (tp, flags | MS_RDONLY, err);
            }
          return skiff_error_make (err, errno, "mount `%s` on `%s`", type, m->destination);
        }
    }
  if (m->propagation)
    {
      close (tfd);
      tfd = open_target (rootfd, m->destination, want_dir, err);
      if (tfd < 0)
        return -1;
      fd_path (tp, tfd);
      if (mount (NULL, tp, NULL, m->propagation, NULL) < 0)
        return skiff_error_make (err, errno, "set propagation of `%s`", m->destination);
    }
  return 0;
}

/* ---- /dev ------------------------------------------------------------- */

struct default_device
{
  const char *path;
  int major, minor;
};

static const struct default_device default_devices[] = {
  { "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static int
make_device (int rootfd, const char *path, char type, int major, int minor, mode_t mode, uid_t uid, gid_t gid,
             bool set_owner, bool in_userns, skiff_error_t *err)
{
  cleanup_free char *dir = strdup (path);
  char *slash = dir ? strrchr (dir, '/') : NULL;
  cleanup_close int dfd = -1;
  mode_t kind;

  if (slash == NULL)
    return skiff_error_make (err, ENOMEM, "device `%s`", path);
  *slash = '\0';
  {
    cleanup_close int t = open_target (rootfd, *dir ? dir : "/", true, err);
    if (t < 0)
      return -1;
  }
  dfd = fs_open_in_root (rootfd, *dir ? dir : "/", O_DIRECTORY | O_RDONLY, 0, err);
  if (dfd < 0)
    return -1;
  kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;

  if (in_userns && type != 'p')
    {
      /* mknod is not allowed: bind the host's node onto an empty file.  */
      cleanup_close int tfd = -1;
      char tp[FD_PATH_LEN];
      tfd = open_target (rootfd, path, false, err);
      if (tfd < 0)
        return -1;
      fd_path (tp, tfd);
      if (mount (path, tp, NULL, MS_BIND, NULL) < 0)
        return skiff_error_make (err, errno, "bind device `%s`", path);
      return 0;
    }
  unlinkat (dfd, slash + 1, 0);
  if (mknodat (dfd, slash + 1, kind | (mode & 07777), makedev (major, minor)) < 0)
    return skiff_error_make (err, errno, "mknod `%s`", path);
  if (fchmodat (dfd, slash + 1, mode & 07777, 0) < 0)
    return skiff_error_make (err, errno, "chmod `%s`", path);
  if (set_owner && fchownat (dfd, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return skiff_error_make (err, errno, "chown `%s`", path);
  return 0;
}

static bool
dev_is_mounted (const struct spec *s)
{
  size_t i;
  for (i = 0; i < s->n_mounts; i++)
    if (strcmp (s->mounts[i].destination, "/dev") == 0)
      return true;
  return false;
}

static int
setup_dev (int rootfd, const struct spec *s, bool in_userns, skiff_error_t *err)
{
  static const struct
  {
    const char *target, *name;
  } links[] = {
    { "/proc/self/fd", "fd" },
    { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" },
    { "/proc/self/fd/2", "stderr" },
  };
  size_t i;
  mode_t old = umask (0);
  int ret = 0;

  if (dev_is_mounted (s))
    {
      cleanup_close int dfd = -1;
      for (i = 0; ret == 0 && i < sizeof (default_devices) / sizeof (default_devices[0]); i++)
        ret = make_device (rootfd, default_devices[i].path, 'c', default_devices[i].major, default_devices[i].minor, 0666,
                           0, 0, false, in_userns, err);
      if (ret == 0)
        {
          dfd = fs_open_in_root (rootfd, "/dev", O_DIRECTORY | O_RDONLY, 0, err);
          if (dfd < 0)
            ret = -1;
        }
      for (i = 0; ret == 0 && i < sizeof (links) / sizeof (links[0]); i++)
        if (symlinkat (links[i].target, dfd, links[i].name) < 0 && errno != EEXIST)
          ret = skiff_error_make (err, errno, "symlink `/dev/%s`", links[i].name);
      if (ret == 0)
        {
          struct stat st;
          /* /dev/ptmx must be the container's own devpts instance.  */
          if (fstatat (dfd, "pts/ptmx", &st, 0) == 0)
            {
              unlinkat (dfd, "ptmx", 0);
              if (symlinkat ("pts/ptmx", dfd, "ptmx") < 0)
                ret = skiff_error_make (err, errno, "symlink `/dev/ptmx`");
            }
        }
    }
  for (i = 0; ret == 0 && i < s->n_devices; i++)
    {
      const struct spec_device *d = &s->devices[i];
      ret = make_device (rootfd, d->path, d->type, d->major, d->minor, d->has_file_mode ? d->file_mode : 0666, d->uid,
                         d->gid, d->has_uid || d->has_gid, in_userns, err);
    }
  umask (old);
  return ret;
}

/* ---- the three steps ---------------------------------------------------- */

int
rootfs_prepare (const struct spec *s, const char *cgroup_path, bool in_userns, skiff_error_t *err)
{
  cleanup_close int rootfd = -1;
  size_t i;

  /* Nothing done here may propagate back to the host.  */
  if (mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return skiff_error_make (err, errno, "make / a slave mount");
  /* pivot_root needs the rootfs to be a mount point.  */
  if (mount (s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return skiff_error_make (err, errno, "bind rootfs `%s`", s->root_path);
  if (mount (NULL, s->root_path, NULL, MS_PRIVATE, NULL) < 0)
    return skiff_error_make (err, errno, "make rootfs private");

  rootfd = open (s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return skiff_error_make (err, errno, "open rootfs `%s`", s->root_path);
  for (i = 0; i < s->n_mounts; i++)
    if (do_mount (rootfd, s, &s->mounts[i], cgroup_path, err) < 0)
      return skiff_error_wrap (err, "mounts[%zu]", i);
  return setup_dev (rootfd, s, in_userns, err);
}

int
rootfs_pivot (const struct spec *s, bool no_pivot, skiff_error_t *err)
{
  cleanup_close int oldroot = -1, newroot = -1;

  newroot = open (s->root_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0)
    return skiff_error_make (err, errno, "open rootfs `%s`", s->root_path);
  if (fchdir (newroot) < 0)
    return skiff_error_make (err, errno, "chdir to rootfs");

  if (!no_pivot)
    {
      oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
      if (oldroot < 0)
        return skiff_error_make (err, errno, "open /");
      if (syscall (SYS_pivot_root, ".", ".") < 0)
        {
          /* EINVAL: the current root is not a mount point we can pivot
             away from (initramfs, for one).  Fall back to MS_MOVE.  */
          if (errno != EINVAL)
            return skiff_error_make (err, errno, "pivot_root to `%s`", s->root_path);
          log_debug ("pivot_root failed with EINVAL: using MS_MOVE and chroot");
          no_pivot = true;
        }
    }
  if (no_pivot)
    {
      if (mount (s->root_path, "/", NULL, MS_MOVE, NULL) < 0)
        return skiff_error_make (err, errno, "move rootfs to /");
      if (chroot (".") < 0)
        return skiff_error_make (err, errno, "chroot");
    }
  else
    {
      /* The old root is now stacked under the new one: detach it.  */
      if (fchdir (oldroot) < 0)
        return skiff_error_make (err, errno, "chdir to old root");
      if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return skiff_error_make (err, errno, "make old root a slave");
      if (umount2 (".", MNT_DETACH) < 0)
        return skiff_error_make (err, errno, "unmount old root");
    }
  if (chdir ("/") < 0)
    return skiff_error_make (err, errno, "chdir /");
  if (s->rootfs_propagation && mount (NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
    return skiff_error_make (err, errno, "set rootfs propagation");
  return 0;
}

static int
mask_path (const char *path, skiff_error_t *err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return errno == ENOENT ? 0 : skiff_error_make (err, errno, "masked path `%s`", path);
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k") < 0)
        return skiff_error_make (err, errno, "mask directory `%s`", path);
      return 0;
    }
  if (mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0)
    return skiff_error_make (err, errno, "mask `%s`", path);
  return 0;
}

static int
readonly_path (const char *path, skiff_error_t *err)
{
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return errno == ENOENT ? 0 : skiff_error_make (err, errno, "bind read-only path `%s`", path);
  return remount_bind (path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
}

int
rootfs_finalize (const struct spec *s, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < s->n_masked_paths; i++)
    if (mask_path (s->masked_paths[i], err) < 0)
      return -1;
  for (i = 0; i < s->n_readonly_paths; i++)
    if (readonly_path (s->readonly_paths[i], err) < 0)
      return -1;
  if (s->root_readonly && remount_bind ("/", MS_RDONLY, err) < 0)
    return skiff_error_wrap (err, "read-only root");
  return 0;
}
