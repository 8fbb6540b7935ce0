/* skiff-image load, import, save: archives in and out of the store
   (libarchive).  */
#include "helper.h"
#include "cleanup.h"
#include "json.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The id of each "Loaded image: NAME" / "Loaded image ID: ID" line, for
   skiffd's events; null when unknown.  */
static void
gen_loaded_ids (struct helper *h, char **loaded)
{
  static const char tagged[] = "Loaded image: ", by_id[] = "Loaded image ID: ";
  size_t i;

  json_gen_str (h->result, "ids");
  yajl_gen_array_open (h->result);
  for (i = 0; loaded && loaded[i]; i++)
    {
      cleanup_free char *id = NULL;
      skiff_error_t err = NULL;
      if (strncmp (loaded[i], by_id, sizeof (by_id) - 1) == 0)
        id = strdup (loaded[i] + sizeof (by_id) - 1);
      else if (strncmp (loaded[i], tagged, sizeof (tagged) - 1) == 0
               && image_resolve (h->store, loaded[i] + sizeof (tagged) - 1, &id, &err) < 0)
        skiff_error_release (&err);
      if (id)
        json_gen_str (h->result, id);
      else
        yajl_gen_null (h->result);
    }
  yajl_gen_array_close (h->result);
}

int
cmd_load (struct helper *h, int argc, char **argv, skiff_error_t *err)
{
  cleanup_strv char **loaded = NULL;
  size_t i;
  int ret;

  if (argc != 1)
    return skiff_error_make (err, 0, "usage: load (the archive on stdin)"), IMAGE_ERR_INVALID;
  ret = image_load (h->store, STDIN_FILENO, &loaded, err);
  if (ret < 0)
    return ret;
  json_gen_str (h->result, "loaded");
  yajl_gen_array_open (h->result);
  for (i = 0; loaded && loaded[i]; i++)
    json_gen_str (h->result, loaded[i]);
  yajl_gen_array_close (h->result);
  gen_loaded_ids (h, loaded);
  return 0;
}

int
cmd_import (struct helper *h, int argc, char **argv, skiff_error_t *err)
{
  static const char usage[] = "usage: import [--tag REPO[:TAG]] [--change INSTRUCTION]... [--message TEXT]";
  static const struct option opts[] = {
    { "tag", required_argument, NULL, 't' },
    { "change", required_argument, NULL, 'c' },
    { "message", required_argument, NULL, 'm' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free const char **changes = calloc (argc + 1, sizeof (char *));
  cleanup_free char *id = NULL;
  const char *tag = NULL, *message = NULL;
  size_t n = 0;
  int c, ret;

  if (changes == NULL)
    return skiff_error_make (err, ENOMEM, "import");
  optind = 1;
  while ((c = getopt_long (argc, argv, "+", opts, NULL)) != -1)
    switch (c)
      {
      case 't':
        tag = optarg;
        break;
      case 'c':
        changes[n++] = optarg;
        break;
      case 'm':
        message = optarg;
        break;
      default:
        return skiff_error_make (err, 0, "%s", usage), IMAGE_ERR_INVALID;
      }
  if (optind != argc)
    return skiff_error_make (err, 0, "%s", usage), IMAGE_ERR_INVALID;
  ret = image_import (h->store, STDIN_FILENO, tag, changes, message, &id, err);
  if (ret < 0)
    return ret;
  json_gen_kv_str (h->result, "id", id);
  return 0;
}

int
cmd_save (struct helper *h, int argc, char **argv, skiff_error_t *err)
{
  int i, ret, first = helper_operands (argc, argv);

  if (first < 0 || first == argc)
    return skiff_error_make (err, 0, "usage: save NAME... (the archive on stdout)"), IMAGE_ERR_INVALID;
  ret = image_save (h->store, (const char *const *) argv + first, STDOUT_FILENO, err);
  if (ret < 0)
    return ret;
  /* skiffd's EOF is the end of the archive.  */
  close (STDOUT_FILENO);
  json_gen_str (h->result, "ids");
  yajl_gen_array_open (h->result);
  for (i = first; i < argc; i++)
    {
      cleanup_free char *id = NULL;
      skiff_error_t e = NULL;
      if (image_resolve (h->store, argv[i], &id, &e) < 0)
        skiff_error_release (&e);
      json_gen_str (h->result, id ? id : argv[i]);
    }
  yajl_gen_array_close (h->result);
  return 0;
}
