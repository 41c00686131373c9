/* ledger.c - exact booking of fills into cash, position, basis and P&L. Every change is computed
 * into locals and committed at the end, so a refused fill leaves the ledger untouched. No I/O. */
#include "core/ledger.h"

#include <stdbool.h>
#include <stdlib.h>

struct apex_ledger {
  apex_dec start_cash, cash;
  apex_dec position;   /* signed */
  apex_dec basis;      /* signed sum of the notionals that opened the position */
  apex_dec realized;   /* gross */
  apex_dec commission; /* total */
  size_t fills;
  bool allow_short;    /* false until short selling is enabled; the arithmetic below is signed */
};

apex_err apex_ledger_new(apex_dec start_cash, apex_ledger **out)
{
  if (start_cash < 0)
    return APEX_EINVAL;
  apex_ledger *l = calloc(1, sizeof *l);
  if (!l)
    return APEX_ENOMEM;
  l->start_cash = l->cash = start_cash;
  *out = l;
  return APEX_OK;
}

void apex_ledger_free(apex_ledger *l) { free(l); }

apex_err apex_ledger_apply(apex_ledger *l, const apex_fill *f)
{
  apex_dec notional, cash, pos, basis = l->basis, realized = l->realized, comm;
  apex_err rc;

  if ((f->side != APEX_SIDE_BUY && f->side != APEX_SIDE_SELL) || f->qty <= 0 || f->price <= 0 ||
      f->commission < 0)
    return APEX_EINVAL;
  apex_dec dq = f->side == APEX_SIDE_BUY ? f->qty : -f->qty;
  if (!l->allow_short && dq < 0 && f->qty > l->position)
    return APEX_EINVAL;
  if ((rc = apex_dec_mul(f->qty, f->price, &notional)))
    return rc;
  /* buy: cash -= notional + commission; sell: cash += notional - commission */
  if ((rc = apex_dec_add(l->cash, dq > 0 ? -notional : notional, &cash)) ||
      (rc = apex_dec_sub(cash, f->commission, &cash)))
    return rc;
  if (cash < 0)
    return APEX_ENOFUNDS;
  if ((rc = apex_dec_add(l->position, dq, &pos)) || (rc = apex_dec_add(l->commission, f->commission, &comm)))
    return rc;

  apex_dec held = l->position < 0 ? -l->position : l->position;
  if (l->position == 0 || (l->position > 0) == (dq > 0)) {
    /* Opening or adding: the basis grows by the signed notional. */
    if ((rc = apex_dec_add(basis, dq > 0 ? notional : -notional, &basis)))
      return rc;
  } else {
    /* Reducing: release the closed fraction of the basis; past zero, the rest opens anew. */
    apex_dec closed = f->qty < held ? f->qty : held, released, n_close, n_open, r;
    if (closed == held)
      released = basis;
    else if ((rc = apex_dec_muldiv(basis, closed, held, &released)))
      return rc;
    if (closed == f->qty)
      n_close = notional;
    else if ((rc = apex_dec_muldiv(notional, closed, f->qty, &n_close)))
      return rc;
    n_open = notional - n_close; /* both in [0, notional] */
    /* Long closed by a sell: n_close - released; short closed by a buy: -released - n_close. */
    if ((rc = apex_dec_sub(dq < 0 ? n_close : -n_close, released, &r)) || (rc = apex_dec_add(realized, r, &realized)))
      return rc;
    basis = basis - released; /* same sign, |released| <= |basis| */
    if (closed < f->qty)
      basis = dq > 0 ? n_open : -n_open;
  }

  l->cash = cash;
  l->position = pos;
  l->basis = pos == 0 ? 0 : basis;
  l->realized = realized;
  l->commission = comm;
  l->fills++;
  return APEX_OK;
}

apex_dec apex_ledger_start_cash(const apex_ledger *l) { return l->start_cash; }
apex_dec apex_ledger_cash(const apex_ledger *l) { return l->cash; }
apex_dec apex_ledger_position(const apex_ledger *l) { return l->position; }
apex_dec apex_ledger_cost_basis(const apex_ledger *l) { return l->basis; }
apex_dec apex_ledger_realized_gross(const apex_ledger *l) { return l->realized; }
apex_dec apex_ledger_commission(const apex_ledger *l) { return l->commission; }
size_t apex_ledger_fills(const apex_ledger *l) { return l->fills; }

