/* The skiff-image fork server (image_server.h).  */
#include "image_server.h"
#include "cleanup.h"
#include "daemon.h"
#include "image_helper.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

/* The fd on which the server talks to skiffd (skiff-image --fork-server).  */
#define SERVER_FD 4
#define OP_FDS 3

struct pending
{
  unsigned long seq;
  struct image_server_op op;
  bool started;
  struct pending *next;
};

struct image_server
{
  struct daemon *d;
  uv_process_t proc;
  uv_pipe_t sock; /* SOCK_SEQPACKET: one read, one message */
  uv_timer_t idle;
  unsigned handles; /* not yet closed */
  bool exited, sock_closing;
  unsigned long next_seq;
  struct pending *ops;
  char message[256];
};

static void
on_closed (uv_handle_t *h)
{
  struct image_server *s = h->data;
  if (--s->handles == 0)
    free (s);
}

static void
close_sock (struct image_server *s)
{
  if (s->sock_closing)
    return;
  s->sock_closing = true;
  uv_close ((uv_handle_t *) &s->sock, on_closed);
}

/* The server is gone or going: the daemon forgets it; a new operation
   starts another.  */
static void
detach (struct image_server *s)
{
  if (s->d->image_server == s)
    s->d->image_server = NULL;
  uv_timer_stop (&s->idle);
}

static void
on_idle (uv_timer_t *t)
{
  struct image_server *s = t->data;

  log_debug ("skiff-image server (pid %d): no operation for %u s, it ends", s->proc.pid,
             s->d->opts.image_helper_idle);
  detach (s);
  close_sock (s);
}

static void
arm_idle (struct image_server *s)
{
  if (s->ops == NULL && s->d->image_server == s)
    uv_timer_start (&s->idle, on_idle, (uint64_t) s->d->opts.image_helper_idle * 1000, 0);
}

static struct pending *
take (struct image_server *s, unsigned long seq, bool remove)
{
  struct pending **pp, *p;

  for (pp = &s->ops; (p = *pp) != NULL; pp = &p->next)
    if (p->seq == seq)
      {
        if (remove)
          *pp = p->next;
        return p;
      }
  return NULL;
}

static void
op_end (struct pending *p, int64_t exit_status, int term_signal)
{
  if (!p->started)
    p->op.on_started (p->op.data, -ESRCH);
  p->op.on_exited (p->op.data, exit_status, term_signal);
  free (p);
}

/* "started SEQ PID", "failed SEQ ERRNO", "exited SEQ PID CODE SIGNAL".  */
static void
handle_message (struct image_server *s, const char *msg)
{
  unsigned long seq;
  int pid, code, sig, e;
  struct pending *p;

  if (sscanf (msg, "started %lu %d", &seq, &pid) == 2 && pid > 0)
    {
      if ((p = take (s, seq, false)) != NULL && !p->started)
        {
          p->started = true;
          p->op.on_started (p->op.data, pid);
        }
    }
  else if (sscanf (msg, "failed %lu %d", &seq, &e) == 2)
    {
      if ((p = take (s, seq, true)) != NULL)
        {
          p->started = true;
          p->op.on_started (p->op.data, -(e > 0 ? e : EIO));
          op_end (p, -1, 0);
        }
    }
  else if (sscanf (msg, "exited %lu %d %d %d", &seq, &pid, &code, &sig) == 4)
    {
      if ((p = take (s, seq, true)) != NULL)
        op_end (p, code, sig);
    }
  else
    log_warning ("skiff-image server (pid %d): unexpected message `%.60s`", s->proc.pid, msg);
  arm_idle (s);
}

/* Every message is read and handled before the next: one buffer will do. */
static void
alloc_message (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct image_server *s = h->data;
  *buf = uv_buf_init (s->message, sizeof (s->message) - 1);
}

static void
on_read (uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
  struct image_server *s = stream->data;

  if (n > 0)
    {
      buf->base[n] = '\0';
      handle_message (s, buf->base);
    }
  else if (n < 0)
    {
      /* The server closed its end: it is ending (its exit cleans up).  */
      detach (s);
      close_sock (s);
    }
}

static void
on_server_exit (uv_process_t *proc, int64_t exit_status, int term_signal)
{
  struct image_server *s = proc->data;
  struct pending *p;

  s->exited = true;
  if (term_signal || exit_status != 0)
    log_warning ("skiff-image server (pid %d) ended: %s %d", proc->pid, term_signal ? "signal" : "status",
                 term_signal ? term_signal : (int) exit_status);
  else
    log_debug ("skiff-image server (pid %d) ended", proc->pid);
  detach (s);
  /* Its processes died with it (PR_SET_PDEATHSIG, SIGKILL).  */
  while ((p = s->ops) != NULL)
    {
      s->ops = p->next;
      op_end (p, 0, SIGKILL);
    }
  close_sock (s);
  uv_close ((uv_handle_t *) &s->idle, on_closed);
  uv_close ((uv_handle_t *) proc, on_closed);
}

