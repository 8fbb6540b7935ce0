#include "attach.h"
#include "cleanup.h"
#include "shim_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct attach_pump
{
  uv_stream_t *client;
  uv_pipe_t shim;
  uv_connect_t connect;
  struct shim_decoder dec;
  struct attach_opts o;
  char *process_json;
  uv_buf_t leftover;
  uint8_t keys[16];
  size_t n_keys, matched;
  int open_handles;
  bool closing;
  bool exit_reported;
  bool attached_reported;
  int exit_code;
};

static void
report_attached (struct attach_pump *p)
{
  if (p->attached_reported || p->o.on_attached == NULL)
    return;
  p->attached_reported = true;
  p->o.on_attached (p->o.data);
}

struct write_req
{
  uv_write_t req;
  void *buf;
};

int
attach_parse_detach_keys (const char *spec, uint8_t *keys, size_t *n, skiff_error_t *err)
{
  cleanup_free char *copy = NULL;
  char *tok, *save = NULL;

  *n = 0;
  if (spec == NULL || *spec == '\0')
    spec = "ctrl-p,ctrl-q";
  copy = strdup (spec);
  if (copy == NULL)
    return skiff_error_make (err, ENOMEM, "detach keys");
  for (tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      if (*n >= 16)
        return skiff_error_make (err, 0, "Invalid detach keys (%s) provided", spec);
      if (strlen (tok) == 1)
        keys[(*n)++] = (uint8_t) tok[0];
      else if (strncmp (tok, "ctrl-", 5) == 0 && strlen (tok) == 6)
        {
          char c = tok[5];
          if (c >= 'a' && c <= 'z')
            keys[(*n)++] = (uint8_t) (c - 'a' + 1);
          else if (c == '@')
            keys[(*n)++] = 0;
          else if (c == '[')
            keys[(*n)++] = 27;
          else if (c == '\\')
            keys[(*n)++] = 28;
          else if (c == ']')
            keys[(*n)++] = 29;
          else if (c == '^')
            keys[(*n)++] = 30;
          else if (c == '_')
            keys[(*n)++] = 31;
          else
            return skiff_error_make (err, 0, "Invalid detach keys (%s) provided", spec);
        }
      else
        return skiff_error_make (err, 0, "Invalid detach keys (%s) provided", spec);
    }
  return 0;
}

static void
pump_free_if_done (struct attach_pump *p)
{
  if (p->open_handles > 0)
    return;
  report_attached (p);
  if (p->o.on_exit && !p->exit_reported)
    p->o.on_exit (p->o.data, -1);
  shim_decoder_release (&p->dec);
  free (p->process_json);
  free (p->leftover.base);
  free (p);
}

static void
client_closed (uv_handle_t *h)
{
  struct attach_pump *p = h->data;
  free (h);
  p->open_handles--;
  pump_free_if_done (p);
}

static void
shim_closed (uv_handle_t *h)
{
  struct attach_pump *p = h->data;
  p->open_handles--;
  pump_free_if_done (p);
}

static void
pump_close (struct attach_pump *p)
{
  if (p->closing)
    return;
  p->closing = true;
  if (!uv_is_closing ((uv_handle_t *) p->client))
    uv_close ((uv_handle_t *) p->client, client_closed);
  if (!uv_is_closing ((uv_handle_t *) &p->shim))
    uv_close ((uv_handle_t *) &p->shim, shim_closed);
}

static void
write_done (uv_write_t *req, int status)
{
  struct write_req *w = (struct write_req *) req;
  free (w->buf);
  free (w);
}

/* Queues buf (taken) on stream.  */
static int
queue_write (uv_stream_t *s, void *buf, size_t len)
{
  struct write_req *w = malloc (sizeof (*w));
  uv_buf_t b = uv_buf_init (buf, len);
  if (w == NULL)
    {
      free (buf);
      return -1;
    }
  w->buf = buf;
  if (uv_write (&w->req, s, &b, 1, write_done) < 0)
    {
      free (buf);
      free (w);
      return -1;
    }
  return 0;
}

static int
send_frame (struct attach_pump *p, enum shim_frame_type type, const void *data, size_t len)
{
  uint8_t *out = NULL;
  size_t out_len;
  if (shim_frame_encode (type, data, len, &out, &out_len, NULL) < 0)
    return -1;
  return queue_write ((uv_stream_t *) &p->shim, out, out_len);
}

