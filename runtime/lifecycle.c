/* start, kill, delete, state, list and ps: the verbs that act on a
   container that create has made.  */
#include "cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "container_internal.h"
#include "fs.h"
#include "hooks.h"
#include "log.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
container_load_saved_spec (const char *root, const struct container_state *st, struct spec **out, skiff_error_t *err)
{
  cleanup_free char *path = state_file (root, st->id, "config.json");
  cleanup_free char *text = NULL;
  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "config");
  if (fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  return spec_parse_saved (text, st->bundle ? st->bundle : "/", out, err);
}

static long
ms_since (const struct timespec *t0)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

int
container_start (const char *root, const char *id, skiff_error_t *err)
{
  cleanup_state struct container_state *st = NULL;
  cleanup_free char *fifo = NULL;
  cleanup_close int fd = -1;
  const char *status;
  char c;

  if (state_load (root, id, &st, err) < 0)
    return -1;
  status = state_status (root, st);
  if (strcmp (status, "created") != 0)
    {
      if (strcmp (status, "stopped") == 0)
        return skiff_error_make (err, 0, "cannot start a container that has stopped");
      return skiff_error_make (err, 0, "cannot start an already %s container", status);
    }
  fifo = state_file (root, id, "exec.fifo");
  if (fifo == NULL)
    return skiff_error_make (err, ENOMEM, "start");
  /* Non-blocking, so that a dead init cannot hang us: poll for its byte. */
  fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "open `%s`", fifo);
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      ssize_t n;
      int r = poll (&p, 1, 100);
      if (r < 0 && errno != EINTR)
        return skiff_error_make (err, errno, "poll exec fifo");
      n = read (fd, &c, 1);
      if (n == 1)
        break;
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return skiff_error_make (err, errno, "read exec fifo");
      if (!state_pid_alive (st))
        return skiff_error_make (err, 0, "container `%s` exited before it was started", id);
    }
  if (unlink (fifo) < 0)
    return skiff_error_make (err, errno, "remove `%s`", fifo);
  /* The init holds the fifo open until it execs the user's process (or
     dies): its EOF means the process runs.  */
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      ssize_t n;
      if (poll (&p, 1, 100) < 0 && errno != EINTR)
        return skiff_error_make (err, errno, "poll exec fifo");
      n = read (fd, &c, 1);
      if (n == 0)
        break;
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return skiff_error_make (err, errno, "read exec fifo");
      if (!state_pid_alive (st))
        break;
    }

  /* poststart failures are logged, not fatal: the process already runs. */
  {
    cleanup_spec struct spec *s = NULL;
    skiff_error_t herr = NULL;
    if (container_load_saved_spec (root, st, &s, &herr) == 0 && s->hooks[HOOK_POSTSTART].n)
      {
        cleanup_free char *json = state_to_json (st, "running", false);
        if (hooks_run (&s->hooks[HOOK_POSTSTART], HOOK_POSTSTART, json ? json : "{}", &herr) < 0)
          log_warning ("%s", herr->msg);
      }
    skiff_error_release (&herr);
  }
  return 0;
}

int
container_kill (const char *root, const char *id, int sig, bool all, skiff_error_t *err)
{
  cleanup_state struct container_state *st = NULL;
  const char *status;

  if (state_load (root, id, &st, err) < 0)
    return -1;
  status = state_status (root, st);
  if (all && st->cgroup_path)
    {
      struct cgroup *cg = NULL;
      int r;
      if (strcmp (status, "creating") == 0)
        return skiff_error_make (err, 0, "container `%s` is still being created", id);
      if (cgroup_open (st->cgroup_path, &cg, err) < 0)
        return -1;
      r = cgroup_kill (cg, sig, err);
      cgroup_free (cg);
      return r;
    }
  if (strcmp (status, "created") != 0 && strcmp (status, "running") != 0)
    return skiff_error_make (err, 0, "container `%s` is not running", id);
  if (kill (st->pid, sig) < 0)
    return skiff_error_make (err, errno, "kill container `%s`", id);
  return 0;
}

