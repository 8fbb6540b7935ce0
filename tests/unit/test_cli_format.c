/* skiff CLI output: go-units durations and sizes, strconv.Quote, ellipsis,
   text/tabwriter tables, the --format engine, inspect's JSON.  Expected
   strings are what the docker 20.10 CLI prints.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "format.h"
#include "json.h"

static void
check_str (char *got, const char *want)
{
  assert_non_null (got);
  assert_string_equal (got, want);
  free (got);
}

static void
test_human_duration (void **state)
{
  check_str (format_human_duration (0), "Less than a second");
  check_str (format_human_duration (0.9), "Less than a second");
  check_str (format_human_duration (1), "1 second");
  check_str (format_human_duration (2), "2 seconds");
  check_str (format_human_duration (59.9), "59 seconds");
  check_str (format_human_duration (60), "About a minute");
  check_str (format_human_duration (119), "About a minute");
  check_str (format_human_duration (120), "2 minutes");
  check_str (format_human_duration (3599), "59 minutes");
  check_str (format_human_duration (3600), "About an hour");
  check_str (format_human_duration (5399), "About an hour");
  check_str (format_human_duration (5400), "2 hours");
  check_str (format_human_duration (47 * 3600), "47 hours");
  check_str (format_human_duration (48 * 3600), "2 days");
  check_str (format_human_duration (13 * 86400), "13 days");
  check_str (format_human_duration (14 * 86400), "2 weeks");
  check_str (format_human_duration (59 * 86400), "8 weeks");
  check_str (format_human_duration (60 * 86400), "2 months");
  check_str (format_human_duration (729 * 86400), "24 months");
  check_str (format_human_duration (730 * 86400), "2 years");
  check_str (format_human_duration (-5), "Less than a second");
}

static void
test_human_size (void **state)
{
  check_str (format_human_size (0, 3), "0B");
  check_str (format_human_size (999, 3), "999B");
  check_str (format_human_size (1000, 3), "1kB");
  check_str (format_human_size (1240000, 3), "1.24MB");
  check_str (format_human_size (1986048, 3), "1.99MB");
  check_str (format_human_size (1986048, 4), "1.986MB");
  check_str (format_human_size (5577000, 3), "5.58MB");
  check_str (format_human_size (123456789012.0, 3), "123GB");
  check_str (format_human_size (999999, 3), "1e+03kB");
  check_str (format_bytes_size (1024), "1KiB");
  check_str (format_bytes_size (25276321792.0), "23.54GiB");
}

static void
test_quote_and_ellipsis (void **state)
{
  check_str (format_go_quote ("sleep 1000"), "\"sleep 1000\"");
  check_str (format_go_quote ("a\"b\\c\n\t\x01\x7f"), "\"a\\\"b\\\\c\\n\\t\\x01\\x7f\"");
  check_str (format_go_quote ("h\xc3\xa9llo \xe2\x80\xa6"), "\"h\xc3\xa9llo \xe2\x80\xa6\"");
  check_str (format_go_quote ("bad\xff"), "\"bad\\xff\"");
  check_str (format_go_quote ("\xc2\x85"), "\"\\u0085\"");

  check_str (format_ellipsis ("sh -c 'i=0; while [ $i -lt 5 ]", 20), "sh -c 'i=0; while [\xe2\x80\xa6");
  check_str (format_ellipsis ("12345678901234567890", 20), "12345678901234567890");
  check_str (format_ellipsis ("123456789012345678901", 20), "1234567890123456789\xe2\x80\xa6");
  check_str (format_ellipsis ("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\xe2\x80\xa6");
  check_str (format_ellipsis ("abc", 0), "");

  check_str (format_trunc_id ("sha256:5d92b73c301ab99ba3c456ebde6f3fbaa420d1026eb1b98bf08e4cf8991b31c6"),
             "5d92b73c301a");
  check_str (format_trunc_id ("3652ecf2e85bba17702104e1328f6ffe"), "3652ecf2e85b");
  check_str (format_trunc_id ("abc"), "abc");
}

static char *
flush_to_string (struct tabwriter *tw)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);
  assert_non_null (f);
  assert_int_equal (tabwriter_flush (tw, f), 0);
  fclose (f);
  return buf;
}

static void
test_tabwriter (void **state)
{
  struct tabwriter tw;
  const char *text = "NAMES\tCONTAINER ID\nthirsty_robinson\t371d41a1e354\n\xc3\xa9\tx\n";

  /* docker's table writer: minwidth 10, padding 3; the last cell of a
     line is not padded; widths count characters, not bytes.  */
  tabwriter_init (&tw, 10, 3);
  assert_int_equal (tabwriter_write (&tw, text, strlen (text)), 0);
  check_str (flush_to_string (&tw), "NAMES              CONTAINER ID\n"
                                    "thirsty_robinson   371d41a1e354\n"
                                    "\xc3\xa9                  x\n");
  tabwriter_release (&tw);

  /* docker top: minwidth 20.  */
  tabwriter_init (&tw, 20, 3);
  tabwriter_write (&tw, "UID\tPID\nroot\t1\n", 16);
  check_str (flush_to_string (&tw), "UID                 PID\nroot                1\n");
  tabwriter_release (&tw);
}

static yajl_val
parse (const char *text)
{
  skiff_error_t err = NULL;
  yajl_val v = NULL;
  if (json_parse (text, &v, &err) < 0)
    fail_msg ("%s", err->msg);
  return v;
}

static const struct format_header headers[] = {
  { "ID", "CONTAINER ID" }, { "Names", "NAMES" }, { "Status", "STATUS" }, { "Ports", "PORTS" }, { NULL, NULL },
};

