/* kill, stop, restart and remove.  */
#include "cleanup.h"
#include "container.h"
#include "containers.h"
#include "containers_internal.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "sandbox.h"
#include "signals.h"
#include "store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
containers_kill (struct ctr *c, int sig, skiff_error_t *err)
{
  skiff_error_t rerr = NULL;
  if (!containers_is_running (c))
    return daemon_error (err, 409, "Container %s is not running", c->rec->id);
  /* The runtime checks that the pid is still the container's init.  */
  if (container_kill (c->d->runtime_root, c->rec->id, sig, false, &rerr) < 0)
    {
      int r = daemon_error (err, 500, "Cannot kill container: %s: %s", ctr_short_id (c), rerr->msg);
      skiff_error_release (&rerr);
      return r;
    }
  if (sig != SIGKILL && sig != SIGTERM)
    return 0;
  {
    char s[16];
    const char *attrs[] = { "signal", s, NULL };
    snprintf (s, sizeof (s), "%d", sig);
    ctr_event (c, "kill", attrs);
  }
  return 0;
}

struct stop_op
{
  struct ctr *c;
  ctr_done_fn done;
  void *data;
  bool restart;
};

static void
stop_finished (struct ctr *c, int exit_code, const char *error, void *data)
{
  struct stop_op *op = data;
  c->busy = false;
  if (c->stop_timer)
    uv_timer_stop (c->stop_timer);
  ctr_event (c, "stop", NULL);
  if (op->restart)
    {
      c->rec->manually_stopped = false;
      containers_start (c, op->done, op->data);
    }
  else if (op->done)
    op->done (c, NULL, op->data);
  free (op);
}

static void
on_stop_timeout (uv_timer_t *t)
{
  struct ctr *c = t->data;
  skiff_error_t err = NULL;
  if (!containers_is_running (c))
    return;
  log_info ("container %s did not stop in time: SIGKILL", ctr_short_id (c));
  if (containers_kill (c, SIGKILL, &err) < 0)
    skiff_error_release (&err);
}

/* The signal Docker stops a container with: Config.StopSignal or TERM.  */
static int
stop_signal (const struct ctr *c)
{
  cleanup_json yajl_val cfg = NULL;
  yajl_val v;
  int sig;
  if (c->rec->config == NULL || json_parse (c->rec->config, &cfg, NULL) < 0)
    return SIGTERM;
  v = json_get (cfg, "StopSignal");
  if (v == NULL || !YAJL_IS_STRING (v) || *v->u.string == '\0')
    return SIGTERM;
  sig = signal_parse (v->u.string);
  return sig > 0 ? sig : SIGTERM;
}

static int
stop_timeout (const struct ctr *c, int timeout)
{
  cleanup_json yajl_val cfg = NULL;
  yajl_val v;
  if (timeout >= 0)
    return timeout;
  if (c->rec->config && json_parse (c->rec->config, &cfg, NULL) == 0 && (v = json_get (cfg, "StopTimeout"))
      && YAJL_IS_INTEGER (v))
    return (int) YAJL_GET_INTEGER (v);
  return 10;
}

static void
stop_or_restart (struct ctr *c, int timeout, bool restart, ctr_done_fn done, void *data)
{
  struct stop_op *op;
  skiff_error_t err = NULL;

  c->rec->manually_stopped = true;
  if (strcmp (c->rec->state.status, "restarting") == 0)
    {
      /* A pending restart is cancelled: the container stays exited.  */
      if (c->restart_timer)
        uv_timer_stop (c->restart_timer);
      record_set_status (c->rec, "exited");
    }
  containers_save (c);
  if (!containers_is_running (c))
    {
      if (restart)
        {
          c->rec->manually_stopped = false;
          containers_start (c, done, data);
          return;
        }
      daemon_error (&err, 304, "container already stopped");
      done (c, err, data);
      skiff_error_release (&err);
      return;
    }
  op = calloc (1, sizeof (*op));
  if (op == NULL)
    {
      daemon_error (&err, 500, "out of memory");
      done (c, err, data);
      skiff_error_release (&err);
      return;
    }
  op->c = c;
  op->done = done;
  op->data = data;
  op->restart = restart;
  c->busy = true;
  containers_wait (c, "next-exit", stop_finished, op);
  if (containers_kill (c, stop_signal (c), &err) < 0)
    {
      log_warning ("%s", err->msg);
      skiff_error_release (&err);
    }
  timeout = stop_timeout (c, timeout);
  if (c->stop_timer == NULL)
    {
      c->stop_timer = malloc (sizeof (uv_timer_t));
      if (c->stop_timer == NULL)
        return;
      uv_timer_init (c->d->loop, c->stop_timer);
      c->stop_timer->data = c;
    }
  uv_timer_start (c->stop_timer, on_stop_timeout, timeout < 0 ? 0 : (uint64_t) timeout * 1000, 0);
}

