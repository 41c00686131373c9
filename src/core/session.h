/* session.h - one trading session fed one closed candle at a time: the engine (core/engine) and
 * the simulated broker (core/simbroker) with the backtest's bookkeeping (trade log, metrics, equity
 * samples). The backtest's streaming loop and the paper runner step the same session, so a paper
 * session over stored candles ends with the very result apex_backtest_run gives (backtest.h has
 * the semantics; opts are the backtest's). Pure: no I/O, no clock. Implemented in backtest.c, one
 * translation unit with the batch loop that shares its internals.
 *
 * Candle numbers count every candle stepped, warm-up included: a session fed a series from its
 * first candle numbers them as the backtest does (trade entry_bar/exit_bar, first_bar). */
#ifndef APEX_CORE_SESSION_H
#define APEX_CORE_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/backtest.h"
#include "core/engine.h"
#include "core/series.h"
#include "core/strategy.h"

typedef struct apex_session apex_session; /* opaque */

/* What one step did. */
typedef struct apex_session_out {
  apex_engine_out orders; /* the engine's answer at this close: the orders placed with the broker
                           * (not placed on the last candle, whose signals are not acted on) */
  size_t trades;          /* trades closed during this candle (fills at its open, stop, target, end) */
  double equity;          /* at this close; 0 for a warm-up candle */
  bool warmup;            /* before opts.cfg.start_ms: indicators only */
} apex_session_out;

/* A session for st (borrowed: it must outlive the session) under o (copied; progress and cancel are
 * ignored: the caller's loop owns them). APEX_EINVAL (capital, costs or risk values out of range),
 * APEX_ENOMEM; err says which. */
apex_err apex_session_new(const apex_strategy *st, const apex_backtest_opts *o, apex_session **out, apex_error *err);
void apex_session_free(apex_session *ss); /* NULL is a no-op */

/* Candle `bar` has closed. Candles before opts.cfg.start_ms only warm the indicators up. last says
 * that the session ends with this candle: an open position is closed at its close (end_of_data) and
 * its signals are not acted on. APEX_EINVAL for a candle not after the previous one, at or after
 * opts.cfg.end_ms, or after the last; APEX_EOVERFLOW, APEX_ENOMEM, ledger errors while filling. The
 * session should not be stepped again after an error. out may be NULL. */
apex_err apex_session_step(apex_session *ss, const apex_bar *bar, bool last, apex_session_out *out,
                           apex_error *err);

/* A candle that closed too long ago to act on (the runner catching up after a restart): the
 * broker fills as usual (a resting stop or target, an order already waiting), indicators and
 * equity move, but orders its close would make are refused (APEX_REFUSE_STALE) and none is placed.
 * Never the last candle. Errors as apex_session_step. */
apex_err apex_session_step_stale(apex_session *ss, const apex_bar *bar, apex_session_out *out, apex_error *err);

/* The trades closed so far, in order (valid until the next step or finish). */
const apex_bt_trade *apex_session_trades(const apex_session *ss, size_t *n);
/* The engine inside: its account, open trade and refusals (read-only). */
const apex_engine *apex_session_engine(const apex_session *ss);
/* Withdraws a market order placed at the last close, before it fills, for a check the runner
 * makes outside the engine (the portfolio's open positions or cash): the engine records the
 * refusal. APEX_ENOTFOUND when no such order waits. */
apex_err apex_session_refuse(apex_session *ss, uint64_t order_id, apex_refusal_kind why);
/* Candles stepped, warm-up included. */
size_t apex_session_candles(const apex_session *ss);

/* After the step with last: the result, exactly as apex_backtest_run gives it for the same candles
 * (trades and equity move into out; clear it with apex_backtest_result_clear, after or before
 * freeing the session). APEX_EDATA when no candle was traded, APEX_EINVAL before the last step. On
 * error out holds nothing to free. */
apex_err apex_session_finish(apex_session *ss, apex_backtest_result *out, apex_error *err);

#endif
