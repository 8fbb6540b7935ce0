/* Terminals: a pty created inside the container, its master handed to the
   caller over --console-socket with SCM_RIGHTS (as runc does).  */
#ifndef SKIFF_RUNTIME_TERMINAL_H
#define SKIFF_RUNTIME_TERMINAL_H

#include <stdbool.h>
#include "error.h"

/* Opens a new pty from /dev/ptmx of the current mount namespace.  */
int terminal_new_pty (int *master, char **slave_path, skiff_error_t *err);

/* In the container: makes the slave the controlling terminal and stdio.
   With console true, bind-mounts it on /dev/console first.  */
int terminal_setup_slave (const char *slave_path, bool console, unsigned int rows, unsigned int cols,
                          skiff_error_t *err);

/* Connects to the unix socket and sends master with SCM_RIGHTS.  */
int terminal_send_to_socket (const char *socket_path, int master, skiff_error_t *err);

/* Puts our stdin terminal in raw mode; restored by terminal_restore().  */
void terminal_make_raw (void);
void terminal_restore (void);
/* Copies our terminal's window size to the pty.  */
void terminal_copy_winsize (int master);

#endif
