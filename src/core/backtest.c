/* backtest.c - the backtest and the session it steps (core/session.h): the engine (core/engine)
 * and the simulated broker (core/simbroker) with the trade log, metrics and equity samples; see
 * backtest.h for the semantics. Indicators are computed once in batch form and handed to the engine
 * as columns (the fast loop, batch_candles), or, with opts.streaming, the run steps the session
 * candle by candle exactly as paper trading does; tests/unit/test_backtest_properties.c shows both
 * give equal results. */
#include "core/backtest.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/ind/ind.h"
#include "core/session.h"
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

struct apex_session {
  const apex_strategy *st;
  apex_backtest_opts o;
  apex_engine *eng;
  apex_sim_broker broker;
  apex_metrics_acc *acc;
  void *(*alloc)(size_t bytes);
  void (*free)(void *p, size_t bytes);
  apex_bt_trade *trades;
  size_t n_trades, cap_trades;
  double *equity; /* cap_equity doubles from alloc */
  size_t n_equity, cap_equity;
  size_t t;           /* candles stepped */
  size_t first_bar;   /* the first traded candle, once trading */
  size_t next_sample; /* the next candle whose equity is kept */
  int64_t prev_time;
  bool trading, ended;
};

static apex_err fail(apex_error *err, apex_err code, const char *what)
{
  return apex_error_set(err, code, "backtest: %s: %s", what, apex_strerror(code));
}

static apex_err fill_fail(apex_error *err, apex_err code)
{
  return apex_error_set(err, code, "backtest: %s while filling an order or booking it", apex_strerror(code));
}

/* Each trade the engine closes: into the log and the metrics. */
static apex_err push_trade(void *ctx, const apex_bt_trade *t)
{
  apex_session *ss = ctx;
  if (ss->n_trades == ss->cap_trades) {
    size_t cap = ss->cap_trades ? ss->cap_trades * 2 : 64;
    apex_bt_trade *p = realloc(ss->trades, cap * sizeof *p);
    if (!p)
      return APEX_ENOMEM;
    ss->trades = p;
    ss->cap_trades = cap;
  }
  ss->trades[ss->n_trades++] = *t;
  apex_metrics_trade mt = {t->entry_time, t->exit_time,
                           apex_dec_to_double(t->qty) * apex_dec_to_double(t->entry_price),
                           apex_dec_to_double(t->net_pnl)};
  return apex_metrics_acc_trade(ss->acc, &mt);
}

apex_err apex_session_new(const apex_strategy *st, const apex_backtest_opts *o, apex_session **out, apex_error *err)
{
  const apex_backtest_config *c = &o->cfg;
  apex_fill_costs costs;
  apex_dec cap;
  apex_err rc = APEX_OK;
  apex_session *ss = calloc(1, sizeof *ss);

  *out = NULL;
  if (!ss)
    return fail(err, APEX_ENOMEM, "session");
  ss->st = st;
  ss->o = *o;
  ss->alloc = o->alloc ? o->alloc : plain_alloc;
  ss->free = o->free ? o->free : plain_free;
  ss->next_sample = SIZE_MAX;
  ss->prev_time = INT64_MIN;
  if (!(c->initial_capital > 0) || apex_dec_from_double(c->initial_capital, &cap) ||
      apex_dec_from_double(c->commission_pct, &costs.commission_pct) ||
      apex_dec_from_double(c->slippage_pct, &costs.slippage_pct) || apex_sim_broker_init(&ss->broker, &costs)) {
    rc = apex_error_set(err, APEX_EINVAL, "backtest: capital, commission or slippage out of range");
    goto out;
  }
  if (apex_engine_new(st, cap, &ss->eng, err)) {
    rc = apex_error_set(err, APEX_EINVAL, "backtest: risk_management values out of range");
    goto out;
  }
  if (!(ss->acc = apex_metrics_acc_new(c->initial_capital, o->periods_per_year ? o->periods_per_year : 252)))
    rc = fail(err, APEX_ENOMEM, "metrics");
out:
  if (rc)
    apex_session_free(ss);
  else
    *out = ss;
  return rc;
}

