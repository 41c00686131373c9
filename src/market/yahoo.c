/* yahoo.c - Yahoo Finance chart API over market/http.c (see yahoo.h). Fetches, then hands the
 * bytes to yahoo_codec.c; the logic here is URLs, request ranges and dropping the candle still
 * forming.
 *
 * Yahoo may refuse requests without a cookie from fc.yahoo.com and a `crumb` query parameter from
 * /v1/test/getcrumb (yfinance does that dance, ref 5.1). This adapter sends neither: add it here
 * (an extra request at start and on a 401) if Yahoo starts insisting. */
#include "market/yahoo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeframe.h"
#include "market/http.h"
#include "market/poll.h"
#include "market/yahoo_codec.h"

#define DAY_S INT64_C(86400)

typedef struct yahoo {
  apex_http_client *http;
  apex_market_poll *poll;
} yahoo;

/* Our timeframes as Yahoo's intervals (ref 5.1), and how many seconds one request may span: 1m
 * goes back 8 days at most, other intraday candles 60 (yfinance's limits); 0: no limit. */
static const struct {
  const char *ours, *yahoo;
  int64_t window_s;
} INTERVALS[] = {
    {"1m", "1m", 7 * DAY_S},    {"2m", "2m", 60 * DAY_S},  {"5m", "5m", 60 * DAY_S},
    {"15m", "15m", 60 * DAY_S}, {"30m", "30m", 60 * DAY_S}, {"1h", "60m", 60 * DAY_S},
    {"1d", "1d", 0},            {"1w", "1wk", 0},           {"1M", "1mo", 0},
};

static apex_err interval(const char *timeframe, apex_timeframe *tf, size_t *idx, apex_error *err)
{
  for (size_t i = 0; timeframe && i < sizeof INTERVALS / sizeof INTERVALS[0]; i++)
    if (!strcmp(timeframe, INTERVALS[i].ours)) {
      *idx = i;
      return apex_timeframe_parse(timeframe, tf, err);
    }
  return apex_error_set(err, APEX_EINVAL, "yahoo: no '%s' candles at Yahoo", timeframe ? timeframe : "");
}

/* "AAPL/USD" -> "AAPL": the request names the ticker alone; its currency is checked in the reply. */
static apex_err ticker_of(const char *symbol, char out[static APEX_MARKET_ASSET_MAX + 1], apex_error *err)
{
  char quote[APEX_MARKET_ASSET_MAX + 1];
  if (!symbol || apex_market_split(symbol, out, quote))
    return apex_error_set(err, APEX_EINVAL, "yahoo: symbol '%s' is not TICKER/CURRENCY", symbol ? symbol : "");
  return APEX_OK;
}

/* GET and, for a non-2xx reply, Yahoo's error as our code with its message. A 2xx reply with a
 * chart.error is left to the decoders, which return it the same way. */
static apex_err fetch(yahoo *y, const char *path, apex_http_reply *r, apex_error *err)
{
  apex_err rc = apex_http_get(y->http, path, 1, r, err);
  if (rc == APEX_ERATELIMIT || (rc == APEX_OK && (r->status < 200 || r->status > 299))) {
    int after = r->retry_after_s;
    rc = apex_yahoo_decode_error(r->status, r->body, r->len, err);
    if (rc == APEX_OK) /* 1xx/3xx: not a reply we can use */
      rc = apex_error_set(err, APEX_EIO, "yahoo: HTTP %d", r->status);
    if (rc == APEX_ERATELIMIT && after > 0 && err) {
      char msg[sizeof err->msg];
      memcpy(msg, err->msg, sizeof msg);
      apex_error_set(err, rc, "%.150s, retry after %d s", msg, after);
    }
    apex_http_reply_free(r);
  }
  return rc;
}

/* When a candle opened at open ends: its length later (Yahoo's hourly candles open at :30), or
 * at the next calendar month. */
static int64_t end_of(apex_timeframe tf, int64_t open)
{
  int64_t ms = apex_timeframe_ms(tf);
  return ms > 0 ? open + ms : apex_timeframe_start(tf, apex_timeframe_index(tf, open) + 1);
}

