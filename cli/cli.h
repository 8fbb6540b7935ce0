/* skiff: the command-line client.  One file per group of verbs over the
   HTTP client (client.h), the stream code (stream.h) and the formatting
   code (format.h).  */
#ifndef SKIFF_CLI_CLI_H
#define SKIFF_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <yajl/yajl_tree.h>
#include "client.h"
#include "error.h"

/* Docker's exit statuses for errors of the client itself.  */
#define CLI_STATUS_DAEMON 125   /* run/create: daemon or usage error */
#define CLI_STATUS_CANNOT_INVOKE 126
#define CLI_STATUS_NOT_FOUND 127

struct cli_ctx
{
  const char *cmd;       /* as shown in messages: "run", "container ls" */
  const char *usage;     /* "[OPTIONS] IMAGE [COMMAND] [ARG...]" */
  const char *summary;   /* one line */
  const char *options;   /* the Options: block of --help */
  int status;            /* exit status after CLI_OPT_EXIT */
  struct skiff_client client;
};

typedef int (*cli_command_fn) (struct cli_ctx *ctx, int argc, char **argv);

#define CLI_OPT_EXIT (-2)

/* getopt_long with Docker's messages.  shortopts must start with "+:".
   Returns the option, -1 after the last one, or CLI_OPT_EXIT after
   printing --help (ctx->status 0) or a flag error (ctx->status 125).  */
int cli_getopt (struct cli_ctx *ctx, int argc, char **argv, const char *shortopts, const struct option *longopts);
/* A flag value error: "invalid argument "V" for "FLAG" flag: MSG" and the
   hint; returns 125.  */
int cli_flag_error (struct cli_ctx *ctx, const char *fmt, ...) SKIFF_PRINTF (2, 3);
/* Argument count checks as cobra's: print the message, return 1 when the
   count is wrong, 0 when it is fine.  max < 0: no upper bound.  */
int cli_check_args (struct cli_ctx *ctx, int nargs, int min, int max);
/* A prune answer's list of deleted objects (member key of v), under title,
   as the docker CLI prints it; nothing when the list is empty.  */
void cli_print_deleted (yajl_val v, const char *key, const char *title);
/* Prints err->msg on stderr and returns its status (1 by default).  */
int cli_fail (skiff_error_t *err);
/* Docker's "docker: MSG.\nSee 'docker CMD --help'." of run/create.  */
void cli_report_run_error (struct cli_ctx *ctx, const char *msg, bool with_help);

/* Appends a copy of s to a NULL-terminated vector.  */
int strv_push (char ***v, const char *s);
size_t strv_len (char **v);

/* docker's GetTimestamp for --since/--until: a Go duration ("10m") back
   from now, a Unix time as is, or an RFC 3339 date or a day; *out is the
   API's "<seconds>.<nanoseconds>".  */
int cli_parse_timestamp (const char *value, time_t now, char **out, skiff_error_t *err);

/* "host:5000/app:1" -> repo "host:5000/app", tag "1" ("" when there is
   none); a digest reference is refused, as docker tag and push do.  */
int cli_split_repo_tag (const char *ref, char **repo, char **tag, skiff_error_t *err);

/* "busybox" -> name "docker.io/library/busybox", tag "latest" (or the
   digest after '@'); the familiar form for messages is "busybox:latest".
   Returns -1 on ENOMEM.  */
int cli_split_reference (const char *ref, char **name, char **tag, char **familiar);

/* Pulls name:tag (tag may be a digest) through the daemon with the
   credentials of `skiff login`, the progress shown on out (NULL: none) as
   the docker CLI shows it; platform may be NULL.  */
int cli_pull_image (struct cli_ctx *ctx, const char *name, const char *tag, const char *platform, FILE *out,
                    skiff_error_t *err);

/* GET /containers|images/NAME/json; a 404 is docker's
   "Error: No such container: NAME".  kind: "container" or "image".  */
int cli_inspect_object (struct cli_ctx *ctx, const char *kind, const char *name, yajl_val *out, skiff_error_t *err);

/* The end of every inspect: each object through the --format template,
   or all of them as docker's indented JSON array; frees them; then the
   errors on stderr (docker prints them after the output).  Returns status,
   or the failure of a template.  */
int cli_print_inspected (const char *format, yajl_val *found, size_t nfound, char **errors, int status);

