#include "daemon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int
daemon_error (skiff_error_t *err, int http_status, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  skiff_error_make (err, 0, "%s", msg ? msg : "out of memory");
  free (msg);
  if (err && *err)
    (*err)->status = http_status;
  return -1;
}

int
daemon_error_status (skiff_error_t err)
{
  if (err == NULL || err->status < 100 || err->status > 599)
    return 500;
  return err->status;
}
