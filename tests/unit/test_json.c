#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "json.h"

/* Parses text, failing the test on error.  */
static yajl_val
parse_ok (const char *text)
{
  skiff_error_t err = NULL;
  yajl_val v = NULL;
  int ret = json_parse (text, &v, &err);
  if (ret < 0)
    fail_msg ("json_parse(%s): %s", text, err ? err->msg : "?");
  assert_null (err);
  assert_non_null (v);
  return v;
}

/* Asserts that err holds exactly the message want, then releases it.  */
static void
assert_err_msg (skiff_error_t *err, const char *want)
{
  assert_non_null (*err);
  assert_non_null ((*err)->msg);
  assert_string_equal ((*err)->msg, want);
  skiff_error_release (err);
  assert_null (*err);
}

/* ---- parsing ---- */

static void
test_parse_ok (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"a\": 1, \"b\": [true, null], \"c\": {\"d\": \"e\"}}");

  assert_true (YAJL_IS_OBJECT (v));
  assert_int_equal (v->u.object.len, 3);
  assert_true (YAJL_IS_INTEGER (json_get (v, "a")));
  assert_true (YAJL_IS_ARRAY (json_get (v, "b")));
  assert_string_equal (YAJL_GET_STRING (json_get (json_get (v, "c"), "d")), "e");
}

static void
test_parse_errors (void **state)
{
  static const char *const bad[] = {
    "", "{", "}", "{\"a\": }", "[1, 2,", "{\"a\" 1}", "{'a': 1}", "nul", "{\"a\": 1}}", "[1 2]",
  };
  size_t i;

  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      skiff_error_t err = NULL;
      yajl_val v = NULL;
      assert_int_equal (json_parse (bad[i], &v, &err), -1);
      assert_null (v);
      assert_non_null (err);
      assert_non_null (err->msg);
      /* "invalid JSON: <yajl's reason>", on one line */
      if (strncmp (err->msg, "invalid JSON: ", 14) != 0)
        fail_msg ("input `%s`: unexpected message `%s`", bad[i], err->msg);
      assert_true (strlen (err->msg) > 14);
      assert_null (strchr (err->msg, '\n'));
      assert_int_equal (err->errno_, 0);
      skiff_error_release (&err);
    }
}

static void
test_parse_file (void **state)
{
  char dir[] = "/tmp/skiff-test-json-XXXXXX";
  char path[256], missing[256];
  skiff_error_t err = NULL;
  yajl_val v = NULL;
  FILE *f;

  assert_non_null (mkdtemp (dir));
  snprintf (path, sizeof (path), "%s/doc.json", dir);
  snprintf (missing, sizeof (missing), "%s/missing.json", dir);

  f = fopen (path, "w");
  assert_non_null (f);
  fputs ("{\"k\": \"v\"}", f);
  fclose (f);
  assert_int_equal (json_parse_file (path, &v, &err), 0);
  assert_null (err);
  assert_string_equal (YAJL_GET_STRING (json_get (v, "k")), "v");
  yajl_tree_free (v);
  v = NULL;

  /* a missing file names the file and the system error */
  assert_int_equal (json_parse_file (missing, &v, &err), -1);
  assert_null (v);
  assert_non_null (err);
  assert_int_equal (err->errno_, ENOENT);
  assert_non_null (strstr (err->msg, missing));
  assert_non_null (strstr (err->msg, strerror (ENOENT)));
  skiff_error_release (&err);

  /* bad content names the file and says why */
  f = fopen (path, "w");
  assert_non_null (f);
  fputs ("{\"k\": ", f);
  fclose (f);
  assert_int_equal (json_parse_file (path, &v, &err), -1);
  assert_null (v);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, path));
  assert_non_null (strstr (err->msg, "invalid JSON"));
  skiff_error_release (&err);

  assert_int_equal (unlink (path), 0);
  assert_int_equal (rmdir (dir), 0);
}

/* ---- json_get ---- */

static void
test_get (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"a\": 1, \"b\": null, \"arr\": [{\"a\": 2}]}");
  yajl_val arr = json_get (v, "arr");

  assert_non_null (json_get (v, "a"));
  assert_true (YAJL_IS_NULL (json_get (v, "b")));
  assert_null (json_get (v, "missing"));
  assert_null (json_get (v, "A"));
  assert_null (json_get (NULL, "a"));
  /* not an object */
  assert_null (json_get (arr, "a"));
  assert_null (json_get (json_get (v, "a"), "a"));
}

/* ---- typed getters ---- */

