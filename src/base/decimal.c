/* decimal.c - fixed-point decimal arithmetic with 128-bit intermediates. No I/O, no globals,
 * no floating-point arithmetic on values (only exact decomposition of doubles). */
#include "base/decimal.h"

#include <math.h>
#include <stdbool.h>

/* 10^0 .. 10^38; 10^38 < 2^127, so every entry fits a signed 128-bit integer. */
static apex_wide pow10w(int k)
{
  apex_wide p = 1;
  while (k-- > 0)
    p *= 10;
  return p;
}

static inline bool in_range(apex_wide w) { return w >= (apex_wide)APEX_DEC_MIN && w <= (apex_wide)APEX_DEC_MAX; }

/* n / d rounded half away from zero; d != 0. Compares |r| with |d| - |r| so 2|r| cannot overflow. */
static apex_wide div_round(apex_wide n, apex_wide d)
{
  apex_wide q = n / d, r = n % d;
  apex_wide ar = r < 0 ? -r : r, ad = d < 0 ? -d : d;
  if (ar >= ad - ar)
    q += ((n < 0) != (d < 0)) ? -1 : 1;
  return q;
}

static apex_err store(apex_wide w, apex_dec *out)
{
  if (!in_range(w))
    return APEX_EOVERFLOW;
  *out = (apex_dec)w;
  return APEX_OK;
}

apex_err apex_dec_from_int(int64_t n, apex_dec *out) { return store((apex_wide)n * APEX_DEC_SCALE, out); }

apex_err apex_dec_from_double(double x, apex_dec *out)
{
  if (!isfinite(x))
    return APEX_EINVAL;
  if (x == 0) {
    *out = 0;
    return APEX_OK;
  }
  if (fabs(x) >= 1e11) /* beyond ~9.2e10 whatever the rounding */
    return APEX_EOVERFLOW;
  /* x = m * 2^(e-53) exactly, with |m| < 2^53; so x * 1e8 = m * 1e8 / 2^(53-e), an exact rational. */
  int e;
  double f = frexp(x, &e);
  int64_t m = (int64_t)ldexp(f, 53);
  int sh = 53 - e; /* > 0 here: |x| < 1e11 < 2^37 */
  apex_wide n = (apex_wide)m * APEX_DEC_SCALE; /* < 2^80 */
  if (sh > 100) {                              /* |x * 1e8| < 2^-20: rounds to zero */
    *out = 0;
    return APEX_OK;
  }
  return store(div_round(n, (apex_wide)1 << sh), out);
}

