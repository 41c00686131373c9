/* engine.h - one strategy fed one closed candle at a time: indicators update in O(1) per candle
 * (streaming forms, each output kept in a ring as deep as the rules read back), rules are judged at
 * the close, and the engine answers with order intents; a broker reports fills (or rejections)
 * back. The engine owns the strategy's account (core/ledger) and its trade log entry in progress;
 * its whole state can be snapshotted and restored. The backtest, paper and live runners drive it:
 * only the feed and the broker differ. Pure: no I/O, no clock, no threads.
 *
 * The order flow is the backtest's (backtest.h):
 * - on_bar at candle t's close: a flat engine whose entry rule holds submits a market BUY of
 *   max_position_size x cash / close (created_bar t: it may fill from candle t+1 on), unless a
 *   risk check refuses it (halted, nothing affordable, max_trades_per_day); a long one
 *   whose exit rule holds submits a market SELL of the whole position. Past max_drawdown_pct below
 *   the equity peak the engine halts (no new entries ever) and sells an open position.
 * - on_fill of the entry: books it, opens the trade, and submits the protective STOP_LOSS and
 *   TAKE_PROFIT orders (created_bar = the signal candle, so they are live on the entry candle).
 * - on_fill of an exit: books it, closes the trade (out->closed, out->trade) and cancels whichever
 *   protective orders remain. Partial fills are not supported yet: an exit must sell the position.
 * - close_all: a market SELL of the position, with the reason given (end of data, user request).
 * Order ids are the engine's (1, 2, ...); a broker maps them to its own. */
#ifndef APEX_CORE_ENGINE_H
#define APEX_CORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"
#include "core/backtest.h" /* apex_bt_trade, apex_exit_reason */
#include "core/fill.h"
#include "core/series.h"
#include "core/strategy.h"

typedef struct apex_engine apex_engine; /* opaque */

/* Pre-trade risk refusals: an entry the rules asked for and a check stopped. The engine makes the
 * first three itself (so the backtest and the runners refuse alike); a runner reports the others
 * through apex_engine_on_reject. */
typedef enum apex_refusal_kind {
  APEX_REFUSE_CASH = 1,       /* nothing affordable: the size rounds to zero at the close or the fill */
  APEX_REFUSE_DRAWDOWN,       /* halted by max_drawdown_pct */
  APEX_REFUSE_ORDER_RATE,     /* max_trades_per_day entries already made this UTC day */
  APEX_REFUSE_OPEN_POSITIONS, /* the portfolio holds max_open_positions already (runner) */
  APEX_REFUSE_STALE,          /* the signal came on a candle closed too long ago (runner, after a restart) */
  APEX_REFUSE_PORTFOLIO_CASH, /* the portfolio's cash, shared with other strategies, cannot pay (runner) */
} apex_refusal_kind;

/* "insufficient_cash", "drawdown_halt", "order_rate", "max_open_positions", "stale_candle",
 * "insufficient_portfolio_cash". */
const char *apex_refusal_name(apex_refusal_kind k);

typedef struct apex_refusal {
  apex_refusal_kind kind;
  int64_t time; /* the close of the candle whose signal was refused */
  apex_dec qty; /* the size the entry would have had; 0 when none was computed */
} apex_refusal;

#define APEX_ENGINE_REFUSALS 8 /* kept; a caller reads them after every candle */

typedef enum apex_intent_kind { APEX_INTENT_SUBMIT = 1, APEX_INTENT_CANCEL = 2 } apex_intent_kind;

typedef struct apex_intent {
  apex_intent_kind kind;
  apex_order order;        /* SUBMIT: the whole order; CANCEL: order.id names the order */
  apex_exit_reason reason; /* for a SELL: why the position is being closed */
} apex_intent;

#define APEX_ENGINE_MAX_INTENTS 4

/* What one call asks of the broker, and the trade it closed if any. Cleared by every call. */
typedef struct apex_engine_out {
  apex_intent intent[APEX_ENGINE_MAX_INTENTS];
  size_t n;
  bool closed;
  apex_bt_trade trade;
} apex_engine_out;

/* An engine for st (borrowed: it must outlive the engine) with `capital` (> 0) in cash and no
 * candle seen. APEX_EINVAL (bad capital or risk values), APEX_ENOMEM; err says which. */
