/* kraken_codec.c - Kraken spot REST replies decoded into market.h types (see kraken_codec.h).
 * Pure: bytes in, values out; JSON through base/json.h, numbers through base/decimal.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "market/fields.h"
#include "market/kraken_codec.h"

/* --- errors (ref 2.7, ccxt's mapping in ref 7) --- */

static const struct {
  const char *text; /* a prefix: Kraken may add ":detail" */
  apex_err code;
} VENUE_ERRORS[] = {
    {"EQuery:Unknown asset pair", APEX_ENOTFOUND},
    {"EQuery:Invalid asset pair", APEX_ENOTFOUND}, /* ccxt: BadSymbol */
    {"EAPI:Rate limit exceeded", APEX_ERATELIMIT},
    {"EOrder:Rate limit exceeded", APEX_ERATELIMIT},
    {"EGeneral:Temporary lockout", APEX_ERATELIMIT},
    {"EGeneral:Too many requests", APEX_ERATELIMIT},
    {"EService:Unavailable", APEX_EIO}, /* ccxt: ExchangeNotAvailable */
    {"EService:Busy", APEX_EIO},
    {"EGeneral:Internal error", APEX_EIO},
};

/* The code for one of the venue's error strings. */
static apex_err venue_code(const char *text)
{
  for (size_t i = 0; i < APEX_ARRAY_LEN(VENUE_ERRORS); i++)
    if (strncmp(text, VENUE_ERRORS[i].text, strlen(VENUE_ERRORS[i].text)) == 0)
      return VENUE_ERRORS[i].code;
  return APEX_EINVAL;
}

/* A non-empty error array as an apex_err: its first string decides, `prefix` starts the message. */
static apex_err venue_error(const char *prefix, const apex_json *errs, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const apex_json *first = apex_json_array_get(errs, 0);
  const char *s = apex_json_string_value(first);
  if (!s)
    return apex_error_set(err, APEX_EINVAL, "%s, error[0] is %s", prefix, apex_field_shown(first, b));
  return apex_error_set(err, venue_code(s), "%s, %.300s", prefix, s);
}

/* Parses a reply and checks its envelope: *result is the "result" object when the error array is
 * empty; a non-empty one is the venue's error. */
static apex_err envelope(const char *buf, size_t len, const char *what, apex_json **doc, const apex_json **result,
                         apex_error *err)
{
  apex_error e;
  char prefix[64];
  apex_err rc = apex_json_parse(buf, len, APEX_KRAKEN_REPLY_MAX, doc, &e);
  if (rc)
    return apex_error_set(err, rc, "kraken %s: %s", what, e.msg);
  const apex_json *errs = apex_json_object_get(*doc, "error");
  if (!apex_json_is_array(errs))
    return apex_error_set(err, APEX_EPARSE, "kraken %s: error: expected an array, got %s", what,
                          apex_json_type_name(errs));
  if (apex_json_array_size(errs) > 0) {
    snprintf(prefix, sizeof prefix, "kraken %s: venue error", what);
    return venue_error(prefix, errs, err);
  }
  *result = apex_json_object_get(*doc, "result");
  if (!apex_json_is_object(*result))
    return apex_error_set(err, APEX_EPARSE, "kraken %s: result: expected an object, got %s", what,
                          apex_json_type_name(*result));
  return APEX_OK;
}

/* The only member of result other than those named `skip` (NULL: none); *key its name. */
static apex_err only_member(const apex_json *result, const char *what, const char *skip, const char **key,
                            const apex_json **val, apex_error *err)
{
  apex_json_iter it = apex_json_object_iter(result);
  const char *k;
  const apex_json *v;
  size_t seen = 0;
  while (apex_json_object_next(&it, &k, &v)) {
    if (skip && strcmp(k, skip) == 0)
      continue;
    *key = k;
    *val = v;
    seen++;
  }
  if (seen != 1)
    return apex_error_set(err, APEX_EPARSE, "kraken %s: result has %zu pairs, expected 1", what, seen);
  return APEX_OK;
}

