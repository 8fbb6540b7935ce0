/* Image routes: list, inspect, load, import, save, tag, remove.

   The image store blocks, so every call of skiffd's runs in libuv's thread
   pool (uv_queue_work) and answers from the after-work callback on the
   loop.  Load, import and save need libarchive: skiff-image runs them
   (image_helper.h); uploads stream the request body into its stdin, save
   streams its stdout to the client.  */
#include "api.h"
#include "cleanup.h"
#include "containers.h"
#include "daemon.h"
#include "events.h"
#include "image_helper.h"
#include "json.h"
#include "log.h"
#include "router.h"
#include "store.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Upload back-pressure: pause reading the client above HIGH bytes queued
   for skiff-image, resume below IMAGE_HELPER_INPUT_LOW.  */
#define UPLOAD_HIGH (1024 * 1024)

static int
image_http_status (int ret)
{
  switch (ret)
    {
    case IMAGE_ERR_NOT_FOUND:
      return 404;
    case IMAGE_ERR_INVALID:
      return 400;
    case IMAGE_ERR_CONFLICT:
      return 409;
    default:
      return 500;
    }
}

static void
respond_image_error (struct http_request *req, int ret, skiff_error_t err)
{
  http_respond_error (req, image_http_status (ret), "%s", err && err->msg ? err->msg : "image store error");
}

/* "repo" and "tag" query parameters as one reference.  */
static char *
join_repo_tag (const char *repo, const char *tag)
{
  char *s = NULL;
  if (repo == NULL || *repo == '\0')
    return NULL;
  if (tag && *tag)
    return asprintf (&s, "%s:%s", repo, tag) < 0 ? NULL : s;
  return strdup (repo);
}

/* ---- simple jobs: one store call, one JSON answer ---- */

struct use
{
  char *image_id, *container_id;
  bool running;
};

struct image_filters
{
  char **reference, **dangling, **label, **before, **since;
};

struct job
{
  uv_work_t work;
  struct daemon *d;
  struct http_request *req;
  int (*run) (struct job *j); /* in the pool */
  int ok_status;              /* 200, or 201 for tag */
  const char *event;          /* image event to publish on success */
  char *name, *repo_tag;
  bool all, force;
  struct image_filters filters;
  struct use *uses;
  size_t n_uses;
  /* results */
  int ret;
  skiff_error_t err;
  char *json;
  char *image_id;
};

static void
filters_clear (struct image_filters *f)
{
  cleanup_strvp (&f->reference);
  cleanup_strvp (&f->dangling);
  cleanup_strvp (&f->label);
  cleanup_strvp (&f->before);
  cleanup_strvp (&f->since);
}

static void
job_free (struct job *j)
{
  size_t i;
  free (j->name);
  free (j->repo_tag);
  filters_clear (&j->filters);
  for (i = 0; i < j->n_uses; i++)
    {
      free (j->uses[i].image_id);
      free (j->uses[i].container_id);
    }
  free (j->uses);
  skiff_error_release (&j->err);
  free (j->json);
  free (j->image_id);
  free (j);
}

static void
job_work (uv_work_t *w)
{
  struct job *j = w->data;
  j->ret = j->run (j);
}

/* Image events from DELETE's answer: [{"Untagged":"a:b"},{"Deleted":"sha256:..."}].  */
static void
publish_remove_events (struct job *j)
{
  cleanup_json yajl_val list = NULL;
  size_t i;

  if (json_parse (j->json, &list, NULL) < 0 || !YAJL_IS_ARRAY (list))
    return;
  for (i = 0; i < list->u.array.len; i++)
    {
      yajl_val untagged = json_get (list->u.array.values[i], "Untagged");
      yajl_val deleted = json_get (list->u.array.values[i], "Deleted");
      if (untagged && YAJL_IS_STRING (untagged) && j->image_id)
        {
          const char *attrs[] = { "name", j->image_id, NULL };
          events_publish (j->d->events, "image", "untag", j->image_id, attrs);
        }
      if (deleted && YAJL_IS_STRING (deleted))
        {
          const char *attrs[] = { "name", deleted->u.string, NULL };
          events_publish (j->d->events, "image", "delete", deleted->u.string, attrs);
        }
    }
}

