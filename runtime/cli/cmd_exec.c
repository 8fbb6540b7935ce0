#include "cli.h"
#include "container.h"

#include <getopt.h>
#include <stdlib.h>

static const char exec_usage[] = "[--console-socket PATH] [--cwd DIR] [-e K=V] [-t] [-u UID[:GID]] [-g GID] "
                                 "[-p FILE] [-d] [--pid-file PATH] [-c CAP] [--no-new-privs] ID [COMMAND [ARG...]]";

static int
push (char ***v, size_t *n, char *s)
{
  char **nv = realloc (*v, (*n + 2) * sizeof (char *));
  if (nv == NULL)
    return -1;
  nv[(*n)++] = s;
  nv[*n] = NULL;
  *v = nv;
  return 0;
}

int
cmd_exec (struct cli_global *g, int argc, char **argv)
{
  enum
  {
    OPT_CONSOLE = 256,
    OPT_CWD,
    OPT_PID_FILE,
    OPT_NO_NEW_PRIVS,
  };
  static const struct option opts[] = {
    { "console-socket", required_argument, NULL, OPT_CONSOLE },
    { "cwd", required_argument, NULL, OPT_CWD },
    { "env", required_argument, NULL, 'e' },
    { "tty", no_argument, NULL, 't' },
    { "user", required_argument, NULL, 'u' },
    { "additional-gids", required_argument, NULL, 'g' },
    { "process", required_argument, NULL, 'p' },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "cap", required_argument, NULL, 'c' },
    { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
    { NULL, 0, NULL, 0 },
  };
  struct exec_opts o = { .root = g->root };
  skiff_error_t err = NULL;
  int c, status = 0, ret;
  gid_t *gids = NULL;

  while ((c = getopt_long (argc, argv, "+e:tu:g:p:dc:", opts, NULL)) != -1)
    {
      switch (c)
        {
        case OPT_CONSOLE:
          o.console_socket = optarg;
          break;
        case OPT_CWD:
          o.cwd = optarg;
          break;
        case 'e':
          if (push (&o.env, &o.n_env, optarg) < 0)
            return 1;
          break;
        case 't':
          o.tty = true;
          break;
        case 'u':
          o.user = optarg;
          break;
        case 'g':
          {
            char *end;
            unsigned long v = strtoul (optarg, &end, 10);
            gid_t *ng;
            if (*optarg == '\0' || *end != '\0')
              return cli_usage ("exec", exec_usage, "invalid --additional-gids `%s`", optarg);
            ng = realloc (gids, (o.n_additional_gids + 1) * sizeof (gid_t));
            if (ng == NULL)
              return 1;
            gids = ng;
            gids[o.n_additional_gids++] = v;
            o.additional_gids = gids;
          }
          break;
        case 'p':
          o.process_file = optarg;
          break;
        case 'd':
          o.detach = true;
          break;
        case OPT_PID_FILE:
          o.pid_file = optarg;
          break;
        case 'c':
          if (push (&o.caps, &o.n_caps, optarg) < 0)
            return 1;
          break;
        case OPT_NO_NEW_PRIVS:
          o.no_new_privs = true;
          break;
        default:
          return cli_usage ("exec", exec_usage, "invalid option");
        }
    }
  if (optind >= argc)
    return cli_usage ("exec", exec_usage, "missing container id");
  o.id = argv[optind];
  o.args = argv + optind + 1;
  o.n_args = argc - optind - 1;
  if (o.n_args == 0 && o.process_file == NULL)
    return cli_usage ("exec", exec_usage, "missing command");

  ret = container_exec (&o, &status, &err);
  free (o.env);
  free (o.caps);
  free (gids);
  if (ret < 0)
    return cli_fail (&err);
  return status;
}
