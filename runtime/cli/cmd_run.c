#include "cli.h"
#include "container.h"

int
cmd_run (struct cli_global *g, int argc, char **argv)
{
  struct container_opts o = { .root = g->root };
  skiff_error_t err = NULL;
  int status = 0;

  if (cli_parse_container_opts ("run", argc, argv, true, &o) < 0)
    return 1;
  if (container_run (&o, &status, &err) < 0)
    return cli_fail (&err);
  return status;
}
