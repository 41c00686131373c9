/* rsi.h - relative strength index (TA-Lib RSI, Wilder): the first `period` changes are averaged
 * (gains and losses apart), then avg = (avg * (period - 1) + change) / period;
 * RSI = 100 * gain / (gain + loss), 0 when gain + loss is within 1e-14 of 0. First value at index period. */
#ifndef APEX_CORE_IND_RSI_H
#define APEX_CORE_IND_RSI_H

#include <stddef.h>

typedef struct apex_rsi {
  double prev, gain, loss, value;
  int period, seen; /* seen stops counting at period + 1 */
} apex_rsi;

static inline int apex_rsi_lookback(int period) { return period; }
/* No ring: sizeof(apex_rsi). */
size_t apex_rsi_state_size(int period);
/* period >= 1. */
void apex_rsi_init(apex_rsi *s, int period);
/* Feeds x; returns RSI in 0..100, NaN for the first `period` values. */
double apex_rsi_update(apex_rsi *s, double x);
/* The last value returned by update. */
static inline double apex_rsi_value(const apex_rsi *s) { return s->value; }
/* out[i] for i < n; NaN for i < period. Same operations as the stream, so equal bits. */
void apex_rsi_batch(const double *in, size_t n, int period, double *out);

#endif
