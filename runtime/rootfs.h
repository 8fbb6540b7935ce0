/* The container's root file system, in three steps run by its init inside
   its new mount namespace:
     rootfs_prepare()  propagation, the rootfs bind, spec mounts, /dev;
     rootfs_pivot()    pivot_root (or MS_MOVE + chroot with no_pivot);
     rootfs_finalize() masked and read-only paths, read-only root.  */
#ifndef SKIFF_RUNTIME_ROOTFS_H
#define SKIFF_RUNTIME_ROOTFS_H

#include <stdbool.h>
#include "error.h"
#include "spec.h"

/* cgroup_path: the container's cgroup (for "cgroup" mounts), may be NULL.
   in_userns: device nodes are bind-mounted from the host instead of made.  */
int rootfs_prepare (const struct spec *s, const char *cgroup_path, bool in_userns, skiff_error_t *err);
int rootfs_pivot (const struct spec *s, bool no_pivot, skiff_error_t *err);
int rootfs_finalize (const struct spec *s, skiff_error_t *err);

#endif
