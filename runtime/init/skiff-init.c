/* skiff-init: the init of `--init` containers, bind-mounted read-only at
 * /sbin/docker-init and run as `/sbin/docker-init -- CMD ARGS...`, like
 * tini is by Docker.
 *
 * As PID 1 it starts CMD in a process group of its own (which takes the
 * terminal, if any), forwards every signal it receives to CMD, reaps every
 * zombie that is re-parented to it, and exits with CMD's status (128+N
 * when CMD died of signal N) once CMD is gone.  Outside a pid namespace it
 * makes itself a child subreaper so that it still reaps the orphans.
 *
 * It is linked statically: the container's rootfs may have no libc.
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "skiff-init"

/* Signals that mean a fault of this process: never blocked or forwarded.  */
static const int sync_signals[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS };

static void
usage (void)
{
  fprintf (stderr, "usage: " PROG " [--] COMMAND [ARG]...\n");
}

static void
exec_child (char **argv, const sigset_t *parent_mask)
{
  int saved;

  /* A process group of its own, holding the terminal when there is one,
     so that ^C reaches the command and not only init.  */
  if (setpgid (0, 0) < 0)
    {
      fprintf (stderr, PROG ": setpgid: %s\n", strerror (errno));
      _exit (1);
    }
  if (tcsetpgrp (STDIN_FILENO, getpgrp ()) < 0 && errno != ENOTTY && errno != ENXIO && errno != EBADF)
    {
      fprintf (stderr, PROG ": tcsetpgrp: %s\n", strerror (errno));
      _exit (1);
    }
  signal (SIGTTIN, SIG_DFL);
  signal (SIGTTOU, SIG_DFL);
  if (sigprocmask (SIG_SETMASK, parent_mask, NULL) < 0)
    {
      fprintf (stderr, PROG ": sigprocmask: %s\n", strerror (errno));
      _exit (1);
    }
  execvp (argv[0], argv);
  saved = errno;
  fprintf (stderr, PROG ": exec %s failed: %s\n", argv[0], strerror (saved));
  _exit (saved == ENOENT ? 127 : 126);
}

/* Reaps every exited child; returns true once the command is among them.  */
static bool
reap (pid_t child, int *exit_code)
{
  bool done = false;
  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, WNOHANG);
      if (pid <= 0)
        {
          if (pid < 0 && errno == EINTR)
            continue;
          return done; /* no more zombies (or no children at all) */
        }
      if (pid != child)
        continue;
      done = true;
      if (WIFEXITED (status))
        *exit_code = WEXITSTATUS (status);
      else if (WIFSIGNALED (status))
        *exit_code = 128 + WTERMSIG (status);
      else
        *exit_code = 1;
    }
}

int
main (int argc, char **argv)
{
  sigset_t all, parent_mask;
  pid_t child;
  int exit_code = 1;
  size_t i;

  (void) argc;
  argv++;
  if (*argv && strcmp (*argv, "--") == 0)
    argv++;
  if (*argv == NULL)
    {
      usage ();
      return 1;
    }
  if (getpid () != 1 && prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    fprintf (stderr, PROG ": warning: not PID 1 and cannot become a subreaper: %s\n", strerror (errno));

  /* Block everything but the fault signals and take them with sigwaitinfo;
     the command gets the original mask back.  */
  sigfillset (&all);
  for (i = 0; i < sizeof (sync_signals) / sizeof (sync_signals[0]); i++)
    sigdelset (&all, sync_signals[i]);
  if (sigprocmask (SIG_SETMASK, &all, &parent_mask) < 0)
    {
      fprintf (stderr, PROG ": sigprocmask: %s\n", strerror (errno));
      return 1;
    }
  /* Giving the terminal to the command's group must not stop init.  */
  signal (SIGTTIN, SIG_IGN);
  signal (SIGTTOU, SIG_IGN);

  child = fork ();
  if (child < 0)
    {
      fprintf (stderr, PROG ": fork: %s\n", strerror (errno));
      return 1;
    }
  if (child == 0)
    exec_child (argv, &parent_mask);

  for (;;)
    {
      siginfo_t si;
      int sig = sigwaitinfo (&all, &si);

      if (sig < 0)
        {
          if (errno == EINTR)
            continue;
          fprintf (stderr, PROG ": sigwaitinfo: %s\n", strerror (errno));
          return 1;
        }
      if (sig == SIGCHLD)
        {
          if (reap (child, &exit_code))
            break;
          continue;
        }
      /* Forward; ESRCH means the command is already gone: its SIGCHLD
         is on its way.  */
      if (kill (child, sig) < 0 && errno != ESRCH)
        fprintf (stderr, PROG ": forwarding signal %d: %s\n", sig, strerror (errno));
    }
  /* Orphans that exited meanwhile: reap them too before leaving.  */
  reap (child, &exit_code);
  return exit_code;
}
