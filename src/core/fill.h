/* fill.h - the order model and the fill model shared by backtest, paper and live trading: given an
 * order and one candle, whether it fills, at what price and for what commission. Pure: no I/O, no
 * state, no clock; it never touches a ledger (core/ledger does the accounting). */
#ifndef APEX_CORE_FILL_H
#define APEX_CORE_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"
#include "core/series.h"

/* The value is the sign of the position change (+1 buys, -1 sells), so signed arithmetic on
 * positions works for longs and, later, shorts alike. */
typedef enum apex_side { APEX_SIDE_BUY = 1, APEX_SIDE_SELL = -1 } apex_side;

/* Fill rules for one bar, with O, H, L the bar's open, high, low rounded to 8 places and P the
 * order's price. "Gap" means the bar opened beyond P, so the order fills at the open.
 *   MARKET       buy: O * (1 + slippage)                  sell: O * (1 - slippage)
 *   LIMIT        buy: if L <= P, at min(O, P)              sell: if H >= P, at max(O, P)
 *   TAKE_PROFIT  same as LIMIT (a resting limit order): at P or better, never slipped
 *                (sell closes a long; buy closes a short)
 *   STOP_LOSS    sell (closes a long): if L <= P, at min(O, P), then * (1 - slippage)
 *                buy (closes a short): if H >= P, at max(O, P), then * (1 + slippage)
 * A triggered stop becomes a market order, hence the slippage; limits and targets do not slip. */
typedef enum apex_order_type {
  APEX_ORDER_MARKET,
  APEX_ORDER_LIMIT,
  APEX_ORDER_STOP_LOSS,
  APEX_ORDER_TAKE_PROFIT,
} apex_order_type;

typedef struct apex_order {
  uint64_t id;
  apex_side side;
  apex_order_type type;
  apex_dec qty;       /* > 0; the direction is the side's */
  apex_dec price;     /* limit, stop or target price (> 0); ignored for MARKET */
  size_t created_bar; /* decided at this bar's close: may fill only on later bars (no look-ahead) */
} apex_order;

/* Costs in percent, as the API gives them: 0.1 means 0.1 %. Both in [0, 100). */
typedef struct apex_fill_costs {
  apex_dec slippage_pct;
  apex_dec commission_pct;
} apex_fill_costs;

/* One execution. notional = qty x price rounded half away from zero to 8 places;
 * commission = notional x commission_pct / 100, rounded likewise. The ledger charges exactly
 * these: a buy costs notional + commission, a sell yields notional - commission. */
typedef struct apex_fill {
  uint64_t order_id;
  apex_side side;
  apex_order_type type;
  apex_dec qty;        /* > 0 */
  apex_dec price;      /* per unit, after slippage */
  apex_dec commission; /* >= 0, in the quote currency */
  size_t bar_index;    /* the bar it filled on */
  int64_t time;        /* that bar's open time, ms UTC */
  bool at_open;        /* filled at the bar's open (market order or gap), before any intrabar price */
} apex_fill;

/* Checks an order's fields: side and type known, qty > 0, price > 0 unless MARKET.
 * APEX_EINVAL otherwise. */
apex_err apex_order_check(const apex_order *o);

/* Checks costs: both percentages in [0, 100); APEX_EINVAL otherwise. */
apex_err apex_fill_costs_check(const apex_fill_costs *c);

/* Applies the rules above to order o on bar (index bar_index). On APEX_OK, *filled says whether it
 * filled and, if so, *out holds the fill; an order is never filled on or before its created_bar.
 * APEX_EINVAL for a bad order or costs (see the _check functions), APEX_EDATA for a bar whose open,
 * high or low is not finite or not > 0, APEX_EOVERFLOW if a price or the notional leaves the
 * decimal range. Comparisons use the bar rounded to 8 places. *out is written only on a fill. */
apex_err apex_fill_eval(const apex_order *o, const apex_bar *bar, size_t bar_index, const apex_fill_costs *c,
                        bool *filled, apex_fill *out);

/* A fill of o at exactly price (no slippage, no trigger check) with its commission, for fills
 * priced elsewhere: closing at the last bar's close, a resized order at a known price, a paper
 * broker's quote. bar_index is o->created_bar and time 0: the caller sets them. APEX_EINVAL for a
 * bad order, costs or price <= 0; APEX_EOVERFLOW as above. */
apex_err apex_fill_at(const apex_order *o, apex_dec price, const apex_fill_costs *c, apex_fill *out);

/* Commission for qty at price: round(round(qty x price) x pct / 100). APEX_EOVERFLOW. */
apex_err apex_fill_commission(apex_dec qty, apex_dec price, apex_dec commission_pct, apex_dec *out);

/* The exit of one position protected by a stop-loss and a take-profit (either may be NULL; both,
 * if given, on the same side). When one bar triggers both, the order of events is unknown unless
 * the open decides it: a bar that opens beyond the target (a gap) fills the target at the open,
 * since the open is the bar's first price; in every other case the stop is assumed first (the
 * conservative choice). On APEX_OK, *which is the order that filled (stop, target or NULL) and
 * *out its fill. Errors as apex_fill_eval, plus APEX_EINVAL if stop is not a STOP_LOSS, target
 * not a TAKE_PROFIT or LIMIT, or their sides differ. */
apex_err apex_fill_exit(const apex_order *stop, const apex_order *target, const apex_bar *bar, size_t bar_index,
                        const apex_fill_costs *c, const apex_order **which, apex_fill *out);

#endif
