#include "hooks.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[HOOK_KIND_COUNT] = {
  [HOOK_PRESTART] = "prestart",
  [HOOK_CREATE_RUNTIME] = "createRuntime",
  [HOOK_CREATE_CONTAINER] = "createContainer",
  [HOOK_START_CONTAINER] = "startContainer",
  [HOOK_POSTSTART] = "poststart",
  [HOOK_POSTSTOP] = "poststop",
};

const char *
hooks_kind_name (enum spec_hook_kind kind)
{
  return kind_names[kind];
}

static char *empty_env[] = { NULL };

static int
run_one (const struct spec_hook *h, const char *kind, const char *state_json, skiff_error_t *err)
{
  int in[2];
  pid_t pid;
  cleanup_close int pidfd = -1;
  int status;
  size_t len = strlen (state_json);

  if (pipe2 (in, O_CLOEXEC) < 0)
    return skiff_error_make (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (in[0]);
      close (in[1]);
      return skiff_error_make (err, errno, "fork %s hook", kind);
    }
  if (pid == 0)
    {
      char *default_args[] = { h->path, NULL };
      dup2 (in[0], 0);
      execve (h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
      fprintf (stderr, "%s hook `%s`: %s\n", kind, h->path, strerror (errno));
      _exit (127);
    }
  close (in[0]);
  /* A hook need not read its stdin: ignore EPIPE.  The state is small,
     so it fits in the pipe buffer and this write does not block.  */
  {
    sigset_t set, old;
    sigemptyset (&set);
    sigaddset (&set, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &set, &old);
    if (write (in[1], state_json, len) < 0)
      {
      }
    close (in[1]);
    {
      struct timespec zero = { 0, 0 };
      sigtimedwait (&set, NULL, &zero);
    }
    pthread_sigmask (SIG_SETMASK, &old, NULL);
  }

  if (h->timeout > 0)
    {
      struct pollfd p;
      int r;
      pidfd = syscall (SYS_pidfd_open, pid, 0);
      if (pidfd < 0)
        return skiff_error_make (err, errno, "pidfd_open");
      p.fd = pidfd;
      p.events = POLLIN;
      do
        r = poll (&p, 1, h->timeout * 1000);
      while (r < 0 && errno == EINTR);
      if (r == 0)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          return skiff_error_make (err, 0, "%s hook `%s` timed out after %d s", kind, h->path, h->timeout);
        }
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return skiff_error_make (err, errno, "wait for %s hook", kind);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status))
    return skiff_error_make (err, 0, "%s hook `%s` exited with status %d", kind, h->path, WEXITSTATUS (status));
  return skiff_error_make (err, 0, "%s hook `%s` killed by signal %d", kind, h->path, WTERMSIG (status));
}

int
hooks_run (const struct spec_hook_list *list, enum spec_hook_kind kind, const char *state_json, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < list->n; i++)
    if (run_one (&list->hooks[i], kind_names[kind], state_json, err) < 0)
      return -1;
  return 0;
}
