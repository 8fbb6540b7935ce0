/* Reference parsing after github.com/distribution/reference (grammar.go,
   normalize.go): the same grammar written as small matchers instead of
   regular expressions.  */
#include "reference.h"
#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_REPO_PREFIX "library/"
#define NAME_TOTAL_LENGTH_MAX 255
#define TAG_LENGTH_MAX 128

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_hex (char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* nameComponent: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*  over s[0..n).  */
static bool
match_name_component (const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0 || !is_lower_alnum (s[0]) || !is_lower_alnum (s[n - 1]))
    return false;
  while (i < n)
    {
      if (is_lower_alnum (s[i]))
        {
          i++;
          continue;
        }
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      /* A separator must be followed by an alphanumeric.  */
      if (i >= n || !is_lower_alnum (s[i]))
        return false;
    }
  return true;
}

/* domain: component (\. component)* (:[0-9]+)?, where a component is
   [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9].  */
static bool
match_domain (const char *s, size_t n)
{
  size_t i = 0, start;
  const char *colon = memchr (s, ':', n);
  size_t host_len = colon ? (size_t) (colon - s) : n;

  if (colon)
    {
      size_t j;
      if (colon + 1 == s + n)
        return false;
      for (j = host_len + 1; j < n; j++)
        if (!isdigit ((unsigned char) s[j]))
          return false;
    }
  if (host_len == 0)
    return false;
  while (i < host_len)
    {
      start = i;
      while (i < host_len && s[i] != '.')
        {
          if (!isalnum ((unsigned char) s[i]) && s[i] != '-')
            return false;
          i++;
        }
      if (i == start || s[start] == '-' || s[i - 1] == '-')
        return false;
      if (i < host_len)
        {
          i++; /* the dot */
          if (i == host_len)
            return false;
        }
    }
  return true;
}

