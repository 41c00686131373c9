/* app/live.c with app/runner.c: a live strategy on a venue that fills market orders at the next
 * candle's open, charging the strategy's commission in the quote currency, makes exactly the
 * trades of the backtest over the same candles (apex_backtest_run, the independent expectation):
 * the same entries and exits, quantities, prices, fees and realized P&L. The venue is a fake
 * behind the trading port (market/broker.h), driven candle by candle: the runner steps a close,
 * the venue's price becomes the next open, the execution thread's pass sends what was stored.
 * Also: every order is sent once, and the kill switch leaves nothing to send. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/auth.h"
#include "app/app.h"
#include "app/runner.h"
#include "core/backtest.h"
#include "core/fill.h"
#include "core/strategy.h"

#define WARM 60
#define MINUTES 600
#define MINUTE INT64_C(60000)
#define T0 INT64_C(1764547200000) /* 2025-12-01T00:00:00Z */
#define NOW INT64_C(1764633600000)
#define MAX_ORDERS 256

static const char DOC[] =
    "{\"name\": \"rsi\", \"asset\": \"S0/USDT\", \"timeframe\": \"1m\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"less_than\", \"value\": 42}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"greater_than\", \"value\": 58}]}],"
    " \"risk_management\": {\"max_position_size\": 0.5},"
    " \"backtest\": {\"initial_capital\": 10000, \"commission_pct\": 0.1, \"slippage_pct\": 0}}";

static const char *const USER = "00000000-0000-4000-8000-000000000001";
static const char *const PF = "00000000-0000-4000-8000-0000000000a1";
static const char *const STRAT = "00000000-0000-4000-8000-000000000101";
static const char *const RUN = "00000000-0000-4000-8000-000000000201";

static int64_t fixed_now(void) { return NOW; }

static apex_bar bars[WARM + MINUTES];
static void make_bars(void)
{
  unsigned long long seed = 7;
  double px = 250.0;
  for (int i = 0; i < WARM + MINUTES; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = (double)(seed >> 11) / 9007199254740992.0;
    double close = px * (1 + (u - 0.5) * 0.008);
    bars[i] = (apex_bar){T0 + (int64_t)(i - WARM) * MINUTE, px, fmax(px, close) * 1.0007, fmin(px, close) * 0.9993,
                         close, 5};
    px = close * (1 + (u - 0.5) * 0.001); /* the next open moves a little off the close */
  }
}

/* --- the fake venue: market orders fill at `price`, fee in USDT at 0.1 % --- */
static struct venue {
  apex_dec price;
  apex_broker_order orders[MAX_ORDERS];
  size_t n;
  int placed; /* calls of place() */
  apex_dec usdt, base;
} V;

static apex_err v_rules(void *impl, const char *symbol, apex_market_symbol *out, apex_broker_error *be, apex_error *err)
{
  (void)impl, (void)be, (void)err;
  *out = (apex_market_symbol){.lot_step = 1, .tick_size = 1, .active = true};
  snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
  return APEX_OK;
}

static apex_broker_order *find(const char *client_id)
{
  for (size_t i = 0; i < V.n; i++)
    if (!strcmp(V.orders[i].client_id, client_id))
      return &V.orders[i];
  return NULL;
}

static apex_err v_place(void *impl, const apex_broker_order_req *q, apex_broker_order *out, apex_broker_error *be,
                        apex_error *err)
{
  (void)impl;
  V.placed++;
  *be = (apex_broker_error){.retry_after_s = -1};
  cr_assert_null(find(q->client_id), "order %s sent twice", q->client_id);
  cr_assert_lt(V.n, (size_t)MAX_ORDERS);
  apex_dec notional, fee;
  cr_assert_eq(apex_dec_mul(q->qty, V.price, &notional), APEX_OK);
  cr_assert_eq(apex_fill_commission(q->qty, V.price, APEX_DEC_SCALE / 10, &fee), APEX_OK);
  if (q->buy ? notional + fee > V.usdt : q->qty > V.base) {
    be->fail = APEX_BROKER_NO_FUNDS;
    return apex_error_set(err, APEX_ENOFUNDS, "fake: insufficient balance");
  }
  V.usdt += q->buy ? -notional - fee : notional - fee;
  V.base += q->buy ? q->qty : -q->qty;
  apex_broker_order *o = &V.orders[V.n++];
  *o = (apex_broker_order){.buy = q->buy, .state = APEX_ORDER_STATE_FILLED, .qty = q->qty, .filled_qty = q->qty,
                           .quote_filled = notional, .fee = fee, .time = NOW, .update_time = NOW};
  snprintf(o->client_id, sizeof o->client_id, "%s", q->client_id);
  snprintf(o->venue_id, sizeof o->venue_id, "%zu", V.n);
  snprintf(o->symbol, sizeof o->symbol, "%s", q->symbol);
  snprintf(o->fee_asset, sizeof o->fee_asset, "USDT");
  *out = *o;
  return APEX_OK;
}

