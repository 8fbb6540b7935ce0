/* shimctl: a small blocking client of skiff-shim's socket, for tests.
 *
 *   shimctl SOCK attach [--stdin] [--no-stdout] [--no-stderr]
 *       STDOUT/STDERR frames to our stdout/stderr; with --stdin our stdin
 *       goes to the container (STDIN_CLOSE at its EOF).  Exits with the
 *       container's exit code.
 *   shimctl SOCK wait          waits for the EXIT frame, prints its JSON,
 *                              exits with the exit code
 *   shimctl SOCK status        prints the STATUS answer
 *   shimctl SOCK exec [--tty] [--stdin] [--detach] [--env K=V]...
 *                     [--cwd DIR] [--user UID:GID] -- CMD [ARG...]
 *       runs CMD in the container; exits with its exit code (126 when it
 *       cannot start); --detach prints the pid of the process
 *   shimctl SOCK resize HEIGHT WIDTH   resizes the init's terminal and
 *                              returns once the shim has handled it
 *
 * Exit status 255: the shim closed the connection without an EXIT frame,
 * or a protocol error.
 */
#include "cleanup.h"
#include "json.h"
#include "shim_proto.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "shimctl"

static int
fail (skiff_error_t *err)
{
  skiff_error_print (err, stderr, PROG);
  return 255;
}

static int
write_all (int fd, const char *p, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      p += n;
      len -= n;
    }
  return 0;
}

static int
send_json (int fd, enum shim_frame_type type, char *json, skiff_error_t *err)
{
  int r;
  if (json == NULL)
    return skiff_error_make (err, ENOMEM, "frame");
  r = shim_write_frame (fd, type, json, strlen (json), err);
  free (json);
  return r;
}

/* Copies frames to stdout/stderr (and stdin to STDIN frames when
   stdin_open) until EXIT; returns the exit code.  */
static int
pump (int sock, bool stdin_open)
{
  skiff_error_t err = NULL;
  for (;;)
    {
      struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = stdin_open ? 0 : -1, .events = POLLIN } };
      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          skiff_error_make (&err, errno, "poll");
          return fail (&err);
        }
      if (p[1].revents)
        {
          char buf[32768];
          ssize_t n = read (0, buf, sizeof (buf));
          if (n < 0 && errno == EINTR)
            continue;
          if (n > 0 && shim_write_frame (sock, SHIM_FRAME_STDIN, buf, n, &err) < 0)
            return fail (&err);
          if (n <= 0)
            {
              stdin_open = false;
              if (shim_write_frame (sock, SHIM_FRAME_STDIN_CLOSE, NULL, 0, &err) < 0)
                return fail (&err);
            }
        }
      if (p[0].revents)
        {
          struct shim_frame f = { 0 };
          struct shim_exit e;
          int r = shim_read_frame (sock, &f, &err);
          if (r < 0)
            return fail (&err);
          if (r == 0)
            {
              fprintf (stderr, PROG ": the shim closed the connection without an EXIT frame\n");
              return 255;
            }
          switch (f.type)
            {
            case SHIM_FRAME_STDOUT:
            case SHIM_FRAME_STDERR:
              write_all (f.type == SHIM_FRAME_STDOUT ? 1 : 2, f.data, f.len);
              break;
            case SHIM_FRAME_EXIT:
              r = shim_exit_parse (f.data, &e, &err);
              shim_frame_clear (&f);
              if (r < 0)
                return fail (&err);
              return e.exit_code & 0xff;
            default:
              fprintf (stderr, PROG ": unexpected %s frame\n", shim_frame_type_name (f.type));
              shim_frame_clear (&f);
              return 255;
            }
          shim_frame_clear (&f);
        }
    }
}

