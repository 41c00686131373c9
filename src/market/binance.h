/* binance.h - the Binance spot market-data adapter: apex_market_ops over market/http.c and the
 * pure decoders of binance_codec.h (wire format: venues README section 1). Public data only. */
#ifndef APEX_MARKET_BINANCE_H
#define APEX_MARKET_BINANCE_H

#include <stdint.h>

#include "base/err.h"
#include "market/market.h"

/* Zero fields take the default in brackets. */
typedef struct apex_binance_options {
  const char *base_url;       /* ["https://api.binance.com"] */
  int timeout_ms;             /* per request [10000] */
  int backoff_base_ms;        /* first retry delay [1000]; tests shorten it */
  int retry_after_max_s;      /* longer Retry-After waits are APEX_ERATELIMIT [10] */
  double weight_per_minute;   /* REQUEST_WEIGHT limit [6000] */
  int repoll_ms;              /* next(): delay before asking again for a candle the venue has
                                 not yet published after its close [1000] */
  const apex_market_clock *clock; /* copied; NULL: the real clock */
} apex_binance_options;

/* A Binance market (o may be NULL for all defaults). Requests are weighed as the venue does
 * (klines 2, ticker 2, exchangeInfo 20, depth 5 up to 100 levels) against a bucket of
 * weight_per_minute refilled evenly. candles() asks klines for at most 1000 rows (a larger limit
 * is cut to 1000). orderbook() asks depth for the nearest allowed limit (5, 10, 20, 50, 100) at or
 * above depth. next() polls klines of the subscribed pairs just after each candle's close and
 * delivers each closed candle once, oldest first, starting with the candle open at subscribe time;
 * subscribe accepts up to 64 pairs. Venue errors come from apex_binance_decode_error (-1121 is
 * APEX_ENOTFOUND with Binance's message). APEX_EINVAL, APEX_ENOMEM, APEX_EIO. Free *out with
 * apex_market_free. */
apex_err apex_market_binance_new(const apex_binance_options *o, apex_market *out, apex_error *err);

#endif
