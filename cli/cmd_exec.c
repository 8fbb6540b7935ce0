/* skiff exec: create an exec instance, start it hijacked (or detached),
   exit with its exit code.  */
#include "cli.h"
#include "cleanup.h"
#include "json.h"
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct exec_opts
{
  bool detach, interactive, tty, privileged;
  const char *user, *workdir, *detach_keys;
  char **env;
};

static int
exec_body (const struct exec_opts *o, int argc, char **argv, char **out, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  int i;

  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "exec request");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "User", o->user ? o->user : "");
  json_gen_kv_bool (g, "Privileged", o->privileged);
  json_gen_kv_bool (g, "Tty", o->tty);
  json_gen_kv_bool (g, "AttachStdin", !o->detach && o->interactive);
  json_gen_kv_bool (g, "AttachStderr", !o->detach);
  json_gen_kv_bool (g, "AttachStdout", !o->detach);
  json_gen_kv_bool (g, "Detach", o->detach);
  json_gen_kv_str (g, "DetachKeys", o->detach_keys ? o->detach_keys : "");
  json_gen_str (g, "Env");
  if (o->env == NULL)
    yajl_gen_null (g);
  else
    {
      char **p;
      yajl_gen_array_open (g);
      for (p = o->env; *p; p++)
        {
          const char *val;
          /* NAME alone takes our value of NAME when we have one.  */
          if (strchr (*p, '=') == NULL && (val = getenv (*p)) != NULL)
            {
              cleanup_free char *kv = NULL;
              if (asprintf (&kv, "%s=%s", *p, val) < 0)
                return skiff_error_make (err, ENOMEM, "exec request");
              json_gen_str (g, kv);
            }
          else
            json_gen_str (g, *p);
        }
      yajl_gen_array_close (g);
    }
  json_gen_kv_str (g, "WorkingDir", o->workdir ? o->workdir : "");
  json_gen_str (g, "Cmd");
  yajl_gen_array_open (g);
  for (i = 0; i < argc; i++)
    json_gen_str (g, argv[i]);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  *out = json_gen_steal (g, NULL);
  return *out ? 0 : skiff_error_make (err, ENOMEM, "exec request");
}

int
cmd_exec (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "detach", no_argument, NULL, 'd' },
    { "interactive", no_argument, NULL, 'i' },
    { "tty", no_argument, NULL, 't' },
    { "env", required_argument, NULL, 'e' },
    { "user", required_argument, NULL, 'u' },
    { "workdir", required_argument, NULL, 'w' },
    { "privileged", no_argument, NULL, 'P' },
    { "detach-keys", required_argument, NULL, 'k' },
    { NULL, 0, NULL, 0 },
  };
  __attribute__ ((cleanup (raw_http_release))) struct raw_http conn = { .fd = -1 };
  struct exec_opts o = { 0 };
  cleanup_strv char **env = NULL;
  cleanup_free char *path = NULL, *body = NULL, *exec_id = NULL, *exec_path = NULL;
  cleanup_json yajl_val created = NULL, info = NULL;
  skiff_error_t err = NULL;
  const char *container;
  int c, ret;
  int64_t code = 0;

  while ((c = cli_getopt (ctx, argc, argv, "+:dite:u:w:", opts)) != -1)
    switch (c)
      {
      case 'd': o.detach = true; break;
      case 'i': o.interactive = true; break;
      case 't': o.tty = true; break;
      case 'e':
        if (strv_push (&env, optarg) < 0)
          return 1;
        break;
      case 'u': o.user = optarg; break;
      case 'w': o.workdir = optarg; break;
      case 'P': o.privileged = true; break;
      case 'k': o.detach_keys = optarg; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 2, -1))
    return 1;
  o.env = env;
  container = argv[optind];
  if (o.detach_keys)
    {
      unsigned char kb[DETACH_KEYS_MAX];
      size_t nk;
      if (detach_keys_parse (o.detach_keys, kb, &nk, &err) < 0)
        return cli_fail (&err);
    }

  if (cli_inspect_object (ctx, "container", container, &info, &err) < 0)
    return cli_fail (&err);
  path = cli_path ("/containers", container, "/exec");
  if (path == NULL || exec_body (&o, argc - optind - 1, argv + optind + 1, &body, &err) < 0)
    return cli_fail (&err);
  if (client_json (&ctx->client, "POST", path, body, &created, &err) < 0)
    return cli_fail (&err);
  if (json_get_string_req (created, "Id", "Id", &exec_id, &err) < 0)
    return cli_fail (&err);
  if (exec_id[0] == '\0')
    {
      fprintf (stderr, "exec ID empty\n");
      return 1;
    }
  exec_path = cli_path ("/exec", exec_id, NULL);
  if (exec_path == NULL)
    return 1;
  free (path);
  path = NULL;
  if (asprintf (&path, "%s/start", exec_path) < 0)
    return 1;

  if (o.detach)
    {
      const char *start = o.tty ? "{\"Detach\":true,\"Tty\":true}" : "{\"Detach\":true,\"Tty\":false}";
      if (client_json (&ctx->client, "POST", path, start, NULL, &err) < 0)
        return cli_fail (&err);
      return 0;
    }
  if (o.interactive && o.tty && !isatty (0))
    {
      fprintf (stderr, "the input device is not a TTY\n");
      return 1;
    }
  {
    const char *start = o.tty ? "{\"Detach\":false,\"Tty\":true}" : "{\"Detach\":false,\"Tty\":false}";
    struct attach_opts a = {
      .stdin_ = o.interactive, .stdout_ = true, .stderr_ = true, .tty = o.tty, .detach_keys = o.detach_keys,
    };
    if (raw_http_request (ctx->client.socket_path, "POST", path,
                          "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n", start,
                          strlen (start), &conn, &err)
        < 0)
      return cli_fail (&err);
    ret = cli_attach_stream (ctx, &conn, exec_path, NULL, &a, &err);
    if (ret < 0)
      return cli_fail (&err);
    if (ret == STREAM_DETACHED)
      {
        fprintf (stderr, "read escape sequence\n");
        return 1;
      }
  }
  /* The exit code, from the exec's inspect.  */
  free (path);
  path = NULL;
  if (asprintf (&path, "%s/json", exec_path) < 0)
    return 1;
  {
    cleanup_json yajl_val v = NULL;
    if (client_json (&ctx->client, "GET", path, NULL, &v, &err) < 0
        || json_get_int64 (v, "ExitCode", "ExitCode", &code, NULL, &err) < 0)
      return cli_fail (&err);
  }
  return (int) code;
}
