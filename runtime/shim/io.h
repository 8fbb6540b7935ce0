/* The shim's event loop (epoll + signalfd): the container's output to the
 * json-file log and to attached clients, client frames to stdin and the
 * pty, exec processes, and the reaping of children.
 *
 * Its life follows the container's, in phases driven by main.c:
 *   shim_loop_run     serve until the init has exited;
 *   shim_loop_drain   (after container_delete) read the rest of the output
 *                     and the exits of exec processes;
 *   shim_loop_finish  EXIT frames to the init's clients, flush, close.
 */
#ifndef SKIFF_SHIM_IO_H
#define SKIFF_SHIM_IO_H

#include <stdbool.h>
#include <sys/types.h>
#include "error.h"
#include "jsonlog.h"
#include "shim_proto.h"

struct shim_loop_config
{
  const char *runtime_root; /* for container_exec_launch */
  const char *id;
  bool stdin_once;          /* close the init's stdin when the first attached
                               stdin client detaches */
  bool start_pending;       /* the init waits in `created` for a START frame
                               (so that attach clients see all its output) */
};

struct shim_loop; /* opaque */

/* listen_fd (a listening unix socket) and signal_fd (a signalfd for
   SIGCHLD, which the caller keeps blocked) become the loop's; log stays
   the caller's.  */
int shim_loop_new (const struct shim_loop_config *cfg, int listen_fd, int signal_fd, struct jsonlog *log,
                   struct shim_loop **out, skiff_error_t *err);

/* The container's init and its stdio, owned by the loop from now on:
   master is the pty master (-1 without a terminal; then out_fd and err_fd
   are the read ends of its stdout/stderr pipes); in_fd is the write end of
   its stdin pipe, or -1.  With a terminal, has_stdin says whether client
   stdin goes to the master.  */
int shim_loop_add_init (struct shim_loop *l, pid_t pid, int master, bool has_stdin, int in_fd, int out_fd, int err_fd,
                        skiff_error_t *err);

/* Serves until the init has exited; *wait_status is its waitpid status.  */
int shim_loop_run (struct shim_loop *l, int *wait_status, skiff_error_t *err);

/* Keeps serving until the init's output has reached EOF and every exec
   process has been reaped and reported, or timeout_ms passed.  Then
   flushes the partial lines of the log.  */
int shim_loop_drain (struct shim_loop *l, int timeout_ms, skiff_error_t *err);

/* Stops accepting connections, sends e as the EXIT frame to every client
   not bound to an exec process, and writes out what the clients have not
   read yet (for at most timeout_ms).  Closes every connection.  */
int shim_loop_finish (struct shim_loop *l, const struct shim_exit *e, int timeout_ms, skiff_error_t *err);

void shim_loop_free (struct shim_loop *l);

/* A waitpid status as a shell reports it: the code, or 128+N for signal N. */
int shim_exit_code (int wait_status);

#endif
