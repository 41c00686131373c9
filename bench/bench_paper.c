/* bench_paper - the paper runner (app/runner.c) under load: 1,000 running paper strategies over
 * 10 symbols (SYM0/USDT .. SYM9/USDT, 1m) in 100 USD portfolios, driven without a thread through
 * apex_runner_on_candles, as the runner's thread does with the candles of its feed that close
 * together. A minute's batch is the 10 candles of that minute, one per symbol, in one call: the
 * time from the candles' close to everything they caused stored (the candles, orders, positions,
 * cash, equity points, refusals: one transaction). Memory per strategy: VmRSS after loading and warming every run up, minus VmRSS before
 * the runner was made, over the number of strategies. Targets (issue 10): p99 < 50 ms per batch,
 * < 64 KiB per strategy. A benchmark prints figures; it never passes or fails.
 *
 * Strategies cycle over four documents shaped on examples/ (RSI mean reversion, SMA crossover,
 * MACD trend, Bollinger breakout) with thresholds loosened so that orders are placed every few
 * minutes. Candles are a seeded random walk per symbol: warm-up history stored first, then the
 * live minutes fed in time order (every symbol's minute t, then t+1, ...).
 *
 * Usage: bench_paper [--db PATH] [--strategies N] [--warm N] [--minutes N]
 * SQLite in a fresh file (default /tmp/bench_paper-PID.db, removed afterwards); the same run on
 * PostgreSQL too when APEX_BENCH_PG_URL is set (its rows are left in that database). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "app/app.h"
#include "app/ids.h"
#include "app/runner.h"

#define SYMBOLS 10
#define PER_PORTFOLIO 10 /* one run of each symbol per portfolio: every candle touches every portfolio */
#define T0 INT64_C(1764547200000) /* 2025-12-01T00:00:00Z */
#define MINUTE INT64_C(60000)

/* Documents shaped on the files in examples/, the asset filled in; %s is "SYMk/USDT". */
static const char *const DOCS[] = {
    /* examples/rsi_mean_reversion.json, 45/55 instead of 30/70 */
    "{\"name\": \"rsi %s\", \"asset\": \"%s\", \"timeframe\": \"1m\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"less_than\", \"value\": 45}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"greater_than\", \"value\": 55}]}],"
    " \"risk_management\": {\"max_position_size\": 0.95},"
    " \"backtest\": {\"initial_capital\": 10000, \"commission_pct\": 0.1, \"slippage_pct\": 0.05}}",
    /* examples/sma_crossover.json, SMA 10/30 instead of 50/200 */
    "{\"name\": \"sma %s\", \"asset\": \"%s\", \"timeframe\": \"1m\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
    "   {\"indicator\": \"SMA\", \"params\": {\"period\": 10}, \"operator\": \"crosses_above\","
    "    \"value\": {\"indicator\": \"SMA\", \"params\": {\"period\": 30}}}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"SMA\", \"params\": {\"period\": 10}, \"operator\": \"crosses_below\","
    "    \"value\": {\"indicator\": \"SMA\", \"params\": {\"period\": 30}}}]}],"
    " \"risk_management\": {\"stop_loss_pct\": 8, \"max_position_size\": 1.0},"
    " \"backtest\": {\"initial_capital\": 10000, \"commission_pct\": 0.1, \"slippage_pct\": 0.05}}",
    /* examples/macd_trend.json, ADX > 10 instead of 20 */
    "{\"name\": \"macd %s\", \"asset\": \"%s\", \"timeframe\": \"1m\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"logic\": \"AND\", \"conditions\": ["
    "   {\"indicator\": \"MACD\", \"params\": {\"fast\": 12, \"slow\": 26, \"signal\": 9}, \"output\": \"macd\","
    "    \"operator\": \"crosses_above\", \"value\": {\"indicator\": \"MACD\","
    "    \"params\": {\"fast\": 12, \"slow\": 26, \"signal\": 9}, \"output\": \"signal\"}},"
    "   {\"indicator\": \"ADX\", \"params\": {\"period\": 14}, \"operator\": \"greater_than\", \"value\": 10},"
    "   {\"indicator\": \"close\", \"operator\": \"greater_than\", \"value\": {\"indicator\": \"EMA\", \"params\": {\"period\": 100}}}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"MACD\", \"output\": \"hist\", \"operator\": \"crosses_below\", \"value\": 0}]}],"
    " \"risk_management\": {\"stop_loss_pct\": 3, \"take_profit_pct\": 9, \"max_position_size\": 0.5, \"max_drawdown_pct\": 25},"
    " \"backtest\": {\"initial_capital\": 10000, \"commission_pct\": 0.1, \"slippage_pct\": 0.05}}",
    /* examples/bollinger_breakout.json, crossing the middle band instead of the upper one */
    "{\"name\": \"bbands %s\", \"asset\": \"%s\", \"timeframe\": \"1m\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"logic\": \"AND\", \"conditions\": ["
    "   {\"indicator\": \"close\", \"operator\": \"crosses_above\", \"value\": {\"indicator\": \"BBANDS\","
    "    \"params\": {\"period\": 20, \"stddev\": 2}, \"output\": \"middle\"}},"
    "   {\"logic\": \"NOT\", \"conditions\": ["
    "     {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"greater_than\", \"value\": 80}]}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"close\", \"operator\": \"less_than\", \"value\": {\"indicator\": \"BBANDS\","
    "    \"params\": {\"period\": 20, \"stddev\": 2}, \"output\": \"lower\"}}]}],"
    " \"risk_management\": {\"stop_loss_pct\": 2, \"take_profit_pct\": 5, \"max_position_size\": 0.2},"
    " \"backtest\": {\"initial_capital\": 10000, \"commission_pct\": 0.1, \"slippage_pct\": 0.02}}",
};
#define N_DOCS (sizeof DOCS / sizeof DOCS[0])

