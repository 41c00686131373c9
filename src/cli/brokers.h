/* brokers.h - the venues' private APIs as the application gets them (apex_app.broker_open), for
 * the composition roots that trade: `serve` and `kill-switch`. */
#ifndef APEX_CLI_BROKERS_H
#define APEX_CLI_BROKERS_H

#include "app/app.h"
#include "sys/config.h"

#define APEX_CLI_VENUES 4

typedef struct apex_cli_brokers {
  struct {
    const char *venue;
    char url[256]; /* <VENUE>_TRADE_URL; "": the venue's own address (live, or its test venue) */
  } urls[APEX_CLI_VENUES];
  apex_store *store; /* keys' nonces */
} apex_cli_brokers;

/* Fills b from cfg and the store the application uses. */
void apex_cli_brokers_init(apex_cli_brokers *b, const apex_config *cfg, apex_store *store);
/* An apex_broker_open_fn with ctx an apex_cli_brokers: market/venue.c's adapter for venue, its
 * address from the settings, its nonces from the store. */
apex_err apex_cli_broker_open(void *ctx, const char *venue, bool is_paper, const char *key_id,
                              const apex_broker_credentials *c, apex_broker *out, apex_error *err);

#endif
