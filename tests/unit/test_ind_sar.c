/* Parabolic SAR against an independent Python transcription of the definition in sar.h: a long start,
 * a short start, reversals both ways, the acceleration cap; the acceleration <= maximum check.
 * Generator: tests/tools/ind_expected.py (ctest ind_expected_values checks the values below). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "support/ref.h"

static void check(const double *h, const double *l, size_t n, double acc, double max, const double *want)
{
  const apex_ind_info *ind = apex_ind_find("sar");
  cr_assert_not_null(ind);
  apex_series *s = apex_series_new(n);
  for (size_t i = 0; i < n; i++) {
    apex_bar b = {(int64_t)i * 60000, l[i], h[i], l[i], h[i], 1000};
    apex_series_append(s, &b);
  }
  double p[APEX_IND_MAX_PARAMS] = {acc, max}, out[16], *outs[1] = {out};
  apex_error err = {0};
  cr_assert_eq(apex_ind_validate(ind, p, &err), APEX_OK, "%s", err.msg);
  ind->batch(s, p, outs);
  void *st = aligned_alloc(16, (ind->state_size(p) + 15) / 16 * 16);
  ind->init(st, p);
  for (size_t i = 0; i < n; i++) {
    apex_bar b = apex_series_bar(s, i);
    double o;
    ind->update(st, &b, &o);
    cr_expect(ref_close_enough(out[i], want[i], 1e-12, 1e-12), "batch row %zu: %.17g, want %.17g", i, out[i],
              want[i]);
    cr_expect(ref_close_enough(o, want[i], 1e-12, 1e-12), "stream row %zu: %.17g, want %.17g", i, o, want[i]);
  }
  free(st);
  apex_series_free(s);
}

static const double UH[] = {10.0, 10.5, 11.2, 11.8, 11.5, 10.6, 10.2, 10.9, 11.6, 12.4};
static const double UL[] = {9.0, 9.6, 10.1, 10.9, 10.4, 9.8, 9.1, 9.7, 10.5, 11.3};

Test(sar, long_start_reverses_to_short_and_back)
{
  const double want[] = {NAN, 9.0, 9.03, 9.1168, 9.277792, 9.42912448, 11.8, 11.746, 11.69308, 9.1};
  check(UH, UL, 10, 0.02, 0.2, want);
}

Test(sar, acceleration_capped_at_maximum)
{
  const double want[] = {NAN, 9.0, 9.15, 9.56, 10.1, 11.8, 11.600000000000001, 11.100000000000001, 9.1, 9.35};
  check(UH, UL, 10, 0.1, 0.25, want);
}

Test(sar, short_start)
{
  const double h[] = {10.0, 9.8, 9.5, 9.9, 10.6, 10.4};
  const double l[] = {9.5, 9.0, 8.7, 9.1, 9.9, 9.6};
  const double want[] = {NAN, 10.0, 9.98, 9.9288, 8.7, 8.738};
  check(h, l, 6, 0.02, 0.2, want);
}

Test(sar, acceleration_above_maximum_is_rejected)
{
  const apex_ind_info *ind = apex_ind_find("sar");
  double p[APEX_IND_MAX_PARAMS] = {0.3, 0.2};
  apex_error err = {0};
  cr_expect_eq(apex_ind_validate(ind, p, &err), APEX_EINVAL);
  cr_expect(strncmp(err.msg, "acceleration: ", 14) == 0, "message: %s", err.msg);
  p[0] = 0.2;
  cr_expect_eq(apex_ind_validate(ind, p, &err), APEX_OK, "%s", err.msg);
}
