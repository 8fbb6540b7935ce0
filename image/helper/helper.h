/* skiff-image: the image operations that need libcurl, libarchive or
   libcrypto, run by skiffd in a process of their own per operation so that
   skiffd itself links none of them (doc/daemon.md, "skiff-image").

   What goes where:
     stdin   the request body (load, import), or the credentials (pull,
             push: the X-Registry-Auth value; login: the /auth JSON body),
             never on the command line
     stdout  Docker's JSON progress messages, one per line ending in CRLF,
             exactly as skiffd streams them to its client (pull, push), or
             the archive (save)
     stderr  log lines (skiffd's log)
     fd 3    when open: the result, one JSON object written at the end:
             {"ok":true,...} or {"ok":false,"kind":K,"message":"..."} with
             K "invalid", "not_found", "conflict", "denied" or "failed"  */
#ifndef SKIFF_IMAGE_HELPER_H
#define SKIFF_IMAGE_HELPER_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include "error.h"

struct image_store;

struct helper
{
  const char *root;               /* --root */
  const char *const *mirrors;     /* --registry-mirror, NULL-terminated */
  const char *const *insecure;    /* --insecure-registry, NULL-terminated */
  struct image_store *store;      /* joined for the commands that need it */
  yajl_gen result;                /* an open map: commands add their fields */
};

/* A command: argv[0] is its name.  Returns 0 or a negative IMAGE_* or
   REGISTRY_* status with *err set.  */
typedef int (*helper_cmd_fn) (struct helper *h, int argc, char **argv, skiff_error_t *err);

/* cmd_registry.c */
int cmd_pull (struct helper *h, int argc, char **argv, skiff_error_t *err);
int cmd_push (struct helper *h, int argc, char **argv, skiff_error_t *err);
int cmd_login (struct helper *h, int argc, char **argv, skiff_error_t *err);

/* cmd_archive.c */
int cmd_load (struct helper *h, int argc, char **argv, skiff_error_t *err);
int cmd_import (struct helper *h, int argc, char **argv, skiff_error_t *err);
int cmd_save (struct helper *h, int argc, char **argv, skiff_error_t *err);

/* The index of the first operand of a command without options (after an
   optional "--"), or -1 when an option is given.  */
int helper_operands (int argc, char **argv);

/* fork_server.c */

/* A command run in a process of the fork server: argv[0] is its name.
   Returns the process's exit status.  */
typedef int (*helper_forked_fn) (int argc, char **argv, void *data);

/* skiff-image --fork-server: serves skiffd on the SOCK_SEQPACKET socket fd
   until EOF on it and the end of every process it forked (the protocol is
   in fork_server.c).  Returns 0 then, or -1 with *err set.  */
int helper_fork_server (int fd, helper_forked_fn run, void *data, skiff_error_t *err);

/* output.c */

/* A pull_progress_fn (data unused): one Docker JSON message on stdout,
   {"status","progressDetail":{"current","total"},"progress","id"}.  */
void output_progress (void *data, const char *id, const char *status, int64_t current, int64_t total);

/* {"progressDetail":{},"aux":AUX} on stdout, AUX being JSON text.  */
void output_aux (const char *aux);

/* All of stdin (at most max bytes), NUL-terminated.  */
int read_stdin (size_t max, char **out, skiff_error_t *err);

#endif
