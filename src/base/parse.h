/* parse.h - cursor parsers over bounded (not necessarily NUL-terminated) text (STYLE E6).
 * Each moves *cur forward only on success; on failure *cur is unchanged. Pure: no I/O. */
#ifndef APEX_BASE_PARSE_H
#define APEX_BASE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Longest number text apex_parse_double accepts; longer is APEX_EPARSE (no real price needs it). */
#define APEX_PARSE_NUM_MAX 128

/* A decimal: [+-]digits[.digits][(e|E)[+-]digits], or [+-].digits. Rejects nan, inf, hex and
 * values that overflow a double. Correctly rounded: exact fast path when the significand fits
 * 2^53 and |power of ten| <= 22 (Clinger), strtod on a bounded copy otherwise. APEX_EPARSE. */
apex_err apex_parse_double(const char **cur, const char *end, double *out);
/* [+-]digits within [min, max]; APEX_EPARSE on no digits, APEX_EOVERFLOW out of bounds. */
apex_err apex_parse_i64(const char **cur, const char *end, int64_t min, int64_t max, int64_t *out);
/* Exactly n digits (1..9) as an unsigned value. */
apex_err apex_parse_digits(const char **cur, const char *end, int n, int *out);
/* The single character c. */
apex_err apex_parse_char(const char **cur, const char *end, char c);
/* Skips spaces and tabs; never fails. */
void apex_parse_skip_blank(const char **cur, const char *end);

#endif
