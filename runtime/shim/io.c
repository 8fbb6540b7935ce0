/* The shim's event loop.  Level-triggered epoll; after every batch of
   events the interest set of every descriptor is recomputed (there are a
   handful), which gives back-pressure in both directions: a client that
   does not read stops the reading of its process's output (as Docker's
   attach does), a process that does not read its stdin stops the reading
   of its stdin clients.  Objects are only marked dead during a batch and
   freed after it, so that later events of the batch never see freed
   memory.  */
#include "io.h"
#include "cleanup.h"
#include "container.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Per-client output and per-process stdin buffered above this stop the
   reading of what feeds them.  */
#define HIGH_WATER (1024 * 1024)
#define READ_CHUNK (32 * 1024)
/* How long a reaped exec process's output may stay open (held by a
   background child) before its EXIT frame is sent anyway.  */
#define EXEC_OUTPUT_GRACE_MS 2000

enum watch_kind
{
  W_LISTEN,
  W_SIGNAL,
  W_CLIENT,
  W_OUT,
  W_ERR,
  W_IN
};

struct watch
{
  enum watch_kind kind;
  int fd;
  uint32_t events;  /* what epoll has; 0 = not registered */
  void *owner;
};

struct buf
{
  char *data;
  size_t off, len, cap; /* bytes [off, len) are pending */
};

enum client_kind
{
  CLIENT_MONITOR, /* no ATTACH/EXEC yet: gets the init's EXIT only */
  CLIENT_ATTACH,
  CLIENT_EXEC
};

struct proc;

struct client
{
  struct watch w;
  struct shim_decoder dec;
  struct buf out;
  enum client_kind kind;
  bool want_stdin, want_stdout, want_stderr;
  struct proc *proc;   /* attach: the init; exec: its process */
  bool read_eof;       /* the client shut down its sending side */
  bool closing;        /* close once out is written */
  bool dead;
  struct client *next;
};

struct proc
{
  pid_t pid;
  bool is_init;
  int master;          /* pty master, -1 without a terminal (owned by w_out) */
  struct watch w_out;  /* stdout pipe or the master */
  struct watch w_err;  /* stderr pipe */
  struct watch w_in;   /* stdin pipe (not with a terminal) */
  bool has_stdin;      /* client stdin is accepted */
  bool close_in_when_flushed;
  struct buf in;
  bool exited;
  int status;
  long long grace_deadline; /* exec: see EXEC_OUTPUT_GRACE_MS; 0 = none */
  struct client *owner;     /* exec: its client, NULL when detached/gone */
  bool dead;
  struct proc *next;
};

enum phase
{
  PHASE_RUN,
  PHASE_DRAIN,
  PHASE_FINISH
};

struct shim_loop
{
  struct shim_loop_config cfg;
  int epfd;
  int pidns_fd; /* our pid namespace, to undo the setns of exec */
  struct watch w_listen, w_signal;
  struct jsonlog *log;
  struct proc *init;
  struct proc *procs; /* the init first, then exec processes */
  struct client *clients;
  enum phase phase;
  pid_t init_pid;
  bool init_exited;
  int init_status;
  char *runtime_root, *id;
};

/* ---- small helpers ---------------------------------------------------- */

static long long
now_ms (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (long long) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int
shim_exit_code (int wait_status)
{
  if (WIFEXITED (wait_status))
    return WEXITSTATUS (wait_status);
  if (WIFSIGNALED (wait_status))
    return 128 + WTERMSIG (wait_status);
  return 255;
}

static int
buf_append (struct buf *b, const void *data, size_t len)
{
  if (b->off > 0 && b->off == b->len)
    b->off = b->len = 0;
  if (b->len + len > b->cap)
    {
      size_t cap;
      char *nd;
      if (b->off > 0)
        {
          memmove (b->data, b->data + b->off, b->len - b->off);
          b->len -= b->off;
          b->off = 0;
        }
      cap = b->cap ? b->cap : 4096;
      while (cap < b->len + len)
        cap *= 2;
      if (cap > b->cap)
        {
          nd = realloc (b->data, cap);
          if (nd == NULL)
            return -1;
          b->data = nd;
          b->cap = cap;
        }
    }
  memcpy (b->data + b->len, data, len);
  b->len += len;
  return 0;
}

static size_t
buf_pending (const struct buf *b)
{
  return b->len - b->off;
}

static void
buf_release (struct buf *b)
{
  free (b->data);
  memset (b, 0, sizeof (*b));
}

static void
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl >= 0)
    fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

