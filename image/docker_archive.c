/* `docker load` and `docker save`: the docker-archive tar format.

   Load reads the stream once, spooling every regular file into a staging
   directory under a generated name (archive names never reach the file
   system), then interprets manifest.json, which may come last.  Both the
   legacy layout (<dir>/layer.tar) and docker 25+'s OCI layout
   (blobs/sha256/<hex>) are plain paths named by manifest.json.

   Save writes the legacy layout, which docker 20.10 loads.  */
#include "store_internal.h"
#include "cleanup.h"
#include "fs.h"
#include "layer_unpack.h"
#include "reference.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JSON_FILE_MAX (16 * 1024 * 1024)
#define LINK_DEPTH_MAX 16
#define BLOCK (64 * 1024)

static void
cleanup_readp (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}

static void
cleanup_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

static void
cleanup_entryp (struct archive_entry **e)
{
  if (*e)
    archive_entry_free (*e);
}

/* ---- load ---- */

struct spooled
{
  char *name; /* cleaned archive path */
  char *file; /* staging file, or NULL for a link */
  char *link; /* cleaned archive path the entry links to */
};

struct spool
{
  struct spooled *v;
  size_t n;
};

static void
spool_release (struct spool *sp)
{
  size_t i;
  for (i = 0; i < sp->n; i++)
    {
      free (sp->v[i].name);
      free (sp->v[i].file);
      free (sp->v[i].link);
    }
  free (sp->v);
}

/* Cleans an archive path; "" or NULL when it climbs out of the archive.  */
static char *
clean_name (const char *base_dir, const char *name)
{
  cleanup_free char *joined = NULL;
  char *abs;
  if (asprintf (&joined, "/%s/%s", name[0] == '/' ? "" : base_dir, name) < 0)
    return NULL;
  abs = fs_absolute ("/", joined);
  if (abs == NULL)
    return NULL;
  /* fs_absolute keeps ".." from climbing over "/": compare against a
     join that would have climbed to tell escapes apart.  */
  memmove (abs, abs + 1, strlen (abs));
  return abs;
}

static bool
escapes (const char *base_dir, const char *name)
{
  int depth = 0;
  const char *p;
  cleanup_free char *full = NULL;
  if (name[0] != '/' && asprintf (&full, "%s/%s", base_dir, name) < 0)
    return true;
  for (p = full ? full : name; *p;)
    {
      const char *start;
      size_t n;
      while (*p == '/')
        p++;
      start = p;
      while (*p && *p != '/')
        p++;
      n = p - start;
      if (n == 2 && start[0] == '.' && start[1] == '.')
        {
          if (--depth < 0)
            return true;
        }
      else if (n > 0 && !(n == 1 && start[0] == '.'))
        depth++;
    }
  return false;
}

static int
spool_add (struct spool *sp, const char *name, const char *file, const char *link)
{
  struct spooled *nv = realloc (sp->v, (sp->n + 1) * sizeof (*nv));
  if (nv == NULL)
    return -1;
  sp->v = nv;
  nv[sp->n].name = strdup (name);
  nv[sp->n].file = file ? strdup (file) : NULL;
  nv[sp->n].link = link ? strdup (link) : NULL;
  sp->n++;
  return 0;
}

static int
spool_data (struct archive *a, const char *path, skiff_error_t *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const void *buf;
  size_t len;
  la_int64_t off;
  int r;

  if (fd < 0)
    return skiff_error_make (err, errno, "create `%s`", path);
  while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK)
    {
      const char *p = buf;
      while (len > 0)
        {
          ssize_t n = pwrite (fd, p, len, off);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return skiff_error_make (err, errno, "write `%s`", path);
          p += n, off += n, len -= n;
        }
    }
  if (r != ARCHIVE_EOF)
    return image_invalid (skiff_error_make (err, 0, "read archive: %s", archive_error_string (a)));
  return 0;
}

