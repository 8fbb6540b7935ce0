/* Exec instances: POST /containers/{id}/exec, /exec/{id}/start|resize|json. */
#include "api.h"
#include "attach.h"
#include "cleanup.h"
#include "containers.h"
#include "containers_internal.h"
#include "fs.h"
#include "json.h"
#include "oci_spec.h"
#include "router.h"
#include "shim_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctr_exec
{
  char id[ID_LEN + 1];
  struct ctr *c;
  char *config; /* the exec's create body */
  bool started, running;
  int pid;
  int exit_code; /* -1 until known */
  struct attach_pump *pump;
};

void
ctr_exec_free_all (struct ctr *c)
{
  size_t i;
  for (i = 0; i < c->n_execs; i++)
    {
      free (c->execs[i]->config);
      free (c->execs[i]);
    }
  free (c->execs);
  c->execs = NULL;
  c->n_execs = 0;
}

static struct ctr_exec *
exec_find (struct daemon *d, const char *id)
{
  size_t i, j;
  for (i = 0; i < d->n_containers; i++)
    for (j = 0; j < d->containers[i]->n_execs; j++)
      if (strcmp (d->containers[i]->execs[j]->id, id) == 0)
        return d->containers[i]->execs[j];
  return NULL;
}

static struct ctr_exec *
exec_lookup (struct http_request *req, struct daemon *d)
{
  struct ctr_exec *e = exec_find (d, http_param (req, "id"));
  if (e == NULL)
    http_respond_error (req, 404, "No such exec instance: %s", http_param (req, "id"));
  return e;
}

