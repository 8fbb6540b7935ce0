/* Watching a running container through its shim: one "monitor"
   connection per container receives the EXIT frame of the init (or EOF
   when the shim dies).  Then: the record, the waiters, the restart policy,
   AutoRemove.  Also live restore at daemon start.  */
#include "cleanup.h"
#include "container.h"
#include "containers.h"
#include "containers_internal.h"
#include "ctr_dns.h"
#include "ctr_endpoints.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "networks.h"
#include "sandbox.h"
#include "shim_proto.h"
#include "state.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctr_waiter
{
  struct ctr_waiter *next;
  char condition[16];
  ctr_wait_fn cb;
  void *data;
};

struct monitor
{
  uv_pipe_t pipe;
  uv_connect_t connect;
  struct ctr *c;
  struct shim_decoder dec;
  bool got_exit;
  int exit_code;
  bool oom_killed;
};

/* ---- waiters ------------------------------------------------------------ */

void
containers_wait (struct ctr *c, const char *condition, ctr_wait_fn cb, void *data)
{
  struct ctr_waiter *w;
  if (strcmp (condition, "not-running") == 0 && !containers_is_running (c) && strcmp (c->rec->state.status, "restarting") != 0)
    {
      cb (c, c->rec->state.exit_code, c->rec->state.error, data);
      return;
    }
  w = calloc (1, sizeof (*w));
  if (w == NULL)
    {
      cb (c, -1, "out of memory", data);
      return;
    }
  snprintf (w->condition, sizeof (w->condition), "%s",
            strcmp (condition, "not-running") == 0 ? "next-exit" : condition);
  w->cb = cb;
  w->data = data;
  w->next = c->waiters;
  c->waiters = w;
  ctr_ref (c);
}

void
containers_wait_cancel (struct ctr *c, void *data)
{
  struct ctr_waiter **pp;
  for (pp = &c->waiters; *pp; pp = &(*pp)->next)
    if ((*pp)->data == data)
      {
        struct ctr_waiter *w = *pp;
        *pp = w->next;
        free (w);
        ctr_unref (c);
        return;
      }
}

void
ctr_wake_waiters (struct ctr *c, const char *condition)
{
  struct ctr_waiter **pp = &c->waiters;
  int n = 0;
  ctr_ref (c);
  while (*pp)
    {
      struct ctr_waiter *w = *pp;
      /* "removed" waiters also learn of exits, but only return on removal. */
      if (strcmp (w->condition, condition) != 0)
        {
          pp = &w->next;
          continue;
        }
      *pp = w->next;
      w->cb (c, c->rec->state.exit_code, c->rec->state.error, w->data);
      free (w);
      n++;
    }
  while (n-- > 0)
    ctr_unref (c);
  ctr_unref (c);
}

/* ---- restart policy ------------------------------------------------------- */

void
ctr_restart_policy (const struct ctr *c, char *name, size_t len, int *max_retries)
{
  cleanup_json yajl_val hc = NULL;
  yajl_val rp, v;
  snprintf (name, len, "no");
  *max_retries = 0;
  if (c->rec->host_config == NULL || json_parse (c->rec->host_config, &hc, NULL) < 0)
    return;
  rp = json_get (hc, "RestartPolicy");
  v = json_get (rp, "Name");
  if (v && YAJL_IS_STRING (v) && *v->u.string)
    snprintf (name, len, "%s", v->u.string);
  v = json_get (rp, "MaximumRetryCount");
  if (v && YAJL_IS_INTEGER (v))
    *max_retries = (int) YAJL_GET_INTEGER (v);
}

static void
restart_done (struct ctr *c, skiff_error_t err, void *data)
{
  c->policy_start = false;
  if (err)
    log_warning ("restart of %s failed: %s", ctr_short_id (c), err->msg);
}

static void
on_restart_timer (uv_timer_t *t)
{
  struct ctr *c = t->data;
  if (c->removed || strcmp (c->rec->state.status, "restarting") != 0)
    return;
  c->rec->restart_count++;
  ctr_event (c, "restart", NULL);
  c->policy_start = true;
  containers_start (c, restart_done, NULL);
}

/* Docker's back-off: 100 ms doubling up to a minute, back to 100 ms after
   a run of at least 10 s.  */
