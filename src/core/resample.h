/* resample.h - exact aggregation of candles into a higher timeframe (calendar-aligned UTC buckets).
 * Pure: no I/O. Gaps stay gaps: an empty bucket yields no candle. */
#ifndef APEX_CORE_RESAMPLE_H
#define APEX_CORE_RESAMPLE_H

#include "base/err.h"
#include "core/series.h"
#include "core/timeframe.h"

/* Aggregates in (times strictly increasing) from timeframe from to timeframe to: first open,
 * max high, min low, last close, summed volume; each candle's time is its bucket's start.
 * from may be NONE (irregular data such as ticks: any valid to). APEX_EINVAL, with a message
 * naming both, if to is not a whole multiple of from; APEX_ENOMEM. *out is the caller's. */
apex_err apex_resample(const apex_series *in, apex_timeframe from, apex_timeframe to, apex_series **out,
                       apex_error *err);

#endif
