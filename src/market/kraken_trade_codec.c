/* kraken_trade_codec.c - Kraken spot private replies decoded into broker.h types (see
 * kraken_trade_codec.h). Pure: bytes in, values out; JSON through base/json.h, amounts through
 * base/decimal.h from their text. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/parse.h"
#include "core/timeframe.h"
#include "market/fields.h"
#include "market/kraken_codec.h"
#include "market/kraken_trade_codec.h"

/* Error bodies are small; a larger one is not the venue's error shape (as binance_trade_codec.c).
 * A 2xx reply is read up to APEX_KRAKEN_REPLY_MAX: a long OpenOrders reply is no error. */
#define ERROR_BODY_MAX 65536
#define VENUE_MSG_SHOWN 300
#define CTX_MAX 160


/* Kraken's cl_ord_id: a UUID (36 or 32 characters) or free text of up to 18 ASCII characters
 * (ref 2.5): 1..APEX_CLIENT_ID_MAX printable ASCII bytes. */
static bool client_id_ok(const char *s)
{
  size_t n = strnlen(s, APEX_CLIENT_ID_MAX + 1);
  if (n == 0 || n > APEX_CLIENT_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
      return false;
  return true;
}

/* The venue's text made safe for a log line: at most max bytes into out (max + 1 of room), cut
 * before a UTF-8 sequence rather than through it, control characters as '?'. */
static void shown_text(const char *m, size_t max, char *out)
{
  size_t n = strnlen(m, max + 1);
  if (n > max) {
    n = max;
    while (n > 0 && ((unsigned char)m[n] & 0xc0) == 0x80)
      n--;
  }
  for (size_t i = 0; i < n; i++)
    out[i] = (unsigned char)m[i] < 0x20 || m[i] == 0x7f ? '?' : m[i];
  out[n] = '\0';
}

/* A member name (a txid, an asset code) for a message: at most 40 bytes, cleaned. */
#define KEY_SHOWN 40
static const char *key_shown(const char *k, char out[static KEY_SHOWN + 1])
{
  shown_text(k, KEY_SHOWN, out);
  return out;
}

/* --- the venue's errors (ref 2.7, ccxt's mapping in ref 7) --- */

static const struct {
  const char *text; /* matched whole or followed by ":detail" */
  apex_broker_fail fail;
  apex_err code;
} VENUE_ERRORS[] = {
    {"EOrder:Insufficient funds", APEX_BROKER_NO_FUNDS, APEX_ENOFUNDS},
    {"EOrder:Order minimum not met", APEX_BROKER_REJECTED, APEX_EINVAL},
    {"EOrder:Cost minimum not met", APEX_BROKER_REJECTED, APEX_EINVAL},
    {"EOrder:Tick size check failed", APEX_BROKER_REJECTED, APEX_EINVAL},
    {"EGeneral:Invalid arguments", APEX_BROKER_REJECTED, APEX_EINVAL}, /* also ":volume" etc. */
    {"EQuery:Unknown asset pair", APEX_BROKER_REJECTED, APEX_EINVAL},
    {"EOrder:Invalid order", APEX_BROKER_REJECTED, APEX_EINVAL},
    /* The request's deadline passed before the engine took it: surely not placed. */
    {"EService:Deadline elapsed", APEX_BROKER_REJECTED, APEX_EINVAL},
    /* venue_code APEX_KRAKEN_NONCE_CODE: refused unread, the transport raises its nonce and resends. */
    {"EAPI:Invalid nonce", APEX_BROKER_REJECTED, APEX_EINVAL},
    {"EOrder:Unknown order", APEX_BROKER_NOT_FOUND, APEX_ENOTFOUND},
    {"EAPI:Invalid key", APEX_BROKER_AUTH, APEX_EINVAL},
    {"EAPI:Invalid signature", APEX_BROKER_AUTH, APEX_EINVAL},
    {"EGeneral:Permission denied", APEX_BROKER_AUTH, APEX_EINVAL},
    {"EAPI:Rate limit exceeded", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT},
    {"EOrder:Rate limit exceeded", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT},
    {"EOrder:Domain rate limit exceeded", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT},
    {"EGeneral:Temporary lockout", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT},
    {"EGeneral:Too many requests", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT},
    {"EService:Unavailable", APEX_BROKER_UNAVAILABLE, APEX_EIO},
    {"EService:Busy", APEX_BROKER_UNAVAILABLE, APEX_EIO},
    {"EService:Market in cancel_only mode", APEX_BROKER_UNAVAILABLE, APEX_EIO},
    {"EService:Market in post_only mode", APEX_BROKER_UNAVAILABLE, APEX_EIO},
    /* Kraken's side failed while handling it: the order may or may not exist. */
    {"EGeneral:Internal error", APEX_BROKER_UNKNOWN, APEX_ETIMEOUT},
};

/* The failure named by one of the venue's error strings; any other is REJECTED. */
static apex_err venue_kind(const char *text, apex_broker_fail *fail, long *venue_code)
{
  *venue_code = 0;
  for (size_t i = 0; i < APEX_ARRAY_LEN(VENUE_ERRORS); i++) {
    size_t n = strlen(VENUE_ERRORS[i].text);
    if (strncmp(text, VENUE_ERRORS[i].text, n) == 0 && (text[n] == '\0' || text[n] == ':')) {
      *fail = VENUE_ERRORS[i].fail;
      if (strcmp(VENUE_ERRORS[i].text, "EAPI:Invalid nonce") == 0)
        *venue_code = APEX_KRAKEN_NONCE_CODE;
      return VENUE_ERRORS[i].code;
    }
  }
  *fail = APEX_BROKER_REJECTED;
  return APEX_EINVAL;
}

/* A non-empty error array as the port's failure into *x, err's message starting with prefix. */
static apex_err venue_failure(const char *prefix, int status, const apex_json *errs, apex_broker_error *x,
                              apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8], shown[VENUE_MSG_SHOWN + 1], http[24] = "", more[32] = "";
  const apex_json *first = apex_json_array_get(errs, 0);
  const char *s = apex_json_string_value(first);
  size_t n = apex_json_array_size(errs);

  if (status != 200)
    snprintf(http, sizeof http, ", HTTP %d", status);
  if (!s) {
    x->fail = APEX_BROKER_BAD_REPLY;
    x->venue_code = 0;
    return apex_error_set(err, APEX_EPARSE, "%s: error[0] is %s, not a Kraken error%s", prefix,
                          apex_field_shown(first, b), http);
  }
  apex_err rc = venue_kind(s, &x->fail, &x->venue_code);
  if (n > 1)
    snprintf(more, sizeof more, " (+%zu more)", n - 1);
  shown_text(s, VENUE_MSG_SHOWN, shown);
  return apex_error_set(err, rc, "%s: %s%s%s", prefix, shown, http, more);
}

