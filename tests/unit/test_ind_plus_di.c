/* +DI (plus_di) against values computed by hand from the definition in adx.h (an independent Python
 * transcription, tests/tools/ind_expected.py, which ctest ind_expected_values checks), with
 * periods 2 and 3; stream against batch through the registry. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "core/ind/ind.h"
#include "support/ref.h"

static const double H[] = {10.0, 11.0, 10.5, 12.0, 11.0, 13.0, 12.5, 12.0};
static const double L[] = {9.0, 9.5, 9.0, 10.0, 10.2, 11.0, 11.5, 10.0};
static const double C[] = {9.5, 10.5, 10.0, 11.5, 10.8, 12.5, 12.0, 10.5};
#define NB 8

/* Batch and stream through the registry; both must give `want` (NaN = warm-up). */
static void check(const char *name, double period, const double *want)
{
  const apex_ind_info *ind = apex_ind_find(name);
  cr_assert_not_null(ind);
  apex_series *s = apex_series_new(NB);
  for (size_t i = 0; i < NB; i++) {
    apex_bar b = {(int64_t)i * 60000, C[i], H[i], L[i], C[i], 1000};
    apex_series_append(s, &b);
  }
  double p[APEX_IND_MAX_PARAMS] = {period}, out[NB], *outs[1] = {out};
  cr_assert_eq(ind->lookback(p), (int)period);
  ind->batch(s, p, outs);
  void *st = aligned_alloc(16, (ind->state_size(p) + 15) / 16 * 16);
  ind->init(st, p);
  for (size_t i = 0; i < NB; i++) {
    apex_bar b = apex_series_bar(s, i);
    double o;
    ind->update(st, &b, &o);
    cr_expect(ref_close_enough(out[i], want[i], 1e-12, 1e-12), "%s(%g) batch row %zu: %.17g, want %.17g", name,
              period, i, out[i], want[i]);
    cr_expect(ref_close_enough(o, want[i], 1e-12, 1e-12), "%s(%g) stream row %zu: %.17g, want %.17g", name, period,
              i, o, want[i]);
  }
  free(st);
  apex_series_free(s);
}

Test(plus_di, period_3_by_hand)
{
  const double want[NB] = {NAN, NAN, NAN, 54.16666666666667, 36.41456582633053, 61.16207951070336,
                           46.70169293636894, 27.322404371584696};
  check("plus_di", 3, want);
}

Test(plus_di, period_2_by_hand)
{
  const double want[NB] = {NAN, NAN, 22.22222222222222, 56.00000000000001, 30.567685589519645, 67.12564543889846,
                           43.28523862375139, 17.881705639614857};
  check("plus_di", 2, want);
}

Test(plus_di, default_period_is_14)
{
  const apex_ind_info *ind = apex_ind_find("plus_di");
  cr_assert_not_null(ind);
  cr_expect_eq(ind->params[0].def, 14);
  double p[APEX_IND_MAX_PARAMS] = {14};
  cr_expect_eq(ind->lookback(p), 14);
}
