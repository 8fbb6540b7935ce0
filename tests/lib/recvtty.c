/* recvtty: the receiving end of an OCI runtime's --console-socket.
 *
 * Usage: recvtty [-n] [-q] [-o FILE] [-N FILE] SOCKET_PATH
 *
 * Listens on the unix socket SOCKET_PATH, accepts exactly one connection
 * and receives the pseudo-terminal master fd that the runtime sends with
 * SCM_RIGHTS.  It then copies everything the master produces to stdout and
 * everything read from stdin to the master, until the terminal hangs up
 * (every slave fd closed: read on the master fails with EIO) or stdout
 * goes away.  EOF on stdin only stops the stdin->master direction.
 *
 *   -o FILE  also append the master's output to FILE
 *   -N FILE  write the name/data the runtime sent with the fd to FILE
 *   -n       never read stdin
 *   -q       do not copy the master's output to stdout (with -o)
 *
 * The socket is bound under a temporary name and renamed to SOCKET_PATH
 * once it listens, so a caller can poll for SOCKET_PATH to exist and then
 * connect without racing.  SOCKET_PATH is unlinked when the connection has
 * been accepted.  Exit status: 0 on hangup, 1 on error, 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void
die (const char *what)
{
  fprintf (stderr, "recvtty: %s: %s\n", what, strerror (errno));
  exit (1);
}

static void
usage (void)
{
  fprintf (stderr, "usage: recvtty [-n] [-q] [-o FILE] [-N FILE] SOCKET_PATH\n");
  exit (2);
}

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t w = write (fd, buf, len);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      buf += w;
      len -= (size_t) w;
    }
  return 0;
}

/* Receives one fd (and the message data) from a connected socket.  */
static int
recv_fd (int sock, char *data, size_t data_size, size_t *data_len)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * 4)];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = { .iov_base = data, .iov_len = data_size };
  struct msghdr msg = { 0 };
  struct cmsghdr *cmsg;
  ssize_t n;
  int fd = -1;

  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;

  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    die ("recvmsg");
  *data_len = (size_t) n;

  for (cmsg = CMSG_FIRSTHDR (&msg); cmsg; cmsg = CMSG_NXTHDR (&msg, cmsg))
    {
      if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
        {
          size_t nfds = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);
          int fds[4];
          size_t i;

          if (nfds > 4)
            nfds = 4;
          memcpy (fds, CMSG_DATA (cmsg), nfds * sizeof (int));
          for (i = 0; i < nfds; i++)
            {
              if (fd < 0)
                fd = fds[i];
              else
                close (fds[i]);
            }
        }
    }
  if (msg.msg_flags & MSG_CTRUNC)
    {
      fprintf (stderr, "recvtty: control message truncated\n");
      exit (1);
    }
  if (fd < 0)
    {
      fprintf (stderr, "recvtty: no file descriptor received\n");
      exit (1);
    }
  return fd;
}

int
main (int argc, char **argv)
{
  const char *out_path = NULL, *name_path = NULL, *sock_path;
  int use_stdin = 1, to_stdout = 1;
  int opt, lsock, conn, master, out_fd = -1;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  char tmp_path[sizeof addr.sun_path];
  char data[4096];
  size_t data_len = 0;

  while ((opt = getopt (argc, argv, "nqo:N:")) != -1)
    {
      switch (opt)
        {
        case 'n': use_stdin = 0; break;
        case 'q': to_stdout = 0; break;
        case 'o': out_path = optarg; break;
        case 'N': name_path = optarg; break;
        default: usage ();
        }
    }
  if (optind != argc - 1)
    usage ();
  sock_path = argv[optind];

  signal (SIGPIPE, SIG_IGN);

  if (out_path)
    {
      out_fd = open (out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (out_fd < 0)
        die (out_path);
    }

  if (snprintf (tmp_path, sizeof tmp_path, "%s.%ld", sock_path, (long) getpid ())
      >= (int) sizeof tmp_path)
    {
      fprintf (stderr, "recvtty: socket path too long: %s\n", sock_path);
      return 1;
    }
  memcpy (addr.sun_path, tmp_path, strlen (tmp_path) + 1);

  lsock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lsock < 0)
    die ("socket");
  unlink (tmp_path);
  if (bind (lsock, (struct sockaddr *) &addr, sizeof addr) < 0)
    die (tmp_path);
  if (listen (lsock, 1) < 0)
    die ("listen");
  if (rename (tmp_path, sock_path) < 0)
    die (sock_path);

  do
    conn = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0)
    die ("accept");
  close (lsock);
  unlink (sock_path);

  master = recv_fd (conn, data, sizeof data, &data_len);
  close (conn);

  if (name_path)
    {
      int fd = open (name_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        die (name_path);
      if (write_all (fd, data, data_len) < 0)
        die (name_path);
      close (fd);
    }

  for (;;)
    {
      struct pollfd pfd[2];
      nfds_t n = 1;
      char buf[8192];
      ssize_t r;

      pfd[0].fd = master;
      pfd[0].events = POLLIN;
      pfd[0].revents = 0;
      if (use_stdin)
        {
          pfd[1].fd = STDIN_FILENO;
          pfd[1].events = POLLIN;
          pfd[1].revents = 0;
          n = 2;
        }
      if (poll (pfd, n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          die ("poll");
        }

      if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          r = read (master, buf, sizeof buf);
          if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (r <= 0)
            break; /* EIO: every slave closed, the terminal hung up */
          if (out_fd >= 0 && write_all (out_fd, buf, (size_t) r) < 0)
            die (out_path);
          if (to_stdout && write_all (STDOUT_FILENO, buf, (size_t) r) < 0)
            break;
          continue; /* drain the master before looking at stdin again */
        }

      if (use_stdin && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
        {
          r = read (STDIN_FILENO, buf, sizeof buf);
          if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (r <= 0)
            {
              use_stdin = 0;
              continue;
            }
          if (write_all (master, buf, (size_t) r) < 0)
            break;
        }
    }

  if (out_fd >= 0)
    close (out_fd);
  close (master);
  return 0;
}
