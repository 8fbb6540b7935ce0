/* skiff run / skiff create, and the attach plumbing they share with
   start -a, attach and exec: hijacked attach, wait before start, stream,
   exit with the container's status (as the docker CLI does).  */
#include "auth_config.h"
#include "cli.h"
#include "cleanup.h"
#include "jsonmessage.h"
#include "container_opts.h"
#include "json.h"
#include "stream.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char cli_run_options[] =
  "  -a, --attach list            Attach to STDIN, STDOUT or STDERR\n"
  "      --cap-add list           Add Linux capabilities\n"
  "      --cap-drop list          Drop Linux capabilities\n"
  "  -c, --cpu-shares int         CPU shares (relative weight)\n"
  "      --cpus decimal           Number of CPUs\n"
  "  -d, --detach                 Run container in background and print container ID (run only)\n"
  "      --detach-keys string     Override the key sequence for detaching a container (run only)\n"
  "      --dns list               Set custom DNS servers\n"
  "      --dns-option list        Set DNS options\n"
  "      --dns-search list        Set custom DNS search domains\n"
  "      --entrypoint string      Overwrite the default ENTRYPOINT of the image\n"
  "  -e, --env list               Set environment variables\n"
  "      --env-file list          Read in a file of environment variables\n"
  "      --expose list            Expose a port or a range of ports\n"
  "  -h, --hostname string        Container host name\n"
  "      --init                   Run an init inside the container\n"
  "  -i, --interactive            Keep STDIN open even if not attached\n"
  "      --ip string              IPv4 address (e.g., 172.30.100.104)\n"
  "  -l, --label list             Set meta data on a container\n"
  "  -m, --memory bytes           Memory limit\n"
  "      --memory-swap bytes      Swap limit equal to memory plus swap: '-1' to enable unlimited swap\n"
  "      --name string            Assign a name to the container\n"
  "      --network string         Connect a container to a network\n"
  "      --network-alias list     Add network-scoped alias for the container\n"
  "      --pids-limit int         Tune container pids limit (set -1 for unlimited)\n"
  "      --privileged             Give extended privileges to this container\n"
  "  -p, --publish list           Publish a container's port(s) to the host\n"
  "  -P, --publish-all            Publish all exposed ports to random ports\n"
  "      --read-only              Mount the container's root filesystem as read only\n"
  "      --restart string         Restart policy to apply when a container exits (default \"no\")\n"
  "      --rm                     Automatically remove the container when it exits\n"
  "      --security-opt list      Security Options\n"
  "  -t, --tty                    Allocate a pseudo-TTY\n"
  "  -u, --user string            Username or UID (format: <name|uid>[:<group|gid>])\n"
  "  -w, --workdir string         Working directory inside the container\n";

/* ---- attach plumbing ---- */

int
cli_attach_open (struct cli_ctx *ctx, const char *id, const struct attach_opts *a, struct raw_http *h,
                 skiff_error_t *err)
{
  cleanup_free char *keys = NULL;
  cleanup_free char *query = NULL;
  cleanup_free char *path = NULL;

  if (a->detach_keys && (keys = client_escape (a->detach_keys)) == NULL)
    return skiff_error_make (err, ENOMEM, "attach");
  /* Query keys in Go's url.Values order (sorted).  */
  if (asprintf (&query, "?%s%s%s%s%s%sstream=1", keys ? "detachKeys=" : "", keys ? keys : "", keys ? "&" : "",
                a->stderr_ ? "stderr=1&" : "", a->stdin_ ? "stdin=1&" : "", a->stdout_ ? "stdout=1&" : "")
      < 0)
    return skiff_error_make (err, ENOMEM, "attach");
  path = cli_path ("/containers", id, "/attach");
  if (path == NULL || (path = realloc (path, strlen (path) + strlen (query) + 1)) == NULL)
    return skiff_error_make (err, ENOMEM, "attach");
  strcat (path, query);
  return raw_http_request (ctx->client.socket_path, "POST", path,
                           "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: text/plain\r\n", NULL, 0, h, err);
}

struct stream_cb
{
  struct cli_ctx *ctx;
  const char *resize_prefix;
  const char *kill_id;
};

