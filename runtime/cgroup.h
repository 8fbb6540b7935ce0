/* Control groups of a container: one directory per hierarchy (cgroup v1,
 * also the v1 half of a hybrid layout) or one directory in the unified
 * tree (cgroup v2), created, limited, joined, signalled and removed.
 *
 * Paths are cgroup paths, normalised and absolute ("/abc"), always taken
 * from the root of each hierarchy.
 */
#ifndef SKIFF_RUNTIME_CGROUP_H
#define SKIFF_RUNTIME_CGROUP_H

#include <stddef.h>
#include <sys/types.h>
#include "error.h"
#include "spec.h"

struct cgroup; /* opaque */

/* Creates the container's cgroup and applies resources (res may be NULL).
   cgroups_path is linux.cgroupsPath (NULL -> "/<id>"); a relative path is
   taken relative to the hierarchy root, like an absolute one.  On failure
   nothing is left behind (dirs it made are removed).  */
int cgroup_create (const char *id, const char *cgroups_path, const struct spec_resources *res, struct cgroup **out,
                   skiff_error_t *err);

/* Re-opens an existing container cgroup from the path cgroup_path()
   returned (for delete/ps/kill --all/exec).  Fails with errno ENOENT when
   the directory exists in no hierarchy.  */
int cgroup_open (const char *path, struct cgroup **out, skiff_error_t *err);

/* Normalised absolute path, e.g. "/abc".  */
const char *cgroup_path (const struct cgroup *cg);

/* Moves pid into the cgroup (all hierarchies).  */
int cgroup_enter (const struct cgroup *cg, pid_t pid, skiff_error_t *err);

/* Processes inside (nested cgroups included), sorted, without duplicates;
   *pids is malloc'd (NULL when *n is 0).  */
int cgroup_pids (const struct cgroup *cg, pid_t **pids, size_t *n, skiff_error_t *err);

/* Signals every process inside.  */
int cgroup_kill (const struct cgroup *cg, int sig, skiff_error_t *err);

/* Applies resources to an existing cgroup (`update`), ordering the v1
   memory/memsw writes so that raising and lowering both work.  */
int cgroup_update (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err);

/* SIGKILLs whatever is still inside, waits (polling with a deadline of a
   few seconds) until empty, removes the leaf directory in every hierarchy.
   Missing dirs are fine (idempotent).  */
int cgroup_destroy (struct cgroup *cg, skiff_error_t *err);

void cgroup_free (struct cgroup *cg);

/* Which layout this machine has: 1 = v1 (or hybrid), 2 = unified v2.  */
int cgroup_mode (void);

static inline void
cleanup_cgroupp (struct cgroup **cg)
{
  if (*cg)
    cgroup_free (*cg);
}
#define cleanup_cgroup __attribute__ ((cleanup (cleanup_cgroupp)))

#endif