void apex_session_free(apex_session *ss)
{
  if (!ss)
    return;
  apex_engine_free(ss->eng);
  apex_metrics_acc_free(ss->acc);
  free(ss->trades);
  if (ss->equity)
    ss->free(ss->equity, ss->cap_equity * sizeof(double));
  free(ss);
}

/* Room for n more equity samples (the backtest knows its count up front; a paper session grows). */
static apex_err reserve_equity(apex_session *ss, size_t n)
{
  if (ss->n_equity + n <= ss->cap_equity)
    return APEX_OK;
  size_t cap = ss->n_equity + n;
  double *p = ss->alloc(cap * sizeof(double));
  if (!p)
    return APEX_ENOMEM;
  if (ss->equity) {
    memcpy(p, ss->equity, ss->n_equity * sizeof(double));
    ss->free(ss->equity, ss->cap_equity * sizeof(double));
  }
  ss->equity = p;
  ss->cap_equity = cap;
  return APEX_OK;
}

/* Samples at the traded candles' offsets 0, k, 2k, ... and at the last one. */
static apex_err sample_equity(apex_session *ss, size_t t, bool last, double equity)
{
  size_t k = ss->o.equity_every;
  if (t != ss->next_sample && !last)
    return APEX_OK;
  if (t == ss->next_sample)
    ss->next_sample += k;
  if (ss->n_equity == ss->cap_equity && reserve_equity(ss, ss->cap_equity ? ss->cap_equity : 64))
    return APEX_ENOMEM;
  ss->equity[ss->n_equity++] = equity;
  return APEX_OK;
}

/* One candle's close; cold paths out of line so the backtest's streaming loop, which inlines it,
 * stays tight. out may be NULL. */
static apex_err __attribute__((noinline, cold)) step_refused(const apex_session *ss, const apex_bar *bar,
                                                             apex_error *err)
{
  return apex_error_set(err, APEX_EINVAL, "backtest: candle at %lld: %s", (long long)bar->time,
                        ss->ended                        ? "after the session's last one"
                        : bar->time >= ss->o.cfg.end_ms ? "at or after the end date"
                                                         : "not after the previous candle");
}

static apex_err __attribute__((noinline, cold)) step_warm(apex_session *ss, const apex_bar *bar, bool last,
                                                          apex_session_out *out)
{
  apex_engine_warm(ss->eng, bar);
  if (out) {
    out->orders.n = 0;
    out->orders.closed = false;
    out->trades = 0;
    out->equity = 0;
    out->warmup = true;
  }
  ss->t++;
  ss->ended = last;
  return APEX_OK;
}

/* A stale candle's new orders are refused: the engine forgets them and records why. */
static void __attribute__((noinline, cold)) refuse_stale(apex_session *ss, apex_engine_out *eo)
{
  for (size_t i = 0; i < eo->n; i++)
    if (eo->intent[i].kind == APEX_INTENT_SUBMIT)
      apex_engine_on_reject(ss->eng, eo->intent[i].order.id, APEX_REFUSE_STALE);
  eo->n = 0;
}

static void __attribute__((noinline, cold)) step_start(apex_session *ss)
{
  ss->trading = true;
  ss->first_bar = ss->t;
  ss->next_sample = ss->o.equity_every ? ss->t : SIZE_MAX;
}

