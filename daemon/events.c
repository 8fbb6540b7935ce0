#include "events.h"
#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_KEPT 256

struct event
{
  char *type, *action, *id;
  char **attrs;
  int64_t time_nano;
  char *json; /* one line, with the trailing newline */
};

struct subscriber
{
  struct events *e;
  struct http_request *req;
  struct subscriber *next;
  yajl_val filters;
  int64_t until_nano; /* 0: none */
  uv_timer_t *timer;  /* ends the stream at `until` */
  bool done;
};

struct events
{
  uv_loop_t *loop;
  struct event ring[EVENTS_KEPT];
  size_t head, count;
  struct subscriber *subs;
};

struct events *
events_new (uv_loop_t *loop)
{
  struct events *e = calloc (1, sizeof (*e));
  if (e)
    e->loop = loop;
  return e;
}

static void
event_clear (struct event *ev)
{
  free (ev->type);
  free (ev->action);
  free (ev->id);
  cleanup_strvp (&ev->attrs);
  free (ev->json);
  memset (ev, 0, sizeof (*ev));
}

static int64_t
now_nano (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *
event_json (const struct event *ev)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  char *text, *line = NULL;
  size_t i;

  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  if (strcmp (ev->type, "container") == 0 || strcmp (ev->type, "image") == 0)
    {
      /* Docker still sends these older fields for containers and images.  */
      json_gen_kv_str (g, "status", ev->action);
      json_gen_kv_str (g, "id", ev->id);
      for (i = 0; ev->attrs && ev->attrs[i]; i += 2)
        if (strcmp (ev->attrs[i], "image") == 0)
          json_gen_kv_str (g, "from", ev->attrs[i + 1]);
    }
  json_gen_kv_str (g, "Type", ev->type);
  json_gen_kv_str (g, "Action", ev->action);
  json_gen_str (g, "Actor");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "ID", ev->id);
  json_gen_str (g, "Attributes");
  yajl_gen_map_open (g);
  for (i = 0; ev->attrs && ev->attrs[i] && ev->attrs[i + 1]; i += 2)
    json_gen_kv_str (g, ev->attrs[i], ev->attrs[i + 1]);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  json_gen_kv_str (g, "scope", "local");
  json_gen_kv_int (g, "time", ev->time_nano / 1000000000);
  json_gen_kv_int (g, "timeNano", ev->time_nano);
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text == NULL || asprintf (&line, "%s\n", text) < 0)
    line = NULL;
  free (text);
  return line;
}

/* Docker's filters: every key given must match one of its values.  */
static bool
filter_key_matches (yajl_val filters, const char *key, const char *const *candidates)
{
  yajl_val v = json_get (filters, key);
  size_t i, j;
  if (v == NULL)
    return true;
  if (YAJL_IS_OBJECT (v))
    {
      /* The old map form: {"type":{"container":true}} */
      for (i = 0; i < v->u.object.len; i++)
        for (j = 0; candidates[j]; j++)
          if (strcmp (v->u.object.keys[i], candidates[j]) == 0)
            return true;
      return false;
    }
  if (!YAJL_IS_ARRAY (v))
    return true;
  for (i = 0; i < v->u.array.len; i++)
    for (j = 0; candidates[j]; j++)
      if (YAJL_IS_STRING (v->u.array.values[i]) && strcmp (v->u.array.values[i]->u.string, candidates[j]) == 0)
        return true;
  return false;
}

static const char *
attr (const struct event *ev, const char *key)
{
  size_t i;
  for (i = 0; ev->attrs && ev->attrs[i] && ev->attrs[i + 1]; i += 2)
    if (strcmp (ev->attrs[i], key) == 0)
      return ev->attrs[i + 1];
  return NULL;
}

static bool
event_matches (const struct event *ev, yajl_val filters)
{
  const char *name = attr (ev, "name");
  const char *image = attr (ev, "image");
  char short_id[13];
  const char *type[] = { ev->type, NULL };
  const char *action[] = { ev->action, NULL };
  const char *container[] = { ev->id, short_id, name ? name : "", NULL };
  const char *img[] = { image ? image : ev->id, ev->id, NULL };

  if (filters == NULL)
    return true;
  snprintf (short_id, sizeof (short_id), "%.12s", ev->id);
  if (!filter_key_matches (filters, "type", type) || !filter_key_matches (filters, "event", action))
    return false;
  if (json_get (filters, "container") && (strcmp (ev->type, "container") != 0 || !filter_key_matches (filters, "container", container)))
    return false;
  if (json_get (filters, "image") && !filter_key_matches (filters, "image", img))
    return false;
  return true;
}

