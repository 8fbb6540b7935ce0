/* Pulling images from Docker Registry HTTP API V2 servers.

   The first part is what the daemon calls (image_pull); the second is the
   registry client that pull.c drives (endpoints, authentication, manifest
   and blob requests), kept separate so that push can reuse it.  */
#ifndef SKIFF_IMAGE_REGISTRY_H
#define SKIFF_IMAGE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <curl/curl.h>
#include "error.h"
#include "store.h"

/* ---- pull ---- */

/* Progress of a pull, in the words of Docker's JSON progress stream.

   Per layer, id is the short layer digest (12 hex digits) and status one
   of "Pulling fs layer", "Waiting" (another pull is downloading that
   blob), "Downloading" (current/total bytes), "Verifying Checksum",
   "Download complete", "Extracting" (current/total bytes), "Pull
   complete", "Already exists".

   Per pull: id = the tag or digest and status "Pulling from
   library/alpine" first; then, with id NULL, "Digest: sha256:..." and
   "Status: Downloaded newer image for alpine:latest" or "Status: Image is
   up to date for alpine:latest".

   current and total are 0 when they mean nothing.  Called from the
   pulling thread.  */
typedef void (*pull_progress_fn) (void *data, const char *id, const char *status, int64_t current, int64_t total);

struct pull_opts
{
  /* Base URLs ("https://mirror.example.com", "http://10.0.0.5:5000"),
     tried in order before the origin, for docker.io images only; a mirror
     that fails in any way is skipped, as Docker's registry-mirrors.
     NULL-terminated; NULL for none.  */
  const char *const *mirrors;
  /* Registries that may be reached without TLS verification and then
     over plain HTTP: "host", "host:port" or an IPv4 CIDR "10.0.0.0/8"
     matched against an IP literal host.  Loopback (127.0.0.0/8,
     localhost, ::1) is always insecure.  NULL-terminated; NULL for none.  */
  const char *const *insecure;
  /* Credentials for the reference's registry (and its mirrors); NULL
     for anonymous pulls.  */
  const char *username;
  const char *password;
  /* The origin of docker.io images; NULL means
     "https://registry-1.docker.io".  For air-gapped hosts and test beds.  */
  const char *docker_io_url;
  /* "os/architecture[/variant]" to pick from a list or index; NULL for
     the host's.  */
  const char *platform;
  pull_progress_fn progress; /* may be NULL */
  void *data;
};

/* `docker pull REF`: resolves the tag (or digest) to a manifest, picks
   linux/<host architecture> from a list or index, downloads the config
   and the layers the store lacks (concurrently, each verified against its
   digest; interrupted downloads resume), unpacks and commits them like
   `docker load`, and points the tag and the digest reference
   (name@sha256:<manifest digest>, Docker's RepoDigests) at the image.

   Blocks; run it in a worker thread.  *image_id: "sha256:<hex>".

   Returns 0, IMAGE_ERR_INVALID ("invalid reference format"),
   IMAGE_ERR_NOT_FOUND ("pull access denied for alpine, repository does
   not exist or may require 'docker login': ...", "manifest for
   alpine:nope not found: manifest unknown: manifest unknown", "no
   matching manifest for linux/amd64 in the manifest list entries") or
   IMAGE_ERR (network, registry, digest mismatch, disk).  */
int image_pull (struct image_store *s, const char *ref, const struct pull_opts *o, char **image_id,
                skiff_error_t *err);

/* `docker login`: checks username and password against the registry of
   server ("https://index.docker.io/v1/", "host:5000", "http://host:5000"):
   GET /v2/ with Basic auth or a Bearer token fetched with them.  Returns
   0, REGISTRY_ERR_DENIED with Docker's "login attempt to URL/v2/ failed
   with status: 401 Unauthorized" or the token server's refusal, or
   another negative status (network).  */
int registry_login (const char *server, const char *username, const char *password, const char *const *insecure,
                    const char *docker_io_url, skiff_error_t *err);

/* ---- registry client (internal to image/) ---- */

enum registry_status
{
  REGISTRY_ERR_TRANSPORT = -10, /* no HTTP answer: connect, TLS, reset, timeout */
  REGISTRY_ERR_REMOTE = -11,    /* the registry answered with an error */
  REGISTRY_ERR_DENIED = -12,    /* 401/403 with the credentials we have */
  REGISTRY_ERR_NOT_FOUND = -13, /* 404: MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN */
  REGISTRY_RETRY = -14,         /* registry_blob_done: try again from where it stopped */
};

