/* activation.c - a strategy put to work: activation starts a run on one of the user's portfolios
 * (the document and the capital fixed at that moment), deactivation stops it; the runner
 * (runner.c) does the trading. Also what a run shows: its state and its risk refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/ids.h"
#include "app/runner.h"
#include "core/strategy.h"
#include "core/timeframe.h"
#include "market/market.h"

static apex_json *dec_or_null(apex_dec d) { return d == APEX_DEC_NONE ? apex_json_new_null() : apex_json_new_decimal(d); }


/* capital: a decimal string or a number, > 0. */
static apex_err read_capital(const apex_json *v, apex_dec *out, apex_app_error *e)
{
  const char *s = apex_json_string_value(v);
  if (s ? apex_dec_from_str(s, out) != APEX_OK
        : !apex_json_is_number(v) || apex_dec_from_double(apex_json_number_value(v), out) != APEX_OK)
    return apex_app_invalid(e, "/capital", "must be a decimal number (string or number)");
  if (*out <= 0)
    return apex_app_invalid(e, "/capital", "must be greater than 0");
  return APEX_OK;
}

/* Without a portfolio_id the strategy trades the user's only paper portfolio; a user with none gets
 * one ("Paper trading", 10,000 USD, the spec's default capital), so `{"mode": "paper"}` alone works;
 * with several the caller must choose. */
