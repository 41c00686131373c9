/* live.c - live trading's execution (app.h "live trading"): the orders the runner stored for live
 * runs, sent to their venue one at a time, followed until they settle, the run's position and
 * the portfolio's cash rebuilt from the venue's fills, and the venue reconciled with our records.
 *
 * The rules that keep money safe:
 * - An order is sent only after its attempt is stored (attempts, last_attempt_at). A process that
 *   dies during the call finds on restart a pending order with attempts > 0: it asks the venue
 *   for it by its client order id, never sends it blindly again.
 * - An order the venue does not know is sent again only once the venue must have refused the
 *   first attempt (its signed timestamp older than the receive window), at most MAX_ATTEMPTS times
 *   within DEADLINE_MS of the first (spec 3.3.3), never after a rejection.
 * - One thread and one mutex: every venue conversation (orders, the kill switch, reconciliation)
 *   is serial, so per account too.
 * - Reconciliation (at start and every minute): an order of ours open at the venue that our
 *   records call settled or do not know, or less of an asset at the venue than our runs hold,
 *   cannot be explained: the account's live runs stop (fail closed) and the user is told. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/ids.h"
#include "app/runner.h"
#include "sys/log.h"

#define MAX_ATTEMPTS 5
#define DEADLINE_MS 60000     /* spec 3.3.3: an order is sent within a minute of its first try, or not */
#define SETTLE_MS 7000        /* the venue's receive window (5 s) and clock slack: an attempt older than
                               * this that the venue does not know can never arrive */
#define POLL_MS 1000          /* an open order is asked about again this often */
#define RECONCILE_MS 60000
#define RULES_MAX 64
#define HEARTBEAT_MS 20000    /* a venue's dead-man's switch is pushed back this often... */
#define DEAD_MAN_S 60         /* ...to this many seconds: Kraken's advice (venues README 2.5) */
#define ARMED_MAX 32
#define CLOCK_MS 30000        /* a venue's market clock is asked again after this long (or after
                               * LIVE_RECONCILE_SECONDS when shorter) */

typedef struct rules_entry {
  char venue[16];
  apex_market_symbol s;
} rules_entry;

struct apex_live {
  apex_app *app;
  pthread_mutex_t mu;  /* one venue conversation at a time */
  pthread_mutex_t wmu; /* wake, stop */
  pthread_cond_t cv;
  bool wake, stop, started;
  pthread_t thread;
  int64_t next_reconcile;
  int64_t pause_until; /* a venue asked us to wait (429) */
  rules_entry rules[RULES_MAX];
  size_t n_rules;
  int64_t next_heartbeat;
  struct venue_clock {
    char venue[16];
    bool open;
    int64_t next_open, checked; /* ms */
  } clocks[8]; /* venues' market clocks, asked at most every CLOCK_MS */
  size_t n_clocks;
  struct armed {
    apex_id user_id, key_id;
  } armed[ARMED_MAX]; /* keys whose venue-side dead-man's switch we keep armed */
  size_t n_armed;
};

/* One broker account for one pass: credentials decrypted when it opens, wiped when it closes. */
typedef struct account {
  apex_id user_id, key_id;
  char venue[16];
  apex_broker b;
  bool open;
} account;

static const apex_dec ONE = APEX_DEC_SCALE;

/* --- accounts --- */
static apex_err account_open(apex_live *l, const char *user_id, const char *key_id, account *a, apex_error *err)
{
  apex_app *app = l->app;
  apex_api_credentials cr = {0};
  apex_app_error e = {0};
  *a = (account){0};
  snprintf(a->user_id, sizeof a->user_id, "%s", user_id);
  snprintf(a->key_id, sizeof a->key_id, "%s", key_id);
  if (!app->broker_open)
    return apex_error_set(err, APEX_EINVAL, "live: this server has no venue adapters");
  if (apex_app_api_key_credentials(app, user_id, key_id, &cr, &e))
    return apex_error_set(err, APEX_ENOTFOUND, "live: broker key %s: %s", key_id, e.detail);
  snprintf(a->venue, sizeof a->venue, "%.15s", cr.exchange);
  apex_broker_credentials bc = {cr.api_key, cr.api_secret, cr.passphrase};
  apex_err rc = app->broker_open(app->broker_ctx, cr.exchange, cr.is_paper, key_id, &bc, &a->b, err);
  apex_api_credentials_clear(&cr);
  a->open = rc == APEX_OK;
  return rc;
}

static void account_close(account *a)
{
  if (a->open)
    apex_broker_free(&a->b);
  a->open = false;
}

/* --- amounts --- */
static apex_dec floor_to(apex_dec x, apex_dec step)
{
  return step > 0 ? x - x % step : x;
}

static apex_err rules_for(apex_live *l, account *a, const char *symbol, apex_market_symbol *out, apex_error *err)
{
  for (size_t i = 0; i < l->n_rules; i++)
    if (!strcmp(l->rules[i].venue, a->venue) && !strcmp(l->rules[i].s.symbol, symbol)) {
      *out = l->rules[i].s;
      return APEX_OK;
    }
  apex_broker_error be;
  apex_err rc = a->b.ops->rules(a->b.impl, symbol, out, &be, err);
  if (rc)
    return rc;
  snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
  if (l->n_rules < RULES_MAX) {
    snprintf(l->rules[l->n_rules].venue, sizeof l->rules[0].venue, "%s", a->venue);
    l->rules[l->n_rules++].s = *out;
  }
  return APEX_OK;
}