static inline __attribute__((always_inline)) apex_err step(apex_session *ss, const apex_bar *bar, bool last,
                                                           bool stale, apex_session_out *out, apex_error *err)
{
  apex_engine_out local;
  apex_engine_out *eo = out ? &out->orders : &local;
  const size_t t = ss->t;
  apex_err rc;

  if (__builtin_expect(ss->ended || bar->time <= ss->prev_time || bar->time >= ss->o.cfg.end_ms, 0))
    return step_refused(ss, bar, err);
  ss->prev_time = bar->time;
  if (__builtin_expect(bar->time < ss->o.cfg.start_ms, 0)) /* earlier candles warm the indicators up */
    return step_warm(ss, bar, last, out);
  if (__builtin_expect(!ss->trading, 0))
    step_start(ss);
  size_t before = ss->n_trades;
  ss->t = t + 1;
  ss->ended = last;
  if (!apex_sim_broker_idle(&ss->broker, &bar->low, &bar->high) &&
      (rc = apex_sim_broker_bar(&ss->broker, ss->eng, bar, t, push_trade, ss)))
    return fill_fail(err, rc);
  if (last &&
      (rc = apex_sim_broker_close(&ss->broker, ss->eng, APEX_EXIT_END_OF_DATA, bar->close, t, bar->time, push_trade, ss)))
    return fill_fail(err, rc);
  if ((rc = apex_engine_on_bar(ss->eng, bar, eo)))
    return fill_fail(err, rc);
  if (__builtin_expect(stale && eo->n, 0))
    refuse_stale(ss, eo);
  if (eo->n && !last) /* a signal on the last candle is not acted on */
    apex_sim_broker_take(&ss->broker, eo);
  double equity = apex_engine_equity(ss->eng);
  if (ss->o.on_bar)
    ss->o.on_bar(ss->o.on_bar_ctx, t, apex_engine_cash(ss->eng), apex_engine_position(ss->eng), equity);
  if ((rc = apex_metrics_acc_bar(ss->acc, bar->time, equity, apex_engine_in_market(ss->eng))))
    return fill_fail(err, rc);
  if ((t == ss->next_sample || last) && (rc = sample_equity(ss, t, last, equity)))
    return fail(err, rc, "equity curve");
  if (out) {
    out->trades = ss->n_trades - before;
    out->equity = equity;
    out->warmup = false;
  }
  return APEX_OK;
}

apex_err apex_session_step(apex_session *ss, const apex_bar *bar, bool last, apex_session_out *out,
                           apex_error *err)
{
  return step(ss, bar, last, false, out, err);
}

apex_err apex_session_step_stale(apex_session *ss, const apex_bar *bar, apex_session_out *out, apex_error *err)
{
  return step(ss, bar, false, true, out, err);
}

const apex_bt_trade *apex_session_trades(const apex_session *ss, size_t *n)
{
  *n = ss->n_trades;
  return ss->trades;
}

const apex_engine *apex_session_engine(const apex_session *ss) { return ss->eng; }

apex_err apex_session_refuse(apex_session *ss, uint64_t order_id, apex_refusal_kind why)
{
  apex_sim_broker *b = &ss->broker;
  for (size_t i = 0; i < b->n_market; i++)
    if (b->market[i].id == order_id) {
      memmove(&b->market[i], &b->market[i + 1], (b->n_market - i - 1) * sizeof b->market[0]);
      b->n_market--;
      apex_engine_on_reject(ss->eng, order_id, why);
      return APEX_OK;
    }
  return APEX_ENOTFOUND;
}
size_t apex_session_candles(const apex_session *ss) { return ss->t; }

apex_err apex_session_finish(apex_session *ss, apex_backtest_result *out, apex_error *err)
{
  apex_err rc;

  memset(out, 0, sizeof *out);
  if (!ss->trading)
    return apex_error_set(err, APEX_EDATA, "backtest: no candles between the start and end dates");
  if (!ss->ended)
    return apex_error_set(err, APEX_EINVAL, "backtest: the session has not had its last candle");
  if ((rc = apex_metrics_acc_finish(ss->acc, &out->metrics)))
    return fail(err, rc, "metrics");
  out->trades = ss->trades;
  out->n_trades = ss->n_trades;
  ss->trades = NULL;
  ss->n_trades = ss->cap_trades = 0;
  if (ss->n_equity) {
    out->equity = ss->equity;
    out->n_equity = ss->n_equity;
    out->release = ss->free;
    /* release() is told n_equity doubles: hand over exactly that many */
    if (ss->cap_equity != ss->n_equity) {
      double *p = ss->alloc(ss->n_equity * sizeof(double));
      if (!p) {
        memset(out, 0, sizeof *out);
        return fail(err, APEX_ENOMEM, "equity curve");
      }
      memcpy(p, ss->equity, ss->n_equity * sizeof(double));
      out->equity = p;
    } else {
      ss->equity = NULL;
      ss->n_equity = ss->cap_equity = 0;
    }
  }
  out->first_bar = ss->first_bar;
  out->bars = ss->t - ss->first_bar;
  out->warmup = apex_ruleset_warmup(ss->st->rules);
  out->halted = apex_engine_halted(ss->eng, &out->halted_time);
  out->final_cash = apex_engine_cash(ss->eng);
  out->total_commission = apex_engine_commission(ss->eng);
  out->fills = apex_engine_fills(ss->eng);
  return APEX_OK;
}

