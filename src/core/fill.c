/* fill.c - fill rules for market, limit, stop-loss and take-profit orders on one candle.
 * Pure functions over their arguments; no accounting (core/ledger) and no I/O. */
#include "core/fill.h"

#include <math.h>

static const apex_dec HUNDRED_PCT = 100 * APEX_DEC_SCALE;

apex_err apex_order_check(const apex_order *o)
{
  if (!o || (o->side != APEX_SIDE_BUY && o->side != APEX_SIDE_SELL) || o->qty <= 0)
    return APEX_EINVAL;
  switch (o->type) {
  case APEX_ORDER_MARKET:
    return APEX_OK;
  case APEX_ORDER_LIMIT:
  case APEX_ORDER_STOP_LOSS:
  case APEX_ORDER_TAKE_PROFIT:
    return o->price > 0 ? APEX_OK : APEX_EINVAL;
  }
  return APEX_EINVAL;
}

apex_err apex_fill_costs_check(const apex_fill_costs *c)
{
  if (!c || c->slippage_pct < 0 || c->slippage_pct >= HUNDRED_PCT || c->commission_pct < 0 ||
      c->commission_pct >= HUNDRED_PCT)
    return APEX_EINVAL;
  return APEX_OK;
}

/* A bar price as a decimal: APEX_EDATA if unusable, APEX_EOVERFLOW if out of range. */
static apex_err bar_price(double x, apex_dec *out)
{
  if (!isfinite(x) || x <= 0)
    return APEX_EDATA;
  apex_err rc = apex_dec_from_double(x, out);
  if (rc)
    return rc;
  return *out > 0 ? APEX_OK : APEX_EDATA; /* below 0.5e-8 rounds to nothing */
}

apex_err apex_fill_commission(apex_dec qty, apex_dec price, apex_dec commission_pct, apex_dec *out)
{
  apex_dec notional;
  apex_err rc = apex_dec_mul(qty, price, &notional);
  if (rc)
    return rc;
  return apex_dec_pct(notional, commission_pct, out);
}

/* Builds the fill once the price before slippage is known; slip moves it against the trader. */
static apex_err make_fill(const apex_order *o, apex_dec price, bool slip, const apex_fill_costs *c,
                          apex_fill *out)
{
  apex_dec moved = price, delta, comm;
  apex_err rc;

  if (slip) {
    if ((rc = apex_dec_pct(price, c->slippage_pct, &delta)))
      return rc;
    if ((rc = o->side == APEX_SIDE_BUY ? apex_dec_add(price, delta, &moved) : apex_dec_sub(price, delta, &moved)))
      return rc;
    if (moved <= 0) /* a tiny price slipped by almost 100 % */
      return APEX_EDATA;
  }
  if ((rc = apex_fill_commission(o->qty, moved, c->commission_pct, &comm)))
    return rc;
  *out = (apex_fill){
      .order_id = o->id,
      .side = o->side,
      .type = o->type,
      .qty = o->qty,
      .price = moved,
      .commission = comm,
      .bar_index = o->created_bar,
  };
  return APEX_OK;
}

apex_err apex_fill_at(const apex_order *o, apex_dec price, const apex_fill_costs *c, apex_fill *out)
{
  apex_err rc;
  if ((rc = apex_order_check(o)) || (rc = apex_fill_costs_check(c)))
    return rc;
  if (price <= 0)
    return APEX_EINVAL;
  return make_fill(o, price, false, c, out);
}

apex_err apex_fill_eval(const apex_order *o, const apex_bar *bar, size_t bar_index, const apex_fill_costs *c,
                        bool *filled, apex_fill *out)
{
  apex_dec open, high, low, price = 0;
  bool hit = false, slip = false, at_open = false;
  apex_err rc;

  if ((rc = apex_order_check(o)) || (rc = apex_fill_costs_check(c)))
    return rc;
  if ((rc = bar_price(bar->open, &open)) || (rc = bar_price(bar->high, &high)) ||
      (rc = bar_price(bar->low, &low)))
    return rc;
  *filled = false;
  if (bar_index <= o->created_bar)
    return APEX_OK;

  bool buy = o->side == APEX_SIDE_BUY;
  switch (o->type) {
  case APEX_ORDER_MARKET:
    hit = slip = at_open = true;
    price = open;
    break;
  case APEX_ORDER_LIMIT:
  case APEX_ORDER_TAKE_PROFIT:
    /* A resting limit: a buy fills when the price comes down to it, a sell when it rises to it,
     * at the limit or, on a gap through it, at the better open. */
    hit = buy ? low <= o->price : high >= o->price;
    at_open = buy ? open <= o->price : open >= o->price;
    hit = hit || at_open; /* trades at the open even if the low/high disagree with it */
    price = at_open ? open : o->price;
    break;
  case APEX_ORDER_STOP_LOSS:
    /* A sell stop (long exit) triggers when the price falls to it, a buy stop (short exit) when it
     * rises to it; a gap through it fills at the worse open. Then it is a market order. */
    hit = buy ? high >= o->price : low <= o->price;
    at_open = buy ? open >= o->price : open <= o->price;
    hit = hit || at_open;
    price = at_open ? open : o->price;
    slip = true;
    break;
  }
  if (!hit)
    return APEX_OK;
  apex_fill f;
  if ((rc = make_fill(o, price, slip, c, &f)))
    return rc;
  f.bar_index = bar_index;
  f.time = bar->time;
  f.at_open = at_open;
  *out = f;
  *filled = true;
  return APEX_OK;
}

apex_err apex_fill_exit(const apex_order *stop, const apex_order *target, const apex_bar *bar, size_t bar_index,
                        const apex_fill_costs *c, const apex_order **which, apex_fill *out)
{
  apex_fill fs, ft;
  bool hs = false, ht = false;
  apex_err rc;

  if ((stop && stop->type != APEX_ORDER_STOP_LOSS) ||
      (target && target->type != APEX_ORDER_TAKE_PROFIT && target->type != APEX_ORDER_LIMIT) ||
      (stop && target && stop->side != target->side))
    return APEX_EINVAL;
  if (stop && (rc = apex_fill_eval(stop, bar, bar_index, c, &hs, &fs)))
    return rc;
  if (target && (rc = apex_fill_eval(target, bar, bar_index, c, &ht, &ft)))
    return rc;
  /* The open is the only intrabar order we know: a gap through the target fills it first. */
  if (ht && (!hs || (ft.at_open && !fs.at_open))) {
    *which = target;
    *out = ft;
  } else if (hs) {
    *which = stop;
    *out = fs;
  } else {
    *which = NULL;
  }
  return APEX_OK;
}
