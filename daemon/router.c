/* skiffd's router: a list of routes matched segment by segment.  */

#include "router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"

enum seg_kind
{
  SEG_LITERAL,
  SEG_PARAM, /* {name}: one segment */
  SEG_REST   /* {name*}: one or more segments */
};

struct seg
{
  enum seg_kind kind;
  char *text; /* the literal, or the parameter's name */
};

struct route
{
  char *method;
  char *pattern;
  struct seg *segs;
  size_t n_segs;
  route_fn fn;
  bool streaming;
};

struct router
{
  void *data;
  struct route *routes;
  size_t n_routes;
};

/* A segment of the request path: [off, off + len) of the path.  */
struct span
{
  size_t off, len;
};

#define MAX_SEGS 64

struct router *
router_new (void *data)
{
  struct router *r = calloc (1, sizeof (*r));
  if (r)
    r->data = data;
  return r;
}

static void
route_clear (struct route *rt)
{
  size_t i;
  for (i = 0; i < rt->n_segs; i++)
    free (rt->segs[i].text);
  free (rt->segs);
  free (rt->method);
  free (rt->pattern);
}

void
router_free (struct router *r)
{
  size_t i;
  if (r == NULL)
    return;
  for (i = 0; i < r->n_routes; i++)
    route_clear (&r->routes[i]);
  free (r->routes);
  free (r);
}

/* Parses pattern into rt->segs.  */
static int
parse_pattern (struct route *rt, const char *pattern, skiff_error_t *err)
{
  const char *p = pattern + 1;
  bool rest_seen = false;

  if (pattern[0] != '/')
    return skiff_error_make (err, 0, "route pattern `%s`: not an absolute path", pattern);
  while (*p)
    {
      const char *end = strchrnul (p, '/');
      size_t len = end - p;
      struct seg *segs, *s;

      if (rt->n_segs >= MAX_SEGS)
        return skiff_error_make (err, 0, "route pattern `%s`: too many segments", pattern);
      segs = realloc (rt->segs, (rt->n_segs + 1) * sizeof (*segs));
      if (segs == NULL)
        return skiff_error_make (err, ENOMEM, "route pattern `%s`", pattern);
      rt->segs = segs;
      s = &segs[rt->n_segs];
      s->kind = SEG_LITERAL;
      s->text = NULL;
      if (len >= 2 && p[0] == '{' && p[len - 1] == '}')
        {
          s->kind = SEG_PARAM;
          p++;
          len -= 2;
          if (len > 0 && p[len - 1] == '*')
            {
              s->kind = SEG_REST;
              len--;
              if (rest_seen)
                return skiff_error_make (err, 0, "route pattern `%s`: more than one {name*}", pattern);
              rest_seen = true;
            }
          if (len == 0)
            return skiff_error_make (err, 0, "route pattern `%s`: parameter without a name", pattern);
        }
      if (memchr (p, '{', len) || memchr (p, '}', len))
        return skiff_error_make (err, 0, "route pattern `%s`: bad parameter syntax", pattern);
      s->text = strndup (p, len);
      if (s->text == NULL)
        return skiff_error_make (err, ENOMEM, "route pattern `%s`", pattern);
      rt->n_segs++;
      p = *end ? end + 1 : end;
    }
  return 0;
}

static int
add (struct router *r, const char *method, const char *pattern, route_fn fn, bool streaming,
     skiff_error_t *err)
{
  struct route rt = { 0 };
  struct route *routes;

  rt.fn = fn;
  rt.streaming = streaming;
  rt.method = strdup (method);
  rt.pattern = strdup (pattern);
  if (rt.method == NULL || rt.pattern == NULL)
    {
      route_clear (&rt);
      return skiff_error_make (err, ENOMEM, "add route %s `%s`", method, pattern);
    }
  if (parse_pattern (&rt, pattern, err) < 0)
    {
      route_clear (&rt);
      return -1;
    }
  routes = realloc (r->routes, (r->n_routes + 1) * sizeof (*routes));
  if (routes == NULL)
    {
      route_clear (&rt);
      return skiff_error_make (err, ENOMEM, "add route %s `%s`", method, pattern);
    }
  r->routes = routes;
  r->routes[r->n_routes++] = rt;
  return 0;
}

int
router_add (struct router *r, const char *method, const char *pattern, route_fn fn, skiff_error_t *err)
{
  return add (r, method, pattern, fn, false, err);
}

int
router_add_streaming (struct router *r, const char *method, const char *pattern, route_fn fn,
                      skiff_error_t *err)
{
  return add (r, method, pattern, fn, true, err);
}

