/* adx.c - ADX and the DI batch loops over the directional-movement step in adx.h, with TA-Lib's
 * operations in TA-Lib's order, so the values match its to the last bit. */
#include "core/ind/adx.h"

#include "core/ind/ind.h"

void apex_di_batch(const double *high, const double *low, const double *close, size_t n, int period, int minus,
                   double *out)
{
  apex_dm s;
  apex_dm_init(&s, period);
  size_t i = 0, p = (size_t)period;
  for (; i < n && i < p; i++) {
    apex_dm_update(&s, high[i], low[i], close[i]);
    out[i] = NAN;
  }
  for (; i < n; i++) {
    double pdm, mdm, tr;
    apex_dm_raw(&s, high[i], low[i], close[i], &pdm, &mdm, &tr);
    apex_dm_smooth(&s, pdm, mdm, tr);
    out[i] = minus ? apex_dm_minus_di(&s) : apex_dm_plus_di(&s);
  }
}

void apex_adx_init(apex_adx *s, int period)
{
  apex_dm_init(&s->dm, period);
  s->sum_dx = 0;
  s->adx = 0;
}

double apex_adx_update(apex_adx *s, double high, double low, double close)
{
  double dx;
  if (!apex_dm_update(&s->dm, high, low, close))
    return NAN;
  long long k = s->dm.seen - 1, p = s->dm.iperiod;
  int have = apex_dm_dx(&s->dm, &dx);
  if (k < 2 * p - 1) {
    if (have)
      s->sum_dx += dx;
    return NAN;
  }
  if (k == 2 * p - 1) {
    if (have)
      s->sum_dx += dx;
    s->adx = s->sum_dx / s->dm.period;
  } else if (have) {
    s->adx = (s->adx * (s->dm.period - 1) + dx) / s->dm.period;
  }
  return s->adx;
}

void apex_adx_batch(const double *high, const double *low, const double *close, size_t n, int period,
                    double *out)
{
  apex_adx s;
  apex_adx_init(&s, period);
  size_t i = 0, lb = (size_t)apex_adx_lookback(period);
  for (; i < n && i <= lb; i++)
    out[i] = apex_adx_update(&s, high[i], low[i], close[i]);
  apex_dm d = s.dm; /* a local copy the compiler keeps in registers */
  double adx = s.adx, keep = d.period - 1;
  for (; i < n; i++) {
    double pdm, mdm, tr, dx;
    apex_dm_raw(&d, high[i], low[i], close[i], &pdm, &mdm, &tr);
    apex_dm_smooth(&d, pdm, mdm, tr);
    if (apex_dm_dx(&d, &dx))
      adx = (adx * keep + dx) / d.period;
    out[i] = adx;
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_adx_lookback((int)p[0]); }
static size_t size_v(const double *p)
{
  (void)p;
  return sizeof(apex_adx);
}
static void init_v(void *st, const double *p) { apex_adx_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  out[0] = apex_adx_update(st, b->high, b->low, b->close);
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_adx_batch(s->high, s->low, s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_adx = {
    .name = "adx",
    .title = "Average Directional Movement Index",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 14, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"adx"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
