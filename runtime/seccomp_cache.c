#include "seccomp_cache.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "syscall_filter.h"

#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_DIR ".seccomp"
#define CACHE_MAGIC "SKSCBPF1"
#define CACHE_MAGIC_LEN 8
#define CACHE_HEAD_LEN (CACHE_MAGIC_LEN + 3 * 4) /* magic, key length, flags, program size */

struct buf
{
  char *data;
  size_t len, cap;
  bool failed;
};

static void
buf_add (struct buf *b, const void *p, size_t n)
{
  if (b->failed)
    return;
  if (b->len + n > b->cap)
    {
      size_t cap = b->cap ? b->cap * 2 : 4096;
      char *d;
      while (cap < b->len + n)
        cap *= 2;
      d = realloc (b->data, cap);
      if (d == NULL)
        {
          b->failed = true;
          return;
        }
      b->data = d;
      b->cap = cap;
    }
  memcpy (b->data + b->len, p, n);
  b->len += n;
}

static void
buf_u32 (struct buf *b, uint32_t v)
{
  buf_add (b, &v, sizeof (v));
}

static void
buf_u64 (struct buf *b, uint64_t v)
{
  buf_add (b, &v, sizeof (v));
}

static void
buf_str (struct buf *b, const char *s)
{
  buf_add (b, s, strlen (s) + 1);
}

/* Everything the compiled program depends on.  */
static int
make_key (const struct spec_seccomp *sc, struct buf *k, skiff_error_t *err)
{
  const struct scmp_version *v = seccomp_version ();
  uint32_t head[] = { v->major, v->minor, v->micro, seccomp_api_get (), seccomp_arch_native (),
                      sc->default_action, sc->flag_log, sc->flag_spec_allow };
  size_t i, j;

  buf_str (k, "skiff seccomp 1");
  buf_add (k, head, sizeof (head));
  buf_u64 (k, sc->n_archs);
  for (i = 0; i < sc->n_archs; i++)
    buf_u32 (k, sc->archs[i]);
  buf_u64 (k, sc->n_rules);
  for (i = 0; i < sc->n_rules; i++)
    {
      const struct spec_seccomp_rule *r = &sc->rules[i];
      buf_u32 (k, r->action);
      buf_u64 (k, r->n_names);
      for (j = 0; j < r->n_names; j++)
        buf_str (k, r->names[j]);
      buf_u64 (k, r->n_args);
      for (j = 0; j < r->n_args; j++)
        {
          buf_u32 (k, r->args[j].index);
          buf_u64 (k, r->args[j].value);
          buf_u64 (k, r->args[j].value_two);
          buf_u32 (k, (uint32_t) r->args[j].op);
        }
    }
  if (k->failed)
    return skiff_error_make (err, ENOMEM, "seccomp cache key");
  return 0;
}

/* FNV-1a, 64 bits.  */
static uint64_t
key_hash (const struct buf *k)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i;
  for (i = 0; i < k->len; i++)
    {
      h ^= (unsigned char) k->data[i];
      h *= 0x100000001b3ULL;
    }
  return h;
}

static uint32_t
get_u32 (const char *p)
{
  uint32_t v;
  memcpy (&v, p, sizeof (v));
  return v;
}

/* The entry at path when it is complete and its key is k.  */
static int
cache_read (const char *path, const struct buf *k, void **filter)
{
  cleanup_free char *data = NULL;
  skiff_error_t err = NULL;
  uint32_t key_len, flags, size;
  size_t len;

  if (fs_read_file (path, &data, &len, &err) < 0)
    {
      skiff_error_release (&err);
      return -1;
    }
  if (len < CACHE_HEAD_LEN || memcmp (data, CACHE_MAGIC, CACHE_MAGIC_LEN) != 0)
    return -1;
  key_len = get_u32 (data + CACHE_MAGIC_LEN);
  flags = get_u32 (data + CACHE_MAGIC_LEN + 4);
  size = get_u32 (data + CACHE_MAGIC_LEN + 8);
  if (key_len != k->len || len != (size_t) CACHE_HEAD_LEN + key_len + size
      || memcmp (data + CACHE_HEAD_LEN, k->data, k->len) != 0)
    return -1;
  if (syscall_filter_from_bpf (data + CACHE_HEAD_LEN + key_len, size, flags, filter, &err) < 0)
    {
      skiff_error_release (&err);
      return -1;
    }
  return 0;
}

static int
cache_write (const char *dir, const char *path, const struct buf *k, const void *filter, skiff_error_t *err)
{
  struct buf e = { 0 };
  const void *insns;
  size_t size;
  uint32_t flags;
  int r;

  syscall_filter_bpf (filter, &insns, &size, &flags);
  buf_add (&e, CACHE_MAGIC, CACHE_MAGIC_LEN);
  buf_u32 (&e, (uint32_t) k->len);
  buf_u32 (&e, flags);
  buf_u32 (&e, (uint32_t) size);
  buf_add (&e, k->data, k->len);
  buf_add (&e, insns, size);
  if (e.failed)
    r = skiff_error_make (err, ENOMEM, "seccomp cache entry");
  else if ((r = fs_mkdir_p (dir, 0700, err)) == 0)
    r = fs_write_file_replace (path, e.data, e.len, 0600, err);
  free (e.data);
  return r;
}

int
seccomp_cache_build (const struct spec_seccomp *sc, const char *root, void **filter, skiff_error_t *err)
{
  struct buf k = { 0 };
  cleanup_free char *dir = NULL, *path = NULL;
  skiff_error_t werr = NULL;
  int r;

  if (root == NULL)
    return syscall_filter_build (sc, filter, err);
  if (make_key (sc, &k, err) < 0)
    {
      free (k.data);
      return -1;
    }
  if (asprintf (&dir, "%s/" CACHE_DIR, root) < 0 || asprintf (&path, "%s/%016llx", dir, (unsigned long long) key_hash (&k)) < 0)
    {
      free (k.data);
      return skiff_error_make (err, ENOMEM, "seccomp cache");
    }
  if (cache_read (path, &k, filter) == 0)
    {
      free (k.data);
      return 0;
    }
  r = syscall_filter_build (sc, filter, err);
  if (r == 0 && cache_write (dir, path, &k, *filter, &werr) < 0)
    {
      log_debug ("seccomp cache: %s", werr->msg);
      skiff_error_release (&werr);
    }
  free (k.data);
  return r;
}
