/* fields.c - the codecs' shared field readers (fields.h). */
#include "market/fields.h"

#include <stdio.h>
#include <string.h>

#include "base/parse.h"
#include "core/timeframe.h"

const char *apex_field_shown(const apex_json *v, char buf[static APEX_FIELD_SHOWN_MAX + 8])
{
  const char *s = apex_json_string_value(v);
  if (!s)
    return apex_json_type_name(v);
  size_t n = strnlen(s, APEX_FIELD_SHOWN_MAX + 1);
  snprintf(buf, APEX_FIELD_SHOWN_MAX + 8, "\"%.*s%s\"", (int)(n > APEX_FIELD_SHOWN_MAX ? APEX_FIELD_SHOWN_MAX : n), s,
           n > APEX_FIELD_SHOWN_MAX ? "..." : "");
  return buf;
}

apex_err apex_field_dec(const apex_json *v, const char *what, apex_dec *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const char *s = apex_json_string_value(v);
  if (!s)
    return apex_error_set(err, APEX_EPARSE, "%s: expected a decimal string, got %s", what, apex_field_shown(v, b));
  apex_err rc = apex_dec_from_str(s, out);
  if (rc == APEX_EOVERFLOW)
    return apex_error_set(err, rc, "%s: %s is out of range", what, apex_field_shown(v, b));
  if (rc)
    return apex_error_set(err, APEX_EPARSE, "%s: %s is not a decimal", what, apex_field_shown(v, b));
  return APEX_OK;
}

apex_err apex_field_double(const apex_json *v, const char *what, double *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const char *s = apex_json_string_value(v);
  if (!s)
    return apex_error_set(err, APEX_EPARSE, "%s: expected a decimal string, got %s", what, apex_field_shown(v, b));
  const char *cur = s, *end = s + strlen(s);
  if (apex_parse_double(&cur, end, out) || cur != end)
    return apex_error_set(err, APEX_EPARSE, "%s: %s is not a decimal", what, apex_field_shown(v, b));
  return APEX_OK;
}

apex_err apex_field_int(const apex_json *v, const char *what, int64_t *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  if (!apex_json_is_integer(v) || apex_json_int64(v, out))
    return apex_error_set(err, APEX_EPARSE, "%s: expected an integer, got %s", what, apex_field_shown(v, b));
  return APEX_OK;
}

bool apex_field_text_ok(const char *s, size_t max)
{
  size_t n = strnlen(s, max + 1);
  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return false;
  return true;
}

apex_field_exact apex_field_exact_of(const char *s, apex_dec d)
{
  const apex_field_exact rounded = {(uint64_t)d, APEX_DEC_PLACES};
  const char *p = s + (*s == '+' || *s == '-');
  const char *ex = p + strcspn(p, "eE"), *end = ex;
  const char *dot = memchr(p, '.', (size_t)(end - p));
  if (dot)
    while (end > dot + 1 && end[-1] == '0')
      end--;
  uint64_t m = 0;
  int sig = 0;
  int64_t scale = 0;
  for (const char *q = p; q < end; q++) {
    if (*q == '.')
      continue;
    if (dot && q > dot)
      scale++;
    if (m == 0 && *q == '0')
      continue;
    if (++sig > 19)
      return rounded;
    m = m * 10 + (uint64_t)(*q - '0');
  }
  if (*ex) {
    const char *e = ex + 1;
    int64_t x;
    if (apex_parse_i64(&e, e + strlen(e), -100000, 100000, &x))
      return rounded;
    scale -= x;
  }
  if (m == 0)
    return (apex_field_exact){0, 0};
  for (; scale < 0; scale++) {
    if (m > UINT64_MAX / 10)
      return rounded;
    m *= 10;
  }
  if (scale > 100000)
    return (apex_field_exact){0, 0}; /* far below any place that counts: it reads as 0 anyway */
  return (apex_field_exact){m, (int)scale};
}

apex_err apex_field_exact_mul(apex_field_exact a, apex_field_exact b, apex_dec *out)
{
  unsigned __int128 p = (unsigned __int128)a.m * b.m, q;
  int s = a.scale + b.scale;
  if (p == 0) {
    *out = 0;
    return APEX_OK;
  }
  if (s <= APEX_DEC_PLACES) {
    q = p;
    for (int k = s; k < APEX_DEC_PLACES; k++) {
      if (q > (unsigned __int128)APEX_DEC_MAX)
        return APEX_EOVERFLOW;
      q *= 10;
    }
  } else if (s - APEX_DEC_PLACES > 38) {
    q = 0; /* p < 10^38 and the divisor >= 10^39: below half a unit */
  } else {
    unsigned __int128 div = 1;
    for (int k = APEX_DEC_PLACES; k < s; k++)
      div *= 10;
    q = p / div;
    unsigned __int128 r = p % div, half = div / 2;
    if (r > half || (r == half && (q & 1)))
      q++;
  }
  if (q > (unsigned __int128)APEX_DEC_MAX)
    return APEX_EOVERFLOW;
  *out = (apex_dec)q;
  return APEX_OK;
}

/* --- times --- */

static int days_in_month(int y, int m)
{
  static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : DAYS[m - 1];
}

bool apex_field_rfc3339(const char *s, int64_t *ms)
{
  const char *p = s, *end = s + strlen(s);
  int y, mo, d, h, mi, sec, frac_ms = 0, off_min = 0;
  if (apex_parse_digits(&p, end, 4, &y) || apex_parse_char(&p, end, '-') || apex_parse_digits(&p, end, 2, &mo) ||
      apex_parse_char(&p, end, '-') || apex_parse_digits(&p, end, 2, &d))
    return false;
  if (p == end || (*p != 'T' && *p != 't'))
    return false;
  p++;
  if (apex_parse_digits(&p, end, 2, &h) || apex_parse_char(&p, end, ':') || apex_parse_digits(&p, end, 2, &mi) ||
      apex_parse_char(&p, end, ':') || apex_parse_digits(&p, end, 2, &sec))
    return false;
  if (p < end && *p == '.') {
    int k = 0;
    for (p++; p < end && *p >= '0' && *p <= '9'; p++, k++)
      if (k < 3)
        frac_ms = frac_ms * 10 + (*p - '0');
    if (k < 1 || k > 9)
      return false;
    for (; k < 3; k++)
      frac_ms *= 10;
  }
  if (p < end && (*p == 'Z' || *p == 'z')) {
    p++;
  } else if (p < end && (*p == '+' || *p == '-')) {
    int oh, om;
    bool neg = *p++ == '-';
    if (apex_parse_digits(&p, end, 2, &oh) || apex_parse_char(&p, end, ':') || apex_parse_digits(&p, end, 2, &om) ||
        oh > 23 || om > 59)
      return false;
    off_min = (oh * 60 + om) * (neg ? -1 : 1);
  } else {
    return false;
  }
  if (p != end || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
    return false;
  int64_t t = apex_days_from_civil(y, mo, d) * APEX_MS_DAY +
              ((int64_t)h * 3600 + mi * 60 + sec - (int64_t)off_min * 60) * 1000 + frac_ms;
  if (t < 0)
    return false;
  *ms = t;
  return true;
}
