/* yahoo_codec.c - Yahoo Finance chart replies decoded into market.h types (see yahoo_codec.h).
 * Pure: bytes in, values out; JSON through base/json.h, numbers through base/decimal.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "market/fields.h"
#include "market/yahoo_codec.h"

/* A price sent as a JSON number (ref 5.2, 5.3: "close": [75.0875015258789]). Yahoo has no decimal
 * text to keep: its prices are binary doubles already (float32 values widened, by their digits),
 * so apex_dec_from_double takes the double's exact value to 8 places, and the checks below run on
 * those exact decimals as for the other venues. Strings are refused: Yahoo never sends them. */
static apex_err price_field(const apex_json *v, const char *what, apex_dec *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  double x;
  if (!apex_json_is_number(v) || apex_json_number(v, &x))
    return apex_error_set(err, APEX_EPARSE, "%s: expected a number, got %s", what, apex_field_shown(v, b));
  apex_err rc = apex_dec_from_double(x, out);
  if (rc == APEX_EOVERFLOW)
    return apex_error_set(err, rc, "%s: %g is out of range", what, x);
  if (rc)
    return apex_error_set(err, APEX_EPARSE, "%s: %g is not a price", what, x);
  return APEX_OK;
}

/* Unix seconds (ref 5.1, 5.2) as ms (ref 7). */
static apex_err secs_to_ms(int64_t secs, const char *what, int64_t *ms, apex_error *err)
{
  if (secs < 0 || secs > INT64_MAX / 1000)
    return apex_error_set(err, APEX_EPARSE, "%s: %lld is out of range", what, (long long)secs);
  *ms = secs * 1000;
  return APEX_OK;
}

/* --- errors (ref 5.2) --- */

/* A chart.error object as an apex_err; `prefix` starts the message. */
static apex_err chart_error(const char *prefix, const apex_json *e, apex_error *err)
{
  const char *code = apex_json_string_value(apex_json_object_get(e, "code"));
  const char *desc = apex_json_string_value(apex_json_object_get(e, "description"));
  apex_err rc = APEX_EINVAL;
  if ((code && strcmp(code, "Not Found") == 0) || (desc && strncmp(desc, "No data found", 13) == 0))
    rc = APEX_ENOTFOUND;
  return apex_error_set(err, rc, "%s, %.60s: %.300s", prefix, code ? code : "(no code)",
                        desc ? desc : "(no description)");
}

/* Parses a reply: *res is chart.result[0] (an object) when chart.error is null or absent; a
 * chart.error object is the provider's error. */
static apex_err envelope(const char *buf, size_t len, const char *what, apex_json **doc, const apex_json **res,
                         apex_error *err)
{
  apex_error e;
  char prefix[64];
  apex_err rc = apex_json_parse(buf, len, APEX_YAHOO_REPLY_MAX, doc, &e);
  if (rc)
    return apex_error_set(err, rc, "yahoo %s: %s", what, e.msg);
  const apex_json *chart = apex_json_object_get(*doc, "chart");
  if (!apex_json_is_object(chart))
    return apex_error_set(err, APEX_EPARSE, "yahoo %s: chart: expected an object, got %s", what,
                          apex_json_type_name(chart));
  const apex_json *ce = apex_json_object_get(chart, "error");
  if (apex_json_is_object(ce)) {
    snprintf(prefix, sizeof prefix, "yahoo %s: provider error", what);
    return chart_error(prefix, ce, err);
  }
  if (ce && !apex_json_is_null(ce))
    return apex_error_set(err, APEX_EPARSE, "yahoo %s: chart.error: expected an object or null, got %s", what,
                          apex_json_type_name(ce));
  const apex_json *result = apex_json_object_get(chart, "result");
  if (!apex_json_is_array(result) || apex_json_array_size(result) == 0)
    return apex_error_set(err, APEX_EPARSE, "yahoo %s: chart.result: expected a non-empty array, got %s", what,
                          apex_json_is_array(result) ? "an empty one" : apex_json_type_name(result));
  *res = apex_json_array_get(result, 0);
  if (!apex_json_is_object(*res))
    return apex_error_set(err, APEX_EPARSE, "yahoo %s: chart.result[0]: expected an object, got %s", what,
                          apex_json_type_name(*res));
  return APEX_OK;
}

