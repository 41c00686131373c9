/* Unit tests for rsi: Wilder: mean of the first period gains/losses, then avg = (avg*(period-1) + change)/period.
 * Expected values come from an independent python3 implementation of the textbook definition
 * (tests/tools/ind_expected.py; ctest ind_expected_values checks the values below), not from the
 * code under test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/rsi.h"

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

/* period 3: changes +0.5, -1, +1 give gain 0.5, loss 1/3, RSI 60 at index 3. */
Test(rsi, hand_computed_batch_and_stream)
{
  static const double want[] = {NAN, NAN, NAN, 60.00000000000001, 69.23076923076923, 81.81818181818181, 62.60869565217391, 46.30225080385851, 75.27757216876388, 80.53045759253862, 49.181203275186895, 76.55800968880861};
  double out[NX];
  apex_rsi_batch(X, NX, 3, out);
  expect_rows("batch", out, want, NX);

  void *mem = aligned_alloc(16, (apex_rsi_state_size(3) + 15) / 16 * 16);
  apex_rsi *s = mem;
  apex_rsi_init(s, 3);
  for (size_t i = 0; i < NX; i++)
    out[i] = apex_rsi_update(s, X[i]);
  expect_rows("stream", out, want, NX);
  cr_expect_eq(apex_rsi_value(s), want[NX - 1]);
  free(mem);
  cr_expect_eq(apex_rsi_lookback(3), 3);
}

Test(rsi, short_input_is_all_warmup)
{
  double out[2] = {0, 0};
  apex_rsi_batch(X, 2, 3, out);
  cr_expect(isnan(out[0]) && isnan(out[1]));
  apex_rsi_batch(X, 0, 3, out);
}

Test(rsi, flat_input_is_zero_and_rising_input_is_100)
{
  double flat[20], up[20], out[20];
  for (int i = 0; i < 20; i++)
    flat[i] = 5, up[i] = i;
  apex_rsi_batch(flat, 20, 14, out);
  cr_expect(isnan(out[13]));
  for (int i = 14; i < 20; i++)
    cr_expect_eq(out[i], 0.0);
  apex_rsi_batch(up, 20, 14, out);
  for (int i = 14; i < 20; i++)
    cr_expect_eq(out[i], 100.0);
}

Test(rsi, registry_entry)
{
  const apex_ind_info *ind = apex_ind_find("rsi");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(p[0], 14);
  cr_expect_eq(ind->lookback(p), 14);
}
