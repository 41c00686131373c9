/* alpaca_trade.c - Alpaca's trading API (US stocks) as an apex_broker (broker.h): JSON over
 * market/http.c with the key id and secret as headers (venues README 4.2), replies read by
 * alpaca_trade_codec.c. Paper and live accounts have the same API at two addresses.
 *
 * Our symbols are "AAPL/USD" (or a bare "AAPL"); Alpaca's the ticker. Whole shares only: the
 * lot step is one share (fractional orders are market DAY orders only at Alpaca, and a share
 * count is what a stock strategy means). The market clock (GET /v2/clock) tells the caller when
 * the session is open; an order outside it goes out as a DAY limit order with extended_hours, or
 * waits, as the caller decides. Requests: 200 a minute, bursts of 3 (spec 6.4). */
#include "market/alpaca_trade.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "market/alpaca_trade_codec.h"
#include "market/http.h"

#define PAPER_URL "https://paper-api.alpaca.markets"
#define LIVE_URL "https://api.alpaca.markets"

typedef struct alpaca {
  apex_http_client *http;
  char *key_header, *secret_header; /* "APCA-API-KEY-ID: ...", "APCA-API-SECRET-KEY: ..." */
} alpaca;

static void al_free(void *impl)
{
  alpaca *a = impl;
  if (!a)
    return;
  apex_http_client_free(a->http);
  apex_broker_wipe_free(a->key_header);
  apex_broker_wipe_free(a->secret_header);
  free(a);
}

