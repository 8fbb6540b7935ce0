/* config.json from a Docker container's Config and HostConfig, as Docker
   20.10's daemon.createSpec builds it (daemon/oci_linux.go).  */
#include "oci_spec.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "seccomp_profile.h"
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define OCI_VERSION "1.0.2-dev" /* runtime-spec's Version in Docker 20.10 */
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SHM_SIZE 67108864LL
#define INIT_IN_CONTAINER "/sbin/docker-init"
#define CGROUP2_MAGIC 0x63677270

/* ---- small string vectors ---------------------------------------------- */

struct strv
{
  char **v; /* NULL-terminated */
  size_t n;
};

static void
strv_release (struct strv *s)
{
  cleanup_strvp (&s->v);
  s->n = 0;
}
#define cleanup_sv __attribute__ ((cleanup (strv_release)))

static bool
strv_contains (const struct strv *s, const char *x)
{
  size_t i;
  for (i = 0; i < s->n; i++)
    if (strcmp (s->v[i], x) == 0)
      return true;
  return false;
}

static int
strv_push (struct strv *s, const char *x, skiff_error_t *err)
{
  char **n = realloc (s->v, (s->n + 2) * sizeof (char *));
  if (n == NULL)
    return skiff_error_make (err, ENOMEM, "spec");
  s->v = n;
  s->v[s->n] = strdup (x);
  if (s->v[s->n] == NULL)
    return skiff_error_make (err, ENOMEM, "spec");
  s->v[++s->n] = NULL;
  return 0;
}

static void
strv_remove (struct strv *s, const char *x)
{
  size_t i, j = 0;
  for (i = 0; i < s->n; i++)
    if (strcmp (s->v[i], x) == 0)
      free (s->v[i]);
    else
      s->v[j++] = s->v[i];
  s->n = j;
  if (s->v)
    s->v[j] = NULL;
}

/* A Docker strslice: a JSON array of strings, or one string.  */
static int
get_strslice (yajl_val obj, const char *key, const char *field, struct strv *out, skiff_error_t *err)
{
  yajl_val v = json_get (obj, key);
  if (v && YAJL_IS_STRING (v))
    return strv_push (out, YAJL_GET_STRING (v), err);
  return json_get_strv (obj, key, field, &out->v, &out->n, err);
}

/* ---- capabilities (oci/caps) ------------------------------------------- */

static const char *const default_caps[] = {
  "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",   "CAP_FOWNER",           "CAP_MKNOD",      "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP",      "CAP_SETPCAP",  "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",    "CAP_AUDIT_WRITE",
};

/* Every capability the kernel knows and libcap can name, "CAP_*".  Docker
   20.10 stops at CAP_AUDIT_READ for the sake of old runc builds; skiff's
   runtime knows the newer ones, so privileged containers get them all.  */
static int
all_caps (struct strv *out, skiff_error_t *err)
{
  cleanup_file FILE *f = fopen ("/proc/sys/kernel/cap_last_cap", "re");
  int last = -1, v;

  if (f == NULL || fscanf (f, "%d", &last) != 1)
    last = cap_max_bits () - 1;
  for (v = 0; v <= last; v++)
    {
      char *name = cap_to_name (v), *p;
      int r = 0;
      if (name == NULL)
        return skiff_error_make (err, ENOMEM, "capabilities");
      if (strncmp (name, "cap_", 4) == 0)
        {
          for (p = name; *p; p++)
            *p = toupper ((unsigned char) *p);
          r = strv_push (out, name, err);
        }
      cap_free (name);
      if (r < 0)
        return -1;
    }
  return 0;
}

static bool
in_bounding_set (const char *name)
{
  cleanup_free char *lower = strdup (name);
  cap_value_t v;
  char *p;
  if (lower == NULL)
    return false;
  for (p = lower; *p; p++)
    *p = tolower ((unsigned char) *p);
  if (cap_from_name (lower, &v) < 0)
    return false;
  return prctl (PR_CAPBSET_READ, v, 0, 0, 0) == 1;
}

/* caps.NormalizeLegacyCapabilities: upper-case, "CAP_" prefix, "ALL".  */
static int
normalize_caps (const struct strv *in, const struct strv *known, struct strv *out, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < in->n; i++)
    {
      cleanup_free char *c = NULL;
      char *p;
      if (asprintf (&c, "%s%s", strncasecmp (in->v[i], "CAP_", 4) == 0 || strcasecmp (in->v[i], "ALL") == 0 ? "" : "CAP_",
                    in->v[i])
          < 0)
        return skiff_error_make (err, ENOMEM, "capabilities");
      for (p = c; *p; p++)
        *p = toupper ((unsigned char) *p);
      if (strcmp (c, "ALL") != 0 && !strv_contains (known, c))
        return skiff_error_make (err, 0, "unknown capability: \"%s\"", c);
      if (!strv_contains (out, c) && strv_push (out, c, err) < 0)
        return -1;
    }
  return 0;
}

/* caps.TweakCapabilities, without duplicates.  */
static int
build_caps (yajl_val hc, bool privileged, struct strv *out, skiff_error_t *err)
{
  cleanup_sv struct strv known = { 0 }, add_raw = { 0 }, drop_raw = { 0 }, add = { 0 }, drop = { 0 };
  size_t i;

  if (all_caps (&known, err) < 0)
    return -1;
  if (json_get_strv (hc, "CapAdd", "HostConfig.CapAdd", &add_raw.v, &add_raw.n, err) < 0
      || json_get_strv (hc, "CapDrop", "HostConfig.CapDrop", &drop_raw.v, &drop_raw.n, err) < 0)
    return -1;
  /* "All" capabilities are those skiffd itself may grant: a capability
     outside its bounding set would make the container fail to start.  */
  if (privileged)
    {
      for (i = 0; i < known.n; i++)
        if (in_bounding_set (known.v[i]) && strv_push (out, known.v[i], err) < 0)
          return -1;
      return 0;
    }
  if (normalize_caps (&add_raw, &known, &add, err) < 0 || normalize_caps (&drop_raw, &known, &drop, err) < 0)
    return -1;
  if (strv_contains (&add, "ALL"))
    {
      for (i = 0; i < known.n; i++)
        if (in_bounding_set (known.v[i]) && !strv_contains (&drop, known.v[i]) && strv_push (out, known.v[i], err) < 0)
          return -1;
      return 0;
    }
  if (!strv_contains (&drop, "ALL"))
    for (i = 0; i < sizeof (default_caps) / sizeof (default_caps[0]); i++)
      if (!strv_contains (&drop, default_caps[i]) && strv_push (out, default_caps[i], err) < 0)
        return -1;
  for (i = 0; i < add.n; i++)
    if (!strv_contains (out, add.v[i]) && strv_push (out, add.v[i], err) < 0)
      return -1;
  return 0;
}