apex_err apex_yahoo_decode_error(int status, const char *body, size_t len, apex_error *err)
{
  apex_json *doc = NULL;
  char prefix[48];
  bool ok_status = status >= 200 && status <= 299;
  const apex_json *chart = NULL, *ce = NULL;
  apex_err rc;

  snprintf(prefix, sizeof prefix, "yahoo: HTTP %d", status);
  /* Error bodies are small; a huge one is not the provider's error shape. */
  if (body && len <= 65536 && apex_json_parse(body, len, 65536, &doc, NULL) == APEX_OK) {
    chart = apex_json_object_get(doc, "chart");
    ce = apex_json_object_get(chart, "error");
  }
  if (apex_json_is_object(ce)) {
    rc = chart_error(prefix, ce, err);
  } else if (ok_status && apex_json_is_array(apex_json_object_get(chart, "result"))) {
    rc = APEX_OK;
  } else {
    if (ok_status)
      rc = APEX_EPARSE;
    else if (status == 429) /* ref 5.1: yfinance's YFRateLimitError */
      rc = APEX_ERATELIMIT;
    else if (status == 404)
      rc = APEX_ENOTFOUND;
    else if (status >= 400 && status <= 499)
      rc = APEX_EINVAL;
    else
      rc = APEX_EIO;
    apex_error_set(err, rc, "%s (%s)", prefix, chart ? "no chart.error" : "body is not a chart reply");
  }
  apex_json_free(doc);
  return rc;
}

/* --- chart (ref 5.2, 5.3) --- */

static const char *const QUOTE_KEY[] = {"open", "high", "low", "close", "volume"};

/* One row of the parallel arrays: *bar filled, or *empty when o/h/l/c are all null. */
static apex_err chart_row(const apex_json *const col[5], size_t i, apex_bar *bar, bool *empty, apex_error *err)
{
  char what[64], b[APEX_FIELD_SHOWN_MAX + 8];
  apex_dec v[4];
  size_t nulls = 0;
  apex_err rc;

  for (size_t k = 0; k < 4; k++)
    nulls += apex_json_is_null(apex_json_array_get(col[k], i));
  *empty = nulls == 4;
  if (*empty)
    return APEX_OK;
  for (size_t k = 0; k < 4; k++) {
    snprintf(what, sizeof what, "yahoo chart row %zu %s", i, QUOTE_KEY[k]);
    if ((rc = price_field(apex_json_array_get(col[k], i), what, &v[k], err)))
      return rc;
    if (v[k] <= 0)
      return apex_error_set(err, APEX_EPARSE, "%s: not above 0", what);
  }
  const apex_json *vol = apex_json_array_get(col[4], i);
  bar->volume = 0; /* null: none reported */
  if (!apex_json_is_null(vol) && (!apex_json_is_number(vol) || apex_json_number(vol, &bar->volume)))
    return apex_error_set(err, APEX_EPARSE, "yahoo chart row %zu volume: expected a number, got %s", i, apex_field_shown(vol, b));
  if (!(bar->volume >= 0))
    return apex_error_set(err, APEX_EPARSE, "yahoo chart row %zu volume: negative", i);
  if (v[1] < apex_dec_max(v[0], v[3]))
    return apex_error_set(err, APEX_EPARSE, "yahoo chart row %zu high: below open or close", i);
  if (v[2] > apex_dec_min(v[0], v[3]))
    return apex_error_set(err, APEX_EPARSE, "yahoo chart row %zu low: above open or close", i);
  /* The series keeps the checked values (the doubles rounded to 8 places), so what the checks
   * saw and what is stored cannot disagree. */
  bar->open = apex_dec_to_double(v[0]);
  bar->high = apex_dec_to_double(v[1]);
  bar->low = apex_dec_to_double(v[2]);
  bar->close = apex_dec_to_double(v[3]);
  return APEX_OK;
}

