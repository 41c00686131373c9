/* simbroker.c - the simulated broker (simbroker.h): a few waiting orders, core/fill's rules. */
#include "core/simbroker.h"

#include "core/ledger.h"

apex_err apex_sim_broker_init(apex_sim_broker *b, const apex_fill_costs *c)
{
  *b = (apex_sim_broker){.costs = *c};
  return apex_fill_costs_check(c);
}

static void drop(apex_sim_broker *b, uint64_t id)
{
  if (b->has_stop && b->stop.id == id)
    b->has_stop = false;
  if (b->has_target && b->target.id == id)
    b->has_target = false;
  for (size_t i = 0; i < b->n_market; i++)
    if (b->market[i].id == id) {
      for (size_t j = i + 1; j < b->n_market; j++)
        b->market[j - 1] = b->market[j];
      b->n_market--;
      return;
    }
}

void apex_sim_broker_take(apex_sim_broker *b, const apex_engine_out *out)
{
  for (size_t i = 0; i < out->n; i++) {
    const apex_intent *it = &out->intent[i];
    if (it->kind == APEX_INTENT_CANCEL) {
      drop(b, it->order.id);
    } else if (it->order.type == APEX_ORDER_STOP_LOSS) {
      b->stop = it->order;
      b->has_stop = true;
      b->stop_d = apex_dec_to_double(b->stop.price);
    } else if (it->order.type == APEX_ORDER_TAKE_PROFIT) {
      b->target = it->order;
      b->has_target = true;
      b->target_d = apex_dec_to_double(b->target.price);
    } else if (b->n_market < APEX_ENGINE_MAX_INTENTS) {
      b->market[b->n_market++] = it->order;
    }
  }
}

/* One fill to the engine, its answer back to the broker. */
static apex_err report(apex_sim_broker *b, apex_engine *e, const apex_fill *f, apex_sim_trade_fn fn, void *ctx)
{
  apex_engine_out out;
  apex_err rc = apex_engine_on_fill(e, f, &out);
  if (rc)
    return rc;
  apex_sim_broker_take(b, &out);
  return out.closed && fn ? fn(ctx, &out.trade) : APEX_OK;
}

static apex_err fill_market(apex_sim_broker *b, apex_engine *e, apex_order o, const apex_bar *bar, size_t t,
                            apex_sim_trade_fn fn, void *ctx)
{
  apex_fill f;
  bool filled;
  apex_dec cap;
  apex_err rc = apex_fill_eval(&o, bar, t, &b->costs, &filled, &f);
  if (rc || !filled)
    return rc;
  if (o.side == APEX_SIDE_BUY) {
    if ((rc = apex_ledger_max_buy_qty(apex_engine_cash(e), f.price, b->costs.commission_pct, &cap)))
      return rc;
    if (cap <= 0) {
      apex_engine_on_reject(e, o.id, APEX_REFUSE_CASH); /* nothing affordable: no trade */
      return APEX_OK;
    }
    if (cap < f.qty) {
      o.qty = cap;
      if ((rc = apex_fill_at(&o, f.price, &b->costs, &f)))
        return rc;
      f.bar_index = t;
      f.time = bar->time;
    }
  }
  return report(b, e, &f, fn, ctx);
}

apex_err apex_sim_broker_bar(apex_sim_broker *b, apex_engine *e, const apex_bar *bar, size_t t, apex_sim_trade_fn fn,
                             void *ctx)
{
  apex_err rc;
  while (b->n_market) {
    apex_order o = b->market[0];
    drop(b, o.id);
    if ((rc = fill_market(b, e, o, bar, t, fn, ctx)))
      return rc;
  }
  if ((!b->has_stop && !b->has_target) || apex_sim_broker_idle(b, &bar->low, &bar->high))
    return APEX_OK;
  const apex_order *which = NULL;
  apex_fill f;
  if ((rc = apex_fill_exit(b->has_stop ? &b->stop : NULL, b->has_target ? &b->target : NULL, bar, t, &b->costs,
                           &which, &f)))
    return rc;
  if (!which)
    return APEX_OK;
  drop(b, which->id);
  return report(b, e, &f, fn, ctx);
}

apex_err apex_sim_broker_close(apex_sim_broker *b, apex_engine *e, apex_exit_reason why, double price, size_t t,
                               int64_t time, apex_sim_trade_fn fn, void *ctx)
{
  apex_engine_out out;
  apex_dec px;
  apex_fill f;
  apex_err rc;
  apex_engine_close_all(e, why, &out);
  if (out.n == 0)
    return APEX_OK;
  const apex_order o = out.intent[0].order;
  if ((rc = apex_dec_from_double(price, &px)) || (rc = apex_fill_at(&o, px, &b->costs, &f)))
    return rc;
  f.bar_index = t;
  f.time = time;
  return report(b, e, &f, fn, ctx);
}