/* ---- security options (daemon.parseSecurityOpt) ------------------------ */

struct security
{
  bool no_new_privileges;
  bool seccomp_unconfined;
  char *seccomp_profile; /* profile contents from `seccomp=<json>` */
};

static int
parse_bool (const char *s, bool *out)
{
  static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
  size_t i;
  for (i = 0; i < 6; i++)
    {
      if (strcmp (s, yes[i]) == 0)
        return (*out = true), 0;
      if (strcmp (s, no[i]) == 0)
        return (*out = false), 0;
    }
  return -1;
}

static int
parse_security_opts (yajl_val hc, struct security *sec, skiff_error_t *err)
{
  cleanup_sv struct strv opts = { 0 };
  size_t i;

  if (json_get_strv (hc, "SecurityOpt", "HostConfig.SecurityOpt", &opts.v, &opts.n, err) < 0)
    return -1;
  for (i = 0; i < opts.n; i++)
    {
      const char *opt = opts.v[i], *sep, *value;
      size_t klen;

      if (strcmp (opt, "no-new-privileges") == 0)
        {
          sec->no_new_privileges = true;
          continue;
        }
      if (strcmp (opt, "disable") == 0)
        continue; /* SELinux labelling: skiff does none */
      sep = strchr (opt, '=');
      if (sep == NULL)
        sep = strchr (opt, ':'); /* the deprecated separator */
      if (sep == NULL)
        return skiff_error_make (err, 0, "invalid --security-opt 1: \"%s\"", opt);
      klen = sep - opt;
      value = sep + 1;
      if (klen == 5 && strncmp (opt, "label", 5) == 0)
        continue;
      else if (klen == 8 && strncmp (opt, "apparmor", 8) == 0)
        continue; /* no AppArmor: apparmorProfile is left out, as Docker does without it */
      else if (klen == 7 && strncmp (opt, "seccomp", 7) == 0)
        {
          free (sec->seccomp_profile);
          sec->seccomp_profile = NULL;
          sec->seccomp_unconfined = strcmp (value, "unconfined") == 0;
          if (!sec->seccomp_unconfined && (sec->seccomp_profile = strdup (value)) == NULL)
            return skiff_error_make (err, ENOMEM, "security options");
        }
      else if (klen == 17 && strncmp (opt, "no-new-privileges", 17) == 0)
        {
          if (parse_bool (value, &sec->no_new_privileges) < 0)
            return skiff_error_make (err, 0, "invalid --security-opt 2: \"%s\"", opt);
        }
      else
        return skiff_error_make (err, 0, "invalid --security-opt 2: \"%s\"", opt);
    }
  return 0;
}

/* ---- mounts (WithMounts) ------------------------------------------------ */

struct mount
{
  char *destination, *type, *source;
  struct strv options;
  bool user; /* a user or network mount: readonly rootfs leaves it alone */
};

struct mount_list
{
  struct mount *m;
  size_t n;
};

static void
mount_release (struct mount *m)
{
  free (m->destination);
  free (m->type);
  free (m->source);
  strv_release (&m->options);
}

static void
mount_list_release (struct mount_list *l)
{
  size_t i;
  for (i = 0; i < l->n; i++)
    mount_release (&l->m[i]);
  free (l->m);
  l->m = NULL;
  l->n = 0;
}
#define cleanup_mounts __attribute__ ((cleanup (mount_list_release)))

/* Adds a mount; opts is a comma-separated list (may be empty).  */
static struct mount *
mount_add (struct mount_list *l, const char *dest, const char *type, const char *source, const char *opts, bool user,
           skiff_error_t *err)
{
  struct mount *n = realloc (l->m, (l->n + 1) * sizeof (*n)), *m;
  cleanup_free char *copy = opts ? strdup (opts) : NULL;
  char *save = NULL, *o;

  if (n == NULL || (opts && copy == NULL))
    return skiff_error_make (err, ENOMEM, "mounts"), NULL;
  l->m = n;
  m = &l->m[l->n++];
  memset (m, 0, sizeof (*m));
  m->user = user;
  m->destination = strdup (dest);
  m->type = strdup (type);
  m->source = strdup (source);
  if (m->destination == NULL || m->type == NULL || m->source == NULL)
    return skiff_error_make (err, ENOMEM, "mounts"), NULL;
  for (o = copy ? strtok_r (copy, ",", &save) : NULL; o; o = strtok_r (NULL, ",", &save))
    if (strv_push (&m->options, o, err) < 0)
      return NULL;
  return m;
}

static bool
mount_list_has (const struct mount_list *l, const char *dest)
{
  size_t i;
  for (i = 0; i < l->n; i++)
    if (strcmp (l->m[i].destination, dest) == 0)
      return true;
  return false;
}

/* path.Clean for absolute paths.  */
static char *
clean_path (const char *p)
{
  return fs_absolute ("/", p);
}

static size_t
path_depth (const char *p)
{
  size_t n = 1;
  for (; *p; p++)
    n += *p == '/';
  return n;
}

/* Docker sorts user mounts by depth so that parents mount first; stable,
   as Go's insertion sort is for the short lists containers have.  */
static void
sort_by_depth (struct mount_list *l)
{
  size_t i, j;
  for (i = 1; i < l->n; i++)
    {
      struct mount t = l->m[i];
      size_t d = path_depth (t.destination);
      for (j = i; j > 0 && path_depth (l->m[j - 1].destination) > d; j--)
        l->m[j] = l->m[j - 1];
      l->m[j] = t;
    }
}

static const char *const propagations[] = { "private", "rprivate", "shared", "rshared", "slave", "rslave" };

static bool
is_propagation (const char *o)
{
  size_t i;
  for (i = 0; i < 6; i++)
    if (strcmp (o, propagations[i]) == 0)
      return true;
  return false;
}

/* linuxValidMountMode: at most one of each of rw/ro, z/Z, propagation,
   nocopy, consistency.  */
static bool
valid_mount_mode (const char *mode)
{
  cleanup_free char *copy = strdup (mode);
  int rw = 0, label = 0, prop = 0, copymode = 0, consistency = 0;
  char *save = NULL, *o;

  if (copy == NULL)
    return false;
  if (*mode == '\0')
    return true;
  for (o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save))
    {
      if (strcmp (o, "rw") == 0 || strcmp (o, "ro") == 0)
        rw++;
      else if (strcmp (o, "z") == 0 || strcmp (o, "Z") == 0)
        label++;
      else if (is_propagation (o))
        prop++;
      else if (strcmp (o, "nocopy") == 0)
        copymode++;
      else if (strcmp (o, "consistent") == 0 || strcmp (o, "cached") == 0 || strcmp (o, "delegated") == 0)
        consistency++;
      else
        return false;
    }
  /* strtok_r skips empty items; Go's Split keeps them and rejects them.  */
  if (strstr (mode, ",,") || mode[0] == ',' || mode[strlen (mode) - 1] == ',')
    return false;
  return rw <= 1 && label <= 1 && prop <= 1 && copymode <= 1 && consistency <= 1;
}

