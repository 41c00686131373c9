/* STOCH and WILLR beyond the registry-wide checks: windows longer than the batch's on-stack scratch
 * (heap path), a one-candle window, and flat candles (HH == LL gives 0), stream against batch. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "core/ind/ind.h"
#include "support/ref.h"

/* Runs batch and stream for `name` with parameters p over s; every row must agree. */
static void stream_vs_batch(const char *name, const double *p, const apex_series *s)
{
  const apex_ind_info *ind = apex_ind_find(name);
  cr_assert_not_null(ind);
  double *b[APEX_IND_MAX_OUTPUTS] = {0};
  for (int k = 0; k < ind->n_outputs; k++)
    b[k] = malloc(s->n * sizeof(double));
  ind->batch(s, p, b);
  void *st = aligned_alloc(16, (ind->state_size(p) + 15) / 16 * 16);
  ind->init(st, p);
  int lb = ind->lookback(p);
  for (size_t i = 0; i < s->n; i++) {
    apex_bar bar = apex_series_bar(s, i);
    double o[APEX_IND_MAX_OUTPUTS];
    ind->update(st, &bar, o);
    for (int k = 0; k < ind->n_outputs; k++) {
      cr_expect(isnan(b[k][i]) == ((int)i < lb), "%s.%s row %zu warm-up mismatch", name, ind->outputs[k], i);
      if (!ref_close_enough(o[k], b[k][i], 0, 0)) {
        cr_expect_fail("%s.%s row %zu: stream %.17g, batch %.17g", name, ind->outputs[k], i, o[k], b[k][i]);
        goto out;
      }
    }
  }
out:
  free(st);
  for (int k = 0; k < ind->n_outputs; k++)
    free(b[k]);
}

Test(stoch, long_windows_use_heap_scratch)
{
  apex_series *s = ref_random_series(5000, 21);
  const double sp[] = {700, 5, 4}, wp[] = {1500};
  stream_vs_batch("stoch", sp, s);
  stream_vs_batch("willr", wp, s);
  apex_series_free(s);
}

Test(stoch, one_candle_windows)
{
  apex_series *s = ref_random_series(500, 5);
  const double sp[] = {1, 1, 1};
  stream_vs_batch("stoch", sp, s);
  /* k = 1: HH and LL are the candle's own high and low. */
  const apex_ind_info *ind = apex_ind_find("stoch");
  double k[500], d[500], *outs[2] = {k, d};
  ind->batch(s, sp, outs);
  for (size_t i = 0; i < s->n; i++) {
    double diff = (s->high[i] - s->low[i]) / 100.0, want = diff != 0 ? (s->close[i] - s->low[i]) / diff : 0;
    cr_expect(k[i] == want && d[i] == want, "row %zu: %g %g, want %g", i, k[i], d[i], want);
  }
  apex_series_free(s);
}

Test(stoch, flat_window_gives_zero)
{
  apex_series *s = apex_series_new(20);
  for (int i = 0; i < 20; i++) {
    apex_bar b = {(int64_t)i * 60000, 5, 5, 5, 5, 100};
    apex_series_append(s, &b);
  }
  const apex_ind_info *st = apex_ind_find("stoch"), *wr = apex_ind_find("willr");
  double sp[] = {5, 3, 3}, wp[] = {5}, k[20], d[20], w[20], *so[2] = {k, d}, *wo[1] = {w};
  st->batch(s, sp, so);
  wr->batch(s, wp, wo);
  for (int i = 0; i < 20; i++) {
    cr_expect(i < 8 ? isnan(k[i]) && isnan(d[i]) : k[i] == 0 && d[i] == 0, "stoch row %d: %g %g", i, k[i], d[i]);
    cr_expect(i < 4 ? isnan(w[i]) : w[i] == 0, "willr row %d: %g", i, w[i]);
  }
  apex_series_free(s);
}

Test(willr, range_is_minus_100_to_0)
{
  apex_series *s = ref_random_series(3000, 9);
  const apex_ind_info *wr = apex_ind_find("willr");
  double p[] = {14}, *w = malloc(s->n * sizeof(double)), *o[1] = {w};
  wr->batch(s, p, o);
  for (size_t i = 13; i < s->n; i++)
    if (!(w[i] >= -100 && w[i] <= 0)) {
      cr_expect_fail("row %zu: %g", i, w[i]);
      break;
    }
  free(w);
  apex_series_free(s);
}
