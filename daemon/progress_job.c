/* Streaming registry jobs (progress_job.h).  */
#include "progress_job.h"
#include "cleanup.h"
#include "daemon.h"
#include "http.h"
#include "image_helper.h"
#include "json.h"
#include "log.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct progress_job
{
  struct http_request *req;
  bool started, gone;
};

static void
on_line (const char *line, size_t len, void *data)
{
  struct progress_job *j = data;

  if (j->gone)
    return;
  if (!j->started)
    {
      http_stream_begin (j->req, 200, "application/json");
      j->started = true;
    }
  if (http_stream_write (j->req, line, len) < 0)
    j->gone = true;
}

static void
on_done (int status, const char *message, yajl_val result, void *data)
{
  struct progress_job *j = data;

  if (status == 0)
    {
      if (j->started)
        http_stream_end (j->req);
      else
        http_respond_json (j->req, 200, "");
    }
  else if (!j->started)
    http_respond_error (j->req, status, "%s", message);
  else
    {
      cleanup_gen yajl_gen g = json_gen_new (false);
      cleanup_free char *text = NULL;
      if (g)
        {
          yajl_gen_map_open (g);
          json_gen_str (g, "errorDetail");
          yajl_gen_map_open (g);
          json_gen_kv_str (g, "message", message);
          yajl_gen_map_close (g);
          json_gen_kv_str (g, "error", message);
          yajl_gen_map_close (g);
          text = json_gen_steal (g, NULL);
        }
      if (text && !j->gone)
        http_stream_printf (j->req, "%s\r\n", text);
      http_stream_end (j->req);
    }
  free (j);
}

static void
client_gone (struct http_request *req, void *data)
{
  struct progress_job *j = data;
  j->gone = true; /* the job goes on: its layers are useful later */
}

void
progress_job_start (struct http_request *req, struct daemon *d, const char *const *args)
{
  struct progress_job *j = calloc (1, sizeof (*j));
  const char *auth = http_header (req, "X-Registry-Auth");
  struct image_helper_opts o = { .args = args,
                                 .input = auth ? auth : "",
                                 .input_len = auth ? strlen (auth) : 0,
                                 .lines = true,
                                 .on_output = on_line,
                                 .on_done = on_done,
                                 .data = j };
  struct image_helper *h;
  skiff_error_t err = NULL;

  if (j == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  j->req = req;
  if (image_helper_start (d, &o, &h, &err) < 0)
    {
      log_error ("%s", err->msg);
      http_respond_error (req, 500, "%s", err->msg);
      skiff_error_release (&err);
      free (j);
      return;
    }
  http_request_on_close (req, client_gone, j);
}