/* One HostConfig.Binds entry, "src:dst[:mode]" (ParseMountRaw).  */
static int
add_bind (struct mount_list *user, const char *raw, bool *rshared, bool *rslave, skiff_error_t *err)
{
  cleanup_free char *copy = strdup (raw), *src = NULL, *dst = NULL, *opts = NULL;
  char *parts[4] = { NULL };
  const char *mode = "", *prop = "rprivate";
  size_t n = 0;
  char *p, *save = NULL, *o;
  bool ro = false;
  cleanup_free char *modes = NULL;

  if (copy == NULL)
    return skiff_error_make (err, ENOMEM, "binds");
  for (p = copy; n < 4;)
    {
      char *c = n < 3 ? strchr (p, ':') : NULL;
      parts[n++] = p;
      if (c == NULL)
        break;
      *c = '\0';
      p = c + 1;
    }
  if (parts[0][0] == '\0' || n == 4)
    return skiff_error_make (err, 0, "invalid volume specification: '%s'", raw);
  if (n == 1)
    return skiff_error_make (err, 0, "invalid volume specification: '%s': anonymous volumes are not supported", raw);
  if (n == 2 && valid_mount_mode (parts[1]))
    return skiff_error_make (err, 0, "invalid volume specification: '%s'", raw);
  if (n == 3)
    mode = parts[2];
  if (!valid_mount_mode (mode))
    return skiff_error_make (err, 0, "invalid mode: %s", mode);
  if (parts[0][0] != '/')
    return skiff_error_make (err, 0, "invalid volume specification: '%s': named volumes are not supported", raw);
  if (parts[1][0] != '/')
    return skiff_error_make (err, 0,
                             "invalid volume specification: '%s': invalid mount config for type \"bind\": invalid mount path: "
                             "'%s' mount path must be absolute",
                             raw, parts[1]);
  src = clean_path (parts[0]);
  dst = clean_path (parts[1]);
  modes = strdup (mode);
  if (src == NULL || dst == NULL || modes == NULL)
    return skiff_error_make (err, ENOMEM, "binds");
  if (strcmp (dst, "/") == 0)
    return skiff_error_make (err, 0, "invalid specification: destination can't be '/'");
  for (o = strtok_r (modes, ",", &save); o; o = strtok_r (NULL, ",", &save))
    if (strcmp (o, "ro") == 0)
      ro = true;
    else if (is_propagation (o))
      prop = o;
  if (mount_list_has (user, dst))
    return skiff_error_make (err, 0, "Duplicate mount point: %s", dst);
  /* Docker creates a missing bind source as a directory.  */
  if (!fs_exists (src) && fs_mkdir_p (src, 0755, err) < 0)
    return skiff_error_wrap (err, "create bind source");
  if (strcmp (prop, "shared") == 0 || strcmp (prop, "rshared") == 0)
    *rshared = true;
  else if (strcmp (prop, "slave") == 0 || strcmp (prop, "rslave") == 0)
    *rslave = true;
  if (asprintf (&opts, "rbind%s,%s", ro ? ",ro" : "", prop) < 0)
    return skiff_error_make (err, ENOMEM, "binds");
  return mount_add (user, dst, "bind", src, opts, true, err) ? 0 : -1;
}

static const struct
{
  const char *name;
  int key; /* options with one key override each other; -1: propagation */
} tmpfs_flags[] = {
  { "ro", 1 },           { "rw", 1 },           { "suid", 2 },         { "nosuid", 2 },      { "dev", 3 },        { "nodev", 3 },
  { "exec", 4 },         { "noexec", 4 },       { "sync", 5 },         { "async", 5 },       { "dirsync", 6 },    { "remount", 7 },
  { "mand", 8 },         { "nomand", 8 },       { "atime", 9 },        { "noatime", 9 },     { "diratime", 10 },  { "nodiratime", 10 },
  { "bind", -1 },        { "rbind", -1 },       { "unbindable", -1 },  { "runbindable", -1 }, { "private", -1 },  { "rprivate", -1 },
  { "shared", -1 },      { "rshared", -1 },     { "slave", -1 },       { "rslave", -1 },     { "relatime", 11 },  { "norelatime", 11 },
  { "strictatime", 12 }, { "nostrictatime", 12 },
};

static int
tmpfs_flag_key (const char *o, bool *found)
{
  size_t i;
  for (i = 0; i < sizeof (tmpfs_flags) / sizeof (tmpfs_flags[0]); i++)
    if (strcmp (o, tmpfs_flags[i].name) == 0)
      return (*found = true), tmpfs_flags[i].key;
  return (*found = false), 0;
}

/* moby/sys/mount.MergeTmpfsOptions: the last of each flag kind or data key wins.  */
static int
merge_tmpfs_options (const struct strv *in, struct strv *out, skiff_error_t *err)
{
  struct strv rev = { 0 };
  cleanup_sv struct strv seen_data = { 0 };
  bool seen_flag[14] = { false };
  size_t i;

  for (i = in->n; i-- > 0;)
    {
      const char *o = in->v[i];
      bool found;
      int key;

      if (strcmp (o, "defaults") == 0)
        continue;
      key = tmpfs_flag_key (o, &found);
      if (found)
        {
          int slot = key < 0 ? 0 : key;
          if (!seen_flag[slot])
            {
              seen_flag[slot] = true;
              if (strv_push (&rev, o, err) < 0)
                goto fail;
            }
          continue;
        }
      {
        const char *eq = strchr (o, '=');
        cleanup_free char *k = eq ? strndup (o, eq - o) : NULL;
        static const char *const valid[] = { "", "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol" };
        size_t j;
        bool ok = false;
        for (j = 0; k && j < sizeof (valid) / sizeof (valid[0]); j++)
          ok = ok || strcmp (k, valid[j]) == 0;
        if (!ok)
          {
            skiff_error_make (err, 0, "invalid tmpfs option [\"%s\"]", o);
            goto fail;
          }
        if (!strv_contains (&seen_data, k))
          {
            if (strv_push (&seen_data, k, err) < 0 || strv_push (&rev, o, err) < 0)
              goto fail;
          }
      }
    }
  for (i = rev.n; i-- > 0;)
    if (strv_push (out, rev.v[i], err) < 0)
      goto fail;
  strv_release (&rev);
  return 0;
fail:
  strv_release (&rev);
  return -1;
}

