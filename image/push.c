/* `docker push`: tags -> layers -> config -> manifest (push.h).

   Per tag: the image's layer tars are pinned by hard links in a staging
   directory (an rmi meanwhile cannot take them away), each layer is
   pushed by push_layer.c, then the config blob (HEAD first) and a Docker
   schema 2 manifest, whose digest becomes the image's digest reference.  */
#include "push.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "manifest.h"
#include "reference.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEDIA_TYPE_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MEDIA_TYPE_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

static void
progress (struct push *p, const char *id, const char *status)
{
  if (p->o->progress)
    p->o->progress (p->o->data, id, status, 0, 0);
}

/* The image of a tag with its config and pinned layer tars.  */
struct pinned
{
  struct store_image img;
  char **tars;
};

static void
pinned_clear (struct pinned *pi)
{
  store_image_clear (&pi->img);
  cleanup_strvp (&pi->tars);
}

static int
pin (struct push *p, const char *id, unsigned round, struct pinned *pi, skiff_error_t *err)
{
  size_t i;
  int ret;
  store_scoped_lock (p->s);

  ret = store_image_read_locked (p->s, id, &pi->img, err);
  if (ret < 0)
    return ret;
  pi->tars = calloc (pi->img.n_layers + 1, sizeof (char *));
  if (pi->tars == NULL)
    return skiff_error_make (err, ENOMEM, "push");
  for (i = 0; i < pi->img.n_layers; i++)
    {
      cleanup_free char *kept = store_path (p->s, "layers/%s/layer.tar", pi->img.chain_ids[i] + 7);
      if (kept == NULL || asprintf (&pi->tars[i], "%s/layer-%u-%zu", p->staging, round, i) < 0)
        return skiff_error_make (err, ENOMEM, "push");
      if (link (kept, pi->tars[i]) < 0)
        return skiff_error_make (err, errno, "pin layer `%s`", kept);
    }
  return 0;
}

static int
push_config (struct push *p, const struct pinned *pi, unsigned round, skiff_error_t *err)
{
  cleanup_free char *file = NULL;
  cleanup_free char *location = NULL;
  cleanup_close int fd = -1;
  int ret;

  ret = registry_blob_exists (p->c, p->path, pi->img.id, err);
  if (ret != 0)
    return ret < 0 ? ret : 0;
  if (asprintf (&file, "%s/config-%u.json", p->staging, round) < 0)
    return skiff_error_make (err, ENOMEM, "push");
  if (fs_write_file_atomic (file, pi->img.config, pi->img.config_len, 0600, err) < 0)
    return -1;
  fd = open (file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "open `%s`", file);
  ret = registry_upload_start (p->c, p->path, &location, err);
  if (ret < 0)
    return ret;
  {
    struct registry_upload u = { .fd = fd, .size = (int64_t) pi->img.config_len, .digest = pi->img.id };
    return registry_upload_blob (p->c, location, &u, err);
  }
}

static char *
manifest_json (const struct pinned *pi, const struct push_blob *blobs, size_t *len)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  size_t i;

  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "schemaVersion", 2);
  json_gen_kv_str (g, "mediaType", MEDIA_TYPE_DOCKER_MANIFEST);
  json_gen_str (g, "config");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "mediaType", MEDIA_TYPE_DOCKER_CONFIG);
  json_gen_kv_int (g, "size", (long long) pi->img.config_len);
  json_gen_kv_str (g, "digest", pi->img.id);
  yajl_gen_map_close (g);
  json_gen_str (g, "layers");
  yajl_gen_array_open (g);
  for (i = 0; i < pi->img.n_layers; i++)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "mediaType", MEDIA_TYPE_DOCKER_LAYER_GZIP);
      json_gen_kv_int (g, "size", blobs[i].size);
      json_gen_kv_str (g, "digest", blobs[i].digest);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  return json_gen_steal (g, len);
}

/* name@digest -> id, Docker's RepoDigests after a push.  */
static int
set_digest_ref (struct push *p, const char *digest, const char *id, skiff_error_t *err)
{
  cleanup_free char *ref = NULL;
  store_scoped_lock (p->s);

  if (asprintf (&ref, "%s@%s", p->name, digest) < 0)
    return skiff_error_make (err, ENOMEM, "push");
  if (store_set_tag_locked (p->s, ref, id, err) < 0)
    return -1;
  return store_save_tags_locked (p->s, err);
}

static int
push_tag (struct push *p, const char *tag, const char *id, unsigned round, skiff_error_t *err)
{
  __attribute__ ((cleanup (pinned_clear))) struct pinned pi = { 0 };
  cleanup_free struct push_blob *blobs = NULL;
  cleanup_free char *scope = NULL;
  cleanup_free char *manifest = NULL;
  cleanup_free char *status = NULL;
  char digest[IMAGE_ID_LEN + 1] = "sha256:";
  size_t i, len = 0;
  int ret;

  ret = pin (p, id, round, &pi, err);
  if (ret < 0)
    return ret;
  blobs = calloc (pi.img.n_layers + 1, sizeof (*blobs));
  scope = push_scope (p, pi.img.diff_ids);
  if (blobs == NULL || scope == NULL || registry_client_set_scope (p->c, scope, err) < 0)
    return skiff_error_make (err, ENOMEM, "push");
  /* Top layer first, as Docker lists them.  */
  for (i = pi.img.n_layers; i-- > 0;)
    {
      char short_id[13];
      manifest_short_id (pi.img.diff_ids[i], short_id);
      progress (p, short_id, "Preparing");
    }
  for (i = 0; i < pi.img.n_layers; i++)
    {
      ret = push_layer (p, pi.img.diff_ids[i], pi.tars[i], i, &blobs[i], err);
      if (ret < 0)
        return ret;
    }
  ret = push_config (p, &pi, round, err);
  if (ret < 0)
    return ret;
  manifest = manifest_json (&pi, blobs, &len);
  if (manifest == NULL || store_sha256_hex (manifest, len, digest + 7, err) < 0)
    return skiff_error_make (err, ENOMEM, "push");
  ret = registry_put_manifest (p->c, p->path, tag, MEDIA_TYPE_DOCKER_MANIFEST, manifest, len, err);
  if (ret < 0)
    return ret;
  if (set_digest_ref (p, digest, id, err) < 0)
    return -1;
  if (asprintf (&status, "%s: digest: %s size: %zu", tag, digest, len) >= 0)
    progress (p, NULL, status);
  if (p->o->done)
    p->o->done (p->o->data, tag, digest, (int64_t) len);
  return 0;
}

