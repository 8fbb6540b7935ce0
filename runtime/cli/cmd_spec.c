#include "cli.h"
#include "cleanup.h"
#include "fs.h"
#include "spec.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
cmd_spec (struct cli_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' }, { NULL, 0, NULL, 0 } };
  const char *bundle = ".";
  cleanup_free char *path = NULL;
  skiff_error_t err = NULL;
  const char *text = spec_default_json ();
  int c;

  while ((c = getopt_long (argc, argv, "+b:", opts, NULL)) != -1)
    {
      if (c != 'b')
        return cli_usage ("spec", "[-b BUNDLE]", "invalid option");
      bundle = optarg;
    }
  if (cli_require_args (argc, optind, 0, "spec", "[-b BUNDLE]") < 0)
    return 1;
  if (asprintf (&path, "%s/config.json", bundle) < 0)
    return 1;
  if (access (path, F_OK) == 0)
    {
      skiff_error_make (&err, 0, "file `%s` exists: remove it first", path);
      return cli_fail (&err);
    }
  if (fs_write_file_atomic (path, text, strlen (text), 0644, &err) < 0)
    return cli_fail (&err);
  return 0;
}
