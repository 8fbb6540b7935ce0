/* Starting a container: in the thread pool, mount its rootfs, make its
   sandbox, write the OCI bundle and spawn skiff-shim; back on the loop,
   record the new state and watch the shim.  */
#include "cleanup.h"
#include "containers.h"
#include "containers_internal.h"
#include "ctr_dns.h"
#include "ctr_endpoints.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "netlink.h"
#include "networks.h"
#include "ports.h"
#include "oci_spec.h"
#include "sandbox.h"
#include "shim_proto.h"
#include "state.h"
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SHIM_READY_TIMEOUT_MS 60000

struct start_job
{
  uv_work_t work;
  struct ctr *c;
  ctr_done_fn done;
  void *data;
  /* inputs, copied on the loop thread */
  struct image_store *images;
  char *id, *image_id, *config, *host_config;
  char *hosts, *hostname_path, *resolv, *log_path;
  char *bundle, *shim_dir, *netns, *runtime_root, *shim_path, *seccomp, *init_path;
  /* interfaces on bridge networks (host_ifname filled in by the work) */
  struct ep_plan plan;
  char *ports;      /* published ports (Ports JSON) or NULL */
  char **dns;       /* name servers for resolv.conf */
  char **dns_search, **dns_options; /* HostConfig.DnsSearch, DnsOptions */
  bool embedded_dns; /* resolv.conf names 127.0.0.11 */
  /* outputs */
  int pid;
  skiff_error_t err;
};

static void
start_job_free (struct start_job *j)
{
  free (j->id);
  free (j->image_id);
  free (j->config);
  free (j->host_config);
  free (j->hosts);
  free (j->hostname_path);
  free (j->resolv);
  free (j->log_path);
  free (j->bundle);
  free (j->shim_dir);
  free (j->netns);
  free (j->runtime_root);
  free (j->shim_path);
  free (j->seccomp);
  free (j->init_path);
  endpoints_plan_free (&j->plan);
  free (j->ports);
  cleanup_strvp (&j->dns);
  cleanup_strvp (&j->dns_search);
  cleanup_strvp (&j->dns_options);
  skiff_error_release (&j->err);
  free (j);
}

/* Spawns the shim and reads its ready line: "ok PID" or "error MSG".  */
static int
spawn_shim (struct start_job *j, bool open_stdin, bool stdin_once, const char *rootfs, skiff_error_t *err)
{
  int ready[2], status, r;
  pid_t pid;
  char line[2048];
  size_t used = 0;
  posix_spawn_file_actions_t fa;
  char *argv[20];
  int n = 0;

  if (pipe2 (ready, O_CLOEXEC) < 0)
    return skiff_error_make (err, errno, "pipe");
  argv[n++] = j->shim_path;
  argv[n++] = (char *) "--id";
  argv[n++] = j->id;
  argv[n++] = (char *) "--bundle";
  argv[n++] = j->bundle;
  argv[n++] = (char *) "--runtime-root";
  argv[n++] = j->runtime_root;
  argv[n++] = (char *) "--state-dir";
  argv[n++] = j->shim_dir;
  argv[n++] = (char *) "--log";
  argv[n++] = j->log_path;
  argv[n++] = (char *) "--rootfs-mount";
  argv[n++] = (char *) rootfs;
  /* The process runs once waiting attach clients are in place.  */
  argv[n++] = (char *) "--no-start";
  if (open_stdin)
    argv[n++] = (char *) "--stdin";
  if (open_stdin && stdin_once)
    argv[n++] = (char *) "--stdin-once";
  argv[n] = NULL;

  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, ready[1], 3);
  r = posix_spawn (&pid, j->shim_path, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (ready[1]);
  if (r != 0)
    {
      close (ready[0]);
      return skiff_error_make (err, r, "start `%s`", j->shim_path);
    }
  for (;;)
    {
      struct pollfd p = { .fd = ready[0], .events = POLLIN };
      ssize_t got;
      r = poll (&p, 1, SHIM_READY_TIMEOUT_MS);
      if (r == 0)
        {
          close (ready[0]);
          return skiff_error_make (err, 0, "skiff-shim did not report within %d s", SHIM_READY_TIMEOUT_MS / 1000);
        }
      if (r < 0 && errno == EINTR)
        continue;
      got = read (ready[0], line + used, sizeof (line) - 1 - used);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;
      used += got;
      if (memchr (line, '\n', used) || used == sizeof (line) - 1)
        break;
    }
  close (ready[0]);
  line[used] = '\0';
  /* The first process forks the shim proper and exits at once.  */
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  line[strcspn (line, "\n")] = '\0';
  if (strncmp (line, "ok ", 3) == 0)
    {
      j->pid = atoi (line + 3);
      return 0;
    }
  if (strncmp (line, "error ", 6) == 0)
    return skiff_error_make (err, 0, "%s", line + 6);
  return skiff_error_make (err, 0, "skiff-shim exited without reporting (status %d)", status);
}