/* Reads the next frame, which must be of type want.  */
static int
expect_frame (int sock, enum shim_frame_type want, struct shim_frame *f, skiff_error_t *err)
{
  int r = shim_read_frame (sock, f, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return skiff_error_make (err, 0, "the shim closed the connection");
  if (f->type != want)
    {
      skiff_error_make (err, 0, "expected a %s frame, got %s", shim_frame_type_name (want),
                        shim_frame_type_name (f->type));
      shim_frame_clear (f);
      return -1;
    }
  return 0;
}

static int
cmd_attach (int sock, int argc, char **argv)
{
  struct shim_attach_req a = { .use_stdout = true, .use_stderr = true };
  skiff_error_t err = NULL;
  int i;
  for (i = 0; i < argc; i++)
    {
      if (strcmp (argv[i], "--stdin") == 0)
        a.use_stdin = true;
      else if (strcmp (argv[i], "--no-stdout") == 0)
        a.use_stdout = false;
      else if (strcmp (argv[i], "--no-stderr") == 0)
        a.use_stderr = false;
      else
        {
          fprintf (stderr, PROG ": attach: unknown option `%s`\n", argv[i]);
          return 255;
        }
    }
  if (send_json (sock, SHIM_FRAME_ATTACH, shim_attach_json (&a), &err) < 0)
    return fail (&err);
  return pump (sock, a.use_stdin);
}

static int
cmd_wait (int sock)
{
  skiff_error_t err = NULL;
  struct shim_frame f = { 0 };
  struct shim_exit e;
  if (expect_frame (sock, SHIM_FRAME_EXIT, &f, &err) < 0)
    return fail (&err);
  printf ("%s\n", f.data);
  if (shim_exit_parse (f.data, &e, &err) < 0)
    {
      shim_frame_clear (&f);
      return fail (&err);
    }
  shim_frame_clear (&f);
  return e.exit_code & 0xff;
}

static int
cmd_status (int sock)
{
  skiff_error_t err = NULL;
  struct shim_frame f = { 0 };
  if (shim_write_frame (sock, SHIM_FRAME_STATUS, NULL, 0, &err) < 0 || expect_frame (sock, SHIM_FRAME_STATUS, &f, &err) < 0)
    return fail (&err);
  printf ("%s\n", f.data);
  shim_frame_clear (&f);
  return 0;
}

static int
cmd_resize (int sock, int argc, char **argv)
{
  struct shim_resize_req r;
  skiff_error_t err = NULL;
  struct shim_frame f = { 0 };
  char *end1, *end2;
  unsigned long h, w;

  if (argc != 2)
    {
      fprintf (stderr, PROG ": resize needs HEIGHT WIDTH\n");
      return 255;
    }
  h = strtoul (argv[0], &end1, 10);
  w = strtoul (argv[1], &end2, 10);
  if (*end1 || *end2 || h == 0 || w == 0 || h > 65535 || w > 65535)
    {
      fprintf (stderr, PROG ": resize: bad size `%s %s`\n", argv[0], argv[1]);
      return 255;
    }
  r.height = h;
  r.width = w;
  /* STATUS after RESIZE: its answer proves the RESIZE was handled.  */
  if (send_json (sock, SHIM_FRAME_RESIZE, shim_resize_json (&r), &err) < 0
      || shim_write_frame (sock, SHIM_FRAME_STATUS, NULL, 0, &err) < 0
      || expect_frame (sock, SHIM_FRAME_STATUS, &f, &err) < 0)
    return fail (&err);
  shim_frame_clear (&f);
  return 0;
}

static char *
process_json (char **args, char **env, size_t n_env, const char *cwd, long uid, long gid, bool tty)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  size_t i;
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_bool (g, "terminal", tty);
  json_gen_str (g, "user");
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "uid", uid);
  json_gen_kv_int (g, "gid", gid);
  yajl_gen_map_close (g);
  json_gen_str (g, "args");
  yajl_gen_array_open (g);
  for (i = 0; args[i]; i++)
    json_gen_str (g, args[i]);
  yajl_gen_array_close (g);
  json_gen_str (g, "env");
  yajl_gen_array_open (g);
  json_gen_str (g, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (i = 0; i < n_env; i++)
    json_gen_str (g, env[i]);
  yajl_gen_array_close (g);
  json_gen_kv_str (g, "cwd", cwd);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

static int
cmd_exec (int sock, int argc, char **argv)
{
  static const struct option opts[] = {
    { "tty", no_argument, NULL, 't' },    { "stdin", no_argument, NULL, 'i' },
    { "detach", no_argument, NULL, 'd' }, { "env", required_argument, NULL, 'e' },
    { "cwd", required_argument, NULL, 'w' }, { "user", required_argument, NULL, 'u' },
    { NULL, 0, NULL, 0 },
  };
  struct shim_exec_req req = { 0 };
  struct shim_started st;
  struct shim_frame f = { 0 };
  skiff_error_t err = NULL;
  cleanup_free char **env = calloc (argc + 1, sizeof (char *));
  const char *cwd = "/";
  long uid = 0, gid = 0;
  size_t n_env = 0;
  bool tty = false;
  int c, r;

  if (env == NULL)
    return 255;
  optind = 0;
  while ((c = getopt_long (argc + 1, argv - 1, "+tide:w:u:", opts, NULL)) != -1)
    switch (c)
      {
      case 't':
        tty = true;
        break;
      case 'i':
        req.use_stdin = true;
        break;
      case 'd':
        req.detach = true;
        break;
      case 'e':
        env[n_env++] = optarg;
        break;
      case 'w':
        cwd = optarg;
        break;
      case 'u':
        if (sscanf (optarg, "%ld:%ld", &uid, &gid) != 2)
          {
            fprintf (stderr, PROG ": exec: --user wants UID:GID\n");
            return 255;
          }
        break;
      default:
        fprintf (stderr, PROG ": exec: bad option\n");
        return 255;
      }
  argc -= optind - 1;
  argv += optind - 1;
  if (argc < 1)
    {
      fprintf (stderr, PROG ": exec needs a command\n");
      return 255;
    }
  req.process_json = process_json (argv, env, n_env, cwd, uid, gid, tty);
  if (req.process_json == NULL)
    return 255;
  r = send_json (sock, SHIM_FRAME_EXEC, shim_exec_json (&req), &err);
  free (req.process_json);
  if (r < 0 || expect_frame (sock, SHIM_FRAME_STARTED, &f, &err) < 0)
    return fail (&err);
  r = shim_started_parse (f.data, &st, &err);
  shim_frame_clear (&f);
  if (r < 0)
    return fail (&err);
  if (st.error)
    {
      fprintf (stderr, PROG ": exec failed: %s\n", st.error);
      shim_started_clear (&st);
      return 126;
    }
  if (req.detach)
    {
      printf ("%d\n", st.pid);
      return 0;
    }
  return pump (sock, req.use_stdin);
}

int
main (int argc, char **argv)
{
  skiff_error_t err = NULL;
  cleanup_close int sock = -1;
  const char *cmd;

  if (argc < 3)
    {
      fprintf (stderr, "usage: " PROG " SOCK attach|wait|status|exec|resize ...\n");
      return 255;
    }
  cmd = argv[2];
  sock = shim_connect (argv[1], &err);
  if (sock < 0)
    return fail (&err);
  if (strcmp (cmd, "attach") == 0)
    return cmd_attach (sock, argc - 3, argv + 3);
  if (strcmp (cmd, "wait") == 0)
    return cmd_wait (sock);
  if (strcmp (cmd, "status") == 0)
    return cmd_status (sock);
  if (strcmp (cmd, "exec") == 0)
    return cmd_exec (sock, argc - 3, argv + 3);
  if (strcmp (cmd, "resize") == 0)
    return cmd_resize (sock, argc - 3, argv + 3);
  fprintf (stderr, PROG ": unknown command `%s`\n", cmd);
  return 255;
}
