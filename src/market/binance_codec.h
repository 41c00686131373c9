/* binance_codec.h - Binance spot public market data: reply bytes in, market.h types out.
 * Pure: no I/O, no clock, no globals; the transport (binance.c) fetches and calls these. Wire
 * formats: /work/shared/reference/venues/README.md section 1 ("ref 1.x" in comments).
 * Every decoder parses prices and sizes from their decimal text, never through a double, and on
 * error leaves its output as it was (or zeroed, for the fixed-size ones) with err saying where. */
#ifndef APEX_MARKET_BINANCE_CODEC_H
#define APEX_MARKET_BINANCE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "market/market.h"

/* Replies longer than this are APEX_ETOOBIG unparsed (a full exchangeInfo is ~15 MB). */
#define APEX_BINANCE_REPLY_MAX ((size_t)64 << 20)

/* GET /api/v3/klines (ref 1.4): appends each row to out, oldest first. Every row must have 12
 * elements, an integer open time greater than the previous row's (and than out's last row, so
 * pages join), an integer close time >= open time, o/h/l/c > 0, v >= 0 as decimal strings, and
 * high >= max(open, close), low <= min(open, close). APEX_EPARSE names the row index and field;
 * APEX_EOVERFLOW for a value beyond apex_dec's range; APEX_ENOMEM. On error out keeps its rows. */
apex_err apex_binance_decode_klines(const char *buf, size_t len, apex_series *out, apex_error *err);

/* GET /api/v3/exchangeInfo (ref 1.7): the symbols[] into out (at most cap), *n of them. symbol
 * is "BASE/QUOTE" from baseAsset/quoteAsset, venue_symbol the venue's "symbol", active is status
 * "TRADING"; tick_size from PRICE_FILTER.tickSize, lot_step from LOT_SIZE.stepSize, min_notional
 * from NOTIONAL.minNotional or else the older MIN_NOTIONAL.minNotional (0 when absent). A symbol
 * whose names do not fit our form (assets outside A-Z 0-9 . -, too long) is left out and counted
 * in *skipped (skipped may be NULL). APEX_ETOOBIG when more symbols remain (out full, *n = cap);
 * APEX_EPARSE (naming the symbols[] index and field) for a malformed reply, *n then 0. */
apex_err apex_binance_decode_symbols(const char *buf, size_t len, apex_market_symbol *out, size_t cap, size_t *n,
                                     size_t *skipped, apex_error *err);

/* GET /api/v3/ticker/24hr?symbol=... (ref 1.5), one object: lastPrice, bidPrice, askPrice,
 * volume (decimal strings, >= 0, last > 0), priceChangePercent, closeTime (integer ms) into out.
 * symbol is ours ("BNB/BTC"); the reply's "symbol" must be its joined form ("BNBBTC"), else
 * APEX_EPARSE. APEX_EINVAL if symbol is not BASE/QUOTE. On error *out is zeroed. */
apex_err apex_binance_decode_ticker(const char *buf, size_t len, const char *symbol, apex_ticker *out,
                                    apex_error *err);

/* GET /api/v3/depth (ref 1.6): the best `depth` levels of each side (1..APEX_BOOK_MAX, else
 * APEX_EINVAL) into out, best first, out->time 0 (the reply has none); *last_update_id gets
 * lastUpdateId (may be NULL). Every level of the reply is checked, kept or not: [price, qty]
 * decimal strings, price > 0, qty > 0, bids strictly falling, asks strictly rising, best bid
 * below best ask; otherwise APEX_EPARSE naming side and index. On error *out is zeroed. */
apex_err apex_binance_decode_depth(const char *buf, size_t len, const char *symbol, size_t depth,
                                   apex_orderbook *out, int64_t *last_update_id, apex_error *err);

/* The code for an HTTP status of a Binance reply (ref 1.2): 2xx APEX_OK; 429 and 418
 * APEX_ERATELIMIT; 404 APEX_ENOTFOUND; other 4xx APEX_EINVAL; 5xx and anything else APEX_EIO. */
apex_err apex_binance_http_status(int status);

/* A non-2xx reply as an error: returns the code (and sets err) from apex_binance_http_status,
 * refined by the venue's code in a {"code":-1121,"msg":"..."} body (ref 1.11): -1121 bad symbol,
 * -2011 and -2013 unknown order are APEX_ENOTFOUND, -1003 and -1015 APEX_ERATELIMIT; a 5xx stays
 * APEX_EIO whatever the body says. err->msg reads "binance: HTTP 400, code -1121: Invalid
 * symbol." and for 429/418 adds "retry after N s" from the caller's Retry-After (retry_after_s
 * <= 0: none given). A body that is not that shape is named as such, never fatal. For a 2xx
 * status returns APEX_OK and leaves err alone. */
apex_err apex_binance_decode_error(int status, const char *body, size_t len, int retry_after_s, apex_error *err);

#endif
