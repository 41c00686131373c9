/* PLACEHOLDER: being written; replaced by the real indicator. */
#include <math.h>
#include "core/ind/ind.h"
static int lb(const double *p) { (void)p; return 0; }
static size_t sz(const double *p) { (void)p; return 1; }
static void in(void *st, const double *p) { (void)st; (void)p; }
static void up(void *st, const apex_bar *b, double *out) { (void)st; (void)b; out[0] = NAN; }
static void ba(const apex_series *s, const double *p, double *const *out) { (void)p; for (size_t i = 0; i < s->n; i++) out[0][i] = NAN; }
const apex_ind_info apex_ind_stoch = { .name = "stoch", .title = "placeholder", .inputs = APEX_IN_CLOSE, .n_outputs = 1, .outputs = {"stoch"}, .lookback = lb, .state_size = sz, .init = in, .update = up, .batch = ba };
