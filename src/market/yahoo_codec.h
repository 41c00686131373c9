/* yahoo_codec.h - Yahoo Finance chart API (as yfinance uses it): reply bytes in, market.h types
 * out. Pure: no I/O, no clock, no globals; the transport (yahoo.c, over market/http.c) fetches and
 * calls these. Wire format: /work/shared/reference/venues/README.md section 5 ("ref 5.x"), ccxt
 * conventions of section 7 (symbols "AAPL/USD": the ticker and its currency). Unlike the crypto
 * venues, prices come as JSON numbers (binary doubles), not decimal text: see yahoo_codec.c. On
 * error a decoder leaves its output as it was (or zeroed, for the fixed-size one) with err saying
 * where. */
#ifndef APEX_MARKET_YAHOO_CODEC_H
#define APEX_MARKET_YAHOO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "market/market.h"

/* Replies longer than this are APEX_ETOOBIG unparsed (years of 1m bars stay far below). */
#define APEX_YAHOO_REPLY_MAX ((size_t)32 << 20)

/* GET /v8/finance/chart/{ticker} (ref 5.2): chart.result[0].timestamp[] (integer seconds, stored
 * as ms) with indicators.quote[0] open/high/low/close/volume, parallel arrays of timestamp's
 * length, appended to out oldest first. A row whose open, high, low and close are all null is
 * skipped, as yfinance drops it, and counted in *skipped (may be NULL); a row with only some of
 * them null is APEX_EPARSE. A null volume is 0 (indices have none). Every timestamp must be
 * after the previous one (and after out's last row, so pages join); o/h/l/c > 0, high >=
 * max(open, close), low <= min(open, close), volume >= 0. No timestamp member: no rows. A
 * chart.error object is returned as apex_yahoo_decode_error does. APEX_EPARSE names the row and
 * field; APEX_EOVERFLOW for a price beyond apex_dec's range; APEX_ENOMEM. On error out keeps
 * its rows. */
apex_err apex_yahoo_decode_chart(const char *buf, size_t len, apex_series *out, size_t *skipped, apex_error *err);

/* The same reply's chart.result[0].meta as a ticker (ref 5.2): last is regularMarketPrice, time
 * regularMarketTime (seconds, as ms), change_24h_pct from chartPreviousClose (see
 * yahoo_codec.c); bid, ask and volume_24h 0 (the chart API gives none). symbol is ours
 * ("AAPL/USD"): meta.symbol must be its base and meta.currency, when present, its quote, else
 * APEX_EPARSE; APEX_EINVAL if symbol is not BASE/QUOTE. Prices > 0, else APEX_EPARSE naming the
 * field. On error *out is zeroed. */
apex_err apex_yahoo_decode_quote(const char *buf, size_t len, const char *symbol, apex_ticker *out,
                                 apex_error *err);

/* A reply as an error, whatever its HTTP status (ref 5.1, 5.2): a chart.error object is
 * APEX_ENOTFOUND when its code is "Not Found" or its description starts "No data found", else
 * APEX_EINVAL; err->msg reads "yahoo: HTTP 404, Not Found: No data found, symbol may be
 * delisted". Without one: 2xx APEX_OK (err left alone) when chart.result is there, else by
 * status: 2xx APEX_EPARSE, 429 (yfinance's YFRateLimitError) APEX_ERATELIMIT, 404
 * APEX_ENOTFOUND, other 4xx APEX_EINVAL, anything else APEX_EIO. */
apex_err apex_yahoo_decode_error(int status, const char *body, size_t len, apex_error *err);

#endif
