#include "terminal.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "sync.h"

int
terminal_new_pty (int *master, char **slave_path, skiff_error_t *err)
{
  cleanup_close int fd = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  char name[64];

  if (fd < 0)
    return skiff_error_make (err, errno, "open `/dev/ptmx`");
  if (unlockpt (fd) < 0)
    return skiff_error_make (err, errno, "unlockpt");
  if (ptsname_r (fd, name, sizeof (name)) != 0)
    return skiff_error_make (err, errno, "ptsname");
  *slave_path = strdup (name);
  if (*slave_path == NULL)
    return skiff_error_make (err, ENOMEM, "ptsname");
  *master = steal_fd (&fd);
  return 0;
}

int
terminal_setup_slave (const char *slave_path, bool console, unsigned int rows, unsigned int cols, skiff_error_t *err)
{
  cleanup_close int fd = -1;

  if (console)
    {
      int cfd = open ("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (cfd < 0)
        return skiff_error_make (err, errno, "create `/dev/console`");
      close (cfd);
      if (mount (slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
        return skiff_error_make (err, errno, "bind `%s` on `/dev/console`", slave_path);
    }
  fd = open (slave_path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "open `%s`", slave_path);
  if (rows && cols)
    {
      struct winsize ws = { .ws_row = rows, .ws_col = cols };
      ioctl (fd, TIOCSWINSZ, &ws);
    }
  if (setsid () < 0 && errno != EPERM)
    return skiff_error_make (err, errno, "setsid");
  if (ioctl (fd, TIOCSCTTY, 0) < 0)
    return skiff_error_make (err, errno, "set controlling terminal");
  if (dup2 (fd, 0) < 0 || dup2 (fd, 1) < 0 || dup2 (fd, 2) < 0)
    return skiff_error_make (err, errno, "dup2 terminal");
  return 0;
}

int
terminal_send_to_socket (const char *socket_path, int master, skiff_error_t *err)
{
  cleanup_close int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  const char *name = "/dev/ptmx";

  if (sock < 0)
    return skiff_error_make (err, errno, "socket");
  if (strlen (socket_path) >= sizeof (addr.sun_path))
    return skiff_error_make (err, 0, "console socket path `%s` is too long", socket_path);
  strcpy (addr.sun_path, socket_path);
  if (connect (sock, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return skiff_error_make (err, errno, "connect to console socket `%s`", socket_path);
  if (sync_send_fd (sock, master, name, strlen (name)) < 0)
    return skiff_error_make (err, errno, "send terminal to `%s`", socket_path);
  return 0;
}

static struct termios saved_termios;
static bool termios_saved;

void
terminal_make_raw (void)
{
  struct termios t;
  if (!isatty (0) || tcgetattr (0, &saved_termios) < 0)
    return;
  termios_saved = true;
  t = saved_termios;
  cfmakeraw (&t);
  tcsetattr (0, TCSANOW, &t);
}

void
terminal_restore (void)
{
  if (termios_saved)
    tcsetattr (0, TCSANOW, &saved_termios);
  termios_saved = false;
}

void
terminal_copy_winsize (int master)
{
  struct winsize ws;
  if (ioctl (0, TIOCGWINSZ, &ws) == 0)
    ioctl (master, TIOCSWINSZ, &ws);
}
