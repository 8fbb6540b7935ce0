/* Shared helpers of the skiff CLI: Docker-style flag and argument errors,
   string vectors, API paths.  */
#include "cli.h"
#include "format.h"
#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void
print_help (struct cli_ctx *ctx)
{
  printf ("\nUsage:  skiff %s %s\n\n%s\n", ctx->cmd, ctx->usage, ctx->summary);
  if (ctx->options && ctx->options[0])
    printf ("\nOptions:\n%s", ctx->options);
}

int
cli_flag_error (struct cli_ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nSee 'skiff %s --help'.\n", ctx->cmd);
  ctx->status = CLI_STATUS_DAEMON;
  return CLI_STATUS_DAEMON;
}

int
cli_getopt (struct cli_ctx *ctx, int argc, char **argv, const char *shortopts, const struct option *longopts)
{
  int c;
  const char *arg;

  opterr = 0;
  c = getopt_long (argc, argv, shortopts, longopts, NULL);
  if (c != '?' && c != ':')
    return c;
  arg = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "";
  /* getopt leaves optind on a short-option group it has not finished.  */
  if (optopt && (strncmp (arg, "-", 1) != 0 || strchr (arg, optopt) == NULL) && optind < argc)
    arg = argv[optind];
  if (c == '?' && (strcmp (arg, "--help") == 0 || (optopt == 'h' && strncmp (arg, "--", 2) != 0)))
    {
      print_help (ctx);
      ctx->status = 0;
      return CLI_OPT_EXIT;
    }
  if (strncmp (arg, "--", 2) == 0)
    {
      size_t len = strcspn (arg, "=");
      if (c == ':')
        cli_flag_error (ctx, "flag needs an argument: %.*s", (int) len, arg);
      else
        cli_flag_error (ctx, "unknown flag: %.*s", (int) len, arg);
    }
  else if (c == ':')
    cli_flag_error (ctx, "flag needs an argument: '%c' in %s", optopt, arg);
  else
    cli_flag_error (ctx, "unknown shorthand flag: '%c' in %s", optopt, arg);
  return CLI_OPT_EXIT;
}

int
cli_check_args (struct cli_ctx *ctx, int nargs, int min, int max)
{
  if (nargs >= min && (max < 0 || nargs <= max))
    return 0;
  if (min == 0 && max == 0)
    fprintf (stderr, "\"skiff %s\" accepts no arguments.", ctx->cmd);
  else if (min == max)
    fprintf (stderr, "\"skiff %s\" requires exactly %d argument%s.", ctx->cmd, min, min == 1 ? "" : "s");
  else if (max < 0)
    fprintf (stderr, "\"skiff %s\" requires at least %d argument%s.", ctx->cmd, min, min == 1 ? "" : "s");
  else
    fprintf (stderr, "\"skiff %s\" requires at least %d and at most %d arguments.", ctx->cmd, min, max);
  fprintf (stderr, "\nSee 'skiff %s --help'.\n\nUsage:  skiff %s %s\n\n%s\n", ctx->cmd, ctx->cmd, ctx->usage,
           ctx->summary);
  ctx->status = 1;
  return 1;
}

int
cli_fail (skiff_error_t *err)
{
  int status;
  if (err == NULL || *err == NULL)
    return 1;
  fprintf (stderr, "%s\n", (*err)->msg);
  status = (*err)->status;
  skiff_error_release (err);
  return status;
}

void
cli_report_run_error (struct cli_ctx *ctx, const char *msg, bool with_help)
{
  size_t len = strlen (msg);
  /* Docker ends the message with exactly one period.  */
  if (len > 0 && msg[len - 1] == '.')
    len--;
  fprintf (stderr, "skiff: %.*s.\n", (int) len, msg);
  if (with_help)
    fprintf (stderr, "See 'skiff %s --help'.\n", ctx->cmd);
}

size_t
strv_len (char **v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

int
strv_push (char ***v, const char *s)
{
  size_t n = strv_len (*v);
  char **nv = realloc (*v, (n + 2) * sizeof (char *));
  if (nv == NULL)
    return -1;
  *v = nv;
  nv[n] = strdup (s);
  nv[n + 1] = NULL;
  return nv[n] ? 0 : -1;
}

char *
cli_path (const char *prefix, const char *id, const char *suffix)
{
  cleanup_free char *esc = client_escape (id);
  char *out = NULL;
  if (esc == NULL || asprintf (&out, "%s/%s%s", prefix, esc, suffix ? suffix : "") < 0)
    return NULL;
  return out;
}

int
cli_inspect_object (struct cli_ctx *ctx, const char *kind, const char *name, yajl_val *out, skiff_error_t *err)
{
  cleanup_free char *path = cli_path (strcmp (kind, "image") == 0 ? "/images" : "/containers", name, "/json");
  struct client_response r;
  int ret;

  if (path == NULL)
    return skiff_error_make (err, ENOMEM, "inspect");
  if (client_do (&ctx->client, "GET", path, NULL, NULL, 0, &r, err) < 0)
    return -1;
  if (r.status == 404)
    ret = skiff_error_make (err, 0, "Error: No such %s: %s", kind, name);
  else if (r.status >= 400)
    ret = client_error_from_response (&r, err);
  else
    ret = json_parse (r.body, out, err);
  client_response_release (&r);
  return ret;
}

void
cli_print_deleted (yajl_val v, const char *key, const char *title)
{
  yajl_val deleted = json_get (v, key);
  size_t i;
  if (deleted == NULL || !YAJL_IS_ARRAY (deleted) || deleted->u.array.len == 0)
    return;
  printf ("%s\n", title);
  for (i = 0; i < deleted->u.array.len; i++)
    printf ("%s\n", json_str_or (deleted->u.array.values[i], ""));
  printf ("\n");
}

int
cli_print_inspected (const char *format, yajl_val *found, size_t nfound, char **errors, int status)
{
  size_t k;
  if (format)
    for (k = 0; k < nfound; k++)
      {
        cleanup_free char *text = NULL;
        skiff_error_t err = NULL;
        if (format_render (format, found[k], false, &text, &err) < 0)
          {
            status = cli_fail (&err);
            break;
          }
        printf ("%s\n", text);
      }
  else if (nfound == 0)
    printf ("[]\n");
  else
    {
      printf ("[");
      for (k = 0; k < nfound; k++)
        {
          printf (k ? ",\n    " : "\n    ");
          format_json_indent (stdout, found[k], "    ", 1);
        }
      printf ("\n]\n");
    }
  for (k = 0; k < nfound; k++)
    yajl_tree_free (found[k]);
  fflush (stdout);
  for (k = 0; errors && errors[k]; k++)
    fprintf (stderr, "%s\n", errors[k]);
  return status;
}
