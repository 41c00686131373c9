/* ema.c - exponential moving average as TA-Lib computes it: an SMA seed over the first `period`
 * values, then e = (x - e) * k + e with k = 2 / (period + 1). */
#include "core/ind/ema.h"

#include <math.h>

#include "core/ind/ind.h"

size_t apex_ema_state_size(int period)
{
  (void)period;
  return sizeof(apex_ema);
}

void apex_ema_init(apex_ema *s, int period)
{
  s->k = apex_ema_k(period);
  s->sum = 0;
  s->value = NAN;
  s->period = period;
  s->seen = 0;
}

double apex_ema_update(apex_ema *s, double x)
{
  if (s->seen == s->period)
    return s->value = apex_ema_step(s->value, x, s->k);
  s->sum += x;
  if (++s->seen == s->period)
    s->value = s->sum / s->period;
  return s->value;
}

void apex_ema_batch(const double *in, size_t n, int period, double *out)
{
  apex_ema s;
  size_t i = 0;
  apex_ema_init(&s, period);
  /* Warm-up through the stream (same bits), then a tight loop with no branch. */
  for (; i < n && !apex_ema_ready(&s); i++)
    out[i] = apex_ema_update(&s, in[i]);
  double e = s.value, k = s.k;
  for (; i < n; i++)
    out[i] = e = apex_ema_step(e, in[i], k);
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_ema_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_ema_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_ema_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_ema_update(st, b->close); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_ema_batch(s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_ema = {
    .name = "ema",
    .title = "Exponential Moving Average",
    .inputs = APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 20, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"ema"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
