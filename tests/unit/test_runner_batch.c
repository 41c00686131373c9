/* app/runner.c: candles that close together written in one transaction (apex_runner_on_candles,
 * as the thread gathers a poll's pairs) store exactly what the same candles give one call each:
 * every order with its fill, every position, every equity point and the cash of each portfolio.
 * Two SQLite stores seeded alike (fixed ids, so the derived order ids agree), three symbols on
 * 1m, a 5m run built from one symbol's 1m candles, portfolios shared across symbols. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/auth.h"
#include "app/app.h"
#include "app/runner.h"

#define SYMBOLS 3
#define MINUTES 240
#define WARM 60
#define MINUTE INT64_C(60000)
#define T0 INT64_C(1764547200000) /* 2025-12-01T00:00:00Z */
#define NOW INT64_C(1764633600000)
#define MAX_ROWS 2000

static const char *const DOCS[] = {
    "{\"name\": \"rsi\", \"asset\": \"%s\", \"timeframe\": \"%s\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"less_than\", \"value\": 45}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"greater_than\", \"value\": 55}]}],"
    " \"risk_management\": {\"max_position_size\": 0.3},"
    " \"backtest\": {\"initial_capital\": 10000, \"commission_pct\": 0.1, \"slippage_pct\": 0.05}}",
    "{\"name\": \"sma\", \"asset\": \"%s\", \"timeframe\": \"%s\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
    "   {\"indicator\": \"SMA\", \"params\": {\"period\": 5}, \"operator\": \"crosses_above\","
    "    \"value\": {\"indicator\": \"SMA\", \"params\": {\"period\": 15}}}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"SMA\", \"params\": {\"period\": 5}, \"operator\": \"crosses_below\","
    "    \"value\": {\"indicator\": \"SMA\", \"params\": {\"period\": 15}}}]}],"
    " \"risk_management\": {\"stop_loss_pct\": 0.4, \"take_profit_pct\": 0.6, \"max_position_size\": 0.3},"
    " \"backtest\": {\"initial_capital\": 10000, \"commission_pct\": 0.1, \"slippage_pct\": 0.05}}",
};

static const char *const USER = "00000000-0000-4000-8000-000000000001";
static const char *const PFS[] = {"00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a2"};

static int64_t fixed_now(void) { return NOW; }

static unsigned long long seed;
static double unit(void)
{
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(seed >> 11) / 9007199254740992.0;
}

/* Each symbol's candles, the same for both stores: +-0.3 % a minute. */
static apex_bar bars[SYMBOLS][WARM + MINUTES];
static void make_bars(void)
{
  seed = 42;
  for (int k = 0; k < SYMBOLS; k++) {
    double px = 100.0 * (k + 1);
    for (int i = 0; i < WARM + MINUTES; i++) {
      double close = px * (1 + (unit() - 0.5) * 0.006);
      bars[k][i] = (apex_bar){T0 + (int64_t)(i - WARM) * MINUTE, px, fmax(px, close) * (1 + unit() * 0.001),
                              fmin(px, close) * (1 - unit() * 0.001), close, 1 + unit() * 10};
      px = close;
    }
  }
}

static void symbol(int k, char *out, size_t cap) { snprintf(out, cap, "S%d/USDT", k); }

