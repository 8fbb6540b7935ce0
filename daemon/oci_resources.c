/* linux.resources and, for privileged containers, linux.devices, from a
   Docker HostConfig: moby's getMemoryResources, getCPUResources,
   getPidsLimit, WithDevices and oci.DefaultLinuxSpec's device rules.  */
#include "oci_spec.h"
#include "cleanup.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MIN_MEMORY 6291456LL /* Docker's linuxMinMemory: 6 MiB */

/* A HostConfig integer; absent or null reads as 0 (Go's zero value).  */
static int
hc_int (yajl_val hc, const char *key, int64_t *out, bool *present, skiff_error_t *err)
{
  char field[64];
  bool p = false;

  snprintf (field, sizeof (field), "HostConfig.%s", key);
  *out = 0;
  if (json_get_int64 (hc, key, field, out, &p, err) < 0)
    return -1;
  if (present)
    *present = p;
  return 0;
}

struct docker_resources
{
  int64_t memory, memory_reservation, memory_swap, swappiness;
  bool has_swappiness, has_pids_limit, has_oom_kill_disable, oom_kill_disable;
  int64_t nano_cpus, cpu_period, cpu_quota, cpu_shares, pids_limit;
  char *cpuset_cpus, *cpuset_mems;
};

static void
docker_resources_release (struct docker_resources *r)
{
  free (r->cpuset_cpus);
  free (r->cpuset_mems);
}

static int
read_resources (yajl_val hc, struct docker_resources *r, skiff_error_t *err)
{
  memset (r, 0, sizeof (*r));
  if (hc_int (hc, "Memory", &r->memory, NULL, err) < 0
      || hc_int (hc, "MemoryReservation", &r->memory_reservation, NULL, err) < 0
      || hc_int (hc, "MemorySwap", &r->memory_swap, NULL, err) < 0
      || hc_int (hc, "MemorySwappiness", &r->swappiness, &r->has_swappiness, err) < 0
      || hc_int (hc, "NanoCpus", &r->nano_cpus, NULL, err) < 0 || hc_int (hc, "CpuPeriod", &r->cpu_period, NULL, err) < 0
      || hc_int (hc, "CpuQuota", &r->cpu_quota, NULL, err) < 0 || hc_int (hc, "CpuShares", &r->cpu_shares, NULL, err) < 0
      || hc_int (hc, "PidsLimit", &r->pids_limit, &r->has_pids_limit, err) < 0
      || json_get_string (hc, "CpusetCpus", "HostConfig.CpusetCpus", &r->cpuset_cpus, err) < 0
      || json_get_string (hc, "CpusetMems", "HostConfig.CpusetMems", &r->cpuset_mems, err) < 0)
    return -1;
  r->has_oom_kill_disable = json_get (hc, "OomKillDisable") && !YAJL_IS_NULL (json_get (hc, "OomKillDisable"));
  if (json_get_bool (hc, "OomKillDisable", "HostConfig.OomKillDisable", &r->oom_kill_disable, err) < 0)
    return -1;
  /* fixMemorySwappiness: -1 means unset.  */
  if (r->has_swappiness && r->swappiness == -1)
    r->has_swappiness = false;
  /* adaptContainerSettings: swap defaults to twice the memory.  */
  if (r->memory > 0 && r->memory_swap == 0)
    r->memory_swap = r->memory * 2;
  return 0;
}