/* One way to reach a registry.  */
struct registry_endpoint
{
  char *url;          /* "https://registry-1.docker.io", no trailing slash */
  bool mirror;        /* any failure moves on to the next endpoint */
  bool tls_verify;    /* false for insecure registries reached over https */
  bool http_fallback; /* a transport failure moves on to the next (http) endpoint */
};

/* The endpoints to try for a registry domain, in order.  */
int registry_endpoints (const char *domain, const struct pull_opts *o, struct registry_endpoint **out, size_t *n,
                        skiff_error_t *err);
void registry_endpoints_free (struct registry_endpoint *v, size_t n);

/* True for hosts skiff may talk to without TLS (loopback or listed).  */
bool registry_is_insecure (const char *domain, const char *const *insecure);

/* Authentication state of one client: the scheme the registry asked for
   and, for Bearer, the current token (registry_auth.c).  */
enum registry_auth_scheme
{
  REGISTRY_AUTH_NONE,
  REGISTRY_AUTH_BASIC,
  REGISTRY_AUTH_BEARER,
};

struct registry_auth
{
  enum registry_auth_scheme scheme;
  char *realm;    /* Bearer: token endpoint */
  char *service;  /* Bearer: "registry.docker.io" */
  char *scope;    /* "repository:library/alpine:pull" */
  char *username; /* NULL for anonymous */
  char *password;
  char *header;   /* "Authorization: ..." to send, NULL for none */
  time_t expires; /* Bearer: when the token must be renewed */
  bool plain_http_ok; /* the registry itself is reached over http */
  bool tls_verify;
};

/* Records the challenge of a 401 answer (the WWW-Authenticate value).
   Unknown schemes leave the state as it was.  */
int registry_auth_challenge (struct registry_auth *a, const char *www_authenticate, skiff_error_t *err);

/* The Authorization header line for the next request (NULL when none is
   needed), fetching a Bearer token when there is none or it expired.  */
int registry_auth_header (struct registry_auth *a, const char **header, skiff_error_t *err);

/* After a 401 to a request that carried *header: drops the token and
   tells whether a retry can do better (1) or not (0).  */
int registry_auth_refresh (struct registry_auth *a, const char *www_authenticate, skiff_error_t *err);

void registry_auth_clear (struct registry_auth *a);

/* libcurl's global set-up (TLS libraries, their configuration), done once
   per process; every client does it on first use, a spare skiff-image
   before it waits for its command.  */
int registry_global_init (skiff_error_t *err);

/* A client for one repository on one endpoint.  */
struct registry_client;

int registry_client_new (const struct registry_endpoint *ep, const char *repo, const char *username,
                         const char *password, struct registry_client **out, skiff_error_t *err);
void registry_client_free (struct registry_client *c);

static inline void
cleanup_registry_clientp (struct registry_client **c)
{
  if (*c)
    registry_client_free (*c);
}
#define cleanup_registry_client __attribute__ ((cleanup (cleanup_registry_clientp)))

const char *registry_client_url (struct registry_client *c);

/* Replaces the token scope (by default "repository:REPO:pull"); several
   scopes are separated by spaces: "repository:a:pull,push
   repository:b:pull".  */
int registry_client_set_scope (struct registry_client *c, const char *scope, skiff_error_t *err);



/* GET /v2/: checks the API version and learns the auth challenge.  */
int registry_ping (struct registry_client *c, skiff_error_t *err);

struct registry_response
{
  long status;
  char *reason; /* "404 Not Found" */
  char *body;   /* NUL-terminated; NULL for HEAD */
  size_t len;
  char *content_type;
  char *digest; /* Docker-Content-Digest, NULL when absent */
  char *www_authenticate;
  char *content_range;
  char *location;
};
void registry_response_clear (struct registry_response *r);

/* Docker's text for an error answer: "manifest unknown: manifest
   unknown" from the registry's {"errors":[...]}, else "received
   unexpected HTTP status: 500 Internal Server Error".  malloc'd.  */
char *registry_error_text (const struct registry_response *r);

