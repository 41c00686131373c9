/* roc.h - rate of change (TA-Lib ROC): ((x / x[-period]) - 1) * 100, 0 when x[-period] is 0.
 * First value at index period. */
#ifndef APEX_CORE_IND_ROC_H
#define APEX_CORE_IND_ROC_H

#include <stddef.h>

typedef struct apex_roc {
  double *ring; /* the last `period` inputs, in the memory right after this struct */
  double value;
  int period, pos, seen; /* seen stops counting at period */
} apex_roc;

static inline int apex_roc_lookback(int period) { return period; }
/* Bytes for the state, ring included. */
size_t apex_roc_state_size(int period);
/* s points to apex_roc_state_size(period) bytes; period >= 1. */
void apex_roc_init(apex_roc *s, int period);
/* Feeds x; returns the ROC in percent, NaN for the first `period` values. */
double apex_roc_update(apex_roc *s, double x);
/* The last value returned by update. */
static inline double apex_roc_value(const apex_roc *s) { return s->value; }
/* out[i] for i < n; NaN for i < period. Same operations as the stream, so equal bits. */
void apex_roc_batch(const double *in, size_t n, int period, double *out);

#endif
