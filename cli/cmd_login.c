/* `skiff login` and `skiff logout`, as the docker CLI's: the daemon checks
   the credentials against the registry (POST /auth), then they are kept
   in config.json (auth_config.h) for pull, push and run.  */
#include "auth_config.h"
#include "cli.h"
#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* A line of stdin without its line end; echo off when asked on a tty.  */
static char *
read_line (bool hide)
{
  struct termios old, quiet;
  bool restore = false;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;

  if (hide && isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &old) == 0)
    {
      quiet = old;
      quiet.c_lflag &= ~ECHO;
      restore = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
  n = getline (&line, &cap, stdin);
  if (restore)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
      fputc ('\n', stderr);
    }
  if (n < 0)
    {
      free (line);
      return strdup ("");
    }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

static int
check_login (struct cli_ctx *ctx, const char *server, const char *user, const char *password, char **status,
             skiff_error_t *err)
{
  cleanup_free char *body = auth_config_json (user, password, server);
  cleanup_json yajl_val v = NULL;

  if (body == NULL)
    return skiff_error_make (err, ENOMEM, "login");
  if (client_json (&ctx->client, "POST", "/auth", body, &v, err) < 0)
    return -1;
  *status = strdup (json_str_or (json_get (v, "Status"), ""));
  return *status ? 0 : skiff_error_make (err, ENOMEM, "login");
}

int
cmd_login (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "username", required_argument, NULL, 'u' },
    { "password", required_argument, NULL, 'p' },
    { "password-stdin", no_argument, NULL, 'S' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *key = NULL;
  cleanup_free char *user = NULL;
  cleanup_free char *password = NULL;
  cleanup_free char *status = NULL;
  cleanup_free char *path = NULL;
  bool from_stdin = false, given_password = false;
  skiff_error_t err = NULL;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:u:p:", opts)) != -1)
    switch (c)
      {
      case 'u': free (user); user = strdup (optarg); break;
      case 'p': free (password); password = strdup (optarg); given_password = true; break;
      case 'S': from_stdin = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 1))
    return 1;
  key = auth_server_key (optind < argc ? argv[optind] : NULL);
  if (key == NULL)
    return 1;
  if (given_password && from_stdin)
    {
      fprintf (stderr, "--password and --password-stdin are mutually exclusive\n");
      return 1;
    }
  if (from_stdin)
    {
      if (user == NULL)
        {
          fprintf (stderr, "Must provide --username with --password-stdin\n");
          return 1;
        }
      password = read_line (false);
    }
  else if (given_password)
    fprintf (stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  if (user == NULL && password == NULL)
    {
      /* Stored credentials first, as docker login does.  */
      if (auth_config_get (key, &user, &password, &err) < 0)
        return cli_fail (&err);
    }
  if (user == NULL || password == NULL)
    {
      if (!isatty (STDIN_FILENO))
        {
          fprintf (stderr, "Error: Cannot perform an interactive login from a non TTY device\n");
          return 1;
        }
      if (user == NULL)
        {
          fprintf (stderr, "Username: ");
          user = read_line (false);
        }
      if (*user == '\0')
        {
          fprintf (stderr, "Error: Non-null Username Required\n");
          return 1;
        }
      free (password);
      fprintf (stderr, "Password: ");
      password = read_line (true);
      if (*password == '\0')
        {
          fprintf (stderr, "Error: Password Required\n");
          return 1;
        }
    }
  if (check_login (ctx, key, user, password, &status, &err) < 0)
    return cli_fail (&err);
  if (auth_config_set (key, user, password, &err) < 0 || (path = auth_config_path (&err)) == NULL)
    return cli_fail (&err);
  fprintf (stderr,
           "WARNING! Your password will be stored unencrypted in %s.\n"
           "Configure a credential helper to remove this warning. See\n"
           "https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n\n",
           path);
  explicit_bzero (password, strlen (password));
  if (*status)
    printf ("%s\n", status);
  return 0;
}

int
cmd_logout (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  cleanup_free char *key = NULL;
  skiff_error_t err = NULL;
  bool found = false;

  if (cli_getopt (ctx, argc, argv, "+:", opts) != -1)
    return ctx->status;
  if (cli_check_args (ctx, argc - optind, 0, 1))
    return 1;
  key = auth_server_key (optind < argc ? argv[optind] : NULL);
  if (key == NULL)
    return 1;
  {
    cleanup_free char *user = NULL;
    cleanup_free char *password = NULL;
    if (auth_config_get (key, &user, &password, &err) < 0)
      return cli_fail (&err);
    if (user == NULL)
      {
        printf ("Not logged in to %s\n", key);
        return 0;
      }
  }
  printf ("Removing login credentials for %s\n", key);
  if (auth_config_remove (key, &found, &err) < 0)
    return cli_fail (&err);
  return 0;
}
