#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "ipam.h"
#include "json.h"

static void
assert_err_msg (skiff_error_t *err, const char *want)
{
  assert_non_null (*err);
  if (strcmp ((*err)->msg, want) != 0)
    fail_msg ("error `%s`, expected `%s`", (*err)->msg, want);
  skiff_error_release (err);
}

static struct ipam_pool *
pool_ok (const char *subnet, const char *gw, const char *range)
{
  skiff_error_t err = NULL;
  struct ipam_pool *p = ipam_pool_new (subnet, gw, range, &err);
  if (p == NULL)
    fail_msg ("ipam_pool_new (%s): %s", subnet, err->msg);
  return p;
}

static void
pool_err (const char *subnet, const char *gw, const char *range, const char *want)
{
  skiff_error_t err = NULL;
  assert_null (ipam_pool_new (subnet, gw, range, &err));
  assert_err_msg (&err, want);
}

/* Allocates (want may be NULL) and checks the address we got.  */
static void
alloc_is (struct ipam_pool *p, const char *want, const char *expect)
{
  skiff_error_t err = NULL;
  char out[IPAM_ADDR_LEN];
  if (ipam_alloc (p, want, out, &err) < 0)
    fail_msg ("ipam_alloc (%s): %s", want ? want : "any", err->msg);
  assert_string_equal (out, expect);
}

static void
alloc_err (struct ipam_pool *p, const char *want, const char *msg)
{
  skiff_error_t err = NULL;
  char out[IPAM_ADDR_LEN];
  size_t before = ipam_pool_count (p);
  assert_int_equal (ipam_alloc (p, want, out, &err), -1);
  assert_err_msg (&err, msg);
  assert_int_equal (ipam_pool_count (p), before);
}

static void
release_ok (struct ipam_pool *p, const char *addr)
{
  skiff_error_t err = NULL;
  if (ipam_release (p, addr, &err) < 0)
    fail_msg ("ipam_release (%s): %s", addr, err->msg);
  assert_false (ipam_is_allocated (p, addr));
}

static void
test_parse_cidr (void **state)
{
  static const char *const bad[] = { "10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "abc/8", "10.0.0/8",
                                     "10.0.0.0/8x", "10.0.0.0/-1", "10.0.0.0/008", "", "/8", "300.0.0.0/8" };
  struct ipam_subnet s;
  char out[IPAM_CIDR_LEN];
  skiff_error_t err = NULL;
  size_t i;

  assert_int_equal (ipam_parse_cidr ("172.18.0.0/16", &s, &err), 0);
  assert_int_equal (s.addr, 0xac120000);
  assert_int_equal (s.prefix, 16);
  /* host bits are cleared */
  assert_int_equal (ipam_parse_cidr ("10.1.2.3/8", &s, &err), 0);
  ipam_format_cidr (&s, out);
  assert_string_equal (out, "10.0.0.0/8");
  assert_int_equal (ipam_parse_cidr ("0.0.0.0/0", &s, &err), 0);
  assert_int_equal (s.addr, 0);
  assert_int_equal (ipam_parse_cidr ("255.255.255.255/32", &s, &err), 0);
  ipam_format_cidr (&s, out);
  assert_string_equal (out, "255.255.255.255/32");

  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      char want[64];
      assert_int_equal (ipam_parse_cidr (bad[i], &s, &err), -1);
      snprintf (want, sizeof (want), "invalid CIDR address: %s", bad[i]);
      assert_err_msg (&err, want);
    }
}

static void
test_overlaps (void **state)
{
  skiff_error_t err = NULL;

  assert_int_equal (ipam_subnet_overlaps ("172.17.0.0/16", "172.17.5.0/24", &err), 1);
  assert_int_equal (ipam_subnet_overlaps ("172.17.5.0/24", "172.17.0.0/16", &err), 1);
  assert_int_equal (ipam_subnet_overlaps ("172.17.0.0/16", "172.18.0.0/16", &err), 0);
  assert_int_equal (ipam_subnet_overlaps ("10.0.0.0/8", "10.255.255.255/32", &err), 1);
  assert_int_equal (ipam_subnet_overlaps ("10.0.0.0/25", "10.0.0.128/25", &err), 0);
  assert_int_equal (ipam_subnet_overlaps ("0.0.0.0/0", "192.0.2.0/24", &err), 1);
  assert_int_equal (ipam_subnet_overlaps ("10.0.0.0/8", "nope", &err), -1);
  assert_err_msg (&err, "invalid CIDR address: nope");
}

