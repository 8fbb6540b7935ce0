/* create / start / run / kill / delete.
 *
 * create: the runtime clones the container's init into its new namespaces
 * and places it in its cgroup; the init builds its root file system,
 * reports READY over a socketpair, then blocks opening exec.fifo for
 * writing.  `start` opens the fifo for reading, which releases the init
 * to run startContainer hooks and exec the user's process.
 */
#include "container.h"
#include "cgroup.h"
#include "cleanup.h"
#include "container_internal.h"
#include "device_rules.h"
#include "fs.h"
#include "hooks.h"
#include "json.h"
#include "log.h"
#include "namespaces.h"
#include "process.h"
#include "rootfs.h"
#include "seccomp_cache.h"
#include "state.h"
#include "supervise.h"
#include "sync.h"
#include "syscall_filter.h"
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Everything create needs between clone and READY.  */
struct launch
{
  const struct container_opts *opts;
  struct spec *spec;
  void *filter;
  struct cgroup *cg;
  int sync_parent, sync_child;
  int fifo_fd;  /* O_PATH on exec.fifo */
  int state_fd; /* memfd with the state JSON, for in-container hooks */
  int join_user_fd;
  pid_t pid;
  int master;   /* pty master kept for `run` in the foreground */
  bool keep_master;
  int new_ns;   /* CLONE_NEW* flags for namespaces without a path */
  char *created; /* RFC 3339 time of create */
};

int
container_write_pid_file (const char *path, pid_t pid, skiff_error_t *err)
{
  char buf[32];
  int n = snprintf (buf, sizeof (buf), "%d", pid);
  if (path == NULL)
    return 0;
  return fs_write_file_replace (path, buf, n, 0644, err);
}

/* ---- the container's init (child side) -------------------------------- */

static void
reset_signals (void)
{
  sigset_t all;
  int i;
  for (i = 1; i < NSIG; i++)
    signal (i, SIG_DFL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
}

static int
read_fd_text (int fd, char **out, skiff_error_t *err)
{
  char path[64];
  snprintf (path, sizeof (path), "/proc/self/fd/%d", fd);
  return fs_read_file (path, out, NULL, err);
}

static int
apply_sysctl (const struct spec *s, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < s->n_sysctl; i++)
    {
      cleanup_free char *path = NULL;
      char *p;
      if (asprintf (&path, "/proc/sys/%s", s->sysctl[i].key) < 0)
        return skiff_error_make (err, ENOMEM, "sysctl");
      for (p = path + 10; *p; p++)
        if (*p == '.')
          *p = '/';
      if (fs_write_string (path, s->sysctl[i].value, err) < 0)
        return skiff_error_wrap (err, "sysctl `%s`", s->sysctl[i].key);
    }
  return 0;
}

static int
init_setup (struct launch *l, char **exe, char **state_json, skiff_error_t *err)
{
  const struct spec *s = l->spec;
  int sock = l->sync_child;
  int state_fd = -1;
  size_t i;
  bool in_userns = spec_has_namespace (s, CLONE_NEWUSER, NULL);

  if (sync_expect (sock, SYNC_GO, &state_fd, err) < 0)
    return -1;
  if (state_fd >= 0)
    {
      int r = read_fd_text (state_fd, state_json, err);
      close (state_fd);
      if (r < 0)
        return -1;
    }

  if (l->join_user_fd >= 0)
    {
      if (setns (l->join_user_fd, CLONE_NEWUSER) < 0)
        return skiff_error_make (err, errno, "join user namespace");
      close (l->join_user_fd);
      if (unshare (l->new_ns & ~(CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWCGROUP)) < 0)
        return skiff_error_make (err, errno, "unshare namespaces");
    }
  if (in_userns)
    {
      /* Become root of the user namespace (when 0 is mapped).  */
      if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        return skiff_error_make (err, errno, "become root in the user namespace (is 0 mapped?)");
    }
  for (i = 0; i < ns_join_order_len; i++)
    {
      int type = ns_join_order[i];
      const char *path = NULL;
      if (type == CLONE_NEWUSER || type == CLONE_NEWPID)
        continue;
      if (spec_has_namespace (s, type, &path) && path && ns_join_path (type, path, err) < 0)
        return -1;
    }
  if ((l->new_ns & CLONE_NEWCGROUP) && unshare (CLONE_NEWCGROUP) < 0)
    return skiff_error_make (err, errno, "create cgroup namespace");

  if (rootfs_prepare (s, l->cg ? cgroup_path (l->cg) : NULL, in_userns, err) < 0)
    return -1;

  if (s->hooks[HOOK_PRESTART].n || s->hooks[HOOK_CREATE_RUNTIME].n)
    {
      if (sync_send (sock, SYNC_HOOKS, -1, err) < 0 || sync_expect (sock, SYNC_HOOKS_DONE, NULL, err) < 0)
        return -1;
    }
  if (hooks_run (&s->hooks[HOOK_CREATE_CONTAINER], HOOK_CREATE_CONTAINER, *state_json ? *state_json : "{}", err) < 0)
    return -1;

  if (rootfs_pivot (s, l->opts->no_pivot, err) < 0)
    return -1;
  if (s->hostname && sethostname (s->hostname, strlen (s->hostname)) < 0)
    return skiff_error_make (err, errno, "sethostname `%s`", s->hostname);
  if (s->domainname && setdomainname (s->domainname, strlen (s->domainname)) < 0)
    return skiff_error_make (err, errno, "setdomainname `%s`", s->domainname);
  if (apply_sysctl (s, err) < 0)
    return -1;

  if (s->process->terminal)
    {
      cleanup_free char *slave = NULL;
      int master;
      if (terminal_new_pty (&master, &slave, err) < 0)
        return -1;
      if (sync_send (sock, SYNC_PTY, master, err) < 0)
        return -1;
      close (master);
      if (terminal_setup_slave (slave, true, s->process->console_height, s->process->console_width, err) < 0)
        return -1;
    }
  else if (setsid () < 0)
    return skiff_error_make (err, errno, "setsid");

  if (rootfs_finalize (s, err) < 0)
    return -1;
  if (process_find_executable (s->process, exe, err) < 0)
    return -1;
  return 0;
}

