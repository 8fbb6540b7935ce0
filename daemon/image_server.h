/* skiffd's side of skiff-image's fork server (image/helper/fork_server.c):
   one `skiff-image --fork-server` per daemon, started with the first image
   operation, forks a process per operation; it ends after
   --image-helper-idle seconds without one, or at shutdown.  image_helper.c
   runs operations through it when that setting is not 0.  */
#ifndef SKIFF_DAEMON_IMAGE_SERVER_H
#define SKIFF_DAEMON_IMAGE_SERVER_H

#include <stdint.h>
#include "error.h"

struct daemon;

struct image_server_op
{
  /* The operation's process runs (pid > 0), or could not be made (pid is
     -errno); at most once, before on_exited.  */
  void (*on_started) (void *data, int pid);
  /* Its end, always exactly once: its exit code, or the signal that
     killed it (SIGKILL for the processes of a server that died).  */
  void (*on_exited) (void *data, int64_t exit_status, int term_signal);
  void *data;
};

/* Runs args ({"pull", "--", "alpine", NULL}) in a process of the server,
   with fds[0], fds[1] and fds[2] as its stdin, stdout and result (fd 3);
   the caller closes its copies afterwards.  Starts the server when there
   is none.  On failure nothing runs and no callback is called.  */
int image_server_run (struct daemon *d, const char *const *args, const int fds[3], const struct image_server_op *op,
                      skiff_error_t *err);

/* Ends the server (EOF on its socket) once its operations have ended.  */
void image_server_stop (struct daemon *d);

#endif
