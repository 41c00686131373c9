/* binance_trade.c - Binance spot's private API as an apex_broker (broker.h): signed requests over
 * market/http.c, HMAC-SHA256 by market/sign.c, replies read by binance_trade_codec.c. Wire format:
 * venues README section 1 ("ref 1.x").
 *
 * Every signed request carries timestamp and recvWindow; the venue refuses one older than
 * recvWindow, which is what lets the caller of place() settle a timed-out order for good: after
 * recvWindow has passed, a query that finds no order proves the order never will exist. The clock
 * is the venue's: the offset is learned from /api/v3/time before the first signed call and again
 * after a -1021 (a -1021 was refused, so that one request is sent again). */
#include "market/binance_trade.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "market/binance_codec.h"
#include "market/binance_trade_codec.h"
#include "market/http.h"
#include "market/sign.h"

#define LIVE_URL "https://api.binance.com"
#define TESTNET_URL "https://testnet.binance.vision"
/* Spec 6.4 counts requests (1,200 a minute, bursts of 20 a second), not the venue's weights. */
#define W_ORDER 1
#define W_QUERY 1
#define W_OPEN 1
#define W_OPEN_ALL 1
#define W_ACCOUNT 1
#define W_TRADES 1
#define W_INFO 1
#define W_TIME 1

typedef struct bntrade {
  apex_http_client *http;
  char *key, *secret;
  size_t secret_len;
  int recv_window_ms;
  int64_t (*now_ms)(void *ctx);
  void *clock_ctx;
  pthread_mutex_t lock; /* guards offset_ms and synced */
  int64_t offset_ms;    /* venue time - our time */
  bool synced;
} bntrade;

static void bt_free(void *impl)
{
  bntrade *b = impl;
  if (!b)
    return;
  apex_http_client_free(b->http);
  apex_broker_wipe_free(b->key);
  apex_broker_wipe_free(b->secret);
  pthread_mutex_destroy(&b->lock);
  free(b);
}

/* A transport failure as the port's: nothing sent is UNREACHABLE; sent without a reply is UNKNOWN
 * for an order (it may have been placed), UNAVAILABLE for a read. */
static apex_err transport_failed(apex_err rc, const apex_http_reply *r, bool order, apex_broker_error *be)
{
  be->fail = !r->sent ? APEX_BROKER_UNREACHABLE : order ? APEX_BROKER_UNKNOWN : APEX_BROKER_UNAVAILABLE;
  return rc;
}

static apex_err sync_time(bntrade *b, apex_broker_error *be, apex_error *err)
{
  apex_http_reply r;
  int64_t server;
  const int64_t t0 = b->now_ms(b->clock_ctx);
  apex_err rc = apex_http_get(b->http, "/api/v3/time", W_TIME, &r, err);
  if (rc)
    return transport_failed(rc, &r, false, be);
  if (r.status < 200 || r.status > 299) {
    rc = apex_binance_decode_trade_error(r.status, r.body, r.len, r.retry_after_s, be, err);
    apex_http_reply_free(&r);
    return rc;
  }
  rc = apex_binance_decode_server_time(r.body, r.len, &server, err);
  apex_http_reply_free(&r);
  if (rc) {
    be->fail = APEX_BROKER_BAD_REPLY;
    return rc;
  }
  const int64_t t1 = b->now_ms(b->clock_ctx);
  pthread_mutex_lock(&b->lock);
  b->offset_ms = server - (t0 + (t1 - t0) / 2);
  b->synced = true;
  pthread_mutex_unlock(&b->lock);
  return APEX_OK;
}

/* method path?params&recvWindow&timestamp&signature, once for an order. A 2xx reply comes back in
 * *r for the caller to decode; anything else is classified into be and freed. */
