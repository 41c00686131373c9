/* dema.c - DEMA = 2 * e1 - e2 with e1 = EMA(x) and e2 = EMA(e1), both TA-Lib EMAs (SMA seeds), in
 * TA-Lib's order of operations: (2.0 * e1) - e2. */
#include "core/ind/dema.h"

#include <math.h>

#include "core/ind/ind.h"

size_t apex_dema_state_size(int period)
{
  (void)period;
  return sizeof(apex_dema);
}

void apex_dema_init(apex_dema *s, int period)
{
  apex_ema_init(&s->e1, period);
  apex_ema_init(&s->e2, period);
}

static inline double combine(double e1, double e2) { return 2.0 * e1 - e2; }

double apex_dema_update(apex_dema *s, double x)
{
  double e1 = apex_ema_update(&s->e1, x);
  if (!apex_ema_ready(&s->e1))
    return NAN;
  double e2 = apex_ema_update(&s->e2, e1);
  return apex_ema_ready(&s->e2) ? combine(e1, e2) : NAN;
}

double apex_dema_value(const apex_dema *s)
{
  return apex_ema_ready(&s->e2) ? combine(s->e1.value, s->e2.value) : NAN;
}

void apex_dema_batch(const double *in, size_t n, int period, double *out)
{
  apex_dema s;
  size_t i = 0;
  apex_dema_init(&s, period);
  for (; i < n && !apex_ema_ready(&s.e2); i++)
    out[i] = apex_dema_update(&s, in[i]);
  double e1 = s.e1.value, e2 = s.e2.value, k = s.e1.k;
  for (; i < n; i++) {
    e1 = apex_ema_step(e1, in[i], k);
    e2 = apex_ema_step(e2, e1, k);
    out[i] = combine(e1, e2);
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_dema_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_dema_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_dema_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_dema_update(st, b->close); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_dema_batch(s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_dema = {
    .name = "dema",
    .title = "Double Exponential Moving Average",
    .inputs = APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 20, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"dema"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
