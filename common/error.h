/* skiff — one error type for every layer.
 *
 * A fallible function takes `skiff_error_t *err` as its last argument and
 * returns a negative value on failure, after filling *err with
 * skiff_error_make().  Callers add context on the way up with
 * skiff_error_wrap() and print it once, at the top, with skiff_error_print().
 */
#ifndef SKIFF_COMMON_ERROR_H
#define SKIFF_COMMON_ERROR_H

#include <stdio.h>

struct skiff_error_s
{
  int errno_;  /* errno of the failed call, 0 when none */
  int status;  /* exit status the program should use (1 unless set) */
  char *msg;
};
typedef struct skiff_error_s *skiff_error_t;

#define SKIFF_PRINTF(a, b) __attribute__ ((format (printf, a, b)))
#define UNLIKELY(x) __builtin_expect (!!(x), 0)

/* Builds *err from the message and, when errno_ is not 0, strerror(errno_).
   Always returns -1 so that `return skiff_error_make (...)` reads well.  */
int skiff_error_make (skiff_error_t *err, int errno_, const char *fmt, ...) SKIFF_PRINTF (3, 4);

/* Prefixes the message of *err with more context: "context: old message".  */
int skiff_error_wrap (skiff_error_t *err, const char *fmt, ...) SKIFF_PRINTF (2, 3);

void skiff_error_release (skiff_error_t *err);

/* Prints "prog: message" on stream and releases the error; returns its status.  */
int skiff_error_print (skiff_error_t *err, FILE *stream, const char *prog);

#endif
