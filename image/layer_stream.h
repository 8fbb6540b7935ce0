/* Layers unpacked while their blobs download (pull.c): each on a thread
   of its own, into a private staging directory that is only committed
   once the blob's digest and the layer's diff id are verified.  */
#ifndef SKIFF_IMAGE_LAYER_STREAM_H
#define SKIFF_IMAGE_LAYER_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* A blob as its download writes it into a file.  Readers on other
   threads follow the file as it grows, start over when it is cut back to
   nothing, and see its end only once the download has verified its
   digest; a failed download ends them with an error.  */
struct blob_feed;

struct blob_feed *blob_feed_new (void); /* NULL on ENOMEM */
void blob_feed_free (struct blob_feed *f);
/* The file holds the blob's first avail bytes.  */
void blob_feed_grow (struct blob_feed *f, int64_t avail);
/* The file was truncated: readers start again from its beginning.  */
void blob_feed_restart (struct blob_feed *f);
/* The download is over: verified (the whole blob is in the file and its
   digest matched), or failed.  The first call counts.  */
void blob_feed_end (struct blob_feed *f, bool verified);

/* How many jobs of a pull unpack at once.  */
struct unpack_slots;
struct unpack_slots *unpack_slots_new (unsigned n);
void unpack_slots_free (struct unpack_slots *s);

struct layer_job_spec
{
  struct blob_feed *feed;
  struct unpack_slots *slots;
  int fd;            /* the blob's file, read with pread; the job closes it */
  const char *dir;   /* the staging directory to create */
  const char *tar;   /* the verified blob, linked as dir/layer.tar */
  size_t index;      /* the layer's position, for errors */
  const char *diff_id, *chain_id, *parent; /* from the image config; parent may be NULL */
};

/* Starts a thread that unpacks the blob into dir/diff as it arrives,
   checks the diff id and completes dir (store_layer_stage_end).  The
   strings of spec must outlive the job.  On failure fd is closed.  */
struct layer_job;
int layer_job_start (const struct layer_job_spec *spec, struct layer_job **out, skiff_error_t *err);

/* Waits for the job and frees it: 0 when dir is a complete staged
   layer, else the job's error.  */
int layer_job_finish (struct layer_job *j, skiff_error_t *err);

#endif
