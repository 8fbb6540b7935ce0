/* The image store's metadata: opening, the lock, image configs, the tag
   table (repositories.json) and name resolution.  */
#include "store_internal.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "reference.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_MAX (16 * 1024 * 1024)

size_t
strv_len (char **v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

int
strv_add (char ***v, const char *s)
{
  size_t n = strv_len (*v);
  char **nv = realloc (*v, (n + 2) * sizeof (char *));
  if (nv == NULL)
    return -1;
  *v = nv;
  nv[n] = strdup (s);
  nv[n + 1] = NULL;
  return nv[n] ? 0 : -1;
}

bool
strv_contains (char **v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

char *
store_path (struct image_store *s, const char *fmt, ...)
{
  cleanup_free char *rel = NULL;
  char *path = NULL;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&rel, fmt, ap);
  va_end (ap);
  if (r < 0)
    return NULL;
  if (asprintf (&path, "%s/%s", s->dir, rel) < 0)
    return NULL;
  return path;
}

int
store_make_staging (struct image_store *s, const char *prefix, char **dir, skiff_error_t *err)
{
  char *d = NULL;
  if (asprintf (&d, "%s/%s-XXXXXX", s->staging, prefix) < 0)
    d = NULL;
  if (d == NULL)
    return skiff_error_make (err, ENOMEM, "staging directory");
  if (mkdtemp (d) == NULL)
    {
      int saved = errno;
      skiff_error_make (err, saved, "create staging directory `%s`", d);
      free (d);
      return -1;
    }
  *dir = d;
  return 0;
}

void
store_cleanup_staging (char **dir)
{
  skiff_error_t ignored = NULL;
  if (*dir && fs_remove_tree (*dir, &ignored) < 0)
    {
      log_warning ("remove `%s`: %s", *dir, ignored->msg);
      skiff_error_release (&ignored);
    }
  free (*dir);
}

int
store_sha256_hex (const void *data, size_t len, char out[65], skiff_error_t *err)
{
  if (SHA256Data (data, len, out) == NULL)
    return skiff_error_make (err, ENOMEM, "sha256");
  return 0;
}

void
store_image_clear (struct store_image *img)
{
  free (img->config);
  if (img->tree)
    yajl_tree_free (img->tree);
  cleanup_strvp (&img->diff_ids);
  cleanup_strvp (&img->chain_ids);
  memset (img, 0, sizeof (*img));
}

void
store_pending_clear (struct store_pending *p)
{
  size_t i;

  /* stage_dirs has n_layers slots, some NULL.  */
  for (i = 0; p->stage_dirs && i < p->img.n_layers; i++)
    free (p->stage_dirs[i]);
  free (p->stage_dirs);
  store_image_clear (&p->img);
  cleanup_strvp (&p->layer_tars);
  cleanup_strvp (&p->tags);
  memset (p, 0, sizeof (*p));
}

int
store_image_parse (const char *config, size_t len, const char *id, struct store_image *img, skiff_error_t *err)
{
  yajl_val rootfs, diff_ids;
  char hex[65];
  size_t i;

  memset (img, 0, sizeof (*img));
  if (id)
    snprintf (img->id, sizeof (img->id), "%s", id);
  else
    {
      if (store_sha256_hex (config, len, hex, err) < 0)
        return -1;
      snprintf (img->id, sizeof (img->id), "sha256:%s", hex);
    }
  img->config = strndup (config, len);
  if (img->config == NULL)
    return skiff_error_make (err, ENOMEM, "image config");
  img->config_len = len;
  if (json_parse (img->config, &img->tree, err) < 0 || !YAJL_IS_OBJECT (img->tree))
    {
      store_image_clear (img);
      return image_invalid (skiff_error_make (err, 0, "invalid image config"));
    }
  if (json_get_object (img->tree, "rootfs", "rootfs", &rootfs, err) < 0
      || json_get_array (rootfs, "diff_ids", "rootfs.diff_ids", &diff_ids, err) < 0
      || json_get_strv (rootfs, "diff_ids", "rootfs.diff_ids", &img->diff_ids, &img->n_layers, err) < 0)
    {
      store_image_clear (img);
      return image_invalid (skiff_error_wrap (err, "invalid image config"));
    }
  if (img->diff_ids == NULL && (img->diff_ids = calloc (1, sizeof (char *))) == NULL)
    return skiff_error_make (err, ENOMEM, "image config");
  img->chain_ids = calloc (img->n_layers + 1, sizeof (char *));
  if (img->chain_ids == NULL)
    return skiff_error_make (err, ENOMEM, "image config");
  for (i = 0; i < img->n_layers; i++)
    {
      cleanup_free char *pair = NULL;
      if (!image_ref_is_digest (img->diff_ids[i]))
        return image_invalid (
            skiff_error_make (err, 0, "invalid image config: bad diff id `%s`", img->diff_ids[i]));
      if (i == 0)
        {
          img->chain_ids[0] = strdup (img->diff_ids[0]);
          if (img->chain_ids[0] == NULL)
            return skiff_error_make (err, ENOMEM, "chain id");
          continue;
        }
      /* ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)).  */
      if (asprintf (&pair, "%s %s", img->chain_ids[i - 1], img->diff_ids[i]) < 0)
        return skiff_error_make (err, ENOMEM, "chain id");
      if (store_sha256_hex (pair, strlen (pair), hex, err) < 0)
        return -1;
      if (asprintf (&img->chain_ids[i], "sha256:%s", hex) < 0)
        {
          img->chain_ids[i] = NULL;
          return skiff_error_make (err, ENOMEM, "chain id");
        }
    }
  return 0;
}

int
store_image_read_locked (struct image_store *s, const char *id, struct store_image *img, skiff_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *text = NULL;
  size_t len;

  if (!image_ref_is_digest (id))
    return skiff_error_make (err, 0, "invalid image id `%s`", id);
  path = store_path (s, "configs/%s.json", id + 7);
  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "image `%s`", id);
  if (fs_read_file (path, &text, &len, err) < 0)
    {
      if ((*err)->errno_ == ENOENT)
        {
          skiff_error_release (err);
          return skiff_error_make (err, 0, "No such image: %s", id), IMAGE_ERR_NOT_FOUND;
        }
      return -1;
    }
  if (store_image_parse (text, len, id, img, err) < 0)
    return skiff_error_wrap (err, "image `%s`", id);
  return 0;
}

