/* Helpers shared by the files of the container lifecycle.  */
#ifndef SKIFF_RUNTIME_CONTAINER_INTERNAL_H
#define SKIFF_RUNTIME_CONTAINER_INTERNAL_H

#include <sys/types.h>
#include "error.h"
#include "spec.h"
#include "state.h"

int container_write_pid_file (const char *path, pid_t pid, skiff_error_t *err);

/* The copy of config.json saved at create, parsed without checking the
   bundle's files (they may be gone by delete time).  */
int container_load_saved_spec (const char *root, const struct container_state *st, struct spec **out,
                               skiff_error_t *err);

#endif
