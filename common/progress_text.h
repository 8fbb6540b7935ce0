/* Docker's progress text (pkg/jsonmessage JSONProgress.String): a bar of
   50 cells when the width allows, then "current/total" in decimal units
   (units.HumanSize: 4 significant digits, kB = 1000 bytes).  */
#ifndef SKIFF_COMMON_PROGRESS_TEXT_H
#define SKIFF_COMMON_PROGRESS_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* "3.398MB": out needs 16 bytes.  */
void human_size (double bytes, char *out, size_t size);

/* "[=====>      ]  1.2MB/3.4MB" (the bar only for width > 110; the
   daemon uses 200, as dockerd without a terminal); "" when there is
   nothing to show.  */
void progress_text_width (int64_t current, int64_t total, int width, char *out, size_t size);

static inline void
progress_text (int64_t current, int64_t total, char *out, size_t size)
{
  progress_text_width (current, total, 200, out, size);
}

#endif
