#include "cli.h"
#include "cleanup.h"
#include "container.h"
#include "json.h"
#include "state.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char list_usage[] = "[-f table|json] [-q]";

static void
owner_name (uid_t uid, char *buf, size_t len)
{
  struct passwd *pw = getpwuid (uid);
  if (pw)
    snprintf (buf, len, "%s", pw->pw_name);
  else
    snprintf (buf, len, "#%u", uid);
}

int
cmd_list (struct cli_global *g, int argc, char **argv)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **ids = NULL;
  skiff_error_t err = NULL;
  const char *format = "table";
  bool quiet = false;
  size_t n, i;
  int c;

  while ((c = getopt_long (argc, argv, "+f:q", opts, NULL)) != -1)
    {
      if (c == 'f')
        format = optarg;
      else if (c == 'q')
        quiet = true;
      else
        return cli_usage ("list", list_usage, "invalid option");
    }
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return cli_usage ("list", list_usage, "invalid format `%s`", format);
  if (cli_require_args (argc, optind, 0, "list", list_usage) < 0)
    return 1;
  if (container_list (g->root, &ids, &n, &err) < 0)
    return cli_fail (&err);

  if (quiet)
    {
      for (i = 0; i < n; i++)
        printf ("%s\n", ids[i]);
      return 0;
    }
  if (strcmp (format, "json") == 0)
    {
      cleanup_gen yajl_gen gen = json_gen_new (false);
      cleanup_free char *text = NULL;
      yajl_gen_array_open (gen);
      for (i = 0; i < n; i++)
        {
          cleanup_state struct container_state *st = NULL;
          char owner[64];
          const char *status;
          skiff_error_t ignored = NULL;
          if (state_load (g->root, ids[i], &st, &ignored) < 0)
            {
              skiff_error_release (&ignored);
              continue;
            }
          status = state_status (g->root, st);
          owner_name (st->owner, owner, sizeof (owner));
          yajl_gen_map_open (gen);
          json_gen_kv_str (gen, "ociVersion", "1.0.2");
          json_gen_kv_str (gen, "id", st->id);
          json_gen_kv_int (gen, "pid", strcmp (status, "stopped") == 0 ? 0 : st->pid);
          json_gen_kv_str (gen, "status", status);
          json_gen_kv_str (gen, "bundle", st->bundle ? st->bundle : "");
          json_gen_kv_str (gen, "rootfs", st->rootfs ? st->rootfs : "");
          json_gen_kv_str (gen, "created", st->created ? st->created : "");
          json_gen_kv_str (gen, "owner", owner);
          yajl_gen_map_close (gen);
        }
      yajl_gen_array_close (gen);
      text = json_gen_steal (gen, NULL);
      printf ("%s\n", text ? text : "[]");
      return 0;
    }
  printf ("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (i = 0; i < n; i++)
    {
      cleanup_state struct container_state *st = NULL;
      skiff_error_t ignored = NULL;
      const char *status;
      char owner[64];
      if (state_load (g->root, ids[i], &st, &ignored) < 0)
        {
          skiff_error_release (&ignored);
          continue;
        }
      status = state_status (g->root, st);
      owner_name (st->owner, owner, sizeof (owner));
      printf ("%-12s %-8d %-10s %-40s %-30s %s\n", st->id, strcmp (status, "stopped") == 0 ? 0 : st->pid, status,
              st->bundle ? st->bundle : "", st->created ? st->created : "", owner);
    }
  return 0;
}
