/* brokers.c - see brokers.h. */
#include "cli/brokers.h"

#include <stdio.h>
#include <string.h>

#include "market/venue.h"

void apex_cli_brokers_init(apex_cli_brokers *b, const apex_config *cfg, apex_store *store)
{
  const char *const urls[APEX_CLI_VENUES][2] = {{"binance", cfg->binance_trade_url},
                                                {"kraken", cfg->kraken_trade_url},
                                                {"alpaca", cfg->alpaca_trade_url},
                                                {"coinbase", cfg->coinbase_trade_url}};
  for (size_t i = 0; i < APEX_CLI_VENUES; i++) {
    b->urls[i].venue = urls[i][0];
    snprintf(b->urls[i].url, sizeof b->urls[i].url, "%s", urls[i][1]);
  }
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
  for (size_t i = 0; i < APEX_CLI_VENUES; i++)
    if (!strcmp(venue, b->urls[i].venue) && b->urls[i].url[0])
      o.base_url = b->urls[i].url;
  return apex_broker_open(venue, c, &o, out, err);
}
