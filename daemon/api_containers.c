/* /containers/... routes.  */
#include "api.h"
#include "attach.h"
#include "cleanup.h"
#include "container.h"
#include "containers.h"
#include "json.h"
#include "logs.h"
#include "router.h"
#include "shim_proto.h"
#include "signals.h"
#include "top.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
respond_err (struct http_request *req, skiff_error_t *err)
{
  http_respond_error (req, daemon_error_status (*err), "%s", (*err)->msg);
  skiff_error_release (err);
}

/* The container named by {id}, or an answered 404.  */
static struct ctr *
lookup (struct http_request *req, struct daemon *d)
{
  skiff_error_t err = NULL;
  struct ctr *c = containers_find (d, http_param (req, "id"), &err);
  if (c == NULL)
    respond_err (req, &err);
  return c;
}

static void
h_create (struct http_request *req, void *data)
{
  struct daemon *d = data;
  cleanup_json yajl_val body = NULL;
  skiff_error_t err = NULL;
  struct ctr *c;
  cleanup_gen yajl_gen g = NULL;
  cleanup_free char *out = NULL;

  if (req->body_len == 0 || json_parse (req->body, &body, &err) < 0)
    {
      skiff_error_release (&err);
      http_respond_error (req, 400, "invalid JSON body");
      return;
    }
  if (containers_create (d, body, http_query (req, "name"), &c, &err) < 0)
    {
      respond_err (req, &err);
      return;
    }
  g = json_gen_new (false);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Id", c->rec->id);
  json_gen_str (g, "Warnings");
  yajl_gen_array_open (g);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  out = json_gen_steal (g, NULL);
  http_respond_json (req, 201, out);
}

static void
h_list (struct http_request *req, void *data)
{
  struct daemon *d = data;
  skiff_error_t err = NULL;
  cleanup_free char *json = NULL;
  const char *limit = http_query (req, "limit");
  if (containers_list_json (d, http_query_bool (req, "all", false), limit ? atoi (limit) : -1,
                            http_query (req, "filters"), &json, &err)
      < 0)
    {
      respond_err (req, &err);
      return;
    }
  http_respond_json (req, 200, json);
}

static void
h_inspect (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  cleanup_free char *json = NULL;
  if (c == NULL)
    return;
  json = containers_inspect_json (c);
  if (json == NULL)
    http_respond_error (req, 500, "out of memory");
  else
    http_respond_json (req, 200, json);
}

/* Finishes a request when an asynchronous operation is done.  */
static void
op_done (struct ctr *c, skiff_error_t err, void *data)
{
  struct http_request *req = data;
  if (err == NULL)
    http_respond_empty (req, 204);
  else if (daemon_error_status (err) == 304)
    http_respond_empty (req, 304);
  else
    http_respond_error (req, daemon_error_status (err), "%s", err->msg);
}

static void
h_start (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  if (c)
    containers_start (c, op_done, req);
}

static int
query_int (struct http_request *req, const char *key, int def)
{
  const char *v = http_query (req, key);
  return v && *v ? atoi (v) : def;
}

static void
h_stop (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  if (c)
    containers_stop (c, query_int (req, "t", -1), op_done, req);
}

static void
h_restart (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  if (c)
    containers_restart (c, query_int (req, "t", -1), op_done, req);
}

static void
h_kill (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  const char *s = http_query (req, "signal");
  skiff_error_t err = NULL;
  int sig = SIGKILL;
  if (c == NULL)
    return;
  if (s && *s && (sig = signal_parse (s)) < 0)
    {
      http_respond_error (req, 400, "Invalid signal: %s", s);
      return;
    }
  if (containers_kill (c, sig, &err) < 0)
    respond_err (req, &err);
  else
    http_respond_empty (req, 204);
}

static void
h_remove (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  if (c)
    containers_remove (c, http_query_bool (req, "force", false), op_done, req);
}

/* POST /containers/{id}/wait: the headers go out at once (the docker CLI
   waits for them before it attaches), the body when the condition holds. */
