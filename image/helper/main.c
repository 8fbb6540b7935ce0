/* skiff-image: runs one image operation for skiffd and exits (helper.h).
   skiffd starts one per pull, push, login, load, import and save, so that
   libcurl, libarchive and libcrypto live only as long as the operation.  */
#include "helper.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "registry.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"

#define RESULT_FD 3
#define SERVER_FD 4

static const struct
{
  const char *name;
  helper_cmd_fn fn;
  bool store; /* joins the image store */
} commands[] = {
  { "pull", cmd_pull, true },     { "push", cmd_push, true }, { "login", cmd_login, false },
  { "load", cmd_load, true },     { "import", cmd_import, true }, { "save", cmd_save, true },
};

static void
usage (FILE *f)
{
  fprintf (f, "Usage: skiff-image [OPTIONS] COMMAND [ARGS]\n\n"
              "Runs one image operation on skiffd's image store; skiffd starts it.\n\n"
              "Commands:\n"
              "  pull [--platform OS/ARCH[/VARIANT]] REFERENCE   stdin: X-Registry-Auth value\n"
              "  push NAME [TAG]                                 stdin: X-Registry-Auth value\n"
              "  login                                           stdin: {\"serveraddress\",\"username\",\"password\"}\n"
              "  load                                            stdin: docker-archive\n"
              "  import [--tag REPO[:TAG]] [--change INSTR]... [--message TEXT]   stdin: rootfs tarball\n"
              "  save NAME...                                    stdout: docker-archive\n\n"
              "Options:\n"
              "      --root DIR                skiffd's --root (default /var/lib/skiff)\n"
              "      --registry-mirror URL     as daemon.json's registry-mirrors (repeatable)\n"
              "      --insecure-registry HOST  as daemon.json's insecure-registries (repeatable)\n"
              "      --log-level LEVEL         error, warn, info or debug (default info)\n"
              "      --fork-server             no COMMAND: serve skiffd on fd 4, forking a process\n"
              "                                per command it sends (skiff-image(8))\n"
              "  -h, --help, -v, --version\n\n"
              "Pull and push progress goes to stdout as Docker's JSON messages; the result\n"
              "goes to fd 3 as one JSON object when fd 3 is open, else errors to stderr.\n");
}

int
helper_operands (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "--") == 0)
    return 2;
  if (argc > 1 && argv[1][0] == '-')
    return -1;
  return 1;
}

static const char *
error_kind (int ret)
{
  switch (ret)
    {
    case IMAGE_ERR_INVALID:
      return "invalid";
    case IMAGE_ERR_NOT_FOUND:
      return "not_found";
    case IMAGE_ERR_CONFLICT:
      return "conflict";
    case REGISTRY_ERR_DENIED:
      return "denied";
    default:
      return "failed";
    }
}

/* Adds repeated option values to a NULL-terminated list.  */
static int
push_value (const char ***v, size_t *n, const char *value)
{
  const char **grown = realloc (*v, (*n + 2) * sizeof (char *));
  if (grown == NULL)
    return -1;
  grown[(*n)++] = value;
  grown[*n] = NULL;
  *v = grown;
  return 0;
}

/* Runs the command argv[0] with its arguments and writes its result on
   result_fd (-1: errors to stderr).  Returns the exit status.  */
static int
run_command (const struct helper *base, int argc, char **argv, int result_fd)
{
  cleanup_gen yajl_gen result = json_gen_new (false);
  cleanup_free char *staging = NULL;
  cleanup_free char *text = NULL;
  struct helper h = *base;
  skiff_error_t err = NULL;
  size_t i, len = 0;
  int ret = IMAGE_ERR;

  for (i = 0; i < sizeof (commands) / sizeof (commands[0]); i++)
    if (strcmp (commands[i].name, argv[0]) == 0)
      break;
  if (i == sizeof (commands) / sizeof (commands[0]))
    {
      fprintf (stderr, "skiff-image: unknown command `%s`\n", argv[0]);
      usage (stderr);
      return 1;
    }
  if (result == NULL)
    return 1;
  h.result = result;
  yajl_gen_map_open (result);
  /* The staging directory's name tells skiffd what to remove if this
     process is killed (image_store_remove_staging).  */
  if (commands[i].store && asprintf (&staging, "skiff-image-%d", getpid ()) < 0)
    staging = NULL;
  if (commands[i].store && (staging == NULL || image_store_join (h.root, staging, &h.store, &err) < 0))
    {
      if (err == NULL)
        skiff_error_make (&err, ENOMEM, "open the image store");
    }
  else
    ret = commands[i].fn (&h, argc, argv, &err);
  image_store_free (h.store);

  if (ret < 0 && err == NULL)
    skiff_error_make (&err, 0, "%s failed", argv[0]);
  json_gen_kv_bool (result, "ok", ret >= 0);
  if (ret < 0)
    {
      json_gen_kv_str (result, "kind", error_kind (ret));
      json_gen_kv_str (result, "message", err->msg);
    }
  yajl_gen_map_close (result);
  text = json_gen_steal (result, &len);
  if (result_fd >= 0 && (text == NULL || fs_write_all (result_fd, text, len) < 0))
    return 1;
  if (ret < 0 && result_fd < 0)
    fprintf (stderr, "skiff-image: %s\n", err->msg);
  skiff_error_release (&err);
  return ret < 0 ? 1 : 0;
}

