/* `docker import`: a rootfs tarball becomes a one-layer image whose config
   is built from Dockerfile-like changes (daemon/images/image_import.go and
   builder/dockerfile BuildFromConfig).  */
#include "store_internal.h"
#include "cleanup.h"
#include "fs.h"
#include "layer_unpack.h"
#include "reference.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define DOCKER_VERSION "20.10.24"

static void
changes_release (struct image_changes *c)
{
  free (c->user);
  free (c->workdir);
  cleanup_strvp (&c->exposed);
  cleanup_strvp (&c->env);
  cleanup_strvp (&c->cmd);
  cleanup_strvp (&c->volumes);
  cleanup_strvp (&c->entrypoint);
  cleanup_strvp (&c->onbuild);
  cleanup_strvp (&c->labels);
}

/* Splits s into words; double and single quotes group, backslash escapes
   (outside single quotes), as the Dockerfile parser does for ENV/LABEL.  */
static int
split_words (const char *s, char ***out)
{
  cleanup_strv char **v = calloc (1, sizeof (char *));
  cleanup_free char *word = malloc (strlen (s) + 1);
  size_t n;

  if (v == NULL || word == NULL)
    return -1;
  while (*s)
    {
      char quote = 0;
      while (isspace ((unsigned char) *s))
        s++;
      if (*s == '\0')
        break;
      n = 0;
      while (*s && (quote || !isspace ((unsigned char) *s)))
        {
          if (quote == 0 && (*s == '"' || *s == '\''))
            quote = *s++;
          else if (quote && *s == quote)
            {
              quote = 0;
              s++;
            }
          else if (*s == '\\' && quote != '\'' && s[1])
            {
              word[n++] = s[1];
              s += 2;
            }
          else
            word[n++] = *s++;
        }
      if (quote)
        return -2;
      word[n] = '\0';
      if (strv_add (&v, word) < 0)
        return -1;
    }
  *out = steal_pointer (&v);
  return 0;
}

/* Replaces "KEY=..." in *v or appends kv.  */
static int
set_kv (char ***v, const char *kv)
{
  size_t klen = strchr (kv, '=') - kv, i;
  for (i = 0; *v && (*v)[i]; i++)
    if (strncmp ((*v)[i], kv, klen) == 0 && (*v)[i][klen] == '=')
      {
        char *d = strdup (kv);
        if (d == NULL)
          return -1;
        free ((*v)[i]);
        (*v)[i] = d;
        return 0;
      }
  return strv_add (v, kv);
}

/* ENV and LABEL: "K=V K2=V2" or the legacy "K V with spaces".  */
static int
parse_kv_list (const char *instr, const char *args, char ***target, skiff_error_t *err)
{
  cleanup_strv char **words = NULL;
  size_t i;
  int r = split_words (args, &words);

  if (r == -2)
    return image_invalid (skiff_error_make (err, 0, "%s: unterminated quote in `%s`", instr, args));
  if (r < 0)
    return skiff_error_make (err, ENOMEM, "parse %s", instr);
  if (words[0] == NULL)
    return image_invalid (skiff_error_make (err, 0, "%s requires at least one argument", instr));
  if (strchr (words[0], '=') == NULL)
    {
      cleanup_free char *kv = NULL;
      const char *value = args;
      while (isspace ((unsigned char) *value))
        value++;
      value += strcspn (value, " \t");
      while (isspace ((unsigned char) *value))
        value++;
      if (*value == '\0')
        return image_invalid (skiff_error_make (err, 0, "%s must have two arguments", instr));
      if (asprintf (&kv, "%s=%s", words[0], value) < 0 || set_kv (target, kv) < 0)
        return skiff_error_make (err, ENOMEM, "parse %s", instr);
      return 0;
    }
  for (i = 0; words[i]; i++)
    {
      if (strchr (words[i], '=') == NULL || words[i][0] == '=')
        return image_invalid (skiff_error_make (err, 0, "%s names can not be blank: `%s`", instr, words[i]));
      if (set_kv (target, words[i]) < 0)
        return skiff_error_make (err, ENOMEM, "parse %s", instr);
    }
  return 0;
}