static void
wait_done (struct ctr *c, int exit_code, const char *error, void *data)
{
  struct http_request *req = data;
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *out = NULL;
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "StatusCode", exit_code);
  json_gen_str (g, "Error");
  if (error && *error)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "Message", error);
      yajl_gen_map_close (g);
    }
  else
    yajl_gen_null (g);
  yajl_gen_map_close (g);
  out = json_gen_steal (g, NULL);
  if (out)
    {
      http_stream_write (req, out, strlen (out));
      http_stream_write (req, "\n", 1);
    }
  http_stream_end (req);
}

static void
wait_client_gone (struct http_request *req, void *data)
{
  struct ctr *c = data;
  containers_wait_cancel (c, req);
  http_stream_end (req);
  ctr_unref (c);
}

static void
wait_done_ref (struct ctr *c, int exit_code, const char *error, void *data)
{
  struct http_request *req = data;
  http_request_on_close (req, NULL, NULL);
  wait_done (c, exit_code, error, data);
  ctr_unref (c);
}

static void
h_wait (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  const char *cond = http_query (req, "condition");
  if (c == NULL)
    return;
  if (cond == NULL || *cond == '\0')
    cond = "not-running";
  if (strcmp (cond, "not-running") != 0 && strcmp (cond, "next-exit") != 0 && strcmp (cond, "removed") != 0)
    {
      http_respond_error (req, 400, "invalid condition: %s", cond);
      return;
    }
  http_stream_begin (req, 200, "application/json");
  ctr_ref (c);
  http_request_on_close (req, wait_client_gone, c);
  containers_wait (c, cond, wait_done_ref, req);
}


static bool
config_bool (struct ctr *c, const char *key)
{
  cleanup_json yajl_val cfg = NULL;
  return c->rec->config && json_parse (c->rec->config, &cfg, NULL) == 0 && YAJL_IS_TRUE (json_get (cfg, key));
}

static void
h_attach (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct ctr *c = lookup (req, d);
  struct attach_opts o = { 0 };
  cleanup_free char *sock = NULL, *keys = NULL;
  skiff_error_t err = NULL;
  uv_buf_t leftover = { 0 };
  uv_stream_t *s;
  uint8_t kb[16];
  size_t kn;

  if (c == NULL)
    return;
  if (strcmp (c->rec->state.status, "removing") == 0 || strcmp (c->rec->state.status, "dead") == 0)
    {
      http_respond_error (req, 409, "You cannot attach to a container that is being removed");
      return;
    }
  if (http_query (req, "detachKeys") && attach_parse_detach_keys (http_query (req, "detachKeys"), kb, &kn, &err) < 0)
    {
      respond_err (req, &err);
      return;
    }
  sock = ctr_shim_sock (c);
  keys = http_query (req, "detachKeys") ? strdup (http_query (req, "detachKeys")) : NULL;
  o.shim_sock = sock;
  o.tty = config_bool (c, "Tty");
  o.use_stdin = http_query_bool (req, "stdin", false) && config_bool (c, "OpenStdin");
  o.use_stdout = http_query_bool (req, "stdout", false);
  o.use_stderr = http_query_bool (req, "stderr", false);
  o.close_stdin_on_eof = config_bool (c, "StdinOnce");
  o.detach_keys = keys;
  s = http_hijack (req, true, &leftover);
  if (s == NULL)
    return;
  containers_attach (c, s, leftover, &o);
}

static void
h_resize (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  cleanup_free char *sock = NULL;
  skiff_error_t err = NULL;
  int h = query_int (req, "h", 0), w = query_int (req, "w", 0);
  if (c == NULL)
    return;
  if (!containers_is_running (c))
    {
      http_respond_error (req, 409, "Container %s is not running", c->rec->id);
      return;
    }
  if (h <= 0 || w <= 0 || h > 65535 || w > 65535)
    {
      http_respond_error (req, 400, "invalid terminal size %dx%d", h, w);
      return;
    }
  sock = ctr_shim_sock (c);
  if (attach_resize (sock, h, w, &err) < 0)
    {
      err->status = 500;
      respond_err (req, &err);
      return;
    }
  http_respond_empty (req, 200);
}

static void
h_logs (struct http_request *req, void *data)
{
  struct ctr *c = lookup (req, data);
  if (c)
    logs_serve (c, req);
}

