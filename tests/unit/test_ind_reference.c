/* Every indicator in ../shared/reference/talib against TA-Lib's own output on ORCL 1995-2014:
 * same warm-up rows empty, every value within 1e-9 relative (1e-9 absolute near zero). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "core/ind/ind.h"
#include "support/ref.h"

static const struct {
  const char *file, *ind;
  double params[APEX_IND_MAX_PARAMS]; /* NAN = default */
} CASES[] = {
    {"sma_20", "sma", {20}},
    {"ema_20", "ema", {20}},
    {"wma_20", "wma", {20}},
    {"rsi_14", "rsi", {14}},
    {"macd_12_26_9", "macd", {12, 26, 9}},
    {"bbands_20_2_2", "bbands", {20, 2}},
    {"atr_14", "atr", {14}},
    {"stoch_14_3_3", "stoch", {14, 3, 3}},
    {"adx_14", "adx", {14}},
    {"cci_20", "cci", {20}},
    {"mfi_14", "mfi", {14}},
    {"obv", "obv", {0}},
    {"roc_10", "roc", {10}},
    {"willr_14", "willr", {14}},
};

static apex_series *orcl;
static void setup(void) { orcl = ref_orcl_series(); }
static void teardown(void) { apex_series_free(orcl); }

/* Compares one reference file with our batch output, row by row. */
static void check_case(size_t k)
{
  const apex_ind_info *ind = apex_ind_find(CASES[k].ind);
  cr_assert_not_null(ind, "%s is not in the registry", CASES[k].ind);
  double p[APEX_IND_MAX_PARAMS];
  for (int i = 0; i < ind->n_params; i++)
    p[i] = CASES[k].params[i];
  apex_error err = {0};
  cr_assert_eq(apex_ind_validate(ind, p, &err), APEX_OK, "%s: %s", ind->name, err.msg);

  char path[256];
  snprintf(path, sizeof path, "reference/talib/orcl/%s.csv", CASES[k].file);
  ref_table *ref = ref_table_load(path);
  cr_assert_eq(ref->n, orcl->n);

  double *outs[APEX_IND_MAX_OUTPUTS] = {0};
  for (int o = 0; o < ind->n_outputs; o++)
    outs[o] = malloc(orcl->n * sizeof(double));
  ind->batch(orcl, p, outs);

  for (int o = 0; o < ind->n_outputs; o++) {
    const double *want = ref_table_col(ref, ind->outputs[o]);
    cr_assert_not_null(want, "%s: reference has no column '%s'", CASES[k].file, ind->outputs[o]);
    size_t first = 0;
    while (first < ref->n && isnan(want[first]))
      first++;
    cr_expect_eq(ind->lookback(p), (int)first, "%s: lookback %d, TA-Lib fills from row %zu", CASES[k].file,
                 ind->lookback(p), first);
    for (size_t i = 0; i < ref->n; i++) {
      if (!ref_close_enough(outs[o][i], want[i], 1e-9, 1e-9)) {
        cr_expect_fail("%s.%s row %zu: got %.17g, TA-Lib %.17g", CASES[k].file, ind->outputs[o], i, outs[o][i],
                want[i]);
        break;
      }
    }
  }
  for (int o = 0; o < ind->n_outputs; o++)
    free(outs[o]);
  ref_table_free(ref);
}

#define REF_TEST(idx, nm) \
  Test(talib_reference, nm, .init = setup, .fini = teardown) { check_case(idx); }
REF_TEST(0, sma_20)
REF_TEST(1, ema_20)
REF_TEST(2, wma_20)
REF_TEST(3, rsi_14)
REF_TEST(4, macd_12_26_9)
REF_TEST(5, bbands_20_2_2)
REF_TEST(6, atr_14)
REF_TEST(7, stoch_14_3_3)
REF_TEST(8, adx_14)
REF_TEST(9, cci_20)
REF_TEST(10, mfi_14)
REF_TEST(11, obv)
REF_TEST(12, roc_10)
REF_TEST(13, willr_14)
