/* bench_backtest - the whole engine (indicators, rules, fills, ledger, metrics; loading excluded) on
 * 10,000,000 seeded synthetic 1-minute candles in memory, best of 5. Strategy: RSI(14) < 30 AND
 * close > SMA(200) -> buy, RSI(14) > 70 -> sell, stop-loss 2 %, take-profit 5 %. Prints
 * `candles_per_second N` and `bytes_per_candle N` (peak memory beyond the input series / candles),
 * then `candles_per_second_streaming N`: the same run with indicators computed candle by candle in
 * the engine, as paper and live trading do (it must make the same trades).
 * Usage: bench_backtest [CANDLES [batch|streaming]] (the second argument times one path alone, for
 * profiling). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/backtest.h"
#include "sys/bigbuf.h"
#include "core/strategy.h"

static const char STRATEGY[] =
    "{\"name\": \"bench\", \"asset\": \"BTC/USDT\", \"timeframe\": \"1m\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"logic\": \"AND\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"less_than\", \"value\": 30},"
    "   {\"indicator\": \"close\", \"operator\": \"greater_than\", \"value\": {\"indicator\": \"SMA\", \"params\": {\"period\": 200}}}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"greater_than\", \"value\": 70}]}],"
    " \"risk_management\": {\"stop_loss_pct\": 2, \"take_profit_pct\": 5, \"max_position_size\": 1},"
    " \"backtest\": {\"initial_capital\": 10000, \"commission_pct\": 0.1, \"slippage_pct\": 0.05}}";

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long max_rss_kb(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static double unit(unsigned long long *st)
{
  *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*st >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
  size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000000;
  const char *only = argc > 2 ? argv[2] : "";
  bool do_batch = strcmp(only, "streaming") != 0, do_streaming = strcmp(only, "batch") != 0;
  apex_series *s = apex_series_new(n);
  unsigned long long seed = 42;
  double price = 30000;
  if (!s) {
    fprintf(stderr, "bench_backtest: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    double open = price, close = open * (1 + (unit(&seed) - 0.5) * 0.004);
    apex_bar b = {1600000000000 + (int64_t)i * 60000, open, fmax(open, close) * (1 + unit(&seed) * 0.002),
                  fmin(open, close) * (1 - unit(&seed) * 0.002), close, 1 + unit(&seed) * 100};
    apex_series_append(s, &b);
    price = close;
  }
  apex_strategy *st = NULL;
  apex_problems probs = {0};
  if (apex_strategy_parse(STRATEGY, sizeof STRATEGY - 1, &st, &probs)) {
    fprintf(stderr, "bench_backtest: strategy: %s: %s\n", probs.item[0].pointer, probs.item[0].message);
    return 1;
  }
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.alloc = apex_bigbuf_alloc; /* huge pages: 4 KiB page faults cost more than an indicator */
  o.free = apex_bigbuf_free;
  o.equity_every = n / 2000 ? n / 2000 : 1; /* as the CLI keeps it for a JSON result */

  long rss0 = max_rss_kb();
  double best = INFINITY;
  size_t trades = 0;
  long peak_delta = 0;
  for (int r = 0; r < 5 && do_batch; r++) {
    apex_backtest_result res;
    apex_error err;
    double t0 = now_s();
    if (apex_backtest_run(st, s, &o, &res, &err)) {
      fprintf(stderr, "bench_backtest: %s\n", err.msg);
      return 1;
    }
    best = fmin(best, now_s() - t0);
    if (r == 0)
      peak_delta = max_rss_kb() - rss0; /* the first run sets the peak */
    trades = res.n_trades;
    apex_backtest_result_clear(&res);
  }
  if (do_batch) {
    printf("# %zu candles, %zu trades, best of 5: %.4f s\n", n, trades, best);
    printf("candles_per_second %.0f\n", (double)n / best);
    printf("bytes_per_candle %.1f\n", (double)peak_delta * 1024.0 / (double)n);
  }

  /* The same run with the engine computing indicators candle by candle (paper and live's path). */
  o.streaming = true;
  best = INFINITY;
  for (int r = 0; r < 5 && do_streaming; r++) {
    apex_backtest_result res;
    apex_error err;
    double t0 = now_s();
    if (apex_backtest_run(st, s, &o, &res, &err)) {
      fprintf(stderr, "bench_backtest: %s\n", err.msg);
      return 1;
    }
    best = fmin(best, now_s() - t0);
    if (do_batch && res.n_trades != trades) {
      fprintf(stderr, "bench_backtest: streaming made %zu trades, batch %zu\n", res.n_trades, trades);
      return 1;
    }
    apex_backtest_result_clear(&res);
  }
  if (do_streaming)
    printf("candles_per_second_streaming %.0f\n", (double)n / best);
  apex_strategy_free(st);
  apex_series_free(s);
  return 0;
}
