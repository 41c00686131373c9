/* alpaca_trade_codec.h - Alpaca's trading API replies (paper and live have one shape): bytes in,
 * broker.h types out. Pure: no I/O, no clock, no globals; the transport (which signs nothing:
 * Alpaca takes its key in two headers, ref 4.2) sends and calls these. Wire formats:
 * /work/shared/reference/venues/README.md 4.1-4.6 ("ref 4.x" in comments).
 * Alpaca trades US stocks: its symbol "AAPL" is ours "AAPL/USD".
 *
 * Amounts sent as strings (most of them) are parsed from their text by base/decimal.h. Some come
 * as JSON numbers (ref 4.3: "qty": 1). An integer literal is exact. A real reaches us only as
 * jansson's double (base/json.h keeps no number text), so it is accepted only where that double
 * names one decimal for certain: below 2^26 (~6.7e7) in magnitude, where an ulp is under 1e-8 and
 * no two decimals of at most 8 places share a double, and only when it is the double nearest such
 * a decimal, which is the text any shortest-round-trip printer (Go's, Python's) writes for it.
 * Any other real ("qty": 0.1234567891, 0.30000000000000004, 1e300) is APEX_EPARSE. On error a
 * decoder leaves its outputs zeroed (or, where it says so, set to the safe side) and err names the
 * field. */
#ifndef APEX_MARKET_ALPACA_TRADE_CODEC_H
#define APEX_MARKET_ALPACA_TRADE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "market/broker.h"

/* Replies longer than this are APEX_ETOOBIG unparsed (GET /v2/orders holds at most 500 orders). */
#define APEX_ALPACA_REPLY_MAX ((size_t)16 << 20)

/* be->venue_code of a 422 "client_order_id must be unique" (Alpaca's code 40010001 is in err->msg):
 * an order with that client id exists already, so the transport asks for it by client id
 * (GET /v2/orders:by_client_order_id) instead of reporting a rejection. */
#define APEX_ALPACA_DUPLICATE_CODE 1

/* The order object of POST /v2/orders, GET /v2/orders/{id} and GET /v2/orders:by_client_order_id
 * (ref 4.3) into *out.
 * - venue_id: id (1..APEX_VENUE_ID_MAX bytes, no control characters). client_id: client_order_id,
 *   1..APEX_CLIENT_ID_MAX bytes without control characters: Alpaca allows 128, but we send ids of
 *   at most 36, so a longer one names an order we did not make and is APEX_EPARSE.
 * - symbol: asset_class must be "us_equity" and symbol a ticker (1..APEX_MARKET_ASSET_MAX of
 *   A-Z 0-9 . -, "BRK.B"); out->symbol is ours, "AAPL/USD". Other asset classes are APEX_EPARSE.
 * - buy: side "buy" (else "sell").
 * - state from status (any other status is APEX_EPARSE):
 *     partially_filled -> PARTIAL; filled -> FILLED; canceled -> CANCELED; expired -> EXPIRED;
 *     replaced -> CANCELED (it ended; the replacing order is another order, with fills of its own);
 *     rejected -> REJECTED;
 *     new, accepted, pending_new, accepted_for_bidding, held, pending_review, pending_cancel,
 *     pending_replace, stopped (a fill is guaranteed but has not happened), suspended (not
 *     tradable for now, not ended) -> still working: NEW, or PARTIAL when filled_qty > 0;
 *     calculated (done for the day, settlement pending) -> FILLED when filled_qty reaches a qty
 *     > 0, else as a working order: it is not ended, it may still report more;
 *     done_for_day -> EXPIRED when time_in_force is day, ioc, fok, opg or cls (it will not
 *     trade again); for gtc it resumes the next day, so it is working (NEW or PARTIAL).
 *   A working state for an order that is in fact ended only makes the caller ask again; an ended
 *   state for a working order would let it forget an order that can still fill.
 * - qty (null for an order by notional: then notional must be an amount and qty is 0),
 *   filled_qty, both >= 0, filled_qty <= qty unless qty is 0.
 * - quote_filled = filled_qty x filled_avg_price, the product of the two exact decimals as sent
 *   (each up to 19 significant digits, so 9-place fractional shares lose nothing before it),
 *   rounded once to 8 places, half to even (see alpaca_trade_codec.c). filled_avg_price is needed
 *   (>= 0, not null) when filled_qty > 0; otherwise quote_filled is 0.
 * - fee 0, fee_asset "": Alpaca charges no commission on stock trades, and the regulatory fees it
 *   passes on (SEC, FINRA TAF) are not in the order object but booked later as account activities.
 *   A "commission" member (Broker API: a partner's charge to its own client) is ignored.
 * - time: created_at; update_time: filled_at, else updated_at, else time. RFC 3339 with "Z" or
 *   an offset and up to 9 fractional digits, as ms UTC (truncated); null is "not said".
 * APEX_EPARSE naming the field, APEX_EOVERFLOW for an amount beyond apex_dec's range. On error
 * *out is zeroed. */
apex_err apex_alpaca_decode_order(const char *buf, size_t len, apex_broker_order *out, apex_error *err);

