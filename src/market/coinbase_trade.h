/* coinbase_trade.h - Coinbase Advanced Trade's brokerage API (orders, accounts) as an apex_broker:
 * a JWT signed ES256 per request (venues README 3.3), orders with our client_order_id, found
 * again among the pair's recent orders when a reply was lost. place() is sent once; a timeout or
 * a 5xx is APEX_BROKER_UNKNOWN. */
#ifndef APEX_MARKET_COINBASE_TRADE_H
#define APEX_MARKET_COINBASE_TRADE_H

#include "market/broker.h"

/* c->api_key is the key's name ("organizations/{org}/apiKeys/{id}"), c->api_secret its PEM EC
 * private key. o->testnet without o->base_url is APEX_EINVAL (no test venue is configured).
 * APEX_ENOMEM, APEX_EIO (libcurl). Free with apex_broker_free (the key is wiped). */
apex_err apex_broker_coinbase_new(const apex_broker_credentials *c, const apex_broker_options *o, apex_broker *out,
                                  apex_error *err);

#endif