static void
subscriber_free_timer (uv_handle_t *h)
{
  free (h);
}

static void
subscriber_finish (struct subscriber *s)
{
  struct subscriber **pp;
  if (s->done)
    return;
  s->done = true;
  for (pp = &s->e->subs; *pp; pp = &(*pp)->next)
    if (*pp == s)
      {
        *pp = s->next;
        break;
      }
  if (s->timer)
    uv_close ((uv_handle_t *) s->timer, subscriber_free_timer);
  http_stream_end (s->req);
  if (s->filters)
    yajl_tree_free (s->filters);
  free (s);
}

void
events_publish (struct events *e, const char *type, const char *action, const char *id, const char *const *attrs)
{
  struct event *ev;
  struct subscriber *s, *next;
  size_t n = 0, i;

  if (e == NULL)
    return;
  ev = &e->ring[(e->head + e->count) % EVENTS_KEPT];
  if (e->count == EVENTS_KEPT)
    {
      ev = &e->ring[e->head];
      e->head = (e->head + 1) % EVENTS_KEPT;
    }
  else
    e->count++;
  event_clear (ev);
  ev->type = strdup (type);
  ev->action = strdup (action);
  ev->id = strdup (id ? id : "");
  while (attrs && attrs[n])
    n++;
  ev->attrs = calloc (n + 1, sizeof (char *));
  for (i = 0; ev->attrs && i < n; i++)
    ev->attrs[i] = strdup (attrs[i]);
  ev->time_nano = now_nano ();
  ev->json = event_json (ev);
  if (ev->json == NULL)
    return;
  for (s = e->subs; s; s = next)
    {
      next = s->next;
      if (s->until_nano && ev->time_nano > s->until_nano)
        continue;
      if (event_matches (ev, s->filters) && http_stream_write (s->req, ev->json, strlen (ev->json)) < 0)
        subscriber_finish (s);
    }
}

static int64_t
parse_time (const char *s)
{
  char *end;
  double v;
  if (s == NULL || *s == '\0')
    return 0;
  v = strtod (s, &end);
  if (*end != '\0' || v < 0)
    return -1;
  return (int64_t) (v * 1e9);
}

static void
on_client_gone (struct http_request *req, void *data)
{
  subscriber_finish (data);
}

static void
on_until (uv_timer_t *t)
{
  subscriber_finish (t->data);
}

void
events_serve (struct events *e, struct http_request *req)
{
  struct subscriber *s;
  int64_t since = parse_time (http_query (req, "since"));
  int64_t until = parse_time (http_query (req, "until"));
  const char *filters = http_query (req, "filters");
  int64_t now = now_nano ();
  size_t i;

  if (since < 0 || until < 0)
    {
      http_respond_error (req, 400, "invalid since or until: use Unix seconds");
      return;
    }
  s = calloc (1, sizeof (*s));
  if (s == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  s->e = e;
  s->req = req;
  s->until_nano = until;
  if (filters && *filters && json_parse (filters, &s->filters, NULL) < 0)
    {
      free (s);
      http_respond_error (req, 400, "invalid filters: %s", filters);
      return;
    }
  http_stream_begin (req, 200, "application/json");
  s->next = e->subs;
  e->subs = s;
  http_request_on_close (req, on_client_gone, s);
  /* Past events first, when asked for.  */
  if (since || until)
    for (i = 0; i < e->count; i++)
      {
        struct event *ev = &e->ring[(e->head + i) % EVENTS_KEPT];
        if (ev->time_nano < since || (until && ev->time_nano > until) || ev->json == NULL)
          continue;
        if (event_matches (ev, s->filters))
          http_stream_write (req, ev->json, strlen (ev->json));
      }
  if (until)
    {
      if (until <= now)
        {
          subscriber_finish (s);
          return;
        }
      s->timer = malloc (sizeof (uv_timer_t));
      if (s->timer)
        {
          uv_timer_init (e->loop, s->timer);
          s->timer->data = s;
          uv_timer_start (s->timer, on_until, (uint64_t) ((until - now) / 1000000) + 1, 0);
        }
    }
}

void
events_close_all (struct events *e)
{
  while (e && e->subs)
    subscriber_finish (e->subs);
}

void
events_free (struct events *e)
{
  size_t i;
  if (e == NULL)
    return;
  events_close_all (e);
  for (i = 0; i < EVENTS_KEPT; i++)
    event_clear (&e->ring[i]);
  free (e);
}
