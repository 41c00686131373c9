/* kraken_trade_codec.h - Kraken spot's private API replies: bytes in, broker.h types out.
 * Pure: no I/O, no clock, no globals; the transport (kraken_trade.c) signs (market/sign.h), sends
 * and calls these. Wire formats: /work/shared/reference/venues/README.md 2.1, 2.2, 2.5-2.7 ("ref
 * 2.x") and ccxt's Kraken conventions (ref 7). Every reply is {"error":[...],"result":{...}}; a
 * non-empty error array is a failure whatever the HTTP status (ref 2.1), and every decoder returns
 * it as apex_kraken_decode_trade_error classifies it. Amounts are parsed from their decimal text,
 * never through a double. On error a decoder leaves its outputs zeroed (the arrays' *n 0, except
 * for APEX_ETOOBIG) and err names the field. */
#ifndef APEX_MARKET_KRAKEN_TRADE_CODEC_H
#define APEX_MARKET_KRAKEN_TRADE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "market/broker.h"

/* apex_broker_error.venue_code of "EAPI:Invalid nonce" (Kraken has no numeric codes; every other
 * failure has venue_code 0): the request was refused before it was looked at, so the transport
 * may raise its nonce and send the same request again. */
#define APEX_KRAKEN_NONCE_CODE 1

/* POST /0/private/AddOrder (ref 2.5): result.txid[0], 1..APEX_VENUE_ID_MAX bytes without control
 * characters, into txid. result.txid must be a non-empty array of strings (a validate=true reply
 * has none: APEX_EPARSE), result.descr an object when present. On error txid is "". */
apex_err apex_kraken_decode_add_order(const char *buf, size_t len, char txid[static APEX_VENUE_ID_MAX + 1],
                                      apex_error *err);

/* POST /0/private/QueryOrders (result: {txid: order}), /0/private/OpenOrders (result: {"open":
 * {txid: order}}) (ref 2.5) and /0/private/ClosedOrders (result: {"closed": {txid: order}, "count":
 * N}, the same order objects) into out, one order per txid in the reply's order, *n of them (a
 * ClosedOrders page's, not its count's):
 * - venue_id the txid (1..APEX_VENUE_ID_MAX bytes, no control characters); client_id cl_ord_id when
 *   present and not null (1..APEX_CLIENT_ID_MAX printable ASCII bytes), else "".
 * - symbol ours ("BTC/USD") from descr.pair, an altname split at a known quote suffix (USDT, USDC,
 *   USD, EUR, GBP, CAD, JPY, CHF, AUD, XBT, BTC, ETH) or an 8-letter id of two X/Z codes
 *   ("XXBTZUSD"); XBT -> BTC, XDG -> DOGE as apex_kraken_common_asset. buy: descr.type "buy" (else
 *   "sell").
 * - status "pending" and "open" NEW, PARTIAL once vol_exec > 0; "closed" FILLED when vol_exec ==
 *   vol, else CANCELED (an IOC remainder or a market order cut short); "canceled" CANCELED;
 *   "expired" EXPIRED; any other APEX_EPARSE.
 * - qty vol, filled_qty vol_exec, quote_filled cost, fee fee: decimal strings >= 0, vol_exec <= vol.
 *   fee_asset the quote asset (the base asset when oflags says "fcib"): see kraken_trade_codec.c.
 * - time opentm (seconds, a number or a decimal string, >= 0) in ms, cut (not rounded) to the ms:
 *   1688666559.8974 -> 1688666559897; update_time closetm likewise when present, else 0.
 * APEX_EPARSE naming the txid and field ("kraken QueryOrders OUF4EM-FRGI2-MQMWZD vol_exec: above
 * vol"). APEX_ETOOBIG when the reply holds more than cap orders (out full, *n = cap); any other
 * error leaves *n 0. */
apex_err apex_kraken_decode_orders(const char *buf, size_t len, apex_broker_order *out, size_t cap, size_t *n,
                                   apex_error *err);

/* POST /0/private/Balance (ref 2.5): result {asset: "amount"} into out, the non-zero ones, in the
 * reply's order, *n of them. Assets as ccxt names them: a 4-letter code starting with X or Z loses
 * that letter ("XXBT" -> "XBT", "ZUSD" -> "USD"), then apex_kraken_common_asset ("XBT" -> "BTC");
 * a suffix after '.' ("XBT.F") is kept and the code before it mapped alike. free is the amount
 * (Kraken's Balance reports totals, with what open orders hold: see kraken_trade_codec.c), locked
 * 0. Kraken sends up to 10 decimals: they are cut DOWN to 8, so a balance is never overstated;
 * exponents are refused. Every entry is checked: a decimal string >= 0, an asset of 1 to
 * APEX_MARKET_ASSET_MAX bytes without control characters. APEX_ETOOBIG when more non-zero
 * balances remain (out full, *n = cap); other errors leave *n 0. */
