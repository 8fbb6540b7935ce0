/* Container root filesystems: overlayfs over the image's layer diff dirs
   with a private upper dir, under `--root`/overlay/<container>.  The file
   overlay/<container>/lower lists the chain ids in use, so that layer
   garbage collection keeps them while the container exists.  */
#include "store_internal.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int
check_container_id (const char *cid, skiff_error_t *err)
{
  const char *p;
  if (cid == NULL || *cid == '\0' || strcmp (cid, ".") == 0 || strcmp (cid, "..") == 0 || strlen (cid) > 128)
    return image_invalid (skiff_error_make (err, 0, "invalid container id `%s`", cid ? cid : ""));
  for (p = cid; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'
          || *p == '.'))
      return image_invalid (skiff_error_make (err, 0, "invalid container id `%s`", cid));
  return 0;
}

static char *
container_dir (struct image_store *s, const char *cid, const char *sub)
{
  char *p = NULL;
  if (asprintf (&p, "%s/overlay/%s%s%s", s->root, cid, sub ? "/" : "", sub ? sub : "") < 0)
    return NULL;
  return p;
}

/* True when something is mounted on path (its device differs from its
   parent's).  */
static bool
is_mounted (const char *path)
{
  cleanup_free char *parent = NULL;
  struct stat a, b;
  if (asprintf (&parent, "%s/..", path) < 0)
    return false;
  return stat (path, &a) == 0 && stat (parent, &b) == 0 && (a.st_dev != b.st_dev || a.st_ino == b.st_ino);
}

/* Builds "lowerdir=...,upperdir=...,workdir=..." and records the chain
   ids in overlay/<cid>/lower, under the lock.  */
