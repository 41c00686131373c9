/* kraken_trade.h - Kraken spot's private API (orders, balances, the dead-man's switch) as an
 * apex_broker: API-Sign (HMAC-SHA512, venues README 2.6), nonces from the caller's store when
 * given (apex_broker_options.nonce), requests 67 ms apart (spec 6.4). place() is sent once; a
 * timeout or an internal error is APEX_BROKER_UNKNOWN and the order is found by its cl_ord_id. */
#ifndef APEX_MARKET_KRAKEN_TRADE_H
#define APEX_MARKET_KRAKEN_TRADE_H

#include "market/broker.h"

/* The key is 1..128 of A-Z a-z 0-9 - _ .; the secret base64. Kraken has no spot testnet:
 * o->testnet without o->base_url is APEX_EINVAL. APEX_ENOMEM, APEX_EIO (libcurl). Free with
 * apex_broker_free (the secret is wiped). */
apex_err apex_broker_kraken_new(const apex_broker_credentials *c, const apex_broker_options *o, apex_broker *out,
                                apex_error *err);

#endif
