/* h_market.c - /api/v1/market: stored symbols, the last stored candle as ticker, candles at any
 * timeframe (resampled from the finest stored one that divides it), and the order book stub. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "core/resample.h"
#include "core/strategy.h"
#include "core/timeframe.h"

int h_market_symbols(apex_req *req, apex_res *res, void *app)
{
  apex_app *a = app;
  apex_symbol_info *rows = NULL;
  size_t n = 0;
  apex_error err;
  (void)req;
  if (apex_store_ohlcv_symbols(a->store, &rows, &n, &err))
    return apex_res_problem(res, 500, 0, "Storage failure", NULL, NULL);
  apex_json *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json *o = apex_json_new_object();
    char tb[40];
    apex_json_object_set(o, "symbol", apex_json_new_string(rows[i].symbol));
    apex_json_object_set(o, "timeframe", apex_json_new_string(rows[i].timeframe));
    apex_time_iso(rows[i].first, tb, sizeof tb);
    apex_json_object_set(o, "first", apex_json_new_string(tb));
    apex_time_iso(rows[i].last, tb, sizeof tb);
    apex_json_object_set(o, "last", apex_json_new_string(tb));
    apex_json_object_set(o, "candles", apex_json_new_integer(rows[i].count));
    apex_json_array_append(items, o);
  }
  free(rows);
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "items", items);
  apex_json_object_set(j, "total", apex_json_new_integer((int64_t)n));
  return apex_res_json(res, 200, j);
}

/* The finest stored timeframe of symbol that divides want (or equals it); false when none. */
static bool source_tf(apex_app *a, const char *symbol, apex_timeframe want, char *tf, size_t cap, apex_timeframe *have,
                      bool *known)
{
  apex_symbol_info *rows = NULL;
  size_t n = 0;
  apex_error err;
  bool found = false;
  *known = false;
  if (apex_store_ohlcv_symbols(a->store, &rows, &n, &err))
    return false;
  for (size_t i = 0; i < n; i++) {
    apex_timeframe t;
    if (strcmp(rows[i].symbol, symbol) || apex_timeframe_parse(rows[i].timeframe, &t, NULL))
      continue;
    *known = true;
    if ((t.n == want.n && t.unit == want.unit) || apex_timeframe_divides(t, want)) {
      if (!found || apex_timeframe_divides(*have, t)) {
        *have = t;
        snprintf(tf, cap, "%s", rows[i].timeframe);
        found = true;
      }
    }
  }
  free(rows);
  return found;
}

static int candles_json(apex_res *res, const apex_series *s, size_t from, const char *symbol, const char *tf)
{
  apex_json *items = apex_json_new_array();
  for (size_t i = from; i < s->n; i++) {
    apex_json *o = apex_json_new_object();
    char tb[40];
    apex_time_iso(s->time[i], tb, sizeof tb);
    apex_json_object_set(o, "time", apex_json_new_string(tb));
    apex_json_object_set(o, "open", apex_json_new_number(s->open[i]));
    apex_json_object_set(o, "high", apex_json_new_number(s->high[i]));
    apex_json_object_set(o, "low", apex_json_new_number(s->low[i]));
    apex_json_object_set(o, "close", apex_json_new_number(s->close[i]));
    apex_json_object_set(o, "volume", apex_json_new_number(s->volume[i]));
    apex_json_array_append(items, o);
  }
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "symbol", apex_json_new_string(symbol));
  apex_json_object_set(j, "timeframe", apex_json_new_string(tf));
  apex_json_object_set(j, "items", items);
  return apex_res_json(res, 200, j);
}