static apex_err v_query(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                        apex_broker_error *be, apex_error *err)
{
  (void)impl, (void)symbol;
  *be = (apex_broker_error){.retry_after_s = -1};
  const apex_broker_order *o = find(client_id);
  if (!o) {
    be->fail = APEX_BROKER_NOT_FOUND;
    return apex_error_set(err, APEX_ENOTFOUND, "fake: no such order");
  }
  *out = *o;
  return APEX_OK;
}

static apex_err v_open(void *impl, const char *symbol, apex_broker_order *out, size_t cap, size_t *n,
                       apex_broker_error *be, apex_error *err)
{
  (void)impl, (void)symbol, (void)out, (void)cap, (void)be, (void)err;
  *n = 0; /* every order fills at once */
  return APEX_OK;
}

static apex_err v_balances(void *impl, apex_broker_balance *out, size_t cap, size_t *n, apex_broker_error *be,
                           apex_error *err)
{
  (void)impl, (void)be, (void)err;
  cr_assert_geq(cap, (size_t)2);
  out[0] = (apex_broker_balance){.asset = "USDT", .free = V.usdt};
  out[1] = (apex_broker_balance){.asset = "S0", .free = V.base};
  *n = 2;
  return APEX_OK;
}

static void v_free(void *impl) { (void)impl; }

static const apex_broker_ops FAKE = {.name = "binance", .rules = v_rules, .place = v_place, .query = v_query,
                                     .cancel = v_query, .open_orders = v_open, .balances = v_balances,
                                     .free = v_free};

static apex_err fake_open(void *ctx, const char *venue, bool is_paper, const char *key_id,
                          const apex_broker_credentials *c, apex_broker *out, apex_error *err)
{
  (void)ctx, (void)is_paper, (void)err, (void)key_id;
  cr_assert_str_eq(venue, "binance");
  cr_assert_str_eq(c->api_key, "KEY123"); /* decrypted for the call */
  *out = (apex_broker){.ops = &FAKE, .impl = &V};
  return APEX_OK;
}

/* --- the application around it --- */
typedef struct world {
  char path[256];
  apex_app app;
  apex_runner *r;
} world;