static apex_err yh_candles(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, size_t limit,
                           apex_series *out, apex_error *err)
{
  yahoo *y = impl;
  char tick[APEX_MARKET_ASSET_MAX + 1], path[256];
  apex_timeframe tf;
  apex_http_reply r = {0};
  apex_series *got = NULL;
  apex_ticker meta;
  size_t iv;
  apex_err rc;
  if ((rc = ticker_of(symbol, tick, err)) || (rc = interval(timeframe, &tf, &iv, err)))
    return rc;
  if (since_ms < 0)
    since_ms = 0;
  int64_t now = apex_market_poll_now(y->poll) / 1000;
  int64_t p1 = since_ms / 1000 + (since_ms % 1000 != 0), p2; /* rows at or after since */
  if (!(got = apex_series_new(64)))
    return apex_error_set(err, APEX_ENOMEM, "yahoo: out of memory");
  /* A request spans one window at most. One without a closed candle is the end of the data only
   * when Yahoo's figures are not from after it: else (a window before a listing, or a long
   * closure) the next window is asked, so an empty page still means "nothing more". */
  for (size_t kept = 0; kept == 0; p1 = p2) {
    p2 = now;
    if (INTERVALS[iv].window_s && p2 - p1 > INTERVALS[iv].window_s)
      p2 = p1 + INTERVALS[iv].window_s;
    if (p2 <= p1)
      break; /* since is in the future: nothing has closed there */
    snprintf(path, sizeof path,
             "/v8/finance/chart/%s?period1=%lld&period2=%lld&interval=%s&includePrePost=false&events=div%%2Csplits",
             tick, (long long)p1, (long long)p2, INTERVALS[iv].yahoo);
    apex_http_reply_free(&r);
    got->n = 0;
    if ((rc = fetch(y, path, &r, err)))
      break;
    /* The chart's meta says when Yahoo's figures are from: a candle ending after it is forming. */
    if ((rc = apex_yahoo_decode_chart(r.body, r.len, got, NULL, err)) ||
        (rc = apex_yahoo_decode_quote(r.body, r.len, symbol, &meta, err)))
      break;
    for (size_t i = 0; i < got->n && (limit == 0 || kept < limit); i++) {
      apex_bar bar = apex_series_bar(got, i);
      if (bar.time < since_ms || end_of(tf, bar.time) > meta.time)
        continue;
      if ((rc = apex_series_append(out, &bar))) {
        apex_error_set(err, rc, "yahoo: out of memory");
        goto out;
      }
      kept++;
    }
    if (meta.time < p2 * 1000 || p2 >= now)
      break;
  }
out:
  apex_series_free(got);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err yh_ticker(void *impl, const char *symbol, apex_ticker *out, apex_error *err)
{
  yahoo *y = impl;
  char tick[APEX_MARKET_ASSET_MAX + 1], path[128];
  apex_http_reply r;
  apex_err rc;
  *out = (apex_ticker){0};
  if ((rc = ticker_of(symbol, tick, err)))
    return rc;
  /* A day's range: chartPreviousClose is then the previous session's close. */
  snprintf(path, sizeof path, "/v8/finance/chart/%s?range=1d&interval=1d&includePrePost=false", tick);
  if ((rc = fetch(y, path, &r, err)))
    return rc;
  rc = apex_yahoo_decode_quote(r.body, r.len, symbol, out, err);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err yh_symbols(void *impl, apex_market_symbol *out, size_t cap, size_t *n, apex_error *err)
{
  (void)impl, (void)out, (void)cap;
  *n = 0;
  return apex_error_set(err, APEX_EINVAL, "yahoo: no symbol listing (name tickers as \"AAPL/USD\")");
}

static apex_err yh_orderbook(void *impl, const char *symbol, size_t depth, apex_orderbook *out, apex_error *err)
{
  (void)impl, (void)symbol, (void)depth;
  *out = (apex_orderbook){0};
  return apex_error_set(err, APEX_EINVAL, "yahoo: no order book");
}

static apex_err yh_subscribe(void *impl, const char *symbol, const char *timeframe, apex_error *err)
{
  yahoo *y = impl;
  char tick[APEX_MARKET_ASSET_MAX + 1];
  apex_timeframe tf;
  size_t iv;
  apex_err rc;
  if ((rc = ticker_of(symbol, tick, err)) || (rc = interval(timeframe, &tf, &iv, err)))
    return rc;
  return apex_market_poll_subscribe(y->poll, symbol, timeframe, err);
}

/* poll.h's fetch: every closed candle from since on. */
static apex_err yh_fetch(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, apex_series *out,
                         apex_error *err)
{
  return yh_candles(impl, symbol, timeframe, since_ms, 0, out, err);
}

static apex_err yh_next(void *impl, int timeout_ms, apex_market_event *ev, apex_error *err)
{
  yahoo *y = impl;
  return apex_market_poll_next(y->poll, timeout_ms, ev, err);
}

static void yh_free(void *impl)
{
  yahoo *y = impl;
  if (!y)
    return;
  apex_http_client_free(y->http);
  apex_market_poll_free(y->poll);
  free(y);
}

static const apex_market_ops YAHOO_OPS = {
  .name = "yahoo",
  .symbols = yh_symbols,
  .candles = yh_candles,
  .ticker = yh_ticker,
  .orderbook = yh_orderbook,
  .subscribe = yh_subscribe,
  .next = yh_next,
  .free = yh_free,
};

apex_err apex_market_yahoo_new(const apex_yahoo_options *o, apex_market *out, apex_error *err)
{
  static const apex_yahoo_options DEFAULTS = {0};
  yahoo *y = NULL;
  apex_err rc;
  *out = (apex_market){0};
  if (!o)
    o = &DEFAULTS;
  if (o->repoll_ms < 0 || !(o->requests_per_hour >= 0) || !(o->burst >= 0) || (o->burst > 0 && o->burst < 1))
    return apex_error_set(err, APEX_EINVAL, "yahoo: invalid options");
  if (!(y = calloc(1, sizeof *y)))
    return apex_error_set(err, APEX_ENOMEM, "yahoo: out of memory");
  double per_hour = o->requests_per_hour > 0 ? o->requests_per_hour : 2000;
  apex_http_options ho = {
    .base_url = o->base_url ? o->base_url : "https://query2.finance.yahoo.com",
    .timeout_ms = o->timeout_ms,
    .backoff_base_ms = o->backoff_base_ms,
    .retry_after_max_s = o->retry_after_max_s,
    .bucket_capacity = o->burst > 0 ? o->burst : 10,
    .bucket_refill_per_s = per_hour / 3600.0,
    .body_max = APEX_YAHOO_REPLY_MAX,
  };
  if ((rc = apex_http_client_new(&ho, &y->http, err)) ||
      (rc = apex_market_poll_new(o->clock, o->repoll_ms ? o->repoll_ms : 1000, "yahoo", yh_fetch, y, &y->poll, err))) {
    yh_free(y);
    return rc;
  }
  *out = (apex_market){.ops = &YAHOO_OPS, .impl = y};
  return APEX_OK;
}
