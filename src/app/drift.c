/* drift.c - a running (or stopped) strategy's real fills against a backtest of the same strategy
 * over the same stored candles, with the run's capital and costs (GET /strategies/{id}/drift).
 *
 * The backtest is what the run's engine would have done had every order filled as the fill model
 * says (next open, slippage, commission); the real fills are the venue's (live) or the paper
 * broker's (paper: these equal the backtest, so a paper run's drift is zero, which the tests use
 * as a check). Round trips are paired in order: the i-th real buy-then-sell with the i-th
 * simulated trade. Prices differ in basis points (positive: worse for the trader), times in ms
 * (real minus simulated; on a replayed feed the real times are the wall clock's, so only prices
 * and fees compare). A position still open is listed, not compared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/ids.h"
#include "core/backtest.h"
#include "core/strategy.h"
#include "core/timeframe.h"

typedef struct leg {
  int64_t entry_time, exit_time;
  apex_dec qty, entry_price, exit_price, fees, pnl; /* fees and pnl in the quote currency */
  bool closed;
} leg;

/* The run's filled orders, oldest fill first, as round trips: a BUY opens, a SELL closes. Fees
 * paid in the base asset are valued at that fill's price. */
static size_t round_trips(const apex_portfolio_trade_row *t, const char *const *fee_ccy, size_t n, const char *base,
                          leg *out, size_t cap)
{
  size_t k = 0;
  leg cur = {0};
  bool open = false;
  for (size_t i = 0; i < n; i++) {
    if (!t[i].filled_quantity || t[i].filled_price == APEX_DEC_NONE)
      continue;
    apex_dec fee = t[i].commission, v;
    if (fee_ccy && fee_ccy[i] && !strcmp(fee_ccy[i], base) && !apex_dec_mul(fee, t[i].filled_price, &v))
      fee = v;
    if (!strcmp(t[i].side, "BUY")) {
      if (!open)
        cur = (leg){.entry_time = t[i].filled_at, .qty = t[i].filled_quantity, .entry_price = t[i].filled_price,
                    .fees = fee};
      open = true;
      continue;
    }
    if (!open || k == cap)
      continue;
    cur.exit_time = t[i].filled_at;
    cur.exit_price = t[i].filled_price;
    cur.fees += fee;
    cur.closed = true;
    apex_dec gross = 0, in = 0, outv = 0;
    if (!apex_dec_mul(cur.exit_price, t[i].filled_quantity, &outv) && !apex_dec_mul(cur.entry_price, cur.qty, &in))
      gross = outv - in;
    cur.pnl = gross - cur.fees;
    out[k++] = cur;
    open = false;
  }
  if (open && k < cap)
    out[k++] = cur;
  return k;
}

/* (real - sim) / sim in basis points, signed so that positive is worse for a long trader: a dearer
 * entry, a cheaper exit. */
static double bps(apex_dec real, apex_dec sim, bool entry)
{
  if (sim <= 0)
    return 0;
  double d = (apex_dec_to_double(real) - apex_dec_to_double(sim)) / apex_dec_to_double(sim) * 10000.0;
  return entry ? d : -d;
}

static apex_json *leg_json(const leg *l)
{
  apex_json *j = apex_json_new_object();
  if (!j)
    return NULL;
  apex_json_object_set(j, "entry_time", l->entry_time ? apex_app_json_time(l->entry_time) : apex_json_new_null());
  apex_json_object_set(j, "entry_price", apex_json_new_decimal(l->entry_price));
  apex_json_object_set(j, "quantity", apex_json_new_decimal(l->qty));
  apex_json_object_set(j, "exit_time", l->closed ? apex_app_json_time(l->exit_time) : apex_json_new_null());
  apex_json_object_set(j, "exit_price", l->closed ? apex_json_new_decimal(l->exit_price) : apex_json_new_null());
  apex_json_object_set(j, "fees", apex_json_new_decimal(l->fees));
  apex_json_object_set(j, "pnl", l->closed ? apex_json_new_decimal(l->pnl) : apex_json_new_null());
  return j;
}

/* Paper fills in the order they happened: by fill time, a buy before a sell of the same time (a
 * position opened at a candle's open and stopped out within it); unfilled rows, never counted, first. */
static int by_fill(const void *a, const void *b)
{
  const apex_portfolio_trade_row *x = a, *y = b;
  if (x->filled_at != y->filled_at)
    return x->filled_at < y->filled_at ? -1 : 1;
  return strcmp(x->side, y->side); /* "BUY" < "SELL" */
}

/* The real orders of the run: a live run's own orders, a paper run's trades rows of its strategy
 * from its first traded candle on. *fee_ccy parallel (live: the fee's asset; paper: NULL). */
