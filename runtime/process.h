/* The last steps of a container process, shared by the container's init
   and by `exec`: rlimits, identity, capabilities, no_new_privs, seccomp,
   then execve.  */
#ifndef SKIFF_RUNTIME_PROCESS_H
#define SKIFF_RUNTIME_PROCESS_H

#include "error.h"
#include "spec.h"

/* Resolves args[0] with the PATH of the process environment, inside the
   current root.  *path is malloc'd.  */
int process_find_executable (const struct spec_process *p, char **path, skiff_error_t *err);

/* Applies everything and execs exe.  Returns only on failure.
   seccomp is a filter from syscall_filter_build() or NULL.  */
int process_exec (const struct spec_process *p, const char *exe, void *seccomp, skiff_error_t *err);

#endif
