/* Shared between cgroup.c and its two backends (cgroup_v1.c, cgroup_v2.c),
 * and the seam the unit tests use to run them against a fake hierarchy.
 */
#ifndef SKIFF_RUNTIME_CGROUP_INTERNAL_H
#define SKIFF_RUNTIME_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "cgroup.h"

/* One directory of the cgroup: one per v1 hierarchy, a single one on v2.  */
struct cgroup_dir
{
  char *mount;              /* the hierarchy's mount point */
  char *dir;                /* mount + cgroup path */
  char *created_top;        /* highest level cgroup_create made, or NULL */
  unsigned int controllers; /* CGROUP_V1_* bits; 0 on v2 */
};

struct cgroup
{
  const struct cgroup_ops *ops;
  char *path; /* normalised, "/abc" */
  struct cgroup_dir *dirs;
  size_t n_dirs;
};

struct cgroup_ops
{
  const char *name;
  /* Fills cg->dirs for cg->path without touching them.  */
  int (*open) (struct cgroup *cg, skiff_error_t *err);
  /* Creates every level of cg->dirs, recording created_top.  On failure
     the caller removes what was recorded.  */
  int (*create) (struct cgroup *cg, skiff_error_t *err);
  int (*apply) (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err);
  int (*enter) (const struct cgroup *cg, pid_t pid, skiff_error_t *err);
  int (*pids) (const struct cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err);
  int (*kill) (const struct cgroup *cg, int sig, skiff_error_t *err);
  int (*destroy) (struct cgroup *cg, skiff_error_t *err);
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;

/* v1 controllers skiff manages.  */
enum
{
  CGROUP_V1_CPU = 1 << 0,
  CGROUP_V1_CPUACCT = 1 << 1,
  CGROUP_V1_CPUSET = 1 << 2,
  CGROUP_V1_MEMORY = 1 << 3,
  CGROUP_V1_PIDS = 1 << 4,
  CGROUP_V1_DEVICES = 1 << 5,
  CGROUP_V1_FREEZER = 1 << 6,
  CGROUP_V1_BLKIO = 1 << 7,
};

/* Test hooks.  Everything NULL/0 means the real machine.  */
struct cgroup_test_hooks
{
  const char *root;      /* instead of /sys/fs/cgroup */
  const char *mountinfo; /* instead of /proc/self/mountinfo */
  int mode;              /* 1 or 2 forces the layout; 0 detects it */
  /* The kernel fills a new cgroup directory with knobs and lets rmdir
     remove them; a fake hierarchy does it here.  */
  void (*after_mkdir) (const char *dir);
  void (*before_rmdir) (const char *dir);
  /* Sees every knob write, in order, before it happens.  */
  void (*on_write) (const char *path, const char *value);
};

/* Installs hooks (copied; the strings must outlive their use); NULL
   restores the real machine.  */
void cgroup_set_test_hooks (const struct cgroup_test_hooks *hooks);

const char *cgroup_root (void);
const char *cgroup_mountinfo_path (void);

/* Helpers shared by the backends (cgroup.c).  */

/* Writes value to dir/name.  */
int cgroup_write (const char *dir, const char *name, const char *value, skiff_error_t *err);
int cgroup_write_int (const char *dir, const char *name, long long value, skiff_error_t *err);
/* Reads dir/name, trailing whitespace stripped.  */
int cgroup_read (const char *dir, const char *name, char **out, skiff_error_t *err);
int cgroup_knob_exists (const char *dir, const char *name);

/* The directories from mount down to mount + path, outermost first, as a
   NULL-terminated vector (n levels).  */
char **cgroup_levels (const char *mount, const char *path, size_t *n);

/* mkdir of one level; *created tells whether it was new.  */
int cgroup_mkdir (const char *dir, bool *created, skiff_error_t *err);

/* Removes dir and the cgroups nested in it, innermost first.  Missing is
   fine.  Returns -1 with errno set (EBUSY while processes remain).  */
int cgroup_rmdir_tree (const char *dir);

/* Generic operations over cg->dirs, used by both backends.  */
int cgroup_generic_enter (const struct cgroup *cg, pid_t pid, skiff_error_t *err);
int cgroup_generic_pids (const struct cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err);
int cgroup_generic_kill (const struct cgroup *cg, int sig, skiff_error_t *err);
int cgroup_generic_destroy (struct cgroup *cg, skiff_error_t *err);

/* Adds a directory to cg->dirs.  */
int cgroup_add_dir (struct cgroup *cg, const char *mount, unsigned int controllers, skiff_error_t *err);

#endif
