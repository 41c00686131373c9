/* binance_codec.c - Binance spot REST replies decoded into market.h types (see binance_codec.h).
 * Pure: bytes in, values out; JSON through base/json.h, numbers through base/decimal.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "market/fields.h"
#include "market/binance_codec.h"

static apex_err parse(const char *buf, size_t len, const char *what, apex_json **doc, apex_error *err)
{
  apex_error e;
  apex_err rc = apex_json_parse(buf, len, APEX_BINANCE_REPLY_MAX, doc, &e);
  if (rc)
    return apex_error_set(err, rc, "binance %s: %s", what, e.msg);
  return APEX_OK;
}

/* --- klines (ref 1.4) --- */

static const char *const KLINE_FIELD[] = {"open time", "open", "high", "low", "close", "volume", "close time"};

static apex_err kline_row(const apex_json *row, size_t i, int64_t prev_time, bool have_prev, apex_bar *bar,
                          apex_error *err)
{
  char what[64];
  char b[APEX_FIELD_SHOWN_MAX + 8];
  apex_dec v[5]; /* [1..4]: o, h, l, c */
  int64_t close_time;
  apex_err rc;

  if (!apex_json_is_array(row))
    return apex_error_set(err, APEX_EPARSE, "binance klines row %zu: expected an array, got %s", i, apex_field_shown(row, b));
  if (apex_json_array_size(row) != 12)
    return apex_error_set(err, APEX_EPARSE, "binance klines row %zu: %zu elements, expected 12", i,
                          apex_json_array_size(row));
  snprintf(what, sizeof what, "binance klines row %zu field 0 (open time)", i);
  if ((rc = apex_field_int(apex_json_array_get(row, 0), what, &bar->time, err)))
    return rc;
  if (bar->time < 0)
    return apex_error_set(err, APEX_EPARSE, "%s: %lld is negative", what, (long long)bar->time);
  if (have_prev && bar->time <= prev_time)
    return apex_error_set(err, APEX_EPARSE, "%s: %lld is not after the previous row's %lld", what,
                          (long long)bar->time, (long long)prev_time);
  for (size_t k = 1; k <= 4; k++) {
    snprintf(what, sizeof what, "binance klines row %zu field %zu (%s)", i, k, KLINE_FIELD[k]);
    if ((rc = apex_field_dec(apex_json_array_get(row, k), what, &v[k], err)))
      return rc;
  }
  snprintf(what, sizeof what, "binance klines row %zu field 5 (volume)", i);
  if ((rc = apex_field_double(apex_json_array_get(row, 5), what, &bar->volume, err)))
    return rc;
  snprintf(what, sizeof what, "binance klines row %zu field 6 (close time)", i);
  if ((rc = apex_field_int(apex_json_array_get(row, 6), what, &close_time, err)))
    return rc;
  if (close_time < bar->time)
    return apex_error_set(err, APEX_EPARSE, "%s: %lld is before the open time", what, (long long)close_time);

  for (size_t k = 1; k <= 4; k++)
    if (v[k] <= 0)
      return apex_error_set(err, APEX_EPARSE, "binance klines row %zu field %zu (%s): not above 0", i, k,
                            KLINE_FIELD[k]);
  if (v[2] < apex_dec_max(v[1], v[4]))
    return apex_error_set(err, APEX_EPARSE, "binance klines row %zu field 2 (high): below open or close", i);
  if (v[3] > apex_dec_min(v[1], v[4]))
    return apex_error_set(err, APEX_EPARSE, "binance klines row %zu field 3 (low): above open or close", i);
  if (!(bar->volume >= 0))
    return apex_error_set(err, APEX_EPARSE, "binance klines row %zu field 5 (volume): negative", i);

  /* core/series keeps doubles; the checks above were made on the exact values. */
  bar->open = apex_dec_to_double(v[1]);
  bar->high = apex_dec_to_double(v[2]);
  bar->low = apex_dec_to_double(v[3]);
  bar->close = apex_dec_to_double(v[4]);
  return APEX_OK;
}