/* Parses a reply and checks its envelope: *result is the "result" object when the error array is
 * empty; a non-empty one is the venue's failure (classified as apex_kraken_decode_trade_error). */
static apex_err envelope(const char *buf, size_t len, const char *what, apex_json **doc, const apex_json **result,
                         apex_error *err)
{
  apex_error e;
  char prefix[48];
  apex_err rc = apex_json_parse(buf, len, APEX_KRAKEN_REPLY_MAX, doc, &e);
  if (rc)
    return apex_error_set(err, rc, "kraken %s: %s", what, e.msg);
  if (!apex_json_is_object(*doc))
    return apex_error_set(err, APEX_EPARSE, "kraken %s: expected an object, got %s", what, apex_json_type_name(*doc));
  const apex_json *errs = apex_json_object_get(*doc, "error");
  if (!apex_json_is_array(errs))
    return apex_error_set(err, APEX_EPARSE, "kraken %s error: expected an array, got %s", what,
                          apex_json_type_name(errs));
  if (apex_json_array_size(errs) > 0) {
    apex_broker_error x = {0};
    snprintf(prefix, sizeof prefix, "kraken %s", what);
    return venue_failure(prefix, 200, errs, &x, err);
  }
  *result = apex_json_object_get(*doc, "result");
  if (!apex_json_is_object(*result))
    return apex_error_set(err, APEX_EPARSE, "kraken %s result: expected an object, got %s", what,
                          apex_json_type_name(*result));
  return APEX_OK;
}

/* --- fields --- */

/* Member key of o as a string (borrowed from the document). */
static apex_err member_str(const apex_json *o, const char *ctx, const char *key, const char **out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const apex_json *v = apex_json_object_get(o, key);
  if (!(*out = apex_json_string_value(v)))
    return apex_error_set(err, APEX_EPARSE, "%s %s: expected a string, got %s", ctx, key, apex_field_shown(v, b));
  return APEX_OK;
}