static void
test_check_free (void **state)
{
  const char *const used[] = { "172.17.0.0/16", "10.10.0.0/24", NULL };
  skiff_error_t err = NULL;

  assert_int_equal (ipam_subnet_check_free ("10.10.1.0/24", used, &err), 0);
  assert_int_equal (ipam_subnet_check_free ("10.10.1.0/24", NULL, &err), 0);
  assert_int_equal (ipam_subnet_check_free ("10.0.0.0/8", used, &err), -1);
  assert_err_msg (&err, "Pool overlaps with other one on this address space");
  assert_int_equal (ipam_subnet_check_free ("172.17.42.0/24", used, &err), -1);
  assert_err_msg (&err, "Pool overlaps with other one on this address space");
  assert_int_equal (ipam_subnet_check_free ("172.17.42.0/33", used, &err), -1);
  assert_err_msg (&err, "invalid CIDR address: 172.17.42.0/33");
}

static void
test_default_subnets (void **state)
{
  const char *used[40] = { NULL };
  char out[IPAM_CIDR_LEN], buf[32][IPAM_CIDR_LEN];
  skiff_error_t err = NULL;
  size_t i;

  assert_int_equal (ipam_next_default_subnet (NULL, out, &err), 0);
  assert_string_equal (out, "172.17.0.0/16");
  used[0] = "172.17.0.0/16";
  assert_int_equal (ipam_next_default_subnet (used, out, &err), 0);
  assert_string_equal (out, "172.18.0.0/16");
  /* something on the host overlapping 172.18 pushes it on */
  used[1] = "172.18.3.0/24";
  assert_int_equal (ipam_next_default_subnet (used, out, &err), 0);
  assert_string_equal (out, "172.19.0.0/16");
  /* the whole 172.16/12 in use: the /20s of 192.168/16 follow */
  used[1] = "172.16.0.0/12";
  assert_int_equal (ipam_next_default_subnet (used, out, &err), 0);
  assert_string_equal (out, "192.168.0.0/20");
  used[2] = "192.168.0.0/20";
  used[3] = "192.168.20.0/24";
  assert_int_equal (ipam_next_default_subnet (used, out, &err), 0);
  assert_string_equal (out, "192.168.32.0/20");

  /* all sixteen /20s gone: no default pool left */
  for (i = 0; i < 16; i++)
    {
      snprintf (buf[i], sizeof (buf[i]), "192.168.%zu.0/20", i * 16);
      used[2 + i] = buf[i];
    }
  used[18] = NULL;
  assert_int_equal (ipam_next_default_subnet (used, out, &err), -1);
  assert_err_msg (&err, "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");

  used[0] = "nope";
  assert_int_equal (ipam_next_default_subnet (used, out, &err), -1);
  assert_err_msg (&err, "invalid CIDR address: nope");

  {
    const char *const g[] = { "10.0.0.0/24", "10.0.1.0/24", "10.0.3.0/24", NULL };
    assert_int_equal (ipam_next_global_subnet (g, out, &err), 0);
    assert_string_equal (out, "10.0.2.0/24");
    assert_int_equal (ipam_next_global_subnet (NULL, out, &err), 0);
    assert_string_equal (out, "10.0.0.0/24");
  }
}

