#include "cli.h"
#include "container.h"

#include <getopt.h>

int
cmd_start (struct cli_global *g, int argc, char **argv)
{
  skiff_error_t err = NULL;
  if (getopt_long (argc, argv, "+", (struct option[]){ { NULL, 0, NULL, 0 } }, NULL) != -1)
    return cli_usage ("start", "ID", "invalid option");
  if (cli_require_args (argc, optind, 1, "start", "ID") < 0)
    return 1;
  if (container_start (g->root, argv[optind], &err) < 0)
    return cli_fail (&err);
  return 0;
}
