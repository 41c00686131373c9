/* Unit tests for tema: 3*e1 - 3*e2 + e3 over three chained EMAs, each seeded with an SMA.
 * Expected values come from an independent python3 implementation of the textbook definition
 * (tests/tools/ind_expected.py; ctest ind_expected_values checks the values below), not from the
 * code under test. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/tema.h"

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

/* period 3: e1 from index 2, e2 from 4, e3 from 6 = 3*(3-1). */
Test(tema, hand_computed_batch_and_stream)
{
  static const double want[] = {NAN, NAN, NAN, NAN, NAN, NAN, 45.638888888888886, 45.09157986111111, 46.269748263888886, 46.97829861111111, 46.214084201388886, 47.74612087673611};
  double out[NX];
  apex_tema_batch(X, NX, 3, out);
  expect_rows("batch", out, want, NX);

  void *mem = aligned_alloc(16, (apex_tema_state_size(3) + 15) / 16 * 16);
  apex_tema *s = mem;
  apex_tema_init(s, 3);
  for (size_t i = 0; i < NX; i++)
    out[i] = apex_tema_update(s, X[i]);
  expect_rows("stream", out, want, NX);
  cr_expect_eq(apex_tema_value(s), want[NX - 1]);
  free(mem);
  cr_expect_eq(apex_tema_lookback(3), 6);
}

Test(tema, short_input_is_all_warmup)
{
  double out[2] = {0, 0};
  apex_tema_batch(X, 2, 3, out);
  cr_expect(isnan(out[0]) && isnan(out[1]));
  apex_tema_batch(X, 0, 3, out);
}

Test(tema, registry_entry)
{
  const apex_ind_info *ind = apex_ind_find("tema");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(p[0], 20);
  cr_expect_eq(ind->lookback(p), 57);
}
