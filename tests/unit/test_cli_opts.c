/* skiff CLI: run/create flags -> POST /containers/create body, memory and
   CPU parsing, --since timestamps.  The expected bodies were captured from
   the docker 20.10 CLI with the same flags.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "container_opts.h"

static struct cli_ctx ctx = { .cmd = "run", .usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]", .summary = "Run" };

/* Parses a NULL-terminated argument list (without the verb).  */
static int
parse (bool run, struct container_opts *o, ...)
{
  static char *argv[64]; /* o->cmd points into it */
  int argc = 0;
  va_list ap;
  const char *a;

  argv[argc++] = (char *) (run ? "run" : "create");
  va_start (ap, o);
  while ((a = va_arg (ap, const char *)) != NULL)
    argv[argc++] = (char *) a;
  va_end (ap);
  argv[argc] = NULL;
  /* Usage errors print Docker's messages: keep them out of the test log. */
  {
    int saved = dup (2), null = open ("/dev/null", O_WRONLY);
    int ret;
    fflush (stderr);
    dup2 (null, 2);
    ret = container_opts_parse (&ctx, argc, argv, run, o);
    fflush (stderr);
    dup2 (saved, 2);
    close (saved);
    close (null);
    return ret;
  }
}

static char *
body_of (struct container_opts *o)
{
  skiff_error_t err = NULL;
  char *json = NULL;
  if (container_opts_to_json (o, &json, &err) < 0)
    fail_msg ("container_opts_to_json: %s", err->msg);
  return json;
}

#define HOSTCONFIG_TAIL                                                                                               \
  "\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,"      \
  "\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\","

static void
test_body_many_flags (void **state)
{
  struct container_opts o;
  cleanup_free char *json = NULL;
  const char *want =
    "{\"Hostname\":\"myhost\",\"Domainname\":\"\",\"User\":\"1000\",\"AttachStdin\":false,\"AttachStdout\":true,"
    "\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"FOO=1\",\"HOME=/root\"],"
    "\"Cmd\":[\"sh\",\"-c\",\"echo hi\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"/tmp\",\"Entrypoint\":null,"
    "\"OnBuild\":null,\"Labels\":{\"a\":\"b\",\"c\":\"\"},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\","
    "\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"none\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":"
    "\"on-failure\",\"MaximumRetryCount\":3},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"CapAdd\":"
    "[\"NET_ADMIN\"],\"CapDrop\":[\"CHOWN\"]," HOSTCONFIG_TAIL
    "\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":true,\"SecurityOpt\":[\"no-new-privileges\"],"
    "\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"ConsoleSize\":[0,0],\"Isolation\":\"\",\"CpuShares\":512,"
    "\"Memory\":33554432,\"NanoCpus\":1500000000,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],"
    "\"BlkioDeviceReadBps\":null,\"BlkioDeviceWriteBps\":null,\"BlkioDeviceReadIOps\":null,\"BlkioDeviceWriteIOps\":null,"
    "\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":"
    "\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"KernelMemory\":0,\"KernelMemoryTCP\":0,"
    "\"MemoryReservation\":0,\"MemorySwap\":67108864,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":10,"
    "\"Ulimits\":null,\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,"
    "\"ReadonlyPaths\":null,\"Init\":true},\"NetworkingConfig\":{\"EndpointsConfig\":{}}}";

  setenv ("HOME", "/root", 1);
  assert_int_equal (parse (false, &o, "--name", "c1", "-e", "FOO=1", "-e", "HOME", "-w", "/tmp", "-u", "1000", "-h",
                           "myhost", "--network", "none", "-m", "32m", "--memory-swap", "64m", "--pids-limit", "10",
                           "--cpus", "1.5", "--cpu-shares", "512", "--read-only", "--cap-add", "NET_ADMIN", "--cap-drop",
                           "CHOWN", "--security-opt", "no-new-privileges", "--restart", "on-failure:3", "-l", "c", "-l",
                           "a=z", "-l", "a=b", "--init", "busybox", "sh", "-c", "echo hi", NULL),
                    0);
  assert_string_equal (o.name, "c1");
  json = body_of (&o);
  assert_string_equal (json, want);
  container_opts_release (&o);
}

