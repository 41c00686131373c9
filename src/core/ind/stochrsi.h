/* stochrsi.h - stochastic RSI (TA-Lib STOCHRSI = STOCHF over RSI values, fast D an SMA):
 * r = RSI(period); fastk = 100 * (r - min(r, k)) / (max(r, k) - min(r, k)), 0 when max == min
 * (computed as TA-Lib does: (r - min) / ((max - min) / 100)); fastd = SMA(fastk, d).
 * Both outputs start at index period + (k - 1) + (d - 1). */
#ifndef APEX_CORE_IND_STOCHRSI_H
#define APEX_CORE_IND_STOCHRSI_H

#include <stddef.h>

#include "core/ind/rsi.h"
#include "core/ind/sma.h"

struct apex_stochrsi_item;

typedef struct apex_stochrsi {
  apex_rsi rsi;
  struct apex_stochrsi_item *lo, *hi; /* monotonic deques (window min/max), k slots each */
  apex_sma *sma;                      /* fast D; the deques and this live after the struct */
  double out[2];                      /* fastk, fastd of the last update */
  long n;                             /* RSI values seen */
  int k, d, lo_head, lo_len, hi_head, hi_len;
} apex_stochrsi;

static inline int apex_stochrsi_lookback(int period, int k, int d) { return period + (k - 1) + (d - 1); }
/* Bytes for the state, deques and the fast D ring included. */
size_t apex_stochrsi_state_size(int period, int k, int d);
/* s points to apex_stochrsi_state_size(period, k, d) bytes, 16-byte aligned; all >= 1. */
void apex_stochrsi_init(apex_stochrsi *s, int period, int k, int d);
/* Feeds x; out[0..2) = fastk, fastd, NaN while warming up. Amortised O(1). */
void apex_stochrsi_update(apex_stochrsi *s, double x, double out[2]);
/* The outputs of the last update. */
void apex_stochrsi_value(const apex_stochrsi *s, double out[2]);
/* fastk[i], fastd[i] for i < n; warm-up rows NaN. Uses fastd as scratch for the RSI values;
 * same operations as the stream. */
void apex_stochrsi_batch(const double *in, size_t n, int period, int k, int d, double *fastk, double *fastd);

#endif
