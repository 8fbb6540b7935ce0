/* skiff start [-a -i] and skiff attach.  */
#include "cli.h"
#include "cleanup.h"
#include "json.h"
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool
json_true (yajl_val obj, const char *a, const char *b)
{
  yajl_val v = json_get (json_get (obj, a), b);
  return v && YAJL_IS_TRUE (v);
}

/* Attaches to a created or running container, optionally starts it, and
   returns its exit status as docker start -a / attach do.  */
static int
attach_and_wait (struct cli_ctx *ctx, const char *name, const struct attach_opts *a, bool start, const char *condition,
                 bool from_attach)
{
  __attribute__ ((cleanup (raw_http_release))) struct raw_http conn = { .fd = -1 };
  __attribute__ ((cleanup (raw_http_release))) struct raw_http wait = { .fd = -1 };
  cleanup_free char *prefix = cli_path ("/containers", name, NULL);
  skiff_error_t err = NULL;
  int ret, status = 0;

  if (prefix == NULL)
    return 1;
  if (a->stdin_ && a->tty && !isatty (0))
    {
      fprintf (stderr, "the input device is not a TTY\n");
      return 1;
    }
  if (cli_attach_open (ctx, name, a, &conn, &err) < 0)
    return cli_fail (&err);
  if (cli_wait_begin (ctx, name, condition, &wait, &err) < 0)
    return cli_fail (&err);
  if (start)
    {
      cleanup_free char *path = cli_path ("/containers", name, "/start");
      if (path == NULL || client_json (&ctx->client, "POST", path, NULL, NULL, &err) < 0)
        return cli_fail (&err);
    }
  ret = cli_attach_stream (ctx, &conn, prefix, name, a, &err);
  if (ret < 0)
    return cli_fail (&err);
  if (ret == STREAM_DETACHED)
    {
      /* docker attach reports the escape as an error; start -a does not. */
      if (from_attach)
        {
          fprintf (stderr, "read escape sequence\n");
          return 1;
        }
      return 0;
    }
  if (cli_wait_finish (&wait, &status, &err) < 0)
    return cli_fail (&err);
  return status;
}

int
cmd_start (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "attach", no_argument, NULL, 'a' },
    { "interactive", no_argument, NULL, 'i' },
    { "detach-keys", required_argument, NULL, 'k' },
    { NULL, 0, NULL, 0 },
  };
  bool attach = false, interactive = false;
  const char *keys = NULL;
  cleanup_free char *failed = NULL;
  int c, i;

  while ((c = cli_getopt (ctx, argc, argv, "+:ai", opts)) != -1)
    switch (c)
      {
      case 'a': attach = true; break;
      case 'i': interactive = true; break;
      case 'k': keys = optarg; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;

  if (attach || interactive)
    {
      cleanup_json yajl_val info = NULL;
      skiff_error_t err = NULL;
      struct attach_opts a = { .stdout_ = true, .stderr_ = true, .detach_keys = keys, .sig_proxy = true };
      unsigned char kb[DETACH_KEYS_MAX];
      size_t nk;

      if (argc - optind > 1)
        {
          fprintf (stderr, "you cannot start and attach multiple containers at once\n");
          return 1;
        }
      if (keys && detach_keys_parse (keys, kb, &nk, &err) < 0)
        return cli_fail (&err);
      if (cli_inspect_object (ctx, "container", argv[optind], &info, &err) < 0)
        return cli_fail (&err);
      a.tty = json_true (info, "Config", "Tty");
      a.stdin_ = interactive && json_true (info, "Config", "OpenStdin");
      return attach_and_wait (ctx, argv[optind], &a, true,
                              json_true (info, "HostConfig", "AutoRemove") ? "removed" : "next-exit", false);
    }

  for (i = optind; i < argc; i++)
    {
      cleanup_free char *path = cli_path ("/containers", argv[i], "/start");
      skiff_error_t err = NULL;
      if (path == NULL || client_json (&ctx->client, "POST", path, NULL, NULL, &err) < 0)
        {
          char *f = NULL;
          cli_fail (&err);
          if (asprintf (&f, "%s%s%s", failed ? failed : "", failed ? ", " : "", argv[i]) >= 0)
            {
              free (failed);
              failed = f;
            }
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  if (failed)
    {
      fprintf (stderr, "Error: failed to start containers: %s\n", failed);
      return 1;
    }
  return 0;
}

int
cmd_attach (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "detach-keys", required_argument, NULL, 'k' },
    { "no-stdin", no_argument, NULL, 'n' },
    { "sig-proxy", no_argument, NULL, 's' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_json yajl_val info = NULL;
  skiff_error_t err = NULL;
  /* redraw: the shell of a container attached to a second time shows its
     prompt again, as with docker attach.  */
  struct attach_opts a = { .stdout_ = true, .stderr_ = true, .sig_proxy = true, .redraw = true };
  bool no_stdin = false;
  yajl_val state;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:", opts)) != -1)
    switch (c)
      {
      case 'k': a.detach_keys = optarg; break;
      case 'n': no_stdin = true; break;
      case 's': a.sig_proxy = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, 1))
    return 1;
  if (a.detach_keys)
    {
      unsigned char kb[DETACH_KEYS_MAX];
      size_t nk;
      if (detach_keys_parse (a.detach_keys, kb, &nk, &err) < 0)
        return cli_fail (&err);
    }
  if (cli_inspect_object (ctx, "container", argv[optind], &info, &err) < 0)
    return cli_fail (&err);
  state = json_get (info, "State");
  if (!json_true (info, "State", "Running"))
    {
      fprintf (stderr, "You cannot attach to a stopped container, start it first\n");
      return 1;
    }
  if (state && json_true (info, "State", "Paused"))
    {
      fprintf (stderr, "You cannot attach to a paused container, unpause it first\n");
      return 1;
    }
  if (json_true (info, "State", "Restarting"))
    {
      fprintf (stderr, "You cannot attach to a restarting container, wait until it is running\n");
      return 1;
    }
  a.tty = json_true (info, "Config", "Tty");
  a.stdin_ = !no_stdin && json_true (info, "Config", "OpenStdin");
  return attach_and_wait (ctx, argv[optind], &a, false, NULL, true);
}