int
store_list_ids_locked (struct image_store *s, char ***ids, skiff_error_t *err)
{
  cleanup_free char *path = store_path (s, "configs");
  cleanup_dir DIR *d = NULL;
  cleanup_strv char **out = calloc (1, sizeof (char *));
  struct dirent *de;

  if (path == NULL || out == NULL)
    return skiff_error_make (err, ENOMEM, "list images");
  d = opendir (path);
  if (d == NULL)
    return skiff_error_make (err, errno, "open `%s`", path);
  while ((de = readdir (d)))
    {
      char id[IMAGE_ID_LEN + 1];
      size_t n = strlen (de->d_name);
      if (n != 64 + 5 || strcmp (de->d_name + 64, ".json") != 0)
        continue;
      snprintf (id, sizeof (id), "sha256:%.64s", de->d_name);
      if (!image_ref_is_digest (id))
        continue;
      if (strv_add (&out, id) < 0)
        return skiff_error_make (err, ENOMEM, "list images");
    }
  *ids = steal_pointer (&out);
  return 0;
}

/* ---- the lock ---- */

#define GENERATION_LEN 21 /* 20 digits and a newline */

static uint64_t
disk_generation (struct image_store *s)
{
  char buf[GENERATION_LEN + 1];
  ssize_t n = pread (s->lock_fd, buf, GENERATION_LEN, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  return strtoull (buf, NULL, 10);
}

static int
bump_generation_locked (struct image_store *s, skiff_error_t *err)
{
  char buf[GENERATION_LEN + 1];
  uint64_t g = disk_generation (s) + 1;

  snprintf (buf, sizeof (buf), "%020" PRIu64 "\n", g);
  if (pwrite (s->lock_fd, buf, GENERATION_LEN, 0) != GENERATION_LEN)
    return skiff_error_make (err, errno, "write `%s/lock`", s->dir);
  s->generation = g;
  return 0;
}

void
store_lock (struct image_store *s)
{
  skiff_error_t err = NULL;

  pthread_mutex_lock (&s->lock);
  while (flock (s->lock_fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        /* Only EBADF, EINVAL or ENOLCK: a bug or a kernel without locks.  */
        log_error ("lock `%s/lock`: %s", s->dir, strerror (errno));
        break;
      }
  if (disk_generation (s) != s->generation && store_load_tags_locked (s, &err) < 0)
    {
      log_error ("reload the image tags: %s", err->msg);
      skiff_error_release (&err);
    }
}

int
image_store_reload (struct image_store *s, skiff_error_t *err)
{
  store_scoped_lock (s);
  /* store_lock reloads and only logs a failure: report it here.  */
  if (disk_generation (s) != s->generation)
    return store_load_tags_locked (s, err);
  return 0;
}

void
store_unlock (struct image_store *s)
{
  flock (s->lock_fd, LOCK_UN);
  pthread_mutex_unlock (&s->lock);
}

/* ---- tags ---- */

static void
tags_free (struct store_tag *tags, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      free (tags[i].ref);
      free (tags[i].id);
    }
  free (tags);
}

int
store_find_tag_locked (struct image_store *s, const char *ref)
{
  size_t i;
  for (i = 0; i < s->n_tags; i++)
    if (strcmp (s->tags[i].ref, ref) == 0)
      return i;
  return -1;
}

int
store_set_tag_locked (struct image_store *s, const char *ref, const char *id, skiff_error_t *err)
{
  int i = store_find_tag_locked (s, ref);
  char *nid = strdup (id);
  struct store_tag *nt;

  if (nid == NULL)
    return skiff_error_make (err, ENOMEM, "tag `%s`", ref);
  if (i >= 0)
    {
      free (s->tags[i].id);
      s->tags[i].id = nid;
      return 0;
    }
  nt = realloc (s->tags, (s->n_tags + 1) * sizeof (*nt));
  if (nt == NULL)
    {
      free (nid);
      return skiff_error_make (err, ENOMEM, "tag `%s`", ref);
    }
  s->tags = nt;
  nt[s->n_tags].id = nid;
  nt[s->n_tags].ref = strdup (ref);
  if (nt[s->n_tags].ref == NULL)
    {
      free (nid);
      return skiff_error_make (err, ENOMEM, "tag `%s`", ref);
    }
  s->n_tags++;
  return 0;
}

void
store_del_tag_locked (struct image_store *s, const char *ref)
{
  int i = store_find_tag_locked (s, ref);
  if (i < 0)
    return;
  free (s->tags[i].ref);
  free (s->tags[i].id);
  memmove (&s->tags[i], &s->tags[i + 1], (s->n_tags - i - 1) * sizeof (*s->tags));
  s->n_tags--;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
store_tags_of_locked (struct image_store *s, const char *id, bool digests)
{
  char **out = calloc (1, sizeof (char *));
  size_t i;
  if (out == NULL)
    return NULL;
  for (i = 0; i < s->n_tags; i++)
    if (strcmp (s->tags[i].id, id) == 0 && (strchr (s->tags[i].ref, '@') != NULL) == digests)
      {
        cleanup_free char *f = image_ref_familiarize (s->tags[i].ref);
        if (f == NULL || strv_add (&out, f) < 0)
          {
            cleanup_strvp (&out);
            return NULL;
          }
      }
  qsort (out, strv_len (out), sizeof (char *), cmp_str);
  return out;
}

int
store_load_tags_locked (struct image_store *s, skiff_error_t *err)
{
  cleanup_free char *path = store_path (s, "repositories.json");
  cleanup_json yajl_val root = NULL;
  yajl_val repos;
  size_t i, j;

  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "load tags");
  s->generation = disk_generation (s);
  tags_free (s->tags, s->n_tags);
  s->tags = NULL;
  s->n_tags = 0;
  if (!fs_exists (path))
    return 0;
  if (json_parse_file (path, &root, err) < 0)
    return -1;
  if (json_get_object (root, "Repositories", "Repositories", &repos, err) < 0)
    return skiff_error_wrap (err, "`%s`", path);
  for (i = 0; repos && i < repos->u.object.len; i++)
    {
      yajl_val refs = repos->u.object.values[i];
      if (!YAJL_IS_OBJECT (refs))
        return skiff_error_make (err, 0, "`%s`: invalid repository `%s`", path, repos->u.object.keys[i]);
      for (j = 0; j < refs->u.object.len; j++)
        {
          cleanup_image_ref struct image_ref ref = { 0 };
          cleanup_free char *canon = NULL;
          yajl_val id = refs->u.object.values[j];
          if (!YAJL_IS_STRING (id) || !image_ref_is_digest (YAJL_GET_STRING (id))
              || image_ref_parse (refs->u.object.keys[j], &ref, err) < 0)
            return skiff_error_make (err, 0, "`%s`: invalid reference `%s`", path, refs->u.object.keys[j]);
          canon = image_ref_string (&ref);
          if (canon == NULL || store_set_tag_locked (s, canon, YAJL_GET_STRING (id), err) < 0)
            return skiff_error_make (err, ENOMEM, "load tags");
        }
    }
  return 0;
}

static int
cmp_tag (const void *a, const void *b)
{
  return strcmp (((const struct store_tag *) a)->ref, ((const struct store_tag *) b)->ref);
}

int
store_save_tags_locked (struct image_store *s, skiff_error_t *err)
{
  cleanup_free char *path = store_path (s, "repositories.json");
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *text = NULL;
  cleanup_free char *open_repo = NULL;
  size_t i, len;

  if (path == NULL || g == NULL)
    return skiff_error_make (err, ENOMEM, "save tags");
  /* Sorted by reference, so that one repository's tags are adjacent.  */
  qsort (s->tags, s->n_tags, sizeof (*s->tags), cmp_tag);
  yajl_gen_map_open (g);
  json_gen_str (g, "Repositories");
  yajl_gen_map_open (g);
  for (i = 0; i < s->n_tags; i++)
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      cleanup_free char *repo = NULL;
      cleanup_free char *familiar = NULL;
      if (image_ref_parse (s->tags[i].ref, &ref, err) < 0)
        return -1;
      repo = image_ref_familiar_name (&ref);
      familiar = image_ref_familiar_string (&ref);
      if (repo == NULL || familiar == NULL)
        return skiff_error_make (err, ENOMEM, "save tags");
      if (open_repo == NULL || strcmp (open_repo, repo) != 0)
        {
          if (open_repo)
            yajl_gen_map_close (g);
          json_gen_str (g, repo);
          yajl_gen_map_open (g);
          free (open_repo);
          open_repo = steal_pointer (&repo);
        }
      json_gen_kv_str (g, familiar, s->tags[i].id);
    }
  if (open_repo)
    yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  text = json_gen_steal (g, &len);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "save tags");
  /* The generation first: a crash in between costs another process a
     reload, never a stale table.  */
  if (bump_generation_locked (s, err) < 0 || fs_write_file_atomic (path, text, len, 0600, err) < 0)
    {
      skiff_error_t ignored = NULL;
      /* Memory must not claim what the disk does not hold.  */
      if (store_load_tags_locked (s, &ignored) < 0)
        skiff_error_release (&ignored);
      return -1;
    }
  return 0;
}

