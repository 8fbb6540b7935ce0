/* GET /containers/{id}/top: ps(1) output restricted to given pids, as
   Docker's {"Titles":[...],"Processes":[[...]]}.  */
#ifndef SKIFF_DAEMON_TOP_H
#define SKIFF_DAEMON_TOP_H

#include <sys/types.h>
#include "error.h"

/* ps_args: as `docker top` passes them (default "-ef").  Blocks briefly. */
int top_json (const char *ps_args, const pid_t *pids, size_t n, char **json, skiff_error_t *err);

/* Splits one ps output line into n_titles fields, the last one taking the
   rest of the line (commands contain spaces).  For tests.  */
char **top_split_line (const char *line, size_t n_titles);

#endif
