/* ledger.h - exact accounting of one account trading one instrument: cash, position, cost basis,
 * realized P&L and commissions, all fixed-point decimals. Pure: no I/O, no prices of its own
 * (marks are passed in), no order logic (core/fill decides fills; the ledger only books them). */
#ifndef APEX_CORE_LEDGER_H
#define APEX_CORE_LEDGER_H

#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"
#include "core/fill.h"

/* Opaque (STYLE E1): change it only through apex_ledger_apply. */
typedef struct apex_ledger apex_ledger;

/* A ledger holding start_cash (>= 0) and no position. APEX_EINVAL if start_cash < 0,
 * APEX_ENOMEM on OOM; *out is set only on success. */
apex_err apex_ledger_new(apex_dec start_cash, apex_ledger **out);
/* NULL is a no-op. */
void apex_ledger_free(apex_ledger *l);

/* Books one fill: notional = qty x price (rounded as apex_dec_mul);
 *   buy:  cash -= notional + commission        sell: cash += notional - commission
 * The position is signed (> 0 long, < 0 short). Cost basis is the signed sum of the notionals that
 * opened the open position; closing part of it releases the same fraction of the basis
 * (rounded), and the whole basis when it closes completely, so a round trip realizes exactly
 * exit notional - entry notional. A fill that crosses zero closes, then opens the rest.
 * Errors, each leaving l unchanged:
 *   APEX_EINVAL    fill side unknown, qty <= 0, price <= 0 or commission < 0; or a sell larger than
 *                  the long position (short selling is not enabled yet)
 *   APEX_ENOFUNDS  cash would fall below zero
 *   APEX_EOVERFLOW a total would leave the decimal range */
apex_err apex_ledger_apply(apex_ledger *l, const apex_fill *f);

apex_dec apex_ledger_start_cash(const apex_ledger *l);
apex_dec apex_ledger_cash(const apex_ledger *l);
/* Signed quantity: > 0 long, < 0 short, 0 flat. */
apex_dec apex_ledger_position(const apex_ledger *l);
/* Signed cost basis of the open position (0 when flat). */
apex_dec apex_ledger_cost_basis(const apex_ledger *l);
/* Average entry price = |cost basis| / |position|, rounded half away from zero; 0 when flat,
 * APEX_DEC_MAX if the quotient is out of range (a dust position with a large basis). */
apex_dec apex_ledger_avg_price(const apex_ledger *l);
/* Sum over closing fills of (exit notional - released basis), sign-adjusted for shorts;
 * commissions not deducted. */
apex_dec apex_ledger_realized_gross(const apex_ledger *l);
/* realized_gross - total commission of every fill so far (open position's entry included), so
 * cash == start_cash + realized_net - cost_basis holds exactly at all times. Saturates at
 * APEX_DEC_MIN in the (unreachable with sane inputs) case the difference leaves the range. */
apex_dec apex_ledger_realized_net(const apex_ledger *l);
apex_dec apex_ledger_commission(const apex_ledger *l);
/* Number of fills booked. */
size_t apex_ledger_fills(const apex_ledger *l);

/* Everything a ledger holds, to snapshot and restore it (a runner surviving a restart). */
typedef struct apex_ledger_state {
  apex_dec start_cash, cash, position, basis, realized, commission;
  uint64_t fills;
} apex_ledger_state;
void apex_ledger_save(const apex_ledger *l, apex_ledger_state *out);
/* Replaces l's contents. APEX_EINVAL (l unchanged) if cash or start_cash < 0, commission < 0, a
 * short position, or a basis whose sign differs from the position's. */
apex_err apex_ledger_load(apex_ledger *l, const apex_ledger_state *s);

/* cash + position x mark (the product rounded as apex_dec_mul). APEX_EOVERFLOW. */
apex_err apex_ledger_equity(const apex_ledger *l, apex_dec mark, apex_dec *out);

/* The cash cap: the largest qty (in 1e-8 steps) whose buy at price, with commission computed as
 * apex_fill_commission does, costs at most cash, so apex_ledger_apply accepts it and would refuse
 * qty + 1e-8. 0 if cash <= 0. APEX_EINVAL if price <= 0 or commission_pct is outside [0, 100). */
apex_err apex_ledger_max_buy_qty(apex_dec cash, apex_dec price, apex_dec commission_pct, apex_dec *out);

/* Target size fraction x equity / price with one rounding half away from zero (no floor: a
 * reference run sizes 0.95 x equity / close unrounded, and rounding to nearest keeps the error at
 * 5e-9). 0 if equity <= 0. APEX_EINVAL if fraction is outside [0, 1] or price <= 0. Cap the
 * result with apex_ledger_max_buy_qty at the fill price before booking a buy. */
apex_err apex_ledger_target_qty(apex_dec fraction, apex_dec equity, apex_dec price, apex_dec *out);

#endif
