/* rows.c - validation of candles as they are read, and lenient mode's drop-and-count. */
#include "io/rows.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t apex_io_fmt_num(double v, char *buf, size_t cap)
{
  int n = snprintf(buf, cap, "%.15g", v);
  if (n > 0 && strtod(buf, NULL) != v)
    n = snprintf(buf, cap, "%.17g", v);
  return n > 0 ? (size_t)n : 0;
}

static int loc_prefix(const apex_rows *r, size_t loc, char *buf, size_t cap)
{
  if (loc == 0)
    return snprintf(buf, cap, "%s: ", r->name);
  if (r->elements)
    return snprintf(buf, cap, "%s: element %zu: ", r->name, loc - 1);
  return snprintf(buf, cap, "%s:%zu: ", r->name, loc);
}

static void vmessage(const apex_rows *r, size_t loc, char *buf, size_t cap, const char *fmt, va_list ap)
{
  int k = loc_prefix(r, loc, buf, cap);
  if (k < 0 || (size_t)k >= cap)
    return;
  vsnprintf(buf + k, cap - (size_t)k, fmt, ap);
}

apex_err apex_rows_fail(apex_rows *r, size_t loc, apex_err code, const char *fmt, ...)
{
  va_list ap;
  if (r->err) {
    va_start(ap, fmt);
    vmessage(r, loc, r->err->msg, sizeof r->err->msg, fmt, ap);
    va_end(ap);
    r->err->code = code;
  }
  return code;
}

apex_err apex_rows_bad(apex_rows *r, size_t loc, apex_err code, const char *fmt, ...)
{
  va_list ap;
  if (!r->lenient) {
    if (r->err) {
      va_start(ap, fmt);
      vmessage(r, loc, r->err->msg, sizeof r->err->msg, fmt, ap);
      va_end(ap);
      r->err->code = code;
    }
    return code;
  }
  if (r->rep->dropped++ == 0) {
    va_start(ap, fmt);
    vmessage(r, loc, r->rep->first_problem, sizeof r->rep->first_problem, fmt, ap);
    va_end(ap);
  }
  return APEX_OK;
}

apex_err apex_rows_add(apex_rows *r, size_t loc, const apex_bar *b)
{
  char x[40], y[40], tb[48], pb[48];
  double hi = b->open > b->close ? b->open : b->close;
  double lo = b->open < b->close ? b->open : b->close;

  /* Loaders only pass parsed values, so this is a guard for future callers. */
  if (!isfinite(b->open) || !isfinite(b->high) || !isfinite(b->low) || !isfinite(b->close) || !isfinite(b->volume))
    return apex_rows_bad(r, loc, APEX_EDATA, "value is not finite");
  if (!apex_io_time_ok(b->time))
    return apex_rows_bad(r, loc, APEX_EDATA, "time: outside years 1-9999");
  if (b->high < hi) {
    apex_io_fmt_num(b->high, x, sizeof x);
    apex_io_fmt_num(hi, y, sizeof y);
    return apex_rows_bad(r, loc, APEX_EDATA, "high: %s is below max(open, close) %s", x, y);
  }
  if (b->low > lo) {
    apex_io_fmt_num(b->low, x, sizeof x);
    apex_io_fmt_num(lo, y, sizeof y);
    return apex_rows_bad(r, loc, APEX_EDATA, "low: %s is above min(open, close) %s", x, y);
  }
  if (b->volume < 0) {
    apex_io_fmt_num(b->volume, x, sizeof x);
    return apex_rows_bad(r, loc, APEX_EDATA, "volume: %s is negative", x);
  }
  if (r->have_prev && b->time <= r->prev_time) {
    apex_format_time(b->time, r->rep, tb, sizeof tb);
    apex_format_time(r->prev_time, r->rep, pb, sizeof pb);
    const char *what = r->elements ? "element" : "line";
    size_t ploc = r->elements ? r->prev_loc - 1 : r->prev_loc;
    if (b->time == r->prev_time)
      return apex_rows_bad(r, loc, APEX_EDATA, "time: duplicate timestamp %s (%s %zu has the same)", tb, what, ploc);
    return apex_rows_bad(r, loc, APEX_EDATA, "time: %s is before %s on %s %zu (times must increase)", tb, pb, what,
                         ploc);
  }
  if (apex_series_append(r->s, b))
    return apex_rows_fail(r, loc, APEX_ENOMEM, "out of memory");
  r->have_prev = true;
  r->prev_time = b->time;
  r->prev_loc = loc;
  return APEX_OK;
}
