/* backtest.c - the backtest loop (see backtest.h for the semantics). Indicators are computed once in
 * batch form; the loop itself does decimal work only when an order fills. */
#include "core/backtest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fill.h"
#include "core/ind/ind.h"
#include "core/ledger.h"

const char *apex_exit_reason_name(apex_exit_reason r)
{
  switch (r) {
  case APEX_EXIT_SIGNAL: return "signal";
  case APEX_EXIT_STOP_LOSS: return "stop_loss";
  case APEX_EXIT_TAKE_PROFIT: return "take_profit";
  case APEX_EXIT_MAX_DRAWDOWN: return "max_drawdown";
  case APEX_EXIT_END_OF_DATA: return "end_of_data";
  }
  return "unknown";
}

void apex_backtest_opts_init(apex_backtest_opts *o, const apex_strategy *st)
{
  memset(o, 0, sizeof *o);
  o->cfg = st->backtest;
  o->periods_per_year = apex_metrics_periods_per_year(st->asset);
}

static void *plain_alloc(size_t bytes) { return malloc(bytes ? bytes : 1); }
static void plain_free(void *p, size_t bytes)
{
  (void)bytes;
  free(p);
}

/* Everything one run owns, freed in one place. */
typedef struct run {
  const apex_strategy *st;
  const apex_series *s;
  const apex_backtest_opts *o;
  apex_backtest_result *res;
  apex_error *err;
  apex_ledger *led;
  apex_metrics_acc *acc;
  const double **slots;
  void *(*alloc)(size_t bytes);
  void (*free)(void *p, size_t bytes);
  double **owned; /* slot arrays this run allocated, owned_bytes each */
  size_t n_owned, owned_bytes;
  size_t cap_trades;
  apex_fill_costs costs;
  apex_dec fraction;
  apex_dec sl_pct, tp_pct;
  /* the open position's protective orders and the trade being built */
  apex_order stop, target;
  bool has_stop, has_target;
  double stop_d, target_d; /* the same prices as doubles, to skip quiet candles cheaply */
  apex_bt_trade open;
  uint64_t next_order_id;
} run;

static apex_err fail(run *r, apex_err code, const char *what)
{
  return apex_error_set(r->err, code, "backtest: %s: %s", what, apex_strerror(code));
}

/* Computes every dependency over candles [0, n) into slot arrays; price fields point at the series. */
static apex_err compute_slots(run *r, size_t n)
{
  const apex_ruleset *rs = r->st->rules;
  size_t nslots = apex_ruleset_nslots(rs), ndeps = apex_ruleset_ndeps(rs);
  apex_series view = *r->s;
  view.n = n;
  r->slots = calloc(nslots ? nslots : 1, sizeof *r->slots);
  r->owned = calloc(nslots ? nslots : 1, sizeof *r->owned);
  if (!r->slots || !r->owned)
    return APEX_ENOMEM;
  for (size_t k = 0; k < ndeps; k++) {
    const apex_rule_dep *d = apex_ruleset_dep(rs, k);
    const char *nm = d->ind->name;
    const double *col = !strcmp(nm, "close")    ? r->s->close
                        : !strcmp(nm, "open")   ? r->s->open
                        : !strcmp(nm, "high")   ? r->s->high
                        : !strcmp(nm, "low")    ? r->s->low
                        : !strcmp(nm, "volume") ? r->s->volume
                                                : NULL;
    if (col) { /* no copy of a column we already have */
      r->slots[d->first_slot] = col;
      continue;
    }
    double *outs[APEX_IND_MAX_OUTPUTS] = {0};
    r->owned_bytes = (n ? n : 1) * sizeof(double);
    for (int o = 0; o < d->ind->n_outputs; o++) {
      outs[o] = r->alloc(r->owned_bytes);
      if (!outs[o])
        return APEX_ENOMEM;
      r->owned[r->n_owned++] = outs[o];
      r->slots[d->first_slot + (size_t)o] = outs[o];
    }
    d->ind->batch(&view, d->params, outs);
  }
  return APEX_OK;
}

static apex_err push_trade(run *r, const apex_bt_trade *t)
{
  apex_backtest_result *res = r->res;
  if (res->n_trades == r->cap_trades) {
    size_t cap = r->cap_trades ? r->cap_trades * 2 : 64;
    apex_bt_trade *p = realloc(res->trades, cap * sizeof *p);
    if (!p)
      return APEX_ENOMEM;
    res->trades = p;
    r->cap_trades = cap;
  }
  res->trades[res->n_trades++] = *t;
  apex_metrics_trade mt = {t->entry_time, t->exit_time,
                           apex_dec_to_double(t->qty) * apex_dec_to_double(t->entry_price),
                           apex_dec_to_double(t->net_pnl)};
  return apex_metrics_acc_trade(r->acc, &mt);
}

