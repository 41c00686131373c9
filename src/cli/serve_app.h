/* serve_app.h - everything `apextrade serve` builds before it listens: the store (migrated), the
 * secrets, the token keys and the application with its workers. */
#ifndef APEX_CLI_SERVE_APP_H
#define APEX_CLI_SERVE_APP_H

#include "api/auth.h"
#include "app/app.h"
#include "app/runner.h"
#include "cli/brokers.h"
#include "core/series.h"
#include "market/market.h"
#include "sys/config.h"
#include "sys/secrets.h"

typedef struct apex_serve_ctx {
  apex_app app;
  apex_queue queue;     /* app.queue points here */
  apex_queue sync_queue; /* market-data jobs: app.sync_queue points here */
  apex_limiter limiter; /* app.limiter points here */
  apex_events events;   /* app.events points here */
  apex_jwt_keys *keys;  /* verifies through tokens */
  apex_cache tokens;      /* verified-token cache */
  apex_cache renders;     /* app.renders points here */
  apex_denylist deny;     /* revoked access tokens (logout, reset) */
  apex_secrets secrets;
  apex_market feed;       /* MARKET_FEED's closed candles (zeroed: none) */
  apex_series *replayed;  /* the candles a replay feed plays */
  apex_market venue;      /* order books (Binance's public API); app.venue points here */
  struct apex_ecb *ecb;   /* the ECB's reference rates while the binance feed runs (app.fx_fetch) */
  apex_runner *runner;    /* app.runner */
  apex_cli_brokers brokers; /* venues' private APIs: app.broker_ctx */
  struct apex_lock *trading_lock; /* with REDIS_URL: this node runs the strategies */
} apex_serve_ctx;

/* What a process runs: everything (apextrade serve, the default), the API without job workers or
 * strategies (serve --no-workers), or job workers alone (apextrade worker). The last two need
 * REDIS_URL. */
typedef enum apex_serve_role { APEX_SERVE_ALL, APEX_SERVE_API, APEX_SERVE_WORKER } apex_serve_role;

/* Opens and migrates the store named by cfg, loads or creates the secrets, starts the workers
 * (re-queueing unfinished backtests). On error everything opened is closed again. */
apex_err apex_serve_app_open(const apex_config *cfg, apex_serve_role role, int workers, apex_serve_ctx *ctx,
                             apex_error *err);
/* Stops the workers and closes everything; safe on a partly opened ctx. */
void apex_serve_app_close(apex_serve_ctx *ctx);
/* Creates demo@apextrade.local with a new random password, printed once on stdout; does nothing
 * when the account exists. */
apex_err apex_serve_demo_account(apex_serve_ctx *ctx, apex_error *err);

#endif