/* A forked process of the fork server (fork_server.c): fds 0, 1 and 3 are
   its operation's.  */
static int
run_forked (int argc, char **argv, void *data)
{
  return run_command (data, argc, argv, RESULT_FD);
}

int
main (int argc, char **argv)
{
  enum
  {
    OPT_ROOT = 256,
    OPT_MIRROR,
    OPT_INSECURE,
    OPT_LOG_LEVEL,
    OPT_FORK_SERVER,
  };
  static const struct option opts[] = {
    { "root", required_argument, NULL, OPT_ROOT },
    { "registry-mirror", required_argument, NULL, OPT_MIRROR },
    { "insecure-registry", required_argument, NULL, OPT_INSECURE },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "fork-server", no_argument, NULL, OPT_FORK_SERVER },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  /* Checked before anything is opened: a later open could take fd 3.  */
  int result_fd = fcntl (RESULT_FD, F_SETFD, FD_CLOEXEC) == 0 ? RESULT_FD : -1;
  int server_fd = fcntl (SERVER_FD, F_SETFD, FD_CLOEXEC) == 0 ? SERVER_FD : -1;
  cleanup_free const char **mirrors = NULL;
  cleanup_free const char **insecure = NULL;
  struct helper h = { .root = "/var/lib/skiff" };
  skiff_error_t err = NULL;
  size_t n_mirrors = 0, n_insecure = 0;
  const char *level_name = "info";
  bool fork_server = false;
  int c, level;

  /* Dies with skiffd: an orphan must not go on changing the store.  */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  signal (SIGPIPE, SIG_IGN);
  while ((c = getopt_long (argc, argv, "+hv", opts, NULL)) != -1)
    switch (c)
      {
      case OPT_ROOT:
        h.root = optarg;
        break;
      case OPT_MIRROR:
        if (push_value (&mirrors, &n_mirrors, optarg) < 0)
          return 1;
        break;
      case OPT_INSECURE:
        if (push_value (&insecure, &n_insecure, optarg) < 0)
          return 1;
        break;
      case OPT_LOG_LEVEL:
        level_name = optarg;
        break;
      case OPT_FORK_SERVER:
        fork_server = true;
        break;
      case 'h':
        usage (stdout);
        return 0;
      case 'v':
        printf ("skiff-image version %s\n", PACKAGE_VERSION);
        return 0;
      default:
        usage (stderr);
        return 1;
      }
  level = skiff_log_level_from_name (level_name);
  if (level < 0 || (fork_server ? optind < argc : optind >= argc))
    {
      if (level < 0)
        fprintf (stderr, "skiff-image: invalid --log-level `%s`: use error, warn, info or debug\n", level_name);
      else if (fork_server)
        fprintf (stderr, "skiff-image: --fork-server takes its commands from fd %d, not from arguments\n",
                 SERVER_FD);
      usage (stderr);
      return 1;
    }
  if (skiff_log_init (NULL, false, level, &err) < 0)
    return skiff_error_print (&err, stderr, "skiff-image");
  h.mirrors = mirrors;
  h.insecure = insecure;
  if (fork_server)
    {
      if (server_fd < 0)
        {
          fprintf (stderr, "skiff-image: --fork-server: fd %d is not open\n", SERVER_FD);
          return 1;
        }
      if (helper_fork_server (server_fd, run_forked, &h, &err) < 0)
        return skiff_error_print (&err, stderr, "skiff-image");
      return 0;
    }
  c = run_command (&h, argc - optind, argv + optind, result_fd);
  /* Without the libraries' exit handlers, which only free memory and
     would keep skiffd waiting for this process's end a few ms longer.  */
  fflush (NULL);
  _exit (c);
}