static void
watch_init (struct watch *w, enum watch_kind kind, int fd, void *owner)
{
  w->kind = kind;
  w->fd = fd;
  w->events = 0;
  w->owner = owner;
  if (fd >= 0)
    set_nonblock (fd);
}

/* Makes epoll watch w for events (0: not at all, so that a hung-up fd
   we do not want to read cannot make epoll spin).  */
static void
watch_set (struct shim_loop *l, struct watch *w, uint32_t events)
{
  struct epoll_event ev = { .events = events, .data.ptr = w };
  int op;
  if (w->fd < 0 || events == w->events)
    return;
  op = w->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (epoll_ctl (l->epfd, op, w->fd, &ev) < 0)
    log_warning ("epoll_ctl on fd %d: %s", w->fd, strerror (errno));
  w->events = events;
}

static void
watch_close (struct shim_loop *l, struct watch *w)
{
  if (w->fd < 0)
    return;
  watch_set (l, w, 0);
  close (w->fd);
  w->fd = -1;
}

/* ---- clients ------------------------------------------------------------ */

static void
proc_close_stdin (struct shim_loop *l, struct proc *p);

static void
client_kill (struct shim_loop *l, struct client *c)
{
  if (c->dead)
    return;
  c->dead = true;
  watch_close (l, &c->w);
  if (c->kind == CLIENT_EXEC && c->proc)
    {
      /* Docker's exec stdin ends with its connection; the process runs
         on, its output is dropped.  */
      proc_close_stdin (l, c->proc);
      c->proc->owner = NULL;
    }
  else if (c->kind == CLIENT_ATTACH && c->want_stdin && l->cfg.stdin_once && l->init)
    proc_close_stdin (l, l->init);
  c->proc = NULL;
}

static void
client_flush (struct shim_loop *l, struct client *c)
{
  while (!c->dead && buf_pending (&c->out) > 0)
    {
      ssize_t n = write (c->w.fd, c->out.data + c->out.off, buf_pending (&c->out));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          log_debug ("client fd %d went away: %s", c->w.fd, n < 0 ? strerror (errno) : "short write");
          client_kill (l, c);
          return;
        }
      c->out.off += n;
    }
  if (!c->dead && c->closing)
    client_kill (l, c);
}

static void
client_send (struct shim_loop *l, struct client *c, enum shim_frame_type type, const void *data, size_t len)
{
  uint8_t hdr[SHIM_FRAME_HEADER_LEN];
  if (c->dead || c->closing)
    return;
  shim_frame_header_encode (hdr, type, (uint32_t) len);
  if (buf_append (&c->out, hdr, sizeof (hdr)) < 0 || buf_append (&c->out, data, len) < 0)
    {
      log_error ("out of memory buffering a frame for a client: dropping it");
      client_kill (l, c);
      return;
    }
  client_flush (l, c);
}

/* Sends a JSON payload (NULL: out of memory) and optionally closes.  */
static void
client_send_json (struct shim_loop *l, struct client *c, enum shim_frame_type type, char *json, bool then_close)
{
  if (json == NULL)
    {
      log_error ("out of memory building a %s frame", shim_frame_type_name (type));
      client_kill (l, c);
      return;
    }
  client_send (l, c, type, json, strlen (json));
  free (json);
  if (then_close && !c->dead)
    {
      c->closing = true;
      client_flush (l, c);
    }
}

static void
client_new (struct shim_loop *l, int fd)
{
  struct client *c = calloc (1, sizeof (*c));
  if (c == NULL)
    {
      log_error ("out of memory accepting a client");
      close (fd);
      return;
    }
  watch_init (&c->w, W_CLIENT, fd, c);
  shim_decoder_init (&c->dec);
  c->kind = CLIENT_MONITOR;
  c->next = l->clients;
  l->clients = c;
}

/* ---- processes ---------------------------------------------------------- */