static void
h_exec_create (struct http_request *req, void *data)
{
  struct daemon *d = data;
  skiff_error_t err = NULL;
  struct ctr *c = containers_find (d, http_param (req, "id"), &err);
  cleanup_json yajl_val body = NULL;
  struct ctr_exec *e, **n;
  yajl_val cmd;
  char out[ID_LEN + 32];

  if (c == NULL)
    {
      http_respond_error (req, daemon_error_status (err), "%s", err->msg);
      skiff_error_release (&err);
      return;
    }
  if (!containers_is_running (c))
    {
      http_respond_error (req, 409, "Container %s is not running", c->rec->id);
      return;
    }
  if (json_parse (req->body_len ? req->body : "{}", &body, NULL) < 0 || !YAJL_IS_OBJECT (body))
    {
      http_respond_error (req, 400, "invalid JSON body");
      return;
    }
  cmd = json_get (body, "Cmd");
  if (cmd == NULL || !YAJL_IS_ARRAY (cmd) || cmd->u.array.len == 0)
    {
      http_respond_error (req, 400, "No exec command specified");
      return;
    }
  e = calloc (1, sizeof (*e));
  n = realloc (c->execs, (c->n_execs + 1) * sizeof (*n));
  if (e == NULL || n == NULL)
    {
      free (e);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  c->execs = n;
  if (id_generate (e->id, &err) < 0)
    {
      free (e);
      http_respond_error (req, 500, "%s", err->msg);
      skiff_error_release (&err);
      return;
    }
  e->c = c;
  e->exit_code = -1;
  e->config = strndup (req->body, req->body_len);
  c->execs[c->n_execs++] = e;
  snprintf (out, sizeof (out), "{\"Id\":\"%s\"}", e->id);
  http_respond_json (req, 201, out);
}

/* The OCI process of an exec: the container's, with Docker's exec
   settings on top (Cmd, Env, User, WorkingDir, Tty).  */
static int
exec_process (struct ctr_exec *e, bool tty, char **out, skiff_error_t *err)
{
  struct ctr *c = e->c;
  cleanup_free char *bundle = ctr_bundle_dir (c), *path = NULL, *rootfs = NULL;
  cleanup_json yajl_val spec = NULL, cfg = NULL;
  cleanup_gen yajl_gen g = json_gen_new (false);
  yajl_val proc, v;
  struct oci_user user = { 0 };
  bool has_user;
  size_t i;

  if (asprintf (&path, "%s/config.json", bundle) < 0
      || asprintf (&rootfs, "%s/overlay/%s/merged", c->d->opts.root, c->rec->id) < 0)
    return daemon_error (err, 500, "out of memory");
  if (json_parse_file (path, &spec, err) < 0 || json_parse (e->config, &cfg, err) < 0)
    return -1;
  proc = json_get (spec, "process");
  v = json_get (cfg, "User");
  has_user = v && YAJL_IS_STRING (v) && *v->u.string;
  if (has_user && oci_user_resolve (rootfs, v->u.string, NULL, 0, &user, err) < 0)
    {
      (*err)->status = 500;
      return -1;
    }
  yajl_gen_map_open (g);
  for (i = 0; proc && i < proc->u.object.len; i++)
    {
      const char *k = proc->u.object.keys[i];
      if (strcmp (k, "args") == 0 || strcmp (k, "env") == 0 || strcmp (k, "terminal") == 0
          || strcmp (k, "consoleSize") == 0 || (strcmp (k, "cwd") == 0 && json_get (cfg, "WorkingDir"))
          || (strcmp (k, "user") == 0 && has_user))
        continue;
      json_gen_str (g, k);
      json_gen_value (g, proc->u.object.values[i]);
    }
  json_gen_kv_bool (g, "terminal", tty);
  json_gen_str (g, "args");
  json_gen_value (g, json_get (cfg, "Cmd"));
  json_gen_str (g, "env");
  yajl_gen_array_open (g);
  v = json_get (proc, "env");
  for (i = 0; v && YAJL_IS_ARRAY (v) && i < v->u.array.len; i++)
    json_gen_value (g, v->u.array.values[i]);
  v = json_get (cfg, "Env");
  for (i = 0; v && YAJL_IS_ARRAY (v) && i < v->u.array.len; i++)
    json_gen_value (g, v->u.array.values[i]);
  yajl_gen_array_close (g);
  v = json_get (cfg, "WorkingDir");
  if (v && YAJL_IS_STRING (v) && *v->u.string)
    json_gen_kv_str (g, "cwd", v->u.string);
  if (has_user)
    {
      json_gen_str (g, "user");
      yajl_gen_map_open (g);
      json_gen_kv_int (g, "uid", user.uid);
      json_gen_kv_int (g, "gid", user.gid);
      json_gen_str (g, "additionalGids");
      yajl_gen_array_open (g);
      for (i = 0; i < user.n_additional_gids; i++)
        yajl_gen_integer (g, user.additional_gids[i]);
      yajl_gen_array_close (g);
      yajl_gen_map_close (g);
      oci_user_release (&user);
    }
  yajl_gen_map_close (g);
  *out = json_gen_steal (g, NULL);
  return *out ? 0 : daemon_error (err, 500, "out of memory");
}

static void
exec_started (void *data, int pid, const char *error)
{
  struct ctr_exec *e = data;
  if (error == NULL && pid > 0)
    {
      e->pid = pid;
      e->running = true;
    }
}

static void
exec_exited (void *data, int code)
{
  struct ctr_exec *e = data;
  e->running = false;
  e->pump = NULL;
  if (code >= 0)
    e->exit_code = code;
  else if (e->exit_code < 0)
    e->exit_code = 126; /* never started */
  ctr_unref (e->c);
}

/* A detached exec: EXEC with detach set, wait for STARTED, in the pool. */
struct detached
{
  uv_work_t work;
  struct http_request *req;
  struct ctr_exec *e;
  char *sock, *process;
  int pid;
  char *error;
};

static void
detached_work (uv_work_t *w)
{
  struct detached *j = w->data;
  struct shim_exec_req r = { .process_json = j->process, .use_stdin = false, .detach = true };
  cleanup_free char *json = shim_exec_json (&r);
  skiff_error_t err = NULL;
  struct shim_frame f = { 0 };
  int fd;

  fd = json ? shim_connect (j->sock, &err) : -1;
  if (fd < 0 || shim_write_frame (fd, SHIM_FRAME_EXEC, json, strlen (json), &err) < 0)
    goto fail;
  while (shim_read_frame (fd, &f, &err) > 0)
    {
      if (f.type == SHIM_FRAME_STARTED)
        {
          struct shim_started st = { 0 };
          if (shim_started_parse (f.data, &st, &err) == 0)
            {
              j->pid = st.pid;
              if (st.error)
                j->error = strdup (st.error);
            }
          shim_started_clear (&st);
          shim_frame_clear (&f);
          break;
        }
      shim_frame_clear (&f);
    }
  close (fd);
  if (j->pid <= 0 && j->error == NULL)
    j->error = strdup ("the exec process did not start");
  return;
fail:
  if (fd >= 0)
    close (fd);
  j->error = strdup (err ? err->msg : "out of memory");
  skiff_error_release (&err);
}

static void
detached_after (uv_work_t *w, int status)
{
  struct detached *j = w->data;
  if (j->error)
    {
      j->e->exit_code = 126;
      http_respond_error (j->req, 500, "%s", j->error);
    }
  else
    {
      j->e->pid = j->pid;
      j->e->running = true;
      http_respond_empty (j->req, 200);
    }
  ctr_unref (j->e->c);
  free (j->sock);
  free (j->process);
  free (j->error);
  free (j);
}

static void
h_exec_start (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct ctr_exec *e = exec_lookup (req, d);
  cleanup_json yajl_val body = NULL, cfg = NULL;
  cleanup_free char *process = NULL, *sock = NULL;
  skiff_error_t err = NULL;
  struct attach_opts o = { 0 };
  uv_buf_t leftover = { 0 };
  uv_stream_t *s;
  bool tty, detach;

  if (e == NULL)
    return;
  if (e->started)
    {
      http_respond_error (req, 409, "Error: Exec command %s is already running", e->id);
      return;
    }
  if (!containers_is_running (e->c))
    {
      http_respond_error (req, 409, "Container %s is not running", e->c->rec->id);
      return;
    }
  json_parse (req->body_len ? req->body : "{}", &body, NULL);
  json_parse (e->config, &cfg, NULL);
  detach = YAJL_IS_TRUE (json_get (body, "Detach"));
  tty = YAJL_IS_TRUE (json_get (body, "Tty")) || YAJL_IS_TRUE (json_get (cfg, "Tty"));
  if (exec_process (e, tty, &process, &err) < 0)
    {
      http_respond_error (req, daemon_error_status (err), "%s", err->msg);
      skiff_error_release (&err);
      return;
    }
  sock = ctr_shim_sock (e->c);
  if (sock == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  e->started = true;
  ctr_ref (e->c);
  if (detach)
    {
      struct detached *j = calloc (1, sizeof (*j));
      if (j == NULL)
        {
          ctr_unref (e->c);
          http_respond_error (req, 500, "out of memory");
          return;
        }
      j->req = req;
      j->e = e;
      j->sock = steal_pointer (&sock);
      j->process = steal_pointer (&process);
      j->work.data = j;
      uv_queue_work (d->loop, &j->work, detached_work, detached_after);
      return;
    }
  o.shim_sock = sock;
  o.tty = tty;
  o.use_stdin = YAJL_IS_TRUE (json_get (cfg, "AttachStdin"));
  o.use_stdout = YAJL_IS_TRUE (json_get (cfg, "AttachStdout"));
  o.use_stderr = YAJL_IS_TRUE (json_get (cfg, "AttachStderr"));
  o.close_stdin_on_eof = true;
  o.detach_keys = YAJL_IS_STRING (json_get (cfg, "DetachKeys")) ? json_get (cfg, "DetachKeys")->u.string : NULL;
  o.exec_process_json = process;
  o.on_started = exec_started;
  o.on_exit = exec_exited;
  o.data = e;
  s = http_hijack (req, true, &leftover);
  if (s == NULL)
    {
      ctr_unref (e->c);
      return;
    }
  if (attach_start (d->loop, s, leftover, &o, &e->pump, &err) < 0)
    {
      skiff_error_release (&err);
      ctr_unref (e->c);
    }
}

static void
h_exec_resize (struct http_request *req, void *data)
{
  struct ctr_exec *e = exec_lookup (req, data);
  const char *h = http_query (req, "h"), *w = http_query (req, "w");
  if (e == NULL)
    return;
  if (e->pump == NULL || h == NULL || w == NULL || atoi (h) <= 0 || atoi (w) <= 0)
    {
      http_respond_error (req, e->pump ? 400 : 409, e->pump ? "invalid terminal size" : "exec %s is not running", e->id);
      return;
    }
  attach_pump_resize (e->pump, atoi (h), atoi (w));
  http_respond_empty (req, 200);
}

static void
h_exec_inspect (struct http_request *req, void *data)
{
  struct ctr_exec *e = exec_lookup (req, data);
  cleanup_json yajl_val cfg = NULL;
  cleanup_gen yajl_gen g = NULL;
  cleanup_free char *out = NULL;
  yajl_val cmd;
  size_t i;

  if (e == NULL)
    return;
  json_parse (e->config, &cfg, NULL);
  cmd = json_get (cfg, "Cmd");
  g = json_gen_new (false);
  yajl_gen_map_open (g);
  json_gen_kv_bool (g, "CanRemove", false);
  json_gen_kv_str (g, "ContainerID", e->c->rec->id);
  json_gen_kv_str (g, "DetachKeys", "");
  json_gen_str (g, "ExitCode");
  if (e->exit_code >= 0 && !e->running)
    yajl_gen_integer (g, e->exit_code);
  else
    yajl_gen_null (g);
  json_gen_kv_str (g, "ID", e->id);
  json_gen_kv_bool (g, "OpenStderr", YAJL_IS_TRUE (json_get (cfg, "AttachStderr")));
  json_gen_kv_bool (g, "OpenStdin", YAJL_IS_TRUE (json_get (cfg, "AttachStdin")));
  json_gen_kv_bool (g, "OpenStdout", YAJL_IS_TRUE (json_get (cfg, "AttachStdout")));
  json_gen_str (g, "ProcessConfig");
  yajl_gen_map_open (g);
  json_gen_str (g, "arguments");
  yajl_gen_array_open (g);
  for (i = 1; cmd && YAJL_IS_ARRAY (cmd) && i < cmd->u.array.len; i++)
    json_gen_value (g, cmd->u.array.values[i]);
  yajl_gen_array_close (g);
  json_gen_str (g, "entrypoint");
  if (cmd && YAJL_IS_ARRAY (cmd) && cmd->u.array.len)
    json_gen_value (g, cmd->u.array.values[0]);
  else
    json_gen_str (g, "");
  json_gen_kv_bool (g, "privileged", YAJL_IS_TRUE (json_get (cfg, "Privileged")));
  json_gen_kv_bool (g, "tty", YAJL_IS_TRUE (json_get (cfg, "Tty")));
  json_gen_kv_str (g, "user", YAJL_IS_STRING (json_get (cfg, "User")) ? json_get (cfg, "User")->u.string : "");
  yajl_gen_map_close (g);
  json_gen_kv_bool (g, "Running", e->running);
  json_gen_kv_int (g, "Pid", e->running ? e->pid : 0);
  yajl_gen_map_close (g);
  out = json_gen_steal (g, NULL);
  http_respond_json (req, 200, out);
}

int
api_exec_register (struct router *r, skiff_error_t *err)
{
  if (router_add (r, "POST", "/containers/{id}/exec", h_exec_create, err) < 0
      || router_add (r, "POST", "/exec/{id}/start", h_exec_start, err) < 0
      || router_add (r, "POST", "/exec/{id}/resize", h_exec_resize, err) < 0
      || router_add (r, "GET", "/exec/{id}/json", h_exec_inspect, err) < 0)
    return -1;
  return 0;
}
