/* stoch.c - stochastic oscillator. The window extremes come from van Herk / Gil-Werman blocks
 * (amortised O(1) per candle, instead of TA-Lib's rescans); fastK and the SMAs use TA-Lib's operations,
 * so equal bits. */
#include "core/ind/stoch.h"

#include <math.h>
#include <stdlib.h>

#include "core/ind/ind.h"

static inline double max2(double a, double b) { return a > b ? a : b; }
static inline double min2(double a, double b) { return a < b ? a : b; }

size_t apex_hilo_ring_bytes(int period) { return (4 * (size_t)period + 2) * sizeof(double); }

void apex_hilo_init(apex_hilo *m, int period, void *arrays)
{
  size_t p = (size_t)period;
  m->cur_h = arrays;
  m->cur_l = m->cur_h + p;
  m->suf_h = m->cur_l + p;
  m->suf_l = m->suf_h + p + 1;
  for (size_t j = 0; j <= p; j++) { /* no previous block: neutral extremes */
    m->suf_h[j] = -INFINITY;
    m->suf_l[j] = INFINITY;
  }
  m->pre_h = -INFINITY;
  m->pre_l = INFINITY;
  m->period = period;
  m->r = 0;
  m->seen = 0;
}

/* Suffix extremes of a full block of p candles into suf_h[0..p), suf_l[0..p); suf_*[p] stay neutral. */
static inline void suffixes(const double *h, const double *l, size_t p, double *suf_h, double *suf_l)
{
  for (size_t j = p; j-- > 0;) {
    suf_h[j] = max2(suf_h[j + 1], h[j]);
    suf_l[j] = min2(suf_l[j + 1], l[j]);
  }
}

void apex_hilo_push(apex_hilo *m, double high, double low, double *hh, double *ll)
{
  int r = m->r;
  double ph = m->pre_h, pl = m->pre_l;
  if (r == m->period) { /* the block is full: it becomes the previous block */
    suffixes(m->cur_h, m->cur_l, (size_t)r, m->suf_h, m->suf_l);
    ph = -INFINITY;
    pl = INFINITY;
    r = 0;
  }
  /* Locals first: the array stores below could alias the fields as far as the compiler knows. */
  ph = max2(ph, high);
  pl = min2(pl, low);
  double sh = m->suf_h[r + 1], sl = m->suf_l[r + 1];
  m->cur_h[r] = high;
  m->cur_l[r] = low;
  m->pre_h = ph;
  m->pre_l = pl;
  m->r = r + 1;
  m->seen++;
  *hh = max2(sh, ph);
  *ll = min2(sl, pl);
}

/* TA-Lib's fastK and WILLR arithmetic. */
static inline double fastk(double hh, double ll, double close)
{
  double diff = (hh - ll) / 100.0;
  return diff != 0.0 ? (close - ll) / diff : 0.0;
}
static inline double willr(double hh, double ll, double close)
{
  double diff = (hh - ll) / -100.0;
  return diff != 0.0 ? (hh - close) / diff : 0.0;
}

/* The stream's algorithm over arrays; `is_willr` is a constant at each call, so each use gets its own
 * loop. suf_h, suf_l: p + 1 doubles each. */
static inline void osc_loop(const double *high, const double *low, const double *close, size_t n, size_t p,
                            int is_willr, double *suf_h, double *suf_l, double *out)
{
  for (size_t j = 0; j <= p; j++) {
    suf_h[j] = -INFINITY;
    suf_l[j] = INFINITY;
  }
  for (size_t b = 0; b < n; b += p) {
    if (b >= p)
      suffixes(high + b - p, low + b - p, p, suf_h, suf_l);
    double pre_h = -INFINITY, pre_l = INFINITY;
    size_t end = n - b < p ? n - b : p;
    for (size_t r = 0; r < end; r++) {
      size_t i = b + r;
      pre_h = max2(pre_h, high[i]);
      pre_l = min2(pre_l, low[i]);
      double hh = max2(suf_h[r + 1], pre_h), ll = min2(suf_l[r + 1], pre_l);
      if (i + 1 >= p)
        out[i] = is_willr ? willr(hh, ll, close[i]) : fastk(hh, ll, close[i]);
    }
  }
}

/* Without memory for the suffixes: rescan each window. Same values, O(period) per candle. */
static void osc_rescan(const double *high, const double *low, const double *close, size_t n, size_t p,
                       int is_willr, double *out)
{
  for (size_t i = p - 1; i < n; i++) {
    double hh = high[i], ll = low[i];
    for (size_t j = i + 1 - p; j < i; j++) {
      hh = max2(high[j], hh);
      ll = min2(low[j], ll);
    }
    out[i] = is_willr ? willr(hh, ll, close[i]) : fastk(hh, ll, close[i]);
  }
}

