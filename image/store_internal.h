/* Shared internals of the image store (not for the daemon).  */
#ifndef SKIFF_IMAGE_STORE_INTERNAL_H
#define SKIFF_IMAGE_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "json.h"
#include "store.h"

#define IMAGE_ID_LEN 71 /* "sha256:" + 64 hex */

struct store_tag
{
  char *ref; /* normalised: docker.io/library/alpine:latest */
  char *id;  /* sha256:<hex> */
};

struct image_store
{
  /* The store's lock is both: `lock` between the threads of a process,
     an flock on lock_fd (image/lock) between processes (skiffd and
     skiff-image).  It guards tags and every change under dir.  */
  pthread_mutex_t lock;
  int lock_fd;
  /* image/lock holds a generation number that every change of
     repositories.json increments; tags are reloaded when the lock finds
     a number other than the one they were read at.  */
  uint64_t generation;
  char *root;    /* the daemon's --root */
  char *dir;     /* root/image */
  char *staging; /* where store_make_staging creates: dir/tmp or, for a
                    process that joined the store, a directory of its own */
  bool joined;   /* image_store_join: no recovery; staging removed at free */
  struct store_tag *tags;
  size_t n_tags;
};

/* An image as stored: its config and layer ids.  */
struct store_image
{
  char id[IMAGE_ID_LEN + 1];
  char *config; /* the blob */
  size_t config_len;
  yajl_val tree;
  char **diff_ids;  /* NULL-terminated */
  char **chain_ids; /* NULL-terminated, same length */
  size_t n_layers;
};

/* An image being added by load or import, staged outside the lock.  */
struct store_pending
{
  struct store_image img;
  char **layer_tars; /* spooled layer files, one per layer */
  char **stage_dirs; /* staged layer dirs (NULL when already present) */
  char **tags;       /* normalised references to point at the image */
};

static inline int
image_invalid (int ret)
{
  (void) ret;
  return IMAGE_ERR_INVALID;
}

/* Takes both locks (blocking) and reloads the tags when another process
   changed them; store_unlock releases both.  */
void store_lock (struct image_store *s);
void store_unlock (struct image_store *s);

static inline void
cleanup_store_unlockp (struct image_store **s)
{
  if (*s)
    store_unlock (*s);
}
/* Locks s for the scope: `store_scoped_lock (s);`.  */
#define store_scoped_lock(s)                                                                                           \
  __attribute__ ((cleanup (cleanup_store_unlockp))) struct image_store *_store_lock_ = (s);                            \
  store_lock (_store_lock_)

/* "<s->dir>/<formatted>", malloc'd; NULL on ENOMEM.  */
char *store_path (struct image_store *s, const char *fmt, ...) SKIFF_PRINTF (2, 3);

/* mkdtemp under the store's staging directory (image/tmp, or the
   joined process's own).  */
int store_make_staging (struct image_store *s, const char *prefix, char **dir, skiff_error_t *err);

/* Removes and frees a staging directory when it leaves scope.  */
void store_cleanup_staging (char **dir);
#define cleanup_staging __attribute__ ((cleanup (store_cleanup_staging)))

/* sha256 of small data (configs, manifests, chain ids) with libmd, which
   skiffd can link without libcrypto.  out: 64 hex digits + NUL.  */
int store_sha256_hex (const void *data, size_t len, char out[65], skiff_error_t *err);

/* Parses a config blob and derives the layer ids.  id is the image id
   when known (the name of the stored file), NULL to compute it.  */
int store_image_parse (const char *config, size_t len, const char *id, struct store_image *img, skiff_error_t *err);
void store_image_clear (struct store_image *img);
void store_pending_clear (struct store_pending *p);

/* The stored size of a layer (0 when unknown).  */
int64_t store_layer_size_locked (struct image_store *s, const char *chain_id);

/* Reads configs/<hex>.json of a full image id.  */
int store_image_read_locked (struct image_store *s, const char *id, struct store_image *img, skiff_error_t *err);

