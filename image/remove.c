/* `docker tag` and `docker rmi`, after daemon/images/image_delete.go:
   untag first; delete the image only when nothing refers to it any more;
   delete a layer only when no image and no container rootfs uses it.  */
#include "store_internal.h"
#include "cleanup.h"
#include "reference.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
image_tag (struct image_store *s, const char *source, const char *repo_tag, skiff_error_t *err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *canon = NULL;
  char id[IMAGE_ID_LEN + 1];
  int ret;
  store_scoped_lock (s);

  /* The target first, as Docker: a bad target is a 400 even when the
     source is missing.  */
  if (image_ref_parse (repo_tag, &ref, err) < 0)
    return IMAGE_ERR_INVALID;
  if (ref.digest)
    return image_invalid (skiff_error_make (err, 0, "refusing to create a tag with a digest reference"));
  if (image_ref_default_tag (&ref, err) < 0)
    return -1;
  ret = store_resolve_locked (s, source, id, err);
  if (ret < 0)
    return ret;
  canon = image_ref_string (&ref);
  if (canon == NULL)
    return skiff_error_make (err, ENOMEM, "tag `%s`", repo_tag);
  if (store_set_tag_locked (s, canon, id, err) < 0 || store_save_tags_locked (s, err) < 0)
    return -1;
  store_touch_tag_time_locked (s, id);
  return 0;
}

/* Docker's isImageIDPrefix.  */
static bool
is_id_prefix (const char *id, const char *name)
{
  return strncmp (id, name, strlen (name)) == 0 || strncmp (id + 7, name, strlen (name)) == 0;
}

/* The references to id: tags and digest references.  */
static char **
refs_of_locked (struct image_store *s, const char *id)
{
  char **out = calloc (1, sizeof (char *));
  size_t i;
  for (i = 0; out && i < s->n_tags; i++)
    if (strcmp (s->tags[i].id, id) == 0 && strv_add (&out, s->tags[i].ref) < 0)
      {
        cleanup_strvp (&out);
        return NULL;
      }
  return out;
}

/* Docker's isSingleReference: at most one tag, and any digest references
   are of that tag's repository only.  */
static bool
is_single_reference (char **refs)
{
  const char *single = NULL, *canonical = NULL;
  size_t i, n = 0;

  for (i = 0; refs[i]; i++)
    {
      const char *at = strchr (refs[i], '@');
      if (at == NULL && single)
        return false;
      if (at == NULL)
        single = refs[i];
      else if (canonical == NULL)
        canonical = refs[i];
      else if ((size_t) (at - refs[i]) != strcspn (canonical, "@") || strncmp (refs[i], canonical, at - refs[i]) != 0)
        return false; /* digest references of two repositories */
    }
  if (i <= 1 || canonical == NULL)
    return i <= 1;
  if (single == NULL)
    return true;
  /* The tag "name:tag" and the digests "name@..." share the name.  */
  n = strcspn (canonical, "@");
  return strncmp (single, canonical, n) == 0 && single[n] == ':';
}

static void
record (yajl_gen g, const char *key, const char *value)
{
  yajl_gen_map_open (g);
  json_gen_kv_str (g, key, value);
  yajl_gen_map_close (g);
}

static int
untag_locked (struct image_store *s, const char *ref, yajl_gen g, skiff_error_t *err)
{
  cleanup_free char *familiar = image_ref_familiarize (ref);
  if (familiar == NULL)
    return skiff_error_make (err, ENOMEM, "untag");
  record (g, "Untagged", familiar);
  store_del_tag_locked (s, ref);
  return 0;
}

/* After a tag of ref's repository was removed: when no other tag of that
   repository points at id, its digest references to id go too (Docker's
   ImageDelete), or they would keep an image nobody can see by tag.  */
