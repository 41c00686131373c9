/* Hand-computed backtest scenarios: market fills at the next open with slippage and commission,
 * stop-loss, take-profit, gaps through either, both in one candle, the cash cap, end-of-data closing,
 * the drawdown halt. Expected amounts come from Python's decimal module (ROUND_HALF_UP to 8 places),
 * worked out in the comments; none from running this code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/backtest.h"
#include "core/strategy.h"
#include "support/ref.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1577836800000) /* 2020-01-01 */

/* Entry when 10.5 < close < 11.2, exit when close > 12, plus the given risk block. */
static apex_strategy *strategy(const char *risk)
{
  char doc[2048];
  snprintf(doc, sizeof doc,
           "{\"name\": \"t\", \"asset\": \"TEST\", \"timeframe\": \"1d\","
           " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
           "   {\"indicator\": \"close\", \"operator\": \"between\", \"value\": [10.5, 11.2]}]}],"
           " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
           "   {\"indicator\": \"close\", \"operator\": \"greater_than\", \"value\": 12}]}],"
           " \"risk_management\": %s}",
           risk);
  apex_strategy *st = NULL;
  apex_problems p = {0};
  cr_assert_eq(apex_strategy_parse(doc, strlen(doc), &st, &p), APEX_OK, "%s: %s", p.item[0].pointer,
               p.item[0].message);
  return st;
}

/* Rows of {open, high, low, close}, one per day from 2020-01-01. */
/* Spec 5's defaults apply when a strategy names no costs or size: 10 % of equity per entry,
 * 0.1 % commission, 0.05 % slippage. */
Test(backtest, spec_defaults_when_omitted)
{
  apex_strategy *st = strategy("{}");
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  cr_expect_eq(st->risk.max_position_size, 0.1);
  cr_expect_eq(o.cfg.commission_pct, 0.1);
  cr_expect_eq(o.cfg.slippage_pct, 0.05);
  cr_expect_eq(o.cfg.initial_capital, 10000);
  apex_strategy_free(st);
}

static apex_series *bars(const double (*ohlc)[4], size_t n)
{
  apex_series *s = apex_series_new(n);
  for (size_t i = 0; i < n; i++) {
    apex_bar b = {T0 + (int64_t)i * DAY, ohlc[i][0], ohlc[i][1], ohlc[i][2], ohlc[i][3], 100};
    apex_series_append(s, &b);
  }
  return s;
}

static apex_backtest_result run(apex_strategy *st, apex_series *s, double capital, double comm, double slip)
{
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.cfg.initial_capital = capital;
  o.cfg.commission_pct = comm;
  o.cfg.slippage_pct = slip;
  o.equity_every = 1;
  apex_backtest_result r;
  apex_error err = {0};
  cr_assert_eq(apex_backtest_run(st, s, &o, &r, &err), APEX_OK, "%s", err.msg);
  return r;
}

static apex_dec D(const char *s)
{
  apex_dec d;
  cr_assert_eq(apex_dec_from_str(s, &d), APEX_OK, "%s", s);
  return d;
}

Test(backtest, market_orders_fill_next_open_with_slippage_and_commission)
{
  static const double B[][4] = {
      {10, 10, 10, 10}, {10, 12, 10, 11}, /* entry signal at this close (11) */
      {12, 12, 11, 11.5},                 /* buy at 12 x 1.01 = 12.12 */
      {11, 13, 11, 12.5},                 /* exit signal (12.5 > 12) */
      {13, 13, 12, 12},                   /* sell at 13 x 0.99 = 12.87 */
      {12, 12, 12, 12},
  };
  apex_strategy *st = strategy("{\"max_position_size\": 0.5}");
  apex_series *s = bars(B, 6);
  apex_backtest_result r = run(st, s, 1000, 0.1, 1);
  /* qty = round(0.5 x 1000 / 11) = 45.45454545; notional 550.90909085, commission 0.55090909;
   * exit notional 584.99999994, commission 0.585; cash 1000 - 550.90909085 - 0.55090909
   * + 584.99999994 - 0.585 = 1032.955 */
  cr_assert_eq(r.n_trades, 1);
  const apex_bt_trade *t = &r.trades[0];
  cr_expect_eq(t->entry_bar, 2);
  cr_expect_eq(t->exit_bar, 4);
  cr_expect_eq(t->qty, D("45.45454545"));
  cr_expect_eq(t->entry_price, D("12.12"));
  cr_expect_eq(t->exit_price, D("12.87"));
  cr_expect_eq(t->entry_commission, D("0.55090909"));
  cr_expect_eq(t->exit_commission, D("0.585"));
  cr_expect_eq(t->gross_pnl, D("34.09090909"));
  cr_expect_eq(t->net_pnl, D("32.955"));
  cr_expect_eq(t->reason, APEX_EXIT_SIGNAL);
  cr_expect_eq(r.final_cash, D("1032.955"));
  /* equity at the entry candle's close: cash 448.54000006 + 45.45454545 x 11.5 */
  cr_expect(ref_close_enough(r.equity[2], 448.54000006 + 45.45454545 * 11.5, 1e-12, 1e-9), "%.10f", r.equity[2]);
  cr_expect(ref_close_enough(r.equity[5], 1032.955, 1e-12, 1e-9));
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}

