/* Image verbs: images / image ls, rmi, load, save, import.  */
#include "cli.h"
#include "cleanup.h"
#include "format.h"
#include "json.h"
#include "jsonmessage.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct format_header image_headers[] = {
  { "Repository", "REPOSITORY" }, { "Tag", "TAG" },       { "Digest", "DIGEST" },
  { "ID", "IMAGE ID" },           { "CreatedSince", "CREATED" }, { "CreatedAt", "CREATED AT" },
  { "Size", "SIZE" },             { "Containers", "CONTAINERS" }, { "SharedSize", "SHARED SIZE" },
  { "UniqueSize", "UNIQUE SIZE" }, { "VirtualSize", "VIRTUAL SIZE" },
  { NULL, NULL },
};

/* The digest recorded for repo in RepoDigests ("repo@sha256:..."), or
   "<none>".  */
static const char *
digest_for (yajl_val digests, const char *repo, size_t repo_len)
{
  size_t i;
  for (i = 0; digests && YAJL_IS_ARRAY (digests) && i < digests->u.array.len; i++)
    {
      const char *d = json_str_or (digests->u.array.values[i], "");
      const char *at = strchr (d, '@');
      if (at && (size_t) (at - d) == repo_len && strncmp (d, repo, repo_len) == 0)
        return at + 1;
    }
  return "<none>";
}

static int
image_row (struct formatter *f, yajl_val img, const char *repo, size_t repo_len, const char *tag, const char *digest,
           bool trunc, time_t now, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *id = NULL, *since = NULL, *created_since = NULL, *size = NULL, *shared = NULL;
  cleanup_free char *unique = NULL, *virt = NULL, *text = NULL, *repo_s = strndup (repo, repo_len);
  cleanup_json yajl_val row = NULL;
  int64_t created = json_int_or (json_get (img, "Created"), 0), sz = json_int_or (json_get (img, "Size"), 0);
  int64_t shared_sz = json_int_or (json_get (img, "SharedSize"), -1), containers = json_int_or (json_get (img, "Containers"), -1);
  char when[64], containers_s[32];
  time_t ct = (time_t) created;
  struct tm tm;

  if (g == NULL || repo_s == NULL)
    return skiff_error_make (err, ENOMEM, "images");
  id = trunc ? format_trunc_id (json_str_or (json_get (img, "Id"), "")) : strdup (json_str_or (json_get (img, "Id"), ""));
  since = format_human_duration (difftime (now, ct));
  if (since && asprintf (&created_since, "%s ago", since) < 0)
    created_since = NULL;
  size = format_human_size ((double) sz, 3);
  virt = format_human_size ((double) json_int_or (json_get (img, "VirtualSize"), sz), 4);
  shared = shared_sz < 0 ? strdup ("N/A") : format_human_size ((double) shared_sz, 3);
  unique = shared_sz < 0 ? strdup ("N/A") : format_human_size ((double) (sz - shared_sz), 3);
  if (!id || !created_since || !size || !virt || !shared || !unique)
    return skiff_error_make (err, ENOMEM, "images");
  localtime_r (&ct, &tm);
  strftime (when, sizeof (when), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  if (containers < 0)
    snprintf (containers_s, sizeof (containers_s), "N/A");
  else
    snprintf (containers_s, sizeof (containers_s), "%lld", (long long) containers);

  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Containers", containers_s);
  json_gen_kv_str (g, "CreatedAt", when);
  json_gen_kv_str (g, "CreatedSince", created_since);
  json_gen_kv_str (g, "Digest", digest);
  json_gen_kv_str (g, "ID", id);
  json_gen_kv_str (g, "Repository", repo_s);
  json_gen_kv_str (g, "SharedSize", shared);
  json_gen_kv_str (g, "Size", size);
  json_gen_kv_str (g, "Tag", tag);
  json_gen_kv_str (g, "UniqueSize", unique);
  json_gen_kv_str (g, "VirtualSize", virt);
  yajl_gen_map_close (g);
  text = json_gen_steal (g, NULL);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "images");
  if (json_parse (text, &row, err) < 0)
    return -1;
  return formatter_row (f, row, err);
}

