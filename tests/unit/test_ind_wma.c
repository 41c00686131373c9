/* Unit tests for wma: weights 1..period, newest heaviest, divided by period*(period+1)/2.
 * Expected values come from an independent python3 implementation of the textbook definition
 * (tests/tools/ind_expected.py; ctest ind_expected_values checks the values below), not from the
 * code under test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/wma.h"

/* |a - b| within 1e-12 relative (NaN equals NaN), reported row by row. */
static void expect_rows(const char *what, const double *got, const double *want, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    bool same = isnan(want[i]) ? isnan(got[i]) : fabs(got[i] - want[i]) <= 1e-12 * fmax(1, fabs(want[i]));
    if (!same)
      cr_expect_fail("%s row %zu: got %.17g, want %.17g", what, i, got[i], want[i]);
  }
}

static const double X[] = {44.0, 44.5, 43.5, 44.5, 45.0, 46.0, 45.5, 45.0, 46.5, 47.0, 46.0, 48.0};
#define NX (sizeof X / sizeof X[0])

/* period 3: (1*x[i-2] + 2*x[i-1] + 3*x[i]) / 6. */
Test(wma, hand_computed_batch_and_stream)
{
  static const double want[] = {NAN, NAN, 43.916666666666664, 44.166666666666664, 44.583333333333336, 45.416666666666664, 45.583333333333336, 45.333333333333336, 45.833333333333336, 46.5, 46.416666666666664, 47.166666666666664};
  double out[NX];
  apex_wma_batch(X, NX, 3, out);
  expect_rows("batch", out, want, NX);

  void *mem = aligned_alloc(16, (apex_wma_state_size(3) + 15) / 16 * 16);
  apex_wma *s = mem;
  apex_wma_init(s, 3);
  for (size_t i = 0; i < NX; i++)
    out[i] = apex_wma_update(s, X[i]);
  expect_rows("stream", out, want, NX);
  cr_expect_eq(apex_wma_value(s), want[NX - 1]);
  free(mem);
  cr_expect_eq(apex_wma_lookback(3), 2);
}

Test(wma, short_input_is_all_warmup)
{
  double out[2] = {0, 0};
  apex_wma_batch(X, 2, 3, out);
  cr_expect(isnan(out[0]) && isnan(out[1]));
  apex_wma_batch(X, 0, 3, out);
}

Test(wma, registry_entry)
{
  const apex_ind_info *ind = apex_ind_find("wma");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(p[0], 20);
  cr_expect_eq(ind->lookback(p), 19);
}