static struct proc *
proc_new (struct shim_loop *l, pid_t pid, bool is_init)
{
  struct proc *p = calloc (1, sizeof (*p)), **tail;
  if (p == NULL)
    return NULL;
  p->pid = pid;
  p->is_init = is_init;
  p->master = -1;
  watch_init (&p->w_out, W_OUT, -1, p);
  watch_init (&p->w_err, W_ERR, -1, p);
  watch_init (&p->w_in, W_IN, -1, p);
  for (tail = &l->procs; *tail; tail = &(*tail)->next)
    ;
  *tail = p;
  return p;
}

/* Where stdin bytes go: the stdin pipe or the pty master.  */
static int
proc_stdin_fd (const struct proc *p)
{
  return p->master >= 0 ? p->w_out.fd : p->w_in.fd;
}

static void
proc_close_stdin (struct shim_loop *l, struct proc *p)
{
  p->has_stdin = false;
  if (p->master >= 0)
    return; /* a terminal keeps its input open, as Docker's does */
  if (buf_pending (&p->in) > 0)
    p->close_in_when_flushed = true;
  else
    watch_close (l, &p->w_in);
}

static void
proc_flush_stdin (struct shim_loop *l, struct proc *p)
{
  int fd = proc_stdin_fd (p);
  while (fd >= 0 && buf_pending (&p->in) > 0)
    {
      ssize_t n = write (fd, p->in.data + p->in.off, buf_pending (&p->in));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          /* The process closed its stdin: drop what it will never read. */
          log_debug ("stdin of pid %d: %s", p->pid, n < 0 ? strerror (errno) : "short write");
          p->in.off = p->in.len = 0;
          p->has_stdin = false;
          if (p->master < 0)
            watch_close (l, &p->w_in);
          return;
        }
      p->in.off += n;
    }
  if (buf_pending (&p->in) == 0 && p->close_in_when_flushed)
    watch_close (l, &p->w_in);
}

static void
proc_stdin (struct shim_loop *l, struct proc *p, const void *data, size_t len)
{
  if (!p->has_stdin || proc_stdin_fd (p) < 0)
    return;
  if (buf_append (&p->in, data, len) < 0)
    {
      log_error ("out of memory buffering stdin of pid %d: dropped", p->pid);
      return;
    }
  proc_flush_stdin (l, p);
}

static bool
client_gets (const struct client *c, const struct proc *p, enum shim_frame_type stream)
{
  if (c->dead || c->closing || c->proc != p)
    return false;
  if (c->kind == CLIENT_EXEC)
    return true;
  return c->kind == CLIENT_ATTACH && (stream == SHIM_FRAME_STDOUT ? c->want_stdout : c->want_stderr);
}

static void
proc_output (struct shim_loop *l, struct proc *p, enum shim_frame_type stream, const char *data, size_t len)
{
  struct client *c;
  if (p->is_init)
    {
      skiff_error_t err = NULL;
      enum jsonlog_stream s = stream == SHIM_FRAME_STDOUT ? JSONLOG_STDOUT : JSONLOG_STDERR;
      if (jsonlog_write (l->log, s, data, len, &err) < 0)
        {
          log_warning ("%s", err->msg);
          skiff_error_release (&err);
        }
    }
  for (c = l->clients; c; c = c->next)
    if (client_gets (c, p, stream))
      client_send (l, c, stream, data, len);
}

/* EOF on one of the output streams.  */
static void
proc_output_end (struct shim_loop *l, struct proc *p, struct watch *w)
{
  if (p->is_init)
    {
      skiff_error_t err = NULL;
      enum jsonlog_stream s = w->kind == W_ERR ? JSONLOG_STDERR : JSONLOG_STDOUT;
      if (jsonlog_flush_stream (l->log, s, &err) < 0)
        {
          log_warning ("%s", err->msg);
          skiff_error_release (&err);
        }
    }
  watch_close (l, w);
}

static void
proc_read (struct shim_loop *l, struct proc *p, struct watch *w)
{
  char data[READ_CHUNK];
  ssize_t n = read (w->fd, data, sizeof (data));
  enum shim_frame_type stream = w->kind == W_ERR ? SHIM_FRAME_STDERR : SHIM_FRAME_STDOUT;

  if (n > 0)
    proc_output (l, p, stream, data, n);
  else if (n == 0 || (errno != EAGAIN && errno != EINTR))
    /* A pty master reads EIO once no slave is open: that is its EOF.  */
    proc_output_end (l, p, w);
}