apex_err apex_kraken_decode_error(int status, const char *body, size_t len, apex_error *err)
{
  apex_json *doc = NULL;
  char prefix[48];
  bool ok_status = status >= 200 && status <= 299;
  apex_err rc;

  snprintf(prefix, sizeof prefix, "kraken: HTTP %d", status);
  /* Error bodies are small; a huge one is not the venue's error shape. */
  const apex_json *errs = NULL;
  if (body && len <= 65536 && apex_json_parse(body, len, 65536, &doc, NULL) == APEX_OK)
    errs = apex_json_object_get(doc, "error");
  if (apex_json_is_array(errs) && apex_json_array_size(errs) > 0) {
    rc = venue_error(prefix, errs, err);
  } else if (apex_json_is_array(errs) && ok_status) {
    rc = APEX_OK;
  } else {
    if (ok_status)
      rc = APEX_EPARSE;
    else if (status == 429)
      rc = APEX_ERATELIMIT;
    else if (status == 404)
      rc = APEX_ENOTFOUND;
    else if (status >= 400 && status <= 499)
      rc = APEX_EINVAL;
    else
      rc = APEX_EIO;
    apex_error_set(err, rc, "%s (%s)", prefix,
                   apex_json_is_array(errs) ? "empty error array" : "body is not a Kraken reply");
  }
  apex_json_free(doc);
  return rc;
}

/* --- OHLC (ref 2.3) --- */

static const char *const OHLC_FIELD[] = {"time", "open", "high", "low", "close", "vwap", "volume", "count"};

static apex_err ohlc_row(const apex_json *row, size_t i, int64_t prev_time, bool have_prev, apex_bar *bar,
                         apex_error *err)
{
  char what[64];
  char b[APEX_FIELD_SHOWN_MAX + 8];
  apex_dec v[6]; /* [1..5]: o, h, l, c, vwap */
  int64_t secs, count;
  apex_err rc;

  if (!apex_json_is_array(row))
    return apex_error_set(err, APEX_EPARSE, "kraken OHLC row %zu: expected an array, got %s", i, apex_field_shown(row, b));
  if (apex_json_array_size(row) != 8)
    return apex_error_set(err, APEX_EPARSE, "kraken OHLC row %zu: %zu elements, expected 8", i,
                          apex_json_array_size(row));
  snprintf(what, sizeof what, "kraken OHLC row %zu field 0 (time)", i);
  if ((rc = apex_field_int(apex_json_array_get(row, 0), what, &secs, err)))
    return rc;
  /* Seconds on the wire (ref 2.3), ms in our candles (ref 7). */
  if (secs < 0 || secs > INT64_MAX / 1000)
    return apex_error_set(err, APEX_EPARSE, "%s: %lld is out of range", what, (long long)secs);
  bar->time = secs * 1000;
  if (have_prev && bar->time <= prev_time)
    return apex_error_set(err, APEX_EPARSE, "%s: %lld s is not after the previous row's %lld ms", what,
                          (long long)secs, (long long)prev_time);
  for (size_t k = 1; k <= 5; k++) {
    snprintf(what, sizeof what, "kraken OHLC row %zu field %zu (%s)", i, k, OHLC_FIELD[k]);
    if ((rc = apex_field_dec(apex_json_array_get(row, k), what, &v[k], err)))
      return rc;
  }
  snprintf(what, sizeof what, "kraken OHLC row %zu field 6 (volume)", i);
  if ((rc = apex_field_double(apex_json_array_get(row, 6), what, &bar->volume, err)))
    return rc;
  snprintf(what, sizeof what, "kraken OHLC row %zu field 7 (count)", i);
  if ((rc = apex_field_int(apex_json_array_get(row, 7), what, &count, err)))
    return rc;
  if (count < 0)
    return apex_error_set(err, APEX_EPARSE, "%s: %lld is negative", what, (long long)count);

  for (size_t k = 1; k <= 4; k++)
    if (v[k] <= 0)
      return apex_error_set(err, APEX_EPARSE, "kraken OHLC row %zu field %zu (%s): not above 0", i, k, OHLC_FIELD[k]);
  if (v[5] < 0)
    return apex_error_set(err, APEX_EPARSE, "kraken OHLC row %zu field 5 (vwap): negative", i);
  if (v[2] < apex_dec_max(v[1], v[4]))
    return apex_error_set(err, APEX_EPARSE, "kraken OHLC row %zu field 2 (high): below open or close", i);
  if (v[3] > apex_dec_min(v[1], v[4]))
    return apex_error_set(err, APEX_EPARSE, "kraken OHLC row %zu field 3 (low): above open or close", i);
  if (!(bar->volume >= 0))
    return apex_error_set(err, APEX_EPARSE, "kraken OHLC row %zu field 6 (volume): negative", i);

  /* core/series keeps doubles; the checks above were made on the exact values. */
  bar->open = apex_dec_to_double(v[1]);
  bar->high = apex_dec_to_double(v[2]);
  bar->low = apex_dec_to_double(v[3]);
  bar->close = apex_dec_to_double(v[4]);
  return APEX_OK;
}

