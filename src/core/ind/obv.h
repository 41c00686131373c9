/* obv.h - on-balance volume (TA-Lib OBV): starts at volume[0]; adds the volume when the close is
 * above the previous close, subtracts it when below, keeps it when equal. No warm-up. */
#ifndef APEX_CORE_IND_OBV_H
#define APEX_CORE_IND_OBV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct apex_obv {
  double value; /* running OBV */
  bool started;
  double prev;  /* previous close; apart from value so the two are not stored as one 16-byte pair,
                 * which the next update's 8-byte loads cannot forward from (3x slower on AMD Zen) */
} apex_obv;

static inline int apex_obv_lookback(void) { return 0; }
/* sizeof(apex_obv). */
size_t apex_obv_state_size(void);
void apex_obv_init(apex_obv *s);
/* Feeds one candle's close and volume; returns the OBV. */
double apex_obv_update(apex_obv *s, double close, double volume);
/* The last value returned by update (NaN before the first). */
static inline double apex_obv_value(const apex_obv *s) { return s->value; }
/* out[i] for i < n. Same operations as the stream, so equal bits. */
void apex_obv_batch(const double *close, const double *volume, size_t n, double *out);

#endif
