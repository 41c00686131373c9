/* wma.c - weighted moving average with TA-Lib's running sums: periodSum (weighted) gains
 * x * period and loses periodSub (the plain window sum) each step, so each candle is O(1). */
#include "core/ind/wma.h"

#include <math.h>
#include <string.h>

#include "core/ind/ind.h"

/* TA-Lib computes this in int, which overflows past period 46340; same value below that. */
static double divider(int period) { return (double)((long long)period * (period + 1) / 2); }

size_t apex_wma_state_size(int period) { return sizeof(apex_wma) + (size_t)period * sizeof(double); }

void apex_wma_init(apex_wma *s, int period)
{
  s->sum = s->sub = 0;
  s->ring = (double *)(s + 1);
  /* Zeros: the first trailing value TA-Lib subtracts is 0.0. */
  memset(s->ring, 0, (size_t)period * sizeof(double));
  s->value = NAN;
  s->period = period;
  s->pos = 0;
  s->seen = 0;
  s->divider = divider(period);
}

double apex_wma_update(apex_wma *s, double x)
{
  double trail = s->ring[s->pos]; /* x[i - period], or 0.0 the first time */
  s->ring[s->pos] = x;
  if (++s->pos == s->period)
    s->pos = 0;
  if (s->seen + 1 < s->period) {
    s->seen++;
    s->sub += x;
    s->sum += x * s->seen;
    return NAN;
  }
  s->sub += x;
  s->sub -= trail;
  s->sum += x * s->period;
  s->value = s->sum / s->divider;
  s->sum -= s->sub;
  return s->value;
}

void apex_wma_batch(const double *in, size_t n, int period, double *out)
{
  size_t p = (size_t)period, i = 0;
  double sum = 0, sub = 0, trail = 0.0, dp = (double)period, div = divider(period);
  for (; i < n && i + 1 < p; i++) {
    sub += in[i];
    sum += in[i] * (double)(i + 1);
    out[i] = NAN;
  }
  for (; i < n; i++) {
    double x = in[i];
    sub += x;
    sub -= trail;
    sum += x * dp;
    trail = in[i + 1 - p];
    out[i] = sum / div;
    sum -= sub;
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_wma_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_wma_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_wma_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_wma_update(st, b->close); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_wma_batch(s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_wma = {
    .name = "wma",
    .title = "Weighted Moving Average",
    .inputs = APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 20, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"wma"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
