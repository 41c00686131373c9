/* fx.c - currency conversion with the ECB's euro reference rates kept in the store, and loading
 * them from a file. The arithmetic is core/fx.c's; the decoding is the market layer's, reached
 * through app->fx_decode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/fx.h"
#include "core/timeframe.h"

/* The stored rate of ccy (not EUR) dated <= at_ms: units per EUR and its date. */
static apex_err euro_rate(apex_app *app, const char *ccy, const char *asked, int64_t at_ms, apex_dec *rate,
                          int64_t *date, apex_app_error *e)
{
  apex_fx_rate r;
  apex_error err = {0};
  apex_err rc = apex_store_fx_get(app->store, ccy, at_ms, &r, &err);
  if (rc == APEX_ENOTFOUND) {
    char when[40];
    apex_time_iso(at_ms, when, sizeof when);
    if (strcmp(ccy, asked))
      return apex_app_raise(e, APEX_E_MARKET_SYMBOL_NOT_FOUND, "no ECB reference rate for %s (%.10s taken as %s) "
                            "on or before %s", ccy, asked, ccy, when);
    return apex_app_raise(e, APEX_E_MARKET_SYMBOL_NOT_FOUND, "no ECB reference rate for %s on or before %s", ccy,
                          when);
  }
  if (rc)
    return apex_app_store_failed(e, &err);
  *rate = r.rate;
  *date = r.date;
  return APEX_OK;
}

apex_err apex_app_fx_rate(apex_app *app, const char *from, const char *to, int64_t at_ms, apex_dec *rate,
                          int64_t *rate_date_ms, apex_app_error *e)
{
  const char *f = apex_fx_canonical(from), *t = apex_fx_canonical(to);
  if (!apex_fx_iso_ok(f) || !apex_fx_iso_ok(t))
    return apex_app_raise(e, APEX_E_VALIDATION, "currencies must be ISO 4217 codes (or USDT, USDC, BUSD, FDUSD): "
                          "'%.10s' to '%.10s'", from ? from : "", to ? to : "");
  if (strcmp(f, t) == 0) {
    *rate = APEX_DEC_SCALE;
    *rate_date_ms = at_ms;
    return APEX_OK;
  }
  apex_dec eur_f = APEX_DEC_SCALE, eur_t = APEX_DEC_SCALE, out;
  int64_t date = INT64_MAX, d;
  apex_err rc;
  if (strcmp(f, "EUR")) {
    if ((rc = euro_rate(app, f, from, at_ms, &eur_f, &d, e)))
      return rc;
    date = d;
  }
  if (strcmp(t, "EUR")) {
    if ((rc = euro_rate(app, t, to, at_ms, &eur_t, &d, e)))
      return rc;
    date = d < date ? d : date;
  }
  if (apex_fx_cross(f, t, eur_f, eur_t, &out))
    return apex_app_raise(e, APEX_E_VALIDATION, "the %s to %s rate is out of range", f, t);
  *rate = out;
  *rate_date_ms = date;
  return APEX_OK;
}

/* The whole file, NUL added (not counted in *len); an apex_app_error when it cannot be read. */
static apex_err read_file(const char *path, char **buf, size_t *len, apex_app_error *e)
{
  FILE *fp = fopen(path, "rb");
  char *b = NULL;
  size_t k = 0, cap = 0;
  apex_err rc = APEX_OK;
  *buf = NULL;
  if (!fp)
    return apex_app_raise(e, APEX_E_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
  for (;;) {
    if (cap - k < 2) {
      if (cap > APEX_APP_FX_FILE_MAX) {
        rc = apex_app_raise(e, APEX_E_PAYLOAD_TOO_LARGE, "%s is larger than %zu bytes", path, APEX_APP_FX_FILE_MAX);
        goto out;
      }
      size_t ncap = cap ? cap * 2 : 65536;
      char *nb = realloc(b, ncap);
      if (!nb) {
        rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory reading %s", path);
        goto out;
      }
      b = nb;
      cap = ncap;
    }
    size_t got = fread(b + k, 1, cap - k - 1, fp);
    k += got;
    if (got == 0)
      break;
  }
  if (ferror(fp)) {
    rc = apex_app_raise(e, APEX_E_INTERNAL, "cannot read %s", path);
    goto out;
  }
  if (k > APEX_APP_FX_FILE_MAX) {
    rc = apex_app_raise(e, APEX_E_PAYLOAD_TOO_LARGE, "%s is larger than %zu bytes", path, APEX_APP_FX_FILE_MAX);
    goto out;
  }
  b[k] = '\0';
  *buf = b;
  *len = k;
  b = NULL;
out:
  free(b);
  fclose(fp);
  return rc;
}

apex_err apex_app_fx_load_file(apex_app *app, const char *path, size_t *n, apex_app_error *e)
{
  char *buf = NULL;
  size_t len = 0, nrows = 0;
  apex_fx_rate *rows = NULL;
  apex_error err = {0};
  apex_err rc;
  if (n)
    *n = 0;
  if (!app->fx_decode)
    return apex_app_raise(e, APEX_E_UNAVAILABLE, "no reference-rate decoder is configured");
  if (!path || !*path)
    return apex_app_raise(e, APEX_E_VALIDATION, "a reference-rate file is required");
  if ((rc = read_file(path, &buf, &len, e)))
    return rc;
  rc = app->fx_decode(buf, len, &rows, &nrows, &err);
  if (rc == APEX_ENOMEM)
    rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory decoding %s", path);
  else if (rc)
    rc = apex_app_raise(e, APEX_E_VALIDATION, "%s: %s", path, err.msg);
  else if (apex_store_fx_put(app->store, rows, nrows, &err))
    rc = apex_app_store_failed(e, &err);
  else if (n)
    *n = nrows;
  free(rows);
  free(buf);
  return rc;
}

apex_err apex_app_fx_refresh(apex_app *app, bool history, size_t *n, apex_app_error *e)
{
  apex_fx_rate *rows = NULL;
  size_t nrows = 0;
  apex_error err = {0};
  apex_err rc;
  if (n)
    *n = 0;
  if (!app->fx_fetch)
    return apex_app_raise(e, APEX_E_UNAVAILABLE, "no reference-rate source is configured");
  rc = app->fx_fetch(app->fx_fetch_ctx, history, &rows, &nrows, &err);
  if (rc == APEX_ENOMEM)
    rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory fetching reference rates");
  else if (rc)
    rc = apex_app_raise(e, APEX_E_UNAVAILABLE, "the ECB's reference rates: %s", err.msg);
  else if (apex_store_fx_put(app->store, rows, nrows, &err))
    rc = apex_app_store_failed(e, &err);
  else if (n)
    *n = nrows;
  free(rows);
  return rc;
}
