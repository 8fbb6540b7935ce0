/* skiff version and skiff info.  */
#include "cli.h"
#include "cleanup.h"
#include "format.h"
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "config.h"

/* Go's names for the machine: amd64, arm64, ...  */
static const char *
go_arch (void)
{
  static struct utsname u;
  if (uname (&u) < 0)
    return "unknown";
  if (strcmp (u.machine, "x86_64") == 0)
    return "amd64";
  if (strcmp (u.machine, "aarch64") == 0)
    return "arm64";
  if (strncmp (u.machine, "i", 1) == 0 && strstr (u.machine, "86"))
    return "386";
  return u.machine;
}

static int
render_format (const char *format, yajl_val ctx)
{
  cleanup_free char *text = NULL;
  skiff_error_t err = NULL;
  if (format_render (format, ctx, false, &text, &err) < 0)
    return cli_fail (&err);
  printf ("%s\n", text);
  return 0;
}

int
cmd_version (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_json yajl_val server = NULL;
  skiff_error_t err = NULL;
  const char *format = NULL;
  yajl_val comps;
  size_t i;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:f:", opts)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 0))
    return 1;
  client_json (&ctx->client, "GET", "/version", NULL, &server, &err);

  if (format)
    {
      cleanup_gen yajl_gen g = json_gen_new (false);
      cleanup_free char *text = NULL;
      cleanup_json yajl_val all = NULL;
      skiff_error_t perr = NULL;
      if (g == NULL)
        return 1;
      yajl_gen_map_open (g);
      json_gen_str (g, "Client");
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "Version", PACKAGE_VERSION);
      json_gen_kv_str (g, "ApiVersion", SKIFF_API_VERSION);
      json_gen_kv_str (g, "DefaultAPIVersion", SKIFF_API_VERSION);
      json_gen_kv_str (g, "Os", "linux");
      json_gen_kv_str (g, "Arch", go_arch ());
      json_gen_kv_str (g, "Context", "default");
      yajl_gen_map_close (g);
      json_gen_str (g, "Server");
      json_gen_value (g, server);
      yajl_gen_map_close (g);
      text = json_gen_steal (g, NULL);
      if (text == NULL || json_parse (text, &all, &perr) < 0)
        return cli_fail (&perr);
      c = render_format (format, all);
      if (err)
        return cli_fail (&err);
      return c;
    }

  printf ("Client:\n"
          " Version:           %s\n"
          " API version:       %s\n"
          " OS/Arch:           linux/%s\n"
          " Context:           default\n",
          PACKAGE_VERSION, SKIFF_API_VERSION, go_arch ());
  if (err)
    {
      printf ("\n");
      fflush (stdout);
      return cli_fail (&err);
    }
  {
    const char *platform = json_str_or (json_get (json_get (server, "Platform"), "Name"), "");
    printf ("\nServer:%s%s\n", platform[0] ? " " : "", platform);
  }
  printf (" Engine:\n"
          "  Version:          %s\n"
          "  API version:      %s (minimum version %s)\n",
          json_str_or (json_get (server, "Version"), ""), json_str_or (json_get (server, "ApiVersion"), ""),
          json_str_or (json_get (server, "MinAPIVersion"), ""));
  if (json_get (server, "GoVersion"))
    printf ("  Go version:       %s\n", json_str_or (json_get (server, "GoVersion"), ""));
  printf ("  Git commit:       %s\n", json_str_or (json_get (server, "GitCommit"), ""));
  if (json_get (server, "BuildTime"))
    {
      /* RFC 3339 from the API, shown as Go's time.ANSIC in local time.  */
      const char *bt = json_str_or (json_get (server, "BuildTime"), "");
      struct tm tm = { 0 };
      const char *rest = strptime (bt, "%Y-%m-%dT%H:%M:%S", &tm);
      char when[64];
      if (rest != NULL)
        {
          time_t t = timegm (&tm);
          localtime_r (&t, &tm);
          strftime (when, sizeof (when), "%a %b %e %H:%M:%S %Y", &tm);
          bt = when;
        }
      printf ("  Built:            %s\n", bt);
    }
  printf ("  OS/Arch:          %s/%s\n", json_str_or (json_get (server, "Os"), ""), json_str_or (json_get (server, "Arch"), ""));
  {
    yajl_val exp = json_get (server, "Experimental");
    printf ("  Experimental:     %s\n", exp && YAJL_IS_TRUE (exp) ? "true" : "false");
  }
  comps = json_get (server, "Components");
  for (i = 0; comps && YAJL_IS_ARRAY (comps) && i < comps->u.array.len; i++)
    {
      yajl_val comp = comps->u.array.values[i];
      yajl_val details = json_get (comp, "Details");
      const char *name = json_str_or (json_get (comp, "Name"), "");
      if (strcmp (name, "Engine") == 0)
        continue;
      printf (" %s:\n  Version:          %s\n", name, json_str_or (json_get (comp, "Version"), ""));
      if (json_get (details, "GitCommit"))
        printf ("  GitCommit:        %s\n", json_str_or (json_get (details, "GitCommit"), ""));
    }
  return 0;
}

