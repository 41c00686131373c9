/* Properties of the engine on random candles and random valid strategies: determinism, no
 * look-ahead (a run cut after candle k agrees with the full run on everything before k), cash never
 * negative, equity equal to cash plus position value at every candle, and exact bookkeeping
 * (final cash = initial capital + the sum of the trades' net P&L, to the last 1e-8). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/backtest.h"
#include "core/engine.h"
#include "core/simbroker.h"
#include "core/strategy.h"
#include "support/random_strategy.h"
#include "support/ref.h"

typedef struct watch {
  const apex_series *s;
  size_t bad_cash, bad_equity;
} watch;

static void on_bar(void *ctx, size_t t, apex_dec cash, apex_dec pos, double equity)
{
  watch *w = ctx;
  if (cash < 0)
    w->bad_cash++;
  double want = apex_dec_to_double(cash) + apex_dec_to_double(pos) * w->s->close[t];
  if (!ref_close_enough(equity, want, 1e-12, 1e-9))
    w->bad_equity++;
}

static apex_backtest_result run(const apex_strategy *st, const apex_series *s, watch *w)
{
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.equity_every = 1;
  o.on_bar = w ? on_bar : NULL;
  o.on_bar_ctx = w;
  apex_backtest_result r;
  apex_error err = {0};
  cr_assert_eq(apex_backtest_run(st, s, &o, &r, &err), APEX_OK, "%s", err.msg);
  return r;
}

Test(backtest_properties, random_strategies_on_random_candles)
{
  apex_series *full = ref_random_series(1500, 77);
  size_t total_trades = 0;
  for (int iter = 0; iter < 60; iter++) {
    apex_strategy *st = rs_random_strategy();
    watch w = {full, 0, 0};
    apex_backtest_result a = run(st, full, &w), b = run(st, full, NULL);
    cr_expect_eq(w.bad_cash, 0, "iteration %d: cash went negative", iter);
    cr_expect_eq(w.bad_equity, 0, "iteration %d: equity != cash + position x close", iter);

    /* determinism */
    cr_expect_eq(a.n_trades, b.n_trades);
    cr_expect_eq(a.final_cash, b.final_cash);
    for (size_t i = 0; i < a.n_trades && i < b.n_trades; i++)
      cr_expect(rs_trade_eq(&a.trades[i], &b.trades[i]), "iteration %d: trade %zu differs between runs", iter, i);

    /* exact bookkeeping */
    apex_dec sum = 0, com = 0, start;
    apex_dec_from_double(st->backtest.initial_capital, &start);
    for (size_t i = 0; i < a.n_trades; i++) {
      sum += a.trades[i].net_pnl;
      com += a.trades[i].entry_commission + a.trades[i].exit_commission;
      cr_expect_eq(a.trades[i].net_pnl,
                   a.trades[i].gross_pnl - a.trades[i].entry_commission - a.trades[i].exit_commission);
    }
    cr_expect_eq(a.final_cash, start + sum, "iteration %d: final cash is not capital + net P&L", iter);
    cr_expect_eq(a.total_commission, com);
    cr_expect_eq(a.metrics.total_trades, a.n_trades);

    /* no look-ahead: cut the data after candle k */
    size_t k = 200 + rs_rnd(1200);
    apex_series *cut = ref_random_series(1500, 77);
    apex_series_slice(cut, 0, k);
    apex_backtest_result c = run(st, cut, NULL);
    for (size_t t = 0; t + 1 < k; t++)
      if (c.equity[t] != a.equity[t]) {
        cr_expect_fail("iteration %d: equity at candle %zu differs when data ends at %zu", iter, t, k);
        break;
      }
    size_t same = c.n_trades;
    if (same && c.trades[same - 1].reason == APEX_EXIT_END_OF_DATA)
      same--; /* closed because the data ended: the full run holds it longer */
    cr_expect_geq(a.n_trades, same);
    for (size_t i = 0; i < same && i < a.n_trades; i++)
      cr_expect(rs_trade_eq(&c.trades[i], &a.trades[i]), "iteration %d: trade %zu differs", iter, i);
    total_trades += a.n_trades;

    apex_backtest_result_clear(&a);
    apex_backtest_result_clear(&b);
    apex_backtest_result_clear(&c);
    apex_series_free(cut);
    apex_strategy_free(st);
  }
  cr_expect_gt(total_trades, 100, "random strategies should trade: %zu trades", total_trades);
  apex_series_free(full);
}

/* The engine computing indicators candle by candle (paper and live trading's path) trades exactly
 * as the backtest with batch-precomputed columns: same trades to the last 1e-8, same equity at
 * every candle, with and without a start date that leaves earlier candles for the warm-up. */
