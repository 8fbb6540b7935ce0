/* `docker pull`: tag -> manifest -> config -> layers -> the store.

   Endpoints are tried in order (mirrors, then the origin; https, then
   http for insecure registries).  From one endpoint: the manifest (HEAD
   for its digest, so that an image already here costs no GET), the
   platform's manifest from a list or index, the config blob, and the
   layers the store lacks, downloaded concurrently with a curl multi
   handle.

   Downloads go to image/tmp/blobs/<hex>.partial, hashed as they arrive,
   with an flock on the file so that two pulls never write one blob; a
   verified blob is renamed to image/tmp/blobs/<hex> and stays there until
   a commit uses it.  A transfer that breaks resumes with a Range request
   from what the partial file holds, within the pull and in the next one;
   a digest mismatch deletes the file.

   Each layer is unpacked while its blob downloads, by a job on a thread
   of its own (layer_stream.h) that reads the partial file as it grows,
   hashes the uncompressed stream for the diff id and unpacks it into a
   staging directory of the attempt; a blob that starts over starts its
   jobs over.  A job ends only after the download verified the blob's
   digest, and the pull commits the staged layers only when every job
   ended well (store_commit_locked, as for `docker load`).  */
#include "registry.h"
#include "cleanup.h"
#include "dist_meta.h"
#include "layer_stream.h"
#include "fs.h"
#include "log.h"
#include "manifest.h"
#include "reference.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_MAX (16 * 1024 * 1024)
#define MAX_CONCURRENT 3 /* Docker's max-concurrent-downloads */
#define MAX_UNPACK 4     /* layers unpacked at once */
#define MAX_ATTEMPTS 5
#define PROGRESS_INTERVAL_NS 100000000LL
#define HASH_BLOCK (64 * 1024)

struct pull;

struct download
{
  struct pull *pl;
  char digest[IMAGE_ID_LEN + 1];
  char short_id[13];
  int64_t size;
  char *partial;  /* tmp/blobs/<hex>.partial */
  char *complete; /* tmp/blobs/<hex> */
  char *staged;   /* the attempt's link to the verified blob */
  int fd;
  EVP_MD_CTX *md;
  int64_t have;      /* bytes in the partial file, all hashed */
  int64_t from_disk; /* bytes an earlier pull left */
  int attempts;
  struct registry_blob *blob;
  struct blob_feed *feed; /* what the layer jobs read */
  skiff_error_t sink_err;
  struct timespec last;
  bool finished;
};

struct pull
{
  struct image_store *s;
  const struct pull_opts *o;
  struct image_ref ref; /* with the default tag */
  char *familiar_name;  /* alpine */
  char *familiar_ref;   /* alpine:latest, alpine@sha256:... */
  char *tag_ref;        /* docker.io/library/alpine:latest, NULL for digest pulls */
  char *staging;
  char *blobs_dir;
  unsigned attempt;

  /* Results of one endpoint.  */
  char manifest_digest[IMAGE_ID_LEN + 1];
  struct store_pending p;
  bool *present; /* per layer: already in the store */
  struct download *dl;
  size_t n_dl;
  struct layer_job **jobs; /* per layer: unpacking it while it downloads */
  char **job_dirs;         /* per layer: where */
  struct unpack_slots *slots;
  bool announced;
  bool local_failure; /* not the endpoint's fault: no fallback */
  char want_os[32], want_arch[32], want_variant[32]; /* o->platform; "" for the host's */
};

static void
progress (struct pull *pl, const char *id, const char *status, int64_t current, int64_t total)
{
  if (pl->o->progress)
    pl->o->progress (pl->o->data, id, status, current, total);
}

static int
local_error (struct pull *pl, skiff_error_t *err, int errno_, const char *what)
{
  pl->local_failure = true;
  return skiff_error_make (err, errno_, "%s", what);
}

/* ---- downloads ---- */

static void
download_release (struct download *d)
{
  if (d->blob)
    registry_blob_free (d->blob);
  if (d->fd >= 0)
    close (d->fd);
  if (d->md)
    EVP_MD_CTX_free (d->md);
  skiff_error_release (&d->sink_err);
  blob_feed_free (d->feed);
  free (d->partial);
  free (d->complete);
  free (d->staged);
  memset (d, 0, sizeof (*d));
  d->fd = -1;
}

/* Ends the layer jobs of a failed or finished attempt: they use the
   downloads and the config.  */
static void
jobs_stop (struct pull *pl)
{
  size_t i;
  for (i = 0; i < pl->n_dl; i++)
    if (pl->dl[i].feed)
      blob_feed_end (pl->dl[i].feed, false);
  for (i = 0; pl->jobs && i < pl->p.img.n_layers; i++)
    if (pl->jobs[i])
      {
        skiff_error_t ignored = NULL;
        if (layer_job_finish (pl->jobs[i], &ignored) < 0)
          skiff_error_release (&ignored);
        pl->jobs[i] = NULL;
      }
  for (i = 0; pl->job_dirs && i < pl->p.img.n_layers; i++)
    free (pl->job_dirs[i]);
  free (pl->jobs);
  free (pl->job_dirs);
  pl->jobs = NULL;
  pl->job_dirs = NULL;
  unpack_slots_free (pl->slots);
  pl->slots = NULL;
}