static void
print_int (const char *indent, const char *label, yajl_val v)
{
  if (v && YAJL_IS_NUMBER (v))
    printf ("%s%s: %s\n", indent, label, YAJL_GET_NUMBER (v));
}

static void
print_str (const char *label, yajl_val v)
{
  if (v && YAJL_IS_STRING (v))
    printf (" %s: %s\n", label, v->u.string);
}

static void
print_bool (const char *label, yajl_val v)
{
  if (v && (YAJL_IS_TRUE (v) || YAJL_IS_FALSE (v)))
    printf (" %s: %s\n", label, YAJL_IS_TRUE (v) ? "true" : "false");
}

int
cmd_info (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  const char *format = NULL;
  yajl_val warnings, mem;
  size_t i;
  int c;

  while ((c = cli_getopt (ctx, argc, argv, "+:f:", opts)) != -1)
    switch (c)
      {
      case 'f': format = optarg; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 0, 0))
    return 1;
  if (client_json (&ctx->client, "GET", "/info", NULL, &v, &err) < 0)
    {
      if (format == NULL)
        printf ("Client:\n Context:    default\n Debug Mode: false\n\nServer:\n");
      fflush (stdout);
      return cli_fail (&err);
    }
  if (format)
    return render_format (format, v);

  printf ("Client:\n Context:    default\n Debug Mode: false\n\nServer:\n");
  print_int (" ", "Containers", json_get (v, "Containers"));
  print_int ("  ", "Running", json_get (v, "ContainersRunning"));
  print_int ("  ", "Paused", json_get (v, "ContainersPaused"));
  print_int ("  ", "Stopped", json_get (v, "ContainersStopped"));
  print_int (" ", "Images", json_get (v, "Images"));
  print_str ("Server Version", json_get (v, "ServerVersion"));
  print_str ("Storage Driver", json_get (v, "Driver"));
  print_str ("Logging Driver", json_get (v, "LoggingDriver"));
  print_str ("Cgroup Driver", json_get (v, "CgroupDriver"));
  print_str ("Cgroup Version", json_get (v, "CgroupVersion"));
  print_str ("Default Runtime", json_get (v, "DefaultRuntime"));
  print_str ("Kernel Version", json_get (v, "KernelVersion"));
  print_str ("Operating System", json_get (v, "OperatingSystem"));
  print_str ("OSType", json_get (v, "OSType"));
  print_str ("Architecture", json_get (v, "Architecture"));
  print_int (" ", "CPUs", json_get (v, "NCPU"));
  mem = json_get (v, "MemTotal");
  if (mem && YAJL_IS_INTEGER (mem))
    {
      cleanup_free char *m = format_bytes_size ((double) YAJL_GET_INTEGER (mem));
      printf (" Total Memory: %s\n", m ? m : "");
    }
  print_str ("Name", json_get (v, "Name"));
  print_str ("ID", json_get (v, "ID"));
  print_str ("Docker Root Dir", json_get (v, "DockerRootDir"));
  print_bool ("Debug Mode", json_get (v, "Debug"));
  print_bool ("Experimental", json_get (v, "ExperimentalBuild"));
  print_bool ("Live Restore Enabled", json_get (v, "LiveRestoreEnabled"));
  printf ("\n");
  fflush (stdout);
  warnings = json_get (v, "Warnings");
  for (i = 0; warnings && YAJL_IS_ARRAY (warnings) && i < warnings->u.array.len; i++)
    fprintf (stderr, "%s\n", json_str_or (warnings->u.array.values[i], ""));
  return 0;
}