static int
spool_archive (int fd, const char *staging, struct spool *sp, skiff_error_t *err)
{
  __attribute__ ((cleanup (cleanup_readp))) struct archive *a = archive_read_new ();
  struct archive_entry *e;
  size_t count = 0;
  int r;

  if (a == NULL || layer_archive_support_filters (a) < 0 || archive_read_support_format_tar (a) != ARCHIVE_OK)
    return skiff_error_make (err, ENOMEM, "set up archive reader");
  if (archive_read_open_fd (a, fd, BLOCK) != ARCHIVE_OK)
    return image_invalid (skiff_error_make (err, 0, "read archive: %s", archive_error_string (a)));
  while ((r = archive_read_next_header (a, &e)) != ARCHIVE_EOF)
    {
      const char *raw;
      cleanup_free char *name = NULL;
      cleanup_free char *dir = NULL;
      char *slash;
      int ret;

      if (r < ARCHIVE_WARN)
        return image_invalid (skiff_error_make (err, 0, "read archive: %s", archive_error_string (a)));
      raw = archive_entry_pathname (e) ? archive_entry_pathname (e) : "";
      if (escapes ("", raw))
        return image_invalid (skiff_error_make (err, 0, "invalid archive entry `%s`: outside the archive", raw));
      name = clean_name ("", raw);
      if (name == NULL)
        return skiff_error_make (err, ENOMEM, "read archive");
      dir = strdup (name);
      if (dir == NULL)
        return skiff_error_make (err, ENOMEM, "read archive");
      slash = strrchr (dir, '/');
      *(slash ? slash : dir) = '\0';

      if (archive_entry_hardlink (e) || archive_entry_filetype (e) == AE_IFLNK)
        {
          const char *target = archive_entry_hardlink (e);
          const char *base = "";
          cleanup_free char *clean = NULL;
          if (target == NULL)
            {
              target = archive_entry_symlink (e) ? archive_entry_symlink (e) : "";
              base = dir; /* symlinks are relative to their directory */
            }
          if (escapes (base, target))
            return image_invalid (
                skiff_error_make (err, 0, "invalid archive entry `%s`: link target outside the archive", raw));
          clean = clean_name (base, target);
          if (clean == NULL || spool_add (sp, name, NULL, clean) < 0)
            return skiff_error_make (err, ENOMEM, "read archive");
        }
      else if (archive_entry_filetype (e) == AE_IFREG)
        {
          cleanup_free char *file = NULL;
          if (asprintf (&file, "%s/f%zu", staging, count++) < 0)
            return skiff_error_make (err, ENOMEM, "read archive");
          ret = spool_data (a, file, err);
          if (ret < 0)
            return ret;
          if (spool_add (sp, name, file, NULL) < 0)
            return skiff_error_make (err, ENOMEM, "read archive");
        }
    }
  return 0;
}

/* The staging file for an archive path, following links.  The last entry
   of a name wins, as when tar extracts.  */
static const char *
spool_lookup (struct spool *sp, const char *name)
{
  int depth;
  for (depth = 0; depth < LINK_DEPTH_MAX; depth++)
    {
      size_t i = sp->n;
      const struct spooled *found = NULL;
      while (i-- > 0)
        if (strcmp (sp->v[i].name, name) == 0)
          {
            found = &sp->v[i];
            break;
          }
      if (found == NULL)
        return NULL;
      if (found->file)
        return found->file;
      name = found->link;
    }
  return NULL;
}

static int
read_small (const char *path, const char *what, char **out, size_t *len, skiff_error_t *err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return skiff_error_make (err, errno, "stat `%s`", path);
  if (st.st_size > JSON_FILE_MAX)
    return image_invalid (skiff_error_make (err, 0, "invalid archive: %s is too large", what));
  return fs_read_file (path, out, len, err);
}