void
store_touch_tag_time_locked (struct image_store *s, const char *id)
{
  cleanup_free char *path = store_path (s, "metadata/%s.json", id + 7);
  cleanup_free char *text = NULL;
  skiff_error_t err = NULL;
  struct timespec ts;
  struct tm tm;
  char buf[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof (buf), "%Y-%m-%dT%H:%M:%S", &tm);
  if (path == NULL || asprintf (&text, "{\"LastTagTime\":\"%s.%09ldZ\"}", buf, ts.tv_nsec) < 0)
    return;
  if (fs_write_file_atomic (path, text, strlen (text), 0600, &err) < 0)
    {
      log_warning ("record tag time of %s: %s", id, err->msg);
      skiff_error_release (&err);
    }
}

/* ---- resolution ---- */

static int
not_found (skiff_error_t *err, const char *what)
{
  skiff_error_make (err, 0, "No such image: %s", what);
  return IMAGE_ERR_NOT_FOUND;
}

static bool
image_exists_locked (struct image_store *s, const char *id)
{
  cleanup_free char *path = store_path (s, "configs/%s.json", id + 7);
  return path && fs_exists (path);
}

int
store_resolve_locked (struct image_store *s, const char *name, char id[IMAGE_ID_LEN + 1], skiff_error_t *err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *canon = NULL;
  cleanup_free char *display = NULL;
  cleanup_strv char **ids = NULL;
  const char *prefix;
  size_t i, matches = 0;
  int t;

  /* A full id, with or without "sha256:".  */
  if (image_ref_is_digest (name) || (strlen (name) == 64 && image_ref_is_id_prefix (name)))
    {
      snprintf (id, IMAGE_ID_LEN + 1, "sha256:%s", name + (strncmp (name, "sha256:", 7) == 0 ? 7 : 0));
      if (!image_exists_locked (s, id))
        return not_found (err, id);
      return 0;
    }
  if (image_ref_parse (name, &ref, err) < 0)
    return IMAGE_ERR_INVALID;
  if (image_ref_default_tag (&ref, err) < 0)
    return -1;
  canon = image_ref_string (&ref);
  display = image_ref_familiar_string (&ref);
  if (canon == NULL || display == NULL)
    return skiff_error_make (err, ENOMEM, "resolve `%s`", name);
  t = store_find_tag_locked (s, canon);
  if (t >= 0)
    {
      snprintf (id, IMAGE_ID_LEN + 1, "%s", s->tags[t].id);
      return 0;
    }

  /* An id prefix: must be unique, as Docker's truncindex.  */
  if (!image_ref_is_id_prefix (name))
    return not_found (err, display);
  prefix = strncmp (name, "sha256:", 7) == 0 ? name + 7 : name;
  if (store_list_ids_locked (s, &ids, err) < 0)
    return -1;
  for (i = 0; ids[i]; i++)
    if (strncmp (ids[i] + 7, prefix, strlen (prefix)) == 0)
      {
        matches++;
        snprintf (id, IMAGE_ID_LEN + 1, "%s", ids[i]);
      }
  if (matches != 1)
    return not_found (err, display);
  return 0;
}