static struct image_server *
server_start (struct daemon *d, skiff_error_t *err)
{
  static const char *const tail[] = { "--fork-server", NULL };
  struct image_server *s;
  cleanup_free char **argv = NULL;
  uv_stdio_container_t stdio[SERVER_FD + 1];
  uv_process_options_t po = { 0 };
  int sv[2], ret;
  size_t i;

  if (image_helper_args (d, tail, &argv) < 0 || (s = calloc (1, sizeof (*s))) == NULL)
    {
      skiff_error_make (err, ENOMEM, "start the skiff-image server");
      return NULL;
    }
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      free (s);
      skiff_error_make (err, errno, "start the skiff-image server: socketpair");
      return NULL;
    }
  s->d = d;
  s->next_seq = 1;
  uv_pipe_init (d->loop, &s->sock, 0);
  uv_timer_init (d->loop, &s->idle);
  uv_unref ((uv_handle_t *) &s->idle);
  s->sock.data = s->idle.data = s->proc.data = s;
  s->handles = 3;
  for (i = 0; i <= SERVER_FD; i++)
    stdio[i].flags = UV_IGNORE;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = skiff_log_fd ();
  stdio[SERVER_FD].flags = UV_INHERIT_FD;
  stdio[SERVER_FD].data.fd = sv[1];
  po.file = d->opts.image_helper_path;
  po.args = argv;
  po.stdio = stdio;
  po.stdio_count = SERVER_FD + 1;
  po.exit_cb = on_server_exit;
  ret = uv_spawn (d->loop, &s->proc, &po);
  close (sv[1]);
  if (ret < 0)
    {
      close (sv[0]);
      close_sock (s);
      uv_close ((uv_handle_t *) &s->idle, on_closed);
      uv_close ((uv_handle_t *) &s->proc, on_closed);
      skiff_error_make (err, 0, "cannot run skiff-image `%s`: %s", d->opts.image_helper_path, uv_strerror (ret));
      return NULL;
    }
  ret = uv_pipe_open (&s->sock, sv[0]);
  if (ret < 0)
    {
      /* EOF ends it; its exit frees s.  */
      close (sv[0]);
      close_sock (s);
      skiff_error_make (err, 0, "start the skiff-image server: %s", uv_strerror (ret));
      return NULL;
    }
  uv_read_start ((uv_stream_t *) &s->sock, alloc_message, on_read);
  log_debug ("skiff-image server: pid %d", s->proc.pid);
  return s;
}

int
image_server_run (struct daemon *d, const char *const *args, const int fds[3], const struct image_server_op *op,
                  skiff_error_t *err)
{
  struct image_server *s = d->image_server;
  char control[CMSG_SPACE (sizeof (int) * OP_FDS)] = { 0 };
  cleanup_free char *buf = NULL;
  struct pending *p;
  struct msghdr msg = { 0 };
  struct iovec iov;
  struct cmsghdr *cm;
  size_t len, i;
  int fd, n;

  if (s == NULL && (s = server_start (d, err)) == NULL)
    return -1;
  d->image_server = s;
  p = calloc (1, sizeof (*p));
  for (i = 0, len = 24; args[i]; i++)
    len += strlen (args[i]) + 1;
  buf = malloc (len);
  if (p == NULL || buf == NULL)
    {
      free (p);
      return skiff_error_make (err, ENOMEM, "run skiff-image");
    }
  p->seq = s->next_seq++;
  p->op = *op;
  n = snprintf (buf, 24, "%lu", p->seq) + 1;
  for (i = 0, len = (size_t) n; args[i]; i++)
    {
      memcpy (buf + len, args[i], strlen (args[i]) + 1);
      len += strlen (args[i]) + 1;
    }
  iov.iov_base = buf;
  iov.iov_len = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof (control);
  cm = CMSG_FIRSTHDR (&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN (sizeof (int) * OP_FDS);
  memcpy (CMSG_DATA (cm), fds, sizeof (int) * OP_FDS);
  if (uv_fileno ((uv_handle_t *) &s->sock, &fd) < 0)
    fd = -1;
  /* A small message on an idle socket: it goes at once or not at all.  */
  while (fd >= 0 && sendmsg (fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        free (p);
        /* A server that cannot be reached is of no use any more.  */
        detach (s);
        close_sock (s);
        return skiff_error_make (err, e, "hand the operation to the skiff-image server (pid %d)", s->proc.pid);
      }
  uv_timer_stop (&s->idle);
  p->next = s->ops;
  s->ops = p;
  return 0;
}

void
image_server_stop (struct daemon *d)
{
  struct image_server *s = d->image_server;

  if (s == NULL)
    return;
  detach (s);
  close_sock (s);
}
