/* backtest.h - the trading engine run over history: rules at each candle's close, orders through
 * core/fill, accounting in core/ledger, metrics in core/metrics. Paper and live trading reuse the
 * same fill model and ledger; only the feed and the broker differ. Pure: no I/O, no clock.
 *
 * Semantics (ARCHITECTURE.md, "Backtest semantics"):
 * - Signals are computed at a candle's close from data up to that candle. Indicators are computed
 *   over all candles before the end date, so trading can start at start_date with warm indicators.
 * - A market order made at candle t fills at candle t+1's open, moved against the trader by slippage.
 * - Entry size = max_position_size x equity / close of the signal candle, reduced at the fill so cash
 *   never goes negative (commission included).
 * - Stop-loss and take-profit sit at entry price x (1 - stop_loss_pct/100) and x (1 + take_profit_pct
 *   /100); they are live from the entry candle on, checked against each candle's low and high, fill at
 *   the open when the candle opens beyond them, and the stop is assumed first when one candle touches
 *   both (core/fill.h says exactly how).
 * - max_drawdown_pct: when equity at a close is more than that far below its running peak, no new
 *   entries are made for the rest of the run and an open position is closed at the next open.
 * - A position still open at the last candle is closed at its close (commission, no slippage) and
 *   counted as a trade with exit reason end_of_data. A signal on the last candle is not acted on. */
#ifndef APEX_CORE_BACKTEST_H
#define APEX_CORE_BACKTEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"
#include "core/metrics.h"
#include "core/series.h"
#include "core/strategy.h"

typedef enum {
  APEX_EXIT_SIGNAL,
  APEX_EXIT_STOP_LOSS,
  APEX_EXIT_TAKE_PROFIT,
  APEX_EXIT_MAX_DRAWDOWN,
  APEX_EXIT_END_OF_DATA,
} apex_exit_reason;

/* "signal", "stop_loss", "take_profit", "max_drawdown", "end_of_data". */
const char *apex_exit_reason_name(apex_exit_reason r);

typedef struct apex_bt_trade {
  size_t entry_bar, exit_bar; /* indices into the series */
  int64_t entry_time, exit_time;
  apex_dec qty, entry_price, exit_price;
  apex_dec entry_commission, exit_commission;
  apex_dec gross_pnl; /* exit notional - entry notional */
  apex_dec net_pnl;   /* gross_pnl - both commissions */
  apex_exit_reason reason;
} apex_bt_trade;

typedef struct apex_backtest_opts {
  apex_backtest_config cfg;
  int periods_per_year; /* 365 or 252, see apex_metrics_periods_per_year */
  /* Keep equity at the close of every k-th candle of the run (offsets 0, k, 2k, ...) and of the
   * last one; 0 keeps none, 1 every candle. */
  size_t equity_every;
  /* Called at most every 1 % of the candles with the percent done and the current candle time. */
  void (*progress)(void *ctx, double pct, int64_t time_ms);
  void *progress_ctx;
  /* Memory for the indicator columns and the equity curve (size known at free); NULL: malloc.
   * The CLI and the API pass sys/bigbuf's huge-page allocator: core makes no OS calls itself. */
  void *(*alloc)(size_t bytes);
  void (*free)(void *p, size_t bytes);
  /* Called after every candle with the account at its close (tests, live views); NULL: none. */
  void (*on_bar)(void *ctx, size_t bar, apex_dec cash, apex_dec position, double equity);
  void *on_bar_ctx;
  /* Checked as often as progress is reported; non-zero stops the run with APEX_ECANCELED. */
  const atomic_int *cancel;
  /* Indicators computed candle by candle inside the engine (the paper/live path) instead of in
   * batch before the run; the results are equal, batch is faster. */
  bool streaming;
} apex_backtest_opts;

typedef struct apex_backtest_result {
  apex_metrics metrics;
  apex_bt_trade *trades; /* closed trades in order */
  size_t n_trades;
  size_t first_bar, bars;  /* the candles traded: [first_bar, first_bar + bars) of the series */
  double *equity;          /* n_equity samples (see equity_every), NULL when none were asked for */
  size_t n_equity;
  void (*release)(void *p, size_t bytes); /* frees equity (the run's allocator) */
  apex_dec final_cash;     /* == final equity: the run ends flat */
  apex_dec total_commission;
  size_t fills;
  size_t warmup;           /* candles the rules need before a signal can fire */
  bool halted;             /* max_drawdown_pct was hit */
  int64_t halted_time;
} apex_backtest_result;

/* Fills opts with the strategy document's backtest defaults and 252/365 from its asset. */
void apex_backtest_opts_init(apex_backtest_opts *o, const apex_strategy *st);

/* Runs st over s. out is zeroed first; on success the caller clears it with
 * apex_backtest_result_clear. Errors: APEX_EDATA (no candles in the date range, bad prices),
 * APEX_EINVAL (bad options), APEX_ECANCELED, APEX_ENOMEM, APEX_EOVERFLOW (amounts beyond the
 * decimal range); err says which. On error out holds nothing to free. */
apex_err apex_backtest_run(const apex_strategy *st, const apex_series *s, const apex_backtest_opts *o,
                           apex_backtest_result *out, apex_error *err);
void apex_backtest_result_clear(apex_backtest_result *r);
/* Candle offset (from first_bar) of equity sample i. */
size_t apex_backtest_equity_offset(const apex_backtest_result *r, const apex_backtest_opts *o, size_t i);

#endif
