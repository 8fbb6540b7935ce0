/* Hijacked streams: attach, run -i/-t, exec -it, start -a.

   The request is written by hand on a unix-socket connection and the
   answer headers ("101 UPGRADED" or 200) parsed with libhttp-parser; then
   the connection carries raw bytes (tty) or Docker's multiplexed frames
   (8-byte header: stream type 1 stdout / 2 stderr, 3 zero bytes,
   big-endian u32 length).  */
#ifndef SKIFF_CLI_STREAM_H
#define SKIFF_CLI_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* ---- raw HTTP on a unix socket ---- */

struct raw_http
{
  int fd;
  void *parser;       /* http_parser * */
  int status;
  bool headers_done;
  bool complete;      /* the whole answer (with body) was read */
  char *body;         /* decoded body bytes (non-upgraded answers) */
  size_t body_len;
  char *raw;          /* every byte read from the connection */
  size_t raw_len;
  size_t parsed;      /* bytes of raw consumed by the parser */
  const char *extra;  /* bytes after the answer headers (points into raw) */
  size_t extra_len;
};

/* Connects, sends the request (extra_headers: "Name: value\r\n" lines or
   NULL) and reads the answer headers.  An answer >= 400 is read whole and
   returned as the daemon's error.  */
int raw_http_request (const char *socket_path, const char *method, const char *path, const char *extra_headers,
                      const char *body, size_t body_len, struct raw_http *h, skiff_error_t *err);
/* Reads the rest of the answer body (after raw_http_request).  */
int raw_http_read_body (struct raw_http *h, skiff_error_t *err);
void raw_http_release (struct raw_http *h);

/* ---- detach keys ---- */

#define DETACH_KEYS_MAX 32
#define DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"

/* Docker's syntax: comma-separated "ctrl-<x>" (x in a-z @ [ \ ] ^ _),
   single characters, or "DEL".  */
int detach_keys_parse (const char *spec, unsigned char *keys, size_t *nkeys, skiff_error_t *err);

struct detach_matcher
{
  unsigned char keys[DETACH_KEYS_MAX];
  size_t nkeys;
  size_t pos;  /* keys matched so far (held back from the output) */
};

void detach_matcher_init (struct detach_matcher *m, const unsigned char *keys, size_t nkeys);
/* Copies the input to out (room for n + DETACH_KEYS_MAX bytes), holding
   back a partial match of the sequence and releasing it when the match
   breaks.  Returns true when the whole sequence was typed; out then holds
   the bytes before it.  */
bool detach_matcher_feed (struct detach_matcher *m, const unsigned char *in, size_t n, unsigned char *out,
                          size_t *outlen);

/* ---- demultiplexer ---- */

struct demux
{
  unsigned char hdr[8];
  size_t hdr_len;
  uint32_t remaining;
  int stream;
  char *syserr;  /* stream 3 (system error) payload being collected */
  size_t syserr_len;
};

typedef int (*demux_fn) (int stream, const char *data, size_t len, void *opaque);

void demux_init (struct demux *d);
void demux_release (struct demux *d);
/* Feeds bytes as they come; fn gets every piece of payload with its
   stream (1 stdout, 2 stderr; stdin frames count as stdout).  Frames may
   be split anywhere across calls.  */
int demux_feed (struct demux *d, const char *buf, size_t len, demux_fn fn, void *opaque, skiff_error_t *err);

/* ---- the interactive pump ---- */

struct stream_opts
{
  int in_fd;     /* -1: no stdin */
  int out_fd;
  int err_fd;
  bool tty;      /* raw bytes; else multiplexed frames */
  const unsigned char *detach_keys;  /* used with a tty only, as Docker */
  size_t ndetach;
  /* Called at the start and on SIGWINCH when the local stdout is a tty. */
  void (*resize) (void *opaque, unsigned rows, unsigned cols);
  /* The first size sent is one row and one column bigger than the real
     one, which follows: a program already at that size gets SIGWINCH and
     redraws (docker attach's trick to show a shell's prompt again).  */
  bool redraw;
  /* Called for SIGINT, SIGTERM, ... when not NULL (signal proxy).  */
  void (*signal) (void *opaque, int signo);
  void *opaque;
};

#define STREAM_DETACHED 1

/* Pumps stdin to the connection and the connection to stdout/stderr until
   the connection ends (0) or the detach keys are typed (STREAM_DETACHED).
   Puts a terminal stdin in raw mode for a tty and restores it.  */
int stream_run (int fd, const char *pending, size_t pending_len, const struct stream_opts *o, skiff_error_t *err);

/* Writes all of buf to fd.  */
int write_all (int fd, const void *buf, size_t len);

#endif
