/* moby seccomp profile -> OCI linux.seccomp, as profiles/seccomp in
   Docker 20.10 (setupSeccomp).  */
#include "seccomp_profile.h"
#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define DECODE "Decoding seccomp profile failed"

int
seccomp_profile_host_detect (struct seccomp_profile_host *h, skiff_error_t *err)
{
  struct utsname u;

  /* Docker's goToNative/nativeToSeccomp tables, for GOARCH of the build.  */
#if defined(__x86_64__) && !defined(__ILP32__)
  h->native = "amd64";
  h->native_scmp = "SCMP_ARCH_X86_64";
#elif defined(__i386__)
  h->native = "x86";
  h->native_scmp = "SCMP_ARCH_X86";
#elif defined(__aarch64__)
  h->native = "arm64";
  h->native_scmp = "SCMP_ARCH_AARCH64";
#elif defined(__arm__)
  h->native = "arm";
  h->native_scmp = "SCMP_ARCH_ARM";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  h->native = "ppc64le";
  h->native_scmp = "SCMP_ARCH_PPC64LE";
#elif defined(__powerpc64__)
  h->native = "ppc64";
  h->native_scmp = "SCMP_ARCH_PPC64";
#elif defined(__s390x__)
  h->native = "s390x";
  h->native_scmp = "SCMP_ARCH_S390X";
#else
  h->native = NULL;
  h->native_scmp = NULL;
#endif
  if (uname (&u) < 0)
    return skiff_error_make (err, errno, "uname");
  /* "6.1.0-13-amd64", "3.12-1-amd64": only kernel and major count.  */
  if (sscanf (u.release, "%u.%u", &h->kernel, &h->major) != 2)
    return skiff_error_make (err, 0, "failed to parse kernel version \"%s\"", u.release);
  return 0;
}

static bool
strv_has (char *const *v, size_t n, const char *s)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

struct filter
{
  char **caps, **arches;
  size_t n_caps, n_arches;
  bool has_min_kernel;
  unsigned int kernel, major;
};

static void
filter_release (struct filter *f)
{
  cleanup_strvp (&f->caps);
  cleanup_strvp (&f->arches);
}

/* "<kernel>.<major>", both 0..255 and not 0.0, as KernelVersion.UnmarshalJSON.  */
static int
parse_min_kernel (const char *s, unsigned int *kernel, unsigned int *major, skiff_error_t *err)
{
  const char *dot = strchr (s, '.');
  unsigned long k, m;
  char *end;

  if (dot == NULL || strchr (dot + 1, '.') != NULL || dot == s || dot[1] == '\0'
      || strspn (s, "0123456789") != (size_t) (dot - s) || strspn (dot + 1, "0123456789") != strlen (dot + 1))
    return skiff_error_make (err, 0, "%s: invalid kernel version: \"%s\", expected \"<kernel>.<major>\"", DECODE, s);
  k = strtoul (s, &end, 10);
  m = strtoul (dot + 1, &end, 10);
  if (k > 255 || m > 255)
    return skiff_error_make (err, 0, "%s: invalid kernel version: \"%s\", expected \"<kernel>.<major>\"", DECODE, s);
  if (k == 0 && m == 0)
    return skiff_error_make (err, 0, "%s: invalid kernel version: \"%s\", expected \"<kernel>.<major>\": version cannot be 0.0",
                             DECODE, s);
  *kernel = k;
  *major = m;
  return 0;
}

static int
parse_filter (yajl_val rule, const char *key, size_t index, struct filter *f, skiff_error_t *err)
{
  yajl_val obj;
  cleanup_free char *min = NULL;
  char field[64];

  snprintf (field, sizeof (field), "syscalls[%zu].%s", index, key);
  if (json_get_object (rule, key, field, &obj, err) < 0)
    return skiff_error_wrap (err, DECODE);
  if (obj == NULL)
    return 0;
  if (json_get_strv (obj, "caps", field, &f->caps, &f->n_caps, err) < 0
      || json_get_strv (obj, "arches", field, &f->arches, &f->n_arches, err) < 0
      || json_get_string (obj, "minKernel", field, &min, err) < 0)
    return skiff_error_wrap (err, DECODE);
  if (min && min[0] != '\0')
    {
      if (parse_min_kernel (min, &f->kernel, &f->major, err) < 0)
        return -1;
      f->has_min_kernel = true;
    }
  return 0;
}

static bool
kernel_at_least (const struct seccomp_profile_host *h, const struct filter *f)
{
  return h->kernel > f->kernel || (h->kernel == f->kernel && h->major >= f->major);
}

