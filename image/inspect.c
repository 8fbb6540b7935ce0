/* Read-only views of the store: GET /images/json, GET /images/{name}/json
   and the raw config blob for the container manager.  */
#include "store_internal.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZERO_TIME "0001-01-01T00:00:00Z"

int64_t
store_layer_size_locked (struct image_store *s, const char *chain_id)
{
  cleanup_free char *path = store_path (s, "layers/%s/layer.json", chain_id + 7);
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  int64_t size = 0;

  if (path == NULL || json_parse_file (path, &v, &err) < 0 || json_get_int64 (v, "size", "size", &size, NULL, &err) < 0)
    {
      skiff_error_release (&err);
      return 0;
    }
  return size;
}

static int64_t
image_size_locked (struct image_store *s, struct store_image *img)
{
  int64_t total = 0;
  size_t i;
  for (i = 0; i < img->n_layers; i++)
    total += store_layer_size_locked (s, img->chain_ids[i]);
  return total;
}

static const char *
config_string (struct store_image *img, const char *key)
{
  yajl_val v = json_get (img->tree, key);
  return v && YAJL_IS_STRING (v) ? YAJL_GET_STRING (v) : NULL;
}

/* RFC 3339 (with fraction and zone) to Unix seconds; 0 when unparsable.  */
static int64_t
parse_rfc3339 (const char *s)
{
  struct tm tm = { 0 };
  const char *p;
  int64_t t;

  if (s == NULL || (p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
    return 0;
  t = timegm (&tm);
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      ;
  if (*p == '+' || *p == '-')
    {
      int hh = 0, mm = 0;
      if (sscanf (p + 1, "%2d:%2d", &hh, &mm) == 2)
        t -= (*p == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    }
  return t;
}

static void
gen_strv (yajl_gen g, const char *key, char **v)
{
  size_t i;
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  for (i = 0; v && v[i]; i++)
    json_gen_str (g, v[i]);
  yajl_gen_array_close (g);
}

struct summary
{
  int64_t created;
  char *json;
};

static int
cmp_summary (const void *a, const void *b)
{
  const struct summary *x = a, *y = b;
  return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

static int
gen_summary_locked (struct image_store *s, const char *id, struct summary *out, skiff_error_t *err)
{
  __attribute__ ((cleanup (store_image_clear))) struct store_image img = { 0 };
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_strv char **tags = NULL, **digests = NULL;
  int64_t size;
  int ret = store_image_read_locked (s, id, &img, err);

  if (ret < 0)
    return ret;
  tags = store_tags_of_locked (s, id, false);
  digests = store_tags_of_locked (s, id, true);
  if (g == NULL || tags == NULL || digests == NULL)
    return skiff_error_make (err, ENOMEM, "list images");
  size = image_size_locked (s, &img);
  out->created = parse_rfc3339 (config_string (&img, "created"));
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "Containers", -1);
  json_gen_kv_int (g, "Created", out->created);
  json_gen_kv_str (g, "Id", id);
  json_gen_str (g, "Labels");
  json_gen_value (g, json_get (json_get (img.tree, "config"), "Labels"));
  json_gen_kv_str (g, "ParentId", "");
  if (tags[0] == NULL && digests[0] == NULL)
    {
      /* Docker's placeholders for dangling images.  */
      char *none_digest[] = { (char *) "<none>@<none>", NULL };
      char *none_tag[] = { (char *) "<none>:<none>", NULL };
      gen_strv (g, "RepoDigests", none_digest);
      gen_strv (g, "RepoTags", none_tag);
    }
  else
    {
      gen_strv (g, "RepoDigests", digests);
      gen_strv (g, "RepoTags", tags);
    }
  json_gen_kv_int (g, "SharedSize", -1);
  json_gen_kv_int (g, "Size", size);
  json_gen_kv_int (g, "VirtualSize", size);
  yajl_gen_map_close (g);
  out->json = json_gen_steal (g, NULL);
  if (out->json == NULL)
    return skiff_error_make (err, ENOMEM, "list images");
  return 0;
}

int
image_list_json (struct image_store *s, bool all, char **json, skiff_error_t *err)
{
  cleanup_strv char **ids = NULL;
  struct summary *sums = NULL;
  size_t i, n, total = 2;
  char *out, *p;
  int ret = 0;

  /* No image has a parent here (no builds), so `all` shows nothing more.  */
  (void) all;
  {
    store_scoped_lock (s);
    if (store_list_ids_locked (s, &ids, err) < 0)
      return -1;
    n = strv_len (ids);
    sums = calloc (n + 1, sizeof (*sums));
    if (sums == NULL)
      return skiff_error_make (err, ENOMEM, "list images");
    for (i = 0; i < n && ret == 0; i++)
      ret = gen_summary_locked (s, ids[i], &sums[i], err);
  }
  if (ret == 0)
    {
      qsort (sums, n, sizeof (*sums), cmp_summary);
      for (i = 0; i < n; i++)
        total += strlen (sums[i].json) + 1;
      out = p = malloc (total + 1);
      if (out == NULL)
        ret = skiff_error_make (err, ENOMEM, "list images");
      else
        {
          *p++ = '[';
          for (i = 0; i < n; i++)
            p += sprintf (p, "%s%s", i ? "," : "", sums[i].json);
          *p++ = ']';
          *p = '\0';
          *json = out;
        }
    }
  for (i = 0; i < n; i++)
    free (sums[i].json);
  free (sums);
  return ret;
}

static void
gen_graph_driver (yajl_gen g, struct image_store *s, struct store_image *img)
{
  cleanup_free char *lower = NULL;
  size_t i, len = 0;

  json_gen_str (g, "GraphDriver");
  yajl_gen_map_open (g);
  json_gen_str (g, "Data");
  if (img->n_layers == 0)
    yajl_gen_null (g);
  else
    {
      const char *top = img->chain_ids[img->n_layers - 1] + 7;
      cleanup_free char *upper = store_path (s, "layers/%s/diff", top);
      cleanup_free char *merged = store_path (s, "layers/%s/merged", top);
      cleanup_free char *work = store_path (s, "layers/%s/work", top);

      yajl_gen_map_open (g);
      /* Lower dirs top first, as overlayfs' lowerdir lists them.  */
      for (i = img->n_layers - 1; i-- > 0;)
        {
          cleanup_free char *d = store_path (s, "layers/%s/diff", img->chain_ids[i] + 7);
          char *nl = d ? realloc (lower, len + strlen (d) + 2) : NULL;
          if (nl == NULL)
            break;
          lower = nl;
          len += sprintf (lower + len, "%s%s", len ? ":" : "", d);
        }
      if (lower)
        json_gen_kv_str (g, "LowerDir", lower);
      json_gen_kv_str (g, "MergedDir", merged);
      json_gen_kv_str (g, "UpperDir", upper);
      json_gen_kv_str (g, "WorkDir", work);
      yajl_gen_map_close (g);
    }
  json_gen_kv_str (g, "Name", "overlay2");
  yajl_gen_map_close (g);
}

static void
gen_metadata (yajl_gen g, struct image_store *s, const char *id)
{
  cleanup_free char *path = store_path (s, "metadata/%s.json", id + 7);
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  yajl_val t = NULL;

  if (path && fs_exists (path) && json_parse_file (path, &v, &err) == 0)
    t = json_get (v, "LastTagTime");
  skiff_error_release (&err);
  json_gen_str (g, "Metadata");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "LastTagTime", t && YAJL_IS_STRING (t) ? YAJL_GET_STRING (t) : ZERO_TIME);
  yajl_gen_map_close (g);
}

static void
gen_kv_config_str (yajl_gen g, const char *key, struct store_image *img, const char *ckey, const char *dflt)
{
  const char *v = config_string (img, ckey);
  json_gen_kv_str (g, key, v ? v : dflt);
}

int
image_inspect_json (struct image_store *s, const char *name, char **json, skiff_error_t *err)
{
  __attribute__ ((cleanup (store_image_clear))) struct store_image img = { 0 };
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_strv char **tags = NULL, **digests = NULL;
  char id[IMAGE_ID_LEN + 1];
  yajl_val cc, variant;
  int64_t size;
  int ret;
  store_scoped_lock (s);

  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "inspect image");
  ret = store_resolve_locked (s, name, id, err);
  if (ret < 0)
    return ret;
  ret = store_image_read_locked (s, id, &img, err);
  if (ret < 0)
    return ret;
  tags = store_tags_of_locked (s, id, false);
  digests = store_tags_of_locked (s, id, true);
  if (tags == NULL || digests == NULL)
    return skiff_error_make (err, ENOMEM, "inspect image");
  size = image_size_locked (s, &img);

  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Id", id);
  gen_strv (g, "RepoTags", tags);
  gen_strv (g, "RepoDigests", digests);
  json_gen_kv_str (g, "Parent", "");
  gen_kv_config_str (g, "Comment", &img, "comment", "");
  gen_kv_config_str (g, "Created", &img, "created", ZERO_TIME);
  gen_kv_config_str (g, "Container", &img, "container", "");
  json_gen_str (g, "ContainerConfig");
  cc = json_get (img.tree, "container_config");
  if (cc && YAJL_IS_OBJECT (cc))
    json_gen_value (g, cc);
  else
    store_gen_container_config (g, NULL);
  gen_kv_config_str (g, "DockerVersion", &img, "docker_version", "");
  gen_kv_config_str (g, "Author", &img, "author", "");
  json_gen_str (g, "Config");
  json_gen_value (g, json_get (img.tree, "config"));
  gen_kv_config_str (g, "Architecture", &img, "architecture", "");
  variant = json_get (img.tree, "variant");
  if (variant && YAJL_IS_STRING (variant) && *YAJL_GET_STRING (variant))
    json_gen_kv_str (g, "Variant", YAJL_GET_STRING (variant));
  gen_kv_config_str (g, "Os", &img, "os", "");
  json_gen_kv_int (g, "Size", size);
  json_gen_kv_int (g, "VirtualSize", size);
  gen_graph_driver (g, s, &img);
  json_gen_str (g, "RootFS");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Type", "layers");
  gen_strv (g, "Layers", img.diff_ids);
  yajl_gen_map_close (g);
  gen_metadata (g, s, id);
  yajl_gen_map_close (g);
  *json = json_gen_steal (g, NULL);
  if (*json == NULL)
    return skiff_error_make (err, ENOMEM, "inspect image");
  return 0;
}

int
image_config_json (struct image_store *s, const char *image_id, char **json, skiff_error_t *err)
{
  __attribute__ ((cleanup (store_image_clear))) struct store_image img = { 0 };
  int ret;
  store_scoped_lock (s);

  ret = store_image_read_locked (s, image_id, &img, err);
  if (ret < 0)
    return ret;
  *json = steal_pointer (&img.config);
  return 0;
}
