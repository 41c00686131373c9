/* macd.h - moving average convergence/divergence (TA-Lib MACD): macd = EMA(fast) - EMA(slow),
 * signal = EMA(signal) of macd, hist = macd - signal. As in TA-Lib both EMAs start at index slow - 1:
 * the fast EMA is seeded with the SMA of the `fast` values ending there (earlier values are ignored),
 * the slow one with the SMA of the first `slow` values; the signal EMA is seeded with the SMA of the
 * first `signal` macd values. All three outputs start at index slow + signal - 2. Needs fast < slow. */
#ifndef APEX_CORE_IND_MACD_H
#define APEX_CORE_IND_MACD_H

#include <stddef.h>

#include "core/ind/ema.h"

typedef struct apex_macd {
  apex_ema fast, slow, signal;
  double out[3]; /* macd, signal, hist of the last update */
  int skip, seen; /* the fast EMA ignores the first skip = slow - fast inputs */
} apex_macd;

static inline int apex_macd_lookback(int fast, int slow, int signal)
{
  (void)fast;
  return (slow - 1) + (signal - 1);
}
/* No ring: sizeof(apex_macd). */
size_t apex_macd_state_size(int fast, int slow, int signal);
/* 1 <= fast < slow, signal >= 1. */
void apex_macd_init(apex_macd *s, int fast, int slow, int signal);
/* Feeds x; out[0..3) = macd, signal, hist, all NaN while warming up. */
void apex_macd_update(apex_macd *s, double x, double out[3]);
/* The outputs of the last update. */
void apex_macd_value(const apex_macd *s, double out[3]);
/* macd[i], signal[i], hist[i] for i < n; warm-up rows NaN. Same operations as the stream. */
void apex_macd_batch(const double *in, size_t n, int fast, int slow, int signal, double *macd, double *sig,
                     double *hist);

#endif
