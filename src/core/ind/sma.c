/* sma.c - simple moving average with TA-Lib's order of operations: a running sum of the newest
 * period-1 values, plus the new value, divided by period; then the oldest value leaves. */
#include "core/ind/sma.h"

#include <math.h>

#include "core/ind/ind.h"

size_t apex_sma_state_size(int period) { return sizeof(apex_sma) + (size_t)period * sizeof(double); }

void apex_sma_init(apex_sma *s, int period)
{
  s->partial = 0;
  s->ring = (double *)(s + 1);
  s->period = period;
  s->pos = 0;
  s->seen = 0;
}

double apex_sma_update(apex_sma *s, double x)
{
  double out = NAN;
  s->ring[s->pos] = x;
  if (++s->pos == s->period)
    s->pos = 0;
  s->partial += x;
  if (++s->seen >= s->period) {
    out = s->partial / s->period;
    s->partial -= s->ring[s->pos]; /* the oldest value in the window */
  }
  return out;
}

void apex_sma_batch(const double *in, size_t n, int period, double *out)
{
  size_t p = (size_t)period, i = 0;
  double partial = 0;
  for (; i < n && i + 1 < p; i++) {
    partial += in[i];
    out[i] = NAN;
  }
  for (; i < n; i++) {
    partial += in[i];
    out[i] = partial / period;
    partial -= in[i + 1 - p];
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_sma_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_sma_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_sma_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_sma_update(st, b->close); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_sma_batch(s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_sma = {
    .name = "sma",
    .title = "Simple Moving Average",
    .inputs = APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 20, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"sma"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
