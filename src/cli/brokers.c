/* brokers.c - see brokers.h. */
#include "cli/brokers.h"

#include <stdio.h>
#include <string.h>

#include "market/venue.h"

void apex_cli_brokers_init(apex_cli_brokers *b, const apex_config *cfg, apex_store *store)
{
  snprintf(b->binance_trade_url, sizeof b->binance_trade_url, "%s", cfg->binance_trade_url);
  snprintf(b->kraken_trade_url, sizeof b->kraken_trade_url, "%s", cfg->kraken_trade_url);
  snprintf(b->alpaca_trade_url, sizeof b->alpaca_trade_url, "%s", cfg->alpaca_trade_url);
  b->store = store;
}

static apex_err store_nonce(void *store, const char *key_id, int64_t floor, int64_t *out, apex_error *err)
{
  return apex_store_nonce_next(store, key_id, floor, out, err);
}

apex_err apex_cli_broker_open(void *ctx, const char *venue, bool is_paper, const char *key_id,
                              const apex_broker_credentials *c, apex_broker *out, apex_error *err)
{
  const apex_cli_brokers *b = ctx;
  apex_broker_options o = {.testnet = is_paper, .nonce = store_nonce, .nonce_ctx = b->store, .nonce_key = key_id};
  if (!strcmp(venue, "binance") && b->binance_trade_url[0])
    o.base_url = b->binance_trade_url;
  else if (!strcmp(venue, "kraken") && b->kraken_trade_url[0])
    o.base_url = b->kraken_trade_url;
  else if (!strcmp(venue, "alpaca") && b->alpaca_trade_url[0])
    o.base_url = b->alpaca_trade_url;
  return apex_broker_open(venue, c, &o, out, err);
}
