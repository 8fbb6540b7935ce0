/* Layer tarballs: hashing and unpacking into a snapshot directory.  */
#ifndef SKIFF_IMAGE_LAYER_UNPACK_H
#define SKIFF_IMAGE_LAYER_UNPACK_H

#include <stdint.h>
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

#endif