/* Candles of symbol at tf in [start, end), the last `limit` of them. */
static int serve_candles(apex_req *req, apex_res *res, apex_app *a, const char *symbol, const char *tf_text,
                         int64_t start, int64_t end, size_t limit)
{
  apex_timeframe want, have = {0, APEX_TF_NONE};
  char src[8];
  bool known;
  apex_error err;
  apex_series *s = NULL;
  if (apex_timeframe_parse(tf_text, &want, &err))
    return apex_res_problem(res, 422, 0, "Validation error", err.msg, NULL);
  if (!source_tf(a, symbol, want, src, sizeof src, &have, &known))
    return known ? apex_res_errorf(res, 422, "no stored timeframe of %s builds %s candles", symbol, tf_text)
                 : apex_res_errorf(res, APEX_E_MARKET_SYMBOL_NOT_FOUND, "no candles stored for %s", symbol);
  bool same = have.n == want.n && have.unit == want.unit;
  /* Resampling needs whole buckets: read from the bucket start, and everything when limited. */
  int64_t from = same || start == INT64_MIN ? start : apex_timeframe_floor(want, start);
  /* Same timeframe: only the newest `limit` rows are read (ORDER BY time DESC LIMIT in SQL). */
  apex_err grc = same && limit ? apex_store_ohlcv_last(a->store, symbol, src, start, end, limit, &s, &err)
                               : apex_store_ohlcv_get(a->store, symbol, src, from, end, 0, &s, &err);
  if (grc)
    return apex_res_problem(res, 500, 0, "Storage failure", NULL, NULL);
  if (!same) {
    apex_series *r = NULL;
    apex_err rc = s->n ? apex_resample(s, have, want, &r, &err) : APEX_OK;
    if (rc) {
      apex_series_free(s);
      return apex_res_problem(res, 422, 0, "Cannot resample", err.msg, NULL);
    }
    if (r) {
      apex_series_free(s);
      s = r;
    }
  }
  size_t first = 0;
  while (first < s->n && s->time[first] < start)
    first++;
  if (limit && s->n - first > limit)
    first = s->n - limit;
  int rc = candles_json(res, s, first, symbol, tf_text);
  (void)req;
  apex_series_free(s);
  return rc;
}

int h_market_ohlcv(apex_req *req, apex_res *res, void *app)
{
  const char *symbol = apex_req_param(req, "symbol"), *tf = apex_req_query(req, "timeframe");
  const char *st = apex_req_query(req, "start"), *en = apex_req_query(req, "end"), *lim = apex_req_query(req, "limit");
  int64_t start = INT64_MIN, end = INT64_MAX;
  long limit = 500;
  char *e = NULL;
  if ((st && apex_parse_date_ms(st, &start)) || (en && apex_parse_date_ms(en, &end)))
    return apex_api_invalid(res, st && apex_parse_date_ms(st, &start) ? "/start" : "/end",
                            "start and end must be dates like 2024-01-31");
  if (lim && ((limit = strtol(lim, &e, 10)) < 1 || limit > 10000 || *e))
    return apex_api_invalid(res, "/limit", "limit must be an integer from 1 to 10000");
  return serve_candles(req, res, app, symbol, tf ? tf : "1d", start, end, (size_t)limit);
}

int h_market_ticker(apex_req *req, apex_res *res, void *app)
{
  apex_app *a = app;
  const char *symbol = apex_req_param(req, "symbol");
  apex_symbol_info *rows = NULL;
  size_t n = 0;
  apex_error err;
  if (apex_store_ohlcv_symbols(a->store, &rows, &n, &err))
    return apex_res_problem(res, 500, 0, "Storage failure", NULL, NULL);
  int64_t last = INT64_MIN;
  char tf[8] = "";
  for (size_t i = 0; i < n; i++)
    if (!strcmp(rows[i].symbol, symbol) && rows[i].last > last) {
      last = rows[i].last;
      snprintf(tf, sizeof tf, "%s", rows[i].timeframe);
    }
  free(rows);
  if (!tf[0])
    return apex_res_errorf(res, APEX_E_MARKET_SYMBOL_NOT_FOUND, "no candles stored for %s", symbol);
  apex_series *s = NULL;
  if (apex_store_ohlcv_get(a->store, symbol, tf, last, INT64_MAX, 1, &s, &err) || !s->n) {
    apex_series_free(s);
    return apex_res_problem(res, 500, 0, "Storage failure", NULL, NULL);
  }
  apex_json *j = apex_json_new_object();
  char tb[40];
  apex_time_iso(s->time[0], tb, sizeof tb);
  apex_json_object_set(j, "symbol", apex_json_new_string(symbol));
  apex_json_object_set(j, "price", apex_json_new_number(s->close[0]));
  apex_json_object_set(j, "timestamp", apex_json_new_string(tb));
  apex_json_object_set(j, "timeframe", apex_json_new_string(tf));
  apex_json_object_set(j, "source", apex_json_new_string("store"));
  apex_series_free(s);
  return apex_res_json(res, 200, j);
}

int h_market_orderbook(apex_req *req, apex_res *res, void *app)
{
  (void)app;
  return apex_res_errorf(res, 501, "order books for %s need a live market data feed, which is not connected yet",
                         apex_req_param(req, "symbol"));
}
