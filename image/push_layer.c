/* One layer of a push: skip it when the repository has it, mount it from
   another repository of the registry that has it, or compress and upload
   it.  Where a layer lives comes from dist_meta.h.  */
#include "push.h"
#include "cleanup.h"
#include "dist_meta.h"
#include "log.h"
#include "manifest.h"
#include "store_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_INTERVAL_NS 100000000LL
#define COPY_BLOCK (128 * 1024)

static void
progress (struct push *p, const char *id, const char *status, int64_t current, int64_t total)
{
  if (p->o->progress)
    p->o->progress (p->o->data, id, status, current, total);
}

/* "sha256:<hex>" of the bytes of a file (a compressed layer: OpenSSL's
   sha256 is several times faster than libmd's here).  */
static int
sha256_file (const char *path, char out[IMAGE_ID_LEN + 1], skiff_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  EVP_MD_CTX *md = EVP_MD_CTX_new ();
  unsigned char buf[65536], digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0, i;
  ssize_t n;
  int ret = -1;

  if (fd < 0 || md == NULL || EVP_DigestInit_ex (md, EVP_sha256 (), NULL) != 1)
    {
      skiff_error_make (err, fd < 0 ? errno : ENOMEM, "hash `%s`", path);
      goto out;
    }
  while ((n = read (fd, buf, sizeof (buf))) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || EVP_DigestUpdate (md, buf, n) != 1)
        {
          skiff_error_make (err, errno, "hash `%s`", path);
          goto out;
        }
    }
  if (EVP_DigestFinal_ex (md, digest, &dlen) != 1 || dlen != 32)
    {
      skiff_error_make (err, 0, "hash `%s`", path);
      goto out;
    }
  memcpy (out, "sha256:", 7);
  for (i = 0; i < dlen; i++)
    sprintf (out + 7 + 2 * i, "%02x", digest[i]);
  ret = 0;
out:
  EVP_MD_CTX_free (md);
  return ret;
}

/* "host/path" of a normalised repository name in p's registry, or NULL.  */
static const char *
path_in_registry (struct push *p, const char *repository)
{
  size_t n = strlen (p->domain);
  if (strncmp (repository, p->domain, n) != 0 || repository[n] != '/')
    return NULL;
  return repository + n + 1;
}

char *
push_scope (struct push *p, char **diff_ids)
{
  char *scope = NULL;
  size_t i, k;

  if (asprintf (&scope, "repository:%s:pull,push", p->path) < 0)
    return NULL;
  for (i = 0; diff_ids[i]; i++)
    {
      struct dist_source *v = NULL;
      size_t n = 0;
      skiff_error_t err = NULL;
      if (dist_meta_get (p->s, diff_ids[i], &v, &n, &err) < 0)
        {
          skiff_error_release (&err);
          continue;
        }
      for (k = 0; k < n; k++)
        {
          const char *from = path_in_registry (p, v[k].repository);
          char *needle = NULL, *next = NULL;
          if (from == NULL || strcmp (from, p->path) == 0)
            continue;
          if (asprintf (&needle, "repository:%s:pull", from) < 0)
            break;
          /* Once per repository.  */
          if (strstr (scope, needle) == NULL && asprintf (&next, "%s %s", scope, needle) >= 0)
            {
              free (scope);
              scope = next;
            }
          free (needle);
        }
      dist_sources_free (v, n);
    }
  return scope;
}

static void
cleanup_archive_writep (struct archive **a)
{
  if (*a)
    archive_write_free (*a);
}

/* tar -> out as gzip without a time stamp or name: the same tar always
   gives the same blob, so that pushes of one image agree on its digest.  */
