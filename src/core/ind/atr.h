/* atr.h - average true range (TA-Lib ATR): the first value, at index `period`, is the mean of the
 * true ranges of bars 1..period; then Wilder smoothing atr = atr * (period-1)/period + tr/period.
 * TR = max(high, prev close) - min(low, prev close). NATR = atr / close * 100 (0 if close ~ 0). */
#ifndef APEX_CORE_IND_ATR_H
#define APEX_CORE_IND_ATR_H

#include <stddef.h>

typedef struct apex_atr {
  double prev_close, atr; /* atr holds the running TR sum until the first value */
  double keep, add;       /* (period-1)/period and 1/period */
  int period;
  long long seen;
} apex_atr;

static inline int apex_atr_lookback(int period) { return period; }
size_t apex_atr_state_size(int period);
/* period >= 1. Never allocates. */
void apex_atr_init(apex_atr *s, int period);
/* Feeds one candle; returns the ATR, NaN for the first `period` candles. */
double apex_atr_update(apex_atr *s, double high, double low, double close);
/* out[i] for i < n, NaN for i < period. Same operations as the stream, so equal bits. */
void apex_atr_batch(const double *high, const double *low, const double *close, size_t n, int period,
                    double *out);
/* NATR from an ATR value and the candle's close. */
static inline double apex_natr_of(double atr, double close)
{
  return (close > -1e-14 && close < 1e-14) ? 0.0 : atr / close * 100.0;
}

#endif
