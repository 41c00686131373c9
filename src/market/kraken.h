/* kraken.h - the Kraken spot market-data adapter: apex_market_ops over market/http.c and the pure
 * decoders of kraken_codec.h (wire format: venues README section 2). Public data only. */
#ifndef APEX_MARKET_KRAKEN_H
#define APEX_MARKET_KRAKEN_H

#include "base/err.h"
#include "market/market.h"

/* Zero fields take the default in brackets. */
typedef struct apex_kraken_options {
  const char *base_url;   /* ["https://api.kraken.com"] */
  int timeout_ms;         /* per request [10000] */
  int backoff_base_ms;    /* first retry delay [1000]; tests shorten it */
  int retry_after_max_s;  /* longer Retry-After waits are APEX_ERATELIMIT [10] */
  double rate;            /* requests per second, evenly spaced (spec 6.4) [15] */
  int repoll_ms;          /* next(): delay before asking again for a candle the venue has not
                             yet committed after its close [1000] */
  const apex_market_clock *clock; /* copied; NULL: the real clock */
} apex_kraken_options;

/* A Kraken market (o may be NULL for all defaults). Requests go out at most `rate` a second (a
 * bucket of one request). Symbols are ours ("BTC/USD"); requests name the pair by Kraken's
 * altname (BTC -> XBT, DOGE -> XDG, then the assets joined: "XBTUSD"). candles() offers 1m 5m 15m
 * 30m 1h 4h 1d 1w (others APEX_EINVAL) and returns at most 719 committed candles a call: Kraken
 * sends the 720 most recent intervals after `since`, the last still open (dropped). orderbook()
 * asks Depth for `depth` levels (1..APEX_BOOK_MAX). Venue errors come in the reply's error array
 * (apex_kraken_decode_error): "EQuery:Unknown asset pair" is APEX_ENOTFOUND, rate-limit errors
 * APEX_ERATELIMIT, and "EService:Unavailable"/"EService:Busy" are retried as a 5xx is (3 tries)
 * and then APEX_EIO. next() polls OHLC just after each close and delivers each committed candle
 * once (market/poll.h); subscribe accepts up to 64 pairs. APEX_EINVAL, APEX_ENOMEM, APEX_EIO.
 * Free *out with apex_market_free. */
apex_err apex_market_kraken_new(const apex_kraken_options *o, apex_market *out, apex_error *err);

#endif
