/* Shared by the files of the container manager.  */
#ifndef SKIFF_DAEMON_CONTAINERS_INTERNAL_H
#define SKIFF_DAEMON_CONTAINERS_INTERNAL_H

#include "containers.h"

int containers_add (struct daemon *d, struct ctr *c, skiff_error_t *err);
/* Drops the table's reference; the container is freed with its last ref. */
void containers_unlink (struct ctr *c);

/* Connects the monitor to a running shim; false when there is none.  */
bool ctr_monitor_connect (struct ctr *c);
/* The init exited (from the shim's EXIT frame, or its exit.json).  */
void ctr_on_exit (struct ctr *c, int exit_code, bool oom_killed, const char *error);
/* After a container left `running`: a restart per its policy, if any.  */
void ctr_maybe_restart (struct ctr *c);
/* Waiters of a condition ("next-exit", "removed").  */
void ctr_wake_waiters (struct ctr *c, const char *condition);

void ctr_exec_free_all (struct ctr *c);

/* The shim is up with the container created: attach the waiting clients,
   then let the container's process run.  */
void ctr_release_start (struct ctr *c);
/* The start failed: let the waiting clients go.  */
void ctr_drop_pending_attaches (struct ctr *c);

/* HostConfig.RestartPolicy of the container.  */
void ctr_restart_policy (const struct ctr *c, char *name, size_t len, int *max_retries);

#endif
