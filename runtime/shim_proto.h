/* The frames spoken on a shim's control socket (<state-dir>/shim.sock),
 * see doc/daemon.md "Frames on shim.sock".
 *
 * Every message, both ways: u8 type, u32 length (big endian), length bytes
 * of payload.  Control payloads are small JSON objects; STDIN, STDOUT and
 * STDERR carry raw bytes.
 *
 * The codec is pure (no I/O): skiffd feeds what its libuv stream reads
 * into a shim_decoder and encodes with shim_frame_encode().  The blocking
 * helpers at the end are for simple clients (shimctl, tests, the CLI-less
 * paths of skiffd that may block).
 */
#ifndef SKIFF_RUNTIME_SHIM_PROTO_H
#define SKIFF_RUNTIME_SHIM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

/* Names of the files in the shim's state directory.  */
#define SHIM_SOCK_NAME "shim.sock"
#define SHIM_PID_NAME "shim.pid"
#define SHIM_EXIT_NAME "exit.json"

enum shim_frame_type
{
  SHIM_FRAME_STDIN = 0,       /* client -> shim: bytes for the process's stdin */
  SHIM_FRAME_STDOUT = 1,      /* shim -> client: output (Docker stream 1) */
  SHIM_FRAME_STDERR = 2,      /* shim -> client: output (Docker stream 2) */
  SHIM_FRAME_EXIT = 3,        /* shim -> client: {"exit_code":N,"oom_killed":B}, then close */
  SHIM_FRAME_ATTACH = 4,      /* client -> shim: {"stdin":B,"stdout":B,"stderr":B} */
  SHIM_FRAME_STDIN_CLOSE = 5, /* client -> shim: close the process's stdin */
  SHIM_FRAME_RESIZE = 6,      /* client -> shim: {"height":H,"width":W} */
  SHIM_FRAME_EXEC = 7,        /* client -> shim: {"process":{...},"stdin":B,"detach":B} */
  SHIM_FRAME_STARTED = 8,     /* shim -> client: {"pid":N} or {"error":"..."} then close */
  SHIM_FRAME_STATUS = 9,      /* both ways: empty request, {"pid":N,"running":B} answer */
  SHIM_FRAME_START = 10,      /* client -> shim: start a container launched with --no-start */
};
#define SHIM_FRAME_TYPE_MAX SHIM_FRAME_START

#define SHIM_FRAME_HEADER_LEN 5
/* Larger frames are a protocol error (the shim sends output in chunks of
   at most 32 KiB; an EXEC's process object is the largest control
   payload).  */
#define SHIM_FRAME_MAX_PAYLOAD (4u << 20)

bool shim_frame_type_valid (unsigned int type);
/* "STDIN", "STDOUT", ... or "UNKNOWN".  */
const char *shim_frame_type_name (unsigned int type);

void shim_frame_header_encode (uint8_t hdr[SHIM_FRAME_HEADER_LEN], enum shim_frame_type type, uint32_t len);
/* Fails on an unknown type or a length above SHIM_FRAME_MAX_PAYLOAD.  */
int shim_frame_header_decode (const uint8_t hdr[SHIM_FRAME_HEADER_LEN], uint8_t *type, uint32_t *len,
                              skiff_error_t *err);

/* A whole frame (header + payload) in one malloc'd buffer.  */
int shim_frame_encode (enum shim_frame_type type, const void *data, size_t len, uint8_t **out, size_t *out_len,
                       skiff_error_t *err);

/* One decoded frame.  data is malloc'd and NUL-terminated (so a JSON
   payload can be parsed in place); len excludes the NUL.  */
struct shim_frame
{
  uint8_t type;
  uint32_t len;
  char *data;
};
void shim_frame_clear (struct shim_frame *f);

