/* engine.c - the streaming strategy engine (engine.h). Each indicator output is written twice into
 * a ring of 2 x depth doubles (at i and i + depth), so the newest `depth` values are always one
 * contiguous run and the rule evaluator reads them with plain offsets from fixed ring bases: only
 * the index moves, so a candle costs no pointer updates and no division. */
#include "core/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ind/ind.h"
#include "core/ledger.h"

/* Everything that is not a pointer: snapshotted as one block. */
typedef struct eng_state {
  uint64_t bars, next_id;
  double peak, equity;
  double cash_d, qty_d;     /* the ledger's cash and position as doubles, refreshed on each fill */
  int64_t halted_time;
  bool halted, has_stop, has_target, in_trade;
  apex_order entry, exit;   /* pending market orders; id 0 when none */
  apex_exit_reason exit_why;
  apex_order stop, target;  /* the open position's protective orders */
  apex_bt_trade open;       /* the trade being built */
  int64_t last_time;        /* the last close judged */
  int64_t rate_day;         /* UTC day (ms / 86400000) that entries_today counts */
  uint32_t entries_today;
  uint64_t n_refusals;      /* ever recorded; the newest APEX_ENGINE_REFUSALS kept in refusal[] */
  apex_refusal refusal[APEX_ENGINE_REFUSALS];
} eng_state;

/* One indicator instance, with what a candle needs at hand (no walk through the ruleset). */
typedef struct eng_dep {
  void (*update)(void *st, const apex_bar *b, double *out);
  void *state;     /* 16-byte aligned */
  size_t size;     /* bytes, rounded up to 16 */
  double *ring;    /* output 0's ring; output o's is o x 2 x depth further */
  int n_outputs;
} eng_dep;

struct apex_engine {
  const apex_strategy *st;
  apex_ledger *led;
  apex_dec fraction, sl_pct, tp_pct;
  size_t ndeps, nslots, depth, warm;
  eng_dep *dep;          /* ndeps */
  double *ring;          /* nslots x 2 x depth */
  const double **view;   /* per slot: its ring's base, read at index pos + depth */
  const double *const *cols; /* batch mode: whole columns indexed by candle number, else NULL */
  size_t pos;            /* ring index of the newest candle: (bars - 1) mod depth, kept, not divided */
  eng_state s;
};

#define SNAP_MAGIC UINT64_C(0x31474e4558455041) /* "APEXENG1" */

typedef struct snap_head {
  uint64_t magic, bytes, ndeps, nslots, depth, state_bytes, eng_bytes;
} snap_head;

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static void refresh(apex_engine *e)
{
  e->s.cash_d = apex_dec_to_double(apex_ledger_cash(e->led));
  e->s.qty_d = apex_dec_to_double(apex_ledger_position(e->led));
}


void apex_engine_free(apex_engine *e)
{
  if (!e)
    return;
  for (size_t k = 0; e->dep && k < e->ndeps; k++)
    free(e->dep[k].state);
  free(e->dep);
  free(e->ring);
  free((void *)e->view);
  apex_ledger_free(e->led);
  free(e);
}

static void init_indicators(apex_engine *e)
{
  for (size_t k = 0; k < e->ndeps; k++) {
    const apex_rule_dep *d = apex_ruleset_dep(e->st->rules, k);
    d->ind->init(e->dep[k].state, d->params);
  }
  for (size_t i = 0; i < e->nslots * 2 * e->depth; i++)
    e->ring[i] = NAN;
  for (size_t k = 0; k < e->nslots; k++)
    e->view[k] = e->ring + k * 2 * e->depth;
  e->pos = e->depth - 1; /* the first candle goes to 0 */
}

