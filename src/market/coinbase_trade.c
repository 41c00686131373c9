/* coinbase_trade.c - Coinbase Advanced Trade's brokerage API as an apex_broker (broker.h): JSON
 * over market/http.c, each request carrying a fresh JWT signed ES256 with the key's EC private key
 * (venues README 3.3; market/sign.c), replies read by coinbase_trade_codec.c.
 *
 * The JWT names the request ("uri": "POST api.coinbase.com/api/v3/brokerage/orders", no query
 * string) and lives two minutes; its header carries a random nonce, so no two are alike. Coinbase
 * answers an order by its id only: an order whose reply was lost is found again among the pair's
 * recent orders by our client_order_id, and a create sent again with the same client_order_id is
 * refused as a duplicate or answered with the first (the transport then looks it up). */
#include "market/coinbase_trade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/json.h"
#include "market/coinbase_trade_codec.h"
#include "market/http.h"
#include "market/sign.h"

#define LIVE_URL "https://api.coinbase.com"
#define JWT_HOST "api.coinbase.com" /* what the JWT names, whatever address the requests go to */
#define PREFIX "/api/v3/brokerage"
#define JWT_MAX 2048
#define RECENT 100 /* orders of a pair looked through for a client order id */

typedef struct coinbase {
  apex_http_client *http;
  char *key_name, *pem;
  int64_t (*now_ms)(void *ctx);
  void *clock_ctx;
} coinbase;

static void cb_free(void *impl)
{
  coinbase *c = impl;
  if (!c)
    return;
  apex_http_client_free(c->http);
  free(c->key_name);
  apex_broker_wipe_free(c->pem);
  free(c);
}

/* "BTC/USD" -> "BTC-USD". */
static bool product(const char *symbol, char out[static APEX_MARKET_SYMBOL_MAX + 1])
{
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
  if (!symbol || apex_market_split(symbol, base, quote))
    return false;
  snprintf(out, APEX_MARKET_SYMBOL_MAX + 1, "%s-%s", base, quote);
  return true;
}