/* tag: [\w][\w.-]{0,127}  */
static bool
match_tag (const char *s)
{
  size_t i, n = strlen (s);
  if (n == 0 || n > TAG_LENGTH_MAX)
    return false;
  if (!(isalnum ((unsigned char) s[0]) || s[0] == '_'))
    return false;
  for (i = 1; i < n; i++)
    if (!(isalnum ((unsigned char) s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
      return false;
  return true;
}

bool
image_ref_is_digest (const char *s)
{
  size_t i;
  if (strncmp (s, "sha256:", 7) != 0)
    return false;
  for (i = 0; i < 64; i++)
    if (!is_hex (s[7 + i]))
      return false;
  return s[71] == '\0';
}

bool
image_ref_is_id_prefix (const char *s)
{
  size_t n;
  if (strncmp (s, "sha256:", 7) == 0)
    s += 7;
  n = strlen (s);
  if (n == 0 || n > 64)
    return false;
  for (; *s; s++)
    if (!is_hex (*s))
      return false;
  return true;
}

static bool
is_64_hex (const char *s)
{
  return strlen (s) == 64 && image_ref_is_id_prefix (s);
}

void
image_ref_clear (struct image_ref *ref)
{
  free (ref->domain);
  free (ref->path);
  free (ref->tag);
  free (ref->digest);
  memset (ref, 0, sizeof (*ref));
}

static int
invalid (skiff_error_t *err, const char *detail)
{
  if (detail)
    return skiff_error_make (err, 0, "invalid reference format: %s", detail);
  return skiff_error_make (err, 0, "invalid reference format");
}

int
image_ref_parse (const char *s, struct image_ref *ref, skiff_error_t *err)
{
  cleanup_free char *copy = NULL;
  char *name, *at, *tag = NULL, *slash, *last_slash, *p;
  const char *domain = DEFAULT_DOMAIN, *remainder;
  size_t i;

  memset (ref, 0, sizeof (*ref));
  if (is_64_hex (s))
    return skiff_error_make (err, 0, "invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s);
  copy = strdup (s);
  if (copy == NULL)
    return skiff_error_make (err, ENOMEM, "parse reference");
  name = copy;

  /* Digest first: everything after the first '@'.  */
  at = strchr (name, '@');
  if (at)
    {
      *at = '\0';
      if (!image_ref_is_digest (at + 1))
        return invalid (err, NULL);
    }
  /* A tag is after the last ':' that follows the last '/'.  */
  last_slash = strrchr (name, '/');
  p = strrchr (last_slash ? last_slash : name, ':');
  if (p)
    {
      *p = '\0';
      tag = p + 1;
      if (!match_tag (tag))
        return invalid (err, NULL);
    }

  /* splitDockerDomain.  */
  slash = strchr (name, '/');
  remainder = name;
  if (slash)
    {
      bool lower = true;
      for (p = name; p < slash; p++)
        if (isupper ((unsigned char) *p))
          lower = false;
      if (memchr (name, '.', slash - name) || memchr (name, ':', slash - name)
          || (slash - name == 9 && strncmp (name, "localhost", 9) == 0) || !lower)
        {
          *slash = '\0';
          domain = name;
          remainder = slash + 1;
          if (!match_domain (domain, strlen (domain)))
            return invalid (err, NULL);
          if (strcmp (domain, LEGACY_DEFAULT_DOMAIN) == 0)
            domain = DEFAULT_DOMAIN;
        }
    }
  for (i = 0; remainder[i]; i++)
    if (isupper ((unsigned char) remainder[i]))
      return invalid (err, "repository name must be lowercase");

  /* Path components.  */
  p = (char *) remainder;
  if (*p == '\0')
    return invalid (err, NULL);
  while (*p)
    {
      char *end = strchr (p, '/');
      size_t n = end ? (size_t) (end - p) : strlen (p);
      if (!match_name_component (p, n))
        return invalid (err, NULL);
      p += n;
      if (*p == '/')
        {
          p++;
          if (*p == '\0')
            return invalid (err, NULL);
        }
    }

  if (strcmp (domain, DEFAULT_DOMAIN) == 0 && strchr (remainder, '/') == NULL)
    {
      if (asprintf (&ref->path, "%s%s", OFFICIAL_REPO_PREFIX, remainder) < 0)
        ref->path = NULL;
    }
  else
    ref->path = strdup (remainder);
  ref->domain = strdup (domain);
  ref->tag = tag ? strdup (tag) : NULL;
  ref->digest = at ? strdup (at + 1) : NULL;
  if (ref->path == NULL || ref->domain == NULL || (tag && ref->tag == NULL) || (at && ref->digest == NULL))
    {
      image_ref_clear (ref);
      return skiff_error_make (err, ENOMEM, "parse reference");
    }
  if (strlen (ref->domain) + 1 + strlen (ref->path) > NAME_TOTAL_LENGTH_MAX)
    {
      image_ref_clear (ref);
      return skiff_error_make (err, 0, "invalid reference format: repository name must not be more than %d characters",
                               NAME_TOTAL_LENGTH_MAX);
    }
  return 0;
}

int
image_ref_default_tag (struct image_ref *ref, skiff_error_t *err)
{
  if (ref->tag || ref->digest)
    return 0;
  ref->tag = strdup ("latest");
  if (ref->tag == NULL)
    return skiff_error_make (err, ENOMEM, "default tag");
  return 0;
}

static char *
format_ref (const char *name, const struct image_ref *ref)
{
  char *s = NULL;
  if (asprintf (&s, "%s%s%s%s%s", name, ref->tag ? ":" : "", ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                ref->digest ? ref->digest : "")
      < 0)
    return NULL;
  return s;
}

char *
image_ref_name (const struct image_ref *ref)
{
  char *s = NULL;
  if (asprintf (&s, "%s/%s", ref->domain, ref->path) < 0)
    return NULL;
  return s;
}

char *
image_ref_string (const struct image_ref *ref)
{
  cleanup_free char *name = image_ref_name (ref);
  return name ? format_ref (name, ref) : NULL;
}

char *
image_ref_familiar_name (const struct image_ref *ref)
{
  if (strcmp (ref->domain, DEFAULT_DOMAIN) == 0)
    {
      const char *path = ref->path;
      if (strncmp (path, OFFICIAL_REPO_PREFIX, strlen (OFFICIAL_REPO_PREFIX)) == 0
          && strchr (path + strlen (OFFICIAL_REPO_PREFIX), '/') == NULL)
        path += strlen (OFFICIAL_REPO_PREFIX);
      return strdup (path);
    }
  return image_ref_name (ref);
}

char *
image_ref_familiar_string (const struct image_ref *ref)
{
  cleanup_free char *name = image_ref_familiar_name (ref);
  return name ? format_ref (name, ref) : NULL;
}

char *
image_ref_familiarize (const char *s)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  if (image_ref_parse (s, &ref, NULL) < 0)
    return strdup (s);
  return image_ref_familiar_string (&ref);
}
