/* binance_trade_codec.c - Binance spot private replies decoded into broker.h types (see
 * binance_trade_codec.h). Pure: bytes in, values out; JSON through base/json.h, amounts through
 * base/decimal.h from their text. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "market/binance_codec.h"
#include "market/binance_trade_codec.h"
#include "market/fields.h"

/* Error bodies are small; a larger one is not the venue's error shape (same cap as binance_codec.c). */
#define ERROR_BODY_MAX 65536
#define VENUE_MSG_SHOWN 300

static apex_err parse(const char *buf, size_t len, const char *what, apex_json **doc, apex_error *err)
{
  apex_error e;
  apex_err rc = apex_json_parse(buf, len, APEX_BINANCE_REPLY_MAX, doc, &e);
  if (rc)
    return apex_error_set(err, rc, "binance %s: %s", what, e.msg);
  return APEX_OK;
}


/* Binance's client order id: ^[a-zA-Z0-9-_]{1,36}$ (ref 1.8). */
static bool client_id_ok(const char *s)
{
  size_t n = strnlen(s, APEX_CLIENT_ID_MAX + 1);
  return n >= 1 && n <= APEX_CLIENT_ID_MAX &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* Member key of o as a decimal string, >= 0 unless may_be_negative. */
static apex_err member_dec(const apex_json *o, const char *ctx, const char *key, bool may_be_negative, apex_dec *out,
                           apex_error *err)
{
  char what[96];
  snprintf(what, sizeof what, "%s %s", ctx, key);
  apex_err rc = apex_field_dec(apex_json_object_get(o, key), what, out, err);
  if (rc)
    return rc;
  if (!may_be_negative && *out < 0)
    return apex_error_set(err, APEX_EPARSE, "%s: negative", what);
  return APEX_OK;
}

/* Member key of o as an integer >= 0. */
static apex_err member_int(const apex_json *o, const char *ctx, const char *key, int64_t *out, apex_error *err)
{
  char what[96];
  snprintf(what, sizeof what, "%s %s", ctx, key);
  apex_err rc = apex_field_int(apex_json_object_get(o, key), what, out, err);
  if (rc)
    return rc;
  if (*out < 0)
    return apex_error_set(err, APEX_EPARSE, "%s: %lld is negative", what, (long long)*out);
  return APEX_OK;
}

/* Like member_int, but an absent (or null) member is *found false and *out 0. */
static apex_err member_int_opt(const apex_json *o, const char *ctx, const char *key, int64_t *out, bool *found,
                               apex_error *err)
{
  const apex_json *v = apex_json_object_get(o, key);
  *out = 0;
  *found = v && !apex_json_is_null(v);
  return *found ? member_int(o, ctx, key, out, err) : APEX_OK;
}

/* Member key of o as a string (borrowed from the document). */
static apex_err member_str(const apex_json *o, const char *ctx, const char *key, const char **out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const apex_json *v = apex_json_object_get(o, key);
  if (!(*out = apex_json_string_value(v)))
    return apex_error_set(err, APEX_EPARSE, "%s %s: expected a string, got %s", ctx, key, apex_field_shown(v, b));
  return APEX_OK;
}

/* A commissionAsset: "" or an asset name that fits. */
static apex_err member_asset(const apex_json *o, const char *ctx, const char *key, const char **out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  apex_err rc = member_str(o, ctx, key, out, err);
  if (rc)
    return rc;
  if (**out && !apex_field_text_ok(*out, APEX_MARKET_ASSET_MAX))
    return apex_error_set(err, APEX_EPARSE, "%s %s: %s is not an asset (1 to %d bytes)", ctx, key,
                          apex_field_shown(apex_json_object_get(o, key), b), APEX_MARKET_ASSET_MAX);
  return APEX_OK;
}

/* One commission into the running fee: summed when in fee_asset (which the first asset seen
 * becomes), counted in *other when in another. An empty asset may only go with a zero amount. */
static apex_err fee_add(const char *ctx, apex_dec commission, const char *asset, apex_dec *fee,
                        char fee_asset[static APEX_MARKET_ASSET_MAX + 1], int *other, apex_error *err)
{
  if (!asset[0]) {
    if (commission != 0)
      return apex_error_set(err, APEX_EPARSE, "%s commissionAsset: empty for a non-zero commission", ctx);
    return APEX_OK;
  }
  if (!fee_asset[0])
    memcpy(fee_asset, asset, strlen(asset) + 1); /* fits: member_asset checked it */
  if (strcmp(asset, fee_asset) != 0) {
    if (*other < INT_MAX)
      (*other)++;
    return APEX_OK;
  }
  if (apex_dec_add(*fee, commission, fee))
    return apex_error_set(err, APEX_EOVERFLOW, "%s commission: the sum is out of range", ctx);
  return APEX_OK;
}

/* --- orders (ref 1.8, 1.9) --- */

static const struct {
  const char *name;
  apex_order_state state;
} STATUS[] = {
    {"NEW", APEX_ORDER_STATE_NEW},
    {"PENDING_NEW", APEX_ORDER_STATE_NEW},
    {"PARTIALLY_FILLED", APEX_ORDER_STATE_PARTIAL},
    {"FILLED", APEX_ORDER_STATE_FILLED},
    {"CANCELED", APEX_ORDER_STATE_CANCELED},
    {"PENDING_CANCEL", APEX_ORDER_STATE_CANCELED}, /* "currently unused" (enums.md) */
    {"REJECTED", APEX_ORDER_STATE_REJECTED},
    {"EXPIRED", APEX_ORDER_STATE_EXPIRED},
    {"EXPIRED_IN_MATCH", APEX_ORDER_STATE_EXPIRED}, /* ended by self-trade prevention */
};

/* fills[] of a FULL reply into out's fee; their qty may not sum past executedQty. */
static apex_err order_fills(const apex_json *fills, const char *ctx, apex_broker_order *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8], fctx[96];
  apex_dec qty_sum = 0;
  apex_err rc;

  if (!apex_json_is_array(fills))
    return apex_error_set(err, APEX_EPARSE, "%s fills: expected an array, got %s", ctx, apex_field_shown(fills, b));
  for (size_t i = 0; i < apex_json_array_size(fills); i++) {
    const apex_json *f = apex_json_array_get(fills, i);
    apex_dec price, qty, commission;
    const char *asset;
    snprintf(fctx, sizeof fctx, "%s fills[%zu]", ctx, i);
    if (!apex_json_is_object(f))
      return apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", fctx, apex_field_shown(f, b));
    if ((rc = member_dec(f, fctx, "price", false, &price, err)) || (rc = member_dec(f, fctx, "qty", false, &qty, err)) ||
        (rc = member_dec(f, fctx, "commission", true, &commission, err)) ||
        (rc = member_asset(f, fctx, "commissionAsset", &asset, err)))
      return rc;
    if (apex_dec_add(qty_sum, qty, &qty_sum))
      return apex_error_set(err, APEX_EOVERFLOW, "%s qty: the sum is out of range", fctx);
    if ((rc = fee_add(fctx, commission, asset, &out->fee, out->fee_asset, &out->fee_assets_other, err)))
      return rc;
  }
  if (qty_sum > out->filled_qty)
    return apex_error_set(err, APEX_EPARSE, "%s fills: their qty sums past executedQty", ctx);
  return APEX_OK;
}

