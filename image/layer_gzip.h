/* gzip layers decompressed with ISA-L's igzip, which inflates the test
   bed's nginx layer in 31 ms where zlib (libarchive's gzip filter) takes
   78 ms (doc/performance.md).  Other compressions go through libarchive.  */
#ifndef SKIFF_IMAGE_LAYER_GZIP_H
#define SKIFF_IMAGE_LAYER_GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "layer_unpack.h"

/* Whether the first bytes of a layer are those of a gzip stream.  */
bool layer_gzip_magic (const void *head, size_t len);

/* A decompressor reading src; first (first_len bytes) is what was
   already read from it.  NULL on ENOMEM.  */
struct layer_gzip;
struct layer_gzip *layer_gzip_new (const struct layer_source *src, const void *first, size_t first_len);
void layer_gzip_free (struct layer_gzip *g);

/* The next uncompressed bytes (valid until the next call): their number,
   0 at the end of the stream (every member read, checksums and sizes
   verified), or -1 with *error set.  */
ssize_t layer_gzip_next (struct layer_gzip *g, const void **buf, const char **error);

#endif
