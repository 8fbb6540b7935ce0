/* skiff port: a container's published ports, from its NetworkSettings.Ports,
   as docker 20.10 prints them (sorted here: Go's map order is random).  */
#include "cli.h"
#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct port_line
{
  int port;
  char proto[8];
  char *text;
};

static int
cmp_port_line (const void *a, const void *b)
{
  const struct port_line *x = a, *y = b;
  if (x->port != y->port)
    return x->port < y->port ? -1 : 1;
  return strcmp (x->proto, y->proto);
}

/* Prints "HOSTIP:HOSTPORT" for each binding of key, prefixed with
   "KEY -> " when all is set; returns how many it printed.  */
static int
collect (yajl_val bindings, const char *key, bool all, struct port_line **lines, size_t *n)
{
  const char *slash = strchr (key, '/');
  size_t i;
  int count = 0;

  for (i = 0; bindings && YAJL_IS_ARRAY (bindings) && i < bindings->u.array.len; i++)
    {
      yajl_val ip = json_get (bindings->u.array.values[i], "HostIp");
      yajl_val hp = json_get (bindings->u.array.values[i], "HostPort");
      struct port_line *grown = realloc (*lines, (*n + 1) * sizeof (*grown)), *l;
      if (grown == NULL)
        return -1;
      *lines = grown;
      l = &grown[*n];
      l->port = atoi (key);
      snprintf (l->proto, sizeof (l->proto), "%s", slash ? slash + 1 : "tcp");
      if (asprintf (&l->text, "%s%s%s:%s", all ? key : "", all ? " -> " : "",
                    ip && YAJL_IS_STRING (ip) ? ip->u.string : "", hp && YAJL_IS_STRING (hp) ? hp->u.string : "")
          < 0)
        return -1;
      (*n)++;
      count++;
    }
  return count;
}

int
cmd_port (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = { { NULL, 0, NULL, 0 } };
  cleanup_json yajl_val v = NULL;
  cleanup_free char *want = NULL;
  struct port_line *lines = NULL;
  skiff_error_t err = NULL;
  yajl_val ports;
  size_t i, n = 0;
  int c, ret = 0;

  while ((c = cli_getopt (ctx, argc, argv, "+:", opts)) != -1)
    return ctx->status;
  if (cli_check_args (ctx, argc - optind, 1, 2))
    return 1;
  if (argc - optind == 2)
    {
      const char *p = argv[optind + 1], *slash = strchr (p, '/');
      char *end;
      long num = strtol (p, &end, 10);
      if (end == p || (*end && *end != '/') || num < 1 || num > 65535)
        {
          fprintf (stderr, "Error: invalid port: %s\n", p);
          return 1;
        }
      if (asprintf (&want, "%ld/%s", num, slash && slash[1] ? slash + 1 : "tcp") < 0)
        return cli_fail (&err);
    }
  if (cli_inspect_object (ctx, "container", argv[optind], &v, &err) < 0)
    return cli_fail (&err);
  ports = json_get (json_get (v, "NetworkSettings"), "Ports");
  for (i = 0; ports && YAJL_IS_OBJECT (ports) && i < ports->u.object.len; i++)
    {
      const char *key = ports->u.object.keys[i];
      if (want && strcmp (key, want) != 0)
        continue;
      if (collect (ports->u.object.values[i], key, want == NULL, &lines, &n) < 0)
        {
          ret = -1;
          break;
        }
    }
  if (ret < 0)
    fprintf (stderr, "skiff: out of memory\n");
  else if (want && n == 0)
    {
      fprintf (stderr, "Error: No public port '%s' published for %s\n", want, argv[optind]);
      ret = 1;
    }
  else
    {
      qsort (lines, n, sizeof (*lines), cmp_port_line);
      for (i = 0; i < n; i++)
        printf ("%s\n", lines[i].text);
    }
  for (i = 0; i < n; i++)
    free (lines[i].text);
  free (lines);
  return ret < 0 ? 1 : ret;
}
