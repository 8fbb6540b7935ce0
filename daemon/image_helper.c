/* Running skiff-image for an image operation (image_helper.h).  */
#include "image_helper.h"
#include "cleanup.h"
#include "daemon.h"
#include "image_server.h"
#include "json.h"
#include "log.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define RESULT_MAX (1024 * 1024)
#define LINE_MAX_LEN (1024 * 1024)
#define READ_BLOCK (64 * 1024)

struct image_helper
{
  struct daemon *d;
  struct image_helper_opts o;
  char *command; /* args[0], for messages */
  uv_process_t proc;
  uv_pipe_t in, out, res;
  unsigned handles; /* not yet closed */
  bool in_closing, out_closing, res_closing;
  bool forked;      /* runs in a process of the fork server, not in proc */
  int pid;          /* its process, once known (0 before) */
  unsigned writes;  /* uv_write on stdin in flight */
  size_t queued;    /* their bytes */
  bool end_input;
  bool exited, out_eof, res_eof, finished, paused;
  bool reported;     /* on_done was called */
  bool spawn_failed; /* nothing ran: no report comes */
  int64_t exit_status;
  int term_signal;
  char *line; /* stdout: the start of a line (lines mode) */
  size_t line_len;
  char *result; /* fd 3 */
  size_t result_len;
  char staging[64];
  uv_work_t work;
  skiff_error_t cleanup_err;
};

struct helper_write
{
  uv_write_t w;
  struct image_helper *h;
  size_t len;
  char data[];
};

static void maybe_finish (struct image_helper *h);

static void
helper_free (struct image_helper *h)
{
  free (h->command);
  free (h->line);
  free (h->result);
  skiff_error_release (&h->cleanup_err);
  free (h);
}

static void
on_closed (uv_handle_t *handle)
{
  struct image_helper *h = handle->data;
  if (--h->handles == 0 && (h->reported || h->spawn_failed))
    helper_free (h);
}

static void
close_handle (uv_handle_t *handle, bool *closing)
{
  if (*closing)
    return;
  *closing = true;
  uv_close (handle, on_closed);
}

static void
close_input (struct image_helper *h)
{
  close_handle ((uv_handle_t *) &h->in, &h->in_closing);
}

/* ---- stdin ---- */

static void
on_written (uv_write_t *w, int status)
{
  struct helper_write *hw = (struct helper_write *) w;
  struct image_helper *h = hw->h;
  bool was_high = h->queued >= IMAGE_HELPER_INPUT_LOW;

  h->writes--;
  h->queued -= hw->len;
  free (hw);
  if (status < 0 && status != UV_ECANCELED)
    {
      /* The helper stopped reading (it failed, or is done): its result
         tells why; the rest of the input is dropped.  */
      log_debug ("skiff-image %s: stdin: %s", h->command, uv_strerror (status));
      close_input (h);
    }
  if (h->end_input && h->writes == 0)
    close_input (h);
  if (was_high && h->queued < IMAGE_HELPER_INPUT_LOW && !h->in_closing && h->o.on_input_drained)
    h->o.on_input_drained (h->o.data);
}

long
image_helper_write (struct image_helper *h, const char *buf, size_t len)
{
  struct helper_write *hw;
  uv_buf_t b;

  if (h->in_closing || h->end_input)
    return -1;
  if (len == 0)
    return (long) h->queued;
  hw = malloc (sizeof (*hw) + len);
  if (hw == NULL)
    {
      /* The helper sees a cut stream and fails.  */
      log_error ("skiff-image %s: stdin: out of memory", h->command);
      close_input (h);
      return -1;
    }
  hw->h = h;
  hw->len = len;
  memcpy (hw->data, buf, len);
  b = uv_buf_init (hw->data, (unsigned) len);
  if (uv_write (&hw->w, (uv_stream_t *) &h->in, &b, 1, on_written) < 0)
    {
      free (hw);
      close_input (h);
      return -1;
    }
  h->writes++;
  h->queued += len;
  return (long) h->queued;
}

void
image_helper_end_input (struct image_helper *h)
{
  h->end_input = true;
  if (h->writes == 0)
    close_input (h);
}

/* ---- stdout and fd 3 ---- */

static void
alloc_block (uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
  buf->base = malloc (READ_BLOCK);
  buf->len = buf->base ? READ_BLOCK : 0;
}

/* Whole lines to on_output; a line longer than LINE_MAX_LEN goes in
   pieces (no message of skiff-image's is anywhere near).  */
