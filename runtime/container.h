/* The container lifecycle: create, start, run, kill, delete, exec, state.
   This is the library behind skiff-runtime's verbs (and, later, the shim).  */
#ifndef SKIFF_RUNTIME_CONTAINER_H
#define SKIFF_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>
#include "error.h"
#include "spec.h"

#define SKIFF_RUNTIME_DEFAULT_ROOT "/run/skiff-runtime"

struct container_opts
{
  const char *root;           /* state directory (--root) */
  const char *id;
  const char *bundle;
  const char *console_socket; /* may be NULL */
  const char *pid_file;       /* may be NULL */
  bool no_pivot;
  bool detach;                /* run: return once started */
  bool set_stdio;             /* give the init stdio[0..2] instead of ours */
  int stdio[3];
};

int container_create (const struct container_opts *o, skiff_error_t *err);
int container_start (const char *root, const char *id, skiff_error_t *err);
/* create + start; without detach waits, forwards signals, deletes the
   container and returns its exit status in *exit_status.  */
int container_run (const struct container_opts *o, int *exit_status, skiff_error_t *err);
/* create + start for a supervisor (the shim): the caller stays the init's
   parent and must reap it.  *master gets the pty master when
   process.terminal is true (no console socket needed), else -1.  */
int container_launch (const struct container_opts *o, pid_t *pid, int *master, skiff_error_t *err);
/* The same without the start: the init waits in `created` until
   container_start(), so that a supervisor can connect its clients first. */
int container_launch_created (const struct container_opts *o, pid_t *pid, int *master, skiff_error_t *err);
int container_kill (const char *root, const char *id, int sig, bool all, skiff_error_t *err);
int container_delete (const char *root, const char *id, bool force, skiff_error_t *err);
/* The runtime-spec state JSON of one container.  */
int container_state_json (const char *root, const char *id, char **json, skiff_error_t *err);

struct exec_opts
{
  const char *root;
  const char *id;
  const char *console_socket;
  const char *pid_file;
  const char *process_file;   /* --process: a process.json */
  bool tty, detach, no_new_privs;
  const char *cwd;
  const char *user;           /* "uid[:gid]" */
  char **env;                 /* extra K=V */
  size_t n_env;
  gid_t *additional_gids;
  size_t n_additional_gids;
  char **caps;                /* extra capabilities */
  size_t n_caps;
  char **args;                /* command */
  size_t n_args;
  const char *process_json;   /* a process object as JSON text (instead of a file) */
  bool set_stdio;             /* give the process stdio[0..2] instead of ours */
  int stdio[3];
};

int container_exec (const struct exec_opts *o, int *exit_status, skiff_error_t *err);
/* exec for a supervisor: returns once the process runs; the caller is its
   parent and must reap it.  *master gets the pty master with a tty.  */
int container_exec_launch (const struct exec_opts *o, pid_t *pid, int *master, skiff_error_t *err);

/* For `list` and `ps`.  */
int container_list (const char *root, char ***ids, size_t *n, skiff_error_t *err);
int container_pids (const char *root, const char *id, pid_t **pids, size_t *n, skiff_error_t *err);

#endif