int
oci_resources_validate (yajl_val hc, long online_cpus, skiff_error_t *err)
{
  __attribute__ ((cleanup (docker_resources_release))) struct docker_resources r = { 0 };

  if (read_resources (hc, &r, err) < 0)
    return -1;
  if (online_cpus <= 0)
    online_cpus = sysconf (_SC_NPROCESSORS_ONLN);
  if (r.memory != 0 && r.memory < MIN_MEMORY)
    return skiff_error_make (err, 0, "Minimum memory limit allowed is 6MB");
  if (r.memory > 0 && r.memory_swap > 0 && r.memory_swap < r.memory)
    return skiff_error_make (err, 0, "Minimum memoryswap limit should be larger than memory limit, see usage");
  if (r.memory == 0 && r.memory_swap > 0)
    return skiff_error_make (err, 0, "You should always set the Memory limit when using Memoryswap limit, see usage");
  if (r.has_swappiness && (r.swappiness < 0 || r.swappiness > 100))
    return skiff_error_make (err, 0, "Invalid value: %lld, valid memory swappiness range is 0-100", (long long) r.swappiness);
  if (r.memory_reservation > 0 && r.memory_reservation < MIN_MEMORY)
    return skiff_error_make (err, 0, "Minimum memory reservation allowed is 6MB");
  if (r.memory > 0 && r.memory_reservation > 0 && r.memory < r.memory_reservation)
    return skiff_error_make (err, 0, "Minimum memory limit can not be less than memory reservation limit, see usage");
  if (r.nano_cpus > 0 && r.cpu_period > 0)
    return skiff_error_make (err, 0, "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (r.nano_cpus > 0 && r.cpu_quota > 0)
    return skiff_error_make (err, 0, "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (r.nano_cpus < 0 || r.nano_cpus > (int64_t) online_cpus * 1000000000LL)
    return skiff_error_make (err, 0, "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available", online_cpus,
                             online_cpus);
  if (r.cpu_period != 0 && (r.cpu_period < 1000 || r.cpu_period > 1000000))
    return skiff_error_make (err, 0, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (r.cpu_quota > 0 && r.cpu_quota < 1000)
    return skiff_error_make (err, 0, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (r.cpu_shares < 0)
    return skiff_error_make (err, 0, "shares: invalid argument");
  return 0;
}

static void
gen_device_rule (yajl_gen g, bool allow, const char *type, int major, int minor)
{
  yajl_gen_map_open (g);
  json_gen_kv_bool (g, "allow", allow);
  if (type)
    {
      json_gen_kv_str (g, "type", type);
      json_gen_kv_int (g, "major", major);
      json_gen_kv_int (g, "minor", minor);
    }
  json_gen_kv_str (g, "access", "rwm");
  yajl_gen_map_close (g);
}

/* oci.DefaultLinuxSpec: deny all, then null, zero, full, random, urandom,
   tty, console and ptmx; the host's /dev/net/tun (10:229) stays denied.  */
static void
gen_device_rules (yajl_gen g, bool privileged)
{
  static const struct
  {
    bool allow;
    int major, minor;
  } rules[] = {
    { true, 1, 5 }, { true, 1, 3 }, { true, 1, 9 }, { true, 1, 8 }, { true, 5, 0 }, { true, 5, 1 }, { false, 10, 229 },
  };
  size_t i;

  json_gen_str (g, "devices");
  yajl_gen_array_open (g);
  if (privileged)
    gen_device_rule (g, true, NULL, 0, 0);
  else
    {
      gen_device_rule (g, false, NULL, 0, 0);
      for (i = 0; i < sizeof (rules) / sizeof (rules[0]); i++)
        gen_device_rule (g, rules[i].allow, "c", rules[i].major, rules[i].minor);
    }
  yajl_gen_array_close (g);
}

int
oci_resources_gen (yajl_gen g, yajl_val hc, bool privileged, skiff_error_t *err)
{
  __attribute__ ((cleanup (docker_resources_release))) struct docker_resources r = { 0 };

  if (read_resources (hc, &r, err) < 0)
    return -1;
  if (r.cpu_shares < 0)
    return skiff_error_make (err, 0, "shares: invalid argument");

  json_gen_str (g, "resources");
  yajl_gen_map_open (g);
  gen_device_rules (g, privileged);

  json_gen_str (g, "memory");
  yajl_gen_map_open (g);
  if (r.memory > 0)
    json_gen_kv_int (g, "limit", r.memory);
  if (r.memory_reservation > 0)
    json_gen_kv_int (g, "reservation", r.memory_reservation);
  /* Docker leaves swap out for -1; say "unlimited" explicitly instead, so
     that the cgroup does not keep an older limit.  */
  if (r.memory_swap > 0 || (r.memory_swap == -1 && r.memory > 0))
    json_gen_kv_int (g, "swap", r.memory_swap);
  if (r.has_swappiness)
    json_gen_kv_int (g, "swappiness", r.swappiness);
  if (r.has_oom_kill_disable)
    json_gen_kv_bool (g, "disableOOMKiller", r.oom_kill_disable);
  yajl_gen_map_close (g);

  json_gen_str (g, "cpu");
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "shares", r.cpu_shares);
  if (r.nano_cpus > 0 || r.cpu_quota != 0)
    json_gen_kv_int (g, "quota", r.cpu_quota != 0 ? r.cpu_quota : r.nano_cpus * 100000 / 1000000000LL);
  if (r.nano_cpus > 0 || r.cpu_period != 0)
    json_gen_kv_int (g, "period", r.cpu_period != 0 ? r.cpu_period : 100000);
  if (r.cpuset_cpus && r.cpuset_cpus[0])
    json_gen_kv_str (g, "cpus", r.cpuset_cpus);
  if (r.cpuset_mems && r.cpuset_mems[0])
    json_gen_kv_str (g, "mems", r.cpuset_mems);
  yajl_gen_map_close (g);

  if (r.has_pids_limit)
    {
      json_gen_str (g, "pids");
      yajl_gen_map_open (g);
      json_gen_kv_int (g, "limit", r.pids_limit <= 0 ? -1 : r.pids_limit);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  return 0;
}

/* ---- host devices (privileged) ---------------------------------------- */

static int
scan_devices (yajl_gen g, const char *dir, skiff_error_t *err)
{
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return skiff_error_make (err, errno, "open `%s`", dir);
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      cleanup_free char *path = NULL;
      struct stat st;
      const char *n = de->d_name;

      if (strcmp (n, ".") == 0 || strcmp (n, "..") == 0)
        continue;
      if (asprintf (&path, "%s/%s", dir, n) < 0)
        return skiff_error_make (err, ENOMEM, "devices");
      if (lstat (path, &st) < 0)
        {
          if (errno == ENOENT)
            continue; /* gone meanwhile */
          return skiff_error_make (err, errno, "stat `%s`", path);
        }
      if (S_ISDIR (st.st_mode))
        {
          /* runc's GetDevices skips these (and LXC/LXD/udev internals).  */
          if (strcmp (n, "pts") == 0 || strcmp (n, "shm") == 0 || strcmp (n, "fd") == 0 || strcmp (n, "mqueue") == 0
              || strcmp (n, ".lxc") == 0 || strcmp (n, ".lxd-mounts") == 0 || strcmp (n, ".udev") == 0)
            continue;
          if (scan_devices (g, path, err) < 0)
            return -1;
          continue;
        }
      if (strcmp (n, "console") == 0 || !(S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode)))
        continue;
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "path", path);
      json_gen_kv_str (g, "type", S_ISCHR (st.st_mode) ? "c" : "b");
      json_gen_kv_int (g, "major", major (st.st_rdev));
      json_gen_kv_int (g, "minor", minor (st.st_rdev));
      json_gen_kv_int (g, "fileMode", st.st_mode & 07777);
      json_gen_kv_int (g, "uid", st.st_uid);
      json_gen_kv_int (g, "gid", st.st_gid);
      yajl_gen_map_close (g);
    }
  if (errno != 0)
    return skiff_error_make (err, errno, "read `%s`", dir);
  return 0;
}

int
oci_host_devices_gen (yajl_gen g, const char *dev_dir, skiff_error_t *err)
{
  json_gen_str (g, "devices");
  yajl_gen_array_open (g);
  if (scan_devices (g, dev_dir, err) < 0)
    return -1;
  yajl_gen_array_close (g);
  return 0;
}
