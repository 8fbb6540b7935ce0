/* The local image store of skiffd, under `--root`/image (doc/daemon.md):

     image/layers/<chain>/diff/        an unpacked layer (overlayfs lower dir)
     image/layers/<chain>/layer.json   {"diff_id","chain_id","parent","size"}
     image/layers/<chain>/layer.tar    the layer's tar stream as received, kept so
                                       that `save` reproduces the diff id bit for bit
     image/configs/<hex>.json          image config blob; <hex> = sha256 = image id
     image/metadata/<hex>.json         {"LastTagTime": RFC3339}
     image/repositories.json           {"Repositories":{"alpine":{"alpine:latest":"sha256:..."}}}
     image/lock                        flock'd by whoever changes the store;
                                       holds the tags' generation number
     image/tmp/                        staging; emptied at open
     image/tmp/<name>/                 staging of a process that joined
   and `--root`/overlay/<container>/{upper,work,merged} for container rootfs.

   Every call blocks (the daemon runs them in libuv's thread pool) and may
   run concurrently with any other, in this process or in another that
   joined the store (skiff-image, which runs pulls, pushes, loads, saves
   and imports for skiffd): a mutex and an flock on image/lock guard the
   metadata; slow work (spooling, hashing, unpacking) happens outside them
   in private staging directories that are renamed into place, so that a
   process killed at any point leaves no half image under a name.  The tag
   table is cached in memory and reloaded whenever another process changed
   it.

   Errors follow skiff's convention (negative return, *err filled); the
   return value tells the daemon which HTTP status to use.  */
#ifndef SKIFF_IMAGE_STORE_H
#define SKIFF_IMAGE_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"

enum image_status
{
  IMAGE_OK = 0,
  IMAGE_ERR = -1,           /* 500 */
  IMAGE_ERR_NOT_FOUND = -2, /* 404: "No such image: alpine:latest" */
  IMAGE_ERR_INVALID = -3,   /* 400: "invalid reference format", bad archive or change */
  IMAGE_ERR_CONFLICT = -4,  /* 409: "conflict: unable to ..." */
};

struct image_store;

/* root is the daemon's --root; creates root/image/... as needed, removes
   leftovers of interrupted operations.  */
int image_store_open (const char *root, struct image_store **out, skiff_error_t *err);
void image_store_free (struct image_store *s);

/* Opens the store of root for a second process (skiff-image) while its
   owner (skiffd) has it open: no recovery, and staging in a directory of
   its own, image/tmp/<name>, removed by image_store_free.  */
int image_store_join (const char *root, const char *name, struct image_store **out, skiff_error_t *err);

/* Reloads what the store caches (the tag table) when another process
   changed it since; every call of this API does so too.  */
int image_store_reload (struct image_store *s, skiff_error_t *err);

/* For the owner, once a joined process is gone (it may have been
   killed): removes its staging directory image/tmp/<name>.  */
int image_store_remove_staging (struct image_store *s, const char *name, skiff_error_t *err);

static inline void
cleanup_image_storep (struct image_store **s)
{
  if (*s)
    image_store_free (*s);
}
#define cleanup_image_store __attribute__ ((cleanup (cleanup_image_storep)))

/* `docker load`: reads a docker-archive (legacy or docker 25+ OCI layout,
   optionally gzip'd) sequentially from fd.  Either every image of the
   archive is stored or nothing is.  *loaded: NULL-terminated lines as
   Docker prints them ("Loaded image: alpine:latest", "Loaded image ID:
   sha256:...").  */
int image_load (struct image_store *s, int fd, char ***loaded, skiff_error_t *err);

/* `docker save`: writes the named images to fd as Docker 25 does: an OCI
   image layout (oci-layout, index.json, blobs/sha256/...) with a
   manifest.json naming the same blobs, which docker load of every version
   reads.
   A name without tag saves every tag of that repository.  */
int image_save (struct image_store *s, const char *const *names, int fd, skiff_error_t *err);

/* `docker import`: fd is a rootfs tarball (maybe compressed); repo_tag may
   be NULL; changes are Dockerfile instructions (CMD, ENTRYPOINT, ENV,
   WORKDIR, EXPOSE, USER, LABEL, VOLUME, ONBUILD, as Docker accepts); message
   may be NULL.
   *image_id: "sha256:<hex>".  */
int image_import (struct image_store *s, int fd, const char *repo_tag, const char *const *changes, const char *message,
                  char **image_id, skiff_error_t *err);

/* GET /images/json (array of image summaries, newest first).  */
int image_list_json (struct image_store *s, bool all, char **json, skiff_error_t *err);

/* GET /images/{name}/json.  */
int image_inspect_json (struct image_store *s, const char *name, char **json, skiff_error_t *err);

/* name_or_id: alpine, alpine:latest, docker.io/library/alpine:latest,
   a unique id prefix with or without "sha256:".  *image_id: "sha256:<hex>".  */
int image_resolve (struct image_store *s, const char *name_or_id, char **image_id, skiff_error_t *err);

/* The image config blob, exactly as stored.  image_id as image_resolve
   returns it.  */
int image_config_json (struct image_store *s, const char *image_id, char **json, skiff_error_t *err);

/* `docker tag SOURCE TARGET`: TARGET without tag means ":latest".  */
int image_tag (struct image_store *s, const char *source, const char *repo_tag, skiff_error_t *err);

/* Asked by image_remove: does a container use image_id?  If so, return
   true with *container_id (malloc'd, full id) and *running set.  Called
   with the store's lock held: it must not call back into the store.  */
typedef bool (*image_in_use_fn) (const char *image_id, char **container_id, bool *running, void *arg);

/* `docker rmi`: untags name, and deletes the image when no tag is left and
   no container uses it; a layer is deleted only when no image uses it.
   *deleted_json: [{"Untagged":"alpine:latest"},{"Deleted":"sha256:..."}].  */
int image_remove (struct image_store *s, const char *name, bool force, image_in_use_fn in_use, void *arg,
                  char **deleted_json, skiff_error_t *err);

/* `docker image prune [-a]`: deletes the images without a tag (all:
   every image) that no container uses, with their layers no other image
   uses.  *deleted_json as image_remove's; *reclaimed: the bytes of the
   layers deleted.  */
int image_prune (struct image_store *s, bool all, image_in_use_fn in_use, void *arg, char **deleted_json,
                 int64_t *reclaimed, skiff_error_t *err);

/* Prepares overlay/<container_id>/{upper,work,merged} and mounts overlayfs
   there with the image's layers as lower dirs.  Idempotent.  */
int image_rootfs_mount (struct image_store *s, const char *image_id, const char *container_id, char **merged_path,
                        skiff_error_t *err);

/* Unmounts the container's rootfs; fine when it is not mounted.  */
int image_rootfs_unmount (struct image_store *s, const char *container_id, skiff_error_t *err);

/* Unmounts and deletes overlay/<container_id>.  */
int image_rootfs_remove (struct image_store *s, const char *container_id, skiff_error_t *err);

#endif
