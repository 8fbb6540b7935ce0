/* HTTP client for the skiff (Docker Engine API v1.41) socket: one unix
   socket connection per request, answers parsed with libhttp-parser, JSON
   in and out.  (libcurl cost the CLI ~30 ms of dynamic loading per run.)  */
#ifndef SKIFF_CLI_CLIENT_H
#define SKIFF_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>
#include "error.h"

#define SKIFF_API_VERSION "1.41"
#define SKIFF_DEFAULT_HOST "unix:///run/skiff/skiff.sock"

struct skiff_client
{
  char *host;         /* as given: unix:///path */
  char *socket_path;  /* the path part */
  /* Sent as X-Registry-Auth when not NULL (pull, push); the caller owns
     it and clears it after the request.  */
  const char *registry_auth;
};

struct client_response
{
  long status;
  char *body;  /* NUL-terminated */
  size_t len;
};

/* Accepts "unix:///path" (or a bare absolute path).  */
int client_init (struct skiff_client *c, const char *host, skiff_error_t *err);
void client_release (struct skiff_client *c);
void client_response_release (struct client_response *r);

/* One request; path is below /v1.41 (e.g. "/containers/json").  A body
   (may be NULL) is sent with content_type.  Any HTTP status is returned in
   r; only transport failures are errors.  */
int client_do (struct skiff_client *c, const char *method, const char *path, const char *content_type,
               const void *body, size_t body_len, struct client_response *r, skiff_error_t *err);

/* Like client_do, but a status >= 400 becomes the error
   "Error response from daemon: <message>", and a 2xx JSON answer is parsed
   into *out (when out is not NULL and the body is not empty).  */
int client_json (struct skiff_client *c, const char *method, const char *path, const char *json_body,
                 yajl_val *out, skiff_error_t *err);

/* Streams the answer body to fn as it arrives (logs -f, load, import).
   body_fd >= 0 is sent as the request body (chunked unless it is a
   regular file).  A status >= 400 is read whole and becomes an error.  */
typedef int (*client_data_fn) (const char *data, size_t len, void *opaque);
int client_stream (struct skiff_client *c, const char *method, const char *path, const char *content_type,
                   int body_fd, client_data_fn fn, void *opaque, skiff_error_t *err);

/* The message of a Docker error body ({"message": ...} or plain text),
   as "Error response from daemon: <message>".  malloc'd.  */
char *client_error_text (long status, const char *body, size_t len);
/* Sets *err from a failed response and returns -1.  */
int client_error_from_response (const struct client_response *r, skiff_error_t *err);

/* Percent-encodes s for a query value or a path element.  malloc'd.  */
char *client_escape (const char *s);

/* Docker's message when the socket cannot be reached.  */
int client_connect_error (const struct skiff_client *c, skiff_error_t *err);

/* A connected socket to the daemon, or -1 with Docker's message.  */
int client_connect (const char *socket_path, skiff_error_t *err);

/* The request line and headers up to the blank line.  extra_headers:
   "Name: value\r\n" lines or NULL.  content_length < 0: none is sent;
   CLIENT_CHUNKED: "Transfer-Encoding: chunked".  malloc'd, NULL when out
   of memory.  */
#define CLIENT_CHUNKED (-2)
char *client_request_head (const char *method, const char *path, const char *extra_headers, long long content_length,
                           size_t *len);

#endif