static void
job_done (uv_work_t *w, int status)
{
  struct job *j = w->data;

  if (status < 0)
    http_respond_error (j->req, 500, "%s", uv_strerror (status));
  else if (j->ret < 0)
    respond_image_error (j->req, j->ret, j->err);
  else
    {
      if (j->event && strcmp (j->event, "delete") == 0)
        publish_remove_events (j);
      else if (j->event && j->image_id)
        {
          const char *attrs[] = { "name", j->repo_tag ? j->repo_tag : j->image_id, NULL };
          events_publish (j->d->events, "image", j->event, j->image_id, attrs);
        }
      if (j->json)
        http_respond_json (j->req, j->ok_status, j->json);
      else
        http_respond_empty (j->req, j->ok_status);
    }
  job_free (j);
}

static struct job *
job_new (struct http_request *req, struct daemon *d, int (*run) (struct job *))
{
  struct job *j = calloc (1, sizeof (*j));
  if (j == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return NULL;
    }
  j->d = d;
  j->req = req;
  j->run = run;
  j->ok_status = 200;
  j->work.data = j;
  return j;
}

static void
job_queue (struct job *j)
{
  int ret = uv_queue_work (j->d->loop, &j->work, job_work, job_done);
  if (ret < 0)
    {
      http_respond_error (j->req, 500, "queue image work: %s", uv_strerror (ret));
      job_free (j);
    }
}

/* ---- GET /images/json ---- */

/* Docker's filters, both forms: {"key":["v"]} and {"key":{"v":true}}.  */
static int
filters_parse (const char *text, struct image_filters *f, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  size_t i, k;

  if (text == NULL || *text == '\0')
    return 0;
  if (json_parse (text, &tree, err) < 0)
    return skiff_error_wrap (err, "invalid filters");
  if (!YAJL_IS_OBJECT (tree))
    return skiff_error_make (err, 0, "invalid filters: expected a JSON object");
  for (i = 0; i < tree->u.object.len; i++)
    {
      const char *key = tree->u.object.keys[i];
      yajl_val v = tree->u.object.values[i];
      char ***dst = strcmp (key, "reference") == 0  ? &f->reference
                    : strcmp (key, "dangling") == 0 ? &f->dangling
                    : strcmp (key, "label") == 0    ? &f->label
                    : strcmp (key, "before") == 0   ? &f->before
                    : strcmp (key, "since") == 0    ? &f->since
                                                    : NULL;
      size_t n = YAJL_IS_ARRAY (v) ? v->u.array.len : YAJL_IS_OBJECT (v) ? v->u.object.len : 0;

      if (dst == NULL)
        return skiff_error_make (err, 0, "invalid filter '%s'", key);
      if (!YAJL_IS_ARRAY (v) && !YAJL_IS_OBJECT (v))
        return skiff_error_make (err, 0, "invalid filter '%s': expected a list", key);
      *dst = calloc (n + 1, sizeof (char *));
      if (*dst == NULL)
        return skiff_error_make (err, ENOMEM, "filters");
      for (k = 0; k < n; k++)
        {
          const char *s = YAJL_IS_ARRAY (v) ? YAJL_GET_STRING (v->u.array.values[k]) : v->u.object.keys[k];
          if (s == NULL)
            return skiff_error_make (err, 0, "invalid filter '%s': expected strings", key);
          if (dst == &f->dangling && strcasecmp (s, "true") != 0 && strcasecmp (s, "false") != 0 && strcmp (s, "1") != 0
              && strcmp (s, "0") != 0)
            return skiff_error_make (err, 0, "Invalid filter 'dangling=%s'", s);
          if (((*dst)[k] = strdup (s)) == NULL)
            return skiff_error_make (err, ENOMEM, "filters");
        }
    }
  return 0;
}

/* Docker's reference.FamiliarMatch: the pattern against "name:tag", then
   against the name alone; '*' does not cross '/' (path.Match).  */
static bool
reference_matches (char *const *patterns, const char *tag)
{
  cleanup_free char *name = strdup (tag);
  char *colon, *slash;

  if (name == NULL)
    return false;
  colon = strrchr (name, ':');
  slash = strrchr (name, '/');
  if (colon && (slash == NULL || colon > slash))
    *colon = '\0';
  for (; *patterns; patterns++)
    if (fnmatch (*patterns, tag, FNM_PATHNAME) == 0 || fnmatch (*patterns, name, FNM_PATHNAME) == 0)
      return true;
  return false;
}

