/* willr.h - Williams %R (TA-Lib WILLR): (HH - close) / ((HH - LL) / -100) over the last `period`
 * candles, in -100..0; 0 when HH == LL. */
#ifndef APEX_CORE_IND_WILLR_H
#define APEX_CORE_IND_WILLR_H

#include <stddef.h>

#include "core/ind/stoch.h"

typedef struct apex_willr {
  apex_hilo hl; /* rings in the caller's memory after this struct */
} apex_willr;

static inline int apex_willr_lookback(int period) { return period - 1; }
size_t apex_willr_state_size(int period);
/* s points to apex_willr_state_size(period) bytes, 16-byte aligned; period >= 1. */
void apex_willr_init(apex_willr *s, int period);
/* Feeds one candle; NaN for the first period-1 candles. */
double apex_willr_update(apex_willr *s, double high, double low, double close);
/* out[i] for i < n, NaN for i < period - 1. */
void apex_willr_batch(const double *high, const double *low, const double *close, size_t n, int period,
                      double *out);

#endif