/* GET /v2/orders (ref 4.3): an array of order objects, each read as apex_alpaca_decode_order reads
 * one, into out, *n of them. APEX_ETOOBIG when the reply holds more than cap (out full, *n = cap);
 * other errors name the index and leave *n 0. */
apex_err apex_alpaca_decode_orders(const char *buf, size_t len, apex_broker_order *out, size_t cap, size_t *n,
                                   apex_error *err);

/* GET /v2/account (ref 4.4) as the one USD balance, with whether the account may trade.
 * - currency must be "USD"; usd->asset is "USD".
 * - cash and buying_power are amounts (cash may be negative on a margin account). usd->free is
 *   min(cash, buying_power), not below 0: on a cash account buying power is the cash not held by
 *   open buy orders, so that is what a new order may spend; on a margin account buying power
 *   includes borrowing, which we never use, so free is the cash. usd->locked is cash - free, not
 *   below 0 (held for open orders). A negative cash (a margin debit) gives free 0 and locked 0.
 * - *blocked: trading_blocked or account_blocked (booleans, required), or trade_suspended_by_user
 *   (a boolean when present), or status other than "ACTIVE".
 * On error *usd is zeroed and *blocked true. */
apex_err apex_alpaca_decode_account(const char *buf, size_t len, apex_broker_balance *usd, bool *blocked,
                                    apex_error *err);

/* GET /v2/positions (ref 4.4): one balance per position with qty > 0, in the reply's order: asset
 * the ticker (asset_class "us_equity", symbol 1..APEX_MARKET_ASSET_MAX of A-Z 0-9 . -), free the
 * shares not held by open sell orders (qty_available when present, else qty), locked the rest.
 * We trade long only: side must be "long" with qty >= 0; a short position (side "short", or a
 * negative qty) is APEX_EPARSE, so that an account this adapter cannot account for stops the
 * caller instead of showing as a negative holding. A position of qty 0 is skipped. APEX_ETOOBIG
 * when more remain (out full, *n = cap); other errors leave *n 0. */
apex_err apex_alpaca_decode_positions(const char *buf, size_t len, apex_broker_balance *out, size_t cap, size_t *n,
                                      apex_error *err);

/* GET /v2/clock: {"timestamp": "2024-01-02T09:29:59.123-05:00", "is_open": false, "next_open":
 * "2024-01-02T09:30:00-05:00", "next_close": "2024-01-02T16:00:00-05:00"}. Every member is
 * required; the times carry their New York offset and are read exactly, as ms UTC (fractions
 * truncated). On error the outputs are false and 0. */
apex_err apex_alpaca_decode_clock(const char *buf, size_t len, bool *is_open, int64_t *next_open_ms,
                                  int64_t *next_close_ms, apex_error *err);

/* A reply of the trading API as the port's failure (ref 4.6). Fills *be (http_status = status,
 * venue_code from a {"code": 40310000, "message": "..."} body or 0, retry_after_s -1 unless
 * rate-limited), sets err and returns the code. In order:
 *   2xx                                         OK            APEX_OK (err untouched)
 *   429, or code 429xxxxx                       RATE_LIMITED  APEX_ERATELIMIT, retry_after_s copied
 *                                                             (< 0: -1; Alpaca documents no Retry-After)
 *   5xx and other non-4xx                       UNAVAILABLE   APEX_EIO (for an order the transport
 *                                                             reports UNKNOWN: it may have arrived)
 *   401, code 401xxxxx (40110000)               AUTH          APEX_EINVAL
 *   message "client_order_id must be unique"    REJECTED      APEX_EINVAL, venue_code
 *                                                             APEX_ALPACA_DUPLICATE_CODE
 *   message containing "insufficient" (buying power, qty available)
 *                                               NO_FUNDS      APEX_ENOFUNDS
 *   403 "forbidden."; a 403 not in Alpaca's shape
 *                                               AUTH          APEX_EINVAL
 *   code 404xxxxx (40410000 "order not found")  NOT_FOUND     APEX_ENOTFOUND
 *   any other 4xx (403 40310000 for another reason, such as "potential wash trade detected";
 *   422 42210000; 400 400xxxxx; a 404 without Alpaca's code)
 *                                               REJECTED      APEX_EINVAL
 * NOT_FOUND thus needs the venue's own word: a bare 404 (a wrong base URL, or a proxy that does
 * not pass the ':' of /v2/orders:by_client_order_id) must not read as "the order does not exist".
 * The body is not trusted: one of another shape ("message" a string, "code" when present an
 * integer of at most 8 digits), or over 64 KiB, classifies by status alone. err->msg: "alpaca:
 * HTTP 403, code 40310000: insufficient qty available for order (requested: 1000, available: 0)"
 * (the venue's text cut at 300 bytes, control characters as '?'; "code" left out when the body
 * has none), plus ", retry after N s" when rate-limited. body and be may be NULL. */
apex_err apex_alpaca_decode_trade_error(int status, const char *body, size_t len, int retry_after_s,
                                        apex_broker_error *be, apex_error *err);

#endif