apex_err apex_engine_new(const apex_strategy *st, apex_dec capital, apex_engine **out, apex_error *err)
{
  apex_engine *e = calloc(1, sizeof *e);
  apex_err rc = APEX_ENOMEM;

  *out = NULL;
  if (!e)
    goto fail;
  e->st = st;
  e->ndeps = apex_ruleset_ndeps(st->rules);
  e->nslots = apex_ruleset_nslots(st->rules);
  e->depth = apex_ruleset_depth(st->rules);
  e->warm = apex_ruleset_warmup(st->rules);
  e->s.next_id = 1;
  e->s.peak = e->s.equity = apex_dec_to_double(capital);
  if (capital <= 0 || apex_dec_from_double(st->risk.max_position_size, &e->fraction) ||
      apex_dec_from_double(st->risk.stop_loss_pct, &e->sl_pct) ||
      apex_dec_from_double(st->risk.take_profit_pct, &e->tp_pct) || e->fraction <= 0) {
    rc = APEX_EINVAL;
    apex_error_set(err, rc, "engine: capital or risk_management values out of range");
    goto out;
  }
  if ((rc = apex_ledger_new(capital, &e->led)))
    goto fail;
  refresh(e);
  rc = APEX_ENOMEM;
  e->dep = calloc(e->ndeps ? e->ndeps : 1, sizeof *e->dep);
  e->ring = malloc((e->nslots ? e->nslots : 1) * 2 * e->depth * sizeof *e->ring);
  e->view = calloc(e->nslots ? e->nslots : 1, sizeof *e->view);
  if (!e->dep || !e->ring || !e->view)
    goto fail;
  for (size_t k = 0; k < e->ndeps; k++) {
    const apex_rule_dep *d = apex_ruleset_dep(st->rules, k);
    eng_dep *ed = &e->dep[k];
    ed->update = d->ind->update;
    ed->size = round16(d->ind->state_size(d->params));
    ed->ring = e->ring + d->first_slot * 2 * e->depth;
    ed->n_outputs = d->ind->n_outputs;
    if (!(ed->state = aligned_alloc(16, ed->size)))
      goto fail;
    memset(ed->state, 0, ed->size);
  }
  init_indicators(e);
  *out = e;
  return APEX_OK;
fail:
  apex_error_set(err, rc, "engine: %s", apex_strerror(rc));
out:
  apex_engine_free(e);
  return rc;
}

void apex_engine_use_columns(apex_engine *e, const double *const *cols) { e->cols = cols; }

static void update_indicators(apex_engine *e, const apex_bar *bar)
{
  if (e->cols) {
    e->s.bars++;
    return;
  }
  size_t w = e->depth, pos = e->pos + 1 == w ? 0 : e->pos + 1;
  for (const eng_dep *d = e->dep, *end = d + e->ndeps; d < end; d++) {
    double v[APEX_IND_MAX_OUTPUTS];
    d->update(d->state, bar, v);
    double *r = d->ring + pos;
    r[0] = r[w] = v[0]; /* most indicators have one output: no loop for them */
    for (int o = 1; o < d->n_outputs; o++) {
      r += 2 * w;
      r[0] = r[w] = v[o];
    }
  }
  e->pos = pos;
  e->s.bars++;
}

void apex_engine_warm(apex_engine *e, const apex_bar *bar) { update_indicators(e, bar); }

/* Rules judged at candle `bar`: on the batch columns at that candle, or on the rings at the newest. */
static inline bool any_rule(const apex_engine *e, const int *idx, size_t n, size_t bar)
{
  const double *const *slots = e->cols ? e->cols : e->view;
  size_t at = e->cols ? bar : e->pos + e->depth;
  for (size_t i = 0; i < n; i++)
    if (apex_ruleset_eval_at(e->st->rules, (size_t)idx[i], slots, at, bar))
      return true;
  return false;
}

static void submit(apex_engine_out *out, const apex_order *o, apex_exit_reason why)
{
  out->intent[out->n++] = (apex_intent){APEX_INTENT_SUBMIT, *o, why};
}

static void cancel(apex_engine_out *out, uint64_t id)
{
  out->intent[out->n++] = (apex_intent){APEX_INTENT_CANCEL, {.id = id}, APEX_EXIT_SIGNAL};
}

static void clear_out(apex_engine_out *out)
{
  out->n = 0;
  out->closed = false;
}

static void refuse(apex_engine *e, apex_refusal_kind kind, int64_t time, apex_dec qty)
{
  e->s.refusal[e->s.n_refusals++ % APEX_ENGINE_REFUSALS] = (apex_refusal){kind, time, qty};
}

/* A market SELL of the whole position, created at the last candle seen. */
static void sell_all(apex_engine *e, apex_exit_reason why, apex_engine_out *out)
{
  apex_dec qty = apex_ledger_position(e->led);
  if (qty <= 0 || e->s.exit.id)
    return;
  e->s.exit = (apex_order){e->s.next_id++, APEX_SIDE_SELL, APEX_ORDER_MARKET, qty, 0,
                           (size_t)(e->s.bars ? e->s.bars - 1 : 0)};
  e->s.exit_why = why;
  submit(out, &e->s.exit, why);
}

/* Every decision at candle t's close, once the indicators have it: one function for both modes.
 * Forced inline: the batch backtest calls on_close 10^7 times and the extra call was ~8 % of it. */
