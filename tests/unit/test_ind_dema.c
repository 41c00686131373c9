/* Unit tests for dema: 2*e1 - e2, e1 = EMA(x), e2 = EMA(e1) seeded with the SMA of the first period e1 values.
 * Expected values come from an independent python3 implementation of the textbook definition
 * (tests/tools/ind_expected.py; ctest ind_expected_values checks the values below), not from the
 * code under test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/dema.h"

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

/* period 3: e1 from index 2, e2 from index 4 = 2*(3-1). */
Test(dema, hand_computed_batch_and_stream)
{
  static const double want[] = {NAN, NAN, NAN, NAN, 44.958333333333336, 45.82291666666667, 45.708333333333336, 45.25260416666667, 46.200520833333336, 46.88736979166667, 46.337239583333336, 47.61539713541667};
  double out[NX];
  apex_dema_batch(X, NX, 3, out);
  expect_rows("batch", out, want, NX);

  void *mem = aligned_alloc(16, (apex_dema_state_size(3) + 15) / 16 * 16);
  apex_dema *s = mem;
  apex_dema_init(s, 3);
  for (size_t i = 0; i < NX; i++)
    out[i] = apex_dema_update(s, X[i]);
  expect_rows("stream", out, want, NX);
  cr_expect_eq(apex_dema_value(s), want[NX - 1]);
  free(mem);
  cr_expect_eq(apex_dema_lookback(3), 4);
}

Test(dema, short_input_is_all_warmup)
{
  double out[2] = {0, 0};
  apex_dema_batch(X, 2, 3, out);
  cr_expect(isnan(out[0]) && isnan(out[1]));
  apex_dema_batch(X, 0, 3, out);
}

Test(dema, registry_entry)
{
  const apex_ind_info *ind = apex_ind_find("dema");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(p[0], 20);
  cr_expect_eq(ind->lookback(p), 38);
}
