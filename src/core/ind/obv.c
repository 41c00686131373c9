/* obv.c - on-balance volume as TA-Lib computes it: a running total seeded with the first volume,
 * moved by each candle's volume in the direction of the close's change. */
#include "core/ind/obv.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/ind/ind.h"

size_t apex_obv_state_size(void) { return sizeof(apex_obv); }

void apex_obv_init(apex_obv *s)
{
  s->prev = 0;
  s->value = NAN;
  s->started = false;
}

/* TA-Lib adds, subtracts or keeps. Adding -0.0 keeps every value's bits (-0.0 too) and a - b is
 * a + (-b), so one addition gives the same results. The addend is picked with bit masks because
 * the compiler turns a ?: back into branches, which random closes mispredict half the time. */
static inline double step(double obv, double close, double prev, double volume)
{
  uint64_t vb, up = close > prev, down = close < prev, moved = 0 - (up | down);
  memcpy(&vb, &volume, sizeof vb);
  vb = ((vb ^ (down << 63)) & moved) | (UINT64_C(1) << 63 & ~moved);
  double v;
  memcpy(&v, &vb, sizeof v);
  return obv + v;
}

double apex_obv_update(apex_obv *s, double close, double volume)
{
  if (!s->started) {
    s->started = true;
    s->prev = close;
    return s->value = volume;
  }
  s->value = step(s->value, close, s->prev, volume);
  s->prev = close;
  return s->value;
}

void apex_obv_batch(const double *close, const double *volume, size_t n, double *out)
{
  if (n == 0)
    return;
  double obv = volume[0], prev = close[0];
  out[0] = obv;
  for (size_t i = 1; i < n; i++) {
    obv = step(obv, close[i], prev, volume[i]);
    prev = close[i];
    out[i] = obv;
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p)
{
  (void)p;
  return apex_obv_lookback();
}
static size_t size_v(const double *p)
{
  (void)p;
  return apex_obv_state_size();
}
static void init_v(void *st, const double *p)
{
  (void)p;
  apex_obv_init(st);
}
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_obv_update(st, b->close, b->volume); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  (void)p;
  apex_obv_batch(s->close, s->volume, s->n, out[0]);
}

const apex_ind_info apex_ind_obv = {
    .name = "obv",
    .title = "On Balance Volume",
    .inputs = APEX_IN_CLOSE | APEX_IN_VOLUME,
    .n_params = 0,
    .n_outputs = 1,
    .outputs = {"obv"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
