#include "state.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OCI_VERSION "1.0.2"

int
state_check_id (const char *id, skiff_error_t *err)
{
  const char *p;
  if (id == NULL || *id == '\0')
    return skiff_error_make (err, 0, "container id cannot be empty");
  if (strlen (id) > 1024 || id[0] == '.')
    return skiff_error_make (err, 0, "invalid container id `%s`", id);
  for (p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'
          || *p == '.' || *p == '+'))
      return skiff_error_make (err, 0, "invalid container id `%s`: use letters, digits and _ + - .", id);
  return 0;
}

char *
state_dir (const char *root, const char *id)
{
  char *s = NULL;
  if (asprintf (&s, "%s/%s", root, id) < 0)
    return NULL;
  return s;
}

char *
state_file (const char *root, const char *id, const char *name)
{
  char *s = NULL;
  if (asprintf (&s, "%s/%s/%s", root, id, name) < 0)
    return NULL;
  return s;
}

int
state_create_dir (const char *root, const char *id, skiff_error_t *err)
{
  cleanup_free char *dir = state_dir (root, id);
  if (fs_mkdir_p (root, 0700, err) < 0)
    return -1;
  if (mkdir (dir, 0700) < 0)
    {
      if (errno == EEXIST)
        return skiff_error_make (err, 0, "container `%s` already exists", id);
      return skiff_error_make (err, errno, "mkdir `%s`", dir);
    }
  return 0;
}

int
state_save (const char *root, const struct container_state *st, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *path = state_file (root, st->id, "state.json");
  cleanup_free char *text = NULL;
  size_t len;

  if (g == NULL || path == NULL)
    return skiff_error_make (err, ENOMEM, "state");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "id", st->id);
  json_gen_kv_int (g, "pid", st->pid);
  json_gen_kv_int (g, "start_time", (long long) st->start_time);
  json_gen_kv_str (g, "bundle", st->bundle);
  json_gen_kv_str (g, "rootfs", st->rootfs);
  json_gen_kv_str (g, "created", st->created);
  json_gen_kv_str (g, "cgroup_path", st->cgroup_path);
  json_gen_kv_int (g, "owner", st->owner);
  json_gen_kv_str (g, "annotations", st->annotations_json);
  yajl_gen_map_close (g);
  text = json_gen_steal (g, &len);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "state");
  /* The state lives under the runtime root, a tmpfs: no fsync (nor do
     runc and crun).  */
  return fs_write_file_replace (path, text, len, 0600, err);
}

int
state_load (const char *root, const char *id, struct container_state **out, skiff_error_t *err)
{
  cleanup_free char *path = NULL, *dir = NULL;
  cleanup_json yajl_val tree = NULL;
  struct container_state *st;
  int64_t v = 0;

  if (state_check_id (id, err) < 0)
    return -1;
  dir = state_dir (root, id);
  path = state_file (root, id, "state.json");
  if (dir == NULL || path == NULL)
    return skiff_error_make (err, ENOMEM, "state");
  if (access (dir, F_OK) < 0)
    return skiff_error_make (err, 0, "container `%s` does not exist", id);
  st = calloc (1, sizeof (*st));
  if (st == NULL)
    return skiff_error_make (err, ENOMEM, "state");
  *out = st;
  st->id = strdup (id);
  if (access (path, F_OK) < 0)
    return 0; /* still being created */
  if (json_parse_file (path, &tree, err) < 0)
    return -1;
  if (json_get_int64 (tree, "pid", "pid", &v, NULL, err) < 0)
    return -1;
  st->pid = v;
  if (json_get_int64 (tree, "start_time", "start_time", &v, NULL, err) < 0)
    return -1;
  st->start_time = v;
  if (json_get_int64 (tree, "owner", "owner", &v, NULL, err) < 0)
    return -1;
  st->owner = v;
  if (json_get_string (tree, "bundle", "bundle", &st->bundle, err) < 0
      || json_get_string (tree, "rootfs", "rootfs", &st->rootfs, err) < 0
      || json_get_string (tree, "created", "created", &st->created, err) < 0
      || json_get_string (tree, "cgroup_path", "cgroup_path", &st->cgroup_path, err) < 0
      || json_get_string (tree, "annotations", "annotations", &st->annotations_json, err) < 0)
    return -1;
  return 0;
}

