/* alpaca_trade_codec.c - Alpaca trading API replies decoded into broker.h types (see
 * alpaca_trade_codec.h). Pure: bytes in, values out; JSON through base/json.h, amounts through
 * base/decimal.h from their text (JSON numbers as the header says), times through base/parse.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/parse.h"
#include "core/timeframe.h"
#include "market/alpaca_trade_codec.h"
#include "market/fields.h"

/* Error bodies are small; a larger one is not the venue's error shape. */
#define ERROR_BODY_MAX 65536
#define VENUE_MSG_SHOWN 300
/* A real number is read only below this magnitude (2^26): there one ulp is under 1e-8, so at most
 * one decimal of 8 places rounds to a given double (see the header). */
#define EXACT_REAL_MAX 67108864.0

static apex_err parse(const char *buf, size_t len, const char *what, apex_json **doc, apex_error *err)
{
  apex_error e;
  apex_err rc = apex_json_parse(buf, len, APEX_ALPACA_REPLY_MAX, doc, &e);
  if (rc)
    return apex_error_set(err, rc, "alpaca %s: %s", what, e.msg);
  return APEX_OK;
}


/* A stock ticker as our asset names allow it (market/symbol.c): "AAPL", "BRK.B". */
static bool ticker_ok(const char *s)
{
  size_t n = strnlen(s, APEX_MARKET_ASSET_MAX + 1);
  return n >= 1 && n <= APEX_MARKET_ASSET_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
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

/* --- amounts --- */

/* An amount: a decimal string, a JSON integer, or a JSON real whose decimal is certain (the
 * header says when). */
static apex_err amount(const apex_json *v, const char *what, apex_dec *out, apex_error *err)
{
  if (apex_json_is_integer(v)) {
    int64_t n;
    if (apex_json_int64(v, &n) || apex_dec_from_int(n, out))
      return apex_error_set(err, APEX_EOVERFLOW, "%s: the integer is out of range", what);
    return APEX_OK;
  }
  if (apex_json_is_number(v)) {
    double x = apex_json_number_value(v);
    apex_dec d;
    if (!(x < EXACT_REAL_MAX && x > -EXACT_REAL_MAX) || apex_dec_from_double(x, &d) || apex_dec_to_double(d) != x)
      return apex_error_set(err, APEX_EPARSE, "%s: the number %.17g has no certain decimal form (send a decimal string)",
                            what, x);
    *out = d;
    return APEX_OK;
  }
  return apex_field_dec(v, what, out, err);
}

/* Member key of o as an amount >= 0. With nullable, an absent or null member is *found false and
 * *out 0. */
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
  apex_err rc = amount(v, what, out, err);
  if (rc)
    return rc;
  if (*out < 0)
    return apex_error_set(err, APEX_EPARSE, "%s: negative", what);
  return APEX_OK;
}

/* The exact value of an amount that read as d (>= 0): a decimal string as fields.h reads one; a
 * JSON integer is itself; a real is d, exact by amount()'s rule. */
static apex_field_exact exact_of(const apex_json *v, apex_dec d)
{
  const char *s = apex_json_string_value(v);
  if (apex_json_is_integer(v))
    return (apex_field_exact){(uint64_t)d / (uint64_t)APEX_DEC_SCALE, 0};
  if (!s)
    return (apex_field_exact){(uint64_t)d, APEX_DEC_PLACES};
  return apex_field_exact_of(s, d);
}

/* --- times --- */

/* Member key of o as an RFC 3339 time. With nullable, an absent or null member is *found false
 * and *ms 0. */
static apex_err member_time(const apex_json *o, const char *ctx, const char *key, bool nullable, int64_t *ms,
                            bool *found, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const apex_json *v = apex_json_object_get(o, key);
  const char *s;
  *ms = 0;
  if (found)
    *found = !is_null(v);
  if (nullable && is_null(v))
    return APEX_OK;
  if (!(s = apex_json_string_value(v)))
    return apex_error_set(err, APEX_EPARSE, "%s %s: expected an RFC 3339 time, got %s", ctx, key, apex_field_shown(v, b));
  if (!apex_field_rfc3339(s, ms))
    return apex_error_set(err, APEX_EPARSE, "%s %s: %s is not an RFC 3339 time", ctx, key, apex_field_shown(v, b));
  return APEX_OK;
}