/* One order object into *out (zeroed first; the caller zeroes it again on error). joined is
 * symbol's Binance form, or NULL to take the venue's symbol as it is. */
static apex_err order_object(const apex_json *o, const char *ctx, const char *symbol, const char *joined,
                             apex_broker_order *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const char *sym, *id, *side, *status;
  int64_t order_id, transact, created, updated;
  bool has_transact, has_created, has_updated;
  apex_err rc;

  *out = (apex_broker_order){0};
  if (!apex_json_is_object(o))
    return apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ctx, apex_field_shown(o, b));

  if ((rc = member_str(o, ctx, "symbol", &sym, err)))
    return rc;
  if (joined && strcmp(sym, joined) != 0)
    return apex_error_set(err, APEX_EPARSE, "%s symbol: %s, expected \"%s\"", ctx,
                          apex_field_shown(apex_json_object_get(o, "symbol"), b), joined);
  if (!joined && !apex_field_text_ok(sym, APEX_MARKET_SYMBOL_MAX))
    return apex_error_set(err, APEX_EPARSE, "%s symbol: %s is not a symbol (1 to %d bytes)", ctx,
                          apex_field_shown(apex_json_object_get(o, "symbol"), b), APEX_MARKET_SYMBOL_MAX);
  memcpy(out->symbol, joined ? symbol : sym, strlen(joined ? symbol : sym) + 1); /* both fit: checked */

  if ((rc = member_int(o, ctx, "orderId", &order_id, err)))
    return rc;
  snprintf(out->venue_id, sizeof out->venue_id, "%lld", (long long)order_id);

  /* A DELETE reply's clientOrderId is the cancel's own id; the order's is origClientOrderId. */
  const apex_json *orig = apex_json_object_get(o, "origClientOrderId");
  const bool cancel_reply = orig && !apex_json_is_null(orig);
  const char *id_key = cancel_reply ? "origClientOrderId" : "clientOrderId";
  if ((rc = member_str(o, ctx, id_key, &id, err)))
    return rc;
  if (!client_id_ok(id))
    return apex_error_set(err, APEX_EPARSE, "%s %s: %s is not a client order id (1 to %d of A-Z a-z 0-9 - _)", ctx,
                          id_key, apex_field_shown(apex_json_object_get(o, id_key), b), APEX_CLIENT_ID_MAX);
  memcpy(out->client_id, id, strlen(id) + 1);

  if ((rc = member_int_opt(o, ctx, "transactTime", &transact, &has_transact, err)) ||
      (rc = member_int_opt(o, ctx, "time", &created, &has_created, err)) ||
      (rc = member_int_opt(o, ctx, "updateTime", &updated, &has_updated, err)))
    return rc;
  /* transactTime is when the request was handled: the order's birth for POST, its cancel for
   * DELETE, which says nothing of when the order was made. */
  out->time = has_created ? created : has_transact && !cancel_reply ? transact : 0;
  out->update_time = has_updated ? updated : has_transact ? transact : out->time;

  /* An ACK (ref 1.8) has no status, side or quantities. Any of them present makes it a full
   * object, whose status then must be there too: a cut reply must not read as a fresh order. */
  const apex_json *sv = apex_json_object_get(o, "status");
  if (!sv && !apex_json_object_get(o, "side") && !apex_json_object_get(o, "origQty") &&
      !apex_json_object_get(o, "executedQty")) {
    out->state = APEX_ORDER_STATE_NEW;
    return APEX_OK;
  }
  if ((rc = member_str(o, ctx, "status", &status, err)))
    return rc;
  for (size_t k = 0; k < APEX_ARRAY_LEN(STATUS) && !out->state; k++)
    if (strcmp(status, STATUS[k].name) == 0)
      out->state = STATUS[k].state;
  if (!out->state)
    return apex_error_set(err, APEX_EPARSE, "%s status: %s is not an order status", ctx, apex_field_shown(sv, b));

  if ((rc = member_str(o, ctx, "side", &side, err)))
    return rc;
  if (strcmp(side, "BUY") != 0 && strcmp(side, "SELL") != 0)
    return apex_error_set(err, APEX_EPARSE, "%s side: %s, expected \"BUY\" or \"SELL\"", ctx,
                          apex_field_shown(apex_json_object_get(o, "side"), b));
  out->buy = side[0] == 'B';

  if ((rc = member_dec(o, ctx, "origQty", false, &out->qty, err)) ||
      (rc = member_dec(o, ctx, "executedQty", false, &out->filled_qty, err)) ||
      (rc = member_dec(o, ctx, "cummulativeQuoteQty", false, &out->quote_filled, err)))
    return rc;
  /* origQty 0: a MARKET order by quoteOrderQty, whose base quantity the venue chose. */
  if (out->qty > 0 && out->filled_qty > out->qty)
    return apex_error_set(err, APEX_EPARSE, "%s executedQty: above origQty", ctx);

  const apex_json *fills = apex_json_object_get(o, "fills");
  if (fills && (rc = order_fills(fills, ctx, out, err)))
    return rc;
  return APEX_OK;
}

