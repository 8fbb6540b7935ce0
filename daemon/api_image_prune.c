/* POST /images/prune: Docker's image prune.  The deleting runs in the
   thread pool over a snapshot of the images containers use.  */
#include "api.h"
#include "cleanup.h"
#include "containers.h"
#include "http.h"
#include "json.h"
#include "router.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prune_job
{
  uv_work_t work;
  struct daemon *d;
  struct http_request *req;
  bool all;
  char **used; /* image ids of all containers, NULL-terminated */
  char *json;
  int64_t reclaimed;
  skiff_error_t err;
};

static bool
used_by_container (const char *image_id, char **container_id, bool *running, void *arg)
{
  struct prune_job *j = arg;
  size_t i;
  (void) container_id;
  (void) running;
  for (i = 0; j->used[i]; i++)
    if (strcmp (j->used[i], image_id) == 0)
      return true;
  return false;
}

static void
prune_work (uv_work_t *w)
{
  struct prune_job *j = w->data;
  image_prune (j->d->images, j->all, used_by_container, j, &j->json, &j->reclaimed, &j->err);
}

static void
prune_after (uv_work_t *w, int status)
{
  struct prune_job *j = w->data;
  cleanup_free char *out = NULL;

  if (j->err == NULL && status != 0)
    skiff_error_make (&j->err, 0, "image prune cancelled");
  if (j->err)
    http_respond_error (j->req, 500, "%s", j->err->msg);
  else if (asprintf (&out, "{\"ImagesDeleted\":%s,\"SpaceReclaimed\":%lld}", j->json, (long long) j->reclaimed) < 0)
    http_respond_error (j->req, 500, "out of memory");
  else
    http_respond_json (j->req, 200, out);
  skiff_error_release (&j->err);
  cleanup_strvp (&j->used);
  free (j->json);
  free (j);
}

/* filters: dangling=true (the default: untagged images only) or false
   (every image no container uses); label and until are refused.  */
static int
parse_filters (struct http_request *req, bool *all)
{
  const char *text = http_query (req, "filters");
  cleanup_json yajl_val f = NULL;
  yajl_val dangling;
  size_t i;

  *all = false;
  if (text == NULL || *text == '\0')
    return 0;
  if (json_parse (text, &f, NULL) < 0 || !YAJL_IS_OBJECT (f))
    {
      http_respond_error (req, 400, "invalid filters: %s", text);
      return -1;
    }
  for (i = 0; i < f->u.object.len; i++)
    if (strcmp (f->u.object.keys[i], "dangling") != 0)
      {
        http_respond_error (req, 400, "invalid filter '%s'", f->u.object.keys[i]);
        return -1;
      }
  dangling = json_get (f, "dangling");
  for (i = 0; i < json_filter_count (dangling); i++)
    {
      const char *v = json_filter_at (dangling, i);
      if (strcmp (v, "false") == 0 || strcmp (v, "0") == 0)
        *all = true;
      else if (strcmp (v, "true") != 0 && strcmp (v, "1") != 0)
        {
          http_respond_error (req, 400, "invalid filter 'dangling=%s'", v);
          return -1;
        }
    }
  return 0;
}

static void
h_prune (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct prune_job *j = calloc (1, sizeof (*j));
  size_t i, n = 0;

  if (j == NULL || (j->used = calloc (d->n_containers + 1, sizeof (char *))) == NULL)
    {
      free (j);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  j->d = d;
  j->req = req;
  if (parse_filters (req, &j->all) < 0)
    {
      free (j->used);
      free (j);
      return;
    }
  for (i = 0; i < d->n_containers; i++)
    if (d->containers[i]->rec->image_id && (j->used[n] = strdup (d->containers[i]->rec->image_id)) != NULL)
      n++;
  j->work.data = j;
  uv_queue_work (d->loop, &j->work, prune_work, prune_after);
}

int
api_image_prune_register (struct router *r, skiff_error_t *err)
{
  return router_add (r, "POST", "/images/prune", h_prune, err);
}
