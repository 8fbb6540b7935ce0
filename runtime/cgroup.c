/* cgroup: layout detection, path handling, dispatch to the v1 or v2
   backend, and the helpers both backends share.  */
#include "cgroup.h"
#include "cgroup_internal.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_DEFAULT_ROOT "/sys/fs/cgroup"
#define CGROUP_DEFAULT_MOUNTINFO "/proc/self/mountinfo"
#define CGROUP_DESTROY_TIMEOUT_MS 5000

static struct cgroup_test_hooks hooks;

void
cgroup_set_test_hooks (const struct cgroup_test_hooks *h)
{
  if (h)
    hooks = *h;
  else
    memset (&hooks, 0, sizeof (hooks));
}

const char *
cgroup_root (void)
{
  return hooks.root ? hooks.root : CGROUP_DEFAULT_ROOT;
}

const char *
cgroup_mountinfo_path (void)
{
  return hooks.mountinfo ? hooks.mountinfo : CGROUP_DEFAULT_MOUNTINFO;
}

int
cgroup_mode (void)
{
  struct statfs st;

  if (hooks.mode == 1 || hooks.mode == 2)
    return hooks.mode;
  if (statfs (cgroup_root (), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return 2;
  return 1;
}

/* --- helpers for the backends ------------------------------------------ */

static char *
join (const char *dir, const char *name)
{
  char *p = NULL;
  if (asprintf (&p, "%s/%s", dir, name) < 0)
    return NULL;
  return p;
}

int
cgroup_write (const char *dir, const char *name, const char *value, skiff_error_t *err)
{
  cleanup_free char *path = join (dir, name);

  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "write `%s/%s`", dir, name);
  if (hooks.on_write)
    hooks.on_write (path, value);
  return fs_write_string (path, value, err);
}

int
cgroup_write_int (const char *dir, const char *name, long long value, skiff_error_t *err)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "%lld", value);
  return cgroup_write (dir, name, buf, err);
}

int
cgroup_read (const char *dir, const char *name, char **out, skiff_error_t *err)
{
  cleanup_free char *path = join (dir, name);
  char *buf = NULL;
  size_t len = 0;

  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "read `%s/%s`", dir, name);
  if (fs_read_file (path, &buf, &len, err) < 0)
    return -1;
  while (len > 0 && isspace ((unsigned char) buf[len - 1]))
    buf[--len] = '\0';
  *out = buf;
  return 0;
}

int
cgroup_knob_exists (const char *dir, const char *name)
{
  cleanup_free char *path = join (dir, name);
  return path != NULL && fs_exists (path);
}

char **
cgroup_levels (const char *mount, const char *path, size_t *n)
{
  cleanup_strv char **v = NULL;
  size_t count = 0, i, k = 0;
  const char *p;

  for (p = path; *p; p++)
    if (*p == '/' && p[1] != '/' && p[1] != '\0')
      count++;
  v = calloc (count + 1, sizeof (char *));
  if (v == NULL)
    return NULL;
  for (i = 1; k < count; i++)
    {
      if (path[i] == '/' || path[i] == '\0')
        {
          cleanup_free char *prefix = strndup (path, i);
          if (prefix == NULL)
            return NULL;
          v[k] = fs_join_under (mount, prefix);
          if (v[k] == NULL)
            return NULL;
          k++;
        }
    }
  *n = count;
  return steal_pointer (&v);
}

int
cgroup_mkdir (const char *dir, bool *created, skiff_error_t *err)
{
  *created = false;
  if (mkdir (dir, 0755) < 0)
    {
      if (errno == EEXIST)
        return 0;
      return skiff_error_make (err, errno, "mkdir `%s`", dir);
    }
  *created = true;
  if (hooks.after_mkdir)
    hooks.after_mkdir (dir);
  return 0;
}

