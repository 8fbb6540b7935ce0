/* Docker's JSON message stream as the docker CLI shows it
   (pkg/jsonmessage DisplayJSONMessagesStream): pull and push progress.

   On a terminal every id ("a1b2c3d4e5f6") keeps a line of its own that
   is rewritten in place (cursor up, clear line), with a progress bar when
   the terminal is wider than 110 columns.  Elsewhere one plain line per
   message ("id: status") and no progress updates.  */
#ifndef SKIFF_CLI_JSONMESSAGE_H
#define SKIFF_CLI_JSONMESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct jsonmsg_display
{
  FILE *out;
  bool tty;
  int width;       /* terminal columns */
  char **ids;      /* ids with a line, in line order */
  size_t n_ids;
  char *buf;       /* an incomplete line */
  size_t len;
  char *error;     /* the stream's "error" message, if any */
};

/* out may be NULL to show nothing (quiet).  */
void jsonmsg_display_init (struct jsonmsg_display *m, FILE *out);
/* A client_data_fn: feeds bytes of the stream as they come.  */
int jsonmsg_display_feed (const char *data, size_t len, void *opaque);
/* Shows what remains after the stream ended.  */
void jsonmsg_display_finish (struct jsonmsg_display *m);
void jsonmsg_display_release (struct jsonmsg_display *m);

/* One message (a JSON line) shown on out as the docker CLI does.  */
void jsonmsg_display_line (struct jsonmsg_display *m, const char *line);

#endif
