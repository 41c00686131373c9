/* coinbase_trade_codec.h - Coinbase Advanced Trade's private API replies: bytes in, broker.h types
 * out. Pure: no I/O, no clock, no globals; the transport (coinbase_trade.c) signs (ES256 JWT,
 * market/sign.h), sends and calls these. Wire formats: /work/shared/reference/venues/README.md
 * 3.1-3.4 and 7 ("ref 3.x" in comments). Coinbase's product "BTC-USD" is ours "BTC/USD".
 * Amounts are decimal strings parsed from their text, never through a double (a JSON number is
 * APEX_EPARSE). On error a decoder leaves its outputs zeroed and err names the field. */
#ifndef APEX_MARKET_COINBASE_TRADE_CODEC_H
#define APEX_MARKET_COINBASE_TRADE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "market/broker.h"

/* Replies longer than this are APEX_ETOOBIG unparsed. */
#define APEX_COINBASE_REPLY_MAX ((size_t)16 << 20)

/* be->venue_code of a create refused for a duplicate client_order_id (error
 * "DUPLICATE_CLIENT_ORDER_ID", or a message that mentions "duplicate"): an order with that client
 * id exists already (an earlier attempt arrived), so the transport looks that order up instead of
 * reporting a rejection. */
#define APEX_COINBASE_DUPLICATE_CODE 1

/* POST /api/v3/brokerage/orders, a 2xx reply (ref 3.2 CreateOrderResponse). *be is set wholly
 * (http_status 200, retry_after_s -1, venue_code 0 unless said below).
 * - "success" true: order_id gets success_response.order_id, else the top-level order_id
 *   (1..APEX_VENUE_ID_MAX bytes, no control characters); APEX_OK, be->fail OK.
 * - "success" false: error_response (an object; absent reads as {}) is classified, its error,
 *   message, error_details, preview_failure_reason and new_order_failure_reason and the top-level
 *   failure_reason each read when a string:
 *     error "INSUFFICIENT_FUND", or any of them containing "insufficient"  NO_FUNDS APEX_ENOFUNDS
 *     error "DUPLICATE_CLIENT_ORDER_ID", or a text containing "duplicate"  REJECTED APEX_EINVAL,
 *                                                   venue_code APEX_COINBASE_DUPLICATE_CODE
 *     anything else (INVALID_*, UNSUPPORTED_ORDER_CONFIGURATION, preview failures)  REJECTED APEX_EINVAL
 *   (the exact error codes first, then the texts); err->msg: "coinbase: order refused: ERROR:
 *   MESSAGE" (cut at 300 bytes, control characters as '?'). order_id is "".
 * - any other shape: APEX_EPARSE naming the field, be->fail BAD_REPLY, order_id "". */
apex_err apex_coinbase_decode_create(const char *buf, size_t len, char order_id[static APEX_VENUE_ID_MAX + 1],
                                     apex_broker_error *be, apex_error *err);

/* GET /api/v3/brokerage/orders/historical/{order_id}: {"order": {...}} (ref 3.4) into *out.
 * - venue_id: order_id (1..APEX_VENUE_ID_MAX bytes, no control characters); client_id:
 *   client_order_id, 1..APEX_CLIENT_ID_MAX bytes without control characters (we send at most 36).
 * - symbol: product_id BASE-QUOTE, each 1..APEX_MARKET_ASSET_MAX of A-Z 0-9, as "BASE/QUOTE".
 * - buy: side "BUY" (else "SELL"; anything else is APEX_EPARSE).
 * - state from status (any other is APEX_EPARSE): OPEN, PENDING, QUEUED, CANCEL_QUEUED (a cancel
 *   was asked for; fills may still come) and EDIT_QUEUED are working: NEW, or PARTIAL when
 *   filled_size > 0; FILLED; CANCELLED -> CANCELED; EXPIRED; FAILED -> REJECTED.
 * - qty: order_configuration holds exactly one object member (market_market_ioc, limit_limit_gtc,
 *   ...); qty is its base_size, or 0 for an order by quote_size (a market buy by notional: then
 *   quote_size must be there). filled_qty: filled_size. Both >= 0; filled_size <= qty unless qty
 *   is 0.
 * - quote_filled: filled_value when present (not null), else filled_size x average_filled_price,
 *   the product of the two exact decimal texts rounded once to 8 places, half to even (as
 *   alpaca_trade_codec.c does); average_filled_price is needed when filled_size > 0.
 * - fee: total_fees (>= 0), charged in the quote currency: fee_asset is the product's quote when
 *   total_fees is present, else fee 0 and fee_asset "". fee_assets_other 0.
 * - time: created_time (RFC 3339, ms UTC); update_time: last_fill_time when present (neither null
 *   nor ""), else time.
 * APEX_EPARSE naming the field, APEX_EOVERFLOW; on error *out is zeroed. */