apex_dec apex_ledger_realized_net(const apex_ledger *l)
{
  /* Both stay far inside the range in any real account; saturate rather than wrap if not. */
  apex_dec net;
  if (apex_dec_sub(l->realized, l->commission, &net))
    return APEX_DEC_MIN;
  return net;
}

apex_dec apex_ledger_avg_price(const apex_ledger *l)
{
  apex_dec avg;
  if (l->position == 0)
    return 0;
  apex_dec b = l->basis < 0 ? -l->basis : l->basis, q = l->position < 0 ? -l->position : l->position;
  if (apex_dec_div(b, q, &avg))
    return APEX_DEC_MAX;
  return avg;
}

apex_err apex_ledger_equity(const apex_ledger *l, apex_dec mark, apex_dec *out)
{
  apex_dec value;
  apex_err rc = apex_dec_mul(l->position, mark, &value);
  if (rc)
    return rc;
  return apex_dec_add(l->cash, value, out);
}

/* What apex_ledger_apply charges for buying qty at price; false if it overflows (unaffordable). */
static bool buy_cost(apex_dec qty, apex_dec price, apex_dec pct, apex_dec *cost)
{
  apex_dec notional, comm;
  return !apex_dec_mul(qty, price, &notional) && !apex_dec_pct(notional, pct, &comm) &&
         !apex_dec_add(notional, comm, cost);
}

static bool affordable(apex_dec qty, apex_dec price, apex_dec pct, apex_dec cash)
{
  apex_dec cost;
  return buy_cost(qty, price, pct, &cost) && cost <= cash;
}

apex_err apex_ledger_max_buy_qty(apex_dec cash, apex_dec price, apex_dec commission_pct, apex_dec *out)
{
  const apex_dec hundred = 100 * APEX_DEC_SCALE;
  if (price <= 0 || commission_pct < 0 || commission_pct >= hundred)
    return APEX_EINVAL;
  if (cash <= 0) {
    *out = 0;
    return APEX_OK;
  }
  /* The exact cost Q*P*(1e10+K)/1e18 (in units) is within 1.5 units of the rounded one, so any
   * affordable Q is below (cash + 2) * 1e18 / (P * (1e10 + K)); binary search below that. Cost is
   * monotone in Q, since both roundings are. */
  apex_wide num = ((apex_wide)cash + 2) * APEX_DEC_SCALE * APEX_DEC_SCALE * 100;
  apex_wide den = (apex_wide)price * ((apex_wide)hundred + commission_pct);
  apex_wide bound = num / den + 1;
  apex_dec lo = 0, hi = bound > (apex_wide)APEX_DEC_MAX ? APEX_DEC_MAX : (apex_dec)bound;
  if (affordable(hi, price, commission_pct, cash)) {
    *out = hi;
    return APEX_OK;
  }
  while (hi - lo > 1) { /* lo affordable, hi not */
    apex_dec mid = lo + (hi - lo) / 2;
    if (affordable(mid, price, commission_pct, cash))
      lo = mid;
    else
      hi = mid;
  }
  *out = lo;
  return APEX_OK;
}

apex_err apex_ledger_target_qty(apex_dec fraction, apex_dec equity, apex_dec price, apex_dec *out)
{
  if (fraction < 0 || fraction > APEX_DEC_SCALE || price <= 0)
    return APEX_EINVAL;
  if (equity <= 0) {
    *out = 0;
    return APEX_OK;
  }
  /* In units: (f/1e8)(e/1e8)/(p/1e8) * 1e8 = f*e/p. */
  return apex_dec_muldiv(fraction, equity, price, out);
}

void apex_ledger_save(const apex_ledger *l, apex_ledger_state *out)
{
  *out = (apex_ledger_state){l->start_cash, l->cash, l->position, l->basis, l->realized, l->commission, l->fills};
}

apex_err apex_ledger_load(apex_ledger *l, const apex_ledger_state *s)
{
  if (s->start_cash < 0 || s->cash < 0 || s->commission < 0 || s->position < 0 || (s->position == 0 && s->basis != 0) ||
      s->basis < 0)
    return APEX_EINVAL;
  l->start_cash = s->start_cash;
  l->cash = s->cash;
  l->position = s->position;
  l->basis = s->basis;
  l->realized = s->realized;
  l->commission = s->commission;
  l->fills = (size_t)s->fills;
  return APEX_OK;
}
