/* skiffd's router: method + path pattern -> handler, for the HTTP server.

   Patterns are absolute paths whose segments are literals or parameters:
     {id}     one non-empty segment:            /containers/{id}/json
     {name*}  one or more segments, slashes included, up to the fixed
              segments that follow (greedy, like dockerd's `{name:.*}`):
              /images/{name*}/json matches /images/localhost:5000/ns/alpine/json
              with name = "localhost:5000/ns/alpine"
   A `{name*}` may appear once per pattern.  Paths are matched after the
   server removed the "/v1.NN" prefix and URL-decoding.

   The first route, in the order added, that matches method and path wins.
   No match for the path: 404 {"message":"page not found"}; a match for
   the path with other methods only: 405 with an Allow header.  */
#ifndef SKIFF_DAEMON_ROUTER_H
#define SKIFF_DAEMON_ROUTER_H

#include "error.h"
#include "http.h"

struct router;

/* A route's handler; data is the router's (router_new).  It follows the
   rules of http.h: it owns req and must finish it.  */
typedef void (*route_fn) (struct http_request *req, void *data);

struct router *router_new (void *data);
void router_free (struct router *r);

/* Normal routes are called once the whole body is read
   (req->phase == HTTP_PHASE_BODY).  */
int router_add (struct router *r, const char *method, const char *pattern, route_fn fn,
                skiff_error_t *err);
/* Streaming routes are called at headers time (req->phase ==
   HTTP_PHASE_HEADERS) and should call http_request_stream_body() or
   respond; one that does neither is called again with the whole body.  */
int router_add_streaming (struct router *r, const char *method, const char *pattern, route_fn fn,
                          skiff_error_t *err);

/* The server's handler: http_server_listen (..., router_dispatch, router, ...).  */
void router_dispatch (struct http_request *req, void *router);

/* A path parameter of the matched route ("id" for {id}), or NULL.  */
const char *http_param (const struct http_request *req, const char *name);

#endif
