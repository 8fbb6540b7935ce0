/* cgroup v2 backend: one directory in the unified hierarchy, controllers
   enabled from the root down, resources mapped as runc maps them.  */
#include "cgroup_internal.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const wanted_controllers[] = { "memory", "pids", "cpu", "cpuset" };
#define N_WANTED (sizeof (wanted_controllers) / sizeof (wanted_controllers[0]))

static bool
has_word (const char *list, const char *word)
{
  size_t len = strlen (word);
  const char *p = list;

  while ((p = strstr (p, word)))
    {
      bool start = p == list || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '+';
      bool end = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';
      if (start && end)
        return true;
      p += len;
    }
  return false;
}

/* Enables in dir's cgroup.subtree_control those wanted controllers that
   dir offers (cgroup.controllers) and has not enabled yet.  */
static int
enable_controllers (const char *dir, skiff_error_t *err)
{
  cleanup_free char *avail = NULL;
  cleanup_free char *enabled = NULL;
  char buf[64] = "";
  skiff_error_t tmp = NULL;
  size_t i;

  if (cgroup_read (dir, "cgroup.controllers", &avail, err) < 0
      || cgroup_read (dir, "cgroup.subtree_control", &enabled, err) < 0)
    return -1;
  for (i = 0; i < N_WANTED; i++)
    if (has_word (avail, wanted_controllers[i]) && !has_word (enabled, wanted_controllers[i]))
      {
        if (*buf)
          strcat (buf, " ");
        strcat (buf, "+");
        strcat (buf, wanted_controllers[i]);
      }
  if (*buf == '\0' || cgroup_write (dir, "cgroup.subtree_control", buf, &tmp) == 0)
    return 0;

  /* One controller can refuse (cpu with realtime threads around); enable
     the others and let a resource that needs it fail on its own knob.  */
  skiff_error_release (&tmp);
  for (i = 0; i < N_WANTED; i++)
    {
      char one[16];
      if (!has_word (avail, wanted_controllers[i]) || has_word (enabled, wanted_controllers[i]))
        continue;
      snprintf (one, sizeof (one), "+%s", wanted_controllers[i]);
      if (cgroup_write (dir, "cgroup.subtree_control", one, &tmp) < 0)
        {
          log_warning ("cannot enable the %s controller in `%s`: %s", wanted_controllers[i], dir, tmp->msg);
          skiff_error_release (&tmp);
        }
    }
  return 0;
}

static int
v2_open (struct cgroup *cg, skiff_error_t *err)
{
  return cgroup_add_dir (cg, cgroup_root (), 0, err);
}

static int
v2_create (struct cgroup *cg, skiff_error_t *err)
{
  struct cgroup_dir *d = &cg->dirs[0];
  size_t n = 0, i;
  cleanup_strv char **levels = cgroup_levels (d->mount, cg->path, &n);

  if (levels == NULL)
    return skiff_error_make (err, ENOMEM, "create cgroup `%s`", d->dir);
  for (i = 0; i < n; i++)
    {
      bool created;

      /* Controllers are enabled in every ancestor, never in the leaf:
         the leaf holds processes.  */
      if (enable_controllers (i == 0 ? d->mount : levels[i - 1], err) < 0)
        return -1;
      if (cgroup_mkdir (levels[i], &created, err) < 0)
        return -1;
      if (created && d->created_top == NULL)
        {
          d->created_top = strdup (levels[i]);
          if (d->created_top == NULL)
            {
              cgroup_rmdir_tree (levels[i]);
              return skiff_error_make (err, ENOMEM, "create cgroup `%s`", d->dir);
            }
        }
    }
  return 0;
}

static int
write_limit (const char *dir, const char *name, int64_t v, skiff_error_t *err)
{
  if (v < 0)
    return cgroup_write (dir, name, "max", err);
  return cgroup_write_int (dir, name, (long long) v, err);
}

/* OCI swap is memory+swap (the v1 meaning); memory.swap.max is swap alone.  */
static int
apply_swap (const char *dir, const struct spec_resources *res, skiff_error_t *err)
{
  int64_t swap;

  if (res->has_memory_swap && res->memory_swap != 0 && res->memory_swap != -1)
    {
      if (!res->has_memory_limit || res->memory_limit <= 0)
        return skiff_error_make (err, EINVAL, "cannot set a swap limit without a memory limit");
      if (res->memory_swap < res->memory_limit)
        return skiff_error_make (err, EINVAL, "memory+swap limit %" PRId64 " is below the memory limit %" PRId64,
                                 res->memory_swap, res->memory_limit);
      swap = res->memory_swap - res->memory_limit;
    }
  else if (res->has_memory_swap && res->memory_swap == -1)
    swap = -1;
  else if (res->has_memory_limit && res->memory_limit == -1)
    swap = -1; /* unlimited memory, swap unset: unlimited both, as v1 */
  else
    return 0;

  if (!cgroup_knob_exists (dir, "memory.swap.max"))
    {
      log_warning ("memory.swap.max is missing (swap accounting disabled?): swap limit not set");
      return 0;
    }
  return write_limit (dir, "memory.swap.max", swap, err);
}