static apex_err signed_call(bntrade *b, const char *method, const char *path, const char *params, unsigned weight,
                            bool order, apex_http_reply *r, apex_broker_error *be, apex_error *err)
{
  char query[1024], pq[1200], hdr[160];
  char sig[65];
  apex_err rc;
  *be = (apex_broker_error){.retry_after_s = -1};
  *r = (apex_http_reply){0};
  pthread_mutex_lock(&b->lock);
  bool synced = b->synced;
  pthread_mutex_unlock(&b->lock);
  if (!synced && (rc = sync_time(b, be, err)))
    return rc;
  for (int attempt = 0;; attempt++) {
    pthread_mutex_lock(&b->lock);
    const int64_t ts = b->now_ms(b->clock_ctx) + b->offset_ms;
    pthread_mutex_unlock(&b->lock);
    int n = snprintf(query, sizeof query, "%s%srecvWindow=%d&timestamp=%lld", params, *params ? "&" : "",
                     b->recv_window_ms, (long long)ts);
    if (n < 0 || (size_t)n >= sizeof query)
      return apex_error_set(err, APEX_EINVAL, "binance: request parameters too long");
    if ((rc = apex_sign_hmac_sha256_hex(b->secret, b->secret_len, query, (size_t)n, sig)))
      return apex_error_set(err, rc, "binance: could not sign the request");
    snprintf(pq, sizeof pq, "%s?%s&signature=%s", path, query, sig);
    snprintf(hdr, sizeof hdr, "X-MBX-APIKEY: %s", b->key);
    const char *headers[] = {hdr, NULL};
    apex_http_request req = {.method = method, .path_query = pq, .headers = headers, .weight = weight, .once = order};
    rc = apex_http_send(b->http, &req, r, err);
    if (rc == APEX_ERATELIMIT || (rc == APEX_OK && (r->status < 200 || r->status > 299))) {
      rc = apex_binance_decode_trade_error(r->status, r->body, r->len, r->retry_after_s, be, err);
      if (rc == APEX_OK)
        rc = apex_error_set(err, APEX_EIO, "binance: HTTP %d", r->status);
      const int status = r->status;
      apex_http_reply_free(r);
      if (be->venue_code == -1021 && attempt == 0) { /* refused for its timestamp: resync, send again */
        if ((rc = sync_time(b, be, err)))
          return rc;
        *be = (apex_broker_error){.retry_after_s = -1};
        continue;
      }
      if (order && status >= 500) /* ref 1.2: a 5xx leaves the order's execution unknown */
        be->fail = APEX_BROKER_UNKNOWN;
      be->http_status = status;
      return rc;
    }
    if (rc)
      return transport_failed(rc, r, order, be);
    return APEX_OK;
  }
}

static apex_err joined(const char *symbol, char out[static APEX_MARKET_SYMBOL_MAX + 1], apex_broker_error *be,
                       apex_error *err)
{
  *be = (apex_broker_error){.retry_after_s = -1};
  if (!symbol || apex_market_joined(symbol, out)) {
    be->fail = APEX_BROKER_REJECTED;
    return apex_error_set(err, APEX_EINVAL, "binance: symbol '%s' is not BASE/QUOTE", symbol ? symbol : "");
  }
  return APEX_OK;
}

