/* sar.c - parabolic SAR, one step per candle shared by stream and batch. */
#include "core/ind/sar.h"

#include <math.h>

#include "core/ind/ind.h"

void apex_sar_init(apex_sar *s, double acceleration, double maximum)
{
  *s = (apex_sar){.accel = acceleration, .max = maximum, .af = acceleration < maximum ? acceleration : maximum};
}

/* Candle 1 sets the trend from candles 0 and 1 (high0/low0 were kept in new_high/new_low). */
static inline void start(apex_sar *s, double high, double low)
{
  double diffp = high - s->new_high, diffm = s->new_low - low;
  s->is_long = !(diffm > 0 && diffp < diffm);
  if (s->is_long) {
    s->ep = high;
    s->sar = s->new_low;
  } else {
    s->ep = low;
    s->sar = s->new_high;
  }
  s->new_high = high; /* TA-Lib's first step compares candle 1 with itself */
  s->new_low = low;
}

static inline double step(apex_sar *s, double high, double low)
{
  double ph = s->new_high, pl = s->new_low, sar = s->sar, out;
  s->new_high = high;
  s->new_low = low;
  if (s->is_long) {
    if (low <= sar) {
      s->is_long = 0;
      sar = s->ep;
      if (sar < ph) sar = ph;
      if (sar < high) sar = high;
      out = sar;
      s->af = s->accel;
      s->ep = low;
      sar = sar + s->af * (s->ep - sar);
      if (sar < ph) sar = ph;
      if (sar < high) sar = high;
    } else {
      out = sar;
      if (high > s->ep) {
        s->ep = high;
        s->af += s->accel;
        if (s->af > s->max) s->af = s->max;
      }
      sar = sar + s->af * (s->ep - sar);
      if (sar > pl) sar = pl;
      if (sar > low) sar = low;
    }
  } else {
    if (high >= sar) {
      s->is_long = 1;
      sar = s->ep;
      if (sar > pl) sar = pl;
      if (sar > low) sar = low;
      out = sar;
      s->af = s->accel;
      s->ep = high;
      sar = sar + s->af * (s->ep - sar);
      if (sar > pl) sar = pl;
      if (sar > low) sar = low;
    } else {
      out = sar;
      if (low < s->ep) {
        s->ep = low;
        s->af += s->accel;
        if (s->af > s->max) s->af = s->max;
      }
      sar = sar + s->af * (s->ep - sar);
      if (sar < ph) sar = ph;
      if (sar < high) sar = high;
    }
  }
  s->sar = sar;
  return out;
}

double apex_sar_update(apex_sar *s, double high, double low)
{
  long long k = s->seen++;
  if (k == 0) {
    s->new_high = high;
    s->new_low = low;
    return NAN;
  }
  if (k == 1)
    start(s, high, low);
  return step(s, high, low);
}

void apex_sar_batch(const double *high, const double *low, size_t n, double acceleration, double maximum,
                    double *out)
{
  if (n == 0)
    return;
  apex_sar s;
  apex_sar_init(&s, acceleration, maximum);
  out[0] = apex_sar_update(&s, high[0], low[0]);
  if (n == 1)
    return;
  out[1] = apex_sar_update(&s, high[1], low[1]);
  for (size_t i = 2; i < n; i++)
    out[i] = step(&s, high[i], low[i]);
}

/* --- registry adapters --- */
static apex_err check_v(const double *p, apex_error *err)
{
  if (p[0] > p[1])
    return apex_error_set(err, APEX_EINVAL, "acceleration: must not exceed maximum (%.17g), got %.17g", p[1],
                          p[0]);
  return APEX_OK;
}
static int lookback_v(const double *p)
{
  (void)p;
  return apex_sar_lookback();
}
static size_t size_v(const double *p)
{
  (void)p;
  return sizeof(apex_sar);
}
static void init_v(void *st, const double *p) { apex_sar_init(st, p[0], p[1]); }
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_sar_update(st, b->high, b->low); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_sar_batch(s->high, s->low, s->n, p[0], p[1], out[0]);
}

const apex_ind_info apex_ind_sar = {
    .name = "sar",
    .title = "Parabolic SAR",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW,
    .n_params = 2,
    .params = {{"acceleration", 0.02, 0, 1, false}, {"maximum", 0.2, 0, 1, false}},
    .n_outputs = 1,
    .outputs = {"sar"},
    .check = check_v,
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