void
ctr_maybe_restart (struct ctr *c)
{
  char policy[32];
  int max;
  bool restart;
  time_t ran = 0;
  struct tm tm = { 0 };

  if (c->removed || c->d->shutting_down)
    return;
  ctr_restart_policy (c, policy, sizeof (policy), &max);
  if (strcmp (policy, "always") == 0)
    restart = !c->rec->manually_stopped;
  else if (strcmp (policy, "unless-stopped") == 0)
    restart = !c->rec->manually_stopped;
  else if (strcmp (policy, "on-failure") == 0)
    restart = !c->rec->manually_stopped && c->rec->state.exit_code != 0 && (max <= 0 || c->rec->restart_count < max);
  else
    restart = false;
  if (!restart)
    return;
  if (strptime (c->rec->state.started_at, "%Y-%m-%dT%H:%M:%S", &tm))
    ran = time (NULL) - timegm (&tm);
  if (c->restart_delay_ms == 0 || ran >= 10)
    c->restart_delay_ms = 100;
  else
    c->restart_delay_ms = c->restart_delay_ms * 2 > 60000 ? 60000 : c->restart_delay_ms * 2;
  if (c->restart_timer == NULL)
    {
      c->restart_timer = malloc (sizeof (uv_timer_t));
      if (c->restart_timer == NULL)
        return;
      uv_timer_init (c->d->loop, c->restart_timer);
      c->restart_timer->data = c;
      uv_unref ((uv_handle_t *) c->restart_timer);
    }
  record_set_status (c->rec, "restarting");
  containers_save (c);
  uv_timer_start (c->restart_timer, on_restart_timer, c->restart_delay_ms, 0);
}

/* ---- exit --------------------------------------------------------------- */

static void
auto_remove_done (struct ctr *c, skiff_error_t err, void *data)
{
  if (err)
    log_warning ("auto-remove of %s failed: %s", ctr_short_id (c), err->msg);
}

void
ctr_on_exit (struct ctr *c, int exit_code, bool oom_killed, const char *error)
{
  struct record *r = c->rec;
  cleanup_free char *netns = ctr_netns_path (c);
  skiff_error_t err = NULL;
  char code[16];
  const char *attrs[] = { "exitCode", code, NULL };

  if (c->exit_seen)
    return;
  c->exit_seen = true;
  if (c->stop_timer)
    uv_timer_stop (c->stop_timer);
  endpoints_release (c);
  if (sandbox_netns_remove (netns, &err) < 0)
    {
      log_warning ("%s", err->msg);
      skiff_error_release (&err);
    }
  if (image_rootfs_unmount (c->d->images, r->id, &err) < 0)
    {
      log_warning ("%s", err->msg);
      skiff_error_release (&err);
    }
  record_set_status (r, "exited");
  r->state.exit_code = exit_code;
  r->state.oom_killed = oom_killed;
  r->state.pid = 0;
  record_set_str (&r->state.error, error ? error : "");
  free (r->state.finished_at);
  r->state.finished_at = state_now_rfc3339 ();
  containers_save (c);
  snprintf (code, sizeof (code), "%d", exit_code);
  if (oom_killed)
    ctr_event (c, "oom", NULL);
  ctr_event (c, "die", attrs);
  ctr_wake_waiters (c, "next-exit");
  if (c->auto_remove && !c->removed)
    containers_remove (c, true, auto_remove_done, NULL);
  else
    ctr_maybe_restart (c);
}

/* The monitor ended without an EXIT frame: exit.json tells, or the shim
   died and the container must not go on without it.  */
static void
exit_from_file (struct ctr *c)
{
  cleanup_free char *dir = ctr_shim_dir (c), *path = NULL;
  struct shim_exit_file f = { 0 };
  skiff_error_t err = NULL;

  if (asprintf (&path, "%s/%s", dir, SHIM_EXIT_NAME) >= 0 && shim_exit_file_read (path, &f, NULL) == 0)
    {
      ctr_on_exit (c, f.exit_code, f.oom_killed, f.error);
      shim_exit_file_clear (&f);
      return;
    }
  if (container_delete (c->d->runtime_root, c->rec->id, true, &err) < 0)
    skiff_error_release (&err);
  ctr_on_exit (c, 137, false, "skiff-shim died: the container was killed");
}

static void
monitor_closed (uv_handle_t *h)
{
  struct monitor *m = h->data;
  struct ctr *c = m->c;
  bool got_exit = m->got_exit;
  int code = m->exit_code;
  bool oom = m->oom_killed;

  shim_decoder_release (&m->dec);
  free (m);
  if (c->monitor == (uv_pipe_t *) h)
    c->monitor = NULL;
  if (!c->removed || !c->exit_seen)
    {
      if (got_exit)
        ctr_on_exit (c, code, oom, NULL);
      else
        exit_from_file (c);
    }
  ctr_unref (c);
}

static void
alloc_cb (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  buf->base = malloc (4096);
  buf->len = buf->base ? 4096 : 0;
}

static void
monitor_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  struct monitor *m = s->data;
  skiff_error_t err = NULL;

  if (n > 0)
    {
      struct shim_frame f;
      int r;
      if (shim_decoder_feed (&m->dec, buf->base, n, &err) < 0)
        n = UV_EOF;
      while (n > 0 && (r = shim_decoder_next (&m->dec, &f, &err)) != 0)
        {
          if (r < 0)
            {
              n = UV_EOF;
              break;
            }
          if (f.type == SHIM_FRAME_EXIT)
            {
              struct shim_exit e = { 0 };
              if (shim_exit_parse (f.data, &e, NULL) == 0)
                {
                  m->got_exit = true;
                  m->exit_code = e.exit_code;
                  m->oom_killed = e.oom_killed;
                }
            }
          shim_frame_clear (&f);
        }
      skiff_error_release (&err);
    }
  free (buf->base);
  if (n < 0 && !uv_is_closing ((uv_handle_t *) s))
    uv_close ((uv_handle_t *) s, monitor_closed);
}

