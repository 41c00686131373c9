/* decimal.h - exact fixed-point decimals for money: int64 counts of 1e-8 (STYLE E7).
 * Pure: no I/O, no globals, no allocation. Every rounding is half away from zero, never truncation,
 * so errors stay within half a unit (5e-9) per operation. */
#ifndef APEX_BASE_DECIMAL_H
#define APEX_BASE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* A value v is stored as v * 1e8. Valid range is [-APEX_DEC_MAX, APEX_DEC_MAX] (about +-9.2e10):
 * INT64_MIN is never produced, so negation is always safe; a result outside it is APEX_EOVERFLOW. */
typedef int64_t apex_dec;
#define APEX_DEC_PLACES 8
#define APEX_DEC_SCALE INT64_C(100000000)
#define APEX_DEC_MAX INT64_MAX
#define APEX_DEC_MIN (-INT64_MAX)
/* Room for any formatted value with its sign and NUL ("-92233720368.54775807"). */
#define APEX_DEC_STR_MAX 24

/* Products and quotients go through 128 bits, so only the final result can overflow. */
__extension__ typedef __int128 apex_wide;

/* The integer n (whole units) as a decimal; APEX_EOVERFLOW if |n| > ~9.2e10. */
apex_err apex_dec_from_int(int64_t n, apex_dec *out);

/* The exact binary value of x rounded half away from zero to 8 places, with no double arithmetic
 * (so no double rounding): 2^-9 = 0.001953125 gives 0.00195313, but the double nearest 2.5e-8 is
 * slightly below it and gives 0.00000002. Parse the text instead when its decimal digits are what
 * counts. Any value with at most 8 places below ~4.5e7 converts back exactly. APEX_EINVAL for NaN
 * or infinities, APEX_EOVERFLOW out of range. *out is written only on success. */
apex_err apex_dec_from_double(double x, apex_dec *out);
/* The nearest double for |d| < 2^53 units (values below ~9.0e7); within one ulp above that. */
double apex_dec_to_double(apex_dec d);

/* Parses [+-]digits[.digits][(e|E)[+-]digits] or [+-].digits from [*cur, end): the text need not
 * be NUL-terminated. Exponents are accepted ("1e3", "1.5E-4") because JSON and Python emit them.
 * More than 8 decimal places round half away from zero ("0.000000005" -> 0.00000001). Rejects
 * empty text, a lone sign or dot, "1e", nan, inf and hex with APEX_EPARSE; out-of-range values
 * with APEX_EOVERFLOW. Moves *cur past the number only on success; stops at the first character
 * that cannot continue it (the caller checks what follows). */
apex_err apex_dec_parse(const char **cur, const char *end, apex_dec *out);
/* The whole NUL-terminated string s must be one number as above (no blanks): APEX_EPARSE if
 * anything follows it. *out is written only on success. */
apex_err apex_dec_from_str(const char *s, apex_dec *out);

/* The shortest exact text for d: no exponent, no trailing zeros, no "." for whole values, "-" only
 * when d < 0 ("123.45", "0.00000001", "-5", "0"). apex_dec_from_str reads it back to d.
 * Writes at most cap bytes including the NUL; APEX_ETOOBIG if it does not fit (buf then holds ""
 * when cap > 0). A buffer of APEX_DEC_STR_MAX always fits. */
apex_err apex_dec_format(apex_dec d, char *buf, size_t cap);

/* Checked arithmetic: APEX_EOVERFLOW when the exact or rounded result leaves the valid range;
 * *out is written only on success. */
apex_err apex_dec_add(apex_dec a, apex_dec b, apex_dec *out);
apex_err apex_dec_sub(apex_dec a, apex_dec b, apex_dec *out);
/* a * b rounded half away from zero to 8 places (e.g. qty x price = notional). */
apex_err apex_dec_mul(apex_dec a, apex_dec b, apex_dec *out);
/* a / b rounded half away from zero to 8 places; APEX_EINVAL if b == 0. */
apex_err apex_dec_div(apex_dec a, apex_dec b, apex_dec *out);
/* a * b / c with one rounding (half away from zero): the product is exact in 128 bits, so
 * fraction x equity / price loses nothing in between. APEX_EINVAL if c == 0. */
apex_err apex_dec_muldiv(apex_dec a, apex_dec b, apex_dec c, apex_dec *out);

/* x * pct / 100 with one rounding half away from zero; pct is in percent (0.1 means 0.1 %),
 * as the API's commission_pct and slippage_pct are. */
apex_err apex_dec_pct(apex_dec x, apex_dec pct, apex_dec *out);

static inline apex_dec apex_dec_min(apex_dec a, apex_dec b) { return a < b ? a : b; }
static inline apex_dec apex_dec_max(apex_dec a, apex_dec b) { return a > b ? a : b; }

#endif