static int
prepare_locked (struct image_store *s, const char *image_id, const char *cid, char **opts, skiff_error_t *err)
{
  __attribute__ ((cleanup (store_image_clear))) struct store_image img = { 0 };
  cleanup_free char *base = container_dir (s, cid, NULL);
  cleanup_free char *upper = container_dir (s, cid, "upper");
  cleanup_free char *work = container_dir (s, cid, "work");
  cleanup_free char *merged = container_dir (s, cid, "merged");
  cleanup_free char *empty = container_dir (s, cid, "empty");
  cleanup_free char *lower_file = container_dir (s, cid, "lower");
  cleanup_free char *lower = NULL;
  cleanup_free char *chains = NULL;
  size_t i, len = 0, clen = 0;
  int ret;

  if (base == NULL || upper == NULL || work == NULL || merged == NULL || empty == NULL || lower_file == NULL)
    return skiff_error_make (err, ENOMEM, "mount rootfs");
  ret = store_image_read_locked (s, image_id, &img, err);
  if (ret < 0)
    return ret;
  for (i = img.n_layers; i-- > 0;)
    {
      cleanup_free char *d = store_path (s, "layers/%s/diff", img.chain_ids[i] + 7);
      char *nl, *nc;
      if (d == NULL)
        return skiff_error_make (err, ENOMEM, "mount rootfs");
      if (!fs_exists (d))
        return skiff_error_make (err, ENOENT, "layer `%s` of image %s", img.chain_ids[i], image_id);
      nl = realloc (lower, len + strlen (d) + 2);
      if (nl == NULL)
        return skiff_error_make (err, ENOMEM, "mount rootfs");
      lower = nl;
      len += sprintf (lower + len, "%s%s", len ? ":" : "", d);
      nc = realloc (chains, clen + IMAGE_ID_LEN + 2);
      if (nc == NULL)
        return skiff_error_make (err, ENOMEM, "mount rootfs");
      chains = nc;
      clen += sprintf (chains + clen, "%s\n", img.chain_ids[i]);
    }
  if (fs_mkdir_p (upper, 0755, err) < 0 || fs_mkdir_p (work, 0700, err) < 0 || fs_mkdir_p (merged, 0755, err) < 0)
    return -1;
  if (img.n_layers == 0)
    {
      /* overlayfs needs a lower dir even for an image without layers.  */
      if (fs_mkdir_p (empty, 0755, err) < 0)
        return -1;
      lower = strdup (empty);
      if (lower == NULL)
        return skiff_error_make (err, ENOMEM, "mount rootfs");
    }
  if (fs_write_file_atomic (lower_file, chains ? chains : "", clen, 0600, err) < 0)
    return -1;
  if (asprintf (opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0)
    return skiff_error_make (err, ENOMEM, "mount rootfs");
  /* mount(2) takes one page of options.  */
  if (strlen (*opts) >= (size_t) sysconf (_SC_PAGESIZE))
    {
      free (*opts);
      *opts = NULL;
      return skiff_error_make (err, E2BIG, "mount rootfs of %s: %zu layers", cid, img.n_layers);
    }
  return 0;
}

int
image_rootfs_mount (struct image_store *s, const char *image_id, const char *container_id, char **merged_path,
                    skiff_error_t *err)
{
  cleanup_free char *merged = NULL;
  cleanup_free char *opts = NULL;
  int ret = check_container_id (container_id, err);

  if (ret < 0)
    return ret;
  merged = container_dir (s, container_id, "merged");
  if (merged == NULL)
    return skiff_error_make (err, ENOMEM, "mount rootfs");
  {
    store_scoped_lock (s);
    ret = prepare_locked (s, image_id, container_id, &opts, err);
    if (ret < 0)
      return ret;
    if (!is_mounted (merged) && mount ("overlay", merged, "overlay", 0, opts) < 0)
      return skiff_error_make (err, errno, "mount overlay on `%s`", merged);
  }
  *merged_path = steal_pointer (&merged);
  return 0;
}

int
image_rootfs_unmount (struct image_store *s, const char *container_id, skiff_error_t *err)
{
  cleanup_free char *merged = NULL;
  int ret = check_container_id (container_id, err);

  if (ret < 0)
    return ret;
  merged = container_dir (s, container_id, "merged");
  if (merged == NULL)
    return skiff_error_make (err, ENOMEM, "unmount rootfs");
  while (is_mounted (merged))
    {
      if (umount2 (merged, UMOUNT_NOFOLLOW) == 0)
        continue;
      if (errno == EINVAL || errno == ENOENT)
        break;
      /* Still busy (a process keeps a cwd or fd in it): detach.  */
      if (errno != EBUSY || umount2 (merged, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
        return skiff_error_make (err, errno, "unmount `%s`", merged);
    }
  return 0;
}

int
image_rootfs_remove (struct image_store *s, const char *container_id, skiff_error_t *err)
{
  cleanup_free char *base = NULL;
  cleanup_free char *lower_file = NULL;
  cleanup_free char *text = NULL;
  cleanup_strv char **chains = calloc (1, sizeof (char *));
  char *line, *save = NULL;
  int ret = image_rootfs_unmount (s, container_id, err);

  if (ret < 0)
    return ret;
  base = container_dir (s, container_id, NULL);
  lower_file = container_dir (s, container_id, "lower");
  if (base == NULL || lower_file == NULL || chains == NULL)
    return skiff_error_make (err, ENOMEM, "remove rootfs");
  if (fs_exists (lower_file) && fs_read_file (lower_file, &text, NULL, err) < 0)
    return -1;
  for (line = text ? strtok_r (text, "\n", &save) : NULL; line; line = strtok_r (NULL, "\n", &save))
    if (strv_add (&chains, line) < 0)
      return skiff_error_make (err, ENOMEM, "remove rootfs");
  {
    store_scoped_lock (s);
    if (fs_remove_tree (base, err) < 0)
      return -1;
    /* Layers of images force-removed while this container existed.  */
    return store_gc_layers_locked (s, chains, NULL, err);
  }
}