int
state_remove (const char *root, const char *id, skiff_error_t *err)
{
  cleanup_free char *dir = state_dir (root, id);
  if (dir == NULL)
    return skiff_error_make (err, ENOMEM, "state");
  return fs_remove_tree (dir, err);
}

void
state_clear (struct container_state *st)
{
  free (st->id);
  free (st->bundle);
  free (st->rootfs);
  free (st->created);
  free (st->cgroup_path);
  free (st->annotations_json);
  memset (st, 0, sizeof (*st));
}

void
state_free (struct container_state *st)
{
  if (st == NULL)
    return;
  state_clear (st);
  free (st);
}

int
proc_start_time (pid_t pid, unsigned long long *out)
{
  char path[64];
  cleanup_free char *buf = NULL;
  char *p;
  int field;

  snprintf (path, sizeof (path), "/proc/%d/stat", pid);
  if (fs_read_file (path, &buf, NULL, NULL) < 0)
    return -1;
  /* comm may contain spaces and parentheses: start after the last ')'.  */
  p = strrchr (buf, ')');
  if (p == NULL)
    return -1;
  p += 2; /* now at field 3 (state) */
  if (*p == 'Z' || *p == 'X')
    return -1; /* a zombie is not running */
  for (field = 3; field < 22 && p; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  if (p == NULL)
    return -1;
  *out = strtoull (p, NULL, 10);
  return 0;
}

bool
state_pid_alive (const struct container_state *st)
{
  unsigned long long t;
  if (st->pid <= 0)
    return false;
  if (proc_start_time (st->pid, &t) < 0)
    return false;
  return t == st->start_time;
}

const char *
state_status (const char *root, const struct container_state *st)
{
  cleanup_free char *fifo = NULL;
  if (st->pid == 0)
    return "creating";
  if (!state_pid_alive (st))
    return "stopped";
  fifo = state_file (root, st->id, "exec.fifo");
  if (fifo && access (fifo, F_OK) == 0)
    return "created";
  return "running";
}

char *
state_to_json (const struct container_state *st, const char *status, bool pretty)
{
  cleanup_gen yajl_gen g = json_gen_new (pretty);
  cleanup_json yajl_val ann = NULL;

  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "ociVersion", OCI_VERSION);
  json_gen_kv_str (g, "id", st->id);
  json_gen_kv_str (g, "status", status);
  json_gen_kv_int (g, "pid", strcmp (status, "stopped") == 0 ? 0 : st->pid);
  json_gen_kv_str (g, "bundle", st->bundle ? st->bundle : "");
  if (st->rootfs)
    json_gen_kv_str (g, "rootfs", st->rootfs);
  if (st->created)
    json_gen_kv_str (g, "created", st->created);
  /* runtime-spec: annotations are optional; leave them out when empty. */
  if (st->annotations_json && json_parse (st->annotations_json, &ann, NULL) == 0 && YAJL_IS_OBJECT (ann)
      && ann->u.object.len > 0)
    {
      json_gen_str (g, "annotations");
      json_gen_value (g, ann);
    }
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

char *
state_now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];
  char *s = NULL;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof (buf), "%Y-%m-%dT%H:%M:%S", &tm);
  if (asprintf (&s, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
    return NULL;
  return s;
}

char *
state_json_with_status (const char *json, const char *status)
{
  cleanup_json yajl_val tree = NULL;
  cleanup_gen yajl_gen g = NULL;
  size_t i;

  if (json_parse (json, &tree, NULL) < 0 || !YAJL_IS_OBJECT (tree))
    return NULL;
  g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  for (i = 0; i < tree->u.object.len; i++)
    {
      json_gen_str (g, tree->u.object.keys[i]);
      if (strcmp (tree->u.object.keys[i], "status") == 0)
        json_gen_str (g, status);
      else
        json_gen_value (g, tree->u.object.values[i]);
    }
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}