/* The assets of "BASE/QUOTE" (a stock's bare ticker trades in USD). */
static void assets(const char *symbol, char *base, size_t bcap, char *quote, size_t qcap)
{
  const char *slash = strchr(symbol, '/');
  snprintf(base, bcap, "%.*s", slash ? (int)(slash - symbol) : (int)strlen(symbol), symbol);
  snprintf(quote, qcap, "%s", slash ? slash + 1 : "USD");
}

/* What a run holds from its fills: base asset received net of fees taken in it, its cost in the
 * quote asset (fees in the quote included), and each sell's realized profit written on it. */
typedef struct holding {
  apex_dec qty, cost, realized;
  int64_t opened_at;
} holding;

static apex_err holding_of(apex_live_order_row *rows, size_t n, holding *h, apex_error *err)
{
  *h = (holding){0};
  for (size_t i = 0; i < n; i++) {
    apex_live_order_row *o = &rows[i];
    if (!o->t.filled_quantity)
      continue;
    char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
    assets(o->t.symbol, base, sizeof base, quote, sizeof quote);
    const apex_dec fee_base = !strcmp(o->fee_currency, base) ? o->t.commission : 0;
    const apex_dec fee_quote = !strcmp(o->fee_currency, quote) ? o->t.commission : 0;
    if (!strcmp(o->t.side, "BUY")) {
      if (!h->qty)
        h->opened_at = o->t.filled_at ? o->t.filled_at : o->t.submitted_at;
      h->qty += o->t.filled_quantity - fee_base;
      h->cost += o->quote_filled + fee_quote;
      continue;
    }
    apex_dec sold = o->t.filled_quantity, basis = 0, pnl;
    if (h->qty > 0 && apex_dec_muldiv(h->cost, apex_dec_min(sold, h->qty), h->qty, &basis))
      return apex_error_set(err, APEX_EOVERFLOW, "live: position cost out of range");
    pnl = o->quote_filled - fee_quote - basis;
    o->t.realized_pnl = pnl;
    h->realized += pnl;
    h->cost -= basis;
    h->qty -= apex_dec_min(sold, h->qty);
    if (!h->qty)
      h->cost = 0;
  }
  return APEX_OK;
}

/* --- events --- */
static void publish_strategy(apex_live *l, const apex_live_order_row *o, const char *event, const char *reason,
                             const char *detail)
{
  apex_events *bus = l->app->events;
  if (!bus)
    return;
  apex_event ev = {.kind = APEX_EVENT_STRATEGY, .time_ms = l->app->now_ms()};
  snprintf(ev.user_id, sizeof ev.user_id, "%s", o->t.user_id);
  snprintf(ev.u.strategy.strategy_id, sizeof ev.u.strategy.strategy_id, "%s", o->t.strategy_id);
  snprintf(ev.u.strategy.symbol, sizeof ev.u.strategy.symbol, "%s", o->t.symbol);
  snprintf(ev.u.strategy.event, sizeof ev.u.strategy.event, "%s", event);
  snprintf(ev.u.strategy.side, sizeof ev.u.strategy.side, "%s", o->t.side);
  snprintf(ev.u.strategy.reason, sizeof ev.u.strategy.reason, "%s", reason);
  snprintf(ev.u.strategy.detail, sizeof ev.u.strategy.detail, "%.*s", (int)sizeof ev.u.strategy.detail - 1, detail);
  ev.u.strategy.time_ms = ev.time_ms;
  apex_events_publish(bus, &ev);
}

/* --- the run's position, rebuilt from its orders after each fill --- */
static apex_err rebuild_position(apex_live *l, account *a, const apex_live_order_row *changed, apex_error *err)
{
  apex_app *app = l->app;
  apex_live_order_row *rows = NULL;
  size_t n = 0;
  holding h;
  apex_err rc = apex_store_live_orders(app->store, changed->run_id, false, &rows, &n, err);
  if (rc || (rc = holding_of(rows, n, &h, err)))
    goto out;
  for (size_t i = 0; i < n; i++) /* realized profit lands on the sells */
    if (!strcmp(rows[i].t.side, "SELL") && rows[i].t.filled_quantity && rows[i].t.realized_pnl != APEX_DEC_NONE &&
        (rc = apex_store_live_order_update(app->store, &rows[i], err)))
      goto out;
  apex_position_row p = {0};
  char text[96];
  snprintf(text, sizeof text, "%s:live-position", changed->run_id);
  apex_app_name_id(app->auth.token_hash, text, p.id);
  snprintf(p.portfolio_id, sizeof p.portfolio_id, "%s", changed->t.portfolio_id);
  snprintf(p.symbol, sizeof p.symbol, "%s", changed->t.symbol);
  /* What is left below the venue's lot step after a sell (fees taken in the asset) cannot be sold:
   * the position is closed, the dust stays listed in its quantity. */
  apex_market_symbol rules = {0};
  apex_error rerr;
  if (a && rules_for(l, a, changed->t.symbol, &rules, &rerr))
    rules.lot_step = 0;
  p.quantity = h.qty;
  p.is_open = h.qty > 0 && h.qty >= rules.lot_step;
  p.opened_at = h.opened_at ? h.opened_at : app->now_ms();
  p.updated_at = app->now_ms();
  if (!p.is_open)
    p.closed_at = p.updated_at;
  if (h.qty > 0 && apex_dec_muldiv(h.cost, ONE, h.qty, &p.average_entry_price))
    p.average_entry_price = 0;
  apex_ticker tk;
  p.current_price = app->runner && apex_runner_last_price(app->runner, p.symbol, &tk) ? tk.last : APEX_DEC_NONE;
  p.unrealized_pnl = p.unrealized_pnl_pct = APEX_DEC_NONE;
  if (p.current_price != APEX_DEC_NONE && h.qty > 0) {
    apex_dec value;
    if (!apex_dec_mul(p.current_price, h.qty, &value)) {
      p.unrealized_pnl = value - h.cost;
      if (h.cost > 0 && apex_dec_muldiv(p.unrealized_pnl, 100 * ONE, h.cost, &p.unrealized_pnl_pct))
        p.unrealized_pnl_pct = APEX_DEC_NONE;
    }
  }
  rc = apex_store_position_put(app->store, &p, err);
out:
  free(rows);
  return rc;
}

