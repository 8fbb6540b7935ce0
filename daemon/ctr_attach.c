/* Clients that attach before the container's process runs (`docker run`,
   `docker start -a`): the shim launches the container with --no-start,
   these clients are attached, and only when the shim has confirmed every
   ATTACH does it get the START frame.  */
#include "attach.h"
#include "cleanup.h"
#include "containers.h"
#include "containers_internal.h"
#include "log.h"
#include "http.h"
#include "shim_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctr_pending_attach
{
  struct ctr_pending_attach *next;
  uv_stream_t *stream;
  uv_buf_t leftover;
  struct attach_opts o;
  char *detach_keys;
};


static void
attach_now (struct ctr *c, uv_stream_t *stream, uv_buf_t leftover, struct attach_opts *o)
{
  cleanup_free char *sock = ctr_shim_sock (c);
  skiff_error_t err = NULL;
  o->shim_sock = sock;
  if (sock == NULL || attach_start (c->d->loop, stream, leftover, o, NULL, &err) < 0)
    {
      log_warning ("attach to %s: %s", ctr_short_id (c), err ? err->msg : "out of memory");
      skiff_error_release (&err);
    }
}

void
containers_attach (struct ctr *c, uv_stream_t *stream, uv_buf_t leftover, const struct attach_opts *o)
{
  struct ctr_pending_attach *p;
  struct attach_opts copy = *o;

  copy.on_attached = NULL;
  if (containers_is_running (c))
    {
      attach_now (c, stream, leftover, &copy);
      return;
    }
  p = calloc (1, sizeof (*p));
  if (p == NULL)
    {
      free (leftover.base);
      uv_close ((uv_handle_t *) stream, http_hijack_free_cb);
      return;
    }
  p->stream = stream;
  p->leftover = leftover;
  p->o = copy;
  p->detach_keys = o->detach_keys ? strdup (o->detach_keys) : NULL;
  p->o.detach_keys = p->detach_keys;
  p->next = c->pending_attaches;
  c->pending_attaches = p;
}

static void
send_start (struct ctr *c)
{
  cleanup_free char *sock = ctr_shim_sock (c);
  skiff_error_t err = NULL;
  int fd;

  fd = sock ? shim_connect (sock, &err) : -1;
  if (fd < 0 || shim_write_frame (fd, SHIM_FRAME_START, NULL, 0, &err) < 0)
    {
      /* The shim is gone: the monitor learns of the exit.  */
      log_warning ("start %s: %s", ctr_short_id (c), err ? err->msg : "out of memory");
      skiff_error_release (&err);
    }
  if (fd >= 0)
    close (fd);
}

static void
attach_confirmed (void *data)
{
  struct ctr *c = data;
  if (--c->attach_waits == 0)
    send_start (c);
  ctr_unref (c);
}

void
ctr_release_start (struct ctr *c)
{
  struct ctr_pending_attach *p = c->pending_attaches, *next;

  c->pending_attaches = NULL;
  /* Hold the start until every client below is attached.  */
  c->attach_waits = 1;
  for (; p; p = next)
    {
      next = p->next;
      p->o.on_attached = attach_confirmed;
      p->o.data = c;
      c->attach_waits++;
      ctr_ref (c);
      attach_now (c, p->stream, p->leftover, &p->o);
      free (p->detach_keys);
      free (p);
    }
  if (--c->attach_waits == 0)
    send_start (c);
}

void
ctr_drop_pending_attaches (struct ctr *c)
{
  struct ctr_pending_attach *p = c->pending_attaches, *next;
  c->pending_attaches = NULL;
  for (; p; p = next)
    {
      next = p->next;
      free (p->leftover.base);
      uv_close ((uv_handle_t *) p->stream, http_hijack_free_cb);
      free (p->detach_keys);
      free (p);
    }
}
