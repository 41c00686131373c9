/* metrics.h - backtest and live performance metrics, computed once, here, for every mode.
 * An accumulator fed one bar and one closed trade at a time (O(1) per bar, no per-bar storage),
 * so a 10-million-candle backtest and a months-long paper session use the same code.
 * Pure: no I/O, no clock; times are the bars' own (ms since the epoch, UTC). */
#ifndef APEX_CORE_METRICS_H
#define APEX_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* A closed trade as metrics see it (the engine's trade log holds the exact decimals). */
typedef struct apex_metrics_trade {
  int64_t entry_time, exit_time;
  double entry_notional; /* qty x entry price */
  double net_pnl;        /* after all commissions */
} apex_metrics_trade;

typedef struct apex_month_return {
  int year, month; /* month 1..12 */
  double return_pct;
} apex_month_return;

/* Definitions (all times UTC; days and months from integer arithmetic, so pre-1970 times work):
 * - Daily returns: the equity at the last bar of each calendar day; r_d = equity_d / equity_{d-1} - 1,
 *   with the initial capital as the equity before the first day. Bars of a day or longer give one
 *   return per bar; days without bars (weekends) do not appear. The last, possibly partial, day counts.
 *   A day whose previous close is <= 0 (a blown account) adds no return.
 * - Sharpe: mean(r) / sample stdev (n - 1) x sqrt(periods_per_year); 0 with fewer than 2 returns or
 *   a stdev of 0. Sortino: mean(r) / sqrt(sum(min(r, 0)^2) / n) x sqrt(periods_per_year); 0 with
 *   fewer than 2 returns; with no losing day INFINITY if the mean is positive, else 0.
 * - Total return % = (final / initial - 1) x 100; final = the last bar's equity (initial if none).
 *   CAGR % = ((final / initial)^(1 / years) - 1) x 100, years = (last - first bar time) / 365.25
 *   days; 0 if that span is under 1 day or final <= 0.
 * - Max drawdown % = max over bars of (running peak - equity) / running peak x 100; the peak starts
 *   at the initial capital (dated at the first bar). Duration: the longest time from when a peak
 *   was set (or last regained) until equity first got back to it, or until the last bar if never.
 * - Trades: winning if net_pnl > 0, losing if < 0 (0 is neither). Profit factor = sum of positive
 *   net P&L / |sum of negative net P&L|; INFINITY with profits and no losses; 0 with no trades or
 *   no profits. Trade % = net_pnl / |entry_notional| x 100; avg, best, worst are 0 with no trades.
 * - Exposure % = bars in market / bars x 100 (0 with no bars).
 * - Monthly: for each calendar month with bars, equity at its last bar / equity at the previous
 *   month's last bar (initial capital for the first) - 1, x 100; NAN if that base is <= 0.
 * Non-finite results (INFINITY, NAN) are written as null by the JSON layer. */
typedef struct apex_metrics {
  double initial_capital, final_equity;
  double total_return_pct;
  double cagr_pct;               /* over first..last bar time, 365.25-day years; 0 if < 1 day */
  double sharpe_ratio;           /* mean / sample stdev of daily returns x sqrt(periods_per_year); 0 if undefined */
  double sortino_ratio;          /* mean / downside deviation x sqrt(periods_per_year); 0 if undefined */
  double max_drawdown_pct;       /* largest fall from a running peak of equity, percent of that peak */
  int64_t max_drawdown_duration_ms; /* longest time from a peak until equity first regains it (or the end) */
  size_t total_trades, winning_trades, losing_trades;
  double win_rate_pct;           /* winning / total x 100; 0 with no trades */
  double profit_factor;          /* gross profit / gross loss; INFINITY with profits and no losses, 0 with no trades */
  double avg_trade_pct, best_trade_pct, worst_trade_pct; /* net P&L / entry notional x 100 */
  double exposure_pct;           /* bars with a position / all bars x 100 */
  size_t bars;
  apex_month_return *monthly;    /* calendar months (UTC) in order; owned, see apex_metrics_clear */
  size_t n_monthly;
} apex_metrics;

typedef struct apex_metrics_acc apex_metrics_acc; /* opaque */

/* periods_per_year: 365 for crypto pairs (24/7), 252 for stocks. NULL on OOM or bad arguments
 * (initial_capital not finite and > 0, periods_per_year < 1). */
apex_metrics_acc *apex_metrics_acc_new(double initial_capital, int periods_per_year);
void apex_metrics_acc_free(apex_metrics_acc *acc); /* NULL is a no-op */
/* One bar's closing equity, in time order; in_market: a position was held at this bar's close.
 * APEX_EINVAL (acc unchanged) if time_ms is before the previous bar's (equal is fine) or equity is
 * not finite; APEX_ENOMEM (acc unchanged) if a new month's entry cannot be allocated. */
apex_err apex_metrics_acc_bar(apex_metrics_acc *acc, int64_t time_ms, double equity, bool in_market);
/* APEX_EINVAL (acc unchanged) if net_pnl or entry_notional is not finite or entry_notional is 0. */
apex_err apex_metrics_acc_trade(apex_metrics_acc *acc, const apex_metrics_trade *t);
/* Fills out (the caller owns out->monthly afterwards; free it with apex_metrics_clear). The
 * accumulator stays usable: finishing again later gives the metrics up to that later bar.
 * out is overwritten, not freed; on APEX_ENOMEM it is zeroed (monthly NULL). APEX_EINVAL on NULL. */
apex_err apex_metrics_acc_finish(const apex_metrics_acc *acc, apex_metrics *out);
void apex_metrics_clear(apex_metrics *m); /* frees m->monthly; NULL is a no-op */

/* 365 for pairs quoted in a crypto asset or stablecoin (BTC/USDT, ETH-BTC, SOL/USD from a crypto
 * venue is ambiguous: a '/' pair is treated as crypto), 252 otherwise (AAPL, ORCL). Rules: the
 * name contains '/'; or, on the part after the last ':' (a venue prefix: BINANCE:BTCUSDT,
 * NASDAQ:AAPL), it has a '-' followed by 3+ characters (BTC-USD, but not the share classes BRK-B,
 * BAC-PL) or ends in USDT or USDC, any case (BTCUSDT). NULL gives 252. */
int apex_metrics_periods_per_year(const char *asset);

#endif
