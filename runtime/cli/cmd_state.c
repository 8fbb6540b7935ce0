#include "cli.h"
#include "cleanup.h"
#include "container.h"

#include <getopt.h>
#include <stdio.h>

int
cmd_state (struct cli_global *g, int argc, char **argv)
{
  skiff_error_t err = NULL;
  cleanup_free char *json = NULL;
  if (getopt_long (argc, argv, "+", (struct option[]){ { NULL, 0, NULL, 0 } }, NULL) != -1)
    return cli_usage ("state", "ID", "invalid option");
  if (cli_require_args (argc, optind, 1, "state", "ID") < 0)
    return 1;
  if (container_state_json (g->root, argv[optind], &json, &err) < 0)
    return cli_fail (&err);
  printf ("%s\n", json);
  return 0;
}