/* Member key of o as a decimal string >= 0. */
static apex_err member_dec(const apex_json *o, const char *ctx, const char *key, apex_dec *out, apex_error *err)
{
  char what[CTX_MAX + 24];
  snprintf(what, sizeof what, "%s %s", ctx, key);
  apex_err rc = apex_field_dec(apex_json_object_get(o, key), what, out, err);
  if (rc)
    return rc;
  if (*out < 0)
    return apex_error_set(err, APEX_EPARSE, "%s: negative", what);
  return APEX_OK;
}

/* s, a plain decimal ([-]digits[.digits], no exponent), cut DOWN (toward zero) to 8 places:
 * apex_dec_from_str would round "0.0000000099" up to 0.00000001. APEX_EPARSE, APEX_EOVERFLOW. */
static apex_err dec_cut(const char *s, apex_dec *out)
{
  char cut[APEX_PARSE_NUM_MAX + 1];
  const char *dot = strchr(s, '.');
  size_t n = strlen(s);
  if (strpbrk(s, "eE") || n > APEX_PARSE_NUM_MAX)
    return APEX_EPARSE;
  if (dot && strlen(dot + 1) > APEX_DEC_PLACES) {
    n = (size_t)(dot - s) + 1 + APEX_DEC_PLACES;
    if (strspn(dot + 1, "0123456789") != strlen(dot + 1))
      return APEX_EPARSE; /* apex_dec_from_str would refuse it too; the cut must not hide it */
  }
  memcpy(cut, s, n);
  cut[n] = '\0';
  return apex_dec_from_str(cut, out);
}

/* The shortest text that reads back as x: jansson keeps a JSON real as a double, and a decimal of
 * at most 15 significant digits (Kraken's times: 10 + 4) comes back as the very text sent. */
static void real_text(double x, char buf[static 40])
{
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, 40, "%.*g", p, x);
    const char *cur = buf;
    double y;
    if (apex_parse_double(&cur, buf + strlen(buf), &y) == APEX_OK && y == x)
      return;
  }
}

/* Member key of o, seconds since the epoch as a JSON number (Kraken's opentm: 1688666559.8974)
 * or a decimal string, into ms cut to the ms. Absent or null: *ms 0 and, unless required, OK. */
static apex_err member_time(const apex_json *o, const char *ctx, const char *key, bool required, int64_t *ms,
                            apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8], text[40];
  const apex_json *v = apex_json_object_get(o, key);
  const char *s;
  apex_dec secs;
  apex_err rc;

  *ms = 0;
  if (!v || apex_json_is_null(v)) {
    if (required)
      return apex_error_set(err, APEX_EPARSE, "%s %s: expected seconds, got %s", ctx, key, apex_json_type_name(v));
    return APEX_OK;
  }
  if (apex_json_is_string(v)) {
    s = apex_json_string_value(v);
  } else if (apex_json_is_number(v)) {
    real_text(apex_json_number_value(v), text);
    s = text;
  } else {
    return apex_error_set(err, APEX_EPARSE, "%s %s: expected seconds, got %s", ctx, key, apex_field_shown(v, b));
  }
  /* An exponent (a huge or tiny real printed by %g) is read rounded to 8 places: no ms lost. */
  rc = strpbrk(s, "eE") ? apex_dec_from_str(s, &secs) : dec_cut(s, &secs);
  if (rc == APEX_EOVERFLOW)
    return apex_error_set(err, APEX_EPARSE, "%s %s: %.40s is out of range", ctx, key, s);
  if (rc)
    return apex_error_set(err, APEX_EPARSE, "%s %s: %s is not a time in seconds", ctx, key, apex_field_shown(v, b));
  if (secs < 0)
    return apex_error_set(err, APEX_EPARSE, "%s %s: negative", ctx, key);
  *ms = secs / (APEX_DEC_SCALE / 1000); /* 1e-8 s units to ms, cut */
  return APEX_OK;
}

/* --- AddOrder (ref 2.5) --- */

