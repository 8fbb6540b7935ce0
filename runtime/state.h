/* Container state kept under --root: <root>/<id>/state.json (what the
   runtime recorded at create), config.json (a copy of the bundle's, for
   delete and exec), and exec.fifo while the container waits for `start`.  */
#ifndef SKIFF_RUNTIME_STATE_H
#define SKIFF_RUNTIME_STATE_H

#include <stdbool.h>
#include <sys/types.h>
#include "error.h"

struct container_state
{
  char *id;
  pid_t pid;
  unsigned long long start_time; /* /proc/PID/stat field 22, guards against pid reuse */
  char *bundle;
  char *rootfs;
  char *created; /* RFC 3339 */
  char *cgroup_path;
  uid_t owner;
  char *annotations_json; /* raw JSON object or NULL */
};

/* Container ids: letters, digits, and _ + - . not starting with . */
int state_check_id (const char *id, skiff_error_t *err);

char *state_dir (const char *root, const char *id);
char *state_file (const char *root, const char *id, const char *name);

/* Creates <root>/<id> (fails if it exists: the id is taken).  */
int state_create_dir (const char *root, const char *id, skiff_error_t *err);
int state_save (const char *root, const struct container_state *st, skiff_error_t *err);
int state_load (const char *root, const char *id, struct container_state **out, skiff_error_t *err);
int state_remove (const char *root, const char *id, skiff_error_t *err);
void state_free (struct container_state *st);
/* Frees the fields of a state that lives on the stack.  */
void state_clear (struct container_state *st);

/* "creating", "created", "running" or "stopped".  */
const char *state_status (const char *root, const struct container_state *st);
bool state_pid_alive (const struct container_state *st);
int proc_start_time (pid_t pid, unsigned long long *out);

/* The runtime-spec state document (what `state` prints and hooks read).  */
char *state_to_json (const struct container_state *st, const char *status, bool pretty);

/* A copy of a state document with another status.  */
char *state_json_with_status (const char *json, const char *status);

/* Current time as RFC 3339 with nanoseconds.  */
char *state_now_rfc3339 (void);

static inline void
cleanup_statep (struct container_state **s)
{
  if (*s)
    state_free (*s);
}
#define cleanup_state __attribute__ ((cleanup (cleanup_statep)))

#endif
