/* load.c - candle file loading: read (capped), inflate gzip, choose the format by content,
 * run the loader, and fill the report. Lenient mode lives in rows.c. */
#include "io/load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/gzip.h"
#include "io/rows.h"

#define DEFAULT_MAX ((size_t)4 << 30)

apex_err apex_read_file(const char *path, size_t max, char **out, size_t *out_len, apex_error *err)
{
  FILE *f = NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0;
  struct stat st;
  apex_err rc = APEX_OK;

  *out = NULL;
  f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f)
    return apex_error_set(err, APEX_EIO, "%s: cannot open: %s", path, strerror(errno));
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
    if ((uint64_t)st.st_size > max) {
      rc = apex_error_set(err, APEX_ETOOBIG, "%s: %lld bytes, more than the limit of %zu", path, (long long)st.st_size,
                          max);
      goto out;
    }
    cap = (size_t)st.st_size + 1; /* +1 so reading hits EOF without a second allocation */
  }
  for (;;) {
    if (n + 1 >= cap) {
      size_t ncap = cap < 65536 ? 65536 : cap * 2;
      char *nb = realloc(buf, ncap + 1);
      if (!nb) {
        rc = apex_error_set(err, APEX_ENOMEM, "%s: out of memory reading the file", path);
        goto out;
      }
      buf = nb;
      cap = ncap;
    }
    if (!buf) {
      buf = malloc(cap + 1);
      if (!buf) {
        rc = apex_error_set(err, APEX_ENOMEM, "%s: out of memory reading the file", path);
        goto out;
      }
    }
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (n > max) {
      rc = apex_error_set(err, APEX_ETOOBIG, "%s: more than the limit of %zu bytes", path, max);
      goto out;
    }
    if (k == 0) {
      if (ferror(f)) {
        rc = apex_error_set(err, APEX_EIO, "%s: read error: %s", path, strerror(errno));
        goto out;
      }
      break;
    }
  }
  if (!buf && !(buf = malloc(1))) {
    rc = apex_error_set(err, APEX_ENOMEM, "%s: out of memory reading the file", path);
    goto out;
  }
  buf[n] = '\0';
  *out = buf;
  *out_len = n;
  buf = NULL;
out:
  free(buf);
  if (f && f != stdin)
    fclose(f);
  return rc;
}

apex_err apex_load_candles(const char *path, const apex_load_opts *opts, apex_series **out, apex_load_report *rep,
                           apex_error *err)
{
  char *data = NULL;
  size_t len = 0;
  size_t max = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX;
  apex_err rc;

  *out = NULL;
  rc = apex_read_file(path, max, &data, &len, err);
  if (!rc)
    rc = apex_load_candles_mem(path, data, len, opts, out, rep, err);
  free(data);
  return rc;
}

/* Rows a buffer of len bytes may hold, to size the series once (a line is at least ~12 bytes). */
static size_t estimate_rows(const char *data, size_t len)
{
  size_t n = 0;
  for (const char *p = data, *e = data + len; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    n++;
  return n + 1;
}

apex_err apex_load_candles_mem(const char *name, const char *data, size_t len, const apex_load_opts *opts,
                               apex_series **out, apex_load_report *rep, apex_error *err)
{
  apex_load_report local;
  char *plain = NULL;
  apex_rows r = {0};
  apex_err rc = APEX_OK;
  size_t max = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX;

  *out = NULL;
  if (!rep)
    rep = &local;
  memset(rep, 0, sizeof *rep);
  rep->format = "unknown";
  r.name = name ? name : "<memory>";
  r.lenient = opts && opts->lenient;
  r.max_bytes = max;
  r.rep = rep;
  r.err = err;
  if (len > max)
    return apex_rows_fail(&r, 0, APEX_ETOOBIG, "%zu bytes, more than the limit of %zu", len, max);
  if (apex_gzip_is(data, len)) {
    apex_error gerr;
    size_t plen;
    rc = apex_gzip_inflate(data, len, max, &plain, &plen, &gerr);
    if (rc)
      return apex_rows_fail(&r, 0, rc, "%s", gerr.msg);
    rep->gzip = true;
    data = plain;
    len = plen;
  }

  const char *p = data, *end = data + len;
  if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
    p += 3;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  if (p == end) {
    rc = apex_rows_fail(&r, 0, APEX_EDATA, "no candles: the %s is empty", rep->gzip ? "decompressed data" : "file");
    goto out;
  }
  bool json = *p == '[' || *p == '{';
  r.s = apex_series_new(json ? 0 : estimate_rows(p, (size_t)(end - p)));
  if (!r.s) {
    rc = apex_rows_fail(&r, 0, APEX_ENOMEM, "out of memory");
    goto out;
  }
  if (json) {
    rc = apex_jsonarr_load(&r, data, len);
  } else {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    const char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    if (apex_csv_is_header(p, le)) {
      rc = apex_csv_load(&r, data, len);
    } else {
      size_t nf = apex_csv_count_fields(p, le, ',');
      if (nf == 12) {
        rc = apex_binance_load(&r, data, len);
      } else {
        size_t line = 1;
        for (const char *q = data; q < p; q++)
          line += *q == '\n';
        rc = apex_rows_fail(&r, line, APEX_EDATA,
                            "no header line (date, open, high, low, close, volume) and %zu fields, not a 12-column "
                            "Binance kline row",
                            nf);
      }
    }
  }
  if (rc)
    goto out;
  if (r.s->n == 0) {
    if (rep->dropped)
      rc = apex_rows_fail(&r, 0, APEX_EDATA, "no valid candles: all %zu rows dropped (first: %s)", rep->dropped,
                          rep->first_problem);
    else
      rc = apex_rows_fail(&r, 0, APEX_EDATA, "no candles: no data rows");
    goto out;
  }
  rep->rows = r.s->n;
  *out = r.s;
  r.s = NULL;
out:
  apex_series_free(r.s);
  free(plain);
  return rc;
}
