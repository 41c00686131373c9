/* stoch.h - stochastic oscillator (TA-Lib STOCH, SMA smoothing): fastK = (close - LL) / ((HH - LL) / 100)
 * over the last k candles (0 when HH == LL), slowK = SMA(k_smooth) of fastK, slowD = SMA(d) of slowK.
 * Also the rolling highest-high / lowest-low window that WILLR shares. */
#ifndef APEX_CORE_IND_STOCH_H
#define APEX_CORE_IND_STOCH_H

#include <stddef.h>

#include "core/ind/sma.h"

/* --- rolling highest high and lowest low over the last `period` candles (van Herk / Gil-Werman) ---
 * The window ending at offset o of a block of `period` candles is the previous block's tail from o+1
 * (suffix extremes, computed once per block) plus the current block's head (running extremes):
 * amortised O(1) per candle, no data-dependent branches. */
typedef struct apex_hilo {
  double *cur_h, *cur_l; /* this block's candles: period each, in the caller's memory */
  double *suf_h, *suf_l; /* the previous block's suffix extremes: period + 1 each */
  double pre_h, pre_l;   /* this block's running extremes */
  int period, r;         /* r: candles in this block */
  long long seen;
} apex_hilo;

/* Bytes the arrays need (they follow the owner's struct in the caller's memory). */
size_t apex_hilo_ring_bytes(int period);
void apex_hilo_init(apex_hilo *m, int period, void *arrays);
/* Feeds one candle and gives the window's extremes (over fewer candles while warming up). */
void apex_hilo_push(apex_hilo *m, double high, double low, double *hh, double *ll);

/* Batch helper shared with WILLR: for i >= period-1, out[i] = fastK (willr == 0) or Williams %R
 * (willr != 0: (HH - close) / ((HH - LL) / -100), 0 when HH == LL). Rows before are left alone. */
void apex_hilo_osc_batch(const double *high, const double *low, const double *close, size_t n, int period,
                         int willr, double *out);

/* --- STOCH --- */
typedef struct apex_stoch {
  apex_hilo hl;
  apex_sma *slowk, *slowd; /* in the caller's memory after this struct */
  int k, k_smooth, d;
  long long fed; /* fastK values fed to the slowK average */
} apex_stoch;

static inline int apex_stoch_lookback(int k, int k_smooth, int d) { return (k - 1) + (k_smooth - 1) + (d - 1); }
size_t apex_stoch_state_size(int k, int k_smooth, int d);
/* s points to apex_stoch_state_size(...) bytes, 16-byte aligned; all periods >= 1. */
void apex_stoch_init(apex_stoch *s, int k, int k_smooth, int d);
/* Feeds one candle; *slowk and *slowd are NaN for the first lookback candles. */
void apex_stoch_update(apex_stoch *s, double high, double low, double close, double *slowk, double *slowd);
/* slowk[i], slowd[i] for i < n, NaN for i < lookback. Same operations as the stream. */
void apex_stoch_batch(const double *high, const double *low, const double *close, size_t n, int k, int k_smooth,
                      int d, double *slowk, double *slowd);

#endif
