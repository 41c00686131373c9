/* Fixed-point decimals: conversions, parsing, formatting, checked arithmetic and its rounding
 * (half away from zero everywhere). Expected values are computed by hand. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/decimal.h"

#define U APEX_DEC_SCALE

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

Test(decimal, from_double_hand_cases)
{
  static const struct {
    const char *name;
    double x;
    apex_err rc;
    apex_dec want;
  } CASES[] = {
      {"zero", 0.0, APEX_OK, 0},
      {"negative zero", -0.0, APEX_OK, 0},
      {"two places", 123.45, APEX_OK, 12345000000},
      {"one tenth", 0.1, APEX_OK, 10000000},
      {"one unit", 1e-8, APEX_OK, 1},
      {"minus one unit", -1e-8, APEX_OK, -1},
      {"2^-27 is 0.745 units: up", 0x1p-27, APEX_OK, 1},
      {"2^-28 is 0.37 units: down", 0x1p-28, APEX_OK, 0},
      {"2^-9 is an exact tie 195312.5: away from zero", 0x1p-9, APEX_OK, 195313},
      {"-2^-9: away from zero", -0x1p-9, APEX_OK, -195313},
      {"double nearest 2.5e-8 is below the tie", 2.5e-8, APEX_OK, 2},
      {"tiny", 1e-300, APEX_OK, 0},
      {"largest whole in range", 92233720368.0, APEX_OK, 9223372036800000000},
      {"just past the range", 92233720369.0, APEX_EOVERFLOW, 0},
      {"far past the range", -1e15, APEX_EOVERFLOW, 0},
      {"nan", NAN, APEX_EINVAL, 0},
      {"infinity", INFINITY, APEX_EINVAL, 0},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_dec d = 777;
    apex_err rc = apex_dec_from_double(CASES[i].x, &d);
    cr_expect_eq(rc, CASES[i].rc, "%s: rc %d", CASES[i].name, rc);
    if (CASES[i].rc == APEX_OK)
      cr_expect_eq(d, CASES[i].want, "%s: got %lld", CASES[i].name, (long long)d);
    else
      cr_expect_eq(d, 777, "%s: out written on failure", CASES[i].name);
  }
}

Test(decimal, double_round_trip_for_eight_place_values)
{
  for (int i = 0; i < 200000; i++) {
    int64_t k = (int64_t)(rnd() % (UINT64_C(1) << 52));
    if (i & 1)
      k = -k;
    double x = apex_dec_to_double(k);
    cr_assert_eq(x, (double)k / 1e8, "to_double(%lld) not the correctly rounded quotient", (long long)k);
    apex_dec back;
    cr_assert_eq(apex_dec_from_double(x, &back), APEX_OK);
    cr_assert_eq(back, k, "from_double(to_double(%lld)) = %lld", (long long)k, (long long)back);
  }
}

Test(decimal, from_int)
{
  apex_dec d;
  cr_expect_eq(apex_dec_from_int(-5, &d), APEX_OK);
  cr_expect_eq(d, -5 * U);
  cr_expect_eq(apex_dec_from_int(92233720368, &d), APEX_OK);
  cr_expect_eq(apex_dec_from_int(92233720369, &d), APEX_EOVERFLOW);
  cr_expect_eq(apex_dec_from_int(INT64_MIN, &d), APEX_EOVERFLOW);
}

Test(decimal, parse_hand_cases)
{
  static const struct {
    const char *text;
    apex_err rc;
    apex_dec want;
  } CASES[] = {
      {"123.45", APEX_OK, 12345000000},
      {"-0.00000001", APEX_OK, -1},
      {"0", APEX_OK, 0},
      {"-0", APEX_OK, 0},
      {"+7", APEX_OK, 700000000},
      {".5", APEX_OK, 50000000},
      {"5.", APEX_OK, 500000000},
      {"007.50", APEX_OK, 750000000},
      {"1e3", APEX_OK, 100000000000},
      {"1.5E-4", APEX_OK, 15000},
      {"2.5e+2", APEX_OK, 25000000000},
      {"1e-8", APEX_OK, 1},
      {"1e-100", APEX_OK, 0},
      {"0e999999999", APEX_OK, 0},
      {"0.000000005", APEX_OK, 1},           /* tie: away from zero */
      {"-0.000000005", APEX_OK, -1},
      {"0.0000000049999999999", APEX_OK, 0}, /* not truncated to a tie */
      {"0.000000015", APEX_OK, 2},           /* tie on an odd unit: away, not to even */
      {"2.5e-8", APEX_OK, 3},                /* the text is a tie, unlike the double */
      {"0.00000000500000000000000000000000000000000000001", APEX_OK, 1},
      {"1.000000000000000000000000000000000000000000000000001", APEX_OK, U},
      {"92233720368.54775807", APEX_OK, INT64_MAX},
      {"-92233720368.54775807", APEX_OK, -INT64_MAX},
      {"92233720368.547758074", APEX_OK, INT64_MAX},
      {"92233720368.547758075", APEX_EOVERFLOW, 0},
      {"92233720368.54775808", APEX_EOVERFLOW, 0},
      {"-92233720368.54775808", APEX_EOVERFLOW, 0}, /* INT64_MIN is outside the valid range */
      {"1e100", APEX_EOVERFLOW, 0},
      {"1000000000000000000000000000000000000000000000000", APEX_EOVERFLOW, 0},
      {"", APEX_EPARSE, 0},
      {"-", APEX_EPARSE, 0},
      {".", APEX_EPARSE, 0},
      {"-.", APEX_EPARSE, 0},
      {"abc", APEX_EPARSE, 0},
      {"1.2.3", APEX_EPARSE, 0},
      {"1e", APEX_EPARSE, 0},
      {"1e+", APEX_EPARSE, 0},
      {"e5", APEX_EPARSE, 0},
      {"nan", APEX_EPARSE, 0},
      {"inf", APEX_EPARSE, 0},
      {"0x10", APEX_EPARSE, 0},
      {" 1", APEX_EPARSE, 0},
      {"1 ", APEX_EPARSE, 0},
      {"1,5", APEX_EPARSE, 0},
      {"--1", APEX_EPARSE, 0},
      {"+-1", APEX_EPARSE, 0},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_dec d = 777;
    apex_err rc = apex_dec_from_str(CASES[i].text, &d);
    cr_expect_eq(rc, CASES[i].rc, "\"%s\": rc %d, want %d", CASES[i].text, rc, CASES[i].rc);
    if (CASES[i].rc == APEX_OK)
      cr_expect_eq(d, CASES[i].want, "\"%s\": got %lld", CASES[i].text, (long long)d);
    else
      cr_expect_eq(d, 777, "\"%s\": out written on failure", CASES[i].text);
  }
}