__attribute__((always_inline)) static inline apex_err decide(apex_engine *e, size_t t, int64_t time, double close,
                                                             apex_engine_out *out)
{
  const double max_dd = e->st->risk.max_drawdown_pct;
  apex_err rc;

  clear_out(out);
  double equity = e->s.cash_d + e->s.qty_d * close;
  e->s.equity = equity;
  if (equity > e->s.peak)
    e->s.peak = equity;
  if (max_dd > 0 && !e->s.halted && (e->s.peak - equity) / e->s.peak * 100 > max_dd) {
    e->s.halted = true;
    e->s.halted_time = time;
    sell_all(e, APEX_EXIT_MAX_DRAWDOWN, out);
  }
  e->s.last_time = time;
  if (t < e->warm || e->s.exit.id)
    return APEX_OK;
  if (e->s.qty_d == 0) {
    if (e->s.entry.id || !any_rule(e, e->st->entry, e->st->n_entry, t))
      return APEX_OK;
    if (e->s.halted) { /* the signal is there, the guard says no */
      refuse(e, APEX_REFUSE_DRAWDOWN, time, 0);
      return APEX_OK;
    }
    apex_dec close_px, size;
    if ((rc = apex_dec_from_double(close, &close_px)) ||
        (rc = apex_ledger_target_qty(e->fraction, apex_ledger_cash(e->led), close_px, &size)))
      return rc;
    if (size <= 0) {
      refuse(e, APEX_REFUSE_CASH, time, 0);
      return APEX_OK;
    }
    const uint32_t max_day = e->st->risk.max_trades_per_day;
    if (max_day) {
      int64_t day = time >= 0 ? time / 86400000 : (time - 86399999) / 86400000;
      if (day != e->s.rate_day) {
        e->s.rate_day = day;
        e->s.entries_today = 0;
      }
      if (e->s.entries_today >= max_day) {
        refuse(e, APEX_REFUSE_ORDER_RATE, time, size);
        return APEX_OK;
      }
      e->s.entries_today++;
    }
    e->s.entry = (apex_order){e->s.next_id++, APEX_SIDE_BUY, APEX_ORDER_MARKET, size, 0, t};
    submit(out, &e->s.entry, APEX_EXIT_SIGNAL);
  } else if (any_rule(e, e->st->exit, e->st->n_exit, t)) {
    sell_all(e, APEX_EXIT_SIGNAL, out);
  }
  return APEX_OK;
}

apex_err apex_engine_on_bar(apex_engine *e, const apex_bar *bar, apex_engine_out *out)
{
  const size_t t = (size_t)e->s.bars;
  update_indicators(e, bar);
  return decide(e, t, bar->time, bar->close, out);
}

apex_err apex_engine_on_close(apex_engine *e, int64_t time, double close, apex_engine_out *out)
{
  if (!e->cols) {
    clear_out(out);
    return APEX_EINVAL;
  }
  return decide(e, (size_t)e->s.bars++, time, close, out);
}

apex_err apex_engine_exit_levels(const apex_engine *e, apex_dec entry, apex_dec *stop, apex_dec *target)
{
  apex_dec off;
  apex_err rc;
  *stop = *target = 0;
  if (e->sl_pct > 0) {
    if ((rc = apex_dec_pct(entry, e->sl_pct, &off)))
      return rc;
    if (entry - off > 0)
      *stop = entry - off;
  }
  if (e->tp_pct > 0 && ((rc = apex_dec_pct(entry, e->tp_pct, &off)) || (rc = apex_dec_add(entry, off, target))))
    return rc;
  return APEX_OK;
}

/* The stop and target of a position entered at price, live from the entry candle on. */
static apex_err arm_exits(apex_engine *e, apex_dec price, apex_dec qty, size_t signal_bar, apex_engine_out *out)
{
  apex_dec stop, target;
  apex_err rc = apex_engine_exit_levels(e, price, &stop, &target);
  e->s.has_stop = e->s.has_target = false;
  if (rc)
    return rc;
  if (e->sl_pct > 0) { /* the id is taken even when the stop falls to 0 and is not placed */
    e->s.stop = (apex_order){e->s.next_id++, APEX_SIDE_SELL, APEX_ORDER_STOP_LOSS, qty, stop, signal_bar};
    if ((e->s.has_stop = stop > 0))
      submit(out, &e->s.stop, APEX_EXIT_STOP_LOSS);
  }
  if (target) {
    e->s.target = (apex_order){e->s.next_id++, APEX_SIDE_SELL, APEX_ORDER_TAKE_PROFIT, qty, target, signal_bar};
    e->s.has_target = true;
    submit(out, &e->s.target, APEX_EXIT_TAKE_PROFIT);
  }
  return APEX_OK;
}

