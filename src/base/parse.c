/* parse.c - cursor parsers; the double parser is the hot path of CSV loading, so it takes
 * the exact Clinger fast path when it can and leaves the hard cases to strtod. */
#include "base/parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

apex_err apex_parse_double(const char **cur, const char *end, double *out)
{
  const char *p = *cur, *start = *cur;
  bool neg = false;
  uint64_t mant = 0;
  int sig = 0;          /* significant digits kept in mant */
  bool dropped = false; /* non-zero digits beyond 19 significant ones: not exact */
  int64_t exp10 = 0;
  int ndigits = 0;

  if (p < end && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  for (; p < end && is_digit(*p); p++, ndigits++) {
    if (sig < 19) {
      mant = mant * 10 + (uint64_t)(*p - '0');
      if (mant)
        sig++;
    } else {
      exp10++;
      dropped |= *p != '0';
    }
  }
  if (p < end && *p == '.') {
    p++;
    for (; p < end && is_digit(*p); p++, ndigits++) {
      if (sig < 19) {
        mant = mant * 10 + (uint64_t)(*p - '0');
        exp10--;
        if (mant)
          sig++;
      } else {
        dropped |= *p != '0';
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
      if (e < 100000) /* far beyond any double; keeps the sum below from overflowing */
        e = e * 10 + (*q - '0');
    exp10 += eneg ? -e : e;
    p = q;
  }
  if ((size_t)(p - start) > APEX_PARSE_NUM_MAX)
    return APEX_EPARSE;

  double v;
  if (!dropped && mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
    /* Both mant and 10^|e| are exact doubles, so one IEEE operation rounds correctly. */
    v = (double)mant;
    v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
  } else if (mant == 0 && !dropped) {
    v = 0.0;
  } else {
    char buf[APEX_PARSE_NUM_MAX + 1];
    size_t n = (size_t)(p - start);
    memcpy(buf, start, n);
    buf[n] = '\0';
    char *e = NULL;
    v = strtod(buf, &e);
    if (e != buf + n || !isfinite(v))
      return APEX_EPARSE;
    v = fabs(v);
  }
  *out = neg ? -v : v;
  *cur = p;
  return APEX_OK;
}

apex_err apex_parse_i64(const char **cur, const char *end, int64_t min, int64_t max, int64_t *out)
{
  const char *p = *cur;
  bool neg = false;
  uint64_t v = 0, lim;

  if (p < end && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  if (p >= end || !is_digit(*p))
    return APEX_EPARSE;
  lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; p < end && is_digit(*p); p++) {
    uint64_t d = (uint64_t)(*p - '0');
    if (v > (lim - d) / 10)
      return APEX_EOVERFLOW;
    v = v * 10 + d;
  }
  int64_t r = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
  if (r < min || r > max)
    return APEX_EOVERFLOW;
  *out = r;
  *cur = p;
  return APEX_OK;
}

apex_err apex_parse_digits(const char **cur, const char *end, int n, int *out)
{
  const char *p = *cur;
  int v = 0;
  if (n < 1 || n > 9 || end - p < n)
    return APEX_EPARSE;
  for (int i = 0; i < n; i++) {
    if (!is_digit(p[i]))
      return APEX_EPARSE;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  *cur = p + n;
  return APEX_OK;
}

apex_err apex_parse_char(const char **cur, const char *end, char c)
{
  if (*cur >= end || **cur != c)
    return APEX_EPARSE;
  (*cur)++;
  return APEX_OK;
}

void apex_parse_skip_blank(const char **cur, const char *end)
{
  const char *p = *cur;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  *cur = p;
}
