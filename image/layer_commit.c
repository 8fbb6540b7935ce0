/* Layers and images entering the store: staging (hash check and unpack
   in a private directory, no lock held) and the all-or-nothing commit
   under the lock.  Used by skiff-image (load, import, pull), not by
   skiffd: unpacking needs libarchive.  */
#include "store_internal.h"
#include "cleanup.h"
#include "fs.h"
#include "layer_unpack.h"
#include "log.h"
#include "reference.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
layer_present (struct image_store *s, const char *chain_id)
{
  cleanup_free char *p = store_path (s, "layers/%s/layer.json", chain_id + 7);
  return p && fs_exists (p);
}

int
store_layer_stage_begin (const char *dir, skiff_error_t *err)
{
  cleanup_free char *diff = NULL;

  if (asprintf (&diff, "%s/diff", dir) < 0)
    return skiff_error_make (err, ENOMEM, "stage layer");
  if (mkdir (dir, 0700) < 0)
    return skiff_error_make (err, errno, "mkdir `%s`", dir);
  if (mkdir (diff, 0755) < 0)
    return skiff_error_make (err, errno, "mkdir `%s`", diff);
  return 0;
}

int
store_layer_stage_end (const char *dir, const char *tar, const char *diff_id, const char *chain_id,
                       const char *parent, int64_t size, skiff_error_t *err)
{
  cleanup_free char *kept = NULL;
  cleanup_free char *meta_path = NULL;
  cleanup_free char *meta = NULL;
  cleanup_gen yajl_gen g = json_gen_new (false);
  size_t len;

  if (asprintf (&kept, "%s/layer.tar", dir) < 0 || asprintf (&meta_path, "%s/layer.json", dir) < 0 || g == NULL)
    return skiff_error_make (err, ENOMEM, "stage layer %s", diff_id);
  /* A link, not a rename: another image of the same archive may use the
     same file at another position in its chain.  */
  if (link (tar, kept) < 0)
    return skiff_error_make (err, errno, "link `%s` to `%s`", tar, kept);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "diff_id", diff_id);
  json_gen_kv_str (g, "chain_id", chain_id);
  json_gen_kv_str (g, "parent", parent ? parent : "");
  json_gen_kv_int (g, "size", size);
  yajl_gen_map_close (g);
  meta = json_gen_steal (g, &len);
  if (meta == NULL)
    return skiff_error_make (err, ENOMEM, "stage layer %s", diff_id);
  return fs_write_file_atomic (meta_path, meta, len, 0600, err);
}

int
store_layer_check_diff_id (size_t index, const char *want, const char *got, int ret, skiff_error_t *err)
{
  if (got[0] && strcmp (got, want) != 0)
    {
      /* The wrong bytes explain whatever else went wrong.  */
      skiff_error_release (err);
      return image_invalid (
          skiff_error_make (err, 0, "invalid diffID for layer %zu: expected \"%s\", got \"%s\"", index, want, got));
    }
  return ret;
}

/* Unpacks tar into dir/diff, checking its diff id on the way, links it
   as dir/layer.tar, writes dir/layer.json.  */
static int
stage_one (const char *dir, const char *tar, size_t index, const char *diff_id, const char *chain_id,
           const char *parent, skiff_error_t *err)
{
  cleanup_free char *diff = NULL;
  char got[IMAGE_ID_LEN + 1];
  int64_t size = 0;
  int ret;

  if (asprintf (&diff, "%s/diff", dir) < 0)
    return skiff_error_make (err, ENOMEM, "stage layer %s", diff_id);
  if (store_layer_stage_begin (dir, err) < 0)
    return -1;
  ret = layer_unpack_diff_id (tar, diff, &size, got, err);
  if (ret < 0 && got[0] == '\0')
    skiff_error_wrap (err, "layer %s", diff_id);
  ret = store_layer_check_diff_id (index, diff_id, got, ret, err);
  if (ret < 0)
    return ret;
  return store_layer_stage_end (dir, tar, diff_id, chain_id, parent, size, err);
}