/* Every stored image id (NULL-terminated, malloc'd).  */
int store_list_ids_locked (struct image_store *s, char ***ids, skiff_error_t *err);

/* Familiar tags ("alpine:latest") pointing at id, sorted; NULL-terminated.  */
/* The familiar names of image id: its tags ("alpine:latest"), or with
   digests true its digest references ("alpine@sha256:...", Docker's
   RepoDigests).  */
char **store_tags_of_locked (struct image_store *s, const char *id, bool digests);

/* Tag table.  store_set_tag_locked changes memory only; save persists it
   (and reloads the table from disk if that fails).  */
int store_find_tag_locked (struct image_store *s, const char *ref);
int store_set_tag_locked (struct image_store *s, const char *ref, const char *id, skiff_error_t *err);
void store_del_tag_locked (struct image_store *s, const char *ref);
int store_save_tags_locked (struct image_store *s, skiff_error_t *err);
int store_load_tags_locked (struct image_store *s, skiff_error_t *err);
/* Records the tag time shown as Metadata.LastTagTime (best effort).  */
void store_touch_tag_time_locked (struct image_store *s, const char *id);

/* Resolves a name or id prefix as Docker does; IMAGE_ERR_NOT_FOUND or
   IMAGE_ERR_INVALID on failure.  */
int store_resolve_locked (struct image_store *s, const char *name, char id[IMAGE_ID_LEN + 1], skiff_error_t *err);

/* Hashes, checks and unpacks the layers of p that the store lacks into
   staging dirs under staging (no lock needed).  */
int store_stage_layers (struct image_store *s, const char *staging, struct store_pending *p, size_t n,
                        skiff_error_t *err);

/* A layer's staging directory, unpacked by the caller: begin makes dir
   and an empty dir/diff; end links tar as dir/layer.tar and writes
   dir/layer.json (the layer's ids, parent and size).  */
int store_layer_stage_begin (const char *dir, skiff_error_t *err);
int store_layer_stage_end (const char *dir, const char *tar, const char *diff_id, const char *chain_id,
                           const char *parent, int64_t size, skiff_error_t *err);

/* ret, unless got (a layer's diff id as read; "" when it could not be
   read to the end) differs from want: then an invalid-image error naming
   layer index, which replaces *err.  */
int store_layer_check_diff_id (size_t index, const char *want, const char *got, int ret, skiff_error_t *err);

/* Moves staged layers and configs into place and sets the tags; all or
   nothing.  loaded (may be NULL) receives Docker's "Loaded image" lines.  */
int store_commit_locked (struct image_store *s, struct store_pending *p, size_t n, char ***loaded, skiff_error_t *err);

/* Moves layers/<chain> aside into staging and deletes it there, so that
   a crash never leaves a half-deleted layer under its name.  */
int store_delete_layer_locked (struct image_store *s, const char *chain_id, skiff_error_t *err);

/* Deletes layers/<chain> of chain ids no image and no container rootfs
   uses; appends their chain ids to *deleted when not NULL.  */
int store_gc_layers_locked (struct image_store *s, char **candidates, char ***deleted, skiff_error_t *err);

/* What `docker import --change` sets (import.c).  */
struct image_changes
{
  char *user;
  char **exposed; /* "80/tcp" */
  char **env;     /* "K=V" */
  char **cmd;
  bool cmd_set;
  char **volumes;
  char *workdir;
  char **entrypoint;
  bool entrypoint_set;
  char **onbuild;
  char **labels; /* "K=V" */
};

/* Docker's container.Config object from import changes
   (container_config.c); NULL gives the zero value Docker prints for a
   missing ContainerConfig.  */
void store_gen_container_config (yajl_gen g, const struct image_changes *c);

/* strv helpers.  */
size_t strv_len (char **v);
int strv_add (char ***v, const char *s);
bool strv_contains (char **v, const char *s);

#endif
