/* wma.h - weighted moving average (TA-Lib WMA): weights 1..period, newest heaviest,
 * WMA = sum(w_i * x_i) / (period * (period + 1) / 2). First value at index period - 1. */
#ifndef APEX_CORE_IND_WMA_H
#define APEX_CORE_IND_WMA_H

#include <stddef.h>

typedef struct apex_wma {
  double sum, sub; /* TA-Lib's periodSum (weighted) and periodSub (plain sum) */
  double *ring;    /* the last `period` inputs (zeros at first), in the memory right after this struct */
  double value;
  double divider;  /* period * (period + 1) / 2 */
  int period, pos, seen;
} apex_wma;

static inline int apex_wma_lookback(int period) { return period - 1; }
/* Bytes for the state, ring included. */
size_t apex_wma_state_size(int period);
/* s points to apex_wma_state_size(period) bytes; period >= 1. */
void apex_wma_init(apex_wma *s, int period);
/* Feeds x; returns the WMA, NaN until `period` values were seen. */
double apex_wma_update(apex_wma *s, double x);
/* The last value returned by update. */
static inline double apex_wma_value(const apex_wma *s) { return s->value; }
/* out[i] for i < n; NaN for i < period - 1. Same operations as the stream, so equal bits. */
void apex_wma_batch(const double *in, size_t n, int period, double *out);

#endif
