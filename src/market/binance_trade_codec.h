/* binance_trade_codec.h - Binance spot's private API replies: bytes in, broker.h types out.
 * Pure: no I/O, no clock, no globals; the transport (binance_trade.c) signs, sends and calls these.
 * Wire formats: /work/shared/reference/venues/README.md 1.8-1.11 ("ref 1.x" in comments).
 * Amounts are parsed from their decimal text, never through a double. On error a decoder leaves
 * its outputs zeroed (or, where it says so, as they were) and err names the field. */
#ifndef APEX_MARKET_BINANCE_TRADE_CODEC_H
#define APEX_MARKET_BINANCE_TRADE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "market/broker.h"

/* The order object of POST /api/v3/order (ACK, RESULT and FULL replies), GET /api/v3/order and
 * DELETE /api/v3/order (ref 1.8, 1.9) into *out.
 * - symbol is ours ("BTC/USDT"): the reply's "symbol" must be its joined form ("BTCUSDT"), else
 *   APEX_EPARSE; out->symbol gets symbol. APEX_EINVAL if symbol is not BASE/QUOTE. symbol NULL:
 *   out->symbol gets the venue's text as it is (1..APEX_MARKET_SYMBOL_MAX bytes, no control
 *   characters).
 * - client_id: origClientOrderId when present (a DELETE reply's clientOrderId names the cancel),
 *   else clientOrderId; either must match ^[A-Za-z0-9_-]{1,36}$. venue_id: orderId as text.
 * - status NEW and PENDING_NEW are NEW, PARTIALLY_FILLED PARTIAL, FILLED, CANCELED and
 *   PENDING_CANCEL CANCELED, REJECTED, EXPIRED and EXPIRED_IN_MATCH EXPIRED; any other is
 *   APEX_EPARSE. A reply without "status" is an ACK: NEW with qty, fills and fee 0 and buy false,
 *   since an ACK carries neither side nor quantity (the caller takes them from its request).
 * - qty origQty, filled_qty executedQty, quote_filled cummulativeQuoteQty, all >= 0 (Binance
 *   sends a negative cummulativeQuoteQty for some historical orders: refused here), executedQty
 *   <= origQty unless origQty is 0 (a MARKET order by quoteOrderQty); side BUY or SELL.
 * - time: transactTime, else time; update_time: updateTime, else transactTime; 0 when absent.
 * - fills[] (FULL): each {price, qty >= 0, commission, commissionAsset}, their qty summing to no
 *   more than executedQty. fee sums the commissions in the first commissionAsset seen (fee_asset);
 *   fee_assets_other counts the fills charged in another asset. A fill with commission 0 and an
 *   empty asset charges nothing. Without fills[], fee is 0 and fee_asset "".
 * APEX_EPARSE naming the field, APEX_EOVERFLOW for a sum beyond apex_dec's range. On error *out is
 * zeroed. */
apex_err apex_binance_decode_order(const char *buf, size_t len, const char *symbol, apex_broker_order *out,
                                   apex_error *err);

/* GET /api/v3/openOrders (ref 1.9): an array of order objects, each read as
 * apex_binance_decode_order reads one (symbol likewise: NULL when the request named none), into
 * out, *n of them. APEX_ETOOBIG when the reply holds more than cap (out full, *n = cap); other
 * errors name the index and leave *n 0. */
apex_err apex_binance_decode_orders(const char *buf, size_t len, const char *symbol, apex_broker_order *out,
                                    size_t cap, size_t *n, apex_error *err);

/* GET /api/v3/myTrades?symbol=&orderId= : the rows of order order_id summed, for an order whose
 * reply had no fills[] (GET and DELETE /api/v3/order). Every row is checked, summed or not:
 * symbol a string, id and orderId integers >= 0, price, qty, quoteQty decimal strings >= 0,
 * commission a decimal string, commissionAsset a string of at most APEX_MARKET_ASSET_MAX bytes,
 * time an integer, isBuyer and isMaker booleans.
 * Adds to what the outputs hold, so pages (fromId) sum up: zero them before the first page.
 * *fee adds the commissions in *fee_asset; when fee_asset is "" it becomes the first asset seen
 * (an empty asset with commission 0 charges nothing); *other counts the rows charged in another
 * asset. *qty and *quote (each may be NULL) add the rows' qty and quoteQty, to check against the
 * order's executedQty and cummulativeQuoteQty. APEX_EPARSE naming the row and field,
 * APEX_EOVERFLOW; on error every output is left as it was. */
apex_err apex_binance_decode_fills(const char *buf, size_t len, int64_t order_id, apex_dec *fee,
                                   char fee_asset[static APEX_MARKET_ASSET_MAX + 1], int *other, apex_dec *qty,
                                   apex_dec *quote, apex_error *err);

/* GET /api/v3/account (ref 1.9): the balances[] with free + locked > 0 into out, *n of them, in
 * the reply's order. Every entry is checked: asset a string, free and locked decimal strings >= 0;
 * a kept one's asset is 1..APEX_MARKET_ASSET_MAX bytes without control characters. APEX_ETOOBIG
 * when more non-zero balances remain (out full, *n = cap); other errors leave *n 0. */
apex_err apex_binance_decode_account(const char *buf, size_t len, apex_broker_balance *out, size_t cap, size_t *n,
                                     apex_error *err);

/* GET /api/v3/time: {"serverTime": N}, N an integer >= 0 (ms UTC). On error *ms is 0. */
apex_err apex_binance_decode_server_time(const char *buf, size_t len, int64_t *ms, apex_error *err);

/* A reply of a private endpoint as the port's failure (ref 1.2, 1.11). Fills *be (http_status =
 * status, venue_code from a {"code": -2010, "msg": "..."} body or 0, retry_after_s -1 unless
 * rate-limited), sets err and returns the code:
 *   2xx                                   OK            APEX_OK (err untouched)
 *   429, 418                              RATE_LIMITED  APEX_ERATELIMIT, retry_after_s copied (< 0: -1)
 *   code -1006, -1007 (any status)        UNKNOWN       APEX_ETIMEOUT: sent, execution status unknown
 *   5xx and other non-4xx                 UNAVAILABLE   APEX_EIO
 *   code -1000 (unknown error)            UNKNOWN       APEX_EIO
 *   code -1001 (internal error)           UNAVAILABLE   APEX_EIO
 *   code -1003, -1015                     RATE_LIMITED  APEX_ERATELIMIT
 *   code -2010 "...insufficient balance..." NO_FUNDS    APEX_ENOFUNDS
 *   code -2010 otherwise, -1013, -1100..-1106, -1111, -1112, -1114..-1117, -1121,
 *        -1021 (timestamp: the caller resyncs its clock; venue_code tells it)  REJECTED  APEX_EINVAL
 *   code -2011, -2013                     NOT_FOUND     APEX_ENOTFOUND
 *   code -1022, -2014, -2015; 401, 403    AUTH          APEX_EINVAL
 *   any other 4xx (404 included)          REJECTED      APEX_EINVAL
 * NOT_FOUND thus needs the venue's own word: a bare 404 (a wrong base URL) must not read as "the
 * order does not exist". The body is not trusted: one of another shape, or over 64 KiB, classifies
 * by status alone. err->msg: "binance: HTTP 400, code -2010: Account has insufficient balance for
 * requested action." (the venue's text cut at 300 bytes, control characters as '?'), plus ",
 * retry after N s" when rate-limited. be may be NULL. */
apex_err apex_binance_decode_trade_error(int status, const char *body, size_t len, int retry_after_s,
                                         apex_broker_error *be, apex_error *err);

#endif
