/* `skiff tag SOURCE TARGET`: POST /images/SOURCE/tag?repo=&tag=, the
   target split as the docker CLI splits it (the daemon checks it).  */
#include "cli.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
cli_split_repo_tag (const char *ref, char **repo, char **tag, skiff_error_t *err)
{
  const char *slash = strrchr (ref, '/');
  const char *colon = strrchr (slash ? slash : ref, ':');

  *repo = *tag = NULL;
  if (strchr (ref, '@'))
    return skiff_error_make (err, 0, "refusing to create a tag with a digest reference");
  *repo = colon ? strndup (ref, colon - ref) : strdup (ref);
  *tag = strdup (colon ? colon + 1 : "");
  if (*repo == NULL || *tag == NULL)
    {
      free (*repo);
      free (*tag);
      *repo = *tag = NULL;
      return skiff_error_make (err, ENOMEM, "reference");
    }
  return 0;
}

int
cmd_tag (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  cleanup_free char *repo = NULL;
  cleanup_free char *tag = NULL;
  cleanup_free char *erepo = NULL;
  cleanup_free char *etag = NULL;
  cleanup_free char *base = NULL;
  cleanup_free char *path = NULL;
  skiff_error_t err = NULL;

  if (cli_getopt (ctx, argc, argv, "+:", opts) != -1)
    return ctx->status;
  if (cli_check_args (ctx, argc - optind, 2, 2))
    return 1;
  if (cli_split_repo_tag (argv[optind + 1], &repo, &tag, &err) < 0)
    return cli_fail (&err);
  erepo = client_escape (repo);
  etag = client_escape (*tag ? tag : "latest");
  base = cli_path ("/images", argv[optind], "/tag");
  if (erepo == NULL || etag == NULL || base == NULL || asprintf (&path, "%s?repo=%s&tag=%s", base, erepo, etag) < 0)
    return 1;
  if (client_json (&ctx->client, "POST", path, NULL, NULL, &err) < 0)
    return cli_fail (&err);
  return 0;
}
