#include "process.h"
#include "caps.h"
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "syscall_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *
env_path (const struct spec_process *p)
{
  size_t i;
  for (i = 0; i < p->n_env; i++)
    if (strncmp (p->env[i], "PATH=", 5) == 0)
      return p->env[i] + 5;
  return DEFAULT_PATH;
}

static bool
is_executable_file (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

int
process_find_executable (const struct spec_process *p, char **path, skiff_error_t *err)
{
  const char *name = p->args[0];
  cleanup_free char *dirs = NULL;
  char *dir, *save = NULL;

  if (strchr (name, '/'))
    {
      struct stat st;
      /* runc's wording, which engines (and the docker CLI, for its exit
         statuses 126 and 127) look for.  */
      if (stat (name, &st) < 0)
        {
          int e = errno;
          skiff_error_make (err, 0, "exec: \"%s\": stat %s: %s", name, name,
                            e == ENOENT ? "no such file or directory" : e == EACCES ? "permission denied" : strerror (e));
          (*err)->errno_ = e;
          return -1;
        }
      if (S_ISDIR (st.st_mode))
        return skiff_error_make (err, 0, "exec: \"%s\": is a directory: permission denied", name);
      if (access (name, X_OK) < 0)
        return skiff_error_make (err, 0, "exec: \"%s\": permission denied", name);
      *path = strdup (name);
      return 0;
    }
  dirs = strdup (env_path (p));
  if (dirs == NULL)
    return skiff_error_make (err, ENOMEM, "PATH");
  for (dir = strtok_r (dirs, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *cand = NULL;
      if (asprintf (&cand, "%s/%s", *dir ? dir : ".", name) < 0)
        return skiff_error_make (err, ENOMEM, "PATH");
      if (is_executable_file (cand))
        {
          *path = steal_pointer (&cand);
          return 0;
        }
    }
  skiff_error_make (err, 0, "exec: \"%s\": executable file not found in $PATH", name);
  (*err)->errno_ = ENOENT;
  return -1;
}

static int
apply_rlimits (const struct spec_process *p, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < p->n_rlimits; i++)
    {
      struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
      if (setrlimit (p->rlimits[i].resource, &rl) < 0)
        return skiff_error_make (err, errno, "setrlimit %d", p->rlimits[i].resource);
    }
  return 0;
}

static int
apply_oom_score_adj (const struct spec_process *p, skiff_error_t *err)
{
  char buf[16];
  if (!p->has_oom_score_adj)
    return 0;
  snprintf (buf, sizeof (buf), "%d", p->oom_score_adj);
  return fs_write_string ("/proc/self/oom_score_adj", buf, err);
}

static int
apply_identity (const struct spec_process *p, skiff_error_t *err)
{
  if (setgroups (p->n_additional_gids, p->additional_gids) < 0)
    {
      /* In a user namespace with setgroups denied only an empty list fails
         harmlessly; anything else is a real error.  */
      if (!(errno == EPERM && p->n_additional_gids == 0))
        return skiff_error_make (err, errno, "setgroups");
    }
  if (setresgid (p->gid, p->gid, p->gid) < 0)
    return skiff_error_make (err, errno, "setgid %u", p->gid);
  if (setresuid (p->uid, p->uid, p->uid) < 0)
    return skiff_error_make (err, errno, "setuid %u", p->uid);
  return 0;
}

int
process_exec (const struct spec_process *p, const char *exe, void *seccomp, skiff_error_t *err)
{
  bool filter_loaded = false;

  if (p->apparmor_profile && *p->apparmor_profile)
    log_warning ("apparmorProfile `%s` is ignored: skiff-runtime does not support AppArmor", p->apparmor_profile);
  if (p->selinux_label && *p->selinux_label)
    log_warning ("selinuxLabel is ignored: skiff-runtime does not support SELinux");

  if (apply_rlimits (p, err) < 0 || apply_oom_score_adj (p, err) < 0)
    return -1;

  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
     while we still have it (the profile must then allow the set-up
     syscalls that follow, as Docker's does).  runc does the same.  */
  if (seccomp && !p->no_new_privileges)
    {
      if (syscall_filter_load (seccomp, err) < 0)
        return -1;
      filter_loaded = true;
    }

  if (p->has_capabilities)
    {
      if (caps_drop_bounding (&p->caps, err) < 0)
        return -1;
      if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return skiff_error_make (err, errno, "PR_SET_KEEPCAPS");
    }
  if (chdir (p->cwd) < 0)
    return skiff_error_make (err, errno, "chdir to cwd `%s`", p->cwd);
  if (apply_identity (p, err) < 0)
    return -1;
  if (p->has_capabilities)
    {
      if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return skiff_error_make (err, errno, "PR_SET_KEEPCAPS");
      if (caps_apply (&p->caps, err) < 0)
        return -1;
    }
  umask (p->has_umask ? p->umask : 022);
  if (p->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return skiff_error_make (err, errno, "set no_new_privs");

  /* Nothing of ours may leak into the container.  */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return skiff_error_make (err, errno, "close_range");

  if (seccomp && !filter_loaded && syscall_filter_load (seccomp, err) < 0)
    return -1;
  execve (exe, p->args, p->env ? p->env : (char *[]){ NULL });
  return skiff_error_make (err, errno, "exec `%s`", exe);
}
