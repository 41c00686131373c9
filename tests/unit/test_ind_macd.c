/* Unit tests for macd: macd = EMA(fast) - EMA(slow), both first valid at index slow-1 (the fast
 * EMA seeded with the SMA of the fast values ending there), signal = EMA(signal) of macd, hist.
 * Expected values from an independent python3 implementation, tests/tools/ind_expected.py
 * (ctest ind_expected_values checks they are the ones below). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/macd.h"

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

/* fast 2, slow 4, signal 3: EMAs from index 3, every output from index 3 + 2 = 5. */
Test(macd, hand_computed_batch_and_stream)
{
  static const double want[3][NX] = {{NAN, NAN, NAN, NAN, NAN, 0.4705555555555563, 0.2675185185185214, 0.02223950617284487, 0.3672531687242824, 0.4716550562414241, 0.10009408541380793, 0.5324234684712721}, {NAN, NAN, NAN, NAN, NAN, 0.17907407407407305, 0.22329629629629721, 0.12276790123457104, 0.2450105349794267, 0.3583327956104254, 0.22921344051211667, 0.3808184544916944}, {NAN, NAN, NAN, NAN, NAN, 0.29148148148148323, 0.04422222222222416, -0.10052839506172617, 0.12224263374485567, 0.1133222606309987, -0.12911935509830874, 0.1516050139795777}};
  double out[3][NX];
  apex_macd_batch(X, NX, 2, 4, 3, out[0], out[1], out[2]);
  for (int k = 0; k < 3; k++)
    expect_rows("batch", out[k], want[k], NX);
  apex_macd s;
  apex_macd_init(&s, 2, 4, 3);
  for (size_t i = 0; i < NX; i++) {
    double o[3];
    apex_macd_update(&s, X[i], o);
    for (int k = 0; k < 3; k++)
      out[k][i] = o[k];
  }
  for (int k = 0; k < 3; k++)
    expect_rows("stream", out[k], want[k], NX);
  cr_expect_eq(apex_macd_lookback(2, 4, 3), 5);
}

Test(macd, registry_defaults_lookback_and_fast_below_slow)
{
  const apex_ind_info *ind = apex_ind_find("macd");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(ind->lookback(p), 33);
  apex_error err = {0};
  cr_expect_eq(apex_ind_validate(ind, p, &err), APEX_OK);
  p[0] = 30;
  cr_expect_eq(apex_ind_validate(ind, p, &err), APEX_EINVAL);
  cr_expect(strncmp(err.msg, "fast:", 5) == 0, "%s", err.msg);
  p[0] = 26;
  cr_expect_eq(apex_ind_validate(ind, p, &err), APEX_EINVAL, "fast == slow accepted");
}
