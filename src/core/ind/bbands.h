/* bbands.h - Bollinger bands (TA-Lib BBANDS with an SMA): middle = SMA(period),
 * sd = sqrt(mean of squares - middle^2) over the window (population; a variance below 1e-14 is 0),
 * upper = middle + stddev * sd, lower = middle - stddev * sd. First values at index period - 1. */
#ifndef APEX_CORE_IND_BBANDS_H
#define APEX_CORE_IND_BBANDS_H

#include <stddef.h>

typedef struct apex_bbands {
  double sum, sum2;     /* running sums of the newest period-1 values and of their squares */
  double dev;           /* the stddev multiplier */
  double *ring;         /* the last `period` inputs, in the memory right after this struct */
  double out[3];        /* upper, middle, lower of the last update */
  int period, pos, seen; /* seen stops counting at period */
} apex_bbands;

static inline int apex_bbands_lookback(int period) { return period - 1; }
/* Bytes for the state, ring included. */
size_t apex_bbands_state_size(int period);
/* s points to apex_bbands_state_size(period) bytes; period >= 1. */
void apex_bbands_init(apex_bbands *s, int period, double stddev);
/* Feeds x; out[0..3) = upper, middle, lower, NaN until `period` values were seen. */
void apex_bbands_update(apex_bbands *s, double x, double out[3]);
/* The outputs of the last update. */
void apex_bbands_value(const apex_bbands *s, double out[3]);
/* upper[i], middle[i], lower[i] for i < n; NaN for i < period - 1. Same operations as the stream. */
void apex_bbands_batch(const double *in, size_t n, int period, double stddev, double *upper, double *middle,
                       double *lower);

#endif
