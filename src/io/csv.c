/* csv.c - header CSV (Yahoo, backtrader, generic exports) and the row engine it shares with the
 * Binance loader. Fields may be wrapped in double quotes but may not contain the delimiter. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/parse.h"
#include "io/rows.h"

#define MAXF 64 /* fields looked at per line; later ones are counted and ignored */

static const char *const FIELD_NAME[] = {"time", "open", "high", "low", "close", "volume"};

/* Trims blanks and one pair of surrounding double quotes. */
static void field_trim(const char **s, const char **e)
{
  const char *a = *s, *b = *e;
  while (a < b && (*a == ' ' || *a == '\t'))
    a++;
  while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
    b--;
  if (b - a >= 2 && *a == '"' && b[-1] == '"') {
    a++;
    b--;
  }
  *s = a;
  *e = b;
}

/* Looks like HH:MM or HH:MM:SS[.fff]: the second field of backtrader's date,time rows. */
static bool looks_tod(const char *s, const char *e)
{
  field_trim(&s, &e);
  return e - s >= 5 && e - s <= 18 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && s[2] == ':';
}

static int clip(size_t n) { return n > 40 ? 40 : (int)n; }

/* Parses field col as a number; on failure writes why into msg and returns the code. */
static apex_err number_field(int col, const char *const *fs, const char *const *fe, size_t nf, size_t nall, int fid,
                             double *out, char *msg, size_t cap)
{
  const char *s, *e;
  if (col < 0 || (size_t)col >= nf) {
    snprintf(msg, cap, "%s: missing field (row has %zu fields)", FIELD_NAME[fid], nall);
    return APEX_EDATA;
  }
  s = fs[col];
  e = fe[col];
  field_trim(&s, &e);
  if (s == e) {
    snprintf(msg, cap, "%s: empty field", FIELD_NAME[fid]);
    return APEX_EDATA;
  }
  const char *p = s;
  if (apex_parse_double(&p, e, out) || p != e) {
    snprintf(msg, cap, "%s: '%.*s' is not a number", FIELD_NAME[fid], clip((size_t)(e - s)), s);
    return APEX_EPARSE;
  }
  return APEX_OK;
}

/* Parses the time (and separate time-of-day) fields; on failure writes why into msg. */
static apex_err time_field(const apex_csv_map *m, int tcol, int tod, const char *const *fs, const char *const *fe,
                           size_t nf, size_t nall, int64_t *t, apex_timeinfo *ti, char *msg, size_t cap)
{
  const char *ts, *te, *os = NULL, *oe = NULL;
  if ((size_t)tcol >= nf || (tod >= 0 && (size_t)tod >= nf)) {
    snprintf(msg, cap, "time: missing field (row has %zu fields)", nall);
    return APEX_EDATA;
  }
  ts = fs[tcol];
  te = fe[tcol];
  field_trim(&ts, &te);
  if (tod >= 0) {
    os = fs[tod];
    oe = fe[tod];
    field_trim(&os, &oe);
  }
  if (m->epoch_only) {
    int64_t v;
    const char *p = ts;
    if (apex_parse_i64(&p, te, INT64_MIN, INT64_MAX, &v) == APEX_OK && p == te) {
      ti->has_t = ti->has_z = ti->has_frac = false;
      *t = apex_io_epoch_ms(v, &ti->fmt);
      return APEX_OK;
    }
    snprintf(msg, cap, "time: '%.*s' is not an integer epoch", clip((size_t)(te - ts)), ts);
    return APEX_EPARSE;
  }
  if (apex_io_parse_time(ts, te, os, oe, t, ti) == APEX_OK)
    return APEX_OK;
  if (os)
    snprintf(msg, cap, "time: '%.*s %.*s' is not a date and time", clip((size_t)(te - ts)), ts,
             clip((size_t)(oe - os)), os);
  else
    snprintf(msg, cap, "time: '%.*s' is not a date, date-time or epoch", clip((size_t)(te - ts)), ts);
  return APEX_EPARSE;
}

apex_err apex_csv_rows(apex_rows *r, const char *p, const char *end, size_t line, const apex_csv_map *m)
{
  const char *fs[MAXF], *fe[MAXF];
  const char delim = m->delim;
  char msg[200];

  for (; p < end; line++) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    const char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    const char *next = eol < end ? eol + 1 : end;
    const char *q = p;
    size_t nf = 0;

    while (q < le && (*q == ' ' || *q == '\t'))
      q++;
    if (q == le) { /* blank lines (often the last one) carry nothing */
      p = next;
      continue;
    }
    q = p;
    for (;;) {
      const char *d = memchr(q, delim, (size_t)(le - q));
      if (!d)
        d = le;
      if (nf < MAXF) {
        fs[nf] = q;
        fe[nf] = d;
      }
      nf++;
      if (d == le)
        break;
      q = d + 1;
    }
    size_t nseen = nf < MAXF ? nf : MAXF;

    /* One field more than the header names and a time of day after the date: date and time were
     * written as two fields under one "Date" name (backtrader's 2006-01-02-volume-min-001.txt). */
    int shift = 0, tod = m->tod;
    if (m->nheader && tod < 0 && nf == (size_t)m->nheader + 1 && (size_t)m->time + 1 < nseen &&
        looks_tod(fs[m->time + 1], fe[m->time + 1])) {
      shift = 1;
      tod = m->time + 1;
    }
#define COL(c) ((c) < 0 ? -1 : (c) > m->time ? (c) + shift : (c))
    apex_bar b;
    apex_timeinfo ti;
    apex_err rc;
    if ((rc = time_field(m, m->time, tod, fs, fe, nseen, nf, &b.time, &ti, msg, sizeof msg)) ||
        (rc = number_field(COL(m->open), fs, fe, nseen, nf, 1, &b.open, msg, sizeof msg)) ||
        (rc = number_field(COL(m->high), fs, fe, nseen, nf, 2, &b.high, msg, sizeof msg)) ||
        (rc = number_field(COL(m->low), fs, fe, nseen, nf, 3, &b.low, msg, sizeof msg)) ||
        (rc = number_field(COL(m->close), fs, fe, nseen, nf, 4, &b.close, msg, sizeof msg)) ||
        (rc = number_field(COL(m->volume), fs, fe, nseen, nf, 5, &b.volume, msg, sizeof msg))) {
      rc = apex_rows_bad(r, line, rc, "%s", msg);
    } else {
      apex_io_note_time(r, &ti);
      rc = apex_rows_add(r, line, &b);
    }
#undef COL
    if (rc)
      return rc;
    p = next;
  }
  return APEX_OK;
}