/* An exec process is done once reaped and its output has ended (or the
   grace time is over): its client gets the EXIT frame.  */
static void
proc_check_done (struct shim_loop *l, struct proc *p, long long now)
{
  if (p->is_init || p->dead || !p->exited)
    return;
  if (p->w_out.fd >= 0 || p->w_err.fd >= 0)
    {
      if (p->grace_deadline == 0)
        p->grace_deadline = now + EXEC_OUTPUT_GRACE_MS;
      if (now < p->grace_deadline)
        return;
      watch_close (l, &p->w_out);
      watch_close (l, &p->w_err);
    }
  if (p->owner)
    {
      struct shim_exit e = { .exit_code = shim_exit_code (p->status) };
      client_send_json (l, p->owner, SHIM_FRAME_EXIT, shim_exit_json (&e), true);
      if (p->owner)
        p->owner->proc = NULL;
      p->owner = NULL;
    }
  p->dead = true;
  watch_close (l, &p->w_in);
}

static void
reap (struct shim_loop *l)
{
  for (;;)
    {
      int status;
      struct proc *p;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      if (pid < 0 && errno == EINTR)
        continue;
      if (pid <= 0)
        return;
      if (pid == l->init_pid)
        {
          l->init_exited = true;
          l->init_status = status;
        }
      for (p = l->procs; p; p = p->next)
        if (p->pid == pid && !p->exited)
          {
            p->exited = true;
            p->status = status;
          }
      /* Anything else is an orphan of the container: reaped, forgotten. */
    }
}

static void
read_signals (struct shim_loop *l)
{
  struct signalfd_siginfo si[8];
  while (read (l->w_signal.fd, si, sizeof (si)) > 0)
    ;
  reap (l);
}

/* ---- frames from clients ---------------------------------------------- */

static void
set_winsize (struct proc *p, const struct shim_resize_req *r)
{
  struct winsize ws = { .ws_row = r->height, .ws_col = r->width };
  if (p == NULL || p->master < 0 || p->w_out.fd < 0)
    return;
  if (ioctl (p->w_out.fd, TIOCSWINSZ, &ws) < 0)
    log_warning ("resize the terminal of pid %d: %s", p->pid, strerror (errno));
}

static int
open_pipe (int fds[2], skiff_error_t *err)
{
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return skiff_error_make (err, errno, "pipe");
  return 0;
}

static void
close_fds (int *fds, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (fds[i] >= 0)
      {
        close (fds[i]);
        fds[i] = -1;
      }
}

/* Starts an exec process.  stdio: pipes, or /dev/null for a detached
   process.  Returns the proc; on failure NULL with *err set.  */
