/* OCI hooks: each runs with the container state JSON on its stdin.  */
#ifndef SKIFF_RUNTIME_HOOKS_H
#define SKIFF_RUNTIME_HOOKS_H

#include "error.h"
#include "spec.h"

const char *hooks_kind_name (enum spec_hook_kind kind);

/* Runs every hook of the list in order and stops at the first failure
   (non-zero exit, signal, or timeout, which kills it).  */
int hooks_run (const struct spec_hook_list *list, enum spec_hook_kind kind, const char *state_json, skiff_error_t *err);

#endif
