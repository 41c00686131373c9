/* binance.c - Binance spot public market data over market/http.c (see binance.h). Fetches, then
 * hands the bytes to binance_codec.c; the only logic here is URLs and weights (market/poll.c polls). */
#include "market/binance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeframe.h"
#include "market/binance_codec.h"
#include "market/http.h"
#include "market/poll.h"

#define KLINES_MAX 1000
#define W_KLINES 2 /* weights: venues README 1.3 */
#define W_TICKER 2
#define W_INFO 20
#define W_DEPTH_100 5

typedef struct binance {
  apex_http_client *http;
  apex_market_poll *poll;
} binance;

/* GET and, for a non-2xx reply, Binance's error as our code with its message. */
static apex_err fetch(binance *b, const char *path, unsigned weight, apex_http_reply *r, apex_error *err)
{
  apex_err rc = apex_http_get(b->http, path, weight, r, err);
  if (rc == APEX_ERATELIMIT || (rc == APEX_OK && (r->status < 200 || r->status > 299))) {
    rc = apex_binance_decode_error(r->status, r->body, r->len, r->retry_after_s, err);
    if (rc == APEX_OK) /* 1xx/3xx: not a reply we can use */
      rc = apex_error_set(err, APEX_EIO, "binance: HTTP %d", r->status);
    apex_http_reply_free(r);
  }
  return rc;
}

