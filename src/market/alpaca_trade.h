/* alpaca_trade.h - Alpaca's trading API (US stocks, paper and live) as an apex_broker: key id and
 * secret headers (venues README 4.2), whole shares, the market clock (GET /v2/clock) for the
 * caller's market-hours rule, 200 requests a minute in bursts of 3 (spec 6.4). place() is sent
 * once; a timeout or a 5xx is APEX_BROKER_UNKNOWN and the order is found by its client_order_id
 * (a resend that Alpaca refuses as a duplicate client id is answered with the existing order). */
#ifndef APEX_MARKET_ALPACA_TRADE_H
#define APEX_MARKET_ALPACA_TRADE_H

#include "market/broker.h"

/* o->testnet: the paper account (paper-api.alpaca.markets). APEX_EINVAL for credentials of the
 * wrong shape, APEX_ENOMEM, APEX_EIO (libcurl). Free with apex_broker_free (the secret is wiped). */
apex_err apex_broker_alpaca_new(const apex_broker_credentials *c, const apex_broker_options *o, apex_broker *out,
                                apex_error *err);

#endif