static void __attribute__ ((noreturn))
container_init (struct launch *l)
{
  skiff_error_t err = NULL;
  cleanup_free char *exe = NULL, *state_json = NULL;
  const struct spec *s = l->spec;
  char fifo[64];
  int fd;

  reset_signals ();
  close (l->sync_parent);
  if (l->opts->set_stdio)
    {
      int i;
      for (i = 0; i < 3; i++)
        if (l->opts->stdio[i] != i && dup2 (l->opts->stdio[i], i) < 0)
          _exit (1);
    }
  if (init_setup (l, &exe, &state_json, &err) < 0)
    {
      sync_send_error (l->sync_child, &err);
      _exit (1);
    }
  if (sync_send (l->sync_child, SYNC_READY, -1, &err) < 0)
    _exit (1);
  close (l->sync_child);

  /* Wait for `start`: opening the fifo for writing blocks until it is
     opened for reading.  The path is outside our root now, so reopen the
     O_PATH descriptor through /proc.  */
  snprintf (fifo, sizeof (fifo), "/proc/self/fd/%d", l->fifo_fd);
  fd = open (fifo, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, "0", 1) != 1)
    {
      fprintf (stderr, "skiff-runtime: wait for start: %s\n", strerror (errno));
      _exit (1);
    }
  /* fd stays open until execve closes it (O_CLOEXEC): `start` reads until
     that EOF, so its poststart hooks run after the user's process has
     started, as the spec orders them.  */
  close (l->fifo_fd);

  if (s->hooks[HOOK_START_CONTAINER].n)
    {
      cleanup_free char *created = state_json ? state_json_with_status (state_json, "created") : NULL;
      if (hooks_run (&s->hooks[HOOK_START_CONTAINER], HOOK_START_CONTAINER, created ? created : "{}", &err) < 0)
        {
          skiff_error_print (&err, stderr, "skiff-runtime");
          _exit (1);
        }
    }
  process_exec (s->process, exe, l->filter, &err);
  {
    int status = err && err->errno_ == ENOENT ? 127 : 126;
    skiff_error_print (&err, stderr, "skiff-runtime");
    _exit (status);
  }
}

/* ---- the runtime (parent side) ------------------------------------------ */

static int
spec_check_runnable (const struct spec *s, const struct container_opts *o, bool foreground, skiff_error_t *err)
{
  if (s->process == NULL)
    return skiff_error_make (err, 0, "missing field `process`: nothing to run");
  if (!spec_has_namespace (s, CLONE_NEWNS, NULL))
    return skiff_error_make (err, 0, "invalid field `linux.namespaces`: a mount namespace is required");
  if (s->process->terminal && o->console_socket == NULL && !foreground)
    return skiff_error_make (err, 0, "process.terminal is true: --console-socket is required when the container is detached");
  return 0;
}

