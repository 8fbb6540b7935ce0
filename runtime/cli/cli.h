/* skiff-runtime: one small file per verb over the runtime library.  */
#ifndef SKIFF_RUNTIME_CLI_H
#define SKIFF_RUNTIME_CLI_H

#include <stdbool.h>
#include "error.h"

struct cli_global
{
  const char *root;
  const char *log;
  bool log_json;
  bool debug;
};

typedef int (*cli_command_fn) (struct cli_global *g, int argc, char **argv);

int cmd_create (struct cli_global *g, int argc, char **argv);
int cmd_delete (struct cli_global *g, int argc, char **argv);
int cmd_exec (struct cli_global *g, int argc, char **argv);
int cmd_kill (struct cli_global *g, int argc, char **argv);
int cmd_list (struct cli_global *g, int argc, char **argv);
int cmd_ps (struct cli_global *g, int argc, char **argv);
int cmd_run (struct cli_global *g, int argc, char **argv);
int cmd_spec (struct cli_global *g, int argc, char **argv);
int cmd_start (struct cli_global *g, int argc, char **argv);
int cmd_state (struct cli_global *g, int argc, char **argv);

/* Reports err (on stderr and in the log) and returns the exit status.  */
int cli_fail (skiff_error_t *err);
/* Usage error: prints the message and the verb's usage, returns 1.  */
int cli_usage (const char *verb, const char *usage, const char *fmt, ...) SKIFF_PRINTF (3, 4);
/* Exactly `want` positional arguments remain, or a usage error.  */
int cli_require_args (int argc, int optind_, int want, const char *verb, const char *usage);



struct container_opts;
/* Parses the options shared by create and run; `run` also takes -d.
   Returns the index of the container id in argv, or -1 on a usage error. */
int cli_parse_container_opts (const char *verb, int argc, char **argv, bool allow_detach, struct container_opts *o);
#endif
