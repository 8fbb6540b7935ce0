#include "cli.h"
#include "container.h"
#include "signals.h"

#include <getopt.h>
#include <signal.h>

static const char kill_usage[] = "[-a] ID [SIGNAL]";

int
cmd_kill (struct cli_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
  skiff_error_t err = NULL;
  bool all = false;
  int c, sig = SIGTERM;

  while ((c = getopt_long (argc, argv, "+a", opts, NULL)) != -1)
    {
      if (c != 'a')
        return cli_usage ("kill", kill_usage, "invalid option");
      all = true;
    }
  if (argc - optind < 1 || argc - optind > 2)
    return cli_usage ("kill", kill_usage, "expected an id and an optional signal");
  if (argc - optind == 2)
    {
      sig = signal_parse (argv[optind + 1]);
      if (sig < 0)
        return cli_usage ("kill", kill_usage, "unknown signal `%s`", argv[optind + 1]);
    }
  if (container_kill (g->root, argv[optind], sig, all, &err) < 0)
    return cli_fail (&err);
  return 0;
}
