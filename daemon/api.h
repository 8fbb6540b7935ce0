/* skiffd's Engine API v1.41 handlers, one group per file, each adding its
   routes to the router.  Every route's data is the struct daemon * given
   to router_new().  */
#ifndef SKIFF_DAEMON_API_H
#define SKIFF_DAEMON_API_H

#include "error.h"

struct router;
struct ctr;
struct http_request;

/* api_system.c: /_ping (GET, HEAD), /version, /info, /events.  */
int api_system_register (struct router *r, skiff_error_t *err);

/* api_images.c: /images/json, /images/load, /images/create (import),
   /images/get, /images/{name}/json|get|tag, DELETE /images/{name}.  */
int api_images_register (struct router *r, skiff_error_t *err);

/* api_image_prune.c: POST /images/prune.  */
int api_image_prune_register (struct router *r, skiff_error_t *err);

/* api_containers.c: /containers/...  */
int api_containers_register (struct router *r, skiff_error_t *err);

/* api_exec.c: /containers/{id}/exec, /exec/{id}/...  */
int api_exec_register (struct router *r, skiff_error_t *err);

/* api_push.c: POST /images/{name}/push (registered by api_images_register).  */
int api_push_register (struct router *r, skiff_error_t *err);

/* api_auth.c: POST /auth (registered by api_images_register).  */
int api_auth_register (struct router *r, skiff_error_t *err);

/* api_pull.c: POST /images/create?fromImage= (req at HTTP_PHASE_BODY).  */
struct daemon;
void api_pull_start (struct http_request *req, struct daemon *d, const char *from_image, const char *tag);

/* logs.c (see logs.h): GET /containers/{id}/logs for container c.  */
void logs_serve (struct ctr *c, struct http_request *req);

#endif