/* --- one order --- */
static const char *status_of(const apex_broker_order *v)
{
  switch (v->state) {
  case APEX_ORDER_STATE_NEW:
    return "open";
  case APEX_ORDER_STATE_PARTIAL:
    return "partially_filled";
  case APEX_ORDER_STATE_FILLED:
    return "filled";
  case APEX_ORDER_STATE_CANCELED:
  case APEX_ORDER_STATE_EXPIRED:
    return "cancelled"; /* with whatever filled before */
  case APEX_ORDER_STATE_REJECTED:
  default:
    return "failed";
  }
}

static bool settled(const char *status)
{
  return !strcmp(status, "filled") || !strcmp(status, "cancelled") || !strcmp(status, "failed");
}

static void publish_trade(apex_live *l, const apex_live_order_row *o)
{
  apex_app_publish_trade(l->app, &o->t);
}

/* The venue's account of o written down: status, fills, fee, times; a fill moves the position. */
static apex_err apply(apex_live *l, account *a, apex_live_order_row *o, const apex_broker_order *v, apex_error *err)
{
  const int64_t now = l->app->now_ms();
  const bool fills_changed = v->filled_qty != o->t.filled_quantity || strcmp(status_of(v), o->t.status);
  snprintf(o->t.status, sizeof o->t.status, "%s", status_of(v));
  snprintf(o->t.broker_order_id, sizeof o->t.broker_order_id, "%s", v->venue_id);
  if (v->qty > 0)
    o->t.quantity = v->qty;
  o->t.filled_quantity = v->filled_qty;
  o->quote_filled = v->quote_filled;
  o->t.filled_price = APEX_DEC_NONE;
  if (v->filled_qty > 0 && apex_dec_muldiv(v->quote_filled, ONE, v->filled_qty, &o->t.filled_price))
    o->t.filled_price = APEX_DEC_NONE;
  o->t.commission = v->fee;
  snprintf(o->fee_currency, sizeof o->fee_currency, "%s", v->fee_asset);
  if (settled(o->t.status) && v->filled_qty > 0 && !o->t.filled_at)
    o->t.filled_at = v->update_time ? v->update_time : now;
  if (!strcmp(o->t.status, "failed") && !o->t.error[0])
    snprintf(o->t.error, sizeof o->t.error, "4002 the venue rejected the order");
  o->updated_at = now;
  apex_err rc = apex_store_live_order_update(l->app->store, o, err);
  if (rc)
    return rc;
  if (fills_changed) {
    publish_trade(l, o);
    if (v->filled_qty > 0 && (rc = rebuild_position(l, a, o, err)))
      return rc;
  }
  return APEX_OK;
}

static apex_err fail_order(apex_live *l, apex_live_order_row *o, const char *fmt, const char *detail, apex_error *err)
{
  snprintf(o->t.status, sizeof o->t.status, "failed");
  snprintf(o->t.error, sizeof o->t.error, fmt, detail);
  o->updated_at = l->app->now_ms();
  apex_err rc = apex_store_live_order_update(l->app->store, o, err);
  if (!rc) {
    publish_trade(l, o);
    publish_strategy(l, o, "refused", "order_failed", o->t.error);
    apex_log(APEX_LOG_WARN, "live order %s failed: %s", o->client_order_id, o->t.error);
  }
  return rc;
}

/* The spec's code for a refusal (Appendix B). */
static const char *code_of(apex_broker_fail f)
{
  switch (f) {
  case APEX_BROKER_NO_FUNDS:
    return "4001";
  case APEX_BROKER_REJECTED:
  case APEX_BROKER_AUTH:
    return "4002";
  case APEX_BROKER_RATE_LIMITED:
    return "5002";
  default:
    return "4003";
  }
}

static const apex_run_row *run_by_id(const apex_run_row *runs, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(runs[i].id, id))
      return &runs[i];
  return NULL;
}

/* The quote notional of this run's buys filled today (UTC), for max_daily_notional. */
static apex_dec bought_today(const apex_live_order_row *rows, size_t n, int64_t now)
{
  apex_dec sum = 0;
  const int64_t day = now / 86400000;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(rows[i].t.side, "BUY") && rows[i].t.submitted_at / 86400000 == day && strcmp(rows[i].t.status, "failed"))
      sum += rows[i].quote_filled ? rows[i].quote_filled : 0;
  return sum;
}

/* The venue's market clock, asked at most every CLOCK_MS (and at the open it announced). */
static apex_err market_clock(apex_live *l, account *a, bool *open, int64_t *next_open)
{
  const int64_t now = l->app->now_ms();
  size_t i = 0;
  while (i < l->n_clocks && strcmp(l->clocks[i].venue, a->venue))
    i++;
  struct venue_clock *c = i < l->n_clocks ? &l->clocks[i] : NULL;
  const int64_t every = l->app->settings.reconcile_s > 0 && l->app->settings.reconcile_s * 1000LL < CLOCK_MS
                            ? l->app->settings.reconcile_s * 1000LL
                            : CLOCK_MS;
  if (c && now - c->checked < every && (c->open || now < c->next_open)) {
    *open = c->open;
    *next_open = c->next_open;
    return APEX_OK;
  }
  apex_broker_error be;
  apex_error err;
  apex_err rc = a->b.ops->clock(a->b.impl, open, next_open, &be, &err);
  if (rc)
    return rc;
  if (!c && l->n_clocks < sizeof l->clocks / sizeof l->clocks[0])
    c = &l->clocks[l->n_clocks++];
  if (c) {
    snprintf(c->venue, sizeof c->venue, "%s", a->venue);
    c->open = *open;
    c->next_open = *next_open;
    c->checked = now;
  }
  return APEX_OK;
}