apex_err apex_engine_on_fill(apex_engine *e, const apex_fill *f, apex_engine_out *out)
{
  apex_err rc;
  clear_out(out);
  if (e->s.entry.id && f->order_id == e->s.entry.id) {
    if (f->side != APEX_SIDE_BUY || f->qty > e->s.entry.qty)
      return APEX_EINVAL;
    if ((rc = apex_ledger_apply(e->led, f)))
      return rc;
    refresh(e);
    size_t signal_bar = e->s.entry.created_bar;
    e->s.entry.id = 0;
    e->s.in_trade = true;
    e->s.open = (apex_bt_trade){.entry_bar = f->bar_index, .entry_time = f->time, .qty = f->qty,
                                .entry_price = f->price, .entry_commission = f->commission};
    return arm_exits(e, f->price, f->qty, signal_bar, out);
  }
  apex_exit_reason why;
  if (e->s.exit.id && f->order_id == e->s.exit.id)
    why = e->s.exit_why;
  else if (e->s.has_stop && f->order_id == e->s.stop.id)
    why = APEX_EXIT_STOP_LOSS;
  else if (e->s.has_target && f->order_id == e->s.target.id)
    why = APEX_EXIT_TAKE_PROFIT;
  else
    return APEX_EINVAL;
  if (f->side != APEX_SIDE_SELL || f->qty != apex_ledger_position(e->led) || !e->s.in_trade)
    return APEX_EINVAL;
  apex_bt_trade tr = e->s.open;
  apex_dec in_notional, out_notional;
  if ((rc = apex_dec_mul(tr.qty, tr.entry_price, &in_notional)) || (rc = apex_dec_mul(f->qty, f->price, &out_notional)))
    return rc;
  if ((rc = apex_ledger_apply(e->led, f)))
    return rc;
  refresh(e);
  tr.exit_bar = f->bar_index;
  tr.exit_time = f->time;
  tr.exit_price = f->price;
  tr.exit_commission = f->commission;
  tr.gross_pnl = out_notional - in_notional;
  tr.net_pnl = tr.gross_pnl - tr.entry_commission - tr.exit_commission;
  tr.reason = why;
  if (e->s.has_stop && f->order_id != e->s.stop.id)
    cancel(out, e->s.stop.id);
  if (e->s.has_target && f->order_id != e->s.target.id)
    cancel(out, e->s.target.id);
  if (e->s.exit.id && f->order_id != e->s.exit.id)
    cancel(out, e->s.exit.id);
  e->s.has_stop = e->s.has_target = e->s.in_trade = false;
  e->s.exit.id = 0;
  out->closed = true;
  out->trade = tr;
  return APEX_OK;
}

void apex_engine_on_reject(apex_engine *e, uint64_t id, apex_refusal_kind why)
{
  if (e->s.entry.id == id) {
    refuse(e, why, e->s.last_time, e->s.entry.qty);
    e->s.entry.id = 0;
  }
  else if (e->s.exit.id == id)
    e->s.exit.id = 0;
  else if (e->s.has_stop && e->s.stop.id == id)
    e->s.has_stop = false;
  else if (e->s.has_target && e->s.target.id == id)
    e->s.has_target = false;
}

void apex_engine_close_all(apex_engine *e, apex_exit_reason why, apex_engine_out *out)
{
  clear_out(out);
  sell_all(e, why, out);
}

size_t apex_engine_bars_seen(const apex_engine *e) { return (size_t)e->s.bars; }
apex_dec apex_engine_cash(const apex_engine *e) { return apex_ledger_cash(e->led); }
apex_dec apex_engine_position(const apex_engine *e) { return apex_ledger_position(e->led); }
apex_dec apex_engine_commission(const apex_engine *e) { return apex_ledger_commission(e->led); }
size_t apex_engine_fills(const apex_engine *e) { return apex_ledger_fills(e->led); }
double apex_engine_equity(const apex_engine *e) { return e->s.equity; }
bool apex_engine_in_market(const apex_engine *e) { return e->s.qty_d > 0; }

uint64_t apex_engine_refusal_count(const apex_engine *e) { return e->s.n_refusals; }