static int
untag_orphan_digests_locked (struct image_store *s, const char *id, const struct image_ref *ref, yajl_gen g,
                             skiff_error_t *err)
{
  cleanup_free char *name = image_ref_name (ref);
  cleanup_strv char **digests = calloc (1, sizeof (char *));
  size_t i, n;

  if (name == NULL || digests == NULL)
    return skiff_error_make (err, ENOMEM, "untag");
  n = strlen (name);
  for (i = 0; i < s->n_tags; i++)
    {
      const char *r = s->tags[i].ref;
      if (strcmp (s->tags[i].id, id) != 0 || strncmp (r, name, n) != 0 || (r[n] != ':' && r[n] != '@'))
        continue;
      if (r[n] == ':')
        return 0; /* a tag of the repository remains */
      if (strv_add (&digests, r) < 0)
        return skiff_error_make (err, ENOMEM, "untag");
    }
  for (i = 0; digests[i]; i++)
    if (untag_locked (s, digests[i], g, err) < 0)
      return -1;
  return 0;
}

enum conflict
{
  NO_CONFLICT,
  CONFLICT_CONTAINER, /* a container uses the image */
  CONFLICT_REFERENCE, /* tags remain */
};

/* What check_conflict looks at (Docker's conflictType).  */
enum
{
  CHECK_RUNNING = 1,   /* hard: cannot be forced */
  CHECK_REFERENCE = 2, /* soft */
  CHECK_STOPPED = 4,   /* soft */
  CHECK_SOFT = CHECK_REFERENCE | CHECK_STOPPED,
};

/* Docker's checkImageDeleteConflict, without child images (skiff has no
   parent chains).  */
static enum conflict
check_conflict (struct image_store *s, const char *id, unsigned mask, image_in_use_fn in_use, void *arg,
                skiff_error_t *err)
{
  cleanup_free char *cid = NULL;
  cleanup_strv char **refs = NULL;
  bool running = false;
  bool used = in_use && in_use (id, &cid, &running, arg);

  if ((mask & CHECK_RUNNING) && used && running)
    {
      skiff_error_make (err, 0, "conflict: unable to delete %.12s (cannot be forced) - image is being used by running container %.12s",
                        id + 7, cid ? cid : "");
      return CONFLICT_CONTAINER;
    }
  if (mask & CHECK_REFERENCE)
    {
      refs = refs_of_locked (s, id);
      if (refs && refs[0])
        {
          skiff_error_make (err, 0, "conflict: unable to delete %.12s (must be forced) - image is referenced in multiple repositories",
                            id + 7);
          return CONFLICT_REFERENCE;
        }
    }
  if ((mask & CHECK_STOPPED) && used && !running)
    {
      skiff_error_make (err, 0, "conflict: unable to delete %.12s (must be forced) - image is being used by stopped container %.12s",
                        id + 7, cid ? cid : "");
      return CONFLICT_CONTAINER;
    }
  return NO_CONFLICT;
}

/* freed: when not NULL, the sizes of the layers deleted are added.  */
static int
delete_image_locked (struct image_store *s, const char *id, yajl_gen g, int64_t *freed, skiff_error_t *err)
{
  __attribute__ ((cleanup (store_image_clear))) struct store_image img = { 0 };
  cleanup_strv char **candidates = calloc (1, sizeof (char *));
  cleanup_strv char **deleted = calloc (1, sizeof (char *));
  cleanup_free char *config = store_path (s, "configs/%s.json", id + 7);
  cleanup_free char *meta = store_path (s, "metadata/%s.json", id + 7);
  size_t i;
  int ret = store_image_read_locked (s, id, &img, err);

  if (ret < 0)
    return ret;
  if (candidates == NULL || deleted == NULL || config == NULL || meta == NULL)
    return skiff_error_make (err, ENOMEM, "delete image");
  if (unlink (config) < 0)
    return skiff_error_make (err, errno, "delete `%s`", config);
  unlink (meta);
  record (g, "Deleted", id);
  /* Top layer first, as Docker reports them.  */
  for (i = img.n_layers; i-- > 0;)
    if (strv_add (&candidates, img.chain_ids[i]) < 0)
      return skiff_error_make (err, ENOMEM, "delete image");
  {
    /* Sizes first: a deleted layer's record goes with it.  */
    cleanup_free int64_t *sizes = calloc (img.n_layers + 1, sizeof (int64_t));
    if (sizes == NULL)
      return skiff_error_make (err, ENOMEM, "delete image");
    for (i = 0; i < img.n_layers; i++)
      sizes[i] = store_layer_size_locked (s, img.chain_ids[i]);
    if (store_gc_layers_locked (s, candidates, &deleted, err) < 0)
      return -1;
    for (i = 0; deleted[i]; i++)
      {
        size_t k;
        record (g, "Deleted", deleted[i]);
        for (k = 0; freed && k < img.n_layers; k++)
          if (strcmp (img.chain_ids[k], deleted[i]) == 0)
            *freed += sizes[k];
      }
  }
  return 0;
}

