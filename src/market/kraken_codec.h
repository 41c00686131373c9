/* kraken_codec.h - Kraken spot public market data: reply bytes in, market.h types out.
 * Pure: no I/O, no clock, no globals; the transport (kraken.c, over market/http.c) fetches and
 * calls these. Wire formats: /work/shared/reference/venues/README.md section 2 ("ref 2.x") and the
 * ccxt conventions of section 7 ("ref 7"). Every reply is {"error":[...],"result":{...}}: a
 * non-empty error array is the venue's error whatever the HTTP status (ref 2.1), and every decoder
 * returns it as apex_kraken_decode_error does. Prices and sizes are parsed from their decimal
 * text, never through a double; on error a decoder leaves its output as it was (or zeroed, for
 * the fixed-size ones) with err saying where. */
#ifndef APEX_MARKET_KRAKEN_CODEC_H
#define APEX_MARKET_KRAKEN_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "market/market.h"

/* Replies longer than this are APEX_ETOOBIG unparsed (all AssetPairs is ~1 MB). */
#define APEX_KRAKEN_REPLY_MAX ((size_t)16 << 20)

/* GET /0/public/OHLC (ref 2.3): result holds one array keyed by the pair's id besides "last".
 * Appends each committed row to out, oldest first; the reply's final row is the current,
 * uncommitted interval (always present, ref 2.3): it is checked but not appended. Every row must
 * have 8 elements: an integer time in seconds (stored as ms) after the previous row's (and after
 * out's last row, so pages join), o/h/l/c > 0, vwap >= 0, volume >= 0 as decimal strings, an
 * integer count >= 0, high >= max(open, close), low <= min(open, close). *last gets result.last,
 * the `since` of the next poll (may be NULL). APEX_EPARSE names row index and field;
 * APEX_EOVERFLOW for a price beyond apex_dec's range; APEX_ENOMEM; the venue's error as
 * apex_kraken_decode_error. On error out keeps its rows and *last is untouched. */
apex_err apex_kraken_decode_ohlc(const char *buf, size_t len, apex_series *out, int64_t *last, apex_error *err);

/* GET /0/public/Ticker?pair=... (ref 2.4): result holds one object keyed by the pair's id. last
 * from c[0], bid b[0], ask a[0], volume_24h v[1] (the last 24 hours), change_24h_pct from today's
 * open o (see kraken_codec.c: Kraken's "today" starts at 00:00 UTC, so this is not a rolling
 * 24 h change). time is 0: the reply has none (the transport stamps it). symbol is ours
 * ("BTC/USD"), copied into out; APEX_EINVAL if it is not BASE/QUOTE. Prices > 0 (bid, ask >= 0),
 * volume >= 0, else APEX_EPARSE naming the field. On error *out is zeroed. */
apex_err apex_kraken_decode_ticker(const char *buf, size_t len, const char *symbol, apex_ticker *out,
                                   apex_error *err);

/* GET /0/public/AssetPairs (ref 2.2): the pairs into out (at most cap), *n of them, in reply
 * order. symbol from wsname ("XBT/USD" -> "BTC/USD", XBT -> BTC and XDG -> DOGE as ccxt), base
 * and quote those assets, venue_symbol the pair's id ("XXBTZUSD"); tick_size from tick_size, or
 * 10^-pair_decimals when absent; lot_step 10^-lot_decimals; min_notional from costmin (0 when
 * absent); active unless status is present and not "online". ordermin is checked (a decimal
 * >= 0) but has no place in apex_market_symbol. A pair without wsname (dark-pool ".d" pairs),
 * with names outside our form, or with more than 8 decimals (below apex_dec's resolution) is left
 * out and counted in *skipped (may be NULL). APEX_ETOOBIG when more pairs remain (out full, *n =
 * cap); APEX_EPARSE (naming the pair id and field) for a malformed reply, *n then 0. */
apex_err apex_kraken_decode_pairs(const char *buf, size_t len, apex_market_symbol *out, size_t cap, size_t *n,
                                  size_t *skipped, apex_error *err);

/* GET /0/public/Depth?pair=...&count=N: result holds one object keyed by the pair's id with
 * "asks" and "bids", arrays of [price, volume, timestamp] (decimal strings and integer seconds;
 * the shape of Kraken's "Get Order Book" docs, not in the stored reference: see
 * tests/market/kraken/README.md). The best `depth` levels of each side (1..APEX_BOOK_MAX, else
 * APEX_EINVAL) into out, best first; out->time is the newest level's timestamp (ms), 0 for an
 * empty book. Every level is checked, kept or not: price > 0, volume > 0, timestamp >= 0, bids
 * strictly falling, asks strictly rising, best bid below best ask; otherwise APEX_EPARSE naming
 * side and index. symbol is ours, copied into out (APEX_EINVAL if not BASE/QUOTE). The venue's
 * error as apex_kraken_decode_error. On error *out is zeroed. */
apex_err apex_kraken_decode_depth(const char *buf, size_t len, const char *symbol, size_t depth, apex_orderbook *out,
                                  apex_error *err);

/* The venue's error of any reply (ref 2.7), whatever the HTTP status: the first string of a
 * non-empty "error" array decides: "EQuery:Unknown asset pair" and "EQuery:Invalid asset pair"
 * APEX_ENOTFOUND; "EAPI:Rate limit exceeded", "EOrder:Rate limit exceeded", "EGeneral:Temporary
 * lockout", "EGeneral:Too many requests" APEX_ERATELIMIT; "EService:Unavailable", "EService:Busy",
 * "EGeneral:Internal error" APEX_EIO; any other APEX_EINVAL. err->msg reads "kraken: HTTP 200,
 * EQuery:Unknown asset pair". An empty array with a 2xx status is APEX_OK (err left alone); a
 * body without an error array is, by status, 2xx APEX_EPARSE, 429 APEX_ERATELIMIT, 404
 * APEX_ENOTFOUND, other 4xx APEX_EINVAL, else APEX_EIO; an empty array with a non-2xx status
 * goes by status likewise. */
apex_err apex_kraken_decode_error(int status, const char *body, size_t len, apex_error *err);

/* Kraken's asset code as ccxt names it (ref 7): "XBT" -> "BTC", "XDG" -> "DOGE", others as they
 * are. The returned pointer is a literal or code itself. */
const char *apex_kraken_common_asset(const char *code);

/* "BTC/USD" -> "XBTUSD": Kraken's altname of our pair, made of its own asset codes (ref 2.2).
 * APEX_EINVAL if symbol is not BASE/QUOTE. */
apex_err apex_kraken_pair_name(const char *symbol, char out[static APEX_MARKET_SYMBOL_MAX + 1], apex_error *err);

#endif
