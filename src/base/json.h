/* json.h - the project's JSON wrapper; json.c is the only file that includes <jansson.h>.
 * Values are opaque and owned by the document returned from apex_json_parse. */
#ifndef APEX_BASE_JSON_H
#define APEX_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"

typedef struct apex_json apex_json; /* a value inside a parsed document */

/* Parses len bytes (one JSON value; trailing whitespace allowed). len > max_len is
 * APEX_ETOOBIG without parsing. On APEX_EPARSE err says "line L, column C: what".
 * The caller frees *out with apex_json_free; on error *out is NULL. */
apex_err apex_json_parse(const char *buf, size_t len, size_t max_len, apex_json **out, apex_error *err);
/* Frees a document returned by apex_json_parse; NULL is a no-op. */
void apex_json_free(apex_json *doc);

bool apex_json_is_array(const apex_json *v);
/* Array length; 0 for a non-array. */
size_t apex_json_array_size(const apex_json *v);
/* Element i of an array, or NULL (not an array, out of range). Borrowed from the document. */
const apex_json *apex_json_array_get(const apex_json *v, size_t i);
/* A short name of v's type for messages ("array", "string", ...); "missing" for NULL. */
const char *apex_json_type_name(const apex_json *v);

/* Reads a number: a JSON number, or a string holding a decimal (ccxt writes some as strings).
 * APEX_EPARSE if v is anything else, NULL, or text apex_parse_double rejects (nan, inf). */
apex_err apex_json_number(const apex_json *v, double *out);
/* Reads an integer: a JSON integer, an integral real, or a string of digits. */
apex_err apex_json_int64(const apex_json *v, int64_t *out);

/* One element of an array of arrays of numbers, as apex_json_each_row hands it over. */
#define APEX_JSON_ROW_MAX 16
typedef struct apex_json_row {
  size_t index;                     /* position in the outer array (0-based) */
  const apex_json *value;           /* the element itself */
  bool is_array;                    /* false: the element is not an array (n is 0) */
  size_t n;                         /* columns read: min(length, APEX_JSON_ROW_MAX) */
  size_t len;                       /* the element's real length */
  apex_err rc[APEX_JSON_ROW_MAX];   /* per column: APEX_OK, or APEX_EPARSE if not a number */
  double num[APEX_JSON_ROW_MAX];    /* the value as a double */
  int64_t i64[APEX_JSON_ROW_MAX];   /* the exact integer when is_int */
  bool is_int[APEX_JSON_ROW_MAX];
  const apex_json *cell[APEX_JSON_ROW_MAX]; /* the raw values, for messages */
} apex_json_row;

/* Calls fn for each element of the array arr, in order, and stops at the first non-OK return,
 * which it returns. APEX_EPARSE if arr is not an array. */
apex_err apex_json_each_row(const apex_json *arr, apex_err (*fn)(void *ctx, const apex_json_row *row), void *ctx);

/* --- objects, strings, building and dumping --- */
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
/* An exact decimal as a string ("123.45"): how money and quantities travel in JSON. */
apex_json *apex_json_new_decimal(apex_dec d);
apex_json *apex_json_new_bool(bool b);
apex_json *apex_json_new_null(void);
/* A new copy of v that the caller owns (NULL on OOM or when v is NULL). */
apex_json *apex_json_copy(const apex_json *v);
apex_err apex_json_object_set(apex_json *obj, const char *key, apex_json *val);
apex_err apex_json_array_append(apex_json *arr, apex_json *val);
/* Text of v (reals with 17 significant digits, keys in insertion order); the caller frees it
 * with free(). NULL on OOM. */
char *apex_json_dump(const apex_json *v, bool pretty);
/* Compact text of the object obj whose first member, null in obj, becomes the array of the n
 * texts items[i] (lens[i] bytes, each one whole value as apex_json_dump wrote it). A list reply
 * thus reuses item texts encoded once (app/strategies.c) instead of encoding every item again.
 * Stores the text's length in *out_len; the caller frees it. NULL on OOM, or when obj is not an
 * object whose first member is null under a key that needs no escaping. */
char *apex_json_dump_with_items(const apex_json *obj, const char *const *items, const size_t *lens, size_t n,
                                size_t *out_len);

#endif