static void
start_work (uv_work_t *w)
{
  struct start_job *j = w->data;
  cleanup_json yajl_val cfg = NULL, hc = NULL;
  cleanup_free char *rootfs = NULL, *spec = NULL, *config_path = NULL, *hostname = NULL;
  cleanup_nl_netns struct nl_netns *ns = NULL;
  struct oci_spec_input in = { 0 };
  const char *net;
  bool host_net, open_stdin, stdin_once, netns_made = false;
  yajl_val hn;

  if (json_parse (j->config, &cfg, &j->err) < 0 || json_parse (j->host_config, &hc, &j->err) < 0)
    return;
  net = ctr_network_mode (hc);
  host_net = strcmp (net, "host") == 0;
  hn = json_get (cfg, "Hostname");
  if (host_net)
    {
      char buf[256];
      gethostname (buf, sizeof (buf));
      buf[sizeof (buf) - 1] = '\0';
      hostname = strdup (buf);
    }
  else
    hostname = strdup (hn && YAJL_IS_STRING (hn) ? hn->u.string : j->id);

  if (image_rootfs_mount (j->images, j->image_id, j->id, &rootfs, &j->err) < 0)
    return;
  if (!host_net)
    {
      /* The thread that makes the namespace opens the socket that the
         interfaces are made with.  */
      if (sandbox_netns_create (j->netns, j->plan.n ? &ns : NULL, &j->err) < 0)
        goto undo;
      netns_made = true;
    }
  if (endpoints_plug (&j->plan, j->netns, ns, &j->err) < 0)
    goto undo;
  {
    struct sandbox_etc etc = { .hosts = j->hosts, .hostname_path = j->hostname_path, .resolv = j->resolv,
                               .hostname = hostname, .host_network = host_net,
                               .ip = j->plan.n ? j->plan.e[0].ep.ip : NULL,
                               .dns = (const char *const *) j->dns, .embedded_dns = j->embedded_dns,
                               .dns_search = (const char *const *) j->dns_search,
                               .dns_options = (const char *const *) j->dns_options };
    if (sandbox_write_etc (&etc, &j->err) < 0)
      goto undo;
  }

  in.id = j->id;
  in.config = cfg;
  in.host_config = hc;
  in.rootfs = rootfs;
  in.netns_path = host_net ? NULL : j->netns;
  in.hosts_path = j->hosts;
  in.hostname_path = j->hostname_path;
  in.resolv_conf_path = j->resolv;
  in.seccomp_default_path = j->seccomp;
  in.init_path = j->init_path;
  if (oci_spec_build (&in, &spec, &j->err) < 0)
    goto undo;
  if (fs_mkdir_p (j->bundle, 0700, &j->err) < 0 || fs_mkdir_p (j->shim_dir, 0700, &j->err) < 0)
    goto undo;
  if (asprintf (&config_path, "%s/config.json", j->bundle) < 0)
    {
      skiff_error_make (&j->err, ENOMEM, "bundle");
      goto undo;
    }
  /* The bundle is in the exec root and written at every start: no fsync. */
  if (fs_write_file_replace (config_path, spec, strlen (spec), 0600, &j->err) < 0)
    goto undo;
  /* A previous run's exit status must not be taken for this one's.  */
  {
    cleanup_free char *exit_file = NULL;
    if (asprintf (&exit_file, "%s/%s", j->shim_dir, SHIM_EXIT_NAME) >= 0)
      unlink (exit_file);
  }
  open_stdin = YAJL_IS_TRUE (json_get (cfg, "OpenStdin"));
  stdin_once = YAJL_IS_TRUE (json_get (cfg, "StdinOnce"));
  if (spawn_shim (j, open_stdin, stdin_once, rootfs, &j->err) < 0)
    goto undo;
  return;

undo:
  image_rootfs_unmount (j->images, j->id, NULL);
  endpoints_unplug (&j->plan);
  if (netns_made)
    sandbox_netns_remove (j->netns, NULL);
}

