/* POST /images/create?fromImage=: a pull from a registry by skiff-image,
   its progress streamed as Docker's JSON messages (progress_job.h), with
   the credentials of X-Registry-Auth.  */
#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "http.h"
#include "progress_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
api_pull_start (struct http_request *req, struct daemon *d, const char *from_image, const char *tag)
{
  cleanup_free char *ref = NULL;
  const char *slash, *platform = http_query (req, "platform");
  bool has_tag;

  /* fromImage may carry its tag or digest already.  */
  slash = strrchr (from_image, '/');
  has_tag = strchr (from_image, '@') || strchr (slash ? slash : from_image, ':');
  if (!has_tag && tag && *tag)
    {
      if (asprintf (&ref, "%s%s%s", from_image, strncmp (tag, "sha256:", 7) == 0 ? "@" : ":", tag) < 0)
        ref = NULL;
    }
  else
    ref = strdup (from_image);
  if (ref == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  if (platform && *platform)
    {
      const char *args[] = { "pull", "--platform", platform, "--", ref, NULL };
      progress_job_start (req, d, args);
    }
  else
    {
      const char *args[] = { "pull", "--", ref, NULL };
      progress_job_start (req, d, args);
    }
}
