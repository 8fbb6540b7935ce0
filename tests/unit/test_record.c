/* The container record's file format: endpoints, their settings and
   published ports survive a save and a load; a record of skiffd 0.1 (one
   "Endpoint") loads as one endpoint.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_endpoints_round_trip (void **state)
{
  struct record *r = record_new (), *back = NULL;
  char *aliases[] = { (char *) "db", (char *) "0123456789ab", NULL };
  struct record_endpoint a = { .network = (char *) "bridge", .network_id = (char *) ID, .endpoint_id = (char *) ID,
                               .ip = (char *) "172.17.0.2", .gateway = (char *) "172.17.0.1",
                               .mac = (char *) "02:42:ac:11:00:02", .prefix = 16, .ifname = (char *) "eth0",
                               .host_ifname = (char *) "veth1234567" };
  struct record_endpoint b = a;
  skiff_error_t err = NULL;
  char *text;
  (void) state;

  b.network = (char *) "mynet";
  b.ip = (char *) "172.18.0.5";
  b.ifname = (char *) "eth1";
  b.aliases = aliases;
  strcpy (r->id, ID);
  assert_int_equal (record_endpoint_add (r, &a), 0);
  assert_int_equal (record_endpoint_add (r, &b), 0);
  r->ports = strdup ("{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"}]}");
  r->endpoints_config = strdup ("{\"mynet\":{\"Aliases\":[\"db\"]}}");
  text = record_to_json (r);
  assert_non_null (text);
  if (record_from_json (text, &back, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (back->n_eps, 2);
  assert_string_equal (back->eps[1].network, "mynet");
  assert_string_equal (back->eps[1].ip, "172.18.0.5");
  assert_string_equal (back->eps[1].ifname, "eth1");
  assert_int_equal (back->eps[1].prefix, 16);
  assert_string_equal (back->eps[1].aliases[0], "db");
  assert_string_equal (back->eps[1].aliases[1], "0123456789ab");
  assert_null (back->eps[1].aliases[2]);
  assert_string_equal (back->ports, r->ports);
  assert_string_equal (back->endpoints_config, r->endpoints_config);
  assert_ptr_equal (record_endpoint_on (back, "mynet"), &back->eps[1]);
  assert_null (record_endpoint_on (back, "other"));
  record_endpoint_remove (back, 0);
  assert_int_equal (back->n_eps, 1);
  assert_string_equal (back->eps[0].network, "mynet");
  free (text);
  record_free (r);
  record_free (back);
}

static void
test_old_single_endpoint (void **state)
{
  const char *old = "{\"ID\":\"" ID "\",\"Name\":\"/a\",\"Endpoint\":{\"Network\":\"bridge\",\"EndpointID\":\"" ID
                    "\",\"IPAddress\":\"172.17.0.3\",\"Gateway\":\"172.17.0.1\",\"MacAddress\":\"02:42:ac:11:00:03\","
                    "\"IPPrefixLen\":16,\"HostIfname\":\"vethabc\",\"Ports\":{\"80/tcp\":null}}}";
  struct record *r = NULL;
  skiff_error_t err = NULL;
  (void) state;

  if (record_from_json (old, &r, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (r->n_eps, 1);
  assert_string_equal (r->eps[0].network, "bridge");
  assert_string_equal (r->eps[0].network_id, "");
  assert_string_equal (r->eps[0].ifname, "eth0");
  assert_string_equal (r->eps[0].host_ifname, "vethabc");
  assert_string_equal (r->ports, "{\"80/tcp\":null}");
  record_free (r);
}

static void
test_bad_endpoint_rejected (void **state)
{
  const char *bad = "{\"ID\":\"" ID "\",\"Endpoints\":[{\"Network\":\"bridge\",\"IPAddress\":\"172.17.0.3\","
                    "\"IPPrefixLen\":99}]}";
  struct record *r = NULL;
  skiff_error_t err = NULL;
  (void) state;

  assert_int_equal (record_from_json (bad, &r, &err), -1);
  assert_non_null (strstr (err->msg, "IPPrefixLen"));
  skiff_error_release (&err);
  assert_null (r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_endpoints_round_trip),
    cmocka_unit_test (test_old_single_endpoint),
    cmocka_unit_test (test_bad_endpoint_rejected),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