static apex_err default_portfolio(apex_app *app, const char *user_id, apex_portfolio_row *pf, apex_app_error *e)
{
  enum { MAX = 100 };
  apex_error err;
  size_t n = 0, paper = 0;
  int64_t total = 0;
  apex_page page = {.page = 1, .limit = MAX, .desc = false};
  apex_portfolio_row *rows = calloc(MAX, sizeof *rows);
  if (!rows)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  apex_err rc = apex_store_portfolio_list(app->store, user_id, &page, rows, &n, &total, &err);
  if (rc) {
    apex_app_store_failed(e, &err);
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    if (rows[i].is_paper && paper++ == 0)
      *pf = rows[i];
  if (paper > 1 || total > MAX) {
    rc = apex_app_invalid(e, "/portfolio_id",
                          "is required: you have several paper portfolios, name the one to trade");
    goto out;
  }
  if (paper == 0) {
    static const char body[] = "{\"name\": \"Paper trading\", \"base_currency\": \"USD\", \"initial_balance\": 10000}";
    rc = apex_app_portfolio_create(app, user_id, body, sizeof body - 1, pf, e);
  }
out:
  free(rows);
  return rc;
}

apex_err apex_app_strategy_activate(apex_app *app, const char *user_id, const char *id, const apex_json *body,
                                    apex_strategy_row *out, apex_app_error *e)
{
  *out = (apex_strategy_row){0};
  apex_error err;
  apex_portfolio_row pf = {0};
  apex_strategy *st = NULL;
  apex_problems probs = {0};
  apex_err rc = APEX_EINVAL;
  const apex_json *m = body ? apex_json_object_get(body, "mode") : NULL;
  const char *mode = m ? apex_json_string_value(m) : "paper";
  const apex_json *pv = body ? apex_json_object_get(body, "portfolio_id") : NULL;
  const char *portfolio_id = pv ? apex_json_string_value(pv) : NULL;
  const apex_json *cv = body ? apex_json_object_get(body, "capital") : NULL;
  apex_dec capital = 0;

  if (!mode || (strcmp(mode, "paper") && strcmp(mode, "live")))
    return apex_app_invalid(e, "/mode", "must be \"paper\" or \"live\"");
  if (!strcmp(mode, "live") && !app->settings.live_trading)
    return apex_app_raise(e, APEX_E_FORBIDDEN,
                          "live trading is off on this server (FEATURE_LIVE_TRADING=true enables it)");
  if (!strcmp(mode, "live"))
    return apex_app_raise(e, APEX_E_NOT_IMPLEMENTED, "live trading needs a venue's private API, which this "
                                                     "server does not have yet: activate in paper mode");
  if (pv && !portfolio_id)
    return apex_app_invalid(e, "/portfolio_id", "must be the id of one of your paper portfolios");
  if (cv && (rc = read_capital(cv, &capital, e)))
    return rc;
  if (apex_app_strategy_get(app, user_id, id, out, e))
    return APEX_EINVAL;
  if (!strcmp(out->status, "active"))
    return apex_app_raise(e, APEX_E_STRATEGY_ALREADY_ACTIVE, "strategy %s is already active (%s)", id,
                          out->trading_mode);
  if (!portfolio_id) {
    if ((rc = default_portfolio(app, user_id, &pf, e)))
      return rc;
  } else if (!apex_app_id_ok(portfolio_id) ||
             apex_store_portfolio_get(app->store, user_id, portfolio_id, &pf, &err)) {
    return apex_app_raise(e, APEX_E_NOT_FOUND, "no portfolio %.40s", portfolio_id);
  }
  portfolio_id = pf.id;
  rc = APEX_EINVAL;
  if (!pf.is_paper) {
    apex_app_raise(e, APEX_E_CONFLICT, "portfolio %s is a live portfolio: paper strategies trade paper portfolios",
                   portfolio_id);
    goto out;
  }
  if (!capital)
    capital = pf.cash_balance;
  if (capital <= 0 || capital > pf.cash_balance) {
    apex_app_raise(e, APEX_E_EXECUTION_INSUFFICIENT_FUNDS, "the portfolio's cash is %.2f %s; the run needs more than 0 "
                   "and at most that", apex_dec_to_double(pf.cash_balance), pf.base_currency);
    goto out;
  }
  if (apex_strategy_parse(out->definition, strlen(out->definition), &st, &probs)) {
    apex_app_raise(e, APEX_E_STRATEGY_INVALID_RULES, "the stored strategy no longer validates");
    goto out;
  }
  /* The quote currency: after the slash of "BASE/QUOTE"; a stock's ticker alone ("ORCL") trades in
   * dollars. (market/symbol.c validates pairs for the venues; app links no market code.) */
  char quote[APEX_MARKET_ASSET_MAX + 1];
  const char *slash = strchr(st->asset, '/');
  snprintf(quote, sizeof quote, "%s", slash ? slash + 1 : "USD");
  if (!quote[0] || strspn(quote, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(quote) ||
      (slash && strlen(slash + 1) > APEX_MARKET_ASSET_MAX)) {
    apex_app_raise(e, APEX_E_VALIDATION, "the strategy's asset %s is not a BASE/QUOTE pair (e.g. BTC/USDT)",
                   st->asset);
    goto out;
  }
  apex_dec rate, cap_quote;
  int64_t rate_day;
  const int64_t now = app->now_ms();
  if (apex_app_fx_rate(app, pf.base_currency, quote, now, &rate, &rate_day, e))
    goto out;
  if (apex_dec_mul(capital, rate, &cap_quote) || cap_quote <= 0) {
    apex_app_raise(e, APEX_E_VALIDATION, "the capital converted to %s is out of range", quote);
    goto out;
  }
  apex_run_row run = {0};
  if (apex_app_new_id(run.id)) {
    apex_app_raise(e, APEX_E_INTERNAL, "no randomness for an id");
    goto out;
  }
  snprintf(run.strategy_id, sizeof run.strategy_id, "%s", out->id);
  snprintf(run.user_id, sizeof run.user_id, "%s", user_id);
  snprintf(run.portfolio_id, sizeof run.portfolio_id, "%s", pf.id);
  snprintf(run.mode, sizeof run.mode, "%s", mode);
  snprintf(run.symbol, sizeof run.symbol, "%s", st->asset);
  snprintf(run.timeframe, sizeof run.timeframe, "%s", st->timeframe_text);
  run.definition = out->definition;
  snprintf(run.quote_currency, sizeof run.quote_currency, "%s", quote);
  snprintf(run.base_currency, sizeof run.base_currency, "%s", pf.base_currency);
  run.fx_rate = rate;
  run.capital = cap_quote;
  if (apex_dec_from_double(st->backtest.commission_pct, &run.commission_pct) ||
      apex_dec_from_double(st->backtest.slippage_pct, &run.slippage_pct)) {
    apex_app_raise(e, APEX_E_VALIDATION, "commission or slippage out of range");
    goto out;
  }
  run.created_at = now;
  apex_err src = apex_store_run_insert(app->store, &run, &err);
  if (src == APEX_ECONFLICT) {
    apex_app_raise(e, APEX_E_STRATEGY_ALREADY_ACTIVE, "strategy %s is already running", id);
    goto out;
  }
  if (src) {
    apex_app_store_failed(e, &err);
    goto out;
  }
  snprintf(out->status, sizeof out->status, "active");
  snprintf(out->trading_mode, sizeof out->trading_mode, "%s", mode);
  out->activated_at = out->updated_at = now;
  if (apex_store_strategy_update(app->store, out, &err)) {
    (void)apex_store_run_stop(app->store, run.id, "failed", "the strategy could not be marked active", now, &err);
    apex_app_store_failed(e, &err);
    goto out;
  }
  apex_runner_notify(app->runner);
  if (app->sync_on_activate) {
    /* On a live feed the run warms up on what is stored when its first candle closes: fetch the
     * pair's history now (the runner's warm-up is at most 5,000 candles). A job that cannot be
     * queued leaves the run warming up on less. */
    apex_timeframe tf;
    apex_app_sync s;
    apex_app_error e2 = {0};
    if (!apex_timeframe_parse(run.timeframe, &tf, NULL))
      (void)apex_app_market_sync_start(app, user_id, run.symbol, run.timeframe, now - 5000 * apex_timeframe_ms(tf),
                                       &s, &e2);
  }
  rc = APEX_OK;
out:
  apex_strategy_free(st);
  apex_portfolio_row_clear(&pf);
  return rc;
}

apex_err apex_app_strategy_deactivate(apex_app *app, const char *user_id, const char *id, apex_strategy_row *out,
                                      apex_app_error *e)
{
  *out = (apex_strategy_row){0};
  apex_error err;
  apex_run_row run = {0};
  if (apex_app_strategy_get(app, user_id, id, out, e))
    return APEX_EINVAL;
  if (strcmp(out->status, "active"))
    return apex_app_raise(e, APEX_E_CONFLICT, "strategy %s is %s, not active", id, out->status);
  const int64_t now = app->now_ms();
  if (!apex_store_run_latest(app->store, user_id, id, &run, &err) && !strcmp(run.status, "running") &&
      apex_store_run_stop(app->store, run.id, "stopped", "", now, &err) == APEX_EIO) {
    apex_run_row_clear(&run);
    return apex_app_store_failed(e, &err);
  }
  apex_run_row_clear(&run);
  apex_runner_notify(app->runner);
  snprintf(out->status, sizeof out->status, "paused");
  out->updated_at = now;
  apex_err rc = apex_store_strategy_update(app->store, out, &err);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

static apex_json *opt_time(int64_t t) { return t ? apex_app_json_time(t) : apex_json_new_null(); }

apex_err apex_app_strategy_run(apex_app *app, const char *user_id, const char *id, apex_json **out, apex_app_error *e)
{
  apex_error err;
  apex_run_row r = {0};
  *out = NULL;
  if (!apex_app_id_ok(id))
    return apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %.40s", id);
  apex_err rc = apex_store_run_latest(app->store, user_id, id, &r, &err);
  if (rc == APEX_ENOTFOUND)
    return apex_app_raise(e, APEX_E_NOT_FOUND, "strategy %s has never been activated (or is not yours)", id);
  if (rc)
    return apex_app_store_failed(e, &err);
  apex_json *j = apex_json_new_object();
  if (j) {
    apex_json_object_set(j, "id", apex_json_new_string(r.id));
    apex_json_object_set(j, "strategy_id", apex_json_new_string(r.strategy_id));
    apex_json_object_set(j, "portfolio_id", apex_json_new_string(r.portfolio_id));
    apex_json_object_set(j, "mode", apex_json_new_string(r.mode));
    apex_json_object_set(j, "status", apex_json_new_string(r.status));
    apex_json_object_set(j, "symbol", apex_json_new_string(r.symbol));
    apex_json_object_set(j, "timeframe", apex_json_new_string(r.timeframe));
    apex_json_object_set(j, "capital", dec_or_null(r.capital));
    apex_json_object_set(j, "quote_currency", apex_json_new_string(r.quote_currency));
    apex_json_object_set(j, "base_currency", apex_json_new_string(r.base_currency));
    apex_json_object_set(j, "fx_rate", dec_or_null(r.fx_rate));
    apex_json_object_set(j, "fx_note", apex_json_new_string(
                                           "capital converted from the portfolio's currency at the ECB reference rate "
                                           "of the activation day; USDT, USDC, BUSD and FDUSD are taken as USD"));
    apex_json_object_set(j, "commission_pct", apex_json_new_number(apex_dec_to_double(r.commission_pct)));
    apex_json_object_set(j, "slippage_pct", apex_json_new_number(apex_dec_to_double(r.slippage_pct)));
    apex_json_object_set(j, "warm_from", opt_time(r.warm_from));
    apex_json_object_set(j, "start_time", opt_time(r.start_time));
    apex_json_object_set(j, "last_candle_time", opt_time(r.last_time));
    apex_json_object_set(j, "candles", apex_json_new_integer(r.candles));
    apex_json_object_set(j, "error", r.error[0] ? apex_json_new_string(r.error) : apex_json_new_null());
    apex_json_object_set(j, "created_at", apex_app_json_time(r.created_at));
    apex_json_object_set(j, "stopped_at", opt_time(r.stopped_at));
  }
  apex_run_row_clear(&r);
  if (!j)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  *out = j;
  return APEX_OK;
}

apex_err apex_app_strategy_refusals(apex_app *app, const char *user_id, const char *id, const apex_page *p,
                                    apex_json **items, int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  if (!apex_app_id_ok(id))
    return apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %.40s", id);
  apex_risk_event_row *rows = calloc((size_t)p->limit, sizeof *rows);
  if (!rows)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  apex_err rc = apex_store_risk_events(app->store, user_id, id, p->page, p->limit, rows, &n, total, &err);
  if (rc == APEX_ENOTFOUND)
    rc = apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %.40s", id);
  else if (rc)
    rc = apex_app_store_failed(e, &err);
  apex_json *arr = rc ? NULL : apex_json_new_array();
  for (size_t i = 0; arr && i < n; i++) {
    apex_json *j = apex_json_new_object();
    apex_json_object_set(j, "time", apex_app_json_time(rows[i].time));
    apex_json_object_set(j, "kind", apex_json_new_string(rows[i].kind));
    apex_json_object_set(j, "detail", apex_json_new_string(rows[i].detail));
    apex_json_object_set(j, "quantity", dec_or_null(rows[i].quantity));
    apex_json_object_set(j, "run_id", apex_json_new_string(rows[i].run_id));
    apex_json_object_set(j, "portfolio_id", apex_json_new_string(rows[i].portfolio_id));
    apex_json_array_append(arr, j);
  }
  free(rows);
  if (!rc && !arr)
    rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  *items = arr;
  return rc;
}
