/* POST /images/{name}/push?tag=: a push to a registry in the thread pool,
   its progress streamed as Docker's JSON messages (progress_job.h) and
   ended, per tag, by the aux message {"Tag","Digest","Size"}.  */
#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "events.h"
#include "http.h"
#include "json.h"
#include "progress_job.h"
#include "push.h"
#include "router.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
on_pushed (void *data, const char *tag, const char *digest, int64_t size)
{
  struct progress_job *j = data;
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *aux = NULL;

  if (g == NULL)
    return;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Tag", tag);
  json_gen_kv_str (g, "Digest", digest);
  json_gen_kv_int (g, "Size", size);
  yajl_gen_map_close (g);
  aux = json_gen_steal (g, NULL);
  if (aux)
    progress_job_aux (j, aux);
}

static int
push_run (struct progress_job *j, skiff_error_t *err)
{
  struct push_opts o = { .insecure = (const char *const *) j->d->insecure_registries,
                         .username = j->username,
                         .password = j->password,
                         .progress = progress_job_message,
                         .done = on_pushed,
                         .data = j };
  return image_push (j->d->images, j->ref, j->tag, &o, err);
}

static void
handle_push (struct http_request *req, void *data)
{
  struct daemon *d = data;
  const char *tag = http_query (req, "tag");
  struct progress_job *j;

  j = progress_job_new (req, d, push_run);
  if (j == NULL)
    return;
  j->ref = strdup (http_param (req, "name"));
  j->tag = tag && *tag ? strdup (tag) : NULL;
  if (j->ref == NULL || (tag && *tag && j->tag == NULL))
    {
      progress_job_discard (j);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  progress_job_start (j);
}

int
api_push_register (struct router *r, skiff_error_t *err)
{
  return router_add (r, "POST", "/images/{name*}/push", handle_push, err);
}
