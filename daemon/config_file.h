/* /etc/skiff/daemon.json: the same keys as Docker's daemon.json, for what
   skiffd supports.  Command-line options win over the file.  */
#ifndef SKIFF_DAEMON_CONFIG_FILE_H
#define SKIFF_DAEMON_CONFIG_FILE_H

#include <stdbool.h>
#include "error.h"

struct daemon_config
{
  char *data_root, *exec_root, *pidfile, *log_level, *host;
  char **dns;                 /* "dns": upstream name servers for containers */
  char **registry_mirrors;    /* "registry-mirrors" */
  char **insecure_registries; /* "insecure-registries" */
};

/* A missing file is an empty configuration; a key skiffd does not know is
   an error, as dockerd's "the following directives don't match".  */
int daemon_config_load (const char *path, bool must_exist, struct daemon_config *out, skiff_error_t *err);
void daemon_config_release (struct daemon_config *c);

#endif
