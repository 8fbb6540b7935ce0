/* Layers unpacked while their blobs download (layer_stream.h).

   The download thread writes the blob into its partial file and
   publishes how much of it is there; a job's reader preads what is
   published and waits for more.  Nothing a job writes leaves its staging
   directory until the pull commits it, which it does only after the job
   has read the blob to its verified end: the digest of the compressed
   blob (the download's) and the diff id (the job's) both match.  */
#include "layer_stream.h"
#include "cleanup.h"
#include "fs.h"
#include "layer_unpack.h"
#include "store_internal.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FEED_BLOCK (256 * 1024)

struct blob_feed
{
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int64_t avail;
  unsigned gen; /* incremented by each restart */
  bool ended, verified;
};

struct blob_feed *
blob_feed_new (void)
{
  struct blob_feed *f = calloc (1, sizeof (*f));
  if (f == NULL)
    return NULL;
  pthread_mutex_init (&f->lock, NULL);
  pthread_cond_init (&f->changed, NULL);
  return f;
}

void
blob_feed_free (struct blob_feed *f)
{
  if (f == NULL)
    return;
  pthread_mutex_destroy (&f->lock);
  pthread_cond_destroy (&f->changed);
  free (f);
}

void
blob_feed_grow (struct blob_feed *f, int64_t avail)
{
  pthread_mutex_lock (&f->lock);
  if (!f->ended && avail > f->avail)
    {
      f->avail = avail;
      pthread_cond_broadcast (&f->changed);
    }
  pthread_mutex_unlock (&f->lock);
}

void
blob_feed_restart (struct blob_feed *f)
{
  pthread_mutex_lock (&f->lock);
  if (!f->ended)
    {
      f->avail = 0;
      f->gen++;
      pthread_cond_broadcast (&f->changed);
    }
  pthread_mutex_unlock (&f->lock);
}

void
blob_feed_end (struct blob_feed *f, bool verified)
{
  pthread_mutex_lock (&f->lock);
  if (!f->ended)
    {
      f->ended = true;
      f->verified = verified;
      pthread_cond_broadcast (&f->changed);
    }
  pthread_mutex_unlock (&f->lock);
}

/* ---- slots ---- */

struct unpack_slots
{
  pthread_mutex_t lock;
  pthread_cond_t freed;
  unsigned free;
};

struct unpack_slots *
unpack_slots_new (unsigned n)
{
  struct unpack_slots *s = calloc (1, sizeof (*s));
  if (s == NULL)
    return NULL;
  pthread_mutex_init (&s->lock, NULL);
  pthread_cond_init (&s->freed, NULL);
  s->free = n;
  return s;
}

void
unpack_slots_free (struct unpack_slots *s)
{
  if (s == NULL)
    return;
  pthread_mutex_destroy (&s->lock);
  pthread_cond_destroy (&s->freed);
  free (s);
}

static void
slot_take (struct unpack_slots *s)
{
  pthread_mutex_lock (&s->lock);
  while (s->free == 0)
    pthread_cond_wait (&s->freed, &s->lock);
  s->free--;
  pthread_mutex_unlock (&s->lock);
}

static void
slot_give (struct unpack_slots *s)
{
  pthread_mutex_lock (&s->lock);
  s->free++;
  pthread_cond_signal (&s->freed);
  pthread_mutex_unlock (&s->lock);
}

/* ---- jobs ---- */

struct layer_job
{
  struct layer_job_spec spec;
  pthread_t thread;
  int ret;
  skiff_error_t err;
};

/* One pass over the blob, from its start.  */
struct feed_reader
{
  struct layer_job *j;
  unsigned gen;
  int64_t off;
  bool restart; /* the file was cut back: unpack again */
  bool aborted; /* the download failed */
  char buf[FEED_BLOCK];
};

static ssize_t
feed_read (void *data, const void **buf)
{
  struct feed_reader *r = data;
  struct blob_feed *f = r->j->spec.feed;
  int64_t want;
  ssize_t n;

  pthread_mutex_lock (&f->lock);
  for (;;)
    {
      if (f->gen != r->gen)
        r->restart = true;
      else if (f->ended && !f->verified)
        r->aborted = true;
      else if (r->off < f->avail || f->ended)
        break;
      if (r->restart || r->aborted)
        {
          pthread_mutex_unlock (&f->lock);
          errno = ECANCELED;
          return -1;
        }
      pthread_cond_wait (&f->changed, &f->lock);
    }
  want = f->avail - r->off;
  pthread_mutex_unlock (&f->lock);
  if (want == 0)
    return 0; /* verified and read to the end */
  if (want > (int64_t) sizeof (r->buf))
    want = sizeof (r->buf);
  do
    n = pread (r->j->spec.fd, r->buf, want, r->off);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    {
      /* Published but not there: the file was cut meanwhile.  */
      errno = EIO;
      return -1;
    }
  if (n > 0)
    r->off += n;
  *buf = r->buf;
  return n;
}