/* GET /containers/{id}/top: ps(1) filtered to the container's processes,
   as dockerd does.  */
static void
h_top (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct ctr *c = lookup (req, d);
  cleanup_free pid_t *pids = NULL;
  cleanup_free char *out = NULL;
  skiff_error_t err = NULL;
  size_t n = 0;

  if (c == NULL)
    return;
  if (!containers_is_running (c))
    {
      http_respond_error (req, 409, "Container %s is not running", c->rec->id);
      return;
    }
  if (container_pids (d->runtime_root, c->rec->id, &pids, &n, &err) < 0)
    {
      err->status = 500;
      respond_err (req, &err);
      return;
    }
  if (top_json (http_query (req, "ps_args"), pids, n, &out, &err) < 0)
    {
      respond_err (req, &err);
      return;
    }
  http_respond_json (req, 200, out);
}

struct prune
{
  struct http_request *req;
  struct daemon *d;
  char **deleted;
  size_t n_deleted, pending;
};

static void
prune_finish (struct prune *p)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *out = NULL;
  size_t i;
  yajl_gen_map_open (g);
  json_gen_str (g, "ContainersDeleted");
  yajl_gen_array_open (g);
  for (i = 0; i < p->n_deleted; i++)
    json_gen_str (g, p->deleted[i]);
  yajl_gen_array_close (g);
  json_gen_kv_int (g, "SpaceReclaimed", 0);
  yajl_gen_map_close (g);
  out = json_gen_steal (g, NULL);
  http_respond_json (p->req, 200, out);
  for (i = 0; i < p->n_deleted; i++)
    free (p->deleted[i]);
  free (p->deleted);
  free (p);
}

static void
prune_one_done (struct ctr *c, skiff_error_t err, void *data)
{
  struct prune *p = data;
  if (err == NULL)
    p->deleted[p->n_deleted++] = strdup (c->rec->id);
  if (--p->pending == 0)
    prune_finish (p);
}

static void
h_prune (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct prune *p = calloc (1, sizeof (*p));
  size_t i, n = d->n_containers;
  struct ctr **victims;

  if (p == NULL || (p->deleted = calloc (n + 1, sizeof (char *))) == NULL)
    {
      free (p);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  p->req = req;
  p->d = d;
  victims = calloc (n + 1, sizeof (*victims));
  if (victims == NULL)
    {
      free (p->deleted);
      free (p);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  for (i = 0; i < n; i++)
    if (!containers_is_running (d->containers[i]) && !d->containers[i]->busy)
      victims[p->pending++] = d->containers[i];
  if (p->pending == 0)
    {
      free (victims);
      prune_finish (p);
      return;
    }
  /* The table changes as removals finish: work from the copy.  */
  {
    size_t total = p->pending;
    for (i = 0; i < total; i++)
      containers_remove (victims[i], false, prune_one_done, p);
  }
  free (victims);
}

int
api_containers_register (struct router *r, skiff_error_t *err)
{
  if (router_add (r, "POST", "/containers/create", h_create, err) < 0
      || router_add (r, "GET", "/containers/json", h_list, err) < 0
      || router_add (r, "POST", "/containers/prune", h_prune, err) < 0
      || router_add (r, "GET", "/containers/{id}/json", h_inspect, err) < 0
      || router_add (r, "POST", "/containers/{id}/start", h_start, err) < 0
      || router_add (r, "POST", "/containers/{id}/stop", h_stop, err) < 0
      || router_add (r, "POST", "/containers/{id}/restart", h_restart, err) < 0
      || router_add (r, "POST", "/containers/{id}/kill", h_kill, err) < 0
      || router_add (r, "POST", "/containers/{id}/wait", h_wait, err) < 0
      || router_add (r, "POST", "/containers/{id}/attach", h_attach, err) < 0
      || router_add (r, "POST", "/containers/{id}/resize", h_resize, err) < 0
      || router_add (r, "GET", "/containers/{id}/logs", h_logs, err) < 0
      || router_add (r, "GET", "/containers/{id}/top", h_top, err) < 0
      || router_add (r, "DELETE", "/containers/{id}", h_remove, err) < 0)
    return -1;
  return 0;
}