static void
test_body_interactive_tty_rm (void **state)
{
  struct container_opts o;
  cleanup_free char *json = NULL;

  assert_int_equal (parse (true, &o, "--rm", "-it", "busybox", NULL), 0);
  json = body_of (&o);
  assert_non_null (strstr (json, "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":true,"
                                 "\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":true,\"OpenStdin\":true,"
                                 "\"StdinOnce\":true,\"Env\":null,\"Cmd\":null,\"Image\":\"busybox\""));
  assert_non_null (strstr (json, "\"NetworkMode\":\"default\""));
  assert_non_null (strstr (json, "\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true"));
  assert_non_null (strstr (json, "\"PidsLimit\":0,"));
  assert_null (strstr (json, "\"Init\""));
  assert_non_null (strstr (json, "\"Labels\":{},"));
  container_opts_release (&o);
}

static void
test_body_detach_and_attach (void **state)
{
  struct container_opts o;
  cleanup_free char *json = NULL, *json2 = NULL;

  /* -d attaches nothing and keeps stdin open without StdinOnce.  */
  assert_int_equal (parse (true, &o, "-d", "-i", "busybox", "top", NULL), 0);
  json = body_of (&o);
  assert_non_null (strstr (json, "\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":false,"
                                 "\"OpenStdin\":true,\"StdinOnce\":false"));
  container_opts_release (&o);

  /* -a stdout only; --entrypoint "" resets the entrypoint to [""].  */
  assert_int_equal (parse (true, &o, "-a", "STDOUT", "--entrypoint", "", "busybox", NULL), 0);
  json2 = body_of (&o);
  assert_non_null (strstr (json2, "\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":false"));
  assert_non_null (strstr (json2, "\"Entrypoint\":[\"\"]"));
  container_opts_release (&o);
}

static void
test_env_file_and_seccomp (void **state)
{
  char dir[] = "/tmp/test_cli_opts.XXXXXX";
  char envf[64], secf[64];
  struct container_opts o;
  cleanup_free char *json = NULL;
  FILE *f;

  assert_non_null (mkdtemp (dir));
  snprintf (envf, sizeof (envf), "%s/env", dir);
  snprintf (secf, sizeof (secf), "%s/sec.json", dir);
  f = fopen (envf, "w");
  fputs ("# comment\n  A=1\nSKIFF_TEST_VAR\n\nB= 2\nUNSET_SKIFF_VAR\n", f);
  fclose (f);
  f = fopen (secf, "w");
  fputs ("{ \"defaultAction\" : \"SCMP_ACT_ALLOW\",\n \"syscalls\": [] }\n", f);
  fclose (f);
  setenv ("SKIFF_TEST_VAR", "x y", 1);
  unsetenv ("UNSET_SKIFF_VAR");

  assert_int_equal (parse (true, &o, "--env-file", envf, "-e", "C=3", "--security-opt", "seccomp=unconfined",
                           "--security-opt", secf[0] ? "seccomp=placeholder" : "", "busybox", NULL),
                    0);
  /* Replace the placeholder with the real file path.  */
  free (o.security_opt[1]);
  if (asprintf (&o.security_opt[1], "seccomp=%s", secf) < 0)
    fail ();
  json = body_of (&o);
  assert_non_null (strstr (json, "\"Env\":[\"A=1\",\"SKIFF_TEST_VAR=x y\",\"B= 2\",\"UNSET_SKIFF_VAR\",\"C=3\"]"));
  assert_non_null (strstr (json, "\"SecurityOpt\":[\"seccomp=unconfined\",\"seccomp={\\\"defaultAction\\\":"
                                 "\\\"SCMP_ACT_ALLOW\\\",\\\"syscalls\\\":[]}\"]"));
  container_opts_release (&o);

  unlink (envf);
  unlink (secf);
  rmdir (dir);
}

static void
test_body_errors (void **state)
{
  struct container_opts o;
  skiff_error_t err = NULL;
  char *json = NULL;

  assert_int_equal (parse (true, &o, "--security-opt", "bogus", "busybox", NULL), 0);
  assert_int_equal (container_opts_to_json (&o, &json, &err), -1);
  assert_string_equal (err->msg, "Invalid --security-opt: \"bogus\"");
  skiff_error_release (&err);
  container_opts_release (&o);

  assert_int_equal (parse (true, &o, "--restart", "on-failure:x", "busybox", NULL), 0);
  assert_int_equal (container_opts_to_json (&o, &json, &err), -1);
  assert_string_equal (err->msg, "maximum retry count must be an integer");
  skiff_error_release (&err);
  container_opts_release (&o);

  assert_int_equal (parse (true, &o, "--env-file", "/nonexistent/env", "busybox", NULL), 0);
  assert_int_equal (container_opts_to_json (&o, &json, &err), -1);
  assert_non_null (strstr (err->msg, "/nonexistent/env"));
  skiff_error_release (&err);
  container_opts_release (&o);
  assert_null (json);
}

static void
test_usage_errors (void **state)
{
  struct container_opts o;

  /* Docker's status 125 for flag errors, 1 for a missing image.  */
  assert_int_equal (parse (true, &o, "--bogus", "busybox", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "-z", "busybox", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "--name", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "-m", "32x", "busybox", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "--cpus", "1.0000000001", "busybox", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "--pids-limit", "ten", "busybox", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "--rm", "--restart", "always", "busybox", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "-d", "-a", "stdout", "busybox", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "-a", "stdfoo", "busybox", NULL), 125);
  container_opts_release (&o);
  /* create has no -d */
  assert_int_equal (parse (false, &o, "-d", "busybox", NULL), 125);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, NULL), 1);
  container_opts_release (&o);
  /* Options stop at the image: "-d" after it belongs to the command.  */
  assert_int_equal (parse (false, &o, "busybox", "ls", "-d", NULL), 0);
  assert_int_equal (o.ncmd, 2);
  assert_string_equal (o.cmd[1], "-d");
  container_opts_release (&o);
}

