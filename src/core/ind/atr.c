/* atr.c - average true range. The Wilder step multiplies by (period-1)/period and 1/period instead of
 * TA-Lib's (atr*(period-1) + tr)/period: a division on the critical path costs ~3x; values agree with
 * TA-Lib to ~1e-15 relative. */
#include "core/ind/atr.h"

#include <math.h>

#include "core/ind/ind.h"

static inline double true_range(double high, double low, double prev_close)
{
  double hi = high > prev_close ? high : prev_close;
  double lo = low < prev_close ? low : prev_close;
  return hi - lo;
}

size_t apex_atr_state_size(int period)
{
  (void)period;
  return sizeof(apex_atr);
}

void apex_atr_init(apex_atr *s, int period)
{
  s->prev_close = 0;
  s->atr = 0;
  s->keep = (double)(period - 1) / period;
  s->add = 1.0 / period;
  s->period = period;
  s->seen = 0;
}

double apex_atr_update(apex_atr *s, double high, double low, double close)
{
  long long k = s->seen++; /* index of this candle */
  if (k == 0) {
    s->prev_close = close;
    return NAN;
  }
  double tr = true_range(high, low, s->prev_close);
  s->prev_close = close;
  if (k < s->period) {
    s->atr += tr;
    return NAN;
  }
  if (k == s->period)
    s->atr = (s->atr + tr) / s->period;
  else
    s->atr = s->atr * s->keep + tr * s->add;
  return s->atr;
}

void apex_atr_batch(const double *high, const double *low, const double *close, size_t n, int period,
                    double *out)
{
  size_t p = (size_t)period, i;
  if (n <= p) {
    for (i = 0; i < n; i++)
      out[i] = NAN;
    return;
  }
  double sum = 0;
  out[0] = NAN;
  for (i = 1; i < p; i++) {
    sum += true_range(high[i], low[i], close[i - 1]);
    out[i] = NAN;
  }
  double atr = (sum + true_range(high[p], low[p], close[p - 1])) / period;
  out[p] = atr;
  const double keep = (double)(period - 1) / period, add = 1.0 / period;
  for (i = p + 1; i < n; i++) {
    atr = atr * keep + true_range(high[i], low[i], close[i - 1]) * add;
    out[i] = atr;
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_atr_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_atr_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_atr_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  out[0] = apex_atr_update(st, b->high, b->low, b->close);
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_atr_batch(s->high, s->low, s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_atr = {
    .name = "atr",
    .title = "Average True Range",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 14, 1, 100000, true}},
    .n_outputs = 1,
    .outputs = {"atr"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
