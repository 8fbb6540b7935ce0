/* --user and --group-add resolution against the container's /etc/passwd
   and /etc/group, with the rules and messages of runc's
   libcontainer/user (GetExecUser, GetAdditionalGroups) that Docker uses.  */
#include "oci_spec.h"
#include "cleanup.h"
#include "fs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ID 2147483647L /* runc: 1<<31 - 1, for 32-bit systems */
#define ERR_RANGE "uids and gids must be in range 0-2147483647"

/* One parsed line: up to four ':'-separated fields.  */
struct line_fields
{
  char *f[4];
  size_t n;
};

/* strconv.Atoi: optional sign, decimal digits, no overflow.  */
static bool
go_atoi (const char *s, long long *out)
{
  char *end;
  if (s == NULL || *s == '\0' || isspace ((unsigned char) *s))
    return false;
  errno = 0;
  *out = strtoll (s, &end, 10);
  return errno == 0 && *end == '\0' && isdigit ((unsigned char) end[-1]);
}

/* Number fields of passwd/group lines: conversion errors give 0.  */
static long long
field_int (const char *s)
{
  long long v;
  return go_atoi (s, &v) ? v : 0;
}

static char *
trim (char *s)
{
  char *e;
  while (isspace ((unsigned char) *s))
    s++;
  e = s + strlen (s);
  while (e > s && isspace ((unsigned char) e[-1]))
    *--e = '\0';
  return s;
}

static void
split_fields (char *line, struct line_fields *lf)
{
  char *p = line;
  lf->n = 0;
  while (lf->n < 4)
    {
      char *c = strchr (p, ':');
      lf->f[lf->n++] = p;
      if (c == NULL)
        break;
      *c = '\0';
      p = c + 1;
    }
}

/* The file inside the rootfs (symlinks resolved in it), or NULL when it
   cannot be opened: runc then behaves as if it did not exist.  */
static FILE *
open_in_rootfs (const char *rootfs, const char *path)
{
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  skiff_error_t ignored = NULL;
  int fd;
  FILE *f;

  if (rootfd < 0)
    return NULL;
  fd = fs_open_in_root (rootfd, path, O_RDONLY | O_CLOEXEC, 0, &ignored);
  if (fd < 0)
    {
      skiff_error_release (&ignored);
      return NULL;
    }
  f = fdopen (fd, "r");
  if (f == NULL)
    close (fd);
  return f;
}

struct passwd_match
{
  bool found;
  char *name;
  long long uid, gid;
};

static int
find_user (FILE *f, const char *user_arg, bool uid_numeric, long long uid_arg, struct passwd_match *m, skiff_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t cap = 0;

  while (getline (&buf, &cap, f) >= 0)
    {
      struct line_fields lf;
      char *line = trim (buf);
      long long uid;
      bool match;

      if (*line == '\0')
        continue;
      split_fields (line, &lf);
      uid = lf.n > 2 ? field_int (lf.f[2]) : 0;
      if (user_arg[0] == '\0')
        match = uid == 0; /* default: the current state, uid 0 */
      else if (uid_numeric)
        match = uid == uid_arg;
      else
        match = strcmp (lf.f[0], user_arg) == 0;
      if (!match)
        continue;
      m->found = true;
      m->name = strdup (lf.f[0]);
      if (m->name == NULL)
        return skiff_error_make (err, ENOMEM, "passwd");
      m->uid = uid;
      m->gid = lf.n > 3 ? field_int (lf.f[3]) : 0;
      return 0;
    }
  if (ferror (f))
    return skiff_error_make (err, errno, "read /etc/passwd");
  return 0;
}

/* Calls fn for every group line; the group file skips comments too.  */
typedef int (*group_fn) (const char *name, long long gid, char *members, void *data, skiff_error_t *err);

static int
each_group (FILE *f, group_fn fn, void *data, skiff_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t cap = 0;

  rewind (f);
  while (getline (&buf, &cap, f) >= 0)
    {
      struct line_fields lf;
      char *line = trim (buf);

      if (*line == '\0' || *line == '#')
        continue;
      split_fields (line, &lf);
      if (fn (lf.f[0], lf.n > 2 ? field_int (lf.f[2]) : 0, lf.n > 3 ? lf.f[3] : NULL, data, err) < 0)
        return -1;
    }
  if (ferror (f))
    return skiff_error_make (err, errno, "read /etc/group");
  return 0;
}

static int
push_gid (struct oci_user *u, long long gid, skiff_error_t *err)
{
  uint32_t *n = realloc (u->additional_gids, (u->n_additional_gids + 1) * sizeof (uint32_t));
  if (n == NULL)
    return skiff_error_make (err, ENOMEM, "additional gids");
  u->additional_gids = n;
  n[u->n_additional_gids++] = (uint32_t) gid;
  return 0;
}

struct group_query
{
  const char *group_arg; /* explicit group, or NULL: membership of user */
  bool gid_numeric;
  long long gid_arg;
  const char *user;
  bool found;
  long long gid; /* first explicit match */
  struct oci_user *sgids;
};

static bool
member_of (char *members, const char *user)
{
  char *save = NULL, *m;
  if (members == NULL || user == NULL || *user == '\0')
    return false;
  for (m = strtok_r (members, ",", &save); m; m = strtok_r (NULL, ",", &save))
    if (strcmp (m, user) == 0)
      return true;
  return false;
}

