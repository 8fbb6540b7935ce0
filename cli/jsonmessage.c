/* Docker's JSON message stream display (jsonmessage.h).  */
#include "jsonmessage.h"
#include "cleanup.h"
#include "json.h"
#include "progress_text.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void
jsonmsg_display_init (struct jsonmsg_display *m, FILE *out)
{
  struct winsize ws;
  memset (m, 0, sizeof (*m));
  m->out = out;
  m->tty = out && isatty (fileno (out));
  m->width = 80;
  if (m->tty && ioctl (fileno (out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    m->width = ws.ws_col;
}

void
jsonmsg_display_release (struct jsonmsg_display *m)
{
  size_t i;
  for (i = 0; i < m->n_ids; i++)
    free (m->ids[i]);
  free (m->ids);
  free (m->buf);
  free (m->error);
  memset (m, 0, sizeof (*m));
}

static void
forget_ids (struct jsonmsg_display *m)
{
  size_t i;
  for (i = 0; i < m->n_ids; i++)
    free (m->ids[i]);
  m->n_ids = 0;
}

/* The line of id, a new one (printed as an empty line) when it has none.  */
static size_t
line_of (struct jsonmsg_display *m, const char *id)
{
  size_t i;
  char **n;
  for (i = 0; i < m->n_ids; i++)
    if (strcmp (m->ids[i], id) == 0)
      return i;
  n = realloc (m->ids, (m->n_ids + 1) * sizeof (char *));
  if (n == NULL)
    return m->n_ids;
  m->ids = n;
  m->ids[m->n_ids] = strdup (id);
  if (m->ids[m->n_ids] == NULL)
    return m->n_ids;
  if (m->tty)
    fputc ('\n', m->out);
  return m->n_ids++;
}

void
jsonmsg_display_line (struct jsonmsg_display *m, const char *line)
{
  cleanup_json yajl_val v = yajl_tree_parse (line, NULL, 0);
  yajl_val err, detail;
  const char *status, *id;
  int64_t current = 0, total = 0;
  bool has_progress;
  size_t diff = 0;
  char bar[160] = "";

  if (v == NULL || !YAJL_IS_OBJECT (v))
    return;
  err = json_get (v, "error");
  if (err && YAJL_IS_STRING (err))
    {
      free (m->error);
      m->error = strdup (json_str_or (err, "error"));
      return;
    }
  if (json_get (v, "aux") || m->out == NULL)
    return;
  if (YAJL_IS_STRING (json_get (v, "stream")))
    {
      forget_ids (m);
      fputs (json_str_or (json_get (v, "stream"), ""), m->out);
      fflush (m->out);
      return;
    }
  status = json_str_or (json_get (v, "status"), "");
  id = json_str_or (json_get (v, "id"), "");
  detail = json_get (v, "progressDetail");
  has_progress = detail && YAJL_IS_OBJECT (detail);
  if (has_progress)
    {
      current = json_int_or (json_get (detail, "current"), 0);
      total = json_int_or (json_get (detail, "total"), 0);
      progress_text_width (current, total, m->width, bar, sizeof (bar));
    }
  if (*id && has_progress)
    {
      size_t l = line_of (m, id);
      diff = m->n_ids - l;
      if (m->tty)
        fprintf (m->out, "\033[%zuA", diff);
    }
  else
    /* Anything else ends the lines kept for ids.  */
    forget_ids (m);
  if (m->tty && has_progress)
    fputs ("\033[2K\r", m->out);
  else if (has_progress && bar[0])
    return; /* no progress bars off a terminal */
  if (*id)
    fprintf (m->out, "%s: ", id);
  if (m->tty && has_progress)
    fprintf (m->out, "%s %s\r", status, bar);
  else
    fprintf (m->out, "%s\n", status);
  if (*id && has_progress && m->tty)
    fprintf (m->out, "\033[%zuB", diff);
  fflush (m->out);
}

int
jsonmsg_display_feed (const char *data, size_t len, void *opaque)
{
  struct jsonmsg_display *m = opaque;
  char *nl, *b = realloc (m->buf, m->len + len + 1);

  if (b == NULL)
    return -1;
  memcpy (b + m->len, data, len);
  m->buf = b;
  m->len += len;
  b[m->len] = '\0';
  while ((nl = memchr (m->buf, '\n', m->len)) != NULL)
    {
      *nl = '\0';
      jsonmsg_display_line (m, m->buf);
      m->len -= nl + 1 - m->buf;
      memmove (m->buf, nl + 1, m->len + 1);
    }
  return 0;
}

void
jsonmsg_display_finish (struct jsonmsg_display *m)
{
  if (m->len > 0)
    jsonmsg_display_line (m, m->buf);
  m->len = 0;
}
