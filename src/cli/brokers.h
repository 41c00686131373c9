/* brokers.h - the venues' private APIs as the application gets them (apex_app.broker_open), for
 * the composition roots that trade: `serve` and `kill-switch`. */
#ifndef APEX_CLI_BROKERS_H
#define APEX_CLI_BROKERS_H

#include "app/app.h"
#include "sys/config.h"

typedef struct apex_cli_brokers {
  char binance_trade_url[256]; /* BINANCE_TRADE_URL ("": the key's venue, live or testnet) */
  char kraken_trade_url[256];  /* KRAKEN_TRADE_URL ("": api.kraken.com) */
  char alpaca_trade_url[256];  /* ALPACA_TRADE_URL ("": the key's account, paper or live) */
  apex_store *store;           /* keys' nonces */
} apex_cli_brokers;

/* Fills b from cfg and the store the application uses. */
void apex_cli_brokers_init(apex_cli_brokers *b, const apex_config *cfg, apex_store *store);
/* An apex_broker_open_fn with ctx an apex_cli_brokers: market/venue.c's adapter for venue, its
 * address from the settings, its nonces from the store. */
apex_err apex_cli_broker_open(void *ctx, const char *venue, bool is_paper, const char *key_id,
                              const apex_broker_credentials *c, apex_broker *out, apex_error *err);

#endif
