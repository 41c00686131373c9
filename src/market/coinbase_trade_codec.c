/* coinbase_trade_codec.c - Coinbase Advanced Trade replies decoded into broker.h types (see
 * coinbase_trade_codec.h). Pure: bytes in, values out; JSON through base/json.h, amounts through
 * base/decimal.h from their text, times through base/parse.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "base/parse.h"
#include "core/timeframe.h"
#include "market/coinbase_trade_codec.h"
#include "market/fields.h"

/* Error bodies are small; a larger one is not the venue's error shape. */
#define ERROR_BODY_MAX 65536
#define VENUE_MSG_SHOWN 300

static apex_err parse(const char *buf, size_t len, const char *what, apex_json **doc, apex_error *err)
{
  apex_error e;
  apex_err rc = apex_json_parse(buf, len, APEX_COINBASE_REPLY_MAX, doc, &e);
  if (rc)
    return apex_error_set(err, rc, "coinbase %s: %s", what, e.msg);
  return APEX_OK;
}

static bool is_null(const apex_json *v) { return !v || apex_json_is_null(v); }

/* Member key of o as a string (borrowed from the document). */
static apex_err member_str(const apex_json *o, const char *ctx, const char *key, const char **out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const apex_json *v = apex_json_object_get(o, key);
  if (!(*out = apex_json_string_value(v)))
    return apex_error_set(err, APEX_EPARSE, "%s %s: expected a string, got %s", ctx, key, apex_field_shown(v, b));
  return APEX_OK;
}

static apex_err member_bool(const apex_json *o, const char *ctx, const char *key, bool *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const apex_json *v = apex_json_object_get(o, key);
  if (!apex_json_is_bool(v))
    return apex_error_set(err, APEX_EPARSE, "%s %s: expected a boolean, got %s", ctx, key, apex_field_shown(v, b));
  *out = apex_json_bool_value(v);
  return APEX_OK;
}

/* Member key of o as a decimal string >= 0. With nullable, an absent or null member is *found
 * false and *out 0. */
static apex_err member_amount(const apex_json *o, const char *ctx, const char *key, bool nullable, apex_dec *out,
                              bool *found, apex_error *err)
{
  char what[96];
  const apex_json *v = apex_json_object_get(o, key);
  *out = 0;
  if (found)
    *found = !is_null(v);
  if (nullable && is_null(v))
    return APEX_OK;
  snprintf(what, sizeof what, "%s %s", ctx, key);
  apex_err rc = apex_field_dec(v, what, out, err);
  if (rc)
    return rc;
  if (*out < 0)
    return apex_error_set(err, APEX_EPARSE, "%s: negative", what);
  return APEX_OK;
}

/* Member key of o as an RFC 3339 time. With nullable, an absent, null or "" member is *found
 * false and *ms 0. */
static apex_err member_time(const apex_json *o, const char *ctx, const char *key, bool nullable, int64_t *ms,
                            bool *found, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const apex_json *v = apex_json_object_get(o, key);
  const char *s = apex_json_string_value(v);
  bool absent = is_null(v) || (s && !s[0]);
  *ms = 0;
  if (found)
    *found = !absent;
  if (nullable && absent)
    return APEX_OK;
  if (!s)
    return apex_error_set(err, APEX_EPARSE, "%s %s: expected an RFC 3339 time, got %s", ctx, key, apex_field_shown(v, b));
  if (!apex_field_rfc3339(s, ms))
    return apex_error_set(err, APEX_EPARSE, "%s %s: %s is not an RFC 3339 time", ctx, key, apex_field_shown(v, b));
  return APEX_OK;
}

/* --- orders (ref 3.4) --- */

/* 1..APEX_MARKET_ASSET_MAX of A-Z 0-9. */
static bool asset_ok(const char *s, size_t n)
{
  return n >= 1 && n <= APEX_MARKET_ASSET_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") >= n;
}