static int
add_tmpfs (struct mount_list *user, const char *dest, const char *data, skiff_error_t *err)
{
  cleanup_sv struct strv opts = { 0 }, merged = { 0 };
  cleanup_free char *dst = clean_path (dest), *copy = strdup (data ? data : "");
  char *save = NULL, *o;
  struct mount *m;
  size_t i;

  if (dst == NULL || copy == NULL)
    return skiff_error_make (err, ENOMEM, "tmpfs");
  if (dest[0] != '/')
    return skiff_error_make (err, 0, "invalid mount path: '%s' mount path must be absolute", dest);
  if (strcmp (dst, "/") == 0)
    return skiff_error_make (err, 0, "invalid specification: destination can't be '/'");
  if (strv_push (&opts, "noexec", err) < 0 || strv_push (&opts, "nosuid", err) < 0 || strv_push (&opts, "nodev", err) < 0
      || strv_push (&opts, "rprivate", err) < 0)
    return -1;
  for (o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save))
    if (strv_push (&opts, o, err) < 0)
      return -1;
  if (merge_tmpfs_options (&opts, &merged, err) < 0)
    return -1;
  m = mount_add (user, dst, "tmpfs", "tmpfs", NULL, true, err);
  if (m == NULL)
    return -1;
  for (i = 0; i < merged.n; i++)
    if (strv_push (&m->options, merged.v[i], err) < 0)
      return -1;
  return 0;
}

struct mount_input
{
  const struct oci_spec_input *in;
  bool privileged, readonly, ipc_none, init;
  int64_t shm_size;
};

static int
build_user_mounts (const struct mount_input *mi, struct mount_list *user, const char **rootfs_propagation, skiff_error_t *err)
{
  cleanup_sv struct strv binds = { 0 };
  yajl_val tmpfs;
  bool rshared = false, rslave = false;
  size_t i;
  static const char *const net_dests[] = { "/etc/resolv.conf", "/etc/hostname", "/etc/hosts" };
  const char *net_paths[] = { mi->in->resolv_conf_path, mi->in->hostname_path, mi->in->hosts_path };
  yajl_val hc = mi->in->host_config;
  struct mount_list tmp = { 0 };

  if (json_get_strv (hc, "Binds", "HostConfig.Binds", &binds.v, &binds.n, err) < 0
      || json_get_object (hc, "Tmpfs", "HostConfig.Tmpfs", &tmpfs, err) < 0)
    return -1;
  {
    yajl_val mounts;
    if (json_get_array (hc, "Mounts", "HostConfig.Mounts", &mounts, err) < 0)
      return -1;
    if (mounts && mounts->u.array.len > 0)
      return skiff_error_make (err, 0, "HostConfig.Mounts is not supported: use HostConfig.Binds and HostConfig.Tmpfs");
  }
  /* Tmpfs mounts win over binds at the same place (setupMounts).  */
  for (i = 0; tmpfs && i < tmpfs->u.object.len; i++)
    {
      yajl_val v = tmpfs->u.object.values[i];
      if (!YAJL_IS_STRING (v) && !YAJL_IS_NULL (v))
        return skiff_error_make (err, 0, "invalid field `HostConfig.Tmpfs.%s`: expected a string", tmpfs->u.object.keys[i]);
      if (add_tmpfs (&tmp, tmpfs->u.object.keys[i], YAJL_IS_STRING (v) ? YAJL_GET_STRING (v) : "", err) < 0)
        goto fail;
    }
  for (i = 0; i < binds.n; i++)
    {
      size_t before = user->n;
      if (add_bind (user, binds.v[i], &rshared, &rslave, err) < 0)
        goto fail;
      if (mount_list_has (&tmp, user->m[before].destination))
        mount_release (&user->m[--user->n]);
    }
  for (i = 0; i < 3; i++)
    {
      struct stat st;
      if (net_paths[i] == NULL || mount_list_has (user, net_dests[i]) || mount_list_has (&tmp, net_dests[i]))
        continue;
      if (stat (net_paths[i], &st) < 0)
        {
          log_warning ("%s set to `%s`, but can't stat this filename (%s); skipping", net_dests[i], net_paths[i],
                       strerror (errno));
          continue;
        }
      if (mount_add (user, net_dests[i], "bind", net_paths[i], mi->readonly ? "rbind,ro,rprivate" : "rbind,rprivate", true,
                     err)
          == NULL)
        goto fail;
    }
  /* Go map order is random: take the tmpfs mounts by destination.  */
  for (i = 0; i < tmp.n; i++)
    {
      size_t j, best = i;
      struct mount t;
      for (j = i + 1; j < tmp.n; j++)
        if (strcmp (tmp.m[j].destination, tmp.m[best].destination) < 0)
          best = j;
      t = tmp.m[i];
      tmp.m[i] = tmp.m[best];
      tmp.m[best] = t;
    }
  for (i = 0; i < tmp.n; i++)
    {
      struct mount *n = realloc (user->m, (user->n + 1) * sizeof (*n));
      if (n == NULL)
        {
          skiff_error_make (err, ENOMEM, "mounts");
          goto fail;
        }
      user->m = n;
      user->m[user->n++] = tmp.m[i];
      memset (&tmp.m[i], 0, sizeof (tmp.m[i]));
    }
  mount_list_release (&tmp);
  sort_by_depth (user);
  if (rshared)
    *rootfs_propagation = "shared";
  else if (rslave)
    *rootfs_propagation = "rslave";
  return 0;
fail:
  mount_list_release (&tmp);
  return -1;
}

static int
build_mounts (const struct mount_input *mi, struct mount_list *out, const char **rootfs_propagation, skiff_error_t *err)
{
  static const struct
  {
    const char *dest, *type, *source, *opts;
  } defaults[] = {
    { "/proc", "proc", "proc", "nosuid,noexec,nodev" },
    { "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k" },
    { "/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5" },
    { "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro" },
    { "/sys/fs/cgroup", "cgroup", "cgroup", "ro,nosuid,noexec,nodev" },
    { "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev" },
    { "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777" },
  };
  cleanup_mounts struct mount_list user = { 0 };
  bool user_dev;
  size_t i;

  if (build_user_mounts (mi, &user, rootfs_propagation, err) < 0)
    return -1;
  user_dev = mount_list_has (&user, "/dev");
  for (i = 0; i < sizeof (defaults) / sizeof (defaults[0]); i++)
    {
      struct mount *m;
      if (mount_list_has (&user, defaults[i].dest))
        continue;
      if (user_dev && strncmp (defaults[i].dest, "/dev/", 5) == 0)
        continue;
      if (strcmp (defaults[i].dest, "/dev/shm") == 0 && mi->ipc_none)
        continue;
      m = mount_add (out, defaults[i].dest, defaults[i].type, defaults[i].source, defaults[i].opts, false, err);
      if (m == NULL)
        return -1;
      if (strcmp (defaults[i].dest, "/dev/shm") == 0)
        {
          char size[40];
          snprintf (size, sizeof (size), "size=%lld", (long long) mi->shm_size);
          if (strv_push (&m->options, size, err) < 0)
            return -1;
        }
    }
  if (mi->init)
    {
      if (mi->in->init_path == NULL)
        return skiff_error_make (err, 0, "--init: no init binary configured (skiff-init)");
      if (mount_add (out, INIT_IN_CONTAINER, "bind", mi->in->init_path, "bind,ro", false, err) == NULL)
        return -1;
    }
  for (i = 0; i < user.n; i++)
    {
      struct mount *n = realloc (out->m, (out->n + 1) * sizeof (*n));
      if (n == NULL)
        return skiff_error_make (err, ENOMEM, "mounts");
      out->m = n;
      out->m[out->n++] = user.m[i];
    }
  free (user.m);
  user.m = NULL;
  user.n = 0;

  for (i = 0; i < out->n; i++)
    {
      struct mount *m = &out->m[i];
      static const char *const writable[] = { "/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev" };
      size_t j;
      bool skip = m->user;
      for (j = 0; j < 5; j++)
        skip = skip || strcmp (m->destination, writable[j]) == 0;
      if (mi->readonly && !skip && !strv_contains (&m->options, "ro") && strv_push (&m->options, "ro", err) < 0)
        return -1;
      /* Privileged: /sys and the cgroup mount read-write.  */
      if (mi->privileged && (strcmp (m->destination, "/sys") == 0 || strcmp (m->type, "cgroup") == 0))
        strv_remove (&m->options, "ro");
    }
  return 0;
}