apex_err apex_kraken_decode_balances(const char *buf, size_t len, apex_broker_balance *out, size_t cap, size_t *n,
                                     apex_error *err);

/* POST /0/private/CancelOrder (ref 2.5): result.count, an integer 0..INT_MAX, into *count;
 * result.pending a boolean when present. On error *count is 0. */
apex_err apex_kraken_decode_cancel(const char *buf, size_t len, int *count, apex_error *err);

/* POST /0/private/CancelAllOrdersAfter (ref 2.5): result.triggerTime, RFC 3339 UTC
 * ("2023-03-24T17:42:56Z"; fractions of a second and a +HH:MM/-HH:MM offset accepted) in ms into
 * *trigger_ms; "0" (the switch disarmed) is 0. result.currentTime must be such a time too. On
 * error *trigger_ms is 0. */
apex_err apex_kraken_decode_dead_man(const char *buf, size_t len, int64_t *trigger_ms, apex_error *err);

/* A reply of a private endpoint as the port's failure (ref 2.1, 2.7, 7). Fills *be (http_status =
 * status, venue_code 0 but APEX_KRAKEN_NONCE_CODE for "EAPI:Invalid nonce", retry_after_s -1: the
 * signature has no Retry-After), sets err and returns the code. A non-empty "error" array is a
 * failure whatever the status, its first string (matched as a prefix: Kraken may add ":detail")
 * deciding:
 *   EOrder:Insufficient funds                                         NO_FUNDS      APEX_ENOFUNDS
 *   EOrder:Order minimum not met, EOrder:Cost minimum not met, EOrder:Tick size check failed,
 *     EGeneral:Invalid arguments..., EQuery:Unknown asset pair, EOrder:Invalid order,
 *     EService:Deadline elapsed (the deadline made sure it was not placed)   REJECTED  APEX_EINVAL
 *   EAPI:Invalid nonce (venue_code APEX_KRAKEN_NONCE_CODE)             REJECTED      APEX_EINVAL
 *   EOrder:Unknown order                                              NOT_FOUND     APEX_ENOTFOUND
 *   EAPI:Invalid key, EAPI:Invalid signature, EGeneral:Permission denied  AUTH      APEX_EINVAL
 *   EAPI:Rate limit exceeded, EOrder:Rate limit exceeded, EOrder:Domain rate limit exceeded,
 *     EGeneral:Temporary lockout, EGeneral:Too many requests            RATE_LIMITED  APEX_ERATELIMIT
 *   EService:Unavailable, EService:Busy, EService:Market in cancel_only mode,
 *     EService:Market in post_only mode                                 UNAVAILABLE   APEX_EIO
 *   EGeneral:Internal error (its fate is unknown: query it)           UNKNOWN       APEX_ETIMEOUT
 *   any other string                                                  REJECTED      APEX_EINVAL
 *   a first element that is not a string                              BAD_REPLY     APEX_EPARSE
 * Without one (no error array, an empty one, not JSON, or over 64 KiB with a non-2xx status; a 2xx
 * reply is read up to APEX_KRAKEN_REPLY_MAX), by status:
 *   2xx with an empty array OK (APEX_OK, err untouched); 2xx otherwise BAD_REPLY (APEX_EPARSE);
 *   429 RATE_LIMITED; 401, 403 AUTH; other 4xx REJECTED (a bare 404 is a wrong URL, never
 *   NOT_FOUND); 5xx and any other status UNAVAILABLE (APEX_EIO).
 * 429 is RATE_LIMITED whatever the body says. err->msg: "kraken: EOrder:Insufficient funds"
 * (", HTTP N" added when the status is not 200, " (+N more)" when the array holds more; the
 * venue's text cut at 300 bytes, control characters as '?'), else "kraken: HTTP 503 (body is not
 * a Kraken reply)". be may be NULL. */
apex_err apex_kraken_decode_trade_error(int status, const char *body, size_t len, apex_broker_error *be,
                                        apex_error *err);

#endif
