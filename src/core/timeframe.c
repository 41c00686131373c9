/* timeframe.c - parsing, bucket arithmetic, detection and gap counting for timeframes.
 * Fixed-length units count from an origin (the epoch; Monday 1970-01-05 for weeks); months count
 * calendar months from January 1970, so every bucket is calendar-aligned in UTC. */
#include "core/timeframe.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

static const apex_timeframe NAMED[] = {
    {1, APEX_TF_MINUTE}, {3, APEX_TF_MINUTE}, {5, APEX_TF_MINUTE}, {15, APEX_TF_MINUTE}, {30, APEX_TF_MINUTE},
    {1, APEX_TF_HOUR},   {2, APEX_TF_HOUR},   {4, APEX_TF_HOUR},   {6, APEX_TF_HOUR},    {8, APEX_TF_HOUR},
    {12, APEX_TF_HOUR},  {1, APEX_TF_DAY},    {3, APEX_TF_DAY},    {1, APEX_TF_WEEK},    {1, APEX_TF_MONTH},
};
#define NAMED_LIST "1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M"
#define WEEK_ORIGIN (4 * APEX_MS_DAY) /* 1970-01-01 was a Thursday */

static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t apex_days_from_civil(int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void apex_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int64_t unit_ms(apex_tf_unit u)
{
  switch (u) {
  case APEX_TF_MINUTE: return APEX_MS_MINUTE;
  case APEX_TF_HOUR: return APEX_MS_HOUR;
  case APEX_TF_DAY: return APEX_MS_DAY;
  case APEX_TF_WEEK: return APEX_MS_WEEK;
  default: return 0;
  }
}

bool apex_timeframe_valid(apex_timeframe tf)
{
  if (tf.n < 1 || tf.n > 99)
    return false;
  switch (tf.unit) {
  case APEX_TF_MINUTE: return 60 % tf.n == 0;
  case APEX_TF_HOUR: return 24 % tf.n == 0;
  case APEX_TF_DAY:
  case APEX_TF_WEEK: return true;
  case APEX_TF_MONTH: return 12 % tf.n == 0;
  default: return false;
  }
}

bool apex_timeframe_is_named(apex_timeframe tf)
{
  for (size_t i = 0; i < APEX_ARRAY_LEN(NAMED); i++)
    if (NAMED[i].n == tf.n && NAMED[i].unit == tf.unit)
      return true;
  return false;
}

static char unit_char(apex_tf_unit u)
{
  static const char C[] = {'?', 'm', 'h', 'd', 'w', 'M'};
  return (unsigned)u < sizeof C ? C[u] : '?';
}

size_t apex_timeframe_str(apex_timeframe tf, char *buf, size_t cap)
{
  size_t k = 0;
  if (cap < 4)
    return 0;
  if (!apex_timeframe_valid(tf)) {
    buf[0] = '?';
    buf[1] = '\0';
    return 1;
  }
  if (tf.n >= 10)
    buf[k++] = (char)('0' + tf.n / 10);
  buf[k++] = (char)('0' + tf.n % 10);
  buf[k++] = unit_char(tf.unit);
  buf[k] = '\0';
  return k;
}

apex_err apex_timeframe_parse(const char *s, apex_timeframe *out, apex_error *err)
{
  size_t len = s ? strlen(s) : 0;
  apex_timeframe tf = {0, APEX_TF_NONE};
  static const char *const UNIT_NAME[] = {"", "minutes", "hours", "days", "weeks", "months"};

  if (!s)
    return apex_error_set(err, APEX_EINVAL, "timeframe missing (use one of " NAMED_LIST ")");
  /* ^[1-9][0-9]?[mhdwM]$ */
  if (len < 2 || len > 3 || s[0] < '1' || s[0] > '9' || (len == 3 && (s[1] < '0' || s[1] > '9')))
    goto bad;
  tf.n = len == 3 ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
  switch (s[len - 1]) {
  case 'm': tf.unit = APEX_TF_MINUTE; break;
  case 'h': tf.unit = APEX_TF_HOUR; break;
  case 'd': tf.unit = APEX_TF_DAY; break;
  case 'w': tf.unit = APEX_TF_WEEK; break;
  case 'M': tf.unit = APEX_TF_MONTH; break;
  default: goto bad;
  }
  if (!apex_timeframe_valid(tf))
    return apex_error_set(err, APEX_EINVAL, "timeframe '%s': %d %s do not divide %s evenly (use one of " NAMED_LIST ")",
                          s, tf.n, UNIT_NAME[tf.unit],
                          tf.unit == APEX_TF_MINUTE ? "an hour" : tf.unit == APEX_TF_HOUR ? "a day" : "a year");
  *out = tf;
  return APEX_OK;
bad:
  return apex_error_set(err, APEX_EINVAL, "timeframe '%.32s' is not of the form 1m, 4h, 1d, 1w, 1M (use one of " NAMED_LIST ")", s);
}

int64_t apex_timeframe_ms(apex_timeframe tf)
{
  return apex_timeframe_valid(tf) ? tf.n * unit_ms(tf.unit) : 0;
}

static int64_t month_number(int64_t t) /* calendar months since January 1970 */
{
  int64_t y;
  int m, d;
  apex_civil_from_days(floor_div(t, APEX_MS_DAY), &y, &m, &d);
  return (y - 1970) * 12 + (m - 1);
}

int64_t apex_timeframe_index(apex_timeframe tf, int64_t t)
{
  if (tf.unit == APEX_TF_MONTH)
    return floor_div(month_number(t), tf.n);
  int64_t len = apex_timeframe_ms(tf);
  if (len <= 0)
    return 0;
  return floor_div(t - (tf.unit == APEX_TF_WEEK ? WEEK_ORIGIN : 0), len);
}

int64_t apex_timeframe_start(apex_timeframe tf, int64_t idx)
{
  if (tf.unit == APEX_TF_MONTH) {
    int64_t mon = idx * tf.n;
    int64_t y = 1970 + floor_div(mon, 12);
    int m = (int)(mon - floor_div(mon, 12) * 12) + 1;
    return apex_days_from_civil(y, m, 1) * APEX_MS_DAY;
  }
  return idx * apex_timeframe_ms(tf) + (tf.unit == APEX_TF_WEEK ? WEEK_ORIGIN : 0);
}

int64_t apex_timeframe_floor(apex_timeframe tf, int64_t t)
{
  return apex_timeframe_start(tf, apex_timeframe_index(tf, t));
}

bool apex_timeframe_divides(apex_timeframe small, apex_timeframe big)
{
  if (!apex_timeframe_valid(small) || !apex_timeframe_valid(big))
    return false;
  if (small.unit == APEX_TF_MONTH)
    return big.unit == APEX_TF_MONTH && big.n % small.n == 0;
  int64_t s = apex_timeframe_ms(small);
  if (big.unit == APEX_TF_MONTH) /* months start at midnight: small must tile a day */
    return APEX_MS_DAY % s == 0;
  int64_t b = apex_timeframe_ms(big);
  int64_t origin_gap = (big.unit == APEX_TF_WEEK ? WEEK_ORIGIN : 0) - (small.unit == APEX_TF_WEEK ? WEEK_ORIGIN : 0);
  return b % s == 0 && origin_gap % s == 0;
}

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Most common value of v[0..n) (sorts v); ties go to the smaller value. */
static int64_t mode_of(int64_t *v, size_t n, size_t *count)
{
  int64_t best = v[0];
  size_t best_n = 0;
  qsort(v, n, sizeof *v, cmp_i64);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && v[j] == v[i])
      j++;
    if (j - i > best_n) {
      best_n = j - i;
      best = v[i];
    }
    i = j;
  }
  *count = best_n;
  return best;
}