static void open_world(world *w)
{
  apex_error err = {0};
  apex_app_error e = {0};
  char url[300];
  memset(w, 0, sizeof *w);
  memset(&V, 0, sizeof V);
  V.usdt = 10000 * APEX_DEC_SCALE;
  make_bars();
  snprintf(w->path, sizeof w->path, "/tmp/apex-live-parity-%d.db", (int)getpid());
  unlink(w->path);
  snprintf(url, sizeof url, "sqlite:%s", w->path);
  cr_assert_eq(apex_store_open(url, 2, &w->app.store, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migrate(w->app.store, &err), APEX_OK, "%s", err.msg);
  w->app.now_ms = fixed_now;
  w->app.auth.token_hash = apex_auth_token_hash;
  w->app.settings.live_trading = true;
  memset(w->app.enc_key, 7, sizeof w->app.enc_key);
  w->app.broker_open = fake_open;
  apex_store *s = w->app.store;

  apex_user u = {0};
  snprintf(u.id, sizeof u.id, "%s", USER);
  snprintf(u.email, sizeof u.email, "live@apextrade.local");
  snprintf(u.password_hash, sizeof u.password_hash, "x");
  snprintf(u.timezone, sizeof u.timezone, "UTC");
  snprintf(u.preferred_currency, sizeof u.preferred_currency, "USD");
  u.is_active = u.is_verified = true;
  u.created_at = u.updated_at = NOW;
  cr_assert_eq(apex_store_user_insert(s, &u, &err), APEX_OK, "%s", err.msg);
  static const char key[] = "{\"exchange\": \"binance\", \"label\": \"fake\", \"api_key\": \"KEY123\", "
                            "\"api_secret\": \"SECRET456\", \"is_paper\": true}";
  apex_api_key_row kr = {0};
  cr_assert_eq(apex_app_api_key_create(&w->app, USER, key, sizeof key - 1, &kr, &e), APEX_OK, "%s", e.detail);
  apex_portfolio_row pf = {0};
  snprintf(pf.id, sizeof pf.id, "%s", PF);
  snprintf(pf.user_id, sizeof pf.user_id, "%s", USER);
  snprintf(pf.name, sizeof pf.name, "Live binance");
  snprintf(pf.base_currency, sizeof pf.base_currency, "USD");
  snprintf(pf.broker, sizeof pf.broker, "%s", kr.id);
  pf.is_active = true;
  pf.initial_balance = pf.cash_balance = V.usdt;
  pf.created_at = pf.updated_at = NOW;
  cr_assert_eq(apex_store_portfolio_insert(s, &pf, &err), APEX_OK, "%s", err.msg);
  apex_strategy_row st = {0};
  snprintf(st.id, sizeof st.id, "%s", STRAT);
  snprintf(st.user_id, sizeof st.user_id, "%s", USER);
  snprintf(st.name, sizeof st.name, "rsi");
  snprintf(st.symbol, sizeof st.symbol, "S0/USDT");
  snprintf(st.timeframe, sizeof st.timeframe, "1m");
  st.definition = (char *)DOC;
  st.stop_loss_pct = st.take_profit_pct = st.max_position_size_pct = st.max_drawdown_pct = -1;
  st.version = 1;
  snprintf(st.status, sizeof st.status, "active");
  snprintf(st.trading_mode, sizeof st.trading_mode, "live");
  st.created_at = st.updated_at = st.activated_at = NOW;
  cr_assert_eq(apex_store_strategy_insert(s, &st, &err), APEX_OK, "%s", err.msg);
  apex_run_row run = {0};
  snprintf(run.id, sizeof run.id, "%s", RUN);
  snprintf(run.strategy_id, sizeof run.strategy_id, "%s", STRAT);
  snprintf(run.user_id, sizeof run.user_id, "%s", USER);
  snprintf(run.portfolio_id, sizeof run.portfolio_id, "%s", PF);
  snprintf(run.mode, sizeof run.mode, "live");
  snprintf(run.symbol, sizeof run.symbol, "S0/USDT");
  snprintf(run.timeframe, sizeof run.timeframe, "1m");
  run.definition = (char *)DOC;
  snprintf(run.quote_currency, sizeof run.quote_currency, "USDT");
  snprintf(run.base_currency, sizeof run.base_currency, "USD");
  snprintf(run.api_key_id, sizeof run.api_key_id, "%s", kr.id);
  run.fx_rate = APEX_DEC_SCALE;
  run.capital = 10000 * APEX_DEC_SCALE;
  run.commission_pct = APEX_DEC_SCALE / 10;
  run.created_at = NOW;
  cr_assert_eq(apex_store_run_insert(s, &run, &err), APEX_OK, "%s", err.msg);
  apex_api_key_row_clear(&kr);
  apex_series *ser = apex_series_new(WARM);
  for (int i = 0; i < WARM; i++)
    cr_assert_eq(apex_series_append(ser, &bars[i]), APEX_OK);
  cr_assert_eq(apex_store_ohlcv_put(s, "S0/USDT", "1m", ser, "test", &err), APEX_OK, "%s", err.msg);
  apex_series_free(ser);
  apex_runner_options o = {.live_clock = false, .warm_max = WARM, .source = "feed"};
  cr_assert_eq(apex_runner_new(&w->app, &o, &w->r, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_runner_reload(w->r, &err), APEX_OK, "%s", err.msg);
  w->app.runner = w->r;
  cr_assert_eq(apex_live_new(&w->app, &w->app.live, &err), APEX_OK, "%s", err.msg);
}

static void close_world(world *w)
{
  char p[300];
  apex_live_free(w->app.live);
  apex_runner_free(w->r);
  apex_store_close(w->app.store);
  unlink(w->path);
  snprintf(p, sizeof p, "%s-wal", w->path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", w->path);
  unlink(p);
}

/* Candle i closes; the venue's price becomes the next open; the execution pass runs. */
static void step(world *w, int i)
{
  apex_error err = {0};
  cr_assert_eq(apex_runner_on_candle(w->r, "S0/USDT", "1m", &bars[i], &err), APEX_OK, "%s", err.msg);
  if (i + 1 < WARM + MINUTES)
    cr_assert_eq(apex_dec_from_double(bars[i + 1].open, &V.price), APEX_OK);
  cr_assert_eq(apex_live_tick(w->app.live, false, &err), APEX_OK, "%s", err.msg);
}

static apex_live_order_row *orders_of_run(world *w, size_t *n)
{
  apex_error err = {0};
  apex_live_order_row *rows = NULL;
  cr_assert_eq(apex_store_live_orders(w->app.store, RUN, false, &rows, n, &err), APEX_OK, "%s", err.msg);
  return rows;
}

Test(live_parity, a_live_run_on_a_venue_filling_at_the_next_open_makes_the_backtests_trades)
{
  world w;
  apex_error err = {0};
  open_world(&w);
  for (int i = WARM; i < WARM + MINUTES - 1; i++)
    step(&w, i);

  /* The expectation: the backtest over the same candles, trading from T0. */
  apex_strategy *st = NULL;
  apex_problems probs = {0};
  cr_assert_eq(apex_strategy_parse(DOC, sizeof DOC - 1, &st, &probs), APEX_OK);
  apex_series *s = apex_series_new(WARM + MINUTES);
  for (int i = 0; i < WARM + MINUTES - 1; i++)
    cr_assert_eq(apex_series_append(s, &bars[i]), APEX_OK);
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.cfg.start_ms = T0;
  apex_backtest_result res;
  cr_assert_eq(apex_backtest_run(st, s, &o, &res, &err), APEX_OK, "%s", err.msg);
  cr_assert_gt(res.n_trades, 5, "the strategy must trade for the comparison to mean anything (%zu)", res.n_trades);

  size_t n = 0;
  apex_live_order_row *rows = orders_of_run(&w, &n);
  size_t k = 0; /* filled orders, in order: BUY, SELL, BUY, SELL, ... */
  for (size_t t = 0; t < res.n_trades; t++) {
    const apex_bt_trade *tr = &res.trades[t];
    cr_assert_lt(k, n, "trade %zu has no live entry", t);
    const apex_live_order_row *b = &rows[k++];
    cr_assert_str_eq(b->t.side, "BUY");
    cr_assert_str_eq(b->t.status, "filled", "entry %zu: %s", t, b->t.error);
    cr_assert_eq(b->t.filled_quantity, tr->qty, "entry %zu quantity", t);
    cr_assert_eq(b->t.filled_price, tr->entry_price, "entry %zu price", t);
    cr_assert_eq(b->t.commission, tr->entry_commission, "entry %zu fee", t);
    if (tr->reason == APEX_EXIT_END_OF_DATA) { /* the backtest sells at its end; the run still holds */
      cr_assert_eq(t, res.n_trades - 1);
      break;
    }
    cr_assert_lt(k, n, "trade %zu has no live exit", t);
    const apex_live_order_row *x = &rows[k++];
    cr_assert_str_eq(x->t.side, "SELL");
    cr_assert_str_eq(x->t.status, "filled", "exit %zu: %s", t, x->t.error);
    cr_assert_eq(x->t.filled_quantity, tr->qty, "exit %zu quantity", t);
    cr_assert_eq(x->t.filled_price, tr->exit_price, "exit %zu price", t);
    cr_assert_eq(x->t.commission, tr->exit_commission, "exit %zu fee", t);
    cr_assert_eq(x->t.realized_pnl, tr->net_pnl, "exit %zu realized P&L", t);
  }
  cr_assert_eq(k, n, "%zu live orders beyond the backtest's trades", n - k);
  cr_assert_eq((size_t)V.placed, n, "every order sent once");

  /* The live portfolio's position is what the venue holds. */
  apex_position_row pos[4];
  int64_t total = 0;
  size_t np = 0;
  cr_assert_eq(apex_store_positions(w.app.store, NULL, PF, false, 1, 4, pos, &np, &total, &err), APEX_OK);
  cr_assert_eq(np, 1);
  cr_assert_eq(pos[0].quantity, V.base);
  cr_assert_eq(pos[0].is_open, V.base > 0);

  free(rows);
  apex_backtest_result_clear(&res);
  apex_series_free(s);
  apex_strategy_free(st);
  close_world(&w);
}

Test(live_parity, the_kill_switch_leaves_nothing_to_send)
{
  world w;
  apex_error err = {0};
  apex_app_error e = {0};
  open_world(&w);
  size_t n = 0;
  apex_live_order_row *rows = NULL;
  for (int i = WARM; i < WARM + MINUTES - 1 && !n; i++) {
    cr_assert_eq(apex_runner_on_candle(w.r, "S0/USDT", "1m", &bars[i], &err), APEX_OK, "%s", err.msg);
    free(rows);
    rows = orders_of_run(&w, &n);
  }
  cr_assert_eq(n, 1);
  apex_json *out = NULL;
  cr_assert_eq(apex_app_kill_switch(&w.app, USER, &out, &e), APEX_OK, "%s", e.detail);
  cr_assert_eq(apex_json_number_value(apex_json_object_get(out, "strategies_stopped")), 1);
  cr_assert_eq(apex_json_number_value(apex_json_object_get(out, "orders_not_sent")), 1);
  apex_json_free(out);
  cr_assert_eq(apex_live_tick(w.app.live, false, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(V.placed, 0, "an order of a stopped strategy was sent");
  free(rows);
  rows = orders_of_run(&w, &n);
  cr_assert_str_eq(rows[0].t.status, "failed");
  cr_assert(strstr(rows[0].t.error, "kill switch"), "%s", rows[0].t.error);
  free(rows);
  close_world(&w);
}
