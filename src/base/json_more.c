/* json_more.c - the rest of the jansson wrapper (to be folded into json.c). */
#include "base/json_more.h"

#include <jansson.h>
#include <math.h>

#define J(v) ((json_t *)(v))
#define CJ(v) ((const json_t *)(v))

apex_err apex_json_parse_strict(const char *buf, size_t len, size_t max_len, apex_json **out, apex_error *err)
{
  json_error_t je;
  json_t *root;

  *out = NULL;
  if (len > max_len)
    return apex_error_set(err, APEX_ETOOBIG, "%zu bytes of JSON, more than the limit of %zu", len, max_len);
  root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return apex_error_set(err, APEX_EPARSE, "line %d, column %d: %s", je.line, je.column, je.text);
  *out = (apex_json *)root;
  return APEX_OK;
}

bool apex_json_is_object(const apex_json *v) { return v && json_is_object(CJ(v)); }
bool apex_json_is_string(const apex_json *v) { return v && json_is_string(CJ(v)); }
bool apex_json_is_number(const apex_json *v) { return v && json_is_number(CJ(v)); }
bool apex_json_is_integer(const apex_json *v) { return v && json_is_integer(CJ(v)); }
bool apex_json_is_bool(const apex_json *v) { return v && json_is_boolean(CJ(v)); }
bool apex_json_is_null(const apex_json *v) { return v && json_is_null(CJ(v)); }

const apex_json *apex_json_object_get(const apex_json *v, const char *key)
{
  return v && json_is_object(CJ(v)) ? (const apex_json *)json_object_get(CJ(v), key) : NULL;
}

size_t apex_json_object_size(const apex_json *v) { return v ? json_object_size(CJ(v)) : 0; }

apex_json_iter apex_json_object_iter(const apex_json *obj)
{
  apex_json_iter it = {obj, NULL};
  if (obj && json_is_object(CJ(obj)))
    it.it = json_object_iter(J(obj));
  return it;
}

bool apex_json_object_next(apex_json_iter *it, const char **key, const apex_json **val)
{
  if (!it->it)
    return false;
  *key = json_object_iter_key(it->it);
  *val = (const apex_json *)json_object_iter_value(it->it);
  it->it = json_object_iter_next(J(it->obj), it->it);
  return true;
}

const char *apex_json_string_value(const apex_json *v) { return v ? json_string_value(CJ(v)) : NULL; }

double apex_json_number_value(const apex_json *v)
{
  return v && json_is_number(CJ(v)) ? json_number_value(CJ(v)) : NAN;
}

bool apex_json_bool_value(const apex_json *v) { return v && json_is_true(CJ(v)); }

apex_json *apex_json_new_object(void) { return (apex_json *)json_object(); }
apex_json *apex_json_new_array(void) { return (apex_json *)json_array(); }
apex_json *apex_json_new_string(const char *s) { return (apex_json *)json_string(s); }
apex_json *apex_json_new_number(double x) { return (apex_json *)(isfinite(x) ? json_real(x) : json_null()); }
apex_json *apex_json_new_integer(int64_t x) { return (apex_json *)json_integer((json_int_t)x); }
apex_json *apex_json_new_bool(bool b) { return (apex_json *)json_boolean(b); }
apex_json *apex_json_new_null(void) { return (apex_json *)json_null(); }

apex_err apex_json_object_set(apex_json *obj, const char *key, apex_json *val)
{
  if (!obj || !val) {
    json_decref(J(val));
    return APEX_ENOMEM;
  }
  return json_object_set_new(J(obj), key, J(val)) ? APEX_ENOMEM : APEX_OK;
}

apex_err apex_json_array_append(apex_json *arr, apex_json *val)
{
  if (!arr || !val) {
    json_decref(J(val));
    return APEX_ENOMEM;
  }
  return json_array_append_new(J(arr), J(val)) ? APEX_ENOMEM : APEX_OK;
}

char *apex_json_dump(const apex_json *v, bool pretty)
{
  size_t flags = JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY;
  flags |= pretty ? JSON_INDENT(2) : JSON_COMPACT;
  return json_dumps(CJ(v), flags);
}
