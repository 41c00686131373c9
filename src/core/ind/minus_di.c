/* minus_di.c - Minus Directional Indicator (-DI): the minus side of the directional movement in adx.h
 * (TA-Lib MINUS_DI), lookback period. */
#include "core/ind/adx.h"
#include "core/ind/ind.h"

static int lookback_v(const double *p) { return apex_di_lookback((int)p[0]); }
static size_t size_v(const double *p)
{
  (void)p;
  return sizeof(apex_dm);
}
static void init_v(void *st, const double *p) { apex_dm_init(st, (int)p[0]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  out[0] = apex_dm_update(st, b->high, b->low, b->close) ? apex_dm_minus_di(st) : NAN;
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_di_batch(s->high, s->low, s->close, s->n, (int)p[0], 1, out[0]);
}

const apex_ind_info apex_ind_minus_di = {
    .name = "minus_di",
    .title = "Minus Directional Indicator (-DI)",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE,
    .n_params = 1,
    .params = {{"period", 14, 1, 100000, true}},
    .n_outputs = 1,
    .outputs = {"minus_di"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
