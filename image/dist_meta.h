/* Where a layer is known to live in registries (Docker's
   v2metadata-by-diffid): per diff id, the gzip blobs that pulls and pushes
   saw, with their size and repository.  A push uses it to skip blobs the
   target repository has ("Layer already exists") and to mount blobs from
   another repository of the same registry ("Mounted from ...").

     image/distribution/<diff hex>.json
       [{"Digest":"sha256:...","Size":N,"SourceRepository":"host:5000/library/alpine"}, ...]

   Newest first, at most DIST_META_MAX entries.  Best effort for callers:
   a lost entry costs an upload, never correctness (the registry is asked
   before anything is skipped).  */
#ifndef SKIFF_IMAGE_DIST_META_H
#define SKIFF_IMAGE_DIST_META_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define DIST_META_MAX 16

struct image_store;

struct dist_source
{
  char *digest;
  int64_t size;
  char *repository; /* normalised name: docker.io/library/alpine */
};

/* Records that diff_id's layer is the blob digest (size bytes) in
   repository; an existing entry for the same digest and repository moves
   to the front.  */
int dist_meta_add (struct image_store *s, const char *diff_id, const char *digest, int64_t size,
                   const char *repository, skiff_error_t *err);

/* The entries of diff_id, newest first; none is not an error.  */
int dist_meta_get (struct image_store *s, const char *diff_id, struct dist_source **out, size_t *n,
                   skiff_error_t *err);

void dist_sources_free (struct dist_source *v, size_t n);

#endif
