/* dema.h - double exponential moving average (TA-Lib DEMA): e1 = EMA(x, period),
 * e2 = EMA(e1, period) seeded with the SMA of the first `period` e1 values, DEMA = 2 * e1 - e2.
 * First value at index 2 * (period - 1). */
#ifndef APEX_CORE_IND_DEMA_H
#define APEX_CORE_IND_DEMA_H

#include <stddef.h>

#include "core/ind/ema.h"

typedef struct apex_dema {
  apex_ema e1, e2;
} apex_dema;

static inline int apex_dema_lookback(int period) { return 2 * (period - 1); }
/* No ring: sizeof(apex_dema). */
size_t apex_dema_state_size(int period);
/* period >= 1. */
void apex_dema_init(apex_dema *s, int period);
/* Feeds x; returns DEMA, NaN for the first 2 * (period - 1) values. */
double apex_dema_update(apex_dema *s, double x);
/* The last value returned by update. */
double apex_dema_value(const apex_dema *s);
/* out[i] for i < n; warm-up rows NaN. Same operations as the stream, so equal bits. */
void apex_dema_batch(const double *in, size_t n, int period, double *out);

#endif
