/* natr.c - normalized ATR: atr / close * 100 (TA-Lib NATR; 0 when close is within 1e-14 of 0).
 * Reuses the ATR stream and batch, so its values are ATR's divided by close. */
#include <math.h>

#include "core/ind/atr.h"
#include "core/ind/ind.h"

static int lookback_v(const double *p) { return apex_atr_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_atr_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_atr_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  out[0] = apex_natr_of(apex_atr_update(st, b->high, b->low, b->close), b->close);
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_atr_batch(s->high, s->low, s->close, s->n, (int)p[0], out[0]);
  for (size_t i = 0; i < s->n; i++)
    out[0][i] = apex_natr_of(out[0][i], s->close[i]);
}

const apex_ind_info apex_ind_natr = {
    .name = "natr",
    .title = "Normalized Average True Range",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 14, 1, 100000, true}},
    .n_outputs = 1,
    .outputs = {"natr"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
