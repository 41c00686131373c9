/* market.c - market data use cases over the store: the stored symbols (the candle catalog), candles
 * at any timeframe (resampled from the finest stored one that divides it), and the last stored
 * candle as a ticker. The HTTP handlers (api/h_market.c) only parse and write JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/runner.h"
#include "core/resample.h"
#include "core/timeframe.h"

apex_err apex_app_market_symbols(apex_app *app, apex_symbol_info **rows, size_t *n, apex_app_error *e)
{
  apex_error err = {0};
  *rows = NULL;
  *n = 0;
  if (apex_store_ohlcv_symbols(app->store, rows, n, &err))
    return apex_app_store_failed(e, &err);
  return APEX_OK;
}

/* The finest stored timeframe of symbol that divides want (or equals it). *known: symbol has any. */
static apex_err source_tf(apex_app *app, const char *symbol, apex_timeframe want, char *tf, size_t cap,
                          apex_timeframe *have, bool *known, bool *found, apex_app_error *e)
{
  apex_symbol_info *rows = NULL;
  size_t n = 0;
  apex_err rc = apex_app_market_symbols(app, &rows, &n, e);
  *known = *found = false;
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++) {
    apex_timeframe t;
    if (strcmp(rows[i].symbol, symbol) || apex_timeframe_parse(rows[i].timeframe, &t, NULL))
      continue;
    *known = true;
    if ((t.n == want.n && t.unit == want.unit) || apex_timeframe_divides(t, want)) {
      if (!*found || apex_timeframe_divides(*have, t)) {
        *have = t;
        snprintf(tf, cap, "%s", rows[i].timeframe);
        *found = true;
      }
    }
  }
  free(rows);
  return APEX_OK;
}

apex_err apex_app_market_candles(apex_app *app, const char *symbol, const char *tf_text, int64_t start, int64_t end,
                                 size_t limit, apex_series **out, size_t *first, apex_app_error *e)
{
  apex_timeframe want, have = {0, APEX_TF_NONE};
  char src[8] = "";
  bool known, found;
  apex_error err = {0};
  apex_series *s = NULL;
  apex_err rc;
  *out = NULL;
  *first = 0;
  if (apex_timeframe_parse(tf_text, &want, &err))
    return apex_app_raise(e, APEX_E_VALIDATION, "%s", err.msg);
  if ((rc = source_tf(app, symbol, want, src, sizeof src, &have, &known, &found, e)))
    return rc;
  if (!found)
    return known ? apex_app_raise(e, APEX_E_VALIDATION, "no stored timeframe of %s builds %s candles", symbol, tf_text)
                 : apex_app_raise(e, APEX_E_MARKET_SYMBOL_NOT_FOUND, "no candles stored for %s", symbol);
  bool same = have.n == want.n && have.unit == want.unit;
  /* Same timeframe: only the newest `limit` rows are read (ORDER BY time DESC LIMIT in SQL).
   * Resampling needs whole buckets: read from the bucket start, and everything when limited. */
  int64_t from = same || start == INT64_MIN ? start : apex_timeframe_floor(want, start);
  rc = same && limit ? apex_store_ohlcv_last(app->store, symbol, src, start, end, limit, &s, &err)
                     : apex_store_ohlcv_get(app->store, symbol, src, from, end, 0, &s, &err);
  if (rc)
    return apex_app_store_failed(e, &err);
  if (!same && s->n) {
    apex_series *r = NULL;
    if (apex_resample(s, have, want, &r, &err)) {
      apex_series_free(s);
      return apex_app_raise(e, APEX_E_VALIDATION, "cannot resample: %s", err.msg);
    }
    apex_series_free(s);
    s = r;
  }
  size_t f = 0;
  while (f < s->n && s->time[f] < start)
    f++;
  if (limit && s->n - f > limit)
    f = s->n - limit;
  *out = s;
  *first = f;
  return APEX_OK;
}

/* The close of the newest stored candle at or before t (the price 24 h ago); NAN when none. */
static double close_at(apex_app *app, const char *symbol, const char *tf, int64_t t)
{
  apex_series *s = NULL;
  apex_error err;
  double px = NAN;
  if (!apex_store_ohlcv_last(app->store, symbol, tf, INT64_MIN, t + 1, 1, &s, &err) && s->n)
    px = s->close[s->n - 1];
  apex_series_free(s);
  return px;
}

apex_err apex_app_market_ticker(apex_app *app, const char *symbol, apex_market_tick *out, apex_app_error *e)
{
  apex_symbol_info *rows = NULL;
  size_t n = 0;
  apex_error err = {0};
  apex_series *s = NULL;
  apex_err rc = apex_app_market_symbols(app, &rows, &n, e);
  memset(out, 0, sizeof *out);
  if (rc)
    return rc;
  int64_t last = INT64_MIN;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(rows[i].symbol, symbol) && rows[i].last > last) {
      last = rows[i].last;
      snprintf(out->timeframe, sizeof out->timeframe, "%s", rows[i].timeframe);
    }
  free(rows);
  if (!out->timeframe[0])
    return apex_app_raise(e, APEX_E_MARKET_SYMBOL_NOT_FOUND, "no candles stored for %s", symbol);
  apex_ticker live;
  if (apex_runner_last_price(app->runner, symbol, &live)) { /* the feed's newest close */
    out->price = apex_dec_to_double(live.last);
    out->time = live.time;
    out->source = "feed";
  } else {
    if (apex_store_ohlcv_last(app->store, symbol, out->timeframe, INT64_MIN, INT64_MAX, 1, &s, &err)) {
      memset(out, 0, sizeof *out);
      return apex_app_store_failed(e, &err);
    }
    if (!s->n) { /* deleted since the catalog was read */
      apex_series_free(s);
      memset(out, 0, sizeof *out);
      return apex_app_raise(e, APEX_E_MARKET_SYMBOL_NOT_FOUND, "no candles stored for %s", symbol);
    }
    out->price = s->close[s->n - 1];
    out->time = s->time[s->n - 1];
    out->source = "store";
    apex_series_free(s);
  }
  double before = close_at(app, symbol, out->timeframe, out->time - 86400000);
  out->change_24h_pct = before > 0 ? (out->price / before - 1) * 100 : NAN;
  return APEX_OK;
}

apex_err apex_app_market_orderbook(apex_app *app, const char *symbol, size_t depth, apex_orderbook *out,
                                   apex_app_error *e)
{
  apex_error err = {0};
  const apex_market *m = app->venue;
  memset(out, 0, sizeof *out);
  if (!m || !m->ops->orderbook)
    return apex_app_raise(e, APEX_E_UNAVAILABLE, "no market venue is configured for order books");
  switch (m->ops->orderbook(m->impl, symbol, depth, out, &err)) {
  case APEX_OK: return APEX_OK;
  case APEX_ENOTFOUND: return apex_app_raise(e, APEX_E_MARKET_SYMBOL_NOT_FOUND, "%s has no symbol %s", m->ops->name, symbol);
  case APEX_EINVAL: return apex_app_raise(e, APEX_E_VALIDATION, "%s", err.msg);
  case APEX_ERATELIMIT:
    e->retry_after = 60;
    return apex_app_raise(e, APEX_E_MARKET_RATE_LIMITED, "%s is rate limiting this server: try again later",
                          m->ops->name);
  default: return apex_app_raise(e, APEX_E_UNAVAILABLE, "%s did not answer: %s", m->ops->name, err.msg);
  }
}
