/* Unit tests for stochrsi: r = RSI(period); fastk = 100 * (r - min) / (max - min) over the last k
 * RSI values (0 when max == min); fastd = SMA(d) of fastk. Expected values from an independent
 * python3 implementation (its own RSI and window min/max), tests/tools/ind_expected.py
 * (ctest ind_expected_values checks they are the ones below). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ind/stochrsi.h"

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

static void stream(const double *in, size_t n, int p, int k, int d, double *fk, double *fd)
{
  void *mem = aligned_alloc(16, (apex_stochrsi_state_size(p, k, d) + 15) / 16 * 16);
  apex_stochrsi_init(mem, p, k, d);
  for (size_t i = 0; i < n; i++) {
    double o[2];
    apex_stochrsi_update(mem, in[i], o);
    fk[i] = o[0], fd[i] = o[1];
  }
  free(mem);
}

/* period 3, k 4, d 2: RSI from index 3, raw fast K from 6, both outputs from 7. */
Test(stochrsi, hand_computed_batch_and_stream)
{
  static const double want_k[] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, 0.0, 81.58401184307922, 100.0, 8.411052583334584, 87.32841341769564};
  static const double want_d[] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, 5.978260869565191, 40.79200592153961, 90.79200592153961, 54.20552629166729, 47.86973300051511};
  double fk[NX], fd[NX];
  apex_stochrsi_batch(X, NX, 3, 4, 2, fk, fd);
  expect_rows("batch fastk", fk, want_k, NX);
  expect_rows("batch fastd", fd, want_d, NX);
  stream(X, NX, 3, 4, 2, fk, fd);
  expect_rows("stream fastk", fk, want_k, NX);
  expect_rows("stream fastd", fd, want_d, NX);
  cr_expect_eq(apex_stochrsi_lookback(3, 4, 2), 7);
}

/* Long monotone runs make the window's max (then min) leave at every step: the batch rescans and
 * the stream's deques must still agree. Rising prices give RSI 100 everywhere: a flat window, 0. */
Test(stochrsi, stream_equals_batch_on_trends)
{
  enum { N = 400 };
  static double in[N], fk[N], fd[N], sk[N], sd[N];
  for (int i = 0; i < N; i++)
    in[i] = 100 + (i < 200 ? 0.1 * i * (i % 3) : 50 - 0.2 * i + (i % 5));
  apex_stochrsi_batch(in, N, 5, 7, 3, fk, fd);
  stream(in, N, 5, 7, 3, sk, sd);
  expect_rows("fastk", sk, fk, N);
  expect_rows("fastd", sd, fd, N);
  for (int i = 0; i < N; i++)
    in[i] = i;
  apex_stochrsi_batch(in, N, 14, 14, 3, fk, fd);
  for (int i = 29; i < N; i++)
    cr_expect(fk[i] == 0 && fd[i] == 0, "row %d: %g %g", i, fk[i], fd[i]);
}

Test(stochrsi, registry_entry)
{
  const apex_ind_info *ind = apex_ind_find("stochrsi");
  cr_assert_not_null(ind);
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  cr_expect_eq(p[0], 14);
  cr_expect_eq(p[1], 14);
  cr_expect_eq(p[2], 3);
  cr_expect_eq(ind->lookback(p), 29);
  cr_expect_str_eq(ind->outputs[0], "fastk");
  cr_expect_str_eq(ind->outputs[1], "fastd");
}
