/* ps: the processes of a container, through the system's ps(1) filtered
   by the container's cgroup (as runc does), or as a JSON array of pids. */
#include "cli.h"
#include "cleanup.h"
#include "container.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char ps_usage[] = "[-f table|json] ID [PS-OPTIONS...]";

static bool
has_pid (const pid_t *pids, size_t n, pid_t p)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (pids[i] == p)
      return true;
  return false;
}

/* Index of the PID column in a ps header line.  */
static int
pid_column (const char *header)
{
  cleanup_free char *copy = strdup (header);
  char *tok, *save = NULL;
  int col = 0;
  for (tok = strtok_r (copy, " \t\n", &save); tok; tok = strtok_r (NULL, " \t\n", &save), col++)
    if (strcmp (tok, "PID") == 0)
      return col;
  return -1;
}

static long
column_value (const char *line, int col)
{
  cleanup_free char *copy = strdup (line);
  char *tok, *save = NULL;
  int i = 0;
  for (tok = strtok_r (copy, " \t\n", &save); tok; tok = strtok_r (NULL, " \t\n", &save), i++)
    if (i == col)
      return strtol (tok, NULL, 10);
  return -1;
}

int
cmd_ps (struct cli_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  const char *format = "table";
  cleanup_free pid_t *pids = NULL;
  skiff_error_t err = NULL;
  size_t n = 0, i;
  int c;

  while ((c = getopt_long (argc, argv, "+f:", opts, NULL)) != -1)
    {
      if (c != 'f')
        return cli_usage ("ps", ps_usage, "invalid option");
      format = optarg;
    }
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return cli_usage ("ps", ps_usage, "invalid format `%s`", format);
  if (optind >= argc)
    return cli_usage ("ps", ps_usage, "missing container id");
  if (container_pids (g->root, argv[optind], &pids, &n, &err) < 0)
    return cli_fail (&err);

  if (strcmp (format, "json") == 0)
    {
      printf ("[");
      for (i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", pids[i]);
      printf ("]\n");
      return 0;
    }

  {
    int pfd[2], col, status;
    pid_t child;
    cleanup_file FILE *f = NULL;
    cleanup_free char *line = NULL;
    size_t cap = 0;
    char **ps_argv = calloc (argc - optind + 2, sizeof (char *));
    int k = 0;

    if (ps_argv == NULL || pipe (pfd) < 0)
      return 1;
    ps_argv[k++] = (char *) "ps";
    if (argc - optind - 1 == 0)
      ps_argv[k++] = (char *) "-ef";
    for (i = optind + 1; (int) i < argc; i++)
      ps_argv[k++] = argv[i];
    ps_argv[k] = NULL;
    child = fork ();
    if (child == 0)
      {
        dup2 (pfd[1], 1);
        close (pfd[0]);
        close (pfd[1]);
        execvp ("ps", ps_argv);
        fprintf (stderr, "skiff-runtime ps: exec ps: %s\n", strerror (errno));
        _exit (127);
      }
    free (ps_argv);
    close (pfd[1]);
    if (child < 0)
      {
        close (pfd[0]);
        return 1;
      }
    f = fdopen (pfd[0], "r");
    if (f == NULL || getline (&line, &cap, f) <= 0)
      {
        waitpid (child, &status, 0);
        fprintf (stderr, "skiff-runtime ps: no output from ps\n");
        return 1;
      }
    col = pid_column (line);
    if (col < 0)
      {
        waitpid (child, &status, 0);
        fprintf (stderr, "skiff-runtime ps: the ps output has no PID column\n");
        return 1;
      }
    fputs (line, stdout);
    while (getline (&line, &cap, f) > 0)
      if (has_pid (pids, n, column_value (line, col)))
        fputs (line, stdout);
    waitpid (child, &status, 0);
  }
  return 0;
}