/* One row per repo:tag; an untagged image is "<none>" "<none>" (or its
   digests' repositories).  */
static int
image_rows (struct formatter *f, yajl_val img, bool trunc, time_t now, skiff_error_t *err)
{
  yajl_val tags = json_get (img, "RepoTags"), digests = json_get (img, "RepoDigests");
  size_t i, rows = 0;

  for (i = 0; tags && YAJL_IS_ARRAY (tags) && i < tags->u.array.len; i++)
    {
      const char *rt = json_str_or (tags->u.array.values[i], "");
      const char *colon = strrchr (rt, ':');
      if (strcmp (rt, "<none>:<none>") == 0)
        continue;
      if (colon == NULL || strchr (colon, '/'))
        colon = rt + strlen (rt);
      if (image_row (f, img, rt, colon - rt, *colon ? colon + 1 : "<none>", digest_for (digests, rt, colon - rt),
                     trunc, now, err)
          < 0)
        return -1;
      rows++;
    }
  if (rows > 0)
    return 0;
  for (i = 0; digests && YAJL_IS_ARRAY (digests) && i < digests->u.array.len; i++)
    {
      const char *d = json_str_or (digests->u.array.values[i], "");
      const char *at = strchr (d, '@');
      if (at == NULL || strcmp (d, "<none>@<none>") == 0)
        continue;
      if (image_row (f, img, d, at - d, "<none>", at + 1, trunc, now, err) < 0)
        return -1;
      rows++;
    }
  if (rows == 0)
    return image_row (f, img, "<none>", 6, "<none>", "<none>", trunc, now, err);
  return 0;
}

int
cmd_images (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },         { "quiet", no_argument, NULL, 'q' },
    { "digests", no_argument, NULL, 'D' },     { "no-trunc", no_argument, NULL, 'T' },
    { "filter", required_argument, NULL, 'f' }, { "format", required_argument, NULL, 'F' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_json yajl_val list = NULL;
  cleanup_free char *filters = NULL, *fesc = NULL, *path = NULL;
  cleanup_strv char **filter_args = NULL;
  const char *format = NULL;
  bool all = false, quiet = false, digests = false, no_trunc = false;
  skiff_error_t err = NULL;
  struct formatter f;
  time_t now = time (NULL);
  size_t i;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:aqf:", opts)) != -1)
    switch (c)
      {
      case 'a': all = true; break;
      case 'q': quiet = true; break;
      case 'D': digests = true; break;
      case 'T': no_trunc = true; break;
      case 'f':
        if (strchr (optarg, '=') == NULL)
          return cli_flag_error (ctx, "bad format of filter (expected name=value)");
        if (strv_push (&filter_args, optarg) < 0)
          return 1;
        break;
      case 'F': format = optarg; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 1))
    return 1;
  if (argc - optind == 1)
    {
      cleanup_free char *ref = NULL;
      if (asprintf (&ref, "reference=%s", argv[optind]) < 0 || strv_push (&filter_args, ref) < 0)
        return 1;
    }
  if (filter_args)
    {
      /* {"key":{"value":true,...},...}; filters of one key are grouped.  */
      cleanup_gen yajl_gen g = json_gen_new (false);
      char **p, **q;
      if (g == NULL)
        return 1;
      yajl_gen_map_open (g);
      for (p = filter_args; *p; p++)
        {
          size_t klen = strchr (*p, '=') - *p;
          bool seen = false;
          for (q = filter_args; q < p; q++)
            if (strncmp (*q, *p, klen + 1) == 0)
              seen = true;
          if (seen)
            continue;
          yajl_gen_string (g, (const unsigned char *) *p, klen);
          yajl_gen_map_open (g);
          for (q = p; *q; q++)
            if (strncmp (*q, *p, klen + 1) == 0)
              {
                json_gen_str (g, *q + klen + 1);
                yajl_gen_bool (g, 1);
              }
          yajl_gen_map_close (g);
        }
      yajl_gen_map_close (g);
      filters = json_gen_steal (g, NULL);
      fesc = filters ? client_escape (filters) : NULL;
      if (fesc == NULL)
        return 1;
    }
  if (asprintf (&path, "/images/json%s%s%s%s", all ? "?all=1" : "", fesc ? (all ? "&" : "?") : "",
                fesc ? "filters=" : "", fesc ? fesc : "")
      < 0)
    return 1;
  if (client_json (&ctx->client, "GET", path, NULL, &list, &err) < 0)
    return cli_fail (&err);
  if (quiet && format == NULL)
    format = "{{.ID}}";
  if (formatter_init (&f, format,
                      digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                              : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
                      image_headers, true, stdout, &err)
      < 0)
    return cli_fail (&err);
  for (i = 0; list && YAJL_IS_ARRAY (list) && i < list->u.array.len; i++)
    if (image_rows (&f, list->u.array.values[i], !no_trunc, now, &err) < 0)
      {
        formatter_release (&f);
        return cli_fail (&err);
      }
  c = formatter_finish (&f, &err);
  formatter_release (&f);
  return c < 0 ? cli_fail (&err) : 0;
}