/* Pre-trade checks, then the attempt stored, then the one call. */
static apex_err submit(apex_live *l, account *a, apex_live_order_row *o, const apex_run_row *run, apex_error *err)
{
  apex_app *app = l->app;
  const int64_t now = app->now_ms();
  apex_market_symbol rules;
  apex_live_order_row *rows = NULL;
  size_t n = 0;
  holding h;
  char msg[256];
  apex_err rc;

  if (!app->settings.live_trading)
    return fail_order(l, o, "%s", "live trading was switched off (FEATURE_LIVE_TRADING) before it was sent", err);
  if (!run)
    return fail_order(l, o, "%s", "its strategy stopped before it was sent", err);
  if (rules_for(l, a, o->t.symbol, &rules, err)) { /* nothing sent: tried again next pass, within the deadline */
    snprintf(msg, sizeof msg, "4003 the venue's rules for %s are unavailable: %.160s", o->t.symbol, err->msg);
    return now - o->updated_at > DEADLINE_MS ? fail_order(l, o, "%s", msg, err) : APEX_OK;
  }
  if (!rules.active)
    return fail_order(l, o, "4002 %s is not trading at the venue", o->t.symbol, err);
  /* A venue with market hours (US stocks): outside them the order waits for the open (the
   * backtest's next-open fill), is refused, or goes out for extended hours, as the run says. */
  bool extended = false;
  if (a->b.ops->clock) {
    bool open = true;
    int64_t next_open = 0;
    if (market_clock(l, a, &open, &next_open))
      return APEX_OK; /* the venue did not say: asked again next pass, nothing sent */
    if (!open && !strcmp(run->outside_hours, "refuse"))
      return fail_order(l, o, "4002 %s", "the market is closed and the strategy refuses orders outside its hours", err);
    if (!open && strcmp(run->outside_hours, "extended")) {
      char held[96];
      snprintf(held, sizeof held, "held: the market is closed until %lld", (long long)next_open);
      if (strcmp(o->t.error, held)) { /* said once, not at every pass */
        snprintf(o->t.error, sizeof o->t.error, "%s", held);
        o->updated_at = now;
        return apex_store_live_order_update(app->store, o, err);
      }
      return APEX_OK;
    }
    extended = !open;
  }
  if ((rc = apex_store_live_orders(app->store, o->run_id, false, &rows, &n, err)) || (rc = holding_of(rows, n, &h, err)))
    goto out;
  apex_dec qty = floor_to(o->close_position ? h.qty : o->t.quantity, rules.lot_step);
  if (qty <= 0) {
    rc = fail_order(l, o, "4002 %s", o->close_position ? "nothing to sell: the run holds none at the venue"
                                                       : "the quantity rounds to zero at the venue's lot step",
                    err);
    goto out;
  }
  apex_ticker tk;
  apex_dec px = app->runner && apex_runner_last_price(app->runner, o->t.symbol, &tk) ? tk.last : 0, notional = 0;
  if (px > 0 && apex_dec_mul(qty, px, &notional))
    notional = APEX_DEC_MAX;
  const bool buy = !strcmp(o->t.side, "BUY");
  if (px <= 0 && buy && (run->max_order_notional > 0 || run->max_daily_notional > 0)) {
    rc = fail_order(l, o, "4002 %s", "no price yet to check the strategy's notional limits against", err);
    goto out;
  }
  if (px > 0 && rules.min_notional > 0 && notional < rules.min_notional) {
    rc = fail_order(l, o, "4002 %s", "below the venue's minimum order value", err);
    goto out;
  }
  if (buy && run->max_order_notional > 0 && notional > run->max_order_notional) {
    rc = fail_order(l, o, "4002 %s", "above the strategy's maximum order value (max_order_notional)", err);
    goto out;
  }
  if (buy && run->max_daily_notional > 0 && bought_today(rows, n, now) + notional > run->max_daily_notional) {
    rc = fail_order(l, o, "4002 %s", "above the strategy's maximum bought per day (max_daily_notional)", err);
    goto out;
  }
  /* Stored before sent: a crash from here on leaves attempts > 0, which is settled by a query. */
  o->t.quantity = qty;
  o->attempts++;
  o->last_attempt_at = now;
  if (!o->t.submitted_at)
    o->t.submitted_at = now;
  o->updated_at = now;
  if ((rc = apex_store_live_order_update(app->store, o, err)))
    goto out;
  apex_broker_order_req req = {.buy = buy, .qty = qty, .extended_hours = extended};
  if (extended) /* outside the session a venue takes limit orders only: at the last price */
    req.price = px;
  if (extended && px <= 0) {
    rc = fail_order(l, o, "4002 %s", "no price yet for an extended-hours limit order", err);
    goto out;
  }
  snprintf(req.client_id, sizeof req.client_id, "%s", o->client_order_id);
  snprintf(req.symbol, sizeof req.symbol, "%s", o->t.symbol);
  apex_broker_order v;
  apex_broker_error be;
  apex_error verr = {0};
  rc = a->b.ops->place(a->b.impl, &req, &v, &be, &verr);
  if (!rc) {
    o->t.error[0] = '\0';
    rc = apply(l, a, o, &v, err);
    goto out;
  }
  rc = APEX_OK;
  switch (be.fail) {
  case APEX_BROKER_REJECTED:
  case APEX_BROKER_NO_FUNDS:
  case APEX_BROKER_AUTH:
    if (be.venue_code == -1021)
      break; /* its timestamp, not the order, was refused: another attempt */
    snprintf(msg, sizeof msg, "%s %.240s", code_of(be.fail), verr.msg);
    rc = fail_order(l, o, "%s", msg, err);
    goto out;
  case APEX_BROKER_RATE_LIMITED:
    l->pause_until = now + 1000LL * (be.retry_after_s > 0 ? be.retry_after_s : 1);
    break;
  default:
    break; /* unknown, unavailable, unreachable, unreadable: settled by a query on the next pass */
  }
  snprintf(o->t.error, sizeof o->t.error, "%s %.240s", code_of(be.fail), verr.msg);
  o->updated_at = app->now_ms();
  rc = apex_store_live_order_update(app->store, o, err);
  apex_log(APEX_LOG_WARN, "live order %s not confirmed, to be asked for: %s", o->client_order_id, verr.msg);
out:
  free(rows);
  return rc;
}

