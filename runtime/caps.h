/* Capabilities through libcap: the five sets of process.capabilities.  */
#ifndef SKIFF_RUNTIME_CAPS_H
#define SKIFF_RUNTIME_CAPS_H

#include "error.h"
#include "spec.h"

/* Drops from the bounding set every capability not listed.  Needs
   CAP_SETPCAP, so it runs before the uid changes.  */
int caps_drop_bounding (const struct spec_capabilities *c, skiff_error_t *err);

/* Sets effective, permitted and inheritable, then the ambient set.  */
int caps_apply (const struct spec_capabilities *c, skiff_error_t *err);

#endif
