/* backtest_json.h - the spec's Backtest Result fields (3.2.3) of a run as JSON, written once here for
 * the CLI (`backtest --json`) and the API (stored results). */
#ifndef APEX_CORE_BACKTEST_JSON_H
#define APEX_CORE_BACKTEST_JSON_H

#include "base/json.h"
#include "core/backtest.h"

/* Sets on obj: final_capital and total_commission (decimal strings), the metrics (total_return_pct,
 * cagr_pct, sharpe_ratio, sortino_ratio, max_drawdown_pct, max_drawdown_duration_days,
 * win_rate_pct, total_trades, winning_trades, losing_trades, profit_factor, avg_trade_pct,
 * best_trade_pct, worst_trade_pct, exposure_pct), halted_by_max_drawdown, monthly_returns
 * [{month: "YYYY-MM", return_pct}] and equity_curve [{time, equity}] with at most max_points of
 * r's samples, evenly spaced and ending on the last candle. Non-finite numbers become null. */
apex_err apex_backtest_json_fill(apex_json *obj, const apex_backtest_result *r, const apex_series *s,
                                 const apex_backtest_opts *o, size_t max_points);

/* One trade of the trade log, the one form for `backtest --json` and GET /backtests/{id}/trades:
 * entry_time, exit_time (ISO 8601), side, quantity, entry_price, exit_price, gross_pnl,
 * commission (both fills), net_pnl (decimal strings), return_pct (net P&L over the entry notional),
 * bars (candles held; null when t->exit_bar < t->entry_bar, i.e. unknown, as for a stored trade)
 * and exit_reason. NULL on OOM. */
apex_json *apex_backtest_trade_json(const apex_bt_trade *t);

#endif
