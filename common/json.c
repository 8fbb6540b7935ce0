#include "json.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int
json_parse (const char *text, yajl_val *out, skiff_error_t *err)
{
  char errbuf[1024];
  yajl_val v;

  errbuf[0] = '\0';
  v = yajl_tree_parse (text, errbuf, sizeof (errbuf));
  if (v == NULL)
    {
      char *nl;
      while ((nl = strchr (errbuf, '\n')))
        *nl = ' ';
      return skiff_error_make (err, 0, "invalid JSON: %s", errbuf[0] ? errbuf : "parse error");
    }
  *out = v;
  return 0;
}

int
json_parse_file (const char *path, yajl_val *out, skiff_error_t *err)
{
  cleanup_free char *text = NULL;
  if (fs_read_file (path, &text, NULL, err) < 0)
    return -1;
  if (json_parse (text, out, err) < 0)
    return skiff_error_wrap (err, "`%s`", path);
  return 0;
}

yajl_val
json_get (yajl_val obj, const char *key)
{
  size_t i;
  if (obj == NULL || !YAJL_IS_OBJECT (obj))
    return NULL;
  for (i = 0; i < obj->u.object.len; i++)
    if (strcmp (obj->u.object.keys[i], key) == 0)
      return obj->u.object.values[i];
  return NULL;
}

static int
type_error (skiff_error_t *err, const char *field, const char *want)
{
  return skiff_error_make (err, 0, "invalid field `%s`: expected %s", field, want);
}

int
json_get_string (yajl_val obj, const char *key, const char *field, char **out, skiff_error_t *err)
{
  yajl_val v = json_get (obj, key);
  char *s;
  if (v == NULL || YAJL_IS_NULL (v))
    return 0;
  if (!YAJL_IS_STRING (v))
    return type_error (err, field, "a string");
  s = strdup (v->u.string);
  if (s == NULL)
    return skiff_error_make (err, ENOMEM, "field `%s`", field);
  free (*out);
  *out = s;
  return 0;
}

int
json_get_string_req (yajl_val obj, const char *key, const char *field, char **out, skiff_error_t *err)
{
  yajl_val v = json_get (obj, key);
  if (v == NULL || YAJL_IS_NULL (v))
    return skiff_error_make (err, 0, "missing field `%s`", field);
  return json_get_string (obj, key, field, out, err);
}

int
json_get_bool (yajl_val obj, const char *key, const char *field, bool *out, skiff_error_t *err)
{
  yajl_val v = json_get (obj, key);
  if (v == NULL || YAJL_IS_NULL (v))
    return 0;
  if (YAJL_IS_TRUE (v))
    *out = true;
  else if (YAJL_IS_FALSE (v))
    *out = false;
  else
    return type_error (err, field, "a boolean");
  return 0;
}

int
json_get_int64 (yajl_val obj, const char *key, const char *field, int64_t *out, bool *present, skiff_error_t *err)
{
  yajl_val v = json_get (obj, key);
  if (present)
    *present = false;
  if (v == NULL || YAJL_IS_NULL (v))
    return 0;
  if (!YAJL_IS_INTEGER (v))
    return type_error (err, field, "an integer");
  *out = YAJL_GET_INTEGER (v);
  if (present)
    *present = true;
  return 0;
}

int
json_get_uint64 (yajl_val obj, const char *key, const char *field, uint64_t *out, bool *present, skiff_error_t *err)
{
  yajl_val v = json_get (obj, key);
  char *end;
  unsigned long long u;

  if (present)
    *present = false;
  if (v == NULL || YAJL_IS_NULL (v))
    return 0;
  if (!YAJL_IS_NUMBER (v))
    return type_error (err, field, "a non-negative integer");
  /* yajl keeps the text: parse it ourselves to get the full uint64 range. */
  errno = 0;
  if (YAJL_GET_NUMBER (v)[0] == '-')
    return type_error (err, field, "a non-negative integer");
  u = strtoull (YAJL_GET_NUMBER (v), &end, 10);
  if (errno != 0 || *end != '\0')
    return type_error (err, field, "a non-negative integer");
  *out = u;
  if (present)
    *present = true;
  return 0;
}

int
json_get_array (yajl_val obj, const char *key, const char *field, yajl_val *out, skiff_error_t *err)
{
  yajl_val v = json_get (obj, key);
  *out = NULL;
  if (v == NULL || YAJL_IS_NULL (v))
    return 0;
  if (!YAJL_IS_ARRAY (v))
    return type_error (err, field, "an array");
  *out = v;
  return 0;
}

int
json_get_object (yajl_val obj, const char *key, const char *field, yajl_val *out, skiff_error_t *err)
{
  yajl_val v = json_get (obj, key);
  *out = NULL;
  if (v == NULL || YAJL_IS_NULL (v))
    return 0;
  if (!YAJL_IS_OBJECT (v))
    return type_error (err, field, "an object");
  *out = v;
  return 0;
}