static int
remove_locked (struct image_store *s, const char *name, bool force, image_in_use_fn in_use, void *arg, yajl_gen g,
               skiff_error_t *err)
{
  cleanup_strv char **refs = NULL;
  char id[IMAGE_ID_LEN + 1];
  bool untagged_name = false;
  enum conflict c;
  size_t i;
  int ret = store_resolve_locked (s, name, id, err);

  if (ret < 0)
    return ret;
  refs = refs_of_locked (s, id);
  if (refs == NULL)
    return skiff_error_make (err, ENOMEM, "remove image");

  if (!is_id_prefix (id, name))
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      cleanup_free char *canon = NULL;

      if (!force && strv_len (refs) <= 1 && in_use)
        {
          cleanup_free char *cid = NULL;
          bool running = false;
          if (in_use (id, &cid, &running, arg))
            {
              skiff_error_make (err, 0,
                                "conflict: unable to remove repository reference \"%s\" (must force) - container %.12s is "
                                "using its referenced image %.12s",
                                name, cid ? cid : "", id + 7);
              return IMAGE_ERR_CONFLICT;
            }
        }
      if (image_ref_parse (name, &ref, err) < 0)
        return IMAGE_ERR_INVALID;
      if (image_ref_default_tag (&ref, err) < 0 || (canon = image_ref_string (&ref)) == NULL)
        return skiff_error_make (err, ENOMEM, "remove image");
      if (store_find_tag_locked (s, canon) < 0)
        return skiff_error_make (err, 0, "No such image: %s", name), IMAGE_ERR_NOT_FOUND;
      if (untag_locked (s, canon, g, err) < 0 || (ref.digest == NULL && untag_orphan_digests_locked (s, id, &ref, g, err) < 0))
        return -1;
      cleanup_strvp (&refs);
      refs = refs_of_locked (s, id);
      if (refs == NULL)
        return skiff_error_make (err, ENOMEM, "remove image");
      if (refs[0])
        return store_save_tags_locked (s, err);
      untagged_name = true;
    }
  else if (is_single_reference (refs))
    {
      /* An id with at most one tag: untag it too, unless a conflict (the
         tag itself is what this removes, so it is no conflict).  */
      c = check_conflict (s, id, CHECK_RUNNING | (force ? 0 : CHECK_STOPPED), in_use, arg, err);
      if (c != NO_CONFLICT)
        return IMAGE_ERR_CONFLICT;
      for (i = 0; refs[i]; i++)
        if (untag_locked (s, refs[i], g, err) < 0)
          return -1;
    }

  c = check_conflict (s, id, CHECK_RUNNING | (force ? 0 : CHECK_SOFT), in_use, arg, err);
  if (c != NO_CONFLICT)
    {
      /* Untagging by name succeeded; an image still used by a container
         stays, dangling, as in Docker.  */
      if (untagged_name && c == CONFLICT_CONTAINER)
        {
          skiff_error_release (err);
          return store_save_tags_locked (s, err);
        }
      return IMAGE_ERR_CONFLICT;
    }
  cleanup_strvp (&refs);
  refs = refs_of_locked (s, id);
  for (i = 0; refs && refs[i]; i++)
    if (untag_locked (s, refs[i], g, err) < 0)
      return -1;
  /* Tags first: if that fails, nothing was deleted.  */
  if (store_save_tags_locked (s, err) < 0)
    return -1;
  return delete_image_locked (s, id, g, NULL, err);
}

