/* Unit tests for bbands: middle = SMA(period), sd = population standard deviation of the window,
 * upper/lower = middle +/- stddev * sd. Expected values from an independent python3
 * implementation, tests/tools/ind_expected.py (ctest ind_expected_values checks they are the ones
 * below). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/bbands.h"

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

static void run(const double *in, size_t n, int period, double dev, double out[3][40], double sout[3][40])
{
  apex_bbands_batch(in, n, period, dev, out[0], out[1], out[2]);
  void *mem = aligned_alloc(16, (apex_bbands_state_size(period) + 15) / 16 * 16);
  apex_bbands_init(mem, period, dev);
  for (size_t i = 0; i < n; i++) {
    double o[3];
    apex_bbands_update(mem, in[i], o);
    for (int k = 0; k < 3; k++)
      sout[k][i] = o[k];
  }
  free(mem);
}

/* period 4, 2 standard deviations. */
Test(bbands, hand_computed_batch_and_stream)
{
  static const double want[3][NX] = {{NAN, NAN, NAN, 44.95415619758885, 45.46472473588517, 46.552775637732, 46.36803398874989, 46.20415619758885, 46.86803398874989, 47.58113883008419, 47.6040199457749, 48.3540199457749}, {NAN, NAN, NAN, 44.125, 44.375, 44.75, 45.25, 45.375, 45.75, 46.0, 46.125, 46.875}, {NAN, NAN, NAN, 43.29584380241115, 43.28527526411483, 42.947224362268, 44.13196601125011, 44.54584380241115, 44.63196601125011, 44.41886116991581, 44.6459800542251, 45.3959800542251}};
  double out[3][40], sout[3][40];
  run(X, NX, 4, 2.0, out, sout);
  for (int k = 0; k < 3; k++) {
    expect_rows("batch", out[k], want[k], NX);
    expect_rows("stream", sout[k], want[k], NX);
  }
}

/* A flat window has variance 0 (TA-Lib also zeroes variances below 1e-14): the bands touch;
 * 40 rows cover more than one of the batch's internal blocks. */
Test(bbands, flat_input_collapses_the_bands)
{
  double in[40], out[3][40], sout[3][40];
  for (int i = 0; i < 40; i++)
    in[i] = 0.1 * 3;
  run(in, 40, 20, 2.0, out, sout);
  for (int i = 19; i < 40; i++)
    for (int k = 0; k < 3; k++) {
      cr_expect_eq(out[k][i], out[1][i], "row %d", i);
      cr_expect_eq(sout[k][i], out[k][i], "row %d", i);
    }
}

Test(bbands, registry_entry)
{
  const apex_ind_info *ind = apex_ind_find("bbands");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(p[0], 20);
  cr_expect_eq(p[1], 2);
  cr_expect_eq(ind->lookback(p), 19);
  cr_expect(!ind->params[1].integer);
}
