/* skiff-shim: the supervisor of one container (doc/daemon.md, "skiff-shim").
 *
 *   skiff-shim --id ID --bundle DIR --runtime-root DIR --state-dir DIR
 *              --log FILE [--stdin] [--stdin-once] [--rootfs-mount DIR] [--no-start]
 *              [--debug-log FILE]
 *
 * fd 3, when open, is the ready pipe: it gets "ok <init pid>\n" once the
 * container runs, or "error <message>\n".  The shim detaches from its
 * parent at once, serves shim.sock, and when the container's init exits:
 * deletes the container, unmounts --rootfs-mount, writes exit.json, sends
 * the EXIT frames, removes shim.sock and shim.pid, and exits.
 */
#include "cgroup.h"
#include "cgroup_internal.h"
#include "cleanup.h"
#include "container.h"
#include "fs.h"
#include "io.h"
#include "jsonlog.h"
#include "log.h"
#include "shim_proto.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_FD 3
/* How long the output of a dead container may take to drain, and clients
   to read their last frames.  */
#define DRAIN_TIMEOUT_MS 5000
#define FLUSH_TIMEOUT_MS 5000

struct shim_options
{
  char *id, *bundle, *runtime_root, *state_dir, *log, *rootfs_mount, *debug_log;
  bool use_stdin, stdin_once;
  bool no_start; /* leave the container created until a START frame */
};

static void
options_clear (struct shim_options *o)
{
  free (o->id);
  free (o->bundle);
  free (o->runtime_root);
  free (o->state_dir);
  free (o->log);
  free (o->rootfs_mount);
  free (o->debug_log);
}

/* ---- the ready pipe ---------------------------------------------------- */

