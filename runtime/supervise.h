/* Supervising a foreground process (`run` and `exec` without --detach):
   signals we receive are forwarded to it, and with a pty master the
   terminal is relayed between our stdio and the pty.  */
#ifndef SKIFF_RUNTIME_SUPERVISE_H
#define SKIFF_RUNTIME_SUPERVISE_H

#include <sys/types.h>
#include "error.h"

/* Blocks the signals that supervise_wait() handles.  Call before the
   child exists, so that no signal is lost in between.  */
int supervise_block_signals (skiff_error_t *err);

/* Waits for pid (our child) to exit; returns its status as a shell would:
   the exit code, or 128+N when killed by signal N.  master may be -1.  */
int supervise_wait (pid_t pid, int master, int *exit_status, skiff_error_t *err);

#endif