Test(decimal, cursor_parse_stops_and_moves_only_on_success)
{
  const char *text = "12.5,x", *p = text;
  apex_dec d;
  cr_assert_eq(apex_dec_parse(&p, text + strlen(text), &d), APEX_OK);
  cr_expect_eq(d, 1250000000);
  cr_expect_eq(p, text + 4);
  /* Bounded: the end pointer cuts the number, no NUL needed. */
  p = text;
  cr_assert_eq(apex_dec_parse(&p, text + 2, &d), APEX_OK);
  cr_expect_eq(d, 12 * U);
  cr_expect_eq(p, text + 2);
  const char *bad = "1e+z";
  p = bad;
  cr_expect_eq(apex_dec_parse(&p, bad + 4, &d), APEX_EPARSE);
  cr_expect_eq(p, bad, "cursor moved on failure");
}

Test(decimal, format_hand_cases)
{
  static const struct {
    apex_dec d;
    const char *want;
  } CASES[] = {
      {12345000000, "123.45"},
      {1, "0.00000001"},
      {-1, "-0.00000001"},
      {-500000000, "-5"},
      {0, "0"},
      {10000000, "0.1"},
      {100000000000, "1000"},
      {INT64_MAX, "92233720368.54775807"},
      {-INT64_MAX, "-92233720368.54775807"},
      {INT64_MIN, "-92233720368.54775808"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char buf[APEX_DEC_STR_MAX];
    cr_expect_eq(apex_dec_format(CASES[i].d, buf, sizeof buf), APEX_OK);
    cr_expect_str_eq(buf, CASES[i].want);
  }
  char small[6] = "zzzzz";
  cr_expect_eq(apex_dec_format(12345000000, small, sizeof small), APEX_ETOOBIG, "\"123.45\" needs 7 bytes");
  cr_expect_str_eq(small, "");
  char exact[7];
  cr_expect_eq(apex_dec_format(12345000000, exact, sizeof exact), APEX_OK);
  cr_expect_str_eq(exact, "123.45");
}

Test(decimal, format_parse_round_trip)
{
  for (int i = 0; i < 200000; i++) {
    apex_dec d = (apex_dec)(rnd() >> 1);
    if (i % 3 == 1)
      d %= 100 * U; /* small values, fractional parts with leading zeros */
    if (i % 3 == 2)
      d %= 1000;
    if (i & 1)
      d = -d;
    char buf[APEX_DEC_STR_MAX];
    apex_dec back;
    cr_assert_eq(apex_dec_format(d, buf, sizeof buf), APEX_OK);
    cr_assert_eq(apex_dec_from_str(buf, &back), APEX_OK, "\"%s\" does not parse", buf);
    cr_assert_eq(back, d, "\"%s\" read back as %lld, want %lld", buf, (long long)back, (long long)d);
    size_t n = strlen(buf);
    if (strchr(buf, '.'))
      cr_assert(buf[n - 1] != '0', "\"%s\" has a trailing zero", buf);
  }
}

Test(decimal, add_sub_overflow)
{
  apex_dec d = 777;
  cr_expect_eq(apex_dec_add(150000000, 250000000, &d), APEX_OK);
  cr_expect_eq(d, 400000000);
  cr_expect_eq(apex_dec_sub(1, 2, &d), APEX_OK);
  cr_expect_eq(d, -1);
  d = 777;
  cr_expect_eq(apex_dec_add(APEX_DEC_MAX, 1, &d), APEX_EOVERFLOW);
  cr_expect_eq(apex_dec_sub(APEX_DEC_MIN, 1, &d), APEX_EOVERFLOW, "would be INT64_MIN");
  cr_expect_eq(apex_dec_sub(-2, APEX_DEC_MAX, &d), APEX_EOVERFLOW);
  cr_expect_eq(d, 777, "out written on failure");
  cr_expect_eq(apex_dec_add(APEX_DEC_MAX, -1, &d), APEX_OK);
  cr_expect_eq(d, APEX_DEC_MAX - 1);
}

Test(decimal, mul_div_rounding)
{
  static const struct {
    const char *name;
    char op;
    apex_dec a, b;
    apex_err rc;
    apex_dec want;
  } CASES[] = {
      {"1.5 * 1.5", '*', 150000000, 150000000, APEX_OK, 225000000},
      {"1e-8 * 0.5 = 5e-9: away", '*', 1, 50000000, APEX_OK, 1},
      {"-1e-8 * 0.5: away", '*', -1, 50000000, APEX_OK, -1},
      {"1e-8 * 0.49999999: down", '*', 1, 49999999, APEX_OK, 0},
      {"3e-8 * 0.5 = 1.5e-8: away, not even", '*', 3, 50000000, APEX_OK, 2},
      /* 0.12345678 * 43210.98765432 = 5334.6893964221002896 */
      {"qty x price", '*', 12345678, 4321098765432, APEX_OK, 533468939642},
      {"1e6 * 1e6 overflows", '*', 1000000 * U, 1000000 * U, APEX_EOVERFLOW, 0},
      {"max * 1 exact", '*', APEX_DEC_MAX, U, APEX_OK, APEX_DEC_MAX},
      {"max * -1 exact", '*', APEX_DEC_MAX, -U, APEX_OK, -APEX_DEC_MAX},
      {"1 / 3", '/', U, 3 * U, APEX_OK, 33333333},
      {"2 / 3: up", '/', 2 * U, 3 * U, APEX_OK, 66666667},
      {"-2 / 3: away", '/', -2 * U, 3 * U, APEX_OK, -66666667},
      {"2 / -3: away", '/', 2 * U, -3 * U, APEX_OK, -66666667},
      {"1e-8 / 2: tie away", '/', 1, 2 * U, APEX_OK, 1},
      {"1 / 0", '/', U, 0, APEX_EINVAL, 0},
      {"1e6 / 1e-8 overflows", '/', 1000000 * U, 1, APEX_EOVERFLOW, 0},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_dec d = 777;
    apex_err rc = CASES[i].op == '*' ? apex_dec_mul(CASES[i].a, CASES[i].b, &d) : apex_dec_div(CASES[i].a, CASES[i].b, &d);
    cr_expect_eq(rc, CASES[i].rc, "%s: rc %d", CASES[i].name, rc);
    if (CASES[i].rc == APEX_OK)
      cr_expect_eq(d, CASES[i].want, "%s: got %lld", CASES[i].name, (long long)d);
    else
      cr_expect_eq(d, 777, "%s: out written on failure", CASES[i].name);
  }
}

Test(decimal, muldiv_and_pct)
{
  apex_dec d;
  /* 0.95 * 10000 / 3 = 3166.666666666... -> 3166.66666667, one rounding */
  cr_expect_eq(apex_dec_muldiv(95000000, 10000 * U, 3 * U, &d), APEX_OK);
  cr_expect_eq(d, 316666666667);
  /* The 1e8-scaled product is exact even when it is far beyond int64 */
  cr_expect_eq(apex_dec_muldiv(APEX_DEC_MAX, APEX_DEC_MAX, APEX_DEC_MAX, &d), APEX_OK);
  cr_expect_eq(d, APEX_DEC_MAX);
  cr_expect_eq(apex_dec_muldiv(1, 1, 0, &d), APEX_EINVAL);

  /* 0.1 % of 1000 = 1 */
  cr_expect_eq(apex_dec_pct(1000 * U, 10000000, &d), APEX_OK);
  cr_expect_eq(d, U);
  /* 0.1 % of 123.45678901 = 0.12345678901 -> 0.12345679 */
  cr_expect_eq(apex_dec_pct(12345678901, 10000000, &d), APEX_OK);
  cr_expect_eq(d, 12345679);
  /* 10 % of 5e-8 = 5e-9: tie, away from zero, both signs */
  cr_expect_eq(apex_dec_pct(5, 10 * U, &d), APEX_OK);
  cr_expect_eq(d, 1);
  cr_expect_eq(apex_dec_pct(-5, 10 * U, &d), APEX_OK);
  cr_expect_eq(d, -1);
  /* 200 % of max overflows */
  cr_expect_eq(apex_dec_pct(APEX_DEC_MAX, 200 * U, &d), APEX_EOVERFLOW);
}

Test(decimal, mul_matches_exact_rational)
{
  /* Products of random 8-place values against the exact rational, computed independently in
   * 128 bits with rounding by remainder comparison. */
  for (int i = 0; i < 100000; i++) {
    apex_dec a = (apex_dec)(rnd() % (uint64_t)(1000000 * U)), b = (apex_dec)(rnd() % (uint64_t)(1000 * U));
    if (i & 1)
      a = -a;
    apex_wide p = (apex_wide)a * b;
    apex_wide ap = p < 0 ? -p : p;
    apex_wide q = ap / U, r = ap % U;
    if (2 * r >= U)
      q++;
    if (p < 0)
      q = -q;
    apex_dec d;
    apex_err rc = apex_dec_mul(a, b, &d);
    if (q > INT64_MAX || q < -INT64_MAX)
      cr_assert_eq(rc, APEX_EOVERFLOW);
    else
      cr_assert(rc == APEX_OK && d == (apex_dec)q, "%lld * %lld", (long long)a, (long long)b);
  }
}