static apex_err book(run *r, const apex_fill *f)
{
  apex_err rc = apex_ledger_apply(r->led, f);
  if (!rc)
    r->res->fills++;
  return rc;
}

/* Sets the stop and target of a position entered at price on the bar after `signal_bar`. */
static apex_err arm_exits(run *r, apex_dec price, apex_dec qty, size_t signal_bar)
{
  apex_dec off;
  apex_err rc;
  r->has_stop = r->has_target = false;
  if (r->sl_pct > 0) {
    if ((rc = apex_dec_pct(price, r->sl_pct, &off)))
      return rc;
    r->stop = (apex_order){r->next_order_id++, APEX_SIDE_SELL, APEX_ORDER_STOP_LOSS, qty, price - off, signal_bar};
    r->has_stop = r->stop.price > 0;
    r->stop_d = apex_dec_to_double(r->stop.price);
  }
  if (r->tp_pct > 0) {
    if ((rc = apex_dec_pct(price, r->tp_pct, &off)) || (rc = apex_dec_add(price, off, &off)))
      return rc;
    r->target = (apex_order){r->next_order_id++, APEX_SIDE_SELL, APEX_ORDER_TAKE_PROFIT, qty, off, signal_bar};
    r->has_target = true;
    r->target_d = apex_dec_to_double(r->target.price);
  }
  return APEX_OK;
}

/* Buys at bar t's open: qty was sized at the signal; the cash cap may shrink it. */
static apex_err enter(run *r, size_t t, apex_dec qty)
{
  apex_bar bar = apex_series_bar(r->s, t);
  apex_order o = {r->next_order_id++, APEX_SIDE_BUY, APEX_ORDER_MARKET, qty, 0, t - 1};
  apex_fill f;
  bool filled;
  apex_dec cap;
  apex_err rc = apex_fill_eval(&o, &bar, t, &r->costs, &filled, &f);
  if (rc || !filled)
    return rc;
  if ((rc = apex_ledger_max_buy_qty(apex_ledger_cash(r->led), f.price, r->costs.commission_pct, &cap)))
    return rc;
  if (cap < f.qty) {
    if (cap <= 0)
      return APEX_OK; /* nothing affordable: no trade */
    o.qty = cap;
    if ((rc = apex_fill_at(&o, f.price, &r->costs, &f)))
      return rc;
    f.bar_index = t;
    f.time = bar.time;
  }
  if ((rc = book(r, &f)))
    return rc;
  r->open = (apex_bt_trade){.entry_bar = t, .entry_time = bar.time, .qty = f.qty, .entry_price = f.price,
                            .entry_commission = f.commission};
  return arm_exits(r, f.price, f.qty, t - 1);
}

static apex_err close_trade(run *r, const apex_fill *f, size_t t, apex_exit_reason why)
{
  apex_err rc = book(r, f);
  if (rc)
    return rc;
  apex_bt_trade *tr = &r->open;
  apex_dec in_notional, out_notional;
  if ((rc = apex_dec_mul(tr->qty, tr->entry_price, &in_notional)) || (rc = apex_dec_mul(f->qty, f->price, &out_notional)))
    return rc;
  tr->exit_bar = t;
  tr->exit_time = r->s->time[t];
  tr->exit_price = f->price;
  tr->exit_commission = f->commission;
  tr->gross_pnl = out_notional - in_notional;
  tr->net_pnl = tr->gross_pnl - tr->entry_commission - tr->exit_commission;
  tr->reason = why;
  r->has_stop = r->has_target = false;
  return push_trade(r, tr);
}

/* Sells the whole position at bar t's open (market order from the previous close). */
static apex_err exit_at_open(run *r, size_t t, apex_exit_reason why)
{
  apex_bar bar = apex_series_bar(r->s, t);
  apex_order o = {r->next_order_id++, APEX_SIDE_SELL, APEX_ORDER_MARKET, apex_ledger_position(r->led), 0, t - 1};
  apex_fill f;
  bool filled;
  apex_err rc = apex_fill_eval(&o, &bar, t, &r->costs, &filled, &f);
  if (rc || !filled)
    return rc;
  return close_trade(r, &f, t, why);
}

