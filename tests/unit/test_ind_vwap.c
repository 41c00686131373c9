/* Session VWAP against hand-computed values (an independent Python transcription of vwap.h): the
 * sums restart at UTC midnight, and a session with no volume yet has no value.
 * Generator: tests/tools/ind_expected.py (ctest ind_expected_values checks the values below). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "core/ind/ind.h"
#include "support/ref.h"

static apex_series *series(void)
{
  /* 23:58 and 23:59 UTC, then 00:00 (volume 0), 00:01, 00:02 of the next day. */
  static const double h[] = {10.0, 10.4, 11.0, 11.2, 10.9}, l[] = {9.0, 9.8, 10.0, 10.6, 10.1},
                      c[] = {9.6, 10.1, 10.5, 10.8, 10.3}, v[] = {100.0, 300.0, 0.0, 50.0, 150.0};
  apex_series *s = apex_series_new(5);
  for (size_t i = 0; i < 5; i++) {
    apex_bar b = {1641599880000 + (int64_t)i * 60000, c[i], h[i], l[i], c[i], v[i]};
    apex_series_append(s, &b);
  }
  return s;
}

static void check(const apex_series *s, double anchor, const double *want)
{
  const apex_ind_info *ind = apex_ind_find("vwap");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS] = {anchor}, out[5], *outs[1] = {out};
  cr_expect_eq(ind->lookback(p), 0);
  ind->batch(s, p, outs);
  void *st = aligned_alloc(16, (ind->state_size(p) + 15) / 16 * 16);
  ind->init(st, p);
  for (size_t i = 0; i < s->n; i++) {
    apex_bar b = apex_series_bar(s, i);
    double o;
    ind->update(st, &b, &o);
    cr_expect(ref_close_enough(out[i], want[i], 1e-12, 1e-12), "batch row %zu: %.17g, want %.17g", i, out[i],
              want[i]);
    cr_expect(ref_close_enough(o, want[i], 1e-12, 1e-12), "stream row %zu: %.17g, want %.17g", i, o, want[i]);
  }
  free(st);
}

Test(vwap, daily_session_resets_at_utc_midnight)
{
  apex_series *s = series();
  const double want[] = {9.533333333333333, 9.958333333333336, NAN, 10.866666666666665, 10.541666666666664};
  check(s, 1440, want);
  apex_series_free(s);
}

Test(vwap, three_day_anchor_spans_midnight)
{
  /* Day 19000 is not a multiple of 3, so the 3-day bucket [18999, 19002) holds all five candles. */
  apex_series *s = series();
  double pv = 0, v = 0, want[5];
  for (size_t i = 0; i < 5; i++) {
    pv += (s->high[i] + s->low[i] + s->close[i]) / 3 * s->volume[i];
    v += s->volume[i];
    want[i] = pv / v;
  }
  check(s, 4320, want);
  apex_series_free(s);
}

Test(vwap, default_anchor_is_one_day)
{
  const apex_ind_info *ind = apex_ind_find("vwap");
  cr_assert_not_null(ind);
  cr_expect_eq(ind->params[apex_ind_param_index(ind, "anchor")].def, 1440);
}
