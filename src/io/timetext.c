/* timetext.c - times as candle files write them: ISO 8601 dates and date-times, separate date and
 * time fields, integer epochs of any unit; and writing a time back in the input's style. */
#include <stdio.h>
#include <string.h>

#include "base/parse.h"
#include "core/timeframe.h"
#include "io/rows.h"

#define MIN_MS (-62135596800000LL)  /* 0001-01-01T00:00:00Z */
#define MAX_MS (253402300799999LL)  /* 9999-12-31T23:59:59.999Z */

bool apex_io_time_ok(int64_t ms) { return ms >= MIN_MS && ms <= MAX_MS; }

int64_t apex_io_epoch_ms(int64_t v, apex_timefmt *fmt)
{
  uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  apex_timefmt f;
  int64_t ms;
  if (a < UINT64_C(100000000000)) {
    f = APEX_TIMEFMT_EPOCH_S;
    ms = v * 1000;
  } else if (a < UINT64_C(100000000000000)) {
    f = APEX_TIMEFMT_EPOCH_MS;
    ms = v;
  } else if (a < UINT64_C(100000000000000000)) {
    f = APEX_TIMEFMT_EPOCH_US;
    ms = v / 1000 - (v % 1000 < 0); /* floor */
  } else {
    f = APEX_TIMEFMT_EPOCH_NS;
    ms = v / 1000000 - (v % 1000000 < 0);
  }
  if (fmt)
    *fmt = f;
  return ms;
}