static void
output_lines (struct image_helper *h, const char *buf, size_t n)
{
  while (n > 0)
    {
      const char *nl = memchr (buf, '\n', n);
      size_t take = nl ? (size_t) (nl - buf) + 1 : n;
      char *grown = realloc (h->line, h->line_len + take);

      if (grown == NULL)
        {
          log_error ("skiff-image %s: output: out of memory", h->command);
          return;
        }
      h->line = grown;
      memcpy (h->line + h->line_len, buf, take);
      h->line_len += take;
      if (nl || h->line_len >= LINE_MAX_LEN)
        {
          if (h->o.on_output)
            h->o.on_output (h->line, h->line_len, h->o.data);
          h->line_len = 0;
        }
      buf += take, n -= take;
    }
}

static void
on_out_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  struct image_helper *h = s->data;

  if (n > 0)
    {
      if (h->o.lines)
        output_lines (h, buf->base, (size_t) n);
      else if (h->o.on_output)
        h->o.on_output (buf->base, (size_t) n, h->o.data);
    }
  else if (n < 0)
    {
      if (n != UV_EOF)
        log_warning ("skiff-image %s: stdout: %s", h->command, uv_strerror ((int) n));
      if (h->line_len > 0 && h->o.on_output)
        h->o.on_output (h->line, h->line_len, h->o.data);
      h->line_len = 0;
      h->out_eof = true;
      close_handle ((uv_handle_t *) &h->out, &h->out_closing);
      maybe_finish (h);
    }
  free (buf->base);
}

void
image_helper_pause_output (struct image_helper *h)
{
  if (!h->out_closing && !h->paused)
    uv_read_stop ((uv_stream_t *) &h->out);
  h->paused = true;
}

void
image_helper_resume_output (struct image_helper *h)
{
  if (!h->out_closing && h->paused)
    uv_read_start ((uv_stream_t *) &h->out, alloc_block, on_out_read);
  h->paused = false;
}

void
image_helper_drop_output (struct image_helper *h)
{
  if (h->out_closing)
    return;
  h->out_eof = true;
  h->line_len = 0;
  close_handle ((uv_handle_t *) &h->out, &h->out_closing);
  maybe_finish (h);
}

static void
on_res_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  struct image_helper *h = s->data;

  if (n > 0 && h->result_len + (size_t) n <= RESULT_MAX)
    {
      char *grown = realloc (h->result, h->result_len + n + 1);
      if (grown)
        {
          memcpy (grown + h->result_len, buf->base, n);
          h->result = grown;
          h->result_len += n;
          h->result[h->result_len] = '\0';
        }
    }
  else if (n < 0)
    {
      h->res_eof = true;
      close_handle ((uv_handle_t *) &h->res, &h->res_closing);
      maybe_finish (h);
    }
  free (buf->base);
}

/* ---- the end ---- */

/* The end of the process: from libuv (a helper skiffd spawned) or from the
   fork server.  */
static void
helper_exited (struct image_helper *h, int64_t exit_status, int term_signal)
{
  h->exited = true;
  h->exit_status = exit_status;
  h->term_signal = term_signal;
  if (term_signal)
    log_warning ("skiff-image %s (pid %d) was killed by signal %d", h->command, h->pid, term_signal);
  /* Nobody reads stdin any more.  */
  close_input (h);
  maybe_finish (h);
}

static void
on_helper_exit (uv_process_t *p, int64_t exit_status, int term_signal)
{
  helper_exited (p->data, exit_status, term_signal);
}

static void
on_server_exited (void *data, int64_t exit_status, int term_signal)
{
  helper_exited (data, exit_status, term_signal);
}

static void
on_server_started (void *data, int pid)
{
  struct image_helper *h = data;

  if (pid < 0)
    {
      log_error ("skiff-image %s: the fork server could not start it: %s", h->command, strerror (-pid));
      return;
    }
  h->pid = pid;
  snprintf (h->staging, sizeof (h->staging), "skiff-image-%d", pid);
  log_debug ("skiff-image %s: pid %d", h->command, pid);
}

/* In the pool: what a dead helper leaves behind, and the tags it changed.  */
static void
cleanup_work (uv_work_t *w)
{
  struct image_helper *h = w->data;
  skiff_error_t err = NULL;

  if ((h->term_signal || h->exit_status != 0) && h->staging[0]
      && image_store_remove_staging (h->d->images, h->staging, &err) < 0)
    {
      log_warning ("skiff-image %s: %s", h->command, err->msg);
      skiff_error_release (&err);
    }
  if (image_store_reload (h->d->images, &h->cleanup_err) < 0)
    log_error ("skiff-image %s: reload the image store: %s", h->command, h->cleanup_err->msg);
}

