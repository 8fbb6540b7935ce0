/* Frames on shim.sock: header codec, stream decoder, JSON payloads and
   blocking read/write helpers.  */
#include "shim_proto.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const frame_names[] = { "STDIN",  "STDOUT", "STDERR",  "EXIT",    "ATTACH",
                                           "STDIN_CLOSE", "RESIZE", "EXEC", "STARTED", "STATUS", "START" };

bool
shim_frame_type_valid (unsigned int type)
{
  return type <= SHIM_FRAME_TYPE_MAX;
}

const char *
shim_frame_type_name (unsigned int type)
{
  return shim_frame_type_valid (type) ? frame_names[type] : "UNKNOWN";
}

void
shim_frame_header_encode (uint8_t hdr[SHIM_FRAME_HEADER_LEN], enum shim_frame_type type, uint32_t len)
{
  hdr[0] = (uint8_t) type;
  hdr[1] = (uint8_t) (len >> 24);
  hdr[2] = (uint8_t) (len >> 16);
  hdr[3] = (uint8_t) (len >> 8);
  hdr[4] = (uint8_t) len;
}

int
shim_frame_header_decode (const uint8_t hdr[SHIM_FRAME_HEADER_LEN], uint8_t *type, uint32_t *len, skiff_error_t *err)
{
  uint32_t l = ((uint32_t) hdr[1] << 24) | ((uint32_t) hdr[2] << 16) | ((uint32_t) hdr[3] << 8) | hdr[4];
  if (!shim_frame_type_valid (hdr[0]))
    return skiff_error_make (err, 0, "shim frame: unknown type %u", hdr[0]);
  if (l > SHIM_FRAME_MAX_PAYLOAD)
    return skiff_error_make (err, 0, "shim frame %s: payload of %u bytes is over the limit of %u",
                             shim_frame_type_name (hdr[0]), l, SHIM_FRAME_MAX_PAYLOAD);
  *type = hdr[0];
  *len = l;
  return 0;
}

int
shim_frame_encode (enum shim_frame_type type, const void *data, size_t len, uint8_t **out, size_t *out_len,
                   skiff_error_t *err)
{
  uint8_t *b;
  if (len > SHIM_FRAME_MAX_PAYLOAD)
    return skiff_error_make (err, EMSGSIZE, "shim frame %s of %zu bytes", shim_frame_type_name (type), len);
  b = malloc (SHIM_FRAME_HEADER_LEN + len);
  if (b == NULL)
    return skiff_error_make (err, ENOMEM, "shim frame");
  shim_frame_header_encode (b, type, (uint32_t) len);
  if (len)
    memcpy (b + SHIM_FRAME_HEADER_LEN, data, len);
  *out = b;
  *out_len = SHIM_FRAME_HEADER_LEN + len;
  return 0;
}

void
shim_frame_clear (struct shim_frame *f)
{
  free (f->data);
  f->data = NULL;
  f->len = 0;
}

/* ---- decoder ------------------------------------------------------------ */

void
shim_decoder_init (struct shim_decoder *d)
{
  memset (d, 0, sizeof (*d));
}

void
shim_decoder_release (struct shim_decoder *d)
{
  free (d->buf);
  shim_decoder_init (d);
}

int
shim_decoder_feed (struct shim_decoder *d, const void *data, size_t len, skiff_error_t *err)
{
  if (d->off > 0 && d->off == d->len)
    d->off = d->len = 0;
  if (d->len + len > d->cap)
    {
      size_t cap;
      uint8_t *nb;
      /* Reclaim consumed space before growing.  */
      if (d->off > 0)
        {
          memmove (d->buf, d->buf + d->off, d->len - d->off);
          d->len -= d->off;
          d->off = 0;
        }
      cap = d->cap ? d->cap : 4096;
      while (cap < d->len + len)
        cap *= 2;
      if (cap != d->cap)
        {
          nb = realloc (d->buf, cap);
          if (nb == NULL)
            return skiff_error_make (err, ENOMEM, "shim decoder");
          d->buf = nb;
          d->cap = cap;
        }
    }
  memcpy (d->buf + d->len, data, len);
  d->len += len;
  return 0;
}

