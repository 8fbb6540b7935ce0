/* skiff-image's output: Docker's JSON progress messages on stdout.  */
#include "helper.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "progress_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A message that cannot be written (skiffd gone) is dropped: the
   operation goes on and ends by itself, as it did inside skiffd when the
   client went away.  */
static void
write_line (const char *text)
{
  cleanup_free char *line = NULL;

  if (asprintf (&line, "%s\r\n", text) >= 0)
    fs_write_all (STDOUT_FILENO, line, strlen (line));
}

void
output_progress (void *data, const char *id, const char *status, int64_t current, int64_t total)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *text = NULL;

  if (g == NULL)
    return;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "status", status);
  if (id)
    {
      json_gen_str (g, "progressDetail");
      yajl_gen_map_open (g);
      if (total > 0)
        {
          json_gen_kv_int (g, "current", current);
          json_gen_kv_int (g, "total", total);
        }
      yajl_gen_map_close (g);
      if (total > 0)
        {
          char bar[128];
          progress_text (current, total, bar, sizeof (bar));
          json_gen_kv_str (g, "progress", bar);
        }
      json_gen_kv_str (g, "id", id);
    }
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text)
    write_line (text);
}

void
output_aux (const char *aux)
{
  cleanup_free char *text = NULL;
  if (asprintf (&text, "{\"progressDetail\":{},\"aux\":%s}", aux) >= 0)
    write_line (text);
}

int
read_stdin (size_t max, char **out, skiff_error_t *err)
{
  cleanup_free char *buf = malloc (max + 2);
  size_t len = 0;

  if (buf == NULL)
    return skiff_error_make (err, ENOMEM, "read stdin");
  for (;;)
    {
      ssize_t n = read (STDIN_FILENO, buf + len, max + 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return skiff_error_make (err, errno, "read stdin");
      if (n == 0)
        break;
      len += n;
      if (len > max)
        return skiff_error_make (err, 0, "stdin: more than %zu bytes", max);
    }
  buf[len] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}
