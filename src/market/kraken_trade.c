/* kraken_trade.c - Kraken spot's private API as an apex_broker (broker.h): form-encoded POSTs
 * signed with API-Sign (market/sign.c), replies read by kraken_trade_codec.c. Wire format: venues
 * README section 2 ("ref 2.x").
 *
 * Every private request carries a nonce above the key's previous one: taken from the caller's
 * store when it gives one (apex_broker_options.nonce), so a restart or a second process never
 * reuses one, else from this process's clock. A request refused for its nonce was not processed
 * and is sent once more with a new one. Orders carry our client order id (cl_ord_id), by which
 * they are found again in OpenOrders or ClosedOrders. Kraken's dead-man's switch
 * (CancelAllOrdersAfter) is the heartbeat. Requests are spaced by 67 ms (spec 6.4). */
#include "market/kraken_trade.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "market/http.h"
#include "market/kraken_codec.h"
#include "market/kraken_trade_codec.h"
#include "market/sign.h"

#define LIVE_URL "https://api.kraken.com"

typedef struct krtrade {
  apex_http_client *http;
  char *key, *secret, *nonce_key;
  apex_err (*nonce)(void *ctx, const char *key_ref, int64_t floor, int64_t *out, apex_error *err);
  void *nonce_ctx;
  int64_t (*now_ms)(void *ctx);
  void *clock_ctx;
  pthread_mutex_t lock; /* guards last_nonce */
  int64_t last_nonce;
} krtrade;

static void kt_free(void *impl)
{
  krtrade *k = impl;
  if (!k)
    return;
  apex_http_client_free(k->http);
  apex_broker_wipe_free(k->key);
  apex_broker_wipe_free(k->secret);
  free(k->nonce_key);
  pthread_mutex_destroy(&k->lock);
  free(k);
}

/* Microseconds of the clock, or one above the last nonce, or the store's. */
static apex_err next_nonce(krtrade *k, int64_t *out, apex_error *err)
{
  const int64_t floor = k->now_ms(k->clock_ctx) * 1000;
  pthread_mutex_lock(&k->lock);
  apex_err rc = APEX_OK;
  if (k->nonce)
    rc = k->nonce(k->nonce_ctx, k->nonce_key, floor > k->last_nonce ? floor : k->last_nonce + 1, out, err);
  else
    *out = floor > k->last_nonce ? floor : k->last_nonce + 1;
  if (!rc)
    k->last_nonce = *out;
  pthread_mutex_unlock(&k->lock);
  return rc ? apex_error_set(err, rc, "kraken: no nonce for the key: %.200s", err ? err->msg : "") : APEX_OK;
}

static apex_err transport_failed(apex_err rc, const apex_http_reply *r, bool order, apex_broker_error *be)
{
  be->fail = !r->sent ? APEX_BROKER_UNREACHABLE : order ? APEX_BROKER_UNKNOWN : APEX_BROKER_UNAVAILABLE;
  return rc;
}

/* POST /0/private/<method> with params (form text without the nonce); once for an order. A reply
 * without errors comes back in *r; anything else is classified into be and freed. */