static void
monitor_connected (uv_connect_t *req, int status)
{
  struct monitor *m = req->data;
  if (status < 0 || uv_read_start ((uv_stream_t *) &m->pipe, alloc_cb, monitor_read) < 0)
    uv_close ((uv_handle_t *) &m->pipe, monitor_closed);
}

bool
ctr_monitor_connect (struct ctr *c)
{
  cleanup_free char *dir = ctr_shim_dir (c), *sock = NULL;
  struct monitor *m;

  if (asprintf (&sock, "%s/%s", dir, SHIM_SOCK_NAME) < 0 || access (sock, F_OK) < 0)
    return false;
  m = calloc (1, sizeof (*m));
  if (m == NULL)
    return false;
  m->c = c;
  shim_decoder_init (&m->dec);
  uv_pipe_init (c->d->loop, &m->pipe, 0);
  m->pipe.data = m;
  m->connect.data = m;
  ctr_ref (c);
  c->monitor = &m->pipe;
  /* shim_connect reaches paths longer than sun_path; a unix socket
     connects at once, so this does not block the loop.  */
  {
    skiff_error_t cerr = NULL;
    int fd = shim_connect (sock, &cerr);
    int status = fd < 0 ? UV_ECONNREFUSED : uv_pipe_open (&m->pipe, fd);
    skiff_error_release (&cerr);
    if (fd >= 0 && status < 0)
      close (fd);
    monitor_connected (&m->connect, status);
  }
  return true;
}

/* ---- live restore --------------------------------------------------------- */

static void
restore_done (struct ctr *c, skiff_error_t err, void *data)
{
  if (err)
    log_warning ("start of %s at daemon start failed: %s", ctr_short_id (c), err->msg);
}

int
containers_restore (struct daemon *d, skiff_error_t *err)
{
  cleanup_free char *dir = NULL;
  cleanup_dir DIR *dh = NULL;
  struct dirent *de;
  size_t i;

  if (asprintf (&dir, "%s/containers", d->opts.root) < 0)
    return skiff_error_make (err, ENOMEM, "restore");
  if (fs_mkdir_p (dir, 0700, err) < 0)
    return -1;
  dh = opendir (dir);
  if (dh == NULL)
    return skiff_error_make (err, errno, "open `%s`", dir);
  while ((de = readdir (dh)))
    {
      struct record *rec = NULL;
      skiff_error_t lerr = NULL;
      struct ctr *c;
      if (!id_is_full (de->d_name))
        continue;
      if (record_load (d->opts.root, de->d_name, &rec, &lerr) < 0)
        {
          log_warning ("skipping container %.12s: %s", de->d_name, lerr->msg);
          skiff_error_release (&lerr);
          continue;
        }
      c = calloc (1, sizeof (*c));
      if (c == NULL)
        {
          record_free (rec);
          return skiff_error_make (err, ENOMEM, "restore");
        }
      c->d = d;
      c->rec = rec;
      {
        cleanup_json yajl_val hc = NULL;
        if (rec->host_config && json_parse (rec->host_config, &hc, NULL) == 0)
          c->auto_remove = YAJL_IS_TRUE (json_get (hc, "AutoRemove"));
      }
      if (containers_add (d, c, err) < 0)
        return -1;
    }
  /* The pools hold what the records hold (after a reboot the pools'
     state is gone, and a container found dead gives its addresses back),
     before any address is given out or back.  */
  for (i = 0; i < d->n_containers; i++)
    endpoints_restore (d->containers[i]);
  /* Reconnect to running containers; settle the rest.  */
  for (i = 0; i < d->n_containers; i++)
    {
      struct ctr *c = d->containers[i];
      const char *st = c->rec->state.status;
      char policy[32];
      int max;
      if (strcmp (st, "running") == 0 || strcmp (st, "paused") == 0)
        {
          if (!ctr_monitor_connect (c))
            exit_from_file (c);
          else
            {
              skiff_error_t derr = NULL;
              if (ctr_dns_start (c, &derr) < 0)
                {
                  log_warning ("container %s: embedded DNS: %s", ctr_short_id (c), derr->msg);
                  skiff_error_release (&derr);
                }
            }
          continue;
        }
      ctr_restart_policy (c, policy, sizeof (policy), &max);
      /* Docker: `always` comes back with the daemon even after a manual
         stop; `unless-stopped` only if it was not stopped by hand.  */
      if (strcmp (st, "restarting") == 0
          || (strcmp (st, "exited") == 0
              && (strcmp (policy, "always") == 0
                  || (strcmp (policy, "unless-stopped") == 0 && !c->rec->manually_stopped))))
        {
          if (strcmp (policy, "always") == 0)
            c->rec->manually_stopped = false;
          containers_start (c, restore_done, NULL);
        }
    }
  return 0;
}