/* "BTC-USD" -> "BTC/USD" in sym and "USD" in quote; false if it is not BASE-QUOTE. */
static bool product_symbol(const char *p, char sym[static APEX_MARKET_SYMBOL_MAX + 1],
                           char quote[static APEX_MARKET_ASSET_MAX + 1])
{
  const char *dash = strchr(p, '-');
  if (!dash)
    return false;
  size_t nb = (size_t)(dash - p), nq = strnlen(dash + 1, APEX_MARKET_ASSET_MAX + 1);
  if (!asset_ok(p, nb) || !asset_ok(dash + 1, nq) || dash[1 + nq] != '\0')
    return false;
  snprintf(sym, APEX_MARKET_SYMBOL_MAX + 1, "%.*s/%s", (int)nb, p, dash + 1); /* 15 + 1 + 15 < 33 */
  memcpy(quote, dash + 1, nq + 1);
  return true;
}

enum { DIRECT, WORKING };

static const struct {
  const char *name;
  int rule;
  apex_order_state state; /* DIRECT only */
} STATUS[] = {
    {"OPEN", WORKING, 0},
    {"PENDING", WORKING, 0},
    {"QUEUED", WORKING, 0},
    {"CANCEL_QUEUED", WORKING, 0}, /* a cancel was asked for; fills may still come */
    {"EDIT_QUEUED", WORKING, 0},
    {"FILLED", DIRECT, APEX_ORDER_STATE_FILLED},
    {"CANCELLED", DIRECT, APEX_ORDER_STATE_CANCELED},
    {"EXPIRED", DIRECT, APEX_ORDER_STATE_EXPIRED},
    {"FAILED", DIRECT, APEX_ORDER_STATE_REJECTED},
};

/* order_configuration's one kind: qty from base_size, 0 for an order by quote_size. */
static apex_err configured_qty(const apex_json *o, const char *ctx, apex_dec *qty, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8], kctx[128];
  const apex_json *cfg = apex_json_object_get(o, "order_configuration"), *kind = NULL;
  const char *name = NULL;
  bool has_base, has_quote;
  apex_dec quote;
  apex_err rc;

  *qty = 0;
  if (!apex_json_is_object(cfg) || apex_json_object_size(cfg) != 1)
    return apex_error_set(err, APEX_EPARSE, "%s order_configuration: expected an object of one kind, got %s", ctx,
                          apex_field_shown(cfg, b));
  apex_json_iter it = apex_json_object_iter(cfg);
  if (!apex_json_object_next(&it, &name, &kind) || !apex_json_is_object(kind))
    return apex_error_set(err, APEX_EPARSE, "%s order_configuration: expected an object of one kind, got %s", ctx,
                          apex_field_shown(kind, b));
  snprintf(kctx, sizeof kctx, "%s order_configuration.%.40s", ctx, name);
  if ((rc = member_amount(kind, kctx, "base_size", true, qty, &has_base, err)))
    return rc;
  if (has_base)
    return APEX_OK;
  if ((rc = member_amount(kind, kctx, "quote_size", true, &quote, &has_quote, err)))
    return rc;
  if (!has_quote)
    return apex_error_set(err, APEX_EPARSE, "%s base_size: missing, and no quote_size either", kctx);
  return APEX_OK;
}

