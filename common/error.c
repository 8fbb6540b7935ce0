#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
vformat (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    return NULL;
  return s;
}

int
skiff_error_make (skiff_error_t *err, int errno_, const char *fmt, ...)
{
  va_list ap;
  char *msg;

  if (err == NULL)
    return -1;
  /* Keep the first error: a cleanup path failing later must not hide it.  */
  if (*err != NULL)
    return -1;

  va_start (ap, fmt);
  msg = vformat (fmt, ap);
  va_end (ap);

  *err = calloc (1, sizeof (**err));
  if (*err == NULL)
    {
      free (msg);
      return -1;
    }
  (*err)->errno_ = errno_;
  (*err)->status = 1;
  if (errno_ != 0 && msg != NULL)
    {
      char *full = NULL;
      if (asprintf (&full, "%s: %s", msg, strerror (errno_)) >= 0)
        {
          free (msg);
          msg = full;
        }
    }
  (*err)->msg = msg ? msg : strdup ("out of memory");
  return -1;
}

int
skiff_error_wrap (skiff_error_t *err, const char *fmt, ...)
{
  va_list ap;
  char *ctx, *full = NULL;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  ctx = vformat (fmt, ap);
  va_end (ap);
  if (ctx == NULL)
    return -1;
  if (asprintf (&full, "%s: %s", ctx, (*err)->msg) >= 0)
    {
      free ((*err)->msg);
      (*err)->msg = full;
    }
  free (ctx);
  return -1;
}

void
skiff_error_release (skiff_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

int
skiff_error_print (skiff_error_t *err, FILE *stream, const char *prog)
{
  int status = 1;
  if (err == NULL || *err == NULL)
    return 0;
  status = (*err)->status;
  fprintf (stream, "%s: %s\n", prog, (*err)->msg);
  skiff_error_release (err);
  return status;
}