/* "AAPL/USD" or "AAPL" -> "AAPL": a ticker of A-Z 0-9 . - */
static bool ticker(const char *symbol, char out[static APEX_MARKET_ASSET_MAX + 1])
{
  const char *slash = symbol ? strchr(symbol, '/') : NULL;
  size_t n = slash ? (size_t)(slash - symbol) : symbol ? strlen(symbol) : 0;
  if (!n || n > APEX_MARKET_ASSET_MAX || (slash && strcmp(slash + 1, "USD")))
    return false;
  memcpy(out, symbol, n);
  out[n] = '\0';
  return strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

static bool client_id_ok(const char *id)
{
  size_t n = id ? strlen(id) : 0;
  return n >= 1 && n <= APEX_CLIENT_ID_MAX &&
         strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static apex_err bad_request(apex_broker_error *be, apex_error *err, const char *what)
{
  *be = (apex_broker_error){.fail = APEX_BROKER_REJECTED, .retry_after_s = -1};
  return apex_error_set(err, APEX_EINVAL, "alpaca: %s", what);
}

/* One request; a 2xx reply comes back in *r, anything else is classified into be and freed. */
static apex_err call(alpaca *a, const char *method, const char *path, const char *body, bool order, apex_http_reply *r,
                     apex_broker_error *be, apex_error *err)
{
  const char *headers[] = {a->key_header, a->secret_header, body ? "Content-Type: application/json" : NULL, NULL};
  apex_http_request req = {.method = method, .path_query = path, .headers = headers, .body = body,
                           .body_len = body ? strlen(body) : 0, .weight = 1, .once = order};
  *be = (apex_broker_error){.retry_after_s = -1};
  apex_err rc = apex_http_send(a->http, &req, r, err);
  if (rc && rc != APEX_ERATELIMIT) {
    be->fail = !r->sent ? APEX_BROKER_UNREACHABLE : order ? APEX_BROKER_UNKNOWN : APEX_BROKER_UNAVAILABLE;
    return rc;
  }
  if (r->status >= 200 && r->status <= 299)
    return APEX_OK;
  rc = apex_alpaca_decode_trade_error(r->status, r->body, r->len, r->retry_after_s, be, err);
  if (rc == APEX_OK)
    rc = apex_error_set(err, APEX_EIO, "alpaca: HTTP %d", r->status);
  if (order && r->status >= 500) /* it may have arrived */
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

static apex_err al_rules(void *impl, const char *symbol, apex_market_symbol *out, apex_broker_error *be,
                         apex_error *err)
{
  (void)impl;
  char t[APEX_MARKET_ASSET_MAX + 1];
  *out = (apex_market_symbol){0};
  *be = (apex_broker_error){.retry_after_s = -1};
  if (!ticker(symbol, t))
    return bad_request(be, err, "a stock is a ticker traded in USD (AAPL or AAPL/USD)");
  snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
  snprintf(out->venue_symbol, sizeof out->venue_symbol, "%s", t);
  snprintf(out->base, sizeof out->base, "%s", t);
  snprintf(out->quote, sizeof out->quote, "USD");
  out->lot_step = APEX_DEC_SCALE; /* whole shares */
  out->tick_size = APEX_DEC_SCALE / 100;
  out->active = true;
  return APEX_OK;
}

static apex_err al_query(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                         apex_broker_error *be, apex_error *err)
{
  alpaca *a = impl;
  char path[128];
  apex_http_reply r;
  (void)symbol;
  *out = (apex_broker_order){0};
  if (!client_id_ok(client_id))
    return bad_request(be, err, "client order id is malformed");
  snprintf(path, sizeof path, "/v2/orders:by_client_order_id?client_order_id=%s", client_id);
  apex_err rc = call(a, "GET", path, NULL, false, &r, be, err);
  if (rc)
    return rc;
  rc = decoded(apex_alpaca_decode_order(r.body, r.len, out, err), be);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err al_place(void *impl, const apex_broker_order_req *q, apex_broker_order *out, apex_broker_error *be,
                         apex_error *err)
{
  alpaca *a = impl;
  char t[APEX_MARKET_ASSET_MAX + 1];
  apex_http_reply r;
  apex_json *doc = NULL;
  char *body = NULL;
  apex_err rc;
  *out = (apex_broker_order){0};
  if (!ticker(q->symbol, t) || !client_id_ok(q->client_id) || q->qty <= 0 || q->price < 0 ||
      (q->extended_hours && !q->price))
    return bad_request(be, err, "order is malformed (extended hours take limit orders only)");
  if (!(doc = apex_json_new_object())) {
    rc = apex_error_set(err, APEX_ENOMEM, "alpaca: out of memory");
    goto out;
  }
  apex_json_object_set(doc, "symbol", apex_json_new_string(t));
  apex_json_object_set(doc, "qty", apex_json_new_decimal(q->qty));
  apex_json_object_set(doc, "side", apex_json_new_string(q->buy ? "buy" : "sell"));
  apex_json_object_set(doc, "type", apex_json_new_string(q->price ? "limit" : "market"));
  apex_json_object_set(doc, "time_in_force", apex_json_new_string(q->extended_hours || !q->price ? "day" : "gtc"));
  if (q->price)
    apex_json_object_set(doc, "limit_price", apex_json_new_decimal(q->price));
  if (q->extended_hours)
    apex_json_object_set(doc, "extended_hours", apex_json_new_bool(true));
  apex_json_object_set(doc, "client_order_id", apex_json_new_string(q->client_id));
  if (!(body = apex_json_dump(doc, false))) {
    rc = apex_error_set(err, APEX_ENOMEM, "alpaca: out of memory");
    goto out;
  }
  rc = call(a, "POST", "/v2/orders", body, true, &r, be, err);
  if (rc == APEX_EINVAL && be->venue_code == APEX_ALPACA_DUPLICATE_CODE) {
    /* An order with our id exists: an earlier attempt arrived. It is that order. */
    rc = al_query(a, q->symbol, q->client_id, out, be, err);
    goto out;
  }
  if (rc)
    goto out;
  rc = decoded(apex_alpaca_decode_order(r.body, r.len, out, err), be);
  apex_http_reply_free(&r);
  if (rc)
    be->fail = APEX_BROKER_UNKNOWN; /* accepted, unreadable: asked for by client id */
out:
  free(body);
  apex_json_free(doc);
  return rc;
}

static apex_err al_cancel(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                          apex_broker_error *be, apex_error *err)
{
  alpaca *a = impl;
  char path[128];
  apex_http_reply r;
  apex_err rc = al_query(a, symbol, client_id, out, be, err); /* the cancel takes Alpaca's id */
  if (rc)
    return rc;
  snprintf(path, sizeof path, "/v2/orders/%s", out->venue_id);
  if (strspn(out->venue_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(out->venue_id))
    return bad_request(be, err, "the venue's order id is malformed");
  if ((rc = call(a, "DELETE", path, NULL, false, &r, be, err)))
    return rc;
  apex_http_reply_free(&r);
  return al_query(a, symbol, client_id, out, be, err);
}

static apex_err al_open_orders(void *impl, const char *symbol, apex_broker_order *out, size_t cap, size_t *n,
                               apex_broker_error *be, apex_error *err)
{
  alpaca *a = impl;
  char path[128], t[APEX_MARKET_ASSET_MAX + 1];
  apex_http_reply r;
  *n = 0;
  if (symbol && !ticker(symbol, t))
    return bad_request(be, err, "a stock is a ticker traded in USD");
  snprintf(path, sizeof path, "/v2/orders?status=open&limit=500%s%s", symbol ? "&symbols=" : "", symbol ? t : "");
  apex_err rc = call(a, "GET", path, NULL, false, &r, be, err);
  if (rc)
    return rc;
  rc = decoded(apex_alpaca_decode_orders(r.body, r.len, out, cap, n, err), be);
  apex_http_reply_free(&r);
  return rc;
}

static apex_err al_balances(void *impl, apex_broker_balance *out, size_t cap, size_t *n, apex_broker_error *be,
                            apex_error *err)
{
  alpaca *a = impl;
  apex_http_reply r;
  bool blocked = true;
  size_t k = 0;
  *n = 0;
  if (!cap)
    return apex_error_set(err, APEX_ETOOBIG, "alpaca: no room for the cash balance");
  apex_err rc = call(a, "GET", "/v2/account", NULL, false, &r, be, err);
  if (rc)
    return rc;
  rc = decoded(apex_alpaca_decode_account(r.body, r.len, &out[0], &blocked, err), be);
  apex_http_reply_free(&r);
  if (rc)
    return rc;
  if (blocked) {
    be->fail = APEX_BROKER_AUTH;
    return apex_error_set(err, APEX_EINVAL, "alpaca: the account is blocked from trading");
  }
  if ((rc = call(a, "GET", "/v2/positions", NULL, false, &r, be, err)))
    return rc;
  rc = decoded(apex_alpaca_decode_positions(r.body, r.len, out + 1, cap - 1, &k, err), be);
  apex_http_reply_free(&r);
  *n = 1 + k;
  return rc;
}

static apex_err al_clock(void *impl, bool *open, int64_t *next_open_ms, apex_broker_error *be, apex_error *err)
{
  alpaca *a = impl;
  apex_http_reply r;
  int64_t next_close;
  *open = false;
  *next_open_ms = 0;
  apex_err rc = call(a, "GET", "/v2/clock", NULL, false, &r, be, err);
  if (rc)
    return rc;
  rc = decoded(apex_alpaca_decode_clock(r.body, r.len, open, next_open_ms, &next_close, err), be);
  apex_http_reply_free(&r);
  return rc;
}

static const apex_broker_ops OPS = {
    .name = "alpaca",
    .rules = al_rules,
    .place = al_place,
    .query = al_query,
    .cancel = al_cancel,
    .open_orders = al_open_orders,
    .balances = al_balances,
    .clock = al_clock,
    .heartbeat = NULL,
    .free = al_free,
};

static char *header(const char *name, const char *value)
{
  size_t n = strlen(name) + strlen(value) + 3;
  char *h = malloc(n);
  if (h)
    snprintf(h, n, "%s: %s", name, value);
  return h;
}

apex_err apex_broker_alpaca_new(const apex_broker_credentials *c, const apex_broker_options *o, apex_broker *out,
                                apex_error *err)
{
  static const apex_broker_options DEFAULTS = {0};
  alpaca *a = NULL;
  apex_err rc;
  *out = (apex_broker){0};
  if (!o)
    o = &DEFAULTS;
  if (!c || !c->api_key || !c->api_secret || !*c->api_key || !*c->api_secret || strlen(c->api_key) > 128 ||
      strlen(c->api_secret) > 256 || strcspn(c->api_key, "\r\n") != strlen(c->api_key) ||
      strcspn(c->api_secret, "\r\n") != strlen(c->api_secret))
    return apex_error_set(err, APEX_EINVAL, "alpaca: a key id and a secret key (one line each) are needed");
  if (o->timeout_ms < 0)
    return apex_error_set(err, APEX_EINVAL, "alpaca: timeout must not be negative");
  if (!(a = calloc(1, sizeof *a)))
    return apex_error_set(err, APEX_ENOMEM, "alpaca: out of memory");
  if (!(a->key_header = header("APCA-API-KEY-ID", c->api_key)) ||
      !(a->secret_header = header("APCA-API-SECRET-KEY", c->api_secret))) {
    rc = apex_error_set(err, APEX_ENOMEM, "alpaca: out of memory");
    goto fail;
  }
  apex_http_options ho = {.base_url = o->base_url ? o->base_url : o->testnet ? PAPER_URL : LIVE_URL,
                          .timeout_ms = o->timeout_ms,
                          .bucket_capacity = 3,
                          .bucket_refill_per_s = 200.0 / 60.0, /* spec 6.4 */
                          .max_tries = 2,
                          .backoff_base_ms = 200,
                          .retry_after_max_s = 2};
  if ((rc = apex_http_client_new(&ho, &a->http, err)))
    goto fail;
  *out = (apex_broker){.ops = &OPS, .impl = a};
  return APEX_OK;
fail:
  al_free(a);
  return rc;
}
