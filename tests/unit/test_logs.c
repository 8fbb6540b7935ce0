/* Tests of the pure parts of daemon/logs.c: json-file lines, times,
   multiplexed frames and tail selection.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "logs.h"

static void
test_parse_line_stdout (void **state)
{
  const char *line = "{\"log\":\"hello \\u003cworld\\u003e\\n\",\"stream\":\"stdout\","
                     "\"time\":\"2024-01-02T03:04:05.123456789Z\"}\n";
  struct logs_entry e;
  skiff_error_t err = NULL;

  assert_int_equal (logs_parse_line (line, strlen (line), &e, &err), 0);
  assert_null (err);
  assert_int_equal (e.log_len, strlen ("hello <world>\n"));
  assert_memory_equal (e.log, "hello <world>\n", e.log_len);
  assert_int_equal (e.stream, LOGS_STDOUT);
  /* date -u -d 2024-01-02T03:04:05Z +%s = 1704164645 */
  assert_true (e.time_ns == INT64_C (1704164645123456789));
  logs_entry_clear (&e);
}

static void
test_parse_line_binary_and_extra_keys (void **state)
{
  /* A NUL byte and U+FFFD in the text, keys in another order, and keys
     the reader does not know (including an object).  */
  const char *line = "{\"stream\":\"stderr\",\"attrs\":{\"log\":\"no\"},\"log\":\"a\\u0000b\\ufffd\","
                     "\"time\":\"2024-01-02T03:04:05Z\",\"n\":[1,true,null]}";
  struct logs_entry e;
  skiff_error_t err = NULL;

  assert_int_equal (logs_parse_line (line, strlen (line), &e, &err), 0);
  assert_int_equal (e.stream, LOGS_STDERR);
  assert_int_equal (e.log_len, 6);
  assert_memory_equal (e.log, "a\0b\xef\xbf\xbd", 6);
  assert_true (e.time_ns == INT64_C (1704164645000000000));
  logs_entry_clear (&e);
}

static void
expect_bad_line (const char *line)
{
  struct logs_entry e;
  skiff_error_t err = NULL;

  assert_true (logs_parse_line (line, strlen (line), &e, &err) < 0);
  assert_non_null (err);
  assert_null (e.log);
  skiff_error_release (&err);
}

static void
test_parse_line_errors (void **state)
{
  expect_bad_line ("{\"log\":\"x\",\"stream\":\"stdout\"}");                                /* no time */
  expect_bad_line ("{\"log\":\"x\",\"time\":\"2024-01-02T03:04:05Z\"}");                    /* no stream */
  expect_bad_line ("{\"log\":\"x\",\"stream\":\"stdin\",\"time\":\"2024-01-02T03:04:05Z\"}"); /* bad stream */
  expect_bad_line ("{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"yesterday\"}");           /* bad time */
  expect_bad_line ("{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05Z\""); /* cut */
  expect_bad_line ("");
}

static void
test_rfc3339 (void **state)
{
  int64_t ns = 0;

  assert_int_equal (logs_parse_rfc3339 ("1970-01-01T00:00:00Z", 20, &ns), 0);
  assert_true (ns == 0);
  assert_int_equal (logs_parse_rfc3339 ("2024-01-02T03:04:05.5Z", 22, &ns), 0);
  assert_true (ns == INT64_C (1704164645500000000));
  /* An offset: 05:04:05+02:00 is 03:04:05Z.  */
  assert_int_equal (logs_parse_rfc3339 ("2024-01-02T05:04:05.000000001+02:00", 35, &ns), 0);
  assert_true (ns == INT64_C (1704164645000000001));
  assert_int_equal (logs_parse_rfc3339 ("2024-01-02T01:04:05-02:00", 25, &ns), 0);
  assert_true (ns == INT64_C (1704164645000000000));

  assert_int_equal (logs_parse_rfc3339 ("2024-01-02 03:04:05Z", 20, &ns), -1);
  assert_int_equal (logs_parse_rfc3339 ("2024-01-02T03:04:05", 19, &ns), -1);
  assert_int_equal (logs_parse_rfc3339 ("2024-01-02T03:04:05.Z", 21, &ns), -1);
  assert_int_equal (logs_parse_rfc3339 ("2024-13-02T03:04:05Z", 20, &ns), -1);
  assert_int_equal (logs_parse_rfc3339 ("2024-01-02T03:04:05Zjunk", 24, &ns), -1);
}

static void
test_unix_time (void **state)
{
  int64_t ns = 0;

  assert_int_equal (logs_parse_unix_time ("1704164645", &ns), 0);
  assert_true (ns == INT64_C (1704164645000000000));
  assert_int_equal (logs_parse_unix_time ("1704164645.5", &ns), 0);
  assert_true (ns == INT64_C (1704164645500000000));
  assert_int_equal (logs_parse_unix_time ("1704164645.000000001", &ns), 0);
  assert_true (ns == INT64_C (1704164645000000001));
  assert_int_equal (logs_parse_unix_time ("0", &ns), 0);
  assert_true (ns == 0);

  assert_int_equal (logs_parse_unix_time ("", &ns), -1);
  assert_int_equal (logs_parse_unix_time ("abc", &ns), -1);
  assert_int_equal (logs_parse_unix_time ("12.", &ns), -1);
  assert_int_equal (logs_parse_unix_time ("12.3x", &ns), -1);
  assert_int_equal (logs_parse_unix_time ("12x", &ns), -1);
}