static void
ready_write (int *fd, const char *fmt, ...)
{
  char line[4096];
  va_list ap;
  size_t len, off = 0, i;

  if (*fd < 0)
    return;
  va_start (ap, fmt);
  vsnprintf (line, sizeof (line) - 1, fmt, ap);
  va_end (ap);
  /* One line: the message must not end it early.  */
  len = strlen (line);
  for (i = 0; i < len; i++)
    if (line[i] == '\n')
      line[i] = ' ';
  line[len++] = '\n';
  while (off < len)
    {
      ssize_t n = write (*fd, line + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; /* skiffd went away: nobody to tell */
      off += n;
    }
  close (*fd);
  *fd = -1;
}

/* ---- options ------------------------------------------------------------- */

static void
usage (FILE *f)
{
  fprintf (f, "usage: skiff-shim --id ID --bundle DIR --runtime-root DIR --state-dir DIR --log FILE\n"
              "                  [--stdin] [--stdin-once] [--rootfs-mount DIR] [--no-start] [--debug-log FILE]\n");
}

static int
set_path (char **dst, const char *cwd, const char *value, const char *opt, skiff_error_t *err)
{
  if (value[0] == '\0')
    return skiff_error_make (err, 0, "%s: empty value", opt);
  free (*dst);
  *dst = fs_absolute (cwd, value);
  if (*dst == NULL)
    return skiff_error_make (err, ENOMEM, "%s", opt);
  return 0;
}

static int
parse_options (int argc, char **argv, struct shim_options *o, skiff_error_t *err)
{
  enum { O_ID = 256, O_BUNDLE, O_RUNTIME_ROOT, O_STATE_DIR, O_LOG, O_STDIN, O_STDIN_ONCE, O_ROOTFS, O_DEBUG_LOG, O_NO_START };
  static const struct option opts[] = {
    { "id", required_argument, NULL, O_ID },
    { "bundle", required_argument, NULL, O_BUNDLE },
    { "runtime-root", required_argument, NULL, O_RUNTIME_ROOT },
    { "state-dir", required_argument, NULL, O_STATE_DIR },
    { "log", required_argument, NULL, O_LOG },
    { "stdin", no_argument, NULL, O_STDIN },
    { "stdin-once", no_argument, NULL, O_STDIN_ONCE },
    { "rootfs-mount", required_argument, NULL, O_ROOTFS },
    { "debug-log", required_argument, NULL, O_DEBUG_LOG },
    { "no-start", no_argument, NULL, O_NO_START },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *cwd = getcwd (NULL, 0);
  int c, r = 0;

  if (cwd == NULL)
    return skiff_error_make (err, errno, "getcwd");
  opterr = 0;
  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1)
    {
      switch (c)
        {
        case O_ID:
          free (o->id);
          o->id = strdup (optarg);
          if (o->id == NULL)
            return skiff_error_make (err, ENOMEM, "--id");
          break;
        case O_BUNDLE:
          r = set_path (&o->bundle, cwd, optarg, "--bundle", err);
          break;
        case O_RUNTIME_ROOT:
          r = set_path (&o->runtime_root, cwd, optarg, "--runtime-root", err);
          break;
        case O_STATE_DIR:
          r = set_path (&o->state_dir, cwd, optarg, "--state-dir", err);
          break;
        case O_LOG:
          r = set_path (&o->log, cwd, optarg, "--log", err);
          break;
        case O_STDIN:
          o->use_stdin = true;
          break;
        case O_STDIN_ONCE:
          o->stdin_once = true;
          break;
        case O_NO_START:
          o->no_start = true;
          break;
        case O_ROOTFS:
          r = set_path (&o->rootfs_mount, cwd, optarg, "--rootfs-mount", err);
          break;
        case O_DEBUG_LOG:
          r = set_path (&o->debug_log, cwd, optarg, "--debug-log", err);
          break;
        case 'h':
          usage (stdout);
          exit (0);
        default:
          return skiff_error_make (err, 0, "unknown or incomplete option `%s`", argv[optind - 1]);
        }
      if (r < 0)
        return -1;
    }
  if (optind < argc)
    return skiff_error_make (err, 0, "unexpected argument `%s`", argv[optind]);
  if (o->id == NULL || o->bundle == NULL || o->runtime_root == NULL || o->state_dir == NULL || o->log == NULL)
    return skiff_error_make (err, 0, "--id, --bundle, --runtime-root, --state-dir and --log are required");
  return state_check_id (o->id, err);
}

/* ---- set-up ----------------------------------------------------------- */

/* Leaves skiffd: the parent returns at once, the child is re-parented,
   leads its own session and becomes the subreaper of the container.  */
static int
daemonise (skiff_error_t *err)
{
  int fd;
  pid_t pid = fork ();
  if (pid < 0)
    return skiff_error_make (err, errno, "fork");
  if (pid > 0)
    _exit (0);
  if (setsid () < 0)
    return skiff_error_make (err, errno, "setsid");
  if (prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    return skiff_error_make (err, errno, "become a subreaper");
  signal (SIGPIPE, SIG_IGN);
  if (chdir ("/") < 0)
    return skiff_error_make (err, errno, "chdir /");
  fd = open ("/dev/null", O_RDWR);
  if (fd < 0)
    return skiff_error_make (err, errno, "open /dev/null");
  if (dup2 (fd, 0) < 0 || dup2 (fd, 1) < 0 || dup2 (fd, 2) < 0)
    return skiff_error_make (err, errno, "redirect stdio to /dev/null");
  if (fd > 2)
    close (fd);
  return 0;
}

static int
sigchld_fd (skiff_error_t *err)
{
  sigset_t set;
  int fd;
  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
    return skiff_error_make (err, errno, "block SIGCHLD");
  fd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0)
    return skiff_error_make (err, errno, "signalfd");
  return fd;
}

/* Binds <state-dir>/shim.sock.  The path is reached through a descriptor
   of the directory, so that a long state dir cannot overflow sun_path.  */
static int
listen_socket (const char *state_dir, skiff_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int dirfd = -1, fd = -1;
  cleanup_free char *path = NULL;

  if (asprintf (&path, "%s/%s", state_dir, SHIM_SOCK_NAME) < 0)
    return skiff_error_make (err, ENOMEM, "socket path");
  dirfd = open (state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return skiff_error_make (err, errno, "open state directory `%s`", state_dir);
  {
    skiff_error_t ignored = NULL;
    int other = shim_connect (path, &ignored);
    skiff_error_release (&ignored);
    if (other >= 0)
      {
        close (other);
        return skiff_error_make (err, EADDRINUSE, "a shim already listens on `%s`", path);
      }
  }
  if (unlinkat (dirfd, SHIM_SOCK_NAME, 0) < 0 && errno != ENOENT)
    return skiff_error_make (err, errno, "remove stale `%s`", path);
  snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d/%s", dirfd, SHIM_SOCK_NAME);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return skiff_error_make (err, errno, "socket");
  if (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return skiff_error_make (err, errno, "bind `%s`", path);
  if (fchmodat (dirfd, SHIM_SOCK_NAME, 0600, 0) < 0)
    return skiff_error_make (err, errno, "chmod `%s`", path);
  if (listen (fd, 64) < 0)
    return skiff_error_make (err, errno, "listen on `%s`", path);
  return steal_fd (&fd);
}

/* The container's stdio: [0] the init's ends, [1] ours (-1 if none).  */
struct stdio_fds
{
  int child[3];
  int ours[3];
};

static void
stdio_close (int *fds)
{
  int i;
  for (i = 0; i < 3; i++)
    if (fds[i] >= 0)
      {
        close (fds[i]);
        fds[i] = -1;
      }
}

static int
stdio_make (struct stdio_fds *s, bool use_stdin, skiff_error_t *err)
{
  int p[2], i;
  for (i = 0; i < 3; i++)
    s->child[i] = s->ours[i] = -1;
  if (use_stdin)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        return skiff_error_make (err, errno, "pipe");
      s->child[0] = p[0];
      s->ours[0] = p[1];
    }
  else if ((s->child[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
    return skiff_error_make (err, errno, "open /dev/null");
  for (i = 1; i < 3; i++)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        return skiff_error_make (err, errno, "pipe");
      s->ours[i] = p[0];
      s->child[i] = p[1];
    }
  return 0;
}

/* ---- after the init's exit ----------------------------------------------- */

/* Reads "oom_kill N" from a memory.events / memory.oom_control file.  */
static bool
knob_oom_kills (const char *dir, const char *name)
{
  skiff_error_t err = NULL;
  cleanup_free char *text = NULL;
  const char *p;

  if (cgroup_read (dir, name, &text, &err) < 0)
    {
      skiff_error_release (&err);
      return false;
    }
  for (p = text; p && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp (p, "oom_kill ", 9) == 0)
      return strtoull (p + 9, NULL, 10) > 0;
  return false;
}

/* Whether the kernel OOM-killed anything in the container's cgroup (what
   Docker reports as OOMKilled).  Must run before the cgroup is removed.  */
static bool
container_oom_killed (const char *root, const char *id)
{
  cleanup_state struct container_state *st = NULL;
  cleanup_cgroup struct cgroup *cg = NULL;
  skiff_error_t err = NULL;
  size_t i;

  if (state_load (root, id, &st, &err) < 0 || st->cgroup_path == NULL || cgroup_open (st->cgroup_path, &cg, &err) < 0)
    {
      if (err)
        log_debug ("OOM counter: %s", err->msg);
      skiff_error_release (&err);
      return false;
    }
  for (i = 0; i < cg->n_dirs; i++)
    {
      if (cgroup_mode () == 2)
        return knob_oom_kills (cg->dirs[i].dir, "memory.events");
      if (cg->dirs[i].controllers & CGROUP_V1_MEMORY)
        return knob_oom_kills (cg->dirs[i].dir, "memory.oom_control");
    }
  return false;
}

static void
unmount_rootfs (const char *path)
{
  if (path == NULL)
    return;
  if (umount2 (path, 0) == 0 || errno == EINVAL || errno == ENOENT)
    return;
  /* Busy (a process outside the container holds it): detach it.  */
  if (umount2 (path, MNT_DETACH) < 0 && errno != EINVAL)
    log_warning ("unmount `%s`: %s", path, strerror (errno));
}

static void
remove_state_file (const char *dir, const char *name)
{
  cleanup_free char *path = NULL;
  if (asprintf (&path, "%s/%s", dir, name) < 0)
    return;
  if (unlink (path) < 0 && errno != ENOENT)
    log_warning ("remove `%s`: %s", path, strerror (errno));
}

static int
write_exit_file (const char *state_dir, const struct shim_exit_file *f, skiff_error_t *err)
{
  cleanup_free char *path = NULL, *json = shim_exit_file_json (f);
  if (json == NULL || asprintf (&path, "%s/%s", state_dir, SHIM_EXIT_NAME) < 0)
    return skiff_error_make (err, ENOMEM, "exit.json");
  /* The state dir is in the exec root, gone at reboot: no fsync.  */
  return fs_write_file_replace (path, json, strlen (json), 0644, err);
}

static int
write_pid_file (const char *state_dir, skiff_error_t *err)
{
  cleanup_free char *path = NULL;
  char buf[32];
  int n = snprintf (buf, sizeof (buf), "%d", getpid ());
  if (asprintf (&path, "%s/%s", state_dir, SHIM_PID_NAME) < 0)
    return skiff_error_make (err, ENOMEM, "shim.pid");
  return fs_write_file_replace (path, buf, n, 0644, err);
}

/* ---- the shim ----------------------------------------------------------- */

struct shim
{
  const struct shim_options *o;
  int ready_fd;
  int sigfd, listen_fd;
  struct jsonlog *log;
  struct shim_loop *loop;
  pid_t init_pid;
  bool sock_made;
};

/* Everything up to the "ok" on the ready pipe.  */
static int
shim_start (struct shim *s, skiff_error_t *err)
{
  const struct shim_options *o = s->o;
  struct shim_loop_config lc = { .runtime_root = o->runtime_root, .id = o->id, .stdin_once = o->stdin_once,
                                 .start_pending = o->no_start };
  struct container_opts co = { .root = o->runtime_root, .id = o->id, .bundle = o->bundle, .set_stdio = true };
  struct stdio_fds io;
  pid_t pid;
  int master = -1, i, r;

  s->sigfd = sigchld_fd (err);
  if (s->sigfd < 0)
    return -1;
  if (fs_mkdir_p (o->state_dir, 0711, err) < 0)
    return -1;
  /* A stale exit.json (an earlier run) must not be read as this one's. */
  remove_state_file (o->state_dir, SHIM_EXIT_NAME);
  s->listen_fd = listen_socket (o->state_dir, err);
  if (s->listen_fd < 0)
    return -1;
  s->sock_made = true;
  if (jsonlog_open (o->log, &s->log, err) < 0)
    return -1;
  if (shim_loop_new (&lc, s->listen_fd, s->sigfd, s->log, &s->loop, err) < 0)
    {
      s->listen_fd = s->sigfd = -1; /* the loop closed them */
      return -1;
    }
  s->listen_fd = s->sigfd = -1;

  r = stdio_make (&io, o->use_stdin, err);
  if (r == 0)
    {
      for (i = 0; i < 3; i++)
        co.stdio[i] = io.child[i];
      r = o->no_start ? container_launch_created (&co, &pid, &master, err)
                      : container_launch (&co, &pid, &master, err);
    }
  stdio_close (io.child);
  if (r < 0)
    {
      stdio_close (io.ours);
      return skiff_error_wrap (err, "start container `%s`", o->id);
    }
  s->init_pid = pid;
  if (shim_loop_add_init (s->loop, pid, master, o->use_stdin, io.ours[0], io.ours[1], io.ours[2], err) < 0)
    {
      kill (pid, SIGKILL);
      return -1;
    }
  if (write_pid_file (o->state_dir, err) < 0)
    {
      kill (pid, SIGKILL);
      return -1;
    }
  ready_write (&s->ready_fd, "ok %d", pid);
  log_info ("container %s runs as pid %d", o->id, pid);
  return 0;
}

/* From the init's exit to the end of the shim.  */
static int
shim_finish (struct shim *s, int wait_status)
{
  const struct shim_options *o = s->o;
  struct shim_exit_file f = { .exit_code = shim_exit_code (wait_status) };
  struct shim_exit e;
  skiff_error_t err = NULL;
  cleanup_free char *error = NULL;
  int ret = 0;

  f.finished_at = state_now_rfc3339 ();
  f.oom_killed = container_oom_killed (o->runtime_root, o->id);
  if (container_delete (o->runtime_root, o->id, true, &err) < 0)
    {
      log_error ("delete container `%s`: %s", o->id, err->msg);
      if (asprintf (&error, "delete container: %s", err->msg) < 0)
        error = NULL;
      skiff_error_release (&err);
    }
  if (shim_loop_drain (s->loop, DRAIN_TIMEOUT_MS, &err) < 0)
    {
      log_warning ("%s", err->msg);
      skiff_error_release (&err);
    }
  unmount_rootfs (o->rootfs_mount);

  f.error = error ? error : (char *) "";
  if (write_exit_file (o->state_dir, &f, &err) < 0)
    {
      log_error ("%s", err->msg);
      skiff_error_release (&err);
      ret = -1;
    }
  free (f.finished_at);
  /* Gone before anyone hears of the exit: a new shim for the same
     container (a restart) may bind the path the moment it does.  */
  remove_state_file (o->state_dir, SHIM_SOCK_NAME);
  remove_state_file (o->state_dir, SHIM_PID_NAME);
  s->sock_made = false;

  e.exit_code = f.exit_code;
  e.oom_killed = f.oom_killed;
  log_info ("container %s exited with %d%s", o->id, e.exit_code, e.oom_killed ? " (OOM killed)" : "");
  if (shim_loop_finish (s->loop, &e, FLUSH_TIMEOUT_MS, &err) < 0)
    {
      log_warning ("%s", err->msg);
      skiff_error_release (&err);
    }
  return ret;
}

static void
shim_release (struct shim *s)
{
  if (s->loop)
    shim_loop_free (s->loop);
  if (s->listen_fd >= 0)
    close (s->listen_fd);
  if (s->sigfd >= 0)
    close (s->sigfd);
  if (s->log)
    jsonlog_close (s->log);
  if (s->sock_made)
    {
      remove_state_file (s->o->state_dir, SHIM_SOCK_NAME);
      remove_state_file (s->o->state_dir, SHIM_PID_NAME);
    }
}

int
main (int argc, char **argv)
{
  struct shim_options o = { 0 };
  struct shim s = { .o = &o, .ready_fd = -1, .sigfd = -1, .listen_fd = -1 };
  skiff_error_t err = NULL;
  int wait_status, ret;

  if (fcntl (READY_FD, F_SETFD, FD_CLOEXEC) == 0)
    s.ready_fd = READY_FD;
  /* Nothing else of skiffd's may leak into the shim or the container.  */
  syscall (SYS_close_range, READY_FD + 1, ~0U, 0);

  if (parse_options (argc, argv, &o, &err) < 0)
    {
      ready_write (&s.ready_fd, "error %s", err->msg);
      usage (stderr);
      ret = skiff_error_print (&err, stderr, "skiff-shim");
      options_clear (&o);
      return ret == 1 ? 2 : ret;
    }
  if (daemonise (&err) < 0)
    {
      ready_write (&s.ready_fd, "error %s", err->msg);
      return 1;
    }
  if (o.debug_log && skiff_log_init (o.debug_log, true, SKIFF_LOG_DEBUG, &err) < 0)
    {
      ready_write (&s.ready_fd, "error %s", err->msg);
      return 1;
    }

  if (shim_start (&s, &err) < 0)
    {
      log_error ("%s", err->msg);
      ready_write (&s.ready_fd, "error %s", err->msg);
      skiff_error_release (&err);
      /* The mount was handed to us: it goes whatever happens.  */
      unmount_rootfs (o.rootfs_mount);
      shim_release (&s);
      options_clear (&o);
      return 1;
    }
  ret = 0;
  if (shim_loop_run (s.loop, &wait_status, &err) < 0)
    {
      /* The loop itself broke: the container cannot be supervised any
         more, kill it so that its end is still recorded.  */
      log_error ("%s", err->msg);
      skiff_error_release (&err);
      if (container_kill (o.runtime_root, o.id, SIGKILL, true, &err) < 0)
        skiff_error_release (&err);
      while (waitpid (s.init_pid, &wait_status, 0) < 0 && errno == EINTR)
        ;
      ret = 1;
    }
  if (shim_finish (&s, wait_status) < 0)
    ret = 1;
  shim_release (&s);
  options_clear (&o);
  return ret;
}