int
image_resolve (struct image_store *s, const char *name_or_id, char **image_id, skiff_error_t *err)
{
  char id[IMAGE_ID_LEN + 1];
  int ret;
  store_scoped_lock (s);

  ret = store_resolve_locked (s, name_or_id, id, err);
  if (ret < 0)
    return ret;
  *image_id = strdup (id);
  if (*image_id == NULL)
    return skiff_error_make (err, ENOMEM, "resolve `%s`", name_or_id);
  return 0;
}

/* ---- open ---- */

static int
store_new (const char *root, struct image_store **out, skiff_error_t *err)
{
  static const char *const subdirs[] = { "layers", "configs", "metadata", "distribution", "tmp" };
  struct image_store *s = calloc (1, sizeof (*s));
  cleanup_free char *lock = NULL;
  size_t i;

  if (s == NULL)
    return skiff_error_make (err, ENOMEM, "open image store");
  pthread_mutex_init (&s->lock, NULL);
  s->lock_fd = -1;
  s->root = strdup (root);
  if (s->root == NULL || asprintf (&s->dir, "%s/image", root) < 0)
    {
      s->dir = NULL;
      image_store_free (s);
      return skiff_error_make (err, ENOMEM, "open image store");
    }
  for (i = 0; i < sizeof (subdirs) / sizeof (subdirs[0]); i++)
    {
      cleanup_free char *p = store_path (s, "%s", subdirs[i]);
      if (p == NULL || fs_mkdir_p (p, 0700, err) < 0)
        {
          image_store_free (s);
          return p ? -1 : skiff_error_make (err, ENOMEM, "open image store");
        }
    }
  lock = store_path (s, "lock");
  if (lock == NULL)
    {
      image_store_free (s);
      return skiff_error_make (err, ENOMEM, "open image store");
    }
  s->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd < 0)
    {
      int saved = errno;
      image_store_free (s);
      return skiff_error_make (err, saved, "open `%s`", lock);
    }
  *out = s;
  return 0;
}