static bool
label_matches (char *const *wanted, yajl_val labels)
{
  for (; *wanted; wanted++)
    {
      const char *eq = strchr (*wanted, '=');
      cleanup_free char *key = eq ? strndup (*wanted, (size_t) (eq - *wanted)) : strdup (*wanted);
      yajl_val v = key ? json_get (labels, key) : NULL;
      if (v == NULL || (eq && !(YAJL_IS_STRING (v) && strcmp (v->u.string, eq + 1) == 0)))
        return false;
    }
  return true;
}

static bool
is_dangling (yajl_val tags)
{
  return tags == NULL || !YAJL_IS_ARRAY (tags) || tags->u.array.len == 0
         || (tags->u.array.len == 1 && YAJL_IS_STRING (tags->u.array.values[0])
             && strcmp (tags->u.array.values[0]->u.string, "<none>:<none>") == 0);
}

static long long
summary_created (yajl_val img)
{
  yajl_val v = json_get (img, "Created");
  return v && YAJL_IS_INTEGER (v) ? YAJL_GET_INTEGER (v) : 0;
}

/* The Created time of the image that `before` or `since` names.  */
static int
reference_created (struct job *j, yajl_val list, const char *ref, long long *created)
{
  cleanup_free char *id = NULL;
  size_t i;
  int ret = image_resolve (j->d->images, ref, &id, &j->err);

  if (ret < 0)
    return ret;
  for (i = 0; i < list->u.array.len; i++)
    {
      yajl_val v = json_get (list->u.array.values[i], "Id");
      if (v && YAJL_IS_STRING (v) && strcmp (v->u.string, id) == 0)
        {
          *created = summary_created (list->u.array.values[i]);
          return 0;
        }
    }
  return skiff_error_make (&j->err, 0, "No such image: %s", ref), IMAGE_ERR_NOT_FOUND;
}

static int
list_run (struct job *j)
{
  const struct image_filters *f = &j->filters;
  cleanup_free char *raw = NULL;
  cleanup_json yajl_val list = NULL;
  cleanup_gen yajl_gen g = NULL;
  long long before = 0, since = 0;
  bool have_before = f->before && f->before[0], have_since = f->since && f->since[0];
  int want_dangling = -1;
  size_t i, k;
  int ret;

  ret = image_list_json (j->d->images, j->all, &raw, &j->err);
  if (ret < 0)
    return ret;
  if (!f->reference && !f->dangling && !f->label && !have_before && !have_since)
    {
      j->json = steal_pointer (&raw);
      return 0;
    }
  if (json_parse (raw, &list, &j->err) < 0 || !YAJL_IS_ARRAY (list))
    return skiff_error_make (&j->err, 0, "image list is not a JSON array");
  if (have_before && (ret = reference_created (j, list, f->before[0], &before)) < 0)
    return ret;
  if (have_since && (ret = reference_created (j, list, f->since[0], &since)) < 0)
    return ret;
  for (i = 0; f->dangling && f->dangling[i]; i++)
    want_dangling = strcasecmp (f->dangling[i], "true") == 0 || strcmp (f->dangling[i], "1") == 0;

  g = json_gen_new (false);
  if (g == NULL)
    return skiff_error_make (&j->err, ENOMEM, "list images");
  yajl_gen_array_open (g);
  for (i = 0; i < list->u.array.len; i++)
    {
      yajl_val img = list->u.array.values[i];
      yajl_val tags = json_get (img, "RepoTags");
      bool dangling = is_dangling (tags);
      long long created = summary_created (img);

      if ((want_dangling == 1 && !dangling) || (want_dangling == 0 && dangling))
        continue;
      if (f->label && f->label[0] && !label_matches (f->label, json_get (img, "Labels")))
        continue;
      if ((have_before && created >= before) || (have_since && created <= since))
        continue;
      if (f->reference && f->reference[0])
        {
          /* Only the matching tags are shown; no match hides the image.  */
          size_t n = 0;
          if (dangling)
            continue;
          for (k = 0; k < tags->u.array.len; k++)
            if (YAJL_IS_STRING (tags->u.array.values[k]) && reference_matches (f->reference, tags->u.array.values[k]->u.string))
              n++;
          if (n == 0)
            continue;
          yajl_gen_map_open (g);
          for (k = 0; k < img->u.object.len; k++)
            {
              size_t t;
              json_gen_str (g, img->u.object.keys[k]);
              if (strcmp (img->u.object.keys[k], "RepoTags") != 0)
                {
                  json_gen_value (g, img->u.object.values[k]);
                  continue;
                }
              yajl_gen_array_open (g);
              for (t = 0; t < tags->u.array.len; t++)
                if (YAJL_IS_STRING (tags->u.array.values[t])
                    && reference_matches (f->reference, tags->u.array.values[t]->u.string))
                  json_gen_str (g, tags->u.array.values[t]->u.string);
              yajl_gen_array_close (g);
            }
          yajl_gen_map_close (g);
          continue;
        }
      json_gen_value (g, img);
    }
  yajl_gen_array_close (g);
  j->json = json_gen_steal (g, NULL);
  return j->json ? 0 : skiff_error_make (&j->err, ENOMEM, "list images");
}

