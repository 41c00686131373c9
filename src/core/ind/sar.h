/* sar.h - Wilder's parabolic SAR exactly as TA-Lib SAR computes it. Lookback 1.
 * Start: the trend is short if low[0] - low[1] > 0 and high[1] - high[0] < low[0] - low[1] (TA-Lib's
 * -DM of the first two candles), else long. Long: ep = high[1], sar = low[0]; short: ep = low[1],
 * sar = high[0]; af = acceleration. Then for each candle t >= 1, with prev = candle t-1 (for t = 1,
 * candle 1 itself, as in TA-Lib) and new = candle t:
 *  long:  if new.low <= sar: reverse to short: sar = max(ep, prev.high, new.high), output it, af =
 *         acceleration, ep = new.low, sar += af*(ep - sar), sar = max(sar, prev.high, new.high);
 *         else output sar; if new.high > ep: ep = new.high, af = min(af + acceleration, maximum);
 *         sar += af*(ep - sar), sar = min(sar, prev.low, new.low).
 *  short: mirror image (reverse when new.high >= sar; ep tracks the lowest low). */
#ifndef APEX_CORE_IND_SAR_H
#define APEX_CORE_IND_SAR_H

#include <stddef.h>

typedef struct apex_sar {
  double accel, max, af, ep, sar;
  double new_high, new_low; /* the last candle's */
  int is_long;
  long long seen;
} apex_sar;

static inline int apex_sar_lookback(void) { return 1; }
/* 0 <= acceleration <= maximum. Never allocates. */
void apex_sar_init(apex_sar *s, double acceleration, double maximum);
/* Feeds one candle; NaN for the first. */
double apex_sar_update(apex_sar *s, double high, double low);
/* out[i] for i < n, NaN at 0. Same operations as the stream, so equal bits. */
void apex_sar_batch(const double *high, const double *low, size_t n, double acceleration, double maximum,
                    double *out);

#endif