static apex_err real_fills(apex_app *app, const apex_run_row *run, apex_portfolio_trade_row **rows, char ***fee_ccy,
                           size_t *n, apex_app_error *e)
{
  apex_error err;
  *rows = NULL;
  *fee_ccy = NULL;
  *n = 0;
  if (!strcmp(run->mode, "live")) {
    apex_live_order_row *lo = NULL;
    size_t k = 0;
    if (apex_store_live_orders(app->store, run->id, false, &lo, &k, &err))
      return apex_app_store_failed(e, &err);
    apex_portfolio_trade_row *t = calloc(k ? k : 1, sizeof *t);
    char **f = calloc(k ? k : 1, sizeof *f);
    for (size_t i = 0; t && f && i < k; i++) {
      t[i] = lo[i].t;
      f[i] = strdup(lo[i].fee_currency);
    }
    free(lo);
    if (!t || !f) {
      free(t);
      free(f);
      return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
    }
    *rows = t;
    *fee_ccy = f;
    *n = k;
    return APEX_OK;
  }
  enum { PAGE = 500, MAX_PAGES = 40 };
  apex_portfolio_trade_row *all = NULL, *page = calloc(PAGE, sizeof *page);
  size_t total_n = 0;
  if (!page)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  for (int p = 1; p <= MAX_PAGES; p++) {
    size_t got = 0;
    int64_t total = 0;
    if (apex_store_portfolio_trades(app->store, run->user_id, run->portfolio_id, p, PAGE, page, &got, &total, &err)) {
      free(page);
      free(all);
      return apex_app_store_failed(e, &err);
    }
    apex_portfolio_trade_row *grown = realloc(all, (total_n + got + 1) * sizeof *all);
    if (!grown) {
      free(page);
      free(all);
      return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
    }
    all = grown;
    for (size_t i = 0; i < got; i++)
      if (!strcmp(page[i].strategy_id, run->strategy_id) && page[i].created_at >= run->start_time)
        all[total_n++] = page[i];
    if (got < PAGE)
      break;
  }
  free(page);
  qsort(all, total_n, sizeof *all, by_fill);
  *rows = all;
  *n = total_n;
  return APEX_OK;
}