typedef struct cfg {
  const char *db; /* store url or SQLite path */
  const char *label;
  size_t strategies, warm, minutes;
} cfg;

typedef struct walk {
  unsigned long long seed;
  double price;
} walk;

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double clock_s(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }
/* This thread's CPU time: on a machine shared with other work, wall time also counts waiting for a
 * core; the difference shows how much. */
static double cpu_s(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }

/* VmRSS in KiB: what the process holds now (ru_maxrss only ever grows). */
static long rss_kb(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6))
      kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

static double unit(unsigned long long *st)
{
  *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*st >> 11) / 9007199254740992.0;
}

/* The next minute of a symbol's walk: +-0.3 % a minute, so RSI and the crosses move often. */
static apex_bar next_bar(walk *w, int64_t t)
{
  double open = w->price, close = open * (1 + (unit(&w->seed) - 0.5) * 0.006);
  apex_bar b = {t, open, fmax(open, close) * (1 + unit(&w->seed) * 0.001),
                fmin(open, close) * (1 - unit(&w->seed) * 0.001), close, 1 + unit(&w->seed) * 100};
  w->price = close;
  return b;
}

static void symbol_name(size_t k, char *out, size_t cap) { snprintf(out, cap, "SYM%zu/USDT", k); }

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double pct(const double *v, size_t n, double p)
{
  size_t k = (size_t)ceil(p / 100.0 * (double)n);
  return n ? v[k ? k - 1 : 0] : 0;
}

static apex_err fail(apex_error *err, apex_err rc, const char *what)
{
  fprintf(stderr, "bench_paper: %s: %s\n", what, err->msg);
  return rc;
}