static bool
already_staged (struct store_pending *p, size_t k, size_t i)
{
  const char *chain = p[k].img.chain_ids[i];
  size_t kk, ii;
  for (kk = 0; kk <= k; kk++)
    for (ii = 0; ii < (kk == k ? i : p[kk].img.n_layers); ii++)
      if (p[kk].stage_dirs[ii] && strcmp (p[kk].img.chain_ids[ii], chain) == 0)
        return true;
  return false;
}

/* The diff id of a layer that is not unpacked (the store has it, or
   this archive's other image stages it): checked all the same.  */
static int
check_only (const char *tar, size_t index, const char *diff_id, skiff_error_t *err)
{
  char got[IMAGE_ID_LEN + 1];
  int ret = layer_diff_id (tar, got, err);
  if (ret < 0)
    return ret;
  return store_layer_check_diff_id (index, diff_id, got, 0, err);
}

int
store_stage_layers (struct image_store *s, const char *staging, struct store_pending *p, size_t n,
                    skiff_error_t *err)
{
  size_t k, i;

  for (k = 0; k < n; k++)
    {
      if (strv_len (p[k].layer_tars) != p[k].img.n_layers)
        return image_invalid (skiff_error_make (err, 0, "image %s: %zu layers in the manifest, %zu in the config",
                                                p[k].img.id, strv_len (p[k].layer_tars), p[k].img.n_layers));
      p[k].stage_dirs = calloc (p[k].img.n_layers + 1, sizeof (char *));
      if (p[k].stage_dirs == NULL)
        return skiff_error_make (err, ENOMEM, "stage layers");
    }
  /* One read of each layer: unpacked and hashed together.  */
  for (k = 0; k < n; k++)
    for (i = 0; i < p[k].img.n_layers; i++)
      {
        cleanup_free char *dir = NULL;
        bool present;
        int ret;
        {
          store_scoped_lock (s);
          present = layer_present (s, p[k].img.chain_ids[i]);
        }
        if (present || already_staged (p, k, i))
          {
            ret = check_only (p[k].layer_tars[i], i, p[k].img.diff_ids[i], err);
            if (ret < 0)
              return ret;
            continue;
          }
        if (asprintf (&dir, "%s/layer-%zu-%zu", staging, k, i) < 0)
          return skiff_error_make (err, ENOMEM, "stage layers");
        ret = stage_one (dir, p[k].layer_tars[i], i, p[k].img.diff_ids[i], p[k].img.chain_ids[i],
                         i > 0 ? p[k].img.chain_ids[i - 1] : NULL, err);
        if (ret < 0)
          return ret;
        p[k].stage_dirs[i] = steal_pointer (&dir);
      }
  return 0;
}

static void
rollback (struct image_store *s, char **layers, char **configs)
{
  skiff_error_t e = NULL;
  for (; configs && *configs; configs++)
    {
      cleanup_free char *p = store_path (s, "configs/%s.json", *configs + 7);
      if (p)
        unlink (p);
    }
  for (; layers && *layers; layers++)
    if (store_delete_layer_locked (s, *layers, &e) < 0)
      {
        log_warning ("roll back layer %s: %s", *layers, e->msg);
        skiff_error_release (&e);
      }
}

static int
place_layer (struct image_store *s, struct store_pending *p, size_t i, skiff_error_t *err)
{
  cleanup_free char *dest = store_path (s, "layers/%s", p->img.chain_ids[i] + 7);
  cleanup_free char *staging = NULL;
  cleanup_free char *dir = NULL;
  int ret;

  if (dest == NULL)
    return skiff_error_make (err, ENOMEM, "commit layer");
  if (p->stage_dirs[i] == NULL)
    {
      /* Present when staging began but deleted since: unpack it now.  */
      if (store_make_staging (s, "late", &staging, err) < 0)
        return -1;
      if (asprintf (&dir, "%s/layer", staging) < 0)
        return skiff_error_make (err, ENOMEM, "commit layer");
      ret = stage_one (dir, p->layer_tars[i], i, p->img.diff_ids[i], p->img.chain_ids[i],
                       i > 0 ? p->img.chain_ids[i - 1] : NULL, err);
      if (ret < 0)
        {
          skiff_error_t ignored = NULL;
          if (fs_remove_tree (staging, &ignored) < 0)
            skiff_error_release (&ignored);
          return ret;
        }
    }
  if (rename (dir ? dir : p->stage_dirs[i], dest) < 0)
    return skiff_error_make (err, errno, "move layer into `%s`", dest);
  if (staging)
    rmdir (staging);
  return 0;
}