int
image_store_open (const char *root, struct image_store **out, skiff_error_t *err)
{
  struct image_store *s = NULL;
  int ret;

  if (store_new (root, &s, err) < 0)
    return -1;
  s->staging = store_path (s, "tmp");
  if (s->staging == NULL)
    {
      image_store_free (s);
      return skiff_error_make (err, ENOMEM, "open image store");
    }
  {
    store_scoped_lock (s);
    /* Staging of interrupted operations, of deleted layers being removed,
       and the layers of a commit that died before its config.  */
    ret = fs_remove_tree (s->staging, err);
    if (ret == 0)
      ret = fs_mkdir_p (s->staging, 0700, err);
    if (ret == 0)
      ret = store_load_tags_locked (s, err);
    if (ret == 0)
      ret = store_gc_layers_locked (s, NULL, NULL, err);
  }
  if (ret < 0)
    {
      image_store_free (s);
      return -1;
    }
  *out = s;
  return 0;
}

static bool
staging_name_ok (const char *name)
{
  return *name && strchr (name, '/') == NULL && strcmp (name, ".") != 0 && strcmp (name, "..") != 0
         && strcmp (name, "blobs") != 0;
}

int
image_store_join (const char *root, const char *name, struct image_store **out, skiff_error_t *err)
{
  struct image_store *s = NULL;
  int ret;

  if (!staging_name_ok (name))
    return skiff_error_make (err, EINVAL, "invalid staging name `%s`", name);
  if (store_new (root, &s, err) < 0)
    return -1;
  s->joined = true;
  s->staging = store_path (s, "tmp/%s", name);
  if (s->staging == NULL)
    {
      image_store_free (s);
      return skiff_error_make (err, ENOMEM, "open image store");
    }
  /* A directory left under this name by a dead process goes first.  */
  if (fs_remove_tree (s->staging, err) < 0 || mkdir (s->staging, 0700) < 0)
    {
      if (*err == NULL)
        skiff_error_make (err, errno, "mkdir `%s`", s->staging);
      free (steal_pointer (&s->staging));
      image_store_free (s);
      return -1;
    }
  {
    store_scoped_lock (s);
    ret = store_load_tags_locked (s, err);
  }
  if (ret < 0)
    {
      image_store_free (s);
      return -1;
    }
  *out = s;
  return 0;
}

int
image_store_remove_staging (struct image_store *s, const char *name, skiff_error_t *err)
{
  cleanup_free char *dir = NULL;

  if (!staging_name_ok (name))
    return skiff_error_make (err, EINVAL, "invalid staging name `%s`", name);
  dir = store_path (s, "tmp/%s", name);
  if (dir == NULL)
    return skiff_error_make (err, ENOMEM, "remove staging");
  return fs_remove_tree (dir, err);
}

void
image_store_free (struct image_store *s)
{
  if (s == NULL)
    return;
  if (s->joined && s->staging)
    {
      skiff_error_t ignored = NULL;
      if (fs_remove_tree (s->staging, &ignored) < 0)
        {
          log_warning ("remove `%s`: %s", s->staging, ignored->msg);
          skiff_error_release (&ignored);
        }
    }
  tags_free (s->tags, s->n_tags);
  pthread_mutex_destroy (&s->lock);
  if (s->lock_fd >= 0)
    close (s->lock_fd);
  free (s->root);
  free (s->dir);
  free (s->staging);
  free (s);
}
