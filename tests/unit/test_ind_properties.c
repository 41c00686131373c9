/* Properties every registered indicator must have, checked over the whole registry:
 * streaming equals batch, no look-ahead (prefix property), warm-up as long as the lookback,
 * parameters out of range rejected with a message naming the parameter and its range. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "support/ref.h"

#define N 3000

static double **alloc_outs(const apex_ind_info *ind, size_t n)
{
  double **o = calloc(APEX_IND_MAX_OUTPUTS, sizeof *o);
  for (int k = 0; k < ind->n_outputs; k++)
    o[k] = malloc(n * sizeof(double));
  return o;
}

static void free_outs(double **o)
{
  for (int k = 0; k < APEX_IND_MAX_OUTPUTS; k++)
    free(o[k]);
  free(o);
}

/* Runs the streaming form over s and checks each row against batch output. */
static void stream_matches_batch(const apex_ind_info *ind, const double *p, const apex_series *s)
{
  double **b = alloc_outs(ind, s->n);
  ind->batch(s, p, b);
  void *st = aligned_alloc(16, (ind->state_size(p) + 15) / 16 * 16);
  ind->init(st, p);
  for (size_t i = 0; i < s->n; i++) {
    apex_bar bar = apex_series_bar(s, i);
    double out[APEX_IND_MAX_OUTPUTS];
    ind->update(st, &bar, out);
    for (int k = 0; k < ind->n_outputs; k++)
      if (!ref_close_enough(out[k], b[k][i], 1e-12, 1e-12)) {
        cr_expect_fail("%s.%s row %zu: stream %.17g, batch %.17g", ind->name, ind->outputs[k], i, out[k], b[k][i]);
        goto out;
      }
  }
out:
  free(st);
  free_outs(b);
}

Test(indicators, stream_equals_batch)
{
  apex_series *s = ref_random_series(N, 7);
  apex_series *orcl = ref_orcl_series();
  size_t n;
  const apex_ind_info *const *all = apex_ind_list(&n);
  for (size_t i = 0; i < n; i++) {
    double p[APEX_IND_MAX_PARAMS];
    apex_ind_defaults(all[i], p);
    stream_matches_batch(all[i], p, s);
    stream_matches_batch(all[i], p, orcl);
  }
  apex_series_free(orcl);
  apex_series_free(s);
}

Test(indicators, warmup_rows_are_exactly_the_lookback)
{
  apex_series *s = ref_random_series(N, 11);
  size_t n;
  const apex_ind_info *const *all = apex_ind_list(&n);
  for (size_t i = 0; i < n; i++) {
    double p[APEX_IND_MAX_PARAMS];
    apex_ind_defaults(all[i], p);
    int lb = all[i]->lookback(p);
    double **o = alloc_outs(all[i], s->n);
    all[i]->batch(s, p, o);
    for (int k = 0; k < all[i]->n_outputs; k++) {
      for (int r = 0; r < lb; r++)
        cr_expect(isnan(o[k][r]), "%s.%s row %d should be warm-up", all[i]->name, all[i]->outputs[k], r);
      for (size_t r = (size_t)lb; r < s->n; r++)
        if (!isfinite(o[k][r])) {
          cr_expect_fail("%s.%s row %zu not finite after lookback %d", all[i]->name, all[i]->outputs[k], r, lb);
          break;
        }
    }
    free_outs(o);
  }
  apex_series_free(s);
}

/* Values on the first k candles equal the first k values on all candles: no look-ahead. */
Test(indicators, prefix_property_no_lookahead)
{
  apex_series *full = ref_random_series(N, 3);
  unsigned long long st = 99;
  size_t n;
  const apex_ind_info *const *all = apex_ind_list(&n);
  for (size_t i = 0; i < n; i++) {
    double p[APEX_IND_MAX_PARAMS];
    apex_ind_defaults(all[i], p);
    double **whole = alloc_outs(all[i], full->n);
    all[i]->batch(full, p, whole);
    for (int trial = 0; trial < 5; trial++) {
      st = st * 6364136223846793005ULL + 1;
      size_t k = 1 + (size_t)(st >> 33) % (full->n - 1);
      apex_series *pre = ref_random_series(N, 3);
      apex_series_slice(pre, 0, k);
      double **part = alloc_outs(all[i], k);
      all[i]->batch(pre, p, part);
      for (int o = 0; o < all[i]->n_outputs; o++)
        for (size_t r = 0; r < k; r++)
          if (!ref_close_enough(part[o][r], whole[o][r], 0, 0)) {
            cr_expect_fail("%s.%s: row %zu differs when data ends at %zu (%.17g vs %.17g)", all[i]->name,
                    all[i]->outputs[o], r, k, part[o][r], whole[o][r]);
            break;
          }
      free_outs(part);
      apex_series_free(pre);
    }
    free_outs(whole);
  }
  apex_series_free(full);
}