static void
test_get_string (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"s\": \"hello\", \"e\": \"\", \"n\": null, \"i\": 5, \"o\": {}}");
  skiff_error_t err = NULL;
  char *out = strdup ("keep");

  /* missing key and null leave the value untouched */
  assert_int_equal (json_get_string (v, "missing", "x.missing", &out, &err), 0);
  assert_string_equal (out, "keep");
  assert_int_equal (json_get_string (v, "n", "x.n", &out, &err), 0);
  assert_string_equal (out, "keep");
  assert_null (err);

  /* wrong type: error naming the field, value untouched */
  assert_int_equal (json_get_string (v, "i", "x.i", &out, &err), -1);
  assert_err_msg (&err, "invalid field `x.i`: expected a string");
  assert_string_equal (out, "keep");
  assert_int_equal (json_get_string (v, "o", "x.o", &out, &err), -1);
  assert_err_msg (&err, "invalid field `x.o`: expected a string");

  /* present: replaces the old value (freed: checked under valgrind) */
  assert_int_equal (json_get_string (v, "s", "x.s", &out, &err), 0);
  assert_string_equal (out, "hello");
  assert_int_equal (json_get_string (v, "e", "x.e", &out, &err), 0);
  assert_string_equal (out, "");
  assert_null (err);
  free (out);
}

static void
test_get_string_req (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"s\": \"hello\", \"n\": null, \"b\": true}");
  skiff_error_t err = NULL;
  char *out = NULL;

  assert_int_equal (json_get_string_req (v, "s", "root.s", &out, &err), 0);
  assert_string_equal (out, "hello");
  assert_null (err);

  assert_int_equal (json_get_string_req (v, "missing", "root.missing", &out, &err), -1);
  assert_err_msg (&err, "missing field `root.missing`");
  assert_int_equal (json_get_string_req (v, "n", "root.n", &out, &err), -1);
  assert_err_msg (&err, "missing field `root.n`");
  assert_int_equal (json_get_string_req (v, "b", "root.b", &out, &err), -1);
  assert_err_msg (&err, "invalid field `root.b`: expected a string");
  assert_string_equal (out, "hello");
  free (out);
}

static void
test_get_bool (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"t\": true, \"f\": false, \"n\": null, \"s\": \"true\", \"i\": 1}");
  skiff_error_t err = NULL;
  bool b;

  b = true;
  assert_int_equal (json_get_bool (v, "f", "x.f", &b, &err), 0);
  assert_false (b);
  assert_int_equal (json_get_bool (v, "t", "x.t", &b, &err), 0);
  assert_true (b);
  /* missing and null leave it */
  assert_int_equal (json_get_bool (v, "missing", "x.missing", &b, &err), 0);
  assert_true (b);
  b = false;
  assert_int_equal (json_get_bool (v, "n", "x.n", &b, &err), 0);
  assert_false (b);
  assert_null (err);

  assert_int_equal (json_get_bool (v, "s", "x.s", &b, &err), -1);
  assert_err_msg (&err, "invalid field `x.s`: expected a boolean");
  assert_int_equal (json_get_bool (v, "i", "x.i", &b, &err), -1);
  assert_err_msg (&err, "invalid field `x.i`: expected a boolean");
  assert_false (b);
}

