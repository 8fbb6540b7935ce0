/* exec: a new process inside a running container's namespaces and cgroup,
   with the container's seccomp profile, as runc does.  */
#include "cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "container_internal.h"
#include "json.h"
#include "namespaces.h"
#include "process.h"
#include "seccomp_cache.h"
#include "state.h"
#include "supervise.h"
#include "sync.h"
#include "syscall_filter.h"
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The process to run: the saved spec's process with the command-line
   overrides.  Arrays it allocates are listed in `owned`.  */
struct exec_process
{
  struct spec_process p;
  struct spec_process *from_file;
  char **env_owned;
  int *caps_owned[5];
};

static void
exec_process_release (struct exec_process *e)
{
  size_t i;
  free (e->env_owned);
  for (i = 0; i < 5; i++)
    free (e->caps_owned[i]);
  if (e->from_file)
    spec_process_free (e->from_file);
}

static int
parse_user (const char *user, struct spec_process *p, skiff_error_t *err)
{
  char *end;
  unsigned long uid, gid;
  uid = strtoul (user, &end, 10);
  if (end == user || (*end != '\0' && *end != ':'))
    return skiff_error_make (err, 0, "invalid --user `%s`: expected UID[:GID]", user);
  p->uid = uid;
  if (*end == ':')
    {
      const char *g = end + 1;
      gid = strtoul (g, &end, 10);
      if (end == g || *end != '\0')
        return skiff_error_make (err, 0, "invalid --user `%s`: expected UID[:GID]", user);
      p->gid = gid;
    }
  return 0;
}

static int
merge_env (struct exec_process *e, const struct exec_opts *o, skiff_error_t *err)
{
  struct spec_process *p = &e->p;
  size_t i, j, n = 0;
  char **v = calloc (p->n_env + o->n_env + 1, sizeof (char *));

  if (v == NULL)
    return skiff_error_make (err, ENOMEM, "env");
  for (i = 0; i < p->n_env; i++)
    {
      size_t klen = strcspn (p->env[i], "=");
      bool overridden = false;
      for (j = 0; j < o->n_env; j++)
        if (strncmp (o->env[j], p->env[i], klen) == 0 && o->env[j][klen] == '=')
          overridden = true;
      if (!overridden)
        v[n++] = p->env[i];
    }
  for (j = 0; j < o->n_env; j++)
    {
      if (strchr (o->env[j], '=') == NULL)
        {
          free (v);
          return skiff_error_make (err, 0, "invalid --env `%s`: expected KEY=VALUE", o->env[j]);
        }
      v[n++] = o->env[j];
    }
  e->env_owned = v;
  p->env = v;
  p->n_env = n;
  return 0;
}

static int
add_caps (struct exec_process *e, const struct exec_opts *o, skiff_error_t *err)
{
  struct spec_capset *sets[5] = { &e->p.caps.bounding, &e->p.caps.effective, &e->p.caps.inheritable,
                                  &e->p.caps.permitted, &e->p.caps.ambient };
  size_t i, k;

  if (o->n_caps == 0)
    return 0;
  e->p.has_capabilities = true;
  for (k = 0; k < 5; k++)
    {
      int *v = calloc (sets[k]->n + o->n_caps + 1, sizeof (int));
      if (v == NULL)
        return skiff_error_make (err, ENOMEM, "caps");
      if (sets[k]->n)
        memcpy (v, sets[k]->caps, sets[k]->n * sizeof (int));
      for (i = 0; i < o->n_caps; i++)
        {
          int c = spec_capability_value (o->caps[i]);
          if (c < 0)
            {
              free (v);
              return skiff_error_make (err, 0, "invalid --cap `%s`: unknown capability", o->caps[i]);
            }
          v[sets[k]->n + i] = c;
        }
      e->caps_owned[k] = v;
      sets[k]->caps = v;
      sets[k]->n += o->n_caps;
    }
  return 0;
}

