/* skiff-image --fork-server (helper.h): loaded once, it forks a process
   per image operation, which starts in well under a millisecond instead of
   the 15-20 ms that loading libcurl's and libarchive's 46 libraries takes
   (doc/performance.md).  skiffd starts it with the first image operation
   and ends it after --image-helper-idle seconds without one
   (daemon/image_server.c).

   The protocol, on a SOCK_SEQPACKET socket (one message each):
     skiffd -> server   "SEQ\0COMMAND\0ARG\0...ARG\0" with SCM_RIGHTS of
                        exactly three fds: the operation's stdin, stdout
                        and result (they become 0, 1 and 3 of its process)
     server -> skiffd   "started SEQ PID"
                        "failed SEQ ERRNO"          (no process: fork failed,
                                                     or a malformed message)
                        "exited SEQ PID CODE SIGNAL" (its end: exit code, or
                                                     the signal that killed it)
   EOF from skiffd: no more operations; the server exits once the last of
   its processes has.  Each process dies with the server and the server
   with skiffd (PR_SET_PDEATHSIG), so no operation outlives skiffd.  The
   server is single-threaded: fork copies nothing but the one thread.  */
#include "helper.h"
#include "cleanup.h"
#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Far more than any command skiffd sends: references and options.  */
#define MESSAGE_MAX (64 * 1024)
#define OP_FDS 3

/* The process name ps shows for the server (15 bytes at most).  */
#define SERVER_NAME "skiff-image-srv"

struct child
{
  pid_t pid;
  unsigned long seq;
};

struct server
{
  int fd, sigfd;
  pid_t self;
  sigset_t old_mask;
  char name[16]; /* the process name forked processes take back */
  struct child *children;
  size_t n_children;
  helper_forked_fn run;
  void *data;
};

static int
reply (struct server *s, skiff_error_t *err, const char *fmt, ...) SKIFF_PRINTF (3, 4);

