/* POST /images/create?fromImage=: a pull from a registry in the thread
   pool, its progress streamed as Docker's JSON messages.  The worker's
   progress goes through a queue and a uv_async to the loop thread, the
   only one that may write to the client.  The answer starts with the
   first message, so that a missing image can still be a plain 404.  */
#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "registry.h"
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pull_job
{
  uv_work_t work;
  uv_async_t async;
  struct http_request *req;
  struct daemon *d;
  char *ref;
  pthread_mutex_t lock;
  char **lines; /* JSON lines waiting for the loop */
  size_t n_lines, cap_lines;
  bool started, gone, done;
  int status;
  skiff_error_t err;
};

static char *
progress_json (const char *id, const char *status, int64_t current, int64_t total)
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
queue_line (struct pull_job *j, char *line)
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

/* In the worker thread.  */
static void
on_progress (void *data, const char *id, const char *status, int64_t current, int64_t total)
{
  queue_line (data, progress_json (id, status, current, total));
}

static void
flush_lines (struct pull_job *j)
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
pull_work (uv_work_t *w)
{
  struct pull_job *j = w->data;
  struct pull_opts o = { .mirrors = (const char *const *) j->d->registry_mirrors,
                         .insecure = (const char *const *) j->d->insecure_registries,
                         .progress = on_progress,
                         .data = j };
  cleanup_free char *id = NULL;
  j->status = image_pull (j->d->images, j->ref, &o, &id, &j->err);
}

static void
job_free (uv_handle_t *h)
{
  struct pull_job *j = h->data;
  pthread_mutex_destroy (&j->lock);
  skiff_error_release (&j->err);
  free (j->ref);
  free (j);
}

static void
pull_after (uv_work_t *w, int status)
{
  struct pull_job *j = w->data;
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
  struct pull_job *j = data;
  j->gone = true; /* the pull goes on: its layers are useful later */
}

void
api_pull_start (struct http_request *req, struct daemon *d, const char *from_image, const char *tag)
{
  struct pull_job *j = calloc (1, sizeof (*j));
  bool has_tag;
  const char *slash;

  if (j == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  /* fromImage may carry its tag or digest already.  */
  slash = strrchr (from_image, '/');
  has_tag = strchr (from_image, '@') || strchr (slash ? slash : from_image, ':');
  if (!has_tag && tag && *tag)
    {
      if (asprintf (&j->ref, "%s%s%s", from_image, strncmp (tag, "sha256:", 7) == 0 ? "@" : ":", tag) < 0)
        j->ref = NULL;
    }
  else
    j->ref = strdup (from_image);
  if (j->ref == NULL)
    {
      free (j);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  j->req = req;
  j->d = d;
  pthread_mutex_init (&j->lock, NULL);
  uv_async_init (d->loop, &j->async, on_async);
  j->async.data = j;
  http_request_on_close (req, client_gone, j);
  j->work.data = j;
  uv_queue_work (d->loop, &j->work, pull_work, pull_after);
}