static int
pending_from_manifest (struct spool *sp, yajl_val m, size_t idx, struct store_pending *p, skiff_error_t *err)
{
  cleanup_free char *config_name = NULL;
  cleanup_free char *config = NULL;
  cleanup_strv char **tags = NULL;
  cleanup_strv char **layers = NULL;
  const char *file;
  size_t i, len;
  int ret;

  if (!YAJL_IS_OBJECT (m))
    return image_invalid (skiff_error_make (err, 0, "invalid manifest.json: entry %zu is not an object", idx));
  if (json_get_string_req (m, "Config", "Config", &config_name, err) < 0
      || json_get_strv (m, "RepoTags", "RepoTags", &tags, NULL, err) < 0
      || json_get_strv (m, "Layers", "Layers", &layers, NULL, err) < 0)
    return image_invalid (skiff_error_wrap (err, "invalid manifest.json"));
  file = spool_lookup (sp, config_name);
  if (file == NULL)
    return image_invalid (skiff_error_make (err, 0, "invalid archive: config `%s` not found", config_name));
  if (read_small (file, config_name, &config, &len, err) < 0)
    return -1;
  ret = store_image_parse (config, len, NULL, &p->img, err);
  if (ret < 0)
    return ret;
  p->layer_tars = calloc (1, sizeof (char *));
  p->tags = calloc (1, sizeof (char *));
  if (p->layer_tars == NULL || p->tags == NULL)
    return skiff_error_make (err, ENOMEM, "load");
  for (i = 0; layers && layers[i]; i++)
    {
      cleanup_free char *clean = escapes ("", layers[i]) ? NULL : clean_name ("", layers[i]);
      const char *f = clean ? spool_lookup (sp, clean) : NULL;
      if (f == NULL)
        return image_invalid (skiff_error_make (err, 0, "invalid archive: layer `%s` not found", layers[i]));
      if (strv_add (&p->layer_tars, f) < 0)
        return skiff_error_make (err, ENOMEM, "load");
    }
  for (i = 0; tags && tags[i]; i++)
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      cleanup_free char *canon = NULL;
      if (image_ref_parse (tags[i], &ref, err) < 0)
        return IMAGE_ERR_INVALID;
      if (ref.tag == NULL || ref.digest != NULL)
        return image_invalid (skiff_error_make (err, 0, "invalid tag \"%s\"", tags[i]));
      canon = image_ref_string (&ref);
      if (canon == NULL || strv_add (&p->tags, canon) < 0)
        return skiff_error_make (err, ENOMEM, "load");
    }
  return 0;
}

static void
pending_array_free (struct store_pending *p, size_t n)
{
  size_t i;
  for (i = 0; p && i < n; i++)
    store_pending_clear (&p[i]);
  free (p);
}

int
image_load (struct image_store *s, int fd, char ***loaded, skiff_error_t *err)
{
  cleanup_staging char *staging = NULL;
  __attribute__ ((cleanup (spool_release))) struct spool sp = { 0 };
  cleanup_json yajl_val manifest = NULL;
  cleanup_free char *text = NULL;
  struct store_pending *pending = NULL;
  const char *file;
  size_t i, n = 0;
  int ret;

  if (store_make_staging (s, "load", &staging, err) < 0)
    return -1;
  ret = spool_archive (fd, staging, &sp, err);
  if (ret < 0)
    return ret;
  file = spool_lookup (&sp, "manifest.json");
  if (file == NULL)
    return image_invalid (skiff_error_make (err, 0, "invalid archive: manifest.json not found"));
  if (read_small (file, "manifest.json", &text, NULL, err) < 0)
    return -1;
  if (json_parse (text, &manifest, err) < 0)
    return image_invalid (skiff_error_wrap (err, "manifest.json"));
  if (!YAJL_IS_ARRAY (manifest) || manifest->u.array.len == 0)
    return image_invalid (skiff_error_make (err, 0, "invalid manifest.json: expected a non-empty array"));
  n = manifest->u.array.len;
  pending = calloc (n, sizeof (*pending));
  if (pending == NULL)
    return skiff_error_make (err, ENOMEM, "load");
  for (i = 0; i < n; i++)
    {
      ret = pending_from_manifest (&sp, manifest->u.array.values[i], i, &pending[i], err);
      if (ret < 0)
        goto out;
    }
  ret = store_stage_layers (s, staging, pending, n, err);
  if (ret < 0)
    goto out;
  {
    store_scoped_lock (s);
    ret = store_commit_locked (s, pending, n, loaded, err);
  }
out:
  pending_array_free (pending, n);
  return ret;
}

/* ---- save ---- */