/* A request body: len bytes of data, or of fd from offset.  */
struct registry_send
{
  const char *content_type; /* NULL: none */
  const char *extra_header; /* "Content-Range: 0-99" or NULL */
  const char *data;
  int fd;
  int64_t offset;
  int64_t length;
  void (*progress) (void *data, int64_t sent); /* may be NULL */
  void *progress_data;
};

/* A request to the registry with authentication and one retry after a
   401: path is "/v2/..." or an absolute URL (an upload's Location);
   send may be NULL.  A 2xx answer returns 0 (the whole answer in *r);
   errors are classified (REGISTRY_ERR_*), with Docker's wording in *err
   and the answer still in *r.  */
int registry_request (struct registry_client *c, const char *method, const char *path, const char *accept,
                      const struct registry_send *send, size_t max, struct registry_response *r, skiff_error_t *err);

/* One blocking GET outside any repository (token servers), following no
   redirects.  username may be NULL.  Returns 0 with any HTTP status in
   *r, or REGISTRY_ERR_TRANSPORT.  */
int registry_http_get (const char *url, bool tls_verify, const char *username, const char *password, size_t max,
                       struct registry_response *r, skiff_error_t *err);

/* HEAD or GET /v2/<repo>/manifests/<reference> with the four manifest
   types accepted.  A 2xx answer returns 0; errors are classified
   (REGISTRY_ERR_*), with Docker's wording in *err.  */
int registry_get_manifest (struct registry_client *c, const char *reference, bool head, struct registry_response *r,
                           skiff_error_t *err);

/* GET of a small blob (the image config) into memory, at most max bytes.  */
int registry_get_blob (struct registry_client *c, const char *digest, size_t max, struct registry_response *r,
                       skiff_error_t *err);

/* ---- uploads (registry_upload.c); repo is the client's repository or
   another of the same registry ---- */

/* HEAD of a blob: 1 when repo has it, 0 when it does not.  */
int registry_blob_exists (struct registry_client *c, const char *repo, const char *digest, skiff_error_t *err);

/* POST ?mount=digest&from=from: *mounted on 201; else the registry
   started an ordinary upload instead and *location is where it goes.  */
int registry_blob_mount (struct registry_client *c, const char *repo, const char *digest, const char *from,
                         bool *mounted, char **location, skiff_error_t *err);

/* POST /v2/<repo>/blobs/uploads/: *location of the new upload.  */
int registry_upload_start (struct registry_client *c, const char *repo, char **location, skiff_error_t *err);

struct registry_upload
{
  int fd;             /* the blob's bytes, read with pread from 0 */
  int64_t size;
  const char *digest; /* "sha256:..." of those bytes */
  int64_t chunk;      /* bigger blobs go up in PATCHes of this size; <= 0: one PUT */
  void (*progress) (void *data, int64_t sent); /* may be NULL */
  void *progress_data;
};

/* Sends the blob to an upload's location: one PUT ?digest= with the data
   (monolithic), or PATCHes with Content-Range and a final PUT.  */
int registry_upload_blob (struct registry_client *c, const char *location, const struct registry_upload *u,
                          skiff_error_t *err);

/* PUT /v2/<repo>/manifests/<reference> with the manifest's media type.  */
int registry_put_manifest (struct registry_client *c, const char *repo, const char *reference, const char *media_type,
                           const char *body, size_t len, skiff_error_t *err);

/* A blob download for a curl multi handle.  The sink receives the bytes
   with the offset of the first one in the blob: a server that ignores the
   Range request starts again at 0, and the sink must then start over.  A
   sink returns 0, or -1 to abort the transfer.  */
typedef int (*registry_sink_fn) (void *data, int64_t offset, const void *buf, size_t len);

struct registry_blob;

int registry_blob_new (struct registry_client *c, const char *digest, int64_t offset, registry_sink_fn sink,
                       void *data, struct registry_blob **out, skiff_error_t *err);
CURL *registry_blob_handle (struct registry_blob *b);
/* Interprets the end of the transfer: 0 when the whole rest of the blob
   arrived, REGISTRY_RETRY for failures worth another attempt (transport
   errors, 5xx, a refreshed token), another negative status otherwise.  */
int registry_blob_done (struct registry_blob *b, CURLcode result, skiff_error_t *err);
void registry_blob_free (struct registry_blob *b);

#endif