/* Waits (with a deadline) until pid is gone or a zombie.  */
static int
wait_dead (const struct container_state *st, skiff_error_t *err)
{
  cleanup_close int pidfd = syscall (SYS_pidfd_open, st->pid, 0);
  struct timespec t0;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  while (state_pid_alive (st))
    {
      if (ms_since (&t0) > 10000)
        return skiff_error_make (err, 0, "container `%s` did not die after SIGKILL", st->id);
      if (pidfd >= 0)
        {
          struct pollfd p = { .fd = pidfd, .events = POLLIN };
          poll (&p, 1, 100);
        }
      else
        {
          struct timespec ts = { 0, 10 * 1000 * 1000 };
          nanosleep (&ts, NULL);
        }
    }
  return 0;
}

int
container_delete (const char *root, const char *id, bool force, skiff_error_t *err)
{
  cleanup_state struct container_state *st = NULL;
  cleanup_spec struct spec *s = NULL;
  const char *status;

  if (state_load (root, id, &st, err) < 0)
    return -1;
  status = state_status (root, st);
  /* A created container never ran user code: delete it without -f, as
     runc does.  A running one needs -f.  */
  if (strcmp (status, "stopped") != 0 && strcmp (status, "creating") != 0)
    {
      if (!force && strcmp (status, "created") != 0)
        return skiff_error_make (err, 0, "cannot delete container `%s` that is not stopped: %s", id, status);
      if (kill (st->pid, SIGKILL) < 0 && errno != ESRCH)
        return skiff_error_make (err, errno, "kill container `%s`", id);
      if (wait_dead (st, err) < 0)
        return -1;
    }
  else if (strcmp (status, "creating") == 0 && !force)
    return skiff_error_make (err, 0, "cannot delete container `%s` that is being created", id);

  if (st->cgroup_path)
    {
      struct cgroup *cg = NULL;
      int r = cgroup_open (st->cgroup_path, &cg, err);
      if (r == 0)
        r = cgroup_destroy (cg, err);
      if (cg)
        cgroup_free (cg);
      if (r < 0)
        return -1;
    }
  if (st->bundle && container_load_saved_spec (root, st, &s, NULL) == 0 && s->hooks[HOOK_POSTSTOP].n)
    {
      cleanup_free char *json = state_to_json (st, "stopped", false);
      skiff_error_t herr = NULL;
      if (hooks_run (&s->hooks[HOOK_POSTSTOP], HOOK_POSTSTOP, json ? json : "{}", &herr) < 0)
        {
          log_warning ("%s", herr->msg);
          skiff_error_release (&herr);
        }
    }
  return state_remove (root, id, err);
}

int
container_state_json (const char *root, const char *id, char **json, skiff_error_t *err)
{
  cleanup_state struct container_state *st = NULL;
  if (state_load (root, id, &st, err) < 0)
    return -1;
  *json = state_to_json (st, state_status (root, st), true);
  if (*json == NULL)
    return skiff_error_make (err, ENOMEM, "state");
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
container_list (const char *root, char ***ids, size_t *n, skiff_error_t *err)
{
  cleanup_dir DIR *d = opendir (root);
  struct dirent *de;
  char **v = NULL;
  size_t cnt = 0, cap = 0;

  *ids = NULL;
  *n = 0;
  if (d == NULL)
    return errno == ENOENT ? 0 : skiff_error_make (err, errno, "open `%s`", root);
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.' || state_check_id (de->d_name, NULL) < 0)
        continue;
      if (cnt + 2 > cap)
        {
          char **nv;
          cap = cap ? cap * 2 : 16;
          nv = realloc (v, cap * sizeof (char *));
          if (nv == NULL)
            {
              cleanup_strvp (&v);
              return skiff_error_make (err, ENOMEM, "list");
            }
          v = nv;
        }
      v[cnt++] = strdup (de->d_name);
      v[cnt] = NULL;
    }
  if (cnt)
    qsort (v, cnt, sizeof (char *), cmp_str);
  *ids = v;
  *n = cnt;
  return 0;
}

int
container_pids (const char *root, const char *id, pid_t **pids, size_t *n, skiff_error_t *err)
{
  cleanup_state struct container_state *st = NULL;
  struct cgroup *cg = NULL;
  int r;

  if (state_load (root, id, &st, err) < 0)
    return -1;
  if (st->cgroup_path == NULL)
    {
      *pids = NULL;
      *n = 0;
      return 0;
    }
  if (cgroup_open (st->cgroup_path, &cg, err) < 0)
    return -1;
  r = cgroup_pids (cg, pids, n, err);
  cgroup_free (cg);
  return r;
}
