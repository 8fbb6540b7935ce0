/* System routes: /_ping, /version, /info, /events, in the shapes of
   dockerd 20.10 so that `docker version` and `docker info` print them.  */
#include "api.h"
#include "cgroup.h"
#include "cleanup.h"
#include "containers.h"
#include "daemon.h"
#include "events.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "router.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

#define MIN_API_VERSION "1.12"
#define DEFAULT_RUNTIME "skiff-runtime"

/* Set by the build when it knows them.  */
#ifndef SKIFF_GIT_COMMIT
#define SKIFF_GIT_COMMIT "n/a"
#endif

/* ---- /_ping ---- */

static void
handle_ping (struct http_request *req, void *data)
{
  http_response_add_header (req, "Cache-Control", "no-cache, no-store, must-revalidate");
  http_response_add_header (req, "Pragma", "no-cache");
  http_respond (req, 200, "text/plain; charset=utf-8", "OK", 2);
}

/* ---- /version ---- */

/* Go's GOARCH for uname's machine.  */
static const char *
go_arch (const char *machine)
{
  static const struct
  {
    const char *machine, *arch;
  } map[] = {
    { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" }, { "i386", "386" },
    { "armv7l", "arm" },   { "armv6l", "arm" },    { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
    { "riscv64", "riscv64" },
  };
  size_t i;
  for (i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (strcmp (machine, map[i].machine) == 0)
      return map[i].arch;
  return machine;
}

/* The compiler's __DATE__ and __TIME__ (UTC and reproducible when the build
   sets SOURCE_DATE_EPOCH) as RFC 3339, which the CLI shows as "Built:".  */
static void
build_time (char *buf, size_t size)
{
#ifdef SKIFF_BUILD_TIME
  snprintf (buf, size, "%s", SKIFF_BUILD_TIME);
#else
  struct tm tm = { 0 };
  const char *end = strptime (__DATE__ " " __TIME__, "%b %d %Y %H:%M:%S", &tm);
  if (end == NULL || *end != '\0' || strftime (buf, size, "%Y-%m-%dT%H:%M:%S.000000000+00:00", &tm) == 0)
    snprintf (buf, size, "%s", "");
#endif
}

static void
gen_version (yajl_gen g, const struct utsname *u)
{
  char built[64];
  const char *arch = go_arch (u->machine);

  build_time (built, sizeof (built));
  yajl_gen_map_open (g);
  json_gen_str (g, "Platform");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Name", "skiff");
  yajl_gen_map_close (g);
  json_gen_str (g, "Components");
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Name", "Engine");
  json_gen_kv_str (g, "Version", PACKAGE_VERSION);
  json_gen_str (g, "Details");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "ApiVersion", HTTP_API_VERSION);
  json_gen_kv_str (g, "Arch", arch);
  json_gen_kv_str (g, "BuildTime", built);
  json_gen_kv_str (g, "Experimental", "false");
  json_gen_kv_str (g, "GitCommit", SKIFF_GIT_COMMIT);
  json_gen_kv_str (g, "GoVersion", "n/a");
  json_gen_kv_str (g, "KernelVersion", u->release);
  json_gen_kv_str (g, "MinAPIVersion", MIN_API_VERSION);
  json_gen_kv_str (g, "Os", "linux");
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
  json_gen_kv_str (g, "Version", PACKAGE_VERSION);
  json_gen_kv_str (g, "ApiVersion", HTTP_API_VERSION);
  json_gen_kv_str (g, "MinAPIVersion", MIN_API_VERSION);
  json_gen_kv_str (g, "GitCommit", SKIFF_GIT_COMMIT);
  json_gen_kv_str (g, "GoVersion", "n/a");
  json_gen_kv_str (g, "Os", "linux");
  json_gen_kv_str (g, "Arch", arch);
  json_gen_kv_str (g, "KernelVersion", u->release);
  json_gen_kv_str (g, "BuildTime", built);
  yajl_gen_map_close (g);
}

static void
handle_version (struct http_request *req, void *data)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  cleanup_free char *json = NULL;
  struct utsname u;

  if (uname (&u) < 0)
    {
      http_respond_error (req, 500, "uname: %s", strerror (errno));
      return;
    }
  if (g == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  gen_version (g, &u);
  json = json_gen_steal (g, NULL);
  if (json == NULL)
    http_respond_error (req, 500, "out of memory");
  else
    http_respond_json (req, 200, json);
}

/* ---- /info: counted on the loop, the rest gathered in the thread pool ---- */

struct info_job
{
  uv_work_t work;
  struct http_request *req;
  struct image_store *images;
  char *root, *hostname;
  bool debug;
  long containers, running, paused, stopped;
  /* results */
  char *json;
  skiff_error_t err;
};

static pthread_mutex_t engine_id_lock = PTHREAD_MUTEX_INITIALIZER;

/* A random id kept at <root>/engine-id, made on first use: the same daemon
   root keeps its ID across restarts, as dockerd's.  */
static int
engine_id (const char *root, char **out, skiff_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *text = NULL;
  unsigned char r[16];
  cleanup_close int fd = -1;
  char id[40];
  size_t len;

  if (asprintf (&path, "%s/engine-id", root) < 0)
    return skiff_error_make (err, ENOMEM, "engine id");
  pthread_mutex_lock (&engine_id_lock);
  if (fs_exists (path))
    {
      int ret = fs_read_file (path, &text, &len, err);
      pthread_mutex_unlock (&engine_id_lock);
      if (ret < 0)
        return ret;
      text[strcspn (text, "\n")] = '\0';
      *out = steal_pointer (&text);
      return 0;
    }
  fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read (fd, r, sizeof (r)) != (ssize_t) sizeof (r))
    {
      pthread_mutex_unlock (&engine_id_lock);
      return skiff_error_make (err, errno, "read `/dev/urandom`");
    }
  r[6] = (r[6] & 0x0f) | 0x40; /* a version 4 UUID */
  r[8] = (r[8] & 0x3f) | 0x80;
  snprintf (id, sizeof (id), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
            r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
  if (fs_write_file_atomic (path, id, strlen (id), 0644, err) < 0)
    {
      pthread_mutex_unlock (&engine_id_lock);
      return -1;
    }
  pthread_mutex_unlock (&engine_id_lock);
  *out = strdup (id);
  return *out ? 0 : skiff_error_make (err, ENOMEM, "engine id");
}

/* A value of /etc/os-release (quotes removed), or NULL.  */
static char *
os_release (const char *key)
{
  cleanup_file FILE *f = fopen ("/etc/os-release", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0, klen = strlen (key);

  if (f == NULL)
    f = fopen ("/usr/lib/os-release", "re");
  while (f && getline (&line, &cap, f) > 0)
    {
      char *v, *end;
      if (strncmp (line, key, klen) != 0 || line[klen] != '=')
        continue;
      v = line + klen + 1;
      v[strcspn (v, "\n")] = '\0';
      end = v + strlen (v);
      if (*v == '"' || *v == '\'')
        {
          v++;
          if (end > v && (end[-1] == '"' || end[-1] == '\''))
            end[-1] = '\0';
        }
      return strdup (v);
    }
  return NULL;
}

static bool
proc_flag (const char *path)
{
  cleanup_free char *text = NULL;
  if (!fs_exists (path) || fs_read_file (path, &text, NULL, NULL) < 0)
    return false;
  return atoi (text) != 0;
}

static long
count_fds (void)
{
  cleanup_dir DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  long n = 0;
  while (d && (e = readdir (d)))
    if (e->d_name[0] != '.')
      n++;
  return d ? n - 1 : 0; /* not the one opendir holds */
}

static long
count_threads (void)
{
  cleanup_file FILE *f = fopen ("/proc/self/status", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (f && getline (&line, &cap, f) > 0)
    if (strncmp (line, "Threads:", 8) == 0)
      return atol (line + 8);
  return 0;
}

/* What the kernel's cgroups allow, as dockerd's sysinfo reports it.  */
struct cgroup_caps
{
  bool memory, swap, kmem, kmem_tcp, oom_kill_disable, cfs_period, cfs_quota, shares, cpuset, pids;
};

static bool
controller_listed (const char *list, const char *name)
{
  size_t n = strlen (name);
  const char *p = list;
  while ((p = strstr (p, name)))
    {
      if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
        return true;
      p += n;
    }
  return false;
}

static void
cgroup_caps_get (int version, struct cgroup_caps *c)
{
  memset (c, 0, sizeof (*c));
  if (version == 2)
    {
      cleanup_free char *list = NULL;
      if (fs_read_file ("/sys/fs/cgroup/cgroup.controllers", &list, NULL, NULL) < 0)
        return;
      c->memory = controller_listed (list, "memory");
      c->swap = c->memory; /* as dockerd: swap comes with the v2 memory controller */
      c->cfs_period = c->cfs_quota = c->shares = controller_listed (list, "cpu");
      c->cpuset = controller_listed (list, "cpuset");
      c->pids = controller_listed (list, "pids");
      return;
    }
  c->memory = fs_exists ("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  c->swap = fs_exists ("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
  c->kmem = fs_exists ("/sys/fs/cgroup/memory/memory.kmem.limit_in_bytes");
  c->kmem_tcp = fs_exists ("/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes");
  c->oom_kill_disable = fs_exists ("/sys/fs/cgroup/memory/memory.oom_control");
  c->cfs_period = fs_exists ("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  c->cfs_quota = fs_exists ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  c->shares = fs_exists ("/sys/fs/cgroup/cpu/cpu.shares");
  c->cpuset = fs_exists ("/sys/fs/cgroup/cpuset/cpuset.cpus");
  c->pids = fs_exists ("/sys/fs/cgroup/pids");
}

/* The backing filesystem as dockerd names it, and whether it fills
   d_type (overlayfs needs it).  */
static void
backing_fs (const char *root, const char **name, bool *d_type)
{
  static const struct
  {
    long magic;
    const char *name;
  } names[] = {
    { 0xEF53, "extfs" },          { 0x58465342, "xfs" },  { 0x9123683E, "btrfs" },
    { 0x01021994, "tmpfs" },      { 0x2FC12FC1, "zfs" },  { 0x794c7630, "overlayfs" },
    { 0x65735546, "fuseblk" },    { 0x6969, "nfs" },      { 0x858458f6, "ramfs" },
  };
  struct statfs st;
  size_t i;

  *name = "<unknown>";
  *d_type = false;
  if (statfs (root, &st) < 0)
    return;
  for (i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    if ((long) st.f_type == names[i].magic)
      *name = names[i].name;
  {
    cleanup_dir DIR *d = opendir (root);
    struct dirent *e;
    while (d && (e = readdir (d)))
      if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
        {
          *d_type = e->d_type != DT_UNKNOWN;
          return;
        }
    *d_type = true; /* an empty directory tells nothing; every fs above fills it */
  }
}

/* time.Now().Format(time.RFC3339Nano) in local time.  */
static void
system_time (char *buf, size_t size)
{
  struct timespec ts;
  struct tm tm;
  char base[32], frac[16] = "", zone[24];
  long off;

  clock_gettime (CLOCK_REALTIME, &ts);
  localtime_r (&ts.tv_sec, &tm);
  strftime (base, sizeof (base), "%Y-%m-%dT%H:%M:%S", &tm);
  if (ts.tv_nsec)
    {
      size_t l;
      snprintf (frac, sizeof (frac), ".%09ld", ts.tv_nsec);
      for (l = strlen (frac); frac[l - 1] == '0'; l--)
        frac[l - 1] = '\0';
    }
  off = tm.tm_gmtoff;
  if (off == 0)
    snprintf (zone, sizeof (zone), "Z");
  else
    snprintf (zone, sizeof (zone), "%c%02ld:%02ld", off < 0 ? '-' : '+', labs (off) / 3600, labs (off) % 3600 / 60);
  snprintf (buf, size, "%s%s%s", base, frac, zone);
}

static void
gen_strs (yajl_gen g, const char *key, const char *const *v)
{
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  for (; v && *v; v++)
    json_gen_str (g, *v);
  yajl_gen_array_close (g);
}

static void
gen_pair (yajl_gen g, const char *a, const char *b)
{
  yajl_gen_array_open (g);
  json_gen_str (g, a);
  json_gen_str (g, b);
  yajl_gen_array_close (g);
}

static void
gen_commit (yajl_gen g, const char *key)
{
  json_gen_str (g, key);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "ID", "");
  json_gen_kv_str (g, "Expected", "");
  yajl_gen_map_close (g);
}

static void
gen_registry_config (yajl_gen g)
{
  static const char *const insecure[] = { "127.0.0.0/8", NULL };
  json_gen_str (g, "RegistryConfig");
  yajl_gen_map_open (g);
  gen_strs (g, "AllowNondistributableArtifactsCIDRs", NULL);
  gen_strs (g, "AllowNondistributableArtifactsHostnames", NULL);
  gen_strs (g, "InsecureRegistryCIDRs", insecure);
  json_gen_str (g, "IndexConfigs");
  yajl_gen_map_open (g);
  json_gen_str (g, "docker.io");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "Name", "docker.io");
  gen_strs (g, "Mirrors", NULL);
  json_gen_kv_bool (g, "Secure", true);
  json_gen_kv_bool (g, "Official", true);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  gen_strs (g, "Mirrors", NULL);
  yajl_gen_map_close (g);
}

static int
count_images (struct image_store *s, long *n, skiff_error_t *err)
{
  cleanup_free char *json = NULL;
  cleanup_json yajl_val list = NULL;

  if (image_list_json (s, true, &json, err) < 0)
    return -1;
  if (json_parse (json, &list, err) < 0)
    return skiff_error_wrap (err, "image list");
  *n = YAJL_IS_ARRAY (list) ? (long) list->u.array.len : 0;
  return 0;
}

static void
gen_info (struct info_job *j, yajl_gen g, const char *id, long images)
{
  static const char *const network_plugins[] = { "bridge", "host", "null", "overlay", NULL };
  static const char *const log_plugins[] = { "json-file", NULL };
  static const char *const security[] = { "name=seccomp,profile=default", NULL };
  cleanup_free char *pretty = os_release ("PRETTY_NAME");
  cleanup_free char *version_id = os_release ("VERSION_ID");
  const char *warnings[16];
  size_t nw = 0;
  struct utsname u;
  struct sysinfo si;
  struct cgroup_caps caps;
  int cg = cgroup_mode ();
  bool fwd = proc_flag ("/proc/sys/net/ipv4/ip_forward");
  bool nf4 = proc_flag ("/proc/sys/net/bridge/bridge-nf-call-iptables");
  bool nf6 = proc_flag ("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
  const char *fs_name;
  bool d_type;
  char now[64], cgv[4];

  if (uname (&u) < 0)
    memset (&u, 0, sizeof (u));
  if (sysinfo (&si) < 0)
    memset (&si, 0, sizeof (si));
  cgroup_caps_get (cg, &caps);
  backing_fs (j->root, &fs_name, &d_type);
  system_time (now, sizeof (now));
  snprintf (cgv, sizeof (cgv), "%d", cg);

  /* dockerd's warnings for what the kernel cannot do.  */
  if (!caps.memory)
    warnings[nw++] = "WARNING: No memory limit support";
  if (!caps.swap)
    warnings[nw++] = "WARNING: No swap limit support";
  if (!caps.cfs_quota)
    warnings[nw++] = "WARNING: No cpu cfs quota support";
  if (!caps.cfs_period)
    warnings[nw++] = "WARNING: No cpu cfs period support";
  if (!caps.shares)
    warnings[nw++] = "WARNING: No cpu shares support";
  if (!caps.cpuset)
    warnings[nw++] = "WARNING: No cpuset support";
  if (!caps.pids)
    warnings[nw++] = "WARNING: No pids limit support";
  if (!fwd)
    warnings[nw++] = "WARNING: IPv4 forwarding is disabled";
  if (!nf4)
    warnings[nw++] = "WARNING: bridge-nf-call-iptables is disabled";
  if (!nf6)
    warnings[nw++] = "WARNING: bridge-nf-call-ip6tables is disabled";
  warnings[nw] = NULL;

  yajl_gen_map_open (g);
  json_gen_kv_str (g, "ID", id);
  json_gen_kv_int (g, "Containers", j->containers);
  json_gen_kv_int (g, "ContainersRunning", j->running);
  json_gen_kv_int (g, "ContainersPaused", j->paused);
  json_gen_kv_int (g, "ContainersStopped", j->stopped);
  json_gen_kv_int (g, "Images", images);
  json_gen_kv_str (g, "Driver", "overlay2");
  json_gen_str (g, "DriverStatus");
  yajl_gen_array_open (g);
  gen_pair (g, "Backing Filesystem", fs_name);
  gen_pair (g, "Supports d_type", d_type ? "true" : "false");
  gen_pair (g, "Native Overlay Diff", "true");
  gen_pair (g, "userxattr", "false");
  yajl_gen_array_close (g);
  json_gen_str (g, "Plugins");
  yajl_gen_map_open (g);
  gen_strs (g, "Volume", NULL);
  gen_strs (g, "Network", network_plugins);
  json_gen_str (g, "Authorization");
  yajl_gen_null (g);
  gen_strs (g, "Log", log_plugins);
  yajl_gen_map_close (g);
  json_gen_kv_bool (g, "MemoryLimit", caps.memory);
  json_gen_kv_bool (g, "SwapLimit", caps.swap);
  json_gen_kv_bool (g, "KernelMemory", caps.kmem);
  json_gen_kv_bool (g, "KernelMemoryTCP", caps.kmem_tcp);
  json_gen_kv_bool (g, "CpuCfsPeriod", caps.cfs_period);
  json_gen_kv_bool (g, "CpuCfsQuota", caps.cfs_quota);
  json_gen_kv_bool (g, "CPUShares", caps.shares);
  json_gen_kv_bool (g, "CPUSet", caps.cpuset);
  json_gen_kv_bool (g, "PidsLimit", caps.pids);
  json_gen_kv_bool (g, "IPv4Forwarding", fwd);
  json_gen_kv_bool (g, "BridgeNfIptables", nf4);
  json_gen_kv_bool (g, "BridgeNfIp6tables", nf6);
  json_gen_kv_bool (g, "OomKillDisable", caps.oom_kill_disable);
  json_gen_kv_bool (g, "Debug", j->debug);
  json_gen_kv_int (g, "NFd", count_fds ());
  json_gen_kv_int (g, "NGoroutines", count_threads ());
  json_gen_kv_str (g, "SystemTime", now);
  json_gen_kv_str (g, "LoggingDriver", "json-file");
  json_gen_kv_str (g, "CgroupDriver", "cgroupfs");
  json_gen_kv_str (g, "CgroupVersion", cgv);
  /* events.h does not tell how many subscribe yet.  */
  json_gen_kv_int (g, "NEventsListener", 0);
  json_gen_kv_str (g, "KernelVersion", u.release);
  json_gen_kv_str (g, "OperatingSystem", pretty ? pretty : "<unknown>");
  json_gen_kv_str (g, "OSVersion", version_id ? version_id : "");
  json_gen_kv_str (g, "OSType", "linux");
  json_gen_kv_str (g, "Architecture", u.machine);
  json_gen_kv_str (g, "IndexServerAddress", "https://index.docker.io/v1/");
  gen_registry_config (g);
  json_gen_kv_int (g, "NCPU", sysconf (_SC_NPROCESSORS_ONLN));
  json_gen_kv_int (g, "MemTotal", (long long) si.totalram * si.mem_unit);
  json_gen_str (g, "GenericResources");
  yajl_gen_null (g);
  json_gen_kv_str (g, "DockerRootDir", j->root);
  json_gen_kv_str (g, "HttpProxy", "");
  json_gen_kv_str (g, "HttpsProxy", "");
  json_gen_kv_str (g, "NoProxy", "");
  json_gen_kv_str (g, "Name", j->hostname ? j->hostname : "");
  gen_strs (g, "Labels", NULL);
  json_gen_kv_bool (g, "ExperimentalBuild", false);
  json_gen_kv_str (g, "ServerVersion", PACKAGE_VERSION);
  json_gen_kv_str (g, "ClusterStore", "");
  json_gen_kv_str (g, "ClusterAdvertise", "");
  json_gen_str (g, "Runtimes");
  yajl_gen_map_open (g);
  json_gen_str (g, DEFAULT_RUNTIME);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "path", DEFAULT_RUNTIME);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  json_gen_kv_str (g, "DefaultRuntime", DEFAULT_RUNTIME);
  json_gen_str (g, "Swarm");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "NodeID", "");
  json_gen_kv_str (g, "NodeAddr", "");
  json_gen_kv_str (g, "LocalNodeState", "inactive");
  json_gen_kv_bool (g, "ControlAvailable", false);
  json_gen_kv_str (g, "Error", "");
  json_gen_str (g, "RemoteManagers");
  yajl_gen_null (g);
  yajl_gen_map_close (g);
  json_gen_kv_bool (g, "LiveRestoreEnabled", true);
  json_gen_kv_str (g, "Isolation", "");
  json_gen_kv_str (g, "InitBinary", "skiff-init");
  gen_commit (g, "ContainerdCommit");
  gen_commit (g, "RuncCommit");
  gen_commit (g, "InitCommit");
  gen_strs (g, "SecurityOptions", security);
  gen_strs (g, "Warnings", warnings);
  yajl_gen_map_close (g);
}

static void
info_work (uv_work_t *w)
{
  struct info_job *j = w->data;
  cleanup_gen yajl_gen g = NULL;
  cleanup_free char *id = NULL;
  long images = 0;

  if (count_images (j->images, &images, &j->err) < 0 || engine_id (j->root, &id, &j->err) < 0)
    return;
  g = json_gen_new (false);
  if (g == NULL)
    {
      skiff_error_make (&j->err, ENOMEM, "info");
      return;
    }
  gen_info (j, g, id, images);
  j->json = json_gen_steal (g, NULL);
  if (j->json == NULL)
    skiff_error_make (&j->err, ENOMEM, "info");
}

static void
info_job_free (struct info_job *j)
{
  free (j->root);
  free (j->hostname);
  free (j->json);
  skiff_error_release (&j->err);
  free (j);
}

static void
info_done (uv_work_t *w, int status)
{
  struct info_job *j = w->data;

  if (status < 0)
    http_respond_error (j->req, 500, "info: %s", uv_strerror (status));
  else if (j->err)
    http_respond_error (j->req, 500, "%s", j->err->msg);
  else
    http_respond_json (j->req, 200, j->json);
  info_job_free (j);
}

static void
handle_info (struct http_request *req, void *data)
{
  struct daemon *d = data;
  struct info_job *j = calloc (1, sizeof (*j));
  size_t i;
  int ret;

  if (j == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  j->req = req;
  j->images = d->images;
  j->root = strdup (d->opts.root);
  j->hostname = d->hostname ? strdup (d->hostname) : NULL;
  j->debug = d->opts.log_level && strcmp (d->opts.log_level, "debug") == 0;
  if (j->root == NULL || (d->hostname && j->hostname == NULL))
    {
      info_job_free (j);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  /* The table belongs to the loop thread: count here.  */
  for (i = 0; i < d->n_containers; i++)
    {
      struct ctr *c = d->containers[i];
      j->containers++;
      if (strcmp (c->rec->state.status, "paused") == 0)
        j->paused++;
      else if (containers_is_running (c))
        j->running++;
      else
        j->stopped++;
    }
  j->work.data = j;
  ret = uv_queue_work (d->loop, &j->work, info_work, info_done);
  if (ret < 0)
    {
      info_job_free (j);
      http_respond_error (req, 500, "info: %s", uv_strerror (ret));
    }
}

/* ---- /events ---- */

static void
handle_events (struct http_request *req, void *data)
{
  struct daemon *d = data;
  events_serve (d->events, req);
}

int
api_system_register (struct router *r, skiff_error_t *err)
{
  if (router_add (r, "GET", "/_ping", handle_ping, err) < 0 || router_add (r, "HEAD", "/_ping", handle_ping, err) < 0
      || router_add (r, "GET", "/version", handle_version, err) < 0
      || router_add (r, "GET", "/info", handle_info, err) < 0
      || router_add (r, "GET", "/events", handle_events, err) < 0)
    return -1;
  return 0;
}
