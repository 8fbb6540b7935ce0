/* Seccomp filters from linux.seccomp, over libseccomp.
 *
 * The name parsers are used by the config parser, so that a bad action,
 * operator or architecture fails before anything is created.  The filter
 * is compiled to classic BPF by the runtime before the container process
 * exists (or taken from the cache, seccomp_cache.h), and loaded last by
 * that process, just before execve.
 */
#ifndef SKIFF_RUNTIME_SYSCALL_FILTER_H
#define SKIFF_RUNTIME_SYSCALL_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "spec.h"

/* "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
   "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
   "SCMP_ACT_TRACE", "SCMP_ACT_LOG" -> libseccomp action value.  For ERRNO
   and TRACE, errno_ret (when has_errno) is folded in as the errno or the
   tracer's message number; it defaults to EPERM, as in runc, and must fit
   in 16 bits.  SCMP_ACT_NOTIFY is not supported.  */
int syscall_filter_action (const char *name, bool has_errno, uint32_t errno_ret, uint32_t *out, skiff_error_t *err);

/* "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
   "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ" -> enum scmp_compare.  */
int syscall_filter_op (const char *name, int *out, skiff_error_t *err);

/* "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", ... -> SCMP_ARCH_* token.  */
int syscall_filter_arch (const char *name, uint32_t *out, skiff_error_t *err);

/* Builds a filter (a compiled BPF program and its load flags) from the spec:
   - the native architecture is always present, sc->archs are added;
   - syscall names unknown to libseccomp are skipped, as runc does, since
     profiles list the syscalls of every architecture;
   - rules whose action is the default action are skipped;
   - argument comparisons on different indexes are ANDed; several
     comparisons on one index are alternatives (libseccomp accepts one
     per index and rule), so a rule becomes one libseccomp rule per
     combination of one comparison from each index used;
   - no_new_privs is left to the caller; flag_log and flag_spec_allow set
     SCMP_FLTATR_CTL_LOG and SCMP_FLTATR_CTL_SSB.
   Free it with syscall_filter_free.  */
int syscall_filter_build (const struct spec_seccomp *sc, void **filter, skiff_error_t *err);

/* The libseccomp context that syscall_filter_build() compiles (a
   scmp_filter_ctx, to inspect; free it with seccomp_release()).  */
int syscall_filter_build_context (const struct spec_seccomp *sc, void **ctx, skiff_error_t *err);

/* Loads the filter into the kernel (seccomp(2), as seccomp_load() would).
   Must be the last thing before execve: the filter applies to every later
   syscall of the process.  */
int syscall_filter_load (void *filter, skiff_error_t *err);

/* A filter from a program that syscall_filter_bpf() gave: size bytes of
   struct sock_filter, flags SECCOMP_FILTER_FLAG_*.  */
int syscall_filter_from_bpf (const void *insns, size_t size, uint32_t flags, void **filter, skiff_error_t *err);
void syscall_filter_bpf (const void *filter, const void **insns, size_t *size, uint32_t *flags);

void syscall_filter_free (void *filter);

static inline void
cleanup_syscall_filterp (void **filter)
{
  if (*filter)
    syscall_filter_free (*filter);
}
#define cleanup_syscall_filter __attribute__ ((cleanup (cleanup_syscall_filterp)))

#endif