static int
build_process (const struct exec_opts *o, const struct spec *s, struct exec_process *e, skiff_error_t *err)
{
  if (o->process_file)
    {
      if (spec_parse_process_file (o->process_file, &e->from_file, err) < 0)
        return -1;
      e->p = *e->from_file;
      return 0;
    }
  if (o->process_json)
    {
      cleanup_json yajl_val tree = NULL;
      if (json_parse (o->process_json, &tree, err) < 0
          || spec_parse_process (tree, "process", &e->from_file, err) < 0)
        return -1;
      if (e->from_file->n_args == 0)
        return skiff_error_make (err, 0, "missing field `process.args`");
      e->p = *e->from_file;
      return 0;
    }
  if (o->n_args == 0)
    return skiff_error_make (err, 0, "exec needs a command (or --process)");
  if (s->process)
    e->p = *s->process;
  else
    e->p.cwd = (char *) "/";
  e->p.args = o->args;
  e->p.n_args = o->n_args;
  e->p.terminal = o->tty;
  if (o->cwd)
    e->p.cwd = (char *) o->cwd;
  if (o->user && parse_user (o->user, &e->p, err) < 0)
    return -1;
  if (o->n_additional_gids)
    {
      e->p.additional_gids = o->additional_gids;
      e->p.n_additional_gids = o->n_additional_gids;
    }
  if (o->no_new_privs)
    e->p.no_new_privileges = true;
  if (merge_env (e, o, err) < 0)
    return -1;
  return add_caps (e, o, err);
}

struct exec_ctx
{
  const struct spec_process *p;
  void *filter;
  int ns_fds[16];
  int ns_types[16];
  size_t n_ns;
  int sync_parent, sync_child;
  const int *stdio; /* NULL: inherit ours */
};

static int
child_setup (struct exec_ctx *c, char **exe, skiff_error_t *err)
{
  size_t i;
  if (sync_expect (c->sync_child, SYNC_GO, NULL, err) < 0)
    return -1;
  for (i = 0; i < c->n_ns; i++)
    {
      if (c->ns_types[i] == CLONE_NEWPID)
        continue;
      if (setns (c->ns_fds[i], c->ns_types[i]) < 0)
        return skiff_error_make (err, errno, "join the container's %s namespace", ns_proc_name (c->ns_types[i]));
    }
  if (c->p->terminal)
    {
      cleanup_free char *slave = NULL;
      int master;
      if (terminal_new_pty (&master, &slave, err) < 0)
        return -1;
      if (sync_send (c->sync_child, SYNC_PTY, master, err) < 0)
        return -1;
      close (master);
      if (terminal_setup_slave (slave, false, c->p->console_height, c->p->console_width, err) < 0)
        return -1;
    }
  return process_find_executable (c->p, exe, err);
}

static void __attribute__ ((noreturn))
exec_child (struct exec_ctx *c)
{
  skiff_error_t err = NULL;
  cleanup_free char *exe = NULL;
  sigset_t none;
  int i;

  for (i = 1; i < NSIG; i++)
    signal (i, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  close (c->sync_parent);
  if (c->stdio)
    for (i = 0; i < 3; i++)
      if (c->stdio[i] != i && dup2 (c->stdio[i], i) < 0)
        _exit (1);
  if (child_setup (c, &exe, &err) < 0)
    {
      sync_send_error (c->sync_child, &err);
      _exit (1);
    }
  if (sync_send (c->sync_child, SYNC_READY, -1, &err) < 0)
    _exit (1);
  close (c->sync_child);
  process_exec (c->p, exe, c->filter, &err);
  i = err && err->errno_ == ENOENT ? 127 : 126;
  skiff_error_print (&err, stderr, "skiff-runtime");
  _exit (i);
}

static int
open_namespaces (pid_t pid, struct exec_ctx *c, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < ns_join_order_len; i++)
    {
      int type = ns_join_order[i];
      char path[64];
      int fd;
      if (ns_same_as_self (pid, type))
        continue;
      snprintf (path, sizeof (path), "/proc/%d/ns/%s", pid, ns_proc_name (type));
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          if (errno == ENOENT)
            continue; /* namespace type unknown to this kernel */
          return skiff_error_make (err, errno, "open `%s`", path);
        }
      c->ns_fds[c->n_ns] = fd;
      c->ns_types[c->n_ns++] = type;
    }
  return 0;
}

static int
parent_wait_ready (struct exec_ctx *c, const struct exec_opts *o, int *master, skiff_error_t *err)
{
  for (;;)
    {
      struct sync_msg m;
      int fd = -1;
      if (sync_recv (c->sync_parent, &m, &fd, err) < 0)
        return -1;
      if (m.type == SYNC_READY)
        return 0;
      if (m.type == SYNC_ERROR)
        {
          skiff_error_make (err, 0, "%s", m.text);
          (*err)->errno_ = m.errno_;
          return -1;
        }
      if (m.type != SYNC_PTY || fd < 0)
        return skiff_error_make (err, 0, "unexpected message %d from the exec process", m.type);
      if (o->console_socket)
        {
          int r = terminal_send_to_socket (o->console_socket, fd, err);
          close (fd);
          if (r < 0)
            return -1;
        }
      else
        *master = fd;
    }
}