/* ---- process ------------------------------------------------------------ */

/* container.CreateDaemonEnvironment + ReplaceOrAppendEnvValues: PATH,
   HOSTNAME and (with a tty) TERM first; Config.Env replaces those in
   place, "KEY" alone unsets them, everything else is appended.  */
static int
build_env (yajl_val config, const char *hostname, bool tty, struct strv *env, skiff_error_t *err)
{
  cleanup_sv struct strv over = { 0 };
  cleanup_free char *host_env = NULL;
  size_t n_defaults, i, j;

  if (json_get_strv (config, "Env", "Config.Env", &over.v, &over.n, err) < 0)
    return -1;
  if (asprintf (&host_env, "HOSTNAME=%s", hostname) < 0)
    return skiff_error_make (err, ENOMEM, "env");
  if (strv_push (env, DEFAULT_PATH, err) < 0 || strv_push (env, host_env, err) < 0 || (tty && strv_push (env, "TERM=xterm", err) < 0))
    return -1;
  n_defaults = env->n;
  for (i = 0; i < over.n; i++)
    {
      const char *v = over.v[i], *eq = strchr (v, '=');
      size_t klen = eq ? (size_t) (eq - v) : strlen (v);
      bool replaced = false;

      for (j = 0; j < n_defaults; j++)
        {
          /* The defaults' keys, even of entries unset earlier ("").  */
          static const char *const keys[] = { "PATH", "HOSTNAME", "TERM" };
          const char *k = keys[j];
          if (strlen (k) != klen || strncmp (k, v, klen) != 0)
            continue;
          free (env->v[j]);
          env->v[j] = strdup (eq ? v : "");
          if (env->v[j] == NULL)
            return skiff_error_make (err, ENOMEM, "env");
          replaced = true;
          break;
        }
      if (!replaced && eq && strv_push (env, v, err) < 0)
        return -1;
    }
  strv_remove (env, "");
  return 0;
}

/* Config.WorkingDir: cleaned, and created in the rootfs when missing
   (Container.SetupWorkingDirectory).  Lookups stay inside the rootfs.  */
static int
ensure_workdir (const char *rootfs, const char *cwd, skiff_error_t *err)
{
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *prefix = strdup (cwd);
  char *p;

  if (rootfd < 0)
    return skiff_error_make (err, errno, "open rootfs `%s`", rootfs);
  if (prefix == NULL)
    return skiff_error_make (err, ENOMEM, "working directory");
  for (p = prefix + 1;; p++)
    {
      if (*p == '/' || *p == '\0')
        {
          char saved = *p;
          skiff_error_t e = NULL;
          int fd;

          *p = '\0';
          fd = fs_open_in_root (rootfd, prefix, O_PATH | O_DIRECTORY, 0, &e);
          if (fd >= 0)
            close (fd);
          else
            {
              int errno_ = e->errno_;
              skiff_error_release (&e);
              if (errno_ == ENOTDIR)
                return skiff_error_make (err, 0, "Cannot mkdir: %s is not a directory", cwd);
              if (errno_ != ENOENT)
                return skiff_error_make (err, errno_, "working directory `%s`", cwd);
              {
                char *slash = strrchr (prefix, '/');
                cleanup_close int parent = -1;
                *slash = '\0';
                parent = fs_open_in_root (rootfd, prefix[0] ? prefix : "/", O_PATH | O_DIRECTORY, 0, err);
                *slash = '/';
                if (parent < 0)
                  return -1;
                if (mkdirat (parent, slash + 1, 0755) < 0 && errno != EEXIST)
                  return skiff_error_make (err, errno, "create working directory `%s`", cwd);
              }
            }
          *p = saved;
          if (saved == '\0')
            break;
        }
    }
  return 0;
}

static void
gen_strv (yajl_gen g, const char *key, const struct strv *s)
{
  size_t i;
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  for (i = 0; i < s->n; i++)
    json_gen_str (g, s->v[i]);
  yajl_gen_array_close (g);
}

