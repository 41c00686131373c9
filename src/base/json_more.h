/* json_more.h - objects, strings, building and dumping for the JSON wrapper (to be folded into
 * json.h). Same ownership rules: values borrowed from a parsed document live as long as it does. */
#ifndef APEX_BASE_JSON_MORE_H
#define APEX_BASE_JSON_MORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/json.h"

/* Like apex_json_parse, but duplicate object keys are an error (a config with two "period" keys
 * is a mistake, not a choice) and the top level must be an object or an array. */
apex_err apex_json_parse_strict(const char *buf, size_t len, size_t max_len, apex_json **out, apex_error *err);

bool apex_json_is_object(const apex_json *v);
bool apex_json_is_string(const apex_json *v);
bool apex_json_is_number(const apex_json *v);  /* integer or real, not a numeric string */
bool apex_json_is_integer(const apex_json *v); /* a JSON integer literal (no '.', no exponent) */
bool apex_json_is_bool(const apex_json *v);
bool apex_json_is_null(const apex_json *v);

/* Member `key` of an object, or NULL (missing, or v is not an object). Borrowed. */
const apex_json *apex_json_object_get(const apex_json *v, const char *key);
size_t apex_json_object_size(const apex_json *v);
/* Iterates an object's members in document order:
 *   apex_json_iter it = apex_json_object_iter(obj); const char *k; const apex_json *val;
 *   while (apex_json_object_next(&it, &k, &val)) ...                                      */
typedef struct apex_json_iter {
  const apex_json *obj;
  void *it;
} apex_json_iter;
apex_json_iter apex_json_object_iter(const apex_json *obj);
bool apex_json_object_next(apex_json_iter *it, const char **key, const apex_json **val);

/* NULL when v is not a string. Borrowed, NUL-terminated (strings with NUL are rejected at parse). */
const char *apex_json_string_value(const apex_json *v);
/* The value of a JSON number (integer or real); NAN when v is not one. */
double apex_json_number_value(const apex_json *v);
/* false when v is not a boolean. */
bool apex_json_bool_value(const apex_json *v);

/* --- building documents. Each new_* returns a new value the caller owns (NULL on OOM);
 * set/append take ownership of val, also when they fail. A non-finite number becomes null. --- */
apex_json *apex_json_new_object(void);
apex_json *apex_json_new_array(void);
apex_json *apex_json_new_string(const char *s);
apex_json *apex_json_new_number(double x);
apex_json *apex_json_new_integer(int64_t x);
apex_json *apex_json_new_bool(bool b);
apex_json *apex_json_new_null(void);
apex_err apex_json_object_set(apex_json *obj, const char *key, apex_json *val);
apex_err apex_json_array_append(apex_json *arr, apex_json *val);
/* Text of v (reals with 17 significant digits, keys in insertion order); the caller frees it
 * with free(). NULL on OOM. */
char *apex_json_dump(const apex_json *v, bool pretty);

#endif
