/* binance_trade.h - Binance spot's private API (orders, fills, balances) as an apex_broker: signed
 * with HMAC-SHA256 (venues README 1.10), the venue's clock offset learned from /api/v3/time, a
 * token bucket of 20 requests a second (spec 6.4). place() is sent once, never retried inside:
 * a timeout or a 5xx is APEX_BROKER_UNKNOWN and the caller asks query() by the client id. */
#ifndef APEX_MARKET_BINANCE_TRADE_H
#define APEX_MARKET_BINANCE_TRADE_H

#include "market/broker.h"

/* The key is 1..128 letters and digits; APEX_EINVAL otherwise, APEX_ENOMEM, APEX_EIO (libcurl).
 * Free with apex_broker_free (the secret is wiped). */
apex_err apex_broker_binance_new(const apex_broker_credentials *c, const apex_broker_options *o, apex_broker *out,
                                 apex_error *err);

#endif