struct assoc
{
  char id[IMAGE_ID_LEN + 1];
  char **tags; /* familiar "repo:tag" */
  struct store_image img;
  char **layer_files; /* hard links in the staging dir */
};

struct assocs
{
  struct assoc *v;
  size_t n;
};

static void
assocs_release (struct assocs *as)
{
  size_t i;
  for (i = 0; i < as->n; i++)
    {
      cleanup_strvp (&as->v[i].tags);
      cleanup_strvp (&as->v[i].layer_files);
      store_image_clear (&as->v[i].img);
    }
  free (as->v);
}

static int
add_assoc (struct assocs *as, const char *id, const char *tag)
{
  size_t i;
  struct assoc *nv;
  for (i = 0; i < as->n; i++)
    if (strcmp (as->v[i].id, id) == 0)
      break;
  if (i == as->n)
    {
      nv = realloc (as->v, (as->n + 1) * sizeof (*nv));
      if (nv == NULL)
        return -1;
      as->v = nv;
      memset (&nv[i], 0, sizeof (nv[i]));
      snprintf (nv[i].id, sizeof (nv[i].id), "%s", id);
      nv[i].tags = calloc (1, sizeof (char *));
      if (nv[i].tags == NULL)
        return -1;
      as->n++;
    }
  if (tag && !strv_contains (as->v[i].tags, tag))
    return strv_add (&as->v[i].tags, tag);
  return 0;
}

/* Docker's parseNames (image/tarexport/save.go).  */
static int
collect_locked (struct image_store *s, const char *name, struct assocs *as, skiff_error_t *err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *repo = NULL;
  char id[IMAGE_ID_LEN + 1];
  size_t i, found = 0;
  int ret;

  if (image_ref_is_digest (name) || (strlen (name) == 64 && image_ref_is_id_prefix (name)))
    goto by_id;
  if (image_ref_parse (name, &ref, err) < 0)
    return IMAGE_ERR_INVALID;
  if (ref.tag == NULL && ref.digest == NULL)
    {
      /* A repository name: every tag of it.  */
      repo = image_ref_name (&ref);
      if (repo == NULL)
        return skiff_error_make (err, ENOMEM, "save");
      for (i = 0; i < s->n_tags; i++)
        {
          size_t rl = strlen (repo);
          cleanup_free char *familiar = NULL;
          if (strncmp (s->tags[i].ref, repo, rl) != 0 || s->tags[i].ref[rl] != ':')
            continue;
          familiar = image_ref_familiarize (s->tags[i].ref);
          if (familiar == NULL || add_assoc (as, s->tags[i].id, familiar) < 0)
            return skiff_error_make (err, ENOMEM, "save");
          found++;
        }
      if (found)
        return 0;
      goto by_id;
    }
  ret = store_resolve_locked (s, name, id, err);
  if (ret < 0)
    return ret;
  {
    cleanup_free char *familiar = image_ref_familiar_string (&ref);
    if (familiar == NULL || add_assoc (as, id, ref.tag ? familiar : NULL) < 0)
      return skiff_error_make (err, ENOMEM, "save");
  }
  return 0;

by_id:
  ret = store_resolve_locked (s, name, id, err);
  if (ret < 0)
    return ret;
  if (add_assoc (as, id, NULL) < 0)
    return skiff_error_make (err, ENOMEM, "save");
  return 0;
}

/* Hard links each layer's stored tar into staging, so that a concurrent
   rmi cannot pull it away while the archive is written.  */
static int
pin_layers_locked (struct image_store *s, const char *staging, struct assoc *a, skiff_error_t *err)
{
  size_t i;
  int ret = store_image_read_locked (s, a->id, &a->img, err);
  if (ret < 0)
    return ret;
  a->layer_files = calloc (1, sizeof (char *));
  if (a->layer_files == NULL)
    return skiff_error_make (err, ENOMEM, "save");
  for (i = 0; i < a->img.n_layers; i++)
    {
      cleanup_free char *src = store_path (s, "layers/%s/layer.tar", a->img.chain_ids[i] + 7);
      cleanup_free char *dst = NULL;
      if (src == NULL || asprintf (&dst, "%s/%s", staging, a->img.chain_ids[i] + 7) < 0)
        return skiff_error_make (err, ENOMEM, "save");
      if (link (src, dst) < 0 && errno != EEXIST)
        return skiff_error_make (err, errno, "link `%s`", src);
      if (strv_add (&a->layer_files, dst) < 0)
        return skiff_error_make (err, ENOMEM, "save");
    }
  return 0;
}

