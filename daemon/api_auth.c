/* POST /auth: `docker login`.  The credentials are checked against the
   registry in the thread pool (registry_login); the answer is Docker's
   {"Status":"Login Succeeded","IdentityToken":""}, or 401 with the
   registry's refusal.  Nothing is stored: the client keeps credentials.  */
#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "registry.h"
#include "router.h"

#include <stdlib.h>
#include <string.h>

struct login
{
  uv_work_t work;
  struct daemon *d;
  struct http_request *req;
  char *server, *username, *password;
  int ret;
  skiff_error_t err;
};

static void
login_free (struct login *l)
{
  free (l->server);
  free (l->username);
  if (l->password)
    explicit_bzero (l->password, strlen (l->password));
  free (l->password);
  skiff_error_release (&l->err);
  free (l);
}

static void
login_work (uv_work_t *w)
{
  struct login *l = w->data;
  l->ret = registry_login (l->server, l->username, l->password, (const char *const *) l->d->insecure_registries, NULL,
                           &l->err);
}

static void
login_done (uv_work_t *w, int status)
{
  struct login *l = w->data;

  if (l->ret == 0)
    http_respond_json (l->req, 200, "{\"IdentityToken\":\"\",\"Status\":\"Login Succeeded\"}");
  else
    {
      const char *msg = l->err && l->err->msg ? l->err->msg : "login failed";
      log_info ("login to %s as %s: %s", l->server, l->username, msg);
      http_respond_error (l->req, l->ret == REGISTRY_ERR_DENIED ? 401 : 500, "%s", msg);
    }
  login_free (l);
}

static void
handle_auth (struct http_request *req, void *data)
{
  struct daemon *d = data;
  cleanup_json yajl_val body = NULL;
  skiff_error_t err = NULL;
  struct login *l;

  if (req->body_len == 0 || json_parse (req->body, &body, &err) < 0 || !YAJL_IS_OBJECT (body))
    {
      http_respond_error (req, 400, "invalid JSON body%s%s", err ? ": " : "", err ? err->msg : "");
      skiff_error_release (&err);
      return;
    }
  l = calloc (1, sizeof (*l));
  if (l == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  l->d = d;
  l->req = req;
  l->server = strdup (json_str_or (json_get (body, "serveraddress"), ""));
  l->username = strdup (json_str_or (json_get (body, "username"), ""));
  l->password = strdup (json_str_or (json_get (body, "password"), ""));
  l->work.data = l;
  if (l->server == NULL || l->username == NULL || l->password == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      login_free (l);
      return;
    }
  if (uv_queue_work (d->loop, &l->work, login_work, login_done) < 0)
    {
      http_respond_error (req, 500, "login: cannot queue the work");
      login_free (l);
    }
}

int
api_auth_register (struct router *r, skiff_error_t *err)
{
  return router_add (r, "POST", "/auth", handle_auth, err);
}