/* (tag, id) pairs to push, in tag order: one, or every tag of the
   repository.  */
static int
tags_to_push (struct push *p, const struct image_ref *ref, char ***tags, char ***ids, skiff_error_t *err)
{
  size_t i, n = strlen (p->name);
  cleanup_free char *familiar = image_ref_familiar_name (ref);
  store_scoped_lock (p->s);

  if (familiar == NULL || (*tags = calloc (1, sizeof (char *))) == NULL || (*ids = calloc (1, sizeof (char *))) == NULL)
    return skiff_error_make (err, ENOMEM, "push");
  for (i = 0; i < p->s->n_tags; i++)
    {
      const char *r = p->s->tags[i].ref;
      if (strncmp (r, p->name, n) != 0 || r[n] != ':' || (ref->tag && strcmp (r + n + 1, ref->tag) != 0))
        continue;
      if (strv_add (tags, r + n + 1) < 0 || strv_add (ids, p->s->tags[i].id) < 0)
        return skiff_error_make (err, ENOMEM, "push");
    }
  if ((*tags)[0])
    return 0;
  if (ref->tag)
    return skiff_error_make (err, 0, "tag does not exist: %s:%s", familiar, ref->tag), IMAGE_ERR_NOT_FOUND;
  return skiff_error_make (err, 0, "An image does not exist locally with the tag: %s", familiar), IMAGE_ERR_NOT_FOUND;
}

int
image_push (struct image_store *s, const char *name, const char *tag, const struct push_opts *o, skiff_error_t *err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *full = NULL;
  cleanup_free char *status = NULL;
  cleanup_strv char **tags = NULL;
  cleanup_strv char **ids = NULL;
  cleanup_staging char *staging = NULL;
  struct registry_endpoint *eps = NULL;
  struct pull_opts po = { .insecure = o->insecure, .docker_io_url = o->docker_io_url };
  struct push p = { .s = s, .o = o };
  size_t n = 0, e, i;
  int ret = IMAGE_ERR;

  if (image_ref_parse (name, &ref, err) < 0)
    return IMAGE_ERR_INVALID;
  if (ref.digest)
    return skiff_error_make (err, 0, "cannot push a digest reference"), IMAGE_ERR_INVALID;
  full = image_ref_name (&ref);
  if (full == NULL)
    return skiff_error_make (err, ENOMEM, "push");
  if (tag && *tag)
    {
      /* The tag parameter replaces a tag in the name, as Docker's.  */
      cleanup_free char *tagged = NULL;
      image_ref_clear (&ref);
      if (asprintf (&tagged, "%s:%s", full, tag) < 0)
        return skiff_error_make (err, ENOMEM, "push");
      if (image_ref_parse (tagged, &ref, err) < 0)
        return IMAGE_ERR_INVALID;
    }
  p.domain = ref.domain;
  p.path = ref.path;
  p.name = full;
  ret = tags_to_push (&p, &ref, &tags, &ids, err);
  if (ret < 0)
    return ret;
  if (store_make_staging (s, "push", &staging, err) < 0)
    return IMAGE_ERR;
  p.staging = staging;
  if (asprintf (&status, "The push refers to repository [%s]", full) < 0)
    return skiff_error_make (err, ENOMEM, "push");
  progress (&p, NULL, status);
  if (registry_endpoints (ref.domain, &po, &eps, &n, err) < 0)
    return IMAGE_ERR;
  for (e = 0; e < n; e++)
    {
      cleanup_registry_client struct registry_client *c = NULL;
      ret = registry_client_new (&eps[e], ref.path, o->username, o->password, &c, err);
      if (ret < 0)
        break;
      ret = registry_ping (c, err);
      /* Insecure registries: plain HTTP when TLS cannot be spoken.  */
      if (ret == REGISTRY_ERR_TRANSPORT && eps[e].http_fallback && e + 1 < n)
        {
          log_info ("push %s: %s failed, trying %s: %s", full, eps[e].url, eps[e + 1].url, (*err)->msg);
          skiff_error_release (err);
          continue;
        }
      if (ret < 0)
        break;
      p.c = c;
      for (i = 0; tags[i] && ret == 0; i++)
        ret = push_tag (&p, tags[i], ids[i], i, err);
      p.c = NULL;
      break;
    }
  registry_endpoints_free (eps, n);
  return ret < IMAGE_ERR_CONFLICT ? IMAGE_ERR : ret; /* REGISTRY_* -> IMAGE_ERR */
}
