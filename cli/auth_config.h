/* Registry credentials as the docker CLI keeps them: the "auths" object
   of $DOCKER_CONFIG/config.json (default ~/.docker/config.json), one entry
   per server with "auth" = base64 "user:password".  Other keys of the
   file are kept as they are; the file is replaced atomically, mode 0600.  */
#ifndef SKIFF_CLI_AUTH_CONFIG_H
#define SKIFF_CLI_AUTH_CONFIG_H

#include <stdbool.h>
#include "error.h"

/* Docker Hub's key in "auths".  */
#define AUTH_DOCKER_HUB "https://index.docker.io/v1/"

/* The config file's path, malloc'd.  */
char *auth_config_path (skiff_error_t *err);

/* The "auths" key for a server given to login/logout: Docker Hub's for
   none, "docker.io" and "index.docker.io"; else the host[:port] with any
   scheme and path removed.  malloc'd.  */
char *auth_server_key (const char *server);

/* The key of the registry of an image reference ("alpine" -> Docker
   Hub's, "host:5000/x" -> "host:5000").  malloc'd.  */
char *auth_key_of_image (const char *ref);

/* The credentials stored for key; *user NULL when there are none.  Keys
   in the file are compared as host names ("https://host:5000/v2/" matches
   "host:5000").  */
int auth_config_get (const char *key, char **user, char **password, skiff_error_t *err);

int auth_config_set (const char *key, const char *user, const char *password, skiff_error_t *err);

/* *found false when there was no entry.  */
int auth_config_remove (const char *key, bool *found, skiff_error_t *err);

/* Docker's AuthConfig as JSON text, {"username","password","serveraddress"}
   (the body of POST /auth, the X-Registry-Auth before base64).  malloc'd;
   NULL on ENOMEM.  */
char *auth_config_json (const char *user, const char *password, const char *server);

/* The X-Registry-Auth value for the image's registry: base64url JSON
   {"username","password","serveraddress"}; NULL when no credentials.  */
int auth_header_for_image (const char *ref, char **header, skiff_error_t *err);

#endif