static void
test_ram_bytes (void **state)
{
  static const struct
  {
    const char *in;
    int64_t want;
  } ok[] = {
    { "32m", 32LL << 20 }, { "32M", 32LL << 20 }, { "32mb", 32LL << 20 }, { "32MiB", 32LL << 20 },
    { "1g", 1LL << 30 },   { "512k", 512LL << 10 }, { "100", 100 },      { "100b", 100 },
    { "1.5g", 3LL << 29 }, { "2 m", 2LL << 20 },   { "1t", 1LL << 40 },  { "0", 0 },
  };
  static const char *const bad[] = { "", "m", "32x", "-1", "32mm", "1.g", " 1m", "1m ", "0x10" };
  size_t i;

  for (i = 0; i < sizeof (ok) / sizeof (ok[0]); i++)
    {
      skiff_error_t err = NULL;
      int64_t v = -5;
      if (parse_ram_bytes (ok[i].in, &v, &err) < 0)
        fail_msg ("`%s`: %s", ok[i].in, err->msg);
      if (v != ok[i].want)
        fail_msg ("`%s`: got %lld want %lld", ok[i].in, (long long) v, (long long) ok[i].want);
    }
  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      skiff_error_t err = NULL;
      int64_t v = -5;
      char want[64];
      if (parse_ram_bytes (bad[i], &v, &err) == 0)
        fail_msg ("`%s` accepted", bad[i]);
      snprintf (want, sizeof (want), "invalid size: '%s'", bad[i]);
      assert_string_equal (err->msg, want);
      skiff_error_release (&err);
    }
}

static void
test_nano_cpus (void **state)
{
  skiff_error_t err = NULL;
  int64_t v;

  assert_int_equal (parse_nano_cpus ("1.5", &v, &err), 0);
  assert_int_equal (v, 1500000000LL);
  assert_int_equal (parse_nano_cpus ("2", &v, &err), 0);
  assert_int_equal (v, 2000000000LL);
  assert_int_equal (parse_nano_cpus (".25", &v, &err), 0);
  assert_int_equal (v, 250000000LL);
  assert_int_equal (parse_nano_cpus ("0.000000001", &v, &err), 0);
  assert_int_equal (v, 1);
  assert_int_equal (parse_nano_cpus ("1.0000000000", &v, &err), 0);
  assert_int_equal (v, 1000000000LL);
  assert_int_equal (parse_nano_cpus ("1.0000000001", &v, &err), -1);
  assert_string_equal (err->msg, "value is too precise");
  skiff_error_release (&err);
  assert_int_equal (parse_nano_cpus ("abc", &v, &err), -1);
  assert_string_equal (err->msg, "failed to parse abc as a rational number");
  skiff_error_release (&err);
}

