/* json.c - jansson behind a small interface, so replacing jansson touches this file only.
 * apex_json is json_t in disguise; documents are freed through their root's refcount. */
#include "base/json.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"

#define J(v) ((json_t *)(v))
#define CJ(v) ((const json_t *)(v))

apex_err apex_json_parse(const char *buf, size_t len, size_t max_len, apex_json **out, apex_error *err)
{
  json_error_t je;
  json_t *root;

  *out = NULL;
  if (len > max_len)
    return apex_error_set(err, APEX_ETOOBIG, "%zu bytes of JSON, more than the limit of %zu", len, max_len);
  /* DECODE_ANY: a caller may want a bare value; ALLOW_NUL is off so strings stay C strings. */
  root = json_loadb(buf, len, JSON_DECODE_ANY, &je);
  if (!root)
    return apex_error_set(err, APEX_EPARSE, "line %d, column %d: %s", je.line, je.column, je.text);
  *out = (apex_json *)root;
  return APEX_OK;
}

void apex_json_free(apex_json *doc)
{
  if (doc)
    json_decref(J(doc));
}

bool apex_json_is_array(const apex_json *v) { return v && json_is_array(CJ(v)); }

size_t apex_json_array_size(const apex_json *v) { return v ? json_array_size(CJ(v)) : 0; }

const apex_json *apex_json_array_get(const apex_json *v, size_t i)
{
  return v ? (const apex_json *)json_array_get(CJ(v), i) : NULL;
}

const char *apex_json_type_name(const apex_json *v)
{
  if (!v)
    return "missing";
  switch (json_typeof(CJ(v))) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "integer";
  case JSON_REAL: return "number";
  case JSON_TRUE: return "true";
  case JSON_FALSE: return "false";
  case JSON_NULL: return "null";
  }
  return "unknown";
}

/* The whole of a string value as a decimal, surrounding blanks allowed. */
static apex_err string_number(const json_t *v, double *num, int64_t *i64, bool *is_int)
{
  const char *s = json_string_value(v), *end = s + json_string_length(v), *p = s;
  apex_parse_skip_blank(&p, end);
  const char *q = p;
  if (apex_parse_i64(&q, end, INT64_MIN, INT64_MAX, i64) == APEX_OK) {
    apex_parse_skip_blank(&q, end);
    if (q == end) {
      *is_int = true;
      *num = (double)*i64;
      return APEX_OK;
    }
  }
  if (apex_parse_double(&p, end, num))
    return APEX_EPARSE;
  apex_parse_skip_blank(&p, end);
  if (p != end)
    return APEX_EPARSE;
  *is_int = false;
  return APEX_OK;
}

static apex_err read_number(const json_t *v, double *num, int64_t *i64, bool *is_int)
{
  *is_int = false;
  if (!v)
    return APEX_EPARSE;
  if (json_is_integer(v)) {
    *i64 = (int64_t)json_integer_value(v);
    *num = (double)*i64;
    *is_int = true;
    return APEX_OK;
  }
  if (json_is_real(v)) {
    *num = json_real_value(v);
    return isfinite(*num) ? APEX_OK : APEX_EPARSE;
  }
  if (json_is_string(v))
    return string_number(v, num, i64, is_int);
  return APEX_EPARSE;
}

apex_err apex_json_number(const apex_json *v, double *out)
{
  int64_t i;
  bool is_int;
  return read_number(CJ(v), out, &i, &is_int);
}

apex_err apex_json_int64(const apex_json *v, int64_t *out)
{
  double d;
  int64_t i;
  bool is_int;
  if (read_number(CJ(v), &d, &i, &is_int))
    return APEX_EPARSE;
  if (is_int) {
    *out = i;
    return APEX_OK;
  }
  /* 2^63 itself is not representable, hence the strict upper bound. */
  if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
    return APEX_EPARSE;
  *out = (int64_t)d;
  return APEX_OK;
}

apex_err apex_json_each_row(const apex_json *arr, apex_err (*fn)(void *ctx, const apex_json_row *row), void *ctx)
{
  apex_json_row row;

  if (!apex_json_is_array(arr))
    return APEX_EPARSE;
  size_t n = json_array_size(CJ(arr));
  for (size_t i = 0; i < n; i++) {
    const json_t *el = json_array_get(CJ(arr), i);
    row.index = i;
    row.value = (const apex_json *)el;
    row.is_array = json_is_array(el);
    row.len = row.is_array ? json_array_size(el) : 0;
    row.n = row.len < APEX_JSON_ROW_MAX ? row.len : APEX_JSON_ROW_MAX;
    for (size_t k = 0; k < row.n; k++) {
      const json_t *c = json_array_get(el, k);
      row.cell[k] = (const apex_json *)c;
      row.rc[k] = read_number(c, &row.num[k], &row.i64[k], &row.is_int[k]);
    }
    apex_err rc = fn(ctx, &row);
    if (rc)
      return rc;
  }
  return APEX_OK;
}

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
apex_json *apex_json_new_decimal(apex_dec d)
{
  char b[APEX_DEC_STR_MAX];
  return apex_dec_format(d, b, sizeof b) ? (apex_json *)json_null() : (apex_json *)json_string(b);
}
apex_json *apex_json_new_bool(bool b) { return (apex_json *)json_boolean(b); }
apex_json *apex_json_new_null(void) { return (apex_json *)json_null(); }

apex_json *apex_json_copy(const apex_json *v) { return v ? (apex_json *)json_deep_copy(CJ(v)) : NULL; }

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

char *apex_json_dump_with_items(const apex_json *obj, const char *const *items, const size_t *lens, size_t n,
                                size_t *out_len)
{
  char *head = NULL, *out = NULL;
  *out_len = 0;
  void *it = json_is_object(CJ(obj)) ? json_object_iter((json_t *)CJ(obj)) : NULL;
  if (!it || !json_is_null(json_object_iter_value(it)))
    return NULL;
  /* Compact text starts with {"key":null; a key that needs escaping would not match (refused). */
  const char *key = json_object_iter_key(it);
  size_t klen = strlen(key), plen = klen + 8; /* {" key ":null */
  if (!(head = apex_json_dump(obj, false)) || strncmp(head, "{\"", 2) || strncmp(head + 2, key, klen) ||
      strncmp(head + 2 + klen, "\":null", 6))
    goto out;
  size_t rest = strlen(head) - plen, total = plen - 4 + 2 + rest + (n ? n - 1 : 0);
  for (size_t i = 0; i < n; i++)
    total += lens[i];
  if (!(out = malloc(total + 1)))
    goto out;
  char *w = out;
  memcpy(w, head, plen - 4); /* {"key": */
  w += plen - 4;
  *w++ = '[';
  for (size_t i = 0; i < n; i++) {
    if (i)
      *w++ = ',';
    memcpy(w, items[i], lens[i]);
    w += lens[i];
  }
  *w++ = ']';
  memcpy(w, head + plen, rest + 1); /* the other members, the closing brace and the NUL */
  *out_len = total;
out:
  free(head);
  return out;
}