apex_err apex_kraken_decode_add_order(const char *buf, size_t len, char txid[static APEX_VENUE_ID_MAX + 1],
                                      apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL;
  char b[APEX_FIELD_SHOWN_MAX + 8];
  apex_err rc;

  txid[0] = '\0';
  if ((rc = envelope(buf, len, "AddOrder", &doc, &result, err)))
    goto out;
  const apex_json *descr = apex_json_object_get(result, "descr");
  if (descr && !apex_json_is_object(descr)) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken AddOrder descr: expected an object, got %s",
                        apex_field_shown(descr, b));
    goto out;
  }
  const apex_json *ids = apex_json_object_get(result, "txid");
  if (!apex_json_is_array(ids) || apex_json_array_size(ids) == 0) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken AddOrder txid: expected a non-empty array, got %s",
                        apex_json_is_array(ids) ? "an empty one" : apex_field_shown(ids, b));
    goto out;
  }
  for (size_t i = 0; i < apex_json_array_size(ids); i++) {
    const apex_json *v = apex_json_array_get(ids, i);
    const char *s = apex_json_string_value(v);
    if (!s || !apex_field_text_ok(s, APEX_VENUE_ID_MAX)) {
      rc = apex_error_set(err, APEX_EPARSE, "kraken AddOrder txid[%zu]: %s is not an order id (1 to %d bytes)", i,
                          apex_field_shown(v, b), APEX_VENUE_ID_MAX);
      goto out;
    }
  }
  const char *first = apex_json_string_value(apex_json_array_get(ids, 0));
  memcpy(txid, first, strlen(first) + 1); /* fits: text_ok checked it */
out:
  if (rc)
    txid[0] = '\0';
  apex_json_free(doc);
  return rc;
}

/* --- QueryOrders, OpenOrders (ref 2.5) --- */

static const struct {
  const char *name;
  apex_order_state state; /* NEW and FILLED are refined by vol_exec below */
} STATUS[] = {
    {"pending", APEX_ORDER_STATE_NEW},
    {"open", APEX_ORDER_STATE_NEW},
    {"closed", APEX_ORDER_STATE_FILLED},
    {"canceled", APEX_ORDER_STATE_CANCELED},
    {"expired", APEX_ORDER_STATE_EXPIRED},
};

/* Quote assets an altname may end with, longer first where they overlap (USDT before USD). */
static const char *const QUOTES[] = {"USDT", "USDC", "USD", "EUR", "GBP", "CAD",
                                     "JPY",  "CHF",  "AUD", "XBT", "BTC", "ETH"};
/* The quote halves of 8-letter pair ids ("XXBTZUSD"), should descr.pair ever carry one. */
static const char *const QUOTE_IDS[] = {"ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZAUD", "XXBT", "XETH"};

/* descr.pair ("XBTUSD", "ETHUSDT", "XXBTZUSD") as ours ("BTC/USD") into sym, its quote into
 * quote and base into base; false when it splits at no known quote. */
static bool pair_symbol(const char *pair, char sym[static APEX_MARKET_SYMBOL_MAX + 1],
                        char base[static APEX_MARKET_ASSET_MAX + 1], char quote[static APEX_MARKET_ASSET_MAX + 1])
{
  char b[APEX_MARKET_SYMBOL_MAX + 1], q[APEX_MARKET_SYMBOL_MAX + 1];
  size_t n = strnlen(pair, APEX_MARKET_SYMBOL_MAX + 1), qlen = 0;

  if (n < 2 || n > APEX_MARKET_SYMBOL_MAX)
    return false;
  if (n == 8 && (pair[0] == 'X' || pair[0] == 'Z'))
    for (size_t k = 0; k < APEX_ARRAY_LEN(QUOTE_IDS) && !qlen; k++)
      if (memcmp(pair + 4, QUOTE_IDS[k], 4) == 0) {
        memcpy(b, pair + 1, 3); /* both halves lose their X/Z as a 4-letter code does */
        b[3] = '\0';
        memcpy(q, pair + 5, 3);
        q[3] = '\0';
        qlen = 4;
      }
  for (size_t k = 0; k < APEX_ARRAY_LEN(QUOTES) && !qlen; k++) {
    size_t ql = strlen(QUOTES[k]);
    if (n > ql && memcmp(pair + n - ql, QUOTES[k], ql) == 0) {
      memcpy(b, pair, n - ql);
      b[n - ql] = '\0';
      memcpy(q, QUOTES[k], ql + 1);
      qlen = ql;
    }
  }
  if (!qlen)
    return false;
  int w = snprintf(sym, APEX_MARKET_SYMBOL_MAX + 1, "%s/%s", apex_kraken_common_asset(b), apex_kraken_common_asset(q));
  if (w < 0 || w > APEX_MARKET_SYMBOL_MAX || apex_market_split(sym, base, quote) != APEX_OK) {
    sym[0] = '\0';
    return false;
  }
  return true;
}

