/* skiffd's side of skiff-image (image/helper/helper.h): every image
   operation that needs libcurl, libarchive or libcrypto (pull, push, login,
   load, import, save) runs in a skiff-image process of its own, forked by
   the fork server (image_server.h), or spawned on the loop with uv_spawn
   when --image-helper-idle is 0.  This module feeds its stdin, hands its stdout to
   the caller, reads the result it writes on fd 3 and, once the process has
   exited and its pipes are drained, cleans up after it (the staging
   directory of a killed helper, the tag table it changed) in the thread
   pool and reports the outcome on the loop.  A helper that crashes or is
   killed fails its operation only, with an error naming the signal.  */
#ifndef SKIFF_DAEMON_IMAGE_HELPER_H
#define SKIFF_DAEMON_IMAGE_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>
#include "error.h"

struct daemon;
struct image_helper;

struct image_helper_opts
{
  /* The command and its arguments, NULL-terminated: {"pull", "alpine", NULL}.  */
  const char *const *args;
  /* stdin: input_len bytes of input, then EOF; or, with stream_input,
     what image_helper_write gives until image_helper_end_input.  */
  const char *input;
  size_t input_len;
  bool stream_input;
  /* stream_input: the queue of written bytes fell below the low mark.  */
  void (*on_input_drained) (void *data);
  /* stdout, as it comes (lines false) or in whole lines with their end
     (lines true).  May be NULL: then it is read and dropped.  */
  bool lines;
  void (*on_output) (const char *buf, size_t len, void *data);
  /* The end, once: http_status 0 and the result object (valid during the
     call), or the HTTP status for the error and its message.  The helper
     frees itself afterwards.  */
  void (*on_done) (int http_status, const char *message, yajl_val result, void *data);
  void *data;
};

/* Starts the helper; on failure nothing runs and on_done is not called.  */
int image_helper_start (struct daemon *d, const struct image_helper_opts *o, struct image_helper **out,
                        skiff_error_t *err);

/* stream_input: queues a copy of buf for stdin.  Returns the bytes now
   queued, or -1 when stdin is closed (the helper exited or stopped
   reading): the data is dropped.  */
long image_helper_write (struct image_helper *h, const char *buf, size_t len);

/* stream_input: EOF on stdin once the queued bytes are written.  */
void image_helper_end_input (struct image_helper *h);

/* Back-pressure on stdout: stop and start reading it.  */
void image_helper_pause_output (struct image_helper *h);
void image_helper_resume_output (struct image_helper *h);

/* Closes stdout: the helper's next write fails (a save whose client went
   away).  */
void image_helper_drop_output (struct image_helper *h);

/* The skiff-image command line: the program, skiffd's options for it
   (--root, --log-level, registry mirrors, insecure registries), then tail
   (NULL-terminated).  *out is malloc'd; its strings are not copied.  */
int image_helper_args (struct daemon *d, const char *const *tail, char ***out);

/* Low mark for on_input_drained.  */
#define IMAGE_HELPER_INPUT_LOW (256 * 1024)

#endif
