/* bench_indicators - nanoseconds per candle of each indicator's batch and streaming forms on
 * 10,000,000 seeded synthetic candles in memory, best of 5. Prints `NAME BATCH_NS STREAM_NS`.
 * Periods as in ../shared/reference/README.md (SMA, EMA, WMA 20; RSI, ATR, ADX 14; MACD 12/26/9;
 * BBANDS 20/2), others their defaults. The stream is driven through the registry's update, the way
 * live trading and the rule engine call it. Usage: bench_indicators [CANDLES] [NAME...] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ind/ind.h"

#define REPEAT 5

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double unit(unsigned long long *st)
{
  *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*st >> 11) / 9007199254740992.0;
}

static apex_series *synth(size_t n)
{
  apex_series *s = apex_series_new(n);
  unsigned long long st = 42;
  double price = 100;
  if (!s)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    double open = price, close = open * (1 + (unit(&st) - 0.5) * 0.004);
    apex_bar b = {(int64_t)i * 60000, open, fmax(open, close) * (1 + unit(&st) * 0.002),
                  fmin(open, close) * (1 - unit(&st) * 0.002), close, 1 + unit(&st) * 100};
    apex_series_append(s, &b);
    price = close;
  }
  return s;
}

static int selected(const char *name, int argc, char **argv)
{
  if (argc <= 2)
    return 1;
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], name))
      return 1;
  return 0;
}

int main(int argc, char **argv)
{
  size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000000;
  apex_series *s = synth(n);
  double *outs[APEX_IND_MAX_OUTPUTS];
  double sink = 0;
  size_t count;
  const apex_ind_info *const *all = apex_ind_list(&count);

  for (int k = 0; k < APEX_IND_MAX_OUTPUTS; k++)
    outs[k] = malloc(n * sizeof(double));
  if (!s || !outs[APEX_IND_MAX_OUTPUTS - 1]) {
    fprintf(stderr, "bench_indicators: out of memory\n");
    return 1;
  }
  printf("# %zu candles, best of %d, ns per candle\n# NAME BATCH_NS STREAM_NS\n", n, REPEAT);
  for (size_t i = 0; i < count; i++) {
    const apex_ind_info *ind = all[i];
    if (ind->n_params == 0 && ind->lookback(NULL) == 0 && strcmp(ind->name, "obv") && strcmp(ind->name, "vwap"))
      continue; /* price fields: nothing to measure */
    if (!selected(ind->name, argc, argv))
      continue;
    double p[APEX_IND_MAX_PARAMS];
    apex_ind_defaults(ind, p);
    double best_b = INFINITY, best_s = INFINITY;
    void *st = aligned_alloc(64, (ind->state_size(p) + 63) / 64 * 64);
    for (int r = 0; r < REPEAT; r++) {
      double t0 = now_ns();
      ind->batch(s, p, outs);
      double t1 = now_ns();
      best_b = fmin(best_b, (t1 - t0) / (double)n);
      sink += outs[0][n - 1];

      double o[APEX_IND_MAX_OUTPUTS];
      t0 = now_ns();
      ind->init(st, p);
      for (size_t j = 0; j < n; j++) {
        apex_bar b = {s->time[j], s->open[j], s->high[j], s->low[j], s->close[j], s->volume[j]};
        ind->update(st, &b, o);
      }
      t1 = now_ns();
      sink += o[0];
      best_s = fmin(best_s, (t1 - t0) / (double)n);
    }
    free(st);
    printf("%s %.2f %.2f\n", ind->name, best_b, best_s);
    fflush(stdout);
  }
  if (sink == 12345.678)
    printf("#\n"); /* keeps results alive */
  for (int k = 0; k < APEX_IND_MAX_OUTPUTS; k++)
    free(outs[k]);
  apex_series_free(s);
  return 0;
}