static void
alloc_cb (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  buf->base = malloc (32768);
  buf->len = buf->base ? 32768 : 0;
}

/* Output of the process to the client, in Docker's stream format.  */
static void
to_client (struct attach_pump *p, int stream, const char *data, size_t len)
{
  char *buf;
  if (len == 0 || (stream == 1 && !p->o.use_stdout) || (stream == 2 && !p->o.use_stderr))
    return;
  if (p->o.tty)
    {
      buf = malloc (len);
      if (buf == NULL)
        return;
      memcpy (buf, data, len);
      queue_write (p->client, buf, len);
      return;
    }
  buf = malloc (len + 8);
  if (buf == NULL)
    return;
  buf[0] = (char) stream;
  buf[1] = buf[2] = buf[3] = 0;
  buf[4] = (char) (len >> 24);
  buf[5] = (char) (len >> 16);
  buf[6] = (char) (len >> 8);
  buf[7] = (char) len;
  memcpy (buf + 8, data, len);
  queue_write (p->client, buf, len + 8);
}

static void
shim_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  struct attach_pump *p = s->data;
  if (n > 0)
    {
      struct shim_frame f;
      int r;
      if (shim_decoder_feed (&p->dec, buf->base, n, NULL) < 0)
        n = UV_EOF;
      while (n > 0 && (r = shim_decoder_next (&p->dec, &f, NULL)) != 0)
        {
          if (r < 0)
            {
              n = UV_EOF;
              break;
            }
          if (f.type == SHIM_FRAME_STDOUT || f.type == SHIM_FRAME_STDERR)
            to_client (p, f.type, f.data, f.len);
          else if (f.type == SHIM_FRAME_STARTED && p->o.on_started)
            {
              struct shim_started st = { 0 };
              if (shim_started_parse (f.data, &st, NULL) == 0)
                p->o.on_started (p->o.data, st.pid, st.error);
              shim_started_clear (&st);
            }
          else if (f.type == SHIM_FRAME_STATUS)
            report_attached (p);
          else if (f.type == SHIM_FRAME_EXIT && p->o.on_exit)
            {
              struct shim_exit e = { 0 };
              if (shim_exit_parse (f.data, &e, NULL) == 0)
                {
                  p->exit_reported = true;
                  p->o.on_exit (p->o.data, e.exit_code);
                }
            }
          shim_frame_clear (&f);
        }
    }
  free (buf->base);
  if (n < 0)
    pump_close (p);
}

/* Stdin from the client, watching for the detach keys.  Bytes that could
   start the sequence are held back until it is clear they do not.  */
static void
from_client (struct attach_pump *p, const char *data, size_t len)
{
  char *out;
  size_t i, olen = 0;

  if (!p->o.use_stdin)
    return;
  out = malloc (len + sizeof (p->keys));
  if (out == NULL)
    return;
  for (i = 0; i < len; i++)
    {
      uint8_t b = (uint8_t) data[i];
      if (p->n_keys && b == p->keys[p->matched])
        {
          if (++p->matched == p->n_keys)
            {
              /* Detach: the container goes on; the client is let go.  */
              if (olen)
                send_frame (p, SHIM_FRAME_STDIN, out, olen);
              free (out);
              pump_close (p);
              return;
            }
          continue;
        }
      if (p->matched)
        {
          /* A partial match that failed: the held keys were input.  */
          memcpy (out + olen, p->keys, p->matched);
          olen += p->matched;
          p->matched = 0;
          if (p->n_keys && b == p->keys[0])
            {
              p->matched = 1;
              continue;
            }
        }
      out[olen++] = (char) b;
    }
  if (olen)
    send_frame (p, SHIM_FRAME_STDIN, out, olen);
  free (out);
}

static void
client_read (uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
  struct attach_pump *p = s->data;
  if (n > 0)
    from_client (p, buf->base, n);
  free (buf->base);
  if (n == UV_EOF)
    {
      /* The client closed its side: stdin ends, output still flows.  */
      uv_read_stop (s);
      if (p->o.use_stdin && p->o.close_stdin_on_eof && !p->closing)
        send_frame (p, SHIM_FRAME_STDIN_CLOSE, NULL, 0);
      if (!p->o.use_stdout && !p->o.use_stderr && !p->o.exec_process_json)
        pump_close (p);
    }
  else if (n < 0)
    pump_close (p);
}