double apex_dec_to_double(apex_dec d)
{
  if (d > -(INT64_C(1) << 53) && d < (INT64_C(1) << 53))
    return (double)d / 1e8; /* d exact as a double, then one correctly rounded division */
  return (double)((long double)d / 1e8L);
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Significant digits kept exactly; later ones cannot change a result in range (see below). */
#define KEEP_DIGITS 36

apex_err apex_dec_parse(const char **cur, const char *end, apex_dec *out)
{
  const char *p = *cur;
  bool neg = false;
  apex_wide mant = 0;
  int sig = 0;        /* significant digits in mant */
  int64_t exp10 = 0;  /* value = mant * 10^exp10 */
  int ndigits = 0;

  if (p < end && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  /* Digits after the 36th significant one are dropped: a value within range has at most 11
   * integer digits, so they lie far below the 8th place and cannot move the rounding, except on
   * an exact tie, which rounds away from zero either way. Dropped integer digits still count. */
  for (; p < end && is_digit(*p); p++, ndigits++) {
    if (sig < KEEP_DIGITS) {
      mant = mant * 10 + (*p - '0');
      if (mant)
        sig++;
    } else {
      exp10++;
    }
  }
  if (p < end && *p == '.') {
    p++;
    for (; p < end && is_digit(*p); p++, ndigits++) {
      if (sig < KEEP_DIGITS) {
        mant = mant * 10 + (*p - '0');
        exp10--;
        if (mant)
          sig++;
      }
    }
  }
  if (!ndigits)
    return APEX_EPARSE;
  if (p < end && (*p == 'e' || *p == 'E')) {
    const char *q = p + 1;
    bool eneg = false;
    int64_t e = 0;
    if (q < end && (*q == '+' || *q == '-'))
      eneg = *q++ == '-';
    if (q >= end || !is_digit(*q))
      return APEX_EPARSE;
    for (; q < end && is_digit(*q); q++)
      if (e < 100000) /* anything this large over- or underflows anyway */
        e = e * 10 + (*q - '0');
    exp10 += eneg ? -e : e;
    p = q;
  }

  apex_wide units;
  int64_t shift = exp10 + APEX_DEC_PLACES; /* units = mant * 10^shift */
  if (mant == 0) {
    units = 0;
  } else if (shift >= 0) {
    if (shift > 20) /* mant >= 1, so at least 10^21 units */
      return APEX_EOVERFLOW;
    units = mant;
    for (int64_t i = 0; i < shift; i++) {
      units *= 10;
      if (units > (apex_wide)APEX_DEC_MAX)
        return APEX_EOVERFLOW;
    }
  } else if (shift < -38) { /* mant < 10^36: below half a unit */
    units = 0;
  } else {
    units = div_round(mant, pow10w((int)-shift));
  }
  if (units > (apex_wide)APEX_DEC_MAX)
    return APEX_EOVERFLOW;
  *out = (apex_dec)(neg ? -units : units);
  *cur = p;
  return APEX_OK;
}

apex_err apex_dec_from_str(const char *s, apex_dec *out)
{
  const char *p = s, *end = s;
  apex_dec v;
  while (*end)
    end++;
  apex_err rc = apex_dec_parse(&p, end, &v);
  if (rc)
    return rc;
  if (p != end)
    return APEX_EPARSE;
  *out = v;
  return APEX_OK;
}

apex_err apex_dec_format(apex_dec d, char *buf, size_t cap)
{
  char tmp[APEX_DEC_STR_MAX];
  size_t n = 0;
  /* Magnitude as unsigned so even INT64_MIN (never produced, but representable) formats. */
  uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
  uint64_t ip = u / (uint64_t)APEX_DEC_SCALE, fp = u % (uint64_t)APEX_DEC_SCALE;
  char digits[20];
  int nd = 0;

  if (d < 0)
    tmp[n++] = '-';
  do {
    digits[nd++] = (char)('0' + ip % 10);
    ip /= 10;
  } while (ip);
  while (nd)
    tmp[n++] = digits[--nd];
  if (fp) {
    char frac[APEX_DEC_PLACES];
    int len = APEX_DEC_PLACES;
    for (int i = APEX_DEC_PLACES - 1; i >= 0; i--) {
      frac[i] = (char)('0' + fp % 10);
      fp /= 10;
    }
    while (frac[len - 1] == '0')
      len--;
    tmp[n++] = '.';
    for (int i = 0; i < len; i++)
      tmp[n++] = frac[i];
  }
  if (n + 1 > cap) {
    if (cap)
      buf[0] = '\0';
    return APEX_ETOOBIG;
  }
  for (size_t i = 0; i < n; i++)
    buf[i] = tmp[i];
  buf[n] = '\0';
  return APEX_OK;
}

apex_err apex_dec_add(apex_dec a, apex_dec b, apex_dec *out) { return store((apex_wide)a + b, out); }

apex_err apex_dec_sub(apex_dec a, apex_dec b, apex_dec *out) { return store((apex_wide)a - b, out); }

apex_err apex_dec_mul(apex_dec a, apex_dec b, apex_dec *out)
{
  return store(div_round((apex_wide)a * b, APEX_DEC_SCALE), out);
}

apex_err apex_dec_div(apex_dec a, apex_dec b, apex_dec *out)
{
  if (b == 0)
    return APEX_EINVAL;
  return store(div_round((apex_wide)a * APEX_DEC_SCALE, b), out);
}

apex_err apex_dec_muldiv(apex_dec a, apex_dec b, apex_dec c, apex_dec *out)
{
  if (c == 0)
    return APEX_EINVAL;
  return store(div_round((apex_wide)a * b, c), out);
}

apex_err apex_dec_pct(apex_dec x, apex_dec pct, apex_dec *out)
{
  return store(div_round((apex_wide)x * pct, (apex_wide)100 * APEX_DEC_SCALE), out);
}