static int
write_header (struct archive *a, const char *name, mode_t type, int64_t size, skiff_error_t *err)
{
  __attribute__ ((cleanup (cleanup_entryp))) struct archive_entry *e = archive_entry_new ();
  if (e == NULL)
    return skiff_error_make (err, ENOMEM, "save");
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_size (e, type == AE_IFDIR ? 0 : size);
  archive_entry_set_mtime (e, 0, 0);
  if (archive_write_header (a, e) != ARCHIVE_OK)
    return skiff_error_make (err, 0, "write archive: %s", archive_error_string (a));
  return 0;
}

static int
write_blob (struct archive *a, const char *name, const void *data, size_t len, skiff_error_t *err)
{
  if (write_header (a, name, AE_IFREG, len, err) < 0)
    return -1;
  if (len > 0 && archive_write_data (a, data, len) != (la_ssize_t) len)
    return skiff_error_make (err, 0, "write archive: %s", archive_error_string (a));
  return 0;
}

/* Runs the stored layer (maybe compressed) through libarchive's filters;
   with out NULL only counts the uncompressed bytes.  */
static int
copy_layer (const char *path, struct archive *out, int64_t *size, skiff_error_t *err)
{
  __attribute__ ((cleanup (cleanup_readp))) struct archive *a = archive_read_new ();
  struct archive_entry *e;
  const void *buf;
  size_t len;
  la_int64_t off;
  int64_t total = 0;
  int r;

  if (a == NULL || layer_archive_support_filters (a) < 0 || archive_read_support_format_raw (a) != ARCHIVE_OK)
    return skiff_error_make (err, ENOMEM, "read layer `%s`", path);
  if (archive_read_open_filename (a, path, BLOCK) != ARCHIVE_OK || archive_read_next_header (a, &e) != ARCHIVE_OK)
    return skiff_error_make (err, 0, "read layer `%s`: %s", path, archive_error_string (a));
  while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK)
    {
      if (out && archive_write_data (out, buf, len) != (la_ssize_t) len)
        return skiff_error_make (err, 0, "write archive: %s", archive_error_string (out));
      total += len;
    }
  if (r != ARCHIVE_EOF)
    return skiff_error_make (err, 0, "read layer `%s`: %s", path, archive_error_string (a));
  *size = total;
  return 0;
}

/* A layer as an uncompressed blob, blobs/sha256/<diff id>, once per
   archive; its size goes to *size.  */
static int
write_layer_blob (struct archive *a, const char *file, const char *diff_id, char ***written, int64_t *size,
                  skiff_error_t *err)
{
  cleanup_free char *name = NULL;
  int64_t copied;

  if (asprintf (&name, "blobs/sha256/%s", diff_id + 7) < 0)
    return skiff_error_make (err, ENOMEM, "save");
  if (copy_layer (file, NULL, size, err) < 0)
    return -1;
  if (strv_contains (*written, name))
    return 0;
  if (write_header (a, name, AE_IFREG, *size, err) < 0 || copy_layer (file, a, &copied, err) < 0)
    return -1;
  if (copied != *size)
    return skiff_error_make (err, 0, "layer `%s` changed while saving", file);
  return strv_add (written, name) < 0 ? skiff_error_make (err, ENOMEM, "save") : 0;
}

static int
write_named_blob (struct archive *a, const char *digest_hex, const char *data, size_t len, char ***written,
                  skiff_error_t *err)
{
  cleanup_free char *name = NULL;
  if (asprintf (&name, "blobs/sha256/%s", digest_hex) < 0)
    return skiff_error_make (err, ENOMEM, "save");
  if (strv_contains (*written, name))
    return 0;
  if (write_blob (a, name, data, len, err) < 0)
    return -1;
  return strv_add (written, name) < 0 ? skiff_error_make (err, ENOMEM, "save") : 0;
}