/* One user, n/10 portfolios, n strategies with a running run each. */
static apex_err seed_accounts(apex_store *s, size_t n, apex_error *err)
{
  apex_user u = {0};
  apex_err rc;
  const int64_t now = wall_ms();
  if ((rc = apex_app_new_id(u.id)))
    return apex_error_set(err, rc, "no randomness for an id");
  snprintf(u.email, sizeof u.email, "bench-%.8s@apextrade.local", u.id);
  snprintf(u.password_hash, sizeof u.password_hash, "x");
  snprintf(u.timezone, sizeof u.timezone, "UTC");
  snprintf(u.preferred_currency, sizeof u.preferred_currency, "USD");
  u.is_active = u.is_verified = true;
  u.created_at = u.updated_at = now;
  if ((rc = apex_store_user_insert(s, &u, err)))
    return fail(err, rc, "user");
  apex_id pf_id = "";
  for (size_t i = 0; i < n; i++) {
    if (i % PER_PORTFOLIO == 0) {
      apex_portfolio_row p = {0};
      if ((rc = apex_app_new_id(p.id)))
        return apex_error_set(err, rc, "no randomness for an id");
      snprintf(p.user_id, sizeof p.user_id, "%s", u.id);
      snprintf(p.name, sizeof p.name, "bench %zu", i / PER_PORTFOLIO);
      snprintf(p.base_currency, sizeof p.base_currency, "USD");
      p.is_paper = p.is_active = true;
      p.initial_balance = p.cash_balance = 100000 * APEX_DEC_SCALE;
      p.created_at = p.updated_at = now;
      if ((rc = apex_store_portfolio_insert(s, &p, err)))
        return fail(err, rc, "portfolio");
      snprintf(pf_id, sizeof pf_id, "%s", p.id);
    }
    char sym[32], doc[4096];
    symbol_name(i % SYMBOLS, sym, sizeof sym);
    snprintf(doc, sizeof doc, DOCS[(i / SYMBOLS) % N_DOCS], sym, sym);
    apex_strategy_row st = {0};
    if ((rc = apex_app_new_id(st.id)))
      return apex_error_set(err, rc, "no randomness for an id");
    snprintf(st.user_id, sizeof st.user_id, "%s", u.id);
    snprintf(st.name, sizeof st.name, "bench %zu", i);
    snprintf(st.symbol, sizeof st.symbol, "%s", sym);
    snprintf(st.timeframe, sizeof st.timeframe, "1m");
    st.definition = doc;
    st.stop_loss_pct = st.take_profit_pct = st.max_position_size_pct = st.max_drawdown_pct = -1;
    st.version = 1;
    snprintf(st.status, sizeof st.status, "active");
    snprintf(st.trading_mode, sizeof st.trading_mode, "paper");
    st.created_at = st.updated_at = st.activated_at = now;
    if ((rc = apex_store_strategy_insert(s, &st, err)))
      return fail(err, rc, "strategy");
    /* What activation.c stores: USD portfolio, USDT pair, so the rate is 1 without a lookup. */
    apex_run_row run = {0};
    if ((rc = apex_app_new_id(run.id)))
      return apex_error_set(err, rc, "no randomness for an id");
    snprintf(run.strategy_id, sizeof run.strategy_id, "%s", st.id);
    snprintf(run.user_id, sizeof run.user_id, "%s", u.id);
    snprintf(run.portfolio_id, sizeof run.portfolio_id, "%s", pf_id);
    snprintf(run.mode, sizeof run.mode, "paper");
    snprintf(run.symbol, sizeof run.symbol, "%s", sym);
    snprintf(run.timeframe, sizeof run.timeframe, "1m");
    run.definition = doc;
    snprintf(run.quote_currency, sizeof run.quote_currency, "USDT");
    snprintf(run.base_currency, sizeof run.base_currency, "USD");
    run.fx_rate = APEX_DEC_SCALE;
    run.capital = 10000 * APEX_DEC_SCALE;
    run.commission_pct = APEX_DEC_SCALE / 10;
    run.slippage_pct = APEX_DEC_SCALE / 20;
    run.created_at = now + (int64_t)i; /* loaded oldest first: keep the order they were made in */
    if ((rc = apex_store_run_insert(s, &run, err)))
      return fail(err, rc, "run");
  }
  return APEX_OK;
}

/* Warm-up history: warm candles per symbol before T0. */
static apex_err seed_history(apex_store *s, walk *w, size_t warm, apex_error *err)
{
  apex_err rc = APEX_OK;
  for (size_t k = 0; k < SYMBOLS && !rc; k++) {
    char sym[32];
    apex_series *ser = apex_series_new(warm ? warm : 1);
    if (!ser)
      return apex_error_set(err, APEX_ENOMEM, "out of memory");
    symbol_name(k, sym, sizeof sym);
    for (size_t i = 0; i < warm; i++) {
      apex_bar b = next_bar(&w[k], T0 - (int64_t)(warm - i) * MINUTE);
      apex_series_append(ser, &b);
    }
    if (warm && (rc = apex_store_ohlcv_put(s, sym, "1m", ser, "bench", err)))
      fail(err, rc, "candles");
    apex_series_free(ser);
  }
  return rc;
}

/* Orders and equity points stored, over every portfolio of the bench's runs; refusals would need
 * one query per strategy, so they are left out. The runs are stopped afterwards, so that a
 * database kept (--db, PostgreSQL) does not hand them to the next run's runner. */