static apex_err private_call(krtrade *k, const char *method, const char *params, bool order, apex_http_reply *r,
                             apex_broker_error *be, apex_error *err)
{
  char path[64], body[1024], nonce[24], sig[APEX_SIGN_KRAKEN_MAX], hk[200], hs[120];
  apex_err rc;
  *r = (apex_http_reply){0};
  snprintf(path, sizeof path, "/0/private/%s", method);
  for (int attempt = 0;; attempt++) {
    int64_t n;
    *be = (apex_broker_error){.retry_after_s = -1};
    if ((rc = next_nonce(k, &n, err)))
      return rc;
    snprintf(nonce, sizeof nonce, "%lld", (long long)n);
    int len = snprintf(body, sizeof body, "nonce=%s%s%s", nonce, *params ? "&" : "", params);
    if (len < 0 || (size_t)len >= sizeof body)
      return apex_error_set(err, APEX_EINVAL, "kraken: request parameters too long");
    if ((rc = apex_sign_kraken(k->secret, path, nonce, body, sig, sizeof sig, err)))
      return rc;
    snprintf(hk, sizeof hk, "API-Key: %s", k->key);
    snprintf(hs, sizeof hs, "API-Sign: %s", sig);
    const char *headers[] = {hk, hs, "Content-Type: application/x-www-form-urlencoded", NULL};
    apex_http_request req = {.method = "POST", .path_query = path, .headers = headers, .body = body,
                             .body_len = (size_t)len, .weight = 1, .once = order};
    rc = apex_http_send(k->http, &req, r, err);
    if (rc && rc != APEX_ERATELIMIT)
      return transport_failed(rc, r, order, be);
    const int status = r->status;
    rc = apex_kraken_decode_trade_error(status, r->body, r->len, be, err);
    if (rc == APEX_OK && status >= 200 && status <= 299)
      return APEX_OK;
    if (rc == APEX_OK)
      rc = apex_error_set(err, APEX_EIO, "kraken: HTTP %d", status);
    apex_http_reply_free(r);
    if (be->venue_code == APEX_KRAKEN_NONCE_CODE && attempt == 0)
      continue; /* refused for its nonce, so not processed: once more with a new one */
    if (order && (status >= 500 || be->fail == APEX_BROKER_UNAVAILABLE))
      be->fail = be->fail == APEX_BROKER_UNAVAILABLE && status < 500 ? APEX_BROKER_UNAVAILABLE : APEX_BROKER_UNKNOWN;
    be->http_status = status;
    return rc;
  }
}