int
cmd_rmi (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "no-prune", no_argument, NULL, 'P' },
    { NULL, 0, NULL, 0 },
  };
  bool force = false, no_prune = false;
  int c, i, status = 0;

  while ((c = cli_getopt (ctx, argc, argv, "+:f", opts)) != -1)
    switch (c)
      {
      case 'f': force = true; break;
      case 'P': no_prune = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  for (i = optind; i < argc; i++)
    {
      cleanup_free char *base = cli_path ("/images", argv[i], NULL);
      cleanup_free char *path = NULL;
      cleanup_json yajl_val v = NULL;
      skiff_error_t err = NULL;
      size_t k;

      if (base == NULL || asprintf (&path, "%s%s%s", base, force ? "?force=1" : "",
                                    no_prune ? (force ? "&noprune=1" : "?noprune=1") : "")
                              < 0)
        return 1;
      {
        struct client_response r;
        if (client_do (&ctx->client, "DELETE", path, NULL, NULL, 0, &r, &err) == 0)
          {
            if (r.status == 404)
              skiff_error_make (&err, 0, "Error: No such image: %s", argv[i]);
            else if (r.status >= 400)
              client_error_from_response (&r, &err);
            else if (r.len > 0)
              json_parse (r.body, &v, &err);
            client_response_release (&r);
          }
      }
      if (err)
        {
          status = 1;
          cli_fail (&err);
          continue;
        }
      for (k = 0; v && YAJL_IS_ARRAY (v) && k < v->u.array.len; k++)
        {
          yajl_val e = v->u.array.values[k];
          if (json_get (e, "Untagged"))
            printf ("Untagged: %s\n", json_str_or (json_get (e, "Untagged"), ""));
          if (json_get (e, "Deleted"))
            printf ("Deleted: %s\n", json_str_or (json_get (e, "Deleted"), ""));
        }
    }
  return status;
}

/* JSON message stream of load and import: "stream" text is printed,
   "status" lines too, an "error" fails.  */
static int
post_stream (struct cli_ctx *ctx, const char *path, const char *content_type, int fd)
{
  struct jsonmsg_display m;
  skiff_error_t err = NULL;
  int ret;

  jsonmsg_display_init (&m, stdout);
  ret = client_stream (&ctx->client, "POST", path, content_type, fd, jsonmsg_display_feed, &m, &err);
  if (ret == 0)
    jsonmsg_display_finish (&m);
  if (ret < 0)
    {
      jsonmsg_display_release (&m);
      return cli_fail (&err);
    }
  if (m.error)
    {
      fprintf (stderr, "%s\n", m.error);
      jsonmsg_display_release (&m);
      return 1;
    }
  jsonmsg_display_release (&m);
  return 0;
}

int
cmd_load (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "input", required_argument, NULL, 'i' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_close int fd = -1;
  const char *input = NULL;
  bool quiet = false;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:i:q", opts)) != -1)
    switch (c)
      {
      case 'i': input = optarg; break;
      case 'q': quiet = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 0))
    return 1;
  if (input)
    {
      fd = open (input, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          fprintf (stderr, "open %s: %s\n", input, strerror (errno));
          return 1;
        }
    }
  else if (isatty (0))
    {
      fprintf (stderr, "requested load from stdin, but stdin is empty\n");
      return 1;
    }
  /* Docker asks for quiet output when stdout is not a terminal.  */
  if (!isatty (1))
    quiet = true;
  return post_stream (ctx, quiet ? "/images/load?quiet=1" : "/images/load?quiet=0", "application/x-tar",
                      input ? fd : 0);
}