void
containers_stop (struct ctr *c, int timeout, ctr_done_fn done, void *data)
{
  stop_or_restart (c, timeout, false, done, data);
}

void
containers_restart (struct ctr *c, int timeout, ctr_done_fn done, void *data)
{
  stop_or_restart (c, timeout, true, done, data);
}

/* ---- remove ------------------------------------------------------------- */

struct remove_job
{
  uv_work_t work;
  struct ctr *c;
  ctr_done_fn done;
  void *data;
  struct image_store *images;
  char *id, *dir, *bundle, *shim_dir, *netns, *runtime_root;
  skiff_error_t err;
};

static void
remove_work (uv_work_t *w)
{
  struct remove_job *j = w->data;
  skiff_error_t ignored = NULL;
  /* Runtime state left by a shim that died.  */
  if (container_delete (j->runtime_root, j->id, true, &ignored) < 0)
    skiff_error_release (&ignored);
  if (sandbox_netns_remove (j->netns, &j->err) < 0 || image_rootfs_remove (j->images, j->id, &j->err) < 0
      || fs_remove_tree (j->bundle, &j->err) < 0 || fs_remove_tree (j->shim_dir, &j->err) < 0
      || fs_remove_tree (j->dir, &j->err) < 0)
    return;
}

static void
remove_after (uv_work_t *w, int status)
{
  struct remove_job *j = w->data;
  struct ctr *c = j->c;

  c->busy = false;
  if (j->err)
    {
      j->err->status = 500;
      record_set_status (c->rec, "dead");
      containers_save (c);
      if (j->done)
        j->done (c, j->err, j->data);
    }
  else
    {
      ctr_event (c, "destroy", NULL);
      ctr_wake_waiters (c, "removed");
      containers_unlink (c);
      if (j->done)
        j->done (c, NULL, j->data);
    }
  skiff_error_release (&j->err);
  free (j->id);
  free (j->dir);
  free (j->bundle);
  free (j->shim_dir);
  free (j->netns);
  free (j->runtime_root);
  ctr_unref (c);
  free (j);
}

static void
start_remove (struct ctr *c, ctr_done_fn done, void *data)
{
  struct remove_job *j = calloc (1, sizeof (*j));
  skiff_error_t err = NULL;
  if (j == NULL)
    {
      daemon_error (&err, 500, "out of memory");
      if (done)
        done (c, err, data);
      skiff_error_release (&err);
      return;
    }
  if (c->restart_timer)
    uv_timer_stop (c->restart_timer);
  record_set_status (c->rec, "removing");
  c->busy = true;
  j->c = c;
  j->done = done;
  j->data = data;
  j->images = c->d->images;
  j->id = strdup (c->rec->id);
  j->dir = ctr_dir (c);
  j->bundle = ctr_bundle_dir (c);
  j->shim_dir = ctr_shim_dir (c);
  j->netns = ctr_netns_path (c);
  j->runtime_root = strdup (c->d->runtime_root);
  ctr_ref (c);
  j->work.data = j;
  uv_queue_work (c->d->loop, &j->work, remove_work, remove_after);
}

struct remove_op
{
  ctr_done_fn done;
  void *data;
};

static void
remove_after_exit (struct ctr *c, int exit_code, const char *error, void *data)
{
  struct remove_op *op = data;
  c->busy = false;
  start_remove (c, op->done, op->data);
  free (op);
}

void
containers_remove (struct ctr *c, bool force, ctr_done_fn done, void *data)
{
  skiff_error_t err = NULL;
  if (c->busy && !(force && containers_is_running (c)))
    {
      daemon_error (&err, 409, "removal of container %s is already in progress", ctr_short_id (c));
      if (done)
        done (c, err, data);
      skiff_error_release (&err);
      return;
    }
  if (containers_is_running (c))
    {
      struct remove_op *op;
      if (!force)
        {
          daemon_error (&err, 409,
                        "You cannot remove a running container %s. Stop the container before attempting removal "
                        "or force remove",
                        c->rec->id);
          if (done)
            done (c, err, data);
          skiff_error_release (&err);
          return;
        }
      op = calloc (1, sizeof (*op));
      if (op == NULL)
        return;
      op->done = done;
      op->data = data;
      c->rec->manually_stopped = true;
      c->auto_remove = false; /* this removal is the one */
      c->busy = true;
      containers_wait (c, "next-exit", remove_after_exit, op);
      if (containers_kill (c, SIGKILL, &err) < 0)
        skiff_error_release (&err);
      return;
    }
  start_remove (c, done, data);
}
