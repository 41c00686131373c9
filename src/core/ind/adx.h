/* adx.h - Wilder's directional movement (TA-Lib ADX, PLUS_DI, MINUS_DI), shared by the three.
 * Per candle: diffP = high - prev high, diffM = prev low - low; -DM1 = diffM if diffM > 0 and diffP < diffM,
 * else +DM1 = diffP if diffP > 0 and diffP > diffM; TR1 = true range. Candles 1..period-1 are summed; from
 * candle `period` on each sum x becomes x - x/period + today's value (Wilder).
 * +DI = 100 * (+DM / TR) and -DI likewise (0 when |TR| < 1e-14), from candle `period` (lookback period).
 * DX = 100 * |(-DI) - (+DI)| / ((-DI) + (+DI)), skipped when |TR| or |sum| < 1e-14. ADX at candle
 * 2*period-1 is the sum of the DX of candles period..2*period-1 over period; then
 * adx = (adx * (period-1) + dx) / period (unchanged on skipped candles). Lookback 2*period-1.
 * Unlike TA-Lib, PLUS_DI/MINUS_DI with period 1 keep the factor 100 (TA-Lib returns DM1/TR1 there). */
#ifndef APEX_CORE_IND_ADX_H
#define APEX_CORE_IND_ADX_H

#include <math.h>
#include <stddef.h>

typedef struct apex_dm {
  double prev_high, prev_low, prev_close;
  double pdm, mdm, tr; /* sums, then Wilder-smoothed */
  double period;
  long long iperiod, seen; /* period again as an integer: no conversion per candle */
} apex_dm;

static inline int apex_dm_is_zero(double x) { return -1e-14 < x && x < 1e-14; } /* TA_IS_ZERO */

static inline void apex_dm_init(apex_dm *s, int period)
{
  *s = (apex_dm){.period = period, .iperiod = period};
}

/* One candle's +DM1, -DM1 and TR1 against the previous candle, which becomes this one. */
static inline void apex_dm_raw(apex_dm *s, double high, double low, double close, double *pdm, double *mdm,
                               double *tr)
{
  double diffp = high - s->prev_high, diffm = s->prev_low - low;
  double hi = high > s->prev_close ? high : s->prev_close;
  double lo = low < s->prev_close ? low : s->prev_close;
  /* Selected by multiplying with 0 or 1 rather than branching: the tests flip at random with the
   * data, and a mispredicted branch costs more than the whole step. x * 0 may be -0.0, which adds
   * like +0.0, so the sums keep TA-Lib's bits. */
  double m = (double)((diffm > 0) & (diffp < diffm)), p = (double)((diffp > 0) & (diffp > diffm));
  *mdm = diffm * m;
  *pdm = diffp * p; /* excludes the -DM case: there diffp < diffm */
  *tr = hi - lo;
  s->prev_high = high;
  s->prev_low = low;
  s->prev_close = close;
}

/* Wilder step in TA-Lib's order: x - x/period, then + today's value (adding 0.0 changes nothing). */
static inline void apex_dm_smooth(apex_dm *s, double pdm, double mdm, double tr)
{
  s->mdm = s->mdm - s->mdm / s->period + mdm;
  s->pdm = s->pdm - s->pdm / s->period + pdm;
  s->tr = s->tr - s->tr / s->period + tr;
}

/* Feeds one candle; returns 1 once the smoothed values exist (candle `period` on). */
static inline int apex_dm_update(apex_dm *s, double high, double low, double close)
{
  long long k = s->seen++;
  double pdm, mdm, tr;
  if (k == 0) {
    s->prev_high = high;
    s->prev_low = low;
    s->prev_close = close;
    return 0;
  }
  apex_dm_raw(s, high, low, close, &pdm, &mdm, &tr);
  if (k < s->iperiod) {
    s->mdm += mdm;
    s->pdm += pdm;
    s->tr += tr;
    return 0;
  }
  apex_dm_smooth(s, pdm, mdm, tr);
  return 1;
}

static inline double apex_dm_plus_di(const apex_dm *s)
{
  return apex_dm_is_zero(s->tr) ? 0.0 : 100.0 * (s->pdm / s->tr);
}
static inline double apex_dm_minus_di(const apex_dm *s)
{
  return apex_dm_is_zero(s->tr) ? 0.0 : 100.0 * (s->mdm / s->tr);
}
/* DX of the current values; returns 0 when TA-Lib skips the candle. */
static inline int apex_dm_dx(const apex_dm *s, double *dx)
{
  if (apex_dm_is_zero(s->tr))
    return 0;
  double mdi = 100.0 * (s->mdm / s->tr), pdi = 100.0 * (s->pdm / s->tr), sum = mdi + pdi;
  if (apex_dm_is_zero(sum))
    return 0;
  *dx = 100.0 * (fabs(mdi - pdi) / sum);
  return 1;
}

/* --- DI streams: apex_dm itself; lookback = period, period >= 1 --- */
static inline int apex_di_lookback(int period) { return period; }
/* out[i] for i < n, NaN for i < period; minus != 0 gives -DI. */
void apex_di_batch(const double *high, const double *low, const double *close, size_t n, int period, int minus,
                   double *out);

/* --- ADX --- */
typedef struct apex_adx {
  apex_dm dm;
  double sum_dx, adx;
} apex_adx;

static inline int apex_adx_lookback(int period) { return 2 * period - 1; }
void apex_adx_init(apex_adx *s, int period); /* period >= 2; never allocates */
/* Feeds one candle; NaN for the first 2*period-1 candles. */
double apex_adx_update(apex_adx *s, double high, double low, double close);
void apex_adx_batch(const double *high, const double *low, const double *close, size_t n, int period,
                    double *out);

#endif