apex_err apex_kraken_decode_ohlc(const char *buf, size_t len, apex_series *out, int64_t *last, apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL, *rows = NULL;
  const char *pair = NULL;
  char b[APEX_FIELD_SHOWN_MAX + 8];
  int64_t since = 0;
  size_t n0 = out->n;
  apex_err rc = envelope(buf, len, "OHLC", &doc, &result, err);
  if (rc)
    goto out;
  if ((rc = apex_field_int(apex_json_object_get(result, "last"), "kraken OHLC last", &since, err)) ||
      (rc = only_member(result, "OHLC", "last", &pair, &rows, err)))
    goto out;
  if (!apex_json_is_array(rows)) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken OHLC %.40s: expected an array, got %s", pair, apex_field_shown(rows, b));
    goto out;
  }
  size_t n = apex_json_array_size(rows);
  if ((rc = apex_series_reserve(out, n0 + n))) {
    apex_error_set(err, rc, "kraken OHLC: no memory for %zu rows", n);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    apex_bar bar;
    bool have_prev = out->n > 0;
    int64_t prev = have_prev ? out->time[out->n - 1] : 0;
    if ((rc = ohlc_row(apex_json_array_get(rows, i), i, prev, have_prev, &bar, err)))
      goto out;
    if (i + 1 == n)
      break; /* the interval still open (ref 2.3): checked like the others, never stored */
    if ((rc = apex_series_append(out, &bar))) {
      apex_error_set(err, rc, "kraken OHLC: no memory");
      goto out;
    }
  }
  if (!rc && last)
    *last = since;
out:
  if (rc)
    apex_series_slice(out, 0, n0);
  apex_json_free(doc);
  return rc;
}

/* --- Ticker (ref 2.4) --- */

/* Element idx of the array member key of t, a decimal string. */
static apex_err ticker_dec(const apex_json *t, const char *key, size_t idx, apex_dec *out, apex_error *err)
{
  char what[48], b[APEX_FIELD_SHOWN_MAX + 8];
  const apex_json *a = apex_json_object_get(t, key);
  snprintf(what, sizeof what, "kraken Ticker %s[%zu]", key, idx);
  if (!apex_json_is_array(a) || apex_json_array_size(a) <= idx)
    return apex_error_set(err, APEX_EPARSE, "%s: %s is %s, expected an array of at least %zu", what, key,
                          apex_json_is_array(a) ? "too short" : apex_field_shown(a, b), idx + 1);
  apex_err rc = apex_field_dec(apex_json_array_get(a, idx), what, out, err);
  if (rc)
    return rc;
  if (*out < 0)
    return apex_error_set(err, APEX_EPARSE, "%s: negative", what);
  return APEX_OK;
}

