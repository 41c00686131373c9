/* kraken.c - Kraken spot public market data over market/http.c (see kraken.h). Fetches, then
 * hands the bytes to kraken_codec.c; the logic here is URLs, pair names, retrying the venue's
 * "service busy" replies and paging OHLC. */
#include "market/kraken.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timeframe.h"
#include "market/http.h"
#include "market/kraken_codec.h"
#include "market/poll.h"

#define OHLC_ROWS 720        /* Kraken's most recent entries a reply (ref 2.3) */
#define ERROR_BODY_MAX 4096  /* error replies are a few dozen bytes; larger bodies go to the codec */

typedef struct kraken {
  apex_http_client *http;
  apex_market_poll *poll;
  int max_tries, backoff_base_ms;
} kraken;

static void sleep_ms(int64_t ms)
{
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
  while (ms > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

/* GET and judge the reply: a non-2xx status or a non-empty error array is the venue's error.
 * "Service unavailable/busy" comes with HTTP 200, so http.c cannot retry it as a 5xx: done here
 * with the same back-off. */
static apex_err fetch(kraken *k, const char *path, apex_http_reply *r, apex_error *err)
{
  for (int tries = 1;; tries++) {
    apex_err rc = apex_http_get(k->http, path, 1, r, err);
    if (rc && rc != APEX_ERATELIMIT)
      return rc;
    bool ok = rc == APEX_OK && r->status >= 200 && r->status <= 299;
    if (ok && r->len > ERROR_BODY_MAX)
      return APEX_OK;
    rc = apex_kraken_decode_error(r->status, r->body, r->len, err);
    if (rc == APEX_OK && ok)
      return APEX_OK;
    if (rc == APEX_OK) /* 1xx/3xx, or a 429 without an error array */
      rc = apex_error_set(err, r->status == 429 ? APEX_ERATELIMIT : APEX_EIO, "kraken: HTTP %d", r->status);
    if (rc == APEX_ERATELIMIT && r->retry_after_s > 0 && err) {
      char msg[sizeof err->msg];
      memcpy(msg, err->msg, sizeof msg);
      apex_error_set(err, rc, "%.150s, retry after %d s", msg, r->retry_after_s);
    }
    apex_http_reply_free(r);
    if (rc != APEX_EIO || !ok || tries >= k->max_tries)
      return rc;
    int64_t wait = k->backoff_base_ms;
    for (int i = 1; i < tries && wait < 10000; i++)
      wait *= 2;
    sleep_ms(wait < 10000 ? wait : 10000);
  }
}


/* Our timeframe as OHLC's interval in minutes (ref 2.3). Kraken's 21600 is 15 days, which we
 * do not have. */
static apex_err interval(const char *timeframe, apex_timeframe *tf, int *minutes, apex_error *err)
{
  static const struct {
    const char *name;
    int minutes;
  } IV[] = {{"1m", 1}, {"5m", 5}, {"15m", 15}, {"30m", 30}, {"1h", 60}, {"4h", 240}, {"1d", 1440}, {"1w", 10080}};
  for (size_t i = 0; timeframe && i < sizeof IV / sizeof IV[0]; i++)
    if (!strcmp(timeframe, IV[i].name)) {
      *minutes = IV[i].minutes;
      return apex_timeframe_parse(timeframe, tf, err);
    }
  return apex_error_set(err, APEX_EINVAL, "kraken: no '%s' candles at Kraken", timeframe ? timeframe : "");
}

static apex_err kr_symbols(void *impl, apex_market_symbol *out, size_t cap, size_t *n, apex_error *err)
{
  kraken *k = impl;
  apex_http_reply r;
  *n = 0;
  apex_err rc = fetch(k, "/0/public/AssetPairs", &r, err);
  if (rc)
    return rc;
  rc = apex_kraken_decode_pairs(r.body, r.len, out, cap, n, NULL, err);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err kr_candles(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, size_t limit,
                           apex_series *out, apex_error *err)
{
  kraken *k = impl;
  char pair[APEX_MARKET_SYMBOL_MAX + 1], path[256];
  apex_timeframe tf;
  apex_http_reply r;
  apex_series *got = NULL;
  int minutes;
  apex_err rc;
  if ((rc = apex_kraken_pair_name(symbol, pair, err)) || (rc = interval(timeframe, &tf, &minutes, err)))
    return rc;
  if (since_ms < 0)
    since_ms = 0;
  /* since is exclusive at Kraken (rows after it): one second before ours, as ccxt asks. */
  snprintf(path, sizeof path, "/0/public/OHLC?pair=%s&interval=%d&since=%lld", pair, minutes,
           (long long)(since_ms > 0 ? (since_ms - 1) / 1000 : 0));
  if ((rc = fetch(k, path, &r, err)))
    return rc;
  if (!(got = apex_series_new(OHLC_ROWS))) {
    rc = apex_error_set(err, APEX_ENOMEM, "kraken: out of memory");
    goto out;
  }
  /* The codec drops the interval still open (always the reply's last row). */
  if ((rc = apex_kraken_decode_ohlc(r.body, r.len, got, NULL, err)))
    goto out;
  size_t kept = 0;
  for (size_t i = 0; i < got->n && (limit == 0 || kept < limit); i++) {
    apex_bar bar = apex_series_bar(got, i);
    if (bar.time < since_ms)
      continue;
    if ((rc = apex_series_append(out, &bar))) {
      apex_error_set(err, rc, "kraken: out of memory");
      goto out;
    }
    kept++;
  }
out:
  apex_series_free(got);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err kr_ticker(void *impl, const char *symbol, apex_ticker *out, apex_error *err)
{
  kraken *k = impl;
  char pair[APEX_MARKET_SYMBOL_MAX + 1], path[128];
  apex_http_reply r;
  apex_err rc;
  *out = (apex_ticker){0};
  if ((rc = apex_kraken_pair_name(symbol, pair, err)))
    return rc;
  snprintf(path, sizeof path, "/0/public/Ticker?pair=%s", pair);
  if ((rc = fetch(k, path, &r, err)))
    return rc;
  rc = apex_kraken_decode_ticker(r.body, r.len, symbol, out, err);
  if (!rc) /* the reply carries no time */
    out->time = apex_market_poll_now(k->poll);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err kr_orderbook(void *impl, const char *symbol, size_t depth, apex_orderbook *out, apex_error *err)
{
  kraken *k = impl;
  char pair[APEX_MARKET_SYMBOL_MAX + 1], path[128];
  apex_http_reply r;
  apex_err rc;
  *out = (apex_orderbook){0};
  if (depth < 1 || depth > APEX_BOOK_MAX)
    return apex_error_set(err, APEX_EINVAL, "kraken: depth %zu is not 1..%d", depth, APEX_BOOK_MAX);
  if ((rc = apex_kraken_pair_name(symbol, pair, err)))
    return rc;
  snprintf(path, sizeof path, "/0/public/Depth?pair=%s&count=%zu", pair, depth);
  if ((rc = fetch(k, path, &r, err)))
    return rc;
  rc = apex_kraken_decode_depth(r.body, r.len, symbol, depth, out, err);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err kr_subscribe(void *impl, const char *symbol, const char *timeframe, apex_error *err)
{
  kraken *k = impl;
  char pair[APEX_MARKET_SYMBOL_MAX + 1];
  apex_timeframe tf;
  int minutes;
  apex_err rc;
  if ((rc = apex_kraken_pair_name(symbol, pair, err)) || (rc = interval(timeframe, &tf, &minutes, err)))
    return rc;
  return apex_market_poll_subscribe(k->poll, symbol, timeframe, err);
}

/* poll.h's fetch: every committed candle from since on. */
static apex_err kr_fetch(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, apex_series *out,
                         apex_error *err)
{
  return kr_candles(impl, symbol, timeframe, since_ms, 0, out, err);
}

static apex_err kr_next(void *impl, int timeout_ms, apex_market_event *ev, apex_error *err)
{
  kraken *k = impl;
  return apex_market_poll_next(k->poll, timeout_ms, ev, err);
}

static void kr_free(void *impl)
{
  kraken *k = impl;
  if (!k)
    return;
  apex_http_client_free(k->http);
  apex_market_poll_free(k->poll);
  free(k);
}

static const apex_market_ops KRAKEN_OPS = {
  .name = "kraken",
  .symbols = kr_symbols,
  .candles = kr_candles,
  .ticker = kr_ticker,
  .orderbook = kr_orderbook,
  .subscribe = kr_subscribe,
  .next = kr_next,
  .free = kr_free,
};

apex_err apex_market_kraken_new(const apex_kraken_options *o, apex_market *out, apex_error *err)
{
  static const apex_kraken_options DEFAULTS = {0};
  kraken *k = NULL;
  apex_err rc;
  *out = (apex_market){0};
  if (!o)
    o = &DEFAULTS;
  if (o->repoll_ms < 0 || o->backoff_base_ms < 0 || !(o->rate >= 0))
    return apex_error_set(err, APEX_EINVAL, "kraken: invalid options");
  if (!(k = calloc(1, sizeof *k)))
    return apex_error_set(err, APEX_ENOMEM, "kraken: out of memory");
  k->max_tries = 3;
  k->backoff_base_ms = o->backoff_base_ms ? o->backoff_base_ms : 1000;
  apex_http_options ho = {
    .base_url = o->base_url ? o->base_url : "https://api.kraken.com",
    .timeout_ms = o->timeout_ms,
    .backoff_base_ms = o->backoff_base_ms,
    .retry_after_max_s = o->retry_after_max_s,
    .max_tries = k->max_tries,
    .bucket_capacity = 1, /* fixed spacing: one request per 1/rate s (spec 6.4) */
    .bucket_refill_per_s = o->rate > 0 ? o->rate : 15,
    .body_max = APEX_KRAKEN_REPLY_MAX,
  };
  if ((rc = apex_http_client_new(&ho, &k->http, err)) ||
      (rc = apex_market_poll_new(o->clock, o->repoll_ms ? o->repoll_ms : 1000, "kraken", kr_fetch, k, &k->poll, err))) {
    kr_free(k);
    return rc;
  }
  *out = (apex_market){.ops = &KRAKEN_OPS, .impl = k};
  return APEX_OK;
}