/* One order (txid: o) into *out (zeroed first; the caller zeroes it again on error). */
static apex_err order_object(const char *what, const char *txid, const apex_json *o, apex_broker_order *out,
                             apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8], ctx[CTX_MAX], dctx[CTX_MAX + 8], kb[KEY_SHOWN + 1];
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
  const char *status, *pair, *type;
  apex_err rc;

  *out = (apex_broker_order){0};
  if (!apex_field_text_ok(txid, APEX_VENUE_ID_MAX))
    return apex_error_set(err, APEX_EPARSE, "kraken %s: txid \"%s\" is not an order id (1 to %d bytes)", what,
                          key_shown(txid, kb), APEX_VENUE_ID_MAX);
  snprintf(ctx, sizeof ctx, "kraken %s %s", what, txid); /* fits: at most 63 bytes, checked */
  memcpy(out->venue_id, txid, strlen(txid) + 1);
  if (!apex_json_is_object(o))
    return apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ctx, apex_field_shown(o, b));

  /* Our transport always sends cl_ord_id; an order placed elsewhere has none. */
  const apex_json *cid = apex_json_object_get(o, "cl_ord_id");
  if (cid && !apex_json_is_null(cid)) {
    const char *s = apex_json_string_value(cid);
    if (!s || !client_id_ok(s))
      return apex_error_set(err, APEX_EPARSE, "%s cl_ord_id: %s is not a client order id (1 to %d printable bytes)",
                            ctx, apex_field_shown(cid, b), APEX_CLIENT_ID_MAX);
    memcpy(out->client_id, s, strlen(s) + 1);
  }

  if ((rc = member_str(o, ctx, "status", &status, err)))
    return rc;
  for (size_t k = 0; k < APEX_ARRAY_LEN(STATUS) && !out->state; k++)
    if (strcmp(status, STATUS[k].name) == 0)
      out->state = STATUS[k].state;
  if (!out->state)
    return apex_error_set(err, APEX_EPARSE, "%s status: %s is not an order status", ctx,
                          apex_field_shown(apex_json_object_get(o, "status"), b));

  const apex_json *descr = apex_json_object_get(o, "descr");
  if (!apex_json_is_object(descr))
    return apex_error_set(err, APEX_EPARSE, "%s descr: expected an object, got %s", ctx, apex_field_shown(descr, b));
  snprintf(dctx, sizeof dctx, "%s descr", ctx);
  if ((rc = member_str(descr, dctx, "pair", &pair, err)) || (rc = member_str(descr, dctx, "type", &type, err)))
    return rc;
  if (!pair_symbol(pair, out->symbol, base, quote))
    return apex_error_set(err, APEX_EPARSE, "%s descr pair: %s is not a pair of known assets", ctx,
                          apex_field_shown(apex_json_object_get(descr, "pair"), b));
  if (strcmp(type, "buy") != 0 && strcmp(type, "sell") != 0)
    return apex_error_set(err, APEX_EPARSE, "%s descr type: %s, expected \"buy\" or \"sell\"", ctx,
                          apex_field_shown(apex_json_object_get(descr, "type"), b));
  out->buy = type[0] == 'b';

  if ((rc = member_dec(o, ctx, "vol", &out->qty, err)) ||
      (rc = member_dec(o, ctx, "vol_exec", &out->filled_qty, err)) ||
      (rc = member_dec(o, ctx, "cost", &out->quote_filled, err)) || (rc = member_dec(o, ctx, "fee", &out->fee, err)))
    return rc;
  if (out->filled_qty > out->qty)
    return apex_error_set(err, APEX_EPARSE, "%s vol_exec: above vol", ctx);

  const apex_json *flags = apex_json_object_get(o, "oflags");
  const char *oflags = apex_json_string_value(flags);
  if (flags && !apex_json_is_null(flags) && !oflags)
    return apex_error_set(err, APEX_EPARSE, "%s oflags: expected a string, got %s", ctx, apex_field_shown(flags, b));
  /* Kraken charges its fee in the quote currency by default (fciq) and in the base currency when
   * the order asked for fcib; the reply's oflags lists the flags in force, and ccxt reads the fee's
   * currency from them the same way. */
  bool fee_in_base = false;
  for (const char *f = oflags; f && *f;) {
    size_t fl = strcspn(f, ",");
    if (fl == 4 && memcmp(f, "fcib", 4) == 0)
      fee_in_base = true;
    f += fl + (f[fl] == ',');
  }
  const char *fa = fee_in_base ? base : quote;
  memcpy(out->fee_asset, fa, strlen(fa) + 1);

  if ((rc = member_time(o, ctx, "opentm", true, &out->time, err)) ||
      (rc = member_time(o, ctx, "closetm", false, &out->update_time, err)))
    return rc;

  if (out->state == APEX_ORDER_STATE_NEW && out->filled_qty > 0)
    out->state = APEX_ORDER_STATE_PARTIAL;
  else if (out->state == APEX_ORDER_STATE_FILLED && out->filled_qty < out->qty)
    out->state = APEX_ORDER_STATE_CANCELED; /* closed short of vol: an IOC or market remainder */
  return APEX_OK;
}