/* Docker's exit code for a process that could not be started.  */
static int
start_failure_code (const char *msg)
{
  if (strcasestr (msg, "executable file not found") || strcasestr (msg, "no such file or directory"))
    return 127;
  if (strcasestr (msg, "permission denied"))
    return 126;
  return 128;
}

static void
start_after (uv_work_t *w, int status)
{
  struct start_job *j = w->data;
  struct ctr *c = j->c;
  struct record *r = c->rec;
  skiff_error_t err = steal_pointer (&j->err);

  c->busy = false;
  if (err == NULL && status != 0)
    skiff_error_make (&err, 0, "start cancelled");
  if (err)
    {
      r->state.exit_code = start_failure_code (err->msg);
      record_set_str (&r->state.error, err->msg);
      if (strcmp (r->state.status, "restarting") == 0)
        record_set_status (r, "exited");
      containers_save (c);
      /* Docker answers 400 when the command cannot be run.  */
      err->status = r->state.exit_code == 128 ? 500 : 400;
      {
        cleanup_free char *msg = NULL;
        if (asprintf (&msg, "failed to create shim: OCI runtime create failed: %s: unknown", err->msg) >= 0)
          {
            free (err->msg);
            err->msg = steal_pointer (&msg);
          }
      }
      endpoints_plan_release (c->d, &j->plan);
      ctr_drop_pending_attaches (c);
      if (j->done)
        j->done (c, err, j->data);
      skiff_error_release (&err);
      ctr_wake_waiters (c, "next-exit");
      /* As Docker: an AutoRemove container that cannot start goes away
         (`run --rm` waits for its removal).  */
      if (c->auto_remove && !c->removed)
        containers_remove (c, true, NULL, NULL);
    }
  else
    {
      free (r->state.started_at);
      r->state.started_at = state_now_rfc3339 ();
      record_set_status (r, "running");
      r->state.pid = j->pid;
      r->state.exit_code = 0;
      r->state.oom_killed = false;
      record_set_str (&r->state.error, "");
      c->exit_seen = false;
      record_endpoints_clear (r);
      if (j->plan.n)
        {
          if (endpoints_adopt (c, &j->plan) < 0)
            log_error ("container %s: out of memory recording its endpoints", ctr_short_id (c));
          r->ports = steal_pointer (&j->ports);
          networks_refresh_rules (c->d);
        }
      containers_save (c);
      {
        skiff_error_t derr = NULL;
        if (ctr_dns_start (c, &derr) < 0)
          {
            log_warning ("container %s: embedded DNS: %s", ctr_short_id (c), derr->msg);
            skiff_error_release (&derr);
          }
      }
      ctr_monitor_connect (c);
      ctr_release_start (c);
      ctr_event (c, "start", NULL);
      /* A stop that came while a restart policy's start was under way
         wins: the container must not keep running after it.  */
      if (c->policy_start && r->manually_stopped)
        {
          skiff_error_t kerr = NULL;
          if (containers_kill (c, SIGKILL, &kerr) < 0)
            skiff_error_release (&kerr);
        }
      if (j->done)
        j->done (c, NULL, j->data);
    }
  c->policy_start = false;
  ctr_unref (c);
  start_job_free (j);
}