static void
handle_list (struct http_request *req, void *data)
{
  struct job *j = job_new (req, data, list_run);
  skiff_error_t err = NULL;

  if (j == NULL)
    return;
  j->all = http_query_bool (req, "all", false);
  if (filters_parse (http_query (req, "filters"), &j->filters, &err) < 0)
    {
      http_respond_error (req, 400, "%s", err->msg);
      skiff_error_release (&err);
      job_free (j);
      return;
    }
  job_queue (j);
}

/* ---- GET /images/{name}/json ---- */

static int
inspect_run (struct job *j)
{
  return image_inspect_json (j->d->images, j->name, &j->json, &j->err);
}

/* A job about the image in the path.  */
static struct job *
named_job (struct http_request *req, void *data, int (*run) (struct job *))
{
  struct job *j = job_new (req, data, run);
  if (j && (j->name = strdup (http_param (req, "name"))) == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      job_free (j);
      return NULL;
    }
  return j;
}

static void
handle_inspect (struct http_request *req, void *data)
{
  struct job *j = named_job (req, data, inspect_run);
  if (j)
    job_queue (j);
}

/* ---- POST /images/{name}/tag ---- */

static int
tag_run (struct job *j)
{
  int ret = image_tag (j->d->images, j->name, j->repo_tag, &j->err);
  if (ret < 0)
    return ret;
  /* For the event only: a failure here does not undo the tag.  */
  if (image_resolve (j->d->images, j->repo_tag, &j->image_id, &j->err) < 0)
    skiff_error_release (&j->err);
  return 0;
}

static void
handle_tag (struct http_request *req, void *data)
{
  struct job *j = named_job (req, data, tag_run);
  const char *repo = http_query (req, "repo");

  if (j == NULL)
    return;
  if (repo == NULL || *repo == '\0')
    {
      http_respond_error (req, 400, "repository name must have at least one component");
      job_free (j);
      return;
    }
  j->repo_tag = join_repo_tag (repo, http_query (req, "tag"));
  if (j->repo_tag == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      job_free (j);
      return;
    }
  j->ok_status = 201;
  j->event = "tag";
  job_queue (j);
}

/* ---- DELETE /images/{name} ---- */

/* Runs in the worker, over the snapshot taken on the loop.  */
static bool
image_in_use (const char *image_id, char **container_id, bool *running, void *arg)
{
  struct job *j = arg;
  size_t i, found = j->n_uses;

  for (i = 0; i < j->n_uses; i++)
    if (strcmp (j->uses[i].image_id, image_id) == 0 && (found == j->n_uses || (j->uses[i].running && !j->uses[found].running)))
      found = i; /* a running container makes the stronger conflict */
  if (found == j->n_uses)
    return false;
  *container_id = strdup (j->uses[found].container_id);
  *running = j->uses[found].running;
  return *container_id != NULL;
}

static int
remove_run (struct job *j)
{
  int ret = image_resolve (j->d->images, j->name, &j->image_id, &j->err);
  if (ret < 0)
    return ret;
  return image_remove (j->d->images, j->name, j->force, image_in_use, j, &j->json, &j->err);
}

static void
handle_remove (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct job *j = named_job (req, data, remove_run);
  size_t i;

  if (j == NULL)
    return;
  /* `noprune` keeps untagged parents; images here have none.  */
  j->force = http_query_bool (req, "force", false);
  j->event = "delete";
  /* The container table changes on the loop while the worker runs: it
     gets a copy of what it needs.  */
  j->uses = calloc (d->n_containers + 1, sizeof (*j->uses));
  if (j->uses == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      job_free (j);
      return;
    }
  for (i = 0; i < d->n_containers; i++)
    {
      struct ctr *c = d->containers[i];
      struct use *u = &j->uses[j->n_uses];
      if (c->rec->image_id == NULL)
        continue;
      u->image_id = strdup (c->rec->image_id);
      u->container_id = strdup (c->rec->id);
      u->running = containers_is_running (c);
      j->n_uses++;
      if (u->image_id == NULL || u->container_id == NULL)
        {
          http_respond_error (req, 500, "out of memory");
          job_free (j);
          return;
        }
    }
  job_queue (j);
}

