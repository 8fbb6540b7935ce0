/* skiff: the command-line client of skiffd (Docker Engine API v1.41 on a
   unix socket), with the docker CLI's verbs, flags and output.  */
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct command
{
  const char *name;
  cli_command_fn fn;
  const char *usage;
  const char *summary;
  const char *options;
};

static const char ps_options[] =
  "  -a, --all             Show all containers (default shows just running)\n"
  "  -f, --filter filter   Filter output based on conditions provided (name=, id=, status=, ...)\n"
  "      --format string   Pretty-print containers using a Go template (table, json, {{.Field}})\n"
  "  -n, --last int        Show n last created containers (includes all states)\n"
  "  -l, --latest          Show the latest created container (includes all states)\n"
  "      --no-trunc        Don't truncate output\n"
  "  -q, --quiet           Only display container IDs\n"
  "  -s, --size            Display total file sizes\n";

static const char images_options[] =
  "  -a, --all             Show all images (default hides intermediate images)\n"
  "      --digests         Show digests\n"
  "  -f, --filter filter   Filter output based on conditions provided\n"
  "      --format string   Pretty-print images using a Go template\n"
  "      --no-trunc        Don't truncate output\n"
  "  -q, --quiet           Only show image IDs\n";

static const char exec_options[] =
  "  -d, --detach               Detached mode: run command in the background\n"
  "      --detach-keys string   Override the key sequence for detaching a container\n"
  "  -e, --env list             Set environment variables\n"
  "  -i, --interactive          Keep STDIN open even if not attached\n"
  "      --privileged           Give extended privileges to the command\n"
  "  -t, --tty                  Allocate a pseudo-TTY\n"
  "  -u, --user string          Username or UID (format: <name|uid>[:<group|gid>])\n"
  "  -w, --workdir string       Working directory inside the container\n";

static const char logs_options[] =
  "      --details        Show extra details provided to logs\n"
  "  -f, --follow         Follow log output\n"
  "      --since string   Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)\n"
  "  -n, --tail string    Number of lines to show from the end of the logs (default \"all\")\n"
  "  -t, --timestamps     Show timestamps\n"
  "      --until string   Show logs before a timestamp or relative\n";

#define C(name, fn, usage, summary, options) { name, fn, usage, summary, options }

static const char pull_options[] =
  "      --disable-content-trust   Skip image verification (default true)\n"
  "      --platform string         Set platform if server is multi-platform capable\n"
  "  -q, --quiet                   Suppress verbose output\n";

static const char push_options[] =
  "  -a, --all-tags                Push all tagged images in the repository\n"
  "      --disable-content-trust   Skip image signing (default true)\n"
  "  -q, --quiet                   Suppress verbose output\n";

