/* JSON helpers over yajl: typed field access with errors that name the
   field, and a small generator wrapper.  */
#ifndef SKIFF_COMMON_JSON_H
#define SKIFF_COMMON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include "error.h"

int json_parse (const char *text, yajl_val *out, skiff_error_t *err);
int json_parse_file (const char *path, yajl_val *out, skiff_error_t *err);

static inline void
cleanup_yajl_valp (yajl_val *v)
{
  if (*v)
    yajl_tree_free (*v);
}
#define cleanup_json __attribute__ ((cleanup (cleanup_yajl_valp)))

/* Member `key` of object obj, or NULL (also when obj is not an object).  */
yajl_val json_get (yajl_val obj, const char *key);

/* Typed getters.  `field` is the dotted name used in error messages.  A
   missing key leaves *out untouched and returns 0; a present key of the
   wrong type is an error.  The "_req" forms fail on a missing key.  */
int json_get_string (yajl_val obj, const char *key, const char *field, char **out, skiff_error_t *err);
int json_get_string_req (yajl_val obj, const char *key, const char *field, char **out, skiff_error_t *err);
int json_get_bool (yajl_val obj, const char *key, const char *field, bool *out, skiff_error_t *err);
int json_get_int64 (yajl_val obj, const char *key, const char *field, int64_t *out, bool *present, skiff_error_t *err);
int json_get_uint64 (yajl_val obj, const char *key, const char *field, uint64_t *out, bool *present, skiff_error_t *err);
/* Array of strings into a NULL-terminated, malloc'd vector.  */
int json_get_strv (yajl_val obj, const char *key, const char *field, char ***out, size_t *n, skiff_error_t *err);
/* The array at key (NULL if missing); error if present and not an array.  */
int json_get_array (yajl_val obj, const char *key, const char *field, yajl_val *out, skiff_error_t *err);
int json_get_object (yajl_val obj, const char *key, const char *field, yajl_val *out, skiff_error_t *err);

/* The string or integer value v, or def when v is missing or of
   another type (for reading documents whose shape is not ours).  */
static inline const char *
json_str_or (yajl_val v, const char *def)
{
  return v && YAJL_IS_STRING (v) ? v->u.string : def;
}

static inline int64_t
json_int_or (yajl_val v, int64_t def)
{
  return v && YAJL_IS_INTEGER (v) ? YAJL_GET_INTEGER (v) : def;
}

/* Generator helpers: string keys and values by C string.  */
yajl_gen json_gen_new (bool pretty);
void json_gen_str (yajl_gen g, const char *s);
void json_gen_kv_str (yajl_gen g, const char *key, const char *value);
void json_gen_kv_int (yajl_gen g, const char *key, long long value);
void json_gen_kv_bool (yajl_gen g, const char *key, bool value);
/* Emits key and the JSON text as its value (null when text is NULL or
   not valid JSON).  */
void json_gen_kv_raw (yajl_gen g, const char *key, const char *text);
/* Copies a parsed value into the generator.  */
void json_gen_value (yajl_gen g, yajl_val v);
/* The generated text, malloc'd.  */
char *json_gen_steal (yajl_gen g, size_t *len);
/* The values of one key of Docker's filters JSON, which comes in two
   forms: {"key":{"value":true}} and the older {"key":["value"]}.  */
size_t json_filter_count (yajl_val values);
/* The i-th value ("" for a non-string array item).  */
const char *json_filter_at (yajl_val values, size_t i);

/* The JSON text of an object value, "{}" when v is NULL or not an
   object; malloc'd, NULL without memory.  */
char *json_object_text (yajl_val v);

static inline void
cleanup_yajl_genp (yajl_gen *g)
{
  if (*g)
    yajl_gen_free (*g);
}
#define cleanup_gen __attribute__ ((cleanup (cleanup_yajl_genp)))

#endif
