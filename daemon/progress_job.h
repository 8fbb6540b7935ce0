/* A registry job (pull, push) run by skiff-image (image_helper.h) whose
   progress streams to the client as Docker's JSON messages: skiff-image
   writes them, one per line, and they are passed on as they are.  The
   answer starts with the first message, so that an error before any
   progress is a plain HTTP error (404, 400, 500); a later one ends the
   stream with Docker's {"errorDetail":{"message"},"error"} message.  The
   request's X-Registry-Auth header goes to the helper on its stdin, never
   on its command line.  */
#ifndef SKIFF_DAEMON_PROGRESS_JOB_H
#define SKIFF_DAEMON_PROGRESS_JOB_H

struct daemon;
struct http_request;

/* Starts skiff-image with args (NULL-terminated: {"pull", "alpine:latest",
   NULL}) for req, which is answered in any case.  */
void progress_job_start (struct http_request *req, struct daemon *d, const char *const *args);

#endif
