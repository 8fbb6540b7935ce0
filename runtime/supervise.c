#include "supervise.h"
#include "cleanup.h"
#include "terminal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGCHLD };

static void
supervised_set (sigset_t *set)
{
  size_t i;
  sigemptyset (set);
  for (i = 0; i < sizeof (forwarded) / sizeof (forwarded[0]); i++)
    sigaddset (set, forwarded[i]);
}

int
supervise_block_signals (skiff_error_t *err)
{
  sigset_t set;
  supervised_set (&set);
  if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
    return skiff_error_make (err, errno, "sigprocmask");
  return 0;
}

static int
copy_once (int from, int to)
{
  char buf[8192];
  ssize_t n = read (from, buf, sizeof (buf));
  ssize_t off = 0;
  if (n <= 0)
    return -1;
  while (off < n)
    {
      ssize_t w = write (to, buf + off, n - off);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      off += w;
    }
  return 0;
}

static int
status_of (int wstatus)
{
  if (WIFEXITED (wstatus))
    return WEXITSTATUS (wstatus);
  if (WIFSIGNALED (wstatus))
    return 128 + WTERMSIG (wstatus);
  return 255;
}

int
supervise_wait (pid_t pid, int master, int *exit_status, skiff_error_t *err)
{
  sigset_t set;
  cleanup_close int sfd = -1;
  bool stdin_open = master >= 0;
  bool master_open = master >= 0;
  bool exited = false;
  int wstatus = 0;

  supervised_set (&set);
  sfd = signalfd (-1, &set, SFD_CLOEXEC);
  if (sfd < 0)
    return skiff_error_make (err, errno, "signalfd");
  if (master >= 0)
    {
      terminal_copy_winsize (master);
      terminal_make_raw ();
    }

  /* Keep relaying until the process has exited and its output is drained. */
  while (!exited || master_open)
    {
      struct pollfd p[3];
      int n = 0, r;
      p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
      if (master_open)
        p[n++] = (struct pollfd){ .fd = master, .events = POLLIN };
      if (stdin_open)
        p[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
      r = poll (p, n, exited ? 100 : -1);
      if (r < 0 && errno != EINTR)
        break;
      if (r == 0 && exited)
        break; /* output drained */
      if (p[0].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof (si)) == sizeof (si))
            {
              if (si.ssi_signo == SIGCHLD)
                {
                  pid_t w;
                  int st;
                  while ((w = waitpid (-1, &st, WNOHANG)) > 0)
                    if (w == pid)
                      {
                        wstatus = st;
                        exited = true;
                      }
                }
              else if (si.ssi_signo == SIGWINCH)
                {
                  if (master >= 0)
                    terminal_copy_winsize (master);
                }
              else
                kill (pid, si.ssi_signo);
            }
        }
      if (master_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
        if (copy_once (master, 1) < 0)
          master_open = false;
      if (stdin_open && (p[n - 1].revents & (POLLIN | POLLHUP | POLLERR)) && p[n - 1].fd == 0)
        if (copy_once (0, master) < 0)
          stdin_open = false;
      /* A SIGCHLD could have been merged with another: check directly. */
      if (!exited)
        {
          int st;
          pid_t w = waitpid (pid, &st, WNOHANG);
          if (w == pid)
            {
              wstatus = st;
              exited = true;
            }
        }
    }
  if (!exited)
    while (waitpid (pid, &wstatus, 0) < 0 && errno == EINTR)
      ;
  if (master >= 0)
    terminal_restore ();
  *exit_status = status_of (wstatus);
  return 0;
}