static apex_err count_and_stop(apex_store *s, int64_t *orders, int64_t *equity, apex_error *err)
{
  apex_run_row *runs = NULL;
  size_t n = 0;
  apex_err rc = apex_store_runs_running(s, &runs, &n, err);
  *orders = *equity = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    if (i % PER_PORTFOLIO) /* one portfolio per PER_PORTFOLIO runs, made in that order */
      continue;
    apex_portfolio_trade_row t;
    apex_equity_row e;
    size_t got;
    int64_t total;
    if (!(rc = apex_store_portfolio_trades(s, NULL, runs[i].portfolio_id, 1, 1, &t, &got, &total, err)))
      *orders += total;
    if (!rc && !(rc = apex_store_equity(s, NULL, runs[i].portfolio_id, 1, 1, &e, &got, &total, err)))
      *equity += total;
  }
  for (size_t i = 0; i < n; i++) {
    if (!rc)
      rc = apex_store_run_stop(s, runs[i].id, "stopped", "", wall_ms(), err);
    apex_run_row_clear(&runs[i]);
  }
  free(runs);
  return rc;
}

static void print_dist(const char *name, double *v, size_t n)
{
  qsort(v, n, sizeof *v, cmp_double);
  printf("%s_p50: %.3f ms\n", name, pct(v, n, 50) * 1e3);
  printf("%s_p99: %.3f ms\n", name, pct(v, n, 99) * 1e3);
  printf("%s_max: %.3f ms\n", name, n ? v[n - 1] * 1e3 : 0);
}