apex_err apex_binance_decode_order(const char *buf, size_t len, const char *symbol, apex_broker_order *out,
                                   apex_error *err)
{
  apex_json *doc = NULL;
  char joined[APEX_MARKET_SYMBOL_MAX + 1];
  apex_err rc;

  *out = (apex_broker_order){0};
  if (symbol && apex_market_joined(symbol, joined))
    return apex_error_set(err, APEX_EINVAL, "binance order: %s is not a BASE/QUOTE symbol", symbol);
  if ((rc = parse(buf, len, "order", &doc, err)))
    goto out;
  rc = order_object(doc, "binance order", symbol, symbol ? joined : NULL, out, err);
out:
  if (rc)
    *out = (apex_broker_order){0};
  apex_json_free(doc);
  return rc;
}

apex_err apex_binance_decode_orders(const char *buf, size_t len, const char *symbol, apex_broker_order *out,
                                    size_t cap, size_t *n, apex_error *err)
{
  apex_json *doc = NULL;
  char joined[APEX_MARKET_SYMBOL_MAX + 1], ctx[48];
  size_t kept = 0;
  apex_err rc;

  *n = 0;
  if (symbol && apex_market_joined(symbol, joined))
    return apex_error_set(err, APEX_EINVAL, "binance openOrders: %s is not a BASE/QUOTE symbol", symbol);
  if ((rc = parse(buf, len, "openOrders", &doc, err)))
    goto out;
  if (!apex_json_is_array(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance openOrders: expected an array, got %s", apex_json_type_name(doc));
    goto out;
  }
  for (size_t i = 0; i < apex_json_array_size(doc); i++) {
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "binance openOrders: more than %zu orders", cap);
      goto out;
    }
    snprintf(ctx, sizeof ctx, "binance openOrders[%zu]", i);
    if ((rc = order_object(apex_json_array_get(doc, i), ctx, symbol, symbol ? joined : NULL, &out[kept], err))) {
      out[kept] = (apex_broker_order){0};
      goto out;
    }
    kept++;
  }
