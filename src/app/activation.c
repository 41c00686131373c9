/* activation.c - a strategy put to work: activation starts a run on one of the user's portfolios
 * (the document and the capital fixed at that moment), deactivation stops it; the runner
 * (runner.c) does the trading. Also what a run shows: its state and its risk refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/ids.h"
#include "app/runner.h"
#include "core/fx.h"
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

/* The run stored, the strategy marked active, the runner told; on a live feed the pair's history
 * fetched for the warm-up. */
static apex_err begin_run(apex_app *app, const char *user_id, const apex_run_row *run, apex_strategy_row *out,
                          apex_app_error *e)
{
  apex_error err;
  const int64_t now = run->created_at;
  apex_err src = apex_store_run_insert(app->store, run, &err);
  if (src == APEX_ECONFLICT)
    return apex_app_raise(e, APEX_E_STRATEGY_ALREADY_ACTIVE, "strategy %s is already running", out->id);
  if (src)
    return apex_app_store_failed(e, &err);
  snprintf(out->status, sizeof out->status, "active");
  snprintf(out->trading_mode, sizeof out->trading_mode, "%s", run->mode);
  out->activated_at = out->updated_at = now;
  if (apex_store_strategy_update(app->store, out, &err)) {
    (void)apex_store_run_stop(app->store, run->id, "failed", "the strategy could not be marked active", now, &err);
    return apex_app_store_failed(e, &err);
  }
  apex_runner_notify(app->runner);
  if (app->sync_on_activate) {
    /* On a live feed the run warms up on what is stored when its first candle closes: fetch the
     * pair's history now (the runner's warm-up is at most 5,000 candles). A job that cannot be
     * queued leaves the run warming up on less. */
    apex_timeframe tf;
    apex_app_sync s;
    apex_app_error e2 = {0};
    if (!apex_timeframe_parse(run->timeframe, &tf, NULL))
      (void)apex_app_market_sync_start(app, user_id, run->symbol, run->timeframe, now - 5000 * apex_timeframe_ms(tf),
                                       &s, &e2);
  }
  return APEX_OK;
}

/* A run's fields that do not depend on its mode. */
static apex_err run_fields(const apex_strategy_row *st_row, const apex_strategy *st, const char *user_id,
                           const char *mode, apex_run_row *run, apex_app_error *e)
{
  if (apex_app_new_id(run->id))
    return apex_app_raise(e, APEX_E_INTERNAL, "no randomness for an id");
  snprintf(run->strategy_id, sizeof run->strategy_id, "%s", st_row->id);
  snprintf(run->user_id, sizeof run->user_id, "%s", user_id);
  snprintf(run->mode, sizeof run->mode, "%s", mode);
  snprintf(run->symbol, sizeof run->symbol, "%s", st->asset);
  snprintf(run->timeframe, sizeof run->timeframe, "%s", st->timeframe_text);
  run->definition = st_row->definition;
  if (apex_dec_from_double(st->backtest.commission_pct, &run->commission_pct) ||
      apex_dec_from_double(st->backtest.slippage_pct, &run->slippage_pct))
    return apex_app_raise(e, APEX_E_VALIDATION, "commission or slippage out of range");
  return APEX_OK;
}

/* An optional positive amount of the body (0 when absent). */
static apex_err opt_amount(const apex_json *body, const char *key, apex_dec *out, apex_app_error *e)
{
  const apex_json *v = body ? apex_json_object_get(body, key) : NULL;
  char ptr[64];
  *out = 0;
  if (!v || apex_json_is_null(v))
    return APEX_OK;
  snprintf(ptr, sizeof ptr, "/%s", key);
  const char *s = apex_json_string_value(v);
  if ((s ? apex_dec_from_str(s, out) != APEX_OK
         : !apex_json_is_number(v) || apex_dec_from_double(apex_json_number_value(v), out) != APEX_OK) ||
      *out <= 0)
    return apex_app_invalid(e, ptr, "must be a decimal number greater than 0");
  return APEX_OK;
}

/* The user's live portfolio of this broker key (its broker field is the key's id), made on first
 * use with the venue's free balance of the quote currency as its cash. */