/* ---- uploads: POST /images/load, POST /images/create?fromSrc=- ---- */

/* The body streams into the stdin of skiff-image (load or import); the
   answer waits for both the helper's result and the end of the body.  */
struct upload
{
  struct daemon *d;
  struct http_request *req;
  struct image_helper *helper; /* until it is done */
  bool import;
  bool paused;
  bool body_ended;  /* the last body callback came */
  bool client_gone;
  bool done;        /* the helper's result is in */
  int status;       /* 0, or the HTTP status of the helper's error */
  char *message;    /* its error */
  char *answer;     /* Docker's JSON messages */
  size_t answer_len;
};

static void upload_step (struct upload *u);

static void
upload_free (struct upload *u)
{
  free (u->message);
  free (u->answer);
  free (u);
}

/* One line of Docker's JSON message stream (streamformatter ends them with
   CRLF): {"stream":"..."} or {"status":"..."}.  */
static int
append_message (char **out, size_t *len, const char *key, const char *text)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *line = NULL;
  size_t l;
  char *n;

  if (g == NULL)
    return -1;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, key, text);
  yajl_gen_map_close (g);
  line = json_gen_steal (g, &l);
  if (line == NULL || (n = realloc (*out, *len + l + 3)) == NULL)
    return -1;
  memcpy (n + *len, line, l);
  memcpy (n + *len + l, "\r\n", 3);
  *out = n;
  *len += l + 2;
  return 0;
}

/* The answer and the events from skiff-image's result: {"id"} for an
   import, {"loaded":[lines],"ids":[id or null]} for a load.  */
static int
upload_result (struct upload *u, yajl_val result)
{
  yajl_val loaded = json_get (result, "loaded"), ids = json_get (result, "ids");
  size_t i;

  if (u->import)
    {
      const char *id = json_str_or (json_get (result, "id"), "");
      const char *attrs[] = { "name", id, NULL };
      events_publish (u->d->events, "image", "import", id, attrs);
      return append_message (&u->answer, &u->answer_len, "status", id);
    }
  for (i = 0; loaded && YAJL_IS_ARRAY (loaded) && i < loaded->u.array.len; i++)
    {
      yajl_val id = ids && YAJL_IS_ARRAY (ids) && i < ids->u.array.len ? ids->u.array.values[i] : NULL;
      cleanup_free char *text = NULL;
      if (id && YAJL_IS_STRING (id))
        {
          const char *attrs[] = { "name", id->u.string, NULL };
          events_publish (u->d->events, "image", "load", id->u.string, attrs);
        }
      if (asprintf (&text, "%s\n", json_str_or (loaded->u.array.values[i], "")) < 0
          || append_message (&u->answer, &u->answer_len, "stream", text) < 0)
        return -1;
    }
  return 0;
}

static void
on_upload_done (int status, const char *message, yajl_val result, void *data)
{
  struct upload *u = data;

  u->helper = NULL;
  u->done = true;
  u->status = status;
  if (status != 0 && (u->message = strdup (message)) == NULL)
    u->status = 500;
  if (status == 0 && upload_result (u, result) < 0)
    u->status = 500;
  upload_step (u);
}

/* Answers when the helper is done and the body is over.  */
static void
upload_step (struct upload *u)
{
  bool body_over = u->body_ended || u->client_gone;

  if (u->done && !body_over && u->paused)
    {
      /* The helper is done before the body: take the rest and drop it, so
         that the client gets to read the answer.  */
      u->paused = false;
      http_request_resume_body (u->req);
    }
  if (!u->done || !body_over)
    return;
  http_request_on_close (u->req, NULL, NULL);
  if (u->status != 0)
    http_respond_error (u->req, u->status, "%s", u->message ? u->message : "out of memory");
  else
    http_respond (u->req, 200, "application/json", u->answer ? u->answer : "", u->answer_len);
  upload_free (u);
}

