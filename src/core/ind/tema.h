/* tema.h - triple exponential moving average (TA-Lib TEMA): e1 = EMA(x), e2 = EMA(e1),
 * e3 = EMA(e2), each a TA-Lib EMA seeded with the SMA of its first `period` inputs;
 * TEMA = 3 * e1 - 3 * e2 + e3. First value at index 3 * (period - 1). */
#ifndef APEX_CORE_IND_TEMA_H
#define APEX_CORE_IND_TEMA_H

#include <stddef.h>

#include "core/ind/ema.h"

typedef struct apex_tema {
  apex_ema e1, e2, e3;
} apex_tema;

static inline int apex_tema_lookback(int period) { return 3 * (period - 1); }
/* No ring: sizeof(apex_tema). */
size_t apex_tema_state_size(int period);
/* period >= 1. */
void apex_tema_init(apex_tema *s, int period);
/* Feeds x; returns TEMA, NaN for the first 3 * (period - 1) values. */
double apex_tema_update(apex_tema *s, double x);
/* The last value returned by update. */
double apex_tema_value(const apex_tema *s);
/* out[i] for i < n; warm-up rows NaN. Same operations as the stream, so equal bits. */
void apex_tema_batch(const double *in, size_t n, int period, double *out);

#endif