static void seed_store(apex_store *s)
{
  apex_error err = {0};
  apex_user u = {0};
  snprintf(u.id, sizeof u.id, "%s", USER);
  snprintf(u.email, sizeof u.email, "batch@apextrade.local");
  snprintf(u.password_hash, sizeof u.password_hash, "x");
  snprintf(u.timezone, sizeof u.timezone, "UTC");
  snprintf(u.preferred_currency, sizeof u.preferred_currency, "USD");
  u.is_active = u.is_verified = true;
  u.created_at = u.updated_at = NOW;
  cr_assert_eq(apex_store_user_insert(s, &u, &err), APEX_OK, "%s", err.msg);
  for (int p = 0; p < 2; p++) {
    apex_portfolio_row row = {0};
    snprintf(row.id, sizeof row.id, "%s", PFS[p]);
    snprintf(row.user_id, sizeof row.user_id, "%s", USER);
    snprintf(row.name, sizeof row.name, "p%d", p);
    snprintf(row.base_currency, sizeof row.base_currency, "USD");
    row.is_paper = row.is_active = true;
    row.initial_balance = row.cash_balance = 30000 * APEX_DEC_SCALE;
    row.created_at = row.updated_at = NOW;
    cr_assert_eq(apex_store_portfolio_insert(s, &row, &err), APEX_OK, "%s", err.msg);
  }
  /* Runs: each doc on each symbol at 1m, and the RSI doc on S0 at 5m; portfolios alternate. */
  int n = 0;
  for (int k = 0; k <= SYMBOLS; k++)
    for (int d = 0; d < 2; d++) {
      if (k == SYMBOLS && d == 1)
        break;
      char sym[16], doc[2048];
      const char *tf = k == SYMBOLS ? "5m" : "1m";
      symbol(k == SYMBOLS ? 0 : k, sym, sizeof sym);
      snprintf(doc, sizeof doc, DOCS[d], sym, tf);
      apex_strategy_row st = {0};
      snprintf(st.id, sizeof st.id, "00000000-0000-4000-8000-0000000001%02d", n);
      snprintf(st.user_id, sizeof st.user_id, "%s", USER);
      snprintf(st.name, sizeof st.name, "s%d", n);
      snprintf(st.symbol, sizeof st.symbol, "%s", sym);
      snprintf(st.timeframe, sizeof st.timeframe, "%s", tf);
      st.definition = doc;
      st.stop_loss_pct = st.take_profit_pct = st.max_position_size_pct = st.max_drawdown_pct = -1;
      st.version = 1;
      snprintf(st.status, sizeof st.status, "active");
      snprintf(st.trading_mode, sizeof st.trading_mode, "paper");
      st.created_at = st.updated_at = st.activated_at = NOW;
      cr_assert_eq(apex_store_strategy_insert(s, &st, &err), APEX_OK, "%s", err.msg);
      apex_run_row run = {0};
      snprintf(run.id, sizeof run.id, "00000000-0000-4000-8000-0000000002%02d", n);
      snprintf(run.strategy_id, sizeof run.strategy_id, "%s", st.id);
      snprintf(run.user_id, sizeof run.user_id, "%s", USER);
      snprintf(run.portfolio_id, sizeof run.portfolio_id, "%s", PFS[n % 2]);
      snprintf(run.mode, sizeof run.mode, "paper");
      snprintf(run.symbol, sizeof run.symbol, "%s", sym);
      snprintf(run.timeframe, sizeof run.timeframe, "%s", tf);
      run.definition = doc;
      snprintf(run.quote_currency, sizeof run.quote_currency, "USDT");
      snprintf(run.base_currency, sizeof run.base_currency, "USD");
      run.fx_rate = APEX_DEC_SCALE;
      run.capital = 10000 * APEX_DEC_SCALE;
      run.commission_pct = APEX_DEC_SCALE / 10;
      run.slippage_pct = APEX_DEC_SCALE / 20;
      run.created_at = NOW + n;
      cr_assert_eq(apex_store_run_insert(s, &run, &err), APEX_OK, "%s", err.msg);
      n++;
    }
  for (int k = 0; k < SYMBOLS; k++) {
    char sym[16];
    symbol(k, sym, sizeof sym);
    apex_series *ser = apex_series_new(WARM);
    for (int i = 0; i < WARM; i++)
      cr_assert_eq(apex_series_append(ser, &bars[k][i]), APEX_OK);
    cr_assert_eq(apex_store_ohlcv_put(s, sym, "1m", ser, "test", &err), APEX_OK, "%s", err.msg);
    apex_series_free(ser);
  }
}

typedef struct side {
  char path[256];
  apex_app app;
  apex_runner *r;
} side;