Test(backtest_properties, streaming_indicators_equal_batch_columns)
{
  apex_series *s = ref_random_series(2000, 91);
  size_t total_trades = 0;
  for (int iter = 0; iter < 80; iter++) {
    apex_strategy *st = rs_random_strategy();
    apex_backtest_opts o;
    apex_backtest_opts_init(&o, st);
    o.equity_every = 1;
    if (iter % 2)
      o.cfg.start_ms = s->time[100 + rs_rnd(1000)];
    apex_backtest_result a, b;
    apex_error err = {0};
    cr_assert_eq(apex_backtest_run(st, s, &o, &a, &err), APEX_OK, "%s", err.msg);
    o.streaming = true;
    cr_assert_eq(apex_backtest_run(st, s, &o, &b, &err), APEX_OK, "%s", err.msg);
    cr_expect_eq(a.n_trades, b.n_trades, "iteration %d: %zu trades batch, %zu streaming", iter, a.n_trades,
                 b.n_trades);
    for (size_t i = 0; i < a.n_trades && i < b.n_trades; i++)
      cr_expect(rs_trade_eq(&a.trades[i], &b.trades[i]), "iteration %d: trade %zu differs", iter, i);
    cr_expect_eq(a.final_cash, b.final_cash, "iteration %d", iter);
    cr_expect_eq(a.total_commission, b.total_commission);
    cr_expect_eq(a.fills, b.fills);
    cr_expect_eq(a.halted, b.halted);
    cr_assert_eq(a.n_equity, b.n_equity);
    for (size_t i = 0; i < a.n_equity; i++)
      if (a.equity[i] != b.equity[i]) {
        cr_expect_fail("iteration %d: equity at candle %zu: %.17g batch, %.17g streaming", iter, i, a.equity[i],
                       b.equity[i]);
        break;
      }
    total_trades += a.n_trades;
    apex_backtest_result_clear(&a);
    apex_backtest_result_clear(&b);
    apex_strategy_free(st);
  }
  cr_expect_gt(total_trades, 100, "random strategies should trade: %zu trades", total_trades);
  apex_series_free(s);
}

/* The backtest's batch loop skips quiet candles without building them and hands the engine only
 * each close and time; here the engine (streaming indicators) and the simulated broker are driven
 * through their public API with every candle built and offered to the broker. Both must make the
 * same trades, fills, final cash and equity at every candle: no shortcut changes a decision. */
typedef struct trade_log {
  apex_bt_trade t[4096];
  size_t n;
} trade_log;

static apex_err keep_trade(void *ctx, const apex_bt_trade *t)
{
  trade_log *l = ctx;
  cr_assert_lt(l->n, APEX_ARRAY_LEN(l->t));
  l->t[l->n++] = *t;
  return APEX_OK;
}

Test(backtest_properties, batch_loop_equals_engine_and_broker_driven_by_hand)
{
  apex_series *s = ref_random_series(2000, 313);
  static trade_log l; /* large: not on the stack */
  size_t total_trades = 0;
  for (int iter = 0; iter < 60; iter++) {
    apex_strategy *st = rs_random_strategy();
    apex_backtest_opts o;
    apex_backtest_opts_init(&o, st);
    o.equity_every = 1;
    if (iter % 2)
      o.cfg.start_ms = s->time[100 + rs_rnd(1000)];
    apex_backtest_result a;
    apex_error err = {0};
    cr_assert_eq(apex_backtest_run(st, s, &o, &a, &err), APEX_OK, "%s", err.msg);

    apex_engine *e = NULL;
    apex_sim_broker b;
    apex_fill_costs c;
    apex_dec cap;
    apex_engine_out out;
    cr_assert_eq(apex_dec_from_double(o.cfg.initial_capital, &cap), APEX_OK);
    cr_assert_eq(apex_dec_from_double(o.cfg.commission_pct, &c.commission_pct), APEX_OK);
    cr_assert_eq(apex_dec_from_double(o.cfg.slippage_pct, &c.slippage_pct), APEX_OK);
    cr_assert_eq(apex_sim_broker_init(&b, &c), APEX_OK);
    cr_assert_eq(apex_engine_new(st, cap, &e, NULL), APEX_OK);
    l.n = 0;
    size_t b0 = a.first_bar, last = s->n - 1, bad_equity = 0;
    for (size_t t = 0; t < b0; t++) {
      apex_bar bar = apex_series_bar(s, t);
      apex_engine_warm(e, &bar);
    }
    for (size_t t = b0; t <= last; t++) {
      apex_bar bar = apex_series_bar(s, t);
      cr_assert_eq(apex_sim_broker_bar(&b, e, &bar, t, keep_trade, &l), APEX_OK);
      if (t == last)
        cr_assert_eq(apex_sim_broker_close(&b, e, APEX_EXIT_END_OF_DATA, s->close[t], t, s->time[t], keep_trade, &l),
                     APEX_OK);
      cr_assert_eq(apex_engine_on_bar(e, &bar, &out), APEX_OK);
      if (t < last)
        apex_sim_broker_take(&b, &out);
      if (apex_engine_equity(e) != a.equity[t - b0])
        bad_equity++;
    }
    cr_expect_eq(bad_equity, 0, "iteration %d: equity differs at %zu candles", iter, bad_equity);
    cr_expect_eq(l.n, a.n_trades, "iteration %d: %zu trades by hand, %zu by the backtest", iter, l.n, a.n_trades);
    for (size_t i = 0; i < l.n && i < a.n_trades; i++)
      cr_expect(rs_trade_eq(&l.t[i], &a.trades[i]), "iteration %d: trade %zu differs", iter, i);
    cr_expect_eq(apex_engine_cash(e), a.final_cash, "iteration %d", iter);
    cr_expect_eq(apex_engine_fills(e), a.fills, "iteration %d", iter);
    cr_expect_eq(apex_engine_halted(e, NULL), a.halted, "iteration %d", iter);
    total_trades += a.n_trades;
    apex_engine_free(e);
    apex_backtest_result_clear(&a);
    apex_strategy_free(st);
  }
  cr_expect_gt(total_trades, 100, "random strategies should trade: %zu trades", total_trades);
  apex_series_free(s);
}