apex_err apex_yahoo_decode_chart(const char *buf, size_t len, apex_series *out, size_t *skipped, apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *res = NULL, *col[5];
  char what[64], b[APEX_FIELD_SHOWN_MAX + 8];
  size_t n0 = out->n, dropped = 0;
  apex_err rc = envelope(buf, len, "chart", &doc, &res, err);
  if (rc)
    goto out;
  const apex_json *ts = apex_json_object_get(res, "timestamp");
  if (!ts)
    goto out; /* a range without trading: meta only */
  if (!apex_json_is_array(ts)) {
    rc = apex_error_set(err, APEX_EPARSE, "yahoo chart timestamp: expected an array, got %s", apex_field_shown(ts, b));
    goto out;
  }
  size_t n = apex_json_array_size(ts);
  const apex_json *quotes = apex_json_object_get(apex_json_object_get(res, "indicators"), "quote");
  const apex_json *q = apex_json_array_get(quotes, 0);
  if (!apex_json_is_array(quotes) || !apex_json_is_object(q)) {
    rc = apex_error_set(err, APEX_EPARSE, "yahoo chart indicators.quote[0]: expected an object, got %s",
                        apex_json_type_name(q));
    goto out;
  }
  for (size_t k = 0; k < 5; k++) {
    col[k] = apex_json_object_get(q, QUOTE_KEY[k]);
    if (!apex_json_is_array(col[k]) || apex_json_array_size(col[k]) != n) {
      rc = apex_error_set(err, APEX_EPARSE, "yahoo chart %s: expected an array of %zu (as timestamp), got %s",
                          QUOTE_KEY[k], n, apex_json_is_array(col[k]) ? "another length" : apex_field_shown(col[k], b));
      goto out;
    }
  }
  if ((rc = apex_series_reserve(out, n0 + n))) {
    apex_error_set(err, rc, "yahoo chart: no memory for %zu rows", n);
    goto out;
  }
  bool have_prev = out->n > 0;
  int64_t prev = have_prev ? out->time[out->n - 1] : 0;
  for (size_t i = 0; i < n; i++) {
    apex_bar bar;
    int64_t secs;
    bool empty;
    snprintf(what, sizeof what, "yahoo chart row %zu timestamp", i);
    if ((rc = apex_field_int(apex_json_array_get(ts, i), what, &secs, err)) ||
        (rc = secs_to_ms(secs, what, &bar.time, err)))
      goto out;
    if (have_prev && bar.time <= prev) {
      rc = apex_error_set(err, APEX_EPARSE, "%s: %lld s is not after the previous row's %lld ms", what,
                          (long long)secs, (long long)prev);
      goto out;
    }
    have_prev = true;
    prev = bar.time; /* skipped rows too: the timestamps themselves must rise */
    if ((rc = chart_row(col, i, &bar, &empty, err)))
      goto out;
    if (empty) {
      dropped++;
      continue;
    }
    if ((rc = apex_series_append(out, &bar))) {
      apex_error_set(err, rc, "yahoo chart: no memory");
      goto out;
    }
  }
out:
  if (rc) {
    apex_series_slice(out, 0, n0);
    dropped = 0;
  }
  if (skipped)
    *skipped = dropped;
  apex_json_free(doc);
  return rc;
}

/* --- meta as a ticker (ref 5.2) --- */

apex_err apex_yahoo_decode_quote(const char *buf, size_t len, const char *symbol, apex_ticker *out,
                                 apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *res = NULL;
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1], b[APEX_FIELD_SHOWN_MAX + 8];
  apex_dec last, prev_close;
  int64_t secs;
  apex_err rc;

  *out = (apex_ticker){0};
  if (!symbol || apex_market_split(symbol, base, quote))
    return apex_error_set(err, APEX_EINVAL, "yahoo quote: %s is not a BASE/QUOTE symbol", symbol ? symbol : "NULL");
  if ((rc = envelope(buf, len, "quote", &doc, &res, err)))
    goto out;
  const apex_json *meta = apex_json_object_get(res, "meta");
  if (!apex_json_is_object(meta)) {
    rc = apex_error_set(err, APEX_EPARSE, "yahoo quote meta: expected an object, got %s", apex_json_type_name(meta));
    goto out;
  }
  const apex_json *sv = apex_json_object_get(meta, "symbol");
  const char *s = apex_json_string_value(sv);
  if (!s || strcmp(s, base) != 0) {
    rc = apex_error_set(err, APEX_EPARSE, "yahoo quote meta.symbol: %s, expected \"%s\"", apex_field_shown(sv, b), base);
    goto out;
  }
  const apex_json *cv = apex_json_object_get(meta, "currency");
  const char *c = apex_json_string_value(cv);
  if (cv && (!c || strcmp(c, quote) != 0)) {
    rc = apex_error_set(err, APEX_EPARSE, "yahoo quote meta.currency: %s, expected \"%s\"", apex_field_shown(cv, b), quote);
    goto out;
  }
  if ((rc = price_field(apex_json_object_get(meta, "regularMarketPrice"), "yahoo quote meta.regularMarketPrice",
                        &last, err)) ||
      (rc = price_field(apex_json_object_get(meta, "chartPreviousClose"), "yahoo quote meta.chartPreviousClose",
                        &prev_close, err)) ||
      (rc = apex_field_int(apex_json_object_get(meta, "regularMarketTime"), "yahoo quote meta.regularMarketTime", &secs,
                      err)) ||
      (rc = secs_to_ms(secs, "yahoo quote meta.regularMarketTime", &out->time, err)))
    goto out;
  if (last <= 0 || prev_close <= 0) {
    rc = apex_error_set(err, APEX_EPARSE, "yahoo quote meta.%s: not above 0",
                        last <= 0 ? "regularMarketPrice" : "chartPreviousClose");
    goto out;
  }
  memcpy(out->symbol, symbol, strlen(symbol) + 1); /* fits: apex_market_split accepted it */
  out->last = last;
  /* chartPreviousClose is the close before the chart's first bar: for a range of 1d that is the
   * previous session's close, so this is the day's change a quote page shows. */
  out->change_24h_pct = (double)(last - prev_close) * 100.0 / (double)prev_close;
out:
  if (rc)
    *out = (apex_ticker){0};
  apex_json_free(doc);
  return rc;
}
