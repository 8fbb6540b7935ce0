/* The push side of the registry client: blob existence checks, cross-
   repository mounts, monolithic and chunked blob uploads, manifest PUTs
   (distribution spec, "Pushing blobs" and "Pushing manifests").  */
#include "registry.h"
#include "cleanup.h"
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX (64 * 1024)

static void
cleanup_responsep (struct registry_response *r)
{
  registry_response_clear (r);
}
#define cleanup_response __attribute__ ((cleanup (cleanup_responsep)))

int
registry_blob_exists (struct registry_client *c, const char *repo, const char *digest, skiff_error_t *err)
{
  cleanup_response struct registry_response r = { 0 };
  cleanup_free char *path = NULL;
  int ret;

  if (asprintf (&path, "/v2/%s/blobs/%s", repo, digest) < 0)
    return skiff_error_make (err, ENOMEM, "blob check");
  ret = registry_request (c, "HEAD", path, NULL, NULL, ANSWER_MAX, &r, err);
  if (ret == REGISTRY_ERR_NOT_FOUND)
    {
      skiff_error_release (err);
      return 0;
    }
  return ret < 0 ? ret : 1;
}

/* The Location of a 201/202 answer, checked.  */
static int
take_location (struct registry_response *r, const char *what, char **location, skiff_error_t *err)
{
  if (r->location == NULL || *r->location == '\0')
    return skiff_error_make (err, 0, "%s: the registry answered %s without a Location", what,
                             r->reason ? r->reason : "(no status)"),
           REGISTRY_ERR_REMOTE;
  *location = steal_pointer (&r->location);
  return 0;
}

int
registry_blob_mount (struct registry_client *c, const char *repo, const char *digest, const char *from,
                     bool *mounted, char **location, skiff_error_t *err)
{
  cleanup_response struct registry_response r = { 0 };
  cleanup_free char *path = NULL;
  struct registry_send empty = { .data = "", .length = 0 };
  int ret;

  *mounted = false;
  *location = NULL;
  if (asprintf (&path, "/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, digest, from) < 0)
    return skiff_error_make (err, ENOMEM, "blob mount");
  ret = registry_request (c, "POST", path, NULL, &empty, ANSWER_MAX, &r, err);
  if (ret < 0)
    return ret;
  if (r.status == 201)
    {
      *mounted = true;
      return 0;
    }
  /* 202: no mount, but an upload was started instead.  */
  return take_location (&r, "blob mount", location, err);
}

int
registry_upload_start (struct registry_client *c, const char *repo, char **location, skiff_error_t *err)
{
  cleanup_response struct registry_response r = { 0 };
  cleanup_free char *path = NULL;
  struct registry_send empty = { .data = "", .length = 0 };
  int ret;

  if (asprintf (&path, "/v2/%s/blobs/uploads/", repo) < 0)
    return skiff_error_make (err, ENOMEM, "blob upload");
  ret = registry_request (c, "POST", path, NULL, &empty, ANSWER_MAX, &r, err);
  if (ret < 0)
    return ret;
  return take_location (&r, "blob upload", location, err);
}

struct chunk_progress
{
  const struct registry_upload *u;
  int64_t base;
};

static void
on_chunk_progress (void *data, int64_t sent)
{
  struct chunk_progress *p = data;
  p->u->progress (p->u->progress_data, p->base + sent);
}

static char *
with_digest (const char *location, const char *digest)
{
  char *url = NULL;
  if (asprintf (&url, "%s%cdigest=%s", location, strchr (location, '?') ? '&' : '?', digest) < 0)
    return NULL;
  return url;
}

int
registry_upload_blob (struct registry_client *c, const char *location, const struct registry_upload *u,
                      skiff_error_t *err)
{
  cleanup_free char *loc = strdup (location);
  cleanup_free char *final = NULL;
  struct chunk_progress cp = { u, 0 };
  struct registry_send send = { .content_type = "application/octet-stream", .fd = u->fd };
  int64_t chunk = u->chunk > 0 ? u->chunk : u->size;
  int ret;

  if (loc == NULL)
    return skiff_error_make (err, ENOMEM, "blob upload");
  if (u->progress)
    send.progress = on_chunk_progress, send.progress_data = &cp;
  if (u->size > chunk)
    {
      /* Chunked: PATCH each piece with its Content-Range to the Location
         of the answer before, then PUT the digest.  */
      int64_t off;
      for (off = 0; off < u->size; off += chunk)
        {
          cleanup_response struct registry_response r = { 0 };
          cleanup_free char *range = NULL;
          int64_t n = u->size - off < chunk ? u->size - off : chunk;
          if (asprintf (&range, "Content-Range: %lld-%lld", (long long) off, (long long) (off + n - 1)) < 0)
            return skiff_error_make (err, ENOMEM, "blob upload");
          send.extra_header = range;
          send.offset = off;
          send.length = n;
          cp.base = off;
          ret = registry_request (c, "PATCH", loc, NULL, &send, ANSWER_MAX, &r, err);
          if (ret < 0)
            return ret;
          free (loc);
          loc = NULL;
          ret = take_location (&r, "blob upload", &loc, err);
          if (ret < 0)
            return ret;
        }
      send.extra_header = NULL;
      send.data = "";
      send.offset = 0;
      send.length = 0;
      send.progress = NULL;
    }
  else
    {
      send.offset = 0;
      send.length = u->size;
    }
  final = with_digest (loc, u->digest);
  if (final == NULL)
    return skiff_error_make (err, ENOMEM, "blob upload");
  {
    cleanup_response struct registry_response r = { 0 };
    ret = registry_request (c, "PUT", final, NULL, &send, ANSWER_MAX, &r, err);
    if (ret < 0)
      return ret;
    if (r.digest && strcmp (r.digest, u->digest) != 0)
      return skiff_error_make (err, 0, "blob upload: the registry stored %s as %s", u->digest, r.digest),
             REGISTRY_ERR_REMOTE;
  }
  return 0;
}

int
registry_put_manifest (struct registry_client *c, const char *repo, const char *reference, const char *media_type,
                       const char *body, size_t len, skiff_error_t *err)
{
  cleanup_response struct registry_response r = { 0 };
  cleanup_free char *path = NULL;
  struct registry_send send = { .content_type = media_type, .data = body, .length = (int64_t) len };

  if (asprintf (&path, "/v2/%s/manifests/%s", repo, reference) < 0)
    return skiff_error_make (err, ENOMEM, "manifest upload");
  return registry_request (c, "PUT", path, NULL, &send, ANSWER_MAX, &r, err);
}
