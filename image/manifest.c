/* Registry manifests: parsing and platform selection.  */
#include "manifest.h"
#include "cleanup.h"
#include "json.h"
#include "reference.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* More layers than overlayfs can stack is not an image skiff can run.  */
#define LAYERS_MAX 500
#define MANIFESTS_MAX 1000

static const char *const config_types[] = {
  "application/vnd.docker.container.image.v1+json",
  "application/vnd.oci.image.config.v1+json",
  NULL,
};

static const struct
{
  const char *type;
  enum layer_compression compression;
} layer_types[] = {
  { "application/vnd.docker.image.rootfs.diff.tar.gzip", LAYER_GZIP },
  { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", LAYER_GZIP },
  { "application/vnd.docker.image.rootfs.diff.tar", LAYER_TAR },
  { "application/vnd.oci.image.layer.v1.tar", LAYER_TAR },
  { "application/vnd.oci.image.layer.v1.tar+gzip", LAYER_GZIP },
  { "application/vnd.oci.image.layer.v1.tar+zstd", LAYER_ZSTD },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar", LAYER_TAR },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LAYER_GZIP },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", LAYER_ZSTD },
};

static bool
in_list (const char *s, const char *const *list)
{
  for (; *list; list++)
    if (strcmp (s, *list) == 0)
      return true;
  return false;
}

static void
descriptor_clear (struct manifest_descriptor *d)
{
  free (d->media_type);
  free (d->digest);
  free (d->os);
  free (d->architecture);
  free (d->variant);
  memset (d, 0, sizeof (*d));
}

void
manifest_clear (struct manifest *m)
{
  size_t i;
  free (m->media_type);
  descriptor_clear (&m->config);
  for (i = 0; i < m->n_layers; i++)
    descriptor_clear (&m->layers[i]);
  free (m->layers);
  for (i = 0; i < m->n_manifests; i++)
    descriptor_clear (&m->manifests[i]);
  free (m->manifests);
  memset (m, 0, sizeof (*m));
}

static int
invalid (skiff_error_t *err, const char *what, const char *detail)
{
  return skiff_error_make (err, 0, "invalid manifest: %s: %s", what, detail);
}

static int
parse_descriptor (yajl_val v, const char *what, bool want_platform, struct manifest_descriptor *d, skiff_error_t *err)
{
  bool have_size = false;
  yajl_val platform = NULL;

  if (!YAJL_IS_OBJECT (v))
    return invalid (err, what, "not an object");
  if (json_get_string_req (v, "mediaType", "mediaType", &d->media_type, err) < 0
      || json_get_string_req (v, "digest", "digest", &d->digest, err) < 0
      || json_get_int64 (v, "size", "size", &d->size, &have_size, err) < 0)
    return skiff_error_wrap (err, "invalid manifest: %s", what);
  if (strncmp (d->digest, "sha256:", 7) != 0 && strchr (d->digest, ':'))
    return skiff_error_make (err, 0, "invalid manifest: %s: unsupported digest algorithm in `%s`", what, d->digest);
  if (!image_ref_is_digest (d->digest))
    return skiff_error_make (err, 0, "invalid manifest: %s: invalid digest `%s`", what, d->digest);
  if (!have_size || d->size < 0)
    return invalid (err, what, "missing or negative size");
  if (!want_platform)
    return 0;
  if (json_get_object (v, "platform", "platform", &platform, err) < 0
      || json_get_string (platform, "os", "platform.os", &d->os, err) < 0
      || json_get_string (platform, "architecture", "platform.architecture", &d->architecture, err) < 0
      || json_get_string (platform, "variant", "platform.variant", &d->variant, err) < 0)
    return skiff_error_wrap (err, "invalid manifest: %s", what);
  if ((d->os == NULL && (d->os = strdup ("")) == NULL)
      || (d->architecture == NULL && (d->architecture = strdup ("")) == NULL)
      || (d->variant == NULL && (d->variant = strdup ("")) == NULL))
    return skiff_error_make (err, ENOMEM, "parse manifest");
  return 0;
}