static bool
is_subdir (DIR *d, struct dirent *de)
{
  struct stat st;

  if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
    return false;
  if (de->d_type != DT_UNKNOWN)
    return de->d_type == DT_DIR;
  return fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

int
cgroup_rmdir_tree (const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return errno == ENOENT ? 0 : -1;
  while ((de = readdir (d)))
    {
      cleanup_free char *sub = NULL;
      if (!is_subdir (d, de))
        continue;
      sub = join (dir, de->d_name);
      if (sub == NULL)
        {
          errno = ENOMEM;
          return -1;
        }
      if (cgroup_rmdir_tree (sub) < 0)
        return -1;
    }
  if (hooks.before_rmdir)
    hooks.before_rmdir (dir);
  if (rmdir (dir) < 0 && errno != ENOENT)
    return -1;
  return 0;
}

int
cgroup_add_dir (struct cgroup *cg, const char *mount, unsigned int controllers, skiff_error_t *err)
{
  struct cgroup_dir *v = realloc (cg->dirs, (cg->n_dirs + 1) * sizeof (*v));
  struct cgroup_dir *d;

  if (v == NULL)
    return skiff_error_make (err, ENOMEM, "add cgroup hierarchy `%s`", mount);
  cg->dirs = v;
  d = &v[cg->n_dirs];
  memset (d, 0, sizeof (*d));
  d->controllers = controllers;
  d->mount = strdup (mount);
  d->dir = fs_join_under (mount, cg->path);
  if (d->mount == NULL || d->dir == NULL)
    {
      free (d->mount);
      free (d->dir);
      return skiff_error_make (err, ENOMEM, "add cgroup hierarchy `%s`", mount);
    }
  cg->n_dirs++;
  return 0;
}

/* --- generic operations ------------------------------------------------- */

int
cgroup_generic_enter (const struct cgroup *cg, pid_t pid, skiff_error_t *err)
{
  size_t i;

  for (i = 0; i < cg->n_dirs; i++)
    if (cgroup_write_int (cg->dirs[i].dir, "cgroup.procs", pid, err) < 0)
      return skiff_error_wrap (err, "move process %d into cgroup `%s`", (int) pid, cg->path);
  return 0;
}

struct pid_vec
{
  pid_t *v;
  size_t n, cap;
};

static int
pid_vec_push (struct pid_vec *pv, pid_t pid)
{
  if (pv->n == pv->cap)
    {
      size_t cap = pv->cap ? pv->cap * 2 : 16;
      pid_t *v = realloc (pv->v, cap * sizeof (pid_t));
      if (v == NULL)
        return -1;
      pv->v = v;
      pv->cap = cap;
    }
  pv->v[pv->n++] = pid;
  return 0;
}

/* Appends the pids of dir/cgroup.procs and of every nested cgroup; a
   directory that vanished meanwhile is simply empty.  */
static int
read_procs_tree (const char *dir, struct pid_vec *pv, skiff_error_t *err)
{
  cleanup_free char *procs = NULL;
  cleanup_dir DIR *d = NULL;
  skiff_error_t tmp = NULL;
  struct dirent *de;
  char *p, *end;

  if (cgroup_read (dir, "cgroup.procs", &procs, &tmp) < 0)
    {
      int e = tmp->errno_;
      if (e == ENOENT || e == ENODEV)
        {
          skiff_error_release (&tmp);
          return 0;
        }
      if (err && *err == NULL)
        *err = tmp;
      else
        skiff_error_release (&tmp);
      return -1;
    }
  for (p = procs; *p; p = end)
    {
      long v = strtol (p, &end, 10);
      if (end == p)
        {
          end = p + 1;
          continue;
        }
      if (v > 0 && pid_vec_push (pv, (pid_t) v) < 0)
        return skiff_error_make (err, ENOMEM, "read `%s/cgroup.procs`", dir);
    }

  d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : skiff_error_make (err, errno, "opendir `%s`", dir);
  while ((de = readdir (d)))
    {
      cleanup_free char *sub = NULL;
      if (!is_subdir (d, de))
        continue;
      sub = join (dir, de->d_name);
      if (sub == NULL)
        return skiff_error_make (err, ENOMEM, "opendir `%s`", dir);
      if (read_procs_tree (sub, pv, err) < 0)
        return -1;
    }
  return 0;
}

static int
cmp_pid (const void *a, const void *b)
{
  pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
  return (x > y) - (x < y);
}

int
cgroup_generic_pids (const struct cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err)
{
  struct pid_vec pv = { 0 };
  size_t i, out = 0;

  for (i = 0; i < cg->n_dirs; i++)
    if (read_procs_tree (cg->dirs[i].dir, &pv, err) < 0)
      {
        free (pv.v);
        return skiff_error_wrap (err, "list processes of cgroup `%s`", cg->path);
      }
  if (pv.n > 0)
    {
      qsort (pv.v, pv.n, sizeof (pid_t), cmp_pid);
      for (i = 0; i < pv.n; i++)
        if (out == 0 || pv.v[out - 1] != pv.v[i])
          pv.v[out++] = pv.v[i];
    }
  *pids = pv.v;
  *n = out;
  return 0;
}

int
cgroup_generic_kill (const struct cgroup *cg, int sig, skiff_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0, i;

  if (cg->ops->pids (cg, &pids, &n, err) < 0)
    return -1;
  for (i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return skiff_error_make (err, errno, "kill process %d of cgroup `%s`", (int) pids[i], cg->path);
  return 0;
}

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
cgroup_generic_destroy (struct cgroup *cg, skiff_error_t *err)
{
  long long deadline = now_ms () + CGROUP_DESTROY_TIMEOUT_MS;
  long interval_us = 1000;

  for (;;)
    {
      bool busy = false;
      size_t i;

      if (cg->ops->kill (cg, SIGKILL, err) < 0)
        return skiff_error_wrap (err, "destroy cgroup `%s`", cg->path);
      for (i = 0; i < cg->n_dirs; i++)
        if (cgroup_rmdir_tree (cg->dirs[i].dir) < 0)
          {
            if (errno != EBUSY)
              return skiff_error_make (err, errno, "remove cgroup `%s`", cg->dirs[i].dir);
            busy = true;
          }
      if (!busy)
        return 0;
      if (now_ms () >= deadline)
        return skiff_error_make (err, EBUSY, "remove cgroup `%s`: still busy after %d ms", cg->path,
                                 CGROUP_DESTROY_TIMEOUT_MS);
      /* Poll: the killed processes need a moment to leave.  */
      {
        struct timespec ts = { 0, interval_us * 1000 };
        nanosleep (&ts, NULL);
        if (interval_us < 32000)
          interval_us *= 2;
      }
    }
}

/* --- public interface --------------------------------------------------- */

static const struct cgroup_ops *
current_ops (void)
{
  return cgroup_mode () == 2 ? &cgroup_v2_ops : &cgroup_v1_ops;
}

/* Builds the cgroup object for a normalised path and lets the backend
   find its directories.  */
static int
cgroup_new (const char *raw_path, struct cgroup **out, skiff_error_t *err)
{
  cleanup_cgroup struct cgroup *cg = calloc (1, sizeof (*cg));

  if (cg == NULL)
    return skiff_error_make (err, ENOMEM, "allocate cgroup");
  cg->path = fs_absolute ("/", raw_path);
  if (cg->path == NULL)
    return skiff_error_make (err, ENOMEM, "allocate cgroup");
  if (strcmp (cg->path, "/") == 0)
    return skiff_error_make (err, EINVAL, "invalid cgroup path `%s`: it names the root", raw_path);
  cg->ops = current_ops ();
  if (cg->ops->open (cg, err) < 0)
    return skiff_error_wrap (err, "cgroup `%s`", cg->path);
  *out = steal_pointer (&cg);
  return 0;
}

/* Removes what cgroup_create made, after a failure.  */
static void
undo_create (struct cgroup *cg)
{
  size_t i;

  for (i = 0; i < cg->n_dirs; i++)
    {
      if (cg->dirs[i].created_top == NULL)
        continue;
      if (cgroup_rmdir_tree (cg->dirs[i].created_top) < 0)
        log_warning ("cannot remove cgroup `%s`: %s", cg->dirs[i].created_top, strerror (errno));
      free (cg->dirs[i].created_top);
      cg->dirs[i].created_top = NULL;
    }
}

int
cgroup_create (const char *id, const char *cgroups_path, const struct spec_resources *res, struct cgroup **out,
               skiff_error_t *err)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  cleanup_free char *raw = NULL;

  if (cgroups_path && *cgroups_path)
    raw = strdup (cgroups_path);
  else if (asprintf (&raw, "/%s", id) < 0)
    raw = NULL;
  if (raw == NULL)
    return skiff_error_make (err, ENOMEM, "create cgroup for `%s`", id);

  if (cgroup_new (raw, &cg, err) < 0)
    return -1;
  if (cg->ops->create (cg, err) < 0 || (res && cg->ops->apply (cg, res, err) < 0))
    {
      undo_create (cg);
      return skiff_error_wrap (err, "create cgroup `%s`", cg->path);
    }
  *out = steal_pointer (&cg);
  return 0;
}

int
cgroup_open (const char *path, struct cgroup **out, skiff_error_t *err)
{
  cleanup_cgroup struct cgroup *cg = NULL;
  size_t i;

  if (path == NULL || *path == '\0')
    return skiff_error_make (err, EINVAL, "open cgroup: empty path");
  if (cgroup_new (path, &cg, err) < 0)
    return -1;
  for (i = 0; i < cg->n_dirs; i++)
    if (fs_exists (cg->dirs[i].dir))
      {
        *out = steal_pointer (&cg);
        return 0;
      }
  return skiff_error_make (err, ENOENT, "open cgroup `%s`", cg->path);
}

const char *
cgroup_path (const struct cgroup *cg)
{
  return cg->path;
}

int
cgroup_enter (const struct cgroup *cg, pid_t pid, skiff_error_t *err)
{
  return cg->ops->enter (cg, pid, err);
}

int
cgroup_pids (const struct cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err)
{
  return cg->ops->pids (cg, pids, n, err);
}

int
cgroup_kill (const struct cgroup *cg, int sig, skiff_error_t *err)
{
  if (cg->ops->kill (cg, sig, err) < 0)
    return skiff_error_wrap (err, "signal cgroup `%s`", cg->path);
  return 0;
}

int
cgroup_update (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err)
{
  if (cg->ops->apply (cg, res, err) < 0)
    return skiff_error_wrap (err, "update cgroup `%s`", cg->path);
  return 0;
}

int
cgroup_destroy (struct cgroup *cg, skiff_error_t *err)
{
  return cg->ops->destroy (cg, err);
}

void
cgroup_free (struct cgroup *cg)
{
  size_t i;

  if (cg == NULL)
    return;
  for (i = 0; i < cg->n_dirs; i++)
    {
      free (cg->dirs[i].mount);
      free (cg->dirs[i].dir);
      free (cg->dirs[i].created_top);
    }
  free (cg->dirs);
  free (cg->path);
  free (cg);
}