static int
apply_memory (const char *dir, const struct spec_resources *res, skiff_error_t *err)
{
  if (res->has_memory_limit && write_limit (dir, "memory.max", res->memory_limit, err) < 0)
    return -1;
  if (res->has_memory_reservation && write_limit (dir, "memory.low", res->memory_reservation, err) < 0)
    return -1;
  if (apply_swap (dir, res, err) < 0)
    return -1;
  if (res->has_memory_swappiness)
    log_warning ("memory swappiness is not supported on cgroup v2: ignored");
  if (res->disable_oom_killer)
    log_warning ("disabling the OOM killer is not supported on cgroup v2: ignored");
  return 0;
}

static int
apply_cpu (const char *dir, const struct spec_resources *res, skiff_error_t *err)
{
  bool quota = res->has_cpu_quota && res->cpu_quota != 0;
  bool period = res->has_cpu_period && res->cpu_period != 0;

  if (res->has_cpu_shares && res->cpu_shares != 0)
    {
      uint64_t shares = res->cpu_shares;
      if (shares < 2)
        shares = 2;
      if (shares > 262144)
        shares = 262144;
      if (cgroup_write_int (dir, "cpu.weight", (long long) (1 + ((shares - 2) * 9999) / 262142), err) < 0)
        return -1;
    }
  if (quota || period)
    {
      char buf[64];
      int len;

      if (res->has_cpu_quota && res->cpu_quota > 0)
        len = snprintf (buf, sizeof (buf), "%" PRId64, res->cpu_quota);
      else
        len = snprintf (buf, sizeof (buf), "max");
      if (period)
        snprintf (buf + len, sizeof (buf) - len, " %" PRIu64, res->cpu_period);
      if (cgroup_write (dir, "cpu.max", buf, err) < 0)
        return -1;
    }
  return 0;
}

/* Keys name files of the container's own directory, nothing else.  */
static int
check_unified (const struct spec_resources *res, skiff_error_t *err)
{
  size_t i;

  for (i = 0; i < res->n_unified; i++)
    {
      const char *key = res->unified_keys[i];
      if (*key == '\0' || strchr (key, '/') || strstr (key, ".."))
        return skiff_error_make (err, EINVAL, "invalid linux.resources.unified key `%s`", key);
    }
  return 0;
}

static int
apply_unified (const char *dir, const struct spec_resources *res, skiff_error_t *err)
{
  size_t i;

  for (i = 0; i < res->n_unified; i++)
    {
      const char *key = res->unified_keys[i];

      if (!cgroup_knob_exists (dir, key))
        return skiff_error_make (err, ENOENT, "linux.resources.unified key `%s`: no such file in `%s`", key, dir);
      if (cgroup_write (dir, key, res->unified_values[i], err) < 0)
        return -1;
    }
  return 0;
}

static int
v2_apply (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err)
{
  static bool warned_devices;
  const char *dir = cg->dirs[0].dir;

  if (check_unified (res, err) < 0)
    return -1;
  if (apply_memory (dir, res, err) < 0 || apply_cpu (dir, res, err) < 0)
    return -1;
  if (res->cpuset_cpus && *res->cpuset_cpus && cgroup_write (dir, "cpuset.cpus", res->cpuset_cpus, err) < 0)
    return -1;
  if (res->cpuset_mems && *res->cpuset_mems && cgroup_write (dir, "cpuset.mems", res->cpuset_mems, err) < 0)
    return -1;
  if (res->has_pids_limit && write_limit (dir, "pids.max", res->pids_limit <= 0 ? -1 : res->pids_limit, err) < 0)
    return -1;
  if (res->n_devices > 0 && !warned_devices)
    {
      warned_devices = true;
      log_warning ("device cgroup rules need eBPF on cgroup v2: not enforced");
    }
  /* Last, so that the verbatim values win.  */
  return apply_unified (dir, res, err);
}

static int
v2_kill (const struct cgroup *cg, int sig, skiff_error_t *err)
{
  const char *dir = cg->dirs[0].dir;

  /* cgroup.kill (Linux 5.14) kills the whole subtree at once, forks
     included.  */
  if (sig == SIGKILL && cgroup_knob_exists (dir, "cgroup.kill"))
    return cgroup_write (dir, "cgroup.kill", "1", err);
  return cgroup_generic_kill (cg, sig, err);
}

const struct cgroup_ops cgroup_v2_ops = {
  .name = "v2",
  .open = v2_open,
  .create = v2_create,
  .apply = v2_apply,
  .enter = cgroup_generic_enter,
  .pids = cgroup_generic_pids,
  .kill = v2_kill,
  .destroy = cgroup_generic_destroy,
};