/* Stop-loss and take-profit against bar t. */
static apex_err check_exits(run *r, size_t t)
{
  /* Quiet candle: nowhere near either level (rounding to 8 places moves prices by <= 5e-9). */
  if ((!r->has_stop || r->s->low[t] - r->stop_d > 1e-8) && (!r->has_target || r->target_d - r->s->high[t] > 1e-8))
    return APEX_OK;
  apex_bar bar = apex_series_bar(r->s, t);
  const apex_order *which = NULL;
  apex_fill f;
  apex_err rc = apex_fill_exit(r->has_stop ? &r->stop : NULL, r->has_target ? &r->target : NULL, &bar, t,
                               &r->costs, &which, &f);
  if (rc || !which)
    return rc;
  return close_trade(r, &f, t, which->type == APEX_ORDER_STOP_LOSS ? APEX_EXIT_STOP_LOSS : APEX_EXIT_TAKE_PROFIT);
}

static apex_err close_at_end(run *r, size_t t)
{
  apex_order o = {r->next_order_id++, APEX_SIDE_SELL, APEX_ORDER_MARKET, apex_ledger_position(r->led), 0, t};
  apex_dec px;
  apex_fill f;
  apex_err rc = apex_dec_from_double(r->s->close[t], &px);
  if (rc || (rc = apex_fill_at(&o, px, &r->costs, &f)))
    return rc;
  f.bar_index = t;
  f.time = r->s->time[t];
  return close_trade(r, &f, t, APEX_EXIT_END_OF_DATA);
}

static bool any_rule(const run *r, const int *idx, size_t n, size_t t)
{
  for (size_t i = 0; i < n; i++)
    if (apex_ruleset_eval(r->st->rules, (size_t)idx[i], r->slots, t))
      return true;
  return false;
}

static apex_err setup(run *r, size_t *b0, size_t *b1)
{
  const apex_backtest_config *c = &r->o->cfg;
  const apex_series *s = r->s;
  apex_err rc;
  apex_dec cap, x;

  size_t lo = 0, hi = s->n;
  while (lo < s->n && s->time[lo] < c->start_ms)
    lo++;
  while (hi > lo && s->time[hi - 1] >= c->end_ms)
    hi--;
  if (hi == lo)
    return apex_error_set(r->err, APEX_EDATA, "backtest: no candles between the start and end dates");
  *b0 = lo;
  *b1 = hi;
  if (!(c->initial_capital > 0) || apex_dec_from_double(c->initial_capital, &cap) ||
      apex_dec_from_double(c->commission_pct, &r->costs.commission_pct) ||
      apex_dec_from_double(c->slippage_pct, &r->costs.slippage_pct) || apex_fill_costs_check(&r->costs))
    return apex_error_set(r->err, APEX_EINVAL, "backtest: capital, commission or slippage out of range");
  if (apex_dec_from_double(r->st->risk.max_position_size, &r->fraction) ||
      apex_dec_from_double(r->st->risk.stop_loss_pct, &r->sl_pct) ||
      apex_dec_from_double(r->st->risk.take_profit_pct, &r->tp_pct) || r->fraction <= 0)
    return apex_error_set(r->err, APEX_EINVAL, "backtest: risk_management values out of range");
  (void)x;
  if ((rc = apex_ledger_new(cap, &r->led)))
    return fail(r, rc, "ledger");
  if (!(r->acc = apex_metrics_acc_new(c->initial_capital, r->o->periods_per_year ? r->o->periods_per_year : 252)))
    return fail(r, APEX_ENOMEM, "metrics");
  if ((rc = compute_slots(r, hi)))
    return fail(r, rc, "indicators");
  size_t k = r->o->equity_every;
  if (k) {
    r->res->n_equity = (hi - lo - 1) / k + 1 + ((hi - lo - 1) % k != 0);
    r->res->release = r->free;
    if (!(r->res->equity = r->alloc(r->res->n_equity * sizeof(double))))
      return fail(r, APEX_ENOMEM, "equity curve");
  }
  r->res->first_bar = lo;
  r->res->bars = hi - lo;
  r->res->warmup = apex_ruleset_warmup(r->st->rules);
  return APEX_OK;
}