static int
save_data (const char *data, size_t len, void *opaque)
{
  return write_all (*(int *) opaque, data, len);
}

int
cmd_save (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *path = NULL;
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = -1;
  const char *output = NULL;
  skiff_error_t err = NULL;
  int c, i, out_fd = 1;

  while ((c = cli_getopt (ctx, argc, argv, "+:o:", opts)) != -1)
    switch (c)
      {
      case 'o': output = optarg; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, -1))
    return 1;
  if (output == NULL && isatty (1))
    {
      fprintf (stderr, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
      return 1;
    }
  path = strdup ("/images/get");
  for (i = optind; path && i < argc; i++)
    {
      cleanup_free char *esc = client_escape (argv[i]);
      char *n = NULL;
      if (esc == NULL || asprintf (&n, "%s%snames=%s", path, i == optind ? "?" : "&", esc) < 0)
        return 1;
      free (path);
      path = n;
    }
  if (path == NULL)
    return 1;
  if (output)
    {
      /* Write beside the target and rename, so that a failed save leaves no
         truncated archive under the requested name.  */
      if (asprintf (&tmp, "%s.skiff-tmp-%d", output, (int) getpid ()) < 0)
        return 1;
      fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        {
          fprintf (stderr, "failed to save image: open %s: %s\n", output, strerror (errno));
          return 1;
        }
      out_fd = fd;
    }
  if (client_stream (&ctx->client, "GET", path, NULL, -1, save_data, &out_fd, &err) < 0)
    {
      if (tmp)
        unlink (tmp);
      return cli_fail (&err);
    }
  if (output && (fsync (fd) < 0 || rename (tmp, output) < 0))
    {
      fprintf (stderr, "failed to save image: %s: %s\n", output, strerror (errno));
      unlink (tmp);
      return 1;
    }
  return 0;
}

int
cmd_import (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "change", required_argument, NULL, 'c' },
    { "message", required_argument, NULL, 'm' },
    { "platform", required_argument, NULL, 'p' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **changes = NULL;
  cleanup_free char *path = NULL, *repo = NULL, *msg = NULL, *src = NULL;
  cleanup_close int fd = -1;
  const char *message = "", *source, *ref = "";
  char **p;
  int c;
  bool url;

  while ((c = cli_getopt (ctx, argc, argv, "+:c:m:", opts)) != -1)
    switch (c)
      {
      case 'c':
        if (strv_push (&changes, optarg) < 0)
          return 1;
        break;
      case 'm': message = optarg; break;
      case 'p': break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, 2))
    return 1;
  source = argv[optind];
  if (argc - optind == 2)
    ref = argv[optind + 1];
  url = strncmp (source, "http://", 7) == 0 || strncmp (source, "https://", 8) == 0;
  if (strcmp (source, "-") != 0 && !url)
    {
      fd = open (source, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          fprintf (stderr, "open %s: %s\n", source, strerror (errno));
          return 1;
        }
    }
  repo = client_escape (ref);
  msg = client_escape (message);
  src = client_escape (url ? source : "-");
  if (repo == NULL || msg == NULL || src == NULL)
    return 1;
  /* The docker CLI sends the whole reference as repo and an empty tag.  */
  if (asprintf (&path, "/images/create?fromSrc=%s&message=%s&repo=%s&tag=", src, msg, repo) < 0)
    return 1;
  for (p = changes; p && *p; p++)
    {
      cleanup_free char *esc = client_escape (*p);
      char *n = NULL;
      if (esc == NULL || asprintf (&n, "%s&changes=%s", path, esc) < 0)
        return 1;
      free (path);
      path = n;
    }
  return post_stream (ctx, path, url ? NULL : "application/x-tar", url ? -1 : (fd >= 0 ? fd : 0));
}
