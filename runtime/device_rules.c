#include "device_rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct spec_device_rule default_rules[] = {
  { true, 'c', -1, -1, "m" },  { true, 'b', -1, -1, "m" },
  { true, 'c', 1, 3, "rwm" },  /* null */
  { true, 'c', 1, 5, "rwm" },  /* zero */
  { true, 'c', 1, 7, "rwm" },  /* full */
  { true, 'c', 1, 8, "rwm" },  /* random */
  { true, 'c', 1, 9, "rwm" },  /* urandom */
  { true, 'c', 5, 0, "rwm" },  /* tty */
  { true, 'c', 5, 1, "rwm" },  /* console */
  { true, 'c', 5, 2, "rwm" },  /* ptmx */
  { true, 'c', 136, -1, "rwm" }, /* pts */
  { true, 'c', 10, 200, "rwm" }, /* net/tun */
};

int
device_rules_effective (const struct spec *s, struct spec_resources *out, struct spec_device_rule **rules,
                        skiff_error_t *err)
{
  const size_t n_default = sizeof (default_rules) / sizeof (default_rules[0]);
  size_t n = 0, i;
  struct spec_device_rule *r;

  *out = s->resources;
  r = calloc (s->resources.n_devices + n_default + s->n_devices + 1, sizeof (*r));
  if (r == NULL)
    return skiff_error_make (err, ENOMEM, "device rules");
  for (i = 0; i < s->resources.n_devices; i++)
    r[n++] = s->resources.devices[i];
  for (i = 0; i < n_default; i++)
    r[n++] = default_rules[i];
  for (i = 0; i < s->n_devices; i++)
    {
      const struct spec_device *d = &s->devices[i];
      if (d->type != 'c' && d->type != 'b' && d->type != 'u')
        continue;
      r[n].allow = true;
      r[n].type = d->type == 'b' ? 'b' : 'c';
      r[n].major = d->major;
      r[n].minor = d->minor;
      strcpy (r[n].access, "rwm");
      n++;
    }
  out->devices = r;
  out->n_devices = n;
  *rules = r;
  return 0;
}