/* CMD, ENTRYPOINT, VOLUME: a JSON array of strings, else the shell form.  */
static int
parse_exec_form (const char *args, char ***out, bool shell, skiff_error_t *err)
{
  cleanup_json yajl_val v = NULL;
  cleanup_strv char **words = NULL;
  skiff_error_t ignored = NULL;
  size_t i;

  if (args[0] == '[' && json_parse (args, &v, &ignored) == 0 && YAJL_IS_ARRAY (v))
    {
      bool all_strings = true;
      for (i = 0; i < v->u.array.len; i++)
        all_strings = all_strings && YAJL_IS_STRING (v->u.array.values[i]);
      if (all_strings)
        {
          words = calloc (1, sizeof (char *));
          for (i = 0; words && i < v->u.array.len; i++)
            if (strv_add (&words, YAJL_GET_STRING (v->u.array.values[i])) < 0)
              return skiff_error_make (err, ENOMEM, "parse change");
          if (words == NULL)
            return skiff_error_make (err, ENOMEM, "parse change");
          cleanup_strvp (out);
          *out = steal_pointer (&words);
          return 0;
        }
    }
  skiff_error_release (&ignored);
  words = calloc (1, sizeof (char *));
  if (words == NULL)
    return skiff_error_make (err, ENOMEM, "parse change");
  if (shell)
    {
      if (strv_add (&words, "/bin/sh") < 0 || strv_add (&words, "-c") < 0 || strv_add (&words, args) < 0)
        return skiff_error_make (err, ENOMEM, "parse change");
    }
  else
    {
      cleanup_strvp (&words);
      if (split_words (args, &words) < 0)
        return image_invalid (skiff_error_make (err, 0, "cannot parse `%s`", args));
    }
  cleanup_strvp (out);
  *out = steal_pointer (&words);
  return 0;
}

static int
parse_expose (const char *args, char ***exposed, skiff_error_t *err)
{
  cleanup_strv char **words = NULL;
  size_t i;

  if (split_words (args, &words) < 0)
    return skiff_error_make (err, ENOMEM, "parse EXPOSE");
  for (i = 0; words[i]; i++)
    {
      cleanup_free char *port = NULL;
      char *slash = strchr (words[i], '/');
      const char *proto = slash ? slash + 1 : "tcp";
      char *end;
      unsigned long lo, hi, p;

      if (slash)
        *slash = '\0';
      if (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0 && strcmp (proto, "sctp") != 0)
        return image_invalid (skiff_error_make (err, 0, "invalid proto: %s", proto));
      errno = 0;
      lo = strtoul (words[i], &end, 10);
      hi = lo;
      if (*end == '-')
        hi = strtoul (end + 1, &end, 10);
      if (errno || *end || end == words[i] || lo == 0 || hi > 65535 || lo > hi)
        return image_invalid (skiff_error_make (err, 0, "invalid containerPort: %s", words[i]));
      for (p = lo; p <= hi; p++)
        {
          free (port);
          if (asprintf (&port, "%lu/%s", p, proto) < 0)
            return skiff_error_make (err, ENOMEM, "parse EXPOSE");
          if (!strv_contains (*exposed, port) && strv_add (exposed, port) < 0)
            return skiff_error_make (err, ENOMEM, "parse EXPOSE");
        }
    }
  return 0;
}

static int
apply_change (struct image_changes *c, const char *change, skiff_error_t *err)
{
  cleanup_free char *instr = NULL;
  const char *args = change;
  size_t i, n;

  while (isspace ((unsigned char) *args))
    args++;
  n = strcspn (args, " \t");
  instr = strndup (args, n);
  if (instr == NULL)
    return skiff_error_make (err, ENOMEM, "parse change");
  for (i = 0; instr[i]; i++)
    instr[i] = toupper ((unsigned char) instr[i]);
  args += n;
  while (isspace ((unsigned char) *args))
    args++;

  if (strcmp (instr, "CMD") == 0)
    {
      c->cmd_set = true;
      return parse_exec_form (args, &c->cmd, true, err);
    }
  if (strcmp (instr, "ENTRYPOINT") == 0)
    {
      c->entrypoint_set = true;
      return parse_exec_form (args, &c->entrypoint, true, err);
    }
  if (strcmp (instr, "ENV") == 0)
    return parse_kv_list ("ENV", args, &c->env, err);
  if (strcmp (instr, "LABEL") == 0)
    return parse_kv_list ("LABEL", args, &c->labels, err);
  if (strcmp (instr, "EXPOSE") == 0)
    return parse_expose (args, &c->exposed, err);
  if (strcmp (instr, "VOLUME") == 0)
    {
      cleanup_strv char **vols = NULL;
      if (parse_exec_form (args, &vols, false, err) < 0)
        return IMAGE_ERR_INVALID;
      for (i = 0; vols[i]; i++)
        if (!strv_contains (c->volumes, vols[i]) && strv_add (&c->volumes, vols[i]) < 0)
          return skiff_error_make (err, ENOMEM, "parse VOLUME");
      return 0;
    }
  if (strcmp (instr, "USER") == 0 || strcmp (instr, "WORKDIR") == 0)
    {
      char **field = instr[0] == 'U' ? &c->user : &c->workdir;
      char *v;
      if (*args == '\0')
        return image_invalid (skiff_error_make (err, 0, "%s requires exactly one argument", instr));
      /* A relative WORKDIR is relative to the previous one.  */
      v = (instr[0] == 'W') ? fs_absolute (c->workdir ? c->workdir : "/", args) : strdup (args);
      if (v == NULL)
        return skiff_error_make (err, ENOMEM, "parse %s", instr);
      free (*field);
      *field = v;
      return 0;
    }
  if (strcmp (instr, "ONBUILD") == 0)
    return strv_add (&c->onbuild, args) < 0 ? skiff_error_make (err, ENOMEM, "parse ONBUILD") : 0;
  return image_invalid (skiff_error_make (err, 0, "%s is not a valid change command", instr));
}

