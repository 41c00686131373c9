/* Unit tests for obv: starts at volume[0], +volume on a higher close, -volume on a lower one.
 * Expected values from an independent python3 implementation, tests/tools/ind_expected.py
 * (ctest ind_expected_values checks they are the ones below). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/obv.h"

/* |a - b| within 1e-12 relative (NaN equals NaN), reported row by row. */
static void expect_rows(const char *what, const double *got, const double *want, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    bool same = isnan(want[i]) ? isnan(got[i]) : fabs(got[i] - want[i]) <= 1e-12 * fmax(1, fabs(want[i]));
    if (!same)
      cr_expect_fail("%s row %zu: got %.17g, want %.17g", what, i, got[i], want[i]);
  }
}

/* closes 5, 0, 2, 4, 4, 1, 2: down, up, up, equal (unchanged), down, up. */
Test(obv, hand_computed_batch_stream_and_registry)
{
  static const double close[] = {5.0, 0.0, 2.0, 4.0, 4.0, 1.0, 2.0};
  static const double vol[] = {100.0, 50.0, 30.0, 40.0, 20.0, 10.0, 5.0};
  static const double want[] = {100.0, 50.0, 80.0, 120.0, 120.0, 110.0, 115.0};
  enum { N = sizeof close / sizeof close[0] };
  double out[N];
  apex_obv_batch(close, vol, N, out);
  expect_rows("batch", out, want, N);
  apex_obv s;
  apex_obv_init(&s);
  cr_expect(isnan(apex_obv_value(&s)));
  for (size_t i = 0; i < N; i++)
    out[i] = apex_obv_update(&s, close[i], vol[i]);
  expect_rows("stream", out, want, N);

  const apex_ind_info *ind = apex_ind_find("obv");
  cr_assert_not_null(ind);
  cr_expect_eq(ind->n_params, 0);
  cr_expect_eq(ind->lookback(NULL), 0);
  cr_expect_eq(ind->inputs, (unsigned)(APEX_IN_CLOSE | APEX_IN_VOLUME));
}