apex_err apex_backtest_run(const apex_strategy *st, const apex_series *s, const apex_backtest_opts *o,
                           apex_backtest_result *out, apex_error *err)
{
  run r = {.st = st, .s = s, .o = o, .res = out, .err = err, .next_order_id = 1,
           .alloc = o->alloc ? o->alloc : plain_alloc, .free = o->free ? o->free : plain_free};
  size_t b0, b1;
  apex_err rc;

  memset(out, 0, sizeof *out);
  if ((rc = setup(&r, &b0, &b1)))
    goto out;

  const double max_dd = st->risk.max_drawdown_pct;
  const size_t warm = out->warmup, last = b1 - 1;
  const size_t chunk = (b1 - b0) / 100 ? (b1 - b0) / 100 : 1;
  double peak = o->cfg.initial_capital, cash_d = apex_dec_to_double(apex_ledger_cash(r.led)), qty_d = 0;
  bool pending_entry = false, pending_exit = false, halted = false;
  apex_exit_reason exit_why = APEX_EXIT_SIGNAL;
  apex_dec entry_qty = 0;
  size_t next_sample = b0, n_sampled = 0;

  for (size_t t0 = b0; t0 < b1; t0 += chunk) {
    if (o->cancel && atomic_load_explicit(o->cancel, memory_order_relaxed)) {
      rc = apex_error_set(err, APEX_ECANCELED, "backtest: cancelled");
      goto out;
    }
    if (o->progress)
      o->progress(o->progress_ctx, 100.0 * (double)(t0 - b0) / (double)(b1 - b0), s->time[t0]);
    size_t t1 = t0 + chunk < b1 ? t0 + chunk : b1;
    for (size_t t = t0; t < t1; t++) {
      bool changed = pending_entry || pending_exit;
      if (pending_entry) {
        pending_entry = false;
        if ((rc = enter(&r, t, entry_qty)))
          goto fill_fail;
      } else if (pending_exit) {
        pending_exit = false;
        if ((rc = exit_at_open(&r, t, exit_why)))
          goto fill_fail;
      }
      if (r.has_stop || r.has_target) {
        size_t before = out->fills;
        if ((rc = check_exits(&r, t)))
          goto fill_fail;
        changed |= out->fills != before;
      }
      if (t == last && apex_ledger_position(r.led) > 0) {
        if ((rc = close_at_end(&r, t)))
          goto fill_fail;
        changed = true;
      }
      if (changed) {
        cash_d = apex_dec_to_double(apex_ledger_cash(r.led));
        qty_d = apex_dec_to_double(apex_ledger_position(r.led));
      }
      double equity = cash_d + qty_d * s->close[t];
      if (equity > peak)
        peak = equity;
      if (max_dd > 0 && !halted && (peak - equity) / peak * 100 > max_dd) {
        halted = true;
        out->halted = true;
        out->halted_time = s->time[t];
        if (qty_d > 0 && t < last) {
          pending_exit = true;
          exit_why = APEX_EXIT_MAX_DRAWDOWN;
        }
      }
      if (!halted && t >= warm && t < last && !pending_exit) {
        if (qty_d == 0) {
          if (any_rule(&r, st->entry, st->n_entry, t)) {
            apex_dec close_px;
            if ((rc = apex_dec_from_double(s->close[t], &close_px)) ||
                (rc = apex_ledger_target_qty(r.fraction, apex_ledger_cash(r.led), close_px, &entry_qty)))
              goto fill_fail;
            pending_entry = entry_qty > 0;
          }
        } else if (any_rule(&r, st->exit, st->n_exit, t)) {
          pending_exit = true;
          exit_why = APEX_EXIT_SIGNAL;
        }
      }
      if (o->on_bar)
        o->on_bar(o->on_bar_ctx, t, apex_ledger_cash(r.led), apex_ledger_position(r.led), equity);
      if ((rc = apex_metrics_acc_bar(r.acc, s->time[t], equity, qty_d > 0)))
        goto fill_fail;
      if (out->equity && (t == next_sample || t == last)) {
        out->equity[n_sampled++] = equity;
        next_sample += o->equity_every;
      }
    }
  }
  if (o->progress)
    o->progress(o->progress_ctx, 100.0, s->time[last]);
  out->final_cash = apex_ledger_cash(r.led);
  out->total_commission = apex_ledger_commission(r.led);
  if ((rc = apex_metrics_acc_finish(r.acc, &out->metrics)))
    rc = fail(&r, rc, "metrics");
  goto out;
fill_fail:
  rc = apex_error_set(err, rc, "backtest: %s while filling an order or booking it", apex_strerror(rc));
out:
  for (size_t k = 0; k < r.n_owned; k++)
    r.free(r.owned[k], r.owned_bytes);
  free(r.owned);
  free((void *)r.slots);
  apex_ledger_free(r.led);
  apex_metrics_acc_free(r.acc);
  if (rc)
    apex_backtest_result_clear(out);
  return rc;
}

size_t apex_backtest_equity_offset(const apex_backtest_result *r, const apex_backtest_opts *o, size_t i)
{
  size_t off = i * o->equity_every;
  return off < r->bars ? off : r->bars - 1;
}

void apex_backtest_result_clear(apex_backtest_result *r)
{
  free(r->trades);
  if (r->equity)
    r->release(r->equity, r->n_equity * sizeof(double));
  apex_metrics_clear(&r->metrics);
  memset(r, 0, sizeof *r);
}