static void
test_pool_new (void **state)
{
  struct ipam_pool *p = pool_ok ("172.18.0.0/16", NULL, NULL);
  assert_string_equal (ipam_pool_subnet (p), "172.18.0.0/16");
  assert_string_equal (ipam_pool_gateway (p), "172.18.0.1");
  assert_string_equal (ipam_pool_ip_range (p), "");
  assert_true (ipam_is_allocated (p, "172.18.0.1"));
  assert_int_equal (ipam_pool_count (p), 0);
  ipam_pool_free (p);

  p = pool_ok ("10.5.0.7/24", "10.5.0.254", "10.5.0.128/25");
  assert_string_equal (ipam_pool_subnet (p), "10.5.0.0/24");
  assert_string_equal (ipam_pool_gateway (p), "10.5.0.254");
  assert_string_equal (ipam_pool_ip_range (p), "10.5.0.128/25");
  ipam_pool_free (p);

  pool_err ("10.5.0.0/33", NULL, NULL, "invalid CIDR address: 10.5.0.0/33");
  pool_err ("10.5.0.0/24", "10.6.0.1", NULL, "no matching subnet for gateway 10.6.0.1");
  pool_err ("10.5.0.0/24", "gw", NULL, "invalid gateway address gw in Ipam configuration");
  pool_err ("10.5.0.0/24", "10.5.0.0", NULL, "failed to allocate gateway (10.5.0.0): Address already in use");
  pool_err ("10.5.0.0/24", "10.5.0.255", NULL, "failed to allocate gateway (10.5.0.255): Address already in use");
  pool_err ("10.5.0.0/24", NULL, "10.6.0.0/25", "no matching subnet for range 10.6.0.0/25");
  pool_err ("10.5.0.0/24", NULL, "10.5.0.0/23", "no matching subnet for range 10.5.0.0/23");
  pool_err ("10.5.0.0/24", NULL, "10.5.0.0", "invalid CIDR address: 10.5.0.0");
}

static void
test_alloc_sequential (void **state)
{
  struct ipam_pool *p = pool_ok ("10.0.0.0/29", "10.0.0.3", NULL);
  char cidr[IPAM_CIDR_LEN];

  /* lowest free first, stepping over the gateway; .0 and .7 never */
  alloc_is (p, NULL, "10.0.0.1");
  alloc_is (p, NULL, "10.0.0.2");
  alloc_is (p, NULL, "10.0.0.4");
  alloc_is (p, NULL, "10.0.0.5");
  alloc_is (p, NULL, "10.0.0.6");
  assert_int_equal (ipam_pool_count (p), 5);
  alloc_err (p, NULL, "no available IPv4 addresses on this network's address pools");

  /* Docker's local networks hand a released address out again at once */
  release_ok (p, "10.0.0.2");
  release_ok (p, "10.0.0.2"); /* already free: fine */
  alloc_is (p, NULL, "10.0.0.2");
  ipam_pool_addr_cidr (p, "10.0.0.2", cidr);
  assert_string_equal (cidr, "10.0.0.2/29");
  ipam_pool_free (p);
}

static void
test_alloc_serial (void **state)
{
  struct ipam_pool *p = pool_ok ("10.0.0.0/29", NULL, NULL);
  ipam_pool_set_serial (p, true);

  alloc_is (p, NULL, "10.0.0.2");
  alloc_is (p, NULL, "10.0.0.3");
  release_ok (p, "10.0.0.2");
  /* not the released .2: the search continues after the last one */
  alloc_is (p, NULL, "10.0.0.4");
  alloc_is (p, NULL, "10.0.0.5");
  alloc_is (p, NULL, "10.0.0.6");
  /* end of the range: wrap around, skipping the gateway, to .2 */
  alloc_is (p, NULL, "10.0.0.2");
  release_ok (p, "10.0.0.4");
  alloc_is (p, NULL, "10.0.0.4");
  alloc_err (p, NULL, "no available IPv4 addresses on this network's address pools");
  ipam_pool_free (p);
}

static void
test_alloc_requested (void **state)
{
  struct ipam_pool *p = pool_ok ("172.20.0.0/16", NULL, "172.20.5.0/24");
  skiff_error_t err = NULL;

  /* automatic addresses come from the range only */
  alloc_is (p, NULL, "172.20.5.0");
  alloc_is (p, NULL, "172.20.5.1");
  /* static ones may lie anywhere in the subnet */
  alloc_is (p, "172.20.9.9", "172.20.9.9");
  alloc_is (p, "172.20.5.2", "172.20.5.2");
  alloc_is (p, NULL, "172.20.5.3");
  alloc_err (p, "172.20.9.9", "Address already in use");
  alloc_err (p, "172.20.0.1", "Address already in use"); /* the gateway */
  alloc_err (p, "172.20.0.0", "Address already in use"); /* network */
  alloc_err (p, "172.20.255.255", "Address already in use"); /* broadcast */
  alloc_err (p, "172.21.0.5", "Invalid address 172.21.0.5: It does not belong to any of this network's subnets");
  alloc_err (p, "172.20.0.300", "172.20.0.300 is not an IPv4 address");
  alloc_err (p, "fe80::1", "fe80::1 is not an IPv4 address");

  assert_int_equal (ipam_release (p, "172.20.0.1", &err), -1);
  assert_err_msg (&err, "cannot release gateway address 172.20.0.1 of 172.20.0.0/16");
  assert_int_equal (ipam_release (p, "10.0.0.1", &err), -1);
  assert_err_msg (&err, "Invalid address 10.0.0.1: It does not belong to any of this network's subnets");
  assert_int_equal (ipam_release (p, "x", &err), -1);
  assert_err_msg (&err, "x is not an IPv4 address");
  assert_int_equal (ipam_pool_count (p), 5);
  ipam_pool_free (p);
}

