/* cgroup v1 backend: one directory per controller hierarchy, found in
   /proc/self/mountinfo; used on v1 and hybrid machines.  */
#include "cgroup_internal.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct
{
  const char *name;
  unsigned int bit;
} v1_controllers[] = {
  { "cpu", CGROUP_V1_CPU },         { "cpuacct", CGROUP_V1_CPUACCT }, { "cpuset", CGROUP_V1_CPUSET },
  { "memory", CGROUP_V1_MEMORY },   { "pids", CGROUP_V1_PIDS },       { "devices", CGROUP_V1_DEVICES },
  { "freezer", CGROUP_V1_FREEZER }, { "blkio", CGROUP_V1_BLKIO },
};

#define N_CONTROLLERS (sizeof (v1_controllers) / sizeof (v1_controllers[0]))

static const char *
controller_name (unsigned int bit)
{
  size_t i;
  for (i = 0; i < N_CONTROLLERS; i++)
    if (v1_controllers[i].bit == bit)
      return v1_controllers[i].name;
  return "?";
}

/* Controller bits named in the super options ("rw,cpu,cpuacct").  */
static unsigned int
parse_super_options (char *opts)
{
  unsigned int bits = 0;
  char *save = NULL, *tok;
  size_t i;

  for (tok = strtok_r (opts, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    for (i = 0; i < N_CONTROLLERS; i++)
      if (strcmp (tok, v1_controllers[i].name) == 0)
        bits |= v1_controllers[i].bit;
  return bits;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo.  */
static void
unescape_octal (char *s)
{
  char *w = s;
  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          *w++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
          s += 3;
        }
      else
        *w++ = *s;
    }
  *w = '\0';
}

/* Splits one mountinfo line in place; 0 when all three fields are there.  */
static int
parse_mountinfo_line (char *line, char **mountpoint, char **fstype, char **super)
{
  char *save = NULL, *tok;
  int i = 0, j = -1;

  *mountpoint = *fstype = *super = NULL;
  line[strcspn (line, "\n")] = '\0';
  for (tok = strtok_r (line, " ", &save); tok; tok = strtok_r (NULL, " ", &save), i++)
    {
      if (j >= 0)
        {
          if (j == 0)
            *fstype = tok;
          else if (j == 2)
            *super = tok;
          j++;
        }
      else if (i == 4)
        *mountpoint = tok;
      else if (i >= 6 && strcmp (tok, "-") == 0)
        j = 0;
    }
  if (*mountpoint == NULL || *fstype == NULL || *super == NULL)
    return -1;
  unescape_octal (*mountpoint);
  return 0;
}

static int
v1_open (struct cgroup *cg, skiff_error_t *err)
{
  const char *path = cgroup_mountinfo_path ();
  cleanup_file FILE *f = fopen (path, "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  unsigned int seen = 0;

  if (f == NULL)
    return skiff_error_make (err, errno, "open `%s`", path);
  while (getline (&line, &cap, f) > 0)
    {
      char *mountpoint, *fstype, *super;
      unsigned int bits;

      if (parse_mountinfo_line (line, &mountpoint, &fstype, &super) < 0 || strcmp (fstype, "cgroup") != 0)
        continue;
      bits = parse_super_options (super);
      /* Nothing of ours, or a second mount of a hierarchy already seen.  */
      if (bits == 0 || (bits & seen))
        continue;
      seen |= bits;
      if (cgroup_add_dir (cg, mountpoint, bits, err) < 0)
        return -1;
    }
  if (cg->n_dirs == 0)
    return skiff_error_make (err, ENOENT, "no cgroup v1 controller is mounted (read `%s`)", path);
  return 0;
}

static const char *
dir_of (const struct cgroup *cg, unsigned int bit)
{
  size_t i;
  for (i = 0; i < cg->n_dirs; i++)
    if (cg->dirs[i].controllers & bit)
      return cg->dirs[i].dir;
  return NULL;
}

static int
need_dir (const struct cgroup *cg, unsigned int bit, const char **dir, skiff_error_t *err)
{
  *dir = dir_of (cg, bit);
  if (*dir == NULL)
    return skiff_error_make (err, ENOENT, "the cgroup v1 `%s` controller is not mounted", controller_name (bit));
  return 0;
}

/* A new cpuset cgroup starts with no cpus and no mems, and nothing can
   join it: give it its parent's.  */
static int
copy_cpuset (const char *parent, const char *dir, skiff_error_t *err)
{
  static const char *const knobs[] = { "cpuset.cpus", "cpuset.mems" };
  size_t i;

  for (i = 0; i < 2; i++)
    {
      cleanup_free char *mine = NULL;
      cleanup_free char *theirs = NULL;

      if (cgroup_read (dir, knobs[i], &mine, err) < 0)
        return -1;
      if (*mine)
        continue;
      if (cgroup_read (parent, knobs[i], &theirs, err) < 0)
        return -1;
      if (*theirs && cgroup_write (dir, knobs[i], theirs, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_create (struct cgroup *cg, skiff_error_t *err)
{
  size_t i, j;

  for (i = 0; i < cg->n_dirs; i++)
    {
      struct cgroup_dir *d = &cg->dirs[i];
      size_t n = 0;
      cleanup_strv char **levels = cgroup_levels (d->mount, cg->path, &n);

      if (levels == NULL)
        return skiff_error_make (err, ENOMEM, "create cgroup `%s`", d->dir);
      for (j = 0; j < n; j++)
        {
          bool created;

          if (cgroup_mkdir (levels[j], &created, err) < 0)
            return -1;
          if (created && d->created_top == NULL)
            {
              d->created_top = strdup (levels[j]);
              if (d->created_top == NULL)
                {
                  cgroup_rmdir_tree (levels[j]);
                  return skiff_error_make (err, ENOMEM, "create cgroup `%s`", d->dir);
                }
            }
          if ((d->controllers & CGROUP_V1_CPUSET)
              && copy_cpuset (j == 0 ? d->mount : levels[j - 1], levels[j], err) < 0)
            return -1;
        }
    }
  return 0;
}

static int
write_i64 (const char *dir, const char *name, int64_t v, skiff_error_t *err)
{
  return cgroup_write_int (dir, name, (long long) v, err);
}

/* memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes at every
   step: when the new memory+swap is above the current memory limit, it
   goes first, otherwise the memory limit does.  */
static int
apply_memory_limits (const char *dir, const struct spec_resources *res, skiff_error_t *err)
{
  bool swap = res->has_memory_swap;
  bool swap_first = false;

  if (swap && !cgroup_knob_exists (dir, "memory.memsw.limit_in_bytes"))
    {
      log_warning ("memory.memsw.limit_in_bytes is missing (swap accounting disabled?): memory+swap limit not set");
      swap = false;
    }
  if (swap && res->has_memory_limit)
    {
      skiff_error_t tmp = NULL;
      cleanup_free char *cur = NULL;
      char *end;

      if (res->memory_swap == -1)
        swap_first = true;
      else if (cgroup_read (dir, "memory.limit_in_bytes", &cur, &tmp) == 0)
        {
          long long v = strtoll (cur, &end, 10);
          if (end != cur && *end == '\0' && v >= 0 && v < res->memory_swap)
            swap_first = true;
        }
      skiff_error_release (&tmp);
    }

  if (swap_first && write_i64 (dir, "memory.memsw.limit_in_bytes", res->memory_swap, err) < 0)
    return -1;
  if (res->has_memory_limit && write_i64 (dir, "memory.limit_in_bytes", res->memory_limit, err) < 0)
    return -1;
  if (swap && !swap_first && write_i64 (dir, "memory.memsw.limit_in_bytes", res->memory_swap, err) < 0)
    return -1;
  return 0;
}

static bool
memory_set (const struct spec_resources *res)
{
  return res->has_memory_limit || res->has_memory_reservation || res->has_memory_swap || res->has_memory_swappiness
         || res->disable_oom_killer;
}

static int
apply_memory (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err)
{
  const char *dir;

  if (!memory_set (res))
    return 0;
  if (need_dir (cg, CGROUP_V1_MEMORY, &dir, err) < 0)
    return -1;
  if (apply_memory_limits (dir, res, err) < 0)
    return -1;
  if (res->has_memory_reservation && write_i64 (dir, "memory.soft_limit_in_bytes", res->memory_reservation, err) < 0)
    return -1;
  if (res->has_memory_swappiness)
    {
      if (res->memory_swappiness > 100)
        return skiff_error_make (err, EINVAL, "invalid memory swappiness %" PRIu64 " (0-100)", res->memory_swappiness);
      if (cgroup_write_int (dir, "memory.swappiness", (long long) res->memory_swappiness, err) < 0)
        return -1;
    }
  if (res->disable_oom_killer && cgroup_write (dir, "memory.oom_control", "1", err) < 0)
    return -1;
  return 0;
}

static int
apply_cpu (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err)
{
  const char *dir;
  bool quota = res->has_cpu_quota && res->cpu_quota != 0;
  bool period = res->has_cpu_period && res->cpu_period != 0;
  bool shares = res->has_cpu_shares && res->cpu_shares != 0;

  if (!quota && !period && !shares)
    return 0;
  if (need_dir (cg, CGROUP_V1_CPU, &dir, err) < 0)
    return -1;
  if (shares && cgroup_write_int (dir, "cpu.shares", (long long) res->cpu_shares, err) < 0)
    return -1;
  /* The period first: the kernel checks quota against it.  */
  if (period && cgroup_write_int (dir, "cpu.cfs_period_us", (long long) res->cpu_period, err) < 0)
    return -1;
  if (quota && write_i64 (dir, "cpu.cfs_quota_us", res->cpu_quota < 0 ? -1 : res->cpu_quota, err) < 0)
    return -1;
  return 0;
}

static int
apply_cpuset (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err)
{
  bool cpus = res->cpuset_cpus && *res->cpuset_cpus;
  bool mems = res->cpuset_mems && *res->cpuset_mems;
  const char *dir;

  if (!cpus && !mems)
    return 0;
  if (need_dir (cg, CGROUP_V1_CPUSET, &dir, err) < 0)
    return -1;
  if (cpus && cgroup_write (dir, "cpuset.cpus", res->cpuset_cpus, err) < 0)
    return -1;
  if (mems && cgroup_write (dir, "cpuset.mems", res->cpuset_mems, err) < 0)
    return -1;
  return 0;
}

static int
apply_pids (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err)
{
  const char *dir;

  if (!res->has_pids_limit)
    return 0;
  if (need_dir (cg, CGROUP_V1_PIDS, &dir, err) < 0)
    return -1;
  if (res->pids_limit <= 0)
    return cgroup_write (dir, "pids.max", "max", err);
  return write_i64 (dir, "pids.max", res->pids_limit, err);
}

static void
format_id (char *buf, size_t len, int64_t v)
{
  if (v < 0)
    snprintf (buf, len, "*");
  else
    snprintf (buf, len, "%" PRId64, v);
}

static int
apply_devices (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err)
{
  const char *dir;
  size_t i;

  if (res->n_devices == 0)
    return 0;
  if (need_dir (cg, CGROUP_V1_DEVICES, &dir, err) < 0)
    return -1;
  for (i = 0; i < res->n_devices; i++)
    {
      const struct spec_device_rule *r = &res->devices[i];
      char major[24], minor[24], rule[80];

      format_id (major, sizeof (major), r->type == 'a' ? -1 : r->major);
      format_id (minor, sizeof (minor), r->type == 'a' ? -1 : r->minor);
      snprintf (rule, sizeof (rule), "%c %s:%s %s", r->type ? r->type : 'a', major, minor,
                r->access[0] ? r->access : "rwm");
      if (cgroup_write (dir, r->allow ? "devices.allow" : "devices.deny", rule, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_apply (const struct cgroup *cg, const struct spec_resources *res, skiff_error_t *err)
{
  if (res->n_unified > 0)
    return skiff_error_make (err, EINVAL, "linux.resources.unified needs cgroup v2, this machine uses v1");
  if (apply_cpuset (cg, res, err) < 0 || apply_memory (cg, res, err) < 0 || apply_cpu (cg, res, err) < 0
      || apply_pids (cg, res, err) < 0 || apply_devices (cg, res, err) < 0)
    return -1;
  return 0;
}

/* A frozen v1 task does not die of SIGKILL until thawed (a paused
   container): thaw first.  */
static int
v1_destroy (struct cgroup *cg, skiff_error_t *err)
{
  const char *dir = dir_of (cg, CGROUP_V1_FREEZER);
  cleanup_free char *state = NULL;
  skiff_error_t tmp = NULL;

  if (dir && cgroup_read (dir, "freezer.state", &state, &tmp) == 0 && strcmp (state, "THAWED") != 0
      && cgroup_write (dir, "freezer.state", "THAWED", err) < 0)
    return skiff_error_wrap (err, "destroy cgroup `%s`", cg->path);
  skiff_error_release (&tmp); /* gone already: nothing to thaw */
  return cgroup_generic_destroy (cg, err);
}

const struct cgroup_ops cgroup_v1_ops = {
  .name = "v1",
  .open = v1_open,
  .create = v1_create,
  .apply = v1_apply,
  .enter = cgroup_generic_enter,
  .pids = cgroup_generic_pids,
  .kill = cgroup_generic_kill,
  .destroy = v1_destroy,
};