static const char *
go_arch (void)
{
  static struct utsname u;
  if (uname (&u) < 0)
    return "amd64";
  if (strcmp (u.machine, "x86_64") == 0)
    return "amd64";
  if (strcmp (u.machine, "aarch64") == 0)
    return "arm64";
  if (strncmp (u.machine, "armv7", 5) == 0)
    return "arm";
  if (strcmp (u.machine, "i686") == 0 || strcmp (u.machine, "i386") == 0)
    return "386";
  return u.machine;
}

static int
spool_fd (int fd, const char *path, skiff_error_t *err)
{
  cleanup_close int out = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  char buf[65536];
  ssize_t n;

  if (out < 0)
    return skiff_error_make (err, errno, "create `%s`", path);
  while ((n = read (fd, buf, sizeof (buf))) != 0)
    {
      char *p = buf;
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return skiff_error_make (err, errno, "read the import stream");
      while (n > 0)
        {
          ssize_t w = write (out, p, n);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return skiff_error_make (err, errno, "write `%s`", path);
          p += w, n -= w;
        }
    }
  return 0;
}

static char *
build_config (const struct image_changes *c, const char *diff_id, const char *msg)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  struct timespec ts;
  struct tm tm;
  char date[32], created[64];

  if (g == NULL)
    return NULL;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (date, sizeof (date), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (created, sizeof (created), "%s.%09ldZ", date, ts.tv_nsec);

  /* Field order of Docker's image.Image.  */
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "comment", msg);
  json_gen_kv_str (g, "created", created);
  json_gen_str (g, "container_config");
  store_gen_container_config (g, NULL);
  json_gen_kv_str (g, "docker_version", DOCKER_VERSION);
  json_gen_str (g, "config");
  store_gen_container_config (g, c);
  json_gen_kv_str (g, "architecture", go_arch ());
  json_gen_kv_str (g, "os", "linux");
  json_gen_str (g, "rootfs");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "type", "layers");
  json_gen_str (g, "diff_ids");
  yajl_gen_array_open (g);
  json_gen_str (g, diff_id);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  json_gen_str (g, "history");
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "created", created);
  json_gen_kv_str (g, "comment", msg);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  return json_gen_steal (g, NULL);
}

int
image_import (struct image_store *s, int fd, const char *repo_tag, const char *const *changes, const char *message,
              char **image_id, skiff_error_t *err)
{
  __attribute__ ((cleanup (changes_release))) struct image_changes c = { 0 };
  cleanup_staging char *staging = NULL;
  __attribute__ ((cleanup (store_pending_clear))) struct store_pending p = { 0 };
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *canon = NULL;
  cleanup_free char *tar = NULL;
  cleanup_free char *config = NULL;
  char diff_id[IMAGE_ID_LEN + 1];
  size_t i;
  int ret;

  if (repo_tag && *repo_tag)
    {
      if (image_ref_parse (repo_tag, &ref, err) < 0)
        return IMAGE_ERR_INVALID;
      if (ref.digest)
        return image_invalid (skiff_error_make (err, 0, "refusing to create a tag with a digest reference"));
      if (image_ref_default_tag (&ref, err) < 0 || (canon = image_ref_string (&ref)) == NULL)
        return skiff_error_make (err, ENOMEM, "import");
    }
  for (i = 0; changes && changes[i]; i++)
    {
      ret = apply_change (&c, changes[i], err);
      if (ret < 0)
        return ret;
    }
  if (store_make_staging (s, "import", &staging, err) < 0)
    return -1;
  if (asprintf (&tar, "%s/rootfs", staging) < 0)
    return skiff_error_make (err, ENOMEM, "import");
  if (spool_fd (fd, tar, err) < 0)
    return -1;
  ret = layer_diff_id (tar, diff_id, err);
  if (ret < 0)
    return ret;
  config = build_config (&c, diff_id, message && *message ? message : "Imported from -");
  if (config == NULL)
    return skiff_error_make (err, ENOMEM, "import");
  ret = store_image_parse (config, strlen (config), NULL, &p.img, err);
  if (ret < 0)
    return ret;
  p.layer_tars = calloc (1, sizeof (char *));
  p.tags = calloc (1, sizeof (char *));
  if (p.layer_tars == NULL || p.tags == NULL || strv_add (&p.layer_tars, tar) < 0 || (canon && strv_add (&p.tags, canon) < 0))
    return skiff_error_make (err, ENOMEM, "import");
  ret = store_stage_layers (s, staging, &p, 1, err);
  if (ret < 0)
    return ret;
  {
    store_scoped_lock (s);
    ret = store_commit_locked (s, &p, 1, NULL, err);
    if (ret < 0)
      return ret;
  }
  *image_id = strdup (p.img.id);
  if (*image_id == NULL)
    return skiff_error_make (err, ENOMEM, "import");
  return 0;
}