static void
on_resize (void *opaque, unsigned rows, unsigned cols)
{
  struct stream_cb *cb = opaque;
  cleanup_free char *path = NULL;
  skiff_error_t err = NULL;
  if (asprintf (&path, "%s/resize?h=%u&w=%u", cb->resize_prefix, rows, cols) < 0)
    return;
  /* A failed resize is not worth stopping the session for (Docker only
     logs it).  */
  if (client_json (&cb->ctx->client, "POST", path, NULL, NULL, &err) < 0)
    skiff_error_release (&err);
}

static void
on_signal (void *opaque, int signo)
{
  struct stream_cb *cb = opaque;
  cleanup_free char *base = cli_path ("/containers", cb->kill_id, "/kill");
  cleanup_free char *path = NULL;
  skiff_error_t err = NULL;
  if (base == NULL || asprintf (&path, "%s?signal=%d", base, signo) < 0)
    return;
  if (client_json (&cb->ctx->client, "POST", path, NULL, NULL, &err) < 0)
    {
      fprintf (stderr, "%s\n", err->msg);
      skiff_error_release (&err);
    }
}

int
cli_attach_stream (struct cli_ctx *ctx, struct raw_http *h, const char *resize_prefix, const char *kill_id,
                   const struct attach_opts *a, skiff_error_t *err)
{
  unsigned char keys[DETACH_KEYS_MAX];
  size_t nkeys = 0;
  struct stream_cb cb = { ctx, resize_prefix, kill_id };
  struct stream_opts o = {
    .in_fd = a->stdin_ ? 0 : -1,
    .out_fd = 1,
    .err_fd = 2,
    .tty = a->tty,
    .opaque = &cb,
  };

  if (detach_keys_parse (a->detach_keys ? a->detach_keys : DETACH_KEYS_DEFAULT, keys, &nkeys, err) < 0)
    return -1;
  o.detach_keys = keys;
  o.ndetach = nkeys;
  if (a->tty && resize_prefix)
    o.resize = on_resize;
  o.redraw = a->redraw;
  if (a->sig_proxy && !a->tty && kill_id)
    o.signal = on_signal;
  fflush (stdout);
  return stream_run (h->fd, h->extra, h->extra_len, &o, err);
}

int
cli_wait_begin (struct cli_ctx *ctx, const char *id, const char *condition, struct raw_http *h, skiff_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *base = cli_path ("/containers", id, "/wait");
  if (base == NULL)
    return skiff_error_make (err, ENOMEM, "wait");
  if (condition && asprintf (&path, "%s?condition=%s", base, condition) < 0)
    return skiff_error_make (err, ENOMEM, "wait");
  return raw_http_request (ctx->client.socket_path, "POST", condition ? path : base, "Content-Type: text/plain\r\n",
                           NULL, 0, h, err);
}

int
cli_wait_finish (struct raw_http *h, int *status, skiff_error_t *err)
{
  cleanup_json yajl_val v = NULL;
  yajl_val e;
  int64_t code = 0;

  if (raw_http_read_body (h, err) < 0)
    return -1;
  if (json_parse (h->body ? h->body : "", &v, err) < 0)
    return skiff_error_wrap (err, "wait: daemon answer");
  e = json_get (json_get (v, "Error"), "Message");
  if (e && YAJL_IS_STRING (e) && YAJL_GET_STRING (e)[0])
    return skiff_error_make (err, 0, "%s", YAJL_GET_STRING (e));
  if (json_get_int64 (v, "StatusCode", "StatusCode", &code, NULL, err) < 0)
    return -1;
  *status = (int) code;
  return 0;
}

/* ---- create, with the pull fallback ---- */