/* Runs fn under the store's lock, collecting its records into a JSON
   array; on failure the in-memory tags are reloaded, undoing untags that
   were not saved.  */
static int
run_deleting (struct image_store *s, int (*fn) (struct image_store *, yajl_gen, void *, skiff_error_t *), void *arg,
              char **deleted_json, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  int ret;

  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "remove image");
  yajl_gen_array_open (g);
  {
    store_scoped_lock (s);
    ret = fn (s, g, arg, err);
    if (ret < 0)
      {
        skiff_error_t ignored = NULL;
        if (store_load_tags_locked (s, &ignored) < 0)
          skiff_error_release (&ignored);
        return ret;
      }
  }
  yajl_gen_array_close (g);
  *deleted_json = json_gen_steal (g, NULL);
  if (*deleted_json == NULL)
    return skiff_error_make (err, ENOMEM, "remove image");
  return 0;
}

struct remove_args
{
  const char *name;
  bool force, all;
  image_in_use_fn in_use;
  void *arg;
  int64_t *freed;
};

static int
remove_fn (struct image_store *s, yajl_gen g, void *p, skiff_error_t *err)
{
  struct remove_args *a = p;
  return remove_locked (s, a->name, a->force, a->in_use, a->arg, g, err);
}

int
image_remove (struct image_store *s, const char *name, bool force, image_in_use_fn in_use, void *arg,
              char **deleted_json, skiff_error_t *err)
{
  struct remove_args a = { .name = name, .force = force, .in_use = in_use, .arg = arg };
  return run_deleting (s, remove_fn, &a, deleted_json, err);
}

/* An image without a tag (digest references do not count): Docker's
   "dangling".  */
static bool
is_dangling (char **refs)
{
  size_t i;
  for (i = 0; refs[i]; i++)
    if (strchr (refs[i], '@') == NULL)
      return false;
  return true;
}

static int
prune_locked (struct image_store *s, bool all, image_in_use_fn in_use, void *arg, yajl_gen g, int64_t *freed,
              skiff_error_t *err)
{
  cleanup_strv char **ids = NULL;
  size_t i, k;

  if (store_list_ids_locked (s, &ids, err) < 0)
    return -1;
  for (i = 0; ids[i]; i++)
    {
      cleanup_strv char **refs = refs_of_locked (s, ids[i]);
      cleanup_free char *cid = NULL;
      bool running = false;
      if (refs == NULL)
        return skiff_error_make (err, ENOMEM, "prune");
      if ((!all && !is_dangling (refs)) || (in_use && in_use (ids[i], &cid, &running, arg)))
        continue;
      for (k = 0; refs[k]; k++)
        if (untag_locked (s, refs[k], g, err) < 0)
          return -1;
      /* Tags first: if that fails, nothing was deleted.  */
      if (store_save_tags_locked (s, err) < 0 || delete_image_locked (s, ids[i], g, freed, err) < 0)
        return -1;
    }
  return 0;
}

static int
prune_fn (struct image_store *s, yajl_gen g, void *p, skiff_error_t *err)
{
  struct remove_args *a = p;
  return prune_locked (s, a->all, a->in_use, a->arg, g, a->freed, err);
}

int
image_prune (struct image_store *s, bool all, image_in_use_fn in_use, void *arg, char **deleted_json,
             int64_t *reclaimed, skiff_error_t *err)
{
  struct remove_args a = { .all = all, .in_use = in_use, .arg = arg, .freed = reclaimed };
  *reclaimed = 0;
  return run_deleting (s, prune_fn, &a, deleted_json, err);
}
