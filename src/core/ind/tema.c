/* tema.c - TEMA = 3 * e1 - 3 * e2 + e3 over three chained TA-Lib EMAs, in TA-Lib's order of
 * operations: e3 + ((3.0 * e1) - (3.0 * e2)). */
#include "core/ind/tema.h"

#include <math.h>

#include "core/ind/ind.h"

size_t apex_tema_state_size(int period)
{
  (void)period;
  return sizeof(apex_tema);
}

void apex_tema_init(apex_tema *s, int period)
{
  apex_ema_init(&s->e1, period);
  apex_ema_init(&s->e2, period);
  apex_ema_init(&s->e3, period);
}

static inline double combine(double e1, double e2, double e3) { return e3 + (3.0 * e1 - 3.0 * e2); }

double apex_tema_update(apex_tema *s, double x)
{
  double e1 = apex_ema_update(&s->e1, x);
  if (!apex_ema_ready(&s->e1))
    return NAN;
  double e2 = apex_ema_update(&s->e2, e1);
  if (!apex_ema_ready(&s->e2))
    return NAN;
  double e3 = apex_ema_update(&s->e3, e2);
  return apex_ema_ready(&s->e3) ? combine(e1, e2, e3) : NAN;
}

double apex_tema_value(const apex_tema *s)
{
  return apex_ema_ready(&s->e3) ? combine(s->e1.value, s->e2.value, s->e3.value) : NAN;
}

void apex_tema_batch(const double *in, size_t n, int period, double *out)
{
  apex_tema s;
  size_t i = 0;
  apex_tema_init(&s, period);
  for (; i < n && !apex_ema_ready(&s.e3); i++)
    out[i] = apex_tema_update(&s, in[i]);
  double e1 = s.e1.value, e2 = s.e2.value, e3 = s.e3.value, k = s.e1.k;
  for (; i < n; i++) {
    e1 = apex_ema_step(e1, in[i], k);
    e2 = apex_ema_step(e2, e1, k);
    e3 = apex_ema_step(e3, e2, k);
    out[i] = combine(e1, e2, e3);
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_tema_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_tema_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_tema_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_tema_update(st, b->close); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_tema_batch(s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_tema = {
    .name = "tema",
    .title = "Triple Exponential Moving Average",
    .inputs = APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 20, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"tema"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
