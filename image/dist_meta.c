/* Layer blob metadata by diff id (dist_meta.h).  */
#include "dist_meta.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "reference.h"
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
dist_sources_free (struct dist_source *v, size_t n)
{
  size_t i;
  for (i = 0; v && i < n; i++)
    {
      free (v[i].digest);
      free (v[i].repository);
    }
  free (v);
}

static char *
meta_path (struct image_store *s, const char *diff_id)
{
  if (!image_ref_is_digest (diff_id))
    return NULL;
  return store_path (s, "distribution/%s.json", diff_id + 7);
}

/* Reads the file; a missing or unreadable one is an empty list.  */
static int
read_locked (const char *path, struct dist_source **out, size_t *n, skiff_error_t *err)
{
  cleanup_json yajl_val root = NULL;
  skiff_error_t ignored = NULL;
  struct dist_source *v;
  size_t i;

  *out = NULL;
  *n = 0;
  if (!fs_exists (path))
    return 0;
  if (json_parse_file (path, &root, &ignored) < 0 || !YAJL_IS_ARRAY (root))
    {
      skiff_error_release (&ignored);
      return 0;
    }
  v = calloc (root->u.array.len + 1, sizeof (*v));
  if (v == NULL)
    return skiff_error_make (err, ENOMEM, "layer metadata");
  for (i = 0; i < root->u.array.len; i++)
    {
      yajl_val e = root->u.array.values[i];
      const char *digest = json_str_or (json_get (e, "Digest"), "");
      const char *repo = json_str_or (json_get (e, "SourceRepository"), "");
      int64_t size = json_int_or (json_get (e, "Size"), -1);
      if (!image_ref_is_digest (digest) || *repo == '\0' || size < 0)
        continue;
      v[*n].digest = strdup (digest);
      v[*n].repository = strdup (repo);
      v[*n].size = size;
      if (v[*n].digest == NULL || v[*n].repository == NULL)
        {
          dist_sources_free (v, *n + 1);
          *n = 0;
          return skiff_error_make (err, ENOMEM, "layer metadata");
        }
      (*n)++;
    }
  *out = v;
  return 0;
}

int
dist_meta_get (struct image_store *s, const char *diff_id, struct dist_source **out, size_t *n, skiff_error_t *err)
{
  cleanup_free char *path = meta_path (s, diff_id);
  store_scoped_lock (s);

  if (path == NULL)
    return skiff_error_make (err, 0, "layer metadata: bad diff id `%s`", diff_id);
  return read_locked (path, out, n, err);
}

int
dist_meta_add (struct image_store *s, const char *diff_id, const char *digest, int64_t size,
               const char *repository, skiff_error_t *err)
{
  cleanup_free char *path = meta_path (s, diff_id);
  cleanup_free char *dir = store_path (s, "distribution");
  cleanup_gen yajl_gen g = json_gen_new (false);
  struct dist_source *old = NULL;
  size_t n = 0, i, kept = 1;
  const unsigned char *text;
  size_t len;
  int ret;
  store_scoped_lock (s);

  if (path == NULL || !image_ref_is_digest (digest))
    return skiff_error_make (err, 0, "layer metadata: bad digest");
  if (dir == NULL || g == NULL)
    return skiff_error_make (err, ENOMEM, "layer metadata");
  if (fs_mkdir_p (dir, 0700, err) < 0 || read_locked (path, &old, &n, err) < 0)
    return -1;
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Digest", digest);
  json_gen_kv_int (g, "Size", size);
  json_gen_kv_str (g, "SourceRepository", repository);
  yajl_gen_map_close (g);
  for (i = 0; i < n && kept < DIST_META_MAX; i++)
    {
      if (strcmp (old[i].digest, digest) == 0 && strcmp (old[i].repository, repository) == 0)
        continue;
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "Digest", old[i].digest);
      json_gen_kv_int (g, "Size", old[i].size);
      json_gen_kv_str (g, "SourceRepository", old[i].repository);
      yajl_gen_map_close (g);
      kept++;
    }
  yajl_gen_array_close (g);
  dist_sources_free (old, n);
  if (yajl_gen_get_buf (g, &text, &len) != yajl_gen_status_ok)
    return skiff_error_make (err, ENOMEM, "layer metadata");
  /* Replaced atomically but not synced: a hint that a power loss may
     lose costs an upload, and two fsyncs per layer cost every pull.  */
  ret = fs_write_file_replace (path, text, len, 0600, err);
  return ret;
}