/* Client ids go into the query unescaped: only Binance's own alphabet is accepted (ref 1.8). */
static bool client_id_ok(const char *id)
{
  size_t n = id ? strlen(id) : 0;
  return n >= 1 && n <= APEX_CLIENT_ID_MAX &&
         strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static apex_err decode_order(const apex_http_reply *r, const char *symbol, apex_broker_order *out,
                             apex_broker_error *be, apex_error *err)
{
  apex_err rc = apex_binance_decode_order(r->body, r->len, symbol, out, err);
  if (rc)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

static apex_err bt_rules(void *impl, const char *symbol, apex_market_symbol *out, apex_broker_error *be,
                         apex_error *err)
{
  bntrade *b = impl;
  char sym[APEX_MARKET_SYMBOL_MAX + 1], path[96];
  apex_http_reply r;
  size_t n = 0;
  apex_err rc;
  *out = (apex_market_symbol){0};
  if ((rc = joined(symbol, sym, be, err)))
    return rc;
  snprintf(path, sizeof path, "/api/v3/exchangeInfo?symbol=%s", sym);
  if ((rc = apex_http_get(b->http, path, W_INFO, &r, err)))
    return transport_failed(rc, &r, false, be);
  if (r.status < 200 || r.status > 299) {
    rc = apex_binance_decode_trade_error(r.status, r.body, r.len, r.retry_after_s, be, err);
    apex_http_reply_free(&r);
    return rc;
  }
  rc = apex_binance_decode_symbols(r.body, r.len, out, 1, &n, NULL, err);
  apex_http_reply_free(&r);
  if (rc == APEX_ETOOBIG || (!rc && (n != 1 || strcmp(out->venue_symbol, sym)))) {
    be->fail = APEX_BROKER_BAD_REPLY;
    return apex_error_set(err, APEX_EPARSE, "binance: exchangeInfo for %s did not describe it alone", sym);
  }
  if (rc)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

/* The fees of a filled order: its trades (GET /order has no fills[]). */
static apex_err add_fees(bntrade *b, const char *sym, apex_broker_order *o, apex_broker_error *be, apex_error *err)
{
  char params[160];
  apex_http_reply r;
  apex_dec qty = 0, quote = 0;
  char *end;
  long long oid = strtoll(o->venue_id, &end, 10);
  if (!o->filled_qty || o->fee_asset[0] || !o->venue_id[0] || *end)
    return APEX_OK;
  snprintf(params, sizeof params, "symbol=%s&orderId=%lld", sym, oid);
  apex_err rc = signed_call(b, "GET", "/api/v3/myTrades", params, W_TRADES, false, &r, be, err);
  if (rc)
    return rc;
  rc = apex_binance_decode_fills(r.body, r.len, oid, &o->fee, o->fee_asset, &o->fee_assets_other, &qty, &quote, err);
  apex_http_reply_free(&r);
  if (rc)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

static apex_err bt_place(void *impl, const apex_broker_order_req *q, apex_broker_order *out, apex_broker_error *be,
                         apex_error *err)
{
  bntrade *b = impl;
  char sym[APEX_MARKET_SYMBOL_MAX + 1], qty[APEX_DEC_STR_MAX], px[APEX_DEC_STR_MAX], params[512];
  apex_http_reply r;
  apex_err rc;
  *out = (apex_broker_order){0};
  if ((rc = joined(q->symbol, sym, be, err)))
    return rc;
  if (!client_id_ok(q->client_id) || q->qty <= 0 || q->price < 0 || apex_dec_format(q->qty, qty, sizeof qty) ||
      apex_dec_format(q->price, px, sizeof px)) {
    be->fail = APEX_BROKER_REJECTED;
    return apex_error_set(err, APEX_EINVAL, "binance: order %s is malformed", q->client_id);
  }
  if (q->price)
    snprintf(params, sizeof params,
             "symbol=%s&side=%s&type=LIMIT&timeInForce=GTC&quantity=%s&price=%s&newClientOrderId=%s"
             "&newOrderRespType=FULL",
             sym, q->buy ? "BUY" : "SELL", qty, px, q->client_id);
  else
    snprintf(params, sizeof params, "symbol=%s&side=%s&type=MARKET&quantity=%s&newClientOrderId=%s&newOrderRespType=FULL",
             sym, q->buy ? "BUY" : "SELL", qty, q->client_id);
  if ((rc = signed_call(b, "POST", "/api/v3/order", params, W_ORDER, true, &r, be, err)))
    return rc;
  rc = decode_order(&r, q->symbol, out, be, err);
  apex_http_reply_free(&r);
  if (!rc && strcmp(out->client_id, q->client_id)) {
    be->fail = APEX_BROKER_BAD_REPLY;
    rc = apex_error_set(err, APEX_EPARSE, "binance: the reply names order %s, not %s", out->client_id, q->client_id);
  }
  return rc;
}

/* GET (query) or DELETE (cancel) of the order named by its client id, with its fees. */
static apex_err by_client_id(bntrade *b, const char *method, const char *symbol, const char *client_id,
                             apex_broker_order *out, apex_broker_error *be, apex_error *err)
{
  char sym[APEX_MARKET_SYMBOL_MAX + 1], params[160];
  apex_http_reply r;
  apex_err rc;
  *out = (apex_broker_order){0};
  if ((rc = joined(symbol, sym, be, err)))
    return rc;
  if (!client_id_ok(client_id)) {
    be->fail = APEX_BROKER_REJECTED;
    return apex_error_set(err, APEX_EINVAL, "binance: client order id is malformed");
  }
  snprintf(params, sizeof params, "symbol=%s&origClientOrderId=%s", sym, client_id);
  if ((rc = signed_call(b, method, "/api/v3/order", params, strcmp(method, "GET") ? W_ORDER : W_QUERY, false, &r, be,
                        err)))
    return rc;
  rc = decode_order(&r, symbol, out, be, err);
  apex_http_reply_free(&r);
  if (!rc)
    rc = add_fees(b, sym, out, be, err);
  return rc;
}

static apex_err bt_query(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                         apex_broker_error *be, apex_error *err)
{
  return by_client_id(impl, "GET", symbol, client_id, out, be, err);
}

static apex_err bt_cancel(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                          apex_broker_error *be, apex_error *err)
{
  return by_client_id(impl, "DELETE", symbol, client_id, out, be, err);
}

static apex_err bt_open_orders(void *impl, const char *symbol, apex_broker_order *out, size_t cap, size_t *n,
                               apex_broker_error *be, apex_error *err)
{
  bntrade *b = impl;
  char sym[APEX_MARKET_SYMBOL_MAX + 1], params[64] = "";
  apex_http_reply r;
  apex_err rc;
  *n = 0;
  if (symbol) {
    if ((rc = joined(symbol, sym, be, err)))
      return rc;
    snprintf(params, sizeof params, "symbol=%s", sym);
  }
  if ((rc = signed_call(b, "GET", "/api/v3/openOrders", params, symbol ? W_OPEN : W_OPEN_ALL, false, &r, be, err)))
    return rc;
  rc = apex_binance_decode_orders(r.body, r.len, symbol, out, cap, n, err);
  apex_http_reply_free(&r);
  if (rc && rc != APEX_ETOOBIG)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

static apex_err bt_balances(void *impl, apex_broker_balance *out, size_t cap, size_t *n, apex_broker_error *be,
                            apex_error *err)
{
  bntrade *b = impl;
  apex_http_reply r;
  *n = 0;
  apex_err rc = signed_call(b, "GET", "/api/v3/account", "omitZeroBalances=true", W_ACCOUNT, false, &r, be, err);
  if (rc)
    return rc;
  rc = apex_binance_decode_account(r.body, r.len, out, cap, n, err);
  apex_http_reply_free(&r);
  if (rc && rc != APEX_ETOOBIG)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

static const apex_broker_ops OPS = {
    .name = "binance",
    .rules = bt_rules,
    .place = bt_place,
    .query = bt_query,
    .cancel = bt_cancel,
    .open_orders = bt_open_orders,
    .balances = bt_balances,
    .heartbeat = NULL, /* Binance spot has no dead-man's switch */
    .free = bt_free,
};

apex_err apex_broker_binance_new(const apex_broker_credentials *c, const apex_broker_options *o, apex_broker *out,
                                 apex_error *err)
{
  static const apex_broker_options DEFAULTS = {0};
  bntrade *b = NULL;
  apex_err rc;
  *out = (apex_broker){0};
  if (!o)
    o = &DEFAULTS;
  if (!c || !c->api_key || !c->api_secret || !*c->api_key || !*c->api_secret || strlen(c->api_key) > 128 ||
      strspn(c->api_key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(c->api_key))
    return apex_error_set(err, APEX_EINVAL, "binance: an API key is 1 to 128 letters and digits, with a secret");
  if (o->recv_window_ms < 0 || o->recv_window_ms > 60000 || o->timeout_ms < 0)
    return apex_error_set(err, APEX_EINVAL, "binance: recvWindow is at most 60000 ms");
  if (!(b = calloc(1, sizeof *b)))
    return apex_error_set(err, APEX_ENOMEM, "binance: out of memory");
  pthread_mutex_init(&b->lock, NULL);
  if (!(b->key = strdup(c->api_key)) || !(b->secret = strdup(c->api_secret))) {
    rc = apex_error_set(err, APEX_ENOMEM, "binance: out of memory");
    goto fail;
  }
  b->secret_len = strlen(b->secret);
  b->recv_window_ms = o->recv_window_ms ? o->recv_window_ms : 5000;
  b->now_ms = o->now_ms ? o->now_ms : apex_broker_real_now_ms;
  b->clock_ctx = o->clock_ctx;
  apex_http_options ho = {.base_url = o->base_url ? o->base_url : o->testnet ? TESTNET_URL : LIVE_URL,
                          .timeout_ms = o->timeout_ms,
                          .bucket_capacity = 20,
                          .bucket_refill_per_s = 20,
                          .max_tries = 2,
                          .backoff_base_ms = 200,
                          .retry_after_max_s = 2};
  if ((rc = apex_http_client_new(&ho, &b->http, err)))
    goto fail;
  *out = (apex_broker){.ops = &OPS, .impl = b};
  return APEX_OK;
fail:
  bt_free(b);
  return rc;
}