/* One order object into *out (zeroed first; the caller zeroes it again on error). */
static apex_err order_object(const apex_json *o, const char *ctx, apex_broker_order *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8], quote_asset[APEX_MARKET_ASSET_MAX + 1];
  const char *id, *cid, *prod, *side, *status;
  apex_dec avg = 0, fees;
  bool has_avg, has_value, has_fees, has_last;
  int64_t last_fill;
  size_t k;
  apex_err rc;

  *out = (apex_broker_order){0};
  if (!apex_json_is_object(o))
    return apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ctx, apex_field_shown(o, b));

  if ((rc = member_str(o, ctx, "order_id", &id, err)))
    return rc;
  if (!apex_field_text_ok(id, APEX_VENUE_ID_MAX))
    return apex_error_set(err, APEX_EPARSE, "%s order_id: %s is not an order id (1 to %d bytes)", ctx,
                          apex_field_shown(apex_json_object_get(o, "order_id"), b), APEX_VENUE_ID_MAX);
  memcpy(out->venue_id, id, strlen(id) + 1);

  if ((rc = member_str(o, ctx, "client_order_id", &cid, err)))
    return rc;
  if (!apex_field_text_ok(cid, APEX_CLIENT_ID_MAX))
    return apex_error_set(err, APEX_EPARSE, "%s client_order_id: %s is not one of ours (1 to %d bytes)", ctx,
                          apex_field_shown(apex_json_object_get(o, "client_order_id"), b), APEX_CLIENT_ID_MAX);
  memcpy(out->client_id, cid, strlen(cid) + 1);

  if ((rc = member_str(o, ctx, "product_id", &prod, err)))
    return rc;
  if (!product_symbol(prod, out->symbol, quote_asset))
    return apex_error_set(err, APEX_EPARSE, "%s product_id: %s is not BASE-QUOTE", ctx,
                          apex_field_shown(apex_json_object_get(o, "product_id"), b));

  if ((rc = member_str(o, ctx, "side", &side, err)))
    return rc;
  if (strcmp(side, "BUY") != 0 && strcmp(side, "SELL") != 0)
    return apex_error_set(err, APEX_EPARSE, "%s side: %s, expected \"BUY\" or \"SELL\"", ctx,
                          apex_field_shown(apex_json_object_get(o, "side"), b));
  out->buy = side[0] == 'B';

  if ((rc = member_str(o, ctx, "status", &status, err)))
    return rc;
  for (k = 0; k < APEX_ARRAY_LEN(STATUS); k++)
    if (strcmp(status, STATUS[k].name) == 0)
      break;
  if (k == APEX_ARRAY_LEN(STATUS))
    return apex_error_set(err, APEX_EPARSE, "%s status: %s is not an order status", ctx,
                          apex_field_shown(apex_json_object_get(o, "status"), b));

  if ((rc = configured_qty(o, ctx, &out->qty, err)))
    return rc;
  if ((rc = member_amount(o, ctx, "filled_size", false, &out->filled_qty, NULL, err)))
    return rc;
  if (out->qty > 0 && out->filled_qty > out->qty)
    return apex_error_set(err, APEX_EPARSE, "%s filled_size: above the base_size", ctx);

  if ((rc = member_amount(o, ctx, "filled_value", true, &out->quote_filled, &has_value, err)) ||
      (rc = member_amount(o, ctx, "average_filled_price", true, &avg, &has_avg, err)))
    return rc;
  if (!has_value && out->filled_qty > 0) {
    if (!has_avg)
      return apex_error_set(err, APEX_EPARSE, "%s average_filled_price: missing for a filled_size above 0", ctx);
    apex_field_exact q = apex_field_exact_of(apex_json_string_value(apex_json_object_get(o, "filled_size")), out->filled_qty);
    apex_field_exact p = apex_field_exact_of(apex_json_string_value(apex_json_object_get(o, "average_filled_price")), avg);
    if (apex_field_exact_mul(q, p, &out->quote_filled))
      return apex_error_set(err, APEX_EOVERFLOW, "%s filled_size x average_filled_price: out of range", ctx);
  }

  if ((rc = member_amount(o, ctx, "total_fees", true, &fees, &has_fees, err)))
    return rc;
  if (has_fees) {
    out->fee = fees;
    memcpy(out->fee_asset, quote_asset, sizeof quote_asset);
  }

  if ((rc = member_time(o, ctx, "created_time", false, &out->time, NULL, err)) ||
      (rc = member_time(o, ctx, "last_fill_time", true, &last_fill, &has_last, err)))
    return rc;
  out->update_time = has_last ? last_fill : out->time;

  if (STATUS[k].rule == DIRECT)
    out->state = STATUS[k].state;
  else
    out->state = out->filled_qty > 0 ? APEX_ORDER_STATE_PARTIAL : APEX_ORDER_STATE_NEW;
  return APEX_OK;
}