/* url NULL: a SQLite file of its own. */
static void open_side(side *sd, const char *name, const char *url_or_null)
{
  apex_error err = {0};
  char url[300];
  snprintf(sd->path, sizeof sd->path, "/tmp/apex-runner-batch-%d-%s.db", (int)getpid(), name);
  snprintf(url, sizeof url, "%s%s", url_or_null ? "" : "sqlite:", url_or_null ? url_or_null : sd->path);
  cr_assert_eq(apex_store_open(url, 2, &sd->app.store, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migrate(sd->app.store, &err), APEX_OK, "%s", err.msg);
  sd->app.now_ms = fixed_now;
  sd->app.auth.token_hash = apex_auth_token_hash;
  seed_store(sd->app.store);
  apex_runner_options o = {.live_clock = false, .warm_max = WARM, .source = "feed"};
  cr_assert_eq(apex_runner_new(&sd->app, &o, &sd->r, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_runner_reload(sd->r, &err), APEX_OK, "%s", err.msg);
}

static void close_side(side *sd)
{
  char p[300];
  apex_runner_free(sd->r);
  apex_store_close(sd->app.store);
  unlink(sd->path);
  snprintf(p, sizeof p, "%s-wal", sd->path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", sd->path);
  unlink(p);
}

static apex_portfolio_trade_row ta[MAX_ROWS], tb[MAX_ROWS];
static apex_equity_row ea[MAX_ROWS], eb[MAX_ROWS];
static apex_position_row pa[64], pb[64];

/* One call per candle into a SQLite file, a minute's candles per call into batch_url (NULL: a
 * SQLite file); then everything stored compared. */
static void compare(const char *batch_url)
{
  apex_error err = {0};
  side a = {0}, b = {0};
  make_bars();
  open_side(&a, "one", NULL);
  open_side(&b, "batch", batch_url);
  for (int m = 0; m < MINUTES; m++) {
    apex_market_event evs[SYMBOLS];
    for (int k = 0; k < SYMBOLS; k++) {
      evs[k] = (apex_market_event){.kind = APEX_MARKET_CANDLE, .bar = bars[k][WARM + m]};
      symbol(k, evs[k].symbol, sizeof evs[k].symbol);
      memcpy(evs[k].timeframe, "1m", 3);
      cr_assert_eq(apex_runner_on_candle(a.r, evs[k].symbol, "1m", &evs[k].bar, &err), APEX_OK, "%s", err.msg);
    }
    cr_assert_eq(apex_runner_on_candles(b.r, evs, SYMBOLS, &err), APEX_OK, "%s", err.msg);
  }
  size_t fills = 0;
  for (int p = 0; p < 2; p++) {
    size_t na, nb;
    int64_t total_a, total_b;
    cr_assert_eq(apex_store_portfolio_trades(a.app.store, NULL, PFS[p], 1, MAX_ROWS, ta, &na, &total_a, &err), APEX_OK);
    cr_assert_eq(apex_store_portfolio_trades(b.app.store, NULL, PFS[p], 1, MAX_ROWS, tb, &nb, &total_b, &err), APEX_OK);
    cr_assert_eq(na, nb, "portfolio %d: %zu orders one by one, %zu in batches", p, na, nb);
    cr_assert_lt(na, (size_t)MAX_ROWS);
    for (size_t i = 0; i < na; i++) {
      cr_assert_str_eq(ta[i].id, tb[i].id);
      cr_assert_str_eq(ta[i].side, tb[i].side);
      cr_assert_str_eq(ta[i].status, tb[i].status);
      cr_assert_str_eq(ta[i].symbol, tb[i].symbol);
      cr_assert_eq(ta[i].filled_quantity, tb[i].filled_quantity, "order %s", ta[i].id);
      cr_assert_eq(ta[i].filled_price, tb[i].filled_price, "order %s", ta[i].id);
      cr_assert_eq(ta[i].commission, tb[i].commission, "order %s", ta[i].id);
      cr_assert_eq(ta[i].filled_at, tb[i].filled_at, "order %s", ta[i].id);
      fills += !strcmp(ta[i].status, "filled");
    }
    cr_assert_eq(apex_store_equity(a.app.store, NULL, PFS[p], 1, MAX_ROWS, ea, &na, &total_a, &err), APEX_OK);
    cr_assert_eq(apex_store_equity(b.app.store, NULL, PFS[p], 1, MAX_ROWS, eb, &nb, &total_b, &err), APEX_OK);
    cr_assert_eq(na, nb);
    cr_assert_eq(na, (size_t)MINUTES, "an equity point a minute: %zu", na);
    for (size_t i = 0; i < na; i++) {
      cr_assert_eq(ea[i].time, eb[i].time);
      cr_assert_eq(ea[i].equity_value, eb[i].equity_value, "equity at %lld", (long long)ea[i].time);
      cr_assert_eq(ea[i].cash_balance, eb[i].cash_balance);
      cr_assert_eq(ea[i].positions_value, eb[i].positions_value);
    }
    cr_assert_eq(apex_store_positions(a.app.store, NULL, PFS[p], false, 1, 64, pa, &na, &total_a, &err), APEX_OK);
    cr_assert_eq(apex_store_positions(b.app.store, NULL, PFS[p], false, 1, 64, pb, &nb, &total_b, &err), APEX_OK);
    cr_assert_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
      cr_assert_str_eq(pa[i].id, pb[i].id);
      cr_assert_eq(pa[i].quantity, pb[i].quantity);
      cr_assert_eq(pa[i].average_entry_price, pb[i].average_entry_price);
      cr_assert_eq(pa[i].current_price, pb[i].current_price);
      cr_assert_eq(pa[i].is_open, pb[i].is_open);
    }
    apex_portfolio_row ra, rb;
    cr_assert_eq(apex_store_portfolio_get(a.app.store, NULL, PFS[p], &ra, &err), APEX_OK);
    cr_assert_eq(apex_store_portfolio_get(b.app.store, NULL, PFS[p], &rb, &err), APEX_OK);
    cr_assert_eq(ra.cash_balance, rb.cash_balance);
    apex_portfolio_row_clear(&ra);
    apex_portfolio_row_clear(&rb);
  }
  cr_assert_gt(fills, 20, "the strategies must trade for the comparison to mean anything (%zu fills)", fills);
  /* The 5m run was stepped on candles built from S0's minutes, in both. */
  apex_run_row ra, rb;
  cr_assert_eq(apex_store_run_latest(a.app.store, NULL, "00000000-0000-4000-8000-000000000106", &ra, &err), APEX_OK,
               "%s", err.msg);
  cr_assert_eq(apex_store_run_latest(b.app.store, NULL, "00000000-0000-4000-8000-000000000106", &rb, &err), APEX_OK);
  cr_assert_str_eq(ra.timeframe, "5m");
  cr_assert_gt(ra.candles, MINUTES / 5 - 2);
  cr_assert_eq(ra.candles, rb.candles);
  cr_assert_eq(ra.last_time, rb.last_time);
  apex_run_row_clear(&ra);
  apex_run_row_clear(&rb);
  close_side(&a);
  close_side(&b);
}

Test(runner_batch, candles_closing_together_store_what_one_call_each_stores) { compare(NULL); }

/* The same batches into PostgreSQL, whose bulk upserts refuse a key given twice in one load (a
 * position marked at several candles, a portfolio's point at a coarser candle's earlier time): a
 * database of its own, made with psql in APEX_TEST_PG_URL's cluster. */
Test(runner_batch, the_batches_on_postgresql_store_the_same)
{
  const char *base = getenv("APEX_TEST_PG_URL"), *req = getenv("APEX_REQUIRE_PG");
  if (!base || !*base) {
    cr_assert(!req || !*req, "APEX_TEST_PG_URL is not set but APEX_REQUIRE_PG is");
    cr_skip_test("APEX_TEST_PG_URL is not set");
  }
  const char *slash = strrchr(base, '/');
  char name[64], cmd[1024], url[512];
  cr_assert(slash && strlen(base) < 400);
  snprintf(name, sizeof name, "runner_batch_%d", (int)getpid());
  snprintf(cmd, sizeof cmd, "psql '%s' -q -c 'DROP DATABASE IF EXISTS %s' -c 'CREATE DATABASE %s' >/dev/null", base,
           name, name);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  snprintf(url, sizeof url, "%.*s/%s", (int)(slash - base), base, name);
  compare(url);
}