apex_err apex_kraken_decode_orders(const char *buf, size_t len, apex_broker_order *out, size_t cap, size_t *n,
                                   apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL, *orders, *v;
  const char *what = "QueryOrders", *txid;
  char b[APEX_FIELD_SHOWN_MAX + 8];
  size_t kept = 0;
  apex_err rc;

  *n = 0;
  if ((rc = envelope(buf, len, "orders", &doc, &result, err)))
    goto out;
  /* OpenOrders nests its orders under "open", ClosedOrders under "closed" beside "count";
   * QueryOrders keys them by txid directly. A txid ("OUF4EM-FRGI2-MQMWZD") is neither name. */
  orders = result;
  if (apex_json_object_get(result, "open")) {
    what = "OpenOrders";
    orders = apex_json_object_get(result, "open");
    if (!apex_json_is_object(orders) || apex_json_object_size(result) != 1) {
      rc = apex_error_set(err, APEX_EPARSE, "kraken OpenOrders open: expected the only member, an object, got %s%s",
                          apex_field_shown(orders, b), apex_json_object_size(result) != 1 ? " beside others" : "");
      goto out;
    }
  } else if (apex_json_object_get(result, "closed")) {
    const apex_json *count = apex_json_object_get(result, "count");
    int64_t c = 0;
    what = "ClosedOrders";
    orders = apex_json_object_get(result, "closed");
    if (!apex_json_is_object(orders) || apex_json_object_size(result) != 1u + (count != NULL)) {
      rc = apex_error_set(err, APEX_EPARSE,
                          "kraken ClosedOrders closed: expected an object beside count only, got %s%s",
                          apex_field_shown(orders, b), apex_json_is_object(orders) ? " beside others" : "");
      goto out;
    }
    if (count && (rc = apex_field_int(count, "kraken ClosedOrders count", &c, err)))
      goto out;
    if (c < 0) {
      rc = apex_error_set(err, APEX_EPARSE, "kraken ClosedOrders count: %lld is negative", (long long)c);
      goto out;
    }
  }
  apex_json_iter it = apex_json_object_iter(orders);
  while (apex_json_object_next(&it, &txid, &v)) {
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "kraken %s: more than %zu orders", what, cap);
      goto out;
    }
    if ((rc = order_object(what, txid, v, &out[kept], err))) {
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

/* --- Balance (ref 2.5) --- */

/* A Balance key as ccxt names the asset (ref 2.2, 7): "XXBT" -> "BTC", "ZUSD" -> "USD", "USDT" as
 * it is, "XBT.F" -> "BTC.F". False when the result does not fit or holds a control character. */
static bool balance_asset(const char *code, char out[static APEX_MARKET_ASSET_MAX + 1])
{
  char head[APEX_MARKET_ASSET_MAX + 1];
  size_t n = strnlen(code, APEX_MARKET_ASSET_MAX + 2);
  size_t hl = strcspn(code, ".");
  const char *c = code;

  out[0] = '\0';
  if (n == 0 || n > APEX_MARKET_ASSET_MAX + 1 || hl == 0) /* + 1: "XXBT" is one longer than "XBT" */
    return false;
  if (hl == 4 && (c[0] == 'X' || c[0] == 'Z')) {
    c++;
    hl--;
  }
  if (hl > APEX_MARKET_ASSET_MAX)
    return false;
  memcpy(head, c, hl);
  head[hl] = '\0';
  int w = snprintf(out, APEX_MARKET_ASSET_MAX + 1, "%s%s", apex_kraken_common_asset(head), c + hl);
  if (w < 0 || w > APEX_MARKET_ASSET_MAX || !apex_field_text_ok(out, APEX_MARKET_ASSET_MAX)) {
    out[0] = '\0';
    return false;
  }
  return true;
}

apex_err apex_kraken_decode_balances(const char *buf, size_t len, apex_broker_balance *out, size_t cap, size_t *n,
                                     apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL, *v;
  const char *code;
  char b[APEX_FIELD_SHOWN_MAX + 8], k[KEY_SHOWN + 1];
  size_t kept = 0;
  apex_err rc;

  *n = 0;
  if ((rc = envelope(buf, len, "Balance", &doc, &result, err)))
    goto out;
  apex_json_iter it = apex_json_object_iter(result);
  while (apex_json_object_next(&it, &code, &v)) {
    apex_broker_balance x = {0};
    const char *s = apex_json_string_value(v);
    if (!s) {
      rc = apex_error_set(err, APEX_EPARSE, "kraken Balance %s: expected a decimal string, got %s", key_shown(code, k),
                          apex_field_shown(v, b));
      goto out;
    }
    /* Kraken keeps up to 10 decimals ("1011.1908877900"); ours hold 8. Cut down, never rounded
     * up: a balance must never read larger than it is. */
    apex_err prc = dec_cut(s, &x.free);
    if (prc) {
      rc = apex_error_set(err, APEX_EPARSE, "kraken Balance %s: %s is %s", key_shown(code, k), apex_field_shown(v, b),
                          prc == APEX_EOVERFLOW ? "out of range" : "not a plain decimal");
      goto out;
    }
    if (x.free < 0) {
      rc = apex_error_set(err, APEX_EPARSE, "kraken Balance %s: negative", key_shown(code, k));
      goto out;
    }
    if (x.free == 0)
      continue;
    if (!balance_asset(code, x.asset)) {
      rc = apex_error_set(err, APEX_EPARSE, "kraken Balance: \"%s\" is not an asset (1 to %d bytes)",
                          key_shown(code, k), APEX_MARKET_ASSET_MAX);
      goto out;
    }
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "kraken Balance: more than %zu non-zero balances", cap);
      goto out;
    }
    /* Balance reports each asset's total, what open orders hold included (Kraken's BalanceEx
     * splits out hold_trade): the port's free is that total, locked 0. */
    out[kept++] = x;
  }