static apex_err bn_symbols(void *impl, apex_market_symbol *out, size_t cap, size_t *n, apex_error *err)
{
  binance *b = impl;
  apex_http_reply r;
  *n = 0;
  apex_err rc = fetch(b, "/api/v3/exchangeInfo", W_INFO, &r, err);
  if (rc)
    return rc;
  rc = apex_binance_decode_symbols(r.body, r.len, out, cap, n, NULL, err);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err joined(const char *symbol, char out[static APEX_MARKET_SYMBOL_MAX + 1], apex_error *err)
{
  if (!symbol || apex_market_joined(symbol, out))
    return apex_error_set(err, APEX_EINVAL, "binance: symbol '%s' is not BASE/QUOTE", symbol ? symbol : "");
  return APEX_OK;
}

/* Binance's interval names are ours ("1m".."1M"), but only the named ones exist there. */
static apex_err interval(const char *timeframe, apex_timeframe *tf, apex_error *err)
{
  if (!timeframe || apex_timeframe_parse(timeframe, tf, err))
    return apex_error_set(err, APEX_EINVAL, "binance: timeframe '%s' is not valid", timeframe ? timeframe : "");
  if (!apex_timeframe_is_named(*tf))
    return apex_error_set(err, APEX_EINVAL, "binance: no '%s' candles at Binance", timeframe);
  return APEX_OK;
}

static apex_err bn_candles(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, size_t limit,
                           apex_series *out, apex_error *err)
{
  binance *b = impl;
  char sym[APEX_MARKET_SYMBOL_MAX + 1], path[256];
  apex_timeframe tf;
  apex_http_reply r;
  apex_err rc;
  if ((rc = joined(symbol, sym, err)) || (rc = interval(timeframe, &tf, err)))
    return rc;
  if (limit == 0 || limit > KLINES_MAX)
    limit = KLINES_MAX;
  if (since_ms < 0)
    since_ms = 0;
  snprintf(path, sizeof path, "/api/v3/klines?symbol=%s&interval=%s&startTime=%lld&limit=%zu", sym, timeframe,
           (long long)since_ms, limit);
  if ((rc = fetch(b, path, W_KLINES, &r, err)))
    return rc;
  rc = apex_binance_decode_klines(r.body, r.len, out, err);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err bn_ticker(void *impl, const char *symbol, apex_ticker *out, apex_error *err)
{
  binance *b = impl;
  char sym[APEX_MARKET_SYMBOL_MAX + 1], path[128];
  apex_http_reply r;
  apex_err rc;
  *out = (apex_ticker){0};
  if ((rc = joined(symbol, sym, err)))
    return rc;
  snprintf(path, sizeof path, "/api/v3/ticker/24hr?symbol=%s", sym);
  if ((rc = fetch(b, path, W_TICKER, &r, err)))
    return rc;
  rc = apex_binance_decode_ticker(r.body, r.len, symbol, out, err);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err bn_orderbook(void *impl, const char *symbol, size_t depth, apex_orderbook *out, apex_error *err)
{
  static const size_t LIMITS[] = {5, 10, 20, 50, 100}; /* APEX_BOOK_MAX: weight 5 for all */
  binance *b = impl;
  char sym[APEX_MARKET_SYMBOL_MAX + 1], path[128];
  apex_http_reply r;
  apex_err rc;
  size_t limit = 0;
  *out = (apex_orderbook){0};
  if (depth < 1 || depth > APEX_BOOK_MAX)
    return apex_error_set(err, APEX_EINVAL, "binance: depth %zu is not 1..%d", depth, APEX_BOOK_MAX);
  if ((rc = joined(symbol, sym, err)))
    return rc;
  for (size_t i = 0; i < sizeof LIMITS / sizeof LIMITS[0] && !limit; i++)
    if (LIMITS[i] >= depth)
      limit = LIMITS[i];
  snprintf(path, sizeof path, "/api/v3/depth?symbol=%s&limit=%zu", sym, limit);
  if ((rc = fetch(b, path, W_DEPTH_100, &r, err)))
    return rc;
  rc = apex_binance_decode_depth(r.body, r.len, symbol, depth, out, NULL, err);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err bn_subscribe(void *impl, const char *symbol, const char *timeframe, apex_error *err)
{
  binance *b = impl;
  char sym[APEX_MARKET_SYMBOL_MAX + 1];
  apex_timeframe tf;
  apex_err rc;
  if ((rc = joined(symbol, sym, err)) || (rc = interval(timeframe, &tf, err)))
    return rc;
  return apex_market_poll_subscribe(b->poll, symbol, timeframe, err);
}

/* poll.h's fetch: a page of klines from since on; poll.c leaves out the one still open. */
static apex_err bn_fetch(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, apex_series *out,
                         apex_error *err)
{
  return bn_candles(impl, symbol, timeframe, since_ms, KLINES_MAX, out, err);
}

static apex_err bn_next(void *impl, int timeout_ms, apex_market_event *ev, apex_error *err)
{
  binance *b = impl;
  return apex_market_poll_next(b->poll, timeout_ms, ev, err);
}

static void bn_free(void *impl)
{
  binance *b = impl;
  if (!b)
    return;
  apex_http_client_free(b->http);
  apex_market_poll_free(b->poll);
  free(b);
}

static const apex_market_ops BINANCE_OPS = {
  .name = "binance",
  .symbols = bn_symbols,
  .candles = bn_candles,
  .ticker = bn_ticker,
  .orderbook = bn_orderbook,
  .subscribe = bn_subscribe,
  .next = bn_next,
  .free = bn_free,
};

apex_err apex_market_binance_new(const apex_binance_options *o, apex_market *out, apex_error *err)
{
  static const apex_binance_options DEFAULTS = {0};
  binance *b = NULL;
  apex_err rc;
  *out = (apex_market){0};
  if (!o)
    o = &DEFAULTS;
  if (o->repoll_ms < 0 || o->weight_per_minute < 0 ||
      (o->clock && (!o->clock->now_ms || !o->clock->sleep_ms)))
    return apex_error_set(err, APEX_EINVAL, "binance: invalid options");
  if (!(b = calloc(1, sizeof *b)))
    return apex_error_set(err, APEX_ENOMEM, "binance: out of memory");
  double per_min = o->weight_per_minute > 0 ? o->weight_per_minute : 6000;
  apex_http_options ho = {
    .base_url = o->base_url ? o->base_url : "https://api.binance.com",
    .timeout_ms = o->timeout_ms,
    .backoff_base_ms = o->backoff_base_ms,
    .retry_after_max_s = o->retry_after_max_s,
    .bucket_capacity = per_min,
    .bucket_refill_per_s = per_min / 60.0,
    .body_max = APEX_BINANCE_REPLY_MAX,
  };
  if ((rc = apex_http_client_new(&ho, &b->http, err)) ||
      (rc = apex_market_poll_new(o->clock, o->repoll_ms ? o->repoll_ms : 1000, "binance", bn_fetch, b, &b->poll, err))) {
    bn_free(b);
    return rc;
  }
  *out = (apex_market){.ops = &BINANCE_OPS, .impl = b};
  return APEX_OK;
}
