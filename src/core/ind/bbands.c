/* bbands.c - Bollinger bands in TA-Lib's order of operations (TA_INT_SMA for the middle band and
 * TA_INT_stddev_using_precalc_ma for the deviation: running sum of squares / period - SMA^2). */
#include "core/ind/bbands.h"

#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/ind/ind.h"

size_t apex_bbands_state_size(int period) { return sizeof(apex_bbands) + (size_t)period * sizeof(double); }

void apex_bbands_init(apex_bbands *s, int period, double stddev)
{
  s->sum = s->sum2 = 0;
  s->dev = stddev;
  s->ring = (double *)(s + 1);
  s->out[0] = s->out[1] = s->out[2] = NAN;
  s->period = period;
  s->pos = 0;
  s->seen = 0;
}

/* From the window's total and total of squares (newest value included) to the three bands. */
static inline void bands(double sum, double sum2, double p, double dev, double *up, double *mid, double *lo)
{
  double m = sum / p;
  double var = sum2 / p - m * m;
  double sd = var < 1e-14 ? 0.0 : sqrt(var); /* TA_IS_ZERO_OR_NEG; NaN still goes to sqrt */
  double t = sd * dev;
  *mid = m;
  *up = m + t;
  *lo = m - t;
}

void apex_bbands_update(apex_bbands *s, double x, double out[3])
{
  s->ring[s->pos] = x;
  if (++s->pos == s->period)
    s->pos = 0;
  s->sum += x;
  s->sum2 += x * x;
  if (s->seen < s->period && ++s->seen < s->period) {
    out[0] = out[1] = out[2] = NAN;
    return;
  }
  bands(s->sum, s->sum2, (double)s->period, s->dev, &s->out[0], &s->out[1], &s->out[2]);
  double old = s->ring[s->pos]; /* the oldest value in the window leaves */
  s->sum -= old;
  s->sum2 -= old * old;
  out[0] = s->out[0], out[1] = s->out[1], out[2] = s->out[2];
}

void apex_bbands_value(const apex_bbands *s, double out[3])
{
  out[0] = s->out[0], out[1] = s->out[1], out[2] = s->out[2];
}

/* Rows per block: small enough that the out-of-order core overlaps one block's divisions with the
 * next block's running sums (measured: 32 is best; 256 is 20 % slower). */
#define BLOCK 32

/* The bands for rows [0, m) of a block from their window totals, two rows at a time where SSE2
 * exists; division, sqrt, multiply and add are correctly rounded there too, so the bits are equal. */
static void bands_block(const double *sum, const double *sum2, size_t m, double p, double dev, double *up,
                        double *mid, double *lo)
{
  size_t i = 0;
#if defined(__SSE2__)
  const __m128d vp = _mm_set1_pd(p), vdev = _mm_set1_pd(dev), eps = _mm_set1_pd(1e-14);
  for (; i + 2 <= m; i += 2) {
    __m128d m2 = _mm_div_pd(_mm_loadu_pd(sum + i), vp);
    __m128d var = _mm_sub_pd(_mm_div_pd(_mm_loadu_pd(sum2 + i), vp), _mm_mul_pd(m2, m2));
    __m128d sd = _mm_andnot_pd(_mm_cmplt_pd(var, eps), _mm_sqrt_pd(var));
    __m128d t = _mm_mul_pd(sd, vdev);
    _mm_storeu_pd(mid + i, m2);
    _mm_storeu_pd(up + i, _mm_add_pd(m2, t));
    _mm_storeu_pd(lo + i, _mm_sub_pd(m2, t));
  }
#endif
  for (; i < m; i++)
    bands(sum[i], sum2[i], p, dev, &up[i], &mid[i], &lo[i]);
}

void apex_bbands_batch(const double *in, size_t n, int period, double stddev, double *upper, double *middle,
                       double *lower)
{
  size_t p = (size_t)period, i = 0;
  double sum = 0, sum2 = 0, dp = (double)period;
  for (; i < n && i + 1 < p; i++) {
    sum += in[i];
    sum2 += in[i] * in[i];
    upper[i] = middle[i] = lower[i] = NAN;
  }
  /* The running sums are one serial chain; the bands are independent per row, so they are done
   * a block later, vectorised. */
  double bs[BLOCK], bs2[BLOCK];
  while (i < n) {
    size_t m = n - i < BLOCK ? n - i : BLOCK;
    for (size_t j = 0; j < m; j++) {
      double x = in[i + j], o = in[i + j + 1 - p];
      sum += x;
      sum2 += x * x;
      bs[j] = sum;
      bs2[j] = sum2;
      sum -= o;
      sum2 -= o * o;
    }
    bands_block(bs, bs2, m, dp, stddev, upper + i, middle + i, lower + i);
    i += m;
  }
}

/* --- registry adapters --- */
static int lookback_v(const double *p) { return apex_bbands_lookback((int)p[0]); }
static size_t size_v(const double *p) { return apex_bbands_state_size((int)p[0]); }
static void init_v(void *st, const double *p) { apex_bbands_init(st, (int)p[0], p[1]); }
static void update_v(void *st, const apex_bar *b, double *out) { apex_bbands_update(st, b->close, out); }
static void batch_v(const apex_series *s, const double *p, double *const *out)
{
  apex_bbands_batch(s->close, s->n, (int)p[0], p[1], out[0], out[1], out[2]);
}

const apex_ind_info apex_ind_bbands = {
    .name = "bbands",
    .title = "Bollinger Bands",
    .inputs = APEX_IN_CLOSE,
    .n_params = 2,
    .params = {{"period", 20, 2, 100000, true}, {"stddev", 2, 0, 100, false}},
    .n_outputs = 3,
    .outputs = {"upper", "middle", "lower"},
    .lookback = lookback_v,
    .state_size = size_v,
    .init = init_v,
    .update = update_v,
    .batch = batch_v,
};
