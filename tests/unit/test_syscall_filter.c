#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "syscall_filter.h"

#define N(a) (sizeof (a) / sizeof ((a)[0]))

/* Exit statuses of a filtered child that failed before its probe.  */
#define CHILD_NNP_FAILED 201
#define CHILD_BUILD_FAILED 202
#define CHILD_LOAD_FAILED 203

#define TEST_ERRNO EPROTONOSUPPORT

/* ---- name parsing ---- */

static void
test_action_names (void **state)
{
  skiff_error_t err = NULL;
  uint32_t a;

  assert_int_equal (syscall_filter_action ("SCMP_ACT_ALLOW", false, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_ALLOW);
  assert_int_equal (syscall_filter_action ("SCMP_ACT_KILL", false, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_KILL);
  assert_int_equal (syscall_filter_action ("SCMP_ACT_KILL_THREAD", false, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_KILL_THREAD);
  assert_int_equal (syscall_filter_action ("SCMP_ACT_KILL_PROCESS", false, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_KILL_PROCESS);
  assert_int_equal (syscall_filter_action ("SCMP_ACT_TRAP", false, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_TRAP);
  assert_int_equal (syscall_filter_action ("SCMP_ACT_LOG", false, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_LOG);
  /* errnoRet is ignored by actions that carry no data.  */
  assert_int_equal (syscall_filter_action ("SCMP_ACT_ALLOW", true, 5, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_ALLOW);
  assert_null (err);
}

static void
test_action_errno (void **state)
{
  skiff_error_t err = NULL;
  uint32_t a;

  /* Without errnoRet, ERRNO and TRACE default to EPERM, like runc.  */
  assert_int_equal (syscall_filter_action ("SCMP_ACT_ERRNO", false, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_ERRNO (EPERM));
  assert_int_equal (syscall_filter_action ("SCMP_ACT_TRACE", false, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_TRACE (EPERM));

  assert_int_equal (syscall_filter_action ("SCMP_ACT_ERRNO", true, TEST_ERRNO, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_ERRNO (TEST_ERRNO));
  assert_int_equal (syscall_filter_action ("SCMP_ACT_ERRNO", true, 0, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_ERRNO (0));
  assert_int_equal (syscall_filter_action ("SCMP_ACT_TRACE", true, 1234, &a, &err), 0);
  assert_int_equal (a, SCMP_ACT_TRACE (1234));
  assert_null (err);

  assert_true (syscall_filter_action ("SCMP_ACT_ERRNO", true, 0x10000, &a, &err) < 0);
  assert_non_null (err);
  assert_string_equal (err->msg, "invalid errnoRet 65536 for seccomp action `SCMP_ACT_ERRNO`");
  skiff_error_release (&err);
}

static void
test_action_bad (void **state)
{
  static const char *const bad[] = { "SCMP_ACT_NOTIFY", "SCMP_ACT_FOO", "scmp_act_allow", "ALLOW", "" };
  skiff_error_t err = NULL;
  char expected[64];
  uint32_t a = 42;
  size_t i;

  for (i = 0; i < N (bad); i++)
    {
      assert_true (syscall_filter_action (bad[i], false, 0, &a, &err) < 0);
      assert_non_null (err);
      snprintf (expected, sizeof (expected), "invalid seccomp action `%s`", bad[i]);
      assert_string_equal (err->msg, expected);
      skiff_error_release (&err);
    }
  assert_int_equal (a, 42);
}

static void
test_op_names (void **state)
{
  static const struct
  {
    const char *name;
    int op;
  } good[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  static const char *const bad[] = { "SCMP_CMP_FOO", "SCMP_CMP_eq", "EQ", "" };
  skiff_error_t err = NULL;
  size_t i;
  int op;

  for (i = 0; i < N (good); i++)
    {
      assert_int_equal (syscall_filter_op (good[i].name, &op, &err), 0);
      assert_int_equal (op, good[i].op);
    }
  assert_null (err);
  for (i = 0; i < N (bad); i++)
    {
      assert_true (syscall_filter_op (bad[i], &op, &err) < 0);
      assert_non_null (err);
      assert_non_null (strstr (err->msg, "invalid seccomp operator"));
      skiff_error_release (&err);
    }
}

static void
test_arch_names (void **state)
{
  static const struct
  {
    const char *name;
    uint32_t arch;
  } good[] = {
    { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },   { "SCMP_ARCH_X86", SCMP_ARCH_X86 },
    { "SCMP_ARCH_X32", SCMP_ARCH_X32 },         { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
    { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },         { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
    { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },     { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
    { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
  };
  static const char *const bad[] = {
    "SCMP_ARCH_FOO", "SCMP_ARCH_", "SCMP_ARCH_x86_64", "X86_64", "x86_64", "",
    "SCMP_ARCH_NATIVE", "SCMP_ARCH_X86_64_AND_A_VERY_LONG_SUFFIX_INDEED",
  };
  skiff_error_t err = NULL;
  char expected[128];
  uint32_t arch;
  size_t i;

  for (i = 0; i < N (good); i++)
    {
      assert_int_equal (syscall_filter_arch (good[i].name, &arch, &err), 0);
      assert_int_equal (arch, good[i].arch);
    }
  assert_null (err);
  for (i = 0; i < N (bad); i++)
    {
      assert_true (syscall_filter_arch (bad[i], &arch, &err) < 0);
      assert_non_null (err);
      snprintf (expected, sizeof (expected), "invalid seccomp architecture `%s`", bad[i]);
      assert_string_equal (err->msg, expected);
      skiff_error_release (&err);
    }
}

/* ---- building ---- */

static void
cleanup_filterp (void **filter)
{
  if (*filter)
    syscall_filter_free (*filter);
}
#define cleanup_filter __attribute__ ((cleanup (cleanup_filterp)))

static void
cleanup_ctxp (void **ctx)
{
  if (*ctx)
    seccomp_release (*ctx);
}
#define cleanup_ctx __attribute__ ((cleanup (cleanup_ctxp)))

/* The filter as libseccomp's pseudo filter code, malloc'd.  */
static char *
filter_pfc (void *filter)
{
  cleanup_close int fd = memfd_create ("pfc", MFD_CLOEXEC);
  char *text;
  off_t len;

  assert_true (fd >= 0);
  assert_int_equal (seccomp_export_pfc ((scmp_filter_ctx) filter, fd), 0);
  len = lseek (fd, 0, SEEK_END);
  assert_true (len > 0);
  text = calloc (1, (size_t) len + 1);
  assert_non_null (text);
  assert_int_equal (pread (fd, text, (size_t) len, 0), len);
  return text;
}

static size_t
count_substr (const char *text, const char *needle)
{
  size_t n = 0;
  for (; (text = strstr (text, needle)) != NULL; text++)
    n++;
  return n;
}

static void
test_build_rules (void **state)
{
  struct spec_seccomp_rule rules[] = {
    { .names = (char *[]) { "mkdir", "no_such_syscall", "mkdirat" }, .n_names = 3,
      .action = SCMP_ACT_ERRNO (TEST_ERRNO) },
    /* The default action: skipped.  */
    { .names = (char *[]) { "personality" }, .n_names = 1, .action = SCMP_ACT_ALLOW },
    /* Only unknown names: nothing added, no error.  */
    { .names = (char *[]) { "no_such_syscall", "another_one" }, .n_names = 2, .action = SCMP_ACT_KILL },
    /* A pseudo syscall on x86_64, real on x86.  */
    { .names = (char *[]) { "socketcall" }, .n_names = 1, .action = SCMP_ACT_ERRNO (EPERM) },
  };
  /* The native architecture listed again is fine.  */
  uint32_t archs[] = { SCMP_ARCH_X86, SCMP_ARCH_X32, seccomp_arch_native () };
  struct spec_seccomp sc = {
    .default_action = SCMP_ACT_ALLOW,
    .archs = archs,
    .n_archs = N (archs),
    .rules = rules,
    .n_rules = N (rules),
  };
  cleanup_ctx void *filter = NULL;
  cleanup_free char *pfc = NULL;
  skiff_error_t err = NULL;
  uint32_t value = 42;

  assert_int_equal (syscall_filter_build_context (&sc, &filter, &err), 0);
  assert_null (err);
  assert_non_null (filter);

  assert_int_equal (seccomp_arch_exist (filter, SCMP_ARCH_NATIVE), 0);
  assert_int_equal (seccomp_arch_exist (filter, SCMP_ARCH_X86), 0);
  assert_int_equal (seccomp_arch_exist (filter, SCMP_ARCH_X32), 0);
  assert_int_equal (seccomp_arch_exist (filter, SCMP_ARCH_S390X), -EEXIST);

  assert_int_equal (seccomp_attr_get (filter, SCMP_FLTATR_CTL_NNP, &value), 0);
  assert_int_equal (value, 0);
  assert_int_equal (seccomp_attr_get (filter, SCMP_FLTATR_ACT_DEFAULT, &value), 0);
  assert_int_equal (value, SCMP_ACT_ALLOW);

  pfc = filter_pfc (filter);
  assert_non_null (strstr (pfc, "\"mkdirat\""));
  assert_non_null (strstr (pfc, "ERRNO(93)"));
  assert_null (strstr (pfc, "personality"));
  assert_null (strstr (pfc, "no_such_syscall"));
  /* The only KILL is the bad-architecture action.  */
  assert_int_equal (count_substr (pfc, "action KILL;"), 1);
}

static void
test_build_default_errno (void **state)
{
  struct spec_seccomp_rule rules[] = {
    { .names = (char *[]) { "getpid", "read", "write" }, .n_names = 3, .action = SCMP_ACT_ALLOW },
    /* Same as the default (ERRNO with EPERM): skipped.  */
    { .names = (char *[]) { "mkdir" }, .n_names = 1, .action = SCMP_ACT_ERRNO (EPERM) },
    /* ERRNO with another errno is a different action: kept.  */
    { .names = (char *[]) { "rmdir" }, .n_names = 1, .action = SCMP_ACT_ERRNO (TEST_ERRNO) },
  };
  struct spec_seccomp sc = {
    .default_action = SCMP_ACT_ERRNO (EPERM),
    .rules = rules,
    .n_rules = N (rules),
  };
  cleanup_ctx void *filter = NULL;
  cleanup_free char *pfc = NULL;
  skiff_error_t err = NULL;

  assert_int_equal (syscall_filter_build_context (&sc, &filter, &err), 0);
  assert_null (err);
  pfc = filter_pfc (filter);
  assert_non_null (strstr (pfc, "\"getpid\""));
  assert_null (strstr (pfc, "\"mkdir\""));
  assert_non_null (strstr (pfc, "\"rmdir\""));
  assert_non_null (strstr (pfc, "ERRNO(93)"));
}

static void
test_build_args (void **state)
{
  /* Two comparisons on a0 are alternatives; the one on a1 is ANDed with
     each of them: two rules.  */
  struct spec_seccomp_arg fcntl_args[] = {
    { .index = 0, .value = 1000, .op = SCMP_CMP_EQ },
    { .index = 1, .value = F_GETFD, .op = SCMP_CMP_EQ },
    { .index = 0, .value = 1001, .op = SCMP_CMP_EQ },
  };
  struct spec_seccomp_arg clone_args[] = {
    { .index = 0, .value = 0x7e020000, .value_two = 0, .op = SCMP_CMP_MASKED_EQ },
  };
  struct spec_seccomp_arg pers_args[] = {
    { .index = 0, .value = 0x20008, .op = SCMP_CMP_EQ },
    { .index = 0, .value = 0x20009, .op = SCMP_CMP_EQ },
    { .index = 0, .value = 0x2000a, .op = SCMP_CMP_EQ },
  };
  struct spec_seccomp_rule rules[] = {
    { .names = (char *[]) { "fcntl" }, .n_names = 1, .action = SCMP_ACT_ERRNO (TEST_ERRNO),
      .args = fcntl_args, .n_args = N (fcntl_args) },
    { .names = (char *[]) { "clone" }, .n_names = 1, .action = SCMP_ACT_ERRNO (TEST_ERRNO),
      .args = clone_args, .n_args = N (clone_args) },
    { .names = (char *[]) { "personality" }, .n_names = 1, .action = SCMP_ACT_ERRNO (TEST_ERRNO),
      .args = pers_args, .n_args = N (pers_args) },
  };
  struct spec_seccomp sc = {
    .default_action = SCMP_ACT_ALLOW,
    .rules = rules,
    .n_rules = N (rules),
  };
  cleanup_ctx void *filter = NULL;
  cleanup_free char *pfc = NULL;
  skiff_error_t err = NULL;

  assert_int_equal (syscall_filter_build_context (&sc, &filter, &err), 0);
  assert_null (err);
  pfc = filter_pfc (filter);
  assert_int_equal (count_substr (pfc, "$a0.lo32 == 1000)\n"), 1);
  assert_int_equal (count_substr (pfc, "$a0.lo32 == 1001)\n"), 1);
  assert_int_equal (count_substr (pfc, "$a1.lo32 == 1)\n"), 2);
  assert_int_equal (count_substr (pfc, "$a0.lo32 == 131080)\n"), 1);
  assert_int_equal (count_substr (pfc, "$a0.lo32 == 131081)\n"), 1);
  assert_int_equal (count_substr (pfc, "$a0.lo32 == 131082)\n"), 1);
}

static void
test_build_flags (void **state)
{
  struct spec_seccomp sc = {
    .default_action = SCMP_ACT_ALLOW,
    .flag_log = true,
    .flag_spec_allow = true,
  };
  cleanup_ctx void *filter = NULL;
  skiff_error_t err = NULL;
  uint32_t value = 0;

  if (seccomp_api_get () < 4)
    skip ();
  assert_int_equal (syscall_filter_build_context (&sc, &filter, &err), 0);
  assert_null (err);
  assert_int_equal (seccomp_attr_get (filter, SCMP_FLTATR_CTL_LOG, &value), 0);
  assert_int_equal (value, 1);
  assert_int_equal (seccomp_attr_get (filter, SCMP_FLTATR_CTL_SSB, &value), 0);
  assert_int_equal (value, 1);
  /* The compiled filter is loaded with the matching flags.  */
  {
    cleanup_filter void *compiled = NULL;
    const void *insns;
    size_t size;
    uint32_t flags;
    assert_int_equal (syscall_filter_build (&sc, &compiled, &err), 0);
    syscall_filter_bpf (compiled, &insns, &size, &flags);
    assert_int_equal (flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    sc.flag_log = sc.flag_spec_allow = false;
    syscall_filter_free (compiled);
    compiled = NULL;
    assert_int_equal (syscall_filter_build (&sc, &compiled, &err), 0);
    syscall_filter_bpf (compiled, &insns, &size, &flags);
    assert_int_equal (flags, 0);
  }
}

/* The compiled program is libseccomp's, bit for bit.  */
static void
test_build_compiles (void **state)
{
  struct spec_seccomp_rule rules[] = {
    { .names = (char *[]) { "mkdir", "mkdirat" }, .n_names = 2, .action = SCMP_ACT_ERRNO (TEST_ERRNO) },
  };
  struct spec_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .rules = rules, .n_rules = N (rules) };
  cleanup_ctx void *ctx = NULL;
  cleanup_filter void *filter = NULL;
  cleanup_close int fd = memfd_create ("bpf", MFD_CLOEXEC);
  cleanup_free char *want = NULL;
  skiff_error_t err = NULL;
  const void *insns;
  size_t size;
  uint32_t flags;
  off_t len;

  assert_true (fd >= 0);
  assert_int_equal (syscall_filter_build_context (&sc, &ctx, &err), 0);
  assert_int_equal (seccomp_export_bpf (ctx, fd), 0);
  len = lseek (fd, 0, SEEK_END);
  assert_true (len > 0 && len % 8 == 0);
  want = malloc (len);
  assert_int_equal (pread (fd, want, len, 0), len);
  assert_int_equal (syscall_filter_build (&sc, &filter, &err), 0);
  syscall_filter_bpf (filter, &insns, &size, &flags);
  assert_int_equal (size, (size_t) len);
  assert_memory_equal (insns, want, size);
  assert_int_equal (flags, 0);
}

static void
expect_build_error (const struct spec_seccomp *sc, const char *message_part)
{
  void *filter = NULL;
  skiff_error_t err = NULL;

  assert_true (syscall_filter_build (sc, &filter, &err) < 0);
  assert_null (filter);
  assert_non_null (err);
  if (strstr (err->msg, message_part) == NULL)
    fail_msg ("error `%s` does not mention `%s`", err->msg, message_part);
  skiff_error_release (&err);
}

static void
test_build_errors (void **state)
{
  struct spec_seccomp_arg bad_index[] = { { .index = 6, .value = 1, .op = SCMP_CMP_EQ } };
  struct spec_seccomp_arg bad_op[] = { { .index = 0, .value = 1, .op = 99 } };
  struct spec_seccomp_rule rule = { .names = (char *[]) { "fcntl" }, .n_names = 1,
                                    .action = SCMP_ACT_ERRNO (EPERM) };
  /* The same comparison with two actions: libseccomp refuses the second.  */
  struct spec_seccomp_arg same[] = { { .index = 0, .value = 8, .op = SCMP_CMP_EQ } };
  struct spec_seccomp_rule conflict[] = {
    { .names = (char *[]) { "personality" }, .n_names = 1, .action = SCMP_ACT_ERRNO (EPERM),
      .args = same, .n_args = 1 },
    { .names = (char *[]) { "personality" }, .n_names = 1, .action = SCMP_ACT_ERRNO (TEST_ERRNO),
      .args = same, .n_args = 1 },
  };
  uint32_t bad_arch = 0x1234;
  struct spec_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .rules = &rule, .n_rules = 1 };

  rule.args = bad_index;
  rule.n_args = 1;
  expect_build_error (&sc, "argument index 6 out of range");

  rule.args = bad_op;
  expect_build_error (&sc, "add seccomp rule for `fcntl`: Invalid argument");

  sc.rules = conflict;
  sc.n_rules = N (conflict);
  expect_build_error (&sc, "add seccomp rule for `personality`: File exists");

  sc.n_rules = 0;
  sc.archs = &bad_arch;
  sc.n_archs = 1;
  expect_build_error (&sc, "add seccomp architecture 0x1234: Invalid argument");

  sc.n_archs = 0;
  sc.default_action = 0x12345678;
  expect_build_error (&sc, "create seccomp filter");
}

/* ---- loading: the filter applies in a child ---- */

static int fd_a = -1, fd_b = -1, fd_c = -1;
static char scratch_dir[] = "/tmp/skiff-test-seccomp-XXXXXX";

/* Forks a child that sets no_new_privs, builds and loads the filter, runs
   probe(arg) and exits with its result (an errno, or 0 on success).  */
static int
run_filtered (const struct spec_seccomp *sc, int (*probe) (long), long arg)
{
  int status;
  pid_t pid = fork ();

  assert_true (pid >= 0);
  if (pid == 0)
    {
      skiff_error_t err = NULL;
      void *filter = NULL;

      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        _exit (CHILD_NNP_FAILED);
      if (syscall_filter_build (sc, &filter, &err) < 0)
        _exit (CHILD_BUILD_FAILED);
      if (syscall_filter_load (filter, &err) < 0)
        _exit (CHILD_LOAD_FAILED);
      _exit (probe (arg));
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static int
probe_mkdir (long at)
{
  char path[sizeof (scratch_dir) + 8];
  int ret;

  snprintf (path, sizeof (path), "%s/sub", scratch_dir);
  ret = at ? mkdirat (AT_FDCWD, path, 0700) : mkdir (path, 0700);
  if (ret < 0)
    return errno;
  rmdir (path);
  return 0;
}

static int
probe_rmdir_missing (long unused)
{
  char path[sizeof (scratch_dir) + 8];

  snprintf (path, sizeof (path), "%s/missing", scratch_dir);
  return rmdir (path) < 0 ? errno : 0;
}

static int
probe_personality (long persona)
{
  return personality ((unsigned long) persona) < 0 ? errno : 0;
}

/* arg: fd * 16 + cmd.  */
static int
probe_fcntl (long arg)
{
  return fcntl ((int) (arg / 16), (int) (arg % 16)) < 0 ? errno : 0;
}

static void
test_load_mkdir (void **state)
{
  struct spec_seccomp_rule rules[] = {
    { .names = (char *[]) { "mkdir", "mkdirat" }, .n_names = 2, .action = SCMP_ACT_ERRNO (TEST_ERRNO) },
  };
  struct spec_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .rules = rules, .n_rules = N (rules) };
  struct spec_seccomp open_sc = { .default_action = SCMP_ACT_ALLOW };

  /* Without the rule, mkdir works.  */
  assert_int_equal (run_filtered (&open_sc, probe_mkdir, 0), 0);

  assert_int_equal (run_filtered (&sc, probe_mkdir, 0), TEST_ERRNO);
  assert_int_equal (run_filtered (&sc, probe_mkdir, 1), TEST_ERRNO);
  /* Other syscalls go to the kernel and fail on their own.  */
  assert_int_equal (run_filtered (&sc, probe_rmdir_missing, 0), ENOENT);
}

static void
test_load_arg_rule (void **state)
{
  /* personality (0xffffffff) only queries; anything else fails.  */
  struct spec_seccomp_arg args[] = { { .index = 0, .value = 0xffffffff, .op = SCMP_CMP_NE } };
  struct spec_seccomp_rule rules[] = {
    { .names = (char *[]) { "personality" }, .n_names = 1, .action = SCMP_ACT_ERRNO (TEST_ERRNO),
      .args = args, .n_args = N (args) },
  };
  struct spec_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .rules = rules, .n_rules = N (rules) };

  assert_int_equal (run_filtered (&sc, probe_personality, 0xffffffffL), 0);
  assert_int_equal (run_filtered (&sc, probe_personality, PER_LINUX), TEST_ERRNO);
  assert_int_equal (run_filtered (&sc, probe_personality, PER_LINUX32), TEST_ERRNO);
}

static void
test_load_same_index (void **state)
{
  /* fcntl fails when (fd == a || fd == b) && cmd == F_GETFD.  */
  struct spec_seccomp_arg args[] = {
    { .index = 0, .value = (uint64_t) fd_a, .op = SCMP_CMP_EQ },
    { .index = 0, .value = (uint64_t) fd_b, .op = SCMP_CMP_EQ },
    { .index = 1, .value = F_GETFD, .op = SCMP_CMP_EQ },
  };
  struct spec_seccomp_rule rules[] = {
    { .names = (char *[]) { "fcntl", "fcntl64" }, .n_names = 2, .action = SCMP_ACT_ERRNO (TEST_ERRNO),
      .args = args, .n_args = N (args) },
  };
  struct spec_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .rules = rules, .n_rules = N (rules) };

  assert_int_equal (run_filtered (&sc, probe_fcntl, fd_a * 16 + F_GETFD), TEST_ERRNO);
  assert_int_equal (run_filtered (&sc, probe_fcntl, fd_b * 16 + F_GETFD), TEST_ERRNO);
  assert_int_equal (run_filtered (&sc, probe_fcntl, fd_c * 16 + F_GETFD), 0);
  assert_int_equal (run_filtered (&sc, probe_fcntl, fd_a * 16 + F_GETFL), 0);
  assert_int_equal (run_filtered (&sc, probe_fcntl, fd_b * 16 + F_GETFL), 0);
}

static int
setup_load (void **state)
{
  if (mkdtemp (scratch_dir) == NULL)
    return -1;
  fd_a = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  fd_b = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  fd_c = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd_a < 0 || fd_b < 0 || fd_c < 0 ? -1 : 0;
}

static int
teardown_load (void **state)
{
  close (fd_a);
  close (fd_b);
  close (fd_c);
  return rmdir (scratch_dir);
}

int
main (void)
{
  const struct CMUnitTest names[] = {
    cmocka_unit_test (test_action_names),
    cmocka_unit_test (test_action_errno),
    cmocka_unit_test (test_action_bad),
    cmocka_unit_test (test_op_names),
    cmocka_unit_test (test_arch_names),
    cmocka_unit_test (test_build_rules),
    cmocka_unit_test (test_build_default_errno),
    cmocka_unit_test (test_build_args),
    cmocka_unit_test (test_build_flags),
    cmocka_unit_test (test_build_compiles),
    cmocka_unit_test (test_build_errors),
    cmocka_unit_test (test_load_mkdir),
    cmocka_unit_test (test_load_arg_rule),
    cmocka_unit_test (test_load_same_index),
  };
#undef T
  return cmocka_run_group_tests_name ("syscall_filter", names, setup_load, teardown_load);
}
