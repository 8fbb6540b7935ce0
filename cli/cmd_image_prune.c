/* skiff image prune: docker's prompt, request and report.  */
#include "cli.h"
#include "cleanup.h"
#include "format.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

/* "untagged: REF" and "deleted: ID" lines, as docker image prune prints
   them.  */
static void
print_deleted_images (yajl_val v)
{
  yajl_val list = json_get (v, "ImagesDeleted");
  size_t i;
  if (list == NULL || !YAJL_IS_ARRAY (list) || list->u.array.len == 0)
    return;
  printf ("Deleted Images:\n");
  for (i = 0; i < list->u.array.len; i++)
    {
      yajl_val u = json_get (list->u.array.values[i], "Untagged");
      yajl_val d = json_get (list->u.array.values[i], "Deleted");
      if (u && YAJL_IS_STRING (u))
        printf ("untagged: %s\n", u->u.string);
      if (d && YAJL_IS_STRING (d))
        printf ("deleted: %s\n", d->u.string);
    }
  printf ("\n");
}

int
cmd_image_prune (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *space = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  bool all = false, force = false;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:af", opts)) != -1)
    switch (c)
      {
      case 'a': all = true; break;
      case 'f': force = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 0))
    return 1;
  if (!force)
    {
      char line[64] = "";
      printf ("%s\nAre you sure you want to continue? [y/N] ",
              all ? "WARNING! This will remove all images without at least one container associated to them."
                  : "WARNING! This will remove all dangling images.");
      fflush (stdout);
      if (fgets (line, sizeof (line), stdin) == NULL || (line[0] != 'y' && line[0] != 'Y')
          || (line[1] != '\n' && line[1] != '\0'))
        return 0;
    }
  /* {"dangling":["false"]}: every unused image.  */
  if (client_json (&ctx->client, "POST",
                   all ? "/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D" : "/images/prune", NULL, &v,
                   &err)
      < 0)
    return cli_fail (&err);
  print_deleted_images (v);
  space = format_human_size ((double) json_int_or (json_get (v, "SpaceReclaimed"), 0), 4);
  printf ("Total reclaimed space: %s\n", space ? space : "0B");
  return 0;
}
