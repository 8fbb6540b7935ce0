/* skiffd: the skiff daemon.  One libuv loop serving the Docker Engine API
   (v1.41 subset) on a unix socket.  */
#include "api.h"
#include "cleanup.h"
#include "config_file.h"
#include "containers.h"
#include "daemon.h"
#include "events.h"
#include "fs.h"
#include "http.h"
#include "image_server.h"
#include "log.h"
#include "memory.h"
#include "networks.h"
#include "router.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#ifndef SKIFF_SHIM_PATH
#define SKIFF_SHIM_PATH "/usr/bin/skiff-shim"
#endif
#ifndef SKIFF_INIT_PATH
#define SKIFF_INIT_PATH "/usr/libexec/skiff/skiff-init"
#endif
#ifndef SKIFF_IMAGE_HELPER_PATH
#define SKIFF_IMAGE_HELPER_PATH "/usr/libexec/skiff/skiff-image"
#endif
#ifndef SKIFF_SECCOMP_PATH
#define SKIFF_SECCOMP_PATH "/usr/share/skiff/seccomp-default.json"
#endif

static void
usage (FILE *f)
{
  fprintf (f, "Usage: skiffd [OPTIONS]\n\n"
              "The skiff container engine daemon (Docker Engine API v1.41 subset).\n\n"
              "Options:\n"
              "  -H, --host unix://PATH     API socket (default unix:///run/skiff/skiff.sock)\n"
              "      --root DIR             persistent state (default /var/lib/skiff)\n"
              "      --exec-root DIR        runtime state (default /run/skiff)\n"
              "      --pidfile FILE         pid file (default <exec-root>/skiffd.pid)\n"
              "      --config-file FILE     daemon configuration (default /etc/skiff/daemon.json)\n"
              "      --log-level LEVEL      error, warn, info or debug (default info)\n"
              "      --shim PATH            skiff-shim program (default " SKIFF_SHIM_PATH ")\n"
              "      --init-path PATH       init for --init (default " SKIFF_INIT_PATH ")\n"
              "      --image-helper PATH    skiff-image program, which runs pulls, pushes, logins,\n"
              "                             loads, imports and saves (default " SKIFF_IMAGE_HELPER_PATH ")\n"
              "      --image-helper-idle SECONDS\n"
              "                             how long skiff-image's fork server waits for the next\n"
              "                             image operation (default 30; 0: no fork server, a\n"
              "                             skiff-image is started for each operation)\n"
              "      --seccomp-profile FILE default seccomp profile (default " SKIFF_SECCOMP_PATH ")\n"
              "  -h, --help, -v, --version\n");
}

/* Seconds skiff-image's fork server waits for the next operation
   (image_server.h): a burst of image operations (a script pulling several
   images, a pull then a push) pays for loading its libraries once; an
   idle daemon has no such process after that long.  */
#define IMAGE_HELPER_IDLE_DEFAULT 30

static int
parse_seconds (const char *s, unsigned *out)
{
  int end = -1;

  if (s[0] < '0' || s[0] > '9' || sscanf (s, "%u%n", out, &end) != 1 || s[end] != '\0' || *out > 86400)
    return -1;
  return 0;
}

/* $SKIFF_IMAGE_HELPER, else the installed skiff-image, else the one
   beside this skiffd (a build tree run without --image-helper).  */
static const char *
default_image_helper (char **buf)
{
  char self[PATH_MAX];
  ssize_t n;
  char *slash;

  if (getenv ("SKIFF_IMAGE_HELPER"))
    return getenv ("SKIFF_IMAGE_HELPER");
  if (access (SKIFF_IMAGE_HELPER_PATH, X_OK) == 0)
    return SKIFF_IMAGE_HELPER_PATH;
  n = readlink ("/proc/self/exe", self, sizeof (self) - 1);
  if (n <= 0)
    return SKIFF_IMAGE_HELPER_PATH;
  self[n] = '\0';
  slash = strrchr (self, '/');
  if (slash == NULL || asprintf (buf, "%.*s/skiff-image", (int) (slash - self), self) < 0)
    {
      *buf = NULL;
      return SKIFF_IMAGE_HELPER_PATH;
    }
  return access (*buf, X_OK) == 0 ? *buf : SKIFF_IMAGE_HELPER_PATH;
}

/* Whether pid is a live process: a killed daemon that its parent has not
   reaped yet (a zombie) is not.  */
