#include "syscall_filter.h"
#include "cleanup.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Syscall arguments libseccomp can compare (a0 .. a5).  */
#define SYSCALL_FILTER_N_ARGS 6
/* Bound on the libseccomp rules one spec rule may expand to.  */
#define SYSCALL_FILTER_MAX_COMBINATIONS 1024

static inline void
cleanup_seccomp_ctxp (scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release (*ctx);
}
#define cleanup_seccomp_ctx __attribute__ ((cleanup (cleanup_seccomp_ctxp)))

static const struct
{
  const char *name;
  uint32_t action;
  bool takes_data; /* errno (ERRNO) or message number (TRACE) */
} actions[] = {
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0), true },
  { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0), true },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
};

static const struct
{
  const char *name;
  enum scmp_compare op;
} ops[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

int
syscall_filter_action (const char *name, bool has_errno, uint32_t errno_ret, uint32_t *out, skiff_error_t *err)
{
  size_t i;

  for (i = 0; i < sizeof (actions) / sizeof (actions[0]); i++)
    {
      if (strcmp (name, actions[i].name) != 0)
        continue;
      if (!actions[i].takes_data)
        {
          *out = actions[i].action;
          return 0;
        }
      if (!has_errno)
        errno_ret = EPERM;
      if (errno_ret > 0xffff)
        return skiff_error_make (err, 0, "invalid errnoRet %u for seccomp action `%s`", errno_ret, name);
      *out = actions[i].action | errno_ret;
      return 0;
    }
  return skiff_error_make (err, 0, "invalid seccomp action `%s`", name);
}

int
syscall_filter_op (const char *name, int *out, skiff_error_t *err)
{
  size_t i;

  for (i = 0; i < sizeof (ops) / sizeof (ops[0]); i++)
    if (strcmp (name, ops[i].name) == 0)
      {
        *out = (int) ops[i].op;
        return 0;
      }
  return skiff_error_make (err, 0, "invalid seccomp operator `%s`", name);
}

int
syscall_filter_arch (const char *name, uint32_t *out, skiff_error_t *err)
{
  static const char prefix[] = "SCMP_ARCH_";
  const char *suffix;
  char lower[32];
  size_t i, len;
  uint32_t arch;

  if (strncmp (name, prefix, sizeof (prefix) - 1) != 0)
    return skiff_error_make (err, 0, "invalid seccomp architecture `%s`", name);
  suffix = name + sizeof (prefix) - 1;
  len = strlen (suffix);
  if (len == 0 || len >= sizeof (lower))
    return skiff_error_make (err, 0, "invalid seccomp architecture `%s`", name);
  for (i = 0; i < len; i++)
    {
      if (islower ((unsigned char) suffix[i]))
        return skiff_error_make (err, 0, "invalid seccomp architecture `%s`", name);
      lower[i] = (char) tolower ((unsigned char) suffix[i]);
    }
  lower[len] = '\0';

  arch = seccomp_arch_resolve_name (lower);
  if (arch == 0)
    return skiff_error_make (err, 0, "invalid seccomp architecture `%s`", name);
  *out = arch;
  return 0;
}

/* The first argument at or after position `from` that compares argument
   `index`, or rule->n_args.  */
static size_t
next_on_index (const struct spec_seccomp_rule *rule, unsigned int index, size_t from)
{
  for (; from < rule->n_args; from++)
    if (rule->args[from].index == index)
      return from;
  return rule->n_args;
}

/* Checks the argument indexes, and that the rule does not expand to too
   many libseccomp rules (the product of the comparisons per index).  */
static int
check_args (const struct spec_seccomp_rule *rule, const char *what, skiff_error_t *err)
{
  size_t per_index[SYSCALL_FILTER_N_ARGS] = { 0 };
  size_t i, total = 1;

  for (i = 0; i < rule->n_args; i++)
    {
      if (rule->args[i].index >= SYSCALL_FILTER_N_ARGS)
        return skiff_error_make (err, 0, "seccomp rule for `%s`: argument index %u out of range", what,
                                 rule->args[i].index);
      per_index[rule->args[i].index]++;
    }
  for (i = 0; i < SYSCALL_FILTER_N_ARGS; i++)
    if (per_index[i] > 0)
      {
        total *= per_index[i];
        if (total > SYSCALL_FILTER_MAX_COMBINATIONS)
          return skiff_error_make (err, 0, "seccomp rule for `%s`: too many argument combinations", what);
      }
  return 0;
}

/* Adds one libseccomp rule per combination of one comparison from each
   index used: comparisons on different indexes are ANDed, comparisons on
   one index are alternatives.  */
static int
add_syscall (scmp_filter_ctx ctx, const struct spec_seccomp_rule *rule, const char *name, int nr,
             skiff_error_t *err)
{
  size_t pos[SYSCALL_FILTER_N_ARGS];
  struct scmp_arg_cmp cmp[SYSCALL_FILTER_N_ARGS];
  unsigned int i, n_cmp;
  int ret;

  for (i = 0; i < SYSCALL_FILTER_N_ARGS; i++)
    pos[i] = next_on_index (rule, i, 0);

  for (;;)
    {
      n_cmp = 0;
      for (i = 0; i < SYSCALL_FILTER_N_ARGS; i++)
        if (pos[i] < rule->n_args)
          {
            const struct spec_seccomp_arg *a = &rule->args[pos[i]];
            cmp[n_cmp].arg = a->index;
            cmp[n_cmp].op = (enum scmp_compare) a->op;
            cmp[n_cmp].datum_a = a->value;
            cmp[n_cmp].datum_b = a->value_two;
            n_cmp++;
          }

      ret = seccomp_rule_add_array (ctx, rule->action, nr, n_cmp, cmp);
      if (UNLIKELY (ret < 0))
        return skiff_error_make (err, -ret, "add seccomp rule for `%s`", name);

      /* Next combination, odometer style.  */
      for (i = 0; i < SYSCALL_FILTER_N_ARGS; i++)
        {
          size_t next;
          if (pos[i] == rule->n_args)
            continue;
          next = next_on_index (rule, i, pos[i] + 1);
          if (next < rule->n_args)
            {
              pos[i] = next;
              break;
            }
          pos[i] = next_on_index (rule, i, 0);
        }
      if (i == SYSCALL_FILTER_N_ARGS)
        return 0;
    }
}

static int
add_rule (scmp_filter_ctx ctx, uint32_t default_action, const struct spec_seccomp_rule *rule, skiff_error_t *err)
{
  const char *what = rule->n_names > 0 ? rule->names[0] : "(no syscall)";
  size_t i;
  int ret;

  /* libseccomp refuses a rule that repeats the default action.  */
  if (rule->action == default_action)
    {
      log_debug ("seccomp: skipping rule for `%s`: its action is the default action", what);
      return 0;
    }
  ret = check_args (rule, what, err);
  if (UNLIKELY (ret < 0))
    return ret;

  for (i = 0; i < rule->n_names; i++)
    {
      int nr = seccomp_syscall_resolve_name (rule->names[i]);
      if (nr == __NR_SCMP_ERROR)
        {
          log_debug ("seccomp: skipping unknown syscall `%s`", rule->names[i]);
          continue;
        }
      ret = add_syscall (ctx, rule, rule->names[i], nr, err);
      if (UNLIKELY (ret < 0))
        return ret;
    }
  return 0;
}

static int
set_attr (scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value, const char *what, skiff_error_t *err)
{
  int ret = seccomp_attr_set (ctx, attr, value);
  if (UNLIKELY (ret < 0))
    return skiff_error_make (err, -ret, "set seccomp filter attribute %s", what);
  return 0;
}

static int
set_attributes (scmp_filter_ctx ctx, const struct spec_seccomp *sc, skiff_error_t *err)
{
  int ret;

  /* The caller sets no_new_privs itself, when the spec asks for it.  */
  ret = set_attr (ctx, SCMP_FLTATR_CTL_NNP, 0, "no_new_privs", err);
  if (UNLIKELY (ret < 0))
    return ret;
  /* Report the kernel's errno when loading fails, not ECANCELED.  */
  ret = set_attr (ctx, SCMP_FLTATR_API_SYSRAWRC, 1, "raw return codes", err);
  if (UNLIKELY (ret < 0))
    return ret;
  if (sc->flag_log)
    {
      ret = set_attr (ctx, SCMP_FLTATR_CTL_LOG, 1, "SECCOMP_FILTER_FLAG_LOG", err);
      if (UNLIKELY (ret < 0))
        return ret;
    }
  if (sc->flag_spec_allow)
    {
      ret = set_attr (ctx, SCMP_FLTATR_CTL_SSB, 1, "SECCOMP_FILTER_FLAG_SPEC_ALLOW", err);
      if (UNLIKELY (ret < 0))
        return ret;
    }
  return 0;
}

int
syscall_filter_build_context (const struct spec_seccomp *sc, void **out, skiff_error_t *err)
{
  cleanup_seccomp_ctx scmp_filter_ctx ctx = NULL;
  size_t i;
  int ret;

  ctx = seccomp_init (sc->default_action);
  if (ctx == NULL)
    return skiff_error_make (err, 0, "create seccomp filter with default action %#x", sc->default_action);

  ret = set_attributes (ctx, sc, err);
  if (UNLIKELY (ret < 0))
    return ret;

  for (i = 0; i < sc->n_archs; i++)
    {
      ret = seccomp_arch_add (ctx, sc->archs[i]);
      if (UNLIKELY (ret < 0 && ret != -EEXIST))
        return skiff_error_make (err, -ret, "add seccomp architecture %#x", sc->archs[i]);
    }

  for (i = 0; i < sc->n_rules; i++)
    {
      ret = add_rule (ctx, sc->default_action, &sc->rules[i], err);
      if (UNLIKELY (ret < 0))
        return ret;
    }

  *out = steal_pointer (&ctx);
  return 0;
}

struct syscall_filter
{
  uint32_t flags; /* SECCOMP_FILTER_FLAG_* */
  size_t len;     /* instructions */
  struct sock_filter insns[];
};

/* The flags seccomp_load() would pass for the attributes set_attributes()
   sets.  */
static uint32_t
load_flags (const struct spec_seccomp *sc)
{
  return (sc->flag_log ? SECCOMP_FILTER_FLAG_LOG : 0) | (sc->flag_spec_allow ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
}

int
syscall_filter_from_bpf (const void *insns, size_t size, uint32_t flags, void **filter, skiff_error_t *err)
{
  struct syscall_filter *f;

  if (size == 0 || size % sizeof (struct sock_filter) != 0 || size / sizeof (struct sock_filter) > BPF_MAXINSNS)
    return skiff_error_make (err, EINVAL, "seccomp program of %zu bytes", size);
  f = malloc (sizeof (*f) + size);
  if (f == NULL)
    return skiff_error_make (err, ENOMEM, "seccomp program");
  f->flags = flags;
  f->len = size / sizeof (struct sock_filter);
  memcpy (f->insns, insns, size);
  *filter = f;
  return 0;
}

void
syscall_filter_bpf (const void *filter, const void **insns, size_t *size, uint32_t *flags)
{
  const struct syscall_filter *f = filter;
  *insns = f->insns;
  *size = f->len * sizeof (struct sock_filter);
  *flags = f->flags;
}

int
syscall_filter_build (const struct spec_seccomp *sc, void **filter, skiff_error_t *err)
{
  cleanup_seccomp_ctx scmp_filter_ctx ctx = NULL;
  cleanup_close int fd = -1;
  cleanup_free char *bpf = NULL;
  struct stat st;
  ssize_t n;
  int ret;

  ret = syscall_filter_build_context (sc, (void **) &ctx, err);
  if (UNLIKELY (ret < 0))
    return ret;
  /* libseccomp 2.5 exports to a descriptor only.  */
  fd = memfd_create ("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "memfd_create");
  ret = seccomp_export_bpf (ctx, fd);
  if (UNLIKELY (ret < 0))
    return skiff_error_make (err, -ret, "compile the seccomp filter");
  if (fstat (fd, &st) < 0)
    return skiff_error_make (err, errno, "stat the seccomp program");
  bpf = malloc (st.st_size ? st.st_size : 1);
  if (bpf == NULL)
    return skiff_error_make (err, ENOMEM, "seccomp program");
  n = pread (fd, bpf, st.st_size, 0);
  if (n != st.st_size)
    return skiff_error_make (err, n < 0 ? errno : EIO, "read the seccomp program");
  return syscall_filter_from_bpf (bpf, (size_t) n, load_flags (sc), filter, err);
}

int
syscall_filter_load (void *filter, skiff_error_t *err)
{
  struct syscall_filter *f = filter;
  struct sock_fprog prog = { .len = (unsigned short) f->len, .filter = f->insns };

  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog) == 0)
    return 0;
  /* Kernels before 3.17 have only the prctl, without flags.  */
  if (errno == ENOSYS && f->flags == 0 && prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
    return 0;
  return skiff_error_make (err, errno, "load seccomp filter");
}

void
syscall_filter_free (void *filter)
{
  free (filter);
}