static int
parse_array (yajl_val root, const char *key, size_t max, bool platform, struct manifest_descriptor **out, size_t *n,
             skiff_error_t *err)
{
  yajl_val arr = NULL;
  size_t i;

  if (json_get_array (root, key, key, &arr, err) < 0)
    return skiff_error_wrap (err, "invalid manifest");
  if (arr == NULL)
    return skiff_error_make (err, 0, "invalid manifest: missing `%s`", key);
  if (arr->u.array.len > max)
    return skiff_error_make (err, 0, "invalid manifest: more than %zu %s", max, key);
  *out = calloc (arr->u.array.len + 1, sizeof (**out));
  if (*out == NULL)
    return skiff_error_make (err, ENOMEM, "parse manifest");
  for (i = 0; i < arr->u.array.len; i++)
    {
      char what[64];
      snprintf (what, sizeof (what), "%s[%zu]", key, i);
      *n = i + 1; /* so that manifest_clear frees what was parsed */
      if (parse_descriptor (arr->u.array.values[i], what, platform, &(*out)[i], err) < 0)
        return -1;
    }
  *n = arr->u.array.len;
  return 0;
}

static int
parse_image (yajl_val root, struct manifest *m, skiff_error_t *err)
{
  yajl_val config = json_get (root, "config");
  size_t i, j;

  m->kind = MANIFEST_IMAGE;
  if (config == NULL)
    return skiff_error_make (err, 0, "invalid manifest: missing `config`");
  if (parse_descriptor (config, "config", false, &m->config, err) < 0)
    return -1;
  if (!in_list (m->config.media_type, config_types))
    return skiff_error_make (err, 0, "unsupported image config media type `%s`", m->config.media_type);
  if (parse_array (root, "layers", LAYERS_MAX, false, &m->layers, &m->n_layers, err) < 0)
    return -1;
  for (i = 0; i < m->n_layers; i++)
    {
      for (j = 0; j < sizeof (layer_types) / sizeof (layer_types[0]); j++)
        if (strcmp (m->layers[i].media_type, layer_types[j].type) == 0)
          break;
      if (j == sizeof (layer_types) / sizeof (layer_types[0]))
        return skiff_error_make (err, 0, "unsupported layer media type `%s`", m->layers[i].media_type);
      m->layers[i].compression = layer_types[j].compression;
    }
  return 0;
}

/* "type/subtype; params" -> "type/subtype", malloc'd.  */
static char *
bare_type (const char *content_type)
{
  size_t n;
  if (content_type == NULL)
    return strdup ("");
  n = strcspn (content_type, "; \t");
  return strndup (content_type, n);
}

int
manifest_parse (const char *content_type, const char *body, size_t len, struct manifest *m, skiff_error_t *err)
{
  static const char *const image_types[] = { MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_MANIFEST, NULL };
  static const char *const index_types[] = { MEDIA_TYPE_DOCKER_LIST, MEDIA_TYPE_OCI_INDEX, NULL };
  static const char *const schema1_types[] = { MEDIA_TYPE_DOCKER_SCHEMA1, MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED, NULL };
  cleanup_free char *text = NULL;
  cleanup_free char *ctype = bare_type (content_type);
  cleanup_json yajl_val root = NULL;
  char *mt = NULL;
  int64_t version = 0;
  bool have_version = false;

  memset (m, 0, sizeof (*m));
  if (ctype == NULL)
    return skiff_error_make (err, ENOMEM, "parse manifest");
  if (len > MANIFEST_MAX)
    return skiff_error_make (err, 0, "invalid manifest: larger than %d bytes", MANIFEST_MAX);
  if (in_list (ctype, schema1_types))
    return skiff_error_make (err, 0, "schema 1 images are not supported");
  if (memchr (body, '\0', len))
    return skiff_error_make (err, 0, "invalid manifest: NUL byte in JSON");
  text = strndup (body, len);
  if (text == NULL)
    return skiff_error_make (err, ENOMEM, "parse manifest");
  if (json_parse (text, &root, err) < 0)
    return skiff_error_wrap (err, "invalid manifest");
  if (!YAJL_IS_OBJECT (root))
    return skiff_error_make (err, 0, "invalid manifest: not a JSON object");
  if (json_get_int64 (root, "schemaVersion", "schemaVersion", &version, &have_version, err) < 0
      || json_get_string (root, "mediaType", "mediaType", &mt, err) < 0)
    return skiff_error_wrap (err, "invalid manifest");
  m->media_type = mt;
  if (version == 1 || (mt && in_list (mt, schema1_types)))
    {
      manifest_clear (m);
      return skiff_error_make (err, 0, "schema 1 images are not supported");
    }
  if (!have_version || version != 2)
    {
      manifest_clear (m);
      return skiff_error_make (err, 0, "unsupported manifest schemaVersion");
    }
  if (m->media_type == NULL)
    {
      const char *guess = ctype;
      if (!in_list (ctype, image_types) && !in_list (ctype, index_types))
        guess = json_get (root, "manifests") ? MEDIA_TYPE_OCI_INDEX : MEDIA_TYPE_OCI_MANIFEST;
      m->media_type = strdup (guess);
      if (m->media_type == NULL)
        return skiff_error_make (err, ENOMEM, "parse manifest");
    }
  else if ((in_list (ctype, image_types) || in_list (ctype, index_types)) && strcmp (ctype, m->media_type) != 0)
    {
      skiff_error_make (err, 0, "invalid manifest: served as `%s` but says it is `%s`", ctype, m->media_type);
      manifest_clear (m);
      return -1;
    }
  if (in_list (m->media_type, image_types))
    {
      if (parse_image (root, m, err) < 0)
        goto fail;
      return 0;
    }
  if (in_list (m->media_type, index_types))
    {
      m->kind = MANIFEST_INDEX;
      if (parse_array (root, "manifests", MANIFESTS_MAX, true, &m->manifests, &m->n_manifests, err) < 0)
        goto fail;
      return 0;
    }
  skiff_error_make (err, 0, "unsupported manifest media type `%s`", m->media_type);
fail:
  manifest_clear (m);
  return -1;
}