void apex_hilo_osc_batch(const double *high, const double *low, const double *close, size_t n, int period,
                         int is_willr, double *out)
{
  enum { STACK_CAP = 512 };
  size_t p = (size_t)period;
  double stack[2 * (STACK_CAP + 1)], *q = stack;
  if (p > STACK_CAP && !(q = malloc(2 * (p + 1) * sizeof *q))) {
    osc_rescan(high, low, close, n, p, is_willr, out);
    return;
  }
  if (is_willr)
    osc_loop(high, low, close, n, p, 1, q, q + p + 1, out);
  else
    osc_loop(high, low, close, n, p, 0, q, q + p + 1, out);
  if (q != stack)
    free(q);
}

/* --- STOCH --- */
/* Layout after the struct: slowK SMA + ring, slowD SMA + ring, then the window arrays. */
static size_t sma_bytes(int period) { return (apex_sma_state_size(period) + 15) / 16 * 16; }

size_t apex_stoch_state_size(int k, int k_smooth, int d)
{
  return (sizeof(apex_stoch) + 15) / 16 * 16 + sma_bytes(k_smooth) + sma_bytes(d) + apex_hilo_ring_bytes(k);
}

void apex_stoch_init(apex_stoch *s, int k, int k_smooth, int d)
{
  char *mem = (char *)s + (sizeof(apex_stoch) + 15) / 16 * 16;
  s->slowk = (apex_sma *)mem;
  s->slowd = (apex_sma *)(mem + sma_bytes(k_smooth));
  apex_sma_init(s->slowk, k_smooth);
  apex_sma_init(s->slowd, d);
  apex_hilo_init(&s->hl, k, mem + sma_bytes(k_smooth) + sma_bytes(d));
  s->k = k;
  s->k_smooth = k_smooth;
  s->d = d;
  s->fed = 0;
}

void apex_stoch_update(apex_stoch *s, double high, double low, double close, double *slowk, double *slowd)
{
  double hh, ll;
  apex_hilo_push(&s->hl, high, low, &hh, &ll);
  *slowk = *slowd = NAN;
  if (s->hl.seen < s->k)
    return;
  double k = apex_sma_update(s->slowk, fastk(hh, ll, close));
  if (++s->fed < s->k_smooth)
    return;
  double d = apex_sma_update(s->slowd, k);
  if (s->fed - s->k_smooth + 1 < s->d)
    return; /* TA-Lib shows slowK only once slowD exists */
  *slowk = k;
  *slowd = d;
}

void apex_stoch_batch(const double *high, const double *low, const double *close, size_t n, int k, int k_smooth,
                      int d, double *slowk, double *slowd)
{
  size_t lb = (size_t)apex_stoch_lookback(k, k_smooth, d), k1 = (size_t)k - 1, ks1 = (size_t)k_smooth - 1;
  if (n > lb) {
    /* fastK into slowd's array, slowK from it, then slowD over slowK (fastK is no longer needed). */
    apex_hilo_osc_batch(high, low, close, n, k, 0, slowd);
    apex_sma_batch(slowd + k1, n - k1, k_smooth, slowk + k1);
    apex_sma_batch(slowk + k1 + ks1, n - k1 - ks1, d, slowd + k1 + ks1);
  }
  for (size_t i = 0; i < lb && i < n; i++)
    slowk[i] = slowd[i] = NAN;
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_stoch_lookback((int)p[0], (int)p[1], (int)p[2]); }
static size_t size_v(const double *p) { return apex_stoch_state_size((int)p[0], (int)p[1], (int)p[2]); }
static void init_v(void *st, const double *p) { apex_stoch_init(st, (int)p[0], (int)p[1], (int)p[2]); }
static void update_v(void *st, const apex_bar *b, double *out)
{
  apex_stoch_update(st, b->high, b->low, b->close, &out[0], &out[1]);
}
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_stoch_batch(s->high, s->low, s->close, s->n, (int)p[0], (int)p[1], (int)p[2], out[0], out[1]);
}

const apex_ind_info apex_ind_stoch = {
    .name = "stoch",
    .title = "Stochastic Oscillator",
    .inputs = APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE,
    .n_params = 3,
    .params = {{"k", 14, 1, 100000, true}, {"k_smooth", 3, 1, 100000, true}, {"d", 3, 1, 100000, true}},
    .n_outputs = 2,
    .outputs = {"slowk", "slowd"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