int
shim_decoder_next (struct shim_decoder *d, struct shim_frame *out, skiff_error_t *err)
{
  size_t avail = d->len - d->off;
  uint8_t type;
  uint32_t len;

  if (avail < SHIM_FRAME_HEADER_LEN)
    return 0;
  if (shim_frame_header_decode (d->buf + d->off, &type, &len, err) < 0)
    return -1;
  if (avail < SHIM_FRAME_HEADER_LEN + (size_t) len)
    return 0;
  out->data = malloc ((size_t) len + 1);
  if (out->data == NULL)
    return skiff_error_make (err, ENOMEM, "shim frame");
  memcpy (out->data, d->buf + d->off + SHIM_FRAME_HEADER_LEN, len);
  out->data[len] = '\0';
  out->type = type;
  out->len = len;
  d->off += SHIM_FRAME_HEADER_LEN + len;
  return 1;
}

bool
shim_decoder_pending (const struct shim_decoder *d)
{
  return d->len > d->off;
}

/* ---- payloads ----------------------------------------------------------- */

static int
parse_object (const char *json, const char *what, yajl_val *tree, skiff_error_t *err)
{
  if (json_parse (json, tree, err) < 0)
    return skiff_error_wrap (err, "%s", what);
  if (!YAJL_IS_OBJECT (*tree))
    return skiff_error_make (err, 0, "%s: expected a JSON object", what);
  return 0;
}

char *
shim_attach_json (const struct shim_attach_req *r)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_bool (g, "stdin", r->use_stdin);
  json_gen_kv_bool (g, "stdout", r->use_stdout);
  json_gen_kv_bool (g, "stderr", r->use_stderr);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

int
shim_attach_parse (const char *json, struct shim_attach_req *out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  memset (out, 0, sizeof (*out));
  if (parse_object (json, "ATTACH", &tree, err) < 0)
    return -1;
  if (json_get_bool (tree, "stdin", "stdin", &out->use_stdin, err) < 0
      || json_get_bool (tree, "stdout", "stdout", &out->use_stdout, err) < 0
      || json_get_bool (tree, "stderr", "stderr", &out->use_stderr, err) < 0)
    return skiff_error_wrap (err, "ATTACH");
  return 0;
}

char *
shim_resize_json (const struct shim_resize_req *r)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "height", r->height);
  json_gen_kv_int (g, "width", r->width);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

static int
get_dimension (yajl_val tree, const char *key, unsigned int *out, skiff_error_t *err)
{
  uint64_t v = 0;
  bool present = false;
  if (json_get_uint64 (tree, key, key, &v, &present, err) < 0)
    return -1;
  if (!present)
    return skiff_error_make (err, 0, "missing field `%s`", key);
  if (v == 0 || v > 65535)
    return skiff_error_make (err, 0, "invalid field `%s`: %llu is not in 1..65535", key, (unsigned long long) v);
  *out = (unsigned int) v;
  return 0;
}

int
shim_resize_parse (const char *json, struct shim_resize_req *out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  if (parse_object (json, "RESIZE", &tree, err) < 0)
    return -1;
  if (get_dimension (tree, "height", &out->height, err) < 0 || get_dimension (tree, "width", &out->width, err) < 0)
    return skiff_error_wrap (err, "RESIZE");
  return 0;
}

char *
shim_exec_json (const struct shim_exec_req *r)
{
  cleanup_json yajl_val process = NULL;
  cleanup_gen yajl_gen g = NULL;

  if (r->process_json == NULL || json_parse (r->process_json, &process, NULL) < 0 || !YAJL_IS_OBJECT (process))
    return NULL;
  g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_str (g, "process");
  json_gen_value (g, process);
  json_gen_kv_bool (g, "stdin", r->use_stdin);
  json_gen_kv_bool (g, "detach", r->detach);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

int
shim_exec_parse (const char *json, struct shim_exec_req *out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  cleanup_gen yajl_gen g = NULL;
  yajl_val process = NULL;

  memset (out, 0, sizeof (*out));
  if (parse_object (json, "EXEC", &tree, err) < 0)
    return -1;
  if (json_get_object (tree, "process", "process", &process, err) < 0
      || json_get_bool (tree, "stdin", "stdin", &out->use_stdin, err) < 0
      || json_get_bool (tree, "detach", "detach", &out->detach, err) < 0)
    return skiff_error_wrap (err, "EXEC");
  if (process == NULL)
    return skiff_error_make (err, 0, "EXEC: missing field `process`");
  g = json_gen_new (false);
  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "EXEC");
  json_gen_value (g, process);
  out->process_json = json_gen_steal (g, NULL);
  if (out->process_json == NULL)
    return skiff_error_make (err, ENOMEM, "EXEC");
  return 0;
}

