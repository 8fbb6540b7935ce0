#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "signals.h"

/* ---- signal_parse ---- */

static void
test_parse_plain_names (void **state)
{
  assert_int_equal (signal_parse ("KILL"), SIGKILL);
  assert_int_equal (signal_parse ("TERM"), SIGTERM);
  assert_int_equal (signal_parse ("HUP"), SIGHUP);
  assert_int_equal (signal_parse ("INT"), SIGINT);
  assert_int_equal (signal_parse ("USR1"), SIGUSR1);
  assert_int_equal (signal_parse ("USR2"), SIGUSR2);
  assert_int_equal (signal_parse ("CHLD"), SIGCHLD);
  assert_int_equal (signal_parse ("STOP"), SIGSTOP);
  assert_int_equal (signal_parse ("CONT"), SIGCONT);
  assert_int_equal (signal_parse ("WINCH"), SIGWINCH);
  assert_int_equal (signal_parse ("SYS"), SIGSYS);
  /* aliases */
  assert_int_equal (signal_parse ("IOT"), SIGABRT);
  assert_int_equal (signal_parse ("POLL"), SIGIO);
}

static void
test_parse_sig_prefix (void **state)
{
  assert_int_equal (signal_parse ("SIGKILL"), SIGKILL);
  assert_int_equal (signal_parse ("SIGTERM"), SIGTERM);
  assert_int_equal (signal_parse ("SIGWINCH"), SIGWINCH);
}

static void
test_parse_case_insensitive (void **state)
{
  assert_int_equal (signal_parse ("kill"), SIGKILL);
  assert_int_equal (signal_parse ("Kill"), SIGKILL);
  assert_int_equal (signal_parse ("sigkill"), SIGKILL);
  assert_int_equal (signal_parse ("SigTerm"), SIGTERM);
  assert_int_equal (signal_parse ("rtmin+1"), SIGRTMIN + 1);
}

static void
test_parse_numbers (void **state)
{
  assert_int_equal (signal_parse ("9"), 9);
  assert_int_equal (signal_parse ("15"), 15);
  assert_int_equal (signal_parse ("1"), 1);
  assert_int_equal (signal_parse ("64"), 64);
  assert_int_equal (signal_parse ("0"), -1);
  assert_int_equal (signal_parse ("65"), -1);
  assert_int_equal (signal_parse ("1000"), -1);
  assert_int_equal (signal_parse ("99999999999999999999999"), -1);
  assert_int_equal (signal_parse ("-9"), -1);
  assert_int_equal (signal_parse ("+9"), -1);
  assert_int_equal (signal_parse ("9x"), -1);
  assert_int_equal (signal_parse ("9 "), -1);
  assert_int_equal (signal_parse (" 9"), -1);
}

static void
test_parse_realtime (void **state)
{
  assert_int_equal (signal_parse ("RTMIN"), SIGRTMIN);
  assert_int_equal (signal_parse ("RTMAX"), SIGRTMAX);
  assert_int_equal (signal_parse ("RTMIN+1"), SIGRTMIN + 1);
  assert_int_equal (signal_parse ("SIGRTMIN+1"), SIGRTMIN + 1);
  assert_int_equal (signal_parse ("RTMIN+3"), SIGRTMIN + 3);
  assert_int_equal (signal_parse ("RTMAX-1"), SIGRTMAX - 1);
  assert_int_equal (signal_parse ("SIGRTMAX-2"), SIGRTMAX - 2);
  assert_int_equal (signal_parse ("RTMIN+0"), SIGRTMIN);
  /* the whole real-time range is reachable from both ends */
  assert_int_equal (signal_parse ("RTMAX-0"), SIGRTMAX);
  {
    char buf[32];
    snprintf (buf, sizeof (buf), "RTMIN+%d", SIGRTMAX - SIGRTMIN);
    assert_int_equal (signal_parse (buf), SIGRTMAX);
    snprintf (buf, sizeof (buf), "RTMAX-%d", SIGRTMAX - SIGRTMIN);
    assert_int_equal (signal_parse (buf), SIGRTMIN);
  }
}

static void
test_parse_realtime_bad (void **state)
{
  char buf[32];

  assert_int_equal (signal_parse ("RTMIN-1"), -1);
  assert_int_equal (signal_parse ("RTMAX+1"), -1);
  snprintf (buf, sizeof (buf), "RTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
  assert_int_equal (signal_parse (buf), -1);
  assert_int_equal (signal_parse ("RTMIN+"), -1);
  assert_int_equal (signal_parse ("RTMIN1"), -1);
  assert_int_equal (signal_parse ("RTMIN 1"), -1);
  assert_int_equal (signal_parse ("RTMIN+1x"), -1);
  assert_int_equal (signal_parse ("RTMIN++1"), -1);
  assert_int_equal (signal_parse ("RTMINX"), -1);
}

static void
test_parse_bad_names (void **state)
{
  assert_int_equal (signal_parse (NULL), -1);
  assert_int_equal (signal_parse (""), -1);
  assert_int_equal (signal_parse ("SIG"), -1);
  assert_int_equal (signal_parse ("FOO"), -1);
  assert_int_equal (signal_parse ("SIGFOO"), -1);
  assert_int_equal (signal_parse ("KILLX"), -1);
  assert_int_equal (signal_parse ("KIL"), -1);
  assert_int_equal (signal_parse ("SIGSIGKILL"), -1);
  assert_int_equal (signal_parse (" KILL"), -1);
  assert_int_equal (signal_parse ("KILL "), -1);
}

/* ---- signal_name ---- */

static void
test_name (void **state)
{
  assert_string_equal (signal_name (SIGKILL), "KILL");
  assert_string_equal (signal_name (SIGTERM), "TERM");
  assert_string_equal (signal_name (SIGHUP), "HUP");
  assert_string_equal (signal_name (SIGCHLD), "CHLD");
  assert_string_equal (signal_name (SIGSYS), "SYS");
  /* aliases name the canonical signal */
  assert_string_equal (signal_name (SIGABRT), "ABRT");
  assert_string_equal (signal_name (SIGIO), "IO");
  assert_null (signal_name (0));
  assert_null (signal_name (-1));
  assert_null (signal_name (65));
}

static void
test_name_round_trip (void **state)
{
  int sig;
  for (sig = 1; sig < SIGRTMIN; sig++)
    {
      const char *n = signal_name (sig);
      char buf[32];
      if (n == NULL)
        continue;
      assert_int_equal (signal_parse (n), sig);
      snprintf (buf, sizeof (buf), "SIG%s", n);
      assert_int_equal (signal_parse (buf), sig);
    }
  /* every standard signal except the glibc-reserved 32/33 has a name */
  for (sig = 1; sig < 32; sig++)
    assert_non_null (signal_name (sig));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_plain_names),
    cmocka_unit_test (test_parse_sig_prefix),
    cmocka_unit_test (test_parse_case_insensitive),
    cmocka_unit_test (test_parse_numbers),
    cmocka_unit_test (test_parse_realtime),
    cmocka_unit_test (test_parse_realtime_bad),
    cmocka_unit_test (test_parse_bad_names),
    cmocka_unit_test (test_name),
    cmocka_unit_test (test_name_round_trip),
  };
  return cmocka_run_group_tests_name ("signals", tests, NULL, NULL);
}
