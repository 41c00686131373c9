/* rows.h - internal to io/: what every loader shares. The row sink validates each candle and
 * appends it, or (lenient) drops it with a count; time text is parsed and written back here. */
#ifndef APEX_IO_ROWS_H
#define APEX_IO_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/series.h"
#include "io/load.h"

typedef struct apex_rows {
  const char *name;      /* file name for messages */
  bool lenient;
  bool elements;         /* locations are JSON "element i" rather than "line i" */
  size_t max_bytes;
  apex_series *s;
  apex_load_report *rep; /* never NULL inside io/ */
  apex_error *err;
  bool have_prev, have_fmt;
  int64_t prev_time;
  size_t prev_loc;
} apex_rows;

/* A bad row at loc: strict, sets err ("name:loc: <fmt>") and returns code; lenient, counts it,
 * keeps the first message in rep->first_problem and returns APEX_OK so loading goes on. */
apex_err apex_rows_bad(apex_rows *r, size_t loc, apex_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A problem with the whole file (no header, wrong format): always fatal, "name:loc: ..." (loc 0: "name: ..."). */
apex_err apex_rows_fail(apex_rows *r, size_t loc, apex_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks b (OHLC consistency, volume >= 0, finite values, time after the previous row) and appends it. */
apex_err apex_rows_add(apex_rows *r, size_t loc, const apex_bar *b);

/* Shortest text that reads back as v ("10.2", not "10.199999999999999"). */
size_t apex_io_fmt_num(double v, char *buf, size_t cap);

/* How one time text was written. */
typedef struct apex_timeinfo {
  apex_timefmt fmt;
  bool has_t, has_z, has_frac;
} apex_timeinfo;
/* Parses a time field [p, end): YYYY-MM-DD, then optionally [T ]HH:MM[:SS[.frac]][Z|+hh:mm|+hhmm],
 * or an integer epoch in s, ms, us or ns decided by magnitude. If tod is not NULL it is a
 * separate HH:MM[:SS[.frac]] field to combine with a date-only p. APEX_EPARSE if not a time. */
apex_err apex_io_parse_time(const char *p, const char *end, const char *tod, const char *tod_end,
                            int64_t *ms, apex_timeinfo *info);
/* An integer epoch of unknown unit to ms: |v| < 1e11 s, < 1e14 ms, < 1e17 us, else ns. */
int64_t apex_io_epoch_ms(int64_t v, apex_timefmt *fmt);
/* Times outside years 1..9999 are refused: they are typos, and they keep calendar maths exact. */
bool apex_io_time_ok(int64_t ms);
/* Records the first row's time style in rep; later rows only add has_frac. */
void apex_io_note_time(apex_rows *r, const apex_timeinfo *info);

/* The loaders; each fills r->s and parts of r->rep. They read [data, data + len) only. */
apex_err apex_csv_load(apex_rows *r, const char *data, size_t len);
apex_err apex_binance_load(apex_rows *r, const char *data, size_t len);
apex_err apex_jsonarr_load(apex_rows *r, const char *data, size_t len);

/* The CSV row engine that the header CSV and Binance loaders share. Column numbers are field
 * indexes (-1: absent). */
typedef struct apex_csv_map {
  char delim;
  int nheader;          /* fields named by the header (0: no header) */
  int time, tod;        /* time column; tod: separate time-of-day column or -1 */
  int open, high, low, close, volume;
  bool epoch_only;      /* Binance: the time column must be an integer epoch */
} apex_csv_map;
/* Parses the lines of [p, end), the first being line number line. */
apex_err apex_csv_rows(apex_rows *r, const char *p, const char *end, size_t line, const apex_csv_map *m);
/* The line [s, e) has a field with letters that is not a number: a header. */
bool apex_csv_is_header(const char *s, const char *e);
size_t apex_csv_count_fields(const char *s, const char *e, char delim);

#endif
