/* `docker login` on the daemon's side (registry_login in registry.h): the
   /v2/ endpoint of the registry with the credentials, as dockerd's
   loginV2 asks it: Basic auth, or a Bearer token fetched with them.  */
#include "registry.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "https://index.docker.io/v1/" -> "docker.io"; "http://h:5000/x" -> "h:5000".  */
static char *
domain_of (const char *server)
{
  const char *p = strstr (server, "://");
  char *host;
  p = p ? p + 3 : server;
  host = strndup (p, strcspn (p, "/"));
  if (host && (*host == '\0' || strcasecmp (host, "index.docker.io") == 0 || strcasecmp (host, "registry-1.docker.io") == 0))
    {
      free (host);
      host = strdup ("docker.io");
    }
  return host;
}

static int
try_endpoint (const struct registry_endpoint *ep, const char *username, const char *password, bool *at_ping,
              skiff_error_t *err)
{
  cleanup_registry_client struct registry_client *c = NULL;
  __attribute__ ((cleanup (registry_response_clear))) struct registry_response r = { 0 };
  int ret;

  *at_ping = false;
  ret = registry_client_new (ep, "", username, password, &c, err);
  if (ret < 0)
    return ret;
  ret = registry_ping (c, err);
  if (ret < 0)
    {
      *at_ping = ret == REGISTRY_ERR_TRANSPORT;
      return ret;
    }
  /* A login asks for no repository.  */
  if (registry_client_set_scope (c, "", err) < 0)
    return -1;
  ret = registry_request (c, "GET", "/v2/", NULL, NULL, 64 * 1024, &r, err);
  if (ret == REGISTRY_ERR_DENIED && r.status != 0)
    {
      skiff_error_release (err);
      return skiff_error_make (err, 0, "login attempt to %s/v2/ failed with status: %s", ep->url,
                               r.reason ? r.reason : "401 Unauthorized"),
             REGISTRY_ERR_DENIED;
    }
  return ret;
}

int
registry_login (const char *server, const char *username, const char *password, const char *const *insecure,
                const char *docker_io_url, skiff_error_t *err)
{
  cleanup_free char *domain = domain_of (server ? server : "");
  struct pull_opts o = { .insecure = insecure, .docker_io_url = docker_io_url };
  struct registry_endpoint *eps = NULL;
  size_t n = 0, i;
  int ret = REGISTRY_ERR_REMOTE;

  if (domain == NULL)
    return skiff_error_make (err, ENOMEM, "login");
  if (registry_endpoints (domain, &o, &eps, &n, err) < 0)
    return -1;
  for (i = 0; i < n; i++)
    {
      bool at_ping = false;
      ret = try_endpoint (&eps[i], username, password, &at_ping, err);
      if (ret == 0 || !(eps[i].http_fallback && at_ping) || i + 1 == n)
        break;
      skiff_error_release (err);
    }
  registry_endpoints_free (eps, n);
  return ret;
}