static int
kind_status (const char *kind)
{
  static const struct
  {
    const char *kind;
    int status;
  } map[] = { { "invalid", 400 }, { "not_found", 404 }, { "conflict", 409 }, { "denied", 401 } };
  size_t i;
  for (i = 0; kind && i < sizeof (map) / sizeof (map[0]); i++)
    if (strcmp (map[i].kind, kind) == 0)
      return map[i].status;
  return 500;
}

static void
cleanup_done (uv_work_t *w, int status)
{
  struct image_helper *h = w->data;
  cleanup_json yajl_val result = NULL;
  cleanup_free char *message = NULL;
  yajl_val ok = NULL;

  if (h->result && json_parse (h->result, &result, NULL) == 0 && YAJL_IS_OBJECT (result))
    ok = json_get (result, "ok");
  if (ok && YAJL_IS_TRUE (ok))
    h->o.on_done (0, NULL, result, h->o.data);
  else if (ok)
    h->o.on_done (kind_status (json_str_or (json_get (result, "kind"), "failed")),
                  json_str_or (json_get (result, "message"), "skiff-image failed"), result, h->o.data);
  else
    {
      if (h->term_signal)
        {
          if (asprintf (&message, "%s failed: skiff-image was killed by signal %d (%s)", h->command, h->term_signal,
                        strsignal (h->term_signal))
              < 0)
            message = NULL;
        }
      else if (asprintf (&message, "%s failed: skiff-image exited with status %lld and no result", h->command,
                         (long long) h->exit_status)
               < 0)
        message = NULL;
      h->o.on_done (500, message ? message : "skiff-image failed", NULL, h->o.data);
    }
  h->reported = true;
  if (h->handles == 0)
    helper_free (h);
}

static void
maybe_finish (struct image_helper *h)
{
  int ret;

  if (!h->exited || !h->out_eof || !h->res_eof || h->finished)
    return;
  h->finished = true;
  if (!h->forked)
    uv_close ((uv_handle_t *) &h->proc, on_closed);
  h->work.data = h;
  ret = uv_queue_work (h->d->loop, &h->work, cleanup_work, cleanup_done);
  if (ret < 0)
    {
      log_error ("skiff-image %s: queue the clean-up: %s", h->command, uv_strerror (ret));
      cleanup_done (&h->work, ret);
    }
}

/* ---- start ---- */

/* After a failed start: no report comes; every pipe closes, and the last
   handle closed frees h.  */
static void
start_failed (struct image_helper *h)
{
  h->spawn_failed = true;
  close_handle ((uv_handle_t *) &h->in, &h->in_closing);
  close_handle ((uv_handle_t *) &h->out, &h->out_closing);
  close_handle ((uv_handle_t *) &h->res, &h->res_closing);
}

static int
push_arg (char ***argv, size_t *n, const char *a)
{
  char **grown = realloc (*argv, (*n + 2) * sizeof (char *));
  if (grown == NULL)
    return -1;
  grown[(*n)++] = (char *) a;
  grown[*n] = NULL;
  *argv = grown;
  return 0;
}

int
image_helper_args (struct daemon *d, const char *const *tail, char ***out)
{
  char **argv = NULL;
  size_t n = 0, i;
  int ret = 0;

  ret |= push_arg (&argv, &n, d->opts.image_helper_path);
  ret |= push_arg (&argv, &n, "--root");
  ret |= push_arg (&argv, &n, d->opts.root);
  ret |= push_arg (&argv, &n, "--log-level");
  ret |= push_arg (&argv, &n, d->opts.log_level);
  for (i = 0; d->registry_mirrors && d->registry_mirrors[i]; i++)
    ret |= push_arg (&argv, &n, "--registry-mirror") | push_arg (&argv, &n, d->registry_mirrors[i]);
  for (i = 0; d->insecure_registries && d->insecure_registries[i]; i++)
    ret |= push_arg (&argv, &n, "--insecure-registry") | push_arg (&argv, &n, d->insecure_registries[i]);
  for (i = 0; tail[i]; i++)
    ret |= push_arg (&argv, &n, tail[i]);
  if (ret < 0)
    {
      free (argv);
      return -1;
    }
  *out = argv;
  return 0;
}

/* A skiff-image of skiffd's own for this operation (--image-helper-idle 0,
   or no fork server to be had).  */