static apex_err live_portfolio(apex_app *app, const char *user_id, const char *key_id, const char *exchange,
                               const char *fiat, apex_dec cash, apex_portfolio_row *pf, apex_app_error *e)
{
  enum { MAX = 100 };
  apex_error err;
  size_t n = 0;
  int64_t total = 0;
  apex_page page = {.page = 1, .limit = MAX, .desc = false};
  apex_portfolio_row *rows = calloc(MAX, sizeof *rows);
  apex_err rc = APEX_OK;
  bool found = false;
  if (!rows)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  if (apex_store_portfolio_list(app->store, user_id, &page, rows, &n, &total, &err)) {
    rc = apex_app_store_failed(e, &err);
    goto out;
  }
  for (size_t i = 0; i < n && !found; i++)
    if (!rows[i].is_paper && !strcmp(rows[i].broker, key_id)) {
      found = true;
      rc = apex_store_portfolio_get(app->store, user_id, rows[i].id, pf, &err) ? apex_app_store_failed(e, &err)
                                                                               : APEX_OK;
    }
  if (found)
    goto out;
  *pf = (apex_portfolio_row){.is_paper = false, .is_active = true, .initial_balance = cash, .cash_balance = cash};
  if (apex_app_new_id(pf->id)) {
    rc = apex_app_raise(e, APEX_E_INTERNAL, "no randomness for an id");
    goto out;
  }
  snprintf(pf->user_id, sizeof pf->user_id, "%s", user_id);
  snprintf(pf->name, sizeof pf->name, "Live %s", exchange);
  snprintf(pf->base_currency, sizeof pf->base_currency, "%s", fiat);
  snprintf(pf->broker, sizeof pf->broker, "%s", key_id);
  pf->created_at = pf->updated_at = app->now_ms();
  if (apex_store_portfolio_insert(app->store, pf, &err))
    rc = apex_app_store_failed(e, &err);
out:
  for (size_t i = 0; i < n; i++)
    apex_portfolio_row_clear(&rows[i]);
  free(rows);
  return rc;
}

/* The venue's answer as the spec's error. */
static apex_err broker_failed(apex_app_error *e, const apex_broker_error *be, const apex_error *err)
{
  if (be->fail == APEX_BROKER_AUTH)
    return apex_app_raise(e, APEX_E_EXECUTION_ORDER_REJECTED, "the venue refused the broker key: %s", err->msg);
  if (be->fail == APEX_BROKER_RATE_LIMITED)
    return apex_app_raise(e, APEX_E_MARKET_RATE_LIMITED, "the venue asks us to wait: %s", err->msg);
  return apex_app_raise(e, APEX_E_EXECUTION_BROKER_ERROR, "the venue did not answer: %s", err->msg);
}

/* Live mode: FEATURE_LIVE_TRADING, the user's confirmation for this strategy, one of their broker
 * keys that the venue accepts now, a pair the venue trades, capital within the venue's free
 * balance of the quote currency. The run trades the key's live portfolio. */