static void
on_upload_drained (void *data)
{
  struct upload *u = data;
  if (u->paused && !u->done && !u->client_gone)
    {
      u->paused = false;
      http_request_resume_body (u->req);
    }
}

static int
on_upload_body (struct http_request *req, const char *chunk, size_t len, bool end, void *data)
{
  struct upload *u = data;
  long queued;

  if (end)
    {
      u->body_ended = true;
      if (u->helper)
        image_helper_end_input (u->helper);
      upload_step (u);
      return 0;
    }
  /* The helper stopped reading: the rest is dropped.  */
  if (u->helper == NULL)
    return 0;
  queued = image_helper_write (u->helper, chunk, len);
  if (queued >= UPLOAD_HIGH)
    {
      u->paused = true;
      http_request_pause_body (req);
    }
  return 0;
}

static void
on_upload_client_gone (struct http_request *req, void *data)
{
  struct upload *u = data;
  /* The helper sees a cut archive and fails; the answer goes nowhere but
     frees the request.  */
  u->client_gone = true;
  if (u->helper)
    image_helper_end_input (u->helper);
  upload_step (u);
}

/* Starts skiff-image with args at headers time.  */
static void
upload_start (struct upload *u, const char *const *args)
{
  struct image_helper_opts o = { .args = args,
                                 .stream_input = true,
                                 .on_input_drained = on_upload_drained,
                                 .on_done = on_upload_done,
                                 .data = u };
  skiff_error_t err = NULL;

  if (image_helper_start (u->d, &o, &u->helper, &err) < 0)
    {
      log_error ("%s", err->msg);
      http_respond_error (u->req, 500, "%s", err->msg);
      skiff_error_release (&err);
      upload_free (u);
      return;
    }
  http_request_stream_body (u->req, on_upload_body, u);
  http_request_on_close (u->req, on_upload_client_gone, u);
}

static struct upload *
upload_new (struct http_request *req, struct daemon *d)
{
  struct upload *u = calloc (1, sizeof (*u));
  if (u == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return NULL;
    }
  u->req = req;
  u->d = d;
  return u;
}

static void
handle_load (struct http_request *req, void *data)
{
  static const char *const args[] = { "load", NULL };
  /* `quiet` only hides progress bars, which skiff does not send.  */
  struct upload *u = upload_new (req, data);
  if (u)
    upload_start (u, args);
}

/* skiff-image import's arguments: the tag, the changes, the message.  */
static const char **
import_args (struct http_request *req, const char *repo_tag)
{
  const char *const *changes = http_query_all (req, "changes");
  const char *message = http_query (req, "message");
  size_t n = 0, i;
  const char **args;

  while (changes && changes[n])
    n++;
  args = calloc (2 * n + 6, sizeof (char *));
  if (args == NULL)
    return NULL;
  n = 0;
  args[n++] = "import";
  if (repo_tag)
    args[n++] = "--tag", args[n++] = repo_tag;
  for (i = 0; changes && changes[i]; i++)
    args[n++] = "--change", args[n++] = changes[i];
  if (message && *message)
    args[n++] = "--message", args[n++] = message;
  return args;
}