out:
  if (rc && rc != APEX_ETOOBIG)
    kept = 0;
  *n = kept;
  apex_json_free(doc);
  return rc;
}

/* --- CancelOrder (ref 2.5) --- */

apex_err apex_kraken_decode_cancel(const char *buf, size_t len, int *count, apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL;
  char b[APEX_FIELD_SHOWN_MAX + 8];
  int64_t c = 0;
  apex_err rc;

  *count = 0;
  if ((rc = envelope(buf, len, "CancelOrder", &doc, &result, err)) ||
      (rc = apex_field_int(apex_json_object_get(result, "count"), "kraken CancelOrder count", &c, err)))
    goto out;
  if (c < 0 || c > INT_MAX) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken CancelOrder count: %lld is out of range", (long long)c);
    goto out;
  }
  const apex_json *pending = apex_json_object_get(result, "pending");
  if (pending && !apex_json_is_bool(pending)) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken CancelOrder pending: expected a boolean, got %s",
                        apex_field_shown(pending, b));
    goto out;
  }
  *count = (int)c;
out:
  if (rc)
    *count = 0;
  apex_json_free(doc);
  return rc;
}

/* --- CancelAllOrdersAfter (ref 2.5) --- */

/* "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (RFC 3339) as ms UTC, >= 0; false if not. */
static bool rfc3339_ms(const char *s, int64_t *ms)
{
  const char *p = s, *end = s + strlen(s);
  int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
  int64_t frac_ms = 0;

  if (apex_parse_digits(&p, end, 4, &y) || apex_parse_char(&p, end, '-') || apex_parse_digits(&p, end, 2, &mo) ||
      apex_parse_char(&p, end, '-') || apex_parse_digits(&p, end, 2, &d))
    return false;
  if (p == end || (*p != 'T' && *p != 't'))
    return false;
  p++;
  if (apex_parse_digits(&p, end, 2, &h) || apex_parse_char(&p, end, ':') || apex_parse_digits(&p, end, 2, &mi) ||
      apex_parse_char(&p, end, ':') || apex_parse_digits(&p, end, 2, &sec))
    return false;
  if (p < end && *p == '.') {
    int digits = 0;
    for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++)
      if (digits < 3)
        frac_ms = frac_ms * 10 + (*p - '0');
    if (digits == 0)
      return false;
    for (; digits < 3; digits++)
      frac_ms *= 10;
  }
  if (p < end && (*p == 'Z' || *p == 'z')) {
    p++;
  } else if (p < end && (*p == '+' || *p == '-')) {
    sign = *p == '-' ? -1 : 1;
    p++;
    if (apex_parse_digits(&p, end, 2, &oh) || apex_parse_char(&p, end, ':') || apex_parse_digits(&p, end, 2, &om))
      return false;
  } else {
    return false;
  }
  if (p != end || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
    return false;
  int64_t first = apex_days_from_civil(y, mo, 1);
  int64_t next = mo == 12 ? apex_days_from_civil((int64_t)y + 1, 1, 1) : apex_days_from_civil(y, mo + 1, 1);
  if (d < 1 || d > next - first)
    return false;
  int64_t t = ((first + d - 1) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60)) * 1000 + frac_ms;
  if (t < 0)
    return false;
  *ms = t;
  return true;
}