/* An order sent before whose fate we do not know: asked for by its client id. */
static apex_err settle(apex_live *l, account *a, apex_live_order_row *o, const apex_run_row *run, apex_error *err)
{
  const int64_t now = l->app->now_ms();
  apex_broker_order v;
  apex_broker_error be;
  apex_error verr = {0};
  apex_err rc = a->b.ops->query(a->b.impl, o->t.symbol, o->client_order_id, &v, &be, &verr);
  if (!rc)
    return apply(l, a, o, &v, err);
  if (be.fail != APEX_BROKER_NOT_FOUND) {
    if (be.fail == APEX_BROKER_RATE_LIMITED)
      l->pause_until = now + 1000LL * (be.retry_after_s > 0 ? be.retry_after_s : 1);
    return APEX_OK; /* asked again on the next pass */
  }
  if (now - o->last_attempt_at < SETTLE_MS)
    return APEX_OK; /* the attempt may still arrive */
  /* The venue does not know it and never will: the last attempt did not reach it. */
  if (o->attempts >= MAX_ATTEMPTS || now - o->t.submitted_at > DEADLINE_MS) {
    char why[160];
    snprintf(why, sizeof why, "4003 the venue never received it (%d attempts in %lld s)", o->attempts,
             (long long)((now - o->t.submitted_at) / 1000));
    return fail_order(l, o, "%s", why, err);
  }
  return submit(l, a, o, run, err);
}

static apex_err poll_open(apex_live *l, account *a, apex_live_order_row *o, apex_error *err)
{
  if (l->app->now_ms() - o->updated_at < POLL_MS)
    return APEX_OK;
  apex_broker_order v;
  apex_broker_error be;
  apex_error verr = {0};
  if (a->b.ops->query(a->b.impl, o->t.symbol, o->client_order_id, &v, &be, &verr))
    return APEX_OK;
  o->updated_at = l->app->now_ms();
  return apply(l, a, o, &v, err);
}

/* Opens (or reuses) the account of o among accs. NULL with the order failed when it cannot open. */
static account *account_of(apex_live *l, account *accs, size_t *n, size_t cap, const apex_live_order_row *o,
                           apex_error *err)
{
  for (size_t i = 0; i < *n; i++)
    if (!strcmp(accs[i].key_id, o->api_key_id) && !strcmp(accs[i].user_id, o->t.user_id))
      return accs[i].open ? &accs[i] : NULL;
  if (*n == cap)
    return NULL;
  account *a = &accs[(*n)++];
  if (account_open(l, o->t.user_id, o->api_key_id, a, err)) {
    apex_log(APEX_LOG_ERROR, "live: broker key %s unavailable: %s", o->api_key_id, err->msg);
    return NULL;
  }
  return a;
}

enum { ACCOUNTS_MAX = 32 };

/* One pass over every unsettled order, oldest first. */
static apex_err pass_orders(apex_live *l, apex_error *err)
{
  apex_app *app = l->app;
  apex_live_order_row *orders = NULL;
  apex_run_row *runs = NULL;
  size_t n = 0, n_runs = 0, n_acc = 0;
  account accs[ACCOUNTS_MAX];
  apex_err rc = apex_store_live_orders(app->store, NULL, true, &orders, &n, err);
  if (rc || !n || (rc = apex_store_runs_running(app->store, &runs, &n_runs, err)))
    goto out;
  for (size_t i = 0; i < n && !rc; i++) {
    apex_live_order_row *o = &orders[i];
    if (app->now_ms() < l->pause_until)
      break;
    /* A run's orders go out in order: a sell waits for the buy before it to settle, since what
     * it sells is what that buy got. */
    bool waits = false;
    for (size_t k = 0; k < i && !waits; k++)
      waits = !strcmp(orders[k].run_id, o->run_id) && !settled(orders[k].t.status);
    if (waits && !strcmp(o->t.status, "pending") && !o->attempts)
      continue;
    const apex_run_row *run = run_by_id(runs, n_runs, o->run_id);
    if (!strcmp(o->t.status, "pending") && !o->attempts && !run) {
      rc = fail_order(l, o, "%s", "its strategy stopped before it was sent", err);
      apex_runner_notify(app->runner); /* stopped elsewhere (the CLI's kill switch): the runner drops it */
      continue;
    }
    apex_error aerr = {0};
    account *a = account_of(l, accs, &n_acc, ACCOUNTS_MAX, o, &aerr);
    if (!a) {
      if (!strcmp(o->t.status, "pending") && !o->attempts) { /* never sent: it cannot be now */
        char why[300];
        snprintf(why, sizeof why, "4003 the broker key cannot be used: %.240s", aerr.msg);
        rc = fail_order(l, o, "%s", why, err);
      }
      continue; /* one sent before stays to be settled once the key works again */
    }
    if (!strcmp(o->t.status, "pending"))
      rc = o->attempts ? settle(l, a, o, run, err) : submit(l, a, o, run, err);
    else
      rc = poll_open(l, a, o, err);
  }
out:
  for (size_t i = 0; i < n_acc; i++)
    account_close(&accs[i]);
  for (size_t i = 0; i < n_runs; i++)
    apex_run_row_clear(&runs[i]);
  free(runs);
  free(orders);
  return rc;
}