apex_err apex_app_strategy_drift(apex_app *app, const char *user_id, const char *id, apex_json **out,
                                 apex_app_error *e)
{
  apex_error err;
  apex_run_row run = {0};
  apex_strategy *st = NULL;
  apex_problems probs = {0};
  apex_series *s = NULL;
  apex_backtest_result res = {0};
  apex_portfolio_trade_row *rows = NULL;
  char **fee_ccy = NULL;
  size_t n = 0, first = 0;
  leg *real = NULL;
  apex_json *j = NULL, *per = NULL;
  apex_err rc = APEX_EINVAL;
  *out = NULL;
  if (!apex_app_id_ok(id))
    return apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %.40s", id);
  apex_err src = apex_store_run_latest(app->store, user_id, id, &run, &err);
  if (src == APEX_ENOTFOUND)
    return apex_app_raise(e, APEX_E_NOT_FOUND, "strategy %s has never been activated (or is not yours)", id);
  if (src)
    return apex_app_store_failed(e, &err);
  if (apex_strategy_parse(run.definition, strlen(run.definition), &st, &probs)) {
    apex_app_raise(e, APEX_E_STRATEGY_INVALID_RULES, "the run's strategy document no longer validates");
    goto out;
  }
  if (!(j = apex_json_new_object()) || !(per = apex_json_new_array())) {
    apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
    goto out;
  }
  apex_json_object_set(j, "strategy_id", apex_json_new_string(run.strategy_id));
  apex_json_object_set(j, "run_id", apex_json_new_string(run.id));
  apex_json_object_set(j, "mode", apex_json_new_string(run.mode));
  apex_json_object_set(j, "symbol", apex_json_new_string(run.symbol));
  apex_json_object_set(j, "timeframe", apex_json_new_string(run.timeframe));

  /* The backtest over the candles the run stepped. */
  size_t n_sim = 0;
  const apex_bt_trade *sim = NULL;
  if (run.last_time && run.start_time) {
    apex_timeframe tf;
    if (apex_timeframe_parse(run.timeframe, &tf, NULL)) {
      apex_app_raise(e, APEX_E_VALIDATION, "the run's timeframe %s is not valid", run.timeframe);
      goto out;
    }
    if (apex_app_market_candles(app, run.symbol, run.timeframe, run.warm_from, run.last_time + apex_timeframe_ms(tf), 0,
                                &s, &first, e))
      goto out;
    apex_series_slice(s, first, s->n); /* the candles the run stepped, warm-up included, no more */
    apex_backtest_opts o;
    apex_backtest_opts_init(&o, st);
    o.cfg.start_ms = run.start_time;
    o.cfg.end_ms = run.last_time + apex_timeframe_ms(tf);
    o.cfg.initial_capital = apex_dec_to_double(run.capital);
    o.cfg.commission_pct = apex_dec_to_double(run.commission_pct);
    o.cfg.slippage_pct = apex_dec_to_double(run.slippage_pct);
    o.streaming = true;
    if (apex_backtest_run(st, s, &o, &res, &err)) {
      apex_app_raise(e, APEX_E_BACKTEST_INSUFFICIENT_DATA, "the run's candles cannot be backtested: %s", err.msg);
      goto out;
    }
    sim = res.trades;
    n_sim = res.n_trades;
  }
  if ((rc = real_fills(app, &run, &rows, &fee_ccy, &n, e)))
    goto out;
  rc = APEX_EINVAL;
  char base[APEX_MARKET_ASSET_MAX + 1] = "";
  const char *slash = strchr(run.symbol, '/');
  snprintf(base, sizeof base, "%.*s", slash ? (int)(slash - run.symbol) : (int)strlen(run.symbol), run.symbol);
  if (!(real = calloc(n ? n : 1, sizeof *real))) {
    apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
    goto out;
  }
  size_t n_real = round_trips(rows, (const char *const *)fee_ccy, n, base, real, n ? n : 1);

  apex_dec pnl_sim = 0, pnl_real = 0, fees_sim = 0, fees_real = 0;
  double entry_bps = 0, exit_bps = 0;
  size_t matched = 0, sim_closed = 0;
  const size_t rounds = n_real > n_sim ? n_real : n_sim;
  for (size_t i = 0; i < rounds; i++) {
    /* The backtest closes a position still open at its last candle (end_of_data); the run holds it. */
    const bool sim_ok = i < n_sim && sim[i].reason != APEX_EXIT_END_OF_DATA;
    leg sl = {0};
    if (i < n_sim) {
      sl = (leg){.entry_time = sim[i].entry_time, .exit_time = sim[i].exit_time, .qty = sim[i].qty,
                 .entry_price = sim[i].entry_price, .exit_price = sim[i].exit_price,
                 .fees = sim[i].entry_commission + sim[i].exit_commission, .pnl = sim[i].net_pnl, .closed = sim_ok};
    }
    apex_json *row = apex_json_new_object();
    if (!row)
      continue;
    apex_json_object_set(row, "n", apex_json_new_integer((int64_t)i + 1));
    apex_json_object_set(row, "backtest", i < n_sim ? leg_json(&sl) : apex_json_new_null());
    apex_json_object_set(row, "real", i < n_real ? leg_json(&real[i]) : apex_json_new_null());
    if (sim_ok) {
      sim_closed++;
      pnl_sim += sl.pnl;
      fees_sim += sl.fees;
    }
    if (i < n_real && real[i].closed) {
      pnl_real += real[i].pnl;
      fees_real += real[i].fees;
    }
    if (i < n_sim && i < n_real) {
      const double eb = bps(real[i].entry_price, sl.entry_price, true);
      apex_json_object_set(row, "entry_price_diff_bps", apex_json_new_number(eb));
      apex_json_object_set(row, "entry_time_diff_ms", apex_json_new_integer(real[i].entry_time - sl.entry_time));
      if (sim_ok && real[i].closed) {
        const double xb = bps(real[i].exit_price, sl.exit_price, false);
        matched++;
        entry_bps += eb;
        exit_bps += xb;
        apex_json_object_set(row, "exit_price_diff_bps", apex_json_new_number(xb));
        apex_json_object_set(row, "exit_time_diff_ms", apex_json_new_integer(real[i].exit_time - sl.exit_time));
        apex_json_object_set(row, "fees_diff", apex_json_new_decimal(real[i].fees - sl.fees));
        apex_json_object_set(row, "pnl_diff", apex_json_new_decimal(real[i].pnl - sl.pnl));
      }
    }
    apex_json_array_append(per, row);
  }
  apex_json *tot = apex_json_new_object();
  if (tot) {
    apex_json_object_set(tot, "backtest_trades", apex_json_new_integer((int64_t)sim_closed));
    apex_json_object_set(tot, "real_trades", apex_json_new_integer((int64_t)n_real));
    apex_json_object_set(tot, "matched", apex_json_new_integer((int64_t)matched));
    apex_json_object_set(tot, "backtest_pnl", apex_json_new_decimal(pnl_sim));
    apex_json_object_set(tot, "real_pnl", apex_json_new_decimal(pnl_real));
    apex_json_object_set(tot, "pnl_diff", apex_json_new_decimal(pnl_real - pnl_sim));
    apex_json_object_set(tot, "backtest_fees", apex_json_new_decimal(fees_sim));
    apex_json_object_set(tot, "real_fees", apex_json_new_decimal(fees_real));
    apex_json_object_set(tot, "avg_entry_diff_bps", apex_json_new_number(matched ? entry_bps / (double)matched : 0));
    apex_json_object_set(tot, "avg_exit_diff_bps", apex_json_new_number(matched ? exit_bps / (double)matched : 0));
  }
  apex_json_object_set(j, "total", tot);
  apex_json_object_set(j, "trades", per);
  per = NULL;
  *out = j;
  j = NULL;
  rc = APEX_OK;
out:
  for (size_t i = 0; fee_ccy && i < n; i++)
    free(fee_ccy[i]);
  free(fee_ccy);
  free(rows);
  free(real);
  apex_json_free(per);
  apex_json_free(j);
  apex_backtest_result_clear(&res);
  apex_series_free(s);
  apex_strategy_free(st);
  apex_run_row_clear(&run);
  return rc;
}
