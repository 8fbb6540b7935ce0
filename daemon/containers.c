/* The container table, create, inspect and list.  */
#include "containers.h"
#include "cleanup.h"
#include "containers_internal.h"
#include "ctr_endpoints.h"
#include "events.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "oci_spec.h"
#include "state.h"
#include "shim_proto.h"
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- table ------------------------------------------------------------- */

int
containers_add (struct daemon *d, struct ctr *c, skiff_error_t *err)
{
  if (d->n_containers == d->cap_containers)
    {
      size_t cap = d->cap_containers ? d->cap_containers * 2 : 16;
      struct ctr **n = realloc (d->containers, cap * sizeof (*n));
      if (n == NULL)
        return skiff_error_make (err, ENOMEM, "container table");
      d->containers = n;
      d->cap_containers = cap;
    }
  d->containers[d->n_containers++] = c;
  c->refs = 1;
  return 0;
}

void
containers_unlink (struct ctr *c)
{
  struct daemon *d = c->d;
  size_t i;
  for (i = 0; i < d->n_containers; i++)
    if (d->containers[i] == c)
      {
        memmove (&d->containers[i], &d->containers[i + 1], (d->n_containers - i - 1) * sizeof (*d->containers));
        d->n_containers--;
        c->removed = true;
        ctr_unref (c);
        return;
      }
}

void
ctr_ref (struct ctr *c)
{
  c->refs++;
}

void
ctr_unref (struct ctr *c)
{
  if (--c->refs > 0)
    return;
  ctr_exec_free_all (c);
  record_free (c->rec);
  free (c->monitor_buf);
  free (c);
}

const char *
ctr_name (const struct ctr *c)
{
  return c->rec->name[0] == '/' ? c->rec->name + 1 : c->rec->name;
}

const char *
ctr_short_id (const struct ctr *c)
{
  static char buf[ID_SHORT_LEN + 1];
  memcpy (buf, c->rec->id, ID_SHORT_LEN);
  buf[ID_SHORT_LEN] = '\0';
  return buf;
}

static char *
path_under (const char *base, const char *sub, const char *id)
{
  char *s = NULL;
  if (asprintf (&s, "%s/%s/%s", base, sub, id) < 0)
    return NULL;
  return s;
}

char *
ctr_dir (const struct ctr *c)
{
  return path_under (c->d->opts.root, "containers", c->rec->id);
}

char *
ctr_shim_dir (const struct ctr *c)
{
  return path_under (c->d->opts.exec_root, "shims", c->rec->id);
}

char *
ctr_shim_sock (const struct ctr *c)
{
  cleanup_free char *dir = ctr_shim_dir (c);
  char *s = NULL;
  if (dir == NULL || asprintf (&s, "%s/%s", dir, SHIM_SOCK_NAME) < 0)
    return NULL;
  return s;
}

char *
ctr_bundle_dir (const struct ctr *c)
{
  return path_under (c->d->opts.exec_root, "bundles", c->rec->id);
}

char *
ctr_netns_path (const struct ctr *c)
{
  return path_under (c->d->opts.exec_root, "netns", c->rec->id);
}

bool
containers_is_running (const struct ctr *c)
{
  return strcmp (c->rec->state.status, "running") == 0 || strcmp (c->rec->state.status, "paused") == 0;
}

void
containers_save (struct ctr *c)
{
  skiff_error_t err = NULL;
  if (c->removed)
    return;
  if (record_save (c->d->opts.root, c->rec, &err) < 0)
    {
      log_error ("save container %s: %s", ctr_short_id (c), err->msg);
      skiff_error_release (&err);
    }
}

void
ctr_event (struct ctr *c, const char *action, const char *const *extra)
{
  const char *attrs[16];
  size_t n = 0, i;
  attrs[n++] = "image";
  attrs[n++] = c->rec->image_name ? c->rec->image_name : "";
  attrs[n++] = "name";
  attrs[n++] = ctr_name (c);
  for (i = 0; extra && extra[i] && extra[i + 1] && n < 14; i += 2)
    {
      attrs[n++] = extra[i];
      attrs[n++] = extra[i + 1];
    }
  attrs[n] = NULL;
  events_publish (c->d->events, "container", action, c->rec->id, attrs);
}

struct ctr *
containers_find (struct daemon *d, const char *ref, skiff_error_t *err)
{
  struct ctr *found = NULL;
  size_t i, len;
  const char *name = ref[0] == '/' ? ref + 1 : ref;

  if (*ref == '\0')
    {
      daemon_error (err, 404, "No such container: %s", ref);
      return NULL;
    }
  /* Docker's order: full id, then exact name, then unique id prefix.  */
  for (i = 0; i < d->n_containers; i++)
    if (strcmp (d->containers[i]->rec->id, ref) == 0)
      return d->containers[i];
  for (i = 0; i < d->n_containers; i++)
    if (strcmp (ctr_name (d->containers[i]), name) == 0)
      return d->containers[i];
  len = strlen (ref);
  for (i = 0; i < d->n_containers; i++)
    if (strncmp (d->containers[i]->rec->id, ref, len) == 0)
      {
        if (found)
          {
            daemon_error (err, 400, "multiple IDs found with provided prefix: %s", ref);
            return NULL;
          }
        found = d->containers[i];
      }
  if (found == NULL)
    daemon_error (err, 404, "No such container: %s", ref);
  return found;
}

