/* A paper session over stored candles (market/replay feeding core/session, as `apextrade paper`
 * drives it) ends with exactly apex_backtest_run's result: same trades, equity samples, metrics and
 * account, on random strategies (support/random_strategy), with and without a start date. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/backtest.h"
#include "core/session.h"
#include "market/replay.h"
#include "support/random_strategy.h"
#include "support/ref.h"

/* The paper driver's loop: each candle stepped as it arrives, told it is the last when the feed
 * says at once that it has ended. */
static void paper(const apex_strategy *st, const apex_series *s, const apex_backtest_opts *o, apex_backtest_result *out)
{
  apex_market m;
  apex_session *ss = NULL;
  apex_market_event cur, nxt;
  apex_error err = {0};
  cr_assert_eq(apex_replay_new(s, "BTC/USDT", "1m", 0, &m, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(m.ops->subscribe(m.impl, "BTC/USDT", "1m", &err), APEX_OK);
  cr_assert_eq(apex_session_new(st, o, &ss, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(m.ops->next(m.impl, 0, &cur, &err), APEX_OK);
  for (;;) {
    apex_err peek = m.ops->next(m.impl, 0, &nxt, &err);
    cr_assert(peek == APEX_OK || peek == APEX_ENOTFOUND, "%s", err.msg);
    cr_assert_eq(apex_session_step(ss, &cur.bar, peek == APEX_ENOTFOUND, NULL, &err), APEX_OK, "%s", err.msg);
    if (peek == APEX_ENOTFOUND)
      break;
    cur = nxt;
  }
  cr_assert_eq(apex_session_finish(ss, out, &err), APEX_OK, "%s", err.msg);
  apex_session_free(ss); /* the result outlives the session */
  apex_market_free(&m);
}

static bool same(double x, double y) { return x == y || (isnan(x) && isnan(y)); }

/* Doubles equal to the bit (NaN with NaN): the same operations in the same order. */
static bool metrics_eq(const apex_metrics *a, const apex_metrics *b)
{
  return same(a->initial_capital, b->initial_capital) && same(a->final_equity, b->final_equity) &&
         same(a->total_return_pct, b->total_return_pct) && same(a->cagr_pct, b->cagr_pct) &&
         same(a->sharpe_ratio, b->sharpe_ratio) && same(a->sortino_ratio, b->sortino_ratio) &&
         same(a->max_drawdown_pct, b->max_drawdown_pct) && a->max_drawdown_duration_ms == b->max_drawdown_duration_ms &&
         a->total_trades == b->total_trades && a->winning_trades == b->winning_trades &&
         a->losing_trades == b->losing_trades && same(a->win_rate_pct, b->win_rate_pct) &&
         same(a->profit_factor, b->profit_factor) && same(a->avg_trade_pct, b->avg_trade_pct) &&
         same(a->best_trade_pct, b->best_trade_pct) && same(a->worst_trade_pct, b->worst_trade_pct) &&
         same(a->exposure_pct, b->exposure_pct) && a->bars == b->bars;
}

Test(market_paper, replayed_session_equals_the_backtest)
{
  apex_series *s = ref_random_series(1500, 505);
  size_t total_trades = 0;
  for (int iter = 0; iter < 60; iter++) {
    apex_strategy *st = rs_random_strategy();
    apex_backtest_opts o;
    apex_backtest_opts_init(&o, st);
    o.equity_every = 1 + rs_rnd(3) * 7; /* every candle, or sampled as the CLI samples */
    if (iter % 2)
      o.cfg.start_ms = s->time[100 + rs_rnd(1000)];
    apex_backtest_result a, b;
    apex_error err = {0};
    cr_assert_eq(apex_backtest_run(st, s, &o, &a, &err), APEX_OK, "%s", err.msg);
    paper(st, s, &o, &b);
    cr_expect_eq(a.n_trades, b.n_trades, "iteration %d: %zu trades backtest, %zu paper", iter, a.n_trades,
                 b.n_trades);
    for (size_t i = 0; i < a.n_trades && i < b.n_trades; i++)
      cr_expect(rs_trade_eq(&a.trades[i], &b.trades[i]), "iteration %d: trade %zu differs", iter, i);
    cr_expect(metrics_eq(&a.metrics, &b.metrics), "iteration %d: metrics differ", iter);
    cr_expect_eq(a.metrics.n_monthly, b.metrics.n_monthly, "iteration %d: monthly returns", iter);
    for (size_t i = 0; i < a.metrics.n_monthly && i < b.metrics.n_monthly; i++)
      cr_expect(!memcmp(&a.metrics.monthly[i], &b.metrics.monthly[i], sizeof a.metrics.monthly[i]),
                "iteration %d: month %zu differs", iter, i);
    cr_expect_eq(a.final_cash, b.final_cash, "iteration %d", iter);
    cr_expect_eq(a.total_commission, b.total_commission);
    cr_expect_eq(a.fills, b.fills);
    cr_expect_eq(a.halted, b.halted);
    cr_expect_eq(a.halted_time, b.halted_time);
    cr_expect_eq(a.first_bar, b.first_bar);
    cr_expect_eq(a.bars, b.bars);
    cr_expect_eq(a.warmup, b.warmup);
    cr_assert_eq(a.n_equity, b.n_equity, "iteration %d: %zu equity samples backtest, %zu paper", iter, a.n_equity,
                 b.n_equity);
    for (size_t i = 0; i < a.n_equity; i++)
      if (a.equity[i] != b.equity[i]) {
        cr_expect_fail("iteration %d: equity sample %zu: %.17g backtest, %.17g paper", iter, i, a.equity[i],
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
