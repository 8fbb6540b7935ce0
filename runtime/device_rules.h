/* The device cgroup rules a container gets: the spec's
   linux.resources.devices, then the devices every container needs (as
   runc allows them: null, zero, full, random, urandom, tty, console, ptmx,
   pts, tun, and mknod of anything), then each linux.devices entry.  */
#ifndef SKIFF_RUNTIME_DEVICE_RULES_H
#define SKIFF_RUNTIME_DEVICE_RULES_H

#include "error.h"
#include "spec.h"

/* Fills *out as a copy of the spec's resources whose device list is the
   full rule set; *rules must be freed by the caller.  */
int device_rules_effective (const struct spec *s, struct spec_resources *out, struct spec_device_rule **rules,
                            skiff_error_t *err);

#endif
