/* mfi.c - money flow index with TA-Lib's running sums: the oldest flow leaves before the new one
 * enters. The batch recomputes the leaving flow from the inputs instead of keeping a ring. */
#include "core/ind/mfi.h"

#include <math.h>

#include "core/ind/ind.h"

static inline double typical(double h, double l, double c) { return (h + l + c) / 3.0; }

/* Splits a flow by the tp move; adding or subtracting the unused side's 0.0 changes no bits. */
static inline void split(double tp, double prev_tp, double volume, double *pos, double *neg)
{
  double f = tp * volume;
  *pos = tp > prev_tp ? f : 0.0;
  *neg = tp < prev_tp ? f : 0.0;
}

static inline double mfi_of(double pos, double neg)
{
  double total = pos + neg;
  return total < 1.0 ? 0.0 : 100.0 * (pos / total);
}

size_t apex_mfi_state_size(int period) { return sizeof(apex_mfi) + 2 * (size_t)period * sizeof(double); }

void apex_mfi_init(apex_mfi *s, int period)
{
  s->pos_ring = (double *)(s + 1);
  s->neg_ring = s->pos_ring + period;
  s->pos = s->neg = s->prev_tp = 0;
  s->period = period;
  s->slot = 0;
  s->seen = 0;
}

double apex_mfi_update(apex_mfi *s, double high, double low, double close, double volume)
{
  double tp = typical(high, low, close), fp, fn;
  long long k = s->seen++;
  if (k == 0) {
    s->prev_tp = tp;
    return NAN;
  }
  split(tp, s->prev_tp, volume, &fp, &fn);
  s->prev_tp = tp;
  if (k > s->period) {
    s->pos -= s->pos_ring[s->slot];
    s->neg -= s->neg_ring[s->slot];
  }
  s->pos_ring[s->slot] = fp;
  s->neg_ring[s->slot] = fn;
  if (++s->slot == s->period)
    s->slot = 0;
  s->pos += fp;
  s->neg += fn;
  return k < s->period ? NAN : mfi_of(s->pos, s->neg);
}

void apex_mfi_batch(const double *high, const double *low, const double *close, const double *volume, size_t n,
                    int period, double *out)
{
  size_t p = (size_t)period, i;
  if (n <= p) {
    for (i = 0; i < n; i++)
      out[i] = NAN;
    return;
  }
  double pos = 0, neg = 0, fp, fn, prev = typical(high[0], low[0], close[0]);
  out[0] = NAN;
  for (i = 1; i <= p; i++) {
    double tp = typical(high[i], low[i], close[i]);
    split(tp, prev, volume[i], &fp, &fn);
    prev = tp;
    pos += fp;
    neg += fn;
    out[i] = NAN;
  }
  out[p] = mfi_of(pos, neg);
  /* old_prev and old: the tp of the candles whose flow leaves now (candle i-p) and before it. */
  double old_prev = typical(high[0], low[0], close[0]);
  for (i = p + 1; i < n; i++) {
    double old = typical(high[i - p], low[i - p], close[i - p]), op, on;
    split(old, old_prev, volume[i - p], &op, &on);
    old_prev = old;
    pos -= op;
    neg -= on;
    double tp = typical(high[i], low[i], close[i]);
    split(tp, prev, volume[i], &fp, &fn);
    prev = tp;
    pos += fp;
    neg += fn;
    out[i] = mfi_of(pos, neg);
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_mfi_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_mfi_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_mfi_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  out[0] = apex_mfi_update(st, b->high, b->low, b->close, b->volume);
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_mfi_batch(s->high, s->low, s->close, s->volume, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_mfi = {
    .name = "mfi",
    .title = "Money Flow Index",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE | APEX_IN_VOLUME,
    .n_params = 1,
    .params = {{"period", 14, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"mfi"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
