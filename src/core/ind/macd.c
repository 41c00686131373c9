/* macd.c - MACD as TA-Lib computes it (both EMAs first valid at index slow - 1, SMA seeds), with
 * the fast, slow and signal EMAs fused in one loop once all three are seeded. */
#include "core/ind/macd.h"

#include <math.h>

#include "core/ind/ind.h"

size_t apex_macd_state_size(int fast, int slow, int signal)
{
  (void)fast, (void)slow, (void)signal;
  return sizeof(apex_macd);
}

void apex_macd_init(apex_macd *s, int fast, int slow, int signal)
{
  apex_ema_init(&s->fast, fast);
  apex_ema_init(&s->slow, slow);
  apex_ema_init(&s->signal, signal);
  s->out[0] = s->out[1] = s->out[2] = NAN;
  s->skip = slow - fast;
  s->seen = 0;
}

void apex_macd_update(apex_macd *s, double x, double out[3])
{
  if (apex_ema_ready(&s->signal)) {
    double m = apex_ema_update(&s->fast, x) - apex_ema_update(&s->slow, x);
    double g = apex_ema_update(&s->signal, m);
    s->out[0] = m, s->out[1] = g, s->out[2] = m - g;
  } else {
    if (s->seen < s->skip)
      s->seen++;
    else
      apex_ema_update(&s->fast, x);
    apex_ema_update(&s->slow, x);
    if (apex_ema_ready(&s->slow)) {
      double m = s->fast.value - s->slow.value;
      double g = apex_ema_update(&s->signal, m);
      if (apex_ema_ready(&s->signal))
        s->out[0] = m, s->out[1] = g, s->out[2] = m - g;
    }
  }
  out[0] = s->out[0], out[1] = s->out[1], out[2] = s->out[2];
}

void apex_macd_value(const apex_macd *s, double out[3])
{
  out[0] = s->out[0], out[1] = s->out[1], out[2] = s->out[2];
}

void apex_macd_batch(const double *in, size_t n, int fast, int slow, int signal, double *macd, double *sig,
                     double *hist)
{
  apex_macd s;
  size_t i = 0;
  apex_macd_init(&s, fast, slow, signal);
  for (; i < n && !apex_ema_ready(&s.signal); i++) {
    double o[3];
    apex_macd_update(&s, in[i], o);
    macd[i] = o[0], sig[i] = o[1], hist[i] = o[2];
  }
  double ef = s.fast.value, es = s.slow.value, eg = s.signal.value;
  double kf = s.fast.k, ks = s.slow.k, kg = s.signal.k;
  for (; i < n; i++) {
    double x = in[i];
    ef = apex_ema_step(ef, x, kf);
    es = apex_ema_step(es, x, ks);
    double m = ef - es;
    eg = apex_ema_step(eg, m, kg);
    macd[i] = m;
    sig[i] = eg;
    hist[i] = m - eg;
  }
}

/* --- registry adapters --- */
static apex_err check_v(const double *p, apex_error *err)
{
  if (p[0] < p[1])
    return APEX_OK;
  return apex_error_set(err, APEX_EINVAL, "fast: must be less than slow, got fast %d and slow %d", (int)p[0],
                        (int)p[1]);
}
static int lookback_v(const double *p) { return apex_macd_lookback((int)p[0], (int)p[1], (int)p[2]); }
static size_t size_v(const double *p) { return apex_macd_state_size((int)p[0], (int)p[1], (int)p[2]); }
static void init_v(void *st, const double *p) { apex_macd_init(st, (int)p[0], (int)p[1], (int)p[2]); }
static void update_v(void *st, const apex_bar *b, double *out) { apex_macd_update(st, b->close, out); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_macd_batch(s->close, s->n, (int)p[0], (int)p[1], (int)p[2], out[0], out[1], out[2]);
}

const apex_ind_info apex_ind_macd = {
    .name = "macd",
    .title = "Moving Average Convergence/Divergence",
    .inputs = APEX_IN_CLOSE,
    .n_params = 3,
    .params = {{"fast", 12, 2, 100000, true}, {"slow", 26, 2, 100000, true}, {"signal", 9, 1, 100000, true}},
    .n_outputs = 3,
    .outputs = {"macd", "signal", "hist"},
    .check = check_v,
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