/* Returns a malloc'd "/containers/<escaped id><suffix>".  */
char *cli_path (const char *prefix, const char *id, const char *suffix);

int cmd_run (struct cli_ctx *ctx, int argc, char **argv);
int cmd_create (struct cli_ctx *ctx, int argc, char **argv);
int cmd_start (struct cli_ctx *ctx, int argc, char **argv);
int cmd_attach (struct cli_ctx *ctx, int argc, char **argv);
int cmd_stop (struct cli_ctx *ctx, int argc, char **argv);
int cmd_kill (struct cli_ctx *ctx, int argc, char **argv);
int cmd_restart (struct cli_ctx *ctx, int argc, char **argv);
int cmd_rm (struct cli_ctx *ctx, int argc, char **argv);
int cmd_ps (struct cli_ctx *ctx, int argc, char **argv);
int cmd_inspect (struct cli_ctx *ctx, int argc, char **argv);
int cmd_container_inspect (struct cli_ctx *ctx, int argc, char **argv);
int cmd_image_inspect (struct cli_ctx *ctx, int argc, char **argv);
int cmd_wait (struct cli_ctx *ctx, int argc, char **argv);
int cmd_top (struct cli_ctx *ctx, int argc, char **argv);
int cmd_port (struct cli_ctx *ctx, int argc, char **argv);
int cmd_container_prune (struct cli_ctx *ctx, int argc, char **argv);
int cmd_logs (struct cli_ctx *ctx, int argc, char **argv);
int cmd_exec (struct cli_ctx *ctx, int argc, char **argv);
int cmd_images (struct cli_ctx *ctx, int argc, char **argv);
int cmd_rmi (struct cli_ctx *ctx, int argc, char **argv);
int cmd_image_prune (struct cli_ctx *ctx, int argc, char **argv);
int cmd_load (struct cli_ctx *ctx, int argc, char **argv);
int cmd_save (struct cli_ctx *ctx, int argc, char **argv);
int cmd_import (struct cli_ctx *ctx, int argc, char **argv);
int cmd_tag (struct cli_ctx *ctx, int argc, char **argv);
int cmd_push (struct cli_ctx *ctx, int argc, char **argv);
int cmd_pull (struct cli_ctx *ctx, int argc, char **argv);
int cmd_login (struct cli_ctx *ctx, int argc, char **argv);
int cmd_logout (struct cli_ctx *ctx, int argc, char **argv);
int cmd_version (struct cli_ctx *ctx, int argc, char **argv);
int cmd_info (struct cli_ctx *ctx, int argc, char **argv);
int cmd_network_ls (struct cli_ctx *ctx, int argc, char **argv);
int cmd_network_inspect (struct cli_ctx *ctx, int argc, char **argv);
int cmd_network_create (struct cli_ctx *ctx, int argc, char **argv);
int cmd_network_rm (struct cli_ctx *ctx, int argc, char **argv);
int cmd_network_connect (struct cli_ctx *ctx, int argc, char **argv);
int cmd_network_disconnect (struct cli_ctx *ctx, int argc, char **argv);
int cmd_network_prune (struct cli_ctx *ctx, int argc, char **argv);

/* The Options: block of run and create.  */
extern const char cli_run_options[];

/* Shared by run, start -a, attach and exec (cmd_run.c).  */
struct attach_opts
{
  bool stdin_, stdout_, stderr_;
  bool tty;
  const char *detach_keys;  /* NULL: default */
  bool sig_proxy;
  bool redraw;              /* see stream_opts.redraw */
};
/* Opens the hijacked attach connection of a container.  */
struct raw_http;
int cli_attach_open (struct cli_ctx *ctx, const char *id, const struct attach_opts *a, struct raw_http *h,
                     skiff_error_t *err);
/* Streams an open attach/exec connection until it ends; returns 0,
   STREAM_DETACHED or -1.  resize_prefix is "/containers/ID" or "/exec/ID". */
int cli_attach_stream (struct cli_ctx *ctx, struct raw_http *h, const char *resize_prefix, const char *kill_id,
                       const struct attach_opts *a, skiff_error_t *err);
/* POST /containers/ID/wait?condition=C sent now; the status is read by
   cli_wait_finish.  */
int cli_wait_begin (struct cli_ctx *ctx, const char *id, const char *condition, struct raw_http *h,
                    skiff_error_t *err);
int cli_wait_finish (struct raw_http *h, int *status, skiff_error_t *err);

#endif
