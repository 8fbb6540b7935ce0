/* Docker's progress text (progress_text.h).  */
#include "progress_text.h"

#include <stdio.h>
#include <string.h>

void
human_size (double bytes, char *out, size_t size)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
  size_t i = 0;
  while (bytes >= 1000.0 && i + 1 < sizeof (units) / sizeof (units[0]))
    bytes /= 1000.0, i++;
  snprintf (out, size, "%.4g%s", bytes, units[i]);
}

void
progress_text_width (int64_t current, int64_t total, int width, char *out, size_t size)
{
  char cur[16], tot[16], bar[64] = "";
  int pct;

  if (size == 0)
    return;
  out[0] = '\0';
  if (current <= 0 && total <= 0)
    return;
  human_size ((double) current, cur, sizeof (cur));
  if (total <= 0)
    {
      snprintf (out, size, "%8s", cur);
      return;
    }
  pct = (int) ((double) current / (double) total * 100) / 2;
  if (pct > 50)
    pct = 50;
  if (width > 110)
    {
      bar[0] = '[';
      memset (bar + 1, '=', pct);
      bar[1 + pct] = '>';
      memset (bar + 2 + pct, ' ', 50 - pct);
      bar[52] = ']';
      bar[53] = ' ';
      bar[54] = '\0';
    }
  human_size ((double) total, tot, sizeof (tot));
  if (current > total)
    snprintf (out, size, "%s%8s", bar, cur);
  else
    snprintf (out, size, "%s%8s/%s", bar, cur, tot);
}
