/* skiffd's heap at rest.  glibc keeps what the daemon freed (the JSON of
   a start, the buffers of a load) in its arenas, one per thread that
   allocated; a daemon that spends most of its life idle gives it back.  */
#ifndef SKIFF_DAEMON_MEMORY_H
#define SKIFF_DAEMON_MEMORY_H

#include <uv.h>

/* Before any thread exists: at most two malloc arenas (the loop and the
   thread pool share them), and a timer on loop for memory_trim_soon().  */
void memory_init (uv_loop_t *loop);

/* Returns free heap memory to the kernel once the daemon has been quiet
   for a moment (each call restarts the wait).  A no-op before
   memory_init().  */
void memory_trim_soon (void);

#endif
