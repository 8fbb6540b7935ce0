/* POST /images/create?fromImage=: a pull from a registry in the thread
   pool, its progress streamed as Docker's JSON messages (progress_job.h),
   with the credentials of X-Registry-Auth.  */
#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "http.h"
#include "progress_job.h"
#include "registry.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
pull_run (struct progress_job *j, skiff_error_t *err)
{
  struct pull_opts o = { .mirrors = (const char *const *) j->d->registry_mirrors,
                         .insecure = (const char *const *) j->d->insecure_registries,
                         .username = j->username,
                         .password = j->password,
                         .platform = j->platform,
                         .progress = progress_job_message,
                         .data = j };
  cleanup_free char *id = NULL;
  return image_pull (j->d->images, j->ref, &o, &id, err);
}

void
api_pull_start (struct http_request *req, struct daemon *d, const char *from_image, const char *tag)
{
  struct progress_job *j = progress_job_new (req, d, pull_run);
  bool has_tag;
  const char *slash, *platform;

  if (j == NULL)
    return;
  /* fromImage may carry its tag or digest already.  */
  slash = strrchr (from_image, '/');
  has_tag = strchr (from_image, '@') || strchr (slash ? slash : from_image, ':');
  if (!has_tag && tag && *tag)
    {
      if (asprintf (&j->ref, "%s%s%s", from_image, strncmp (tag, "sha256:", 7) == 0 ? "@" : ":", tag) < 0)
        j->ref = NULL;
    }
  else
    j->ref = strdup (from_image);
  platform = http_query (req, "platform");
  if (platform && *platform && (j->platform = strdup (platform)) == NULL)
    {
      free (j->ref);
      j->ref = NULL;
    }
  if (j->ref == NULL)
    {
      progress_job_discard (j);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  progress_job_start (j);
}