/* On the loop thread, where the address pools live: the interfaces, the
   published ports and the name servers of the container.  */
static int
start_networking (struct ctr *c, struct start_job *j, skiff_error_t *err)
{
  if (endpoints_plan (c, &j->plan, err) < 0)
    return -1;
  j->dns = ctr_dns_upstreams (c->d, c->rec->host_config);
  {
    cleanup_json yajl_val hc = NULL;
    if (j->dns == NULL || json_parse (c->rec->host_config ? c->rec->host_config : "{}", &hc, NULL) < 0
        || json_get_strv (hc, "DnsSearch", "DnsSearch", &j->dns_search, NULL, NULL) < 0
        || json_get_strv (hc, "DnsOptions", "DnsOptions", &j->dns_options, NULL, NULL) < 0)
      {
        endpoints_plan_release (c->d, &j->plan);
        return daemon_error (err, 500, "out of memory");
      }
  }
  if (j->plan.n == 0)
    return 0;
  {
    struct network *first = networks_find (c->d, j->plan.e[0].ep.network_id);
    j->embedded_dns = first && network_is_user_defined (first);
  }
  if (ports_resolve (c->d, c, &j->ports, err) < 0)
    {
      endpoints_plan_release (c->d, &j->plan);
      return -1;
    }
  return 0;
}

void
containers_start (struct ctr *c, ctr_done_fn done, void *data)
{
  struct daemon *d = c->d;
  struct start_job *j;
  skiff_error_t err = NULL;

  if (containers_is_running (c))
    {
      daemon_error (&err, 304, "container already started");
      done (c, err, data);
      skiff_error_release (&err);
      return;
    }
  if (c->busy)
    {
      daemon_error (&err, 409, "container %s is busy: another operation is in progress", ctr_short_id (c));
      done (c, err, data);
      skiff_error_release (&err);
      return;
    }
  j = calloc (1, sizeof (*j));
  if (j == NULL)
    {
      daemon_error (&err, 500, "out of memory");
      done (c, err, data);
      skiff_error_release (&err);
      return;
    }
  j->c = c;
  j->done = done;
  j->data = data;
  j->images = d->images;
  j->id = strdup (c->rec->id);
  j->image_id = strdup (c->rec->image_id);
  j->config = strdup (c->rec->config ? c->rec->config : "{}");
  j->host_config = strdup (c->rec->host_config ? c->rec->host_config : "{}");
  j->hosts = strdup (c->rec->hosts_path);
  j->hostname_path = strdup (c->rec->hostname_path);
  j->resolv = strdup (c->rec->resolv_conf_path);
  j->log_path = strdup (c->rec->log_path);
  j->bundle = ctr_bundle_dir (c);
  j->shim_dir = ctr_shim_dir (c);
  j->netns = ctr_netns_path (c);
  j->runtime_root = strdup (d->runtime_root);
  j->shim_path = strdup (d->opts.shim_path);
  j->seccomp = strdup (d->opts.seccomp_profile);
  j->init_path = strdup (d->opts.init_path);
  if (c->restart_timer)
    uv_timer_stop (c->restart_timer);
  /* A start by hand undoes a stop by hand, as Docker's does.  */
  if (!c->policy_start)
    c->rec->manually_stopped = false;
  if (start_networking (c, j, &err) < 0)
    {
      /* As any failed start: recorded, waiters released, and an
         AutoRemove container removed (`run --rm` waits for that).  */
      c->rec->state.exit_code = 128;
      record_set_str (&c->rec->state.error, err->msg);
      containers_save (c);
      start_job_free (j);
      ctr_drop_pending_attaches (c);
      done (c, err, data);
      skiff_error_release (&err);
      ctr_wake_waiters (c, "next-exit");
      if (c->auto_remove && !c->removed)
        containers_remove (c, true, NULL, NULL);
      return;
    }
  c->busy = true;
  ctr_ref (c);
  j->work.data = j;
  uv_queue_work (d->loop, &j->work, start_work, start_after);
}