static char *
annotations_text (const struct spec *s)
{
  cleanup_gen yajl_gen g = NULL;
  if (s->annotations == NULL || !YAJL_IS_OBJECT (s->annotations))
    return NULL;
  g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  json_gen_value (g, s->annotations);
  return json_gen_steal (g, NULL);
}

static int
fill_state (const struct launch *l, struct container_state *st, skiff_error_t *err)
{
  st->id = strdup (l->opts->id);
  st->pid = l->pid;
  st->bundle = strdup (l->spec->bundle);
  st->rootfs = strdup (l->spec->root_path);
  st->created = strdup (l->created);
  st->cgroup_path = l->cg ? strdup (cgroup_path (l->cg)) : NULL;
  st->owner = getuid ();
  st->annotations_json = annotations_text (l->spec);
  if (st->id == NULL || st->bundle == NULL || st->rootfs == NULL || st->created == NULL)
    return skiff_error_make (err, ENOMEM, "state");
  if (l->pid > 0 && proc_start_time (l->pid, &st->start_time) < 0)
    return skiff_error_make (err, 0, "the container process exited during set-up");
  return 0;
}

static int
state_memfd (const struct launch *l, skiff_error_t *err)
{
  struct container_state st = { 0 };
  cleanup_free char *json = NULL;
  int fd, r;

  r = fill_state (l, &st, err);
  if (r == 0)
    json = state_to_json (&st, "creating", false);
  state_clear (&st);
  if (r < 0)
    return -1;
  if (json == NULL)
    return skiff_error_make (err, ENOMEM, "state");
  fd = memfd_create ("skiff-state", MFD_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "memfd_create");
  if (write (fd, json, strlen (json)) != (ssize_t) strlen (json))
    {
      close (fd);
      return skiff_error_make (err, errno, "write state");
    }
  return fd;
}

static int
run_hooks_with_state (const struct launch *l, enum spec_hook_kind kind, const char *status, skiff_error_t *err)
{
  struct container_state st = { 0 };
  cleanup_free char *json = NULL;
  int r;

  if (l->spec->hooks[kind].n == 0)
    return 0;
  r = fill_state (l, &st, err);
  if (r == 0)
    json = state_to_json (&st, status, false);
  state_clear (&st);
  if (r < 0)
    return -1;
  return hooks_run (&l->spec->hooks[kind], kind, json ? json : "{}", err);
}

/* Serves the child's requests until it reports READY.  */
static int
parent_sync_loop (struct launch *l, skiff_error_t *err)
{
  for (;;)
    {
      struct sync_msg m;
      int fd = -1;

      if (sync_recv (l->sync_parent, &m, &fd, err) < 0)
        return -1;
      switch (m.type)
        {
        case SYNC_READY:
          return 0;
        case SYNC_ERROR:
          skiff_error_make (err, 0, "%s", m.text);
          (*err)->errno_ = m.errno_;
          return -1;
        case SYNC_HOOKS:
          if (run_hooks_with_state (l, HOOK_PRESTART, "creating", err) < 0
              || run_hooks_with_state (l, HOOK_CREATE_RUNTIME, "creating", err) < 0)
            return -1;
          if (sync_send (l->sync_parent, SYNC_HOOKS_DONE, -1, err) < 0)
            return -1;
          break;
        case SYNC_PTY:
          if (fd < 0)
            return skiff_error_make (err, 0, "no terminal received from the container");
          if (l->opts->console_socket)
            {
              int r = terminal_send_to_socket (l->opts->console_socket, fd, err);
              close (fd);
              if (r < 0)
                return -1;
            }
          else
            l->master = fd;
          break;
        default:
          if (fd >= 0)
            close (fd);
          return skiff_error_make (err, 0, "unexpected message %d from the container", m.type);
        }
    }
}

