/* common/base64.c: both alphabets, optional padding, binary data, and
   what is not base64.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "cleanup.h"

static void
test_encode (void **state)
{
  static const struct
  {
    const char *in, *std;
  } cases[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
                { "foob", "Zm9vYg==" }, { "user:pass", "dXNlcjpwYXNz" } };
  size_t i;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_free char *out = base64_encode (cases[i].in, strlen (cases[i].in), false);
      assert_string_equal (out, cases[i].std);
    }
}

/* 0xfb 0xff: "+/8=" in the standard alphabet, "-_8=" in the URL one
   (Go's base64.URLEncoding, padded, as the docker CLI sends).  */
static void
test_url_alphabet (void **state)
{
  const unsigned char bytes[] = { 0xfb, 0xff };
  cleanup_free char *std = base64_encode (bytes, 2, false);
  cleanup_free char *url = base64_encode (bytes, 2, true);
  cleanup_free char *a = NULL, *b = NULL, *c = NULL;
  size_t len = 0;

  assert_string_equal (std, "+/8=");
  assert_string_equal (url, "-_8=");
  a = base64_decode ("+/8=", &len);
  assert_int_equal (len, 2);
  assert_memory_equal (a, bytes, 2);
  b = base64_decode ("-_8", &len);
  assert_int_equal (len, 2);
  assert_memory_equal (b, bytes, 2);
  c = base64_decode ("-_8=", NULL);
  assert_memory_equal (c, bytes, 2);
}

static void
test_roundtrip_binary (void **state)
{
  unsigned char data[300];
  size_t n, i, len;

  for (i = 0; i < sizeof (data); i++)
    data[i] = (unsigned char) (i * 7 + 3);
  for (n = 0; n < sizeof (data); n += 37)
    {
      cleanup_free char *enc = base64_encode (data, n, n % 2);
      cleanup_free char *dec = base64_decode (enc, &len);
      assert_non_null (dec);
      assert_int_equal (len, n);
      assert_memory_equal (dec, data, n);
      assert_int_equal (dec[n], '\0');
    }
}

static void
test_not_base64 (void **state)
{
  static const char *const bad[] = { "a", "Zg=a", "Zm9v!", "Zm 9v", "Zm9v\n", "Zm9vY", "@@@@" };
  size_t i;

  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      char *out = base64_decode (bad[i], NULL);
      if (out != NULL)
        fail_msg ("`%s` decoded", bad[i]);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_encode),
    cmocka_unit_test (test_url_alphabet),
    cmocka_unit_test (test_roundtrip_binary),
    cmocka_unit_test (test_not_base64),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