int
cli_split_reference (const char *ref, char **name, char **tag, char **familiar)
{
  const char *slash = strrchr (ref, '/'), *colon, *at = strchr (ref, '@');
  cleanup_free char *repo = NULL;
  const char *first_end = strchr (ref, '/');
  bool has_domain;

  colon = strrchr (slash ? slash : ref, ':');
  if (at)
    {
      repo = strndup (ref, at - ref);
      *tag = strdup (at + 1);
      if (asprintf (familiar, "%s", ref) < 0)
        *familiar = NULL;
    }
  else if (colon)
    {
      repo = strndup (ref, colon - ref);
      *tag = strdup (colon + 1);
      *familiar = strdup (ref);
    }
  else
    {
      repo = strdup (ref);
      *tag = strdup ("latest");
      if (asprintf (familiar, "%s:latest", ref) < 0)
        *familiar = NULL;
    }
  if (repo == NULL || *tag == NULL || *familiar == NULL)
    return -1;
  has_domain = first_end
               && (memchr (ref, '.', first_end - ref) || memchr (ref, ':', first_end - ref)
                   || strncmp (ref, "localhost/", 10) == 0);
  if (has_domain)
    *name = strdup (repo);
  else if (strchr (repo, '/'))
    {
      if (asprintf (name, "docker.io/%s", repo) < 0)
        *name = NULL;
    }
  else if (asprintf (name, "docker.io/library/%s", repo) < 0)
    *name = NULL;
  return *name ? 0 : -1;
}

static int
is_not_found (const struct client_response *r)
{
  return r->status == 404;
}

/* POST /containers/create; pulls the image when the daemon does not have
   it (as docker run).  Returns the new id, or NULL with *err set.  */
static char *
create_container (struct cli_ctx *ctx, const struct container_opts *o, skiff_error_t *err)
{
  cleanup_free char *body = NULL;
  cleanup_free char *path = NULL;
  cleanup_json yajl_val v = NULL;
  struct client_response r;
  yajl_val warnings;
  char *id = NULL;
  int attempt;

  if (container_opts_to_json (o, &body, err) < 0)
    return NULL;
  if (o->name)
    {
      cleanup_free char *n = client_escape (o->name);
      if (n == NULL || asprintf (&path, "/containers/create?name=%s", n) < 0)
        return skiff_error_make (err, ENOMEM, "create"), NULL;
    }
  for (attempt = 0;; attempt++)
    {
      if (client_do (&ctx->client, "POST", path ? path : "/containers/create", "application/json", body,
                     strlen (body), &r, err)
          < 0)
        return NULL;
      if (r.status < 400)
        break;
      if (attempt == 0 && is_not_found (&r) && strstr (r.body, "No such image"))
        {
          cleanup_free char *name = NULL, *tag = NULL, *familiar = NULL;
          client_response_release (&r);
          if (cli_split_reference (o->image, &name, &tag, &familiar) < 0)
            return skiff_error_make (err, ENOMEM, "image reference"), NULL;
          fprintf (stderr, "Unable to find image '%s' locally\n", familiar);
          if (cli_pull_image (ctx, name, tag, NULL, stderr, err) < 0)
            return NULL;
          continue;
        }
      client_error_from_response (&r, err);
      client_response_release (&r);
      return NULL;
    }
  if (json_parse (r.body, &v, err) < 0)
    {
      client_response_release (&r);
      return NULL;
    }
  client_response_release (&r);
  if (json_get_string_req (v, "Id", "Id", &id, err) < 0)
    return NULL;
  warnings = json_get (v, "Warnings");
  if (warnings && YAJL_IS_ARRAY (warnings))
    {
      size_t i;
      for (i = 0; i < warnings->u.array.len; i++)
        if (YAJL_IS_STRING (warnings->u.array.values[i]))
          fprintf (stderr, "WARNING: %s\n", YAJL_GET_STRING (warnings->u.array.values[i]));
    }
  return id;
}

/* Docker's exit status for a failed create/start.  */
static int
start_error_status (const char *msg)
{
  if (strcasestr (msg, "executable file not found") || strcasestr (msg, "no such file or directory"))
    return CLI_STATUS_NOT_FOUND;
  if (strcasestr (msg, "permission denied"))
    return CLI_STATUS_CANNOT_INVOKE;
  return CLI_STATUS_DAEMON;
}

static int
run_error (struct cli_ctx *ctx, skiff_error_t *err, bool with_help)
{
  int status = start_error_status ((*err)->msg);
  cli_report_run_error (ctx, (*err)->msg, with_help);
  skiff_error_release (err);
  return status;
}