int
store_commit_locked (struct image_store *s, struct store_pending *p, size_t n, char ***loaded, skiff_error_t *err)
{
  cleanup_strv char **new_layers = calloc (1, sizeof (char *));
  cleanup_strv char **new_configs = calloc (1, sizeof (char *));
  cleanup_strv char **lines = calloc (1, sizeof (char *));
  size_t k, i;
  int ret;

  if (new_layers == NULL || new_configs == NULL || lines == NULL)
    return skiff_error_make (err, ENOMEM, "commit images");
  for (k = 0; k < n; k++)
    for (i = 0; i < p[k].img.n_layers; i++)
      {
        if (layer_present (s, p[k].img.chain_ids[i]))
          continue;
        ret = place_layer (s, &p[k], i, err);
        if (ret < 0 || strv_add (&new_layers, p[k].img.chain_ids[i]) < 0)
          {
            rollback (s, new_layers, new_configs);
            return ret < 0 ? ret : skiff_error_make (err, ENOMEM, "commit images");
          }
      }
  for (k = 0; k < n; k++)
    {
      cleanup_free char *path = store_path (s, "configs/%s.json", p[k].img.id + 7);
      if (path == NULL)
        {
          rollback (s, new_layers, new_configs);
          return skiff_error_make (err, ENOMEM, "commit images");
        }
      if (fs_exists (path))
        continue;
      if (fs_write_file_atomic (path, p[k].img.config, p[k].img.config_len, 0600, err) < 0
          || strv_add (&new_configs, p[k].img.id) < 0)
        {
          rollback (s, new_layers, new_configs);
          return skiff_error_make (err, ENOMEM, "commit images");
        }
    }
  for (k = 0; k < n; k++)
    {
      for (i = 0; p[k].tags && p[k].tags[i]; i++)
        {
          cleanup_free char *line = NULL;
          cleanup_free char *familiar = image_ref_familiarize (p[k].tags[i]);
          int t = store_find_tag_locked (s, p[k].tags[i]);
          if (familiar == NULL)
            goto nomem;
          if (t >= 0 && strcmp (s->tags[t].id, p[k].img.id) != 0)
            {
              if (asprintf (&line, "The image %s already exists, renaming the old one with ID %s to empty string",
                            familiar, s->tags[t].id)
                      < 0
                  || strv_add (&lines, line) < 0)
                goto nomem;
              free (steal_pointer (&line));
            }
          if (store_set_tag_locked (s, p[k].tags[i], p[k].img.id, err) < 0)
            goto nomem;
          if (asprintf (&line, "Loaded image: %s", familiar) < 0 || strv_add (&lines, line) < 0)
            goto nomem;
        }
      if (p[k].tags == NULL || p[k].tags[0] == NULL)
        {
          cleanup_free char *line = NULL;
          if (asprintf (&line, "Loaded image ID: %s", p[k].img.id) < 0 || strv_add (&lines, line) < 0)
            goto nomem;
        }
    }
  if (store_save_tags_locked (s, err) < 0)
    {
      rollback (s, new_layers, new_configs);
      return -1;
    }
  for (k = 0; k < n; k++)
    if (p[k].tags && p[k].tags[0])
      store_touch_tag_time_locked (s, p[k].img.id);
  if (loaded)
    *loaded = steal_pointer (&lines);
  return 0;

nomem:
  {
    skiff_error_t ignored = NULL;
    if (store_load_tags_locked (s, &ignored) < 0)
      skiff_error_release (&ignored);
  }
  rollback (s, new_layers, new_configs);
  return skiff_error_make (err, ENOMEM, "commit images");
}
