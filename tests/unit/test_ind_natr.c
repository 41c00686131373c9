/* NATR (TA-Lib's normalized ATR): natr = atr / close * 100, 0 when close is within 1e-14 of 0, with
 * TA-Lib's ATR (first value at index `period` = mean of the true ranges of candles 1..period, then
 * atr = (atr * (period-1) + tr) / period). Checked on hand-made candles whose arithmetic is written
 * out below, and on ORCL against TA-Lib's ATR reference file divided by the close. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "core/ind/ind.h"
#include "support/ref.h"

/* Batch and stream through the registry over s; both into out_b / out_s. */
static void run(const apex_series *s, double period, double *out_b, double *out_s)
{
  const apex_ind_info *ind = apex_ind_find("natr");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS] = {period}, *outs[1] = {out_b};
  apex_error err = {0};
  cr_assert_eq(apex_ind_validate(ind, p, &err), APEX_OK, "%s", err.msg);
  ind->batch(s, p, outs);
  void *st = aligned_alloc(16, (ind->state_size(p) + 15) / 16 * 16);
  cr_assert_not_null(st);
  ind->init(st, p);
  for (size_t i = 0; i < s->n; i++) {
    apex_bar b = apex_series_bar(s, i);
    ind->update(st, &b, &out_s[i]);
  }
  free(st);
}

static apex_series *candles(const double *h, const double *l, const double *c, size_t n)
{
  apex_series *s = apex_series_new(n);
  for (size_t i = 0; i < n; i++) {
    apex_bar b = {(int64_t)i * 60000, c[i], h[i], l[i], c[i], 1000};
    apex_series_append(s, &b);
  }
  return s;
}

/* Period 3. True ranges max(high, prev close) - min(low, prev close) from candle 1:
 *   1: max(11, 9.5) - min(9.5, 9.5)       = 1.5
 *   2: max(10.5, 10.5) - min(9, 10.5)     = 1.5
 *   3: max(12, 10) - min(10, 10)          = 2
 *   4: max(11, 11.5) - min(10.25, 11.5)   = 1.25
 *   5: max(13, 10.75) - min(11, 10.75)    = 2.25
 * ATR: [3] (1.5 + 1.5 + 2) / 3 = 5/3; [4] (2 * 5/3 + 1.25) / 3 = 55/36; [5] (2 * 55/36 + 2.25) / 3 = 191/108.
 * NATR: [3] 5/3 / 11.5 * 100 = 1000/69; [4] 55/36 / 10.75 * 100 = 5500/387; [5] 191/108 / 12.5 * 100 = 382/27. */
Test(natr, period_3_by_hand)
{
  static const double h[] = {10, 11, 10.5, 12, 11, 13}, l[] = {9, 9.5, 9, 10, 10.25, 11},
                      c[] = {9.5, 10.5, 10, 11.5, 10.75, 12.5};
  const double want[] = {NAN, NAN, NAN, 1000.0 / 69, 5500.0 / 387, 382.0 / 27};
  apex_series *s = candles(h, l, c, 6);
  double b[6], st[6];
  run(s, 3, b, st);
  for (size_t i = 0; i < 6; i++) {
    cr_expect(ref_close_enough(b[i], want[i], 1e-12, 1e-12), "batch row %zu: %.17g, want %.17g", i, b[i], want[i]);
    cr_expect(ref_close_enough(st[i], want[i], 1e-12, 1e-12), "stream row %zu: %.17g, want %.17g", i, st[i],
              want[i]);
  }
  cr_expect_eq(apex_ind_find("natr")->lookback((double[APEX_IND_MAX_PARAMS]){3}), 3);
  apex_series_free(s);
}

/* Period 1: ATR is each candle's true range. [1] TR = max(2, 1.5) - min(0, 1.5) = 2, but the close is
 * 0, so NATR is 0 (TA-Lib's rule, not a division by zero); [2] TR = max(1, 0) - min(0.5, 0) = 1,
 * NATR = 1 / 1 * 100 = 100. */
Test(natr, zero_close_gives_zero)
{
  static const double h[] = {2, 2, 1}, l[] = {1, 0, 0.5}, c[] = {1.5, 0, 1};
  const double want[] = {NAN, 0, 100};
  apex_series *s = candles(h, l, c, 3);
  double b[3], st[3];
  run(s, 1, b, st);
  for (size_t i = 0; i < 3; i++) {
    cr_expect(ref_close_enough(b[i], want[i], 1e-12, 1e-12), "batch row %zu: %.17g, want %.17g", i, b[i], want[i]);
    cr_expect(ref_close_enough(st[i], want[i], 1e-12, 1e-12), "stream row %zu: %.17g", i, st[i]);
  }
  apex_series_free(s);
}

/* ORCL 1995-2014: TA-Lib's ATR(14) (reference/talib/orcl/atr_14.csv) / close * 100, as TA-Lib's NATR
 * computes it, within the reference's 1e-9; the same warm-up rows empty. */
Test(natr, orcl_equals_talib_atr_over_close)
{
  apex_series *s = ref_orcl_series();
  ref_table *ref = ref_table_load("reference/talib/orcl/atr_14.csv");
  cr_assert_eq(ref->n, s->n);
  const double *atr = ref_table_col(ref, "atr");
  cr_assert_not_null(atr);
  double *b = malloc(s->n * sizeof *b), *st = malloc(s->n * sizeof *st);
  cr_assert(b && st);
  run(s, 14, b, st);
  size_t bad = 0;
  for (size_t i = 0; i < s->n && bad < 5; i++) {
    double want = isnan(atr[i]) ? NAN : atr[i] / s->close[i] * 100;
    if (!ref_close_enough(b[i], want, 1e-9, 1e-9) || !ref_close_enough(st[i], want, 1e-9, 1e-9)) {
      cr_expect_fail("row %zu: batch %.17g, stream %.17g, want %.17g", i, b[i], st[i], want);
      bad++;
    }
  }
  cr_expect(isnan(b[13]) && !isnan(b[14]), "first value at row 14 as TA-Lib's");
  free(b);
  free(st);
  ref_table_free(ref);
  apex_series_free(s);
}