/* Splits path into segments; -1 when there are too many to route.  */
static int
split_path (const char *path, struct span *spans, size_t *n)
{
  const char *p = path + 1;

  *n = 0;
  if (path[0] != '/')
    return -1;
  while (*p)
    {
      const char *end = strchrnul (p, '/');
      if (*n >= MAX_SEGS)
        return -1;
      spans[*n].off = p - path;
      spans[*n].len = end - p;
      (*n)++;
      /* "/a/" has an empty last segment, which matches nothing.  */
      p = *end ? end + 1 : end;
      if (*end && *p == '\0')
        {
          if (*n >= MAX_SEGS)
            return -1;
          spans[*n].off = p - path;
          spans[*n].len = 0;
          (*n)++;
        }
    }
  return 0;
}

/* Whether rt matches the path; caps[i] receives the span of segs[i].  */
static bool
route_match (const struct route *rt, const char *path, const struct span *spans, size_t n,
             struct span *caps)
{
  size_t si, pi = 0;

  for (si = 0; si < rt->n_segs; si++)
    {
      const struct seg *s = &rt->segs[si];
      size_t take = 1;

      if (s->kind == SEG_REST)
        {
          /* Everything but what the fixed segments after it need.  */
          size_t after = rt->n_segs - si - 1;
          if (n < pi + after + 1)
            return false;
          take = n - pi - after;
        }
      if (pi + take > n)
        return false;
      if (s->kind == SEG_LITERAL)
        {
          if (spans[pi].len != strlen (s->text) || memcmp (path + spans[pi].off, s->text, spans[pi].len) != 0)
            return false;
        }
      else if (spans[pi].len == 0 || spans[pi + take - 1].len == 0)
        return false;
      caps[si].off = spans[pi].off;
      caps[si].len = spans[pi + take - 1].off + spans[pi + take - 1].len - spans[pi].off;
      pi += take;
    }
  return pi == n;
}

/* Puts the parameters of rt into req->params.  */
static int
set_params (struct http_request *req, const struct route *rt, const struct span *caps)
{
  size_t i, n = 0;
  char **v;

  cleanup_strvp (&req->params);
  req->params = NULL;
  v = calloc (2 * rt->n_segs + 1, sizeof (char *));
  if (v == NULL)
    return -1;
  req->params = v;
  for (i = 0; i < rt->n_segs; i++)
    {
      if (rt->segs[i].kind == SEG_LITERAL)
        continue;
      v[n] = strdup (rt->segs[i].text);
      v[n + 1] = strndup (req->path + caps[i].off, caps[i].len);
      if (v[n] == NULL || v[n + 1] == NULL)
        return -1;
      n += 2;
    }
  return 0;
}

const char *
http_param (const struct http_request *req, const char *name)
{
  char **kv;
  for (kv = req->params; kv && kv[0] && kv[1]; kv += 2)
    if (strcmp (kv[0], name) == 0)
      return kv[1];
  return NULL;
}

static void
respond_not_allowed (struct router *r, struct http_request *req, const struct span *spans, size_t n)
{
  struct span caps[MAX_SEGS];
  const char *seen[32];
  char allow[256] = "";
  size_t i, j, n_seen = 0, len = 0;

  for (i = 0; i < r->n_routes && n_seen < sizeof (seen) / sizeof (seen[0]); i++)
    {
      const struct route *rt = &r->routes[i];
      int w;

      if (!route_match (rt, req->path, spans, n, caps))
        continue;
      for (j = 0; j < n_seen && strcmp (seen[j], rt->method) != 0; j++)
        ;
      if (j < n_seen)
        continue;
      seen[n_seen++] = rt->method;
      w = snprintf (allow + len, sizeof (allow) - len, "%s%s", len ? ", " : "", rt->method);
      if (w < 0 || (size_t) w >= sizeof (allow) - len)
        break;
      len += (size_t) w;
    }
  http_response_add_header (req, "Allow", allow);
  http_respond_error (req, 405, "method %s not allowed on %s", req->method, req->path);
}

void
router_dispatch (struct http_request *req, void *data)
{
  struct router *r = data;
  struct span spans[MAX_SEGS], caps[MAX_SEGS];
  const struct route *hit = NULL;
  bool path_known = false;
  size_t i, n = 0;

  if (split_path (req->path, spans, &n) < 0)
    {
      if (req->phase == HTTP_PHASE_BODY)
        http_respond_error (req, 404, "page not found");
      return;
    }
  for (i = 0; i < r->n_routes; i++)
    {
      const struct route *rt = &r->routes[i];
      if (!route_match (rt, req->path, spans, n, caps))
        continue;
      path_known = true;
      if (strcmp (rt->method, req->method) == 0)
        {
          hit = rt;
          break;
        }
    }

  if (req->phase == HTTP_PHASE_HEADERS && (hit == NULL || !hit->streaming))
    return; /* everything else is answered once the body is in */
  if (hit == NULL)
    {
      if (path_known)
        respond_not_allowed (r, req, spans, n);
      else
        http_respond_error (req, 404, "page not found");
      return;
    }
  if (set_params (req, hit, caps) < 0)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  hit->fn (req, r->data);
}