static void
test_format_time (void **state)
{
  char buf[LOGS_TIME_LEN];

  logs_format_time (INT64_C (1704164645123456789), buf);
  assert_string_equal (buf, "2024-01-02T03:04:05.123456789Z");
  /* Always nine digits, as Docker's RFC3339NanoFixed.  */
  logs_format_time (INT64_C (1704164645000000000), buf);
  assert_string_equal (buf, "2024-01-02T03:04:05.000000000Z");
  logs_format_time (INT64_C (1704164645100000000), buf);
  assert_string_equal (buf, "2024-01-02T03:04:05.100000000Z");
}

static void
test_frame_header (void **state)
{
  unsigned char hdr[8];

  logs_frame_header (hdr, LOGS_STDERR, 0x01020304);
  assert_memory_equal (hdr, "\x02\x00\x00\x00\x01\x02\x03\x04", 8);
  logs_frame_header (hdr, LOGS_STDOUT, 5);
  assert_memory_equal (hdr, "\x01\x00\x00\x00\x00\x00\x00\x05", 8);
}

static void
test_render (void **state)
{
  struct logs_entry e = { .log = (char *) "hi\n", .log_len = 3, .stream = LOGS_STDERR,
                          .time_ns = INT64_C (1704164645000000042) };
  const char *ts = "2024-01-02T03:04:05.000000042Z ";
  char *buf = NULL, expect[64];
  size_t len = 0, cap = 0;

  /* Raw (tty), no timestamps: the bytes as they are.  */
  assert_int_equal (logs_render (&e, false, false, &buf, &len, &cap), 0);
  assert_int_equal (len, 3);
  assert_memory_equal (buf, "hi\n", 3);

  /* Appends: a multiplexed frame with the timestamp inside its payload.  */
  assert_int_equal (logs_render (&e, true, true, &buf, &len, &cap), 0);
  assert_int_equal (len, 3 + 8 + strlen (ts) + 3);
  memcpy (expect, "\x02\x00\x00\x00\x00\x00\x00\x22", 8);
  memcpy (expect + 8, ts, strlen (ts));
  memcpy (expect + 8 + strlen (ts), "hi\n", 3);
  assert_int_equal (0x22, strlen (ts) + 3);
  assert_memory_equal (buf + 3, expect, len - 3);

  /* Raw with timestamps.  */
  len = 0;
  assert_int_equal (logs_render (&e, true, false, &buf, &len, &cap), 0);
  assert_int_equal (len, strlen (ts) + 3);
  assert_memory_equal (buf, ts, strlen (ts));
  free (buf);
}

/* Runs the scan over text split in blocks of blk bytes from the end, as
   logs.c reads a file backwards; returns the tail's start offset.  */
static size_t
tail_start (const char *text, size_t blk, long lines)
{
  size_t pos = strlen (text), newlines = (size_t) lines + 1;
  while (pos > 0)
    {
      size_t start = pos > blk ? pos - blk : 0;
      ssize_t at = logs_tail_scan (text + start, pos - start, &newlines);
      if (at >= 0)
        return start + (size_t) at;
      pos = start;
    }
  return 0;
}

static void
test_tail_scan (void **state)
{
  const char *text = "one\ntwo\nthree\nfour\n";
  size_t blk;

  for (blk = 1; blk <= 32; blk++)
    {
      assert_int_equal (tail_start (text, blk, 0), strlen (text));
      assert_int_equal (tail_start (text, blk, 1), strlen ("one\ntwo\nthree\n"));
      assert_int_equal (tail_start (text, blk, 2), strlen ("one\ntwo\n"));
      assert_int_equal (tail_start (text, blk, 4), 0);
      assert_int_equal (tail_start (text, blk, 100), 0);
    }
}

static void
test_tail_scan_counts_across_calls (void **state)
{
  size_t newlines = 3;

  assert_int_equal (logs_tail_scan ("a\nb\n", 4, &newlines), -1);
  assert_int_equal (newlines, 1);
  assert_int_equal (logs_tail_scan ("xx\nyy", 5, &newlines), 3);
  assert_int_equal (newlines, 0);
  newlines = 0;
  assert_int_equal (logs_tail_scan ("abc", 3, &newlines), 3);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_line_stdout),
    cmocka_unit_test (test_parse_line_binary_and_extra_keys),
    cmocka_unit_test (test_parse_line_errors),
    cmocka_unit_test (test_rfc3339),
    cmocka_unit_test (test_unix_time),
    cmocka_unit_test (test_format_time),
    cmocka_unit_test (test_frame_header),
    cmocka_unit_test (test_render),
    cmocka_unit_test (test_tail_scan),
    cmocka_unit_test (test_tail_scan_counts_across_calls),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