int
cmd_create (struct cli_ctx *ctx, int argc, char **argv)
{
  __attribute__ ((cleanup (container_opts_release))) struct container_opts o;
  cleanup_free char *id = NULL;
  skiff_error_t err = NULL;
  int ret;

  ret = container_opts_parse (ctx, argc, argv, false, &o);
  if (ret != 0)
    return ret;
  /* docker create reports a daemon error as is, with status 1.  */
  id = create_container (ctx, &o, &err);
  if (id == NULL)
    return cli_fail (&err);
  printf ("%s\n", id);
  return 0;
}

static int
start_container (struct cli_ctx *ctx, const char *id, skiff_error_t *err)
{
  cleanup_free char *path = cli_path ("/containers", id, "/start");
  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "start");
  return client_json (&ctx->client, "POST", path, NULL, NULL, err);
}

int
cmd_run (struct cli_ctx *ctx, int argc, char **argv)
{
  __attribute__ ((cleanup (container_opts_release))) struct container_opts o;
  __attribute__ ((cleanup (raw_http_release))) struct raw_http attach = { .fd = -1 };
  __attribute__ ((cleanup (raw_http_release))) struct raw_http wait = { .fd = -1 };
  cleanup_free char *id = NULL;
  cleanup_free char *prefix = NULL;
  skiff_error_t err = NULL;
  struct attach_opts a = { 0 };
  unsigned char keys[DETACH_KEYS_MAX];
  size_t nkeys;
  int ret, status = 0;

  ret = container_opts_parse (ctx, argc, argv, true, &o);
  if (ret != 0)
    return ret;
  if (o.detach_keys && detach_keys_parse (o.detach_keys, keys, &nkeys, &err) < 0)
    return run_error (ctx, &err, false);

  {
    char **p;
    bool explicit_in = false, explicit_out = false, explicit_err = false;
    for (p = o.attach; p && *p; p++)
      {
        explicit_in |= strcasecmp (*p, "stdin") == 0;
        explicit_out |= strcasecmp (*p, "stdout") == 0;
        explicit_err |= strcasecmp (*p, "stderr") == 0;
      }
    a.stdin_ = !o.detach && (o.interactive || explicit_in);
    a.stdout_ = !o.detach && (o.attach ? explicit_out : true);
    a.stderr_ = !o.detach && (o.attach ? explicit_err : true);
  }
  a.tty = o.tty;
  a.detach_keys = o.detach_keys;
  a.sig_proxy = o.sig_proxy;
  if (a.stdin_ && o.tty && !isatty (0))
    {
      fprintf (stderr, "the input device is not a TTY\n");
      return 1;
    }

  id = create_container (ctx, &o, &err);
  if (id == NULL)
    return run_error (ctx, &err, true);

  if (o.detach)
    {
      if (start_container (ctx, id, &err) < 0)
        return run_error (ctx, &err, false);
      printf ("%s\n", id);
      return 0;
    }

  /* As the docker CLI: attach first, then ask for the exit status, then
     start, so that neither output nor the exit can be missed.  */
  if ((a.stdin_ || a.stdout_ || a.stderr_) && cli_attach_open (ctx, id, &a, &attach, &err) < 0)
    return run_error (ctx, &err, false);
  if (cli_wait_begin (ctx, id, o.rm ? "removed" : "next-exit", &wait, &err) < 0)
    return run_error (ctx, &err, false);
  if (start_container (ctx, id, &err) < 0)
    {
      int st = run_error (ctx, &err, false);
      /* With --rm, let the daemon finish removing the container.  */
      if (o.rm && cli_wait_finish (&wait, &status, &err) < 0)
        skiff_error_release (&err);
      return st;
    }
  prefix = cli_path ("/containers", id, NULL);
  if (prefix == NULL)
    return cli_fail (&err);
  if (attach.fd >= 0)
    {
      ret = cli_attach_stream (ctx, &attach, prefix, id, &a, &err);
      if (ret == STREAM_DETACHED)
        return 0;
      if (ret < 0)
        return cli_fail (&err);
    }
  if (cli_wait_finish (&wait, &status, &err) < 0)
    {
      fprintf (stderr, "Error waiting for container: %s\n", err->msg);
      skiff_error_release (&err);
      return CLI_STATUS_DAEMON;
    }
  return status;
}