out:
  if (rc && rc != APEX_ETOOBIG)
    kept = 0;
  *n = kept;
  apex_json_free(doc);
  return rc;
}

/* --- myTrades --- */

apex_err apex_binance_decode_fills(const char *buf, size_t len, int64_t order_id, apex_dec *fee,
                                   char fee_asset[static APEX_MARKET_ASSET_MAX + 1], int *other, apex_dec *qty,
                                   apex_dec *quote, apex_error *err)
{
  apex_json *doc = NULL;
  char b[APEX_FIELD_SHOWN_MAX + 8], ctx[48];
  /* Sums go into copies, written back only when every row passed. */
  apex_dec f = *fee, q = qty ? *qty : 0, qq = quote ? *quote : 0;
  char fa[APEX_MARKET_ASSET_MAX + 1];
  int o = *other;
  apex_err rc;

  size_t falen = strnlen(fee_asset, APEX_MARKET_ASSET_MAX);
  memcpy(fa, fee_asset, falen);
  fa[falen] = '\0';
  if ((rc = parse(buf, len, "myTrades", &doc, err)))
    goto out;
  if (!apex_json_is_array(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance myTrades: expected an array, got %s", apex_json_type_name(doc));
    goto out;
  }
  for (size_t i = 0; i < apex_json_array_size(doc); i++) {
    const apex_json *row = apex_json_array_get(doc, i);
    const char *sym, *asset;
    int64_t id, oid, t;
    apex_dec price, rqty, rquote, commission;
    snprintf(ctx, sizeof ctx, "binance myTrades[%zu]", i);
    if (!apex_json_is_object(row)) {
      rc = apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ctx, apex_field_shown(row, b));
      goto out;
    }
    if ((rc = member_str(row, ctx, "symbol", &sym, err)) || (rc = member_int(row, ctx, "id", &id, err)) ||
        (rc = member_int(row, ctx, "orderId", &oid, err)) ||
        (rc = member_dec(row, ctx, "price", false, &price, err)) ||
        (rc = member_dec(row, ctx, "qty", false, &rqty, err)) ||
        (rc = member_dec(row, ctx, "quoteQty", false, &rquote, err)) ||
        (rc = member_dec(row, ctx, "commission", true, &commission, err)) ||
        (rc = member_asset(row, ctx, "commissionAsset", &asset, err)) ||
        (rc = member_int(row, ctx, "time", &t, err)))
      goto out;
    static const char *const BOOLS[] = {"isBuyer", "isMaker"};
    for (size_t k = 0; k < APEX_ARRAY_LEN(BOOLS); k++) {
      const apex_json *v = apex_json_object_get(row, BOOLS[k]);
      if (!apex_json_is_bool(v)) {
        rc = apex_error_set(err, APEX_EPARSE, "%s %s: expected a boolean, got %s", ctx, BOOLS[k], apex_field_shown(v, b));
        goto out;
      }
    }
    if (oid != order_id)
      continue;
    if ((rc = fee_add(ctx, commission, asset, &f, fa, &o, err)))
      goto out;
    if (apex_dec_add(q, rqty, &q) || apex_dec_add(qq, rquote, &qq)) {
      rc = apex_error_set(err, APEX_EOVERFLOW, "%s qty, quoteQty: the sum is out of range", ctx);
      goto out;
    }
  }
  *fee = f;
  memcpy(fee_asset, fa, strlen(fa) + 1);
  *other = o;
  if (qty)
    *qty = q;
  if (quote)
    *quote = qq;
out:
  apex_json_free(doc);
  return rc;
}