static void
attempt_reset (struct pull *pl)
{
  size_t i;
  jobs_stop (pl);
  for (i = 0; i < pl->n_dl; i++)
    download_release (&pl->dl[i]);
  free (pl->dl);
  pl->dl = NULL;
  pl->n_dl = 0;
  free (pl->present);
  pl->present = NULL;
  store_pending_clear (&pl->p);
  pl->local_failure = false;
}

static void
emit_download_progress (struct download *d, bool force)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  if (!force
      && (now.tv_sec - d->last.tv_sec) * 1000000000LL + (now.tv_nsec - d->last.tv_nsec) < PROGRESS_INTERVAL_NS)
    return;
  d->last = now;
  progress (d->pl, d->short_id, "Downloading", d->have, d->size);
}

static int
hash_restart (struct download *d)
{
  return EVP_DigestInit_ex (d->md, EVP_sha256 (), NULL) == 1 ? 0 : -1;
}

static int
sink (void *data, int64_t offset, const void *buf, size_t len)
{
  struct download *d = data;
  const char *p = buf;
  size_t left = len;

  if (offset == 0 && d->have > 0)
    {
      /* The server ignored our Range: start over.  */
      if (ftruncate (d->fd, 0) < 0 || hash_restart (d) < 0)
        return skiff_error_make (&d->sink_err, errno, "truncate `%s`", d->partial);
      d->have = 0;
      blob_feed_restart (d->feed);
    }
  if (offset != d->have)
    return skiff_error_make (&d->sink_err, 0, "blob %s: data at offset %lld, expected %lld", d->digest,
                             (long long) offset, (long long) d->have);
  if (d->have + (int64_t) len > d->size)
    return skiff_error_make (&d->sink_err, 0, "blob %s is larger than the %lld bytes its manifest says", d->digest,
                             (long long) d->size);
  while (left > 0)
    {
      ssize_t n = pwrite (d->fd, p, left, d->have + (p - (const char *) buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          d->pl->local_failure = true;
          return skiff_error_make (&d->sink_err, errno, "write `%s`", d->partial);
        }
      p += n, left -= n;
    }
  if (EVP_DigestUpdate (d->md, buf, len) != 1)
    return skiff_error_make (&d->sink_err, 0, "hash blob %s", d->digest);
  d->have += len;
  blob_feed_grow (d->feed, d->have);
  emit_download_progress (d, false);
  return 0;
}

/* The blob is verified and linked into the attempt's staging directory:
   its layer jobs may finish.  */
static void
download_done (struct download *d)
{
  d->finished = true;
  blob_feed_grow (d->feed, d->size);
  blob_feed_end (d->feed, true);
  progress (d->pl, d->short_id, "Download complete", 0, 0);
}

/* Links the verified blob into the attempt's staging directory.  */
static int
link_complete (struct download *d, bool *done, skiff_error_t *err)
{
  *done = false;
  if (link (d->complete, d->staged) == 0 || errno == EEXIST)
    {
      *done = true;
      return 0;
    }
  if (errno == ENOENT)
    return 0;
  return local_error (d->pl, err, errno, "link downloaded blob");
}

/* Returns 0, -1, or 1 when a resumed file turned out bad and the
   download must start again from nothing.  */
static int
finish_download (struct download *d, skiff_error_t *err)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0, i;
  char got[IMAGE_ID_LEN + 1];
  bool done;

  progress (d->pl, d->short_id, "Verifying Checksum", 0, 0);
  if (EVP_DigestFinal_ex (d->md, md, &mdlen) != 1 || mdlen != 32)
    return local_error (d->pl, err, 0, "sha256 failed");
  memcpy (got, "sha256:", 7);
  for (i = 0; i < mdlen; i++)
    sprintf (got + 7 + 2 * i, "%02x", md[i]);
  if (strcmp (got, d->digest) != 0)
    {
      if (d->from_disk > 0)
        {
          /* The bytes an earlier pull left may be the bad ones: once
             more from the start.  */
          log_info ("blob %s resumed from %lld bytes does not verify; downloading it again", d->digest,
                    (long long) d->from_disk);
          d->from_disk = 0;
          d->have = 0;
          if (ftruncate (d->fd, 0) < 0 || hash_restart (d) < 0)
            return local_error (d->pl, err, errno, "truncate partial download");
          blob_feed_restart (d->feed);
          return 1;
        }
      /* Nothing of a bad blob is kept, not even to resume from.  */
      unlink (d->partial);
      blob_feed_end (d->feed, false);
      return skiff_error_make (err, 0, "filesystem layer verification failed for digest %s", d->digest);
    }
  if (fsync (d->fd) < 0)
    return local_error (d->pl, err, errno, "sync downloaded blob");
  if (rename (d->partial, d->complete) < 0)
    return local_error (d->pl, err, errno, "rename downloaded blob");
  if (link_complete (d, &done, err) < 0)
    return -1;
  if (!done)
    return local_error (d->pl, err, ENOENT, "link downloaded blob");
  close (d->fd);
  d->fd = -1;
  download_done (d);
  return 0;
}