static int
reply (struct server *s, skiff_error_t *err, const char *fmt, ...)
{
  char buf[128];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof (buf), fmt, ap);
  va_end (ap);
  while (send (s->fd, buf, (size_t) n, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return skiff_error_make (err, errno, "fork server: answer skiffd");
  return 0;
}

/* In the forked process: the operation's fds at 0, 1 and 3, nothing of
   the server's; then the command.  Never returns.  */
static void
child_run (struct server *s, int fds[OP_FDS], int argc, char **argv)
{
  static const int targets[OP_FDS] = { 0, 1, 3 };
  int high[OP_FDS], i, status;

  sigprocmask (SIG_SETMASK, &s->old_mask, NULL);
  close (s->sigfd);
  close (s->fd);
  /* Out of the way first: a received fd may sit on a target number.  */
  for (i = 0; i < OP_FDS; i++)
    if ((high[i] = fcntl (fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
      _exit (127);
  for (i = 0; i < OP_FDS; i++)
    close (fds[i]);
  for (i = 0; i < OP_FDS; i++)
    if (dup2 (high[i], targets[i]) < 0)
      _exit (127);
  for (i = 0; i < OP_FDS; i++)
    close (high[i]);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != s->self)
    _exit (127); /* the server died between fork and prctl */
  prctl (PR_SET_NAME, s->name);
  status = s->run (argc, argv, s->data);
  /* No exit handlers: the libraries' clean-ups (OpenSSL, GnuTLS, libxml2)
     take milliseconds and free nothing the kernel does not.  */
  fflush (NULL);
  _exit (status);
}

/* One message from skiffd: fork its operation.  Returns 1 on EOF.  */
static int
take_message (struct server *s, char *buf, skiff_error_t *err)
{
  char control[CMSG_SPACE (sizeof (int) * OP_FDS)];
  struct iovec iov = { .iov_base = buf, .iov_len = MESSAGE_MAX };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                        .msg_controllen = sizeof (control) };
  struct cmsghdr *cm;
  int fds[OP_FDS] = { -1, -1, -1 }, n_fds = 0, argc = 0, i;
  cleanup_free char **argv = NULL;
  unsigned long seq;
  char *p, *end, *stop;
  struct child *grown;
  ssize_t len;
  pid_t pid;

  do
    len = recvmsg (s->fd, &msg, MSG_CMSG_CLOEXEC);
  while (len < 0 && errno == EINTR);
  if (len < 0)
    return skiff_error_make (err, errno, "fork server: read from skiffd");
  for (cm = CMSG_FIRSTHDR (&msg); cm; cm = CMSG_NXTHDR (&msg, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      {
        int k, got = (int) ((cm->cmsg_len - CMSG_LEN (0)) / sizeof (int));
        for (k = 0; k < got; k++)
          {
            int fd;
            memcpy (&fd, CMSG_DATA (cm) + k * sizeof (int), sizeof (int));
            if (n_fds < OP_FDS)
              fds[n_fds++] = fd;
            else
              close (fd);
          }
      }
  if (len == 0 && n_fds == 0)
    return 1;

  /* "SEQ\0ARG\0...": at least a sequence number and a command.  */
  end = buf + len;
  seq = strtoul (buf, &stop, 10);
  if (len == 0 || buf[len - 1] != '\0' || stop == buf || *stop != '\0' || n_fds != OP_FDS
      || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
    {
      for (i = 0; i < n_fds; i++)
        close (fds[i]);
      return reply (s, err, "failed %lu %d", seq, EINVAL);
    }
  for (p = buf + strlen (buf) + 1; p < end; p += strlen (p) + 1)
    argc++;
  argv = calloc ((size_t) argc + 1, sizeof (char *));
  grown = realloc (s->children, (s->n_children + 1) * sizeof (*s->children));
  if (grown)
    s->children = grown;
  if (argc == 0 || argv == NULL || grown == NULL)
    {
      for (i = 0; i < n_fds; i++)
        close (fds[i]);
      return reply (s, err, "failed %lu %d", seq, argc == 0 ? EINVAL : ENOMEM);
    }
  for (p = buf + strlen (buf) + 1, i = 0; p < end; p += strlen (p) + 1)
    argv[i++] = p;

  fflush (NULL);
  pid = fork ();
  if (pid == 0)
    child_run (s, fds, argc, argv);
  for (i = 0; i < n_fds; i++)
    close (fds[i]);
  if (pid < 0)
    return reply (s, err, "failed %lu %d", seq, errno);
  s->children[s->n_children++] = (struct child){ .pid = pid, .seq = seq };
  return reply (s, err, "started %lu %d", seq, (int) pid);
}

/* Reaps what has ended and tells skiffd.  */
static int
reap (struct server *s, skiff_error_t *err)
{
  struct signalfd_siginfo si;
  pid_t pid;
  size_t i;
  int status;

  while (read (s->sigfd, &si, sizeof (si)) > 0)
    ;
  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    for (i = 0; i < s->n_children; i++)
      if (s->children[i].pid == pid)
        {
          unsigned long seq = s->children[i].seq;
          s->children[i] = s->children[--s->n_children];
          if (reply (s, err, "exited %lu %d %d %d", seq, (int) pid, WIFEXITED (status) ? WEXITSTATUS (status) : 0,
                     WIFSIGNALED (status) ? WTERMSIG (status) : 0)
              < 0)
            return -1;
          break;
        }
  return 0;
}

int
helper_fork_server (int fd, helper_forked_fn run, void *data, skiff_error_t *err)
{
  struct server s = { .fd = fd, .sigfd = -1, .self = getpid (), .run = run, .data = data };
  cleanup_free char *buf = malloc (MESSAGE_MAX);
  skiff_error_t init_err = NULL;
  sigset_t chld;
  bool open = true;
  int ret = 0;

  if (buf == NULL)
    return skiff_error_make (err, ENOMEM, "fork server");
  /* Set up once, here, what every operation would otherwise set up: a
     failure comes back with its message when an operation makes a client.  */
  if (registry_global_init (&init_err) < 0)
    skiff_error_release (&init_err);
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, &s.old_mask);
  s.sigfd = signalfd (-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (s.sigfd < 0)
    return skiff_error_make (err, errno, "fork server: signalfd");
  prctl (PR_GET_NAME, s.name);
  prctl (PR_SET_NAME, SERVER_NAME);

  while (ret == 0 && (open || s.n_children > 0))
    {
      struct pollfd p[2] = { { .fd = s.sigfd, .events = POLLIN }, { .fd = open ? fd : -1, .events = POLLIN } };

      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          ret = skiff_error_make (err, errno, "fork server: poll");
          break;
        }
      if (p[0].revents)
        ret = reap (&s, err);
      if (ret == 0 && p[1].revents)
        {
          int r = take_message (&s, buf, err);
          if (r < 0)
            ret = -1;
          else if (r == 1)
            open = false;
        }
    }
  close (s.sigfd);
  free (s.children);
  return ret;
}