/* --- account, time --- */

apex_err apex_binance_decode_account(const char *buf, size_t len, apex_broker_balance *out, size_t cap, size_t *n,
                                     apex_error *err)
{
  apex_json *doc = NULL;
  char b[APEX_FIELD_SHOWN_MAX + 8], ctx[48];
  size_t kept = 0;
  apex_err rc;

  *n = 0;
  if ((rc = parse(buf, len, "account", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance account: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  const apex_json *bal = apex_json_object_get(doc, "balances");
  if (!apex_json_is_array(bal)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance account balances: expected an array, got %s",
                        apex_json_type_name(bal));
    goto out;
  }
  for (size_t i = 0; i < apex_json_array_size(bal); i++) {
    const apex_json *e = apex_json_array_get(bal, i);
    const char *asset;
    apex_broker_balance x = {0};
    snprintf(ctx, sizeof ctx, "binance account balances[%zu]", i);
    if (!apex_json_is_object(e)) {
      rc = apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ctx, apex_field_shown(e, b));
      goto out;
    }
    if ((rc = member_str(e, ctx, "asset", &asset, err)) || (rc = member_dec(e, ctx, "free", false, &x.free, err)) ||
        (rc = member_dec(e, ctx, "locked", false, &x.locked, err)))
      goto out;
    if (x.free == 0 && x.locked == 0)
      continue;
    if (!apex_field_text_ok(asset, APEX_MARKET_ASSET_MAX)) {
      rc = apex_error_set(err, APEX_EPARSE, "%s asset: %s is not an asset (1 to %d bytes)", ctx,
                          apex_field_shown(apex_json_object_get(e, "asset"), b), APEX_MARKET_ASSET_MAX);
      goto out;
    }
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "binance account: more than %zu non-zero balances", cap);
      goto out;
    }
    memcpy(x.asset, asset, strlen(asset) + 1);
    out[kept++] = x;
  }
out:
  if (rc && rc != APEX_ETOOBIG)
    kept = 0;
  *n = kept;
  apex_json_free(doc);
  return rc;
}