static void
test_range_edges (void **state)
{
  /* a range at the start of the subnet does not hand out the network
     address, nor (at the end) the broadcast address */
  struct ipam_pool *p = pool_ok ("10.1.0.0/24", "10.1.0.100", "10.1.0.0/30");
  alloc_is (p, NULL, "10.1.0.1");
  alloc_is (p, NULL, "10.1.0.2");
  alloc_is (p, NULL, "10.1.0.3");
  alloc_err (p, NULL, "no available IPv4 addresses on this network's address pools");
  ipam_pool_free (p);

  p = pool_ok ("10.1.0.0/24", NULL, "10.1.0.252/30");
  alloc_is (p, NULL, "10.1.0.252");
  alloc_is (p, NULL, "10.1.0.253");
  alloc_is (p, NULL, "10.1.0.254");
  alloc_err (p, NULL, "no available IPv4 addresses on this network's address pools");
  ipam_pool_free (p);

  /* /31: both addresses usable (RFC 3021), one is the gateway */
  p = pool_ok ("192.0.2.0/31", NULL, NULL);
  assert_string_equal (ipam_pool_gateway (p), "192.0.2.0");
  alloc_is (p, NULL, "192.0.2.1");
  alloc_err (p, NULL, "no available IPv4 addresses on this network's address pools");
  ipam_pool_free (p);

  /* the top of the address space does not overflow */
  p = pool_ok ("255.255.255.252/30", NULL, NULL);
  alloc_is (p, NULL, "255.255.255.254");
  alloc_err (p, NULL, "no available IPv4 addresses on this network's address pools");
  ipam_pool_free (p);
}

static void
test_json_roundtrip (void **state)
{
  struct ipam_pool *p = pool_ok ("10.9.0.0/24", "10.9.0.254", "10.9.0.0/28");
  struct ipam_pool *q;
  skiff_error_t err = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *again = NULL;

  ipam_pool_set_serial (p, true);
  alloc_is (p, NULL, "10.9.0.1");
  alloc_is (p, NULL, "10.9.0.2");
  alloc_is (p, "10.9.0.200", "10.9.0.200");
  release_ok (p, "10.9.0.1");
  text = ipam_pool_to_json (p);
  assert_non_null (text);
  assert_string_equal (text, "{\"Subnet\":\"10.9.0.0/24\",\"Gateway\":\"10.9.0.254\",\"IPRange\":\"10.9.0.0/28\","
                             "\"Serial\":true,\"Next\":\"10.9.0.3\",\"Allocated\":[\"10.9.0.2\",\"10.9.0.200\"]}");

  q = ipam_pool_from_json (text, &err);
  if (q == NULL)
    fail_msg ("from_json: %s", err->msg);
  again = ipam_pool_to_json (q);
  assert_string_equal (again, text);
  assert_true (ipam_is_allocated (q, "10.9.0.200"));
  assert_true (ipam_is_allocated (q, "10.9.0.254"));
  assert_false (ipam_is_allocated (q, "10.9.0.1"));
  /* the serial cursor survived: .3, not the released .1 */
  alloc_is (q, NULL, "10.9.0.3");
  ipam_pool_free (q);
  ipam_pool_free (p);

  /* minimal state: defaults for the optional fields */
  q = ipam_pool_from_json ("{\"Subnet\":\"10.9.0.0/24\",\"Gateway\":\"10.9.0.1\"}", &err);
  assert_non_null (q);
  alloc_is (q, NULL, "10.9.0.2");
  ipam_pool_free (q);
}