apex_err apex_coinbase_decode_order(const char *buf, size_t len, apex_broker_order *out, apex_error *err)
{
  apex_json *doc = NULL;
  apex_err rc;

  *out = (apex_broker_order){0};
  if ((rc = parse(buf, len, "order", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "coinbase order: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  rc = order_object(apex_json_object_get(doc, "order"), "coinbase order", out, err);
out:
  if (rc)
    *out = (apex_broker_order){0};
  apex_json_free(doc);
  return rc;
}

/* A list reply's has_next: absent reads as false. */
static apex_err has_next(const apex_json *doc, const char *ctx, bool *more, apex_error *err)
{
  *more = false;
  if (is_null(apex_json_object_get(doc, "has_next")))
    return APEX_OK;
  return member_bool(doc, ctx, "has_next", more, err);
}

apex_err apex_coinbase_decode_orders(const char *buf, size_t len, apex_broker_order *out, size_t cap, size_t *n,
                                     apex_error *err)
{
  static const char ctx[] = "coinbase orders";
  apex_json *doc = NULL;
  const apex_json *arr;
  char ictx[48];
  size_t kept = 0;
  bool more = false;
  apex_err rc;

  *n = 0;
  if ((rc = parse(buf, len, "orders", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "coinbase orders: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  arr = apex_json_object_get(doc, "orders");
  if (!apex_json_is_array(arr)) {
    rc = apex_error_set(err, APEX_EPARSE, "coinbase orders orders: expected an array, got %s",
                        apex_json_type_name(arr));
    goto out;
  }
  if ((rc = has_next(doc, ctx, &more, err)))
    goto out;
  for (size_t i = 0; i < apex_json_array_size(arr); i++) {
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "coinbase orders: more than %zu orders", cap);
      goto out;
    }
    snprintf(ictx, sizeof ictx, "coinbase orders[%zu]", i);
    if ((rc = order_object(apex_json_array_get(arr, i), ictx, &out[kept], err))) {
      out[kept] = (apex_broker_order){0};
      goto out;
    }
    kept++;
  }
  if (more)
    rc = apex_error_set(err, APEX_ETOOBIG, "coinbase orders: has_next, more than the %zu orders read", kept);
out:
  if (rc && rc != APEX_ETOOBIG)
    kept = 0;
  *n = kept;
  apex_json_free(doc);
  return rc;
}

/* --- accounts --- */

/* A {"value": "1.23", "currency": "BTC"} member of an account; absent with nullable is 0. */
static apex_err money(const apex_json *acct, const char *ctx, const char *key, const char *currency, bool nullable,
                      apex_dec *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8], mctx[96];
  const apex_json *m = apex_json_object_get(acct, key);
  const char *cur;
  *out = 0;
  if (nullable && is_null(m))
    return APEX_OK;
  if (!apex_json_is_object(m))
    return apex_error_set(err, APEX_EPARSE, "%s %s: expected an object, got %s", ctx, key, apex_field_shown(m, b));
  snprintf(mctx, sizeof mctx, "%s %s", ctx, key);
  apex_err rc = member_amount(m, mctx, "value", false, out, NULL, err);
  if (rc)
    return rc;
  if (!is_null(apex_json_object_get(m, "currency"))) {
    if ((rc = member_str(m, mctx, "currency", &cur, err)))
      return rc;
    if (strcmp(cur, currency) != 0)
      return apex_error_set(err, APEX_EPARSE, "%s currency: %s, not the account's", mctx,
                            apex_field_shown(apex_json_object_get(m, "currency"), b));
  }
  return APEX_OK;
}

apex_err apex_coinbase_decode_accounts(const char *buf, size_t len, apex_broker_balance *out, size_t cap, size_t *n,
                                       apex_error *err)
{
  static const char ctx[] = "coinbase accounts";
  apex_json *doc = NULL;
  const apex_json *arr;
  char ictx[48], b[APEX_FIELD_SHOWN_MAX + 8];
  size_t kept = 0;
  bool more = false;
  apex_err rc;

  *n = 0;
  if ((rc = parse(buf, len, "accounts", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "coinbase accounts: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  arr = apex_json_object_get(doc, "accounts");
  if (!apex_json_is_array(arr)) {
    rc = apex_error_set(err, APEX_EPARSE, "coinbase accounts accounts: expected an array, got %s",
                        apex_json_type_name(arr));
    goto out;
  }
  if ((rc = has_next(doc, ctx, &more, err)))
    goto out;
  for (size_t i = 0; i < apex_json_array_size(arr); i++) {
    const apex_json *a = apex_json_array_get(arr, i);
    const char *cur;
    apex_broker_balance x = {0};
    snprintf(ictx, sizeof ictx, "coinbase accounts[%zu]", i);
    if (!apex_json_is_object(a)) {
      rc = apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ictx, apex_field_shown(a, b));
      goto out;
    }
    if ((rc = member_str(a, ictx, "currency", &cur, err)))
      goto out;
    if (!apex_field_text_ok(cur, APEX_MARKET_ASSET_MAX)) {
      rc = apex_error_set(err, APEX_EPARSE, "%s currency: %s is not an asset (1 to %d bytes)", ictx,
                          apex_field_shown(apex_json_object_get(a, "currency"), b), APEX_MARKET_ASSET_MAX);
      goto out;
    }
    if ((rc = money(a, ictx, "available_balance", cur, false, &x.free, err)) ||
        (rc = money(a, ictx, "hold", cur, true, &x.locked, err)))
      goto out;
    if (x.free == 0 && x.locked == 0)
      continue;
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "coinbase accounts: more than %zu balances", cap);
      goto out;
    }
    memcpy(x.asset, cur, strlen(cur) + 1);
    out[kept++] = x;
  }
  if (more)
    rc = apex_error_set(err, APEX_ETOOBIG, "coinbase accounts: has_next, more than the %zu balances read", kept);
out:
  if (rc && rc != APEX_ETOOBIG)
    kept = 0;
  *n = kept;
  apex_json_free(doc);
  return rc;
}

/* --- cancel --- */

apex_err apex_coinbase_decode_cancel(const char *buf, size_t len, const char *order_id, bool *ok, apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *arr;
  char ctx[48], b[APEX_FIELD_SHOWN_MAX + 8];
  bool found = false;
  apex_err rc;

  *ok = false;
  if (!order_id)
    return apex_error_set(err, APEX_EINVAL, "coinbase cancel: no order id");
  if ((rc = parse(buf, len, "cancel", &doc, err)))
    goto out;
  arr = apex_json_object_get(doc, "results");
  if (!apex_json_is_array(arr)) {
    rc = apex_error_set(err, APEX_EPARSE, "coinbase cancel results: expected an array, got %s",
                        apex_json_type_name(arr));
    goto out;
  }
  for (size_t i = 0; i < apex_json_array_size(arr); i++) {
    const apex_json *r = apex_json_array_get(arr, i);
    const char *id;
    bool success;
    snprintf(ctx, sizeof ctx, "coinbase cancel results[%zu]", i);
    if (!apex_json_is_object(r)) {
      rc = apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ctx, apex_field_shown(r, b));
      goto out;
    }
    if ((rc = member_bool(r, ctx, "success", &success, err)) || (rc = member_str(r, ctx, "order_id", &id, err)))
      goto out;
    if (!found && strcmp(id, order_id) == 0) {
      found = true;
      *ok = success;
    }
  }
  if (!found)
    rc = apex_error_set(err, APEX_EPARSE, "coinbase cancel results: no result for the order asked for");
out:
  if (rc)
    *ok = false;
  apex_json_free(doc);
  return rc;
}

/* --- errors (ref 3.2, 7) --- */

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

static bool eq(const char *s, const char *want) { return s && strcasecmp(s, want) == 0; }
static bool has(const char *s, const char *part) { return s && strcasestr(s, part); }

/* "coinbase: <head>: ERROR: MESSAGE" with the venue's texts made safe. */
static apex_err venue_error(apex_error *err, apex_err rc, const char *head, const char *code, const char *msg,
                            const char *tail)
{
  char c[VENUE_MSG_SHOWN + 1] = "", m[VENUE_MSG_SHOWN + 1] = "";
  if (code)
    shown_msg(code, c);
  if (msg)
    shown_msg(msg, m);
  return apex_error_set(err, rc, "coinbase: %s: %s%s%s%s", head, c[0] ? c : "(no error code)", m[0] ? ": " : "", m,
                        tail);
}

apex_err apex_coinbase_decode_create(const char *buf, size_t len, char order_id[static APEX_VENUE_ID_MAX + 1],
                                     apex_broker_error *be, apex_error *err)
{
  static const char ctx[] = "coinbase create";
  apex_json *doc = NULL;
  char b[APEX_FIELD_SHOWN_MAX + 8];
  bool success;
  apex_err rc;

  order_id[0] = '\0';
  *be = (apex_broker_error){.http_status = 200, .retry_after_s = -1};
  if ((rc = parse(buf, len, "create", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "coinbase create: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  if ((rc = member_bool(doc, ctx, "success", &success, err)))
    goto out;
  if (success) {
    const apex_json *sr = apex_json_object_get(doc, "success_response"), *v;
    const char *id;
    v = apex_json_object_get(sr, "order_id");
    if (is_null(v))
      v = apex_json_object_get(doc, "order_id");
    if (!(id = apex_json_string_value(v)) || !apex_field_text_ok(id, APEX_VENUE_ID_MAX)) {
      rc = apex_error_set(err, APEX_EPARSE, "coinbase create success_response.order_id: %s is not an order id",
                          apex_field_shown(v, b));
      goto out;
    }
    memcpy(order_id, id, strlen(id) + 1);
    goto out;
  }

  const apex_json *er = apex_json_object_get(doc, "error_response");
  if (!is_null(er) && !apex_json_is_object(er)) {
    rc = apex_error_set(err, APEX_EPARSE, "coinbase create error_response: expected an object, got %s",
                        apex_field_shown(er, b));
    goto out;
  }
  const char *code = apex_json_string_value(apex_json_object_get(er, "error"));
  const char *texts[] = {
      code,
      apex_json_string_value(apex_json_object_get(er, "message")),
      apex_json_string_value(apex_json_object_get(er, "error_details")),
      apex_json_string_value(apex_json_object_get(er, "preview_failure_reason")),
      apex_json_string_value(apex_json_object_get(er, "new_order_failure_reason")),
      apex_json_string_value(apex_json_object_get(doc, "failure_reason")),
  };
  bool dup = eq(code, "DUPLICATE_CLIENT_ORDER_ID"), poor = eq(code, "INSUFFICIENT_FUND");
  for (size_t i = 0; !dup && !poor && i < APEX_ARRAY_LEN(texts); i++)
    dup = has(texts[i], "duplicate");
  for (size_t i = 0; !dup && !poor && i < APEX_ARRAY_LEN(texts); i++)
    poor = has(texts[i], "insufficient");
  if (poor) {
    be->fail = APEX_BROKER_NO_FUNDS;
    rc = APEX_ENOFUNDS;
  } else {
    be->fail = APEX_BROKER_REJECTED;
    be->venue_code = dup ? APEX_COINBASE_DUPLICATE_CODE : 0;
    rc = APEX_EINVAL;
  }
  const char *shown_code = code;
  for (size_t i = 3; !shown_code && i < APEX_ARRAY_LEN(texts); i++)
    shown_code = texts[i]; /* no error code: the failure reason names it */
  venue_error(err, rc, "order refused", shown_code, texts[1], "");
out:
  if (rc && rc != APEX_ENOFUNDS && rc != APEX_EINVAL) {
    *be = (apex_broker_error){.http_status = 200, .retry_after_s = -1, .fail = APEX_BROKER_BAD_REPLY};
    order_id[0] = '\0';
  }
  apex_json_free(doc);
  return rc;
}

apex_err apex_coinbase_decode_trade_error(int status, const char *body, size_t len, int retry_after_s,
                                          apex_broker_error *be, apex_error *err)
{
  apex_json *doc = NULL;
  apex_broker_error x = {.http_status = status, .retry_after_s = -1};
  char head[48], retry[48] = "";
  const char *code = NULL, *msg = NULL, *details = NULL;
  bool shaped = false;
  apex_err rc;

  if (status >= 200 && status <= 299) {
    rc = APEX_OK;
    goto out;
  }
  if (body && len <= ERROR_BODY_MAX && apex_json_parse(body, len, ERROR_BODY_MAX, &doc, NULL) == APEX_OK &&
      apex_json_is_object(doc)) {
    const apex_json *c = apex_json_object_get(doc, "error"), *m = apex_json_object_get(doc, "message");
    code = apex_json_string_value(c);
    msg = apex_json_string_value(m);
    details = apex_json_string_value(apex_json_object_get(doc, "error_details"));
    /* Coinbase's shape: "error" a string, "message" a string when present. */
    shaped = code && (is_null(m) || msg);
  }
  if (!shaped)
    code = msg = details = NULL;

  if (status == 429 || eq(code, "rate_limit_exceeded")) {
    x.fail = APEX_BROKER_RATE_LIMITED;
    x.retry_after_s = retry_after_s >= 0 ? retry_after_s : -1;
    rc = APEX_ERATELIMIT;
    if (retry_after_s >= 0)
      snprintf(retry, sizeof retry, ", retry after %d s", retry_after_s);
    else
      snprintf(retry, sizeof retry, ", no Retry-After given");
  } else if (status < 400 || status > 499) { /* 5xx: Coinbase's side, whatever the body says */
    x.fail = APEX_BROKER_UNAVAILABLE;
    rc = APEX_EIO;
  } else if (status == 401 || eq(code, "unauthorized") || eq(code, "authentication_error") ||
             eq(code, "invalid_token") || eq(code, "expired_token") || eq(code, "PERMISSION_DENIED")) {
    x.fail = APEX_BROKER_AUTH;
    rc = APEX_EINVAL;
  } else if (status == 404 && (eq(code, "NOT_FOUND") || has(msg, "order with this orderID was not found"))) {
    x.fail = APEX_BROKER_NOT_FOUND;
    rc = APEX_ENOTFOUND;
  } else if (eq(code, "INSUFFICIENT_FUND") || has(msg, "insufficient") || has(details, "insufficient")) {
    x.fail = APEX_BROKER_NO_FUNDS;
    rc = APEX_ENOFUNDS;
  } else {
    x.fail = APEX_BROKER_REJECTED;
    rc = APEX_EINVAL;
  }

  snprintf(head, sizeof head, "HTTP %d", status);
  if (shaped)
    venue_error(err, rc, head, code, msg, retry);
  else
    apex_error_set(err, rc, "coinbase: HTTP %d (body is not a Coinbase error)%s", status, retry);
out:
  if (be)
    *be = x;
  apex_json_free(doc);
  return rc;
}