/* --- orders (ref 4.3) --- */

enum { DIRECT, WORKING, CALCULATED, DONE_FOR_DAY };

static const struct {
  const char *name;
  int rule;
  apex_order_state state; /* DIRECT only */
} STATUS[] = {
    {"new", WORKING, 0},
    {"accepted", WORKING, 0},             /* received, not yet routed (outside hours: until the open) */
    {"pending_new", WORKING, 0},
    {"accepted_for_bidding", WORKING, 0},
    {"held", WORKING, 0},                 /* a leg waiting for its parent */
    {"pending_review", WORKING, 0},
    {"pending_cancel", WORKING, 0},       /* a cancel was asked for; fills may still come */
    {"pending_replace", WORKING, 0},
    {"stopped", WORKING, 0},              /* a fill is guaranteed but has not happened */
    {"suspended", WORKING, 0},            /* not tradable for now; not ended */
    {"calculated", CALCULATED, 0},        /* done for the day, settlement pending */
    {"done_for_day", DONE_FOR_DAY, 0},
    {"partially_filled", DIRECT, APEX_ORDER_STATE_PARTIAL},
    {"filled", DIRECT, APEX_ORDER_STATE_FILLED},
    {"canceled", DIRECT, APEX_ORDER_STATE_CANCELED},
    {"expired", DIRECT, APEX_ORDER_STATE_EXPIRED},
    {"replaced", DIRECT, APEX_ORDER_STATE_CANCELED}, /* ended; its successor is another order */
    {"rejected", DIRECT, APEX_ORDER_STATE_REJECTED},
};

/* done_for_day: ended for an order of one session, working for a gtc one (see the header). */
static apex_err done_for_day(const apex_json *o, const char *ctx, bool *ended, apex_error *err)
{
  static const char *const ONE_SESSION[] = {"day", "ioc", "fok", "opg", "cls"};
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const char *tif;
  apex_err rc = member_str(o, ctx, "time_in_force", &tif, err);
  if (rc)
    return rc;
  *ended = false;
  if (strcmp(tif, "gtc") == 0)
    return APEX_OK;
  for (size_t k = 0; k < APEX_ARRAY_LEN(ONE_SESSION); k++)
    if (strcmp(tif, ONE_SESSION[k]) == 0) {
      *ended = true;
      return APEX_OK;
    }
  return apex_error_set(err, APEX_EPARSE, "%s time_in_force: %s is not a time in force", ctx,
                        apex_field_shown(apex_json_object_get(o, "time_in_force"), b));
}

