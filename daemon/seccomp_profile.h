/* Docker seccomp profiles (moby's format: defaultAction, defaultErrnoRet,
 * architectures or archMap, syscalls with name/names, action, errnoRet,
 * args and includes/excludes {caps, arches, minKernel}) translated into an
 * OCI linux.seccomp object for one container, as moby's setupSeccomp does:
 *
 * - architectures: the profile's "architectures", or the archMap entry of
 *   the native architecture with its sub-architectures;
 * - a rule is kept when none of excludes.arches is the native arch (Go
 *   name: "amd64", "arm64", ...), no excludes.caps is in the bounding set,
 *   the kernel is older than excludes.minKernel, and includes.arches (if
 *   any) has the native arch, all includes.caps are in the bounding set,
 *   and the kernel is at least includes.minKernel.
 */
#ifndef SKIFF_DAEMON_SECCOMP_PROFILE_H
#define SKIFF_DAEMON_SECCOMP_PROFILE_H

#include <stddef.h>
#include "error.h"

struct seccomp_profile_host
{
  const char *native;      /* Go/libseccomp arch name ("amd64"); NULL when Docker has none */
  const char *native_scmp; /* "SCMP_ARCH_X86_64"; NULL when Docker has none */
  unsigned int kernel, major; /* running kernel, "kernel.major" */
};

/* The host this program runs on: compile-time architecture, uname(2).  */
int seccomp_profile_host_detect (struct seccomp_profile_host *h, skiff_error_t *err);

/* profile_json: a profile in moby's format (the file's contents, or what
   the docker CLI sends in `seccomp=<json>`).  caps: the container's
   bounding set as "CAP_*" names.  *out: the OCI linux.seccomp object as
   compact JSON (malloc'd), or NULL when the profile disables seccomp (no
   defaultAction and no syscalls).  Errors say "Decoding seccomp profile
   failed: ..." as Docker's do.  */
int seccomp_profile_translate (const char *profile_json, const struct seccomp_profile_host *h, char *const *caps,
                               size_t n_caps, char **out, skiff_error_t *err);

#endif