apex_err apex_kraken_decode_ticker(const char *buf, size_t len, const char *symbol, apex_ticker *out,
                                   apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL, *t = NULL;
  const char *pair = NULL;
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1], b[APEX_FIELD_SHOWN_MAX + 8];
  apex_dec ask, bid, last, vol, open;
  apex_err rc;

  *out = (apex_ticker){0};
  if (!symbol || apex_market_split(symbol, base, quote))
    return apex_error_set(err, APEX_EINVAL, "kraken Ticker: %s is not a BASE/QUOTE symbol", symbol ? symbol : "NULL");
  if ((rc = envelope(buf, len, "Ticker", &doc, &result, err)) ||
      (rc = only_member(result, "Ticker", NULL, &pair, &t, err)))
    goto out;
  if (!apex_json_is_object(t)) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken Ticker %.40s: expected an object, got %s", pair, apex_field_shown(t, b));
    goto out;
  }
  if ((rc = ticker_dec(t, "a", 0, &ask, err)) || (rc = ticker_dec(t, "b", 0, &bid, err)) ||
      (rc = ticker_dec(t, "c", 0, &last, err)) || (rc = ticker_dec(t, "v", 1, &vol, err)) ||
      (rc = apex_field_dec(apex_json_object_get(t, "o"), "kraken Ticker o", &open, err)))
    goto out;
  if (last <= 0 || open <= 0) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken Ticker %s: not above 0", last <= 0 ? "c[0]" : "o");
    goto out;
  }
  memcpy(out->symbol, symbol, strlen(symbol) + 1); /* fits: apex_market_split accepted it */
  out->last = last;
  out->bid = bid;
  out->ask = ask;
  out->volume_24h = vol; /* v[1]: "last 24 hours" (ref 2.4), v[0] being today's */
  /* Kraken's "24 h change": o is today's opening price and "today's prices start at midnight
   * UTC" (ref 2.4), so this is the change since 00:00 UTC (0 to 24 h of trading), not over a
   * rolling 24 h window as Binance's priceChangePercent. Computed on the exact units. */
  out->change_24h_pct = (double)(last - open) * 100.0 / (double)open;
out:
  if (rc)
    *out = (apex_ticker){0};
  apex_json_free(doc);
  return rc;
}

/* --- Depth (Kraken's "Get Order Book"; not in the reference, see kraken_codec.h) --- */

/* One side: every level checked, the first `keep` stored; *newest the latest level time (ms). */
static apex_err book_side(const apex_json *side, const char *name, bool falling, size_t keep, apex_book_level *lv,
                          size_t *n, int64_t *newest, apex_error *err)
{
  char what[64], b[APEX_FIELD_SHOWN_MAX + 8];
  apex_dec prev = 0;
  apex_err rc;

  *n = 0;
  if (!apex_json_is_array(side))
    return apex_error_set(err, APEX_EPARSE, "kraken Depth %s: expected an array, got %s", name, apex_field_shown(side, b));
  for (size_t i = 0; i < apex_json_array_size(side); i++) {
    const apex_json *row = apex_json_array_get(side, i);
    apex_book_level l;
    int64_t secs;
    if (!apex_json_is_array(row) || apex_json_array_size(row) != 3)
      return apex_error_set(err, APEX_EPARSE, "kraken Depth %s[%zu]: expected [price, volume, timestamp], got %s", name,
                            i, apex_json_is_array(row) ? "another length" : apex_field_shown(row, b));
    snprintf(what, sizeof what, "kraken Depth %s[%zu] price", name, i);
    if ((rc = apex_field_dec(apex_json_array_get(row, 0), what, &l.price, err)))
      return rc;
    if (l.price <= 0)
      return apex_error_set(err, APEX_EPARSE, "%s: not above 0", what);
    snprintf(what, sizeof what, "kraken Depth %s[%zu] volume", name, i);
    if ((rc = apex_field_dec(apex_json_array_get(row, 1), what, &l.qty, err)))
      return rc;
    if (l.qty <= 0)
      return apex_error_set(err, APEX_EPARSE, "%s: not above 0", what);
    snprintf(what, sizeof what, "kraken Depth %s[%zu] timestamp", name, i);
    if ((rc = apex_field_int(apex_json_array_get(row, 2), what, &secs, err)))
      return rc;
    if (secs < 0 || secs > INT64_MAX / 1000)
      return apex_error_set(err, APEX_EPARSE, "%s: %lld is out of range", what, (long long)secs);
    if (i > 0 && (falling ? l.price >= prev : l.price <= prev))
      return apex_error_set(err, APEX_EPARSE, "kraken Depth %s[%zu] price: not %s the level before (unsorted book)",
                            name, i, falling ? "below" : "above");
    prev = l.price;
    if (secs * 1000 > *newest)
      *newest = secs * 1000;
    if (i < keep)
      lv[(*n)++] = l;
  }
  return APEX_OK;
}