/* One order object into *out (zeroed first; the caller zeroes it again on error). */
static apex_err order_object(const apex_json *o, const char *ctx, apex_broker_order *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const char *id, *cid, *cls, *sym, *side, *status;
  apex_dec notional, avg = 0;
  bool has_qty, has_notional, has_avg, has_filled_at, has_updated_at;
  int64_t filled_at, updated_at;
  size_t k;
  apex_err rc;

  *out = (apex_broker_order){0};
  if (!apex_json_is_object(o))
    return apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ctx, apex_field_shown(o, b));

  if ((rc = member_str(o, ctx, "id", &id, err)))
    return rc;
  if (!apex_field_text_ok(id, APEX_VENUE_ID_MAX))
    return apex_error_set(err, APEX_EPARSE, "%s id: %s is not an order id (1 to %d bytes)", ctx,
                          apex_field_shown(apex_json_object_get(o, "id"), b), APEX_VENUE_ID_MAX);
  memcpy(out->venue_id, id, strlen(id) + 1);

  if ((rc = member_str(o, ctx, "client_order_id", &cid, err)))
    return rc;
  if (!apex_field_text_ok(cid, APEX_CLIENT_ID_MAX))
    return apex_error_set(err, APEX_EPARSE, "%s client_order_id: %s is not one of ours (1 to %d bytes)", ctx,
                          apex_field_shown(apex_json_object_get(o, "client_order_id"), b), APEX_CLIENT_ID_MAX);
  memcpy(out->client_id, cid, strlen(cid) + 1);

  if ((rc = member_str(o, ctx, "asset_class", &cls, err)))
    return rc;
  if (strcmp(cls, "us_equity") != 0)
    return apex_error_set(err, APEX_EPARSE, "%s asset_class: %s, expected \"us_equity\"", ctx,
                          apex_field_shown(apex_json_object_get(o, "asset_class"), b));
  if ((rc = member_str(o, ctx, "symbol", &sym, err)))
    return rc;
  if (!ticker_ok(sym))
    return apex_error_set(err, APEX_EPARSE, "%s symbol: %s is not a ticker (1 to %d of A-Z 0-9 . -)", ctx,
                          apex_field_shown(apex_json_object_get(o, "symbol"), b), APEX_MARKET_ASSET_MAX);
  snprintf(out->symbol, sizeof out->symbol, "%s/USD", sym); /* fits: 15 + 4 < 33 */

  if ((rc = member_str(o, ctx, "side", &side, err)))
    return rc;
  if (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0)
    return apex_error_set(err, APEX_EPARSE, "%s side: %s, expected \"buy\" or \"sell\"", ctx,
                          apex_field_shown(apex_json_object_get(o, "side"), b));
  out->buy = side[0] == 'b';

  if ((rc = member_str(o, ctx, "status", &status, err)))
    return rc;
  for (k = 0; k < APEX_ARRAY_LEN(STATUS); k++)
    if (strcmp(status, STATUS[k].name) == 0)
      break;
  if (k == APEX_ARRAY_LEN(STATUS))
    return apex_error_set(err, APEX_EPARSE, "%s status: %s is not an order status", ctx,
                          apex_field_shown(apex_json_object_get(o, "status"), b));

  /* qty is null for an order by notional (a dollar amount): then the notional must be there. */
  if ((rc = member_amount(o, ctx, "qty", true, &out->qty, &has_qty, err)))
    return rc;
  if (!has_qty) {
    if (!apex_json_object_get(o, "qty"))
      return apex_error_set(err, APEX_EPARSE, "%s qty: expected a decimal string, got missing", ctx);
    if ((rc = member_amount(o, ctx, "notional", true, &notional, &has_notional, err)))
      return rc;
    if (!has_notional)
      return apex_error_set(err, APEX_EPARSE, "%s qty: null, and no notional either", ctx);
  }
  if ((rc = member_amount(o, ctx, "filled_qty", false, &out->filled_qty, NULL, err)))
    return rc;
  if (out->qty > 0 && out->filled_qty > out->qty)
    return apex_error_set(err, APEX_EPARSE, "%s filled_qty: above qty", ctx);
  if ((rc = member_amount(o, ctx, "filled_avg_price", true, &avg, &has_avg, err)))
    return rc;
  if (out->filled_qty > 0) {
    if (!has_avg)
      return apex_error_set(err, APEX_EPARSE, "%s filled_avg_price: null for a filled_qty above 0", ctx);
    apex_field_exact q = exact_of(apex_json_object_get(o, "filled_qty"), out->filled_qty);
    apex_field_exact p = exact_of(apex_json_object_get(o, "filled_avg_price"), avg);
    if (apex_field_exact_mul(q, p, &out->quote_filled))
      return apex_error_set(err, APEX_EOVERFLOW, "%s filled_qty x filled_avg_price: out of range", ctx);
  }

  if ((rc = member_time(o, ctx, "created_at", false, &out->time, NULL, err)) ||
      (rc = member_time(o, ctx, "updated_at", true, &updated_at, &has_updated_at, err)) ||
      (rc = member_time(o, ctx, "filled_at", true, &filled_at, &has_filled_at, err)))
    return rc;
  out->update_time = has_filled_at ? filled_at : has_updated_at ? updated_at : out->time;

  const apex_order_state working = out->filled_qty > 0 ? APEX_ORDER_STATE_PARTIAL : APEX_ORDER_STATE_NEW;
  bool ended;
  switch (STATUS[k].rule) {
  case DIRECT:
    out->state = STATUS[k].state;
    break;
  case CALCULATED:
    out->state = out->qty > 0 && out->filled_qty == out->qty ? APEX_ORDER_STATE_FILLED : working;
    break;
  case DONE_FOR_DAY:
    if ((rc = done_for_day(o, ctx, &ended, err)))
      return rc;
    out->state = ended ? APEX_ORDER_STATE_EXPIRED : working;
    break;
  default:
    out->state = working;
    break;
  }
  /* fee and fee_asset stay 0 and "": see the header. */
  return APEX_OK;
}