apex_err apex_engine_new(const apex_strategy *st, apex_dec capital, apex_engine **out, apex_error *err);
void apex_engine_free(apex_engine *e); /* NULL is a no-op */

/* Batch mode: the rules read cols[k][i] (slot k at candle number i, as apex_ruleset_eval takes
 * them, precomputed by the indicators' batch forms for every candle that will be fed) instead of
 * the engine's own streaming indicators. The caller keeps cols alive. A snapshot of an engine in
 * batch mode holds no indicator state. Equal results either way (tests/unit/test_engine.c). */
void apex_engine_use_columns(apex_engine *e, const double *const *cols);

/* Feeds history: indicators only, no trading, no drawdown peak. */
void apex_engine_warm(apex_engine *e, const apex_bar *bar);
/* Candle number bars_seen() closed: updates indicators, equity and the drawdown guard, judges the
 * rules. APEX_EOVERFLOW (sizing beyond the decimal range); the engine is usable afterwards. */
apex_err apex_engine_on_bar(apex_engine *e, const apex_bar *bar, apex_engine_out *out);
/* Batch mode only: on_bar for a candle whose indicator values are already in the columns, so the
 * decisions need only its time and close (the backtest's fast loop reads no other field).
 * APEX_EINVAL without columns. */
apex_err apex_engine_on_close(apex_engine *e, int64_t time, double close, apex_engine_out *out);
/* A fill of one of the engine's orders. APEX_EINVAL for an unknown order id or an exit that is not
 * the whole position; ledger errors (APEX_ENOFUNDS, APEX_EOVERFLOW) leave the engine unchanged. */
apex_err apex_engine_on_fill(apex_engine *e, const apex_fill *f, apex_engine_out *out);
/* The broker refused order id (nothing affordable, venue error, a risk check outside the engine):
 * the engine forgets it; a refused entry is recorded as a refusal for why. */
void apex_engine_on_reject(apex_engine *e, uint64_t id, apex_refusal_kind why);
/* Asks to close the position: a market SELL with this reason (created_bar = the last candle
 * seen), unless flat or an exit is already pending (then out->n == 0). */
void apex_engine_close_all(apex_engine *e, apex_exit_reason why, apex_engine_out *out);

size_t apex_engine_bars_seen(const apex_engine *e);
apex_dec apex_engine_cash(const apex_engine *e);
apex_dec apex_engine_position(const apex_engine *e);
apex_dec apex_engine_commission(const apex_engine *e);
size_t apex_engine_fills(const apex_engine *e);
/* Equity at the last close (cash + position x close, in doubles, as the metrics take it). */
double apex_engine_equity(const apex_engine *e);
bool apex_engine_in_market(const apex_engine *e); /* position > 0 */
bool apex_engine_halted(const apex_engine *e, int64_t *when);
/* Refusals ever recorded; refusal seq (0-based) while it is among the newest APEX_ENGINE_REFUSALS,
 * else NULL. */
uint64_t apex_engine_refusal_count(const apex_engine *e);
const apex_refusal *apex_engine_refusal(const apex_engine *e, uint64_t seq);
/* The position's trade so far (entry fields), false when flat. */
bool apex_engine_open_trade(const apex_engine *e, apex_bt_trade *out);
/* The stop-loss and take-profit prices a position entered at entry rests orders at (the
 * strategy's percentages, rounded half away from zero to 8 places); 0 for one it has none of.
 * APEX_EOVERFLOW. */
apex_err apex_engine_exit_levels(const apex_engine *e, apex_dec entry, apex_dec *stop, apex_dec *target);

/* Snapshot: a byte image of the whole state (account, orders, trade in progress, indicator states
 * and rings) for this build and this strategy. apex_engine_snapshot_size gives the bytes; the
 * caller allocates. Restore into an engine made from the same strategy: APEX_EINVAL if the image is
 * for another build, strategy shape or size, or holds an impossible account (e unchanged then).
 * An image is trusted data (the runner's own, persisted by it): its shape is checked, not every
 * indicator's internal indices, so never restore bytes that came from a client. */
size_t apex_engine_snapshot_size(const apex_engine *e);
void apex_engine_snapshot(const apex_engine *e, void *buf);
apex_err apex_engine_restore(apex_engine *e, const void *buf, size_t len);

#endif