/* The delimiter of a header line: the most frequent of , ; and tab (',' on ties). */
static char guess_delim(const char *s, const char *e)
{
  size_t c = 0, sc = 0, tab = 0;
  for (; s < e; s++) {
    c += *s == ',';
    sc += *s == ';';
    tab += *s == '\t';
  }
  if (sc > c && sc >= tab)
    return ';';
  if (tab > c && tab > sc)
    return '\t';
  return ',';
}

bool apex_csv_is_header(const char *s, const char *e)
{
  char delim = guess_delim(s, e);
  while (s <= e) {
    const char *d = memchr(s, delim, (size_t)(e - s));
    if (!d)
      d = e;
    const char *a = s, *b = d;
    field_trim(&a, &b);
    bool alpha = false;
    for (const char *x = a; x < b; x++)
      alpha |= isalpha((unsigned char)*x) != 0;
    double v;
    const char *p = a;
    if (alpha && !(apex_parse_double(&p, b, &v) == APEX_OK && p == b))
      return true;
    s = d + 1;
  }
  return false;
}

size_t apex_csv_count_fields(const char *s, const char *e, char delim)
{
  size_t n = 1;
  for (; s < e; s++)
    n += *s == delim;
  return n;
}

/* Case-insensitive equality of [s, e) with a lowercase name. */
static bool name_is(const char *s, const char *e, const char *name)
{
  size_t n = strlen(name);
  if ((size_t)(e - s) != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)s[i]) != name[i])
      return false;
  return true;
}

static bool name_in(const char *s, const char *e, const char *const *names)
{
  for (; *names; names++)
    if (name_is(s, e, *names))
      return true;
  return false;
}

apex_err apex_csv_load(apex_rows *r, const char *data, size_t len)
{
  static const char *const FULL_TIME[] = {"datetime", "date_time", "date time", "timestamp", "open_time", "open time",
                                          "opentime", "time_utc", "ts", NULL};
  static const char *const DATE[] = {"date", "day", NULL};
  static const char *const TIME[] = {"time", NULL};
  static const char *const OPEN[] = {"open", NULL}, *const HIGH[] = {"high", NULL}, *const LOW[] = {"low", NULL};
  static const char *const CLOSE[] = {"close", NULL}, *const VOLUME[] = {"volume", "vol", NULL};
  const char *p = data, *end = data + len;
  size_t line = 1;
  apex_csv_map m = {.time = -1, .tod = -1, .open = -1, .high = -1, .low = -1, .close = -1, .volume = -1};
  int full = -1, date = -1, time = -1;

  if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
    p += 3;
  for (;;) { /* skip blank lines before the header */
    const char *q = p;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
      q++;
    if (q < end && *q == '\n') {
      p = q + 1;
      line++;
      continue;
    }
    break;
  }
  if (p >= end)
    return apex_rows_fail(r, 0, APEX_EDATA, "no header line");
  const char *eol = memchr(p, '\n', (size_t)(end - p));
  if (!eol)
    eol = end;
  const char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
  m.delim = guess_delim(p, le);
  int col = 0;
  for (const char *s = p;; col++) {
    const char *d = memchr(s, m.delim, (size_t)(le - s));
    if (!d)
      d = le;
    const char *a = s, *b = d;
    field_trim(&a, &b);
    /* The first column of each kind wins; "Adj Close" and others (OpenInterest) are ignored:
     * prices are used as traded, not adjusted. */
#define TAKE(var, names) \
  if ((var) < 0 && name_in(a, b, names)) \
    (var) = col;
    TAKE(full, FULL_TIME)
    TAKE(date, DATE)
    TAKE(time, TIME)
    TAKE(m.open, OPEN)
    TAKE(m.high, HIGH)
    TAKE(m.low, LOW)
    TAKE(m.close, CLOSE)
    TAKE(m.volume, VOLUME)
#undef TAKE
    if (d == le)
      break;
    s = d + 1;
  }
  m.nheader = col + 1;
  if (full >= 0) {
    m.time = full;
  } else if (date >= 0) {
    m.time = date;
    m.tod = time; /* Date and Time columns are combined (backtrader's 2006-min-005.txt) */
  } else {
    m.time = time;
  }
  if (m.time < 0)
    return apex_rows_fail(r, line, APEX_EDATA, "header has no time column (date, time, datetime or timestamp)");
  static const char *const NEED[] = {"open", "high", "low", "close", "volume"};
  const int have[] = {m.open, m.high, m.low, m.close, m.volume};
  for (size_t i = 0; i < APEX_ARRAY_LEN(NEED); i++)
    if (have[i] < 0)
      return apex_rows_fail(r, line, APEX_EDATA, "header has no '%s' column", NEED[i]);
  r->rep->format = "csv";
  p = eol < end ? eol + 1 : end;
  return apex_csv_rows(r, p, end, line + 1, &m);
}
