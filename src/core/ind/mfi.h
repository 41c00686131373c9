/* mfi.h - money flow index (TA-Lib MFI): tp = (high + low + close) / 3, flow = tp * volume, positive
 * when tp rose against the previous candle, negative when it fell, neither when equal; over the last
 * `period` flows mfi = 100 * pos / (pos + neg), and 0 when pos + neg < 1 (TA-Lib's quirk). Lookback period. */
#ifndef APEX_CORE_IND_MFI_H
#define APEX_CORE_IND_MFI_H

#include <stddef.h>

typedef struct apex_mfi {
  double *pos_ring, *neg_ring; /* the last `period` flows by side, after this struct */
  double pos, neg, prev_tp;
  int period, slot;
  long long seen;
} apex_mfi;

static inline int apex_mfi_lookback(int period) { return period; }
size_t apex_mfi_state_size(int period);
/* s points to apex_mfi_state_size(period) bytes; period >= 1. */
void apex_mfi_init(apex_mfi *s, int period);
/* Feeds one candle; NaN for the first `period` candles. */
double apex_mfi_update(apex_mfi *s, double high, double low, double close, double volume);
/* out[i] for i < n, NaN for i < period. Same operations as the stream, so equal bits. */
void apex_mfi_batch(const double *high, const double *low, const double *close, const double *volume, size_t n,
                    int period, double *out);

#endif
