/* rsi.c - Wilder's RSI in TA-Lib's order of operations: a simple mean of the first `period` gains
 * and losses, then avg = (avg * (period - 1) + change) / period, RSI = 100 * (gain / (gain + loss)). */
#include "core/ind/rsi.h"

#include <math.h>

#include "core/ind/ind.h"

size_t apex_rsi_state_size(int period)
{
  (void)period;
  return sizeof(apex_rsi);
}

void apex_rsi_init(apex_rsi *s, int period)
{
  s->prev = s->gain = s->loss = 0;
  s->value = NAN;
  s->period = period;
  s->seen = 0;
}

/* TA_IS_ZERO: |v| < 1e-14 counts as no movement at all. */
static inline double rsi_of(double gain, double loss)
{
  double t = gain + loss;
  return (-1e-14 < t && t < 1e-14) ? 0.0 : 100.0 * (gain / t);
}

/* One Wilder step. TA-Lib adds the change only to the side it belongs to; adding +0.0 to the other
 * side leaves the same bits (the averages are never -0), and keeps the loop free of branches. */
static inline void wilder(double *gain, double *loss, double d, double pm1, double p)
{
  double up = d < 0 ? 0.0 : d, down = d < 0 ? -d : 0.0;
  *loss = (*loss * pm1 + down) / p;
  *gain = (*gain * pm1 + up) / p;
}

double apex_rsi_update(apex_rsi *s, double x)
{
  double d = x - s->prev;
  s->prev = x;
  if (s->seen > s->period) {
    wilder(&s->gain, &s->loss, d, (double)(s->period - 1), (double)s->period);
    return s->value = rsi_of(s->gain, s->loss);
  }
  if (s->seen++ == 0)
    return NAN; /* the first value has no change */
  if (d < 0)
    s->loss -= d;
  else
    s->gain += d;
  if (s->seen <= s->period)
    return NAN;
  s->loss /= s->period;
  s->gain /= s->period;
  return s->value = rsi_of(s->gain, s->loss);
}

void apex_rsi_batch(const double *in, size_t n, int period, double *out)
{
  apex_rsi s;
  size_t i = 0;
  apex_rsi_init(&s, period);
  for (; i < n && s.seen <= s.period; i++)
    out[i] = apex_rsi_update(&s, in[i]);
  double prev = s.prev, gain = s.gain, loss = s.loss, pm1 = (double)(period - 1), p = (double)period;
  for (; i < n; i++) {
    double x = in[i];
    wilder(&gain, &loss, x - prev, pm1, p);
    prev = x;
    out[i] = rsi_of(gain, loss);
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_rsi_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_rsi_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_rsi_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_rsi_update(st, b->close); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_rsi_batch(s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_rsi = {
    .name = "rsi",
    .title = "Relative Strength Index",
    .inputs = APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 14, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"rsi"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