/* --- failing closed --- */
static void stop_runs_of_key(apex_live *l, const apex_run_row *runs, size_t n, const char *key_id, const char *why)
{
  apex_app *app = l->app;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(runs[i].mode, "live") || strcmp(runs[i].api_key_id, key_id))
      continue;
    apex_strategy_row st;
    apex_app_error e = {0};
    apex_error err;
    (void)apex_store_run_stop(app->store, runs[i].id, "failed", why, app->now_ms(), &err);
    if (!apex_app_strategy_get(app, runs[i].user_id, runs[i].strategy_id, &st, &e)) {
      snprintf(st.status, sizeof st.status, "error");
      st.updated_at = app->now_ms();
      (void)apex_store_strategy_update(app->store, &st, &err);
      apex_strategy_row_clear(&st);
    }
    apex_live_order_row o = {0};
    snprintf(o.t.user_id, sizeof o.t.user_id, "%s", runs[i].user_id);
    snprintf(o.t.strategy_id, sizeof o.t.strategy_id, "%s", runs[i].strategy_id);
    snprintf(o.t.symbol, sizeof o.t.symbol, "%s", runs[i].symbol);
    publish_strategy(l, &o, "stopped", "reconciliation", why);
    apex_log(APEX_LOG_ERROR, "live run %s stopped: %s", runs[i].id, why);
  }
  apex_runner_notify(app->runner);
}

/* --- reconciliation --- */
static bool ours(const char *client_id)
{
  return apex_app_id_ok(client_id);
}

static apex_err reconcile_key(apex_live *l, const apex_run_row *runs, size_t n_runs, const apex_run_row *first,
                              apex_error *err)
{
  apex_app *app = l->app;
  account a;
  apex_err rc = account_open(l, first->user_id, first->api_key_id, &a, err);
  apex_broker_order open[64];
  apex_broker_balance bal[256];
  size_t n_open = 0, n_bal = 0;
  apex_broker_error be;
  apex_error verr = {0};
  char why[256] = "";
  if (rc) {
    snprintf(why, sizeof why, "reconciliation: the broker key cannot be used (%.180s)", err->msg);
    goto stop;
  }
  if (a.b.ops->balances(a.b.impl, bal, sizeof bal / sizeof *bal, &n_bal, &be, &verr))
    goto out; /* the venue is away: asked again next minute */
  for (size_t i = 0; i < n_runs && !why[0]; i++) {
    const apex_run_row *rn = &runs[i];
    if (strcmp(rn->mode, "live") || strcmp(rn->api_key_id, first->api_key_id))
      continue;
    /* Our orders open at the venue must be open in our records. */
    if (a.b.ops->open_orders(a.b.impl, rn->symbol, open, sizeof open / sizeof *open, &n_open, &be, &verr) &&
        verr.code != APEX_ETOOBIG) {
      /* Unreadable (an order the codec cannot take, placed by hand) or unanswered: this check waits
       * for the next minute; the holdings are still compared. */
      apex_log(APEX_LOG_WARN, "live: open orders of %s unreadable: %s", rn->symbol, verr.msg);
      n_open = 0;
    }
    for (size_t k = 0; k < n_open && !why[0]; k++) {
      apex_live_order_row o;
      apex_error gerr;
      if (!ours(open[k].client_id))
        continue; /* the user's own order, placed by hand */
      if (apex_store_live_order_get(app->store, open[k].client_id, &o, &gerr))
        snprintf(why, sizeof why, "reconciliation: order %s is open at the venue but unknown here", open[k].client_id);
      else if (settled(o.t.status))
        snprintf(why, sizeof why, "reconciliation: order %s is open at the venue but %s here", open[k].client_id,
                 o.t.status);
    }
    /* The venue must hold at least what our runs on this account hold of each base asset. */
    char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
    assets(rn->symbol, base, sizeof base, quote, sizeof quote);
    apex_dec ours_total = 0, venue_total = 0;
    bool in_flight = false;
    for (size_t j = 0; j < n_runs; j++) {
      char b2[APEX_MARKET_ASSET_MAX + 1], q2[APEX_MARKET_ASSET_MAX + 1];
      if (strcmp(runs[j].mode, "live") || strcmp(runs[j].api_key_id, first->api_key_id))
        continue;
      assets(runs[j].symbol, b2, sizeof b2, q2, sizeof q2);
      if (strcmp(b2, base))
        continue;
      apex_live_order_row *rows = NULL;
      size_t n = 0;
      holding h;
      if ((rc = apex_store_live_orders(app->store, runs[j].id, false, &rows, &n, err)) ||
          (rc = holding_of(rows, n, &h, err))) {
        free(rows);
        goto out;
      }
      for (size_t k = 0; k < n; k++) /* an order sent whose fills we do not know yet explains any difference */
        in_flight |= !settled(rows[k].t.status) && rows[k].attempts > 0;
      free(rows);
      ours_total += h.qty;
    }
    for (size_t k = 0; k < n_bal; k++)
      if (!strcmp(bal[k].asset, base))
        venue_total = bal[k].free + bal[k].locked;
    if (!why[0] && !in_flight && venue_total < ours_total) {
      char v[APEX_DEC_STR_MAX], o2[APEX_DEC_STR_MAX];
      apex_dec_format(venue_total, v, sizeof v);
      apex_dec_format(ours_total, o2, sizeof o2);
      snprintf(why, sizeof why, "reconciliation: the venue holds %s %s, our live strategies hold %s", v, base, o2);
    }
    /* The live portfolio's cash is the venue's free quote balance. */
    for (size_t k = 0; k < n_bal; k++)
      if (!strcmp(bal[k].asset, quote)) {
        apex_portfolio_row pf = {0};
        apex_error perr;
        if (!apex_store_portfolio_get(app->store, rn->user_id, rn->portfolio_id, &pf, &perr) && !pf.is_paper &&
            pf.cash_balance != bal[k].free) {
          pf.cash_balance = bal[k].free;
          pf.updated_at = app->now_ms();
          (void)apex_store_portfolio_update(app->store, &pf, &perr);
        }
        apex_portfolio_row_clear(&pf);
      }
  }
stop:
  if (why[0])
    stop_runs_of_key(l, runs, n_runs, first->api_key_id, why);
out:
  account_close(&a);
  return rc;
}