static int bench(const cfg *c)
{
  apex_app app = {0};
  apex_runner *r = NULL;
  apex_error err = {0};
  walk w[SYMBOLS];
  double *batch = NULL, *batch_cpu = NULL;
  const size_t n_calls = c->minutes * SYMBOLS;
  int status = 1;
  double t_setup = now_s();

  for (size_t k = 0; k < SYMBOLS; k++)
    w[k] = (walk){0x9e3779b97f4a7c15ULL * (k + 1), 100.0 * (double)(k + 1)};
  batch = calloc(c->minutes, sizeof *batch);
  batch_cpu = calloc(c->minutes, sizeof *batch_cpu);
  if (!batch || !batch_cpu) {
    fprintf(stderr, "bench_paper: out of memory\n");
    goto out;
  }
  if (apex_store_open(c->db, 4, &app.store, &err) || apex_store_migrate(app.store, &err)) {
    fprintf(stderr, "bench_paper: %s: %s\n", c->db, err.msg);
    goto out;
  }
  app.now_ms = wall_ms;
  app.auth.token_hash = apex_auth_token_hash; /* the real SHA-256 the server derives order ids with */
  if (seed_accounts(app.store, c->strategies, &err) || seed_history(app.store, w, c->warm, &err))
    goto out;
  t_setup = now_s() - t_setup;

  long rss0 = rss_kb();
  apex_runner_options o = {.feed = NULL, .live_clock = false, .warm_max = c->warm, .source = "bench"};
  double t_load = now_s();
  if (apex_runner_new(&app, &o, &r, &err) || apex_runner_reload(r, &err)) {
    fprintf(stderr, "bench_paper: runner: %s\n", err.msg);
    goto out;
  }
  t_load = now_s() - t_load;
  long rss_loaded = rss_kb();

  /* Minute 0 warms every run up (its stored history read and stepped) before it trades: timed
   * apart, as a start-up cost, not part of the steady state the target is about. */
  double warm_batch = 0, total = 0;
  long rss_warm = 0;
  for (size_t m = 0; m <= c->minutes; m++) {
    apex_market_event evs[SYMBOLS];
    for (size_t k = 0; k < SYMBOLS; k++) {
      evs[k] = (apex_market_event){.kind = APEX_MARKET_CANDLE, .bar = next_bar(&w[k], T0 + (int64_t)m * MINUTE)};
      symbol_name(k, evs[k].symbol, sizeof evs[k].symbol);
      memcpy(evs[k].timeframe, "1m", 3);
    }
    double t = now_s(), u = cpu_s();
    if (apex_runner_on_candles(r, evs, SYMBOLS, &err)) {
      fprintf(stderr, "bench_paper: candles of minute %zu: %s\n", m, err.msg);
      goto out;
    }
    u = cpu_s() - u;
    t = now_s() - t;
    if (!m) {
      warm_batch = t;
      rss_warm = rss_kb();
      continue;
    }
    batch[m - 1] = t;
    batch_cpu[m - 1] = u;
    total += t;
  }
  long rss_end = rss_kb();

  int64_t orders = 0, equity = 0;
  if (count_and_stop(app.store, &orders, &equity, &err)) {
    fprintf(stderr, "bench_paper: counting: %s\n", err.msg);
    goto out;
  }
  printf("# paper runner: %zu running paper strategies (%zu documents cycled), %d symbols x 1m, %zu portfolios;\n"
         "# %zu warm-up candles per symbol, %zu live minutes; store %s (%s); time = apex_runner_on_candles "
         "of a minute's %d candles (stored, runs stepped, one commit)\n",
         c->strategies, (size_t)N_DOCS, SYMBOLS, (c->strategies + PER_PORTFOLIO - 1) / PER_PORTFOLIO, c->warm,
         c->minutes, apex_store_backend(app.store), c->label, SYMBOLS);
  printf("setup_s: %.2f s (not measured: store seeding)\n", t_setup);
  printf("reload_s: %.3f s (%zu runs parsed, sessions made)\n", t_load, c->strategies);
  printf("warmup_batch_ms: %.1f ms (minute 0: every run reads and steps its %zu stored candles)\n", warm_batch * 1e3,
         c->warm);
  /* Per hour first (before sorting): does a batch get slower as the tables grow? */
  for (size_t h = 0; h * 60 < c->minutes; h++) {
    size_t n = c->minutes - h * 60 < 60 ? c->minutes - h * 60 : 60;
    double v[60];
    memcpy(v, batch + h * 60, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    printf("batch_p50_hour%zu: %.3f ms (minutes %zu-%zu)\n", h + 1, pct(v, n, 50) * 1e3, h * 60 + 1, h * 60 + n);
  }
  print_dist("batch", batch, c->minutes);
  print_dist("batch_cpu", batch_cpu, c->minutes);
  printf("target: p99 < 50 ms per batch (batch_p99 above)\n");
  printf("candles_per_second: %.0f symbol candles/s (%.0f strategy steps/s)\n", (double)n_calls / total,
         (double)n_calls / total * (double)c->strategies / SYMBOLS);
  printf("orders_stored: %lld\n", (long long)orders);
  printf("equity_points_stored: %lld\n", (long long)equity);
  printf("rss_before_runner: %ld KiB\n", rss0);
  printf("rss_after_reload: %ld KiB\n", rss_loaded);
  printf("rss_after_warmup: %ld KiB\n", rss_warm);
  printf("rss_after_live: %ld KiB\n", rss_end);
  printf("memory_per_strategy: %.1f KiB (reload + warm-up; target < 64 KiB per strategy)\n",
         (double)(rss_warm - rss0) / (double)c->strategies);
  printf("memory_per_strategy_after_live: %.1f KiB\n", (double)(rss_end - rss0) / (double)c->strategies);
  status = 0;
out:
  apex_runner_free(r);
  apex_store_close(app.store);
  free(batch);
  free(batch_cpu);
  return status;
}

int main(int argc, char **argv)
{
  char path[256];
  cfg c = {NULL, "temporary file", 1000, 500, 300};
  bool own_db = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--db"))
      c.db = argv[i + 1], c.label = "--db";
    else if (!strcmp(argv[i], "--strategies"))
      c.strategies = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--warm"))
      c.warm = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--minutes"))
      c.minutes = strtoul(argv[i + 1], NULL, 10);
    else
      break;
  }
  if (argc % 2 == 0 || !c.strategies || !c.warm || !c.minutes) {
    fprintf(stderr, "usage: bench_paper [--db PATH] [--strategies N] [--warm N] [--minutes N]\n");
    return 2;
  }
  if (!c.db) {
    snprintf(path, sizeof path, "/tmp/bench_paper-%ld.db", (long)getpid());
    c.db = path;
    own_db = true;
  }
  int status = bench(&c);
  if (own_db) { /* with its WAL and shared-memory files */
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
  }
  const char *pg = getenv("APEX_BENCH_PG_URL");
  if (!status && pg && pg[0]) {
    cfg p = c;
    p.db = pg;
    p.label = "APEX_BENCH_PG_URL";
    printf("\n");
    status = bench(&p);
  }
  return status;
}
