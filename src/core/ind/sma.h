/* sma.h - simple moving average: mean of the last `period` values (TA-Lib SMA). */
#ifndef APEX_CORE_IND_SMA_H
#define APEX_CORE_IND_SMA_H

#include <stddef.h>

typedef struct apex_sma {
  double partial; /* sum of the newest period-1 values */
  double *ring;   /* the last `period` inputs, in the memory right after this struct */
  int period, pos;
  long seen;
} apex_sma;

static inline int apex_sma_lookback(int period) { return period - 1; }
/* Bytes for the state, ring included. */
size_t apex_sma_state_size(int period);
/* s points to apex_sma_state_size(period) bytes; period >= 1. */
void apex_sma_init(apex_sma *s, int period);
/* Feeds x; returns the average, NaN until `period` values were seen. */
double apex_sma_update(apex_sma *s, double x);
/* out[i] for i < n; NaN for i < period - 1. Same operations as the stream, so equal bits. */
void apex_sma_batch(const double *in, size_t n, int period, double *out);

#endif
