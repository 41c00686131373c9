/* yahoo.h - the Yahoo Finance adapter: daily and intraday stock candles from the chart API as
 * yfinance uses it, apex_market_ops over market/http.c and the pure decoders of yahoo_codec.h
 * (wire format: venues README section 5). Public data only; no order book. */
#ifndef APEX_MARKET_YAHOO_H
#define APEX_MARKET_YAHOO_H

#include "base/err.h"
#include "market/market.h"

/* Zero fields take the default in brackets. */
typedef struct apex_yahoo_options {
  const char *base_url;     /* ["https://query2.finance.yahoo.com"] */
  int timeout_ms;           /* per request [10000] */
  int backoff_base_ms;      /* first retry delay [1000]; tests shorten it */
  int retry_after_max_s;    /* longer Retry-After waits are APEX_ERATELIMIT [10] */
  double requests_per_hour; /* the bucket's refill (spec 6.4: ~2000 an hour) [2000] */
  double burst;             /* the bucket's capacity: requests sent at once before the rate holds [10] */
  int repoll_ms;            /* next(): delay before asking again for a candle Yahoo has not closed
                               yet after its end [1000] */
  const apex_market_clock *clock; /* copied; NULL: the real clock */
} apex_yahoo_options;

/* A Yahoo market (o may be NULL for all defaults). Symbols are "TICKER/CURRENCY" ("AAPL/USD"):
 * the request names the ticker, the reply's currency must be the quote. candles() offers 1m 2m
 * 5m 15m 30m 1h 1d 1w 1M (Yahoo's 1m..30m, 60m, 1d, 1wk, 1mo; others APEX_EINVAL) and asks for
 * the range from since to at most now: 7 days of 1m, 60 days of other intraday candles, all of
 * daily and longer ones; it returns the rows in it (at most limit; 0: all) that had ended by the
 * reply's regularMarketTime, so the candle still forming never comes, and leaves out rows Yahoo
 * sends all null. A page may be empty where the market was shut for the whole range. ticker()
 * is the chart's meta (last price, change from the previous close; no bid, ask or volume).
 * symbols() and orderbook() are APEX_EINVAL: Yahoo has no listing and stocks no public book here.
 * Errors: apex_yahoo_decode_error (404 "Not Found" APEX_ENOTFOUND, 429 waited as Retry-After
 * says or APEX_ERATELIMIT). next() polls the chart just after each candle's end (market/poll.h);
 * subscribe accepts up to 64 pairs. APEX_EINVAL, APEX_ENOMEM, APEX_EIO. Free *out with
 * apex_market_free. */
apex_err apex_market_yahoo_new(const apex_yahoo_options *o, apex_market *out, apex_error *err);

#endif