static bool id_ok(const char *id, size_t max)
{
  size_t n = id ? strlen(id) : 0;
  return n >= 1 && n <= max && strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static apex_err bad_request(apex_broker_error *be, apex_error *err, const char *what)
{
  *be = (apex_broker_error){.fail = APEX_BROKER_REJECTED, .retry_after_s = -1};
  return apex_error_set(err, APEX_EINVAL, "coinbase: %s", what);
}

/* The JWT for method + path (README 3.3): header {alg, typ, kid, nonce}, claims {sub, iss, nbf,
 * exp, uri}, built with the JSON library and signed by market/sign.c. */
static apex_err jwt(coinbase *c, const char *method, const char *path, char *out, size_t cap, apex_error *err)
{
  unsigned char rnd[16];
  char nonce[33], uri[300];
  apex_json *h = NULL, *p = NULL;
  char *hs = NULL, *ps = NULL;
  apex_err rc = APEX_OK;
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    return apex_error_set(err, APEX_EIO, "coinbase: no randomness for a JWT nonce");
  for (size_t i = 0; i < sizeof rnd; i++)
    snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
  const char *q = strchr(path, '?');
  snprintf(uri, sizeof uri, "%s %s%.*s", method, JWT_HOST, q ? (int)(q - path) : (int)strlen(path), path);
  const int64_t now = c->now_ms(c->clock_ctx) / 1000;
  if (!(h = apex_json_new_object()) || !(p = apex_json_new_object())) {
    rc = apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
    goto out;
  }
  apex_json_object_set(h, "alg", apex_json_new_string("ES256"));
  apex_json_object_set(h, "typ", apex_json_new_string("JWT"));
  apex_json_object_set(h, "kid", apex_json_new_string(c->key_name));
  apex_json_object_set(h, "nonce", apex_json_new_string(nonce));
  apex_json_object_set(p, "sub", apex_json_new_string(c->key_name));
  apex_json_object_set(p, "iss", apex_json_new_string("cdp"));
  apex_json_object_set(p, "nbf", apex_json_new_integer(now));
  apex_json_object_set(p, "exp", apex_json_new_integer(now + 120));
  apex_json_object_set(p, "uri", apex_json_new_string(uri));
  if (!(hs = apex_json_dump(h, false)) || !(ps = apex_json_dump(p, false))) {
    rc = apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
    goto out;
  }
  rc = apex_sign_es256_jwt(c->pem, hs, ps, out, cap, err);
out:
  free(hs);
  free(ps);
  apex_json_free(h);
  apex_json_free(p);
  return rc;
}

/* One request; a 2xx reply comes back in *r, anything else is classified into be and freed. */
static apex_err call(coinbase *c, const char *method, const char *path, const char *body, bool order,
                     apex_http_reply *r, apex_broker_error *be, apex_error *err)
{
  char token[JWT_MAX], auth[JWT_MAX + 32], full[400];
  *be = (apex_broker_error){.retry_after_s = -1};
  *r = (apex_http_reply){0};
  snprintf(full, sizeof full, "%s%s", PREFIX, path);
  apex_err rc = jwt(c, method, full, token, sizeof token, err);
  if (rc)
    return rc;
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  const char *headers[] = {auth, body ? "Content-Type: application/json" : NULL, NULL};
  apex_http_request req = {.method = method, .path_query = full, .headers = headers, .body = body,
                           .body_len = body ? strlen(body) : 0, .weight = 1, .once = order};
  rc = apex_http_send(c->http, &req, r, err);
  if (rc && rc != APEX_ERATELIMIT) {
    be->fail = !r->sent ? APEX_BROKER_UNREACHABLE : order ? APEX_BROKER_UNKNOWN : APEX_BROKER_UNAVAILABLE;
    return rc;
  }
  if (r->status >= 200 && r->status <= 299)
    return APEX_OK;
  rc = apex_coinbase_decode_trade_error(r->status, r->body, r->len, r->retry_after_s, be, err);
  if (rc == APEX_OK)
    rc = apex_error_set(err, APEX_EIO, "coinbase: HTTP %d", r->status);
  if (order && r->status >= 500)
    be->fail = APEX_BROKER_UNKNOWN;
  apex_http_reply_free(r);
  return rc;
}

static apex_err decoded(apex_err rc, apex_broker_error *be)
{
  if (rc && rc != APEX_ETOOBIG)
    be->fail = APEX_BROKER_BAD_REPLY;
  return rc;
}

static apex_err cb_rules(void *impl, const char *symbol, apex_market_symbol *out, apex_broker_error *be,
                         apex_error *err)
{
  (void)impl;
  char p[APEX_MARKET_SYMBOL_MAX + 1];
  *out = (apex_market_symbol){0};
  *be = (apex_broker_error){.retry_after_s = -1};
  if (!product(symbol, p))
    return bad_request(be, err, "symbol is not BASE/QUOTE");
  /* The product's increments are the venue's to enforce: an order off them is rejected (4002). */
  snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
  snprintf(out->venue_symbol, sizeof out->venue_symbol, "%s", p);
  out->lot_step = 1;
  out->active = true;
  return APEX_OK;
}

static apex_err by_id(coinbase *c, const char *order_id, apex_broker_order *out, apex_broker_error *be,
                      apex_error *err)
{
  char path[160];
  apex_http_reply r;
  if (!id_ok(order_id, APEX_VENUE_ID_MAX))
    return bad_request(be, err, "the venue's order id is malformed");
  snprintf(path, sizeof path, "/orders/historical/%s", order_id);
  apex_err rc = call(c, "GET", path, NULL, false, &r, be, err);
  if (rc)
    return rc;
  rc = decoded(apex_coinbase_decode_order(r.body, r.len, out, err), be);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err cb_query(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                         apex_broker_error *be, apex_error *err)
{
  coinbase *c = impl;
  char p[APEX_MARKET_SYMBOL_MAX + 1], path[160];
  apex_http_reply r;
  apex_broker_order *list = NULL;
  size_t n = 0;
  *out = (apex_broker_order){0};
  if (!product(symbol, p) || !id_ok(client_id, APEX_CLIENT_ID_MAX))
    return bad_request(be, err, "symbol or client order id is malformed");
  snprintf(path, sizeof path, "/orders/historical/batch?product_id=%s&limit=%d", p, RECENT);
  apex_err rc = call(c, "GET", path, NULL, false, &r, be, err);
  if (rc)
    return rc;
  if (!(list = calloc(RECENT, sizeof *list))) {
    apex_http_reply_free(&r);
    return apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
  }
  rc = decoded(apex_coinbase_decode_orders(r.body, r.len, list, RECENT, &n, err), be);
  apex_http_reply_free(&r);
  if (rc == APEX_ETOOBIG)
    rc = APEX_OK;
  for (size_t i = 0; !rc && i < n; i++)
    if (!strcmp(list[i].client_id, client_id)) {
      *out = list[i];
      free(list);
      return APEX_OK;
    }
  free(list);
  if (!rc) {
    be->fail = APEX_BROKER_NOT_FOUND;
    rc = apex_error_set(err, APEX_ENOTFOUND, "coinbase: no order %s among the pair's recent ones", client_id);
  }
  return rc;
}

static apex_err cb_place(void *impl, const apex_broker_order_req *q, apex_broker_order *out, apex_broker_error *be,
                         apex_error *err)
{
  coinbase *c = impl;
  char p[APEX_MARKET_SYMBOL_MAX + 1], order_id[APEX_VENUE_ID_MAX + 1];
  apex_http_reply r;
  apex_json *doc = NULL, *cfg = NULL, *kind = NULL;
  char *body = NULL;
  apex_err rc;
  *out = (apex_broker_order){0};
  if (!product(q->symbol, p) || !id_ok(q->client_id, APEX_CLIENT_ID_MAX) || q->qty <= 0 || q->price < 0)
    return bad_request(be, err, "order is malformed");
  if (!(doc = apex_json_new_object()) || !(cfg = apex_json_new_object()) || !(kind = apex_json_new_object())) {
    apex_json_free(cfg);
    apex_json_free(kind);
    rc = apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
    goto out;
  }
  apex_json_object_set(kind, "base_size", apex_json_new_decimal(q->qty));
  if (q->price)
    apex_json_object_set(kind, "limit_price", apex_json_new_decimal(q->price));
  apex_json_object_set(cfg, q->price ? "limit_limit_gtc" : "market_market_ioc", kind);
  apex_json_object_set(doc, "client_order_id", apex_json_new_string(q->client_id));
  apex_json_object_set(doc, "product_id", apex_json_new_string(p));
  apex_json_object_set(doc, "side", apex_json_new_string(q->buy ? "BUY" : "SELL"));
  apex_json_object_set(doc, "order_configuration", cfg);
  if (!(body = apex_json_dump(doc, false))) {
    rc = apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
    goto out;
  }
  if ((rc = call(c, "POST", "/orders", body, true, &r, be, err)))
    goto out;
  rc = apex_coinbase_decode_create(r.body, r.len, order_id, be, err);
  apex_http_reply_free(&r);
  if (rc && be->venue_code == APEX_COINBASE_DUPLICATE_CODE) { /* an earlier attempt arrived: it is that order */
    rc = cb_query(c, q->symbol, q->client_id, out, be, err);
    goto out;
  }
  if (rc) {
    if (be->fail == APEX_BROKER_OK || be->fail == APEX_BROKER_BAD_REPLY)
      be->fail = APEX_BROKER_UNKNOWN; /* a 2xx we cannot read: asked for by client id */
    goto out;
  }
  /* The create says only that it was placed: its state and fills come from the order itself. */
  apex_broker_error qbe;
  apex_error qerr;
  if (by_id(c, order_id, out, &qbe, &qerr)) {
    *out = (apex_broker_order){.buy = q->buy, .state = APEX_ORDER_STATE_NEW, .qty = q->qty};
    snprintf(out->client_id, sizeof out->client_id, "%s", q->client_id);
    snprintf(out->symbol, sizeof out->symbol, "%s", q->symbol);
    snprintf(out->venue_id, sizeof out->venue_id, "%s", order_id);
  }
out:
  free(body);
  apex_json_free(doc);
  return rc;
}

static apex_err cb_cancel(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                          apex_broker_error *be, apex_error *err)
{
  coinbase *c = impl;
  apex_http_reply r;
  apex_json *doc = NULL, *ids = NULL;
  char *body = NULL;
  bool ok = false;
  apex_err rc = cb_query(c, symbol, client_id, out, be, err); /* the cancel takes Coinbase's id */
  if (rc)
    return rc;
  if (!(doc = apex_json_new_object()) || !(ids = apex_json_new_array())) {
    apex_json_free(ids);
    rc = apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
    goto out;
  }
  apex_json_array_append(ids, apex_json_new_string(out->venue_id));
  apex_json_object_set(doc, "order_ids", ids);
  if (!(body = apex_json_dump(doc, false))) {
    rc = apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
    goto out;
  }
  if ((rc = call(c, "POST", "/orders/batch_cancel", body, false, &r, be, err)))
    goto out;
  rc = decoded(apex_coinbase_decode_cancel(r.body, r.len, out->venue_id, &ok, err), be);
  apex_http_reply_free(&r);
  if (rc)
    goto out;
  if (!ok) {
    be->fail = APEX_BROKER_NOT_FOUND; /* nothing open by that id: it ended before */
    rc = apex_error_set(err, APEX_ENOTFOUND, "coinbase: order %s is not open", client_id);
    goto out;
  }
  rc = by_id(c, out->venue_id, out, be, err);
out:
  free(body);
  apex_json_free(doc);
  return rc;
}

static apex_err cb_open_orders(void *impl, const char *symbol, apex_broker_order *out, size_t cap, size_t *n,
                               apex_broker_error *be, apex_error *err)
{
  coinbase *c = impl;
  char p[APEX_MARKET_SYMBOL_MAX + 1] = "", path[160];
  apex_http_reply r;
  *n = 0;
  if (symbol && !product(symbol, p))
    return bad_request(be, err, "symbol is not BASE/QUOTE");
  snprintf(path, sizeof path, "/orders/historical/batch?order_status=OPEN%s%s", symbol ? "&product_id=" : "", p);
  apex_err rc = call(c, "GET", path, NULL, false, &r, be, err);
  if (rc)
    return rc;
  rc = decoded(apex_coinbase_decode_orders(r.body, r.len, out, cap, n, err), be);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err cb_balances(void *impl, apex_broker_balance *out, size_t cap, size_t *n, apex_broker_error *be,
                            apex_error *err)
{
  coinbase *c = impl;
  apex_http_reply r;
  *n = 0;
  apex_err rc = call(c, "GET", "/accounts?limit=250", NULL, false, &r, be, err);
  if (rc)
    return rc;
  rc = decoded(apex_coinbase_decode_accounts(r.body, r.len, out, cap, n, err), be);
  apex_http_reply_free(&r);
  return rc;
}

static const apex_broker_ops OPS = {
    .name = "coinbase",
    .rules = cb_rules,
    .place = cb_place,
    .query = cb_query,
    .cancel = cb_cancel,
    .open_orders = cb_open_orders,
    .balances = cb_balances,
    .clock = NULL,
    .heartbeat = NULL,
    .free = cb_free,
};

apex_err apex_broker_coinbase_new(const apex_broker_credentials *cr, const apex_broker_options *o, apex_broker *out,
                                  apex_error *err)
{
  static const apex_broker_options DEFAULTS = {0};
  coinbase *c = NULL;
  apex_err rc;
  *out = (apex_broker){0};
  if (!o)
    o = &DEFAULTS;
  if (!cr || !cr->api_key || !*cr->api_key || strlen(cr->api_key) > 200 ||
      strspn(cr->api_key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/") !=
          strlen(cr->api_key) ||
      !cr->api_secret || strncmp(cr->api_secret, "-----BEGIN ", 11))
    return apex_error_set(err, APEX_EINVAL, "coinbase: the key's name (organizations/.../apiKeys/...) and its PEM "
                                            "private key are needed");
  /* No Coinbase test venue is configured here: a test key must never reach the live one. */
  if (o->testnet && !o->base_url)
    return apex_error_set(err, APEX_EINVAL, "coinbase: no test venue is configured, so a key stored with is_paper "
                                            "cannot trade (store it with is_paper false to trade live)");
  if (o->timeout_ms < 0)
    return apex_error_set(err, APEX_EINVAL, "coinbase: timeout must not be negative");
  if (!(c = calloc(1, sizeof *c)))
    return apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
  if (!(c->key_name = strdup(cr->api_key)) || !(c->pem = strdup(cr->api_secret))) {
    rc = apex_error_set(err, APEX_ENOMEM, "coinbase: out of memory");
    goto fail;
  }
  c->now_ms = o->now_ms ? o->now_ms : apex_broker_real_now_ms;
  c->clock_ctx = o->clock_ctx;
  apex_http_options ho = {.base_url = o->base_url ? o->base_url : LIVE_URL,
                          .timeout_ms = o->timeout_ms,
                          .bucket_capacity = 10,
                          .bucket_refill_per_s = 10, /* spec 6.4 names no limit for Coinbase: 10 a second */
                          .max_tries = 2,
                          .backoff_base_ms = 200,
                          .retry_after_max_s = 2};
  if ((rc = apex_http_client_new(&ho, &c->http, err)))
    goto fail;
  *out = (apex_broker){.ops = &OPS, .impl = c};
  return APEX_OK;
fail:
  cb_free(c);
  return rc;
}
