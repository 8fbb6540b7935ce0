/* skiff-runtime: an OCI runtime with runc's command set.  */
#include "cli.h"
#include "container.h"
#include "log.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const struct
{
  const char *name;
  cli_command_fn fn;
  const char *help;
} commands[] = {
  { "create", cmd_create, "create a container" },
  { "delete", cmd_delete, "delete a container and what it holds" },
  { "exec", cmd_exec, "run a new process inside a container" },
  { "kill", cmd_kill, "send a signal to a container's init process" },
  { "list", cmd_list, "list the containers" },
  { "ps", cmd_ps, "show the processes running in a container" },
  { "run", cmd_run, "create and start a container" },
  { "spec", cmd_spec, "write a new config.json template" },
  { "start", cmd_start, "start the user process of a created container" },
  { "state", cmd_state, "print the state of a container" },
};

static void
usage (FILE *out)
{
  size_t i;
  fprintf (out, "Usage: skiff-runtime [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
                "An OCI runtime (runtime-spec 1.0.2 and later) with runc's commands.\n\n"
                "Commands:\n");
  for (i = 0; i < sizeof (commands) / sizeof (commands[0]); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].help);
  fprintf (out, "\nGlobal options:\n"
                "  --root DIR          state directory (default " SKIFF_RUNTIME_DEFAULT_ROOT ")\n"
                "  --log FILE          write errors and warnings to FILE\n"
                "  --log-format FMT    text or json\n"
                "  --debug             also log debug messages\n"
                "  --help, --version\n");
}

int
cli_fail (skiff_error_t *err)
{
  int status;
  if (err == NULL || *err == NULL)
    return 1;
  /* An error goes to stderr as one plain line, and also to the log when
     that is a file; a JSON log on stderr gets the JSON line only.  */
  if (skiff_log_fd () != 2 || skiff_log_is_json ())
    log_error ("%s", (*err)->msg);
  if (skiff_log_fd () != 2 || !skiff_log_is_json ())
    fprintf (stderr, "skiff-runtime: %s\n", (*err)->msg);
  status = (*err)->status;
  skiff_error_release (err);
  return status;
}

int
cli_usage (const char *verb, const char *usage_text, const char *fmt, ...)
{
  va_list ap;
  fprintf (stderr, "skiff-runtime %s: ", verb);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nUsage: skiff-runtime %s %s\n", verb, usage_text);
  return 1;
}

int
cli_require_args (int argc, int optind_, int want, const char *verb, const char *usage_text)
{
  if (argc - optind_ != want)
    {
      cli_usage (verb, usage_text, "expected %d argument%s, got %d", want, want == 1 ? "" : "s", argc - optind_);
      return -1;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  struct cli_global g = { .root = SKIFF_RUNTIME_DEFAULT_ROOT };
  const char *log_format = "text";
  skiff_error_t err = NULL;
  size_t i;
  int c;
  enum
  {
    OPT_ROOT = 256,
    OPT_LOG,
    OPT_LOG_FORMAT,
    OPT_DEBUG,
    OPT_HELP,
    OPT_VERSION,
    OPT_SYSTEMD_CGROUP,
  };
  static const struct option opts[] = {
    { "root", required_argument, NULL, OPT_ROOT },
    { "log", required_argument, NULL, OPT_LOG },
    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
    { "debug", no_argument, NULL, OPT_DEBUG },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
    { NULL, 0, NULL, 0 },
  };

  while ((c = getopt_long (argc, argv, "+hv", opts, NULL)) != -1)
    {
      switch (c)
        {
        case OPT_ROOT:
          g.root = optarg;
          break;
        case OPT_LOG:
          g.log = optarg;
          break;
        case OPT_LOG_FORMAT:
          log_format = optarg;
          break;
        case OPT_DEBUG:
          g.debug = true;
          break;
        case 'h':
        case OPT_HELP:
          usage (stdout);
          return 0;
        case 'v':
        case OPT_VERSION:
          printf ("skiff-runtime version %s\nspec: 1.0.2\n", PACKAGE_VERSION);
          return 0;
        case OPT_SYSTEMD_CGROUP:
          fprintf (stderr, "skiff-runtime: --systemd-cgroup is not supported: cgroups are managed directly\n");
          return 1;
        default:
          usage (stderr);
          return 1;
        }
    }
  if (strcmp (log_format, "json") == 0)
    g.log_json = true;
  else if (strcmp (log_format, "text") != 0)
    {
      fprintf (stderr, "skiff-runtime: invalid --log-format `%s`: use text or json\n", log_format);
      return 1;
    }
  if (skiff_log_init (g.log, g.log_json, g.debug ? SKIFF_LOG_DEBUG : SKIFF_LOG_WARNING, &err) < 0)
    return skiff_error_print (&err, stderr, "skiff-runtime");

  if (optind >= argc)
    {
      usage (stderr);
      return 1;
    }
  for (i = 0; i < sizeof (commands) / sizeof (commands[0]); i++)
    if (strcmp (argv[optind], commands[i].name) == 0)
      {
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        optind = 0; /* reset getopt for the verb */
        return commands[i].fn (&g, sub_argc, sub_argv);
      }
  fprintf (stderr, "skiff-runtime: unknown command `%s`\n", argv[optind]);
  usage (stderr);
  return 1;
}