static void
test_get_int64 (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"pos\": 42, \"neg\": -7, \"zero\": 0,"
                                      " \"max\": 9223372036854775807, \"min\": -9223372036854775807,"
                                      " \"over\": 9223372036854775808, \"float\": 1.5, \"exp\": 1e3,"
                                      " \"s\": \"1\", \"n\": null}");
  skiff_error_t err = NULL;
  int64_t i = 99;
  bool present = true;

  assert_int_equal (json_get_int64 (v, "missing", "x.missing", &i, &present, &err), 0);
  assert_int_equal (i, 99);
  assert_false (present);
  present = true;
  assert_int_equal (json_get_int64 (v, "n", "x.n", &i, &present, &err), 0);
  assert_int_equal (i, 99);
  assert_false (present);

  assert_int_equal (json_get_int64 (v, "pos", "x.pos", &i, &present, &err), 0);
  assert_int_equal (i, 42);
  assert_true (present);
  assert_int_equal (json_get_int64 (v, "neg", "x.neg", &i, &present, &err), 0);
  assert_true (i == -7);
  assert_int_equal (json_get_int64 (v, "zero", "x.zero", &i, NULL, &err), 0);
  assert_true (i == 0);
  assert_int_equal (json_get_int64 (v, "max", "x.max", &i, NULL, &err), 0);
  assert_true (i == INT64_MAX);
  assert_int_equal (json_get_int64 (v, "min", "x.min", &i, NULL, &err), 0);
  /* yajl's integer parser stops one short of INT64_MIN */
  assert_true (i == -INT64_MAX);
  assert_null (err);

  i = 5;
  assert_int_equal (json_get_int64 (v, "over", "x.over", &i, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.over`: expected an integer");
  assert_int_equal (json_get_int64 (v, "float", "x.float", &i, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.float`: expected an integer");
  assert_int_equal (json_get_int64 (v, "exp", "x.exp", &i, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.exp`: expected an integer");
  assert_int_equal (json_get_int64 (v, "s", "x.s", &i, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.s`: expected an integer");
  assert_true (i == 5);
}

static void
test_get_uint64 (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"zero\": 0, \"small\": 1024, \"big\": 9223372036854775808,"
                                      " \"max\": 18446744073709551615, \"over\": 18446744073709551616,"
                                      " \"neg\": -1, \"negzero\": -0, \"float\": 2.5, \"exp\": 1e3,"
                                      " \"s\": \"5\", \"b\": false, \"n\": null}");
  skiff_error_t err = NULL;
  uint64_t u = 7;
  bool present = true;

  assert_int_equal (json_get_uint64 (v, "missing", "x.missing", &u, &present, &err), 0);
  assert_true (u == 7);
  assert_false (present);
  present = true;
  assert_int_equal (json_get_uint64 (v, "n", "x.n", &u, &present, &err), 0);
  assert_true (u == 7);
  assert_false (present);

  assert_int_equal (json_get_uint64 (v, "zero", "x.zero", &u, &present, &err), 0);
  assert_true (u == 0);
  assert_true (present);
  assert_int_equal (json_get_uint64 (v, "small", "x.small", &u, NULL, &err), 0);
  assert_true (u == 1024);
  /* above INT64_MAX: yajl cannot hold it as an integer */
  assert_int_equal (json_get_uint64 (v, "big", "x.big", &u, NULL, &err), 0);
  assert_true (u == UINT64_C (9223372036854775808));
  assert_int_equal (json_get_uint64 (v, "max", "x.max", &u, NULL, &err), 0);
  assert_true (u == UINT64_MAX);
  assert_null (err);

  u = 3;
  present = false;
  assert_int_equal (json_get_uint64 (v, "over", "x.over", &u, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.over`: expected a non-negative integer");
  assert_int_equal (json_get_uint64 (v, "neg", "lim.neg", &u, &present, &err), -1);
  assert_err_msg (&err, "invalid field `lim.neg`: expected a non-negative integer");
  assert_false (present);
  assert_int_equal (json_get_uint64 (v, "negzero", "x.negzero", &u, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.negzero`: expected a non-negative integer");
  assert_int_equal (json_get_uint64 (v, "float", "x.float", &u, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.float`: expected a non-negative integer");
  assert_int_equal (json_get_uint64 (v, "exp", "x.exp", &u, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.exp`: expected a non-negative integer");
  assert_int_equal (json_get_uint64 (v, "s", "x.s", &u, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.s`: expected a non-negative integer");
  assert_int_equal (json_get_uint64 (v, "b", "x.b", &u, NULL, &err), -1);
  assert_err_msg (&err, "invalid field `x.b`: expected a non-negative integer");
  assert_true (u == 3);
}

static void
test_get_strv (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"args\": [\"sh\", \"-c\", \"echo hi\"], \"empty\": [],"
                                      " \"mixed\": [\"a\", 1, \"c\"], \"str\": \"sh\", \"n\": null}");
  skiff_error_t err = NULL;
  cleanup_strv char **out = NULL;
  char **keep;
  size_t n = 99;

  /* missing / null: untouched */
  assert_int_equal (json_get_strv (v, "missing", "p.missing", &out, &n, &err), 0);
  assert_null (out);
  assert_int_equal (n, 99);
  assert_int_equal (json_get_strv (v, "n", "p.n", &out, &n, &err), 0);
  assert_null (out);

  assert_int_equal (json_get_strv (v, "args", "process.args", &out, &n, &err), 0);
  assert_null (err);
  assert_int_equal (n, 3);
  assert_string_equal (out[0], "sh");
  assert_string_equal (out[1], "-c");
  assert_string_equal (out[2], "echo hi");
  assert_null (out[3]);

  /* a missing key keeps the existing vector */
  keep = out;
  assert_int_equal (json_get_strv (v, "missing", "p.missing", &out, &n, &err), 0);
  assert_ptr_equal (out, keep);
  assert_int_equal (n, 3);

  /* empty array: an empty, NULL-terminated vector (replaces the old one) */
  assert_int_equal (json_get_strv (v, "empty", "p.empty", &out, NULL, &err), 0);
  assert_non_null (out);
  assert_null (out[0]);
  assert_int_equal (json_get_strv (v, "empty", "p.empty", &out, &n, &err), 0);
  assert_int_equal (n, 0);

  /* bad element: names the index; out is left alone */
  keep = out;
  assert_int_equal (json_get_strv (v, "mixed", "process.env", &out, &n, &err), -1);
  assert_err_msg (&err, "invalid field `process.env[1]`: expected a string");
  assert_ptr_equal (out, keep);
  assert_int_equal (n, 0);

  /* not an array */
  assert_int_equal (json_get_strv (v, "str", "process.args", &out, &n, &err), -1);
  assert_err_msg (&err, "invalid field `process.args`: expected an array");
  assert_ptr_equal (out, keep);
}

static void
test_get_array_object (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"a\": [1], \"o\": {\"k\": 1}, \"s\": \"x\", \"n\": null}");
  skiff_error_t err = NULL;
  yajl_val out = v;

  assert_int_equal (json_get_array (v, "a", "x.a", &out, &err), 0);
  assert_non_null (out);
  assert_true (YAJL_IS_ARRAY (out));
  assert_int_equal (out->u.array.len, 1);
  assert_int_equal (json_get_array (v, "missing", "x.missing", &out, &err), 0);
  assert_null (out);
  out = v;
  assert_int_equal (json_get_array (v, "n", "x.n", &out, &err), 0);
  assert_null (out);
  assert_int_equal (json_get_array (v, "o", "x.o", &out, &err), -1);
  assert_err_msg (&err, "invalid field `x.o`: expected an array");
  assert_int_equal (json_get_array (v, "s", "x.s", &out, &err), -1);
  assert_err_msg (&err, "invalid field `x.s`: expected an array");

  assert_int_equal (json_get_object (v, "o", "x.o", &out, &err), 0);
  assert_non_null (out);
  assert_true (YAJL_IS_OBJECT (out));
  assert_non_null (json_get (out, "k"));
  out = v;
  assert_int_equal (json_get_object (v, "missing", "x.missing", &out, &err), 0);
  assert_null (out);
  assert_int_equal (json_get_object (v, "a", "linux.resources", &out, &err), -1);
  assert_err_msg (&err, "invalid field `linux.resources`: expected an object");
  assert_null (out);
}

static void
test_first_error_kept (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"i\": 1}");
  skiff_error_t err = NULL;
  char *s = NULL;
  bool b = false;

  assert_int_equal (json_get_string (v, "i", "first", &s, &err), -1);
  assert_int_equal (json_get_bool (v, "i", "second", &b, &err), -1);
  assert_err_msg (&err, "invalid field `first`: expected a string");
}

/* ---- generator ---- */

static char *
gen_text (yajl_val v, bool pretty)
{
  cleanup_gen yajl_gen g = json_gen_new (pretty);
  size_t len = 0;
  char *s;

  assert_non_null (g);
  json_gen_value (g, v);
  s = json_gen_steal (g, &len);
  assert_non_null (s);
  assert_int_equal (len, strlen (s));
  return s;
}

static void
test_gen_round_trip_exact (void **state)
{
  static const char *const docs[] = {
    "{\"a\":[1,-2,3.5,\"x\",true,false,null,{},[]],\"b\":{\"c\":18446744073709551615,\"d\":\"\"}}",
    "[]",
    "{}",
    "[\"q\\\"uote\",\"back\\\\slash\",\"nl\\n\",1e3,-0.25]",
    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"user\":{\"uid\":0}}}",
  };
  size_t i;

  for (i = 0; i < sizeof (docs) / sizeof (docs[0]); i++)
    {
      cleanup_json yajl_val v = parse_ok (docs[i]);
      cleanup_free char *out = gen_text (v, false);
      assert_string_equal (out, docs[i]);
    }
}

static void
test_gen_round_trip_reparse (void **state)
{
  cleanup_json yajl_val v = parse_ok ("{\"k\": [\"tab\\tctl\\u0001\", \"\\u00e9t\\u00e9\", 9223372036854775807],"
                                      " \"nested\": {\"deep\": {\"deeper\": [[[]]]}}}");
  cleanup_free char *pretty = gen_text (v, true);
  cleanup_free char *compact = gen_text (v, false);
  cleanup_json yajl_val w = parse_ok (pretty);
  cleanup_free char *again = gen_text (w, false);
  yajl_val k;

  /* pretty output is indented with tabs, compact output is one line */
  assert_non_null (strstr (pretty, "\n\t"));
  assert_null (strchr (compact, '\n'));
  /* parsing the pretty form gives the same document back */
  assert_string_equal (again, compact);
  k = json_get (w, "k");
  assert_non_null (k);
  assert_string_equal (YAJL_GET_STRING (k->u.array.values[0]), "tab\tctl\001");
  assert_string_equal (YAJL_GET_STRING (k->u.array.values[1]), "\xc3\xa9t\xc3\xa9");
  assert_true (YAJL_GET_INTEGER (k->u.array.values[2]) == INT64_MAX);
}

static void
test_gen_helpers (void **state)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *s = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  size_t len;

  assert_non_null (g);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "id", "c1");
  json_gen_kv_str (g, "none", NULL);
  json_gen_kv_int (g, "pid", 1234);
  json_gen_kv_int (g, "neg", -5);
  json_gen_kv_int (g, "big", 9223372036854775807LL);
  json_gen_kv_bool (g, "yes", true);
  json_gen_kv_bool (g, "no", false);
  json_gen_str (g, "list");
  yajl_gen_array_open (g);
  json_gen_str (g, "a\"b");
  json_gen_str (g, NULL);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  s = json_gen_steal (g, &len);
  assert_non_null (s);
  assert_int_equal (len, strlen (s));
  assert_string_equal (s, "{\"id\":\"c1\",\"none\":null,\"pid\":1234,\"neg\":-5,\"big\":9223372036854775807,"
                          "\"yes\":true,\"no\":false,\"list\":[\"a\\\"b\",null]}");

  assert_int_equal (json_parse (s, &v, &err), 0);
  assert_string_equal (YAJL_GET_STRING (json_get (v, "id")), "c1");
  assert_true (YAJL_IS_TRUE (json_get (v, "yes")));
  assert_true (YAJL_IS_FALSE (json_get (v, "no")));
  assert_true (YAJL_GET_INTEGER (json_get (v, "pid")) == 1234);
}

static void
test_gen_null_value (void **state)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *s = NULL;

  yajl_gen_array_open (g);
  json_gen_value (g, NULL);
  yajl_gen_array_close (g);
  s = json_gen_steal (g, NULL);
  assert_string_equal (s, "[null]");
}

static void
test_object_text (void **state)
{
  yajl_val v = NULL, arr = NULL;
  char *t;
  (void) state;
  assert_int_equal (json_parse ("{\"a\": {\"b\": [1, \"x\"]}}", &v, NULL), 0);
  t = json_object_text (v);
  assert_string_equal (t, "{\"a\":{\"b\":[1,\"x\"]}}");
  free (t);
  t = json_object_text (NULL);
  assert_string_equal (t, "{}");
  free (t);
  /* not an object: the empty one */
  assert_int_equal (json_parse ("[1]", &arr, NULL), 0);
  t = json_object_text (arr);
  assert_string_equal (t, "{}");
  free (t);
  yajl_tree_free (v);
  yajl_tree_free (arr);
}

static void
test_filter_values (void **state)
{
  yajl_val f = NULL;
  (void) state;
  assert_int_equal (json_parse ("{\"a\":{\"x\":true,\"y\":true},\"b\":[\"z\",1]}", &f, NULL), 0);
  assert_int_equal (json_filter_count (json_get (f, "a")), 2);
  assert_string_equal (json_filter_at (json_get (f, "a"), 1), "y");
  assert_int_equal (json_filter_count (json_get (f, "b")), 2);
  assert_string_equal (json_filter_at (json_get (f, "b"), 0), "z");
  assert_string_equal (json_filter_at (json_get (f, "b"), 1), "");
  assert_string_equal (json_filter_at (json_get (f, "b"), 2), "");
  assert_int_equal (json_filter_count (json_get (f, "missing")), 0);
  yajl_tree_free (f);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_ok),
    cmocka_unit_test (test_parse_errors),
    cmocka_unit_test (test_parse_file),
    cmocka_unit_test (test_get),
    cmocka_unit_test (test_get_string),
    cmocka_unit_test (test_get_string_req),
    cmocka_unit_test (test_get_bool),
    cmocka_unit_test (test_get_int64),
    cmocka_unit_test (test_get_uint64),
    cmocka_unit_test (test_get_strv),
    cmocka_unit_test (test_get_array_object),
    cmocka_unit_test (test_first_error_kept),
    cmocka_unit_test (test_gen_round_trip_exact),
    cmocka_unit_test (test_gen_round_trip_reparse),
    cmocka_unit_test (test_gen_helpers),
    cmocka_unit_test (test_gen_null_value),
    cmocka_unit_test (test_object_text),
    cmocka_unit_test (test_filter_values),
  };
  return cmocka_run_group_tests_name ("json", tests, NULL, NULL);
}
