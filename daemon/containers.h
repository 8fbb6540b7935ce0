/* The container manager: skiffd's table of containers and what can be
   done to them.  Everything here runs on the loop thread; slow steps go to
   the libuv thread pool and report back through a callback.  */
#ifndef SKIFF_DAEMON_CONTAINERS_H
#define SKIFF_DAEMON_CONTAINERS_H

#include <stdbool.h>
#include <uv.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include "daemon.h"
#include "error.h"
#include "record.h"

struct ctr_waiter;
struct ctr_exec;
struct ctr_pending_attach;
struct attach_opts;
struct ctr_dns;

struct ctr
{
  struct daemon *d;
  struct record *rec;
  uv_pipe_t *monitor;        /* connection to the shim while it runs */
  char *monitor_buf;         /* partial frame read from the monitor */
  size_t monitor_len;
  struct ctr_waiter *waiters;
  uv_timer_t *stop_timer;    /* SIGKILL after the stop timeout */
  uv_timer_t *restart_timer; /* restart policy back-off */
  int64_t restart_delay_ms;
  bool busy;                 /* start, stop or remove in progress */
  bool removed;              /* gone from the table, freed when refs drop */
  bool auto_remove;          /* HostConfig.AutoRemove */
  bool exit_seen;            /* the current run's exit was handled */
  bool policy_start;         /* the start in progress is a restart policy's */
  int refs;
  struct ctr_exec **execs;
  size_t n_execs;
  struct ctr_pending_attach *pending_attaches; /* clients waiting for the start */
  int attach_waits;          /* attaches the shim has not confirmed yet */
  struct ctr_dns *dns;       /* embedded DNS server, on user-defined networks */
};

typedef void (*ctr_done_fn) (struct ctr *c, skiff_error_t err, void *data);

/* Loads every record under <root>/containers and reconnects to the shims
   that still run (live restore); starts containers whose restart policy
   asks for it.  */
int containers_restore (struct daemon *d, skiff_error_t *err);

/* By exact name (with or without '/'), full id, or unique id prefix.
   NULL with a 404 error ("No such container: x") when nothing matches.  */
struct ctr *containers_find (struct daemon *d, const char *ref, skiff_error_t *err);

/* POST /containers/create: body is the request JSON, name may be NULL.  */
int containers_create (struct daemon *d, yajl_val body, const char *name, struct ctr **out, skiff_error_t *err);

void containers_start (struct ctr *c, ctr_done_fn done, void *data);
/* timeout < 0: the container's StopTimeout or 10 s.  */
void containers_stop (struct ctr *c, int timeout, ctr_done_fn done, void *data);
void containers_restart (struct ctr *c, int timeout, ctr_done_fn done, void *data);
int containers_kill (struct ctr *c, int sig, skiff_error_t *err);
void containers_remove (struct ctr *c, bool force, ctr_done_fn done, void *data);

/* Calls cb once the condition holds: "not-running" (now, if it is not
   running), "next-exit", or "removed".  */
typedef void (*ctr_wait_fn) (struct ctr *c, int exit_code, const char *error, void *data);
void containers_wait (struct ctr *c, const char *condition, ctr_wait_fn cb, void *data);
/* Forget a waiter whose client went away.  */
void containers_wait_cancel (struct ctr *c, void *data);

/* Attaches a hijacked client: now if the container runs, else at its
   next start, before its process runs (so that no output is lost, as
   `docker run` expects).  Takes ownership of stream and leftover.base.  */
void containers_attach (struct ctr *c, uv_stream_t *stream, uv_buf_t leftover, const struct attach_opts *o);

/* JSON documents.  */
char *containers_inspect_json (struct ctr *c);
/* "NetworkSettings" and its value (sandbox_key "" when not running), and
   the "Networks" member alone (containers_netjson.c).  */
void containers_gen_network_settings (yajl_gen g, struct ctr *c, const char *sandbox_key);
void containers_gen_networks (yajl_gen g, struct ctr *c);
/* filters: Docker's filters JSON (name, id, status) or NULL.  */
int containers_list_json (struct daemon *d, bool all, int limit, const char *filters, char **json, skiff_error_t *err);

bool containers_is_running (const struct ctr *c);
void containers_save (struct ctr *c);
void ctr_ref (struct ctr *c);
void ctr_unref (struct ctr *c);

/* Paths under the daemon's directories.  */
char *ctr_dir (const struct ctr *c);          /* <root>/containers/<id> */
char *ctr_shim_dir (const struct ctr *c);     /* <exec-root>/shims/<id> */
char *ctr_shim_sock (const struct ctr *c);    /* <exec-root>/shims/<id>/shim.sock */
char *ctr_bundle_dir (const struct ctr *c);   /* <exec-root>/bundles/<id> */
char *ctr_netns_path (const struct ctr *c);   /* <exec-root>/netns/<id> */
const char *ctr_short_id (const struct ctr *c);

/* HostConfig.NetworkMode, "default" when unset.  */
const char *ctr_network_mode (yajl_val host_config);

/* The container's name without the leading '/'.  */
const char *ctr_name (const struct ctr *c);

/* Publishes a container event with name and image attributes.  */
void ctr_event (struct ctr *c, const char *action, const char *const *extra_attrs);

#endif
