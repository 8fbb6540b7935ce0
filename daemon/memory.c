#include "memory.h"

#include <malloc.h>
#include <stdbool.h>

/* Quiet for this long: the burst of work is over.  */
#define TRIM_DELAY_MS 200

static uv_timer_t trim_timer;
static bool trim_ready;

void
memory_init (uv_loop_t *loop)
{
  mallopt (M_ARENA_MAX, 2);
  if (uv_timer_init (loop, &trim_timer) == 0)
    {
      /* The timer alone must not keep the loop running.  */
      uv_unref ((uv_handle_t *) &trim_timer);
      trim_ready = true;
    }
}

static void
on_trim (uv_timer_t *t)
{
  malloc_trim (0);
}

void
memory_trim_soon (void)
{
  if (trim_ready)
    uv_timer_start (&trim_timer, on_trim, TRIM_DELAY_MS, 0);
}