apex_err apex_kraken_decode_depth(const char *buf, size_t len, const char *symbol, size_t depth, apex_orderbook *out,
                                  apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL, *book = NULL;
  const char *pair = NULL;
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1], b[APEX_FIELD_SHOWN_MAX + 8];
  int64_t newest = 0;
  apex_err rc;

  *out = (apex_orderbook){0};
  if (!symbol || apex_market_split(symbol, base, quote))
    return apex_error_set(err, APEX_EINVAL, "kraken Depth: %s is not a BASE/QUOTE symbol", symbol ? symbol : "NULL");
  if (depth < 1 || depth > APEX_BOOK_MAX)
    return apex_error_set(err, APEX_EINVAL, "kraken Depth: %zu levels, expected 1 to %d", depth, APEX_BOOK_MAX);
  if ((rc = envelope(buf, len, "Depth", &doc, &result, err)) ||
      (rc = only_member(result, "Depth", NULL, &pair, &book, err)))
    goto out;
  if (!apex_json_is_object(book)) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken Depth %.40s: expected an object, got %s", pair,
                        apex_field_shown(book, b));
    goto out;
  }
  if ((rc = book_side(apex_json_object_get(book, "bids"), "bids", true, depth, out->bids, &out->n_bids, &newest,
                      err)) ||
      (rc = book_side(apex_json_object_get(book, "asks"), "asks", false, depth, out->asks, &out->n_asks, &newest,
                      err)))
    goto out;
  if (out->n_bids && out->n_asks && out->bids[0].price >= out->asks[0].price) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken Depth: best bid is not below best ask (crossed book)");
    goto out;
  }
  memcpy(out->symbol, symbol, strlen(symbol) + 1); /* fits: apex_market_split accepted it */
  out->time = newest;
out:
  if (rc)
    *out = (apex_orderbook){0};
  apex_json_free(doc);
  return rc;
}

/* --- AssetPairs (ref 2.2) --- */

const char *apex_kraken_common_asset(const char *code)
{
  /* ccxt's commonCurrencies for Kraken (ref 7 names XBT; XDG is in the same table). */
  if (strcmp(code, "XBT") == 0)
    return "BTC";
  if (strcmp(code, "XDG") == 0)
    return "DOGE";
  return code;
}

/* 10^-places as a decimal, places 0..APEX_DEC_PLACES. */
static apex_dec step_of(int64_t places)
{
  apex_dec d = APEX_DEC_SCALE;
  for (int64_t k = 0; k < places; k++)
    d /= 10;
  return d;
}