/* After an unpack that failed before the reader saw the end: the bytes
   may have been ones the download threw away.  Waits until the feed
   starts over (unpack again), fails, or is verified (the failure
   stands).  */
static void
settle (struct feed_reader *r)
{
  struct blob_feed *f = r->j->spec.feed;

  pthread_mutex_lock (&f->lock);
  while (f->gen == r->gen && !f->ended)
    pthread_cond_wait (&f->changed, &f->lock);
  if (f->gen != r->gen)
    r->restart = true;
  else if (!f->verified)
    r->aborted = true;
  pthread_mutex_unlock (&f->lock);
}

/* Waits until the feed has data or an end: a job takes no slot while it
   would only wait.  */
static void
wait_for_data (struct blob_feed *f)
{
  pthread_mutex_lock (&f->lock);
  while (f->avail == 0 && !f->ended)
    pthread_cond_wait (&f->changed, &f->lock);
  pthread_mutex_unlock (&f->lock);
}

static int
job_run (struct layer_job *j, skiff_error_t *err)
{
  const struct layer_job_spec *s = &j->spec;
  cleanup_free struct feed_reader *r = malloc (sizeof (*r));
  cleanup_free char *diff = NULL;
  char got[IMAGE_ID_LEN + 1] = "";
  int64_t size = 0;
  int ret;

  if (r == NULL || asprintf (&diff, "%s/diff", s->dir) < 0)
    return skiff_error_make (err, ENOMEM, "unpack layer %s", s->diff_id);
  wait_for_data (s->feed);
  slot_take (s->slots);
  for (;;)
    {
      struct layer_source src = { .read = feed_read, .data = r, .name = s->tar };
      memset (r, 0, offsetof (struct feed_reader, buf));
      r->j = j;
      pthread_mutex_lock (&s->feed->lock);
      r->gen = s->feed->gen;
      pthread_mutex_unlock (&s->feed->lock);
      if (fs_remove_tree (s->dir, err) < 0 || store_layer_stage_begin (s->dir, err) < 0)
        {
          ret = -1;
          break;
        }
      ret = layer_unpack_source (&src, diff, &size, got, err);
      if (ret < 0 && !r->restart && !r->aborted)
        settle (r);
      if (!r->restart)
        break;
      skiff_error_release (err);
    }
  slot_give (s->slots);
  if (r->aborted)
    {
      skiff_error_release (err);
      return skiff_error_make (err, 0, "layer %s: the download failed", s->diff_id);
    }
  if (ret < 0 && got[0] == '\0')
    skiff_error_wrap (err, "layer %s", s->diff_id);
  ret = store_layer_check_diff_id (s->index, s->diff_id, got, ret, err);
  if (ret < 0)
    return ret;
  return store_layer_stage_end (s->dir, s->tar, s->diff_id, s->chain_id, s->parent, size, err);
}

static void *
job_main (void *arg)
{
  struct layer_job *j = arg;
  j->ret = job_run (j, &j->err);
  return NULL;
}

int
layer_job_start (const struct layer_job_spec *spec, struct layer_job **out, skiff_error_t *err)
{
  struct layer_job *j = calloc (1, sizeof (*j));
  int e;

  if (j == NULL)
    {
      close (spec->fd);
      return skiff_error_make (err, ENOMEM, "unpack layer %s", spec->diff_id);
    }
  j->spec = *spec;
  e = pthread_create (&j->thread, NULL, job_main, j);
  if (e != 0)
    {
      close (spec->fd);
      free (j);
      return skiff_error_make (err, e, "start unpacking layer %s", spec->diff_id);
    }
  *out = j;
  return 0;
}

int
layer_job_finish (struct layer_job *j, skiff_error_t *err)
{
  int ret;

  pthread_join (j->thread, NULL);
  close (j->spec.fd);
  ret = j->ret;
  if (ret < 0)
    {
      skiff_error_release (err);
      *err = steal_pointer (&j->err);
    }
  free (j);
  return ret;
}