static apex_err activate_live(apex_app *app, const char *user_id, const char *id, const apex_json *body,
                              apex_strategy_row *out, apex_app_error *e)
{
  const apex_json *cf = body ? apex_json_object_get(body, "confirm_live") : NULL;
  const apex_json *kv = body ? apex_json_object_get(body, "api_key_id") : NULL;
  const char *key_id = kv ? apex_json_string_value(kv) : NULL;
  const apex_json *hv = body ? apex_json_object_get(body, "outside_hours") : NULL;
  const char *hours = hv ? apex_json_string_value(hv) : "hold";
  apex_api_credentials cr = {0};
  apex_broker b = {0};
  apex_strategy *st = NULL;
  apex_problems probs = {0};
  apex_portfolio_row pf = {0};
  apex_run_row run = {0};
  apex_dec capital, max_order, max_daily;
  apex_err rc = APEX_EINVAL;

  if (!cf || !apex_json_bool_value(cf))
    return apex_app_invalid(e, "/confirm_live", "must be true: live mode trades real money with your broker key");
  if (!key_id || !apex_app_id_ok(key_id))
    return apex_app_invalid(e, "/api_key_id", "must be the id of one of your broker keys");
  if (!hours || (strcmp(hours, "hold") && strcmp(hours, "refuse") && strcmp(hours, "extended")))
    return apex_app_invalid(e, "/outside_hours", "must be \"hold\" (for the open), \"refuse\" or \"extended\"");
  if ((rc = opt_amount(body, "capital", &capital, e)) || (rc = opt_amount(body, "max_order_notional", &max_order, e)) ||
      (rc = opt_amount(body, "max_daily_notional", &max_daily, e)))
    return rc;
  if (!app->broker_open)
    return apex_app_raise(e, APEX_E_NOT_IMPLEMENTED, "this server has no venue adapters for live trading");
  if (apex_app_strategy_get(app, user_id, id, out, e))
    return APEX_EINVAL;
  rc = APEX_EINVAL;
  if (!strcmp(out->status, "active"))
    return apex_app_raise(e, APEX_E_STRATEGY_ALREADY_ACTIVE, "strategy %s is already active (%s)", id,
                          out->trading_mode);
  if (apex_strategy_parse(out->definition, strlen(out->definition), &st, &probs))
    return apex_app_raise(e, APEX_E_STRATEGY_INVALID_RULES, "the stored strategy no longer validates");
  /* A pair ("BTC/USDT"), or a stock's ticker alone ("ORCL"), which trades in dollars. */
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
  if (strchr(st->asset, '/') ? apex_market_split(st->asset, base, quote) != APEX_OK
                             : strlen(st->asset) > APEX_MARKET_ASSET_MAX) {
    apex_app_raise(e, APEX_E_VALIDATION, "the strategy's asset %s is not a BASE/QUOTE pair or a ticker", st->asset);
    goto out;
  }
  if (!strchr(st->asset, '/'))
    snprintf(quote, sizeof quote, "USD");
  const char *fiat = apex_fx_canonical(quote);
  if (strcmp(fiat, "USD") && strcmp(fiat, "EUR")) {
    apex_app_raise(e, APEX_E_VALIDATION, "live trading quotes in dollars, dollar stablecoins or euros, not %s", quote);
    goto out;
  }
  apex_app_error ke = {0};
  if (apex_app_api_key_credentials(app, user_id, key_id, &cr, &ke)) {
    *e = ke;
    goto out;
  }
  apex_error err = {0};
  apex_broker_credentials bc = {cr.api_key, cr.api_secret, cr.passphrase};
  if (app->broker_open(app->broker_ctx, cr.exchange, cr.is_paper, key_id, &bc, &b, &err)) {
    apex_app_raise(e, APEX_E_VALIDATION, "%s", err.msg);
    goto out;
  }
  apex_api_credentials_clear(&cr);
  apex_broker_error be;
  apex_market_symbol rules;
  apex_broker_balance bal[256];
  size_t n_bal = 0;
  apex_dec free_quote = 0;
  if (b.ops->rules(b.impl, st->asset, &rules, &be, &err)) {
    if (be.fail == APEX_BROKER_REJECTED || be.fail == APEX_BROKER_NOT_FOUND)
      apex_app_raise(e, APEX_E_MARKET_SYMBOL_NOT_FOUND, "%s does not trade %s", b.ops->name, st->asset);
    else
      broker_failed(e, &be, &err);
    goto out;
  }
  if (b.ops->balances(b.impl, bal, sizeof bal / sizeof *bal, &n_bal, &be, &err) && err.code != APEX_ETOOBIG) {
    broker_failed(e, &be, &err);
    goto out;
  }
  for (size_t i = 0; i < n_bal; i++)
    if (!strcmp(bal[i].asset, quote))
      free_quote = bal[i].free;
  if (!capital)
    capital = free_quote;
  if (capital <= 0 || capital > free_quote) {
    char have[APEX_DEC_STR_MAX];
    apex_dec_format(free_quote, have, sizeof have);
    apex_app_raise(e, APEX_E_EXECUTION_INSUFFICIENT_FUNDS, "the account's free %s is %s; the run needs more than 0 and "
                   "at most that", quote, have);
    goto out;
  }
  char exchange[16];
  snprintf(exchange, sizeof exchange, "%s", b.ops->name);
  if ((rc = live_portfolio(app, user_id, key_id, exchange, fiat, free_quote, &pf, e)))
    goto out;
  rc = APEX_EINVAL;
  if ((rc = run_fields(out, st, user_id, "live", &run, e)))
    goto out;
  snprintf(run.portfolio_id, sizeof run.portfolio_id, "%s", pf.id);
  snprintf(run.quote_currency, sizeof run.quote_currency, "%s", quote);
  snprintf(run.base_currency, sizeof run.base_currency, "%s", pf.base_currency);
  snprintf(run.api_key_id, sizeof run.api_key_id, "%s", key_id);
  run.fx_rate = APEX_DEC_SCALE; /* the portfolio is in the quote's own currency */
  run.capital = capital;
  run.max_order_notional = max_order;
  run.max_daily_notional = max_daily;
  snprintf(run.outside_hours, sizeof run.outside_hours, "%s", hours);
  run.created_at = app->now_ms();
  rc = begin_run(app, user_id, &run, out, e);
  if (!rc)
    apex_live_notify(app->live);
out:
  apex_api_credentials_clear(&cr);
  apex_broker_free(&b);
  apex_strategy_free(st);
  apex_portfolio_row_clear(&pf);
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
    return activate_live(app, user_id, id, body, out, e);
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
  if (run_fields(out, st, user_id, mode, &run, e))
    goto out;
  snprintf(run.portfolio_id, sizeof run.portfolio_id, "%s", pf.id);
  snprintf(run.quote_currency, sizeof run.quote_currency, "%s", quote);
  snprintf(run.base_currency, sizeof run.base_currency, "%s", pf.base_currency);
  run.fx_rate = rate;
  run.capital = cap_quote;
  run.created_at = now;
  rc = begin_run(app, user_id, &run, out, e);
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
    if (!strcmp(r.mode, "live")) { /* the broker key (its id, never a secret) and the run's limits */
      apex_json_object_set(j, "api_key_id", apex_json_new_string(r.api_key_id));
      apex_json_object_set(j, "max_order_notional", r.max_order_notional ? apex_json_new_decimal(r.max_order_notional)
                                                                         : apex_json_new_null());
      apex_json_object_set(j, "max_daily_notional", r.max_daily_notional ? apex_json_new_decimal(r.max_daily_notional)
                                                                         : apex_json_new_null());
      apex_json_object_set(j, "outside_hours", apex_json_new_string(r.outside_hours));
    }
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