apex_err apex_kraken_decode_dead_man(const char *buf, size_t len, int64_t *trigger_ms, apex_error *err)
{
  apex_json *doc = NULL;
  const apex_json *result = NULL;
  const char *now, *trigger;
  char b[APEX_FIELD_SHOWN_MAX + 8];
  int64_t now_ms, t = 0;
  apex_err rc;

  *trigger_ms = 0;
  if ((rc = envelope(buf, len, "CancelAllOrdersAfter", &doc, &result, err)) ||
      (rc = member_str(result, "kraken CancelAllOrdersAfter", "currentTime", &now, err)) ||
      (rc = member_str(result, "kraken CancelAllOrdersAfter", "triggerTime", &trigger, err)))
    goto out;
  if (!rfc3339_ms(now, &now_ms)) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken CancelAllOrdersAfter currentTime: %s is not an RFC 3339 time",
                        apex_field_shown(apex_json_object_get(result, "currentTime"), b));
    goto out;
  }
  if (strcmp(trigger, "0") != 0 && !rfc3339_ms(trigger, &t)) { /* "0": the switch is disarmed */
    rc = apex_error_set(err, APEX_EPARSE,
                        "kraken CancelAllOrdersAfter triggerTime: %s is not an RFC 3339 time or \"0\"",
                        apex_field_shown(apex_json_object_get(result, "triggerTime"), b));
    goto out;
  }
  *trigger_ms = t;
out:
  if (rc)
    *trigger_ms = 0;
  apex_json_free(doc);
  return rc;
}

/* --- errors (ref 2.1, 2.7, 7) --- */

apex_err apex_kraken_decode_trade_error(int status, const char *body, size_t len, apex_broker_error *be,
                                        apex_error *err)
{
  apex_json *doc = NULL;
  apex_broker_error x = {.http_status = status, .retry_after_s = -1};
  const bool ok_status = status >= 200 && status <= 299;
  const size_t max = ok_status ? APEX_KRAKEN_REPLY_MAX : ERROR_BODY_MAX;
  const apex_json *errs = NULL;
  apex_err rc = APEX_OK;

  if (body && len <= max && apex_json_parse(body, len, max, &doc, NULL) == APEX_OK)
    errs = apex_json_object_get(doc, "error");
  const bool venue = apex_json_is_array(errs) && apex_json_array_size(errs) > 0;

  if (venue) {
    rc = venue_failure("kraken", status, errs, &x, err);
  } else if (ok_status && apex_json_is_array(errs)) {
    rc = APEX_OK;
    goto out;
  } else {
    if (ok_status) {
      x.fail = APEX_BROKER_BAD_REPLY;
      rc = APEX_EPARSE;
    } else if (status == 401 || status == 403) {
      x.fail = APEX_BROKER_AUTH;
      rc = APEX_EINVAL;
    } else if (status >= 400 && status <= 499) {
      /* A 404 without the venue's "EOrder:Unknown order" is a wrong path or base URL, not "no such
       * order": reading it as NOT_FOUND would let a caller conclude an order never existed. */
      x.fail = APEX_BROKER_REJECTED;
      rc = APEX_EINVAL;
    } else {
      x.fail = APEX_BROKER_UNAVAILABLE;
      rc = APEX_EIO;
    }
    apex_error_set(err, rc, "kraken: HTTP %d (%s)", status,
                   apex_json_is_array(errs) ? "empty error array" : "body is not a Kraken reply");
  }
  if (status == 429) { /* whatever the body says; the venue's text, if any, stays in the message */
    x.fail = APEX_BROKER_RATE_LIMITED;
    x.venue_code = 0;
    rc = APEX_ERATELIMIT;
    if (err)
      err->code = rc;
  }
out:
  if (be)
    *be = x;
  apex_json_free(doc);
  return rc;
}
