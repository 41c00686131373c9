/* roc.c - rate of change as TA-Lib computes it: ((x / x[-period]) - 1.0) * 100.0, or 0 when the
 * older value is 0. */
#include "core/ind/roc.h"

#include <math.h>

#include "core/ind/ind.h"

size_t apex_roc_state_size(int period) { return sizeof(apex_roc) + (size_t)period * sizeof(double); }

void apex_roc_init(apex_roc *s, int period)
{
  s->ring = (double *)(s + 1);
  s->value = NAN;
  s->period = period;
  s->pos = 0;
  s->seen = 0;
}

static inline double roc_of(double x, double old) { return old != 0.0 ? ((x / old) - 1.0) * 100.0 : 0.0; }

double apex_roc_update(apex_roc *s, double x)
{
  double old = s->ring[s->pos]; /* x[-period] once `period` values were seen */
  s->ring[s->pos] = x;
  if (++s->pos == s->period)
    s->pos = 0;
  if (s->seen < s->period) {
    s->seen++;
    return NAN;
  }
  return s->value = roc_of(x, old);
}

void apex_roc_batch(const double *in, size_t n, int period, double *out)
{
  size_t p = (size_t)period, i = 0;
  for (; i < n && i < p; i++)
    out[i] = NAN;
  for (; i < n; i++)
    out[i] = roc_of(in[i], in[i - p]);
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_roc_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_roc_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_roc_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out) { out[0] = apex_roc_update(st, b->close); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_roc_batch(s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_roc = {
    .name = "roc",
    .title = "Rate of Change",
    .inputs = APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 10, 1, 100000, true}},
    .n_outputs = 1,
    .outputs = {"roc"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
