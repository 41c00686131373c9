/* runner.h - the paper runner: every running strategy run (one per activation, store.h's
 * apex_run_row) stepped on each closed candle of its pair through core/session (the backtest's
 * engine, fill model and ledger), with what each candle close did written in one transaction:
 * orders stored when placed and updated when filled, positions marked at the close, the
 * portfolio's cash in its own currency (ECB rates, app/fx.c), an equity point per portfolio, and
 * every risk refusal with its reason.
 *
 * Restart safety: a run's state is a pure function of its candles, so a process that starts again
 * (after kill -9 too) rebuilds each session from the stored candles up to the run's last_time,
 * writing nothing, and goes on from the next candle: no order is placed twice, none is lost.
 * Decisions made outside the engine (the portfolio's open positions and cash, shared between
 * runs) are replayed from the stored refusals, so the rebuild takes them again. With a live clock
 * a candle that closed more than one timeframe ago (the process was down) is stepped stale: it
 * fills and marks, but places nothing (core/session.h); the candles missed while the process was
 * down are fetched from the feed's venue when the thread starts and stepped so, before the feed's
 * first. */
#ifndef APEX_APP_RUNNER_H
#define APEX_APP_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "market/market.h"

typedef struct apex_runner apex_runner; /* opaque */

typedef struct apex_runner_options {
  apex_market *feed;  /* closed candles of the runs' pairs (replay, binance, ...); borrowed; NULL: none */
  bool live_clock;    /* candles older than one timeframe are stale (a live feed); false for a replay */
  size_t warm_max;    /* stored candles a new run warms up on [5000] */
  const char *source; /* stored with the feed's candles ["feed"] */
  int reload_every_ms; /* also reload the running strategies this often (other nodes activate them); 0: on
                        * apex_runner_notify only */
} apex_runner_options;

/* A runner over app's store; its runs are loaded (and rebuilt) by apex_runner_start. */
apex_err apex_runner_new(apex_app *app, const apex_runner_options *o, apex_runner **out, apex_error *err);
/* Loads the running runs, rebuilds them, and starts the thread that reads the feed. */
apex_err apex_runner_start(apex_runner *r, apex_error *err);
/* Stops the thread (a candle being written finishes first) and frees everything. NULL: no-op. */
void apex_runner_free(apex_runner *r);

/* Runs were started or stopped in the store: the thread reloads them before the next candle. */
void apex_runner_notify(apex_runner *r);
/* Closed candles (events of kind APEX_MARKET_CANDLE; others are skipped), as the thread handles
 * the candles of its feed that close together (for tests and bench/paper, which drive the runner
 * without a thread): every run of each candle's pair stepped in order, candles of coarser runs
 * built from them, and the candles with everything they did written in one transaction. Runs are
 * reloaded first when notified. On an error nothing is stored and the runs are rebuilt. */
apex_err apex_runner_on_candles(apex_runner *r, const apex_market_event *evs, size_t n, apex_error *err);
/* One closed candle of symbol/timeframe: apex_runner_on_candles of one. */
apex_err apex_runner_on_candle(apex_runner *r, const char *symbol, const char *timeframe, const apex_bar *bar,
                               apex_error *err);
/* Reloads the runs from the store now (what notify asks the thread to do). */
apex_err apex_runner_reload(apex_runner *r, apex_error *err);

/* The last price the feed gave for symbol (a candle's close or a ticker): false when none came. */
bool apex_runner_last_price(apex_runner *r, const char *symbol, apex_ticker *out);

#endif
