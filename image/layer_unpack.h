/* Layer tarballs: hashing and unpacking into a snapshot directory.  */
#ifndef SKIFF_IMAGE_LAYER_UNPACK_H
#define SKIFF_IMAGE_LAYER_UNPACK_H

#include <stdint.h>
#include <sys/types.h>
#include <archive.h>
#include "error.h"

/* Lets a reader decompress what layers use: gzip, bzip2, xz, zstd (and
   none).  Returns an ARCHIVE_* status.  */
int layer_archive_support_filters (struct archive *a);

/* The diff id of the layer at tar_path: "sha256:<hex>" of its
   uncompressed stream.  out must hold 72 bytes.  */
int layer_diff_id (const char *tar_path, char out[72], skiff_error_t *err);

/* Unpacks the layer at tar_path into diff_dir (an existing, empty or
   partially filled directory).  Applies overlayfs whiteouts
   (".wh.NAME" -> 0:0 character device NAME, ".wh..wh..opq" ->
   trusted.overlay.opaque=y on the directory); keeps owners, modes, times,
   xattrs, hard links, symlinks and device nodes.  Never writes outside
   diff_dir: entries whose path or hard link target leaves it, or whose
   parent path crosses a symlink, are rejected with an error naming the
   entry.  *size: bytes of regular file content.  Returns 0,
   IMAGE_ERR_INVALID for a bad or hostile archive, IMAGE_ERR for I/O
   errors.  */
int layer_unpack (const char *tar_path, const char *diff_dir, int64_t *size, skiff_error_t *err);

/* Where layer_unpack_source reads a layer's bytes (compressed or not):
   read points *buf at the next bytes (the source's own buffer, valid
   until the next call) and returns their number, 0 at the end, or -1
   with errno set.  */
struct layer_source
{
  ssize_t (*read) (void *data, const void **buf);
  void *data;
  const char *name; /* for errors */
};

/* Unpacks as layer_unpack does, reading src once: the diff id is hashed
   on the way, over the whole uncompressed stream (past the tar's end).
   diff_id receives it when the stream could be read to its end, "" when
   not.  The result is that of the unpack; a caller that finds the diff
   id wrong reports that instead, as the cause of the rest.  */
int layer_unpack_source (const struct layer_source *src, const char *diff_dir, int64_t *size, char diff_id[72],
                         skiff_error_t *err);

/* layer_unpack_source of the file at tar_path.  */
int layer_unpack_diff_id (const char *tar_path, const char *diff_dir, int64_t *size, char diff_id[72],
                          skiff_error_t *err);

#endif