/* moby's setupSeccomp filter, in its order: excludes first, then includes.  */
static bool
rule_applies (const struct filter *inc, const struct filter *exc, const struct seccomp_profile_host *h, char *const *caps,
              size_t n_caps)
{
  const char *arch = h->native ? h->native : "";
  size_t i;

  if (exc->n_arches > 0 && strv_has (exc->arches, exc->n_arches, arch))
    return false;
  for (i = 0; i < exc->n_caps; i++)
    if (strv_has (caps, n_caps, exc->caps[i]))
      return false;
  if (exc->has_min_kernel && kernel_at_least (h, exc))
    return false;
  if (inc->n_arches > 0 && !strv_has (inc->arches, inc->n_arches, arch))
    return false;
  for (i = 0; i < inc->n_caps; i++)
    if (!strv_has (caps, n_caps, inc->caps[i]))
      return false;
  if (inc->has_min_kernel && !kernel_at_least (h, inc))
    return false;
  return true;
}

static void
gen_uint64 (yajl_gen g, uint64_t v)
{
  char buf[32];
  int n = snprintf (buf, sizeof (buf), "%" PRIu64, v);
  yajl_gen_number (g, buf, n);
}

static int
gen_args (yajl_gen g, yajl_val args, size_t index, skiff_error_t *err)
{
  size_t j;
  char field[64];

  snprintf (field, sizeof (field), "syscalls[%zu].args", index);
  if (!YAJL_IS_ARRAY (args))
    return skiff_error_make (err, 0, "%s: invalid field `%s`: expected an array", DECODE, field);
  if (args->u.array.len == 0)
    return 0;
  json_gen_str (g, "args");
  yajl_gen_array_open (g);
  for (j = 0; j < args->u.array.len; j++)
    {
      yajl_val a = args->u.array.values[j];
      uint64_t idx = 0, value = 0, value_two = 0;
      cleanup_free char *op = NULL;

      if (!YAJL_IS_OBJECT (a))
        return skiff_error_make (err, 0, "%s: invalid field `%s[%zu]`: expected an object", DECODE, field, j);
      if (json_get_uint64 (a, "index", field, &idx, NULL, err) < 0
          || json_get_uint64 (a, "value", field, &value, NULL, err) < 0
          || json_get_uint64 (a, "valueTwo", field, &value_two, NULL, err) < 0
          || json_get_string (a, "op", field, &op, err) < 0)
        return skiff_error_wrap (err, DECODE);
      yajl_gen_map_open (g);
      json_gen_str (g, "index");
      gen_uint64 (g, idx);
      json_gen_str (g, "value");
      gen_uint64 (g, value);
      if (value_two != 0)
        {
          json_gen_str (g, "valueTwo");
          gen_uint64 (g, value_two);
        }
      json_gen_kv_str (g, "op", op ? op : "");
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  return 0;
}

static int
gen_rule (yajl_gen g, yajl_val rule, size_t index, const struct seccomp_profile_host *h, char *const *caps, size_t n_caps,
          skiff_error_t *err)
{
  __attribute__ ((cleanup (filter_release))) struct filter inc = { 0 };
  __attribute__ ((cleanup (filter_release))) struct filter exc = { 0 };
  cleanup_free char *name = NULL, *action = NULL;
  cleanup_strv char **names = NULL;
  size_t n_names = 0, i;
  uint64_t errno_ret = 0;
  bool has_errno;
  yajl_val args;
  char field[48];

  snprintf (field, sizeof (field), "syscalls[%zu]", index);
  if (!YAJL_IS_OBJECT (rule))
    return skiff_error_make (err, 0, "%s: invalid field `%s`: expected an object", DECODE, field);
  if (json_get_string (rule, "name", field, &name, err) < 0 || json_get_strv (rule, "names", field, &names, &n_names, err) < 0
      || json_get_string (rule, "action", field, &action, err) < 0
      || json_get_uint64 (rule, "errnoRet", field, &errno_ret, &has_errno, err) < 0)
    return skiff_error_wrap (err, DECODE);
  if (parse_filter (rule, "includes", index, &inc, err) < 0 || parse_filter (rule, "excludes", index, &exc, err) < 0)
    return -1;
  if (!rule_applies (&inc, &exc, h, caps, n_caps))
    return 0;
  if (name && name[0] != '\0' && n_names > 0)
    return skiff_error_make (err, 0, "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");

  yajl_gen_map_open (g);
  json_gen_str (g, "names");
  yajl_gen_array_open (g);
  if (name && name[0] != '\0')
    json_gen_str (g, name);
  else
    for (i = 0; i < n_names; i++)
      json_gen_str (g, names[i]);
  yajl_gen_array_close (g);
  json_gen_kv_str (g, "action", action ? action : "");
  if (has_errno)
    {
      json_gen_str (g, "errnoRet");
      gen_uint64 (g, errno_ret);
    }
  args = json_get (rule, "args");
  if (args && !YAJL_IS_NULL (args) && gen_args (g, args, index, err) < 0)
    return -1;
  yajl_gen_map_close (g);
  return 0;
}

/* "architectures" as given, then the archMap entry of the native arch.  */
static int
gen_architectures (yajl_gen g, yajl_val root, const struct seccomp_profile_host *h, skiff_error_t *err)
{
  cleanup_strv char **archs = NULL;
  size_t n_archs = 0, i, j;
  yajl_val map;
  yajl_val native_entry = NULL;
  cleanup_strv char **subs = NULL;
  size_t n_subs = 0;

  if (json_get_strv (root, "architectures", "architectures", &archs, &n_archs, err) < 0
      || json_get_array (root, "archMap", "archMap", &map, err) < 0)
    return skiff_error_wrap (err, DECODE);
  if (n_archs > 0 && map && map->u.array.len > 0)
    return skiff_error_make (err, 0, "'architectures' and 'archMap' were specified in the seccomp profile, use either "
                                     "'architectures' or 'archMap'");
  for (i = 0; map && i < map->u.array.len; i++)
    {
      yajl_val e = map->u.array.values[i];
      cleanup_free char *arch = NULL;
      if (!YAJL_IS_OBJECT (e))
        return skiff_error_make (err, 0, "%s: invalid field `archMap[%zu]`: expected an object", DECODE, i);
      if (json_get_string (e, "architecture", "archMap[].architecture", &arch, err) < 0)
        return skiff_error_wrap (err, DECODE);
      if (native_entry == NULL && h->native_scmp && arch && strcmp (arch, h->native_scmp) == 0)
        {
          native_entry = e;
          if (json_get_strv (e, "subArchitectures", "archMap[].subArchitectures", &subs, &n_subs, err) < 0)
            return skiff_error_wrap (err, DECODE);
        }
    }
  if (n_archs == 0 && native_entry == NULL)
    return 0;
  json_gen_str (g, "architectures");
  yajl_gen_array_open (g);
  for (i = 0; i < n_archs; i++)
    json_gen_str (g, archs[i]);
  if (native_entry)
    {
      json_gen_str (g, h->native_scmp);
      for (j = 0; j < n_subs; j++)
        json_gen_str (g, subs[j]);
    }
  yajl_gen_array_close (g);
  return 0;
}

int
seccomp_profile_translate (const char *profile_json, const struct seccomp_profile_host *h, char *const *caps,
                           size_t n_caps, char **out, skiff_error_t *err)
{
  cleanup_json yajl_val root = NULL;
  cleanup_gen yajl_gen g = NULL;
  cleanup_free char *def = NULL;
  yajl_val syscalls;
  uint64_t def_errno = 0;
  bool has_def_errno;
  size_t i;

  *out = NULL;
  if (json_parse (profile_json, &root, err) < 0)
    return skiff_error_wrap (err, DECODE);
  if (!YAJL_IS_OBJECT (root))
    return skiff_error_make (err, 0, "%s: expected a JSON object", DECODE);
  if (json_get_string (root, "defaultAction", "defaultAction", &def, err) < 0
      || json_get_uint64 (root, "defaultErrnoRet", "defaultErrnoRet", &def_errno, &has_def_errno, err) < 0
      || json_get_array (root, "syscalls", "syscalls", &syscalls, err) < 0)
    return skiff_error_wrap (err, DECODE);
  /* No default action and no syscalls: seccomp disabled.  */
  if ((def == NULL || def[0] == '\0') && (syscalls == NULL || syscalls->u.array.len == 0))
    return 0;

  g = json_gen_new (false);
  if (g == NULL)
    return skiff_error_make (err, ENOMEM, "seccomp profile");
  yajl_gen_map_open (g);
  json_gen_kv_str (g, "defaultAction", def ? def : "");
  if (has_def_errno)
    {
      json_gen_str (g, "defaultErrnoRet");
      gen_uint64 (g, def_errno);
    }
  if (gen_architectures (g, root, h, err) < 0)
    return -1;
  json_gen_str (g, "syscalls");
  yajl_gen_array_open (g);
  for (i = 0; syscalls && i < syscalls->u.array.len; i++)
    if (gen_rule (g, syscalls->u.array.values[i], i, h, caps, n_caps, err) < 0)
      return -1;
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  *out = json_gen_steal (g, NULL);
  if (*out == NULL)
    return skiff_error_make (err, ENOMEM, "seccomp profile");
  return 0;
}