/* index.json entries for one image: one per tag, annotated as Docker 25
   does, or one without annotations for an untagged image.  */
static int
gen_index_entries (yajl_gen ix, const struct assoc *x, const char *mdigest, size_t msize, skiff_error_t *err)
{
  size_t j;
  for (j = 0; j == 0 || x->tags[j]; j++)
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      cleanup_free char *full = NULL;
      yajl_gen_map_open (ix);
      json_gen_kv_str (ix, "mediaType", "application/vnd.oci.image.manifest.v1+json");
      json_gen_kv_str (ix, "digest", mdigest);
      json_gen_kv_int (ix, "size", (long long) msize);
      if (x->tags[j])
        {
          if (image_ref_parse (x->tags[j], &ref, err) < 0 || (full = image_ref_string (&ref)) == NULL)
            return -1;
          json_gen_str (ix, "annotations");
          yajl_gen_map_open (ix);
          json_gen_kv_str (ix, "io.containerd.image.name", full);
          json_gen_kv_str (ix, "org.opencontainers.image.ref.name", ref.tag ? ref.tag : "latest");
          yajl_gen_map_close (ix);
        }
      yajl_gen_map_close (ix);
      if (x->tags[j] == NULL)
        break;
    }
  return 0;
}

/* One image: its blobs, its manifest.json entry (m) and index.json
   entries (ix).  */
static int
write_image (struct archive *a, struct assoc *x, yajl_gen m, yajl_gen ix, char ***written, skiff_error_t *err)
{
  cleanup_gen yajl_gen om = json_gen_new (false);
  cleanup_free char *otext = NULL;
  char mhex[65], mdigest[72];
  size_t j, olen;

  if (om == NULL)
    return skiff_error_make (err, ENOMEM, "save");
  if (write_named_blob (a, x->id + 7, x->img.config, x->img.config_len, written, err) < 0)
    return -1;
  yajl_gen_map_open (om);
  json_gen_kv_int (om, "schemaVersion", 2);
  json_gen_kv_str (om, "mediaType", "application/vnd.oci.image.manifest.v1+json");
  json_gen_str (om, "config");
  yajl_gen_map_open (om);
  json_gen_kv_str (om, "mediaType", "application/vnd.oci.image.config.v1+json");
  json_gen_kv_str (om, "digest", x->id);
  json_gen_kv_int (om, "size", (long long) x->img.config_len);
  yajl_gen_map_close (om);
  json_gen_str (om, "layers");
  yajl_gen_array_open (om);

  yajl_gen_map_open (m);
  json_gen_str (m, "Config");
  {
    cleanup_free char *cname = NULL;
    if (asprintf (&cname, "blobs/sha256/%s", x->id + 7) < 0)
      return skiff_error_make (err, ENOMEM, "save");
    json_gen_str (m, cname);
  }
  json_gen_str (m, "RepoTags");
  if (x->tags[0] == NULL)
    yajl_gen_null (m);
  else
    {
      yajl_gen_array_open (m);
      for (j = 0; x->tags[j]; j++)
        json_gen_str (m, x->tags[j]);
      yajl_gen_array_close (m);
    }
  json_gen_str (m, "Layers");
  yajl_gen_array_open (m);
  for (j = 0; j < x->img.n_layers; j++)
    {
      cleanup_free char *lname = NULL;
      int64_t size;
      if (write_layer_blob (a, x->layer_files[j], x->img.diff_ids[j], written, &size, err) < 0)
        return -1;
      if (asprintf (&lname, "blobs/sha256/%s", x->img.diff_ids[j] + 7) < 0)
        return skiff_error_make (err, ENOMEM, "save");
      json_gen_str (m, lname);
      yajl_gen_map_open (om);
      json_gen_kv_str (om, "mediaType", "application/vnd.oci.image.layer.v1.tar");
      json_gen_kv_str (om, "digest", x->img.diff_ids[j]);
      json_gen_kv_int (om, "size", (long long) size);
      yajl_gen_map_close (om);
    }
  yajl_gen_array_close (m);
  yajl_gen_map_close (m);
  yajl_gen_array_close (om);
  yajl_gen_map_close (om);

  otext = json_gen_steal (om, &olen);
  if (otext == NULL)
    return skiff_error_make (err, ENOMEM, "save");
  if (store_sha256_hex (otext, olen, mhex, err) < 0)
    return -1;
  snprintf (mdigest, sizeof (mdigest), "sha256:%s", mhex);
  if (write_named_blob (a, mhex, otext, olen, written, err) < 0)
    return -1;
  return gen_index_entries (ix, x, mdigest, olen, err);
}

