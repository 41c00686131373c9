/* vwap.h - session-anchored volume-weighted average price: sessions are the buckets
 * floor(time_ms / (anchor minutes * 60000)) (anchor 1440: UTC days); within a session
 * vwap = sum(hlc3 * volume) / sum(volume), hlc3 = (high + low + close) / 3, both sums restarting with
 * each session; NaN while the session's volume sum is 0. Lookback 0. */
#ifndef APEX_CORE_IND_VWAP_H
#define APEX_CORE_IND_VWAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct apex_vwap {
  int64_t span_ms, session;
  double pv, v;
  int started;
} apex_vwap;

static inline int apex_vwap_lookback(void) { return 0; }
/* anchor_minutes >= 1. Never allocates. */
void apex_vwap_init(apex_vwap *s, int anchor_minutes);
double apex_vwap_update(apex_vwap *s, int64_t time_ms, double high, double low, double close, double volume);
/* out[i] for i < n. Same operations as the stream, so equal bits. */
void apex_vwap_batch(const int64_t *time_ms, const double *high, const double *low, const double *close,
                     const double *volume, size_t n, int anchor_minutes, double *out);

#endif