static const struct command top_commands[] = {
  C ("attach", cmd_attach, "[OPTIONS] CONTAINER", "Attach local standard input, output, and error streams to a running container",
     "      --detach-keys string   Override the key sequence for detaching a container\n"
     "      --no-stdin             Do not attach STDIN\n"
     "      --sig-proxy            Proxy all received signals to the process (default true)\n"),
  C ("create", cmd_create, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", cli_run_options),
  C ("exec", cmd_exec, "[OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container", exec_options),
  C ("images", cmd_images, "[OPTIONS] [REPOSITORY[:TAG]]", "List images", images_options),
  C ("import", cmd_import, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", "Import the contents from a tarball to create a filesystem image",
     "  -c, --change list      Apply Dockerfile instruction to the created image\n"
     "  -m, --message string   Set commit message for imported image\n"),
  C ("info", cmd_info, "[OPTIONS]", "Display system-wide information",
     "  -f, --format string   Format the output using the given Go template\n"),
  C ("inspect", cmd_inspect, "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on Docker objects",
     "  -f, --format string   Format the output using the given Go template\n"
     "  -s, --size            Display total file sizes if the type is container\n"
     "      --type string     Return JSON for specified type\n"),
  C ("kill", cmd_kill, "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",
     "  -s, --signal string   Signal to send to the container (default \"KILL\")\n"),
  C ("load", cmd_load, "[OPTIONS]", "Load an image from a tar archive or STDIN",
     "  -i, --input string   Read from tar archive file, instead of STDIN\n"
     "  -q, --quiet          Suppress the load output\n"),
  C ("login", cmd_login, "[OPTIONS] [SERVER]", "Log in to a Docker registry",
     "  -p, --password string   Password\n"
     "      --password-stdin    Take the password from stdin\n"
     "  -u, --username string   Username\n"),
  C ("logout", cmd_logout, "[SERVER]", "Log out from a Docker registry", ""),
  C ("logs", cmd_logs, "[OPTIONS] CONTAINER", "Fetch the logs of a container", logs_options),
  C ("port", cmd_port, "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container", ""),
  C ("ps", cmd_ps, "[OPTIONS]", "List containers", ps_options),
  C ("pull", cmd_pull, "[OPTIONS] NAME[:TAG|@DIGEST]", "Pull an image or a repository from a registry", pull_options),
  C ("push", cmd_push, "[OPTIONS] NAME[:TAG]", "Push an image or a repository to a registry", push_options),
  C ("restart", cmd_restart, "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",
     "  -t, --time int   Seconds to wait for stop before killing the container (default 10)\n"),
  C ("rm", cmd_rm, "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",
     "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
     "  -l, --link      Remove the specified link\n"
     "  -v, --volumes   Remove anonymous volumes associated with the container\n"),
  C ("rmi", cmd_rmi, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images",
     "  -f, --force      Force removal of the image\n"
     "      --no-prune   Do not delete untagged parents\n"),
  C ("run", cmd_run, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Run a command in a new container", cli_run_options),
  C ("save", cmd_save, "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar archive (streamed to STDOUT by default)",
     "  -o, --output string   Write to a file, instead of STDOUT\n"),
  C ("start", cmd_start, "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers",
     "  -a, --attach               Attach STDOUT/STDERR and forward signals\n"
     "      --detach-keys string   Override the key sequence for detaching a container\n"
     "  -i, --interactive          Attach container's STDIN\n"),
  C ("stop", cmd_stop, "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
     "  -t, --time int   Seconds to wait for stop before killing it (default 10)\n"),
  C ("tag", cmd_tag, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", ""),
  C ("top", cmd_top, "CONTAINER [ps OPTIONS]", "Display the running processes of a container", ""),
  C ("version", cmd_version, "[OPTIONS]", "Show the skiff version information",
     "  -f, --format string   Format the output using the given Go template\n"),
  C ("wait", cmd_wait, "CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes", ""),
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command container_commands[] = {
  C ("attach", cmd_attach, "[OPTIONS] CONTAINER", "Attach local standard input, output, and error streams to a running container",
     "      --detach-keys string   Override the key sequence for detaching a container\n"
     "      --no-stdin             Do not attach STDIN\n"),
  C ("create", cmd_create, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", cli_run_options),
  C ("exec", cmd_exec, "[OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container", exec_options),
  C ("inspect", cmd_container_inspect, "[OPTIONS] CONTAINER [CONTAINER...]", "Display detailed information on one or more containers",
     "  -f, --format string   Format the output using the given Go template\n"
     "  -s, --size            Display total file sizes\n"),
  C ("kill", cmd_kill, "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",
     "  -s, --signal string   Signal to send to the container (default \"KILL\")\n"),
  C ("logs", cmd_logs, "[OPTIONS] CONTAINER", "Fetch the logs of a container", logs_options),
  C ("ls", cmd_ps, "[OPTIONS]", "List containers", ps_options),
  C ("list", cmd_ps, "[OPTIONS]", "List containers", ps_options),
  C ("ps", cmd_ps, "[OPTIONS]", "List containers", ps_options),
  C ("port", cmd_port, "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container", ""),
  C ("prune", cmd_container_prune, "[OPTIONS]", "Remove all stopped containers",
     "      --filter filter   Provide filter values (e.g. 'until=<timestamp>')\n"
     "  -f, --force           Do not prompt for confirmation\n"),
  C ("restart", cmd_restart, "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers",
     "  -t, --time int   Seconds to wait for stop before killing the container (default 10)\n"),
  C ("rm", cmd_rm, "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers",
     "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
     "  -v, --volumes   Remove anonymous volumes associated with the container\n"),
  C ("run", cmd_run, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Run a command in a new container", cli_run_options),
  C ("start", cmd_start, "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers",
     "  -a, --attach               Attach STDOUT/STDERR and forward signals\n"
     "      --detach-keys string   Override the key sequence for detaching a container\n"
     "  -i, --interactive          Attach container's STDIN\n"),
  C ("stop", cmd_stop, "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
     "  -t, --time int   Seconds to wait for stop before killing it (default 10)\n"),
  C ("top", cmd_top, "CONTAINER [ps OPTIONS]", "Display the running processes of a container", ""),
  C ("wait", cmd_wait, "CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes", ""),
  { NULL, NULL, NULL, NULL, NULL },
};

static const struct command image_commands[] = {
  C ("import", cmd_import, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", "Import the contents from a tarball to create a filesystem image",
     "  -c, --change list      Apply Dockerfile instruction to the created image\n"
     "  -m, --message string   Set commit message for imported image\n"),
  C ("inspect", cmd_image_inspect, "[OPTIONS] IMAGE [IMAGE...]", "Display detailed information on one or more images",
     "  -f, --format string   Format the output using the given Go template\n"),
  C ("load", cmd_load, "[OPTIONS]", "Load an image from a tar archive or STDIN",
     "  -i, --input string   Read from tar archive file, instead of STDIN\n"
     "  -q, --quiet          Suppress the load output\n"),
  C ("ls", cmd_images, "[OPTIONS] [REPOSITORY[:TAG]]", "List images", images_options),
  C ("list", cmd_images, "[OPTIONS] [REPOSITORY[:TAG]]", "List images", images_options),
  C ("prune", cmd_image_prune, "[OPTIONS]", "Remove unused images",
     "  -a, --all     Remove all unused images, not just dangling ones\n"
     "  -f, --force   Do not prompt for confirmation\n"),
  C ("pull", cmd_pull, "[OPTIONS] NAME[:TAG|@DIGEST]", "Pull an image or a repository from a registry", pull_options),
  C ("push", cmd_push, "[OPTIONS] NAME[:TAG]", "Push an image or a repository to a registry", push_options),
  C ("rm", cmd_rmi, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images",
     "  -f, --force      Force removal of the image\n"
     "      --no-prune   Do not delete untagged parents\n"),
  C ("save", cmd_save, "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar archive (streamed to STDOUT by default)",
     "  -o, --output string   Write to a file, instead of STDOUT\n"),
  C ("tag", cmd_tag, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", ""),
  { NULL, NULL, NULL, NULL, NULL },
};

static const char network_ls_options[] =
  "  -f, --filter filter   Provide filter values (e.g. 'driver=bridge')\n"
  "      --format string   Pretty-print networks using a Go template\n"
  "      --no-trunc        Do not truncate the output\n"
  "  -q, --quiet           Only display network IDs\n";

static const struct command network_commands[] = {
  C ("connect", cmd_network_connect, "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network",
     "      --alias strings           Add network-scoped alias for the container\n"
     "      --driver-opt strings      driver options for the network\n"
     "      --ip string               IPv4 address (e.g., 172.30.100.104)\n"
     "      --ip6 string              IPv6 address (e.g., 2001:db8::33)\n"
     "      --link list               Add link to another container\n"
     "      --link-local-ip strings   Add a link-local address for the container\n"),
  C ("create", cmd_network_create, "[OPTIONS] NETWORK", "Create a network",
     "      --attachable           Enable manual container attachment\n"
     "      --aux-address map      Auxiliary IPv4 or IPv6 addresses used by\n"
     "                             Network driver (default map[])\n"
     "      --config-from string   The network from which to copy the configuration\n"
     "      --config-only          Create a configuration only network\n"
     "  -d, --driver string        Driver to manage the Network (default \"bridge\")\n"
     "      --gateway strings      IPv4 or IPv6 Gateway for the master subnet\n"
     "      --ingress              Create swarm routing-mesh network\n"
     "      --internal             Restrict external access to the network\n"
     "      --ip-range strings     Allocate container ip from a sub-range\n"
     "      --ipam-driver string   IP Address Management Driver (default \"default\")\n"
     "      --ipam-opt map         Set IPAM driver specific options (default map[])\n"
     "      --ipv6                 Enable IPv6 networking\n"
     "      --label list           Set metadata on a network\n"
     "  -o, --opt map              Set driver specific options (default map[])\n"
     "      --scope string         Control the network's scope\n"
     "      --subnet strings       Subnet in CIDR format that represents a\n"
     "                             network segment\n"),
  C ("disconnect", cmd_network_disconnect, "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network",
     "  -f, --force   Force the container to disconnect from a network\n"),
  C ("inspect", cmd_network_inspect, "[OPTIONS] NETWORK [NETWORK...]", "Display detailed information on one or more networks",
     "  -f, --format string   Format the output using the given Go template\n"
     "  -v, --verbose         Verbose output for diagnostics\n"),
  C ("ls", cmd_network_ls, "[OPTIONS]", "List networks", network_ls_options),
  C ("list", cmd_network_ls, "[OPTIONS]", "List networks", network_ls_options),
  C ("prune", cmd_network_prune, "[OPTIONS]", "Remove all unused networks",
     "      --filter filter   Provide filter values (e.g. 'until=<timestamp>')\n"
     "  -f, --force           Do not prompt for confirmation\n"),
  C ("rm", cmd_network_rm, "NETWORK [NETWORK...]", "Remove one or more networks", ""),
  C ("remove", cmd_network_rm, "NETWORK [NETWORK...]", "Remove one or more networks", ""),
  { NULL, NULL, NULL, NULL, NULL },
};

static void
list_commands (FILE *out, const struct command *table)
{
  size_t i;
  for (i = 0; table[i].name; i++)
    if (strcmp (table[i].name, "list") && strcmp (table[i].name, "remove")
        && !(table == container_commands && strcmp (table[i].name, "ps") == 0))
      fprintf (out, "  %-10s %s\n", table[i].name, table[i].summary);
}

static void
usage (FILE *out)
{
  fprintf (out, "\nUsage:  skiff [OPTIONS] COMMAND\n\n"
                "A self-sufficient runtime for containers\n\n"
                "Options:\n"
                "  -H, --host string   Daemon socket to connect to (default " SKIFF_DEFAULT_HOST ",\n"
                "                      or $SKIFF_HOST)\n"
                "  -v, --version       Print version information and quit\n"
                "\nManagement Commands:\n"
                "  container  Manage containers\n"
                "  image      Manage images\n"
                "  network    Manage networks\n"
                "\nCommands:\n");
  list_commands (out, top_commands);
  fprintf (out, "\nRun 'skiff COMMAND --help' for more information on a command.\n");
}

static void
group_usage (FILE *out, const char *group, const struct command *table)
{
  fprintf (out, "\nUsage:  skiff %s COMMAND\n\nManage %ss\n\nCommands:\n", group, group);
  list_commands (out, table);
  fprintf (out, "\nRun 'skiff %s COMMAND --help' for more information on a command.\n", group);
}

static const struct command *
find (const struct command *table, const char *name)
{
  size_t i;
  for (i = 0; table[i].name; i++)
    if (strcmp (table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "host", required_argument, NULL, 'H' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  const char *host = getenv ("SKIFF_HOST");
  const struct command *cmd, *table = top_commands;
  struct cli_ctx ctx;
  skiff_error_t err = NULL;
  char name[64];
  int c, status, sub;

  /* A closed connection is an error to report, not a reason to die.  */
  signal (SIGPIPE, SIG_IGN);
  /* Keep result lines and error lines in order when both go to a pipe.  */
  setvbuf (stdout, NULL, _IOLBF, 0);
  memset (&ctx, 0, sizeof (ctx));
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:H:hv", opts, NULL)) != -1)
    switch (c)
      {
      case 'H': host = optarg; break;
      case 'h': usage (stdout); return 0;
      case 'v': printf ("skiff version %s, API %s\n", PACKAGE_VERSION, SKIFF_API_VERSION); return 0;
      case ':':
        fprintf (stderr, "flag needs an argument: %s\nSee 'skiff --help'.\n", argv[optind - 1]);
        return CLI_STATUS_DAEMON;
      default:
        fprintf (stderr, "unknown flag: %s\nSee 'skiff --help'.\n", argv[optind - 1]);
        return CLI_STATUS_DAEMON;
      }
  if (host == NULL || host[0] == '\0')
    host = SKIFF_DEFAULT_HOST;
  if (optind >= argc)
    {
      usage (stdout);
      return 0;
    }
  sub = optind;
  if (strcmp (argv[sub], "container") == 0 || strcmp (argv[sub], "image") == 0 || strcmp (argv[sub], "network") == 0)
    {
      const char *group = argv[sub];
      table = strcmp (group, "container") == 0 ? container_commands
              : strcmp (group, "image") == 0   ? image_commands
                                               : network_commands;
      if (sub + 1 >= argc || strcmp (argv[sub + 1], "--help") == 0)
        {
          group_usage (stdout, group, table);
          return 0;
        }
      cmd = find (table, argv[sub + 1]);
      if (cmd == NULL)
        {
          fprintf (stderr, "skiff: '%s %s' is not a skiff command.\nSee 'skiff %s --help'\n", group, argv[sub + 1],
                   group);
          return 1;
        }
      snprintf (name, sizeof (name), "%s %s", group, cmd->name);
      sub++;
    }
  else
    {
      cmd = find (top_commands, argv[sub]);
      if (cmd == NULL)
        {
          fprintf (stderr, "skiff: '%s' is not a skiff command.\nSee 'skiff --help'\n", argv[sub]);
          return 1;
        }
      snprintf (name, sizeof (name), "%s", cmd->name);
    }
  ctx.cmd = name;
  ctx.usage = cmd->usage;
  ctx.summary = cmd->summary;
  ctx.options = cmd->options;
  if (client_init (&ctx.client, host, &err) < 0)
    return cli_fail (&err);
  optind = 0; /* restart getopt for the verb */
  status = cmd->fn (&ctx, argc - sub, argv + sub);
  fflush (stdout);
  client_release (&ctx.client);
  return status;
}