/* Opens and locks the partial file and hashes what it already holds.  */
static int
prepare_download (struct download *d, skiff_error_t *err)
{
  unsigned char buf[HASH_BLOCK];
  struct stat st;
  int64_t off = 0;
  bool done;

  if (link_complete (d, &done, err) < 0)
    return -1;
  if (done)
    {
      download_done (d);
      return 0;
    }
  for (;;)
    {
      struct stat named;
      d->fd = open (d->partial, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (d->fd < 0)
        return local_error (d->pl, err, errno, "open partial download");
      if (flock (d->fd, LOCK_EX | LOCK_NB) < 0)
        {
          /* Another pull is downloading this blob: wait for it.  */
          progress (d->pl, d->short_id, "Waiting", 0, 0);
          while (flock (d->fd, LOCK_EX) < 0)
            if (errno != EINTR)
              return local_error (d->pl, err, errno, "lock partial download");
        }
      if (link_complete (d, &done, err) < 0)
        return -1;
      if (done)
        {
          close (d->fd);
          d->fd = -1;
          download_done (d);
          return 0;
        }
      if (fstat (d->fd, &st) < 0)
        return local_error (d->pl, err, errno, "stat partial download");
      /* The file we locked may have been renamed away by the pull that
         held the lock: lock the one under the name.  */
      if (stat (d->partial, &named) == 0 && named.st_ino == st.st_ino && named.st_dev == st.st_dev)
        break;
      close (d->fd);
      d->fd = -1;
    }
  d->md = EVP_MD_CTX_new ();
  if (d->md == NULL || hash_restart (d) < 0)
    return local_error (d->pl, err, ENOMEM, "sha256");
  if (st.st_size > d->size && ftruncate (d->fd, 0) < 0)
    return local_error (d->pl, err, errno, "truncate partial download");
  d->have = st.st_size > d->size ? 0 : st.st_size;
  d->from_disk = d->have;
  while (off < d->have)
    {
      ssize_t n = pread (d->fd, buf, sizeof (buf), off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return local_error (d->pl, err, n < 0 ? errno : EIO, "read partial download");
      if (EVP_DigestUpdate (d->md, buf, n) != 1)
        return local_error (d->pl, err, 0, "sha256");
      off += n;
    }
  blob_feed_grow (d->feed, d->have);
  if (d->have == d->size)
    return finish_download (d, err) < 0 ? -1 : 0;
  return 0;
}

static int
start_download (struct registry_client *c, CURLM *multi, struct download *d, skiff_error_t *err)
{
  int ret;

  if (d->blob)
    registry_blob_free (d->blob);
  d->blob = NULL;
  ret = registry_blob_new (c, d->digest, d->have, sink, d, &d->blob, err);
  if (ret < 0)
    return ret;
  if (curl_multi_add_handle (multi, registry_blob_handle (d->blob)) != CURLM_OK)
    return local_error (d->pl, err, ENOMEM, "start download");
  emit_download_progress (d, true);
  return 0;
}

/* A transfer ended: finish, retry from where it stopped, or fail.  */
static int
transfer_done (struct registry_client *c, CURLM *multi, struct download *d, CURLcode result, skiff_error_t *err)
{
  int ret;

  curl_multi_remove_handle (multi, registry_blob_handle (d->blob));
  ret = registry_blob_done (d->blob, result, err);
  if (d->sink_err)
    {
      skiff_error_release (err);
      *err = steal_pointer (&d->sink_err);
      return -1;
    }
  if (ret == 0 && d->have == d->size)
    {
      ret = finish_download (d, err);
      if (ret <= 0)
        return ret;
      return start_download (c, multi, d, err);
    }
  if (ret == 0)
    {
      skiff_error_make (err, 0, "blob %s: transfer ended after %lld of %lld bytes", d->digest, (long long) d->have,
                        (long long) d->size);
      ret = REGISTRY_RETRY;
    }
  if (ret != REGISTRY_RETRY)
    return ret;
  if (++d->attempts >= MAX_ATTEMPTS)
    return -1;
  log_info ("download of %s stopped at %lld bytes (%s); resuming", d->digest, (long long) d->have, (*err)->msg);
  skiff_error_release (err);
  return start_download (c, multi, d, err);
}

static void
cleanup_multip (CURLM **m)
{
  if (*m)
    curl_multi_cleanup (*m);
}

static int
run_downloads (struct pull *pl, struct registry_client *c, skiff_error_t *err)
{
  __attribute__ ((cleanup (cleanup_multip))) CURLM *multi = curl_multi_init ();
  size_t next = 0, active = 0, i;
  int ret = 0;

  if (multi == NULL)
    return local_error (pl, err, ENOMEM, "curl multi");
  for (;;)
    {
      CURLMsg *msg;
      int running, queued;

      while (active < MAX_CONCURRENT && next < pl->n_dl)
        {
          struct download *d = &pl->dl[next++];
          if (d->finished)
            continue;
          ret = start_download (c, multi, d, err);
          if (ret < 0)
            goto out;
          active++;
        }
      if (active == 0)
        break;
      if (curl_multi_perform (multi, &running) != CURLM_OK)
        {
          ret = local_error (pl, err, 0, "curl multi failed");
          goto out;
        }
      while ((msg = curl_multi_info_read (multi, &queued)))
        {
          struct download *d = NULL;
          if (msg->msg != CURLMSG_DONE)
            continue;
          for (i = 0; i < pl->n_dl; i++)
            if (pl->dl[i].blob && registry_blob_handle (pl->dl[i].blob) == msg->easy_handle)
              d = &pl->dl[i];
          if (d == NULL)
            continue;
          ret = transfer_done (c, multi, d, msg->data.result, err);
          if (ret < 0)
            goto out;
          if (d->finished)
            {
              registry_blob_free (d->blob);
              d->blob = NULL;
              active--;
            }
        }
      if (active > 0 && curl_multi_poll (multi, NULL, 0, 1000, NULL) != CURLM_OK)
        {
          ret = local_error (pl, err, 0, "curl multi poll failed");
          goto out;
        }
    }
out:
  for (i = 0; i < pl->n_dl; i++)
    if (pl->dl[i].blob)
      {
        curl_multi_remove_handle (multi, registry_blob_handle (pl->dl[i].blob));
        registry_blob_free (pl->dl[i].blob);
        pl->dl[i].blob = NULL;
      }
  return ret;
}

/* ---- manifest and config ---- */

static int
sha256_of (const char *data, size_t len, char out[IMAGE_ID_LEN + 1], skiff_error_t *err)
{
  memcpy (out, "sha256:", 7);
  return store_sha256_hex (data, len, out + 7, err);
}

/* Docker's wording for manifest failures (distribution/errors.go).  */
static int
manifest_error (struct pull *pl, int ret, skiff_error_t *err)
{
  if (ret == REGISTRY_ERR_NOT_FOUND)
    {
      if (strncmp ((*err)->msg, "name unknown:", 13) == 0)
        skiff_error_wrap (err, "repository %s not found", pl->familiar_name);
      else
        skiff_error_wrap (err, "manifest for %s not found", pl->familiar_ref);
      return IMAGE_ERR_NOT_FOUND;
    }
  if (ret == REGISTRY_ERR_DENIED)
    {
      skiff_error_wrap (err, "pull access denied for %s, repository does not exist or may require 'docker login'",
                        pl->familiar_name);
      return IMAGE_ERR_NOT_FOUND;
    }
  return IMAGE_ERR;
}

/* GET a manifest by reference and check it against expect (a digest, or
   NULL for a tag).  */
static int
get_manifest (struct pull *pl, struct registry_client *c, const char *reference, const char *expect,
              struct manifest *m, char digest[IMAGE_ID_LEN + 1], skiff_error_t *err)
{
  __attribute__ ((cleanup (registry_response_clear))) struct registry_response r = { 0 };
  int ret = registry_get_manifest (c, reference, false, &r, err);

  if (ret < 0)
    return manifest_error (pl, ret, err);
  if (sha256_of (r.body ? r.body : "", r.len, digest, err) < 0)
    return -1;
  if (expect && strcmp (digest, expect) != 0)
    return skiff_error_make (err, 0, "manifest verification failed for digest %s", expect);
  if (manifest_parse (r.content_type, r.body ? r.body : "", r.len, m, err) < 0)
    return IMAGE_ERR;
  return 0;
}

/* The image id that name@digest points at, if that image is here.  */
static bool
local_digest_ref (struct pull *pl, const char *digest, char id[IMAGE_ID_LEN + 1])
{
  cleanup_free char *name = image_ref_name (&pl->ref);
  cleanup_free char *canon = NULL;
  cleanup_free char *config = NULL;
  int t;
  store_scoped_lock (pl->s);

  if (name == NULL || asprintf (&canon, "%s@%s", name, digest) < 0)
    return false;
  t = store_find_tag_locked (pl->s, canon);
  if (t < 0)
    return false;
  config = store_path (pl->s, "configs/%s.json", pl->s->tags[t].id + 7);
  if (config == NULL || !fs_exists (config))
    return false;
  snprintf (id, IMAGE_ID_LEN + 1, "%s", pl->s->tags[t].id);
  return true;
}

static void
announce (struct pull *pl)
{
  cleanup_free char *status = NULL;
  if (pl->announced || asprintf (&status, "Pulling from %s", pl->ref.path) < 0)
    return;
  pl->announced = true;
  progress (pl, pl->ref.digest ? pl->ref.digest : pl->ref.tag, status, 0, 0);
}

/* Resolves the reference to the platform's image manifest.  Sets
   *local_id instead when the manifest's image is already here.  */
static int
resolve (struct pull *pl, struct registry_client *c, struct manifest *m, char local_id[IMAGE_ID_LEN + 1],
         skiff_error_t *err)
{
  __attribute__ ((cleanup (manifest_clear))) struct manifest top = { 0 };
  char known[IMAGE_ID_LEN + 1] = "";
  const struct manifest_descriptor *pick;
  const char *os, *arch, *variant;
  char child_digest[IMAGE_ID_LEN + 1];
  int ret;

  local_id[0] = '\0';
  if (pl->ref.digest)
    snprintf (known, sizeof (known), "%s", pl->ref.digest);
  else
    {
      __attribute__ ((cleanup (registry_response_clear))) struct registry_response r = { 0 };
      ret = registry_get_manifest (c, pl->ref.tag, true, &r, err);
      if (ret == REGISTRY_ERR_TRANSPORT)
        return IMAGE_ERR;
      /* Other failures: the GET below reports them with a body.  */
      skiff_error_release (err);
      if (ret == 0 && r.digest && image_ref_is_digest (r.digest))
        snprintf (known, sizeof (known), "%s", r.digest);
    }
  /* The digest of an index does not tell which platform is here.  */
  if (known[0] && pl->want_os[0] == '\0' && local_digest_ref (pl, known, local_id))
    {
      snprintf (pl->manifest_digest, sizeof (pl->manifest_digest), "%s", known);
      return 0;
    }
  ret = get_manifest (pl, c, known[0] ? known : pl->ref.tag, known[0] ? known : NULL, &top, pl->manifest_digest, err);
  if (ret < 0)
    return ret;
  if (top.kind == MANIFEST_IMAGE)
    {
      *m = top;
      memset (&top, 0, sizeof (top));
      return 0;
    }
  manifest_host_platform (&os, &arch, &variant);
  if (pl->want_os[0])
    os = pl->want_os, arch = pl->want_arch, variant = pl->want_variant;
  if (manifest_select (&top, os, arch, variant, &pick, err) < 0)
    return IMAGE_ERR_NOT_FOUND;
  ret = get_manifest (pl, c, pick->digest, pick->digest, m, child_digest, err);
  if (ret < 0)
    return ret;
  if (m->kind != MANIFEST_IMAGE)
    return skiff_error_make (err, 0, "manifest %s: an index inside an index is not supported", pick->digest);
  return 0;
}

static int
get_config (struct pull *pl, struct registry_client *c, const struct manifest *m, skiff_error_t *err)
{
  __attribute__ ((cleanup (registry_response_clear))) struct registry_response r = { 0 };
  char got[IMAGE_ID_LEN + 1];
  const char *os;
  int ret;

  if (m->config.size > CONFIG_MAX)
    return skiff_error_make (err, 0, "image config %s is too large", m->config.digest);
  ret = registry_get_blob (c, m->config.digest, CONFIG_MAX, &r, err);
  if (ret < 0)
    return skiff_error_wrap (err, "image config %s", m->config.digest), IMAGE_ERR;
  if (sha256_of (r.body ? r.body : "", r.len, got, err) < 0)
    return -1;
  if (strcmp (got, m->config.digest) != 0)
    return skiff_error_make (err, 0, "image config verification failed for digest %s", m->config.digest);
  ret = store_image_parse (r.body, r.len, NULL, &pl->p.img, err);
  if (ret < 0)
    return IMAGE_ERR;
  if (pl->p.img.n_layers != m->n_layers)
    return skiff_error_make (err, 0, "image %s: %zu layers in the manifest, %zu in the config", m->config.digest,
                             m->n_layers, pl->p.img.n_layers);
  os = json_get (pl->p.img.tree, "os") && YAJL_IS_STRING (json_get (pl->p.img.tree, "os"))
           ? YAJL_GET_STRING (json_get (pl->p.img.tree, "os"))
           : "";
  if (*os && strcmp (os, "linux") != 0)
    return skiff_error_make (err, 0, "image operating system \"%s\" cannot be used on this platform", os);
  return 0;
}

/* ---- layers ---- */

static int
cmp_download (const void *a, const void *b)
{
  return strcmp (((const struct download *) a)->digest, ((const struct download *) b)->digest);
}

static struct download *
find_download (struct pull *pl, const char *digest)
{
  size_t i;
  for (i = 0; i < pl->n_dl; i++)
    if (strcmp (pl->dl[i].digest, digest) == 0)
      return &pl->dl[i];
  return NULL;
}

/* Pins the layers the store has (a hard link to their layer.tar, so that
   an rmi meanwhile cannot pull them away) and plans downloads of the
   others.  layer_tars[i] is the layer's file: the pin, or the blob's
   link in dir once its download is verified.  */
static int
plan_layers (struct pull *pl, const struct manifest *m, const char *dir, skiff_error_t *err)
{
  size_t i, n = m->n_layers;

  pl->present = calloc (n + 1, sizeof (bool));
  pl->dl = calloc (n + 1, sizeof (struct download));
  pl->p.layer_tars = calloc (n + 1, sizeof (char *));
  if (pl->present == NULL || pl->dl == NULL || pl->p.layer_tars == NULL)
    return local_error (pl, err, ENOMEM, "plan layers");
  for (i = 0; i < n; i++)
    {
      cleanup_free char *kept = store_path (pl->s, "layers/%s/layer.tar", pl->p.img.chain_ids[i] + 7);
      cleanup_free char *pin = NULL;
      struct download *d;

      if (kept == NULL || asprintf (&pin, "%s/layer-%zu", dir, i) < 0)
        return local_error (pl, err, ENOMEM, "plan layers");
      if (link (kept, pin) == 0)
        {
          pl->present[i] = true;
          pl->p.layer_tars[i] = steal_pointer (&pin);
          continue;
        }
      if (errno != ENOENT)
        return local_error (pl, err, errno, "pin layer");
      d = find_download (pl, m->layers[i].digest);
      if (d == NULL)
        {
          d = &pl->dl[pl->n_dl++];
          d->fd = -1;
          d->pl = pl;
          d->size = m->layers[i].size;
          if ((d->feed = blob_feed_new ()) == NULL)
            return local_error (pl, err, ENOMEM, "plan layers");
          snprintf (d->digest, sizeof (d->digest), "%s", m->layers[i].digest);
          manifest_short_id (d->digest, d->short_id);
          if (asprintf (&d->partial, "%s/%s.partial", pl->blobs_dir, d->digest + 7) < 0
              || asprintf (&d->complete, "%s/%s", pl->blobs_dir, d->digest + 7) < 0
              || asprintf (&d->staged, "%s/blob-%s", dir, d->digest + 7) < 0)
            return local_error (pl, err, ENOMEM, "plan layers");
        }
      pl->p.layer_tars[i] = strdup (d->staged);
      if (pl->p.layer_tars[i] == NULL)
        return local_error (pl, err, ENOMEM, "plan layers");
    }
  for (i = 0; i < n; i++)
    {
      char short_id[13];
      manifest_short_id (m->layers[i].digest, short_id);
      progress (pl, short_id, pl->present[i] ? "Already exists" : "Pulling fs layer", 0, 0);
    }
  /* Lock partial files in one global order: two pulls never deadlock.  */
  qsort (pl->dl, pl->n_dl, sizeof (*pl->dl), cmp_download);
  return 0;
}

/* Starts a job per layer to download, in the order the downloads start:
   each unpacks its layer as the blob arrives.  */
static int
start_jobs (struct pull *pl, const struct manifest *m, const char *dir, skiff_error_t *err)
{
  size_t n = pl->p.img.n_layers, k, i;

  pl->jobs = calloc (n + 1, sizeof (*pl->jobs));
  pl->job_dirs = calloc (n + 1, sizeof (*pl->job_dirs));
  pl->slots = unpack_slots_new (MAX_UNPACK);
  if (pl->jobs == NULL || pl->job_dirs == NULL || pl->slots == NULL)
    return local_error (pl, err, ENOMEM, "unpack layers");
  for (k = 0; k < pl->n_dl; k++)
    for (i = 0; i < n; i++)
      {
        struct download *d = &pl->dl[k];
        struct layer_job_spec spec = { .feed = d->feed, .slots = pl->slots, .tar = d->staged, .index = i };
        if (pl->present[i] || strcmp (m->layers[i].digest, d->digest) != 0)
          continue;
        if (asprintf (&pl->job_dirs[i], "%s/layer-%zu", dir, i) < 0)
          {
            pl->job_dirs[i] = NULL;
            return local_error (pl, err, ENOMEM, "unpack layers");
          }
        /* Its own descriptor: the download closes its one when done.  */
        spec.fd = d->finished ? open (d->staged, O_RDONLY | O_CLOEXEC) : fcntl (d->fd, F_DUPFD_CLOEXEC, 0);
        if (spec.fd < 0)
          return local_error (pl, err, errno, "open downloaded blob");
        spec.dir = pl->job_dirs[i];
        spec.diff_id = pl->p.img.diff_ids[i];
        spec.chain_id = pl->p.img.chain_ids[i];
        spec.parent = i > 0 ? pl->p.img.chain_ids[i - 1] : NULL;
        if (layer_job_start (&spec, &pl->jobs[i], err) < 0)
          {
            pl->local_failure = true;
            return -1;
          }
      }
  return 0;
}

/* ---- one endpoint ---- */

static int
from_endpoint (struct pull *pl, const struct registry_endpoint *ep, struct manifest *m,
               char local_id[IMAGE_ID_LEN + 1], bool *at_ping, skiff_error_t *err)
{
  cleanup_registry_client struct registry_client *c = NULL;
  cleanup_free char *dir = NULL;
  cleanup_free char *config = NULL;
  size_t i;
  int ret;

  *at_ping = false;
  if (registry_client_new (ep, pl->ref.path, pl->o->username, pl->o->password, &c, err) < 0)
    return local_error (pl, err, ENOMEM, "registry client");
  ret = registry_ping (c, err);
  if (ret < 0)
    {
      *at_ping = ret == REGISTRY_ERR_TRANSPORT;
      return IMAGE_ERR;
    }
  ret = resolve (pl, c, m, local_id, err);
  if (ret < 0)
    return ret;
  announce (pl);
  if (local_id[0])
    return 0;
  config = store_path (pl->s, "configs/%s.json", m->config.digest + 7);
  if (config == NULL)
    return local_error (pl, err, ENOMEM, "pull");
  if (fs_exists (config))
    {
      /* The image is here under another name: nothing to download.  */
      snprintf (local_id, IMAGE_ID_LEN + 1, "%s", m->config.digest);
      return 0;
    }
  ret = get_config (pl, c, m, err);
  if (ret < 0)
    return ret;
  if (asprintf (&dir, "%s/%u", pl->staging, pl->attempt++) < 0)
    return local_error (pl, err, ENOMEM, "pull");
  if (mkdir (dir, 0700) < 0)
    return local_error (pl, err, errno, "create pull staging");
  ret = plan_layers (pl, m, dir, err);
  if (ret < 0)
    return ret;
  for (i = 0; i < pl->n_dl; i++)
    {
      ret = prepare_download (&pl->dl[i], err);
      if (ret < 0)
        return ret;
    }
  ret = start_jobs (pl, m, dir, err);
  if (ret < 0)
    return ret;
  return run_downloads (pl, c, err);
}

/* ---- refs and commit ---- */

static int
add_refs (struct pull *pl, skiff_error_t *err)
{
  cleanup_free char *name = image_ref_name (&pl->ref);
  cleanup_free char *by_digest = NULL;

  if (pl->p.tags == NULL && (pl->p.tags = calloc (1, sizeof (char *))) == NULL)
    return skiff_error_make (err, ENOMEM, "pull");
  if (name == NULL || asprintf (&by_digest, "%s@%s", name, pl->manifest_digest) < 0
      || (pl->tag_ref && strv_add (&pl->p.tags, pl->tag_ref) < 0) || strv_add (&pl->p.tags, by_digest) < 0)
    return skiff_error_make (err, ENOMEM, "pull");
  return 0;
}

/* Points the references at an image that is already here.  Returns 1
   when the image vanished meanwhile.  */
static int
set_refs (struct pull *pl, const char *id, bool *changed, skiff_error_t *err)
{
  cleanup_free char *config = store_path (pl->s, "configs/%s.json", id + 7);
  bool dirty = false;
  size_t i;
  store_scoped_lock (pl->s);

  *changed = false;
  if (config == NULL)
    return skiff_error_make (err, ENOMEM, "pull");
  if (!fs_exists (config))
    return 1;
  for (i = 0; pl->p.tags[i]; i++)
    {
      int t = store_find_tag_locked (pl->s, pl->p.tags[i]);
      if (t >= 0 && strcmp (pl->s->tags[t].id, id) == 0)
        continue;
      if (store_set_tag_locked (pl->s, pl->p.tags[i], id, err) < 0)
        {
          skiff_error_t ignored = NULL;
          if (store_load_tags_locked (pl->s, &ignored) < 0)
            skiff_error_release (&ignored);
          return -1;
        }
      dirty = true;
      /* A digest reference only records where the image came from.  */
      if (strchr (pl->p.tags[i], '@') == NULL)
        *changed = true;
    }
  /* An image that is up to date changes nothing on disk (and so makes
     no other process reload the tags).  */
  return dirty ? store_save_tags_locked (pl->s, err) : 0;
}

/* Remembers where the gzip layers live, for pushes to mount or skip
   them later (dist_meta.h); best effort.  */
static void
record_sources (struct pull *pl, const struct manifest_descriptor *layers)
{
  cleanup_free char *name = image_ref_name (&pl->ref);
  size_t i;

  for (i = 0; name && i < pl->p.img.n_layers; i++)
    {
      skiff_error_t err = NULL;
      if (layers[i].compression != LAYER_GZIP)
        continue;
      if (dist_meta_add (pl->s, pl->p.img.diff_ids[i], layers[i].digest, layers[i].size, name, &err) < 0)
        {
          log_info ("pull %s: layer metadata not recorded: %s", pl->familiar_ref, err->msg);
          skiff_error_release (&err);
        }
    }
}

static int
commit (struct pull *pl, const struct manifest_descriptor *layers, skiff_error_t *err)
{
  size_t i;
  int ret;

  pl->p.stage_dirs = calloc (pl->p.img.n_layers + 1, sizeof (char *));
  if (pl->p.stage_dirs == NULL)
    return skiff_error_make (err, ENOMEM, "pull");
  /* Every download is verified: the jobs read their blobs to the end.  */
  for (i = 0; i < pl->p.img.n_layers; i++)
    if (pl->jobs[i])
      {
        char short_id[13];
        manifest_short_id (layers[i].digest, short_id);
        progress (pl, short_id, "Extracting", layers[i].size, layers[i].size);
        ret = layer_job_finish (pl->jobs[i], err);
        pl->jobs[i] = NULL;
        if (ret < 0)
          return IMAGE_ERR;
        pl->p.stage_dirs[i] = steal_pointer (&pl->job_dirs[i]);
      }
  {
    store_scoped_lock (pl->s);
    ret = store_commit_locked (pl->s, &pl->p, 1, NULL, err);
  }
  if (ret < 0)
    return IMAGE_ERR;
  for (i = 0; i < pl->p.img.n_layers; i++)
    if (!pl->present[i])
      {
        char short_id[13];
        manifest_short_id (layers[i].digest, short_id);
        progress (pl, short_id, "Pull complete", 0, 0);
      }
  /* The store holds the layers now: drain the download cache.  */
  for (i = 0; i < pl->n_dl; i++)
    unlink (pl->dl[i].complete);
  record_sources (pl, layers);
  return 0;
}

static void
pull_release (struct pull *pl)
{
  attempt_reset (pl);
  image_ref_clear (&pl->ref);
  free (pl->familiar_name);
  free (pl->familiar_ref);
  free (pl->tag_ref);
  free (pl->blobs_dir);
  store_cleanup_staging (&pl->staging);
}

static void
finish_status (struct pull *pl, bool newer)
{
  cleanup_free char *digest = NULL;
  cleanup_free char *status = NULL;
  if (asprintf (&digest, "Digest: %s", pl->manifest_digest) >= 0)
    progress (pl, NULL, digest, 0, 0);
  if (asprintf (&status, "Status: %s for %s", newer ? "Downloaded newer image" : "Image is up to date",
                pl->familiar_ref)
      >= 0)
    progress (pl, NULL, status, 0, 0);
}

/* Runs the endpoints in order; on success either *local_id is set (the
   image is here) or pl and m hold the downloaded image.  */
static int
fetch (struct pull *pl, struct manifest *m, char local_id[IMAGE_ID_LEN + 1], skiff_error_t *err)
{
  struct registry_endpoint *eps = NULL;
  size_t n = 0, i;
  int ret = IMAGE_ERR;

  if (registry_endpoints (pl->ref.domain, pl->o, &eps, &n, err) < 0)
    return IMAGE_ERR;
  for (i = 0; i < n; i++)
    {
      bool at_ping = false, last = i + 1 == n;
      attempt_reset (pl);
      manifest_clear (m);
      ret = from_endpoint (pl, &eps[i], m, local_id, &at_ping, err);
      if (ret == 0 || last || pl->local_failure || !(eps[i].mirror || (eps[i].http_fallback && at_ping)))
        break;
      log_info ("pull %s from %s failed, trying %s: %s", pl->familiar_ref, eps[i].url, eps[i + 1].url, (*err)->msg);
      skiff_error_release (err);
    }
  registry_endpoints_free (eps, n);
  return ret;
}

/* o->platform "linux/arm64/v8" into want_*; the variant is "" when not
   given.  */
static int
parse_platform (struct pull *pl, skiff_error_t *err)
{
  const char *p = pl->o->platform, *rest;
  size_t n;

  if (p == NULL || *p == '\0')
    return 0;
  n = strcspn (p, "/");
  rest = p + n;
  if (n == 0 || n >= sizeof (pl->want_os) || *rest != '/' || rest[1] == '\0' || rest[1] == '/'
      || strcspn (rest + 1, "/") >= sizeof (pl->want_arch) || strlen (rest + 1) >= sizeof (pl->want_arch))
    return skiff_error_make (err, 0, "invalid platform \"%s\": expected os/architecture[/variant]", p);
  snprintf (pl->want_os, sizeof (pl->want_os), "%.*s", (int) n, p);
  rest++;
  n = strcspn (rest, "/");
  snprintf (pl->want_arch, sizeof (pl->want_arch), "%.*s", (int) n, rest);
  snprintf (pl->want_variant, sizeof (pl->want_variant), "%s", rest[n] == '/' ? rest + n + 1 : "");
  return 0;
}

int
image_pull (struct image_store *s, const char *ref, const struct pull_opts *o, char **image_id, skiff_error_t *err)
{
  static const struct pull_opts defaults = { 0 };
  __attribute__ ((cleanup (pull_release))) struct pull pl = { 0 };
  __attribute__ ((cleanup (manifest_clear))) struct manifest m = { 0 };
  char local_id[IMAGE_ID_LEN + 1] = "";
  bool changed = false;
  int ret, round;

  pl.s = s;
  pl.o = o ? o : &defaults;
  if (image_ref_parse (ref, &pl.ref, err) < 0 || parse_platform (&pl, err) < 0)
    return IMAGE_ERR_INVALID;
  if (image_ref_default_tag (&pl.ref, err) < 0)
    return IMAGE_ERR;
  pl.familiar_name = image_ref_familiar_name (&pl.ref);
  pl.familiar_ref = image_ref_familiar_string (&pl.ref);
  pl.blobs_dir = store_path (s, "tmp/blobs");
  if (pl.familiar_name == NULL || pl.familiar_ref == NULL || pl.blobs_dir == NULL
      || (pl.ref.digest == NULL && (pl.tag_ref = image_ref_string (&pl.ref)) == NULL))
    return skiff_error_make (err, ENOMEM, "pull %s", ref);
  if (fs_mkdir_p (pl.blobs_dir, 0700, err) < 0 || store_make_staging (s, "pull", &pl.staging, err) < 0)
    return IMAGE_ERR;

  /* An image found here may be deleted before it is tagged: then the
     next round downloads it.  */
  for (round = 0; round < 3; round++)
    {
      local_id[0] = '\0';
      ret = fetch (&pl, &m, local_id, err);
      if (ret < 0)
        return ret < IMAGE_ERR_CONFLICT ? IMAGE_ERR : ret; /* REGISTRY_* -> IMAGE_ERR */
      if (add_refs (&pl, err) < 0)
        return IMAGE_ERR;
      if (local_id[0] == '\0')
        {
          ret = commit (&pl, m.layers, err);
          if (ret < 0)
            return ret;
          finish_status (&pl, true);
          *image_id = strdup (pl.p.img.id);
          return *image_id ? 0 : skiff_error_make (err, ENOMEM, "pull %s", ref);
        }
      ret = set_refs (&pl, local_id, &changed, err);
      if (ret < 0)
        return IMAGE_ERR;
      if (ret == 0)
        {
          finish_status (&pl, changed);
          *image_id = strdup (local_id);
          return *image_id ? 0 : skiff_error_make (err, ENOMEM, "pull %s", ref);
        }
    }
  return skiff_error_make (err, 0, "pull %s: the image keeps disappearing from the store", ref);
}
