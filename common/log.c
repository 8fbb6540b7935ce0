#include "log.h"
#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static bool log_json = false;
static enum skiff_log_level log_max = SKIFF_LOG_WARNING;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

int
skiff_log_init (const char *path, bool json, enum skiff_log_level level, skiff_error_t *err)
{
  log_json = json;
  log_max = level;
  if (path)
    {
      int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0)
        return skiff_error_make (err, errno, "open log file `%s`", path);
      log_fd = fd;
    }
  return 0;
}

int
skiff_log_level_from_name (const char *name)
{
  size_t i;
  if (strcmp (name, "warn") == 0)
    return SKIFF_LOG_WARNING;
  for (i = 0; i < sizeof (level_names) / sizeof (level_names[0]); i++)
    if (strcmp (name, level_names[i]) == 0)
      return (int) i;
  return -1;
}

bool
skiff_log_is_json (void)
{
  return log_json;
}

int
skiff_log_fd (void)
{
  return log_fd;
}

void
skiff_log (enum skiff_log_level level, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  cleanup_free char *line = NULL;
  va_list ap;
  char stamp[64];
  struct timespec ts;
  struct tm tm;
  int saved = errno;
  int n;

  if (level > log_max)
    return;
  va_start (ap, fmt);
  n = vasprintf (&msg, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (stamp, sizeof (stamp), "%Y-%m-%dT%H:%M:%S", &tm);

  if (log_json)
    {
      cleanup_gen yajl_gen g = json_gen_new (false);
      char time_buf[96];
      if (g == NULL)
        return;
      snprintf (time_buf, sizeof (time_buf), "%s.%09ldZ", stamp, ts.tv_nsec);
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "level", level_names[level]);
      json_gen_kv_str (g, "msg", msg);
      json_gen_kv_str (g, "time", time_buf);
      yajl_gen_map_close (g);
      line = json_gen_steal (g, NULL);
      if (line == NULL)
        return;
      n = strlen (line);
      if (write (log_fd, line, n) < 0 || write (log_fd, "\n", 1) < 0)
        {
          /* nowhere left to report a logging failure */
        }
    }
  else
    {
      if (asprintf (&line, "%s %s: %s\n", stamp, level_names[level], msg) < 0)
        return;
      if (write (log_fd, line, strlen (line)) < 0)
        {
        }
    }
  errno = saved;
}