static char *
run_formatter (const char *format, const char **rows, size_t nrows, bool strict, int *ret)
{
  struct formatter f;
  skiff_error_t err = NULL;
  char *buf = NULL;
  size_t len = 0, i;
  FILE *out = open_memstream (&buf, &len);

  assert_non_null (out);
  *ret = formatter_init (&f, format, "table {{.ID}}\t{{.Ports}}\t{{.Names}}", headers, strict, out, &err);
  for (i = 0; *ret == 0 && i < nrows; i++)
    {
      cleanup_json yajl_val row = parse (rows[i]);
      *ret = formatter_row (&f, row, &err);
    }
  if (*ret == 0)
    *ret = formatter_finish (&f, &err);
  if (err)
    {
      fprintf (out, "ERR:%s", err->msg);
      skiff_error_release (&err);
    }
  formatter_release (&f);
  fclose (out);
  return buf;
}

static void
test_formatter (void **state)
{
  const char *rows[] = {
    "{\"ID\":\"3652ecf2e85b\",\"Names\":\"bg\",\"Ports\":\"\",\"Status\":\"Up 3 seconds\"}",
    "{\"ID\":\"d82c5c903011\",\"Names\":\"c1\",\"Ports\":\"80/tcp\",\"Status\":\"Created\"}",
  };
  int ret;

  /* Default table, header even without rows.  */
  check_str (run_formatter ("", rows, 2, true, &ret), "CONTAINER ID   PORTS     NAMES\n"
                                                       "3652ecf2e85b             bg\n"
                                                       "d82c5c903011   80/tcp    c1\n");
  assert_int_equal (ret, 0);
  check_str (run_formatter ("table", rows, 0, true, &ret), "CONTAINER ID   PORTS     NAMES\n");
  /* A custom table with an escaped tab; a plain template per line.  */
  check_str (run_formatter ("table {{.Names}}\\t{{.Status}}", rows, 2, true, &ret),
             "NAMES     STATUS\nbg        Up 3 seconds\nc1        Created\n");
  check_str (run_formatter ("{{.Names}}: {{.Status}}", rows, 2, true, &ret), "bg: Up 3 seconds\nc1: Created\n");
  check_str (run_formatter ("{{upper .Names}}|{{lower .Status}}|{{json .Names}}", rows, 1, true, &ret),
             "BG|up 3 seconds|\"bg\"\n");
  /* {{json .}} and the "json" shortcut.  */
  check_str (run_formatter ("json", rows, 1, true, &ret),
             "{\"ID\":\"3652ecf2e85b\",\"Names\":\"bg\",\"Ports\":\"\",\"Status\":\"Up 3 seconds\"}\n");
  /* Unknown fields are an error on a fixed context.  */
  check_str (run_formatter ("{{.Nope}}", rows, 1, true, &ret),
             "ERR:template: :1: executing \"\" at <.Nope>: can't evaluate field Nope");
  assert_int_equal (ret, -1);
  check_str (run_formatter ("{{.Names", rows, 1, true, &ret),
             "ERR:template parsing error: unclosed action in `{{.Names`");
  check_str (run_formatter ("{{foo .Names}}", rows, 1, true, &ret),
             "ERR:template parsing error: unsupported action `{{foo .Names}}`");
}

static void
test_render_inspect (void **state)
{
  cleanup_json yajl_val v = parse ("{\"State\":{\"Status\":\"running\",\"Running\":true,\"Pid\":42},"
                                   "\"Config\":{\"Cmd\":[\"sh\",\"-c\",\"a >&2\"],\"Labels\":{\"b\":\"2\",\"a\":\"1\"},"
                                   "\"Env\":null}}");
  skiff_error_t err = NULL;
  char *out = NULL;

  assert_int_equal (format_render ("{{.State.Status}} {{.State.Running}} {{.State.Pid}}", v, false, &out, &err), 0);
  check_str (out, "running true 42");
  assert_int_equal (format_render ("{{.Config.Cmd}}|{{json .Config.Cmd}}|{{.Config.Labels}}", v, false, &out, &err), 0);
  check_str (out, "[sh -c a >&2]|[\"sh\",\"-c\",\"a >&2\"]|map[a:1 b:2]");
  assert_int_equal (format_render ("{{index .Config.Labels \"a\"}}{{index .Config.Labels \"zz\"}}|{{.Nope}}|{{.Config.Env}}",
                                   v, false, &out, &err),
                    0);
  check_str (out, "1|<no value>|<nil>");
  assert_int_equal (format_render ("{{ .State.Pid }}\\n", v, false, &out, &err), 0);
  check_str (out, "42\n");
}

static void
test_json_indent (void **state)
{
  cleanup_json yajl_val v = parse ("[{\"Id\":\"x\",\"A\":[],\"O\":{},\"N\":null,\"B\":true,\"L\":[1,\"<&>\"]}]");
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&buf, &len);

  format_json_indent (f, v, "    ", 0);
  fputc ('|', f);
  format_json_compact (f, json_get (v->u.array.values[0], "L"), true);
  fclose (f);
  check_str (buf, "[\n    {\n        \"Id\": \"x\",\n        \"A\": [],\n        \"O\": {},\n        \"N\": null,\n"
                  "        \"B\": true,\n        \"L\": [\n            1,\n            \"<&>\"\n        ]\n    }\n]"
                  "|[1,\"\\u003c\\u0026\\u003e\"]");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_human_duration),  cmocka_unit_test (test_human_size),
    cmocka_unit_test (test_quote_and_ellipsis), cmocka_unit_test (test_tabwriter),
    cmocka_unit_test (test_formatter),       cmocka_unit_test (test_render_inspect),
    cmocka_unit_test (test_json_indent),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
