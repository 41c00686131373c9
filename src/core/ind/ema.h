/* ema.h - exponential moving average (TA-Lib EMA): k = 2 / (period + 1); the first value, at index
 * period - 1, is the SMA of the first `period` inputs; then e = (x - e) * k + e. */
#ifndef APEX_CORE_IND_EMA_H
#define APEX_CORE_IND_EMA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct apex_ema {
  double k, sum, value; /* sum: the seed's running total while warming up */
  int period, seen;     /* seen stops counting at period */
} apex_ema;

static inline int apex_ema_lookback(int period) { return period - 1; }
/* TA-Lib's PER_TO_K. */
static inline double apex_ema_k(int period) { return 2.0 / (double)(period + 1); }
/* One smoothing step, in TA-Lib's order of operations. */
static inline double apex_ema_step(double e, double x, double k) { return (x - e) * k + e; }

/* No ring: sizeof(apex_ema). */
size_t apex_ema_state_size(int period);
/* period >= 1. */
void apex_ema_init(apex_ema *s, int period);
/* Feeds x; returns the EMA, NaN until `period` values were seen. */
double apex_ema_update(apex_ema *s, double x);
static inline bool apex_ema_ready(const apex_ema *s) { return s->seen == s->period; }
/* The last value returned by update (NaN while warming up). */
static inline double apex_ema_value(const apex_ema *s) { return s->value; }
/* out[i] for i < n; NaN for i < period - 1. Same operations as the stream, so equal bits. */
void apex_ema_batch(const double *in, size_t n, int period, double *out);

#endif
