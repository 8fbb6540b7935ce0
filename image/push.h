/* `docker push`: an image of the store to a Docker Registry HTTP API V2
   server, as a Docker schema 2 manifest with gzip layers.

   The first part is what the daemon calls; the second is shared by
   push.c (tags, config, manifest) and push_layer.c (one layer).  */
#ifndef SKIFF_IMAGE_PUSH_H
#define SKIFF_IMAGE_PUSH_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "registry.h"
#include "store.h"

/* Blobs above this size go up in PATCH chunks of this size.  */
#define PUSH_CHUNK_DEFAULT (16 * 1024 * 1024)

/* Called after each tag's manifest is stored: Docker's "aux" message.  */
typedef void (*push_done_fn) (void *data, const char *tag, const char *digest, int64_t size);

struct push_opts
{
  const char *const *insecure; /* as pull_opts */
  const char *username;        /* NULL: anonymous */
  const char *password;
  const char *docker_io_url;   /* as pull_opts */
  int64_t chunk_size;          /* 0: PUSH_CHUNK_DEFAULT */
  /* Docker's JSON progress: "The push refers to repository [NAME]";
     per layer (id = 12 hex digits of the diff id) "Preparing",
     "Pushing" (current/total bytes), "Pushed", "Layer already exists",
     "Mounted from library/alpine"; per tag "TAG: digest: sha256:...
     size: N".  */
  pull_progress_fn progress;
  push_done_fn done;
  void *data;
};

/* `docker push NAME[:TAG]`: tag NULL or "" pushes every tag of the
   repository NAME (the API without tag).  Layers the repository has are
   skipped, blobs another repository of the same registry has are mounted,
   the others are compressed (deterministic gzip, so that pushing one
   image twice gives one digest) and uploaded; then the config and the
   manifest.  The manifest's digest becomes the image's digest reference
   (RepoDigests).

   Blocks; run it in a worker thread.  Returns 0, IMAGE_ERR_INVALID
   (bad reference, digest reference), IMAGE_ERR_NOT_FOUND ("An image does
   not exist locally with the tag: NAME", "tag does not exist: NAME:TAG")
   or IMAGE_ERR.  */
int image_push (struct image_store *s, const char *name, const char *tag, const struct push_opts *o,
                skiff_error_t *err);

/* ---- internal to image/ ---- */

struct push
{
  struct image_store *s;
  const struct push_opts *o;
  struct registry_client *c;
  const char *domain; /* "127.0.0.1:5000" */
  const char *path;   /* "library/alpine" */
  const char *name;   /* "127.0.0.1:5000/library/alpine" */
  const char *staging;
};

/* The result of one layer: the blob the manifest lists.  */
struct push_blob
{
  char digest[72];
  int64_t size;
};

/* Pushes the layer diff_id whose tar stream is the file tar (a pin in the
   staging directory); index names its files there.  */
int push_layer (struct push *p, const char *diff_id, const char *tar, unsigned index, struct push_blob *out,
                skiff_error_t *err);

/* The token scope of a push: pull,push on the target and pull on the
   repositories of the same registry the layers may be mounted from.  */
char *push_scope (struct push *p, char **diff_ids);

#endif
