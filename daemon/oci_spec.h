/* The OCI bundle's config.json for a Docker container, built the way
 * Docker 20.10 builds it (moby's daemon/oci_linux.go, oci/defaults.go,
 * profiles/seccomp), for what skiff supports.
 *
 * Input is the container's Docker `Config` (already merged with the image
 * config) and `HostConfig` as received by POST /containers/create.
 * Everything Docker validates at start time is validated here too, with
 * Docker's messages (e.g. "No command specified", "unable to find user
 * NAME: no matching entries in passwd file").
 */
#ifndef SKIFF_DAEMON_OCI_SPEC_H
#define SKIFF_DAEMON_OCI_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include "error.h"

struct oci_spec_input
{
  const char *id;            /* 64-hex container id */
  yajl_val config;           /* Docker Config, merged with the image config */
  yajl_val host_config;      /* Docker HostConfig (NULL = all defaults) */
  const char *rootfs;        /* absolute path of the mounted overlay */
  const char *netns_path;    /* NULL: host network (no network namespace) */
  const char *hosts_path, *hostname_path, *resolv_conf_path; /* bind-mounted at /etc/...; NULL = none */
  const char *cgroup_parent; /* NULL = "/skiff"; HostConfig.CgroupParent wins */
  const char *seccomp_default_path; /* data/seccomp-default.json as installed */
  const char *init_path;     /* host path of skiff-init for HostConfig.Init */
};

/* Builds config.json (pretty-printed, malloc'd) into *config_json.
   Side effects, as Docker's: creates a missing WorkingDir inside the rootfs
   and missing bind-mount source directories on the host.  */
int oci_spec_build (const struct oci_spec_input *in, char **config_json, skiff_error_t *err);

/* ---- pieces, shared by the oci_*.c files and exported for tests ---- */

/* Docker's --user resolution (runc's libcontainer/user.GetExecUser) against
   <rootfs>/etc/passwd and <rootfs>/etc/group, both read inside the rootfs.
   user_spec: "", "uid", "uid:gid", "name", "name:group".  group_add:
   HostConfig.GroupAdd (names or gids).  additional_gids is Docker's list:
   the primary gid, the groups the user is a member of, then group_add.  */
struct oci_user
{
  uint32_t uid, gid;
  uint32_t *additional_gids; /* malloc'd */
  size_t n_additional_gids;
};
int oci_user_resolve (const char *rootfs, const char *user_spec, char *const *group_add, size_t n_group_add,
                      struct oci_user *out, skiff_error_t *err);
void oci_user_release (struct oci_user *u);

/* Docker's create-time checks on HostConfig resources (memory, swap,
   swappiness, cpus, cpu period/quota, shares), with Docker's messages.
   online_cpus bounds NanoCpus; pass 0 to read it from the system.  */
int oci_resources_validate (yajl_val host_config, long online_cpus, skiff_error_t *err);

/* Emits the key "resources" and Docker's linux.resources object: devices
   (deny all + Docker's allow list, or allow all when privileged), memory
   (limit, reservation, swap, swappiness, disableOOMKiller), cpu (shares,
   period/quota from NanoCpus or CpuPeriod/CpuQuota, cpuset) and pids.  */
int oci_resources_gen (yajl_gen g, yajl_val host_config, bool privileged, skiff_error_t *err);

/* Emits the key "devices" and every device node under dev_dir (normally
   "/dev"), as runc's HostDevices (skipping pts, shm, fd, mqueue, console,
   fifos and symlinks), for privileged containers.  */
int oci_host_devices_gen (yajl_gen g, const char *dev_dir, skiff_error_t *err);

#endif
