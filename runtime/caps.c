#include "caps.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>

static bool
in_set (const struct spec_capset *s, int cap)
{
  size_t i;
  for (i = 0; i < s->n; i++)
    if (s->caps[i] == cap)
      return true;
  return false;
}

static int
last_cap (void)
{
  int n = cap_max_bits ();
  return n > 0 ? n - 1 : CAP_LAST_CAP;
}

int
caps_drop_bounding (const struct spec_capabilities *c, skiff_error_t *err)
{
  int cap, last = last_cap ();
  for (cap = 0; cap <= last; cap++)
    {
      if (in_set (&c->bounding, cap))
        continue;
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        return skiff_error_make (err, errno, "drop capability %d from the bounding set", cap);
    }
  return 0;
}

static int
set_flag (cap_t caps, cap_flag_t flag, const struct spec_capset *s, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < s->n; i++)
    {
      cap_value_t v = s->caps[i];
      if (v > last_cap ())
        continue; /* not known to this kernel */
      if (cap_set_flag (caps, flag, 1, &v, CAP_SET) < 0)
        return skiff_error_make (err, errno, "cap_set_flag");
    }
  return 0;
}

int
caps_apply (const struct spec_capabilities *c, skiff_error_t *err)
{
  cap_t caps = cap_init ();
  size_t i;
  int ret;

  if (caps == NULL)
    return skiff_error_make (err, errno, "cap_init");
  ret = set_flag (caps, CAP_EFFECTIVE, &c->effective, err);
  if (ret == 0)
    ret = set_flag (caps, CAP_PERMITTED, &c->permitted, err);
  if (ret == 0)
    ret = set_flag (caps, CAP_INHERITABLE, &c->inheritable, err);
  if (ret == 0 && cap_set_proc (caps) < 0)
    ret = skiff_error_make (err, errno, "set capabilities");
  cap_free (caps);
  if (ret < 0)
    return ret;

  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return skiff_error_make (err, errno, "clear ambient capabilities");
  for (i = 0; i < c->ambient.n; i++)
    {
      /* The kernel only accepts ambient capabilities that are permitted
         and inheritable; runc skips the others, and so do we.  */
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c->ambient.caps[i], 0, 0) < 0 && errno != EPERM
          && errno != EINVAL)
        return skiff_error_make (err, errno, "raise ambient capability %d", c->ambient.caps[i]);
    }
  return 0;
}