/* Incremental decoder for a byte stream.  */
struct shim_decoder
{
  uint8_t *buf;
  size_t off, len, cap;
};
void shim_decoder_init (struct shim_decoder *d);
void shim_decoder_release (struct shim_decoder *d);
int shim_decoder_feed (struct shim_decoder *d, const void *data, size_t len, skiff_error_t *err);
/* 1: *out holds the next frame (release it with shim_frame_clear);
   0: more bytes are needed; -1: the stream is corrupt (unknown type or
   oversized frame): drop the connection.  */
int shim_decoder_next (struct shim_decoder *d, struct shim_frame *out, skiff_error_t *err);
/* Bytes of an incomplete frame are buffered (EOF now would cut a frame).  */
bool shim_decoder_pending (const struct shim_decoder *d);

/* ---- payloads ---------------------------------------------------------- */
/* The *_json functions return malloc'd text (NULL only when out of
   memory or, for shim_exec_json, when process_json is not valid JSON).
   The *_parse functions take NUL-terminated text; missing fields keep the
   defaults given in the comments.  */

struct shim_attach_req
{
  bool use_stdin, use_stdout, use_stderr; /* default false */
};
char *shim_attach_json (const struct shim_attach_req *r);
int shim_attach_parse (const char *json, struct shim_attach_req *out, skiff_error_t *err);

struct shim_resize_req
{
  unsigned int height, width; /* required, each 1..65535 */
};
char *shim_resize_json (const struct shim_resize_req *r);
int shim_resize_parse (const char *json, struct shim_resize_req *out, skiff_error_t *err);

struct shim_exec_req
{
  char *process_json; /* the OCI process object as JSON text (required) */
  bool use_stdin;     /* default false */
  bool detach;        /* default false */
};
char *shim_exec_json (const struct shim_exec_req *r);
int shim_exec_parse (const char *json, struct shim_exec_req *out, skiff_error_t *err);
void shim_exec_req_clear (struct shim_exec_req *r);

/* STARTED: pid > 0, or error set (then pid is 0).  */
struct shim_started
{
  pid_t pid;
  char *error;
};
char *shim_started_json (pid_t pid, const char *error);
int shim_started_parse (const char *json, struct shim_started *out, skiff_error_t *err);
void shim_started_clear (struct shim_started *s);

/* EXIT: exit_code as a shell reports it (128+N for signal N).  */
struct shim_exit
{
  int exit_code;
  bool oom_killed;
};
char *shim_exit_json (const struct shim_exit *e);
int shim_exit_parse (const char *json, struct shim_exit *out, skiff_error_t *err);

/* STATUS answer: pid of the container's init; running false once it has
   exited (the shim is then cleaning up).  */
struct shim_status
{
  pid_t pid;
  bool running;
};
char *shim_status_json (const struct shim_status *s);
int shim_status_parse (const char *json, struct shim_status *out, skiff_error_t *err);

/* exit.json in the state directory:
   {"exit_code":N,"oom_killed":B,"finished_at":"RFC3339","error":""}.  */
struct shim_exit_file
{
  int exit_code;
  bool oom_killed;
  char *finished_at;
  char *error; /* "" when none */
};
char *shim_exit_file_json (const struct shim_exit_file *f);
int shim_exit_file_parse (const char *json, struct shim_exit_file *out, skiff_error_t *err);
int shim_exit_file_read (const char *path, struct shim_exit_file *out, skiff_error_t *err);
void shim_exit_file_clear (struct shim_exit_file *f);

/* ---- blocking helpers ------------------------------------------------ */

/* Connects to a shim socket (a path longer than sun_path is reached
   through /proc/self/fd).  Returns the fd (SOCK_CLOEXEC).  */
int shim_connect (const char *path, skiff_error_t *err);
/* Writes one whole frame, retrying on EINTR and short writes.  */
int shim_write_frame (int fd, enum shim_frame_type type, const void *data, size_t len, skiff_error_t *err);
/* Reads one whole frame: 1 with *out filled, 0 at EOF before a frame
   starts, -1 on error (including EOF inside a frame).  */
int shim_read_frame (int fd, struct shim_frame *out, skiff_error_t *err);

#endif