const apex_refusal *apex_engine_refusal(const apex_engine *e, uint64_t seq)
{
  if (seq >= e->s.n_refusals || e->s.n_refusals - seq > APEX_ENGINE_REFUSALS)
    return NULL;
  return &e->s.refusal[seq % APEX_ENGINE_REFUSALS];
}

bool apex_engine_open_trade(const apex_engine *e, apex_bt_trade *out)
{
  if (e->s.in_trade && out)
    *out = e->s.open;
  return e->s.in_trade;
}

const char *apex_refusal_name(apex_refusal_kind k)
{
  switch (k) {
  case APEX_REFUSE_CASH: return "insufficient_cash";
  case APEX_REFUSE_DRAWDOWN: return "drawdown_halt";
  case APEX_REFUSE_ORDER_RATE: return "order_rate";
  case APEX_REFUSE_OPEN_POSITIONS: return "max_open_positions";
  case APEX_REFUSE_STALE: return "stale_candle";
  case APEX_REFUSE_PORTFOLIO_CASH: return "insufficient_portfolio_cash";
  }
  return "unknown";
}

bool apex_engine_halted(const apex_engine *e, int64_t *when)
{
  if (when)
    *when = e->s.halted_time;
  return e->s.halted;
}

static size_t state_bytes(const apex_engine *e)
{
  size_t n = 0;
  for (size_t k = 0; k < e->ndeps; k++)
    n += e->dep[k].size;
  return n;
}

size_t apex_engine_snapshot_size(const apex_engine *e)
{
  return sizeof(snap_head) + sizeof(eng_state) + sizeof(apex_ledger_state) + state_bytes(e) +
         e->nslots * 2 * e->depth * sizeof(double);
}

void apex_engine_snapshot(const apex_engine *e, void *buf)
{
  unsigned char *p = buf;
  snap_head h = {SNAP_MAGIC, apex_engine_snapshot_size(e), e->ndeps, e->nslots, e->depth, state_bytes(e),
                 sizeof(eng_state)};
  apex_ledger_state ls;
  apex_ledger_save(e->led, &ls);
  memcpy(p, &h, sizeof h);
  p += sizeof h;
  memcpy(p, &e->s, sizeof e->s);
  p += sizeof e->s;
  memcpy(p, &ls, sizeof ls);
  p += sizeof ls;
  for (size_t k = 0; k < e->ndeps; k++) {
    memcpy(p, e->dep[k].state, e->dep[k].size);
    p += e->dep[k].size;
  }
  memcpy(p, e->ring, e->nslots * 2 * e->depth * sizeof(double));
}

/* Indicator states point into themselves (rings after the struct). A fresh init sets those
 * pointers for this memory; every other word comes from the image. */
static void restore_state(void *dst, const unsigned char *src, size_t bytes)
{
  uintptr_t lo = (uintptr_t)dst, hi = lo + bytes;
  unsigned char *d = dst;
  for (size_t i = 0; i + sizeof(uintptr_t) <= bytes; i += sizeof(uintptr_t)) {
    uintptr_t w;
    memcpy(&w, d + i, sizeof w);
    if (!(w >= lo && w < hi))
      memcpy(d + i, src + i, sizeof w);
  }
}

apex_err apex_engine_restore(apex_engine *e, const void *buf, size_t len)
{
  const unsigned char *p = buf;
  snap_head h;
  eng_state s;
  apex_ledger_state ls;

  if (len != apex_engine_snapshot_size(e))
    return APEX_EINVAL;
  memcpy(&h, p, sizeof h);
  if (h.magic != SNAP_MAGIC || h.bytes != len || h.ndeps != e->ndeps || h.nslots != e->nslots ||
      h.depth != e->depth || h.state_bytes != state_bytes(e) || h.eng_bytes != sizeof(eng_state))
    return APEX_EINVAL;
  p += sizeof h;
  memcpy(&s, p, sizeof s);
  p += sizeof s;
  memcpy(&ls, p, sizeof ls);
  p += sizeof ls;
  if (!(s.peak > 0) || s.next_id == 0)
    return APEX_EINVAL;
  if (apex_ledger_load(e->led, &ls))
    return APEX_EINVAL;
  e->s = s;
  refresh(e);
  init_indicators(e);
  for (size_t k = 0; k < e->ndeps; k++) {
    restore_state(e->dep[k].state, p, e->dep[k].size);
    p += e->dep[k].size;
  }
  memcpy(e->ring, p, e->nslots * 2 * e->depth * sizeof(double));
  e->pos = (size_t)((e->s.bars + e->depth - 1) % e->depth);
  return APEX_OK;
}
