/* The flags of `skiff run` and `skiff create` and the body of
   POST /containers/create built from them, as the docker CLI 20.10 sends
   it.  */
#ifndef SKIFF_CLI_CONTAINER_OPTS_H
#define SKIFF_CLI_CONTAINER_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include "cli.h"
#include "ports.h"

struct container_opts
{
  bool run;  /* parsing for run (-d, --detach-keys, --sig-proxy) */
  bool detach, interactive, tty, rm, read_only, privileged, init;
  bool entrypoint_set;
  bool sig_proxy;
  const char *name, *workdir, *user, *entrypoint, *hostname, *network, *restart, *detach_keys;
  bool network_set;    /* --network was given */
  const char *ip;      /* --ip */
  char **aliases;      /* --network-alias, in order */
  char **dns, **dns_search, **dns_options; /* --dns, --dns-search, --dns-option */
  char **env;          /* -e, in order */
  char **env_files;
  char **labels;
  char **cap_add, **cap_drop;
  char **security_opt; /* as given; seccomp=PATH is read at build time */
  char **attach;       /* -a */
  struct port_binding *ports; /* -p, expanded */
  size_t n_ports;
  struct port_binding *exposed; /* --expose, expanded (no host part) */
  size_t n_exposed;
  bool publish_all;    /* -P */
  int64_t memory, memory_swap, pids_limit, nano_cpus, cpu_shares;
  const char *image;
  char **cmd;          /* points into argv; NULL when no command */
  int ncmd;
};

void container_opts_release (struct container_opts *o);

/* Parses argv (argv[0] is the verb).  Returns 0, or the exit status of a
   usage error after printing it (with ctx->cmd's hint).  */
int container_opts_parse (struct cli_ctx *ctx, int argc, char **argv, bool run, struct container_opts *o);

/* Builds the JSON body of POST /containers/create.  Errors (env files,
   seccomp profiles, restart policy) are returned in err.  */
int container_opts_to_json (const struct container_opts *o, char **json, skiff_error_t *err);

/* go-units RAMInBytes: "32m", "1.5g", "512k", "100" (binary units).  */
int parse_ram_bytes (const char *s, int64_t *out, skiff_error_t *err);
/* --cpus: a decimal number of CPUs into nano-CPUs ("1.5" -> 1500000000).  */
int parse_nano_cpus (const char *s, int64_t *out, skiff_error_t *err);

#endif
