/* backtest.c - the backtest: a driver over the streaming engine (core/engine) and the simulated
 * broker (core/simbroker); see backtest.h for the semantics. Indicators are computed once in batch
 * form and handed to the engine as columns (faster), or, with opts.streaming, by the engine candle
 * by candle as paper and live trading do; tests/unit/test_engine.c shows both give equal results. */
#include "core/backtest.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/ind/ind.h"
#include "core/simbroker.h"

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
  apex_engine *eng;
  apex_sim_broker broker;
  apex_metrics_acc *acc;
  const double **slots;
  void *(*alloc)(size_t bytes);
  void (*free)(void *p, size_t bytes);
  double **owned; /* slot arrays this run allocated, owned_bytes each */
  size_t n_owned, owned_bytes;
  size_t cap_trades;
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

/* Each trade the engine closes: into the log and the metrics. */
static apex_err push_trade(void *ctx, const apex_bt_trade *t)
{
  run *r = ctx;
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

static apex_err setup(run *r, size_t *b0, size_t *b1)
{
  const apex_backtest_config *c = &r->o->cfg;
  const apex_series *s = r->s;
  apex_fill_costs costs;
  apex_err rc;
  apex_dec cap;

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
      apex_dec_from_double(c->commission_pct, &costs.commission_pct) ||
      apex_dec_from_double(c->slippage_pct, &costs.slippage_pct) || apex_sim_broker_init(&r->broker, &costs))
    return apex_error_set(r->err, APEX_EINVAL, "backtest: capital, commission or slippage out of range");
  if (apex_engine_new(r->st, cap, &r->eng, r->err))
    return apex_error_set(r->err, APEX_EINVAL, "backtest: risk_management values out of range");
  if (!(r->acc = apex_metrics_acc_new(c->initial_capital, r->o->periods_per_year ? r->o->periods_per_year : 252)))
    return fail(r, APEX_ENOMEM, "metrics");
  if (!r->o->streaming) {
    if ((rc = compute_slots(r, hi)))
      return fail(r, rc, "indicators");
    apex_engine_use_columns(r->eng, r->slots);
  }
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

/* The backtest is a driver: candles to the engine, its orders to the simulated broker, the
 * broker's fills back to the engine; the driver keeps the metrics, the equity curve and the log. */
apex_err apex_backtest_run(const apex_strategy *st, const apex_series *s, const apex_backtest_opts *o,
                           apex_backtest_result *out, apex_error *err)
{
  run r = {.st = st, .s = s, .o = o, .res = out, .err = err,
           .alloc = o->alloc ? o->alloc : plain_alloc, .free = o->free ? o->free : plain_free};
  size_t b0, b1;
  apex_err rc;
  apex_engine_out eo;

  memset(out, 0, sizeof *out);
  if ((rc = setup(&r, &b0, &b1)))
    goto out;

  const size_t last = b1 - 1;
  const size_t chunk = (b1 - b0) / 100 ? (b1 - b0) / 100 : 1;
  /* Options in locals: the loop calls out of this file, so fields would be reloaded per candle. */
  const bool streaming = o->streaming;
  void (*const on_bar)(void *ctx, size_t bar, apex_dec cash, apex_dec position, double equity) = o->on_bar;
  double *const curve = out->equity;
  /* The next candle whose equity is kept (b0, b0 + k, ..., then the last): one test per candle. */
  size_t next_sample = curve ? b0 : SIZE_MAX, n_sampled = 0;

  for (size_t t = 0; t < b0; t++) { /* earlier candles warm the indicators up */
    apex_bar bar = apex_series_bar(s, t);
    apex_engine_warm(r.eng, &bar);
  }
  for (size_t t0 = b0; t0 < b1; t0 += chunk) {
    if (o->cancel && atomic_load_explicit(o->cancel, memory_order_relaxed)) {
      rc = apex_error_set(err, APEX_ECANCELED, "backtest: cancelled");
      goto out;
    }
    if (o->progress)
      o->progress(o->progress_ctx, 100.0 * (double)(t0 - b0) / (double)(b1 - b0), s->time[t0]);
    size_t t1 = t0 + chunk < b1 ? t0 + chunk : b1;
    for (size_t t = t0; t < t1; t++) {
      /* Most candles fill nothing and, with batch columns, need only their close and time: the
       * whole candle is read only when the broker or the streaming indicators need it. */
      if (!apex_sim_broker_idle(&r.broker, s->low + t, s->high + t)) {
        apex_bar bar = apex_series_bar(s, t);
        if ((rc = apex_sim_broker_bar(&r.broker, r.eng, &bar, t, push_trade, &r)))
          goto fill_fail;
      }
      if (t == last &&
          (rc = apex_sim_broker_close(&r.broker, r.eng, APEX_EXIT_END_OF_DATA, s->close[t], t, s->time[t], push_trade, &r)))
        goto fill_fail;
      if (streaming) {
        apex_bar bar = apex_series_bar(s, t);
        rc = apex_engine_on_bar(r.eng, &bar, &eo);
      } else {
        rc = apex_engine_on_close(r.eng, s->time[t], s->close[t], &eo);
      }
      if (rc)
        goto fill_fail;
      if (eo.n && t < last) /* a signal on the last candle is not acted on */
        apex_sim_broker_take(&r.broker, &eo);
      double equity = apex_engine_equity(r.eng);
      if (on_bar)
        on_bar(o->on_bar_ctx, t, apex_engine_cash(r.eng), apex_engine_position(r.eng), equity);
      if ((rc = apex_metrics_acc_bar(r.acc, s->time[t], equity, apex_engine_in_market(r.eng))))
        goto fill_fail;
      if (t == next_sample) {
        curve[n_sampled++] = equity;
        next_sample = last - t > o->equity_every ? t + o->equity_every : last;
      }
    }
  }
  if (o->progress)
    o->progress(o->progress_ctx, 100.0, s->time[last]);
  out->halted = apex_engine_halted(r.eng, &out->halted_time);
  out->final_cash = apex_engine_cash(r.eng);
  out->total_commission = apex_engine_commission(r.eng);
  out->fills = apex_engine_fills(r.eng);
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
  apex_engine_free(r.eng);
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