apex_err apex_binance_decode_klines(const char *buf, size_t len, apex_series *out, apex_error *err)
{
  apex_json *doc = NULL;
  size_t n0 = out->n;
  apex_err rc = parse(buf, len, "klines", &doc, err);
  if (rc)
    goto out;
  if (!apex_json_is_array(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance klines: expected an array, got %s", apex_json_type_name(doc));
    goto out;
  }
  size_t rows = apex_json_array_size(doc);
  if ((rc = apex_series_reserve(out, n0 + rows))) {
    apex_error_set(err, rc, "binance klines: no memory for %zu rows", rows);
    goto out;
  }
  for (size_t i = 0; i < rows; i++) {
    apex_bar bar;
    bool have_prev = out->n > 0;
    int64_t prev = have_prev ? out->time[out->n - 1] : 0;
    if ((rc = kline_row(apex_json_array_get(doc, i), i, prev, have_prev, &bar, err)))
      goto out;
    if ((rc = apex_series_append(out, &bar))) {
      apex_error_set(err, rc, "binance klines: no memory");
      goto out;
    }
  }
out:
  if (rc)
    apex_series_slice(out, 0, n0);
  apex_json_free(doc);
  return rc;
}

/* --- exchangeInfo (ref 1.7) --- */

/* The decimal member `key` of the first filter of type `type`; *found false (and *out 0) when
 * there is no such filter. */
static apex_err filter_dec(const apex_json *filters, const char *type, const char *key, size_t sym_i,
                           apex_dec *out, bool *found, apex_error *err)
{
  *out = 0;
  *found = false;
  for (size_t k = 0; k < apex_json_array_size(filters); k++) {
    const apex_json *f = apex_json_array_get(filters, k);
    const char *ft = apex_json_string_value(apex_json_object_get(f, "filterType"));
    if (!ft || strcmp(ft, type) != 0)
      continue;
    char what[96];
    snprintf(what, sizeof what, "binance exchangeInfo symbols[%zu] %s.%s", sym_i, type, key);
    apex_err rc = apex_field_dec(apex_json_object_get(f, key), what, out, err);
    if (rc)
      return rc;
    if (*out < 0)
      return apex_error_set(err, APEX_EPARSE, "%s: negative", what);
    *found = true;
    return APEX_OK;
  }
  return APEX_OK;
}

/* One symbols[] entry into *s; *fits false when its names have no place in our symbol form. */
static apex_err symbol_entry(const apex_json *o, size_t i, apex_market_symbol *s, bool *fits, apex_error *err)
{
  static const char *const KEYS[] = {"symbol", "status", "baseAsset", "quoteAsset"};
  const char *str[4];
  char b[APEX_FIELD_SHOWN_MAX + 8];
  bool found;
  apex_err rc;

  *s = (apex_market_symbol){0};
  *fits = false;
  if (!apex_json_is_object(o))
    return apex_error_set(err, APEX_EPARSE, "binance exchangeInfo symbols[%zu]: expected an object, got %s", i,
                          apex_field_shown(o, b));
  for (size_t k = 0; k < 4; k++) {
    const apex_json *v = apex_json_object_get(o, KEYS[k]);
    if (!(str[k] = apex_json_string_value(v)))
      return apex_error_set(err, APEX_EPARSE, "binance exchangeInfo symbols[%zu] %s: expected a string, got %s", i,
                            KEYS[k], apex_field_shown(v, b));
  }
  const apex_json *filters = apex_json_object_get(o, "filters");
  if (!apex_json_is_array(filters))
    return apex_error_set(err, APEX_EPARSE, "binance exchangeInfo symbols[%zu] filters: expected an array, got %s",
                          i, apex_field_shown(filters, b));
  if ((rc = filter_dec(filters, "PRICE_FILTER", "tickSize", i, &s->tick_size, &found, err)) ||
      (rc = filter_dec(filters, "LOT_SIZE", "stepSize", i, &s->lot_step, &found, err)) ||
      (rc = filter_dec(filters, "NOTIONAL", "minNotional", i, &s->min_notional, &found, err)))
    return rc;
  /* MIN_NOTIONAL is the older filter NOTIONAL replaced (ref 1.7); read it only when alone. */
  if (!found && (rc = filter_dec(filters, "MIN_NOTIONAL", "minNotional", i, &s->min_notional, &found, err)))
    return rc;
  s->active = strcmp(str[1], "TRADING") == 0;

  /* Our form is checked by apex_market_split; Binance also lists assets outside it. */
  char ours[APEX_MARKET_SYMBOL_MAX + 1];
  size_t vlen = strnlen(str[0], APEX_MARKET_SYMBOL_MAX + 1);
  size_t blen = strnlen(str[2], APEX_MARKET_ASSET_MAX + 1), qlen = strnlen(str[3], APEX_MARKET_ASSET_MAX + 1);
  if (vlen == 0 || vlen > APEX_MARKET_SYMBOL_MAX || blen > APEX_MARKET_ASSET_MAX || qlen > APEX_MARKET_ASSET_MAX)
    return APEX_OK;
  snprintf(ours, sizeof ours, "%s/%s", str[2], str[3]);
  if (apex_market_split(ours, s->base, s->quote) != APEX_OK)
    return APEX_OK;
  memcpy(s->symbol, ours, strlen(ours) + 1);
  memcpy(s->venue_symbol, str[0], vlen + 1);
  *fits = true;
  return APEX_OK;
}

apex_err apex_binance_decode_symbols(const char *buf, size_t len, apex_market_symbol *out, size_t cap, size_t *n,
                                     size_t *skipped, apex_error *err)
{
  apex_json *doc = NULL;
  size_t kept = 0, left_out = 0;
  apex_err rc = parse(buf, len, "exchangeInfo", &doc, err);
  if (rc)
    goto out;
  const apex_json *syms = apex_json_object_get(doc, "symbols");
  if (!apex_json_is_array(syms)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance exchangeInfo: symbols: expected an array, got %s",
                        apex_json_type_name(syms));
    goto out;
  }
  for (size_t i = 0; i < apex_json_array_size(syms); i++) {
    apex_market_symbol s;
    bool fits;
    if ((rc = symbol_entry(apex_json_array_get(syms, i), i, &s, &fits, err)))
      goto out;
    if (!fits) {
      left_out++;
      continue;
    }
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "binance exchangeInfo: more than %zu symbols", cap);
      goto out;
    }
    out[kept++] = s;
  }
