#include "cli.h"
#include "container.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char create_usage[] = "[-b BUNDLE] [--console-socket PATH] [--pid-file PATH] [--no-pivot] ID";
static const char run_usage[] = "[-b BUNDLE] [--console-socket PATH] [--pid-file PATH] [--no-pivot] [-d] ID";

int
cli_parse_container_opts (const char *verb, int argc, char **argv, bool allow_detach, struct container_opts *o)
{
  enum
  {
    OPT_CONSOLE = 256,
    OPT_PID_FILE,
    OPT_NO_PIVOT,
    OPT_NO_NEW_KEYRING,
    OPT_PRESERVE_FDS,
  };
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "console-socket", required_argument, NULL, OPT_CONSOLE },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
    { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },
    { "detach", no_argument, NULL, 'd' },
    { NULL, 0, NULL, 0 },
  };
  const char *usage = allow_detach ? run_usage : create_usage;
  int c;

  o->bundle = ".";
  while ((c = getopt_long (argc, argv, allow_detach ? "+b:d" : "+b:", opts, NULL)) != -1)
    {
      switch (c)
        {
        case 'b':
          o->bundle = optarg;
          break;
        case 'd':
          if (!allow_detach)
            return cli_usage (verb, usage, "unknown option --detach"), -1;
          o->detach = true;
          break;
        case OPT_CONSOLE:
          o->console_socket = optarg;
          break;
        case OPT_PID_FILE:
          o->pid_file = optarg;
          break;
        case OPT_NO_PIVOT:
          o->no_pivot = true;
          break;
        case OPT_NO_NEW_KEYRING:
          break; /* no session keyring is ever created */
        default:
          cli_usage (verb, usage, "invalid option");
          return -1;
        }
    }
  if (cli_require_args (argc, optind, 1, verb, usage) < 0)
    return -1;
  o->id = argv[optind];
  return optind;
}

int
cmd_create (struct cli_global *g, int argc, char **argv)
{
  struct container_opts o = { .root = g->root };
  skiff_error_t err = NULL;

  if (cli_parse_container_opts ("create", argc, argv, false, &o) < 0)
    return 1;
  if (container_create (&o, &err) < 0)
    return cli_fail (&err);
  return 0;
}