/* The batch path's indicator columns, owned by one run. */
typedef struct columns {
  const double **slots;
  double **owned; /* slot arrays this run allocated, owned_bytes each */
  size_t n_owned, owned_bytes;
  void *(*alloc)(size_t bytes);
  void (*free)(void *p, size_t bytes);
} columns;

/* Computes every dependency over candles [0, n) into slot arrays; price fields point at the series. */
static apex_err compute_slots(columns *cl, const apex_strategy *st, const apex_series *s, size_t n)
{
  const apex_ruleset *rs = st->rules;
  size_t nslots = apex_ruleset_nslots(rs), ndeps = apex_ruleset_ndeps(rs);
  apex_series view = *s;
  view.n = n;
  cl->slots = calloc(nslots ? nslots : 1, sizeof *cl->slots);
  cl->owned = calloc(nslots ? nslots : 1, sizeof *cl->owned);
  if (!cl->slots || !cl->owned)
    return APEX_ENOMEM;
  for (size_t k = 0; k < ndeps; k++) {
    const apex_rule_dep *d = apex_ruleset_dep(rs, k);
    const char *nm = d->ind->name;
    const double *col = !strcmp(nm, "close")    ? s->close
                        : !strcmp(nm, "open")   ? s->open
                        : !strcmp(nm, "high")   ? s->high
                        : !strcmp(nm, "low")    ? s->low
                        : !strcmp(nm, "volume") ? s->volume
                                                : NULL;
    if (col) { /* no copy of a column we already have */
      cl->slots[d->first_slot] = col;
      continue;
    }
    double *outs[APEX_IND_MAX_OUTPUTS] = {0};
    cl->owned_bytes = (n ? n : 1) * sizeof(double);
    for (int o = 0; o < d->ind->n_outputs; o++) {
      outs[o] = cl->alloc(cl->owned_bytes);
      if (!outs[o])
        return APEX_ENOMEM;
      cl->owned[cl->n_owned++] = outs[o];
      cl->slots[d->first_slot + (size_t)o] = outs[o];
    }
    d->ind->batch(&view, d->params, outs);
  }
  return APEX_OK;
}

static void columns_free(columns *cl)
{
  for (size_t k = 0; k < cl->n_owned; k++)
    cl->free(cl->owned[k], cl->owned_bytes);
  free(cl->owned);
  free((void *)cl->slots);
}

/* Candles [t0, t1) of the batch path: the session step's work for candles whose indicator values
 * are in the columns, reading a whole candle only when the broker needs it. Equal to stepping them
 * (tests/unit/test_backtest_properties.c); kept apart because it is the fast path. */
static apex_err batch_candles(apex_session *ss, const apex_series *s, size_t t0, size_t t1, size_t last,
                              apex_error *err)
{
  apex_engine_out eo;
  apex_err rc;
  /* Fields in locals: the loop calls out of this file, so they would be reloaded per candle. */
  apex_engine *const eng = ss->eng;
  apex_sim_broker *const broker = &ss->broker;
  apex_metrics_acc *const acc = ss->acc;
  void (*const on_bar)(void *ctx, size_t bar, apex_dec cash, apex_dec position, double equity) = ss->o.on_bar;
  void *const on_bar_ctx = ss->o.on_bar_ctx;
  double *const curve = ss->equity;
  const size_t every = ss->o.equity_every;
  size_t next_sample = ss->next_sample, n_sampled = ss->n_equity;

  for (size_t t = t0; t < t1; t++) {
    /* Most candles fill nothing and need only their close and time: the whole candle is read only
     * when the broker needs it. */
    if (!apex_sim_broker_idle(broker, s->low + t, s->high + t)) {
      apex_bar bar = apex_series_bar(s, t);
      if ((rc = apex_sim_broker_bar(broker, eng, &bar, t, push_trade, ss)))
        return fill_fail(err, rc);
    }
    if (t == last &&
        (rc = apex_sim_broker_close(broker, eng, APEX_EXIT_END_OF_DATA, s->close[t], t, s->time[t], push_trade, ss)))
      return fill_fail(err, rc);
    if ((rc = apex_engine_on_close(eng, s->time[t], s->close[t], &eo)))
      return fill_fail(err, rc);
    if (eo.n && t < last) /* a signal on the last candle is not acted on */
      apex_sim_broker_take(broker, &eo);
    double equity = apex_engine_equity(eng);
    if (on_bar)
      on_bar(on_bar_ctx, t, apex_engine_cash(eng), apex_engine_position(eng), equity);
    if ((rc = apex_metrics_acc_bar(acc, s->time[t], equity, apex_engine_in_market(eng))))
      return fill_fail(err, rc);
    if (t == next_sample) { /* room reserved up front */
      curve[n_sampled++] = equity;
      next_sample = last - t > every ? t + every : last;
    }
  }
  ss->next_sample = next_sample;
  ss->n_equity = n_sampled;
  ss->t = t1;
  ss->prev_time = s->time[t1 - 1];
  ss->ended = t1 == last + 1;
  return APEX_OK;
}

