/* willr.c - Williams %R over the rolling extremes STOCH uses (amortised O(1) per candle). */
#include "core/ind/willr.h"

#include <math.h>

#include "core/ind/ind.h"

static size_t head_bytes(void) { return (sizeof(apex_willr) + 15) / 16 * 16; }

size_t apex_willr_state_size(int period) { return head_bytes() + apex_hilo_ring_bytes(period); }

void apex_willr_init(apex_willr *s, int period) { apex_hilo_init(&s->hl, period, (char *)s + head_bytes()); }

double apex_willr_update(apex_willr *s, double high, double low, double close)
{
  double hh, ll;
  apex_hilo_push(&s->hl, high, low, &hh, &ll);
  if (s->hl.seen < s->hl.period)
    return NAN;
  double diff = (hh - ll) / -100.0; /* TA-Lib's operations */
  return diff != 0.0 ? (hh - close) / diff : 0.0;
}

void apex_willr_batch(const double *high, const double *low, const double *close, size_t n, int period,
                      double *out)
{
  apex_hilo_osc_batch(high, low, close, n, period, 1, out);
  for (size_t i = 0; i + 1 < (size_t)period && i < n; i++)
    out[i] = NAN;
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_willr_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_willr_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_willr_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  out[0] = apex_willr_update(st, b->high, b->low, b->close);
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_willr_batch(s->high, s->low, s->close, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_willr = {
    .name = "willr",
    .title = "Williams %R",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 14, 2, 100000, true}},
    .n_outputs = 1,
    .outputs = {"willr"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