static void
handle_create (struct http_request *req, void *data)
{
  const char *from_image = http_query (req, "fromImage");
  const char *from_src = http_query (req, "fromSrc");
  const char *repo = http_query (req, "repo");
  cleanup_free char *repo_tag = NULL;
  cleanup_free const char **args = NULL;
  struct upload *u;

  if (from_image && *from_image)
    {
      /* A pull has no body to stream: take it whole, then pull.  */
      if (req->phase == HTTP_PHASE_HEADERS)
        return;
      api_pull_start (req, data, from_image, http_query (req, "tag"));
      return;
    }
  if (from_src == NULL || *from_src == '\0')
    {
      http_respond_error (req, 400, "fromImage or fromSrc is required");
      return;
    }
  if (strcmp (from_src, "-") != 0)
    {
      http_respond_error (req, 501, "importing from a URL is not supported: send the archive as the request body (fromSrc=-)");
      return;
    }
  repo_tag = repo && *repo ? join_repo_tag (repo, http_query (req, "tag")) : NULL;
  args = import_args (req, repo_tag);
  if ((repo && *repo && repo_tag == NULL) || args == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  u = upload_new (req, data);
  if (u == NULL)
    return;
  u->import = true;
  upload_start (u, args);
}

/* ---- save: GET /images/{name}/get, GET /images/get?names= ---- */

/* skiff-image writes the archive on its stdout, which streams to the
   client; an error before the first byte is a plain HTTP error.  */
struct save
{
  struct daemon *d;
  struct http_request *req;
  struct image_helper *helper; /* until it is done */
  bool started;                /* 200 and the first bytes sent */
};

static void
on_save_drain (struct http_request *req, void *data)
{
  struct save *s = data;
  if (s->helper)
    image_helper_resume_output (s->helper);
}

static void
on_save_output (const char *buf, size_t len, void *data)
{
  struct save *s = data;

  if (!s->started)
    {
      s->started = true;
      http_stream_begin (s->req, 200, "application/x-tar");
    }
  if (http_stream_write (s->req, buf, len) < 0)
    image_helper_drop_output (s->helper); /* the helper's next write fails */
  else if (http_stream_on_drain (s->req, on_save_drain, s))
    image_helper_pause_output (s->helper);
}

static void
on_save_client_gone (struct http_request *req, void *data)
{
  struct save *s = data;
  if (s->helper)
    image_helper_drop_output (s->helper);
}

static void
on_save_done (int status, const char *message, yajl_val result, void *data)
{
  struct save *s = data;
  yajl_val ids = json_get (result, "ids");
  size_t i;

  s->helper = NULL;
  http_request_on_close (s->req, NULL, NULL);
  if (status != 0 && !s->started)
    http_respond_error (s->req, status, "%s", message);
  else
    {
      if (status != 0 && http_request_closed (s->req))
        log_debug ("images: save ended with the client: %s", message);
      else if (status != 0)
        log_error ("images: save cut short: %s", message);
      else
        for (i = 0; ids && YAJL_IS_ARRAY (ids) && i < ids->u.array.len; i++)
          {
            const char *id = json_str_or (ids->u.array.values[i], "");
            const char *attrs[] = { "name", id, NULL };
            events_publish (s->d->events, "image", "save", id, attrs);
          }
      if (!s->started)
        http_stream_begin (s->req, 200, "application/x-tar");
      http_stream_end (s->req);
    }
  free (s);
}

static void
save_start (struct http_request *req, struct daemon *d, const char *const *names)
{
  struct save *s = calloc (1, sizeof (*s));
  cleanup_free const char **args = NULL;
  skiff_error_t err = NULL;
  size_t n = 0, i;

  while (names && names[n])
    n++;
  args = calloc (n + 3, sizeof (char *));
  if (s == NULL || args == NULL)
    {
      free (s);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  args[0] = "save";
  args[1] = "--";
  for (i = 0; i < n; i++)
    args[i + 2] = names[i];
  s->d = d;
  s->req = req;
  {
    struct image_helper_opts o = { .args = args, .on_output = on_save_output, .on_done = on_save_done, .data = s };
    if (image_helper_start (d, &o, &s->helper, &err) < 0)
      {
        log_error ("%s", err->msg);
        http_respond_error (req, 500, "%s", err->msg);
        skiff_error_release (&err);
        free (s);
        return;
      }
  }
  http_request_on_close (req, on_save_client_gone, s);
}

static void
handle_save_one (struct http_request *req, void *data)
{
  const char *names[] = { http_param (req, "name"), NULL };
  save_start (req, data, names);
}

static void
handle_save_many (struct http_request *req, void *data)
{
  const char *const *names = http_query_all (req, "names");
  if (names == NULL || names[0] == NULL)
    {
      http_respond_error (req, 400, "no images to save");
      return;
    }
  save_start (req, data, names);
}

int
api_images_register (struct router *r, skiff_error_t *err)
{
  if (router_add (r, "GET", "/images/json", handle_list, err) < 0
      || router_add_streaming (r, "POST", "/images/load", handle_load, err) < 0
      || router_add_streaming (r, "POST", "/images/create", handle_create, err) < 0
      || router_add (r, "GET", "/images/get", handle_save_many, err) < 0
      || router_add (r, "GET", "/images/{name*}/json", handle_inspect, err) < 0
      || router_add (r, "GET", "/images/{name*}/get", handle_save_one, err) < 0
      || router_add (r, "POST", "/images/{name*}/tag", handle_tag, err) < 0
      || router_add (r, "DELETE", "/images/{name*}", handle_remove, err) < 0 || api_push_register (r, err) < 0
      || api_auth_register (r, err) < 0)
    return -1;
  return 0;
}
