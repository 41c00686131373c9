/* vwap.c - session-anchored VWAP: running sums that restart when the candle's session changes. */
#include "core/ind/vwap.h"

#include <math.h>

#include "core/ind/ind.h"

void apex_vwap_init(apex_vwap *s, int anchor_minutes)
{
  *s = (apex_vwap){.span_ms = (int64_t)anchor_minutes * 60000};
}

/* Floor division, so times before 1970 fall into the right session too. */
static inline int64_t session_of(int64_t t, int64_t span)
{
  int64_t q = t / span;
  return (t % span != 0 && t < 0) ? q - 1 : q;
}

static inline double step(apex_vwap *s, int64_t time_ms, double high, double low, double close, double volume)
{
  int64_t sess = session_of(time_ms, s->span_ms);
  if (!s->started || sess != s->session) {
    s->started = 1;
    s->session = sess;
    s->pv = s->v = 0;
  }
  s->pv += (high + low + close) / 3 * volume;
  s->v += volume;
  return s->v != 0 ? s->pv / s->v : NAN;
}

double apex_vwap_update(apex_vwap *s, int64_t time_ms, double high, double low, double close, double volume)
{
  return step(s, time_ms, high, low, close, volume);
}

void apex_vwap_batch(const int64_t *time_ms, const double *high, const double *low, const double *close,
                     const double *volume, size_t n, int anchor_minutes, double *out)
{
  apex_vwap s;
  apex_vwap_init(&s, anchor_minutes);
  for (size_t i = 0; i < n; i++)
    out[i] = step(&s, time_ms[i], high[i], low[i], close[i], volume[i]);
}

/* --- registry adapters --- */
static int lookback_v(const double *p)
{
  (void)p;
  return apex_vwap_lookback();
}
static size_t size_v(const double *p)
{
  (void)p;
  return sizeof(apex_vwap);
}
static void init_v(void *st, const double *p) { apex_vwap_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  out[0] = apex_vwap_update(st, b->time, b->high, b->low, b->close, b->volume);
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_vwap_batch(s->time, s->high, s->low, s->close, s->volume, s->n, (int)p[0], out[0]);
}

const apex_ind_info apex_ind_vwap = {
    .name = "vwap",
    .title = "Volume-Weighted Average Price (session-anchored)",
    .inputs = APEX_IN_TIME | APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE | APEX_IN_VOLUME,
    .n_params = 1,
    .params = {{"anchor", 1440, 1, 525600, true}},
    .n_outputs = 1,
    .outputs = {"vwap"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