static void
shim_connected (uv_connect_t *req, int status)
{
  struct attach_pump *p = req->data;
  char *json = NULL;

  if (status < 0)
    {
      const char msg[] = "skiffd: the container's shim is not reachable\r\n";
      to_client (p, 2, msg, sizeof (msg) - 1);
      pump_close (p);
      return;
    }
  if (p->process_json)
    {
      struct shim_exec_req r = { .process_json = p->process_json, .use_stdin = p->o.use_stdin, .detach = false };
      json = shim_exec_json (&r);
      if (json == NULL || send_frame (p, SHIM_FRAME_EXEC, json, strlen (json)) < 0)
        {
          free (json);
          pump_close (p);
          return;
        }
    }
  else
    {
      struct shim_attach_req r = { .use_stdin = p->o.use_stdin, .use_stdout = p->o.use_stdout,
                                   .use_stderr = p->o.use_stderr };
      json = shim_attach_json (&r);
      if (json == NULL || send_frame (p, SHIM_FRAME_ATTACH, json, strlen (json)) < 0)
        {
          free (json);
          pump_close (p);
          return;
        }
      /* Frames on one connection are handled in order: the answer to this
         STATUS says the ATTACH is in place.  */
      if (p->o.on_attached)
        send_frame (p, SHIM_FRAME_STATUS, NULL, 0);
    }
  free (json);
  if (p->leftover.len)
    from_client (p, p->leftover.base, p->leftover.len);
  uv_read_start ((uv_stream_t *) &p->shim, alloc_cb, shim_read);
  uv_read_start (p->client, alloc_cb, client_read);
}

int
attach_start (uv_loop_t *loop, uv_stream_t *client, uv_buf_t leftover, const struct attach_opts *o,
              struct attach_pump **pump, skiff_error_t *err)
{
  struct attach_pump *p = calloc (1, sizeof (*p));
  if (p == NULL)
    {
      free (leftover.base);
      uv_close ((uv_handle_t *) client, (uv_close_cb) free);
      return skiff_error_make (err, ENOMEM, "attach");
    }
  p->client = client;
  p->leftover = leftover;
  p->o = *o;
  p->o.shim_sock = NULL;
  if (o->exec_process_json)
    p->process_json = strdup (o->exec_process_json);
  /* Detach keys apply to a terminal only, as in Docker: a plain stream
     (`exec -i`, `run -i` without -t) carries any bytes, ctrl-p ctrl-q too.  */
  if (!o->tty)
    p->n_keys = 0;
  else if (attach_parse_detach_keys (o->detach_keys, p->keys, &p->n_keys, NULL) < 0)
    attach_parse_detach_keys (NULL, p->keys, &p->n_keys, NULL);
  shim_decoder_init (&p->dec);
  client->data = p;
  uv_pipe_init (loop, &p->shim, 0);
  p->shim.data = p;
  p->connect.data = p;
  p->open_handles = 2;
  /* Connected here, not with uv_pipe_connect: shim_connect reaches paths
     longer than sun_path (deep --exec-root) through /proc/self/fd.  A unix
     socket connects at once.  */
  {
    skiff_error_t cerr = NULL;
    int fd = shim_connect (o->shim_sock, &cerr);
    int status = fd < 0 ? UV_ECONNREFUSED : uv_pipe_open (&p->shim, fd);
    skiff_error_release (&cerr);
    if (fd >= 0 && status < 0)
      close (fd);
    shim_connected (&p->connect, status);
  }
  if (pump)
    *pump = p;
  return 0;
}

int
attach_pump_resize (struct attach_pump *p, unsigned int height, unsigned int width)
{
  struct shim_resize_req r = { .height = height, .width = width };
  char *json;
  int ret;
  if (p->closing)
    return -1;
  json = shim_resize_json (&r);
  if (json == NULL)
    return -1;
  ret = send_frame (p, SHIM_FRAME_RESIZE, json, strlen (json));
  free (json);
  return ret;
}

int
attach_resize (const char *shim_sock, unsigned int height, unsigned int width, skiff_error_t *err)
{
  struct shim_resize_req r = { .height = height, .width = width };
  cleanup_free char *json = shim_resize_json (&r);
  cleanup_close int fd = -1;

  if (json == NULL)
    return skiff_error_make (err, ENOMEM, "resize");
  fd = shim_connect (shim_sock, err);
  if (fd < 0)
    return -1;
  return shim_write_frame (fd, SHIM_FRAME_RESIZE, json, strlen (json), err);
}
