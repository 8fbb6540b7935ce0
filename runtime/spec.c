/* Parsing and validation of config.json (runtime-spec 1.0.2 and later).  */
#include "spec.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "syscall_filter.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/capability.h>

static const struct
{
  const char *name;
  int type;
} namespace_names[] = {
  { "pid", CLONE_NEWPID },     { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
  { "ipc", CLONE_NEWIPC },     { "uts", CLONE_NEWUTS },     { "user", CLONE_NEWUSER },
  { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

int
spec_namespace_type (const char *name)
{
  size_t i;
  for (i = 0; i < sizeof (namespace_names) / sizeof (namespace_names[0]); i++)
    if (strcmp (name, namespace_names[i].name) == 0)
      return namespace_names[i].type;
  return -1;
}

const char *
spec_namespace_name (int type)
{
  size_t i;
  for (i = 0; i < sizeof (namespace_names) / sizeof (namespace_names[0]); i++)
    if (namespace_names[i].type == type)
      return namespace_names[i].name;
  return NULL;
}

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

int
spec_rlimit_resource (const char *name)
{
  size_t i;
  for (i = 0; i < sizeof (rlimit_names) / sizeof (rlimit_names[0]); i++)
    if (strcmp (name, rlimit_names[i].name) == 0)
      return rlimit_names[i].resource;
  return -1;
}

int
spec_capability_value (const char *name)
{
  cap_value_t v;
  cleanup_free char *lower = NULL;
  char *p, *back;
  bool same;

  /* Only the canonical upper-case "CAP_*" form is valid in a config.  */
  if (strncmp (name, "CAP_", 4) != 0 || name[4] == '\0' || strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen (name))
    return -1;
  lower = strdup (name);
  if (lower == NULL)
    return -1;
  for (p = lower; *p; p++)
    *p = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;
  /* cap_from_name accepts trailing text ("cap_kill+ep"): check that the
     name maps back to itself.  */
  if (cap_from_name (lower, &v) < 0)
    return -1;
  back = cap_to_name (v);
  same = back && strcmp (back, lower) == 0;
  cap_free (back);
  return same ? v : -1;
}

/* ---- mount options --------------------------------------------------- */

static const struct
{
  const char *name;
  bool clear;
  unsigned long flag;
} mount_flags[] = {
  { "defaults", false, 0 },
  { "ro", false, MS_RDONLY },
  { "rw", true, MS_RDONLY },
  { "suid", true, MS_NOSUID },
  { "nosuid", false, MS_NOSUID },
  { "dev", true, MS_NODEV },
  { "nodev", false, MS_NODEV },
  { "exec", true, MS_NOEXEC },
  { "noexec", false, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS },
  { "async", true, MS_SYNCHRONOUS },
  { "dirsync", false, MS_DIRSYNC },
  { "remount", false, MS_REMOUNT },
  { "mand", false, MS_MANDLOCK },
  { "nomand", true, MS_MANDLOCK },
  { "atime", true, MS_NOATIME },
  { "noatime", false, MS_NOATIME },
  { "diratime", true, MS_NODIRATIME },
  { "nodiratime", false, MS_NODIRATIME },
  { "bind", false, MS_BIND },
  { "rbind", false, MS_BIND | MS_REC },
  { "relatime", false, MS_RELATIME },
  { "norelatime", true, MS_RELATIME },
  { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
  { "lazytime", false, MS_LAZYTIME },
  { "nolazytime", true, MS_LAZYTIME },
  { "silent", false, MS_SILENT },
  { "loud", true, MS_SILENT },
};

static const struct
{
  const char *name;
  unsigned long flag;
} propagation_flags[] = {
  { "private", MS_PRIVATE },
  { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED },
  { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE },
  { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE },
  { "runbindable", MS_UNBINDABLE | MS_REC },
};

static int
propagation_from_name (const char *name, unsigned long *out)
{
  size_t i;
  for (i = 0; i < sizeof (propagation_flags) / sizeof (propagation_flags[0]); i++)
    if (strcmp (name, propagation_flags[i].name) == 0)
      {
        *out = propagation_flags[i].flag;
        return 0;
      }
  return -1;
}

static int
append_data (char **data, const char *opt)
{
  char *n = NULL;
  if (*data == NULL)
    n = strdup (opt);
  else if (asprintf (&n, "%s,%s", *data, opt) < 0)
    n = NULL;
  if (n == NULL)
    return -1;
  free (*data);
  *data = n;
  return 0;
}

int
spec_mount_parse_options (struct spec_mount *m, skiff_error_t *err)
{
  size_t i, j;

  m->flags = 0;
  m->propagation = 0;
  for (i = 0; i < m->n_options; i++)
    {
      const char *o = m->options[i];
      bool known = false;
      unsigned long prop;

      for (j = 0; j < sizeof (mount_flags) / sizeof (mount_flags[0]); j++)
        if (strcmp (o, mount_flags[j].name) == 0)
          {
            if (mount_flags[j].clear)
              m->flags &= ~mount_flags[j].flag;
            else
              m->flags |= mount_flags[j].flag;
            known = true;
            break;
          }
      if (known)
        continue;
      if (propagation_from_name (o, &prop) == 0)
        {
          m->propagation = prop;
          continue;
        }
      /* Options for idmapped mounts and copy-up are not supported: say so.  */
      if (strcmp (o, "tmpcopyup") == 0 || strcmp (o, "idmap") == 0 || strcmp (o, "ridmap") == 0)
        {
          log_warning ("mount option `%s` on `%s` is not supported and is ignored", o, m->destination);
          continue;
        }
      if (append_data (&m->data, o) < 0)
        return skiff_error_make (err, ENOMEM, "mount options");
    }
  if (m->type && strcmp (m->type, "bind") == 0)
    m->flags |= MS_BIND;
  m->is_bind = (m->flags & MS_BIND) != 0;
  return 0;
}

/* ---- process ---------------------------------------------------------- */

static int
parse_capset (yajl_val caps, const char *key, struct spec_capset *set, skiff_error_t *err)
{
  cleanup_strv char **names = NULL;
  char field[64];
  size_t n = 0, i;

  snprintf (field, sizeof (field), "process.capabilities.%s", key);
  if (json_get_strv (caps, key, field, &names, &n, err) < 0)
    return -1;
  if (names == NULL)
    return 0;
  set->caps = calloc (n + 1, sizeof (int));
  if (set->caps == NULL)
    return skiff_error_make (err, ENOMEM, "%s", field);
  for (i = 0; i < n; i++)
    {
      int v = spec_capability_value (names[i]);
      if (v < 0)
        return skiff_error_make (err, 0, "invalid field `%s`: unknown capability `%s`", field, names[i]);
      set->caps[set->n++] = v;
    }
  return 0;
}

static int
parse_rlimits (yajl_val process, const char *field, struct spec_process *p, skiff_error_t *err)
{
  yajl_val arr;
  size_t i;

  if (json_get_array (process, "rlimits", field, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  p->rlimits = calloc (arr->u.array.len + 1, sizeof (*p->rlimits));
  if (p->rlimits == NULL)
    return skiff_error_make (err, ENOMEM, "rlimits");
  for (i = 0; i < arr->u.array.len; i++)
    {
      yajl_val r = arr->u.array.values[i];
      cleanup_free char *type = NULL;
      struct spec_rlimit *rl = &p->rlimits[i];
      bool has_soft, has_hard;

      if (json_get_string_req (r, "type", "process.rlimits[].type", &type, err) < 0)
        return -1;
      rl->resource = spec_rlimit_resource (type);
      if (rl->resource < 0)
        return skiff_error_make (err, 0, "invalid field `process.rlimits[].type`: unknown rlimit `%s`", type);
      if (json_get_uint64 (r, "soft", "process.rlimits[].soft", &rl->soft, &has_soft, err) < 0
          || json_get_uint64 (r, "hard", "process.rlimits[].hard", &rl->hard, &has_hard, err) < 0)
        return -1;
      if (!has_soft || !has_hard)
        return skiff_error_make (err, 0, "missing field `process.rlimits[].%s` for %s", has_soft ? "hard" : "soft", type);
      p->n_rlimits++;
    }
  return 0;
}

int
spec_parse_process (yajl_val obj, const char *field, struct spec_process **out, skiff_error_t *err)
{
  struct spec_process *p;
  yajl_val user, caps, console, gids;
  int64_t v;
  bool present;
  int ret = -1;

  if (!YAJL_IS_OBJECT (obj))
    return skiff_error_make (err, 0, "invalid field `%s`: expected an object", field);
  p = calloc (1, sizeof (*p));
  if (p == NULL)
    return skiff_error_make (err, ENOMEM, "process");

  if (json_get_bool (obj, "terminal", "process.terminal", &p->terminal, err) < 0)
    goto out;
  if (json_get_object (obj, "consoleSize", "process.consoleSize", &console, err) < 0)
    goto out;
  if (console)
    {
      uint64_t h = 0, w = 0;
      if (json_get_uint64 (console, "height", "process.consoleSize.height", &h, NULL, err) < 0
          || json_get_uint64 (console, "width", "process.consoleSize.width", &w, NULL, err) < 0)
        goto out;
      p->console_height = h;
      p->console_width = w;
    }

  if (json_get_object (obj, "user", "process.user", &user, err) < 0)
    goto out;
  if (user)
    {
      uint64_t u = 0, g = 0, um = 0;
      size_t i;
      if (json_get_uint64 (user, "uid", "process.user.uid", &u, NULL, err) < 0
          || json_get_uint64 (user, "gid", "process.user.gid", &g, NULL, err) < 0
          || json_get_uint64 (user, "umask", "process.user.umask", &um, &p->has_umask, err) < 0)
        goto out;
      if (u > UINT32_MAX - 1 || g > UINT32_MAX - 1)
        {
          skiff_error_make (err, 0, "invalid field `process.user`: uid/gid out of range");
          goto out;
        }
      p->uid = u;
      p->gid = g;
      p->umask = um & 0777;
      if (json_get_array (user, "additionalGids", "process.user.additionalGids", &gids, err) < 0)
        goto out;
      if (gids)
        {
          p->additional_gids = calloc (gids->u.array.len + 1, sizeof (gid_t));
          if (p->additional_gids == NULL)
            goto out;
          for (i = 0; i < gids->u.array.len; i++)
            {
              yajl_val e = gids->u.array.values[i];
              if (!YAJL_IS_INTEGER (e) || YAJL_GET_INTEGER (e) < 0 || YAJL_GET_INTEGER (e) >= UINT32_MAX)
                {
                  skiff_error_make (err, 0, "invalid field `process.user.additionalGids[%zu]`", i);
                  goto out;
                }
              p->additional_gids[p->n_additional_gids++] = YAJL_GET_INTEGER (e);
            }
        }
    }

  if (json_get_strv (obj, "args", "process.args", &p->args, &p->n_args, err) < 0)
    goto out;
  if (json_get_strv (obj, "env", "process.env", &p->env, &p->n_env, err) < 0)
    goto out;
  if (json_get_string (obj, "cwd", "process.cwd", &p->cwd, err) < 0)
    goto out;
  if (p->cwd == NULL)
    p->cwd = strdup ("/");
  else if (p->cwd[0] != '/')
    {
      skiff_error_make (err, 0, "invalid field `process.cwd`: `%s` is not an absolute path", p->cwd);
      goto out;
    }

  if (json_get_object (obj, "capabilities", "process.capabilities", &caps, err) < 0)
    goto out;
  if (caps)
    {
      p->has_capabilities = true;
      if (parse_capset (caps, "bounding", &p->caps.bounding, err) < 0
          || parse_capset (caps, "effective", &p->caps.effective, err) < 0
          || parse_capset (caps, "inheritable", &p->caps.inheritable, err) < 0
          || parse_capset (caps, "permitted", &p->caps.permitted, err) < 0
          || parse_capset (caps, "ambient", &p->caps.ambient, err) < 0)
        goto out;
    }
  if (parse_rlimits (obj, "process.rlimits", p, err) < 0)
    goto out;
  if (json_get_bool (obj, "noNewPrivileges", "process.noNewPrivileges", &p->no_new_privileges, err) < 0)
    goto out;
  if (json_get_string (obj, "apparmorProfile", "process.apparmorProfile", &p->apparmor_profile, err) < 0)
    goto out;
  if (json_get_string (obj, "selinuxLabel", "process.selinuxLabel", &p->selinux_label, err) < 0)
    goto out;
  if (json_get_int64 (obj, "oomScoreAdj", "process.oomScoreAdj", &v, &present, err) < 0)
    goto out;
  if (present)
    {
      if (v < -1000 || v > 1000)
        {
          skiff_error_make (err, 0, "invalid field `process.oomScoreAdj`: %lld is outside -1000..1000", (long long) v);
          goto out;
        }
      p->has_oom_score_adj = true;
      p->oom_score_adj = v;
    }
  *out = p;
  p = NULL;
  ret = 0;
out:
  if (p)
    spec_process_free (p);
  return ret;
}

int
spec_parse_process_file (const char *path, struct spec_process **out, skiff_error_t *err)
{
  cleanup_json yajl_val tree = NULL;
  if (json_parse_file (path, &tree, err) < 0)
    return -1;
  if (spec_parse_process (tree, "process", out, err) < 0)
    return skiff_error_wrap (err, "`%s`", path);
  if ((*out)->n_args == 0)
    {
      spec_process_free (*out);
      *out = NULL;
      return skiff_error_make (err, 0, "`%s`: missing field `args`", path);
    }
  return 0;
}

/* ---- hooks and mounts -------------------------------------------------- */

static const char *const hook_keys[HOOK_KIND_COUNT] = {
  [HOOK_PRESTART] = "prestart",
  [HOOK_CREATE_RUNTIME] = "createRuntime",
  [HOOK_CREATE_CONTAINER] = "createContainer",
  [HOOK_START_CONTAINER] = "startContainer",
  [HOOK_POSTSTART] = "poststart",
  [HOOK_POSTSTOP] = "poststop",
};

static int
parse_hooks (yajl_val root, struct spec *s, skiff_error_t *err)
{
  yajl_val hooks;
  int k;

  if (json_get_object (root, "hooks", "hooks", &hooks, err) < 0)
    return -1;
  if (hooks == NULL)
    return 0;
  for (k = 0; k < HOOK_KIND_COUNT; k++)
    {
      char field[64];
      yajl_val arr;
      size_t i;

      snprintf (field, sizeof (field), "hooks.%s", hook_keys[k]);
      if (json_get_array (hooks, hook_keys[k], field, &arr, err) < 0)
        return -1;
      if (arr == NULL)
        continue;
      s->hooks[k].hooks = calloc (arr->u.array.len + 1, sizeof (struct spec_hook));
      if (s->hooks[k].hooks == NULL)
        return skiff_error_make (err, ENOMEM, "%s", field);
      for (i = 0; i < arr->u.array.len; i++)
        {
          yajl_val h = arr->u.array.values[i];
          struct spec_hook *hook = &s->hooks[k].hooks[i];
          int64_t timeout = 0;
          bool has_timeout;

          s->hooks[k].n++;
          if (json_get_string_req (h, "path", field, &hook->path, err) < 0
              || json_get_strv (h, "args", field, &hook->args, NULL, err) < 0
              || json_get_strv (h, "env", field, &hook->env, NULL, err) < 0
              || json_get_int64 (h, "timeout", field, &timeout, &has_timeout, err) < 0)
            return -1;
          if (hook->path[0] != '/')
            return skiff_error_make (err, 0, "invalid field `%s[%zu].path`: `%s` is not absolute", field, i, hook->path);
          if (has_timeout && timeout <= 0)
            return skiff_error_make (err, 0, "invalid field `%s[%zu].timeout`: must be greater than zero", field, i);
          hook->timeout = timeout;
        }
    }
  return 0;
}

static int
parse_mounts (yajl_val root, struct spec *s, skiff_error_t *err)
{
  yajl_val arr;
  size_t i;

  if (json_get_array (root, "mounts", "mounts", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  s->mounts = calloc (arr->u.array.len + 1, sizeof (struct spec_mount));
  if (s->mounts == NULL)
    return skiff_error_make (err, ENOMEM, "mounts");
  for (i = 0; i < arr->u.array.len; i++)
    {
      yajl_val m = arr->u.array.values[i];
      struct spec_mount *mnt = &s->mounts[i];

      s->n_mounts++;
      if (json_get_string_req (m, "destination", "mounts[].destination", &mnt->destination, err) < 0
          || json_get_string (m, "type", "mounts[].type", &mnt->type, err) < 0
          || json_get_string (m, "source", "mounts[].source", &mnt->source, err) < 0
          || json_get_strv (m, "options", "mounts[].options", &mnt->options, &mnt->n_options, err) < 0)
        return -1;
      if (mnt->destination[0] != '/')
        return skiff_error_make (err, 0, "invalid field `mounts[%zu].destination`: `%s` is not absolute", i, mnt->destination);
      if (spec_mount_parse_options (mnt, err) < 0)
        return skiff_error_wrap (err, "mounts[%zu]", i);
      if (mnt->is_bind)
        {
          char *abs;
          struct stat st;
          if (mnt->source == NULL)
            return skiff_error_make (err, 0, "missing field `mounts[%zu].source` for bind mount of `%s`", i, mnt->destination);
          abs = fs_absolute (s->bundle, mnt->source);
          if (abs == NULL)
            return skiff_error_make (err, ENOMEM, "mounts");
          free (mnt->source);
          mnt->source = abs;
          if (s->check_files && stat (abs, &st) < 0)
            return skiff_error_make (err, errno, "invalid field `mounts[%zu].source`: `%s`", i, abs);
        }
      else if (mnt->type == NULL)
        return skiff_error_make (err, 0, "missing field `mounts[%zu].type` for `%s`", i, mnt->destination);
    }
  return 0;
}

/* ---- linux ------------------------------------------------------------- */

static int
parse_namespaces (yajl_val lnx, struct spec *s, skiff_error_t *err)
{
  yajl_val arr;
  size_t i, j;
  int seen = 0;

  if (json_get_array (lnx, "namespaces", "linux.namespaces", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  s->namespaces = calloc (arr->u.array.len + 1, sizeof (struct spec_namespace));
  if (s->namespaces == NULL)
    return skiff_error_make (err, ENOMEM, "namespaces");
  for (i = 0; i < arr->u.array.len; i++)
    {
      yajl_val n = arr->u.array.values[i];
      cleanup_free char *type = NULL;
      struct spec_namespace *ns = &s->namespaces[s->n_namespaces];

      if (json_get_string_req (n, "type", "linux.namespaces[].type", &type, err) < 0)
        return -1;
      ns->type = spec_namespace_type (type);
      if (ns->type < 0)
        return skiff_error_make (err, 0, "invalid field `linux.namespaces[%zu].type`: unknown namespace `%s`", i, type);
      if (seen & ns->type)
        return skiff_error_make (err, 0, "invalid field `linux.namespaces`: namespace `%s` listed twice", type);
      seen |= ns->type;
      s->n_namespaces++;
      if (json_get_string (n, "path", "linux.namespaces[].path", &ns->path, err) < 0)
        return -1;
      if (ns->path && ns->path[0] != '/')
        return skiff_error_make (err, 0, "invalid field `linux.namespaces[%zu].path`: `%s` is not absolute", i, ns->path);
      if (s->check_files && ns->path && access (ns->path, F_OK) < 0)
        return skiff_error_make (err, errno, "invalid field `linux.namespaces[%zu].path`: `%s`", i, ns->path);
    }
  (void) j;
  return 0;
}

static int
parse_id_mappings (yajl_val lnx, const char *key, struct spec_id_mapping **out, size_t *n, skiff_error_t *err)
{
  char field[48];
  yajl_val arr;
  size_t i;

  snprintf (field, sizeof (field), "linux.%s", key);
  if (json_get_array (lnx, key, field, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  *out = calloc (arr->u.array.len + 1, sizeof (struct spec_id_mapping));
  if (*out == NULL)
    return skiff_error_make (err, ENOMEM, "%s", field);
  for (i = 0; i < arr->u.array.len; i++)
    {
      yajl_val m = arr->u.array.values[i];
      uint64_t c = 0, h = 0, sz = 0;
      bool hc, hh, hs;
      if (json_get_uint64 (m, "containerID", field, &c, &hc, err) < 0
          || json_get_uint64 (m, "hostID", field, &h, &hh, err) < 0
          || json_get_uint64 (m, "size", field, &sz, &hs, err) < 0)
        return -1;
      if (!hc || !hh || !hs || c > UINT32_MAX || h > UINT32_MAX || sz > UINT32_MAX)
        return skiff_error_make (err, 0, "invalid field `%s[%zu]`: needs containerID, hostID and size", field, i);
      (*out)[i].container_id = c;
      (*out)[i].host_id = h;
      (*out)[i].size = sz;
      (*n)++;
    }
  return 0;
}

static int
parse_devices (yajl_val lnx, struct spec *s, skiff_error_t *err)
{
  yajl_val arr;
  size_t i;

  if (json_get_array (lnx, "devices", "linux.devices", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  s->devices = calloc (arr->u.array.len + 1, sizeof (struct spec_device));
  if (s->devices == NULL)
    return skiff_error_make (err, ENOMEM, "devices");
  for (i = 0; i < arr->u.array.len; i++)
    {
      yajl_val d = arr->u.array.values[i];
      struct spec_device *dev = &s->devices[i];
      cleanup_free char *type = NULL;
      uint64_t mode = 0, uid = 0, gid = 0;
      bool hmaj, hmin;

      s->n_devices++;
      if (json_get_string_req (d, "path", "linux.devices[].path", &dev->path, err) < 0
          || json_get_string_req (d, "type", "linux.devices[].type", &type, err) < 0
          || json_get_int64 (d, "major", "linux.devices[].major", &dev->major, &hmaj, err) < 0
          || json_get_int64 (d, "minor", "linux.devices[].minor", &dev->minor, &hmin, err) < 0
          || json_get_uint64 (d, "fileMode", "linux.devices[].fileMode", &mode, &dev->has_file_mode, err) < 0
          || json_get_uint64 (d, "uid", "linux.devices[].uid", &uid, &dev->has_uid, err) < 0
          || json_get_uint64 (d, "gid", "linux.devices[].gid", &gid, &dev->has_gid, err) < 0)
        return -1;
      if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
        return skiff_error_make (err, 0, "invalid field `linux.devices[%zu].type`: `%s`", i, type);
      if (dev->path[0] != '/')
        return skiff_error_make (err, 0, "invalid field `linux.devices[%zu].path`: `%s` is not absolute", i, dev->path);
      dev->type = type[0];
      if (dev->type != 'p' && (!hmaj || !hmin))
        return skiff_error_make (err, 0, "missing field `linux.devices[%zu].major/minor` for `%s`", i, dev->path);
      dev->file_mode = mode & 07777;
      dev->uid = uid;
      dev->gid = gid;
    }
  return 0;
}

static int
parse_device_rules (yajl_val res, struct spec_resources *r, skiff_error_t *err)
{
  yajl_val arr;
  size_t i;

  if (json_get_array (res, "devices", "linux.resources.devices", &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  r->devices = calloc (arr->u.array.len + 1, sizeof (struct spec_device_rule));
  if (r->devices == NULL)
    return skiff_error_make (err, ENOMEM, "devices");
  for (i = 0; i < arr->u.array.len; i++)
    {
      yajl_val d = arr->u.array.values[i];
      struct spec_device_rule *rule = &r->devices[i];
      cleanup_free char *type = NULL, *access = NULL;
      bool hmaj, hmin;

      r->n_devices++;
      rule->major = rule->minor = -1;
      if (json_get_bool (d, "allow", "linux.resources.devices[].allow", &rule->allow, err) < 0
          || json_get_string (d, "type", "linux.resources.devices[].type", &type, err) < 0
          || json_get_string (d, "access", "linux.resources.devices[].access", &access, err) < 0
          || json_get_int64 (d, "major", "linux.resources.devices[].major", &rule->major, &hmaj, err) < 0
          || json_get_int64 (d, "minor", "linux.resources.devices[].minor", &rule->minor, &hmin, err) < 0)
        return -1;
      if (!hmaj)
        rule->major = -1;
      if (!hmin)
        rule->minor = -1;
      rule->type = type ? type[0] : 'a';
      if ((type && strlen (type) != 1) || strchr ("acb", rule->type) == NULL)
        return skiff_error_make (err, 0, "invalid field `linux.resources.devices[%zu].type`: `%s`", i, type);
      if (access == NULL)
        strcpy (rule->access, "rwm");
      else if (strlen (access) > 3 || strspn (access, "rwm") != strlen (access))
        return skiff_error_make (err, 0, "invalid field `linux.resources.devices[%zu].access`: `%s`", i, access);
      else
        strcpy (rule->access, access);
    }
  return 0;
}

static int
parse_resources (yajl_val lnx, struct spec *s, skiff_error_t *err)
{
  struct spec_resources *r = &s->resources;
  yajl_val res, mem, cpu, pids, unified;

  if (json_get_object (lnx, "resources", "linux.resources", &res, err) < 0)
    return -1;
  if (res == NULL)
    return 0;
  s->has_resources = true;
  if (json_get_object (res, "memory", "linux.resources.memory", &mem, err) < 0
      || json_get_object (res, "cpu", "linux.resources.cpu", &cpu, err) < 0
      || json_get_object (res, "pids", "linux.resources.pids", &pids, err) < 0
      || json_get_object (res, "unified", "linux.resources.unified", &unified, err) < 0)
    return -1;
  if (mem)
    {
      if (json_get_int64 (mem, "limit", "linux.resources.memory.limit", &r->memory_limit, &r->has_memory_limit, err) < 0
          || json_get_int64 (mem, "reservation", "linux.resources.memory.reservation", &r->memory_reservation,
                             &r->has_memory_reservation, err) < 0
          || json_get_int64 (mem, "swap", "linux.resources.memory.swap", &r->memory_swap, &r->has_memory_swap, err) < 0
          || json_get_uint64 (mem, "swappiness", "linux.resources.memory.swappiness", &r->memory_swappiness,
                              &r->has_memory_swappiness, err) < 0
          || json_get_bool (mem, "disableOOMKiller", "linux.resources.memory.disableOOMKiller", &r->disable_oom_killer, err) < 0)
        return -1;
      if (r->has_memory_limit && r->memory_limit == 0)
        r->has_memory_limit = false;
      if (r->has_memory_swappiness && r->memory_swappiness > 100)
        return skiff_error_make (err, 0, "invalid field `linux.resources.memory.swappiness`: %llu is above 100",
                                 (unsigned long long) r->memory_swappiness);
      if (r->has_memory_limit && r->has_memory_swap && r->memory_swap > 0 && r->memory_limit > 0
          && r->memory_swap < r->memory_limit)
        return skiff_error_make (err, 0, "invalid field `linux.resources.memory.swap`: it must not be below memory.limit");
    }
  if (cpu)
    {
      if (json_get_uint64 (cpu, "shares", "linux.resources.cpu.shares", &r->cpu_shares, &r->has_cpu_shares, err) < 0
          || json_get_int64 (cpu, "quota", "linux.resources.cpu.quota", &r->cpu_quota, &r->has_cpu_quota, err) < 0
          || json_get_uint64 (cpu, "period", "linux.resources.cpu.period", &r->cpu_period, &r->has_cpu_period, err) < 0
          || json_get_string (cpu, "cpus", "linux.resources.cpu.cpus", &r->cpuset_cpus, err) < 0
          || json_get_string (cpu, "mems", "linux.resources.cpu.mems", &r->cpuset_mems, err) < 0)
        return -1;
      if (r->has_cpu_shares && r->cpu_shares == 0)
        r->has_cpu_shares = false;
      if (r->has_cpu_period && r->cpu_period == 0)
        r->has_cpu_period = false;
    }
  if (pids && json_get_int64 (pids, "limit", "linux.resources.pids.limit", &r->pids_limit, &r->has_pids_limit, err) < 0)
    return -1;
  if (parse_device_rules (res, r, err) < 0)
    return -1;
  if (unified)
    {
      size_t i, n = unified->u.object.len;
      r->unified_keys = calloc (n + 1, sizeof (char *));
      r->unified_values = calloc (n + 1, sizeof (char *));
      if (r->unified_keys == NULL || r->unified_values == NULL)
        return skiff_error_make (err, ENOMEM, "unified");
      for (i = 0; i < n; i++)
        {
          yajl_val v = unified->u.object.values[i];
          const char *k = unified->u.object.keys[i];
          if (!YAJL_IS_STRING (v))
            return skiff_error_make (err, 0, "invalid field `linux.resources.unified.%s`: expected a string", k);
          if (strchr (k, '/') || strcmp (k, "..") == 0 || strcmp (k, ".") == 0)
            return skiff_error_make (err, 0, "invalid field `linux.resources.unified`: bad key `%s`", k);
          r->unified_keys[i] = strdup (k);
          r->unified_values[i] = strdup (v->u.string);
          r->n_unified++;
        }
    }
  return 0;
}

static int
parse_seccomp (yajl_val lnx, struct spec *s, skiff_error_t *err)
{
  yajl_val sc, syscalls;
  cleanup_free char *def = NULL;
  cleanup_strv char **archs = NULL, **flags = NULL;
  struct spec_seccomp *out;
  size_t n_archs = 0, i, j, n_flags = 0;
  int64_t def_errno = 0;
  bool has_def_errno;

  if (json_get_object (lnx, "seccomp", "linux.seccomp", &sc, err) < 0)
    return -1;
  if (sc == NULL)
    return 0;
  out = s->seccomp = calloc (1, sizeof (*out));
  if (out == NULL)
    return skiff_error_make (err, ENOMEM, "seccomp");
  if (json_get_string_req (sc, "defaultAction", "linux.seccomp.defaultAction", &def, err) < 0
      || json_get_int64 (sc, "defaultErrnoRet", "linux.seccomp.defaultErrnoRet", &def_errno, &has_def_errno, err) < 0)
    return -1;
  if (syscall_filter_action (def, has_def_errno, def_errno, &out->default_action, err) < 0)
    return skiff_error_wrap (err, "invalid field `linux.seccomp.defaultAction`");

  if (json_get_strv (sc, "architectures", "linux.seccomp.architectures", &archs, &n_archs, err) < 0)
    return -1;
  if (archs)
    {
      out->archs = calloc (n_archs + 1, sizeof (uint32_t));
      if (out->archs == NULL)
        return skiff_error_make (err, ENOMEM, "seccomp");
      for (i = 0; i < n_archs; i++)
        if (syscall_filter_arch (archs[i], &out->archs[out->n_archs++], err) < 0)
          return skiff_error_wrap (err, "invalid field `linux.seccomp.architectures`");
    }
  if (json_get_strv (sc, "flags", "linux.seccomp.flags", &flags, &n_flags, err) < 0)
    return -1;
  for (i = 0; i < n_flags; i++)
    {
      if (strcmp (flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
        out->flag_log = true;
      else if (strcmp (flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
        out->flag_spec_allow = true;
      else if (strcmp (flags[i], "SECCOMP_FILTER_FLAG_TSYNC") != 0)
        return skiff_error_make (err, 0, "invalid field `linux.seccomp.flags`: unknown flag `%s`", flags[i]);
    }

  if (json_get_array (sc, "syscalls", "linux.seccomp.syscalls", &syscalls, err) < 0)
    return -1;
  if (syscalls == NULL)
    return 0;
  out->rules = calloc (syscalls->u.array.len + 1, sizeof (struct spec_seccomp_rule));
  if (out->rules == NULL)
    return skiff_error_make (err, ENOMEM, "seccomp");
  for (i = 0; i < syscalls->u.array.len; i++)
    {
      yajl_val r = syscalls->u.array.values[i], args;
      struct spec_seccomp_rule *rule = &out->rules[i];
      cleanup_free char *action = NULL;
      int64_t errno_ret = 0;
      bool has_errno;

      out->n_rules++;
      if (json_get_strv (r, "names", "linux.seccomp.syscalls[].names", &rule->names, &rule->n_names, err) < 0
          || json_get_string_req (r, "action", "linux.seccomp.syscalls[].action", &action, err) < 0
          || json_get_int64 (r, "errnoRet", "linux.seccomp.syscalls[].errnoRet", &errno_ret, &has_errno, err) < 0
          || json_get_array (r, "args", "linux.seccomp.syscalls[].args", &args, err) < 0)
        return -1;
      if (syscall_filter_action (action, has_errno, errno_ret, &rule->action, err) < 0)
        return skiff_error_wrap (err, "invalid field `linux.seccomp.syscalls[%zu].action`", i);
      if (args == NULL)
        continue;
      rule->args = calloc (args->u.array.len + 1, sizeof (struct spec_seccomp_arg));
      if (rule->args == NULL)
        return skiff_error_make (err, ENOMEM, "seccomp");
      for (j = 0; j < args->u.array.len; j++)
        {
          yajl_val a = args->u.array.values[j];
          struct spec_seccomp_arg *arg = &rule->args[j];
          cleanup_free char *op = NULL;
          uint64_t index = 0;
          bool has_index;

          rule->n_args++;
          if (json_get_uint64 (a, "index", "linux.seccomp.syscalls[].args[].index", &index, &has_index, err) < 0
              || json_get_uint64 (a, "value", "linux.seccomp.syscalls[].args[].value", &arg->value, NULL, err) < 0
              || json_get_uint64 (a, "valueTwo", "linux.seccomp.syscalls[].args[].valueTwo", &arg->value_two, NULL, err) < 0
              || json_get_string_req (a, "op", "linux.seccomp.syscalls[].args[].op", &op, err) < 0)
            return -1;
          if (!has_index || index > 5)
            return skiff_error_make (err, 0, "invalid field `linux.seccomp.syscalls[%zu].args[%zu].index`", i, j);
          arg->index = index;
          if (syscall_filter_op (op, &arg->op, err) < 0)
            return skiff_error_wrap (err, "invalid field `linux.seccomp.syscalls[%zu].args[%zu].op`", i, j);
        }
    }
  return 0;
}

static int
parse_linux (yajl_val root, struct spec *s, skiff_error_t *err)
{
  yajl_val lnx, sysctl;
  cleanup_free char *prop = NULL;

  if (json_get_object (root, "linux", "linux", &lnx, err) < 0)
    return -1;
  if (lnx == NULL)
    return 0;
  if (parse_namespaces (lnx, s, err) < 0
      || parse_id_mappings (lnx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err) < 0
      || parse_id_mappings (lnx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err) < 0
      || parse_devices (lnx, s, err) < 0
      || json_get_string (lnx, "cgroupsPath", "linux.cgroupsPath", &s->cgroups_path, err) < 0
      || parse_resources (lnx, s, err) < 0
      || parse_seccomp (lnx, s, err) < 0
      || json_get_string (lnx, "rootfsPropagation", "linux.rootfsPropagation", &prop, err) < 0
      || json_get_strv (lnx, "maskedPaths", "linux.maskedPaths", &s->masked_paths, &s->n_masked_paths, err) < 0
      || json_get_strv (lnx, "readonlyPaths", "linux.readonlyPaths", &s->readonly_paths, &s->n_readonly_paths, err) < 0
      || json_get_object (lnx, "sysctl", "linux.sysctl", &sysctl, err) < 0)
    return -1;
  if (prop && propagation_from_name (prop, &s->rootfs_propagation) < 0)
    return skiff_error_make (err, 0, "invalid field `linux.rootfsPropagation`: `%s`", prop);
  if (s->cgroups_path && strstr (s->cgroups_path, ".."))
    return skiff_error_make (err, 0, "invalid field `linux.cgroupsPath`: `%s` contains `..`", s->cgroups_path);
  if (sysctl)
    {
      size_t i, n = sysctl->u.object.len;
      s->sysctl = calloc (n + 1, sizeof (struct spec_sysctl));
      if (s->sysctl == NULL)
        return skiff_error_make (err, ENOMEM, "sysctl");
      for (i = 0; i < n; i++)
        {
          yajl_val v = sysctl->u.object.values[i];
          const char *k = sysctl->u.object.keys[i];
          if (!YAJL_IS_STRING (v))
            return skiff_error_make (err, 0, "invalid field `linux.sysctl.%s`: expected a string", k);
          if (strstr (k, "..") || strchr (k, '/') != NULL)
            return skiff_error_make (err, 0, "invalid field `linux.sysctl`: bad key `%s`", k);
          s->sysctl[i].key = strdup (k);
          s->sysctl[i].value = strdup (v->u.string);
          s->n_sysctl++;
        }
    }
  if ((s->n_uid_mappings || s->n_gid_mappings) && !spec_has_namespace (s, CLONE_NEWUSER, NULL))
    return skiff_error_make (err, 0, "invalid field `linux.%s`: mappings need a user namespace",
                             s->n_uid_mappings ? "uidMappings" : "gidMappings");
  return 0;
}

int
spec_has_namespace (const struct spec *s, int type, const char **path)
{
  size_t i;
  for (i = 0; i < s->n_namespaces; i++)
    if (s->namespaces[i].type == type)
      {
        if (path)
          *path = s->namespaces[i].path;
        return 1;
      }
  return 0;
}

/* ---- top level ----------------------------------------------------------- */

static int
parse_document (const char *text, const char *bundle, bool check_files, struct spec **out, skiff_error_t *err)
{
  cleanup_spec struct spec *s = NULL;
  yajl_val root, process;
  cleanup_free char *root_path = NULL;
  struct stat st;

  s = calloc (1, sizeof (*s));
  if (s == NULL)
    return skiff_error_make (err, ENOMEM, "spec");
  s->check_files = check_files;
  s->bundle = strdup (bundle);
  if (s->bundle == NULL)
    return skiff_error_make (err, ENOMEM, "spec");
  if (json_parse (text, &s->tree, err) < 0)
    return skiff_error_wrap (err, "config.json");
  if (!YAJL_IS_OBJECT (s->tree))
    return skiff_error_make (err, 0, "config.json: expected a JSON object");
  root = s->tree;

  if (json_get_string_req (root, "ociVersion", "ociVersion", &s->oci_version, err) < 0)
    return -1;
  if (strncmp (s->oci_version, "1.", 2) != 0)
    return skiff_error_make (err, 0, "invalid field `ociVersion`: unsupported version `%s`", s->oci_version);

  {
    yajl_val r;
    if (json_get_object (root, "root", "root", &r, err) < 0)
      return -1;
    if (r == NULL)
      return skiff_error_make (err, 0, "missing field `root`");
    if (json_get_string_req (r, "path", "root.path", &root_path, err) < 0
        || json_get_bool (r, "readonly", "root.readonly", &s->root_readonly, err) < 0)
      return -1;
  }
  s->root_path = fs_absolute (bundle, root_path);
  if (s->root_path == NULL)
    return skiff_error_make (err, ENOMEM, "root.path");
  if (check_files && stat (s->root_path, &st) < 0)
    return skiff_error_make (err, errno, "invalid field `root.path`: `%s`", s->root_path);
  if (check_files && !S_ISDIR (st.st_mode))
    return skiff_error_make (err, 0, "invalid field `root.path`: `%s` is not a directory", s->root_path);

  if (json_get_string (root, "hostname", "hostname", &s->hostname, err) < 0
      || json_get_string (root, "domainname", "domainname", &s->domainname, err) < 0
      || parse_mounts (root, s, err) < 0 || parse_hooks (root, s, err) < 0 || parse_linux (root, s, err) < 0)
    return -1;

  process = json_get (root, "process");
  if (process && !YAJL_IS_NULL (process))
    {
      if (spec_parse_process (process, "process", &s->process, err) < 0)
        return -1;
      if (s->process->n_args == 0)
        return skiff_error_make (err, 0, "missing field `process.args`");
    }
  if (s->hostname && !spec_has_namespace (s, CLONE_NEWUTS, NULL))
    log_debug ("hostname set without a new uts namespace");

  s->annotations = json_get (root, "annotations");
  *out = steal_pointer (&s);
  return 0;
}

int
spec_parse (const char *text, const char *bundle, struct spec **out, skiff_error_t *err)
{
  return parse_document (text, bundle, true, out, err);
}

int
spec_parse_saved (const char *text, const char *bundle, struct spec **out, skiff_error_t *err)
{
  return parse_document (text, bundle, false, out, err);
}

int
spec_load (const char *bundle, struct spec **out, skiff_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL, *abs_bundle = NULL;
  cleanup_free char *cwd = get_current_dir_name ();

  if (cwd == NULL)
    return skiff_error_make (err, errno, "getcwd");
  abs_bundle = fs_absolute (cwd, bundle);
  if (abs_bundle == NULL || asprintf (&path, "%s/config.json", abs_bundle) < 0)
    return skiff_error_make (err, ENOMEM, "spec");
  if (fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  return spec_parse (text, abs_bundle, out, err);
}

/* ---- freeing ------------------------------------------------------------- */

static void
strv_free (char **v)
{
  cleanup_strvp (&v);
}

void
spec_process_free (struct spec_process *p)
{
  size_t i;
  if (p == NULL)
    return;
  free (p->additional_gids);
  strv_free (p->args);
  strv_free (p->env);
  free (p->cwd);
  free (p->caps.bounding.caps);
  free (p->caps.effective.caps);
  free (p->caps.inheritable.caps);
  free (p->caps.permitted.caps);
  free (p->caps.ambient.caps);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  (void) i;
  free (p);
}

void
spec_free (struct spec *s)
{
  size_t i, j;
  int k;

  if (s == NULL)
    return;
  free (s->oci_version);
  free (s->bundle);
  free (s->root_path);
  for (i = 0; i < s->n_mounts; i++)
    {
      free (s->mounts[i].destination);
      free (s->mounts[i].type);
      free (s->mounts[i].source);
      free (s->mounts[i].data);
      strv_free (s->mounts[i].options);
    }
  free (s->mounts);
  spec_process_free (s->process);
  free (s->hostname);
  free (s->domainname);
  for (k = 0; k < HOOK_KIND_COUNT; k++)
    {
      for (i = 0; i < s->hooks[k].n; i++)
        {
          free (s->hooks[k].hooks[i].path);
          strv_free (s->hooks[k].hooks[i].args);
          strv_free (s->hooks[k].hooks[i].env);
        }
      free (s->hooks[k].hooks);
    }
  for (i = 0; i < s->n_namespaces; i++)
    free (s->namespaces[i].path);
  free (s->namespaces);
  free (s->uid_mappings);
  free (s->gid_mappings);
  for (i = 0; i < s->n_devices; i++)
    free (s->devices[i].path);
  free (s->devices);
  free (s->cgroups_path);
  free (s->resources.cpuset_cpus);
  free (s->resources.cpuset_mems);
  free (s->resources.devices);
  strv_free (s->resources.unified_keys);
  strv_free (s->resources.unified_values);
  for (i = 0; i < s->n_sysctl; i++)
    {
      free (s->sysctl[i].key);
      free (s->sysctl[i].value);
    }
  free (s->sysctl);
  if (s->seccomp)
    {
      for (i = 0; i < s->seccomp->n_rules; i++)
        {
          strv_free (s->seccomp->rules[i].names);
          free (s->seccomp->rules[i].args);
        }
      free (s->seccomp->rules);
      free (s->seccomp->archs);
      free (s->seccomp);
    }
  (void) j;
  strv_free (s->masked_paths);
  strv_free (s->readonly_paths);
  if (s->tree)
    yajl_tree_free (s->tree);
  free (s);
}
