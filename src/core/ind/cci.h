/* cci.h - commodity channel index (TA-Lib CCI): tp = (high + low + close) / 3; over the last `period`
 * tp: avg = sum / period, meandev = sum |tp_j - avg| / period; cci = (tp - avg) / (0.015 * meandev),
 * 0 when |tp - avg| or the deviation sum is below 1e-14. Lookback period-1.
 * The mean deviation needs every tp of the window against the new average: O(period) per candle,
 * inherently. Sums run in TA-Lib's ring-slot order, so the values match its to the bit. */
#ifndef APEX_CORE_IND_CCI_H
#define APEX_CORE_IND_CCI_H

#include <stddef.h>

typedef struct apex_cci {
  double *ring; /* the last `period` tp, slot = candle index mod period, after this struct */
  int period, pos;
  long long seen;
} apex_cci;

static inline int apex_cci_lookback(int period) { return period - 1; }
size_t apex_cci_state_size(int period);
/* s points to apex_cci_state_size(period) bytes; period >= 2. */
void apex_cci_init(apex_cci *s, int period);
/* Feeds one candle; NaN for the first period-1 candles. */
double apex_cci_update(apex_cci *s, double high, double low, double close);
/* out[i] for i < n, NaN for i < period - 1. */
void apex_cci_batch(const double *high, const double *low, const double *close, size_t n, int period, double *out);

#endif