static int
match_group (const char *name, long long gid, char *members, void *data, skiff_error_t *err)
{
  struct group_query *q = data;

  if (q->group_arg == NULL)
    return member_of (members, q->user) ? push_gid (q->sgids, gid, err) : 0;
  if (q->found)
    return 0;
  if (q->gid_numeric ? gid == q->gid_arg : strcmp (name, q->group_arg) == 0)
    {
      q->found = true;
      q->gid = gid;
    }
  return 0;
}

struct group_add_query
{
  const char *want;
  const struct oci_user *have;
  bool found;
  long long gid;
};

static bool
has_gid (const struct oci_user *u, size_t from, long long gid)
{
  size_t i;
  for (i = from; i < u->n_additional_gids; i++)
    if (u->additional_gids[i] == gid)
      return true;
  return false;
}

static int
match_group_add (const char *name, long long gid, char *members, void *data, skiff_error_t *err)
{
  struct group_add_query *q = data;
  char num[24];

  (void) members;
  (void) err;
  if (q->found)
    return 0;
  snprintf (num, sizeof (num), "%lld", gid);
  if (strcmp (name, q->want) == 0 || strcmp (num, q->want) == 0)
    {
      q->found = true;
      q->gid = gid;
    }
  return 0;
}

/* HostConfig.GroupAdd: names or numbers; duplicates are listed once.  */
static int
add_groups (FILE *group, char *const *group_add, size_t n, struct oci_user *u, skiff_error_t *err)
{
  size_t first = u->n_additional_gids, i;

  for (i = 0; i < n; i++)
    {
      struct group_add_query q = { .want = group_add[i], .have = u };
      long long gid;

      if (group && each_group (group, match_group_add, &q, err) < 0)
        return -1;
      if (q.found)
        gid = q.gid;
      else if (!go_atoi (group_add[i], &gid))
        return skiff_error_make (err, 0, "Unable to find group %s: no matching entries in group file", group_add[i]);
      else if (gid < 0 || gid > MAX_ID)
        return skiff_error_make (err, 0, ERR_RANGE);
      if (!has_gid (u, first, gid) && push_gid (u, gid, err) < 0)
        return -1;
    }
  return 0;
}

int
oci_user_resolve (const char *rootfs, const char *user_spec, char *const *group_add, size_t n_group_add,
                  struct oci_user *out, skiff_error_t *err)
{
  cleanup_file FILE *passwd = open_in_rootfs (rootfs, "/etc/passwd");
  cleanup_file FILE *group = open_in_rootfs (rootfs, "/etc/group");
  cleanup_free char *spec = strdup (user_spec ? user_spec : "");
  cleanup_free char *matched = NULL;
  struct passwd_match m = { 0 };
  struct oci_user u = { 0 };
  struct oci_user sgids = { 0 };
  const char *user_arg, *group_arg = "";
  char *colon, *rest;
  long long uid_arg = 0, gid_arg = 0, uid = 0, gid = 0;
  bool uid_numeric, gid_numeric;
  size_t i;
  int ret = -1;

  if (spec == NULL)
    return skiff_error_make (err, ENOMEM, "user");
  /* "user[:group[:ignored]]", as runc's parseLine.  */
  user_arg = spec;
  colon = strchr (spec, ':');
  if (colon)
    {
      *colon = '\0';
      group_arg = colon + 1;
      rest = strchr (colon + 1, ':');
      if (rest)
        *rest = '\0';
    }
  uid_numeric = go_atoi (user_arg, &uid_arg);
  gid_numeric = go_atoi (group_arg, &gid_arg);

  if (passwd && find_user (passwd, user_arg, uid_numeric, uid_arg, &m, err) < 0)
    goto out;
  matched = m.name;
  if (m.found)
    {
      uid = m.uid;
      gid = m.gid;
    }
  else if (user_arg[0] != '\0')
    {
      if (!uid_numeric)
        {
          skiff_error_make (err, 0, "unable to find user %s: no matching entries in passwd file", user_arg);
          goto out;
        }
      if (uid_arg < 0 || uid_arg > MAX_ID)
        {
          skiff_error_make (err, 0, ERR_RANGE);
          goto out;
        }
      uid = uid_arg;
    }

  if (group_arg[0] != '\0' || (matched && matched[0] != '\0'))
    {
      struct group_query q = { .group_arg = group_arg[0] ? group_arg : NULL,
                               .gid_numeric = gid_numeric,
                               .gid_arg = gid_arg,
                               .user = matched,
                               .sgids = &sgids };
      if (group && each_group (group, match_group, &q, err) < 0)
        goto out;
      if (group_arg[0] != '\0')
        {
          if (q.found)
            gid = q.gid;
          else if (!gid_numeric)
            {
              skiff_error_make (err, 0, "unable to find group %s: no matching entries in group file", group_arg);
              goto out;
            }
          else if (gid_arg < 0 || gid_arg > MAX_ID)
            {
              skiff_error_make (err, 0, ERR_RANGE);
              goto out;
            }
          else
            gid = gid_arg;
        }
    }

  /* Docker: the primary gid, then the member groups, then GroupAdd.  */
  u.uid = uid;
  u.gid = gid;
  if (push_gid (&u, gid, err) < 0)
    goto out;
  for (i = 0; i < sgids.n_additional_gids; i++)
    if (push_gid (&u, sgids.additional_gids[i], err) < 0)
      goto out;
  if (n_group_add > 0 && add_groups (group, group_add, n_group_add, &u, err) < 0)
    goto out;
  *out = u;
  u.additional_gids = NULL;
  ret = 0;
out:
  oci_user_release (&u);
  oci_user_release (&sgids);
  return ret;
}

void
oci_user_release (struct oci_user *u)
{
  free (u->additional_gids);
  u->additional_gids = NULL;
  u->n_additional_gids = 0;
}
