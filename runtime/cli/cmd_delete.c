#include "cli.h"
#include "container.h"

#include <getopt.h>

int
cmd_delete (struct cli_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  skiff_error_t err = NULL;
  bool force = false;
  int c;

  while ((c = getopt_long (argc, argv, "+f", opts, NULL)) != -1)
    {
      if (c != 'f')
        return cli_usage ("delete", "[-f] ID", "invalid option");
      force = true;
    }
  if (cli_require_args (argc, optind, 1, "delete", "[-f] ID") < 0)
    return 1;
  if (container_delete (g->root, argv[optind], force, &err) < 0)
    return cli_fail (&err);
  return 0;
}