/* ---- create ------------------------------------------------------------- */

/* Copies every member of src into g, except those in skip.  */
static void
gen_members_except (yajl_gen g, yajl_val src, const char *const *skip)
{
  size_t i, k;
  for (i = 0; src && YAJL_IS_OBJECT (src) && i < src->u.object.len; i++)
    {
      bool skipped = false;
      for (k = 0; skip[k]; k++)
        if (strcmp (src->u.object.keys[i], skip[k]) == 0)
          skipped = true;
      if (skipped)
        continue;
      json_gen_str (g, src->u.object.keys[i]);
      json_gen_value (g, src->u.object.values[i]);
    }
}

static bool
is_empty (yajl_val v)
{
  if (v == NULL || YAJL_IS_NULL (v))
    return true;
  if (YAJL_IS_ARRAY (v))
    return v->u.array.len == 0;
  if (YAJL_IS_STRING (v))
    return *YAJL_GET_STRING (v) == '\0';
  if (YAJL_IS_OBJECT (v))
    return v->u.object.len == 0;
  return false;
}

/* Env of the image, overridden key by key by the container's.  */
static void
gen_env (yajl_gen g, yajl_val image_env, yajl_val env)
{
  size_t i, j;
  json_gen_str (g, "Env");
  yajl_gen_array_open (g);
  for (i = 0; image_env && YAJL_IS_ARRAY (image_env) && i < image_env->u.array.len; i++)
    {
      const char *ie = YAJL_IS_STRING (image_env->u.array.values[i]) ? image_env->u.array.values[i]->u.string : NULL;
      size_t klen;
      bool overridden = false;
      if (ie == NULL)
        continue;
      klen = strcspn (ie, "=");
      for (j = 0; env && YAJL_IS_ARRAY (env) && j < env->u.array.len; j++)
        {
          const char *e = YAJL_IS_STRING (env->u.array.values[j]) ? env->u.array.values[j]->u.string : "";
          if (strncmp (e, ie, klen) == 0 && (e[klen] == '=' || e[klen] == '\0'))
            overridden = true;
        }
      if (!overridden)
        json_gen_str (g, ie);
    }
  for (j = 0; env && YAJL_IS_ARRAY (env) && j < env->u.array.len; j++)
    if (YAJL_IS_STRING (env->u.array.values[j]))
      json_gen_str (g, env->u.array.values[j]->u.string);
  yajl_gen_array_close (g);
}

/* Docker's merge of the request's Config with the image's: the request
   wins field by field; an Entrypoint in the request drops the image's
   Cmd.  */