static void
test_timestamps (void **state)
{
  skiff_error_t err = NULL;
  char *out = NULL;
  time_t now = 1700000000;

  assert_int_equal (cli_parse_timestamp ("10m", now, &out, &err), 0);
  assert_string_equal (out, "1699999400.000000000");
  free (out);
  assert_int_equal (cli_parse_timestamp ("1h30m", now, &out, &err), 0);
  assert_string_equal (out, "1699994600.000000000");
  free (out);
  assert_int_equal (cli_parse_timestamp ("1.5s", now, &out, &err), 0);
  assert_string_equal (out, "1699999998.500000000");
  free (out);
  assert_int_equal (cli_parse_timestamp ("1690000000.5", now, &out, &err), 0);
  assert_string_equal (out, "1690000000.5");
  free (out);
  assert_int_equal (cli_parse_timestamp ("2023-11-14T22:13:20Z", now, &out, &err), 0);
  assert_string_equal (out, "1700000000.000000000");
  free (out);
  assert_int_equal (cli_parse_timestamp ("2023-11-14T23:13:20+01:00", now, &out, &err), 0);
  assert_string_equal (out, "1700000000.000000000");
  free (out);
  assert_int_equal (cli_parse_timestamp ("yesterday", now, &out, &err), -1);
  assert_non_null (strstr (err->msg, "failed to parse value as time or duration"));
  skiff_error_release (&err);
}

/* --network-alias and --ip go to the endpoint of the --network given, as
   docker 20.10 sends them.  */
static void
test_body_network_endpoint (void **state)
{
  struct container_opts o;
  cleanup_free char *json = NULL, *json2 = NULL, *json3 = NULL;

  assert_int_equal (parse (false, &o, "--network", "n1", "--network-alias", "a1", "--network-alias", "a2,a3", "--ip",
                           "10.0.0.5", "busybox", NULL),
                    0);
  json = body_of (&o);
  assert_non_null (strstr (json, "\"NetworkMode\":\"n1\","));
  assert_non_null (strstr (json, "\"NetworkingConfig\":{\"EndpointsConfig\":{\"n1\":{\"IPAMConfig\":{\"IPv4Address\":"
                                 "\"10.0.0.5\"},\"Links\":null,\"Aliases\":[\"a1\",\"a2,a3\"],\"NetworkID\":\"\","
                                 "\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,"
                                 "\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,"
                                 "\"MacAddress\":\"\",\"DriverOpts\":null}}}}"));
  container_opts_release (&o);

  assert_int_equal (parse (true, &o, "--net", "n1", "--net-alias", "a1", "busybox", NULL), 0);
  json2 = body_of (&o);
  assert_non_null (strstr (json2, "\"EndpointsConfig\":{\"n1\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":[\"a1\"],"));
  container_opts_release (&o);

  /* Without --network, docker 20.10 drops them; with none only --ip.  */
  assert_int_equal (parse (true, &o, "--network-alias", "a1", "--ip", "10.0.0.5", "busybox", NULL), 0);
  json3 = body_of (&o);
  assert_non_null (strstr (json3, "\"NetworkingConfig\":{\"EndpointsConfig\":{}}}"));
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "--network", "bridge", "--network-alias", "a1", "busybox", NULL),
                    CLI_STATUS_DAEMON);
  container_opts_release (&o);
  assert_int_equal (parse (true, &o, "--network", "container:x", "--network-alias", "a1", "busybox", NULL),
                    CLI_STATUS_DAEMON);
  container_opts_release (&o);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_body_many_flags),
    cmocka_unit_test (test_body_interactive_tty_rm),
    cmocka_unit_test (test_body_detach_and_attach),
    cmocka_unit_test (test_env_file_and_seccomp),
    cmocka_unit_test (test_body_network_endpoint),
    cmocka_unit_test (test_body_errors),
    cmocka_unit_test (test_usage_errors),
    cmocka_unit_test (test_ram_bytes),
    cmocka_unit_test (test_nano_cpus),
    cmocka_unit_test (test_timestamps),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