void
shim_exec_req_clear (struct shim_exec_req *r)
{
  free (r->process_json);
  r->process_json = NULL;
}

char *
shim_started_json (pid_t pid, const char *error)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  if (error)
    json_gen_kv_str (g, "error", error);
  else
    json_gen_kv_int (g, "pid", pid);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

int
shim_started_parse (const char *json, struct shim_started *out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  int64_t pid = 0;
  bool present = false;

  memset (out, 0, sizeof (*out));
  if (parse_object (json, "STARTED", &tree, err) < 0)
    return -1;
  if (json_get_string (tree, "error", "error", &out->error, err) < 0
      || json_get_int64 (tree, "pid", "pid", &pid, &present, err) < 0)
    return skiff_error_wrap (err, "STARTED");
  if (out->error)
    return 0;
  if (!present || pid <= 0 || pid > INT_MAX)
    return skiff_error_make (err, 0, "STARTED: neither a valid `pid` nor an `error`");
  out->pid = (pid_t) pid;
  return 0;
}

void
shim_started_clear (struct shim_started *s)
{
  free (s->error);
  s->error = NULL;
}

char *
shim_exit_json (const struct shim_exit *e)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "exit_code", e->exit_code);
  json_gen_kv_bool (g, "oom_killed", e->oom_killed);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

static int
get_exit_code (yajl_val tree, int *out, skiff_error_t *err)
{
  int64_t code = 0;
  bool present = false;
  if (json_get_int64 (tree, "exit_code", "exit_code", &code, &present, err) < 0)
    return -1;
  if (!present)
    return skiff_error_make (err, 0, "missing field `exit_code`");
  if (code < INT_MIN || code > INT_MAX)
    return skiff_error_make (err, 0, "invalid field `exit_code`: out of range");
  *out = (int) code;
  return 0;
}

int
shim_exit_parse (const char *json, struct shim_exit *out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  memset (out, 0, sizeof (*out));
  if (parse_object (json, "EXIT", &tree, err) < 0)
    return -1;
  if (get_exit_code (tree, &out->exit_code, err) < 0
      || json_get_bool (tree, "oom_killed", "oom_killed", &out->oom_killed, err) < 0)
    return skiff_error_wrap (err, "EXIT");
  return 0;
}

char *
shim_status_json (const struct shim_status *s)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "pid", s->pid);
  json_gen_kv_bool (g, "running", s->running);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

int
shim_status_parse (const char *json, struct shim_status *out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  int64_t pid = 0;
  bool present = false;

  memset (out, 0, sizeof (*out));
  if (parse_object (json, "STATUS", &tree, err) < 0)
    return -1;
  if (json_get_int64 (tree, "pid", "pid", &pid, &present, err) < 0
      || json_get_bool (tree, "running", "running", &out->running, err) < 0)
    return skiff_error_wrap (err, "STATUS");
  if (!present || pid < 0 || pid > INT_MAX)
    return skiff_error_make (err, 0, "STATUS: missing or invalid field `pid`");
  out->pid = (pid_t) pid;
  return 0;
}

char *
shim_exit_file_json (const struct shim_exit_file *f)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "exit_code", f->exit_code);
  json_gen_kv_bool (g, "oom_killed", f->oom_killed);
  json_gen_kv_str (g, "finished_at", f->finished_at ? f->finished_at : "");
  json_gen_kv_str (g, "error", f->error ? f->error : "");
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

int
shim_exit_file_parse (const char *json, struct shim_exit_file *out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  memset (out, 0, sizeof (*out));
  if (parse_object (json, SHIM_EXIT_NAME, &tree, err) < 0)
    return -1;
  if (get_exit_code (tree, &out->exit_code, err) < 0
      || json_get_bool (tree, "oom_killed", "oom_killed", &out->oom_killed, err) < 0
      || json_get_string (tree, "finished_at", "finished_at", &out->finished_at, err) < 0
      || json_get_string (tree, "error", "error", &out->error, err) < 0)
    {
      shim_exit_file_clear (out);
      return skiff_error_wrap (err, SHIM_EXIT_NAME);
    }
  if (out->error == NULL && (out->error = strdup ("")) == NULL)
    return skiff_error_make (err, ENOMEM, SHIM_EXIT_NAME);
  return 0;
}

