/* Registry manifests: Docker schema 2 manifests and manifest lists, OCI
   image manifests and indexes (parsing, validation, platform choice).

   The registry and its answers are untrusted: every digest must be
   "sha256:<64 hex>", sizes are bounded, and unknown media types are
   refused rather than guessed.  */
#ifndef SKIFF_IMAGE_MANIFEST_H
#define SKIFF_IMAGE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_TYPE_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* The Accept header of manifest requests: the four types skiff reads.  */
#define MANIFEST_ACCEPT                                                                                                \
  MEDIA_TYPE_DOCKER_MANIFEST ", " MEDIA_TYPE_DOCKER_LIST ", " MEDIA_TYPE_OCI_MANIFEST ", " MEDIA_TYPE_OCI_INDEX

/* Registries cap manifests at 4 MiB; so does skiff.  */
#define MANIFEST_MAX (4 * 1024 * 1024)

enum manifest_kind
{
  MANIFEST_IMAGE, /* Docker schema 2 manifest or OCI image manifest */
  MANIFEST_INDEX, /* Docker manifest list or OCI image index */
};

enum layer_compression
{
  LAYER_TAR,
  LAYER_GZIP,
  LAYER_ZSTD,
};

struct manifest_descriptor
{
  char *media_type;
  char *digest; /* "sha256:<64 hex>" */
  int64_t size;
  /* Index entries only ("" when the entry has no platform).  */
  char *os;
  char *architecture;
  char *variant;
  /* Layers only.  */
  enum layer_compression compression;
};

struct manifest
{
  enum manifest_kind kind;
  char *media_type;
  struct manifest_descriptor config; /* MANIFEST_IMAGE */
  struct manifest_descriptor *layers;
  size_t n_layers;
  struct manifest_descriptor *manifests; /* MANIFEST_INDEX */
  size_t n_manifests;
};

/* Parses body (len bytes, not necessarily NUL-terminated) as served with
   content_type (may be NULL; parameters such as "; charset" are ignored).
   The body's own mediaType wins; without one the Content-Type decides,
   and without a known Content-Type the structure does.  Schema 1 is
   refused with "schema 1 images are not supported".  */
int manifest_parse (const char *content_type, const char *body, size_t len, struct manifest *m, skiff_error_t *err);

void manifest_clear (struct manifest *m);

static inline void
cleanup_manifestp (struct manifest *m)
{
  manifest_clear (m);
}
#define cleanup_manifest __attribute__ ((cleanup (cleanup_manifestp)))

/* The platform this host runs, as Go names it: "linux", "amd64" for
   x86_64, "arm64" for aarch64, "arm" + variant "v7" for armv7l...  variant
   is "" when the architecture has none.  */
void manifest_host_platform (const char **os, const char **architecture, const char **variant);

/* Picks the entry of an index for os/architecture/variant (variant ""
   matches any entry of that architecture, preferring one without a
   variant; arm64 treats "" and "v8" alike).  On failure: Docker's "no
   matching manifest for linux/amd64 in the manifest list entries".  */
int manifest_select (const struct manifest *index, const char *os, const char *architecture, const char *variant,
                     const struct manifest_descriptor **out, skiff_error_t *err);

/* The short id Docker shows for a layer: 12 hex digits of its digest.  */
void manifest_short_id (const char *digest, char out[13]);

#endif
