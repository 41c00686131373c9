/* cci.c - commodity channel index. The batch keeps the typical prices in the output array and fills
 * it from the end, so each row overwrites a tp no later window needs: no allocation. */
#include "core/ind/cci.h"

#include <math.h>

#include "core/ind/ind.h"

static inline int is_zero(double x) { return -1e-14 < x && x < 1e-14; } /* TA_IS_ZERO */

static inline double cci_of(double tp, double avg, double dev, double period)
{
  double d = tp - avg;
  return !is_zero(d) && !is_zero(dev) ? d / (0.015 * (dev / period)) : 0.0;
}

size_t apex_cci_state_size(int period) { return sizeof(apex_cci) + (size_t)period * sizeof(double); }

void apex_cci_init(apex_cci *s, int period)
{
  s->ring = (double *)(s + 1);
  s->period = period;
  s->pos = 0;
  s->seen = 0;
}

double apex_cci_update(apex_cci *s, double high, double low, double close)
{
  double tp = (high + low + close) / 3;
  int p = s->period;
  s->ring[s->pos] = tp;
  if (++s->pos == p)
    s->pos = 0;
  if (++s->seen < p)
    return NAN;
  double avg = 0, dev = 0;
  for (int j = 0; j < p; j++)
    avg += s->ring[j];
  avg /= p;
  for (int j = 0; j < p; j++)
    dev += fabs(s->ring[j] - avg);
  return cci_of(tp, avg, dev, p);
}

void apex_cci_batch(const double *high, const double *low, const double *close, size_t n, int period, double *out)
{
  size_t p = (size_t)period;
  for (size_t i = 0; i < n; i++)
    out[i] = (high[i] + low[i] + close[i]) / 3;
  for (size_t i = n; i-- > p - 1;) {
    /* Ring-slot order: slot 0 holds the newest multiple of p, so candles k..i, then i+1-p..k-1. */
    size_t k = i - i % p, w = i + 1 - p;
    double avg = 0, dev = 0;
    for (size_t j = k; j <= i; j++)
      avg += out[j];
    for (size_t j = w; j < k; j++)
      avg += out[j];
    avg /= period;
    for (size_t j = k; j <= i; j++)
      dev += fabs(out[j] - avg);
    for (size_t j = w; j < k; j++)
      dev += fabs(out[j] - avg);
    out[i] = cci_of(out[i], avg, dev, period);
  }
  for (size_t i = 0; i + 1 < p && i < n; i++)
    out[i] = NAN;
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_cci_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_cci_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_cci_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  out[0] = apex_cci_update(st, b->high, b->low, b->close);
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_cci_batch(s->high, s->low, s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_cci = {
    .name = "cci",
    .title = "Commodity Channel Index",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 20, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"cci"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
