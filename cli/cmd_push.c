/* `skiff push [-a] [-q] NAME[:TAG]`: POST /images/NAME/push?tag=TAG with
   the registry's credentials from config.json as X-Registry-Auth, the
   progress shown as the docker CLI shows it.  */
#include "auth_config.h"
#include "cli.h"
#include "cleanup.h"
#include "jsonmessage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
cmd_push (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all-tags", no_argument, NULL, 'a' },
    { "quiet", no_argument, NULL, 'q' },
    { "disable-content-trust", no_argument, NULL, 'T' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *repo = NULL;
  cleanup_free char *tag = NULL;
  cleanup_free char *etag = NULL;
  cleanup_free char *base = NULL;
  cleanup_free char *path = NULL;
  cleanup_free char *auth = NULL;
  struct jsonmsg_display m;
  bool all = false, quiet = false;
  skiff_error_t err = NULL;
  const char *ref;
  int c, ret;

  while ((c = cli_getopt (ctx, argc, argv, "+:aq", opts)) != -1)
    switch (c)
      {
      case 'a': all = true; break;
      case 'q': quiet = true; break;
      case 'T': break; /* skiff has no content trust */
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, 1))
    return 1;
  ref = argv[optind];
  if (strchr (ref, '@'))
    {
      /* The daemon refuses it with Docker's message.  */
      repo = strdup (ref);
      tag = strdup ("");
    }
  else if (cli_split_repo_tag (ref, &repo, &tag, &err) < 0)
    return cli_fail (&err);
  if (repo == NULL || tag == NULL)
    return 1;
  if (all && *tag)
    {
      fprintf (stderr, "tag can't be used with --all-tags/-a\n");
      return 1;
    }
  if (!all && *tag == '\0' && strchr (ref, '@') == NULL)
    {
      free (tag);
      tag = strdup ("latest");
      if (tag == NULL)
        return 1;
      if (!quiet)
        printf ("Using default tag: latest\n");
    }
  if (auth_header_for_image (repo, &auth, &err) < 0)
    return cli_fail (&err);
  etag = client_escape (tag);
  base = cli_path ("/images", repo, "/push");
  if (etag == NULL || base == NULL || asprintf (&path, "%s?tag=%s", base, etag) < 0)
    return 1;
  jsonmsg_display_init (&m, quiet ? NULL : stdout);
  ctx->client.registry_auth = auth;
  ret = client_stream (&ctx->client, "POST", path, NULL, -1, jsonmsg_display_feed, &m, &err);
  ctx->client.registry_auth = NULL;
  if (ret == 0)
    jsonmsg_display_finish (&m);
  if (ret == 0 && m.error)
    ret = skiff_error_make (&err, 0, "%s", m.error);
  jsonmsg_display_release (&m);
  if (ret < 0)
    return cli_fail (&err);
  if (quiet)
    printf ("%s%s%s\n", repo, *tag ? ":" : "", tag);
  return 0;
}
