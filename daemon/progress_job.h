/* A slow image job (pull, push) in libuv's thread pool whose progress
   streams to the client as Docker's JSON messages.  The worker's messages
   go through a queue and a uv_async to the loop thread, the only one that
   may write to the client.  The answer starts with the first message, so
   that an error before any progress is a plain HTTP error (404, 400,
   500).  The credentials of the request's X-Registry-Auth header (base64url
   JSON, as the docker CLI sends it) are decoded for the job.  */
#ifndef SKIFF_DAEMON_PROGRESS_JOB_H
#define SKIFF_DAEMON_PROGRESS_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "error.h"

struct daemon;
struct http_request;
struct progress_job;

/* Runs in the worker: returns 0 or an IMAGE_* status with *err set.  */
typedef int (*progress_job_fn) (struct progress_job *j, skiff_error_t *err);

struct progress_job
{
  uv_work_t work;
  uv_async_t async;
  struct http_request *req;
  struct daemon *d;
  progress_job_fn run;
  char *ref; /* what to pull or push */
  char *tag; /* push: NULL for every tag */
  char *platform; /* pull: NULL for the host's */
  char *username, *password; /* from X-Registry-Auth; NULL when none */
  pthread_mutex_t lock;
  char **lines; /* JSON lines waiting for the loop */
  size_t n_lines, cap_lines;
  bool started, gone;
  int status;
  skiff_error_t err;
};

/* A job for req, or NULL after answering 500.  Takes nothing over.  */
struct progress_job *progress_job_new (struct http_request *req, struct daemon *d, progress_job_fn run);

/* Frees a job that was not started.  */
void progress_job_discard (struct progress_job *j);

/* Queues the worker; the job frees itself after the answer.  */
void progress_job_start (struct progress_job *j);

/* A pull_progress_fn for the worker (data: the job): one message
   {"status","progressDetail":{"current","total"},"progress","id"}.  */
void progress_job_message (void *data, const char *id, const char *status, int64_t current, int64_t total);

/* From the worker: {"progressDetail":{},"aux":AUX} with AUX JSON text.  */
void progress_job_aux (struct progress_job *j, const char *aux);

/* Decodes an X-Registry-Auth value into *username and *password (NULL
   when absent); a value that does not decode gives none, as Docker.  */
void registry_auth_header_decode (const char *value, char **username, char **password);

#endif
