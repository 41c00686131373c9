/* test_resample.c - resampling on a hand-made case, the multiple rule, and 1m -> 1h on the
 * Freqtrade sample checked against sums and extremes computed independently. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/resample.h"
#include "io/load.h"

#define D(y, m, d) (apex_days_from_civil(y, m, d) * APEX_MS_DAY)
#define H APEX_MS_HOUR

static apex_timeframe tf(const char *s)
{
  apex_timeframe t;
  cr_assert_eq(apex_timeframe_parse(s, &t, NULL), APEX_OK);
  return t;
}

Test(resample, hand_made_6h_to_1d)
{
  /* Two days of 6h candles with 2024-01-02 12:00 missing. */
  static const apex_bar IN[] = {
      {0, 10, 12, 9, 11, 1},   {6, 11, 15, 10, 14, 2}, {12, 14, 14, 8, 9, 3}, {18, 9, 10, 9, 10, 4},
      {24, 20, 21, 19, 20, 5}, {30, 20, 22, 18, 21, 6}, /* 36 missing */ {42, 21, 30, 21, 25, 7},
  };
  apex_series *s = apex_series_new(0), *out = NULL;
  for (size_t i = 0; i < 7; i++) {
    apex_bar b = IN[i];
    b.time = D(2024, 1, 1) + b.time * H;
    apex_series_append(s, &b);
  }
  apex_error e;
  cr_assert_eq(apex_resample(s, tf("6h"), tf("1d"), &out, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(out->n, 2);
  cr_expect_eq(out->time[0], D(2024, 1, 1));
  cr_expect_eq(out->open[0], 10);
  cr_expect_eq(out->high[0], 15);
  cr_expect_eq(out->low[0], 8);
  cr_expect_eq(out->close[0], 10);
  cr_expect_eq(out->volume[0], 10);
  cr_expect_eq(out->time[1], D(2024, 1, 2));
  cr_expect_eq(out->open[1], 20);
  cr_expect_eq(out->high[1], 30);
  cr_expect_eq(out->low[1], 18);
  cr_expect_eq(out->close[1], 25);
  cr_expect_eq(out->volume[1], 18);
  apex_series_free(out);

  /* The same into weeks: 2024-01-01 is a Monday, so one candle. */
  cr_assert_eq(apex_resample(s, tf("6h"), tf("1w"), &out, &e), APEX_OK);
  cr_expect_eq(out->n, 1);
  cr_expect_eq(out->time[0], D(2024, 1, 1));
  cr_expect_eq(out->volume[0], 28);
  apex_series_free(out);
  apex_series_free(s);
}

Test(resample, month_buckets_from_daily)
{
  apex_series *s = apex_series_new(0), *out = NULL;
  apex_bar a = {D(2024, 1, 31), 1, 2, 1, 2, 1}, b = {D(2024, 2, 1), 2, 3, 2, 3, 1}, c = {D(2024, 2, 29), 3, 4, 3, 4, 1};
  apex_series_append(s, &a);
  apex_series_append(s, &b);
  apex_series_append(s, &c);
  cr_assert_eq(apex_resample(s, tf("1d"), tf("1M"), &out, NULL), APEX_OK);
  cr_assert_eq(out->n, 2);
  cr_expect_eq(out->time[0], D(2024, 1, 1));
  cr_expect_eq(out->time[1], D(2024, 2, 1));
  cr_expect_eq(out->close[1], 4);
  cr_expect_eq(out->volume[1], 2);
  apex_series_free(out);
  apex_series_free(s);
}

Test(resample, target_must_be_a_multiple)
{
  apex_series *s = apex_series_new(0), *out = (apex_series *)1;
  apex_error e = {0};
  cr_expect_eq(apex_resample(s, tf("1d"), tf("1h"), &out, &e), APEX_EINVAL);
  cr_expect_null(out);
  cr_expect(strstr(e.msg, "1h") && strstr(e.msg, "1d"), "%s", e.msg);
  cr_expect_eq(apex_resample(s, tf("3d"), tf("1w"), &out, &e), APEX_EINVAL);
  cr_expect_eq(apex_resample(s, tf("1w"), tf("1M"), &out, &e), APEX_EINVAL);
  apex_timeframe none = {0, APEX_TF_NONE};
  cr_expect_eq(apex_resample(s, none, tf("1m"), &out, &e), APEX_OK, "ticks aggregate into any timeframe");
  apex_series_free(out);
  apex_series_free(s);
}

Test(resample, btc_1m_to_1h_is_consistent)
{
  apex_series *s = NULL, *h = NULL;
  apex_error e;
  cr_assert_eq(apex_load_candles(APEX_SHARED_DIR "/data/freqtrade/UNITTEST_BTC-1m.json", NULL, &s, NULL, &e), APEX_OK,
               "%s", e.msg);
  cr_assert_eq(apex_resample(s, tf("1m"), tf("1h"), &h, &e), APEX_OK, "%s", e.msg);
  /* Independent pass: walk the minutes and compare with the hour they belong to. */
  size_t k = 0, hours = 0;
  double vol_in = 0, vol_out = 0;
  for (size_t i = 0; i < s->n; i++) {
    int64_t hour = s->time[i] - (s->time[i] % H);
    if (i == 0 || hour != s->time[i - 1] - (s->time[i - 1] % H)) {
      if (i) {
        cr_assert_eq(h->close[k], s->close[i - 1], "close of hour %zu", k);
        k++;
      }
      hours++;
      cr_assert_lt(k, h->n);
      cr_assert_eq(h->time[k], hour);
      cr_assert_eq(h->open[k], s->open[i]);
    }
    cr_assert_geq(h->high[k], s->high[i]);
    cr_assert_leq(h->low[k], s->low[i]);
    vol_in += s->volume[i];
  }
  cr_expect_eq(h->close[k], s->close[s->n - 1]);
  cr_expect_eq(hours, h->n);
  for (size_t i = 0; i < h->n; i++)
    vol_out += h->volume[i];
  cr_expect(fabs(vol_in - vol_out) <= 1e-9 * vol_in, "volume %.10g vs %.10g", vol_in, vol_out);
  apex_series_free(h);
  apex_series_free(s);
}
