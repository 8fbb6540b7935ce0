/* Docker's event stream (/events): a ring of recent events for `since`,
   and the subscribers that stream new ones.  */
#ifndef SKIFF_DAEMON_EVENTS_H
#define SKIFF_DAEMON_EVENTS_H

#include <stdint.h>
#include "error.h"
#include "http.h"

struct events;

struct events *events_new (uv_loop_t *loop);
void events_free (struct events *e);

/* attrs: "key", "value", ..., NULL (name and image of a container).  */
void events_publish (struct events *e, const char *type, const char *action, const char *id, const char *const *attrs);

/* Serves GET /events on req (takes ownership): since/until in Unix
   seconds (fractions allowed), filters as Docker's JSON
   ({"type":["container"],"event":["start"],"container":["name-or-id"]}).  */
void events_serve (struct events *e, struct http_request *req);

/* Ends every subscription (daemon shutdown).  */
void events_close_all (struct events *e);

#endif