Test(indicators, parameters_out_of_range_are_rejected_by_name)
{
  size_t n;
  const apex_ind_info *const *all = apex_ind_list(&n);
  for (size_t i = 0; i < n; i++) {
    const apex_ind_info *ind = all[i];
    for (int k = 0; k < ind->n_params; k++) {
      const apex_ind_param *d = &ind->params[k];
      double bad[3] = {d->min - 1, d->max + 1, NAN};
      for (int b = 0; b < 3; b++) {
        double p[APEX_IND_MAX_PARAMS];
        apex_ind_defaults(ind, p);
        p[k] = bad[b];
        apex_error err = {0};
        cr_expect_eq(apex_ind_validate(ind, p, &err), APEX_EINVAL, "%s %s=%g accepted", ind->name, d->name,
                     bad[b]);
        cr_expect(strncmp(err.msg, d->name, strlen(d->name)) == 0, "%s: message '%s' does not name %s",
                  ind->name, err.msg, d->name);
      }
      if (d->integer) {
        double p[APEX_IND_MAX_PARAMS];
        apex_ind_defaults(ind, p);
        p[k] = d->def + 0.5;
        apex_error err = {0};
        cr_expect_eq(apex_ind_validate(ind, p, &err), APEX_EINVAL, "%s %s not integer accepted", ind->name,
                     d->name);
      }
    }
    double p[APEX_IND_MAX_PARAMS];
    apex_ind_defaults(ind, p);
    apex_error err = {0};
    cr_expect_eq(apex_ind_validate(ind, p, &err), APEX_OK, "%s defaults rejected: %s", ind->name, err.msg);
  }
}

Test(indicators, registry_lookup_and_parameter_text)
{
  const apex_ind_info *rsi = apex_ind_find("RSI");
  cr_assert_not_null(rsi);
  cr_expect_str_eq(rsi->name, "rsi");
  cr_expect_null(apex_ind_find("nope"));
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(rsi, p);
  cr_expect_eq(p[0], 14);
  apex_error err = {0};
  cr_expect_eq(apex_ind_set_param(rsi, p, "period", "0", &err), APEX_EINVAL);
  cr_expect_str_eq(err.msg, "period: must be an integer from 2 to 100000, got 0");
  cr_expect_eq(apex_ind_set_param(rsi, p, "length", "3", &err), APEX_EINVAL);
  cr_expect(strstr(err.msg, "unknown parameter") != NULL, "%s", err.msg);
  cr_expect_eq(apex_ind_set_param(rsi, p, "period", "7x", &err), APEX_EINVAL);
  cr_expect_eq(apex_ind_set_param(rsi, p, "period", "7", &err), APEX_OK);
  cr_expect_eq(p[0], 7);
}

/* The defaults the issue fixes for every surface (CLI, rules, API). */
Test(indicators, documented_defaults)
{
  static const struct { const char *ind, *param; double def; } D[] = {
      {"sma", "period", 20},   {"ema", "period", 20},      {"wma", "period", 20},    {"dema", "period", 20},
      {"tema", "period", 20},  {"bbands", "period", 20},   {"bbands", "stddev", 2},  {"cci", "period", 20},
      {"rsi", "period", 14},   {"atr", "period", 14},      {"natr", "period", 14},   {"adx", "period", 14},
      {"mfi", "period", 14},   {"willr", "period", 14},    {"roc", "period", 10},    {"macd", "fast", 12},
      {"macd", "slow", 26},    {"macd", "signal", 9},      {"stoch", "k", 14},       {"stoch", "k_smooth", 3},
      {"stoch", "d", 3},       {"stochrsi", "period", 14}, {"stochrsi", "k", 14},    {"stochrsi", "d", 3},
      {"sar", "acceleration", 0.02}, {"sar", "maximum", 0.2},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(D); i++) {
    const apex_ind_info *ind = apex_ind_find(D[i].ind);
    cr_assert_not_null(ind, "%s missing", D[i].ind);
    int k = apex_ind_param_index(ind, D[i].param);
    cr_assert_geq(k, 0, "%s has no parameter %s", D[i].ind, D[i].param);
    cr_expect_eq(ind->params[k].def, D[i].def, "%s.%s default", D[i].ind, D[i].param);
  }
  static const struct { const char *ind; const char *outs[3]; } O[] = {
      {"macd", {"macd", "signal", "hist"}}, {"bbands", {"upper", "middle", "lower"}}, {"stoch", {"slowk", "slowd"}},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(O); i++) {
    const apex_ind_info *ind = apex_ind_find(O[i].ind);
    for (int k = 0; k < 3 && O[i].outs[k]; k++)
      cr_expect_str_eq(ind->outputs[k], O[i].outs[k]);
  }
}
