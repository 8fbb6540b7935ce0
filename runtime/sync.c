#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
sync_send_fd (int sock, int fd, const void *data, size_t len)
{
  struct msghdr mh = { 0 };
  struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  ssize_t n;

  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (fd >= 0)
    {
      struct cmsghdr *c;
      memset (&u, 0, sizeof (u));
      mh.msg_control = u.buf;
      mh.msg_controllen = sizeof (u.buf);
      c = CMSG_FIRSTHDR (&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof (int));
    }
  do
    n = sendmsg (sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

int
sync_recv_fd (int sock, int *fd, void *data, size_t len)
{
  struct msghdr mh = { 0 };
  struct iovec iov = { .iov_base = data, .iov_len = len };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct cmsghdr *c;
  ssize_t n;

  if (fd)
    *fd = -1;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = u.buf;
  mh.msg_controllen = sizeof (u.buf);
  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  for (c = CMSG_FIRSTHDR (&mh); c; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        int got;
        memcpy (&got, CMSG_DATA (c), sizeof (int));
        if (fd)
          *fd = got;
        else
          close (got);
      }
  return (int) n;
}

int
sync_send (int sock, int type, int fd, skiff_error_t *err)
{
  struct sync_msg m = { .type = type };
  if (sync_send_fd (sock, fd, &m, sizeof (m)) < 0)
    return skiff_error_make (err, errno, "send sync message %d", type);
  return 0;
}

void
sync_send_error (int sock, skiff_error_t *err)
{
  struct sync_msg m = { .type = SYNC_ERROR };
  if (err && *err)
    {
      m.errno_ = (*err)->errno_;
      strncpy (m.text, (*err)->msg, sizeof (m.text) - 1);
      skiff_error_release (err);
    }
  sync_send_fd (sock, -1, &m, sizeof (m));
}

int
sync_recv (int sock, struct sync_msg *msg, int *fd, skiff_error_t *err)
{
  int n;
  memset (msg, 0, sizeof (*msg));
  n = sync_recv_fd (sock, fd, msg, sizeof (*msg));
  if (n < 0)
    return skiff_error_make (err, errno, "receive sync message");
  if (n == 0)
    return skiff_error_make (err, 0, "the container process exited during set-up");
  if (n != sizeof (*msg))
    return skiff_error_make (err, 0, "short sync message (%d bytes)", n);
  msg->text[sizeof (msg->text) - 1] = '\0';
  return 0;
}

int
sync_expect (int sock, int want, int *fd, skiff_error_t *err)
{
  struct sync_msg m;
  if (sync_recv (sock, &m, fd, err) < 0)
    return -1;
  if (m.type == SYNC_ERROR)
    {
      skiff_error_make (err, 0, "%s", m.text);
      (*err)->errno_ = m.errno_;
      return -1;
    }
  if (m.type != want)
    return skiff_error_make (err, 0, "unexpected sync message %d (wanted %d)", m.type, want);
  return 0;
}
