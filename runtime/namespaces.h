/* Namespaces: joining by path, id maps, comparing with our own.  */
#ifndef SKIFF_RUNTIME_NAMESPACES_H
#define SKIFF_RUNTIME_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>
#include "error.h"
#include "spec.h"

/* The name of the namespace type under /proc/PID/ns ("net", "mnt", ...).  */
const char *ns_proc_name (int type);

/* setns() into the namespace file at path; type is CLONE_NEW*.  */
int ns_join_path (int type, const char *path, skiff_error_t *err);

/* Writes /proc/PID/uid_map and gid_map from the spec.  */
int ns_write_id_maps (pid_t pid, const struct spec *s, skiff_error_t *err);

/* True when PID's namespace of this type is the one we are in.  */
bool ns_same_as_self (pid_t pid, int type);

/* The order in which namespaces are joined: user first, mount last.  */
extern const int ns_join_order[];
extern const size_t ns_join_order_len;

#endif
