/* Unit tests for roc: (x / x[-period] - 1) * 100, 0 when x[-period] is 0.
 * Expected values from an independent python3 implementation, tests/tools/ind_expected.py
 * (ctest ind_expected_values checks they are the ones below). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/roc.h"

/* |a - b| within 1e-12 relative (NaN equals NaN), reported row by row. */
static void expect_rows(const char *what, const double *got, const double *want, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    bool same = isnan(want[i]) ? isnan(got[i]) : fabs(got[i] - want[i]) <= 1e-12 * fmax(1, fabs(want[i]));
    if (!same)
      cr_expect_fail("%s row %zu: got %.17g, want %.17g", what, i, got[i], want[i]);
  }
}

/* period 2: 2/5 - 1 = -60 %; 4/0 -> 0 (zero base); 4/2 -> +100 %. */
Test(roc, hand_computed_batch_and_stream_with_zero_base)
{
  static const double in[] = {5.0, 0.0, 2.0, 4.0, 4.0, 1.0, 2.0};
  static const double want[] = {NAN, NAN, -60.0, 0.0, 100.0, -75.0, -50.0};
  enum { N = sizeof in / sizeof in[0] };
  double out[N];
  apex_roc_batch(in, N, 2, out);
  expect_rows("batch", out, want, N);
  void *mem = aligned_alloc(16, (apex_roc_state_size(2) + 15) / 16 * 16);
  apex_roc_init(mem, 2);
  for (size_t i = 0; i < N; i++)
    out[i] = apex_roc_update(mem, in[i]);
  expect_rows("stream", out, want, N);
  cr_expect_eq(apex_roc_value(mem), want[N - 1]);
  free(mem);
}

Test(roc, registry_entry)
{
  const apex_ind_info *ind = apex_ind_find("roc");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(p[0], 10);
  cr_expect_eq(ind->lookback(p), 10);
}