void
manifest_host_platform (const char **os, const char **architecture, const char **variant)
{
  static const struct
  {
    const char *machine, *arch, *variant;
  } map[] = {
    { "x86_64", "amd64", "" },   { "aarch64", "arm64", "" },  { "armv8l", "arm", "v8" },  { "armv7l", "arm", "v7" },
    { "armv6l", "arm", "v6" },   { "armv5tel", "arm", "v5" }, { "i686", "386", "" },      { "i586", "386", "" },
    { "i386", "386", "" },       { "ppc64le", "ppc64le", "" }, { "s390x", "s390x", "" },  { "riscv64", "riscv64", "" },
    { "mips64", "mips64", "" }, { "loongarch64", "loong64", "" },
  };
  static char machine[sizeof (((struct utsname *) 0)->machine)];
  struct utsname u;
  size_t i;

  *os = "linux";
  *variant = "";
  *architecture = "amd64";
  if (uname (&u) < 0)
    return;
  for (i = 0; i < sizeof (map) / sizeof (map[0]); i++)
    if (strcmp (u.machine, map[i].machine) == 0)
      {
        *architecture = map[i].arch;
        *variant = map[i].variant;
        return;
      }
  /* An architecture Go has no other name for.  */
  snprintf (machine, sizeof (machine), "%s", u.machine);
  *architecture = machine;
}

static bool
variant_matches (const char *architecture, const char *want, const char *have)
{
  if (strcmp (want, have) == 0)
    return true;
  if (strcmp (architecture, "arm64") == 0)
    return (*want == '\0' || strcmp (want, "v8") == 0) && (*have == '\0' || strcmp (have, "v8") == 0);
  return *want == '\0';
}

int
manifest_select (const struct manifest *index, const char *os, const char *architecture, const char *variant,
                 const struct manifest_descriptor **out, skiff_error_t *err)
{
  const struct manifest_descriptor *best = NULL;
  size_t i;

  for (i = 0; i < index->n_manifests; i++)
    {
      const struct manifest_descriptor *d = &index->manifests[i];
      if (strcmp (d->media_type, MEDIA_TYPE_DOCKER_MANIFEST) != 0 && strcmp (d->media_type, MEDIA_TYPE_OCI_MANIFEST) != 0)
        continue;
      if (strcmp (d->os, os) != 0 || strcmp (d->architecture, architecture) != 0
          || !variant_matches (architecture, variant, d->variant))
        continue;
      /* An exact variant beats one that is merely compatible.  */
      if (best == NULL || (strcmp (d->variant, variant) == 0 && strcmp (best->variant, variant) != 0))
        best = d;
    }
  if (best == NULL)
    return skiff_error_make (err, 0, "no matching manifest for %s/%s%s%s in the manifest list entries", os, architecture,
                             *variant ? "/" : "", variant);
  *out = best;
  return 0;
}

void
manifest_short_id (const char *digest, char out[13])
{
  const char *hex = strchr (digest, ':');
  snprintf (out, 13, "%s", hex ? hex + 1 : digest);
}
