/* Logging: text or JSON lines (runc's `--log-format json` shape:
   {"level":"warning","msg":"...","time":"..."}), to stderr or a file.  */
#ifndef SKIFF_COMMON_LOG_H
#define SKIFF_COMMON_LOG_H

#include <stdbool.h>
#include "error.h"

enum skiff_log_level
{
  SKIFF_LOG_ERROR,
  SKIFF_LOG_WARNING,
  SKIFF_LOG_INFO,
  SKIFF_LOG_DEBUG
};

/* path NULL keeps stderr.  The file is opened for appending.  */
int skiff_log_init (const char *path, bool json, enum skiff_log_level level, skiff_error_t *err);
int skiff_log_level_from_name (const char *name); /* -1 when unknown */
void skiff_log (enum skiff_log_level level, const char *fmt, ...) SKIFF_PRINTF (2, 3);
/* The log file descriptor (for children that log after exec), or 2.  */
int skiff_log_fd (void);
bool skiff_log_is_json (void);

#define log_error(...) skiff_log (SKIFF_LOG_ERROR, __VA_ARGS__)
#define log_warning(...) skiff_log (SKIFF_LOG_WARNING, __VA_ARGS__)
#define log_info(...) skiff_log (SKIFF_LOG_INFO, __VA_ARGS__)
#define log_debug(...) skiff_log (SKIFF_LOG_DEBUG, __VA_ARGS__)

#endif
