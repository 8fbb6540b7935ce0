/* Docker's json-file log driver, as the shim writes it: one JSON object
 * per line,
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-27T08:00:00.123456789Z"}
 * byte for byte as Docker 20.10 writes it: strings escaped like its
 * jsonlog encoder (<, >, & and control characters as \u00XX, invalid
 * UTF-8 as \ufffd), time in Go's RFC3339Nano (UTC, trailing zeros of the
 * fraction dropped).
 * Output is cut at '\n'; a line without a newline is written as it is
 * ("log" without the trailing "\n", like Docker's partial messages) once
 * 16 KiB of it have accumulated, or by jsonlog_flush() at exit.
 */
#ifndef SKIFF_SHIM_JSONLOG_H
#define SKIFF_SHIM_JSONLOG_H

#include <stddef.h>
#include <time.h>
#include "error.h"

/* Docker's copier buffer: a longer line is split into pieces of this.  */
#define JSONLOG_LINE_MAX (16 * 1024)

enum jsonlog_stream
{
  JSONLOG_STDOUT,
  JSONLOG_STDERR
};

struct jsonlog; /* opaque */

/* Opens (creates, appends to) the log file.  */
int jsonlog_open (const char *path, struct jsonlog **out, skiff_error_t *err);
/* Adds output of one stream; complete lines are written at once.  */
int jsonlog_write (struct jsonlog *l, enum jsonlog_stream s, const void *data, size_t len, skiff_error_t *err);
/* Writes the partial line of one stream (at its EOF) or of both.  */
int jsonlog_flush_stream (struct jsonlog *l, enum jsonlog_stream s, skiff_error_t *err);
int jsonlog_flush (struct jsonlog *l, skiff_error_t *err);
void jsonlog_close (struct jsonlog *l);

/* Pure: appends one formatted entry (with its '\n') to *buf (malloc'd,
   *len bytes used, *cap allocated).  Returns -1 when out of memory.  */
int jsonlog_format (char **buf, size_t *len, size_t *cap, const void *data, size_t n, enum jsonlog_stream s,
                    const struct timespec *t);

#endif