static int days_in_month(int64_t y, int m)
{
  static const int D[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : D[m - 1];
}

/* HH:MM[:SS[.frac]] at *cur; ms of the day. */
static apex_err parse_tod(const char **cur, const char *end, int64_t *ms, bool *frac)
{
  const char *p = *cur;
  int hh, mi, ss = 0, f = 0;
  if (apex_parse_digits(&p, end, 2, &hh) || apex_parse_char(&p, end, ':') || apex_parse_digits(&p, end, 2, &mi))
    return APEX_EPARSE;
  if (p < end && *p == ':') {
    p++;
    if (apex_parse_digits(&p, end, 2, &ss))
      return APEX_EPARSE;
    if (p < end && (*p == '.' || *p == ',')) {
      int k = 0;
      p++;
      if (p >= end || *p < '0' || *p > '9')
        return APEX_EPARSE;
      for (; p < end && *p >= '0' && *p <= '9'; p++, k++)
        if (k < 3)
          f = f * 10 + (*p - '0');
      for (; k < 3; k++)
        f *= 10;
      *frac = true;
    }
  }
  if (hh > 23 || mi > 59 || ss > 59)
    return APEX_EPARSE;
  *ms = ((hh * 60 + mi) * 60 + ss) * INT64_C(1000) + f;
  *cur = p;
  return APEX_OK;
}

apex_err apex_io_parse_time(const char *p, const char *end, const char *tod, const char *tod_end,
                            int64_t *ms, apex_timeinfo *info)
{
  apex_timeinfo in = {APEX_TIMEFMT_DATE, false, false, false};
  int64_t y, day_ms = 0, off_ms = 0;
  int yy, mo, dd;
  const char *q = p;

  /* An integer epoch: the whole field is digits (a date has '-' after four digits). */
  {
    int64_t v;
    const char *e = p;
    if (!tod && apex_parse_i64(&e, end, INT64_MIN, INT64_MAX, &v) == APEX_OK && e == end) {
      *ms = apex_io_epoch_ms(v, &in.fmt);
      *info = in;
      return APEX_OK;
    }
  }
  if (apex_parse_digits(&q, end, 4, &yy) || apex_parse_char(&q, end, '-') || apex_parse_digits(&q, end, 2, &mo) ||
      apex_parse_char(&q, end, '-') || apex_parse_digits(&q, end, 2, &dd))
    return APEX_EPARSE;
  y = yy;
  if (mo < 1 || mo > 12 || dd < 1 || dd > days_in_month(y, mo))
    return APEX_EPARSE;
  if (q < end && (*q == 'T' || *q == 't' || *q == ' ')) {
    in.has_t = *q != ' ';
    q++;
    if (tod || parse_tod(&q, end, &day_ms, &in.has_frac))
      return APEX_EPARSE;
    in.fmt = APEX_TIMEFMT_DATETIME;
    if (q < end && (*q == 'Z' || *q == 'z')) {
      in.has_z = true;
      q++;
    } else if (q < end && (*q == '+' || *q == '-')) {
      int oh, om = 0;
      bool neg = *q++ == '-';
      if (apex_parse_digits(&q, end, 2, &oh))
        return APEX_EPARSE;
      if (q < end && *q == ':')
        q++;
      if (q < end && apex_parse_digits(&q, end, 2, &om))
        return APEX_EPARSE;
      if (oh > 23 || om > 59)
        return APEX_EPARSE;
      off_ms = (oh * 60 + om) * APEX_MS_MINUTE * (neg ? -1 : 1);
      in.has_z = true; /* written back in UTC, so marked as such */
    }
  }
  if (q != end)
    return APEX_EPARSE;
  if (tod) {
    const char *t = tod;
    if (parse_tod(&t, tod_end, &day_ms, &in.has_frac) || t != tod_end)
      return APEX_EPARSE;
    in.fmt = APEX_TIMEFMT_DATETIME;
  }
  *ms = apex_days_from_civil(y, mo, dd) * APEX_MS_DAY + day_ms - off_ms;
  *info = in;
  return APEX_OK;
}

void apex_io_note_time(apex_rows *r, const apex_timeinfo *info)
{
  if (!r->have_fmt) {
    r->rep->timefmt = info->fmt;
    r->rep->time_has_t = info->has_t;
    r->rep->time_has_z = info->has_z;
    r->have_fmt = true;
  }
  /* A date-only first row followed by date-times must not lose the times when written back. */
  if (info->fmt == APEX_TIMEFMT_DATETIME && r->rep->timefmt == APEX_TIMEFMT_DATE)
    r->rep->timefmt = APEX_TIMEFMT_DATETIME;
  r->rep->time_has_ms |= info->has_frac;
}

size_t apex_format_time(int64_t t_ms, const apex_load_report *rep, char *buf, size_t cap)
{
  apex_timefmt f = rep ? rep->timefmt : APEX_TIMEFMT_DATETIME;
  bool has_t = rep ? rep->time_has_t : true, has_z = rep ? rep->time_has_z : true;
  bool has_ms = rep ? rep->time_has_ms : false;
  int n;

  if (cap == 0)
    return 0;
  switch (f) {
  case APEX_TIMEFMT_EPOCH_S:
    if (t_ms % 1000 == 0) {
      n = snprintf(buf, cap, "%lld", (long long)(t_ms / 1000));
      break;
    }
    f = APEX_TIMEFMT_EPOCH_MS; /* sub-second times cannot be written in seconds */
    /* fall through */
  case APEX_TIMEFMT_EPOCH_MS:
    n = snprintf(buf, cap, "%lld", (long long)t_ms);
    break;
  case APEX_TIMEFMT_EPOCH_US:
    n = snprintf(buf, cap, "%lld", (long long)t_ms * 1000);
    break;
  case APEX_TIMEFMT_EPOCH_NS: /* int64 ns end in 2262; later times are written in ms */
    if (t_ms > INT64_MAX / 1000000 || t_ms < INT64_MIN / 1000000)
      n = snprintf(buf, cap, "%lld", (long long)t_ms);
    else
      n = snprintf(buf, cap, "%lld", (long long)t_ms * 1000000);
    break;
  default: {
    int64_t days = t_ms / APEX_MS_DAY - (t_ms % APEX_MS_DAY < 0);
    int64_t rem = t_ms - days * APEX_MS_DAY, y;
    int m, d;
    apex_civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / APEX_MS_HOUR), mi = (int)(rem / APEX_MS_MINUTE % 60), ss = (int)(rem / 1000 % 60);
    int msec = (int)(rem % 1000);
    if (f == APEX_TIMEFMT_DATE && rem == 0) {
      n = snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
      break;
    }
    if (f == APEX_TIMEFMT_DATE) /* a date-only input resampled below a day cannot happen; be safe */
      has_t = false;
    if (has_ms || msec)
      n = snprintf(buf, cap, "%04lld-%02d-%02d%c%02d:%02d:%02d.%03d%s", (long long)y, m, d, has_t ? 'T' : ' ', hh, mi,
                   ss, msec, has_z ? "Z" : "");
    else
      n = snprintf(buf, cap, "%04lld-%02d-%02d%c%02d:%02d:%02d%s", (long long)y, m, d, has_t ? 'T' : ' ', hh, mi, ss,
                   has_z ? "Z" : "");
  }
  }
  if (n < 0)
    return 0;
  return (size_t)n < cap ? (size_t)n : cap - 1;
}
