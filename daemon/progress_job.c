/* Streaming image jobs (progress_job.h).  */
#include "progress_job.h"
#include "base64.h"
#include "cleanup.h"
#include "daemon.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "progress_text.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *
message_json (const char *id, const char *status, int64_t current, int64_t total)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  char *text, *line = NULL;
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "status", status);
  if (id)
    {
      json_gen_str (g, "progressDetail");
      yajl_gen_map_open (g);
      if (total > 0)
        {
          json_gen_kv_int (g, "current", current);
          json_gen_kv_int (g, "total", total);
        }
      yajl_gen_map_close (g);
      if (total > 0)
        {
          char bar[128];
          progress_text (current, total, bar, sizeof (bar));
          json_gen_kv_str (g, "progress", bar);
        }
      json_gen_kv_str (g, "id", id);
    }
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text && asprintf (&line, "%s\r\n", text) < 0)
    line = NULL;
  free (text);
  return line;
}

static void
queue_line (struct progress_job *j, char *line)
{
  if (line == NULL)
    return;
  pthread_mutex_lock (&j->lock);
  if (j->n_lines == j->cap_lines)
    {
      size_t cap = j->cap_lines ? j->cap_lines * 2 : 16;
      char **n = realloc (j->lines, cap * sizeof (char *));
      if (n == NULL)
        {
          pthread_mutex_unlock (&j->lock);
          free (line);
          return;
        }
      j->lines = n;
      j->cap_lines = cap;
    }
  j->lines[j->n_lines++] = line;
  pthread_mutex_unlock (&j->lock);
  uv_async_send (&j->async);
}

void
progress_job_message (void *data, const char *id, const char *status, int64_t current, int64_t total)
{
  queue_line (data, message_json (id, status, current, total));
}

void
progress_job_aux (struct progress_job *j, const char *aux)
{
  char *line = NULL;
  if (asprintf (&line, "{\"progressDetail\":{},\"aux\":%s}\r\n", aux) < 0)
    line = NULL;
  queue_line (j, line);
}

static void
flush_lines (struct progress_job *j)
{
  size_t i, n;
  char **lines;
  pthread_mutex_lock (&j->lock);
  lines = j->lines;
  n = j->n_lines;
  j->lines = NULL;
  j->n_lines = j->cap_lines = 0;
  pthread_mutex_unlock (&j->lock);
  for (i = 0; i < n; i++)
    {
      if (!j->gone)
        {
          if (!j->started)
            {
              http_stream_begin (j->req, 200, "application/json");
              j->started = true;
            }
          if (http_stream_write (j->req, lines[i], strlen (lines[i])) < 0)
            j->gone = true;
        }
      free (lines[i]);
    }
  free (lines);
}

static void
on_async (uv_async_t *a)
{
  flush_lines (a->data);
}

static void
job_work (uv_work_t *w)
{
  struct progress_job *j = w->data;
  j->status = j->run (j, &j->err);
}

void
progress_job_discard (struct progress_job *j)
{
  skiff_error_release (&j->err);
  free (j->ref);
  free (j->tag);
  free (j->platform);
  free (j->username);
  if (j->password)
    explicit_bzero (j->password, strlen (j->password));
  free (j->password);
  free (j);
}

static void
job_free (uv_handle_t *h)
{
  struct progress_job *j = h->data;
  pthread_mutex_destroy (&j->lock);
  progress_job_discard (j);
}

static void
job_after (uv_work_t *w, int status)
{
  struct progress_job *j = w->data;
  int code;

  flush_lines (j);
  if (j->status < 0 && j->err)
    {
      code = j->status == IMAGE_ERR_NOT_FOUND ? 404 : j->status == IMAGE_ERR_INVALID ? 400 : 500;
      if (!j->started)
        http_respond_error (j->req, code, "%s", j->err->msg);
      else
        {
          cleanup_gen yajl_gen g = json_gen_new (false);
          cleanup_free char *text = NULL;
          yajl_gen_map_open (g);
          json_gen_str (g, "errorDetail");
          yajl_gen_map_open (g);
          json_gen_kv_str (g, "message", j->err->msg);
          yajl_gen_map_close (g);
          json_gen_kv_str (g, "error", j->err->msg);
          yajl_gen_map_close (g);
          text = json_gen_steal (g, NULL);
          if (text && !j->gone)
            http_stream_printf (j->req, "%s\r\n", text);
          http_stream_end (j->req);
        }
    }
  else if (j->started)
    http_stream_end (j->req);
  else
    http_respond_json (j->req, 200, "");
  uv_close ((uv_handle_t *) &j->async, job_free);
}

static void
client_gone (struct http_request *req, void *data)
{
  struct progress_job *j = data;
  j->gone = true; /* the job goes on: its layers are useful later */
}

void
registry_auth_header_decode (const char *value, char **username, char **password)
{
  cleanup_free char *text = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  const char *user, *pass, *auth;

  *username = *password = NULL;
  if (value == NULL || *value == '\0' || (text = base64_decode (value, NULL)) == NULL)
    return;
  if (json_parse (text, &v, &err) < 0 || !YAJL_IS_OBJECT (v))
    {
      log_debug ("X-Registry-Auth does not decode: %s", err ? err->msg : "not an object");
      skiff_error_release (&err);
      return;
    }
  user = json_str_or (json_get (v, "username"), "");
  pass = json_str_or (json_get (v, "password"), "");
  auth = json_str_or (json_get (v, "auth"), "");
  if (*user == '\0' && *auth)
    {
      /* "auth": base64 "user:pass", as in config.json.  */
      cleanup_free char *pair = base64_decode (auth, NULL);
      char *colon = pair ? strchr (pair, ':') : NULL;
      if (colon)
        {
          *username = strndup (pair, colon - pair);
          *password = strdup (colon + 1);
          explicit_bzero (pair, strlen (pair));
        }
      return;
    }
  if (*user)
    {
      *username = strdup (user);
      *password = strdup (pass);
    }
}

struct progress_job *
progress_job_new (struct http_request *req, struct daemon *d, progress_job_fn run)
{
  struct progress_job *j = calloc (1, sizeof (*j));
  if (j == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return NULL;
    }
  j->req = req;
  j->d = d;
  j->run = run;
  registry_auth_header_decode (http_header (req, "X-Registry-Auth"), &j->username, &j->password);
  return j;
}

void
progress_job_start (struct progress_job *j)
{
  pthread_mutex_init (&j->lock, NULL);
  uv_async_init (j->d->loop, &j->async, on_async);
  j->async.data = j;
  http_request_on_close (j->req, client_gone, j);
  j->work.data = j;
  uv_queue_work (j->d->loop, &j->work, job_work, job_after);
}
