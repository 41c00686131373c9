/* simbroker.h - the simulated broker: the engine's orders filled on candles by core/fill's rules
 * (market orders at the next open with slippage, buys capped so cash never goes negative, then the
 * protective stop and target against the candle's range, the stop first when both are touched).
 * The backtest drives it; paper trading will too. Pure: no I/O; state in caller memory. */
#ifndef APEX_CORE_SIMBROKER_H
#define APEX_CORE_SIMBROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/engine.h"
#include "core/fill.h"

typedef struct apex_sim_broker {
  apex_fill_costs costs;
  apex_order market[APEX_ENGINE_MAX_INTENTS]; /* waiting for the next open, in submission order */
  size_t n_market;
  apex_order stop, target;
  bool has_stop, has_target;
  double stop_d, target_d; /* the same prices as doubles, to pass quiet candles cheaply */
} apex_sim_broker;

/* Called with every trade a fill closes; a non-zero return stops the step with that error. */
typedef apex_err (*apex_sim_trade_fn)(void *ctx, const apex_bt_trade *t);

/* True when a candle can fill nothing: no market order waits and its range [*low, *high] stays
 * clear of the stop and the target (rounding to 8 places moves prices by <= 5e-9). Inline so the
 * backtest passes a quiet candle without building it; apex_sim_broker_bar asks the same. Pointers,
 * so a flat account reads neither column: most candles cost no memory traffic here. */
static inline bool apex_sim_broker_idle(const apex_sim_broker *b, const double *low, const double *high)
{
  return b->n_market == 0 && (!b->has_stop || *low - b->stop_d > 1e-8) &&
         (!b->has_target || b->target_d - *high > 1e-8);
}

/* APEX_EINVAL for costs apex_fill_costs_check refuses. */
apex_err apex_sim_broker_init(apex_sim_broker *b, const apex_fill_costs *c);
/* Takes the engine's intents: submissions wait, cancellations remove. */
void apex_sim_broker_take(apex_sim_broker *b, const apex_engine_out *out);
/* Candle t before the engine sees its close: waiting market orders fill at its open (a buy larger
 * than the engine's cash allows is reduced, or rejected when nothing is affordable), then the stop
 * and target are checked. Each fill goes to the engine and the engine's answer back into b. */
apex_err apex_sim_broker_bar(apex_sim_broker *b, apex_engine *e, const apex_bar *bar, size_t t, apex_sim_trade_fn fn,
                             void *ctx);
/* Closes the engine's position now at `price` (no slippage, commission charged): the end of a
 * backtest at the last close. Does nothing when flat. */
apex_err apex_sim_broker_close(apex_sim_broker *b, apex_engine *e, apex_exit_reason why, double price, size_t t,
                               int64_t time, apex_sim_trade_fn fn, void *ctx);

#endif