/* The same entry for the stop and target scenarios: signal at candle 1, buy at candle 2's open, 11.
 * qty = round(1000 / 11) = 90.90909091 would cost 1000.00000001: the cash cap makes it 90.90909090
 * (cost 999.9999999). */
static const double ENTRY[3][4] = {{10, 10, 10, 10}, {10, 11, 10, 11}, {11, 11.5, 10.8, 11}};

static apex_backtest_result scenario(const char *risk, const double last[4], apex_strategy **st, apex_series **s)
{
  double b[5][4];
  memcpy(b, ENTRY, sizeof ENTRY);
  memcpy(b[3], last, sizeof b[3]);
  const double tail[4] = {11, 11, 11, 11};
  memcpy(b[4], tail, sizeof tail);
  *st = strategy(risk);
  *s = bars((const double(*)[4])b, 5);
  return run(*st, *s, 1000, 0, 0);
}

Test(backtest, cash_cap_keeps_cash_from_going_negative)
{
  apex_strategy *st;
  apex_series *s;
  const double flat[4] = {11, 11, 11, 11};
  apex_backtest_result r = scenario("{\"max_position_size\": 1}", flat, &st, &s);
  cr_assert_eq(r.n_trades, 1);
  cr_expect_eq(r.trades[0].qty, D("90.9090909"));
  cr_expect_eq(r.trades[0].reason, APEX_EXIT_END_OF_DATA);
  /* closed at the last close, 11: 999.9999999 back, plus the 0.0000001 left over */
  cr_expect_eq(r.final_cash, D("1000"));
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}

Test(backtest, stop_loss_fills_at_the_stop_inside_the_candle)
{
  apex_strategy *st;
  apex_series *s;
  const double c[4] = {10.9, 11, 10.4, 10.4}; /* low 10.4 <= stop 11 x 0.95 = 10.45 */
  apex_backtest_result r = scenario("{\"stop_loss_pct\": 5, \"max_position_size\": 1}", c, &st, &s);
  cr_assert_eq(r.n_trades, 1);
  cr_expect_eq(r.trades[0].exit_bar, 3);
  cr_expect_eq(r.trades[0].exit_price, D("10.45"));
  cr_expect_eq(r.trades[0].reason, APEX_EXIT_STOP_LOSS);
  cr_expect_eq(r.final_cash, D("950.00000001")); /* 0.0000001 + 949.99999991 */
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}

Test(backtest, stop_loss_gap_fills_at_the_open)
{
  apex_strategy *st;
  apex_series *s;
  const double c[4] = {10, 10.2, 9.8, 10}; /* opens below the stop 10.45 */
  apex_backtest_result r = scenario("{\"stop_loss_pct\": 5, \"max_position_size\": 1}", c, &st, &s);
  cr_assert_eq(r.n_trades, 1);
  cr_expect_eq(r.trades[0].exit_price, D("10"));
  cr_expect_eq(r.trades[0].reason, APEX_EXIT_STOP_LOSS);
  cr_expect_eq(r.final_cash, D("909.0909091")); /* 0.0000001 + 909.090909 */
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}

Test(backtest, take_profit_fills_at_the_target_and_gaps_at_the_open)
{
  apex_strategy *st;
  apex_series *s;
  const double c[4] = {11.2, 11.6, 11.1, 11.3}; /* high 11.6 >= target 11 x 1.05 = 11.55 */
  apex_backtest_result r = scenario("{\"take_profit_pct\": 5, \"max_position_size\": 1}", c, &st, &s);
  cr_assert_eq(r.n_trades, 1);
  cr_expect_eq(r.trades[0].exit_price, D("11.55"));
  cr_expect_eq(r.trades[0].reason, APEX_EXIT_TAKE_PROFIT);
  cr_expect_eq(r.final_cash, D("1050")); /* 0.0000001 + 1049.9999999 */
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);

  const double gap[4] = {11.8, 11.9, 11.7, 11.8};
  r = scenario("{\"take_profit_pct\": 5, \"max_position_size\": 1}", gap, &st, &s);
  cr_assert_eq(r.n_trades, 1);
  cr_expect_eq(r.trades[0].exit_price, D("11.8"));
  cr_expect_eq(r.final_cash, D("1072.72727272"));
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}

