/* `skiff pull [-q] [--platform P] NAME[:TAG|@DIGEST]` and the pull of run
   and create: POST /images/create?fromImage=&tag= with X-Registry-Auth,
   the progress shown as the docker CLI shows it (jsonmessage.h).  */
#include "auth_config.h"
#include "cli.h"
#include "cleanup.h"
#include "jsonmessage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
cli_pull_image (struct cli_ctx *ctx, const char *name, const char *tag, const char *platform, FILE *out,
                skiff_error_t *err)
{
  cleanup_free char *n = client_escape (name);
  cleanup_free char *t = client_escape (tag);
  cleanup_free char *p = client_escape (platform ? platform : "");
  cleanup_free char *path = NULL;
  cleanup_free char *auth = NULL;
  struct jsonmsg_display m;
  int ret;

  if (n == NULL || t == NULL || p == NULL
      || asprintf (&path, "/images/create?fromImage=%s&tag=%s%s%s", n, t, *p ? "&platform=" : "", p) < 0)
    return skiff_error_make (err, ENOMEM, "pull");
  if (auth_header_for_image (name, &auth, err) < 0)
    return -1;
  jsonmsg_display_init (&m, out);
  ctx->client.registry_auth = auth;
  ret = client_stream (&ctx->client, "POST", path, NULL, -1, jsonmsg_display_feed, &m, err);
  ctx->client.registry_auth = NULL;
  if (ret == 0)
    jsonmsg_display_finish (&m);
  if (ret == 0 && m.error)
    ret = skiff_error_make (err, 0, "%s", m.error);
  jsonmsg_display_release (&m);
  return ret;
}

int
cmd_pull (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all-tags", no_argument, NULL, 'a' },
    { "quiet", no_argument, NULL, 'q' },
    { "platform", required_argument, NULL, 'P' },
    { "disable-content-trust", no_argument, NULL, 'T' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *name = NULL;
  cleanup_free char *tag = NULL;
  cleanup_free char *familiar = NULL;
  const char *platform = NULL, *ref, *slash;
  bool quiet = false;
  skiff_error_t err = NULL;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:aq", opts)) != -1)
    switch (c)
      {
      case 'a':
        fprintf (stderr, "--all-tags is not supported by skiff\n");
        return 1;
      case 'q': quiet = true; break;
      case 'P': platform = optarg; break;
      case 'T': break; /* skiff has no content trust */
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, 1))
    return 1;
  ref = argv[optind];
  slash = strrchr (ref, '/');
  if (!quiet && strchr (ref, '@') == NULL && strchr (slash ? slash : ref, ':') == NULL)
    printf ("Using default tag: latest\n");
  if (cli_split_reference (ref, &name, &tag, &familiar) < 0)
    return 1;
  if (cli_pull_image (ctx, name, tag, platform, quiet ? NULL : stdout, &err) < 0)
    return cli_fail (&err);
  printf ("%s%s%s\n", name, strncmp (tag, "sha256:", 7) == 0 ? "@" : ":", tag);
  return 0;
}
