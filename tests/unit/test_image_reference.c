#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "reference.h"

struct norm_case
{
  const char *in, *full, *familiar;
};

static void
test_normalise (void **state)
{
  static const struct norm_case cases[] = {
    { "alpine", "docker.io/library/alpine:latest", "alpine:latest" },
    { "alpine:3.19", "docker.io/library/alpine:3.19", "alpine:3.19" },
    { "library/alpine", "docker.io/library/alpine:latest", "alpine:latest" },
    { "docker.io/library/alpine:latest", "docker.io/library/alpine:latest", "alpine:latest" },
    { "index.docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest" },
    { "user/app:v1", "docker.io/user/app:v1", "user/app:v1" },
    { "localhost:5000/x:1", "localhost:5000/x:1", "localhost:5000/x:1" },
    { "localhost/x", "localhost/x:latest", "localhost/x:latest" },
    { "registry.example.com/a/b/c:t_1.2-3", "registry.example.com/a/b/c:t_1.2-3", "registry.example.com/a/b/c:t_1.2-3" },
    { "my-app__x.y", "docker.io/library/my-app__x.y:latest", "my-app__x.y:latest" },
    { "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "docker.io/library/alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
  };
  size_t i;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      cleanup_free char *full = NULL;
      cleanup_free char *fam = NULL;
      skiff_error_t err = NULL;
      if (image_ref_parse (cases[i].in, &ref, &err) < 0)
        fail_msg ("%s: %s", cases[i].in, err->msg);
      assert_int_equal (image_ref_default_tag (&ref, &err), 0);
      full = image_ref_string (&ref);
      fam = image_ref_familiar_string (&ref);
      assert_string_equal (full, cases[i].full);
      assert_string_equal (fam, cases[i].familiar);
    }
}

static void
test_invalid (void **state)
{
  static const char *const bad[] = {
    "", ":", "Alpine", "alpine:", "alpine:-x", "a//b", "-a", "a-", "a..b", "/a", "a/", "alpine@sha256:123",
    "alpine@", "local host/x", "host:port/x", "a:b:c", "x:" "12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901",
  };
  size_t i;
  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      struct image_ref ref = { 0 };
      skiff_error_t err = NULL;
      if (image_ref_parse (bad[i], &ref, &err) == 0)
        fail_msg ("`%s` parsed", bad[i]);
      assert_non_null (strstr (err->msg, "invalid reference format"));
      skiff_error_release (&err);
    }
}

static void
test_uppercase_and_hex (void **state)
{
  struct image_ref ref = { 0 };
  skiff_error_t err = NULL;

  /* Upper case makes "Foo" a domain, and a valid one (as in Docker).  */
  assert_int_equal (image_ref_parse ("Foo/bar", &ref, &err), 0);
  assert_string_equal (ref.domain, "Foo");
  image_ref_clear (&ref);
  assert_int_equal (image_ref_parse ("foo/Bar", &ref, &err), -1);
  assert_string_equal (err->msg, "invalid reference format: repository name must be lowercase");
  skiff_error_release (&err);
  assert_int_equal (image_ref_parse ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &ref, &err), -1);
  assert_non_null (strstr (err->msg, "cannot specify 64-byte hexadecimal strings"));
  skiff_error_release (&err);
}

static void
test_id_helpers (void **state)
{
  assert_true (image_ref_is_digest ("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
  assert_false (image_ref_is_digest ("sha256:0123"));
  assert_true (image_ref_is_id_prefix ("abc123"));
  assert_true (image_ref_is_id_prefix ("sha256:abc"));
  assert_false (image_ref_is_id_prefix ("alpine"));
  assert_false (image_ref_is_id_prefix (""));
}

static void
test_familiarize (void **state)
{
  cleanup_free char *a = image_ref_familiarize ("docker.io/library/alpine:latest");
  cleanup_free char *b = image_ref_familiarize ("docker.io/user/x:1");
  cleanup_free char *c = image_ref_familiarize ("docker.io/library/a/b:1");
  assert_string_equal (a, "alpine:latest");
  assert_string_equal (b, "user/x:1");
  assert_string_equal (c, "library/a/b:1");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_normalise),    cmocka_unit_test (test_invalid),     cmocka_unit_test (test_uppercase_and_hex),
    cmocka_unit_test (test_id_helpers),   cmocka_unit_test (test_familiarize),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
