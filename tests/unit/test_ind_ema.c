/* Unit tests for ema: k = 2/(period+1), SMA seed at index period-1, then e += k*(x - e).
 * Expected values come from an independent python3 implementation of the textbook definition
 * (tests/tools/ind_expected.py; ctest ind_expected_values checks the values below), not from the
 * code under test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/ema.h"

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

/* period 3: seed (44 + 44.5 + 43.5)/3 = 44, then k = 0.5. */
Test(ema, hand_computed_batch_and_stream)
{
  static const double want[] = {NAN, NAN, 44.0, 44.25, 44.625, 45.3125, 45.40625, 45.203125, 45.8515625, 46.42578125, 46.212890625, 47.1064453125};
  double out[NX];
  apex_ema_batch(X, NX, 3, out);
  expect_rows("batch", out, want, NX);

  void *mem = aligned_alloc(16, (apex_ema_state_size(3) + 15) / 16 * 16);
  apex_ema *s = mem;
  apex_ema_init(s, 3);
  for (size_t i = 0; i < NX; i++)
    out[i] = apex_ema_update(s, X[i]);
  expect_rows("stream", out, want, NX);
  cr_expect_eq(apex_ema_value(s), want[NX - 1]);
  free(mem);
  cr_expect_eq(apex_ema_lookback(3), 2);
}

Test(ema, short_input_is_all_warmup)
{
  double out[2] = {0, 0};
  apex_ema_batch(X, 2, 3, out);
  cr_expect(isnan(out[0]) && isnan(out[1]));
  apex_ema_batch(X, 0, 3, out);
}

Test(ema, constant_input_stays_constant)
{
  double in[50], out[50];
  for (int i = 0; i < 50; i++)
    in[i] = 7.25;
  apex_ema_batch(in, 50, 20, out);
  for (int i = 19; i < 50; i++)
    cr_expect_eq(out[i], 7.25);
}

Test(ema, registry_entry)
{
  const apex_ind_info *ind = apex_ind_find("ema");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(p[0], 20);
  cr_expect_eq(ind->lookback(p), 19);
}