/* The configuration alone (what a network's own file keeps), and the
   comparison of two pools' configurations.  */
static void
test_json_config (void **state)
{
  struct ipam_pool *p = pool_ok ("10.9.0.0/24", "10.9.0.254", "10.9.0.0/28");
  struct ipam_pool *q = pool_ok ("10.9.0.0/24", "10.9.0.254", "10.9.0.0/28");
  struct ipam_pool *other = pool_ok ("10.9.0.0/24", "10.9.0.254", NULL);
  struct ipam_pool *r;
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *text = NULL;
  skiff_error_t err = NULL;

  alloc_is (p, NULL, "10.9.0.1");
  assert_non_null (g);
  ipam_pool_gen_config (p, g);
  text = json_gen_steal (g, NULL);
  assert_string_equal (text, "{\"Subnet\":\"10.9.0.0/24\",\"Gateway\":\"10.9.0.254\",\"IPRange\":\"10.9.0.0/28\","
                             "\"Serial\":false}");
  r = ipam_pool_from_json (text, &err);
  if (r == NULL)
    fail_msg ("from_json: %s", err->msg);
  assert_false (ipam_is_allocated (r, "10.9.0.1"));
  assert_true (ipam_pool_same_config (p, r));
  /* addresses in use do not count, the range and the mode do */
  assert_true (ipam_pool_same_config (p, q));
  assert_false (ipam_pool_same_config (p, other));
  ipam_pool_set_serial (q, true);
  assert_false (ipam_pool_same_config (p, q));
  ipam_pool_free (r);
  ipam_pool_free (other);
  ipam_pool_free (q);
  ipam_pool_free (p);
}

static void
test_json_bad (void **state)
{
  static const struct
  {
    const char *text, *msg;
  } cases[] = {
    { "[]", "invalid IPAM state: expected an object" },
    { "{\"Gateway\":\"10.0.0.1\"}", "invalid IPAM state: missing field `Subnet`" },
    { "{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.1.1\"}", "invalid IPAM state: no matching subnet for gateway 10.0.1.1" },
    { "{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\",\"Allocated\":[\"10.0.0.5\",\"10.0.0.5\"]}",
      "invalid IPAM state: Allocated[1] `10.0.0.5`: Address already in use" },
    { "{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\",\"Allocated\":[\"10.0.1.5\"]}",
      "invalid IPAM state: Allocated[0] `10.0.1.5`: Invalid address 10.0.1.5: It does not belong to any of this network's subnets" },
    { "{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\",\"Allocated\":[5]}",
      "invalid IPAM state: invalid field `Allocated[0]`: expected a string" },
    { "{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\",\"Allocated\":\"10.0.0.5\"}",
      "invalid IPAM state: invalid field `Allocated`: expected an array" },
    { "{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\",\"Next\":\"10.0.0.255\"}",
      "invalid IPAM state: invalid field `Next`: `10.0.0.255` is not in the allocation range" },
    { "{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\",\"Serial\":\"yes\"}",
      "invalid IPAM state: invalid field `Serial`: expected a boolean" },
  };
  size_t i;

  for (i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      skiff_error_t err = NULL;
      assert_null (ipam_pool_from_json (cases[i].text, &err));
      assert_err_msg (&err, cases[i].msg);
    }
  {
    skiff_error_t err = NULL;
    assert_null (ipam_pool_from_json ("{", &err));
    assert_non_null (err);
    assert_int_equal (strncmp (err->msg, "invalid JSON: ", 14), 0);
    skiff_error_release (&err);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_cidr),      cmocka_unit_test (test_overlaps),
    cmocka_unit_test (test_check_free),      cmocka_unit_test (test_default_subnets),
    cmocka_unit_test (test_pool_new),        cmocka_unit_test (test_alloc_sequential),
    cmocka_unit_test (test_alloc_serial),    cmocka_unit_test (test_alloc_requested),
    cmocka_unit_test (test_range_edges),     cmocka_unit_test (test_json_roundtrip),
    cmocka_unit_test (test_json_config),     cmocka_unit_test (test_json_bad),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
