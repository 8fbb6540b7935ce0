/* Image routes: list, inspect, load, import, save, tag, remove.

   The image store blocks, so every call runs in libuv's thread pool
   (uv_queue_work) and answers from the after-work callback on the loop.
   Uploads (load, import) stream the request body into a pipe whose read
   end the worker hands to the store; save streams the other way.  */
#include "api.h"
#include "cleanup.h"
#include "containers.h"
#include "daemon.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "router.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Upload back-pressure: pause reading the client above HIGH bytes queued
   for the pipe, resume below LOW.  */
#define UPLOAD_HIGH (1024 * 1024)
#define UPLOAD_LOW (256 * 1024)
#define PIPE_SIZE (1024 * 1024)

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

static char **
strv_copy (const char *const *v)
{
  size_t n = 0, i;
  char **out;
  while (v && v[n])
    n++;
  out = calloc (n + 1, sizeof (char *));
  for (i = 0; out && i < n; i++)
    if ((out[i] = strdup (v[i])) == NULL)
      {
        cleanup_strvp (&out);
        return NULL;
      }
  return out;
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

/* A pipe for streaming to or from a worker, big enough to keep it busy.  */
static int
make_pipe (int fds[2], skiff_error_t *err)
{
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return skiff_error_make (err, errno, "pipe");
  /* Only a hint: the default 64 KiB also works.  */
  (void) fcntl (fds[1], F_SETPIPE_SZ, PIPE_SIZE);
  return 0;
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

struct upload
{
  uv_work_t work;
  struct daemon *d;
  struct http_request *req;
  bool import;
  uv_pipe_t *pipe;    /* write end, on the loop; NULL once closed */
  int read_fd;        /* the worker's end; the worker closes it */
  unsigned writes;    /* uv_write in flight */
  bool paused;
  bool body_ended;    /* the last body callback came */
  bool client_gone;
  bool work_done;
  bool responded;
  /* import's parameters */
  char *repo_tag, *message;
  char **changes;
  /* results */
  int ret;
  skiff_error_t err;
  char **loaded;      /* load: "Loaded image: ..." lines */
  char **loaded_ids;  /* load: the image id of each line (NULL if unknown) */
  char *image_id;     /* import */
};

struct upload_write
{
  uv_write_t w;
  struct upload *u;
  char data[];
};

static void upload_step (struct upload *u);

static void
upload_free (struct upload *u)
{
  size_t i;
  for (i = 0; u->loaded && u->loaded[i]; i++)
    free (u->loaded_ids ? u->loaded_ids[i] : NULL);
  free (u->loaded_ids);
  cleanup_strvp (&u->loaded);
  cleanup_strvp (&u->changes);
  free (u->repo_tag);
  free (u->message);
  free (u->image_id);
  skiff_error_release (&u->err);
  if (u->read_fd >= 0)
    close (u->read_fd);
  free (u);
}

static void
upload_work (uv_work_t *w)
{
  struct upload *u = w->data;
  size_t i, n = 0;

  if (u->import)
    u->ret = image_import (u->d->images, u->read_fd, u->repo_tag, (const char *const *) u->changes, u->message,
                           &u->image_id, &u->err);
  else
    u->ret = image_load (u->d->images, u->read_fd, &u->loaded, &u->err);
  /* Closing our end makes the loop's pending writes fail (EPIPE) when the
     store stopped before the end of the body.  */
  close (u->read_fd);
  u->read_fd = -1;
  if (u->ret < 0 || u->import)
    return;
  while (u->loaded && u->loaded[n])
    n++;
  u->loaded_ids = calloc (n + 1, sizeof (char *));
  for (i = 0; u->loaded_ids && i < n; i++)
    {
      static const char tagged[] = "Loaded image: ", by_id[] = "Loaded image ID: ";
      skiff_error_t err = NULL;
      if (strncmp (u->loaded[i], by_id, sizeof (by_id) - 1) == 0)
        u->loaded_ids[i] = strdup (u->loaded[i] + sizeof (by_id) - 1);
      else if (strncmp (u->loaded[i], tagged, sizeof (tagged) - 1) == 0
               && image_resolve (u->d->images, u->loaded[i] + sizeof (tagged) - 1, &u->loaded_ids[i], &err) < 0)
        skiff_error_release (&err);
    }
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

static void
upload_respond (struct upload *u)
{
  cleanup_free char *body = NULL;
  size_t len = 0, i;
  int ret = 0;

  u->responded = true;
  if (u->ret < 0)
    {
      respond_image_error (u->req, u->ret, u->err);
      return;
    }
  if (u->import)
    {
      const char *attrs[] = { "name", u->image_id, NULL };
      events_publish (u->d->events, "image", "import", u->image_id, attrs);
      ret = append_message (&body, &len, "status", u->image_id);
    }
  for (i = 0; !u->import && ret == 0 && u->loaded && u->loaded[i]; i++)
    {
      cleanup_free char *text = NULL;
      if (u->loaded_ids && u->loaded_ids[i])
        {
          const char *attrs[] = { "name", u->loaded_ids[i], NULL };
          events_publish (u->d->events, "image", "load", u->loaded_ids[i], attrs);
        }
      ret = asprintf (&text, "%s\n", u->loaded[i]) < 0 ? -1 : append_message (&body, &len, "stream", text);
    }
  if (ret < 0)
    http_respond_error (u->req, 500, "out of memory");
  else
    http_respond (u->req, 200, "application/json", body ? body : "", len);
}

static void
on_upload_done (uv_work_t *w, int status)
{
  struct upload *u = w->data;
  u->work_done = true;
  if (status < 0 && u->ret == 0)
    u->ret = skiff_error_make (&u->err, 0, "upload: %s", uv_strerror (status));
  upload_step (u);
}

static void
on_pipe_closed (uv_handle_t *h)
{
  struct upload *u = h->data;
  free (h);
  u->pipe = NULL;
  upload_step (u);
}

/* Moves the upload on: closes the pipe when no more goes into it, answers
   when the store is done and the body is over, frees when all is done.  */
static void
upload_step (struct upload *u)
{
  bool body_over = u->body_ended || u->client_gone;

  if (u->pipe && !uv_is_closing ((uv_handle_t *) u->pipe)
      && (u->work_done || u->client_gone || (u->body_ended && u->writes == 0)))
    uv_close ((uv_handle_t *) u->pipe, on_pipe_closed);
  if (u->work_done && !body_over && u->paused)
    {
      /* The store is done before the body: take the rest and drop it, so
         that the client gets to read the answer.  */
      u->paused = false;
      http_request_resume_body (u->req);
    }
  if (u->work_done && body_over && !u->responded)
    upload_respond (u);
  if (u->responded && u->pipe == NULL && u->writes == 0)
    upload_free (u);
}

static void
on_upload_written (uv_write_t *w, int status)
{
  struct upload_write *uw = (struct upload_write *) w;
  struct upload *u = uw->u;

  free (uw);
  u->writes--;
  if (status < 0 && status != UV_ECANCELED && status != UV_EPIPE)
    log_debug ("images: upload pipe: %s", uv_strerror (status));
  if (u->paused && !u->responded && !u->client_gone && u->pipe
      && uv_stream_get_write_queue_size ((uv_stream_t *) u->pipe) < UPLOAD_LOW)
    {
      u->paused = false;
      http_request_resume_body (u->req);
    }
  upload_step (u);
}

static int
on_upload_body (struct http_request *req, const char *chunk, size_t len, bool end, void *data)
{
  struct upload *u = data;
  struct upload_write *uw;
  uv_buf_t buf;
  int ret;

  if (end)
    {
      u->body_ended = true;
      upload_step (u);
      return 0;
    }
  /* The store stopped reading: the rest is dropped.  */
  if (u->work_done || u->pipe == NULL || uv_is_closing ((uv_handle_t *) u->pipe))
    return 0;
  uw = malloc (sizeof (*uw) + len);
  if (uw == NULL)
    {
      /* Stop the upload: the store sees a cut archive and fails.  */
      log_error ("images: upload: out of memory");
      u->body_ended = true;
      upload_step (u);
      return -1;
    }
  uw->u = u;
  memcpy (uw->data, chunk, len);
  buf = uv_buf_init (uw->data, (unsigned) len);
  ret = uv_write (&uw->w, (uv_stream_t *) u->pipe, &buf, 1, on_upload_written);
  if (ret < 0)
    {
      free (uw);
      return 0; /* the worker closed its end; its result tells why */
    }
  u->writes++;
  if (uv_stream_get_write_queue_size ((uv_stream_t *) u->pipe) >= UPLOAD_HIGH)
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
  /* The pipe closes: the store sees a cut archive, fails, and the answer
     goes nowhere but frees the request.  */
  u->client_gone = true;
  upload_step (u);
}

/* Starts an upload at headers time; u has its parameters.  */
static void
upload_start (struct upload *u)
{
  skiff_error_t err = NULL;
  int fds[2], ret;

  u->read_fd = -1;
  u->work.data = u;
  if (make_pipe (fds, &err) < 0)
    {
      http_respond_error (u->req, 500, "%s", err->msg);
      skiff_error_release (&err);
      upload_free (u);
      return;
    }
  u->read_fd = fds[0];
  u->pipe = malloc (sizeof (*u->pipe));
  if (u->pipe == NULL)
    {
      close (fds[1]);
      http_respond_error (u->req, 500, "out of memory");
      upload_free (u);
      return;
    }
  uv_pipe_init (u->d->loop, u->pipe, 0);
  u->pipe->data = u;
  ret = uv_pipe_open (u->pipe, fds[1]);
  if (ret == 0)
    ret = uv_queue_work (u->d->loop, &u->work, upload_work, on_upload_done);
  if (ret < 0)
    {
      if (uv_fileno ((uv_handle_t *) u->pipe, &(uv_os_fd_t){ 0 }) != 0)
        close (fds[1]);
      http_respond_error (u->req, 500, "upload: %s", uv_strerror (ret));
      u->responded = true;
      u->work_done = true;
      uv_close ((uv_handle_t *) u->pipe, on_pipe_closed);
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
  u->read_fd = -1;
  return u;
}

static void
handle_load (struct http_request *req, void *data)
{
  /* `quiet` only hides progress bars, which skiff does not send.  */
  struct upload *u = upload_new (req, data);
  if (u)
    upload_start (u);
}

static void
handle_create (struct http_request *req, void *data)
{
  const char *from_image = http_query (req, "fromImage");
  const char *from_src = http_query (req, "fromSrc");
  const char *repo = http_query (req, "repo");
  const char *message = http_query (req, "message");
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
  u = upload_new (req, data);
  if (u == NULL)
    return;
  u->import = true;
  u->changes = strv_copy (http_query_all (req, "changes"));
  u->repo_tag = repo && *repo ? join_repo_tag (repo, http_query (req, "tag")) : NULL;
  u->message = message && *message ? strdup (message) : NULL;
  if (u->changes == NULL || (repo && *repo && u->repo_tag == NULL) || (message && *message && u->message == NULL))
    {
      http_respond_error (req, 500, "out of memory");
      upload_free (u);
      return;
    }
  upload_start (u);
}

static void
free_handle (uv_handle_t *h)
{
  free (h);
}

/* ---- save: GET /images/{name}/get, GET /images/get?names= ---- */

struct save
{
  uv_work_t work;
  struct daemon *d;
  struct http_request *req;
  char **names;
  char **ids;        /* for the events */
  int write_fd;      /* the worker's end; the worker closes it */
  uv_pipe_t *pipe;   /* read end on the loop; NULL once closed */
  bool started;      /* 200 and the first bytes sent */
  bool work_done, finished;
  int ret;
  skiff_error_t err;
};

static void save_step (struct save *s);
static void on_save_read (uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void
save_free (struct save *s)
{
  cleanup_strvp (&s->names);
  cleanup_strvp (&s->ids);
  skiff_error_release (&s->err);
  if (s->write_fd >= 0)
    close (s->write_fd);
  free (s);
}

static void
save_work (uv_work_t *w)
{
  struct save *s = w->data;
  size_t i, n = 0;

  s->ret = image_save (s->d->images, (const char *const *) s->names, s->write_fd, &s->err);
  close (s->write_fd); /* the loop's read sees EOF */
  s->write_fd = -1;
  if (s->ret < 0)
    return;
  while (s->names[n])
    n++;
  s->ids = calloc (n + 1, sizeof (char *));
  for (i = 0; s->ids && i < n; i++)
    {
      skiff_error_t err = NULL;
      if (image_resolve (s->d->images, s->names[i], &s->ids[i], &err) < 0)
        {
          skiff_error_release (&err);
          s->ids[i] = strdup (s->names[i]);
        }
    }
}

static void
on_save_done (uv_work_t *w, int status)
{
  struct save *s = w->data;
  s->work_done = true;
  if (status < 0 && s->ret == 0)
    s->ret = skiff_error_make (&s->err, 0, "save: %s", uv_strerror (status));
  save_step (s);
}

static void
on_save_pipe_closed (uv_handle_t *h)
{
  struct save *s = h->data;
  free (h);
  s->pipe = NULL;
  save_step (s);
}

static void
save_close_pipe (struct save *s)
{
  if (s->pipe && !uv_is_closing ((uv_handle_t *) s->pipe))
    uv_close ((uv_handle_t *) s->pipe, on_save_pipe_closed);
}

static void
save_step (struct save *s)
{
  size_t i;

  if (!s->work_done || s->pipe != NULL || s->finished)
    return;
  s->finished = true;
  if (s->ret < 0 && !s->started)
    respond_image_error (s->req, s->ret, s->err);
  else
    {
      if (s->ret < 0 && http_request_closed (s->req))
        log_debug ("images: save ended with the client: %s", s->err ? s->err->msg : "error");
      else if (s->ret < 0)
        log_error ("images: save cut short: %s", s->err ? s->err->msg : "error");
      else
        for (i = 0; s->ids && s->ids[i]; i++)
          {
            const char *attrs[] = { "name", s->ids[i], NULL };
            events_publish (s->d->events, "image", "save", s->ids[i], attrs);
          }
      if (!s->started)
        http_stream_begin (s->req, 200, "application/x-tar");
      http_stream_end (s->req);
    }
  save_free (s);
}

static void
save_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  buf->base = malloc (64 * 1024);
  buf->len = buf->base ? 64 * 1024 : 0;
}

static void
on_save_drain (struct http_request *req, void *data)
{
  struct save *s = data;
  if (s->pipe && !uv_is_closing ((uv_handle_t *) s->pipe))
    uv_read_start ((uv_stream_t *) s->pipe, save_alloc, on_save_read);
}

static void
on_save_read (uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
  struct save *s = st->data;

  if (n > 0)
    {
      if (!s->started)
        {
          s->started = true;
          http_stream_begin (s->req, 200, "application/x-tar");
        }
      if (http_stream_write (s->req, buf->base, (size_t) n) < 0)
        save_close_pipe (s); /* the worker's next write fails */
      else if (http_stream_on_drain (s->req, on_save_drain, s))
        uv_read_stop (st);
    }
  else if (n < 0)
    {
      if (n != UV_EOF)
        log_error ("images: save pipe: %s", uv_strerror ((int) n));
      save_close_pipe (s);
    }
  free (buf->base);
}

static void
on_save_client_gone (struct http_request *req, void *data)
{
  save_close_pipe (data);
}

static void
save_start (struct http_request *req, struct daemon *d, char **names)
{
  struct save *s = calloc (1, sizeof (*s));
  skiff_error_t err = NULL;
  int fds[2], ret;

  if (s == NULL || names == NULL)
    {
      free (s);
      cleanup_strvp (&names);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  s->d = d;
  s->req = req;
  s->names = names;
  s->write_fd = -1;
  s->work.data = s;
  if (make_pipe (fds, &err) < 0)
    {
      http_respond_error (req, 500, "%s", err->msg);
      skiff_error_release (&err);
      save_free (s);
      return;
    }
  s->write_fd = fds[1];
  s->pipe = malloc (sizeof (*s->pipe));
  if (s->pipe == NULL)
    {
      close (fds[0]);
      http_respond_error (req, 500, "out of memory");
      save_free (s);
      return;
    }
  uv_pipe_init (d->loop, s->pipe, 0);
  s->pipe->data = s;
  ret = uv_pipe_open (s->pipe, fds[0]);
  if (ret == 0)
    ret = uv_read_start ((uv_stream_t *) s->pipe, save_alloc, on_save_read);
  if (ret == 0)
    ret = uv_queue_work (d->loop, &s->work, save_work, on_save_done);
  if (ret < 0)
    {
      /* Nothing runs yet: answer, then let the close callback free.  */
      if (uv_fileno ((uv_handle_t *) s->pipe, &(uv_os_fd_t){ 0 }) != 0)
        close (fds[0]);
      http_respond_error (req, 500, "save: %s", uv_strerror (ret));
      s->finished = true;
      uv_close ((uv_handle_t *) s->pipe, free_handle);
      s->pipe = NULL;
      save_free (s);
      return;
    }
  http_request_on_close (req, on_save_client_gone, s);
}

static void
handle_save_one (struct http_request *req, void *data)
{
  const char *names[] = { http_param (req, "name"), NULL };
  save_start (req, data, strv_copy (names));
}

static void
handle_save_many (struct http_request *req, void *data)
{
  save_start (req, data, strv_copy (http_query_all (req, "names")));
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