static struct proc *
exec_start (struct shim_loop *l, const struct shim_exec_req *req, skiff_error_t *err)
{
  /* child[0..2] go to the process; ours: stdin write end, out/err read ends */
  int child[3] = { -1, -1, -1 }, ours[3] = { -1, -1, -1 }, p2[2];
  struct exec_opts o = { 0 };
  struct proc *p;
  pid_t pid = -1;
  int master = -1, i, r;

  if (req->detach)
    {
      for (i = 0; i < 3; i++)
        if ((child[i] = open ("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
          {
            close_fds (child, 3);
            return skiff_error_make (err, errno, "open /dev/null"), NULL;
          }
    }
  else
    {
      if (req->use_stdin)
        {
          if (open_pipe (p2, err) < 0)
            goto fail;
          child[0] = p2[0], ours[0] = p2[1];
        }
      else if ((child[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        {
          skiff_error_make (err, errno, "open /dev/null");
          goto fail;
        }
      for (i = 1; i < 3; i++)
        {
          if (open_pipe (p2, err) < 0)
            goto fail;
          ours[i] = p2[0], child[i] = p2[1];
        }
    }

  o.root = l->runtime_root;
  o.id = l->id;
  o.process_json = req->process_json;
  o.detach = req->detach;
  o.set_stdio = true;
  for (i = 0; i < 3; i++)
    o.stdio[i] = child[i];
  r = container_exec_launch (&o, &pid, &master, err);
  /* The runtime joins the container's pid namespace for its children:
     undo that, or a later fork (a hook) would land in a dying namespace. */
  if (l->pidns_fd >= 0 && setns (l->pidns_fd, CLONE_NEWPID) < 0)
    log_warning ("return to the shim's pid namespace: %s", strerror (errno));
  close_fds (child, 3);
  if (r < 0)
    goto fail;

  p = proc_new (l, pid, false);
  if (p == NULL)
    {
      /* Cannot track it: do not leave an unsupervised process.  */
      kill (pid, SIGKILL);
      if (master >= 0)
        close (master);
      skiff_error_make (err, ENOMEM, "exec");
      goto fail;
    }
  if (master >= 0)
    {
      /* The process has the pty slave as stdio; our pipes are unused.  */
      close_fds (ours, 3);
      p->master = master;
      watch_init (&p->w_out, W_OUT, master, p);
      p->has_stdin = req->use_stdin;
    }
  else
    {
      watch_init (&p->w_in, W_IN, ours[0], p);
      watch_init (&p->w_out, W_OUT, ours[1], p);
      watch_init (&p->w_err, W_ERR, ours[2], p);
      p->has_stdin = ours[0] >= 0;
    }
  return p;

fail:
  close_fds (child, 3);
  close_fds (ours, 3);
  return NULL;
}

static void
handle_exec (struct shim_loop *l, struct client *c, const char *json)
{
  struct shim_exec_req req = { 0 };
  skiff_error_t err = NULL;
  struct proc *p;

  if (shim_exec_parse (json, &req, &err) < 0)
    goto error;
  if (l->init_exited || l->phase != PHASE_RUN)
    {
      skiff_error_make (&err, 0, "container `%s` is not running", l->id);
      goto error;
    }
  p = exec_start (l, &req, &err);
  if (p == NULL)
    goto error;
  shim_exec_req_clear (&req);
  log_debug ("exec process %d started", p->pid);
  c->kind = CLIENT_EXEC;
  if (!req.detach)
    {
      c->proc = p;
      p->owner = c;
      c->want_stdin = p->has_stdin;
    }
  client_send_json (l, c, SHIM_FRAME_STARTED, shim_started_json (p->pid, NULL), req.detach);
  return;

error:
  shim_exec_req_clear (&req);
  client_send_json (l, c, SHIM_FRAME_STARTED, shim_started_json (0, err->msg), true);
  skiff_error_release (&err);
}

static void
protocol_error (struct shim_loop *l, struct client *c, const char *what)
{
  log_warning ("client fd %d: %s: closing the connection", c->w.fd, what);
  client_kill (l, c);
}

static void
handle_frame (struct shim_loop *l, struct client *c, const struct shim_frame *f)
{
  skiff_error_t err = NULL;

  if (c->closing)
    return; /* the answer is being written: ignore the rest */
  switch (f->type)
    {
    case SHIM_FRAME_STDIN:
      if (c->want_stdin && c->proc)
        proc_stdin (l, c->proc, f->data, f->len);
      break;
    case SHIM_FRAME_STDIN_CLOSE:
      if (c->want_stdin && c->proc)
        proc_close_stdin (l, c->proc);
      break;
    case SHIM_FRAME_ATTACH:
      {
        struct shim_attach_req a;
        if (c->kind != CLIENT_MONITOR)
          return protocol_error (l, c, "ATTACH on a connection already bound");
        if (shim_attach_parse (f->data, &a, &err) < 0)
          {
            protocol_error (l, c, err->msg);
            skiff_error_release (&err);
            return;
          }
        c->kind = CLIENT_ATTACH;
        c->proc = l->init;
        c->want_stdin = a.use_stdin;
        c->want_stdout = a.use_stdout;
        c->want_stderr = a.use_stderr;
        break;
      }
    case SHIM_FRAME_RESIZE:
      {
        struct shim_resize_req r;
        if (shim_resize_parse (f->data, &r, &err) < 0)
          {
            log_warning ("%s", err->msg);
            skiff_error_release (&err);
            return;
          }
        set_winsize (c->kind == CLIENT_EXEC ? c->proc : l->init, &r);
        break;
      }
    case SHIM_FRAME_EXEC:
      if (c->kind != CLIENT_MONITOR)
        return protocol_error (l, c, "EXEC on a connection already bound");
      handle_exec (l, c, f->data);
      break;
    case SHIM_FRAME_STATUS:
      {
        struct shim_status s = { .pid = l->init_pid, .running = !l->init_exited };
        client_send_json (l, c, SHIM_FRAME_STATUS, shim_status_json (&s), false);
        break;
      }
    case SHIM_FRAME_START:
      /* Once only; a failed start shows as the init's exit.  */
      if (l->cfg.start_pending && !l->init_exited)
        {
          l->cfg.start_pending = false;
          if (container_start (l->cfg.runtime_root, l->cfg.id, &err) < 0)
            {
              log_error ("start container `%s`: %s", l->cfg.id, err->msg);
              skiff_error_release (&err);
              if (l->init_pid > 0)
                kill (l->init_pid, SIGKILL);
            }
        }
      break;
    default:
      protocol_error (l, c, "unexpected frame from a client");
      break;
    }
}

/* The client finished sending (EOF or STDIN_CLOSE semantics).  */
static void
client_read_eof (struct shim_loop *l, struct client *c)
{
  c->read_eof = true;
  if (c->kind == CLIENT_EXEC && c->proc)
    proc_close_stdin (l, c->proc);
  else if (c->kind == CLIENT_ATTACH && c->want_stdin && l->cfg.stdin_once && l->init)
    proc_close_stdin (l, l->init);
  if (c->kind == CLIENT_EXEC && c->proc == NULL && !c->closing)
    client_kill (l, c); /* nothing more will be sent to it */
}

static void
client_read (struct shim_loop *l, struct client *c, uint32_t events)
{
  char data[READ_CHUNK];
  ssize_t n;

  if (events & EPOLLIN)
    {
      n = read (c->w.fd, data, sizeof (data));
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
      if (n < 0)
        {
          client_kill (l, c);
          return;
        }
      if (n == 0)
        {
          if (shim_decoder_pending (&c->dec))
            return protocol_error (l, c, "connection closed inside a frame");
          client_read_eof (l, c);
          /* HUP with the EOF: closed, not just shut for writing.  */
          if (!c->dead && (events & EPOLLHUP))
            client_kill (l, c);
        }
      else
        {
          skiff_error_t err = NULL;
          struct shim_frame f;
          int r;
          if (shim_decoder_feed (&c->dec, data, n, &err) < 0)
            {
              protocol_error (l, c, err->msg);
              skiff_error_release (&err);
              return;
            }
          while (!c->dead && (r = shim_decoder_next (&c->dec, &f, &err)) != 0)
            {
              if (r < 0)
                {
                  protocol_error (l, c, err->msg);
                  skiff_error_release (&err);
                  return;
                }
              handle_frame (l, c, &f);
              shim_frame_clear (&f);
            }
        }
    }
  /* Both directions shut: the peer is gone.  */
  if (!c->dead && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
    client_kill (l, c);
}

/* ---- the loop ----------------------------------------------------------- */

static bool
proc_output_blocked (const struct shim_loop *l, const struct proc *p)
{
  const struct client *c;
  for (c = l->clients; c; c = c->next)
    if (!c->dead && c->proc == p && buf_pending (&c->out) > HIGH_WATER)
      return true;
  return false;
}

static void
refresh_interest (struct shim_loop *l)
{
  struct proc *p;
  struct client *c;

  for (p = l->procs; p; p = p->next)
    {
      uint32_t in = proc_output_blocked (l, p) ? 0 : EPOLLIN;
      bool want_out = buf_pending (&p->in) > 0;
      watch_set (l, &p->w_out, in | (p->master >= 0 && want_out ? EPOLLOUT : 0));
      watch_set (l, &p->w_err, in);
      watch_set (l, &p->w_in, want_out ? EPOLLOUT : 0);
    }
  for (c = l->clients; c; c = c->next)
    {
      uint32_t ev = 0;
      bool stdin_full = c->want_stdin && c->proc && buf_pending (&c->proc->in) > HIGH_WATER;
      if (c->dead)
        continue;
      if (!c->read_eof && !stdin_full)
        ev |= EPOLLIN;
      if (buf_pending (&c->out) > 0)
        ev |= EPOLLOUT;
      watch_set (l, &c->w, ev);
    }
}

static void
sweep (struct shim_loop *l)
{
  struct client **cp = &l->clients;
  struct proc **pp = &l->procs;
  while (*cp)
    {
      struct client *c = *cp;
      if (!c->dead)
        {
          cp = &c->next;
          continue;
        }
      *cp = c->next;
      shim_decoder_release (&c->dec);
      buf_release (&c->out);
      free (c);
    }
  while (*pp)
    {
      struct proc *p = *pp;
      if (!p->dead)
        {
          pp = &p->next;
          continue;
        }
      *pp = p->next;
      watch_close (l, &p->w_out);
      watch_close (l, &p->w_err);
      watch_close (l, &p->w_in);
      buf_release (&p->in);
      if (p == l->init)
        l->init = NULL;
      free (p);
    }
}

static void
accept_clients (struct shim_loop *l)
{
  for (;;)
    {
      int fd = accept4 (l->w_listen.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        {
          if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            log_warning ("accept on the shim socket: %s", strerror (errno));
          return;
        }
      client_new (l, fd);
    }
}

static void
dispatch (struct shim_loop *l, struct watch *w, uint32_t events)
{
  struct proc *p;
  struct client *c;

  switch (w->kind)
    {
    case W_LISTEN:
      accept_clients (l);
      break;
    case W_SIGNAL:
      read_signals (l);
      break;
    case W_CLIENT:
      c = w->owner;
      if (c->dead)
        break;
      if (events & EPOLLOUT)
        client_flush (l, c);
      if (!c->dead)
        client_read (l, c, events);
      break;
    case W_OUT:
    case W_ERR:
      p = w->owner;
      if (w->fd < 0)
        break;
      if ((events & EPOLLOUT) && p->master >= 0)
        proc_flush_stdin (l, p);
      if (w->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        proc_read (l, p, w);
      break;
    case W_IN:
      p = w->owner;
      if (w->fd < 0)
        break;
      if (events & EPOLLERR)
        {
          p->in.off = p->in.len = 0;
          watch_close (l, w);
        }
      else if (events & EPOLLOUT)
        proc_flush_stdin (l, p);
      break;
    }
}

/* One round: wait (at most until deadline, -1 = none), handle, tidy up. */
static int
loop_once (struct shim_loop *l, long long deadline, skiff_error_t *err)
{
  struct epoll_event ev[32];
  struct proc *p;
  long long now = now_ms ();
  int timeout = -1, n, i;

  if (deadline >= 0)
    timeout = deadline > now ? (int) (deadline - now) : 0;
  for (p = l->procs; p; p = p->next)
    if (p->grace_deadline > 0 && !p->dead)
      {
        long long t = p->grace_deadline > now ? p->grace_deadline - now : 0;
        if (timeout < 0 || t < timeout)
          timeout = (int) t;
      }

  refresh_interest (l);
  n = epoll_wait (l->epfd, ev, 32, timeout);
  if (n < 0)
    {
      if (errno == EINTR)
        return 0;
      return skiff_error_make (err, errno, "epoll_wait");
    }
  for (i = 0; i < n; i++)
    dispatch (l, ev[i].data.ptr, ev[i].events);
  now = now_ms ();
  for (p = l->procs; p; p = p->next)
    proc_check_done (l, p, now);
  sweep (l);
  return 0;
}

int
shim_loop_new (const struct shim_loop_config *cfg, int listen_fd, int signal_fd, struct jsonlog *log,
               struct shim_loop **out, skiff_error_t *err)
{
  struct shim_loop *l = calloc (1, sizeof (*l));
  if (l == NULL)
    return skiff_error_make (err, ENOMEM, "shim loop");
  l->cfg = *cfg;
  l->log = log;
  l->init_pid = -1;
  l->pidns_fd = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  l->runtime_root = strdup (cfg->runtime_root);
  l->id = strdup (cfg->id);
  l->cfg.runtime_root = l->runtime_root;
  l->cfg.id = l->id;
  watch_init (&l->w_listen, W_LISTEN, listen_fd, l);
  watch_init (&l->w_signal, W_SIGNAL, signal_fd, l);
  l->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (l->epfd < 0 || l->runtime_root == NULL || l->id == NULL)
    {
      int e = l->epfd < 0 ? errno : ENOMEM;
      shim_loop_free (l);
      return skiff_error_make (err, e, "create the shim's event loop");
    }
  watch_set (l, &l->w_listen, EPOLLIN);
  watch_set (l, &l->w_signal, EPOLLIN);
  *out = l;
  return 0;
}

int
shim_loop_add_init (struct shim_loop *l, pid_t pid, int master, bool has_stdin, int in_fd, int out_fd, int err_fd,
                    skiff_error_t *err)
{
  struct proc *p = proc_new (l, pid, true);
  if (p == NULL)
    return skiff_error_make (err, ENOMEM, "shim loop");
  l->init = p;
  l->init_pid = pid;
  if (master >= 0)
    {
      p->master = master;
      watch_init (&p->w_out, W_OUT, master, p);
      p->has_stdin = has_stdin;
      close_fds ((int[]){ in_fd, out_fd, err_fd }, 3);
    }
  else
    {
      watch_init (&p->w_in, W_IN, in_fd, p);
      watch_init (&p->w_out, W_OUT, out_fd, p);
      watch_init (&p->w_err, W_ERR, err_fd, p);
      p->has_stdin = in_fd >= 0;
    }
  /* A child that exited before the signalfd was read is reaped here.  */
  reap (l);
  return 0;
}

int
shim_loop_run (struct shim_loop *l, int *wait_status, skiff_error_t *err)
{
  l->phase = PHASE_RUN;
  while (!l->init_exited)
    if (loop_once (l, -1, err) < 0)
      return -1;
  *wait_status = l->init_status;
  return 0;
}

static bool
drained (const struct shim_loop *l)
{
  const struct proc *p;
  for (p = l->procs; p; p = p->next)
    {
      if (p->is_init && (p->w_out.fd >= 0 || p->w_err.fd >= 0))
        return false;
      if (!p->is_init && !p->dead)
        return false;
    }
  return true;
}

int
shim_loop_drain (struct shim_loop *l, int timeout_ms, skiff_error_t *err)
{
  long long deadline = now_ms () + timeout_ms;
  struct proc *p;
  int r = 0;

  l->phase = PHASE_DRAIN;
  reap (l);
  while (!drained (l) && now_ms () < deadline)
    if ((r = loop_once (l, deadline, err)) < 0)
      break;
  for (p = l->procs; p; p = p->next)
    if (!p->is_init && !p->dead)
      {
        log_warning ("exec process %d did not finish with the container", p->pid);
        if (p->owner)
          {
            p->owner->proc = NULL;
            client_kill (l, p->owner); /* EOF: its exit is unknown */
          }
        p->dead = true;
      }
  if (l->init)
    {
      watch_close (l, &l->init->w_out);
      watch_close (l, &l->init->w_err);
      watch_close (l, &l->init->w_in);
    }
  sweep (l);
  {
    skiff_error_t lerr = NULL;
    if (jsonlog_flush (l->log, &lerr) < 0)
      {
        log_warning ("%s", lerr->msg);
        skiff_error_release (&lerr);
      }
  }
  return r;
}

int
shim_loop_finish (struct shim_loop *l, const struct shim_exit *e, int timeout_ms, skiff_error_t *err)
{
  long long deadline = now_ms () + timeout_ms;
  struct client *c;
  int r = 0;

  l->phase = PHASE_FINISH;
  watch_close (l, &l->w_listen);
  for (c = l->clients; c; c = c->next)
    {
      if (c->dead)
        continue;
      if (c->kind == CLIENT_EXEC)
        {
          c->closing = true;
          client_flush (l, c);
          continue;
        }
      client_send_json (l, c, SHIM_FRAME_EXIT, shim_exit_json (e), true);
    }
  sweep (l);
  while (l->clients && now_ms () < deadline)
    if ((r = loop_once (l, deadline, err)) < 0)
      break;
  for (c = l->clients; c; c = c->next)
    client_kill (l, c);
  sweep (l);
  return r;
}

void
shim_loop_free (struct shim_loop *l)
{
  struct client *c;
  struct proc *p;
  if (l == NULL)
    return;
  for (c = l->clients; c; c = c->next)
    client_kill (l, c);
  for (p = l->procs; p; p = p->next)
    p->dead = true;
  sweep (l);
  watch_close (l, &l->w_listen);
  watch_close (l, &l->w_signal);
  if (l->epfd >= 0)
    close (l->epfd);
  if (l->pidns_fd >= 0)
    close (l->pidns_fd);
  free (l->runtime_root);
  free (l->id);
  free (l);
}