static pid_t
clone_init (int flags)
{
  /* A fork with namespace flags: no new stack, the child resumes here.  */
  return syscall (SYS_clone, (unsigned long) flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static void
launch_release (struct launch *l)
{
  if (l->sync_parent >= 0)
    close (l->sync_parent);
  if (l->sync_child >= 0)
    close (l->sync_child);
  if (l->fifo_fd >= 0)
    close (l->fifo_fd);
  if (l->state_fd >= 0)
    close (l->state_fd);
  if (l->join_user_fd >= 0)
    close (l->join_user_fd);
  if (l->filter)
    syscall_filter_free (l->filter);
  if (l->cg)
    cgroup_free (l->cg);
  if (l->spec)
    spec_free (l->spec);
  free (l->created);
  l->created = NULL;
  l->sync_parent = l->sync_child = l->fifo_fd = l->state_fd = l->join_user_fd = -1;
  l->filter = NULL;
  l->cg = NULL;
  l->spec = NULL;
}

/* Undoes a failed create: the process, the cgroup, the state directory.  */
static void
launch_abort (struct launch *l)
{
  skiff_error_t ignored = NULL;
  if (l->pid > 0)
    {
      kill (l->pid, SIGKILL);
      while (waitpid (l->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  if (l->master >= 0)
    close (l->master);
  l->master = -1;
  if (l->cg && cgroup_destroy (l->cg, &ignored) < 0)
    skiff_error_release (&ignored);
  if (state_remove (l->opts->root, l->opts->id, &ignored) < 0)
    skiff_error_release (&ignored);
}

static int
copy_config (const struct container_opts *o, const struct spec *s, skiff_error_t *err)
{
  cleanup_free char *src = NULL, *dst = NULL, *text = NULL;
  size_t len;
  if (asprintf (&src, "%s/config.json", s->bundle) < 0)
    return skiff_error_make (err, ENOMEM, "config");
  dst = state_file (o->root, o->id, "config.json");
  if (dst == NULL)
    return skiff_error_make (err, ENOMEM, "config");
  if (fs_read_file (src, &text, &len, err) < 0)
    return -1;
  return fs_write_file_replace (dst, text, len, 0600, err);
}

/* The host id that container id 0 maps to (0 without mappings).  */
static uint32_t
host_id_of_root (const struct spec_id_mapping *m, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (m[i].container_id == 0)
      return m[i].host_id;
  return 0;
}

static int
launch_prepare (struct launch *l, skiff_error_t *err)
{
  const struct container_opts *o = l->opts;
  const struct spec *s;
  cleanup_free char *fifo = NULL;
  int sv[2];
  size_t i;

  if (state_check_id (o->id, err) < 0)
    return -1;
  l->created = state_now_rfc3339 ();
  if (l->created == NULL)
    return skiff_error_make (err, ENOMEM, "create");
  if (spec_load (o->bundle, &l->spec, err) < 0)
    return -1;
  s = l->spec;
  if (spec_check_runnable (s, o, l->keep_master, err) < 0)
    return -1;
  if (s->seccomp && seccomp_cache_build (s->seccomp, o->root, &l->filter, err) < 0)
    return -1;
  for (i = 0; i < s->n_namespaces; i++)
    if (s->namespaces[i].path == NULL)
      l->new_ns |= s->namespaces[i].type;

  /* From here on, everything made is undone by launch_abort().  */
  if (state_create_dir (o->root, o->id, err) < 0)
    return -2;
  if (copy_config (o, s, err) < 0)
    return -1;
  fifo = state_file (o->root, o->id, "exec.fifo");
  if (fifo == NULL || mkfifo (fifo, 0600) < 0)
    return skiff_error_make (err, errno, "mkfifo `%s`", fifo);
  l->fifo_fd = open (fifo, O_PATH | O_CLOEXEC);
  if (l->fifo_fd < 0)
    return skiff_error_make (err, errno, "open `%s`", fifo);
  /* In a user namespace the init reopens the fifo as its own root.  */
  if (chown (fifo, host_id_of_root (s->uid_mappings, s->n_uid_mappings),
             host_id_of_root (s->gid_mappings, s->n_gid_mappings)) < 0)
    return skiff_error_make (err, errno, "chown `%s`", fifo);
  {
    struct spec_resources res;
    cleanup_free struct spec_device_rule *rules = NULL;
    if (device_rules_effective (s, &res, &rules, err) < 0)
      return -1;
    if (cgroup_create (o->id, s->cgroups_path, &res, &l->cg, err) < 0)
      return -1;
  }
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return skiff_error_make (err, errno, "socketpair");
  l->sync_parent = sv[0];
  l->sync_child = sv[1];
  return 0;
}

static int
launch_namespaces_before_clone (struct launch *l, skiff_error_t *err)
{
  const char *path = NULL;
  if (spec_has_namespace (l->spec, CLONE_NEWUSER, &path) && path)
    {
      l->join_user_fd = open (path, O_RDONLY | O_CLOEXEC);
      if (l->join_user_fd < 0)
        return skiff_error_make (err, errno, "open user namespace `%s`", path);
    }
  /* Joining a pid namespace only affects our children: do it here, so the
     init is born in it.  */
  if (spec_has_namespace (l->spec, CLONE_NEWPID, &path) && path && ns_join_path (CLONE_NEWPID, path, err) < 0)
    return -1;
  return 0;
}

/* create, up to READY.  On success l->pid is the init, waiting for start. */
static int
launch (struct launch *l, skiff_error_t *err)
{
  int clone_flags, r;

  r = launch_prepare (l, err);
  if (r == -2)
    return -1; /* the id is taken: nothing of ours to undo */
  if (r < 0 || launch_namespaces_before_clone (l, err) < 0)
    goto fail;

  clone_flags = l->new_ns & ~CLONE_NEWCGROUP;
  if (l->join_user_fd >= 0)
    clone_flags &= CLONE_NEWPID; /* the rest is unshared after joining */
  l->pid = clone_init (clone_flags);
  if (l->pid < 0)
    {
      skiff_error_make (err, errno, "clone the container process");
      goto fail;
    }
  if (l->pid == 0)
    container_init (l);

  close (l->sync_child);
  l->sync_child = -1;
  if ((l->new_ns & CLONE_NEWUSER) && ns_write_id_maps (l->pid, l->spec, err) < 0)
    goto fail;
  if (l->cg && cgroup_enter (l->cg, l->pid, err) < 0)
    goto fail;
  if (l->spec->hooks[HOOK_CREATE_CONTAINER].n || l->spec->hooks[HOOK_START_CONTAINER].n)
    {
      l->state_fd = state_memfd (l, err);
      if (l->state_fd < 0)
        goto fail;
    }
  if (sync_send (l->sync_parent, SYNC_GO, l->state_fd, err) < 0 || parent_sync_loop (l, err) < 0)
    goto fail;

  {
    struct container_state st = { 0 };
    r = fill_state (l, &st, err);
    if (r == 0)
      r = state_save (l->opts->root, &st, err);
    state_clear (&st);
    if (r < 0)
      goto fail;
  }
  if (container_write_pid_file (l->opts->pid_file, l->pid, err) < 0)
    goto fail;
  return 0;

fail:
  launch_abort (l);
  return -1;
}

static void
launch_init (struct launch *l, const struct container_opts *o)
{
  memset (l, 0, sizeof (*l));
  l->opts = o;
  l->sync_parent = l->sync_child = l->fifo_fd = l->state_fd = l->join_user_fd = -1;
  l->master = -1;
}

int
container_create (const struct container_opts *o, skiff_error_t *err)
{
  struct launch l;
  int r;
  launch_init (&l, o);
  r = launch (&l, err);
  launch_release (&l);
  return r;
}

/* create, then (with start) start, keeping the caller the init's parent;
   on failure nothing is left.  keep_master: the pty master comes back in
   *master instead of going to a console socket.  */
static int
launch_and_start (const struct container_opts *o, bool keep_master, bool start, pid_t *pid, int *master,
                  skiff_error_t *err)
{
  struct launch l;
  skiff_error_t ignored = NULL;
  int r;

  launch_init (&l, o);
  l.keep_master = keep_master;
  *pid = -1;
  *master = -1;
  r = launch (&l, err);
  if (r == 0 && start)
    r = container_start (o->root, o->id, err);
  if (r < 0)
    {
      if (l.pid > 0)
        {
          if (container_delete (o->root, o->id, true, &ignored) < 0)
            skiff_error_release (&ignored);
          while (waitpid (l.pid, NULL, 0) < 0 && errno == EINTR)
            ;
        }
      if (l.master >= 0)
        close (l.master);
      launch_release (&l);
      return -1;
    }
  *pid = l.pid;
  *master = l.master;
  launch_release (&l);
  return 0;
}

int
container_run (const struct container_opts *o, int *exit_status, skiff_error_t *err)
{
  skiff_error_t ignored = NULL;
  pid_t pid;
  int master, r;

  if (!o->detach && supervise_block_signals (err) < 0)
    return -1;
  if (launch_and_start (o, !o->detach, true, &pid, &master, err) < 0)
    return -1;
  *exit_status = 0;
  if (o->detach)
    return 0;

  r = supervise_wait (pid, master, exit_status, err);
  if (master >= 0)
    close (master);
  if (container_delete (o->root, o->id, true, r < 0 ? &ignored : err) < 0)
    {
      skiff_error_release (&ignored);
      if (r == 0)
        return -1;
    }
  return r;
}

int
container_launch (const struct container_opts *o, pid_t *pid, int *master, skiff_error_t *err)
{
  return launch_and_start (o, true, true, pid, master, err);
}

int
container_launch_created (const struct container_opts *o, pid_t *pid, int *master, skiff_error_t *err)
{
  return launch_and_start (o, true, false, pid, master, err);
}
