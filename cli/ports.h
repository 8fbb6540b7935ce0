/* -p/--publish specs, as the docker CLI reads them (nat.ParsePortSpecs):
   [ip:][hostPort:]containerPort[/proto], with ranges on both sides.  */
#ifndef SKIFF_CLI_PORTS_H
#define SKIFF_CLI_PORTS_H

#include <stddef.h>
#include <yajl/yajl_gen.h>
#include "error.h"

struct port_binding
{
  char key[24];      /* "80/tcp" */
  char host_ip[48];  /* "" for any */
  char host_port[8]; /* "" for a port the daemon picks */
};

/* Appends the bindings of one spec to *list (realloc'd).  */
int ports_parse (const char *spec, struct port_binding **list, size_t *n, skiff_error_t *err);

/* Config.ExposedPorts and HostConfig.PortBindings (keys and values).  */
void ports_gen_exposed (yajl_gen g, const struct port_binding *list, size_t n);
void ports_gen_bindings (yajl_gen g, const struct port_binding *list, size_t n);

#endif
