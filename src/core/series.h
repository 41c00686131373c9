/* series.h - columnar OHLCV candles: time in int64 milliseconds UTC, prices and volume as double.
 * Pure: no I/O. Columns are separate arrays so indicators stream through one field at a time. */
#ifndef APEX_CORE_SERIES_H
#define APEX_CORE_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* One candle, as streaming consumers see it. */
typedef struct apex_bar {
  int64_t time; /* open time, ms since the Unix epoch, UTC */
  double open, high, low, close, volume;
} apex_bar;

/* Fields are public for reading; change them only through the functions below.
 * All six arrays have room for cap rows and hold n valid rows. */
typedef struct apex_series {
  size_t n, cap;
  int64_t *time;
  double *open, *high, *low, *close, *volume;
} apex_series;

/* Empty series with room for cap rows (cap may be 0). NULL on OOM. */
apex_series *apex_series_new(size_t cap);
/* NULL is a no-op. */
void apex_series_free(apex_series *s);
/* Grows capacity to at least cap; on APEX_ENOMEM s is unchanged. */
apex_err apex_series_reserve(apex_series *s, size_t cap);
/* Appends one row (no validation; see series_check). APEX_ENOMEM leaves s unchanged. */
apex_err apex_series_append(apex_series *s, const apex_bar *b);
/* Row i as a bar; i < s->n. */
apex_bar apex_series_bar(const apex_series *s, size_t i);
/* Keeps rows [from, to) and drops the rest, in place. */
void apex_series_slice(apex_series *s, size_t from, size_t to);

#endif