static apex_err reconcile(apex_live *l, apex_error *err)
{
  apex_run_row *runs = NULL;
  size_t n = 0;
  apex_err rc = apex_store_runs_running(l->app->store, &runs, &n, err);
  for (size_t i = 0; i < n && !rc; i++) {
    bool seen = false;
    if (strcmp(runs[i].mode, "live"))
      continue;
    for (size_t j = 0; j < i && !seen; j++)
      seen = !strcmp(runs[j].mode, "live") && !strcmp(runs[j].api_key_id, runs[i].api_key_id);
    if (!seen)
      rc = reconcile_key(l, runs, n, &runs[i], err);
  }
  for (size_t i = 0; i < n; i++)
    apex_run_row_clear(&runs[i]);
  free(runs);
  return rc;
}

/* The dead-man's switch of every account with a live run (Kraken's CancelAllOrdersAfter): pushed
 * back while it trades, so that if this process dies the venue cancels its open orders within a
 * minute; disarmed once the account's last live run has stopped. */
static void heartbeats(apex_live *l)
{
  apex_run_row *runs = NULL;
  size_t n = 0;
  apex_error err;
  if (apex_store_runs_running(l->app->store, &runs, &n, &err))
    return;
  bool keep[ARMED_MAX] = {false};
  for (size_t i = 0; i < n; i++) {
    bool seen = false;
    if (strcmp(runs[i].mode, "live"))
      continue;
    for (size_t j = 0; j < i && !seen; j++)
      seen = !strcmp(runs[j].mode, "live") && !strcmp(runs[j].api_key_id, runs[i].api_key_id);
    size_t k = 0;
    while (k < l->n_armed && strcmp(l->armed[k].key_id, runs[i].api_key_id))
      k++;
    if (k < l->n_armed)
      keep[k] = true;
    account a;
    apex_broker_error be;
    apex_error herr;
    if (seen || account_open(l, runs[i].user_id, runs[i].api_key_id, &a, &herr))
      continue;
    if (a.b.ops->heartbeat && !a.b.ops->heartbeat(a.b.impl, DEAD_MAN_S, &be, &herr) && k == l->n_armed &&
        l->n_armed < ARMED_MAX) {
      snprintf(l->armed[k].user_id, sizeof l->armed[k].user_id, "%s", runs[i].user_id);
      snprintf(l->armed[k].key_id, sizeof l->armed[k].key_id, "%s", runs[i].api_key_id);
      keep[l->n_armed++] = true;
    }
    account_close(&a);
  }
  for (size_t k = 0; k < l->n_armed;) {
    account a;
    apex_broker_error be;
    apex_error herr;
    if (keep[k]) {
      k++;
      continue;
    }
    if (!account_open(l, l->armed[k].user_id, l->armed[k].key_id, &a, &herr)) {
      (void)a.b.ops->heartbeat(a.b.impl, 0, &be, &herr);
      account_close(&a);
    }
    l->armed[k] = l->armed[--l->n_armed];
    keep[k] = keep[l->n_armed];
  }
  for (size_t i = 0; i < n; i++)
    apex_run_row_clear(&runs[i]);
  free(runs);
}

apex_err apex_live_tick(apex_live *l, bool reconcile_now, apex_error *err)
{
  if (!l)
    return APEX_OK;
  pthread_mutex_lock(&l->mu);
  apex_err rc = APEX_OK;
  const int64_t now = l->app->now_ms();
  if (reconcile_now || now >= l->next_reconcile) {
    l->next_reconcile = now + (l->app->settings.reconcile_s > 0 ? l->app->settings.reconcile_s * 1000LL : RECONCILE_MS);
    rc = reconcile(l, err);
  }
  if (!rc)
    rc = pass_orders(l, err);
  if (!rc && (reconcile_now || now >= l->next_heartbeat)) {
    const int64_t every = l->app->settings.reconcile_s > 0 ? l->app->settings.reconcile_s * 1000LL : HEARTBEAT_MS;
    l->next_heartbeat = now + (every < HEARTBEAT_MS ? every : HEARTBEAT_MS);
    heartbeats(l);
  }
  pthread_mutex_unlock(&l->mu);
  return rc;
}