int
json_get_strv (yajl_val obj, const char *key, const char *field, char ***out, size_t *n, skiff_error_t *err)
{
  yajl_val arr;
  char **v;
  size_t i;

  if (json_get_array (obj, key, field, &arr, err) < 0)
    return -1;
  if (arr == NULL)
    return 0;
  v = calloc (arr->u.array.len + 1, sizeof (char *));
  if (v == NULL)
    return skiff_error_make (err, ENOMEM, "field `%s`", field);
  for (i = 0; i < arr->u.array.len; i++)
    {
      yajl_val e = arr->u.array.values[i];
      if (!YAJL_IS_STRING (e))
        {
          cleanup_strvp (&v);
          return skiff_error_make (err, 0, "invalid field `%s[%zu]`: expected a string", field, i);
        }
      v[i] = strdup (e->u.string);
      if (v[i] == NULL)
        {
          cleanup_strvp (&v);
          return skiff_error_make (err, ENOMEM, "field `%s`", field);
        }
    }
  cleanup_strvp (out);
  *out = v;
  if (n)
    *n = arr->u.array.len;
  return 0;
}

yajl_gen
json_gen_new (bool pretty)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  if (g == NULL)
    return NULL;
  yajl_gen_config (g, yajl_gen_beautify, pretty ? 1 : 0);
  if (pretty)
    yajl_gen_config (g, yajl_gen_indent_string, "\t");
  yajl_gen_config (g, yajl_gen_validate_utf8, 0);
  return g;
}

void
json_gen_str (yajl_gen g, const char *s)
{
  if (s == NULL)
    yajl_gen_null (g);
  else
    yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

void
json_gen_kv_str (yajl_gen g, const char *key, const char *value)
{
  json_gen_str (g, key);
  json_gen_str (g, value);
}

void
json_gen_kv_int (yajl_gen g, const char *key, long long value)
{
  json_gen_str (g, key);
  yajl_gen_integer (g, value);
}

void
json_gen_kv_bool (yajl_gen g, const char *key, bool value)
{
  json_gen_str (g, key);
  yajl_gen_bool (g, value);
}

void
json_gen_value (yajl_gen g, yajl_val v)
{
  size_t i;
  if (v == NULL || YAJL_IS_NULL (v))
    yajl_gen_null (g);
  else if (YAJL_IS_STRING (v))
    json_gen_str (g, YAJL_GET_STRING (v));
  else if (YAJL_IS_NUMBER (v))
    yajl_gen_number (g, YAJL_GET_NUMBER (v), strlen (YAJL_GET_NUMBER (v)));
  else if (YAJL_IS_TRUE (v))
    yajl_gen_bool (g, 1);
  else if (YAJL_IS_FALSE (v))
    yajl_gen_bool (g, 0);
  else if (YAJL_IS_ARRAY (v))
    {
      yajl_gen_array_open (g);
      for (i = 0; i < v->u.array.len; i++)
        json_gen_value (g, v->u.array.values[i]);
      yajl_gen_array_close (g);
    }
  else if (YAJL_IS_OBJECT (v))
    {
      yajl_gen_map_open (g);
      for (i = 0; i < v->u.object.len; i++)
        {
          json_gen_str (g, v->u.object.keys[i]);
          json_gen_value (g, v->u.object.values[i]);
        }
      yajl_gen_map_close (g);
    }
}

void
json_gen_kv_raw (yajl_gen g, const char *key, const char *text)
{
  cleanup_json yajl_val v = NULL;
  json_gen_str (g, key);
  if (text && json_parse (text, &v, NULL) == 0)
    json_gen_value (g, v);
  else
    yajl_gen_null (g);
}

size_t
json_filter_count (yajl_val v)
{
  if (v && YAJL_IS_ARRAY (v))
    return v->u.array.len;
  if (v && YAJL_IS_OBJECT (v))
    return v->u.object.len;
  return 0;
}

const char *
json_filter_at (yajl_val v, size_t i)
{
  if (i >= json_filter_count (v))
    return "";
  if (YAJL_IS_ARRAY (v))
    return YAJL_IS_STRING (v->u.array.values[i]) ? v->u.array.values[i]->u.string : "";
  return v->u.object.keys[i];
}

char *
json_object_text (yajl_val v)
{
  yajl_gen g = json_gen_new (false);
  char *s;
  if (g == NULL)
    return NULL;
  if (v == NULL || !YAJL_IS_OBJECT (v))
    {
      yajl_gen_map_open (g);
      yajl_gen_map_close (g);
    }
  else
    json_gen_value (g, v);
  s = json_gen_steal (g, NULL);
  yajl_gen_free (g);
  return s;
}

char *
json_gen_steal (yajl_gen g, size_t *len)
{
  const unsigned char *buf;
  size_t l;
  char *s;
  if (yajl_gen_get_buf (g, &buf, &l) != yajl_gen_status_ok)
    return NULL;
  s = strndup ((const char *) buf, l);
  if (len)
    *len = l;
  return s;
}
