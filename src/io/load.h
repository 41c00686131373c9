/* load.h - candle files in, validated columnar series out. The format is chosen by content
 * (header CSV, Binance kline CSV, JSON arrays, gzip of any of them), not only by extension. */
#ifndef APEX_IO_LOAD_H
#define APEX_IO_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/series.h"

/* How the input wrote its times, so output can write them the same way. */
typedef enum {
  APEX_TIMEFMT_DATE,     /* 2014-01-02 */
  APEX_TIMEFMT_DATETIME, /* 2014-01-02 09:30:00 (as ISO 8601 UTC with 'T' and 'Z' when the input had them) */
  APEX_TIMEFMT_EPOCH_S,  /* 1388620800 */
  APEX_TIMEFMT_EPOCH_MS, /* 1388620800000 */
  APEX_TIMEFMT_EPOCH_US, /* 1388620800000000 (Binance spot klines since 2025) */
  APEX_TIMEFMT_EPOCH_NS, /* 1388620800000000000 */
} apex_timefmt;

typedef struct apex_load_opts {
  bool lenient;       /* drop bad rows (counted) instead of failing on the first */
  size_t max_bytes;   /* refuse larger inputs (0: 4 GiB) */
} apex_load_opts;

typedef struct apex_load_report {
  const char *format;      /* "csv", "binance", "json" (static text) */
  bool gzip;
  apex_timefmt timefmt;
  bool time_has_t, time_has_z, time_has_ms; /* DATETIME details for writing times back */
  size_t rows;             /* rows kept */
  size_t dropped;          /* rows dropped in lenient mode */
  char first_problem[256]; /* the first dropped row's reason, "" if none */
} apex_load_report;

/* Loads path into a new series (*out, the caller frees). On error *out is NULL and err names the
 * file, line and field: "data.csv:12: high: 9.5 is below max(open, close) 10". rep may be NULL. */
apex_err apex_load_candles(const char *path, const apex_load_opts *opts, apex_series **out,
                           apex_load_report *rep, apex_error *err);
/* The same over bytes already in memory; name is used in messages only. */
apex_err apex_load_candles_mem(const char *name, const char *data, size_t len, const apex_load_opts *opts,
                               apex_series **out, apex_load_report *rep, apex_error *err);

/* Reads the whole file at path ("-": standard input), at most max bytes, into a new NUL-terminated
 * buffer (*out, the caller frees; *out_len bytes). Errors name the file: APEX_EIO, APEX_ETOOBIG,
 * APEX_ENOMEM. */
apex_err apex_read_file(const char *path, size_t max, char **out, size_t *out_len, apex_error *err);

/* Writes t the way the input wrote its times (rep from the load; NULL: ISO 8601 UTC with 'T' and 'Z').
 * Always NUL-terminates when cap > 0; returns the length written. */
size_t apex_format_time(int64_t t_ms, const apex_load_report *rep, char *buf, size_t cap);

#endif