apex_err apex_binance_decode_server_time(const char *buf, size_t len, int64_t *ms, apex_error *err)
{
  apex_json *doc = NULL;
  apex_err rc;

  *ms = 0;
  if ((rc = parse(buf, len, "time", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "binance time: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  rc = member_int(doc, "binance time", "serverTime", ms, err);
out:
  if (rc)
    *ms = 0;
  apex_json_free(doc);
  return rc;
}

/* --- errors (ref 1.2, 1.11) --- */

/* The venue's text made safe for a log line: at most VENUE_MSG_SHOWN bytes, cut before a UTF-8
 * sequence rather than through it, control characters as '?'. */
static void shown_msg(const char *m, char out[static VENUE_MSG_SHOWN + 1])
{
  size_t n = strnlen(m, VENUE_MSG_SHOWN + 1);
  if (n > VENUE_MSG_SHOWN) {
    n = VENUE_MSG_SHOWN;
    while (n > 0 && ((unsigned char)m[n] & 0xc0) == 0x80)
      n--;
  }
  for (size_t i = 0; i < n; i++)
    out[i] = (unsigned char)m[i] < 0x20 || m[i] == 0x7f ? '?' : m[i];
  out[n] = '\0';
}

/* A 4xx by the venue's code (0: none), then by status. */
static apex_err by_code_4xx(int status, long code, const char *msg, apex_broker_fail *fail)
{
  switch (code) {
  case -1000: /* UNKNOWN: "an unknown error occurred while processing the request" */
    *fail = APEX_BROKER_UNKNOWN;
    return APEX_EIO;
  case -1001: /* DISCONNECTED: internal error, try again */
    *fail = APEX_BROKER_UNAVAILABLE;
    return APEX_EIO;
  case -1003: /* too much request weight */
  case -1015: /* too many new orders */
    *fail = APEX_BROKER_RATE_LIMITED;
    return APEX_ERATELIMIT;
  case -2010: /* NEW_ORDER_REJECTED: the message says why (ref 1.11) */
    if (msg && strcasestr(msg, "insufficient balance")) {
      *fail = APEX_BROKER_NO_FUNDS;
      return APEX_ENOFUNDS;
    }
    *fail = APEX_BROKER_REJECTED;
    return APEX_EINVAL;
  case -1013: /* filter failure */
  case -1021: /* timestamp outside recvWindow: venue_code tells the caller to resync */
  case -1100:
  case -1101:
  case -1102:
  case -1103:
  case -1104:
  case -1105:
  case -1106: /* malformed, missing or extra parameters */
  case -1111: /* precision over the maximum */
  case -1112:
  case -1114:
  case -1115:
  case -1116:
  case -1117: /* bad time in force, order type, side */
  case -1121: /* BAD_SYMBOL */
    *fail = APEX_BROKER_REJECTED;
    return APEX_EINVAL;
  case -2011: /* CANCEL_REJECTED: unknown order */
  case -2013: /* NO_SUCH_ORDER */
    *fail = APEX_BROKER_NOT_FOUND;
    return APEX_ENOTFOUND;
  case -1022: /* bad signature */
  case -2014: /* API-key format invalid */
  case -2015: /* invalid key, IP or permissions */
    *fail = APEX_BROKER_AUTH;
    return APEX_EINVAL;
  default:
    break;
  }
  if (status == 401 || status == 403) { /* 403: the WAF too (ref 1.2) */
    *fail = APEX_BROKER_AUTH;
    return APEX_EINVAL;
  }
  /* A 404 without the venue's -2013 is a wrong path or base URL, not "no such order": reading it
   * as NOT_FOUND would let a caller conclude an order never existed. */
  *fail = APEX_BROKER_REJECTED;
  return APEX_EINVAL;
}

apex_err apex_binance_decode_trade_error(int status, const char *body, size_t len, int retry_after_s,
                                         apex_broker_error *be, apex_error *err)
{
  apex_json *doc = NULL;
  apex_broker_error x = {.http_status = status, .retry_after_s = -1};
  char shown[VENUE_MSG_SHOWN + 1], retry[48] = "";
  const char *msg = NULL;
  int64_t code = 0;
  bool shaped = false;
  apex_err rc;

  if (status >= 200 && status <= 299) {
    rc = APEX_OK;
    goto out;
  }
  if (body && len <= ERROR_BODY_MAX && apex_json_parse(body, len, ERROR_BODY_MAX, &doc, NULL) == APEX_OK) {
    const apex_json *c = apex_json_object_get(doc, "code");
    msg = apex_json_string_value(apex_json_object_get(doc, "msg"));
    /* Binance's codes are small negatives; anything far outside is not its shape. */
    shaped = apex_json_is_integer(c) && apex_json_int64(c, &code) == APEX_OK && msg && code >= -99999 &&
             code <= 99999;
  }
  if (!shaped) {
    code = 0;
    msg = NULL;
  }
  x.venue_code = (long)code;

  if (status == 429 || status == 418) { /* 418: banned after going on past 429s (ref 1.2) */
    x.fail = APEX_BROKER_RATE_LIMITED;
    x.retry_after_s = retry_after_s >= 0 ? retry_after_s : -1;
    rc = APEX_ERATELIMIT;
    if (retry_after_s >= 0)
      snprintf(retry, sizeof retry, ", retry after %d s", retry_after_s);
    else
      snprintf(retry, sizeof retry, ", no Retry-After given");
  } else if (code == -1006 || code == -1007) { /* sent, execution status unknown (ref 1.2) */
    x.fail = APEX_BROKER_UNKNOWN;
    rc = APEX_ETIMEOUT;
  } else if (status < 400 || status > 499) { /* 5xx: Binance's side, whatever the body says */
    x.fail = APEX_BROKER_UNAVAILABLE;
    rc = APEX_EIO;
  } else {
    rc = by_code_4xx(status, x.venue_code, msg, &x.fail);
  }

  if (shaped) {
    shown_msg(msg, shown);
    apex_error_set(err, rc, "binance: HTTP %d, code %ld: %s%s", status, x.venue_code, shown, retry);
  } else {
    apex_error_set(err, rc, "binance: HTTP %d (body is not a Binance error)%s", status, retry);
  }
out:
  if (be)
    *be = x;
  apex_json_free(doc);
  return rc;
}