/* Docker 25's archive: an OCI image layout (oci-layout, index.json,
   blobs/sha256/...) whose manifest.json names the same blobs, so that
   docker load of any version and OCI tools (skopeo's oci-archive:) read
   it.  Layers are stored uncompressed: their digest is their diff id.  */
static int
write_archive (struct assocs *as, int fd, skiff_error_t *err)
{
  __attribute__ ((cleanup (cleanup_writep))) struct archive *a = archive_write_new ();
  cleanup_gen yajl_gen m = json_gen_new (false);
  cleanup_gen yajl_gen ix = json_gen_new (false);
  cleanup_strv char **written = calloc (1, sizeof (char *));
  cleanup_free char *mtext = NULL, *itext = NULL;
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  size_t i, mlen, ilen;

  if (a == NULL || m == NULL || ix == NULL || written == NULL)
    return skiff_error_make (err, ENOMEM, "save");
  if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
      || archive_write_open_fd (a, fd) != ARCHIVE_OK)
    return skiff_error_make (err, 0, "write archive: %s", archive_error_string (a));
  if (write_header (a, "blobs", AE_IFDIR, 0, err) < 0 || write_header (a, "blobs/sha256", AE_IFDIR, 0, err) < 0)
    return -1;
  yajl_gen_array_open (m);
  yajl_gen_map_open (ix);
  json_gen_kv_int (ix, "schemaVersion", 2);
  json_gen_kv_str (ix, "mediaType", "application/vnd.oci.image.index.v1+json");
  json_gen_str (ix, "manifests");
  yajl_gen_array_open (ix);
  for (i = 0; i < as->n; i++)
    if (write_image (a, &as->v[i], m, ix, &written, err) < 0)
      return -1;
  yajl_gen_array_close (ix);
  yajl_gen_map_close (ix);
  yajl_gen_array_close (m);
  mtext = json_gen_steal (m, &mlen);
  itext = json_gen_steal (ix, &ilen);
  if (mtext == NULL || itext == NULL)
    return skiff_error_make (err, ENOMEM, "save");
  if (write_blob (a, "index.json", itext, ilen, err) < 0 || write_blob (a, "manifest.json", mtext, mlen, err) < 0
      || write_blob (a, "oci-layout", layout, strlen (layout), err) < 0)
    return -1;
  if (archive_write_close (a) != ARCHIVE_OK)
    return skiff_error_make (err, 0, "write archive: %s", archive_error_string (a));
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
image_save (struct image_store *s, const char *const *names, int fd, skiff_error_t *err)
{
  cleanup_staging char *staging = NULL;
  __attribute__ ((cleanup (assocs_release))) struct assocs as = { 0 };
  size_t i;
  int ret;

  if (names == NULL || names[0] == NULL)
    return image_invalid (skiff_error_make (err, 0, "no images to save"));
  if (store_make_staging (s, "save", &staging, err) < 0)
    return -1;
  {
    store_scoped_lock (s);
    for (i = 0; names[i]; i++)
      {
        ret = collect_locked (s, names[i], &as, err);
        if (ret < 0)
          return ret;
      }
    for (i = 0; i < as.n; i++)
      {
        ret = pin_layers_locked (s, staging, &as.v[i], err);
        if (ret < 0)
          return ret;
        /* Sorted so that one repository's tags are adjacent.  */
        qsort (as.v[i].tags, strv_len (as.v[i].tags), sizeof (char *), cmp_str);
      }
  }
  return write_archive (&as, fd, err);
}
