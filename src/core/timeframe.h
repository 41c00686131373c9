/* timeframe.h - candle timeframes ("15m", "1d", "1M"), calendar-aligned UTC buckets, detection of
 * a series' timeframe and gap counting. Pure: no I/O.
 *
 * Accepted values: the spec's pattern ^[1-9][0-9]?[mhdwM]$, restricted so every bucket nests inside
 * the next calendar unit and resampling never straddles an hour, a day or a year:
 *   Nm with N dividing 60, Nh with N dividing 24, NM with N dividing 12 (3M = quarters),
 *   Nd and Nw for any N (Nd counted from the epoch like Binance's 3d, Nw from Monday 1970-01-05).
 * So 10m, 2d and 2w work; 7m ("7 minutes do not divide an hour") is refused with a reason.
 * The named list (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M) is what exchanges offer. */
#ifndef APEX_CORE_TIMEFRAME_H
#define APEX_CORE_TIMEFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define APEX_MS_MINUTE INT64_C(60000)
#define APEX_MS_HOUR (60 * APEX_MS_MINUTE)
#define APEX_MS_DAY (24 * APEX_MS_HOUR)
#define APEX_MS_WEEK (7 * APEX_MS_DAY)

typedef enum { APEX_TF_NONE = 0, APEX_TF_MINUTE, APEX_TF_HOUR, APEX_TF_DAY, APEX_TF_WEEK, APEX_TF_MONTH } apex_tf_unit;

/* n units; unit APEX_TF_NONE means "no timeframe" (irregular data, such as ticks). */
typedef struct apex_timeframe {
  int n;
  apex_tf_unit unit;
} apex_timeframe;

/* Parses s (the whole string). Errors name the value: "timeframe '7m': ...". */
apex_err apex_timeframe_parse(const char *s, apex_timeframe *out, apex_error *err);
/* n and unit form an accepted timeframe (see above). */
bool apex_timeframe_valid(apex_timeframe tf);
/* One of the named list. */
bool apex_timeframe_is_named(apex_timeframe tf);
/* Writes "15m" (or "?" for NONE) NUL-terminated into buf; returns the length. cap >= 4. */
size_t apex_timeframe_str(apex_timeframe tf, char *buf, size_t cap);
/* Fixed length in ms; 0 for months (variable) and NONE. */
int64_t apex_timeframe_ms(apex_timeframe tf);

/* Bucket number of time t (ms UTC): consecutive candles have consecutive numbers. tf valid. */
int64_t apex_timeframe_index(apex_timeframe tf, int64_t t);
/* Start time (ms UTC) of bucket idx; apex_timeframe_start(tf, apex_timeframe_index(tf, t)) <= t. */
int64_t apex_timeframe_start(apex_timeframe tf, int64_t idx);
/* Start of the bucket holding t: weeks start Monday 00:00 UTC, months on the 1st. */
int64_t apex_timeframe_floor(apex_timeframe tf, int64_t t);
/* Every bucket of big is a whole number of buckets of small (1h -> 1d yes, 2d -> 1w no). */
bool apex_timeframe_divides(apex_timeframe small, apex_timeframe big);

/* The timeframe of sorted times t[0..n): the most common step, named when it is one; daily-close
 * data sampled monthly or weekly (a step of 28..33 days, or 7 +- holidays) is found through
 * calendar months and weeks. *tf is NONE when no timeframe fits (ticks); *step_ms is the most
 * common step either way. APEX_EDATA if n < 2; APEX_ENOMEM. */
apex_err apex_timeframe_detect(const int64_t *t, size_t n, apex_timeframe *tf, int64_t *step_ms);

/* Missing candles of sorted times at tf; gaps are reported, never filled. */
typedef struct apex_gaps {
  size_t missing;        /* buckets with no candle between the first and the last */
  size_t gaps;           /* runs of missing buckets */
  size_t largest;        /* missing buckets in the longest run */
  int64_t largest_start; /* start of its first missing bucket (ms) */
  int64_t largest_ms;    /* its length in ms */
  size_t shared;         /* candles that fall in the same bucket as the one before (data finer than tf) */
} apex_gaps;
/* APEX_EINVAL if tf is not valid. */
apex_err apex_gaps_count(const int64_t *t, size_t n, apex_timeframe tf, apex_gaps *out);

/* Calendar helpers (proleptic Gregorian, UTC). */
/* t as ISO 8601 UTC, "2024-01-31T09:30:00Z" (".123" before the Z when t has milliseconds), into
 * buf (at least 25 bytes; 40 always fits). */
void apex_time_iso(int64_t t, char *buf, size_t cap);
int64_t apex_days_from_civil(int64_t y, int m, int d);
void apex_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
