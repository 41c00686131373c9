/* test_parse.c - cursor parsers: numbers as the C compiler reads the same literals, cursors that
 * only move on success, bounds. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"

static apex_err pd(const char *s, double *v, size_t *used)
{
  const char *p = s;
  apex_err rc = apex_parse_double(&p, s + strlen(s), v);
  *used = (size_t)(p - s);
  return rc;
}

Test(parse, doubles_match_compiler_literals)
{
  static const struct { const char *text; double want; } CASES[] = {
      {"1.5", 1.5}, {"-0.25", -0.25}, {"+3", 3.0}, {"1e3", 1e3}, {"2.5E-3", 2.5e-3}, {".5", .5}, {"5.", 5.},
      {"0.1", 0.1}, {"0.30000000000000004", 0.30000000000000004}, {"1e23", 1e23}, {"9007199254740993", 9007199254740993.0},
      {"123456789012345678901234", 123456789012345678901234.0}, {"0.000000000000000000000000001", 1e-27},
      {"3578.73", 3578.73}, {"0.00162008", 0.00162008}, {"1.7976931348623157e308", 1.7976931348623157e308},
      {"4.9e-324", 4.9e-324}, {"00000000000000000000012.5", 12.5}, {"1.00000000000000000000000000001", 1.0},
      {"20.049999", 20.049999}, {"0e999999", 0.0}};
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    double v = -1;
    size_t used;
    cr_assert_eq(pd(CASES[i].text, &v, &used), APEX_OK, "%s", CASES[i].text);
    cr_expect_eq(v, CASES[i].want, "%s: got %.17g", CASES[i].text, v);
    cr_expect_eq(used, strlen(CASES[i].text), "%s consumed whole", CASES[i].text);
  }
}

Test(parse, fast_path_agrees_with_strtod_on_prices)
{
  /* Prices with up to 8 decimals: all on the Clinger fast path, so each must equal strtod exactly. */
  char buf[64];
  srand(42);
  for (int i = 0; i < 200000; i++) {
    long long ip = rand() % 100000;
    int dec = rand() % 9;
    long long frac = rand() % 100000000;
    snprintf(buf, sizeof buf, "%lld.%0*lld", ip, dec ? dec : 1, dec ? frac % (long long)pow(10, dec) : 0);
    double v;
    size_t used;
    cr_assert_eq(pd(buf, &v, &used), APEX_OK, "%s", buf);
    cr_assert_eq(v, strtod(buf, NULL), "%s: %.17g vs %.17g", buf, v, strtod(buf, NULL));
  }
}

Test(parse, double_rejects_and_leaves_cursor)
{
  static const char *const BAD[] = {"nan", "NaN", "inf", "-inf", "Infinity", "", "-", "+", ".", "e5", "1e", "1e+",
                                    "1e400", "-1e400", "0x10", "abc"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    const char *s = BAD[i], *p = s;
    double v = 7;
    apex_err rc = apex_parse_double(&p, s + strlen(s), &v);
    /* "0x10" parses as 0 up to 'x': the caller sees the leftover and rejects the field. */
    if (!strcmp(s, "0x10")) {
      cr_expect_eq(rc, APEX_OK);
      cr_expect_eq(p, s + 1);
      continue;
    }
    cr_expect_eq(rc, APEX_EPARSE, "%s", s);
    cr_expect_eq(p, s, "cursor unchanged on '%s'", s);
    cr_expect_eq(v, 7, "out untouched on '%s'", s);
  }
}

Test(parse, double_stops_at_delimiter_and_respects_end)
{
  const char *s = "12.5,13";
  const char *p = s;
  double v;
  cr_assert_eq(apex_parse_double(&p, s + strlen(s), &v), APEX_OK);
  cr_expect_eq(v, 12.5);
  cr_expect_eq(*p, ',');
  p = s;
  cr_assert_eq(apex_parse_double(&p, s + 2, &v), APEX_OK); /* end bounds the read: "12" */
  cr_expect_eq(v, 12.0);
  cr_expect_eq(p, s + 2);
}

Test(parse, i64_bounds)
{
  const char *s;
  const char *p;
  int64_t v = 0;
  s = "9223372036854775807";
  p = s;
  cr_expect_eq(apex_parse_i64(&p, s + strlen(s), INT64_MIN, INT64_MAX, &v), APEX_OK);
  cr_expect_eq(v, INT64_MAX);
  s = "-9223372036854775808";
  p = s;
  cr_expect_eq(apex_parse_i64(&p, s + strlen(s), INT64_MIN, INT64_MAX, &v), APEX_OK);
  cr_expect_eq(v, INT64_MIN);
  s = "9223372036854775808";
  p = s;
  cr_expect_eq(apex_parse_i64(&p, s + strlen(s), INT64_MIN, INT64_MAX, &v), APEX_EOVERFLOW);
  cr_expect_eq(p, s);
  s = "101";
  p = s;
  cr_expect_eq(apex_parse_i64(&p, s + 3, 0, 100, &v), APEX_EOVERFLOW);
  cr_expect_eq(p, s);
  s = "-x";
  p = s;
  cr_expect_eq(apex_parse_i64(&p, s + 2, INT64_MIN, INT64_MAX, &v), APEX_EPARSE);
  s = "42,";
  p = s;
  cr_expect_eq(apex_parse_i64(&p, s + 3, 0, 100, &v), APEX_OK);
  cr_expect_eq(v, 42);
  cr_expect_eq(*p, ',');
}

Test(parse, digits_and_char)
{
  const char *s = "2024-01", *p = s;
  int y = 0, m = 0;
  cr_assert_eq(apex_parse_digits(&p, s + 7, 4, &y), APEX_OK);
  cr_assert_eq(apex_parse_char(&p, s + 7, '-'), APEX_OK);
  cr_assert_eq(apex_parse_digits(&p, s + 7, 2, &m), APEX_OK);
  cr_expect_eq(y, 2024);
  cr_expect_eq(m, 1);
  p = s;
  cr_expect_eq(apex_parse_digits(&p, s + 3, 4, &y), APEX_EPARSE, "end cuts the digits");
  cr_expect_eq(apex_parse_char(&p, s + 7, 'x'), APEX_EPARSE);
  cr_expect_eq(p, s);
}
