/* Compiled seccomp programs kept under the runtime root, in `.seccomp/`
   (a name no container id can take).
 *
 * libseccomp needs ~15 ms to build and compile Docker's default profile,
 * once per container; loading a compiled program costs nothing.  An entry
 * holds its whole key: a serialisation of the spec's filter with
 * libseccomp's version, its API level (what the kernel supports) and the
 * native architecture.  It is used only when that key matches byte for
 * byte, so the hash in the entry's name only spreads the entries.
 */
#ifndef SKIFF_RUNTIME_SECCOMP_CACHE_H
#define SKIFF_RUNTIME_SECCOMP_CACHE_H

#include "error.h"
#include "spec.h"

/* Like syscall_filter_build(), through the cache of root (NULL: no
   cache).  A cache that cannot be read or written only costs the
   compilation.  */
int seccomp_cache_build (const struct spec_seccomp *sc, const char *root, void **filter, skiff_error_t *err);

#endif
