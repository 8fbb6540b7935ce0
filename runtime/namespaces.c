#include "namespaces.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const int ns_join_order[] = { CLONE_NEWUSER, CLONE_NEWIPC,    CLONE_NEWUTS, CLONE_NEWNET,
                              CLONE_NEWPID,  CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS };
const size_t ns_join_order_len = sizeof (ns_join_order) / sizeof (ns_join_order[0]);

const char *
ns_proc_name (int type)
{
  switch (type)
    {
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWNET:
      return "net";
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case CLONE_NEWTIME:
      return "time";
    case CLONE_NEWNS:
      return "mnt";
    default:
      return NULL;
    }
}

int
ns_join_path (int type, const char *path, skiff_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "open %s namespace `%s`", ns_proc_name (type), path);
  if (setns (fd, type) < 0)
    return skiff_error_make (err, errno, "join %s namespace `%s`", ns_proc_name (type), path);
  return 0;
}

static int
write_map (pid_t pid, const char *file, const struct spec_id_mapping *m, size_t n, skiff_error_t *err)
{
  char path[64], buf[4096];
  size_t used = 0, i;

  if (n == 0)
    return 0;
  for (i = 0; i < n; i++)
    {
      int w = snprintf (buf + used, sizeof (buf) - used, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
      if (w < 0 || (size_t) w >= sizeof (buf) - used)
        return skiff_error_make (err, 0, "too many id mappings");
      used += w;
    }
  snprintf (path, sizeof (path), "/proc/%d/%s", pid, file);
  return fs_write_string (path, buf, err);
}

int
ns_write_id_maps (pid_t pid, const struct spec *s, skiff_error_t *err)
{
  if (write_map (pid, "uid_map", s->uid_mappings, s->n_uid_mappings, err) < 0)
    return -1;
  return write_map (pid, "gid_map", s->gid_mappings, s->n_gid_mappings, err);
}

bool
ns_same_as_self (pid_t pid, int type)
{
  char path[64];
  struct stat a, b;
  snprintf (path, sizeof (path), "/proc/%d/ns/%s", pid, ns_proc_name (type));
  if (stat (path, &a) < 0)
    return false;
  snprintf (path, sizeof (path), "/proc/self/ns/%s", ns_proc_name (type));
  if (stat (path, &b) < 0)
    return false;
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}
