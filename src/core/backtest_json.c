/* backtest_json.c - Backtest Result fields as JSON (see backtest_json.h). */
#include "core/backtest_json.h"

#include <stdio.h>

#include "core/timeframe.h"

apex_json *apex_backtest_trade_json(const apex_bt_trade *t)
{
  apex_json *e = apex_json_new_object();
  char tb[40];
  apex_err rc = APEX_OK;
  if (!e)
    return NULL;
#define TSET(key, val) (rc = rc ? rc : apex_json_object_set(e, key, val))
  apex_time_iso(t->entry_time, tb, sizeof tb);
  TSET("entry_time", apex_json_new_string(tb));
  apex_time_iso(t->exit_time, tb, sizeof tb);
  TSET("exit_time", apex_json_new_string(tb));
  TSET("side", apex_json_new_string("long"));
  TSET("quantity", apex_json_new_decimal(t->qty));
  TSET("entry_price", apex_json_new_decimal(t->entry_price));
  TSET("exit_price", apex_json_new_decimal(t->exit_price));
  TSET("gross_pnl", apex_json_new_decimal(t->gross_pnl));
  TSET("commission", apex_json_new_decimal(t->entry_commission + t->exit_commission));
  TSET("net_pnl", apex_json_new_decimal(t->net_pnl));
  double notional = apex_dec_to_double(t->qty) * apex_dec_to_double(t->entry_price);
  TSET("return_pct", apex_json_new_number(notional > 0 ? apex_dec_to_double(t->net_pnl) / notional * 100 : 0));
  TSET("bars", t->exit_bar >= t->entry_bar ? apex_json_new_integer((int64_t)(t->exit_bar - t->entry_bar))
                                           : apex_json_new_null());
  TSET("exit_reason", apex_json_new_string(apex_exit_reason_name(t->reason)));
#undef TSET
  if (rc) {
    apex_json_free(e);
    return NULL;
  }
  return e;
}

apex_err apex_backtest_json_fill(apex_json *obj, const apex_backtest_result *r, const apex_series *s,
                                 const apex_backtest_opts *o, size_t max_points)
{
  const apex_metrics *m = &r->metrics;
  apex_json *months = apex_json_new_array(), *curve = apex_json_new_array();
  char tb[40];
  apex_err rc = APEX_OK;
#define SET(key, val) (rc = rc ? rc : apex_json_object_set(obj, key, val))
  SET("final_capital", apex_json_new_decimal(r->final_cash));
  SET("total_return_pct", apex_json_new_number(m->total_return_pct));
  SET("cagr_pct", apex_json_new_number(m->cagr_pct));
  SET("sharpe_ratio", apex_json_new_number(m->sharpe_ratio));
  SET("sortino_ratio", apex_json_new_number(m->sortino_ratio));
  SET("max_drawdown_pct", apex_json_new_number(m->max_drawdown_pct));
  SET("max_drawdown_duration_days", apex_json_new_number((double)m->max_drawdown_duration_ms / (double)APEX_MS_DAY));
  SET("win_rate_pct", apex_json_new_number(m->win_rate_pct));
  SET("total_trades", apex_json_new_integer((int64_t)m->total_trades));
  SET("winning_trades", apex_json_new_integer((int64_t)m->winning_trades));
  SET("losing_trades", apex_json_new_integer((int64_t)m->losing_trades));
  SET("profit_factor", apex_json_new_number(m->profit_factor));
  SET("avg_trade_pct", apex_json_new_number(m->avg_trade_pct));
  SET("best_trade_pct", apex_json_new_number(m->best_trade_pct));
  SET("worst_trade_pct", apex_json_new_number(m->worst_trade_pct));
  SET("exposure_pct", apex_json_new_number(m->exposure_pct));
  SET("total_commission", apex_json_new_decimal(r->total_commission));
  SET("halted_by_max_drawdown", apex_json_new_bool(r->halted));
  for (size_t i = 0; i < m->n_monthly && months; i++) {
    apex_json *e = apex_json_new_object();
    char mb[16];
    snprintf(mb, sizeof mb, "%04d-%02d", m->monthly[i].year, m->monthly[i].month);
    apex_json_object_set(e, "month", apex_json_new_string(mb));
    apex_json_object_set(e, "return_pct", apex_json_new_number(m->monthly[i].return_pct));
    if (apex_json_array_append(months, e))
      rc = APEX_ENOMEM;
  }
  SET("monthly_returns", months);
  size_t step = max_points && r->n_equity > max_points ? (r->n_equity + max_points - 1) / max_points : 1;
  for (size_t k = 0; k < r->n_equity && curve; k += step) {
    size_t i = k + step >= r->n_equity ? r->n_equity - 1 : k; /* always end on the last candle */
    apex_json *e = apex_json_new_object();
    apex_time_iso(s->time[r->first_bar + apex_backtest_equity_offset(r, o, i)], tb, sizeof tb);
    apex_json_object_set(e, "time", apex_json_new_string(tb));
    apex_json_object_set(e, "equity", apex_json_new_number(r->equity[i]));
    if (apex_json_array_append(curve, e))
      rc = APEX_ENOMEM;
  }
  SET("equity_curve", curve);
#undef SET
  return rc;
}
