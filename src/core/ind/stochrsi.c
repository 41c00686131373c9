/* stochrsi.c - stochastic RSI as TA-Lib computes it: RSI, then STOCHF's fast K over the RSI window
 * of k values, then an SMA of d fast K values. The stream keeps the window's min and max in
 * monotonic deques; the batch rescans as TA-Lib does, which gives the same min and max. */
#include "core/ind/stochrsi.h"

#include <math.h>

#include "core/ind/ind.h"

struct apex_stochrsi_item {
  double v;
  long i;
};

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

size_t apex_stochrsi_state_size(int period, int k, int d)
{
  (void)period;
  return round16(sizeof(apex_stochrsi)) + 2 * (size_t)k * sizeof(struct apex_stochrsi_item) +
         apex_sma_state_size(d);
}

void apex_stochrsi_init(apex_stochrsi *s, int period, int k, int d)
{
  char *mem = (char *)s + round16(sizeof(apex_stochrsi));
  apex_rsi_init(&s->rsi, period);
  s->lo = (struct apex_stochrsi_item *)mem;
  s->hi = s->lo + k;
  s->sma = (apex_sma *)(s->hi + k);
  apex_sma_init(s->sma, d);
  s->out[0] = s->out[1] = NAN;
  s->n = 0;
  s->k = k;
  s->d = d;
  s->lo_head = s->lo_len = s->hi_head = s->hi_len = 0;
}

/* TA-Lib's fast K: (x - lowest) / ((highest - lowest) / 100.0), or 0 for a flat window. */
static inline double fastk_of(double x, double lowest, double highest)
{
  double diff = (highest - lowest) / 100.0;
  return diff != 0.0 ? (x - lowest) / diff : 0.0;
}

/* Pushes (v, i) onto a deque kept monotonic by `worse` (newer value dominates), expiring index
 * `expired` and older from the front. */
static inline void deque_push(struct apex_stochrsi_item *q, int cap, int *head, int *len, double v, long i,
                              long expired, int want_max)
{
  if (*len && q[*head].i <= expired) {
    if (++*head == cap)
      *head = 0;
    --*len;
  }
  while (*len) {
    int back = *head + *len - 1;
    if (back >= cap)
      back -= cap;
    if (want_max ? q[back].v > v : q[back].v < v)
      break;
    --*len;
  }
  int at = *head + *len;
  if (at >= cap)
    at -= cap;
  q[at].v = v;
  q[at].i = i;
  ++*len;
}

void apex_stochrsi_update(apex_stochrsi *s, double x, double out[2])
{
  double r = apex_rsi_update(&s->rsi, x);
  if (s->rsi.seen <= s->rsi.period) {
    out[0] = out[1] = NAN;
    return;
  }
  long j = s->n++, expired = j - s->k;
  deque_push(s->lo, s->k, &s->lo_head, &s->lo_len, r, j, expired, 0);
  deque_push(s->hi, s->k, &s->hi_head, &s->hi_len, r, j, expired, 1);
  if (j >= s->k - 1) {
    double fk = fastk_of(r, s->lo[s->lo_head].v, s->hi[s->hi_head].v);
    double fd = apex_sma_update(s->sma, fk);
    if (j >= (long)s->k - 1 + s->d - 1)
      s->out[0] = fk, s->out[1] = fd;
  }
  out[0] = s->out[0], out[1] = s->out[1];
}

void apex_stochrsi_value(const apex_stochrsi *s, double out[2])
{
  out[0] = s->out[0], out[1] = s->out[1];
}

/* TA-Lib STOCHF's fast K with high = low = close = r, for rows [from, n): a running lowest and
 * highest that is rescanned only when it leaves the window. */
static void fastk_batch(const double *r, size_t from, size_t n, size_t k, double *fk)
{
  size_t lo_i = 0, hi_i = 0;
  double lowest = 0, highest = 0;
  for (size_t t = from; t < n; t++) {
    size_t trail = t + 1 - k;
    double v = r[t];
    if (t == from || lo_i < trail) {
      lo_i = trail;
      lowest = r[trail];
      for (size_t i = trail + 1; i <= t; i++)
        if (r[i] < lowest)
          lo_i = i, lowest = r[i];
    } else if (v <= lowest) {
      lo_i = t, lowest = v;
    }
    if (t == from || hi_i < trail) {
      hi_i = trail;
      highest = r[trail];
      for (size_t i = trail + 1; i <= t; i++)
        if (r[i] > highest)
          hi_i = i, highest = r[i];
    } else if (v >= highest) {
      hi_i = t, highest = v;
    }
    fk[t] = fastk_of(v, lowest, highest);
  }
}

void apex_stochrsi_batch(const double *in, size_t n, int period, int k, int d, double *fastk, double *fastd)
{
  size_t from = (size_t)period + (size_t)k - 1; /* first raw fast K */
  size_t lb = (size_t)apex_stochrsi_lookback(period, k, d);
  apex_rsi_batch(in, n, period, fastd);
  if (n > from) {
    fastk_batch(fastd, from, n, (size_t)k, fastk);
    apex_sma_batch(fastk + from, n - from, d, fastd + from);
  }
  for (size_t i = 0; i < n && i < lb; i++) {
    fastk[i] = NAN;
    if (i < from)
      fastd[i] = NAN;
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_stochrsi_lookback((int)p[0], (int)p[1], (int)p[2]); }
static size_t size_v(const double *p) { return apex_stochrsi_state_size((int)p[0], (int)p[1], (int)p[2]); }
static void init_v(void *st, const double *p) { apex_stochrsi_init(st, (int)p[0], (int)p[1], (int)p[2]); }
static void update_v(void *st, const apex_bar *b, double *out) { apex_stochrsi_update(st, b->close, out); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_stochrsi_batch(s->close, s->n, (int)p[0], (int)p[1], (int)p[2], out[0], out[1]);
}

const apex_ind_info apex_ind_stochrsi = {
    .name = "stochrsi",
    .title = "Stochastic Relative Strength Index",
    .inputs = APEX_IN_CLOSE,
    .n_params = 3,
    .params = {{"period", 14, 2, 100000, true}, {"k", 14, 1, 100000, true}, {"d", 3, 1, 100000, true}},
    .n_outputs = 2,
    .outputs = {"fastk", "fastd"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