/* HostConfig.Ulimits: [{"Name":"nofile","Soft":N,"Hard":N}].  */
static int
gen_rlimits (yajl_gen g, yajl_val hc, skiff_error_t *err)
{
  yajl_val arr;
  size_t i;

  if (json_get_array (hc, "Ulimits", "HostConfig.Ulimits", &arr, err) < 0)
    return -1;
  if (arr == NULL || arr->u.array.len == 0)
    return 0;
  json_gen_str (g, "rlimits");
  yajl_gen_array_open (g);
  for (i = 0; i < arr->u.array.len; i++)
    {
      yajl_val u = arr->u.array.values[i];
      cleanup_free char *name = NULL, *type = NULL;
      int64_t soft = 0, hard = 0;
      char *p;
      char num[32];

      if (json_get_string_req (u, "Name", "HostConfig.Ulimits[].Name", &name, err) < 0
          || json_get_int64 (u, "Soft", "HostConfig.Ulimits[].Soft", &soft, NULL, err) < 0
          || json_get_int64 (u, "Hard", "HostConfig.Ulimits[].Hard", &hard, NULL, err) < 0)
        return -1;
      if (asprintf (&type, "RLIMIT_%s", name) < 0)
        return skiff_error_make (err, ENOMEM, "ulimits");
      for (p = type; *p; p++)
        *p = toupper ((unsigned char) *p);
      if (spec_rlimit_resource (type) < 0)
        return skiff_error_make (err, 0, "invalid ulimit type: %s", name);
      if (soft > hard && hard >= 0)
        return skiff_error_make (err, 0, "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                                 (long long) soft, (long long) hard);
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "type", type);
      /* Go's uint64(-1): unlimited.  */
      json_gen_str (g, "hard");
      yajl_gen_number (g, num, snprintf (num, sizeof (num), "%llu", (unsigned long long) hard));
      json_gen_str (g, "soft");
      yajl_gen_number (g, num, snprintf (num, sizeof (num), "%llu", (unsigned long long) soft));
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  return 0;
}

static int
gen_process (yajl_gen g, const struct oci_spec_input *in, const struct strv *args, const struct strv *env, const char *cwd,
             const struct oci_user *user, const struct strv *caps, bool nnp, skiff_error_t *err)
{
  bool tty = false;
  int64_t oom = 0;
  size_t i;

  if (json_get_bool (in->config, "Tty", "Config.Tty", &tty, err) < 0
      || json_get_int64 (in->host_config, "OomScoreAdj", "HostConfig.OomScoreAdj", &oom, NULL, err) < 0)
    return -1;
  if (oom < -1000 || oom > 1000)
    return skiff_error_make (err, 0, "Invalid value %lld, range for oom score adj is [-1000, 1000]", (long long) oom);
  json_gen_str (g, "process");
  yajl_gen_map_open (g);
  json_gen_kv_bool (g, "terminal", tty);
  json_gen_str (g, "user");
  yajl_gen_map_open (g);
  json_gen_kv_int (g, "uid", user->uid);
  json_gen_kv_int (g, "gid", user->gid);
  json_gen_str (g, "additionalGids");
  yajl_gen_array_open (g);
  for (i = 0; i < user->n_additional_gids; i++)
    yajl_gen_integer (g, user->additional_gids[i]);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  gen_strv (g, "args", args);
  gen_strv (g, "env", env);
  json_gen_kv_str (g, "cwd", cwd);
  /* oci.SetCapabilities: a non-root user gets the bounding set only, as
     execve would leave it.  */
  json_gen_str (g, "capabilities");
  yajl_gen_map_open (g);
  gen_strv (g, "bounding", caps);
  if (user->uid == 0)
    {
      gen_strv (g, "effective", caps);
      gen_strv (g, "permitted", caps);
    }
  yajl_gen_map_close (g);
  if (gen_rlimits (g, in->host_config, err) < 0)
    return -1;
  if (nnp)
    json_gen_kv_bool (g, "noNewPrivileges", true);
  json_gen_kv_int (g, "oomScoreAdj", oom);
  yajl_gen_map_close (g);
  return 0;
}

/* ---- linux ------------------------------------------------------------- */

struct kv
{
  char *key, *value;
};

static int
kv_set (struct kv **v, size_t *n, const char *key, const char *value, skiff_error_t *err)
{
  size_t i;
  struct kv *nv;
  for (i = 0; i < *n; i++)
    if (strcmp ((*v)[i].key, key) == 0)
      {
        char *s = strdup (value);
        if (s == NULL)
          return skiff_error_make (err, ENOMEM, "sysctl");
        free ((*v)[i].value);
        (*v)[i].value = s;
        return 0;
      }
  nv = realloc (*v, (*n + 1) * sizeof (**v));
  if (nv == NULL)
    return skiff_error_make (err, ENOMEM, "sysctl");
  *v = nv;
  nv[*n].key = strdup (key);
  nv[*n].value = strdup (value);
  (*n)++;
  if (nv[*n - 1].key == NULL || nv[*n - 1].value == NULL)
    return skiff_error_make (err, ENOMEM, "sysctl");
  return 0;
}

static int
kv_cmp (const void *a, const void *b)
{
  return strcmp (((const struct kv *) a)->key, ((const struct kv *) b)->key);
}

/* Domainname as kernel.domainname; for a private network namespace the
   sysctls Docker 20.10 adds (ping without CAP_NET_RAW, low ports without
   CAP_NET_BIND_SERVICE), when the kernel has them; then HostConfig.Sysctls.
   Emitted sorted, as Go's encoding/json writes maps.  */
static int
gen_sysctl (yajl_gen g, const struct oci_spec_input *in, skiff_error_t *err)
{
  struct kv *v = NULL;
  size_t n = 0, i;
  cleanup_free char *domain = NULL;
  yajl_val sys;
  int ret = -1;

  if (json_get_string (in->config, "Domainname", "Config.Domainname", &domain, err) < 0
      || json_get_object (in->host_config, "Sysctls", "HostConfig.Sysctls", &sys, err) < 0)
    return -1;
  if (domain && domain[0] && kv_set (&v, &n, "kernel.domainname", domain, err) < 0)
    goto out;
  if (in->netns_path)
    {
      if (access ("/proc/sys/net/ipv4/ping_group_range", F_OK) == 0
          && kv_set (&v, &n, "net.ipv4.ping_group_range", "0 2147483647", err) < 0)
        goto out;
      if (access ("/proc/sys/net/ipv4/ip_unprivileged_port_start", F_OK) == 0
          && kv_set (&v, &n, "net.ipv4.ip_unprivileged_port_start", "0", err) < 0)
        goto out;
    }
  for (i = 0; sys && i < sys->u.object.len; i++)
    {
      yajl_val val = sys->u.object.values[i];
      if (!YAJL_IS_STRING (val))
        {
          skiff_error_make (err, 0, "invalid field `HostConfig.Sysctls.%s`: expected a string", sys->u.object.keys[i]);
          goto out;
        }
      if (kv_set (&v, &n, sys->u.object.keys[i], YAJL_GET_STRING (val), err) < 0)
        goto out;
    }
  if (n > 0)
    {
      qsort (v, n, sizeof (*v), kv_cmp);
      json_gen_str (g, "sysctl");
      yajl_gen_map_open (g);
      for (i = 0; i < n; i++)
        json_gen_kv_str (g, v[i].key, v[i].value);
      yajl_gen_map_close (g);
    }
  ret = 0;
out:
  for (i = 0; i < n; i++)
    {
      free (v[i].key);
      free (v[i].value);
    }
  free (v);
  return ret;
}

static bool
cgroup2_host (void)
{
  struct statfs sfs;
  return statfs ("/sys/fs/cgroup", &sfs) == 0 && (unsigned long) sfs.f_type == CGROUP2_MAGIC;
}

struct ns_modes
{
  bool pid_host, ipc_host, ipc_none, uts_host, cgroupns;
};

static bool
mode_is (const char *mode, const char *want)
{
  return mode && strcmp (mode, want) == 0;
}

/* HostConfig.PidMode, IpcMode, UTSMode, CgroupnsMode (WithNamespaces).  */
static int
read_ns_modes (yajl_val hc, struct ns_modes *m, skiff_error_t *err)
{
  cleanup_free char *pid = NULL, *ipc = NULL, *uts = NULL, *cgns = NULL;

  if (json_get_string (hc, "PidMode", "HostConfig.PidMode", &pid, err) < 0
      || json_get_string (hc, "IpcMode", "HostConfig.IpcMode", &ipc, err) < 0
      || json_get_string (hc, "UTSMode", "HostConfig.UTSMode", &uts, err) < 0
      || json_get_string (hc, "CgroupnsMode", "HostConfig.CgroupnsMode", &cgns, err) < 0)
    return -1;
  if (pid && pid[0] && !mode_is (pid, "host"))
    return skiff_error_make (err, 0, "PID mode `%s` is not supported", pid);
  m->pid_host = mode_is (pid, "host");
  if (ipc && ipc[0] && !mode_is (ipc, "host") && !mode_is (ipc, "private") && !mode_is (ipc, "shareable") && !mode_is (ipc, "none"))
    return strncmp (ipc, "container:", 10) == 0 ? skiff_error_make (err, 0, "IPC mode `%s` is not supported", ipc)
                                                 : skiff_error_make (err, 0, "Invalid IPC mode: %s", ipc);
  m->ipc_host = mode_is (ipc, "host");
  m->ipc_none = mode_is (ipc, "none");
  if (uts && uts[0] && !mode_is (uts, "host"))
    return skiff_error_make (err, 0, "UTS mode `%s` is not supported", uts);
  m->uts_host = mode_is (uts, "host");
  if (cgns && cgns[0] && !mode_is (cgns, "host") && !mode_is (cgns, "private"))
    return skiff_error_make (err, 0, "invalid cgroup namespace mode: %s", cgns);
  /* Default: private on a cgroup v2 host (even privileged), host on v1.  */
  if (cgns && cgns[0])
    m->cgroupns = mode_is (cgns, "private");
  else
    m->cgroupns = cgroup2_host ();
  return 0;
}

static void
gen_namespaces (yajl_gen g, const struct oci_spec_input *in, const struct ns_modes *m)
{
  json_gen_str (g, "namespaces");
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "type", "mount");
  yajl_gen_map_close (g);
  if (in->netns_path)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "type", "network");
      json_gen_kv_str (g, "path", in->netns_path);
      yajl_gen_map_close (g);
    }
  if (!m->uts_host)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "type", "uts");
      yajl_gen_map_close (g);
    }
  if (!m->pid_host)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "type", "pid");
      yajl_gen_map_close (g);
    }
  if (!m->ipc_host)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "type", "ipc");
      yajl_gen_map_close (g);
    }
  if (m->cgroupns)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "type", "cgroup");
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