/* The most common bucket-number step at unit u, if it covers >= 80% of the steps. */
static bool calendar_fit(const int64_t *t, size_t n, int64_t *buf, apex_tf_unit u, apex_timeframe *tf)
{
  apex_timeframe one = {1, u};
  size_t cnt;
  for (size_t i = 1; i < n; i++)
    buf[i - 1] = apex_timeframe_index(one, t[i]) - apex_timeframe_index(one, t[i - 1]);
  int64_t k = mode_of(buf, n - 1, &cnt);
  apex_timeframe cand = {(int)k, u};
  if (k < 1 || k > 99 || !apex_timeframe_valid(cand) || cnt * 5 < (n - 1) * 4)
    return false;
  *tf = cand;
  return true;
}

apex_err apex_timeframe_detect(const int64_t *t, size_t n, apex_timeframe *tf, int64_t *step_ms)
{
  int64_t *steps;
  size_t cnt;
  apex_timeframe none = {0, APEX_TF_NONE};

  *tf = none;
  *step_ms = 0;
  if (n < 2)
    return APEX_EDATA;
  steps = malloc((n - 1) * sizeof *steps);
  if (!steps)
    return APEX_ENOMEM;
  for (size_t i = 1; i < n; i++)
    steps[i - 1] = t[i] - t[i - 1];
  int64_t step = mode_of(steps, n - 1, &cnt);
  *step_ms = step;
  if (step <= 0)
    goto out;
  for (size_t i = 0; i < APEX_ARRAY_LEN(NAMED); i++)
    if (apex_timeframe_ms(NAMED[i]) == step) {
      *tf = NAMED[i];
      goto out;
    }
  /* Daily closes sampled monthly or weekly: steps vary with the calendar, bucket numbers do not. */
  if (step >= 27 * APEX_MS_DAY && calendar_fit(t, n, steps, APEX_TF_MONTH, tf))
    goto out;
  if (step >= 4 * APEX_MS_DAY && calendar_fit(t, n, steps, APEX_TF_WEEK, tf))
    goto out;
  for (apex_tf_unit u = APEX_TF_WEEK; u >= APEX_TF_MINUTE; u--) {
    apex_timeframe cand = {(int)(step / unit_ms(u)), u};
    if (step % unit_ms(u) == 0 && step / unit_ms(u) <= 99 && apex_timeframe_valid(cand)) {
      *tf = cand;
      goto out;
    }
    if (step % unit_ms(u) == 0)
      break; /* a larger unit fits exactly but with a bad count: smaller units would only mislead */
  }
out:
  free(steps);
  return APEX_OK;
}