int
shim_exit_file_read (const char *path, struct shim_exit_file *out, skiff_error_t *err)
{
  cleanup_free char *text = NULL;
  if (fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  if (shim_exit_file_parse (text, out, err) < 0)
    return skiff_error_wrap (err, "`%s`", path);
  return 0;
}

void
shim_exit_file_clear (struct shim_exit_file *f)
{
  free (f->finished_at);
  free (f->error);
  f->finished_at = f->error = NULL;
}

/* ---- blocking helpers ------------------------------------------------- */

int
shim_connect (const char *path, skiff_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1, dirfd = -1;

  if (strlen (path) >= sizeof (addr.sun_path))
    {
      /* Too long for sun_path: go through a descriptor of the directory. */
      cleanup_free char *dir = strdup (path), *base = strdup (path);
      if (dir == NULL || base == NULL)
        return skiff_error_make (err, ENOMEM, "connect `%s`", path);
      dirfd = open (dirname (dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dirfd < 0)
        return skiff_error_make (err, errno, "open the directory of `%s`", path);
      if ((size_t) snprintf (addr.sun_path, sizeof (addr.sun_path), "/proc/self/fd/%d/%s", dirfd, basename (base))
          >= sizeof (addr.sun_path))
        return skiff_error_make (err, ENAMETOOLONG, "connect `%s`", path);
    }
  else
    strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return skiff_error_make (err, errno, "socket");
  while (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    if (errno != EINTR)
      return skiff_error_make (err, errno, "connect to `%s`", path);
  return steal_fd (&fd);
}

static int
write_all (int fd, const uint8_t *p, size_t len, skiff_error_t *err)
{
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            {
              struct pollfd pf = { .fd = fd, .events = POLLOUT };
              poll (&pf, 1, -1);
              continue;
            }
          return skiff_error_make (err, errno, "write to the shim socket");
        }
      p += n;
      len -= n;
    }
  return 0;
}

int
shim_write_frame (int fd, enum shim_frame_type type, const void *data, size_t len, skiff_error_t *err)
{
  uint8_t hdr[SHIM_FRAME_HEADER_LEN];
  if (len > SHIM_FRAME_MAX_PAYLOAD)
    return skiff_error_make (err, EMSGSIZE, "shim frame %s of %zu bytes", shim_frame_type_name (type), len);
  shim_frame_header_encode (hdr, type, (uint32_t) len);
  if (write_all (fd, hdr, sizeof (hdr), err) < 0)
    return -1;
  return len ? write_all (fd, data, len, err) : 0;
}

/* 1 when len bytes were read, 0 at EOF before the first byte.  */
static int
read_exact (int fd, uint8_t *p, size_t len, skiff_error_t *err)
{
  size_t got = 0;
  while (got < len)
    {
      ssize_t n = read (fd, p + got, len - got);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return skiff_error_make (err, errno, "read from the shim socket");
        }
      if (n == 0)
        {
          if (got == 0)
            return 0;
          return skiff_error_make (err, 0, "the shim socket closed inside a frame");
        }
      got += n;
    }
  return 1;
}

int
shim_read_frame (int fd, struct shim_frame *out, skiff_error_t *err)
{
  uint8_t hdr[SHIM_FRAME_HEADER_LEN];
  uint8_t type;
  uint32_t len;
  cleanup_free char *data = NULL;
  int r;

  r = read_exact (fd, hdr, sizeof (hdr), err);
  if (r <= 0)
    return r;
  if (shim_frame_header_decode (hdr, &type, &len, err) < 0)
    return -1;
  data = malloc ((size_t) len + 1);
  if (data == NULL)
    return skiff_error_make (err, ENOMEM, "shim frame");
  if (len > 0)
    {
      r = read_exact (fd, (uint8_t *) data, len, err);
      if (r < 0)
        return -1;
      if (r == 0)
        return skiff_error_make (err, 0, "the shim socket closed inside a frame");
    }
  data[len] = '\0';
  out->type = type;
  out->len = len;
  out->data = steal_pointer (&data);
  return 1;
}