static bool
pid_running (pid_t pid)
{
  cleanup_free char *stat = NULL, *path = NULL;
  const char *end;

  if (kill (pid, 0) < 0)
    return false;
  if (asprintf (&path, "/proc/%d/stat", (int) pid) < 0 || fs_read_file (path, &stat, NULL, NULL) < 0)
    return true;
  /* "pid (comm) state ...": comm may hold anything, the last ')' ends it */
  end = strrchr (stat, ')');
  return !(end && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X'));
}

/* Refuses to run beside a live daemon with the same pid file.  */
static int
write_pidfile (const char *path, skiff_error_t *err)
{
  cleanup_free char *old = NULL;
  char buf[32];
  if (fs_read_file (path, &old, NULL, NULL) == 0)
    {
      pid_t pid = atoi (old);
      if (pid > 0 && pid != getpid () && pid_running (pid))
        return skiff_error_make (err, 0, "pid file `%s` says skiffd is running as pid %d", path, pid);
    }
  snprintf (buf, sizeof (buf), "%d\n", getpid ());
  return fs_write_file_atomic (path, buf, strlen (buf), 0644, err);
}


static void
server_closed (void *arg)
{
  struct daemon *d = arg;
  d->http = NULL;
  uv_stop (d->loop);
}

static void
on_signal (uv_signal_t *s, int signum)
{
  struct daemon *d = s->data;
  if (d->shutting_down)
    return;
  d->shutting_down = true;
  log_info ("signal %d: shutting down (containers keep running)", signum);
  events_close_all (d->events);
  image_server_stop (d);
  uv_signal_stop (&d->sigterm);
  uv_signal_stop (&d->sigint);
  uv_signal_stop (&d->sighup);
  if (d->http)
    http_server_close (d->http, server_closed, d);
  else
    uv_stop (d->loop);
}

static void
on_hup (uv_signal_t *s, int signum)
{
  log_info ("SIGHUP: nothing to reload");
}

static int
setup (struct daemon *d, skiff_error_t *err)
{
  gid_t gid = (gid_t) -1;
  struct group *gr;
  char host[256];

  if (gethostname (host, sizeof (host)) == 0)
    {
      host[sizeof (host) - 1] = '\0';
      d->hostname = strdup (host);
    }
  if (fs_mkdir_p (d->opts.root, 0711, err) < 0 || fs_mkdir_p (d->opts.exec_root, 0711, err) < 0)
    return -1;
  if (asprintf (&d->runtime_root, "%s/runtime", d->opts.exec_root) < 0)
    return skiff_error_make (err, ENOMEM, "setup");
  if (write_pidfile (d->opts.pidfile, err) < 0)
    return -1;
  if (image_store_open (d->opts.root, &d->images, err) < 0)
    return -1;
  if (networks_init (d, err) < 0)
    return -1;
  d->events = events_new (d->loop);
  d->router = router_new (d);
  if (d->events == NULL || d->router == NULL)
    return skiff_error_make (err, ENOMEM, "setup");
  if (api_system_register (d->router, err) < 0 || api_images_register (d->router, err) < 0
      || api_containers_register (d->router, err) < 0 || api_exec_register (d->router, err) < 0
      || api_networks_register (d->router, err) < 0 || api_image_prune_register (d->router, err) < 0)
    return -1;
  if (containers_restore (d, err) < 0)
    return -1;
  networks_refresh_rules (d);
  gr = getgrnam ("skiff");
  if (gr)
    gid = gr->gr_gid;
  if (http_server_listen (d->loop, d->socket_path, 0660, gid, router_dispatch, d->router, &d->http, err) < 0)
    return -1;
  uv_signal_init (d->loop, &d->sigterm);
  uv_signal_init (d->loop, &d->sigint);
  d->sigterm.data = d->sigint.data = d;
  uv_signal_start (&d->sigterm, on_signal, SIGTERM);
  uv_signal_start (&d->sigint, on_signal, SIGINT);
  /* dockerd reloads its configuration on SIGHUP; skiffd has nothing it can
     reload yet, but a HUP must not kill it.  */
  uv_signal_init (d->loop, &d->sighup);
  uv_signal_start (&d->sighup, on_hup, SIGHUP);
  return 0;
}

int
main (int argc, char **argv)
{
  enum
  {
    OPT_ROOT = 256,
    OPT_EXEC_ROOT,
    OPT_PIDFILE,
    OPT_CONFIG,
    OPT_LOG_LEVEL,
    OPT_SHIM,
    OPT_INIT,
    OPT_IMAGE_HELPER,
    OPT_IMAGE_HELPER_IDLE,
    OPT_SECCOMP,
  };
  static const struct option opts[] = {
    { "host", required_argument, NULL, 'H' },
    { "root", required_argument, NULL, OPT_ROOT },
    { "data-root", required_argument, NULL, OPT_ROOT },
    { "exec-root", required_argument, NULL, OPT_EXEC_ROOT },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "config-file", required_argument, NULL, OPT_CONFIG },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "shim", required_argument, NULL, OPT_SHIM },
    { "init-path", required_argument, NULL, OPT_INIT },
    { "image-helper", required_argument, NULL, OPT_IMAGE_HELPER },
    { "image-helper-idle", required_argument, NULL, OPT_IMAGE_HELPER_IDLE },
    { "seccomp-profile", required_argument, NULL, OPT_SECCOMP },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  struct daemon d = { 0 };
  struct daemon_config cfg = { 0 };
  skiff_error_t err = NULL;
  bool config_given = false;
  cleanup_free char *pidfile = NULL;
  cleanup_free char *image_helper = NULL;
  const char *host;
  int c, level;

  d.opts.config_file = "/etc/skiff/daemon.json";
  d.opts.image_helper_idle = IMAGE_HELPER_IDLE_DEFAULT;
  while ((c = getopt_long (argc, argv, "H:hv", opts, NULL)) != -1)
    {
      switch (c)
        {
        case 'H':
          d.opts.host = optarg;
          break;
        case OPT_ROOT:
          d.opts.root = optarg;
          break;
        case OPT_EXEC_ROOT:
          d.opts.exec_root = optarg;
          break;
        case OPT_PIDFILE:
          d.opts.pidfile = optarg;
          break;
        case OPT_CONFIG:
          d.opts.config_file = optarg;
          config_given = true;
          break;
        case OPT_LOG_LEVEL:
          d.opts.log_level = optarg;
          break;
        case OPT_SHIM:
          d.opts.shim_path = optarg;
          break;
        case OPT_INIT:
          d.opts.init_path = optarg;
          break;
        case OPT_IMAGE_HELPER:
          d.opts.image_helper_path = optarg;
          break;
        case OPT_IMAGE_HELPER_IDLE:
          if (parse_seconds (optarg, &d.opts.image_helper_idle) < 0)
            {
              fprintf (stderr, "skiffd: invalid --image-helper-idle `%s`: give whole seconds, 0 to 86400\n", optarg);
              return 1;
            }
          break;
        case OPT_SECCOMP:
          d.opts.seccomp_profile = optarg;
          break;
        case 'h':
          usage (stdout);
          return 0;
        case 'v':
          printf ("skiffd version %s, API %s\n", PACKAGE_VERSION, HTTP_API_VERSION);
          return 0;
        default:
          usage (stderr);
          return 1;
        }
    }
  if (optind < argc)
    {
      fprintf (stderr, "skiffd: unexpected argument `%s`\n", argv[optind]);
      usage (stderr);
      return 1;
    }
  if (daemon_config_load (d.opts.config_file, config_given, &cfg, &err) < 0)
    return skiff_error_print (&err, stderr, "skiffd");
  d.registry_mirrors = steal_pointer (&cfg.registry_mirrors);
  d.insecure_registries = steal_pointer (&cfg.insecure_registries);
  d.dns = steal_pointer (&cfg.dns);
  if (d.opts.root == NULL)
    d.opts.root = cfg.data_root ? cfg.data_root : "/var/lib/skiff";
  if (d.opts.exec_root == NULL)
    d.opts.exec_root = cfg.exec_root ? cfg.exec_root : "/run/skiff";
  if (d.opts.log_level == NULL)
    d.opts.log_level = cfg.log_level ? cfg.log_level : "info";
  if (d.opts.shim_path == NULL)
    d.opts.shim_path = getenv ("SKIFF_SHIM") ? getenv ("SKIFF_SHIM") : SKIFF_SHIM_PATH;
  if (d.opts.init_path == NULL)
    d.opts.init_path = getenv ("SKIFF_INIT") ? getenv ("SKIFF_INIT") : SKIFF_INIT_PATH;
  if (d.opts.image_helper_path == NULL)
    d.opts.image_helper_path = default_image_helper (&image_helper);
  if (d.opts.seccomp_profile == NULL)
    d.opts.seccomp_profile = getenv ("SKIFF_SECCOMP_PROFILE") ? getenv ("SKIFF_SECCOMP_PROFILE") : SKIFF_SECCOMP_PATH;
  if (d.opts.pidfile == NULL)
    {
      if (cfg.pidfile)
        d.opts.pidfile = cfg.pidfile;
      else if (asprintf (&pidfile, "%s/skiffd.pid", d.opts.exec_root) >= 0)
        d.opts.pidfile = pidfile;
    }
  host = d.opts.host ? d.opts.host : cfg.host;
  if (host == NULL)
    {
      if (asprintf (&d.socket_path, "%s/skiff.sock", "/run/skiff") < 0)
        return 1;
    }
  else if (strncmp (host, "unix://", 7) == 0)
    d.socket_path = strdup (host + 7);
  else
    {
      fprintf (stderr, "skiffd: unsupported host `%s`: only unix:// sockets are served\n", host);
      return 1;
    }
  level = skiff_log_level_from_name (d.opts.log_level);
  if (level < 0)
    {
      fprintf (stderr, "skiffd: invalid --log-level `%s`: use error, warn, info or debug\n", d.opts.log_level);
      return 1;
    }
  if (skiff_log_init (NULL, false, level, &err) < 0)
    return skiff_error_print (&err, stderr, "skiffd");

  signal (SIGPIPE, SIG_IGN);
  d.loop = uv_default_loop ();
  memory_init (d.loop);
  if (setup (&d, &err) < 0)
    return skiff_error_print (&err, stderr, "skiffd");
  log_info ("skiffd %s listening on %s", PACKAGE_VERSION, d.socket_path);
  uv_run (d.loop, UV_RUN_DEFAULT);
  unlink (d.opts.pidfile);
  daemon_config_release (&cfg);
  return 0;
}