out:
  if (rc && rc != APEX_ETOOBIG)
    kept = 0;
  *n = kept;
  if (skipped)
    *skipped = left_out;
  apex_json_free(doc);
  return rc;
}

/* --- ticker/24hr (ref 1.5) --- */

apex_err apex_binance_decode_ticker(const char *buf, size_t len, const char *symbol, apex_ticker *out,
                                    apex_error *err)
{
  static const char *const KEYS[] = {"lastPrice", "bidPrice", "askPrice", "volume", "priceChangePercent"};
  apex_json *doc = NULL;
  apex_dec v[5];
  char joined[APEX_MARKET_SYMBOL_MAX + 1], b[APEX_FIELD_SHOWN_MAX + 8], what[64];
  apex_err rc;

  *out = (apex_ticker){0};
  if (apex_market_joined(symbol, joined))
    return apex_error_set(err, APEX_EINVAL, "binance ticker: %s is not a BASE/QUOTE symbol", symbol ? symbol : "NULL");
  if ((rc = parse(buf, len, "ticker", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance ticker: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  const apex_json *sv = apex_json_object_get(doc, "symbol");
  const char *s = apex_json_string_value(sv);
  if (!s || strcmp(s, joined) != 0) {
    rc = apex_error_set(err, APEX_EPARSE, "binance ticker: symbol is %s, expected \"%s\"", apex_field_shown(sv, b), joined);
    goto out;
  }
  for (size_t k = 0; k < 5; k++) {
    snprintf(what, sizeof what, "binance ticker %s", KEYS[k]);
    if ((rc = apex_field_dec(apex_json_object_get(doc, KEYS[k]), what, &v[k], err)))
      goto out;
    /* The first four are prices and a volume; only the change may be negative. */
    if (k < 4 && v[k] < 0) {
      rc = apex_error_set(err, APEX_EPARSE, "%s: negative", what);
      goto out;
    }
  }
  if (v[0] == 0) {
    rc = apex_error_set(err, APEX_EPARSE, "binance ticker lastPrice: not above 0");
    goto out;
  }
  if ((rc = apex_field_int(apex_json_object_get(doc, "closeTime"), "binance ticker closeTime", &out->time, err)))
    goto out;
  memcpy(out->symbol, symbol, strlen(symbol) + 1); /* fits: apex_market_joined accepted it */
  out->last = v[0];
  out->bid = v[1];
  out->ask = v[2];
  out->volume_24h = v[3];
  out->change_24h_pct = apex_dec_to_double(v[4]);
out:
  if (rc)
    *out = (apex_ticker){0};
  apex_json_free(doc);
  return rc;
}

/* --- depth (ref 1.6) --- */

/* One side: every level checked, the first `keep` stored. bids fall, asks rise, strictly. */
static apex_err book_side(const apex_json *side, const char *name, bool falling, size_t keep, apex_book_level *lv,
                          size_t *n, apex_error *err)
{
  char what[64], b[APEX_FIELD_SHOWN_MAX + 8];
  apex_dec prev = 0;
  apex_err rc;

  *n = 0;
  if (!apex_json_is_array(side))
    return apex_error_set(err, APEX_EPARSE, "binance depth %s: expected an array, got %s", name, apex_field_shown(side, b));
  for (size_t i = 0; i < apex_json_array_size(side); i++) {
    const apex_json *pair = apex_json_array_get(side, i);
    apex_book_level l;
    if (!apex_json_is_array(pair) || apex_json_array_size(pair) != 2)
      return apex_error_set(err, APEX_EPARSE, "binance depth %s[%zu]: expected [price, qty], got %s", name, i,
                            apex_json_is_array(pair) ? "another length" : apex_field_shown(pair, b));
    snprintf(what, sizeof what, "binance depth %s[%zu] price", name, i);
    if ((rc = apex_field_dec(apex_json_array_get(pair, 0), what, &l.price, err)))
      return rc;
    if (l.price <= 0)
      return apex_error_set(err, APEX_EPARSE, "%s: not above 0", what);
    snprintf(what, sizeof what, "binance depth %s[%zu] qty", name, i);
    if ((rc = apex_field_dec(apex_json_array_get(pair, 1), what, &l.qty, err)))
      return rc;
    if (l.qty <= 0)
      return apex_error_set(err, APEX_EPARSE, "%s: not above 0", what);
    if (i > 0 && (falling ? l.price >= prev : l.price <= prev))
      return apex_error_set(err, APEX_EPARSE, "binance depth %s[%zu] price: not %s the level before (unsorted book)",
                            name, i, falling ? "below" : "above");
    prev = l.price;
    if (i < keep)
      lv[(*n)++] = l;
  }
  return APEX_OK;
}

apex_err apex_binance_decode_depth(const char *buf, size_t len, const char *symbol, size_t depth,
                                   apex_orderbook *out, int64_t *last_update_id, apex_error *err)
{
  apex_json *doc = NULL;
  char joined[APEX_MARKET_SYMBOL_MAX + 1];
  int64_t id = 0;
  apex_err rc;

  *out = (apex_orderbook){0};
  if (apex_market_joined(symbol, joined))
    return apex_error_set(err, APEX_EINVAL, "binance depth: %s is not a BASE/QUOTE symbol", symbol ? symbol : "NULL");
  if (depth < 1 || depth > APEX_BOOK_MAX)
    return apex_error_set(err, APEX_EINVAL, "binance depth: %zu levels, expected 1 to %d", depth, APEX_BOOK_MAX);
  if ((rc = parse(buf, len, "depth", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance depth: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  if ((rc = apex_field_int(apex_json_object_get(doc, "lastUpdateId"), "binance depth lastUpdateId", &id, err)) ||
      (rc = book_side(apex_json_object_get(doc, "bids"), "bids", true, depth, out->bids, &out->n_bids, err)) ||
      (rc = book_side(apex_json_object_get(doc, "asks"), "asks", false, depth, out->asks, &out->n_asks, err)))
    goto out;
  if (out->n_bids && out->n_asks && out->bids[0].price >= out->asks[0].price) {
    rc = apex_error_set(err, APEX_EPARSE, "binance depth: best bid is not below best ask (crossed book)");
    goto out;
  }
  memcpy(out->symbol, symbol, strlen(symbol) + 1);
  if (last_update_id)
    *last_update_id = id;
out:
  if (rc)
    *out = (apex_orderbook){0};
  apex_json_free(doc);
  return rc;
}

/* --- errors (ref 1.2, 1.11) --- */

apex_err apex_binance_http_status(int status)
{
  if (status >= 200 && status <= 299)
    return APEX_OK;
  if (status == 429 || status == 418) /* 418: banned after going on past 429s (ref 1.2) */
    return APEX_ERATELIMIT;
  if (status == 404)
    return APEX_ENOTFOUND;
  if (status >= 400 && status <= 499)
    return APEX_EINVAL;
  return APEX_EIO;
}

/* The venue's code made finer where it says more than the status (ref 1.11). */
static apex_err from_venue_code(apex_err by_status, int64_t code)
{
  if (by_status == APEX_EIO)
    return by_status; /* 5xx: outcome unknown (ref 1.2), whatever the body says */
  switch (code) {
  case -1121: /* BAD_SYMBOL */
  case -2011: /* CANCEL_REJECTED: unknown order */
  case -2013: /* NO_SUCH_ORDER */
    return APEX_ENOTFOUND;
  case -1003: /* TOO_MANY_REQUESTS */
  case -1015: /* too many new orders */
    return APEX_ERATELIMIT;
  default:
    return by_status;
  }
}

apex_err apex_binance_decode_error(int status, const char *body, size_t len, int retry_after_s, apex_error *err)
{
  apex_err rc = apex_binance_http_status(status);
  apex_json *doc = NULL;
  char retry[48] = "";
  if (rc == APEX_OK)
    return rc;

  const apex_json *code = NULL, *msg = NULL;
  /* Error bodies are small; a huge one is not the venue's error shape. */
  if (body && len <= 65536 && apex_json_parse(body, len, 65536, &doc, NULL) == APEX_OK) {
    code = apex_json_object_get(doc, "code");
    msg = apex_json_object_get(doc, "msg");
  }
  if ((status == 429 || status == 418) && retry_after_s > 0)
    snprintf(retry, sizeof retry, ", retry after %d s", retry_after_s);
  else if (status == 429 || status == 418)
    snprintf(retry, sizeof retry, ", no Retry-After given");
  int64_t c;
  const char *m = apex_json_string_value(msg);
  if (apex_json_is_integer(code) && apex_json_int64(code, &c) == APEX_OK && m) {
    rc = from_venue_code(rc, c);
    apex_error_set(err, rc, "binance: HTTP %d, code %lld: %.400s%s", status, (long long)c, m, retry);
  } else {
    apex_error_set(err, rc, "binance: HTTP %d (body is not a Binance error)%s", status, retry);
  }
  apex_json_free(doc);
  return rc;
}