static char *
merge_config (yajl_val body, yajl_val image_cfg, const char *hostname, const char *image_name)
{
  static const char *const handled[] = { "Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts",
                                         "Hostname", "Image", "StopSignal", "HostConfig", "NetworkingConfig", NULL };
  static const char *const string_fields[] = { "WorkingDir", "User", "StopSignal", NULL };
  cleanup_gen yajl_gen g = json_gen_new (false);
  yajl_val entry = json_get (body, "Entrypoint");
  yajl_val cmd = json_get (body, "Cmd");
  size_t k;

  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  gen_members_except (g, body, handled);
  json_gen_kv_str (g, "Hostname", hostname);
  json_gen_kv_str (g, "Image", image_name);
  gen_env (g, json_get (image_cfg, "Env"), json_get (body, "Env"));
  json_gen_str (g, "Entrypoint");
  json_gen_value (g, !is_empty (entry) ? entry : json_get (image_cfg, "Entrypoint"));
  json_gen_str (g, "Cmd");
  if (!is_empty (cmd))
    json_gen_value (g, cmd);
  else if (!is_empty (entry))
    yajl_gen_null (g);
  else
    json_gen_value (g, json_get (image_cfg, "Cmd"));
  for (k = 0; string_fields[k]; k++)
    {
      yajl_val v = json_get (body, string_fields[k]);
      json_gen_str (g, string_fields[k]);
      json_gen_value (g, !is_empty (v) ? v : json_get (image_cfg, string_fields[k]));
    }
  /* Labels and ExposedPorts: the image's, then the request's.  */
  {
    static const char *const maps[] = { "Labels", "ExposedPorts", NULL };
    for (k = 0; maps[k]; k++)
      {
        yajl_val a = json_get (image_cfg, maps[k]), b = json_get (body, maps[k]);
        static const char *const none[] = { NULL };
        json_gen_str (g, maps[k]);
        yajl_gen_map_open (g);
        if (a && YAJL_IS_OBJECT (a))
          {
            size_t i, j;
            for (i = 0; i < a->u.object.len; i++)
              {
                bool dup = false;
                for (j = 0; b && YAJL_IS_OBJECT (b) && j < b->u.object.len; j++)
                  if (strcmp (a->u.object.keys[i], b->u.object.keys[j]) == 0)
                    dup = true;
                if (!dup)
                  {
                    json_gen_str (g, a->u.object.keys[i]);
                    json_gen_value (g, a->u.object.values[i]);
                  }
              }
          }
        if (b && YAJL_IS_OBJECT (b))
          gen_members_except (g, b, none);
        yajl_gen_map_close (g);
      }
  }
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

const char *
ctr_network_mode (yajl_val hc)
{
  yajl_val v = json_get (hc, "NetworkMode");
  return v && YAJL_IS_STRING (v) && *v->u.string ? v->u.string : "default";
}

static int
check_host_config (yajl_val hc, skiff_error_t *err)
{
  yajl_val rp = json_get (hc, "RestartPolicy");
  const char *policy = "";
  bool auto_remove = false;

  if (rp && YAJL_IS_STRING (json_get (rp, "Name")))
    policy = json_get (rp, "Name")->u.string;
  if (*policy && strcmp (policy, "no") != 0 && strcmp (policy, "always") != 0 && strcmp (policy, "on-failure") != 0
      && strcmp (policy, "unless-stopped") != 0)
    return daemon_error (err, 400, "invalid restart policy '%s'", policy);
  if (YAJL_IS_TRUE (json_get (hc, "AutoRemove")))
    auto_remove = true;
  if (auto_remove && *policy && strcmp (policy, "no") != 0)
    return daemon_error (err, 400, "can't create 'AutoRemove' container with restart policy");
  /* Name servers, search domains and resolver options: lists of strings,
     the servers IP addresses.  */
  {
    static const char *const lists[] = { "Dns", "DnsSearch", "DnsOptions" };
    size_t k, i;
    for (k = 0; k < 3; k++)
      {
        yajl_val v = json_get (hc, lists[k]);
        if (v == NULL || YAJL_IS_NULL (v))
          continue;
        if (!YAJL_IS_ARRAY (v))
          return daemon_error (err, 400, "invalid HostConfig.%s: expected an array of strings", lists[k]);
        for (i = 0; i < v->u.array.len; i++)
          {
            yajl_val x = v->u.array.values[i];
            struct in6_addr a6;
            struct in_addr a4;
            if (!YAJL_IS_STRING (x) || *x->u.string == '\0' || strchr (x->u.string, '\n'))
              return daemon_error (err, 400, "invalid HostConfig.%s: expected an array of strings", lists[k]);
            if (k == 0 && inet_pton (AF_INET, x->u.string, &a4) != 1 && inet_pton (AF_INET6, x->u.string, &a6) != 1)
              return daemon_error (err, 400, "%s is not an ip address", x->u.string);
          }
      }
  }
  /* Published ports: the nftables rules are IPv4 only.  */
  {
    yajl_val pb = json_get (hc, "PortBindings");
    size_t i, j;
    for (i = 0; pb && YAJL_IS_OBJECT (pb) && i < pb->u.object.len; i++)
      {
        yajl_val arr = pb->u.object.values[i];
        int port = atoi (pb->u.object.keys[i]);
        if (port <= 0 || port > 65535)
          return daemon_error (err, 400, "invalid port specification: \"%s\"", pb->u.object.keys[i]);
        for (j = 0; arr && YAJL_IS_ARRAY (arr) && j < arr->u.array.len; j++)
          {
            yajl_val ip = json_get (arr->u.array.values[j], "HostIp");
            struct in_addr a;
            if (ip && YAJL_IS_STRING (ip) && *ip->u.string && inet_pton (AF_INET, ip->u.string, &a) != 1)
              return daemon_error (err, 400, "invalid host IP address %s: only IPv4 addresses can be published",
                                   ip->u.string);
          }
      }
  }
  if (oci_resources_validate (hc, 0, err) < 0)
    {
      (*err)->status = 400;
      return -1;
    }
  return 0;
}

int
containers_create (struct daemon *d, yajl_val body, const char *name, struct ctr **out, skiff_error_t *err)
{
  cleanup_record struct record *rec = record_new ();
  cleanup_free char *image_id = NULL, *image_cfg_text = NULL, *generated = NULL, *dir = NULL;
  cleanup_json yajl_val image_doc = NULL;
  yajl_val image_cfg, hc, img;
  struct ctr *c;
  size_t i;
  char hostname[ID_SHORT_LEN + 1];

  if (rec == NULL)
    return skiff_error_make (err, ENOMEM, "create");
  if (body == NULL || !YAJL_IS_OBJECT (body))
    return daemon_error (err, 400, "invalid JSON body: expected an object");
  img = json_get (body, "Image");
  if (img == NULL || !YAJL_IS_STRING (img) || *img->u.string == '\0')
    return daemon_error (err, 400, "No image specified");
  if (name && *name)
    {
      if (!name_is_valid (name))
        return daemon_error (err, 400, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
      for (i = 0; i < d->n_containers; i++)
        if (strcmp (ctr_name (d->containers[i]), name[0] == '/' ? name + 1 : name) == 0)
          return daemon_error (err, 409,
                               "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have "
                               "to remove (or rename) that container to be able to reuse that name.",
                               name[0] == '/' ? name + 1 : name, d->containers[i]->rec->id);
    }
  hc = json_get (body, "HostConfig");
  if (hc && !YAJL_IS_OBJECT (hc))
    return daemon_error (err, 400, "invalid HostConfig: expected an object");
  if (check_host_config (hc, err) < 0
      || endpoints_check_create (d, hc, json_get (body, "NetworkingConfig"), err) < 0)
    return -1;

  /* Resolving and reading the image are quick metadata look-ups.  */
  {
    int r = image_resolve (d->images, img->u.string, &image_id, err);
    if (r == IMAGE_ERR_NOT_FOUND)
      {
        skiff_error_release (err);
        return daemon_error (err, 404, "No such image: %s", img->u.string);
      }
    if (r < 0)
      {
        (*err)->status = r == IMAGE_ERR_INVALID ? 400 : 500;
        return -1;
      }
  }
  if (image_config_json (d->images, image_id, &image_cfg_text, err) < 0 || json_parse (image_cfg_text, &image_doc, err) < 0)
    return -1;
  image_cfg = json_get (image_doc, "config");

  if (id_generate (rec->id, err) < 0)
    return -1;
  memcpy (hostname, rec->id, ID_SHORT_LEN);
  hostname[ID_SHORT_LEN] = '\0';
  if (YAJL_IS_STRING (json_get (body, "Hostname")) && *json_get (body, "Hostname")->u.string)
    rec->config = merge_config (body, image_cfg, json_get (body, "Hostname")->u.string, img->u.string);
  else
    rec->config = merge_config (body, image_cfg, hostname, img->u.string);
  rec->host_config = json_object_text (hc);
  if (rec->config == NULL || rec->host_config == NULL)
    return skiff_error_make (err, ENOMEM, "create");
  if (endpoints_config_for_create (d, hc, json_get (body, "NetworkingConfig"), &rec->endpoints_config, err) < 0)
    return -1;
  if (name == NULL || *name == '\0')
    {
      /* Unnamed containers get a generated name that is not in use.  */
      for (i = 0; i < 100; i++)
        {
          size_t j;
          bool taken = false;
          free (generated);
          generated = name_generate ();
          for (j = 0; generated && j < d->n_containers; j++)
            if (strcmp (ctr_name (d->containers[j]), generated) == 0)
              taken = true;
          if (generated && !taken)
            break;
        }
      name = generated;
    }
  if (asprintf (&rec->name, "/%s", name[0] == '/' ? name + 1 : name) < 0)
    return skiff_error_make (err, ENOMEM, "create");
  rec->created = state_now_rfc3339 ();
  rec->image_id = strdup (image_id);
  rec->image_name = strdup (img->u.string);
  if (asprintf (&dir, "%s/containers/%s", d->opts.root, rec->id) < 0
      || asprintf (&rec->log_path, "%s/%s-json.log", dir, rec->id) < 0
      || asprintf (&rec->hosts_path, "%s/hosts", dir) < 0 || asprintf (&rec->hostname_path, "%s/hostname", dir) < 0
      || asprintf (&rec->resolv_conf_path, "%s/resolv.conf", dir) < 0)
    return skiff_error_make (err, ENOMEM, "create");
  if (record_save (d->opts.root, rec, err) < 0)
    {
      fs_remove_tree (dir, NULL);
      return -1;
    }
  c = calloc (1, sizeof (*c));
  if (c == NULL)
    {
      fs_remove_tree (dir, NULL);
      return skiff_error_make (err, ENOMEM, "create");
    }
  c->d = d;
  c->rec = steal_pointer (&rec);
  c->auto_remove = hc && YAJL_IS_TRUE (json_get (hc, "AutoRemove"));
  if (containers_add (d, c, err) < 0)
    {
      fs_remove_tree (dir, NULL);
      record_free (c->rec);
      free (c);
      return -1;
    }
  ctr_event (c, "create", NULL);
  *out = c;
  return 0;
}