/* keep_master: return the pty master and pid instead of relaying
   (container_exec_launch).  */
static int
exec_common (const struct exec_opts *o, bool keep_master, int *exit_status, pid_t *out_pid, int *out_master,
             skiff_error_t *err)
{
  cleanup_state struct container_state *st = NULL;
  cleanup_spec struct spec *s = NULL;
  struct exec_process e = { 0 };
  struct exec_ctx c = { .sync_parent = -1, .sync_child = -1 };
  struct cgroup *cg = NULL;
  const char *status;
  int sv[2], master = -1, ret = -1;
  cleanup_close int own_pidns = -1;
  pid_t pid = -1;
  size_t i;

  if (state_load (o->root, o->id, &st, err) < 0)
    return -1;
  status = state_status (o->root, st);
  if (strcmp (status, "running") != 0 && strcmp (status, "created") != 0)
    return skiff_error_make (err, 0, "cannot exec in a %s container", status);
  if (container_load_saved_spec (o->root, st, &s, err) < 0)
    return -1;
  if (build_process (o, s, &e, err) < 0)
    goto out;
  c.p = &e.p;
  c.stdio = o->set_stdio ? o->stdio : NULL;
  if (e.p.terminal && o->console_socket == NULL && o->detach && !keep_master)
    {
      skiff_error_make (err, 0, "--tty with --detach needs --console-socket");
      goto out;
    }
  if (s->seccomp && seccomp_cache_build (s->seccomp, o->root, &c.filter, err) < 0)
    goto out;
  if (open_namespaces (st->pid, &c, err) < 0)
    goto out;
  if (st->cgroup_path && cgroup_open (st->cgroup_path, &cg, err) < 0)
    goto out;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      skiff_error_make (err, errno, "socketpair");
      goto out;
    }
  c.sync_parent = sv[0];
  c.sync_child = sv[1];
  /* Joining a pid namespace affects only the children forked after it:
     join for the fork, then go back, so that a long-lived caller (the
     shim) forks nothing else into the container.  */
  own_pidns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (own_pidns < 0)
    {
      skiff_error_make (err, errno, "open `/proc/self/ns/pid`");
      goto out;
    }
  for (i = 0; i < c.n_ns; i++)
    if (c.ns_types[i] == CLONE_NEWPID && setns (c.ns_fds[i], CLONE_NEWPID) < 0)
      {
        skiff_error_make (err, errno, "join the container's pid namespace");
        goto out;
      }
  if (!o->detach && !keep_master && supervise_block_signals (err) < 0)
    goto out;

  pid = fork ();
  if (pid == 0)
    exec_child (&c);
  if (setns (own_pidns, CLONE_NEWPID) < 0 && pid > 0)
    {
      skiff_error_make (err, errno, "return to our pid namespace");
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      goto out;
    }
  if (pid < 0)
    {
      skiff_error_make (err, errno, "fork");
      goto out;
    }
  close (c.sync_child);
  c.sync_child = -1;

  if ((cg && cgroup_enter (cg, pid, err) < 0) || sync_send (c.sync_parent, SYNC_GO, -1, err) < 0
      || parent_wait_ready (&c, o, &master, err) < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      goto out;
    }
  if (container_write_pid_file (o->pid_file, pid, err) < 0)
    goto out;
  if (keep_master)
    {
      *out_pid = pid;
      *out_master = master;
      master = -1;
      ret = 0;
    }
  else if (o->detach)
    {
      *exit_status = 0;
      ret = 0;
    }
  else
    ret = supervise_wait (pid, master, exit_status, err);

out:
  if (master >= 0)
    close (master);
  for (i = 0; i < c.n_ns; i++)
    close (c.ns_fds[i]);
  if (c.sync_parent >= 0)
    close (c.sync_parent);
  if (c.sync_child >= 0)
    close (c.sync_child);
  if (c.filter)
    syscall_filter_free (c.filter);
  if (cg)
    cgroup_free (cg);
  exec_process_release (&e);
  return ret;
}

int
container_exec (const struct exec_opts *o, int *exit_status, skiff_error_t *err)
{
  return exec_common (o, false, exit_status, NULL, NULL, err);
}

int
container_exec_launch (const struct exec_opts *o, pid_t *pid, int *master, skiff_error_t *err)
{
  int status;
  *pid = -1;
  *master = -1;
  return exec_common (o, true, &status, pid, master, err);
}