static int
compress (const char *tar, const char *out, skiff_error_t *err)
{
  __attribute__ ((cleanup (cleanup_archive_writep))) struct archive *a = archive_write_new ();
  cleanup_close int in = open (tar, O_RDONLY | O_CLOEXEC);
  cleanup_close int fd = open (out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  struct archive_entry *e = archive_entry_new ();
  cleanup_free char *buf = malloc (COPY_BLOCK);
  struct stat st;
  ssize_t n;

  if (a == NULL || e == NULL || buf == NULL)
    {
      archive_entry_free (e);
      return skiff_error_make (err, ENOMEM, "compress layer");
    }
  if (in < 0 || fstat (in, &st) < 0)
    {
      archive_entry_free (e);
      return skiff_error_make (err, errno, "open `%s`", tar);
    }
  if (fd < 0)
    {
      archive_entry_free (e);
      return skiff_error_make (err, errno, "create `%s`", out);
    }
  archive_entry_set_pathname (e, "layer.tar");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_size (e, st.st_size);
  if (archive_write_set_format_raw (a) != ARCHIVE_OK || archive_write_add_filter_gzip (a) != ARCHIVE_OK
      || archive_write_set_filter_option (a, "gzip", "timestamp", NULL) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK || archive_write_open_fd (a, fd) != ARCHIVE_OK
      || archive_write_header (a, e) != ARCHIVE_OK)
    {
      skiff_error_make (err, 0, "compress layer: %s", archive_error_string (a));
      archive_entry_free (e);
      return -1;
    }
  archive_entry_free (e);
  while ((n = read (in, buf, COPY_BLOCK)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return skiff_error_make (err, errno, "read `%s`", tar);
      if (archive_write_data (a, buf, n) != n)
        return skiff_error_make (err, 0, "compress layer: %s", archive_error_string (a));
    }
  if (archive_write_close (a) != ARCHIVE_OK)
    return skiff_error_make (err, 0, "compress layer: %s", archive_error_string (a));
  if (fsync (fd) < 0)
    return skiff_error_make (err, errno, "sync `%s`", out);
  return 0;
}

struct upload_progress
{
  struct push *p;
  const char *id;
  int64_t total;
  struct timespec last;
};

static void
on_upload_progress (void *data, int64_t sent)
{
  struct upload_progress *u = data;
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  if (sent < u->total
      && (now.tv_sec - u->last.tv_sec) * 1000000000LL + (now.tv_nsec - u->last.tv_nsec) < PROGRESS_INTERVAL_NS)
    return;
  u->last = now;
  progress (u->p, u->id, "Pushing", sent, u->total);
}

static void
remember (struct push *p, const char *diff_id, const struct push_blob *b)
{
  skiff_error_t err = NULL;
  if (dist_meta_add (p->s, diff_id, b->digest, b->size, p->name, &err) < 0)
    {
      log_info ("push %s: layer metadata not recorded: %s", p->name, err->msg);
      skiff_error_release (&err);
    }
}

/* Known copies of the layer in this registry: skip or mount.  Returns 1
   when done (out set), 0 to upload (*location may hold an upload the
   registry started instead of a mount).  */
static int
reuse (struct push *p, const char *diff_id, const char *short_id, struct push_blob *out, char **location,
       skiff_error_t *err)
{
  struct dist_source *v = NULL;
  size_t n = 0, k;
  int ret = 0;

  if (dist_meta_get (p->s, diff_id, &v, &n, err) < 0)
    return -1;
  /* The target repository first: no request but a HEAD.  */
  for (k = 0; k < n && ret == 0; k++)
    {
      const char *from = path_in_registry (p, v[k].repository);
      if (from == NULL || strcmp (from, p->path) != 0)
        continue;
      ret = registry_blob_exists (p->c, p->path, v[k].digest, err);
      if (ret > 0)
        {
          snprintf (out->digest, sizeof (out->digest), "%s", v[k].digest);
          out->size = v[k].size;
          progress (p, short_id, "Layer already exists", 0, 0);
        }
    }
  for (k = 0; k < n && ret == 0 && *location == NULL; k++)
    {
      const char *from = path_in_registry (p, v[k].repository);
      bool mounted = false;
      cleanup_free char *status = NULL;
      if (from == NULL || strcmp (from, p->path) == 0)
        continue;
      ret = registry_blob_mount (p->c, p->path, v[k].digest, from, &mounted, location, err);
      if (ret < 0)
        break;
      if (mounted)
        {
          snprintf (out->digest, sizeof (out->digest), "%s", v[k].digest);
          out->size = v[k].size;
          if (asprintf (&status, "Mounted from %s", from) >= 0)
            progress (p, short_id, status, 0, 0);
          ret = 1;
        }
    }
  dist_sources_free (v, n);
  return ret;
}

int
push_layer (struct push *p, const char *diff_id, const char *tar, unsigned index, struct push_blob *out,
            skiff_error_t *err)
{
  cleanup_free char *blob = NULL;
  cleanup_free char *location = NULL;
  cleanup_close int fd = -1;
  char short_id[13];
  struct stat st;
  int ret;

  manifest_short_id (diff_id, short_id);
  ret = reuse (p, diff_id, short_id, out, &location, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    {
      remember (p, diff_id, out);
      return 0;
    }
  if (asprintf (&blob, "%s/blob-%u.gz", p->staging, index) < 0)
    return skiff_error_make (err, ENOMEM, "push layer");
  if (compress (tar, blob, err) < 0 || sha256_file (blob, out->digest, err) < 0)
    return -1;
  fd = open (blob, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return skiff_error_make (err, errno, "open `%s`", blob);
  out->size = st.st_size;
  /* The compression is deterministic: a push whose metadata was lost
     still finds its blob.  */
  if (location == NULL)
    {
      ret = registry_blob_exists (p->c, p->path, out->digest, err);
      if (ret < 0)
        return ret;
      if (ret > 0)
        {
          progress (p, short_id, "Layer already exists", 0, 0);
          remember (p, diff_id, out);
          return 0;
        }
      ret = registry_upload_start (p->c, p->path, &location, err);
      if (ret < 0)
        return ret;
    }
  {
    struct upload_progress up = { p, short_id, out->size, { 0, 0 } };
    struct registry_upload u = { .fd = fd,
                                 .size = out->size,
                                 .digest = out->digest,
                                 .chunk = p->o->chunk_size > 0 ? p->o->chunk_size : PUSH_CHUNK_DEFAULT,
                                 .progress = on_upload_progress,
                                 .progress_data = &up };
    progress (p, short_id, "Pushing", 0, out->size);
    ret = registry_upload_blob (p->c, location, &u, err);
    if (ret < 0)
      return ret;
  }
  progress (p, short_id, "Pushed", 0, 0);
  remember (p, diff_id, out);
  unlink (blob);
  return 0;
}