/* --- the thread --- */
static void *thread_main(void *arg)
{
  apex_live *l = arg;
  for (;;) {
    pthread_mutex_lock(&l->wmu);
    if (!l->stop && !l->wake) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 250 * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&l->cv, &l->wmu, &ts);
    }
    const bool stop = l->stop;
    l->wake = false;
    pthread_mutex_unlock(&l->wmu);
    if (stop)
      break;
    apex_error err = {0};
    if (apex_live_tick(l, false, &err))
      apex_log(APEX_LOG_ERROR, "live trading pass failed: %s", err.msg);
  }
  return NULL;
}

void apex_live_notify(apex_live *l)
{
  if (!l)
    return;
  pthread_mutex_lock(&l->wmu);
  l->wake = true;
  pthread_cond_signal(&l->cv);
  pthread_mutex_unlock(&l->wmu);
}

apex_err apex_live_new(apex_app *app, apex_live **out, apex_error *err)
{
  apex_live *l = calloc(1, sizeof *l);
  *out = NULL;
  if (!l)
    return apex_error_set(err, APEX_ENOMEM, "live: out of memory");
  l->app = app;
  pthread_mutex_init(&l->mu, NULL);
  pthread_mutex_init(&l->wmu, NULL);
  pthread_cond_init(&l->cv, NULL);
  *out = l;
  return APEX_OK;
}

apex_err apex_live_start(apex_live *l, apex_error *err)
{
  if (pthread_create(&l->thread, NULL, thread_main, l))
    return apex_error_set(err, APEX_EIO, "live: no thread");
  l->started = true;
  return APEX_OK;
}

void apex_live_stop(apex_live *l)
{
  if (!l || !l->started)
    return;
  pthread_mutex_lock(&l->wmu);
  l->stop = true;
  pthread_cond_signal(&l->cv);
  pthread_mutex_unlock(&l->wmu);
  pthread_join(l->thread, NULL);
  l->started = false;
}

void apex_live_free(apex_live *l)
{
  if (!l)
    return;
  apex_live_stop(l);
  pthread_cond_destroy(&l->cv);
  pthread_mutex_destroy(&l->wmu);
  pthread_mutex_destroy(&l->mu);
  free(l);
}

/* --- the kill switch --- */
apex_err apex_app_kill_switch(apex_app *app, const char *user_id, apex_json **out, apex_app_error *e)
{
  apex_live *l = app->live;
  apex_run_row *runs = NULL;
  size_t n_runs = 0, n_acc = 0;
  int stopped = 0, cancelled = 0, failed = 0, unresolved = 0;
  account accs[ACCOUNTS_MAX];
  apex_error err;
  apex_err rc = APEX_OK;
  *out = NULL;
  if (l)
    pthread_mutex_lock(&l->mu); /* no order is being sent while the switch is thrown */
  if (apex_store_runs_running(app->store, &runs, &n_runs, &err)) {
    rc = apex_app_store_failed(e, &err);
    goto out;
  }
  for (size_t i = 0; i < n_runs; i++) {
    if (strcmp(runs[i].user_id, user_id) || strcmp(runs[i].mode, "live"))
      continue;
    apex_strategy_row st;
    apex_app_error e2 = {0};
    if (!apex_app_strategy_deactivate(app, user_id, runs[i].strategy_id, &st, &e2)) {
      stopped++;
      apex_strategy_row_clear(&st);
    }
    apex_live_order_row *rows = NULL;
    size_t k = 0;
    if (apex_store_live_orders(app->store, runs[i].id, true, &rows, &k, &err)) {
      rc = apex_app_store_failed(e, &err);
      goto out;
    }
    for (size_t j = 0; j < k; j++) {
      apex_live_order_row *o = &rows[j];
      if (!strcmp(o->t.status, "pending") && !o->attempts) {
        if (l && !fail_order(l, o, "%s", "kill switch: not sent", &err))
          failed++;
        continue;
      }
      account *a = l ? account_of(l, accs, &n_acc, ACCOUNTS_MAX, o, &err) : NULL;
      apex_broker_order v;
      apex_broker_error be;
      apex_error verr = {0};
      if (!a) {
        unresolved++;
        continue;
      }
      if (!a->b.ops->cancel(a->b.impl, o->t.symbol, o->client_order_id, &v, &be, &verr) ||
          !a->b.ops->query(a->b.impl, o->t.symbol, o->client_order_id, &v, &be, &verr)) {
        if (!apply(l, a, o, &v, &err) && strcmp(o->t.status, "filled"))
          cancelled++;
      } else {
        unresolved++; /* settled by the execution thread as any unknown order */
      }
    }
    free(rows);
  }
  if (!(*out = apex_json_new_object())) {
    rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
    goto out;
  }
  apex_json_object_set(*out, "strategies_stopped", apex_json_new_integer(stopped));
  apex_json_object_set(*out, "orders_cancelled", apex_json_new_integer(cancelled));
  apex_json_object_set(*out, "orders_not_sent", apex_json_new_integer(failed));
  apex_json_object_set(*out, "orders_unresolved", apex_json_new_integer(unresolved));
  apex_log(APEX_LOG_WARN, "kill switch thrown by user %s: %d strategies stopped, %d orders cancelled", user_id,
           stopped, cancelled);
out:
  for (size_t i = 0; i < n_acc; i++)
    account_close(&accs[i]);
  if (l)
    pthread_mutex_unlock(&l->mu);
  for (size_t i = 0; i < n_runs; i++)
    apex_run_row_clear(&runs[i]);
  free(runs);
  return rc;
}