/* WithSeccomp: none for privileged or seccomp=unconfined; the profile sent
   in SecurityOpt (the docker CLI sends the file's contents), else the
   default profile.  */
static int
gen_seccomp (yajl_gen g, const struct oci_spec_input *in, const struct security *sec, bool privileged, const struct strv *caps,
             skiff_error_t *err)
{
  cleanup_free char *text = NULL, *oci = NULL;
  cleanup_json yajl_val tree = NULL;
  struct seccomp_profile_host host;
  const char *profile = sec->seccomp_profile;

  if (privileged || sec->seccomp_unconfined)
    return 0;
  if (profile == NULL)
    {
      if (in->seccomp_default_path == NULL)
        return skiff_error_make (err, 0, "no default seccomp profile configured");
      if (fs_read_file (in->seccomp_default_path, &text, NULL, err) < 0)
        return skiff_error_wrap (err, "default seccomp profile");
      profile = text;
    }
  if (seccomp_profile_host_detect (&host, err) < 0
      || seccomp_profile_translate (profile, &host, caps->v, caps->n, &oci, err) < 0)
    return -1;
  if (oci == NULL)
    return 0;
  if (json_parse (oci, &tree, err) < 0)
    return -1;
  json_gen_str (g, "seccomp");
  json_gen_value (g, tree);
  return 0;
}

static const char *const masked_paths[] = {
  "/proc/asound",        "/proc/acpi",        "/proc/kcore",        "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list",    "/proc/timer_stats", "/proc/sched_debug",  "/proc/scsi", "/sys/firmware",
};
static const char *const readonly_paths[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };

/* maskedPaths/readonlyPaths: Docker's lists, none when privileged, and
   HostConfig.MaskedPaths/ReadonlyPaths when set (applied last).  */
static int
gen_path_list (yajl_gen g, yajl_val hc, const char *hc_key, const char *key, const char *const *def, size_t n_def,
               bool privileged, skiff_error_t *err)
{
  cleanup_sv struct strv given = { 0 };
  char field[48];
  yajl_val v = json_get (hc, hc_key);
  size_t i;

  snprintf (field, sizeof (field), "HostConfig.%s", hc_key);
  if (v && !YAJL_IS_NULL (v))
    {
      if (json_get_strv (hc, hc_key, field, &given.v, &given.n, err) < 0)
        return -1;
      gen_strv (g, key, &given);
      return 0;
    }
  if (privileged)
    return 0;
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  for (i = 0; i < n_def; i++)
    json_gen_str (g, def[i]);
  yajl_gen_array_close (g);
  return 0;
}

/* ---- the whole document --------------------------------------------------- */

static int
build_args (const struct oci_spec_input *in, bool init, struct strv *args, skiff_error_t *err)
{
  cleanup_sv struct strv entrypoint = { 0 }, cmd = { 0 };
  size_t i;

  if (get_strslice (in->config, "Entrypoint", "Config.Entrypoint", &entrypoint, err) < 0
      || get_strslice (in->config, "Cmd", "Config.Cmd", &cmd, err) < 0)
    return -1;
  if (entrypoint.n == 0 && cmd.n == 0)
    return skiff_error_make (err, 0, "No command specified");
  if (init && (strv_push (args, INIT_IN_CONTAINER, err) < 0 || strv_push (args, "--", err) < 0))
    return -1;
  for (i = 0; i < entrypoint.n; i++)
    if (strv_push (args, entrypoint.v[i], err) < 0)
      return -1;
  for (i = 0; i < cmd.n; i++)
    if (strv_push (args, cmd.v[i], err) < 0)
      return -1;
  return 0;
}

