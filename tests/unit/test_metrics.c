/* The metrics accumulator against hand-computed series. Expected numbers come from hand arithmetic
 * or from the python3 snippets quoted next to them (statistics.stdev, datetime in UTC), never from
 * running the code under test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

#define DAY INT64_C(86400000)
#define HOUR INT64_C(3600000)
#define MINUTE INT64_C(60000)
/* python3: int(datetime(Y,M,D,tzinfo=timezone.utc).timestamp()*1000) */
#define T_2000_01_01 INT64_C(946684800000)
#define T_2020_01_01 INT64_C(1577836800000)
#define T_2023_11_15 INT64_C(1700006400000)
#define T_2023_12_01 INT64_C(1701388800000)
#define T_2024_01_01 INT64_C(1704067200000)
#define T_2024_01_31 INT64_C(1706659200000)
#define T_2024_02_29 INT64_C(1709164800000)
#define T_1900_03_01 INT64_C(-2203891200000)

static bool close_to(double got, double want, double rel)
{
  return fabs(got - want) <= rel * fmax(1.0, fabs(want));
}

#define EXPECT_NEAR(got, want, rel) \
  cr_expect(close_to((got), (want), (rel)), "%s = %.17g, want %.17g", #got, (double)(got), (double)(want))

static apex_metrics_acc *acc_new(double initial, int ppy)
{
  apex_metrics_acc *acc = apex_metrics_acc_new(initial, ppy);
  cr_assert_not_null(acc, "apex_metrics_acc_new(%g, %d)", initial, ppy);
  return acc;
}

static void bar(apex_metrics_acc *acc, int64_t t, double equity, bool in_market)
{
  apex_err rc = apex_metrics_acc_bar(acc, t, equity, in_market);
  cr_assert_eq(rc, APEX_OK, "bar t=%lld equity=%g: %s", (long long)t, equity, apex_strerror(rc));
}

static void finish(const apex_metrics_acc *acc, apex_metrics *m)
{
  apex_err rc = apex_metrics_acc_finish(acc, m);
  cr_assert_eq(rc, APEX_OK, "finish: %s", apex_strerror(rc));
}

static void trade(apex_metrics_acc *acc, double notional, double pnl)
{
  apex_metrics_trade t = {.entry_time = 0, .exit_time = DAY, .entry_notional = notional, .net_pnl = pnl};
  cr_assert_eq(apex_metrics_acc_trade(acc, &t), APEX_OK, "trade %g / %g", pnl, notional);
}

/* Daily equity 101, 99.99, 102, 101, 104 from 100. python3:
 *   eq=[100,101,99.99,102,101,104]; r=[eq[i]/eq[i-1]-1 for i in range(1,6)]; m=statistics.mean(r)
 *   m/statistics.stdev(r)*math.sqrt(252)                          -> 7.148639876991703
 *   m/math.sqrt(sum(min(x,0)**2 for x in r)/len(r))*math.sqrt(252) -> 20.27819387434613 */
Test(metrics, five_days_sharpe_sortino)
{
  static const double eq[] = {101, 99.99, 102, 101, 104};
  apex_metrics_acc *acc = acc_new(100, 252);
  for (size_t i = 0; i < APEX_ARRAY_LEN(eq); i++)
    bar(acc, T_2024_01_01 + (int64_t)i * DAY + 16 * HOUR, eq[i], true);
  apex_metrics m;
  finish(acc, &m);
  EXPECT_NEAR(m.sharpe_ratio, 7.148639876991703, 1e-12);
  EXPECT_NEAR(m.sortino_ratio, 20.27819387434613, 1e-12);
  EXPECT_NEAR(m.total_return_pct, 4.0, 1e-12);
  cr_expect_eq(m.bars, 5);
  EXPECT_NEAR(m.final_equity, 104, 0);
  EXPECT_NEAR(m.exposure_pct, 100, 0);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

Test(metrics, sharpe_sortino_edge_cases)
{
  apex_metrics m;
  /* One return: both undefined. */
  apex_metrics_acc *acc = acc_new(100, 365);
  bar(acc, T_2024_01_01, 110, false);
  finish(acc, &m);
  cr_expect_eq(m.sharpe_ratio, 0.0);
  cr_expect_eq(m.sortino_ratio, 0.0);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);

  /* No losing day, positive mean: Sortino is INFINITY, Sharpe finite. */
  acc = acc_new(100, 365);
  bar(acc, T_2024_01_01, 101, false);
  bar(acc, T_2024_01_01 + DAY, 103, false);
  finish(acc, &m);
  cr_expect(isinf(m.sortino_ratio) && m.sortino_ratio > 0, "sortino %g", m.sortino_ratio);
  cr_expect(isfinite(m.sharpe_ratio) && m.sharpe_ratio > 0, "sharpe %g", m.sharpe_ratio);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);

  /* Flat equity: stdev 0, no losses, mean 0: both 0. */
  acc = acc_new(100, 365);
  for (int i = 0; i < 4; i++)
    bar(acc, T_2024_01_01 + i * DAY, 100, false);
  finish(acc, &m);
  cr_expect_eq(m.sharpe_ratio, 0.0);
  cr_expect_eq(m.sortino_ratio, 0.0);
  cr_expect_eq(m.max_drawdown_pct, 0.0);
  cr_expect_eq(m.max_drawdown_duration_ms, 0);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

/* Peak 110 on day 1, trough 99 (10%), regained on day 4: 3 days. Peak 120 on day 5, trough 96
 * (20%), never regained up to day 10: 5 days, the longest. */
Test(metrics, drawdown_with_unrecovered_tail)
{
  static const double eq[] = {100, 110, 99, 105, 110, 120, 108, 96, 100, 119, 100};
  apex_metrics_acc *acc = acc_new(100, 365);
  for (size_t i = 0; i < APEX_ARRAY_LEN(eq); i++)
    bar(acc, T_2024_01_01 + (int64_t)i * DAY, eq[i], false);
  apex_metrics m;
  finish(acc, &m);
  EXPECT_NEAR(m.max_drawdown_pct, 20.0, 1e-12);
  cr_expect_eq(m.max_drawdown_duration_ms, 5 * DAY, "duration %lld", (long long)m.max_drawdown_duration_ms);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

/* The first bar is already under the initial capital (the peak, dated at the first bar); back at
 * 100 on day 5: 5 days, 10%. Then a 1-day unrecovered dip of 0.495..%, shorter and shallower. */
Test(metrics, drawdown_recovered_is_longest)
{
  static const double eq[] = {90, 95, 92, 99, 99.5, 100, 101, 100.5};
  apex_metrics_acc *acc = acc_new(100, 365);
  for (size_t i = 0; i < APEX_ARRAY_LEN(eq); i++)
    bar(acc, T_2024_01_01 + (int64_t)i * DAY, eq[i], false);
  apex_metrics m;
  finish(acc, &m);
  EXPECT_NEAR(m.max_drawdown_pct, 10.0, 1e-12);
  cr_expect_eq(m.max_drawdown_duration_ms, 5 * DAY, "duration %lld", (long long)m.max_drawdown_duration_ms);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

/* Doubling over exactly 2 x 365.25 days: sqrt(2) - 1 = 41.42135623730952 %. */
Test(metrics, cagr)
{
  apex_metrics m;
  apex_metrics_acc *acc = acc_new(100, 365);
  bar(acc, T_2020_01_01, 100, false);
  bar(acc, T_2020_01_01 + 2 * 36525 * DAY / 100, 200, false);
  finish(acc, &m);
  EXPECT_NEAR(m.cagr_pct, 41.42135623730952, 1e-12);
  EXPECT_NEAR(m.total_return_pct, 100.0, 1e-12);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);

  /* Under one day: 0. */
  acc = acc_new(100, 365);
  bar(acc, T_2020_01_01, 100, false);
  bar(acc, T_2020_01_01 + DAY - 1, 200, false);
  finish(acc, &m);
  cr_expect_eq(m.cagr_pct, 0.0);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);

  /* Wiped out: 0, total return -100 %. */
  acc = acc_new(100, 365);
  bar(acc, T_2020_01_01, 100, false);
  bar(acc, T_2020_01_01 + 400 * DAY, 0, false);
  finish(acc, &m);
  cr_expect_eq(m.cagr_pct, 0.0);
  EXPECT_NEAR(m.total_return_pct, -100.0, 1e-12);
  EXPECT_NEAR(m.max_drawdown_pct, 100.0, 1e-12);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);

  /* No bars: final is the initial capital, everything else 0. */
  acc = acc_new(100, 365);
  finish(acc, &m);
  cr_expect_eq(m.final_equity, 100.0);
  cr_expect_eq(m.total_return_pct, 0.0);
  cr_expect_eq(m.bars, 0);
  cr_expect_eq(m.n_monthly, 0);
  cr_expect_null(m.monthly);
  cr_expect_eq(m.exposure_pct, 0.0);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

/* Nov 2023 ends at 110 (+10 % from 100), Dec at 99 (-10 %), Jan 2024 at 118.8 (+20 %),
 * Feb 2024 (leap day) at 118.8 (0 %). The month's last bar counts, not its first. */
Test(metrics, monthly_returns_across_year_boundary)
{
  apex_metrics_acc *acc = acc_new(100, 365);
  bar(acc, T_2023_11_15, 105, false);
  bar(acc, T_2023_12_01 - HOUR, 110, false);
  bar(acc, T_2023_12_01, 100, false);
  bar(acc, T_2024_01_01 - 1, 99, false);
  bar(acc, T_2024_01_01, 120, false);
  bar(acc, T_2024_01_31, 118.8, false);
  bar(acc, T_2024_02_29, 118.8, false);
  apex_metrics m;
  finish(acc, &m);
  static const apex_month_return want[] = {
      {2023, 11, 10.0}, {2023, 12, -10.0}, {2024, 1, 20.0}, {2024, 2, 0.0}};
  cr_assert_eq(m.n_monthly, APEX_ARRAY_LEN(want), "n_monthly %zu", m.n_monthly);
  for (size_t i = 0; i < APEX_ARRAY_LEN(want); i++) {
    cr_expect_eq(m.monthly[i].year, want[i].year, "month %zu year %d", i, m.monthly[i].year);
    cr_expect_eq(m.monthly[i].month, want[i].month, "month %zu month %d", i, m.monthly[i].month);
    EXPECT_NEAR(m.monthly[i].return_pct, want[i].return_pct, 1e-12);
  }
  apex_metrics_clear(&m);
  cr_expect_null(m.monthly);
  cr_expect_eq(m.n_monthly, 0);
  apex_metrics_acc_free(acc);
}

/* Profits only: 50/1000 = 5 %, 20/2000 = 1 %, 0/500 = 0 % (neither win nor loss). */
Test(metrics, trades_profits_only)
{
  apex_metrics_acc *acc = acc_new(10000, 252);
  trade(acc, 1000, 50);
  trade(acc, 2000, 20);
  trade(acc, 500, 0);
  apex_metrics m;
  finish(acc, &m);
  cr_expect_eq(m.total_trades, 3);
  cr_expect_eq(m.winning_trades, 2);
  cr_expect_eq(m.losing_trades, 0);
  EXPECT_NEAR(m.win_rate_pct, 200.0 / 3.0, 1e-12);
  cr_expect(isinf(m.profit_factor) && m.profit_factor > 0, "profit factor %g", m.profit_factor);
  EXPECT_NEAR(m.avg_trade_pct, 2.0, 1e-12);
  EXPECT_NEAR(m.best_trade_pct, 5.0, 1e-12);
  EXPECT_NEAR(m.worst_trade_pct, 0.0, 1e-12);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

/* +50/1000 (5 %), -25/1000 (-2.5 %), -25/4000 (-0.625 %); a short with a signed notional:
 * +10/-1000 (1 %). Profit factor 60 / 50 = 1.2; average 2.875 / 4. */
Test(metrics, trades_mixed)
{
  apex_metrics_acc *acc = acc_new(10000, 252);
  trade(acc, 1000, 50);
  trade(acc, 1000, -25);
  trade(acc, 4000, -25);
  trade(acc, -1000, 10);
  apex_metrics m;
  finish(acc, &m);
  cr_expect_eq(m.total_trades, 4);
  cr_expect_eq(m.winning_trades, 2);
  cr_expect_eq(m.losing_trades, 2);
  EXPECT_NEAR(m.win_rate_pct, 50.0, 1e-12);
  EXPECT_NEAR(m.profit_factor, 1.2, 1e-12);
  EXPECT_NEAR(m.avg_trade_pct, 2.875 / 4, 1e-12);
  EXPECT_NEAR(m.best_trade_pct, 5.0, 1e-12);
  EXPECT_NEAR(m.worst_trade_pct, -2.5, 1e-12);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);

  /* Losses only: profit factor 0. */
  acc = acc_new(10000, 252);
  trade(acc, 1000, -5);
  finish(acc, &m);
  cr_expect_eq(m.profit_factor, 0.0);
  cr_expect_eq(m.win_rate_pct, 0.0);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

Test(metrics, zero_trades)
{
  apex_metrics_acc *acc = acc_new(10000, 252);
  bar(acc, T_2024_01_01, 10100, false);
  apex_metrics m;
  finish(acc, &m);
  cr_expect_eq(m.total_trades, 0);
  cr_expect_eq(m.winning_trades, 0);
  cr_expect_eq(m.losing_trades, 0);
  cr_expect_eq(m.win_rate_pct, 0.0);
  cr_expect_eq(m.profit_factor, 0.0);
  cr_expect_eq(m.avg_trade_pct, 0.0);
  cr_expect_eq(m.best_trade_pct, 0.0);
  cr_expect_eq(m.worst_trade_pct, 0.0);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

Test(metrics, bad_trades_rejected)
{
  apex_metrics_acc *acc = acc_new(10000, 252);
  apex_metrics_trade t = {.entry_notional = 0, .net_pnl = 1};
  cr_expect_eq(apex_metrics_acc_trade(acc, &t), APEX_EINVAL, "zero notional");
  t.entry_notional = 100;
  t.net_pnl = NAN;
  cr_expect_eq(apex_metrics_acc_trade(acc, &t), APEX_EINVAL, "NaN pnl");
  cr_expect_eq(apex_metrics_acc_trade(acc, NULL), APEX_EINVAL, "NULL trade");
  apex_metrics m;
  finish(acc, &m);
  cr_expect_eq(m.total_trades, 0);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

/* Three days of 1-minute bars; within each day the equity wanders by -3..+3 around the close and
 * only minute 23:59 carries the close. Daily closes 102, 99.96, 103.5 from 100. python3:
 *   c=[100,102,99.96,103.5]; r=[c[i]/c[i-1]-1 for i in range(1,4)]; m=statistics.mean(r)
 *   m/statistics.stdev(r)*math.sqrt(365)                          -> 7.885170815663805
 *   m/math.sqrt(sum(min(x,0)**2 for x in r)/len(r))*math.sqrt(365) -> 19.531375237268577 */
Test(metrics, intraday_bars_give_daily_returns)
{
  static const double closes[] = {102, 99.96, 103.5};
  apex_metrics_acc *acc = acc_new(100, 365);
  for (int d = 0; d < 3; d++)
    for (int minute = 0; minute < 1440; minute++) {
      double eq = minute == 1439 ? closes[d] : closes[d] + (double)(minute % 7 - 3);
      bar(acc, T_2024_01_01 + d * DAY + minute * MINUTE, eq, minute % 4 == 0);
    }
  apex_metrics m;
  finish(acc, &m);
  EXPECT_NEAR(m.sharpe_ratio, 7.885170815663805, 1e-12);
  EXPECT_NEAR(m.sortino_ratio, 19.531375237268577, 1e-12);
  EXPECT_NEAR(m.total_return_pct, 3.5, 1e-12);
  EXPECT_NEAR(m.exposure_pct, 25.0, 1e-12);
  cr_expect_eq(m.bars, 3 * 1440);
  cr_assert_eq(m.n_monthly, 1);
  cr_expect_eq(m.monthly[0].year, 2024);
  cr_expect_eq(m.monthly[0].month, 1);
  EXPECT_NEAR(m.monthly[0].return_pct, 3.5, 1e-12);
  /* Intraday lows count for drawdown: peak 105 (day 0), low 96.96 on day 1. */
  EXPECT_NEAR(m.max_drawdown_pct, (105 - 96.96) / 105 * 100, 1e-12);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

/* -2 ms and -1 ms are 1969-12-31 (floor division), 0 ms is 1970-01-01: two days, returns
 * 121/100-1 and 133.1/121-1. python3: m/statistics.stdev(r)*math.sqrt(365) -> 38.07153987902678 */
Test(metrics, before_1970)
{
  apex_metrics_acc *acc = acc_new(100, 365);
  bar(acc, -2, 110, false);
  bar(acc, -1, 121, false);
  bar(acc, 0, 133.1, false);
  apex_metrics m;
  finish(acc, &m);
  EXPECT_NEAR(m.sharpe_ratio, 38.07153987902678, 1e-12);
  cr_assert_eq(m.n_monthly, 2);
  cr_expect(m.monthly[0].year == 1969 && m.monthly[0].month == 12, "%d-%d", m.monthly[0].year, m.monthly[0].month);
  cr_expect(m.monthly[1].year == 1970 && m.monthly[1].month == 1, "%d-%d", m.monthly[1].year, m.monthly[1].month);
  EXPECT_NEAR(m.monthly[0].return_pct, 21.0, 1e-12);
  EXPECT_NEAR(m.monthly[1].return_pct, 10.0, 1e-12);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);

  /* 1900 is not a leap year: noon of Feb 28 and midnight of Mar 1 are different months. */
  acc = acc_new(100, 365);
  bar(acc, T_1900_03_01 - 12 * HOUR, 100, false);
  bar(acc, T_1900_03_01, 150, false);
  finish(acc, &m);
  cr_assert_eq(m.n_monthly, 2);
  cr_expect(m.monthly[0].year == 1900 && m.monthly[0].month == 2, "%d-%d", m.monthly[0].year, m.monthly[0].month);
  cr_expect(m.monthly[1].year == 1900 && m.monthly[1].month == 3, "%d-%d", m.monthly[1].year, m.monthly[1].month);
  EXPECT_NEAR(m.monthly[1].return_pct, 50.0, 1e-12);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

static void expect_same(const apex_metrics *a, const apex_metrics *b)
{
  cr_expect_eq(a->final_equity, b->final_equity);
  cr_expect_eq(a->total_return_pct, b->total_return_pct);
  cr_expect_eq(a->cagr_pct, b->cagr_pct);
  cr_expect_eq(a->sharpe_ratio, b->sharpe_ratio);
  cr_expect_eq(a->sortino_ratio, b->sortino_ratio);
  cr_expect_eq(a->max_drawdown_pct, b->max_drawdown_pct);
  cr_expect_eq(a->max_drawdown_duration_ms, b->max_drawdown_duration_ms);
  cr_expect_eq(a->exposure_pct, b->exposure_pct);
  cr_expect_eq(a->bars, b->bars);
  cr_assert_eq(a->n_monthly, b->n_monthly);
  for (size_t i = 0; i < a->n_monthly; i++)
    cr_expect(a->monthly[i].year == b->monthly[i].year && a->monthly[i].month == b->monthly[i].month &&
                  a->monthly[i].return_pct == b->monthly[i].return_pct,
              "month %zu differs", i);
}

Test(metrics, bad_bars_rejected_and_acc_unchanged)
{
  apex_metrics_acc *acc = acc_new(100, 365), *ref = acc_new(100, 365);
  bar(acc, T_2024_01_01, 101, true);
  bar(acc, T_2024_01_01 + DAY, 99, false);
  bar(ref, T_2024_01_01, 101, true);
  bar(ref, T_2024_01_01 + DAY, 99, false);
  cr_expect_eq(apex_metrics_acc_bar(acc, T_2024_01_01 + DAY - 1, 150, true), APEX_EINVAL, "out of order");
  cr_expect_eq(apex_metrics_acc_bar(acc, T_2024_01_01 - 40 * DAY, 150, true), APEX_EINVAL, "previous month");
  cr_expect_eq(apex_metrics_acc_bar(acc, T_2024_01_01 + 2 * DAY, NAN, true), APEX_EINVAL, "NaN");
  cr_expect_eq(apex_metrics_acc_bar(acc, T_2024_01_01 + 40 * DAY, INFINITY, true), APEX_EINVAL, "infinite");
  cr_expect_eq(apex_metrics_acc_bar(NULL, 0, 1, true), APEX_EINVAL, "NULL acc");
  /* Equal times are in order. */
  bar(acc, T_2024_01_01 + DAY, 98, false);
  bar(ref, T_2024_01_01 + DAY, 98, false);
  apex_metrics a, b;
  finish(acc, &a);
  finish(ref, &b);
  expect_same(&a, &b);
  apex_metrics_clear(&a);
  apex_metrics_clear(&b);
  apex_metrics_acc_free(acc);
  apex_metrics_acc_free(ref);
}

Test(metrics, bad_constructor_arguments)
{
  cr_expect_null(apex_metrics_acc_new(0, 365));
  cr_expect_null(apex_metrics_acc_new(-5, 365));
  cr_expect_null(apex_metrics_acc_new(NAN, 365));
  cr_expect_null(apex_metrics_acc_new(INFINITY, 365));
  cr_expect_null(apex_metrics_acc_new(100, 0));
  apex_metrics_acc_free(NULL);
  apex_metrics_clear(NULL);
}

/* Finishing does not consume: more bars later give the metrics up to the later bar. */
Test(metrics, finish_then_continue)
{
  apex_metrics_acc *acc = acc_new(100, 365);
  bar(acc, T_2024_01_01, 110, false);
  apex_metrics m;
  finish(acc, &m);
  EXPECT_NEAR(m.total_return_pct, 10.0, 1e-12);
  cr_expect_eq(m.n_monthly, 1);
  apex_metrics_clear(&m);
  bar(acc, T_2024_02_29, 99, false);
  finish(acc, &m);
  EXPECT_NEAR(m.total_return_pct, -1.0, 1e-12);
  EXPECT_NEAR(m.max_drawdown_pct, 10.0, 1e-12);
  cr_assert_eq(m.n_monthly, 2);
  EXPECT_NEAR(m.monthly[0].return_pct, 10.0, 1e-12);
  EXPECT_NEAR(m.monthly[1].return_pct, -10.0, 1e-12);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

/* 6944 days of 1-minute bars (9,999,360 bars) from 2000-01-01. Non-close minutes sit at 101; the
 * close alternates 102 (even days) and 100 (odd days), so the daily returns alternate exactly
 * a = 102/100-1 and b = 100/102-1. Sample stats of n such values (n even): mean (a+b)/2, stdev
 * |a-b|/2 x sqrt(n/(n-1)); downside sqrt(b^2/2). python3 on the list [a,b]*3472 with
 * statistics.stdev: Sharpe 0.1891445294940763, Sortino 0.27018512172211445. Drawdown 2/102 from the
 * day-0 close, regained 2 days later; the last (odd) day ends 1 day under the peak. Jan 2000 to
 * Jan 2019 is 229 months. */
Test(metrics, ten_million_bars_stay_precise, .timeout = 60)
{
  const int days = 6944;
  apex_metrics_acc *acc = acc_new(100, 365);
  size_t i = 0;
  for (int d = 0; d < days; d++)
    for (int minute = 0; minute < 1440; minute++, i++) {
      double eq = minute < 1439 ? 101 : (d % 2 == 0 ? 102 : 100);
      if (apex_metrics_acc_bar(acc, T_2000_01_01 + d * DAY + minute * MINUTE, eq, i % 2 == 0) != APEX_OK)
        cr_assert_fail("bar %zu rejected", i);
    }
  apex_metrics m;
  finish(acc, &m);
  double a = 102.0 / 100 - 1, b = 100.0 / 102 - 1, n = days;
  double sharpe = (a + b) / 2 / (fabs(a - b) / 2 * sqrt(n / (n - 1))) * sqrt(365.0);
  double sortino = (a + b) / 2 / sqrt(b * b / 2) * sqrt(365.0);
  EXPECT_NEAR(m.sharpe_ratio, sharpe, 1e-9);
  EXPECT_NEAR(m.sharpe_ratio, 0.1891445294940763, 1e-9);
  EXPECT_NEAR(m.sortino_ratio, sortino, 1e-9);
  EXPECT_NEAR(m.sortino_ratio, 0.27018512172211445, 1e-9);
  EXPECT_NEAR(m.max_drawdown_pct, 200.0 / 102, 1e-12);
  cr_expect_eq(m.max_drawdown_duration_ms, 2 * DAY, "duration %lld", (long long)m.max_drawdown_duration_ms);
  cr_expect_eq(m.bars, (size_t)days * 1440);
  EXPECT_NEAR(m.exposure_pct, 50.0, 0);
  EXPECT_NEAR(m.total_return_pct, 0.0, 1e-12);
  cr_expect_eq(m.cagr_pct, 0.0);
  cr_expect_eq(m.n_monthly, 229);
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
}

Test(metrics, periods_per_year)
{
  static const struct {
    const char *asset;
    int want;
  } CASES[] = {
      {"BTC/USDT", 365}, {"ETH-BTC", 365},      {"BTC-USD", 365},         {"BTCUSDT", 365},
      {"ethusdc", 365},  {"BINANCE:BTCUSDT", 365}, {"BTC/USDT:USDT", 365}, {"BTC/USD:BTC", 365}, {"AAPL", 252},
      {"ORCL", 252},     {"BRK-B", 252},        {"BAC-PL", 252},          {"NASDAQ:AAPL", 252},
      {"", 252},         {NULL, 252},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++)
    cr_expect_eq(apex_metrics_periods_per_year(CASES[i].asset), CASES[i].want, "%s",
                 CASES[i].asset ? CASES[i].asset : "(null)");
}