apex_err apex_coinbase_decode_order(const char *buf, size_t len, apex_broker_order *out, apex_error *err);

/* GET /api/v3/brokerage/orders/historical/batch: {"orders": [...], "has_next": bool, "cursor":
 * "..."}, each order read as apex_coinbase_decode_order reads one, into out, *n of them.
 * APEX_ETOOBIG when more remain: the reply holds more than cap (out full, *n = cap), or has_next
 * is true (*n = the orders read). Other errors name the index and leave *n 0. */
apex_err apex_coinbase_decode_orders(const char *buf, size_t len, apex_broker_order *out, size_t cap, size_t *n,
                                     apex_error *err);

/* GET /api/v3/brokerage/accounts: {"accounts": [{"currency": "BTC", "available_balance":
 * {"value": "1.23", "currency": "BTC"}, "hold": {"value": "0.1", "currency": "BTC"}, ...}],
 * "has_next": bool, ...}: the accounts with available + hold > 0 into out (free = available,
 * locked = hold), *n of them, in the reply's order. Every account is checked: currency 1..
 * APEX_MARKET_ASSET_MAX bytes without control characters, both values decimal strings >= 0 and
 * their own "currency" (when present) equal to it; hold may be absent (0). APEX_ETOOBIG when more
 * non-zero balances remain (out full, *n = cap) or has_next is true (*n as read); other errors
 * leave *n 0. */
apex_err apex_coinbase_decode_accounts(const char *buf, size_t len, apex_broker_balance *out, size_t cap, size_t *n,
                                       apex_error *err);

/* POST /api/v3/brokerage/orders/batch_cancel: {"results": [{"success": bool, "failure_reason":
 * "...", "order_id": "..."}]}: *ok is the success of the result for order_id. APEX_EPARSE when no
 * result names order_id or a result is malformed (*ok false). *ok false with APEX_OK: Coinbase
 * refused to cancel it (it is no longer open, or unknown). */
apex_err apex_coinbase_decode_cancel(const char *buf, size_t len, const char *order_id, bool *ok, apex_error *err);

/* A non-2xx reply as the port's failure. Fills *be (http_status = status, venue_code 0,
 * retry_after_s -1 unless rate-limited), sets err and returns the code. Coinbase's error body is
 * {"error": "NOT_FOUND", "message": "...", "error_details": "..."}; the texts are matched without
 * regard to case:
 *   2xx                                             OK            APEX_OK (err untouched)
 *   429, or error "rate_limit_exceeded"             RATE_LIMITED  APEX_ERATELIMIT, retry_after_s copied (< 0: -1)
 *   5xx and other non-4xx                           UNAVAILABLE   APEX_EIO
 *   401; error "unauthorized", "authentication_error", "invalid_token", "expired_token",
 *     "PERMISSION_DENIED"                           AUTH          APEX_EINVAL
 *   404 with Coinbase's body: error "NOT_FOUND" or a message containing "order with this orderID
 *     was not found"                                NOT_FOUND     APEX_ENOTFOUND
 *   error "INSUFFICIENT_FUND" or a text containing "insufficient"  NO_FUNDS  APEX_ENOFUNDS
 *   any other 4xx (a bare 404 included)             REJECTED      APEX_EINVAL
 * NOT_FOUND needs the venue's own word: a bare 404 (a wrong base URL) must not read as "the order
 * does not exist". The body is not trusted: one of another shape, or over 64 KiB, classifies by
 * status alone. err->msg: "coinbase: HTTP 404: NOT_FOUND: order with this orderID was not found"
 * (the venue's text cut at 300 bytes, control characters as '?'), plus ", retry after N s" when
 * rate-limited. be may be NULL. */
apex_err apex_coinbase_decode_trade_error(int status, const char *body, size_t len, int retry_after_s,
                                          apex_broker_error *be, apex_error *err);

#endif