Test(backtest, stop_and_target_in_one_candle_take_the_stop)
{
  apex_strategy *st;
  apex_series *s;
  const double c[4] = {11, 11.6, 10.4, 11.3}; /* touches 10.45 and 11.55 */
  apex_backtest_result r = scenario("{\"stop_loss_pct\": 5, \"take_profit_pct\": 5, \"max_position_size\": 1}", c, &st, &s);
  cr_assert_eq(r.n_trades, 1);
  cr_expect_eq(r.trades[0].exit_price, D("10.45"));
  cr_expect_eq(r.trades[0].reason, APEX_EXIT_STOP_LOSS);
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}

Test(backtest, drawdown_halt_closes_and_stops_entries)
{
  static const double B[][4] = {
      {10, 10, 10, 10}, {10, 11, 10, 11}, {11, 11.5, 10.8, 11},
      {11, 11, 9.5, 9.5},       /* equity 0.0000001 + 90.9090909 x 9.5 = 863.64: 13.6 % below 1000 */
      {9.6, 9.6, 9.4, 10.8},    /* closed at this open, 9.6; close 10.8 would be an entry signal */
      {10.8, 10.8, 10.8, 10.8}, /* no entry: halted */
      {10.8, 10.8, 10.8, 10.8},
  };
  apex_strategy *st = strategy("{\"max_drawdown_pct\": 10, \"max_position_size\": 1}");
  apex_series *s = bars(B, 7);
  apex_backtest_result r = run(st, s, 1000, 0, 0);
  cr_assert_eq(r.n_trades, 1);
  cr_expect_eq(r.trades[0].exit_bar, 4);
  cr_expect_eq(r.trades[0].exit_price, D("9.6"));
  cr_expect_eq(r.trades[0].reason, APEX_EXIT_MAX_DRAWDOWN);
  cr_expect(r.halted);
  cr_expect_eq(r.halted_time, T0 + 3 * DAY);
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}

Test(backtest, date_range_trades_only_inside_it)
{
  static const double B[][4] = {
      {10, 10, 10, 10}, {10, 11, 10, 11}, {11, 11, 11, 11}, {10, 11, 10, 11}, {11, 11, 11, 11}, {11, 11, 11, 11},
  };
  apex_strategy *st = strategy("{}");
  apex_series *s = bars(B, 6);
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.cfg.initial_capital = 1000;
  o.cfg.start_ms = T0 + 2 * DAY; /* the signal at candle 1 is before the start */
  apex_backtest_result r;
  apex_error err;
  cr_assert_eq(apex_backtest_run(st, s, &o, &r, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(r.first_bar, 2);
  cr_expect_eq(r.bars, 4);
  cr_assert_eq(r.n_trades, 1); /* signal at candle 2 (close 11), bought at candle 3 */
  cr_expect_eq(r.trades[0].entry_bar, 3);
  apex_backtest_result_clear(&r);

  o.cfg.start_ms = T0 + 10 * DAY;
  cr_expect_eq(apex_backtest_run(st, s, &o, &r, &err), APEX_EDATA);
  apex_series_free(s);
  apex_strategy_free(st);
}

Test(backtest, cancel_flag_stops_the_run)
{
  apex_strategy *st = strategy("{}");
  apex_series *s = ref_random_series(1000, 5);
  atomic_int cancel = 1;
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.cancel = &cancel;
  apex_backtest_result r;
  apex_error err;
  cr_expect_eq(apex_backtest_run(st, s, &o, &r, &err), APEX_ECANCELED);
  apex_series_free(s);
  apex_strategy_free(st);
}

static void count_progress(void *ctx, double pct, int64_t t)
{
  (void)t;
  double *last = ctx;
  cr_expect(pct >= last[0], "progress goes forward");
  last[0] = pct;
  last[1] += 1;
}

Test(backtest, progress_at_most_every_percent)
{
  apex_strategy *st = strategy("{}");
  apex_series *s = ref_random_series(10000, 5);
  double seen[2] = {0, 0};
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.progress = count_progress;
  o.progress_ctx = seen;
  apex_backtest_result r;
  apex_error err;
  cr_assert_eq(apex_backtest_run(st, s, &o, &r, &err), APEX_OK);
  cr_expect_eq(seen[0], 100.0);
  cr_expect_leq(seen[1], 102);
  cr_expect_geq(seen[1], 50);
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}
