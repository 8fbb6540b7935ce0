/* GET /containers/{id}/logs: Docker's json-file log read back, filtered
   (streams, since, until, tail), optionally followed, and sent raw (tty)
   or as multiplexed frames.

   The pure parts (one log line, times, frames, tail selection) are
   declared here too so that they can be tested without a server.  */
#ifndef SKIFF_DAEMON_LOGS_H
#define SKIFF_DAEMON_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

struct ctr;
struct http_request;

/* Serves the request (takes ownership, see http.h) for container c:
   query stdout, stderr, since, until, timestamps, tail, follow.  While it
   follows it holds a reference on c (ctr_ref).  */
void logs_serve (struct ctr *c, struct http_request *req);

/* ---- pure helpers ---- */

/* Docker's stream numbers in multiplexed frames.  */
enum logs_stream
{
  LOGS_STDOUT = 1,
  LOGS_STDERR = 2
};

/* One json-file entry.  */
struct logs_entry
{
  char *log;       /* malloc'd, may hold NUL bytes; not NUL-terminated */
  size_t log_len;
  enum logs_stream stream;
  int64_t time_ns; /* Unix time in nanoseconds */
};

/* Parses one line {"log":"...","stream":"stdout|stderr","time":"RFC3339Nano"}
   (without or with its trailing newline).  Unknown keys are ignored.  */
int logs_parse_line (const char *line, size_t len, struct logs_entry *out, skiff_error_t *err);
void logs_entry_clear (struct logs_entry *e);

/* RFC 3339 with an optional fraction (up to 9 digits) and "Z" or an offset,
   as Go's time.RFC3339Nano writes it.  -1 when malformed.  */
int logs_parse_rfc3339 (const char *s, size_t len, int64_t *ns);

/* Docker's timetypes.ParseTimestamps: "SECONDS[.FRACTION]" (what the CLI
   sends for --since/--until).  -1 when malformed.  */
int logs_parse_unix_time (const char *s, int64_t *ns);

/* Docker's jsonmessage.RFC3339NanoFixed in UTC: always nine fraction
   digits, "2006-01-02T15:04:05.000000000Z".  */
#define LOGS_TIME_LEN 31 /* with the NUL */
void logs_format_time (int64_t ns, char buf[LOGS_TIME_LEN]);

/* The 8-byte header of a multiplexed frame: stream, three zero bytes,
   big-endian payload length.  */
void logs_frame_header (unsigned char hdr[8], enum logs_stream stream, uint32_t len);

/* Appends the bytes one entry becomes on the wire to *buf (realloc'd):
   with timestamps the time and a space come first; multiplexed wraps it
   in a frame.  -1 when out of memory.  */
int logs_render (const struct logs_entry *e, bool timestamps, bool multiplexed, char **buf, size_t *len,
                 size_t *cap);

/* Tail selection, scanning a file backwards block by block.  buf is the
   block of the file just before everything scanned so far; *newlines is
   how many '\n' are still to be crossed, starting at lines + 1 for the
   last `lines` lines of a region that ends with '\n'.  Returns the offset
   in buf at which the tail starts, or -1 when it starts further back (then
   *newlines is updated; at the start of the file the tail starts at 0).  */
ssize_t logs_tail_scan (const char *buf, size_t len, size_t *newlines);

#endif