/* Client ids and pairs go into the form unescaped: only these characters are accepted. */
static bool plain(const char *s, size_t max)
{
  size_t n = s ? strlen(s) : 0;
  return n >= 1 && n <= max &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static apex_err bad_request(apex_broker_error *be, apex_error *err, const char *what)
{
  *be = (apex_broker_error){.fail = APEX_BROKER_REJECTED, .retry_after_s = -1};
  return apex_error_set(err, APEX_EINVAL, "kraken: %s", what);
}

static apex_err kt_rules(void *impl, const char *symbol, apex_market_symbol *out, apex_broker_error *be,
                         apex_error *err)
{
  krtrade *k = impl;
  char pair[APEX_MARKET_SYMBOL_MAX + 1], path[96];
  apex_http_reply r;
  size_t n = 0;
  *out = (apex_market_symbol){0};
  *be = (apex_broker_error){.retry_after_s = -1};
  if (apex_kraken_pair_name(symbol, pair, err))
    return bad_request(be, err, "symbol is not BASE/QUOTE");
  snprintf(path, sizeof path, "/0/public/AssetPairs?pair=%s", pair);
  apex_err rc = apex_http_get(k->http, path, 1, &r, err);
  if (rc && rc != APEX_ERATELIMIT)
    return transport_failed(rc, &r, false, be);
  if ((rc = apex_kraken_decode_trade_error(r.status, r.body, r.len, be, err)) == APEX_OK)
    rc = apex_kraken_decode_pairs(r.body, r.len, out, 1, &n, NULL, err);
  apex_http_reply_free(&r);
  if (!rc && (n != 1 || strcmp(out->symbol, symbol))) {
    be->fail = APEX_BROKER_NOT_FOUND;
    return apex_error_set(err, APEX_ENOTFOUND, "kraken: no pair %s", symbol);
  }
  if (rc && !be->fail)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

/* The orders of a QueryOrders/OpenOrders/ClosedOrders reply; want: the one with this client id
 * (NULL: all, of symbol when given). */
static apex_err orders_call(krtrade *k, const char *method, const char *params, const char *client_id,
                            const char *symbol, apex_broker_order *out, size_t cap, size_t *n, apex_broker_error *be,
                            apex_error *err)
{
  apex_http_reply r;
  enum { MAX = 64 };
  apex_broker_order got[MAX];
  size_t m = 0;
  *n = 0;
  apex_err rc = private_call(k, method, params, false, &r, be, err);
  if (rc)
    return rc;
  rc = apex_kraken_decode_orders(r.body, r.len, got, MAX, &m, err);
  apex_http_reply_free(&r);
  if (rc && rc != APEX_ETOOBIG) {
    be->fail = APEX_BROKER_BAD_REPLY;
    return rc;
  }
  for (size_t i = 0; i < m; i++) {
    if ((client_id && strcmp(got[i].client_id, client_id)) || (symbol && strcmp(got[i].symbol, symbol)))
      continue;
    if (*n == cap)
      return apex_error_set(err, APEX_ETOOBIG, "kraken: more orders than %zu", cap);
    out[(*n)++] = got[i];
  }
  return rc;
}

static apex_err kt_query(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                         apex_broker_error *be, apex_error *err)
{
  krtrade *k = impl;
  char params[96];
  size_t n = 0;
  (void)symbol;
  *out = (apex_broker_order){0};
  if (!plain(client_id, APEX_CLIENT_ID_MAX))
    return bad_request(be, err, "client order id is malformed");
  snprintf(params, sizeof params, "cl_ord_id=%s", client_id);
  apex_err rc = orders_call(k, "OpenOrders", params, client_id, NULL, out, 1, &n, be, err);
  if (!rc && !n)
    rc = orders_call(k, "ClosedOrders", params, client_id, NULL, out, 1, &n, be, err);
  if (!rc && !n) {
    be->fail = APEX_BROKER_NOT_FOUND;
    rc = apex_error_set(err, APEX_ENOTFOUND, "kraken: no order %s", client_id);
  }
  return rc;
}

static apex_err kt_place(void *impl, const apex_broker_order_req *q, apex_broker_order *out, apex_broker_error *be,
                         apex_error *err)
{
  krtrade *k = impl;
  char pair[APEX_MARKET_SYMBOL_MAX + 1], qty[APEX_DEC_STR_MAX], px[APEX_DEC_STR_MAX], params[400];
  char txid[APEX_VENUE_ID_MAX + 1];
  apex_http_reply r;
  *out = (apex_broker_order){0};
  if (apex_kraken_pair_name(q->symbol, pair, err) || !plain(q->client_id, APEX_CLIENT_ID_MAX) || q->qty <= 0 ||
      q->price < 0 || apex_dec_format(q->qty, qty, sizeof qty) || apex_dec_format(q->price, px, sizeof px))
    return bad_request(be, err, "order is malformed");
  if (q->price)
    snprintf(params, sizeof params, "pair=%s&type=%s&ordertype=limit&price=%s&volume=%s&cl_ord_id=%s", pair,
             q->buy ? "buy" : "sell", px, qty, q->client_id);
  else
    snprintf(params, sizeof params, "pair=%s&type=%s&ordertype=market&volume=%s&cl_ord_id=%s", pair,
             q->buy ? "buy" : "sell", qty, q->client_id);
  apex_err rc = private_call(k, "AddOrder", params, true, &r, be, err);
  if (rc)
    return rc;
  rc = apex_kraken_decode_add_order(r.body, r.len, txid, err);
  apex_http_reply_free(&r);
  if (rc) { /* accepted, but we cannot read how: its fate is asked for by client id */
    be->fail = APEX_BROKER_UNKNOWN;
    return rc;
  }
  /* AddOrder says only that it was placed: its state and fills come from the order itself. */
  apex_broker_error qbe;
  apex_error qerr;
  if (kt_query(k, q->symbol, q->client_id, out, &qbe, &qerr)) {
    *out = (apex_broker_order){.buy = q->buy, .state = APEX_ORDER_STATE_NEW, .qty = q->qty};
    snprintf(out->client_id, sizeof out->client_id, "%s", q->client_id);
    snprintf(out->symbol, sizeof out->symbol, "%s", q->symbol);
  }
  snprintf(out->venue_id, sizeof out->venue_id, "%s", txid);
  return APEX_OK;
}

static apex_err kt_cancel(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                          apex_broker_error *be, apex_error *err)
{
  krtrade *k = impl;
  char params[96];
  apex_http_reply r;
  int count = 0;
  *out = (apex_broker_order){0};
  if (!plain(client_id, APEX_CLIENT_ID_MAX))
    return bad_request(be, err, "client order id is malformed");
  snprintf(params, sizeof params, "cl_ord_id=%s", client_id);
  apex_err rc = private_call(k, "CancelOrder", params, false, &r, be, err);
  if (rc)
    return rc;
  rc = apex_kraken_decode_cancel(r.body, r.len, &count, err);
  apex_http_reply_free(&r);
  if (rc) {
    be->fail = APEX_BROKER_BAD_REPLY;
    return rc;
  }
  if (!count) {
    be->fail = APEX_BROKER_NOT_FOUND;
    return apex_error_set(err, APEX_ENOTFOUND, "kraken: no open order %s", client_id);
  }
  return kt_query(k, symbol, client_id, out, be, err);
}

static apex_err kt_open_orders(void *impl, const char *symbol, apex_broker_order *out, size_t cap, size_t *n,
                               apex_broker_error *be, apex_error *err)
{
  return orders_call(impl, "OpenOrders", "", NULL, symbol, out, cap, n, be, err);
}

static apex_err kt_balances(void *impl, apex_broker_balance *out, size_t cap, size_t *n, apex_broker_error *be,
                            apex_error *err)
{
  krtrade *k = impl;
  apex_http_reply r;
  *n = 0;
  apex_err rc = private_call(k, "Balance", "", false, &r, be, err);
  if (rc)
    return rc;
  rc = apex_kraken_decode_balances(r.body, r.len, out, cap, n, err);
  apex_http_reply_free(&r);
  if (rc && rc != APEX_ETOOBIG)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

static apex_err kt_heartbeat(void *impl, int timeout_s, apex_broker_error *be, apex_error *err)
{
  krtrade *k = impl;
  char params[32];
  apex_http_reply r;
  int64_t trigger = 0;
  if (timeout_s < 0 || timeout_s >= 86400)
    return bad_request(be, err, "dead-man's switch timeout out of range");
  snprintf(params, sizeof params, "timeout=%d", timeout_s);
  apex_err rc = private_call(k, "CancelAllOrdersAfter", params, false, &r, be, err);
  if (rc)
    return rc;
  rc = apex_kraken_decode_dead_man(r.body, r.len, &trigger, err);
  apex_http_reply_free(&r);
  if (rc)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

static const apex_broker_ops OPS = {
    .name = "kraken",
    .rules = kt_rules,
    .place = kt_place,
    .query = kt_query,
    .cancel = kt_cancel,
    .open_orders = kt_open_orders,
    .balances = kt_balances,
    .heartbeat = kt_heartbeat,
    .free = kt_free,
};

apex_err apex_broker_kraken_new(const apex_broker_credentials *c, const apex_broker_options *o, apex_broker *out,
                                apex_error *err)
{
  static const apex_broker_options DEFAULTS = {0};
  krtrade *k = NULL;
  apex_err rc;
  *out = (apex_broker){0};
  if (!o)
    o = &DEFAULTS;
  if (!c || !plain(c->api_key, 128) || !c->api_secret || !*c->api_secret || strlen(c->api_secret) > 256 ||
      strspn(c->api_secret, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=") !=
          strlen(c->api_secret))
    return apex_error_set(err, APEX_EINVAL, "kraken: an API key and a base64 private key are needed");
  if (o->timeout_ms < 0)
    return apex_error_set(err, APEX_EINVAL, "kraken: timeout must not be negative");
  /* Kraken has no spot testnet: a key stored as a test key must never reach the live venue. */
  if (o->testnet && !o->base_url)
    return apex_error_set(err, APEX_EINVAL, "kraken has no spot testnet: a key stored with is_paper cannot trade "
                                            "there (store it with is_paper false to trade live)");
  if (!(k = calloc(1, sizeof *k)))
    return apex_error_set(err, APEX_ENOMEM, "kraken: out of memory");
  pthread_mutex_init(&k->lock, NULL);
  if (!(k->key = strdup(c->api_key)) || !(k->secret = strdup(c->api_secret)) ||
      (o->nonce_key && !(k->nonce_key = strdup(o->nonce_key)))) {
    rc = apex_error_set(err, APEX_ENOMEM, "kraken: out of memory");
    goto fail;
  }
  k->nonce = o->nonce_key ? o->nonce : NULL;
  k->nonce_ctx = o->nonce_ctx;
  k->now_ms = o->now_ms ? o->now_ms : apex_broker_real_now_ms;
  k->clock_ctx = o->clock_ctx;
  apex_http_options ho = {.base_url = o->base_url ? o->base_url : LIVE_URL,
                          .timeout_ms = o->timeout_ms,
                          .bucket_capacity = 1,
                          .bucket_refill_per_s = 15, /* spec 6.4: 15 a second, 67 ms apart */
                          .max_tries = 2,
                          .backoff_base_ms = 200,
                          .retry_after_max_s = 2};
  if ((rc = apex_http_client_new(&ho, &k->http, err)))
    goto fail;
  *out = (apex_broker){.ops = &OPS, .impl = k};
  return APEX_OK;
fail:
  kt_free(k);
  return rc;
}
