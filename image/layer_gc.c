/* Layers leaving the store: deletion and garbage collection of layers no
   image and no container rootfs uses.  */
#include "store_internal.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "reference.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
store_delete_layer_locked (struct image_store *s, const char *chain_id, skiff_error_t *err)
{
  cleanup_free char *path = store_path (s, "layers/%s", chain_id + 7);
  cleanup_free char *trash = NULL;
  cleanup_free char *dest = NULL;

  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "delete layer");
  if (store_make_staging (s, "deleted", &trash, err) < 0)
    return -1;
  if (asprintf (&dest, "%s/layer", trash) < 0)
    return skiff_error_make (err, ENOMEM, "delete layer");
  if (rename (path, dest) < 0)
    {
      int saved = errno;
      rmdir (trash);
      if (saved == ENOENT)
        return 0;
      return skiff_error_make (err, saved, "move `%s` to `%s`", path, dest);
    }
  return fs_remove_tree (trash, err);
}

/* Chain ids that container rootfs mounts use (overlay/<id>/lower).  */
static int
add_container_refs (struct image_store *s, char ***refs, skiff_error_t *err)
{
  cleanup_free char *overlay = NULL;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (asprintf (&overlay, "%s/overlay", s->root) < 0)
    return skiff_error_make (err, ENOMEM, "layer references");
  d = opendir (overlay);
  if (d == NULL)
    return errno == ENOENT ? 0 : skiff_error_make (err, errno, "open `%s`", overlay);
  while ((de = readdir (d)))
    {
      cleanup_free char *path = NULL;
      cleanup_free char *text = NULL;
      char *line, *save = NULL;
      if (de->d_name[0] == '.')
        continue;
      if (asprintf (&path, "%s/%s/lower", overlay, de->d_name) < 0)
        return skiff_error_make (err, ENOMEM, "layer references");
      if (fs_read_file (path, &text, NULL, err) < 0)
        {
          if ((*err)->errno_ != ENOENT)
            return -1;
          skiff_error_release (err);
          continue;
        }
      for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
        if (strv_add (refs, line) < 0)
          return skiff_error_make (err, ENOMEM, "layer references");
    }
  return 0;
}

int
store_gc_layers_locked (struct image_store *s, char **candidates, char ***deleted, skiff_error_t *err)
{
  cleanup_strv char **ids = NULL;
  cleanup_strv char **refs = calloc (1, sizeof (char *));
  cleanup_strv char **all = NULL;
  size_t i, j;

  if (refs == NULL)
    return skiff_error_make (err, ENOMEM, "collect layers");
  if (store_list_ids_locked (s, &ids, err) < 0)
    return -1;
  for (i = 0; ids[i]; i++)
    {
      __attribute__ ((cleanup (store_image_clear))) struct store_image img = { 0 };
      if (store_image_read_locked (s, ids[i], &img, err) < 0)
        {
          /* Unsure what is used: delete nothing.  */
          log_warning ("not collecting layers: %s", (*err)->msg);
          skiff_error_release (err);
          return 0;
        }
      for (j = 0; j < img.n_layers; j++)
        if (strv_add (&refs, img.chain_ids[j]) < 0)
          return skiff_error_make (err, ENOMEM, "collect layers");
    }
  if (add_container_refs (s, &refs, err) < 0)
    return -1;
  if (candidates == NULL)
    {
      cleanup_free char *layers = store_path (s, "layers");
      cleanup_dir DIR *d = NULL;
      struct dirent *de;
      all = calloc (1, sizeof (char *));
      if (layers == NULL || all == NULL)
        return skiff_error_make (err, ENOMEM, "collect layers");
      d = opendir (layers);
      if (d == NULL)
        return skiff_error_make (err, errno, "open `%s`", layers);
      while ((de = readdir (d)))
        {
          char chain[IMAGE_ID_LEN + 1];
          if (strlen (de->d_name) != 64)
            continue;
          snprintf (chain, sizeof (chain), "sha256:%.64s", de->d_name);
          if (image_ref_is_digest (chain) && strv_add (&all, chain) < 0)
            return skiff_error_make (err, ENOMEM, "collect layers");
        }
      candidates = all;
    }
  for (i = 0; candidates[i]; i++)
    {
      cleanup_free char *path = store_path (s, "layers/%s", candidates[i] + 7);
      if (strv_contains (refs, candidates[i]) || path == NULL || !fs_exists (path))
        continue;
      if (store_delete_layer_locked (s, candidates[i], err) < 0)
        return -1;
      if (deleted && strv_add (deleted, candidates[i]) < 0)
        return skiff_error_make (err, ENOMEM, "collect layers");
    }
  return 0;
}