apex_err apex_gaps_count(const int64_t *t, size_t n, apex_timeframe tf, apex_gaps *out)
{
  memset(out, 0, sizeof *out);
  if (!apex_timeframe_valid(tf))
    return APEX_EINVAL;
  for (size_t i = 1; i < n; i++) {
    int64_t a = apex_timeframe_index(tf, t[i - 1]), b = apex_timeframe_index(tf, t[i]);
    if (b <= a) {
      out->shared++;
      continue;
    }
    if (b - a == 1)
      continue;
    size_t miss = (size_t)(b - a - 1);
    out->missing += miss;
    out->gaps++;
    if (miss > out->largest) {
      out->largest = miss;
      out->largest_start = apex_timeframe_start(tf, a + 1);
      out->largest_ms = apex_timeframe_start(tf, b) - out->largest_start;
    }
  }
  return APEX_OK;
}

void apex_time_iso(int64_t t, char *buf, size_t cap)
{
  int64_t days = t >= 0 ? t / APEX_MS_DAY : -((-t + APEX_MS_DAY - 1) / APEX_MS_DAY), y;
  int64_t ms = t - days * APEX_MS_DAY;
  int m, d;
  apex_civil_from_days(days, &y, &m, &d);
  if (ms % 1000) /* milliseconds only when there are some: ticks keep them, candles stay short */
    snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, (int)(ms / 3600000),
             (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
  else
    snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, (int)(ms / 3600000),
             (int)(ms / 60000 % 60), (int)(ms / 1000 % 60));
}