static int
helper_spawn (struct image_helper *h, const char *const *args, skiff_error_t *err)
{
  struct daemon *d = h->d;
  cleanup_free char **argv = NULL;
  uv_stdio_container_t stdio[4];
  uv_process_options_t po = { 0 };
  int ret;

  if (image_helper_args (d, args, &argv) < 0)
    return skiff_error_make (err, ENOMEM, "start skiff-image");
  uv_pipe_init (d->loop, &h->in, 0);
  uv_pipe_init (d->loop, &h->out, 0);
  uv_pipe_init (d->loop, &h->res, 0);
  h->handles = 4;
  stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
  stdio[0].data.stream = (uv_stream_t *) &h->in;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *) &h->out;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = skiff_log_fd ();
  stdio[3].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[3].data.stream = (uv_stream_t *) &h->res;
  po.file = d->opts.image_helper_path;
  po.args = argv;
  po.stdio = stdio;
  po.stdio_count = 4;
  po.exit_cb = on_helper_exit;
  ret = uv_spawn (d->loop, &h->proc, &po);
  if (ret < 0)
    {
      start_failed (h);
      uv_close ((uv_handle_t *) &h->proc, on_closed);
      return skiff_error_make (err, 0, "cannot run skiff-image `%s`: %s", d->opts.image_helper_path,
                               uv_strerror (ret));
    }
  h->pid = h->proc.pid;
  snprintf (h->staging, sizeof (h->staging), "skiff-image-%d", h->pid);
  log_debug ("skiff-image %s: pid %d", h->command, h->pid);
  return 0;
}

/* The same operation in a process of the fork server: skiffd makes the
   three pipes itself and sends the far ends.  */
static int
helper_fork (struct image_helper *h, const char *const *args, skiff_error_t *err)
{
  static const struct
  {
    size_t stream;
    bool child_reads;
  } ends[3] = { { offsetof (struct image_helper, in), true },
                { offsetof (struct image_helper, out), false },
                { offsetof (struct image_helper, res), false } };
  struct image_server_op op = { .on_started = on_server_started, .on_exited = on_server_exited, .data = h };
  int child[3] = { -1, -1, -1 }, mine[3] = { -1, -1, -1 }, i, ret = 0;

  for (i = 0; i < 3; i++)
    uv_pipe_init (h->d->loop, (uv_pipe_t *) ((char *) h + ends[i].stream), 0);
  h->handles = 3;
  for (i = 0; i < 3 && ret == 0; i++)
    {
      int p[2];
      if (pipe2 (p, O_CLOEXEC) < 0)
        {
          ret = skiff_error_make (err, errno, "run skiff-image: pipe");
          break;
        }
      child[i] = ends[i].child_reads ? p[0] : p[1];
      mine[i] = ends[i].child_reads ? p[1] : p[0];
      if (uv_pipe_open ((uv_pipe_t *) ((char *) h + ends[i].stream), mine[i]) < 0)
        ret = skiff_error_make (err, EIO, "run skiff-image: pipe");
      else
        mine[i] = -1; /* the handle's now */
    }
  if (ret == 0)
    ret = image_server_run (h->d, args, child, &op, err);
  for (i = 0; i < 3; i++)
    {
      if (child[i] >= 0)
        close (child[i]);
      if (mine[i] >= 0)
        close (mine[i]);
    }
  if (ret < 0)
    {
      start_failed (h);
    }
  return ret;
}

int
image_helper_start (struct daemon *d, const struct image_helper_opts *o, struct image_helper **out,
                    skiff_error_t *err)
{
  struct image_helper *h = calloc (1, sizeof (*h));

  if (h == NULL || (h->command = strdup (o->args[0])) == NULL)
    {
      free (h);
      return skiff_error_make (err, ENOMEM, "start skiff-image");
    }
  h->d = d;
  h->o = *o;
  h->o.args = NULL; /* the caller's: only used here */
  h->o.input = NULL;
  h->in.data = h->out.data = h->res.data = h->proc.data = h;
  h->forked = d->opts.image_helper_idle > 0;
  if ((h->forked ? helper_fork (h, o->args, err) : helper_spawn (h, o->args, err)) < 0)
    return -1; /* h is freed with its handles */
  uv_read_start ((uv_stream_t *) &h->out, alloc_block, on_out_read);
  uv_read_start ((uv_stream_t *) &h->res, alloc_block, on_res_read);
  if (!o->stream_input)
    {
      if (o->input_len > 0)
        image_helper_write (h, o->input, o->input_len);
      image_helper_end_input (h);
    }
  *out = h;
  return 0;
}