/* The backtest is a driver: each candle through the session (engine, simulated broker, metrics,
 * equity samples), in batch form with precomputed indicator columns, or stepped as paper trading
 * steps it. */
apex_err apex_backtest_run(const apex_strategy *st, const apex_series *s, const apex_backtest_opts *o,
                           apex_backtest_result *out, apex_error *err)
{
  const apex_backtest_config *c = &o->cfg;
  apex_session *ss = NULL;
  columns cl = {.alloc = o->alloc ? o->alloc : plain_alloc, .free = o->free ? o->free : plain_free};
  apex_err rc;

  memset(out, 0, sizeof *out);
  size_t b0 = 0, b1 = s->n;
  while (b0 < s->n && s->time[b0] < c->start_ms)
    b0++;
  while (b1 > b0 && s->time[b1 - 1] >= c->end_ms)
    b1--;
  if (b1 == b0)
    return apex_error_set(err, APEX_EDATA, "backtest: no candles between the start and end dates");
  if ((rc = apex_session_new(st, o, &ss, err)))
    return rc;
  const bool streaming = o->streaming;
  if (!streaming) {
    if ((rc = compute_slots(&cl, st, s, b1))) {
      rc = fail(err, rc, "indicators");
      goto out;
    }
    apex_engine_use_columns(ss->eng, cl.slots);
  }
  size_t k = o->equity_every, n = b1 - b0;
  if (k && (rc = reserve_equity(ss, (n - 1) / k + 1 + ((n - 1) % k != 0)))) {
    rc = fail(err, rc, "equity curve");
    goto out;
  }

  const size_t last = b1 - 1;
  const size_t chunk = (b1 - b0) / 100 ? (b1 - b0) / 100 : 1;
  for (size_t t = 0; t < b0; t++) { /* earlier candles warm the indicators up */
    apex_bar bar = apex_series_bar(s, t);
    if ((rc = apex_session_step(ss, &bar, false, NULL, err)))
      goto out;
  }
  if (!streaming) { /* what the first traded step sets */
    ss->trading = true;
    ss->first_bar = b0;
    ss->next_sample = o->equity_every ? b0 : SIZE_MAX;
  }
  for (size_t t0 = b0; t0 < b1; t0 += chunk) {
    if (o->cancel && atomic_load_explicit(o->cancel, memory_order_relaxed)) {
      rc = apex_error_set(err, APEX_ECANCELED, "backtest: cancelled");
      goto out;
    }
    if (o->progress)
      o->progress(o->progress_ctx, 100.0 * (double)(t0 - b0) / (double)(b1 - b0), s->time[t0]);
    size_t t1 = t0 + chunk < b1 ? t0 + chunk : b1;
    if (!streaming) {
      if ((rc = batch_candles(ss, s, t0, t1, last, err)))
        goto out;
      continue;
    }
    for (size_t t = t0; t < t1; t++) { /* apex_session_step's own code, inlined */
      apex_bar bar = apex_series_bar(s, t);
      if ((rc = step(ss, &bar, t == last, false, NULL, err)))
        goto out;
    }
  }
  if (o->progress)
    o->progress(o->progress_ctx, 100.0, s->time[last]);
  rc = apex_session_finish(ss, out, err);
out:
  columns_free(&cl);
  apex_session_free(ss);
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