static void
gen_mounts (yajl_gen g, const struct mount_list *l)
{
  size_t i;
  json_gen_str (g, "mounts");
  yajl_gen_array_open (g);
  for (i = 0; i < l->n; i++)
    {
      yajl_gen_map_open (g);
      json_gen_kv_str (g, "destination", l->m[i].destination);
      json_gen_kv_str (g, "type", l->m[i].type);
      json_gen_kv_str (g, "source", l->m[i].source);
      if (l->m[i].options.n > 0)
        gen_strv (g, "options", &l->m[i].options);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

int
oci_spec_build (const struct oci_spec_input *in, char **config_json, skiff_error_t *err)
{
  cleanup_gen yajl_gen g = NULL;
  cleanup_sv struct strv args = { 0 }, env = { 0 }, caps = { 0 }, group_add = { 0 };
  cleanup_mounts struct mount_list mounts = { 0 };
  cleanup_free char *hostname = NULL, *workdir = NULL, *cwd = NULL, *user_spec = NULL, *cgparent = NULL;
  cleanup_free char *cgroups_path = NULL;
  struct security sec = { 0 };
  struct oci_user user = { 0 };
  struct ns_modes ns = { 0 };
  struct mount_input mi = { .in = in };
  const char *rootfs_propagation = NULL;
  yajl_val hc = in->host_config;
  bool privileged = false, init = false, tty = false;
  int ret = -1;

  *config_json = NULL;
  if (in->id == NULL || strlen (in->id) < 12 || in->rootfs == NULL || in->rootfs[0] != '/')
    return skiff_error_make (err, 0, "oci spec: container id and an absolute rootfs are required");
  if (in->config == NULL || !YAJL_IS_OBJECT (in->config))
    return skiff_error_make (err, 0, "oci spec: missing container Config");
  if (hc && !YAJL_IS_OBJECT (hc))
    return skiff_error_make (err, 0, "oci spec: HostConfig is not an object");

  if (json_get_bool (hc, "Privileged", "HostConfig.Privileged", &privileged, err) < 0
      || json_get_bool (hc, "Init", "HostConfig.Init", &init, err) < 0
      || json_get_bool (hc, "ReadonlyRootfs", "HostConfig.ReadonlyRootfs", &mi.readonly, err) < 0
      || json_get_int64 (hc, "ShmSize", "HostConfig.ShmSize", &mi.shm_size, NULL, err) < 0
      || json_get_bool (in->config, "Tty", "Config.Tty", &tty, err) < 0
      || json_get_string (in->config, "Hostname", "Config.Hostname", &hostname, err) < 0
      || json_get_string (in->config, "WorkingDir", "Config.WorkingDir", &workdir, err) < 0
      || json_get_string (in->config, "User", "Config.User", &user_spec, err) < 0
      || json_get_strv (hc, "GroupAdd", "HostConfig.GroupAdd", &group_add.v, &group_add.n, err) < 0
      || json_get_string (hc, "CgroupParent", "HostConfig.CgroupParent", &cgparent, err) < 0)
    goto out;
  if (mi.shm_size < 0)
    {
      skiff_error_make (err, 0, "SHM size can not be less than 0");
      goto out;
    }
  if (mi.shm_size == 0)
    mi.shm_size = DEFAULT_SHM_SIZE;
  if (read_ns_modes (hc, &ns, err) < 0 || parse_security_opts (hc, &sec, err) < 0)
    goto out;
  mi.privileged = privileged;
  mi.ipc_none = ns.ipc_none;
  /* --init only makes sense with a pid namespace of its own.  */
  mi.init = init && !ns.pid_host;

  /* generateHostname: the short id, or the host's name on the host network.  */
  if (hostname == NULL || hostname[0] == '\0')
    {
      char buf[256] = "";
      free (hostname);
      if (in->netns_path == NULL && gethostname (buf, sizeof (buf) - 1) == 0)
        hostname = strdup (buf);
      else
        hostname = strndup (in->id, 12);
      if (hostname == NULL)
        {
          skiff_error_make (err, ENOMEM, "hostname");
          goto out;
        }
    }

  if (build_args (in, mi.init, &args, err) < 0 || build_env (in->config, hostname, tty, &env, err) < 0)
    goto out;
  if (workdir && workdir[0])
    {
      if (workdir[0] != '/')
        {
          skiff_error_make (err, 0, "the working directory '%s' is invalid, it needs to be an absolute path", workdir);
          goto out;
        }
      cwd = clean_path (workdir);
      if (cwd == NULL)
        {
          skiff_error_make (err, ENOMEM, "working directory");
          goto out;
        }
      if (ensure_workdir (in->rootfs, cwd, err) < 0)
        goto out;
    }
  if (oci_user_resolve (in->rootfs, user_spec, group_add.v, group_add.n, &user, err) < 0
      || build_caps (hc, privileged, &caps, err) < 0 || oci_resources_validate (hc, 0, err) < 0
      || build_mounts (&mi, &mounts, &rootfs_propagation, err) < 0)
    goto out;
  {
    cleanup_free char *joined = NULL;
    if (asprintf (&joined, "%s/%s", cgparent && cgparent[0] ? cgparent : in->cgroup_parent ? in->cgroup_parent : "/skiff",
                  in->id)
        < 0)
      {
        skiff_error_make (err, ENOMEM, "cgroups path");
        goto out;
      }
    cgroups_path = clean_path (joined);
    if (cgroups_path == NULL)
      {
        skiff_error_make (err, ENOMEM, "cgroups path");
        goto out;
      }
  }

  g = json_gen_new (true);
  if (g == NULL)
    {
      skiff_error_make (err, ENOMEM, "oci spec");
      goto out;
    }
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "ociVersion", OCI_VERSION);
  if (gen_process (g, in, &args, &env, cwd ? cwd : "/", &user, &caps, sec.no_new_privileges, err) < 0)
    goto out;
  json_gen_str (g, "root");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "path", in->rootfs);
  if (mi.readonly)
    json_gen_kv_bool (g, "readonly", true);
  yajl_gen_map_close (g);
  if (!ns.uts_host)
    json_gen_kv_str (g, "hostname", hostname);
  gen_mounts (g, &mounts);

  json_gen_str (g, "linux");
  yajl_gen_map_open (g);
  if (gen_sysctl (g, in, err) < 0 || oci_resources_gen (g, hc, privileged, err) < 0)
    goto out;
  json_gen_kv_str (g, "cgroupsPath", cgroups_path);
  gen_namespaces (g, in, &ns);
  if (privileged && oci_host_devices_gen (g, "/dev", err) < 0)
    goto out;
  if (gen_seccomp (g, in, &sec, privileged, &caps, err) < 0)
    goto out;
  if (rootfs_propagation)
    json_gen_kv_str (g, "rootfsPropagation", rootfs_propagation);
  if (gen_path_list (g, hc, "MaskedPaths", "maskedPaths", masked_paths, sizeof (masked_paths) / sizeof (masked_paths[0]),
                     privileged, err)
          < 0
      || gen_path_list (g, hc, "ReadonlyPaths", "readonlyPaths", readonly_paths,
                        sizeof (readonly_paths) / sizeof (readonly_paths[0]), privileged, err)
             < 0)
    goto out;
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);

  *config_json = json_gen_steal (g, NULL);
  if (*config_json == NULL)
    {
      skiff_error_make (err, ENOMEM, "oci spec");
      goto out;
    }
  ret = 0;
out:
  free (sec.seccomp_profile);
  oci_user_release (&user);
  return ret;
}