/* One AssetPairs entry into *s; *fits false when it has no place in our symbol form. */
static apex_err pair_entry(const char *id, const apex_json *o, apex_market_symbol *s, bool *fits, apex_error *err)
{
  char what[96], b[APEX_FIELD_SHOWN_MAX + 8];
  int64_t lot_dp, pair_dp;
  apex_dec ordermin = 0;
  apex_err rc;

  *s = (apex_market_symbol){0};
  *fits = false;
  if (!apex_json_is_object(o))
    return apex_error_set(err, APEX_EPARSE, "kraken AssetPairs %.40s: expected an object, got %s", id, apex_field_shown(o, b));
  snprintf(what, sizeof what, "kraken AssetPairs %.40s lot_decimals", id);
  if ((rc = apex_field_int(apex_json_object_get(o, "lot_decimals"), what, &lot_dp, err)))
    return rc;
  snprintf(what, sizeof what, "kraken AssetPairs %.40s pair_decimals", id);
  if ((rc = apex_field_int(apex_json_object_get(o, "pair_decimals"), what, &pair_dp, err)))
    return rc;
  if (lot_dp < 0 || pair_dp < 0)
    return apex_error_set(err, APEX_EPARSE, "kraken AssetPairs %.40s: negative decimals", id);
  static const char *const MINS[] = {"tick_size", "ordermin", "costmin"};
  apex_dec *dst[] = {&s->tick_size, &ordermin, &s->min_notional};
  for (size_t k = 0; k < 3; k++) {
    const apex_json *v = apex_json_object_get(o, MINS[k]);
    if (!v)
      continue; /* older replies lack tick_size and costmin */
    snprintf(what, sizeof what, "kraken AssetPairs %.40s %s", id, MINS[k]);
    if ((rc = apex_field_dec(v, what, dst[k], err)))
      return rc;
    if (*dst[k] < 0)
      return apex_error_set(err, APEX_EPARSE, "%s: negative", what);
  }
  const apex_json *st = apex_json_object_get(o, "status");
  if (st && !apex_json_is_string(st))
    return apex_error_set(err, APEX_EPARSE, "kraken AssetPairs %.40s status: expected a string, got %s", id,
                          apex_field_shown(st, b));
  s->active = !st || strcmp(apex_json_string_value(st), "online") == 0;
  const apex_json *wv = apex_json_object_get(o, "wsname");
  if (wv && !apex_json_is_string(wv))
    return apex_error_set(err, APEX_EPARSE, "kraken AssetPairs %.40s wsname: expected a string, got %s", id,
                          apex_field_shown(wv, b));

  /* Left out, not an error: no wsname (".d" pairs), names outside our form, steps below 1e-8. */
  const char *ws = apex_json_string_value(wv);
  const char *slash = ws ? strchr(ws, '/') : NULL;
  size_t idlen = strnlen(id, APEX_MARKET_SYMBOL_MAX + 1);
  if (!slash || idlen == 0 || idlen > APEX_MARKET_SYMBOL_MAX || lot_dp > APEX_DEC_PLACES ||
      pair_dp > APEX_DEC_PLACES)
    return APEX_OK;
  size_t blen = (size_t)(slash - ws);
  if (blen == 0 || blen > APEX_MARKET_ASSET_MAX || strlen(slash + 1) > APEX_MARKET_ASSET_MAX)
    return APEX_OK;
  char wb[APEX_MARKET_ASSET_MAX + 1], ours[APEX_MARKET_SYMBOL_MAX + 1];
  memcpy(wb, ws, blen);
  wb[blen] = '\0';
  int w = snprintf(ours, sizeof ours, "%s/%s", apex_kraken_common_asset(wb), apex_kraken_common_asset(slash + 1));
  if (w < 0 || (size_t)w >= sizeof ours || apex_market_split(ours, s->base, s->quote) != APEX_OK)
    return APEX_OK;
  memcpy(s->symbol, ours, (size_t)w + 1);
  memcpy(s->venue_symbol, id, idlen + 1);
  s->lot_step = step_of(lot_dp);
  if (!apex_json_object_get(o, "tick_size"))
    s->tick_size = step_of(pair_dp);
  *fits = true;
  return APEX_OK;
}

apex_err apex_kraken_decode_pairs(const char *buf, size_t len, apex_market_symbol *out, size_t cap, size_t *n,
                                  size_t *skipped, apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL, *v;
  const char *id;
  size_t kept = 0, left_out = 0;
  apex_err rc = envelope(buf, len, "AssetPairs", &doc, &result, err);
  if (rc)
    goto out;
  apex_json_iter it = apex_json_object_iter(result);
  while (apex_json_object_next(&it, &id, &v)) {
    apex_market_symbol s;
    bool fits;
    if ((rc = pair_entry(id, v, &s, &fits, err)))
      goto out;
    if (!fits) {
      left_out++;
      continue;
    }
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "kraken AssetPairs: more than %zu pairs", cap);
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

apex_err apex_kraken_pair_name(const char *symbol, char out[static APEX_MARKET_SYMBOL_MAX + 1], apex_error *err)
{
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
  if (!symbol || apex_market_split(symbol, base, quote))
    return apex_error_set(err, APEX_EINVAL, "kraken: symbol '%s' is not BASE/QUOTE", symbol ? symbol : "");
  const char *b = !strcmp(base, "BTC") ? "XBT" : !strcmp(base, "DOGE") ? "XDG" : base;
  const char *q = !strcmp(quote, "BTC") ? "XBT" : !strcmp(quote, "DOGE") ? "XDG" : quote;
  snprintf(out, APEX_MARKET_SYMBOL_MAX + 1, "%s%s", b, q); /* fits: two assets of <= 15 */
  return APEX_OK;
}
