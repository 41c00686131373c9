/* h_market.c - /api/v1/market: thin handlers over app/market.c (stored symbols, the ticker,
 * candles at any timeframe, the venue's order book) and app/market_sync.c (market-data jobs). No
 * store calls here. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "core/strategy.h"
#include "core/timeframe.h"

int h_market_symbols(apex_req *req, apex_res *res, void *app)
{
  apex_symbol_info *rows = NULL;
  size_t n = 0;
  apex_app_error e = {0};
  (void)req;
  if (apex_app_market_symbols(app, &rows, &n, &e))
    return apex_api_fail(res, &e);
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
static int serve_candles(apex_res *res, apex_app *a, const char *symbol, const char *tf, int64_t start, int64_t end,
                         size_t limit)
{
  apex_series *s = NULL;
  size_t first = 0;
  apex_app_error e = {0};
  if (apex_app_market_candles(a, symbol, tf, start, end, limit, &s, &first, &e))
    return apex_api_fail(res, &e);
  int rc = candles_json(res, s, first, symbol, tf);
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
  return serve_candles(res, app, symbol, tf ? tf : "1d", start, end, (size_t)limit);
}

int h_market_ticker(apex_req *req, apex_res *res, void *app)
{
  const char *symbol = apex_req_param(req, "symbol");
  apex_market_tick t;
  apex_app_error e = {0};
  if (apex_app_market_ticker(app, symbol, &t, &e))
    return apex_api_fail(res, &e);
  apex_json *j = apex_json_new_object();
  char tb[40];
  apex_time_iso(t.time, tb, sizeof tb);
  apex_json_object_set(j, "symbol", apex_json_new_string(symbol));
  apex_json_object_set(j, "price", apex_json_new_number(t.price));
  apex_json_object_set(j, "timestamp", apex_json_new_string(tb));
  apex_json_object_set(j, "timeframe", apex_json_new_string(t.timeframe));
  apex_json_object_set(j, "change_24h_pct",
                       isnan(t.change_24h_pct) ? apex_json_new_null() : apex_json_new_number(t.change_24h_pct));
  apex_json_object_set(j, "source", apex_json_new_string(t.source));
  return apex_res_json(res, 200, j);
}

static apex_json *levels(const apex_book_level *l, size_t n)
{
  apex_json *a = apex_json_new_array();
  for (size_t i = 0; a && i < n; i++) {
    apex_json *row = apex_json_new_array();
    apex_json_array_append(row, apex_json_new_decimal(l[i].price));
    apex_json_array_append(row, apex_json_new_decimal(l[i].qty));
    apex_json_array_append(a, row);
  }
  return a;
}

int h_market_orderbook(apex_req *req, apex_res *res, void *app)
{
  const char *symbol = apex_req_param(req, "symbol"), *lim = apex_req_query(req, "depth");
  long depth = 20;
  char *end = NULL;
  if (lim && ((depth = strtol(lim, &end, 10)) < 1 || depth > APEX_BOOK_MAX || *end))
    return apex_api_invalid(res, "/depth", "depth must be an integer from 1 to 100");
  apex_orderbook *b = malloc(sizeof *b);
  apex_app_error e = {0};
  if (!b)
    return apex_res_errorf(res, 500, "out of memory");
  if (apex_app_market_orderbook(app, symbol, (size_t)depth, b, &e)) {
    free(b);
    return apex_api_fail(res, &e);
  }
  apex_json *j = apex_json_new_object();
  char tb[40];
  apex_json_object_set(j, "symbol", apex_json_new_string(symbol));
  apex_json_object_set(j, "bids", levels(b->bids, b->n_bids));
  apex_json_object_set(j, "asks", levels(b->asks, b->n_asks));
  if (b->time) {
    apex_time_iso(b->time, tb, sizeof tb);
    apex_json_object_set(j, "timestamp", apex_json_new_string(tb));
  } else {
    apex_json_object_set(j, "timestamp", apex_json_new_null());
  }
  apex_json_object_set(j, "source", apex_json_new_string(((const apex_app *)app)->venue->ops->name));
  free(b);
  return apex_res_json(res, 200, j);
}

int h_market_sync_create(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_app_sync s;
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_market_sync_submit(app, req->user_id, req->body, req->body_len, &s, &e))
    return apex_api_fail(res, &e);
  char loc[128];
  snprintf(loc, sizeof loc, "/api/v1/market/sync/%s", s.id);
  apex_res_header(res, "Location", loc);
  return apex_res_json(res, 202, apex_app_market_sync_json(&s));
}

int h_market_sync_get(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_app_sync s;
  if (apex_app_market_sync_get(app, req->user_id, apex_req_param(req, "id"), &s, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, apex_app_market_sync_json(&s));
}
