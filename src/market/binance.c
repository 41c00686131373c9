/* binance.c - Binance spot public market data over market/http.c (see binance.h). Fetches, then
 * hands the bytes to binance_codec.c; the only logic here is URLs, weights and the poll loop. */
#include "market/binance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timeframe.h"
#include "market/binance_codec.h"
#include "market/http.h"

#define SUBS_MAX 64
#define KLINES_MAX 1000
#define W_KLINES 2 /* weights: venues README 1.3 */
#define W_TICKER 2
#define W_INFO 20
#define W_DEPTH_100 5

typedef struct sub {
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  char timeframe[8];
  apex_timeframe tf;
  int64_t next_open; /* open time of the first candle not yet delivered */
  int64_t due;       /* when to poll: that candle's close, or a re-poll after it */
} sub;

typedef struct binance {
  apex_http_client *http;
  apex_market_clock clock;
  int repoll_ms;
  sub subs[SUBS_MAX];
  size_t n_subs;
  apex_market_event *queue; /* closed candles fetched, not yet delivered */
  size_t q_head, q_len, q_cap;
} binance;

static int64_t real_now_ms(void *ctx)
{
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void real_sleep_ms(void *ctx, int64_t ms)
{
  (void)ctx;
  if (ms <= 0)
    return;
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

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

static int64_t close_of(apex_timeframe tf, int64_t open)
{
  return apex_timeframe_start(tf, apex_timeframe_index(tf, open) + 1);
}

static apex_err bn_subscribe(void *impl, const char *symbol, const char *timeframe, apex_error *err)
{
  binance *b = impl;
  char sym[APEX_MARKET_SYMBOL_MAX + 1];
  apex_timeframe tf;
  apex_err rc;
  if ((rc = joined(symbol, sym, err)) || (rc = interval(timeframe, &tf, err)))
    return rc;
  for (size_t i = 0; i < b->n_subs; i++)
    if (!strcmp(b->subs[i].symbol, symbol) && !strcmp(b->subs[i].timeframe, timeframe))
      return APEX_OK;
  if (b->n_subs == SUBS_MAX)
    return apex_error_set(err, APEX_ETOOBIG, "binance: more than %d subscriptions", SUBS_MAX);
  sub *s = &b->subs[b->n_subs];
  *s = (sub){.tf = tf};
  snprintf(s->symbol, sizeof s->symbol, "%s", symbol);
  snprintf(s->timeframe, sizeof s->timeframe, "%s", timeframe);
  s->next_open = apex_timeframe_floor(tf, b->clock.now_ms(b->clock.ctx));
  s->due = close_of(tf, s->next_open);
  b->n_subs++;
  return APEX_OK;
}

static apex_err enqueue(binance *b, const apex_market_event *ev, apex_error *err)
{
  if (b->q_head > 0 && b->q_head + b->q_len == b->q_cap) { /* compact before growing */
    memmove(b->queue, b->queue + b->q_head, b->q_len * sizeof *b->queue);
    b->q_head = 0;
  }
  if (b->q_len == b->q_cap) {
    size_t cap = b->q_cap ? b->q_cap * 2 : 16;
    apex_market_event *q = realloc(b->queue, cap * sizeof *q);
    if (!q)
      return apex_error_set(err, APEX_ENOMEM, "binance: out of memory");
    b->queue = q;
    b->q_cap = cap;
  }
  b->queue[b->q_head + b->q_len++] = *ev;
  return APEX_OK;
}

/* Fetches s's candles closed by now from next_open on, queues them, and sets the next poll. */
static apex_err poll_sub(binance *b, sub *s, int64_t now, apex_error *err)
{
  apex_series *got = apex_series_new(16);
  apex_err rc = APEX_OK;
  size_t fresh = 0;
  if (!got)
    return apex_error_set(err, APEX_ENOMEM, "binance: out of memory");
  if ((rc = bn_candles(b, s->symbol, s->timeframe, s->next_open, KLINES_MAX, got, err)))
    goto out;
  for (size_t i = 0; i < got->n; i++) {
    apex_bar bar = apex_series_bar(got, i);
    if (bar.time < s->next_open || close_of(s->tf, bar.time) > now)
      continue; /* delivered already, or still open */
    apex_market_event ev = {.kind = APEX_MARKET_CANDLE, .bar = bar};
    snprintf(ev.symbol, sizeof ev.symbol, "%s", s->symbol);
    snprintf(ev.timeframe, sizeof ev.timeframe, "%s", s->timeframe);
    if ((rc = enqueue(b, &ev, err)))
      goto out;
    s->next_open = close_of(s->tf, bar.time);
    fresh++;
  }
  /* Nothing new although a candle closed: the venue is late; ask again shortly. */
  s->due = fresh || close_of(s->tf, s->next_open) > now ? close_of(s->tf, s->next_open) : now + b->repoll_ms;
out:
  apex_series_free(got);
  return rc;
}

static apex_err bn_next(void *impl, int timeout_ms, apex_market_event *ev, apex_error *err)
{
  binance *b = impl;
  int64_t start = b->clock.now_ms(b->clock.ctx);
  if (!b->n_subs)
    return apex_error_set(err, APEX_EINVAL, "binance: next() before any subscribe()");
  for (;;) {
    if (b->q_len) {
      *ev = b->queue[b->q_head++];
      if (!--b->q_len)
        b->q_head = 0;
      return APEX_OK;
    }
    int64_t now = b->clock.now_ms(b->clock.ctx);
    sub *first = &b->subs[0];
    for (size_t i = 1; i < b->n_subs; i++)
      if (b->subs[i].due < first->due)
        first = &b->subs[i];
    if (now >= first->due) {
      apex_err rc = poll_sub(b, first, now, err);
      if (rc)
        return rc;
      continue;
    }
    int64_t until = first->due;
    if (timeout_ms >= 0) {
      if (now >= start + timeout_ms)
        return apex_error_set(err, APEX_ETIMEOUT, "binance: no candle closed within %d ms", timeout_ms);
      if (start + timeout_ms < until)
        until = start + timeout_ms;
    }
    b->clock.sleep_ms(b->clock.ctx, until - now);
  }
}

static void bn_free(void *impl)
{
  binance *b = impl;
  if (!b)
    return;
  apex_http_client_free(b->http);
  free(b->queue);
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
  b->clock = o->clock ? *o->clock : (apex_market_clock){.now_ms = real_now_ms, .sleep_ms = real_sleep_ms};
  b->repoll_ms = o->repoll_ms ? o->repoll_ms : 1000;
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
  if ((rc = apex_http_client_new(&ho, &b->http, err))) {
    bn_free(b);
    return rc;
  }
  *out = (apex_market){.ops = &BINANCE_OPS, .impl = b};
  return APEX_OK;
}
