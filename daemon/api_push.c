/* POST /images/{name}/push?tag=: a push to a registry by skiff-image, its
   progress streamed as Docker's JSON messages (progress_job.h) and ended,
   per tag, by the aux message {"Tag","Digest","Size"}.  */
#include "api.h"
#include "daemon.h"
#include "http.h"
#include "progress_job.h"
#include "router.h"

static void
handle_push (struct http_request *req, void *data)
{
  const char *tag = http_query (req, "tag");
  const char *args[] = { "push", "--", http_param (req, "name"), tag && *tag ? tag : NULL, NULL };

  progress_job_start (req, data, args);
}

int
api_push_register (struct router *r, skiff_error_t *err)
{
  return router_add (r, "POST", "/images/{name*}/push", handle_push, err);
}
