/* The composite price fields hl2 = (high + low) / 2, hlc3 = (high + low + close) / 3 and ohlc4 =
 * (open + high + low + close) / 4, batch and stream through the registry, on hand-made candles whose
 * open, high, low and close all differ (so a field read in the wrong place changes the answer).
 * The sums below are exact in binary; the expected values are those sums divided once. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/ind/ind.h"
#include "support/ref.h"

/* time, open, high, low, close, volume */
static const apex_bar BARS[] = {
    {0, 10, 12, 9, 11, 100},
    {60000, 11, 11.5, 10, 10.25, 50},
    {120000, 100.5, 103.25, 99, 102, 7},
};
#define NB (sizeof BARS / sizeof BARS[0])

static void check(const char *name, unsigned inputs, const double *want)
{
  const apex_ind_info *ind = apex_ind_find(name);
  cr_assert_not_null(ind, "%s not in the registry", name);
  cr_expect_eq(ind->n_params, 0);
  cr_expect_eq(ind->n_outputs, 1);
  cr_expect_str_eq(ind->outputs[0], name);
  cr_expect_eq(ind->lookback(NULL), 0);
  cr_expect_eq(ind->inputs, inputs, "%s inputs %#x, want %#x", name, ind->inputs, inputs);
  apex_series *s = apex_series_new(NB);
  for (size_t i = 0; i < NB; i++)
    apex_series_append(s, &BARS[i]);
  double out[NB], *outs[1] = {out}, st[8];
  ind->batch(s, NULL, outs);
  ind->init(st, NULL);
  for (size_t i = 0; i < NB; i++) {
    double o;
    ind->update(st, &BARS[i], &o);
    cr_expect(ref_close_enough(out[i], want[i], 1e-15, 0), "%s batch row %zu: %.17g, want %.17g", name, i, out[i],
              want[i]);
    cr_expect(ref_close_enough(o, want[i], 1e-15, 0), "%s stream row %zu: %.17g, want %.17g", name, i, o, want[i]);
  }
  apex_series_free(s);
}

Test(price, hl2)
{
  /* (12 + 9) / 2, (11.5 + 10) / 2, (103.25 + 99) / 2 */
  const double want[NB] = {10.5, 10.75, 101.125};
  check("hl2", APEX_IN_HIGH | APEX_IN_LOW, want);
}

Test(price, hlc3)
{
  /* (12 + 9 + 11) / 3, (11.5 + 10 + 10.25) / 3, (103.25 + 99 + 102) / 3 */
  const double want[NB] = {32.0 / 3, 31.75 / 3, 304.25 / 3};
  check("hlc3", APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE, want);
}

Test(price, ohlc4)
{
  /* (10 + 12 + 9 + 11) / 4, (11 + 11.5 + 10 + 10.25) / 4, (100.5 + 103.25 + 99 + 102) / 4 */
  const double want[NB] = {10.5, 10.6875, 101.1875};
  check("ohlc4", APEX_IN_OPEN | APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE, want);
}

/* The plain fields pass each candle's value through. */
Test(price, plain_fields)
{
  const double open[NB] = {10, 11, 100.5}, high[NB] = {12, 11.5, 103.25}, low[NB] = {9, 10, 99},
               close[NB] = {11, 10.25, 102}, volume[NB] = {100, 50, 7};
  check("open", APEX_IN_OPEN, open);
  check("high", APEX_IN_HIGH, high);
  check("low", APEX_IN_LOW, low);
  check("close", APEX_IN_CLOSE, close);
  check("volume", APEX_IN_VOLUME, volume);
}