apex_err apex_alpaca_decode_order(const char *buf, size_t len, apex_broker_order *out, apex_error *err)
{
  apex_json *doc = NULL;
  apex_err rc;

  *out = (apex_broker_order){0};
  if ((rc = parse(buf, len, "order", &doc, err)))
    goto out;
  rc = order_object(doc, "alpaca order", out, err);
out:
  if (rc)
    *out = (apex_broker_order){0};
  apex_json_free(doc);
  return rc;
}

apex_err apex_alpaca_decode_orders(const char *buf, size_t len, apex_broker_order *out, size_t cap, size_t *n,
                                   apex_error *err)
{
  apex_json *doc = NULL;
  char ctx[48];
  size_t kept = 0;
  apex_err rc;

  *n = 0;
  if ((rc = parse(buf, len, "orders", &doc, err)))
    goto out;
  if (!apex_json_is_array(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "alpaca orders: expected an array, got %s", apex_json_type_name(doc));
    goto out;
  }
  for (size_t i = 0; i < apex_json_array_size(doc); i++) {
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "alpaca orders: more than %zu orders", cap);
      goto out;
    }
    snprintf(ctx, sizeof ctx, "alpaca orders[%zu]", i);
    if ((rc = order_object(apex_json_array_get(doc, i), ctx, &out[kept], err))) {
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

/* --- account, positions (ref 4.4) --- */

/* An amount that may be negative (cash on a margin account). */
static apex_err member_signed_amount(const apex_json *o, const char *ctx, const char *key, apex_dec *out,
                                     apex_error *err)
{
  char what[96];
  snprintf(what, sizeof what, "%s %s", ctx, key);
  return amount(apex_json_object_get(o, key), what, out, err);
}

apex_err apex_alpaca_decode_account(const char *buf, size_t len, apex_broker_balance *usd, bool *blocked,
                                    apex_error *err)
{
  static const char ctx[] = "alpaca account";
  apex_json *doc = NULL;
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const char *currency, *status;
  apex_dec cash, bp;
  bool trading_blocked, account_blocked, suspended = false;
  apex_err rc;

  *usd = (apex_broker_balance){0};
  *blocked = true;
  if ((rc = parse(buf, len, "account", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "alpaca account: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  if ((rc = member_str(doc, ctx, "currency", &currency, err)))
    goto out;
  if (strcmp(currency, "USD") != 0) {
    rc = apex_error_set(err, APEX_EPARSE, "alpaca account currency: %s, expected \"USD\"",
                        apex_field_shown(apex_json_object_get(doc, "currency"), b));
    goto out;
  }
  if ((rc = member_str(doc, ctx, "status", &status, err)) ||
      (rc = member_signed_amount(doc, ctx, "cash", &cash, err)) ||
      (rc = member_signed_amount(doc, ctx, "buying_power", &bp, err)) ||
      (rc = member_bool(doc, ctx, "trading_blocked", &trading_blocked, err)) ||
      (rc = member_bool(doc, ctx, "account_blocked", &account_blocked, err)))
    goto out;
  if (!is_null(apex_json_object_get(doc, "trade_suspended_by_user")) &&
      (rc = member_bool(doc, ctx, "trade_suspended_by_user", &suspended, err)))
    goto out;

  const apex_dec spendable = apex_dec_max(apex_dec_min(cash, bp), 0);
  memcpy(usd->asset, "USD", 4);
  usd->free = spendable;
  usd->locked = cash > spendable ? cash - spendable : 0; /* no overflow: 0 <= spendable < cash */
  *blocked = trading_blocked || account_blocked || suspended || strcmp(status, "ACTIVE") != 0;
out:
  if (rc) {
    *usd = (apex_broker_balance){0};
    *blocked = true;
  }
  apex_json_free(doc);
  return rc;
}

/* One position into *x; *keep false for a position of qty 0. */
static apex_err position(const apex_json *p, const char *ctx, apex_broker_balance *x, bool *keep, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8], shown[APEX_DEC_STR_MAX];
  const char *sym, *cls, *side;
  apex_dec qty, avail;
  bool has_avail;
  apex_err rc;

  *x = (apex_broker_balance){0};
  *keep = false;
  if (!apex_json_is_object(p))
    return apex_error_set(err, APEX_EPARSE, "%s: expected an object, got %s", ctx, apex_field_shown(p, b));
  if ((rc = member_str(p, ctx, "asset_class", &cls, err)))
    return rc;
  if (strcmp(cls, "us_equity") != 0)
    return apex_error_set(err, APEX_EPARSE, "%s asset_class: %s, expected \"us_equity\"", ctx,
                          apex_field_shown(apex_json_object_get(p, "asset_class"), b));
  if ((rc = member_str(p, ctx, "symbol", &sym, err)))
    return rc;
  if (!ticker_ok(sym))
    return apex_error_set(err, APEX_EPARSE, "%s symbol: %s is not a ticker (1 to %d of A-Z 0-9 . -)", ctx,
                          apex_field_shown(apex_json_object_get(p, "symbol"), b), APEX_MARKET_ASSET_MAX);
  if ((rc = member_str(p, ctx, "side", &side, err)) || (rc = member_signed_amount(p, ctx, "qty", &qty, err)))
    return rc;
  if (strcmp(side, "long") != 0 && strcmp(side, "short") != 0)
    return apex_error_set(err, APEX_EPARSE, "%s side: %s, expected \"long\" or \"short\"", ctx,
                          apex_field_shown(apex_json_object_get(p, "side"), b));
  if (side[0] == 's' || qty < 0) {
    apex_dec_format(qty, shown, sizeof shown);
    return apex_error_set(err, APEX_EPARSE, "%s: a short position (side \"%s\", qty %s) in %s: we trade long only", ctx,
                          side, shown, sym);
  }
  if ((rc = member_amount(p, ctx, "qty_available", true, &avail, &has_avail, err)))
    return rc;
  if (has_avail && avail > qty)
    return apex_error_set(err, APEX_EPARSE, "%s qty_available: above qty", ctx);
  if (qty == 0)
    return APEX_OK;
  memcpy(x->asset, sym, strlen(sym) + 1);
  x->free = has_avail ? avail : qty;
  x->locked = qty - x->free;
  *keep = true;
  return APEX_OK;
}

apex_err apex_alpaca_decode_positions(const char *buf, size_t len, apex_broker_balance *out, size_t cap, size_t *n,
                                      apex_error *err)
{
  apex_json *doc = NULL;
  char ctx[48];
  size_t kept = 0;
  apex_err rc;

  *n = 0;
  if ((rc = parse(buf, len, "positions", &doc, err)))
    goto out;
  if (!apex_json_is_array(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "alpaca positions: expected an array, got %s", apex_json_type_name(doc));
    goto out;
  }
  for (size_t i = 0; i < apex_json_array_size(doc); i++) {
    apex_broker_balance x;
    bool keep;
    snprintf(ctx, sizeof ctx, "alpaca positions[%zu]", i);
    if ((rc = position(apex_json_array_get(doc, i), ctx, &x, &keep, err)))
      goto out;
    if (!keep)
      continue;
    if (kept == cap) {
      rc = apex_error_set(err, APEX_ETOOBIG, "alpaca positions: more than %zu positions", cap);
      goto out;
    }
    out[kept++] = x;
  }
out:
  if (rc && rc != APEX_ETOOBIG)
    kept = 0;
  *n = kept;
  apex_json_free(doc);
  return rc;
}

/* --- clock --- */

apex_err apex_alpaca_decode_clock(const char *buf, size_t len, bool *is_open, int64_t *next_open_ms,
                                  int64_t *next_close_ms, apex_error *err)
{
  static const char ctx[] = "alpaca clock";
  apex_json *doc = NULL;
  int64_t now;
  apex_err rc;

  *is_open = false;
  *next_open_ms = *next_close_ms = 0;
  if ((rc = parse(buf, len, "clock", &doc, err)))
    goto out;
  if (!apex_json_is_object(doc)) {
    rc = apex_error_set(err, APEX_EPARSE, "alpaca clock: expected an object, got %s", apex_json_type_name(doc));
    goto out;
  }
  if ((rc = member_time(doc, ctx, "timestamp", false, &now, NULL, err)) ||
      (rc = member_bool(doc, ctx, "is_open", is_open, err)) ||
      (rc = member_time(doc, ctx, "next_open", false, next_open_ms, NULL, err)) ||
      (rc = member_time(doc, ctx, "next_close", false, next_close_ms, NULL, err)))
    goto out;
out:
  if (rc) {
    *is_open = false;
    *next_open_ms = *next_close_ms = 0;
  }
  apex_json_free(doc);
  return rc;
}

/* --- errors (ref 4.6) --- */

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

/* Alpaca's codes are 8 digits whose first 3 are the HTTP status they go with (40410000). */
static bool code_class(long code, int status) { return code / 100000 == status; }

/* A 4xx by the venue's message and code (0: none), then by status. shaped: the body was
 * Alpaca's error (msg is then not NULL). */
static apex_err by_4xx(int status, long code, const char *msg, bool shaped, apex_broker_error *x)
{
  if (status == 401 || code_class(code, 401)) {
    x->fail = APEX_BROKER_AUTH;
    return APEX_EINVAL;
  }
  if (msg && strcasestr(msg, "client_order_id must be unique")) {
    x->fail = APEX_BROKER_REJECTED;
    x->venue_code = APEX_ALPACA_DUPLICATE_CODE;
    return APEX_EINVAL;
  }
  if (msg && strcasestr(msg, "insufficient")) { /* buying power, qty available (ref 4.6) */
    x->fail = APEX_BROKER_NO_FUNDS;
    return APEX_ENOFUNDS;
  }
  /* 403 "forbidden." is a key without the permission (ref 4.6, ccxt); a 403 in no shape of
   * Alpaca's is a gateway's refusal. A 40310000 for another reason (a wash trade) is a rejection. */
  if (status == 403 && (!shaped || strcasecmp(msg, "forbidden.") == 0 || strcasecmp(msg, "forbidden") == 0)) {
    x->fail = APEX_BROKER_AUTH;
    return APEX_EINVAL;
  }
  if (code_class(code, 404)) {
    x->fail = APEX_BROKER_NOT_FOUND;
    return APEX_ENOTFOUND;
  }
  x->fail = APEX_BROKER_REJECTED;
  return APEX_EINVAL;
}

apex_err apex_alpaca_decode_trade_error(int status, const char *body, size_t len, int retry_after_s,
                                        apex_broker_error *be, apex_error *err)
{
  apex_json *doc = NULL;
  apex_broker_error x = {.http_status = status, .retry_after_s = -1};
  char shown[VENUE_MSG_SHOWN + 1], code_txt[32] = "", retry[48] = "";
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
    msg = apex_json_string_value(apex_json_object_get(doc, "message"));
    /* "code" may be absent ({"message": "forbidden."}); present, it is an 8-digit integer. */
    shaped = msg && (!c || (apex_json_is_integer(c) && apex_json_int64(c, &code) == APEX_OK && code >= 0 &&
                            code <= 99999999));
  }
  if (!shaped) {
    code = 0;
    msg = NULL;
  }
  x.venue_code = (long)code;

  if (status == 429 || code_class(x.venue_code, 429)) {
    x.fail = APEX_BROKER_RATE_LIMITED;
    x.retry_after_s = retry_after_s >= 0 ? retry_after_s : -1;
    rc = APEX_ERATELIMIT;
    if (retry_after_s >= 0)
      snprintf(retry, sizeof retry, ", retry after %d s", retry_after_s);
    else
      snprintf(retry, sizeof retry, ", no Retry-After given");
  } else if (status < 400 || status > 499) { /* 5xx: Alpaca's side, whatever the body says */
    x.fail = APEX_BROKER_UNAVAILABLE;
    rc = APEX_EIO;
  } else {
    rc = by_4xx(status, x.venue_code, msg, shaped, &x);
  }

  if (shaped) {
    shown_msg(msg, shown);
    if (code)
      snprintf(code_txt, sizeof code_txt, ", code %lld", (long long)code);
    apex_error_set(err, rc, "alpaca: HTTP %d%s: %s%s", status, code_txt, shown, retry);
  } else {
    apex_error_set(err, rc, "alpaca: HTTP %d (body is not an Alpaca error)%s", status, retry);
  }
out:
  if (be)
    *be = x;
  apex_json_free(doc);
  return rc;
}
