/* POST /auth: `docker login`.  skiff-image checks the credentials against
   the registry (the request body goes to it on stdin); the answer is
   Docker's {"Status":"Login Succeeded","IdentityToken":""}, or 401 with the
   registry's refusal.  Nothing is stored: the client keeps credentials.  */
#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "http.h"
#include "image_helper.h"
#include "json.h"
#include "log.h"
#include "router.h"

#include <stdlib.h>
#include <string.h>

struct login
{
  struct http_request *req;
  char *server, *username; /* for the log */
};

static void
login_done (int status, const char *message, yajl_val result, void *data)
{
  struct login *l = data;

  if (status == 0)
    http_respond_json (l->req, 200, "{\"IdentityToken\":\"\",\"Status\":\"Login Succeeded\"}");
  else
    {
      log_info ("login to %s as %s: %s", l->server, l->username, message);
      http_respond_error (l->req, status, "%s", message);
    }
  free (l->server);
  free (l->username);
  free (l);
}

static void
handle_auth (struct http_request *req, void *data)
{
  static const char *const args[] = { "login", NULL };
  cleanup_json yajl_val body = NULL;
  skiff_error_t err = NULL;
  struct image_helper *h;
  struct image_helper_opts o = { .args = args, .on_done = login_done };
  struct login *l;

  if (req->body_len == 0 || json_parse (req->body, &body, &err) < 0 || !YAJL_IS_OBJECT (body))
    {
      http_respond_error (req, 400, "invalid JSON body%s%s", err ? ": " : "", err ? err->msg : "");
      skiff_error_release (&err);
      return;
    }
  l = calloc (1, sizeof (*l));
  if (l == NULL || (l->server = strdup (json_str_or (json_get (body, "serveraddress"), ""))) == NULL
      || (l->username = strdup (json_str_or (json_get (body, "username"), ""))) == NULL)
    {
      if (l)
        free (l->server);
      free (l);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  l->req = req;
  o.input = req->body;
  o.input_len = req->body_len;
  o.data = l;
  if (image_helper_start (data, &o, &h, &err) < 0)
    {
      http_respond_error (req, 500, "%s", err->msg);
      skiff_error_release (&err);
      free (l->server);
      free (l->username);
      free (l);
    }
}

int
api_auth_register (struct router *r, skiff_error_t *err)
{
  return router_add (r, "POST", "/auth", handle_auth, err);
}
