/* Pumping a hijacked client connection to a shim: attach (the init's
   stdio) and exec start (a new process).  Docker's stream format towards
   the client: raw bytes with a tty, else 8-byte multiplexed frames; the
   client's bytes are stdin, scanned for the detach keys.  */
#ifndef SKIFF_DAEMON_ATTACH_H
#define SKIFF_DAEMON_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "error.h"

struct attach_opts
{
  const char *shim_sock;
  bool tty;
  bool use_stdin, use_stdout, use_stderr;
  bool close_stdin_on_eof; /* StdinOnce, or an exec */
  const char *detach_keys; /* Docker's syntax, NULL: ctrl-p,ctrl-q */
  const char *exec_process_json; /* non-NULL: EXEC instead of ATTACH */
  /* exec: called once with the pid (or an error), and at the end with the
     exit code (-1 when unknown).  */
  void (*on_started) (void *data, int pid, const char *error);
  void (*on_exit) (void *data, int exit_code);
  /* attach: called once when the shim has taken the ATTACH (or the pump
     failed), so that a container launched with --no-start can start
     without losing output.  */
  void (*on_attached) (void *data);
  void *data;
};

struct attach_pump;

/* Takes ownership of client (from http_hijack) and leftover.base.  The
   pump lives until on_exit has been called (always exactly once when set),
   so a caller that keeps *pump must forget it in on_exit.  */
int attach_start (uv_loop_t *loop, uv_stream_t *client, uv_buf_t leftover, const struct attach_opts *o,
                  struct attach_pump **pump, skiff_error_t *err);

/* Resizes the terminal of the pump's process (an exec's own pty).  */
int attach_pump_resize (struct attach_pump *p, unsigned int height, unsigned int width);

/* Docker's detach key syntax ("ctrl-p,ctrl-q", "a", "ctrl-@") into bytes. */
int attach_parse_detach_keys (const char *spec, uint8_t *keys, size_t *n, skiff_error_t *err);

/* Sends one RESIZE frame to a shim (blocking, short).  */
int attach_resize (const char *shim_sock, unsigned int height, unsigned int width, skiff_error_t *err);

#endif
