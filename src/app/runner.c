/* runner.c - active strategies stepped on closed candles, their results stored (runner.h). */
#include "app/runner.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ids.h"
#include "core/session.h"
#include "core/timeframe.h"
#include "sys/log.h"

#define RATE_NONE INT64_MIN

typedef struct pf {
  apex_id id;
  char base[4];
  apex_dec cash;        /* in base */
  apex_dec stored_cash; /* as the store has it: written only when cash differs */
  bool touched;         /* an equity point is due at this candle */
  apex_dec positions;   /* equity_points' sum of the open positions, in base */
  size_t pt_slot;       /* 1 + its equity point at pt_time in the batch; 0: none */
  int64_t pt_time;
} pf;

typedef struct run {
  apex_run_row row;
  apex_strategy *st;
  apex_session *ss;
  pf *pf;
  int64_t tf_ms;
  uint64_t entry_id, exit_id; /* market orders waiting for the next open (engine ids), 0: none */
  uint64_t pos_entry_id;      /* the open position's entry order */
  apex_dec entry_qty;         /* as ordered */
  bool in_trade;
  size_t trades_done;
  uint64_t refusals_done;
  double last_close;
  int64_t rate_day;           /* UTC day of rate */
  apex_dec rate;              /* quote -> base */
  int64_t *outside;           /* rebuild: times of stored refusals made outside the engine */
  apex_refusal_kind *outside_kind;
  size_t n_outside;
  bool failed;
  bool live;        /* mode live: orders go to the venue (app/live.c), fills come from there */
  char venue[16];   /* live: the broker key's exchange */
  size_t prog_slot; /* 1 + its progress row in the batch being built; 0: none yet */
  size_t pos_slot;  /* 1 + its latest position row in that batch; 0: none yet */
} run;

/* What the candles of one call write, in one transaction. */
typedef struct batch {
  apex_paper_candle *candles;
  size_t n_candles, cap_candles;
  apex_run_progress *prog;
  size_t n_prog, cap_prog;
  apex_equity_point *pts;
  size_t n_pts, cap_pts;
  apex_portfolio_trade_row *trades;
  size_t n_trades, cap_trades;
  apex_position_row *positions;
  size_t n_positions, cap_positions;
  apex_risk_event_row *risk;
  size_t n_risk, cap_risk;
  apex_live_order_row *live; /* orders of live runs, stored (and so sent) before the rest commits */
  size_t n_live, cap_live;
} batch;

/* A run's timeframe built from the feed's finer candles (a 1h strategy on a 1m replay): the
 * bucket being filled, emitted as a closed candle once its last sub-candle has come (or the
 * next bucket's first has). */
typedef struct agg {
  char symbol[APEX_MARKET_SYMBOL_MAX + 1], timeframe[8], from_tf[8];
  apex_timeframe tf;
  int64_t bucket; /* start of the bucket in bar; INT64_MIN: none */
  apex_bar bar;
} agg;

typedef struct last_price {
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  apex_ticker t;
} last_price;

struct apex_runner {
  apex_app *app;
  apex_runner_options o;
  run **runs;
  size_t n_runs;
  pf **pfs;
  size_t n_pfs;
  last_price *prices;
  size_t n_prices;
  agg *aggs;
  size_t n_aggs;
  agg *live; /* the feed's candles built up to the chart timeframes (LIVE_TF), for the candles channel */
  size_t n_live;
  pthread_mutex_t mu; /* runs, portfolios, prices: the thread and apex_runner_on_candle callers */
  pthread_t thread;
  bool started;
  atomic_int stop, reload;
};

static const apex_dec ONE = APEX_DEC_SCALE;

/* --- ids: one per (run, role, order), so a rewrite of the same order is an upsert --- */
static void derived_id(apex_runner *r, const char *run_id, char tag, uint64_t n, apex_id out)
{
  char text[96];
  snprintf(text, sizeof text, "%s:%c:%" PRIu64, run_id, tag, n);
  apex_app_name_id(r->app->auth.token_hash, text, out);
}

#define PUSH(arr, n, cap, item)                                                                                    \
  do {                                                                                                             \
    if ((n) == (cap)) {                                                                                            \
      size_t c_ = (cap) ? (cap) * 2 : 16;                                                                          \
      void *p_ = realloc((arr), c_ * sizeof *(arr));                                                               \
      if (!p_)                                                                                                     \
        return APEX_ENOMEM;                                                                                        \
      (arr) = p_;                                                                                                  \
      (cap) = c_;                                                                                                  \
    }                                                                                                              \
    (arr)[(n)++] = (item);                                                                                         \
  } while (0)

static void batch_free(batch *b)
{
  free(b->candles);
  free(b->prog);
  free(b->pts);
  free(b->trades);
  free(b->positions);
  free(b->risk);
  free(b->live);
  memset(b, 0, sizeof *b);
}

/* --- runs --- */
static void run_free(run *rn)
{
  if (!rn)
    return;
  apex_session_free(rn->ss);
  apex_strategy_free(rn->st);
  apex_run_row_clear(&rn->row);
  free(rn->outside);
  free(rn->outside_kind);
  free(rn);
}

static pf *portfolio(apex_runner *r, const char *id, apex_error *err)
{
  for (size_t i = 0; i < r->n_pfs; i++)
    if (!strcmp(r->pfs[i]->id, id))
      return r->pfs[i];
  apex_portfolio_row row;
  if (apex_store_portfolio_get(r->app->store, NULL, id, &row, err))
    return NULL;
  pf *p = calloc(1, sizeof *p);
  pf **grown = realloc(r->pfs, (r->n_pfs + 1) * sizeof *grown);
  if (!p || !grown) {
    free(p);
    if (grown)
      r->pfs = grown;
    apex_portfolio_row_clear(&row);
    apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
    return NULL;
  }
  r->pfs = grown;
  snprintf(p->id, sizeof p->id, "%s", row.id);
  snprintf(p->base, sizeof p->base, "%s", row.base_currency);
  p->cash = p->stored_cash = row.cash_balance;
  apex_portfolio_row_clear(&row);
  r->pfs[r->n_pfs++] = p;
  return p;
}

/* The options a run's session takes: the backtest's, with the run's capital and costs and its
 * first traded candle. */
static void run_opts(const run *rn, apex_backtest_opts *o)
{
  apex_backtest_opts_init(o, rn->st);
  o->cfg.start_ms = rn->row.start_time ? rn->row.start_time : INT64_MAX - 1;
  o->cfg.end_ms = INT64_MAX;
  o->cfg.initial_capital = apex_dec_to_double(rn->row.capital);
  o->cfg.commission_pct = apex_dec_to_double(rn->row.commission_pct);
  o->cfg.slippage_pct = apex_dec_to_double(rn->row.slippage_pct);
}

/* The quote -> base rate for the UTC day of t (cached per day). */
static apex_err rate_at(apex_runner *r, run *rn, int64_t t, apex_dec *out, apex_error *err)
{
  int64_t day = t / 86400000;
  if (rn->rate_day != day) {
    apex_app_error e = {0};
    int64_t when;
    apex_dec rate;
    /* A replay of candles older than every stored rate converts at the newest one. */
    if (apex_app_fx_rate(r->app, rn->row.quote_currency, rn->row.base_currency, t, &rate, &when, &e) &&
        apex_app_fx_rate(r->app, rn->row.quote_currency, rn->row.base_currency, r->app->now_ms(), &rate, &when, &e))
      return apex_error_set(err, APEX_EDATA, "runner: %s", e.detail);
    rn->rate = rate;
    rn->rate_day = day;
  }
  *out = rn->rate;
  return APEX_OK;
}

static apex_err to_base(apex_runner *r, run *rn, int64_t t, apex_dec quote, apex_dec *out, apex_error *err)
{
  apex_dec rate;
  apex_err rc = rate_at(r, rn, t, &rate, err);
  if (rc)
    return rc;
  if (rate == ONE) {
    *out = quote;
    return APEX_OK;
  }
  return apex_dec_mul(quote, rate, out) ? apex_error_set(err, APEX_EOVERFLOW, "runner: amount out of range")
                                        : APEX_OK;
}

static apex_portfolio_trade_row order_row(apex_runner *r, const run *rn, char tag, uint64_t n, const char *side,
                                          const char *type)
{
  apex_portfolio_trade_row t = {0};
  derived_id(r, rn->row.id, tag, n, t.id);
  snprintf(t.user_id, sizeof t.user_id, "%s", rn->row.user_id);
  snprintf(t.portfolio_id, sizeof t.portfolio_id, "%s", rn->row.portfolio_id);
  snprintf(t.strategy_id, sizeof t.strategy_id, "%s", rn->row.strategy_id);
  snprintf(t.symbol, sizeof t.symbol, "%s", rn->row.symbol);
  snprintf(t.side, sizeof t.side, "%s", side);
  snprintf(t.order_type, sizeof t.order_type, "%s", type);
  t.price = t.filled_price = t.realized_pnl = APEX_DEC_NONE;
  t.is_paper = strcmp(rn->row.mode, "live") != 0;
  return t;
}

/* A protective order of the position rn->pos_entry_id, stored while it rests ("open") and when it
 * ends: filled (its exit) or cancelled (the position ended otherwise). Tags: 's' stop, 't' target. */
static apex_portfolio_trade_row protective_row(apex_runner *r, const run *rn, bool stop, apex_dec qty, apex_dec price,
                                               const char *status, int64_t created)
{
  apex_portfolio_trade_row t = order_row(r, rn, stop ? 's' : 't', rn->pos_entry_id, "SELL",
                                         stop ? "STOP_LOSS" : "TAKE_PROFIT");
  t.quantity = qty;
  t.price = price;
  snprintf(t.status, sizeof t.status, "%s", status);
  t.created_at = t.submitted_at = created;
  return t;
}

/* A live run's order at close_time: stored pending, sent by app/live.c. Its client order id is its
 * trades id, derived from (run, role, engine order), so the candle stepped again after a crash makes
 * the same order, which the store keeps once. A SELL closes whatever the run holds at the venue. */
static apex_err live_order(apex_runner *r, const run *rn, char tag, uint64_t n, bool buy, apex_dec qty,
                           int64_t close_time, batch *b)
{
  apex_live_order_row o = {0};
  o.t = order_row(r, rn, tag, n, buy ? "BUY" : "SELL", "MARKET");
  o.t.quantity = qty;
  snprintf(o.t.status, sizeof o.t.status, "pending");
  o.t.created_at = close_time;
  snprintf(o.client_order_id, sizeof o.client_order_id, "%s", o.t.id);
  snprintf(o.run_id, sizeof o.run_id, "%s", rn->row.id);
  snprintf(o.api_key_id, sizeof o.api_key_id, "%s", rn->row.api_key_id);
  snprintf(o.venue, sizeof o.venue, "%s", rn->venue);
  o.close_position = !buy;
  o.signal_time = close_time;
  o.updated_at = r->app->now_ms();
  PUSH(b->live, b->n_live, b->cap_live, o);
  return APEX_OK;
}

/* A run's position row into the batch, replacing the one of the same position already there:
 * a batch of many candles marks a position at each, and the store wants each key once. */
static apex_err put_position(batch *b, run *rn, const apex_position_row *p)
{
  if (rn->pos_slot && !strcmp(b->positions[rn->pos_slot - 1].id, p->id)) {
    b->positions[rn->pos_slot - 1] = *p;
    return APEX_OK;
  }
  PUSH(b->positions, b->n_positions, b->cap_positions, *p);
  rn->pos_slot = b->n_positions;
  return APEX_OK;
}

static const char *exit_type(apex_exit_reason why)
{
  return why == APEX_EXIT_STOP_LOSS ? "STOP_LOSS" : why == APEX_EXIT_TAKE_PROFIT ? "TAKE_PROFIT" : "MARKET";
}

static apex_position_row position_row(apex_runner *r, const run *rn, uint64_t entry_id, const apex_bt_trade *tr,
                                      int64_t now)
{
  apex_position_row p = {0};
  derived_id(r, rn->row.id, 'p', entry_id, p.id);
  snprintf(p.portfolio_id, sizeof p.portfolio_id, "%s", rn->row.portfolio_id);
  snprintf(p.symbol, sizeof p.symbol, "%s", rn->row.symbol);
  p.quantity = tr->qty;
  p.average_entry_price = tr->entry_price;
  p.current_price = p.unrealized_pnl = p.unrealized_pnl_pct = APEX_DEC_NONE;
  p.is_open = true;
  p.opened_at = tr->entry_time;
  p.updated_at = now;
  return p;
}

/* Marks an open position at price: unrealized P&L (price - entry) x qty, and its percent. */
static void mark(apex_position_row *p, apex_dec price)
{
  apex_dec pnl, pct;
  p->current_price = price;
  if (apex_dec_mul(price - p->average_entry_price, p->quantity, &pnl))
    return;
  p->unrealized_pnl = pnl;
  if (p->average_entry_price > 0 && !apex_dec_div(price - p->average_entry_price, p->average_entry_price, &pct) &&
      !apex_dec_mul(pct, 100 * ONE, &pct))
    p->unrealized_pnl_pct = pct;
}

/* A fill's effect on the portfolio's cash, in base: -(notional + commission) for a buy. */
static apex_err book_cash(apex_runner *r, run *rn, int64_t t, apex_dec qty, apex_dec px, apex_dec fee, bool buy,
                          apex_error *err)
{
  apex_dec notional, delta, base;
  if (apex_dec_mul(qty, px, &notional))
    return apex_error_set(err, APEX_EOVERFLOW, "runner: notional out of range");
  delta = buy ? -(notional + fee) : notional - fee;
  apex_err rc = to_base(r, rn, t, delta, &base, err);
  if (!rc)
    rn->pf->cash += base;
  return rc;
}

static bool refused_outside(const run *rn, int64_t t, apex_refusal_kind *kind)
{
  for (size_t i = 0; i < rn->n_outside; i++)
    if (rn->outside[i] == t) {
      *kind = rn->outside_kind[i];
      return true;
    }
  return false;
}

static size_t open_positions(const apex_runner *r, const pf *p)
{
  size_t n = 0;
  for (size_t i = 0; i < r->n_runs; i++)
    if (r->runs[i]->pf == p && (r->runs[i]->in_trade || r->runs[i]->entry_id))
      n++;
  return n;
}

/* The checks a portfolio makes on a new entry: open positions and shared cash. */
static bool portfolio_refuses(apex_runner *r, run *rn, const apex_order *o, double close, apex_refusal_kind *kind,
                              apex_error *err)
{
  uint32_t max_open = rn->st->risk.max_open_positions;
  if (max_open && open_positions(r, rn->pf) >= max_open) {
    *kind = APEX_REFUSE_OPEN_POSITIONS;
    return true;
  }
  apex_dec px, notional, base;
  if (apex_dec_from_double(close, &px) || apex_dec_mul(o->qty, px, &notional) ||
      to_base(r, rn, rn->row.last_time, notional, &base, err))
    return false;
  if (base > rn->pf->cash) {
    *kind = APEX_REFUSE_PORTFOLIO_CASH;
    return true;
  }
  return false;
}

static const char *refusal_detail(apex_refusal_kind k)
{
  switch (k) {
  case APEX_REFUSE_CASH: return "the entry's size rounds to nothing with the strategy's cash";
  case APEX_REFUSE_DRAWDOWN: return "the strategy is halted: equity fell more than max_drawdown_pct below its peak";
  case APEX_REFUSE_ORDER_RATE: return "max_trades_per_day entries already made this UTC day";
  case APEX_REFUSE_OPEN_POSITIONS: return "the portfolio already holds max_open_positions positions";
  case APEX_REFUSE_STALE: return "the candle closed too long ago to act on (the server was down)";
  case APEX_REFUSE_PORTFOLIO_CASH: return "the portfolio's cash cannot pay for the entry";
  }
  return "refused";
}

/* One candle through one run. b NULL: a rebuild (state only, nothing written, outside decisions
 * taken from the stored refusals). */
static apex_err step_run(apex_runner *r, run *rn, const apex_bar *bar, bool stale, batch *b, apex_error *err)
{
  apex_session_out out;
  size_t nt0, nt1;
  apex_session_trades(rn->ss, &nt0);
  const bool was_in = rn->in_trade;
  /* A live run writes no simulated fill, position or cash: those come from the venue. */
  batch *pb = rn->live ? NULL : b;
  apex_err rc = stale ? apex_session_step_stale(rn->ss, bar, &out, err) : apex_session_step(rn->ss, bar, false, &out, err);
  if (rc)
    return rc;
  const apex_engine *e = apex_session_engine(rn->ss);
  const apex_bt_trade *trades = apex_session_trades(rn->ss, &nt1);
  apex_bt_trade open;
  const bool in_now = apex_engine_open_trade(e, &open);
  const int64_t close_time = bar->time + rn->tf_ms;
  rn->last_close = bar->close;
  rn->row.last_time = bar->time;
  rn->row.candles++;
  if (!out.warmup && !rn->row.start_time)
    rn->row.start_time = bar->time;

  bool entered = false; /* the waiting entry filled during this candle */
  for (size_t k = nt0; k < nt1; k++) {
    const apex_bt_trade *tr = &trades[k];
    if (k == nt0 && !was_in) { /* entered and left within this candle */
      entered = true;
      rn->pos_entry_id = rn->entry_id;
      rn->entry_id = 0;
      if (pb) {
        apex_portfolio_trade_row t = order_row(r, rn, 'o', rn->pos_entry_id, "BUY", "MARKET");
        t.quantity = rn->entry_qty;
        t.filled_quantity = tr->qty;
        t.filled_price = tr->entry_price;
        t.commission = tr->entry_commission;
        snprintf(t.status, sizeof t.status, "filled");
        t.created_at = t.submitted_at = tr->entry_time; /* placed at the signal's close = this open */
        t.filled_at = tr->entry_time;
        PUSH(b->trades, b->n_trades, b->cap_trades, t);
        if ((rc = book_cash(r, rn, tr->entry_time, tr->qty, tr->entry_price, tr->entry_commission, true, err)))
          return rc;
      }
    }
    const bool stop_exit = tr->reason == APEX_EXIT_STOP_LOSS, target_exit = tr->reason == APEX_EXIT_TAKE_PROFIT;
    const bool market_exit = !stop_exit && !target_exit;
    apex_dec stop, target; /* where this position's protective orders rested (0: none) */
    if ((rc = apex_engine_exit_levels(e, tr->entry_price, &stop, &target)))
      return apex_error_set(err, rc, "runner: stop or target out of range");
    if (pb) {
      apex_portfolio_trade_row t = market_exit ? order_row(r, rn, 'o', rn->exit_id, "SELL", "MARKET")
                                               : order_row(r, rn, stop_exit ? 's' : 't', rn->pos_entry_id, "SELL",
                                                           exit_type(tr->reason));
      t.quantity = t.filled_quantity = tr->qty;
      t.filled_price = tr->exit_price;
      t.commission = tr->exit_commission;
      t.realized_pnl = tr->net_pnl;
      snprintf(t.status, sizeof t.status, "filled");
      t.created_at = t.submitted_at = market_exit ? tr->exit_time : tr->entry_time;
      t.filled_at = tr->exit_time;
      if (!market_exit) /* the resting order's price (a gap fills beyond it) */
        t.price = stop_exit ? stop : target;
      PUSH(b->trades, b->n_trades, b->cap_trades, t);
      /* The protective orders this exit leaves behind are cancelled. */
      if (stop && !stop_exit) {
        apex_portfolio_trade_row c = protective_row(r, rn, true, tr->qty, stop, "cancelled", tr->entry_time);
        PUSH(b->trades, b->n_trades, b->cap_trades, c);
      }
      if (target && !target_exit) {
        apex_portfolio_trade_row c = protective_row(r, rn, false, tr->qty, target, "cancelled", tr->entry_time);
        PUSH(b->trades, b->n_trades, b->cap_trades, c);
      }
      apex_position_row p = position_row(r, rn, rn->pos_entry_id, tr, close_time);
      p.is_open = false;
      p.closed_at = tr->exit_time;
      mark(&p, tr->exit_price);
      if ((rc = put_position(b, rn, &p)))
        return rc;
      if ((rc = book_cash(r, rn, tr->exit_time, tr->qty, tr->exit_price, tr->exit_commission, false, err)))
        return rc;
    }
    if (market_exit)
      rn->exit_id = 0;
    else if (rn->live && b && (rc = live_order(r, rn, 'x', rn->pos_entry_id, false, tr->qty, close_time, b)))
      return rc; /* the simulated stop or target was reached: the venue's position is sold at this close */
  }
  if (in_now && !was_in && nt1 == nt0) { /* entered, still in */
    entered = true;
    rn->pos_entry_id = rn->entry_id;
    rn->entry_id = 0;
    if (pb) {
      apex_portfolio_trade_row t = order_row(r, rn, 'o', rn->pos_entry_id, "BUY", "MARKET");
      t.quantity = rn->entry_qty;
      t.filled_quantity = open.qty;
      t.filled_price = open.entry_price;
      t.commission = open.entry_commission;
      snprintf(t.status, sizeof t.status, "filled");
      t.created_at = t.submitted_at = t.filled_at = open.entry_time;
      PUSH(b->trades, b->n_trades, b->cap_trades, t);
      if ((rc = book_cash(r, rn, open.entry_time, open.qty, open.entry_price, open.entry_commission, true, err)))
        return rc;
    }
  }
  if (rn->entry_id && !entered) { /* refused at the open: nothing affordable */
    if (pb) {
      apex_portfolio_trade_row t = order_row(r, rn, 'o', rn->entry_id, "BUY", "MARKET");
      t.quantity = rn->entry_qty;
      snprintf(t.status, sizeof t.status, "failed");
      t.created_at = t.submitted_at = bar->time;
      PUSH(b->trades, b->n_trades, b->cap_trades, t);
    }
    rn->entry_id = 0;
  }
  rn->in_trade = in_now;
  if (pb && in_now && entered) { /* the new position's resting stop and target */
    apex_dec stop, target;
    if ((rc = apex_engine_exit_levels(e, open.entry_price, &stop, &target)))
      return apex_error_set(err, rc, "runner: stop or target out of range");
    if (stop) {
      apex_portfolio_trade_row t = protective_row(r, rn, true, open.qty, stop, "open", open.entry_time);
      PUSH(b->trades, b->n_trades, b->cap_trades, t);
    }
    if (target) {
      apex_portfolio_trade_row t = protective_row(r, rn, false, open.qty, target, "open", open.entry_time);
      PUSH(b->trades, b->n_trades, b->cap_trades, t);
    }
  }

  /* Orders placed at this close: stored before the next open can fill them. */
  for (size_t i = 0; i < out.orders.n; i++) {
    const apex_intent *it = &out.orders.intent[i];
    if (it->kind != APEX_INTENT_SUBMIT || it->order.type != APEX_ORDER_MARKET)
      continue;
    bool buy = it->order.side == APEX_SIDE_BUY;
    if (buy) {
      apex_refusal_kind why;
      bool refuse = rn->live ? false /* the venue's balance decides (app/live.c) */
                    : b      ? portfolio_refuses(r, rn, &it->order, bar->close, &why, err)
                             : refused_outside(rn, bar->time, &why);
      if (refuse) {
        apex_session_refuse(rn->ss, it->order.id, why);
        continue;
      }
      rn->entry_id = it->order.id;
      rn->entry_qty = it->order.qty;
    } else {
      rn->exit_id = it->order.id;
    }
    if (b && rn->live) {
      if ((rc = live_order(r, rn, 'o', it->order.id, buy, it->order.qty, close_time, b)))
        return rc;
    } else if (b) {
      apex_portfolio_trade_row t = order_row(r, rn, 'o', it->order.id, buy ? "BUY" : "SELL", "MARKET");
      t.quantity = it->order.qty;
      snprintf(t.status, sizeof t.status, "open");
      t.created_at = t.submitted_at = close_time;
      PUSH(b->trades, b->n_trades, b->cap_trades, t);
    }
  }

  /* Refusals since the last candle. */
  uint64_t nref = apex_engine_refusal_count(e);
  for (uint64_t s = rn->refusals_done; b && s < nref; s++) {
    const apex_refusal *f = apex_engine_refusal(e, s);
    if (!f)
      continue;
    apex_risk_event_row ev = {0};
    snprintf(ev.run_id, sizeof ev.run_id, "%s", rn->row.id);
    snprintf(ev.strategy_id, sizeof ev.strategy_id, "%s", rn->row.strategy_id);
    snprintf(ev.portfolio_id, sizeof ev.portfolio_id, "%s", rn->row.portfolio_id);
    ev.seq = (int64_t)s;
    ev.time = f->time;
    snprintf(ev.kind, sizeof ev.kind, "%s", apex_refusal_name(f->kind));
    snprintf(ev.detail, sizeof ev.detail, "%s", refusal_detail(f->kind));
    ev.quantity = f->qty ? f->qty : APEX_DEC_NONE;
    PUSH(b->risk, b->n_risk, b->cap_risk, ev);
  }
  rn->refusals_done = nref;

  if (pb && in_now) { /* marked at this close */
    apex_position_row p = position_row(r, rn, rn->pos_entry_id, &open, close_time);
    apex_dec px;
    if (!apex_dec_from_double(bar->close, &px))
      mark(&p, px);
    if ((rc = put_position(b, rn, &p)))
      return rc;
  }
  if (pb)
    rn->pf->touched = true;
  return APEX_OK;
}

/* --- loading and rebuilding --- */
static apex_err load_outside(apex_runner *r, run *rn, apex_error *err)
{
  enum { PAGE = 500 };
  apex_risk_event_row *rows = calloc(PAGE, sizeof *rows);
  apex_err rc = APEX_OK;
  if (!rows)
    return apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
  for (int page = 1;; page++) {
    size_t n;
    int64_t total;
    if ((rc = apex_store_risk_events(r->app->store, NULL, rn->row.strategy_id, page, PAGE, rows, &n, &total, err)))
      break;
    for (size_t i = 0; i < n; i++) {
      apex_refusal_kind k = !strcmp(rows[i].kind, "max_open_positions")            ? APEX_REFUSE_OPEN_POSITIONS
                            : !strcmp(rows[i].kind, "insufficient_portfolio_cash") ? APEX_REFUSE_PORTFOLIO_CASH
                                                                                   : 0;
      if (!k || strcmp(rows[i].run_id, rn->row.id))
        continue;
      int64_t *t = realloc(rn->outside, (rn->n_outside + 1) * sizeof *t);
      if (t)
        rn->outside = t;
      apex_refusal_kind *kk = realloc(rn->outside_kind, (rn->n_outside + 1) * sizeof *kk);
      if (kk)
        rn->outside_kind = kk;
      if (!t || !kk) {
        rc = apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
        goto out;
      }
      rn->outside[rn->n_outside] = rows[i].time;
      rn->outside_kind[rn->n_outside++] = k;
    }
    if (n < PAGE)
      break;
  }
out:
  free(rows);
  return rc;
}

/* The run's stored candles in [start, end), the last limit (0: all) of them, built from the
 * finest stored timeframe of its symbol that divides the run's (as the market endpoints do), so a
 * 1h run on a 1m feed warms up and rebuilds from the same candles: (*s)->[*first ..n). */
static apex_err history(apex_runner *r, const run *rn, int64_t start, int64_t end, size_t limit, apex_series **s,
                        size_t *first, apex_error *err)
{
  apex_app_error e = {0};
  *first = 0;
  if (!apex_app_market_candles(r->app, rn->row.symbol, rn->row.timeframe, start, end, limit, s, first, &e))
    return APEX_OK;
  if (e.code == 5001) /* nothing stored yet: no history */
    return (*s = apex_series_new(0)) ? APEX_OK : apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
  return apex_error_set(err, APEX_EDATA, "runner: history of %s %s: %s", rn->row.symbol, rn->row.timeframe, e.detail);
}

/* A run from its row (moved in): its strategy, session and portfolio; candles up to last_time
 * stepped again without writing. */
static apex_err open_run(apex_runner *r, apex_run_row *row, run **out, apex_error *err)
{
  run *rn = calloc(1, sizeof *rn);
  apex_series *s = NULL;
  apex_problems probs = {0};
  apex_err rc = APEX_OK;
  *out = NULL;
  if (!rn) {
    apex_run_row_clear(row);
    return apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
  }
  rn->row = *row;
  memset(row, 0, sizeof *row);
  rn->rate_day = RATE_NONE;
  apex_timeframe tf;
  if (apex_timeframe_parse(rn->row.timeframe, &tf, NULL) || !(rn->tf_ms = apex_timeframe_ms(tf))) {
    rc = apex_error_set(err, APEX_EINVAL, "run %s: bad timeframe %s", rn->row.id, rn->row.timeframe);
    goto out;
  }
  if ((rc = apex_strategy_parse(rn->row.definition, strlen(rn->row.definition), &rn->st, &probs))) {
    rc = apex_error_set(err, APEX_EINVAL, "run %s: the stored document does not parse", rn->row.id);
    goto out;
  }
  if (!(rn->pf = portfolio(r, rn->row.portfolio_id, err))) {
    rc = APEX_ENOTFOUND;
    goto out;
  }
  if ((rn->live = !strcmp(rn->row.mode, "live"))) {
    apex_api_key_row key = {0};
    if ((rc = apex_store_api_key_get(r->app->store, rn->row.user_id, rn->row.api_key_id, &key, err)))
      goto out; /* its key was deleted: the run fails rather than trade unseen */
    snprintf(rn->venue, sizeof rn->venue, "%.15s", key.exchange);
    apex_api_key_row_clear(&key);
  }
  apex_backtest_opts o;
  run_opts(rn, &o);
  if ((rc = apex_session_new(rn->st, &o, &rn->ss, err)))
    goto out;
  if (rn->row.last_time) {
    size_t first = 0;
    if ((rc = load_outside(r, rn, err)) ||
        (rc = history(r, rn, rn->row.warm_from, rn->row.last_time + rn->tf_ms, 0, &s, &first, err)))
      goto out;
    int64_t candles = rn->row.candles;
    rn->row.candles = 0;
    for (size_t i = first; i < s->n && !rc; i++) {
      apex_bar bar = apex_series_bar(s, i);
      rc = step_run(r, rn, &bar, false, NULL, err);
    }
    if (!rc && rn->row.candles != candles)
      rc = apex_error_set(err, APEX_EDATA, "run %s: %lld stored candles where %lld were stepped", rn->row.id,
                          (long long)rn->row.candles, (long long)candles);
  }
out:
  apex_series_free(s);
  if (rc)
    run_free(rn);
  else
    *out = rn;
  return rc;
}

/* The first candle of a new run: warm-up history from the store, the run's start fixed. */
static apex_err start_run(apex_runner *r, run *rn, const apex_bar *bar, apex_error *err)
{
  apex_series *s = NULL;
  size_t first = 0;
  apex_err rc = history(r, rn, INT64_MIN, bar->time, r->o.warm_max, &s, &first, err);
  if (rc)
    return rc;
  rn->row.start_time = bar->time;
  rn->row.warm_from = s->n > first ? s->time[first] : bar->time;
  apex_session_free(rn->ss);
  rn->ss = NULL;
  apex_backtest_opts o;
  run_opts(rn, &o);
  if (!(rc = apex_session_new(rn->st, &o, &rn->ss, err)))
    for (size_t i = first; i < s->n && !rc; i++) {
      apex_bar b = apex_series_bar(s, i);
      rc = apex_session_step(rn->ss, &b, false, NULL, err);
      rn->row.candles++;
    }
  apex_series_free(s);
  return rc;
}

static void drop_runs(apex_runner *r)
{
  for (size_t i = 0; i < r->n_runs; i++)
    run_free(r->runs[i]);
  free(r->runs);
  r->runs = NULL;
  r->n_runs = 0;
  for (size_t i = 0; i < r->n_pfs; i++)
    free(r->pfs[i]);
  free(r->pfs);
  r->pfs = NULL;
  r->n_pfs = 0;
}

static void log_failed(apex_runner *r, const char *run_id, const char *why)
{
  apex_error err;
  (void)apex_store_run_stop(r->app->store, run_id, "failed", why, r->app->now_ms(), &err);
}

/* Loads every running run; the ones already loaded keep their state. Caller holds mu. */
static apex_err reload_locked(apex_runner *r, apex_error *err)
{
  apex_run_row *rows = NULL;
  size_t n = 0;
  apex_err rc = apex_store_runs_running(r->app->store, &rows, &n, err);
  if (rc)
    return rc;
  run **next = calloc(n ? n : 1, sizeof *next);
  size_t m = 0;
  if (!next) {
    rc = apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    run *keep = NULL;
    for (size_t j = 0; j < r->n_runs; j++)
      if (r->runs[j] && !strcmp(r->runs[j]->row.id, rows[i].id)) {
        keep = r->runs[j];
        r->runs[j] = NULL;
      }
    if (!keep) {
      apex_error e2 = {0};
      char id[APEX_ID_LEN];
      snprintf(id, sizeof id, "%s", rows[i].id);
      if (open_run(r, &rows[i], &keep, &e2)) {
        log_failed(r, id, e2.msg);
        continue;
      }
      /* A feed without this timeframe (a replay of 1m candles for a 1h run) is fine: the run's
       * candles are built from the finer ones of its symbol (aggregate). */
      if (r->o.feed)
        (void)r->o.feed->ops->subscribe(r->o.feed->impl, keep->row.symbol, keep->row.timeframe, &e2);
    }
    next[m++] = keep;
  }
  for (size_t j = 0; j < r->n_runs; j++)
    run_free(r->runs[j]); /* stopped since */
  free(r->runs);
  r->runs = next;
  r->n_runs = m;
out:
  for (size_t i = 0; i < n; i++)
    apex_run_row_clear(&rows[i]);
  free(rows);
  return rc;
}

apex_err apex_runner_reload(apex_runner *r, apex_error *err)
{
  pthread_mutex_lock(&r->mu);
  atomic_store(&r->reload, 0);
  apex_err rc = reload_locked(r, err);
  pthread_mutex_unlock(&r->mu);
  return rc;
}

void apex_runner_notify(apex_runner *r)
{
  if (r)
    atomic_store(&r->reload, 1);
}

static void remember_price(apex_runner *r, const char *symbol, const apex_bar *bar, int64_t tf_ms)
{
  last_price *p = NULL;
  for (size_t i = 0; i < r->n_prices; i++)
    if (!strcmp(r->prices[i].symbol, symbol))
      p = &r->prices[i];
  if (!p) {
    last_price *grown = realloc(r->prices, (r->n_prices + 1) * sizeof *grown);
    if (!grown)
      return;
    r->prices = grown;
    p = &r->prices[r->n_prices++];
    memset(p, 0, sizeof *p);
    snprintf(p->symbol, sizeof p->symbol, "%s", symbol);
  }
  snprintf(p->t.symbol, sizeof p->t.symbol, "%s", symbol);
  p->t.time = bar->time + tf_ms;
  (void)apex_dec_from_double(bar->close, &p->t.last);
}

bool apex_runner_last_price(apex_runner *r, const char *symbol, apex_ticker *out)
{
  bool found = false;
  if (!r)
    return false;
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i < r->n_prices && !found; i++)
    if (!strcmp(r->prices[i].symbol, symbol)) {
      *out = r->prices[i].t;
      found = true;
    }
  pthread_mutex_unlock(&r->mu);
  return found;
}

/* Equity points at t of the portfolios this candle touched (cash + open positions at their last
 * close), replacing a point of the same portfolio and time already in the batch. */
static apex_err equity_points(apex_runner *r, int64_t t, batch *b, apex_error *err)
{
  for (size_t i = 0; i < r->n_pfs; i++)
    r->pfs[i]->positions = 0;
  for (size_t j = 0; j < r->n_runs; j++) {
    run *rn = r->runs[j];
    apex_dec px, value, base;
    if (!rn->pf || !rn->pf->touched || !rn->in_trade)
      continue;
    if (apex_dec_from_double(rn->last_close, &px) ||
        apex_dec_mul(apex_engine_position(apex_session_engine(rn->ss)), px, &value) ||
        to_base(r, rn, t, value, &base, err))
      return apex_error_set(err, APEX_EOVERFLOW, "runner: position value out of range");
    rn->pf->positions += base;
  }
  for (size_t i = 0; i < r->n_pfs; i++) {
    pf *p = r->pfs[i];
    if (!p->touched)
      continue;
    p->touched = false;
    apex_equity_point pt = {p->id, {t, p->cash + p->positions, p->cash, p->positions, APEX_DEC_NONE, APEX_DEC_NONE}};
    /* Its point at t, if the batch has one: the latest (pt_slot), or, for a coarser candle built
     * here (whose time is its bucket's start, earlier), one found by a search. Each key once. */
    size_t k = p->pt_slot && p->pt_time == t ? p->pt_slot : 0;
    for (size_t j = b->n_pts; !k && p->pt_slot && t < p->pt_time && j > 0; j--)
      if (b->pts[j - 1].portfolio_id == p->id && b->pts[j - 1].row.time == t)
        k = j;
    if (k) {
      b->pts[k - 1] = pt;
      continue;
    }
    PUSH(b->pts, b->n_pts, b->cap_pts, pt);
    if (!p->pt_slot || t > p->pt_time) {
      p->pt_slot = b->n_pts;
      p->pt_time = t;
    }
  }
  return APEX_OK;
}

/* Steps every run of symbol/timeframe on bar into b. A run that cannot go on stops; the others
 * carry on. Caller holds mu. */
static apex_err step_candle(apex_runner *r, const char *symbol, const char *timeframe, const apex_bar *bar, batch *b,
                            apex_error *err)
{
  bool any = false;
  for (size_t i = 0; i < r->n_runs && !any; i++)
    any = !strcmp(r->runs[i]->row.symbol, symbol) && !strcmp(r->runs[i]->row.timeframe, timeframe);
  if (!any)
    return APEX_OK;
  const int64_t now = r->app->now_ms();
  for (size_t i = 0; i < r->n_runs; i++) {
    run *rn = r->runs[i];
    if (rn->failed || strcmp(rn->row.symbol, symbol) || strcmp(rn->row.timeframe, timeframe) ||
        (rn->row.last_time && bar->time <= rn->row.last_time))
      continue;
    apex_error e2 = {0};
    apex_err rc2 = APEX_OK;
    if (!rn->row.start_time)
      rc2 = start_run(r, rn, bar, &e2);
    bool stale = r->o.live_clock && bar->time + 2 * rn->tf_ms < now;
    if (!rc2)
      rc2 = step_run(r, rn, bar, stale, b, &e2);
    if (rc2 == APEX_ENOMEM)
      return apex_error_set(err, rc2, "%s", e2.msg[0] ? e2.msg : "runner: out of memory");
    if (rc2) { /* this run cannot go on (bad data, no rate): it stops, the others carry on */
      rn->failed = true;
      log_failed(r, rn->row.id, e2.msg);
      continue;
    }
    apex_run_progress pg = {rn->row.id, rn->row.warm_from, rn->row.start_time, rn->row.last_time, rn->row.candles};
    if (rn->prog_slot)
      b->prog[rn->prog_slot - 1] = pg;
    else {
      PUSH(b->prog, b->n_prog, b->cap_prog, pg);
      rn->prog_slot = b->n_prog;
    }
  }
  return equity_points(r, bar->time, b, err);
}

/* The aggregator in *aggs for symbol at tf fed from from_tf (made when missing). Caller holds mu. */
static agg *aggregator(agg **aggs, size_t *n_aggs, const char *symbol, const char *tf_text, apex_timeframe tf,
                       const char *from_tf)
{
  for (size_t i = 0; i < *n_aggs; i++)
    if (!strcmp((*aggs)[i].symbol, symbol) && !strcmp((*aggs)[i].timeframe, tf_text) &&
        !strcmp((*aggs)[i].from_tf, from_tf))
      return &(*aggs)[i];
  agg *grown = realloc(*aggs, (*n_aggs + 1) * sizeof *grown);
  if (!grown)
    return NULL;
  *aggs = grown;
  agg *a = &(*aggs)[(*n_aggs)++];
  memset(a, 0, sizeof *a);
  snprintf(a->symbol, sizeof a->symbol, "%s", symbol);
  snprintf(a->timeframe, sizeof a->timeframe, "%s", tf_text);
  snprintf(a->from_tf, sizeof a->from_tf, "%s", from_tf);
  a->tf = tf;
  a->bucket = INT64_MIN;
  return a;
}

/* Feeds bar (closed, small_ms long) to a: the buckets it closes go to out (0 to 2 of them: the one
 * before, if it closed unseen, and a's own when bar is its last sub-candle). A bar older than
 * the bucket being filled is ignored. */
static size_t agg_feed(agg *a, const apex_bar *bar, int64_t small_ms, apex_bar out[2])
{
  size_t n = 0;
  int64_t bk = apex_timeframe_floor(a->tf, bar->time);
  if (a->bucket != INT64_MIN && bk > a->bucket) { /* the bucket before closed unseen */
    out[n++] = a->bar;
    a->bucket = INT64_MIN;
  }
  if (a->bucket == INT64_MIN) {
    a->bucket = bk;
    a->bar = *bar;
    a->bar.time = bk;
  } else if (bk == a->bucket) {
    a->bar.high = bar->high > a->bar.high ? bar->high : a->bar.high;
    a->bar.low = bar->low < a->bar.low ? bar->low : a->bar.low;
    a->bar.close = bar->close;
    a->bar.volume += bar->volume;
  }
  if (a->bucket != INT64_MIN && apex_timeframe_floor(a->tf, bar->time + small_ms) != a->bucket) {
    out[n++] = a->bar; /* the bucket's last sub-candle: it closes now */
    a->bucket = INT64_MIN;
  }
  return n;
}

/* Feeds bar (closed, of symbol at from_tf) to every coarser timeframe a run of symbol trades, and
 * steps the candles that closes into b; they are built from stored candles, so not stored
 * themselves. Caller holds mu. */
static apex_err aggregate(apex_runner *r, const char *symbol, const char *from_tf, const apex_bar *bar, batch *b,
                          apex_error *err)
{
  apex_timeframe small, big;
  if (apex_timeframe_parse(from_tf, &small, NULL))
    return APEX_OK;
  const int64_t small_ms = apex_timeframe_ms(small);
  apex_bar out[8];
  char out_tf[8][8];
  int64_t out_ms[8];
  size_t n_out = 0;
  for (size_t i = 0; i < r->n_runs && n_out < 8; i++) {
    const run *rn = r->runs[i];
    if (strcmp(rn->row.symbol, symbol) || !strcmp(rn->row.timeframe, from_tf) ||
        apex_timeframe_parse(rn->row.timeframe, &big, NULL) || !apex_timeframe_divides(small, big))
      continue;
    bool seen = false; /* one aggregator per timeframe, however many runs trade it */
    for (size_t k = 0; k < n_out; k++)
      seen |= !strcmp(out_tf[k], rn->row.timeframe);
    agg *a = seen ? NULL : aggregator(&r->aggs, &r->n_aggs, symbol, rn->row.timeframe, big, from_tf);
    if (!a || n_out + 2 > 8)
      continue;
    for (size_t k = agg_feed(a, bar, small_ms, &out[n_out]); k > 0; k--) {
      out_ms[n_out] = apex_timeframe_ms(a->tf);
      snprintf(out_tf[n_out++], sizeof out_tf[0], "%s", a->timeframe);
    }
  }
  apex_err rc = APEX_OK;
  for (size_t k = 0; k < n_out && !rc; k++) {
    remember_price(r, symbol, &out[k], out_ms[k]);
    rc = step_candle(r, symbol, out_tf[k], &out[k], b, err);
  }
  return rc;
}

/* --- live events: what a stored batch did, for the WebSocket clients (jobs/events.h) --- */

/* The timeframes the feed's candles are built up to for live charts, forming and closed. */
static const char *const LIVE_TF[] = {"5m", "15m", "1h", "4h", "1d"};

static void publish_candle(apex_runner *r, const char *symbol, const char *tf, const apex_bar *bar, bool closed)
{
  apex_event ev = {.kind = APEX_EVENT_CANDLE, .time_ms = r->app->now_ms()};
  snprintf(ev.u.candle.symbol, sizeof ev.u.candle.symbol, "%s", symbol);
  snprintf(ev.u.candle.timeframe, sizeof ev.u.candle.timeframe, "%s", tf);
  ev.u.candle.time_ms = bar->time;
  ev.u.candle.open = bar->open;
  ev.u.candle.high = bar->high;
  ev.u.candle.low = bar->low;
  ev.u.candle.close = bar->close;
  ev.u.candle.volume = bar->volume;
  ev.u.candle.closed = closed;
  apex_events_publish(r->app->events, &ev);
}

/* The pair's change over a day, in percent: bar's close against the close of the stored candle a
 * day before it (within an hour); NaN when there is none. */
static double change_24h(apex_runner *r, const char *symbol, const char *tf, const apex_bar *bar)
{
  apex_series *s = NULL;
  apex_error err = {0};
  double pct = NAN;
  const int64_t then = bar->time - 86400000;
  if (!apex_store_ohlcv_last(r->app->store, symbol, tf, then - 3600000, then + 1, 1, &s, &err) && s && s->n &&
      s->close[0] > 0)
    pct = (bar->close / s->close[0] - 1) * 100;
  apex_series_free(s);
  return pct;
}

/* A feed candle: the pair's ticker, the candle, and the chart timeframes it builds (their forming
 * candle, and each one it closes). */
static void publish_market(apex_runner *r, const apex_paper_candle *c)
{
  apex_timeframe small, big;
  if (apex_timeframe_parse(c->timeframe, &small, NULL))
    return;
  const int64_t small_ms = apex_timeframe_ms(small);
  apex_event ev = {.kind = APEX_EVENT_TICKER, .time_ms = r->app->now_ms()};
  snprintf(ev.u.ticker.symbol, sizeof ev.u.ticker.symbol, "%s", c->symbol);
  if (apex_dec_from_double(c->bar.close, &ev.u.ticker.price))
    return;
  ev.u.ticker.change_24h_pct = change_24h(r, c->symbol, c->timeframe, &c->bar);
  ev.u.ticker.time_ms = c->bar.time + small_ms;
  apex_events_publish(r->app->events, &ev);
  publish_candle(r, c->symbol, c->timeframe, &c->bar, true);
  for (size_t i = 0; i < sizeof LIVE_TF / sizeof *LIVE_TF; i++) {
    apex_bar closed[2];
    if (apex_timeframe_parse(LIVE_TF[i], &big, NULL) || apex_timeframe_ms(big) <= small_ms ||
        !apex_timeframe_divides(small, big))
      continue;
    agg *a = aggregator(&r->live, &r->n_live, c->symbol, LIVE_TF[i], big, c->timeframe);
    if (!a)
      continue;
    for (size_t k = 0, n = agg_feed(a, &c->bar, small_ms, closed); k < n; k++)
      publish_candle(r, c->symbol, LIVE_TF[i], &closed[k], true);
    if (a->bucket != INT64_MIN)
      publish_candle(r, c->symbol, LIVE_TF[i], &a->bar, false);
  }
}

/* The run a portfolio, strategy or run id belongs to (its user's), or NULL. */
static const run *run_of(const apex_runner *r, const char *portfolio_id, const char *run_id)
{
  for (size_t i = 0; i < r->n_runs; i++)
    if ((portfolio_id && !strcmp(r->runs[i]->row.portfolio_id, portfolio_id)) ||
        (run_id && !strcmp(r->runs[i]->row.id, run_id)))
      return r->runs[i];
  return NULL;
}

/* Everything the stored batch b did, published in order: market data, orders (and the signals
 * among them), refusals, then the portfolios' new figures. Nothing is published for a batch
 * that was not stored. */
void apex_app_publish_trade(apex_app *app, const apex_portfolio_trade_row *t)
{
  if (!app->events)
    return;
  bool filled = !strcmp(t->status, "filled");
  apex_event ev = {.kind = APEX_EVENT_TRADE, .time_ms = app->now_ms()};
  snprintf(ev.user_id, sizeof ev.user_id, "%s", t->user_id);
  snprintf(ev.u.trade.trade_id, sizeof ev.u.trade.trade_id, "%s", t->id);
  snprintf(ev.u.trade.portfolio_id, sizeof ev.u.trade.portfolio_id, "%s", t->portfolio_id);
  snprintf(ev.u.trade.strategy_id, sizeof ev.u.trade.strategy_id, "%s", t->strategy_id);
  snprintf(ev.u.trade.symbol, sizeof ev.u.trade.symbol, "%s", t->symbol);
  snprintf(ev.u.trade.side, sizeof ev.u.trade.side, "%s", t->side);
  snprintf(ev.u.trade.order_type, sizeof ev.u.trade.order_type, "%s", t->order_type);
  snprintf(ev.u.trade.status, sizeof ev.u.trade.status, "%s", t->status);
  ev.u.trade.quantity = filled && t->filled_quantity ? t->filled_quantity : t->quantity;
  ev.u.trade.price = filled && t->filled_price != APEX_DEC_NONE ? t->filled_price : t->price;
  ev.u.trade.commission = t->commission;
  ev.u.trade.time_ms = filled && t->filled_at ? t->filled_at : t->created_at;
  apex_events_publish(app->events, &ev);
}

static void publish_batch(apex_runner *r, const batch *b)
{
  apex_events *bus = r->app->events;
  if (!bus)
    return;
  for (size_t i = 0; i < b->n_candles; i++)
    publish_market(r, &b->candles[i]);
  for (size_t i = 0; i < b->n_trades + b->n_live; i++) {
    const apex_portfolio_trade_row *t = i < b->n_trades ? &b->trades[i] : &b->live[i - b->n_trades].t;
    apex_app_publish_trade(r->app, t);
    const bool placed = !strcmp(t->status, "open") || !strcmp(t->status, "pending");
    if (placed && !strcmp(t->order_type, "MARKET")) { /* a rule's signal, placed */
      apex_event sg = {.kind = APEX_EVENT_STRATEGY, .time_ms = r->app->now_ms()};
      snprintf(sg.user_id, sizeof sg.user_id, "%s", t->user_id);
      snprintf(sg.u.strategy.strategy_id, sizeof sg.u.strategy.strategy_id, "%s", t->strategy_id);
      snprintf(sg.u.strategy.symbol, sizeof sg.u.strategy.symbol, "%s", t->symbol);
      snprintf(sg.u.strategy.event, sizeof sg.u.strategy.event, "signal");
      snprintf(sg.u.strategy.side, sizeof sg.u.strategy.side, "%s", t->side);
      snprintf(sg.u.strategy.detail, sizeof sg.u.strategy.detail, "%s market order placed, %s", t->side,
               t->is_paper ? "filled at the next open" : "sent to the venue");
      sg.u.strategy.time_ms = t->created_at;
      apex_events_publish(bus, &sg);
    }
  }
  for (size_t i = 0; i < b->n_risk; i++) {
    const apex_risk_event_row *f = &b->risk[i];
    const run *rn = run_of(r, NULL, f->run_id);
    if (!rn)
      continue;
    apex_event ev = {.kind = APEX_EVENT_STRATEGY, .time_ms = r->app->now_ms()};
    snprintf(ev.user_id, sizeof ev.user_id, "%s", rn->row.user_id);
    snprintf(ev.u.strategy.strategy_id, sizeof ev.u.strategy.strategy_id, "%s", f->strategy_id);
    snprintf(ev.u.strategy.symbol, sizeof ev.u.strategy.symbol, "%s", rn->row.symbol);
    snprintf(ev.u.strategy.event, sizeof ev.u.strategy.event, "refused");
    snprintf(ev.u.strategy.reason, sizeof ev.u.strategy.reason, "%s", f->kind);
    snprintf(ev.u.strategy.detail, sizeof ev.u.strategy.detail, "%.*s", (int)sizeof ev.u.strategy.detail - 1, f->detail);
    ev.u.strategy.time_ms = f->time;
    apex_events_publish(bus, &ev);
  }
  for (size_t i = 0; i < b->n_pts; i++) {
    const apex_equity_point *p = &b->pts[i];
    const run *rn = run_of(r, p->portfolio_id, NULL);
    if (!rn)
      continue;
    apex_event ev = {.kind = APEX_EVENT_PORTFOLIO, .time_ms = r->app->now_ms()};
    snprintf(ev.user_id, sizeof ev.user_id, "%s", rn->row.user_id);
    snprintf(ev.u.portfolio.portfolio_id, sizeof ev.u.portfolio.portfolio_id, "%s", p->portfolio_id);
    snprintf(ev.u.portfolio.currency, sizeof ev.u.portfolio.currency, "%s", rn->row.base_currency);
    ev.u.portfolio.cash = p->row.cash_balance;
    ev.u.portfolio.positions = p->row.positions_value;
    ev.u.portfolio.equity = p->row.equity_value;
    ev.u.portfolio.time_ms = p->row.time;
    apex_events_publish(bus, &ev);
  }
}

/* The batch in one transaction, with the cash of every portfolio whose cash changed. */
static apex_err commit(apex_runner *r, const batch *b, apex_error *err)
{
  apex_cash_update *cash = calloc(r->n_pfs ? r->n_pfs : 1, sizeof *cash);
  size_t n_cash = 0;
  if (!cash)
    return apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
  const int64_t now = r->app->now_ms();
  for (size_t i = 0; i < r->n_pfs; i++)
    if (r->pfs[i]->cash != r->pfs[i]->stored_cash)
      cash[n_cash++] = (apex_cash_update){r->pfs[i]->id, r->pfs[i]->cash, now};
  /* Live orders first, each on its own: a crash after this stores them once (the candle is stepped
   * again and makes the same ids); the venue may hear of them before the candle commits. */
  bool any = false;
  for (size_t i = 0; i < b->n_live; i++) {
    bool added;
    apex_err lrc = apex_store_live_order_add(r->app->store, &b->live[i], &added, err);
    if (lrc) {
      free(cash);
      return lrc;
    }
    any |= added;
  }
  if (any)
    apex_live_notify(r->app->live);
  apex_paper_commit pc = {b->candles, b->n_candles, b->prog,   b->n_prog,   b->trades, b->n_trades, b->positions,
                          b->n_positions, cash, n_cash, b->pts, b->n_pts, b->risk,   b->n_risk};
  apex_err rc = apex_store_paper_commit(r->app->store, &pc, err);
  if (!rc)
    for (size_t i = 0; i < r->n_pfs; i++)
      r->pfs[i]->stored_cash = r->pfs[i]->cash;
  free(cash);
  return rc;
}

apex_err apex_runner_on_candles(apex_runner *r, const apex_market_event *evs, size_t n, apex_error *err)
{
  batch b = {0};
  apex_err rc = APEX_OK;
  pthread_mutex_lock(&r->mu);
  if (atomic_exchange(&r->reload, 0) && (rc = reload_locked(r, err)))
    goto out;
  for (size_t i = 0; i < r->n_runs; i++)
    r->runs[i]->prog_slot = r->runs[i]->pos_slot = 0;
  for (size_t i = 0; i < r->n_pfs; i++)
    r->pfs[i]->pt_slot = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    const apex_market_event *ev = &evs[i];
    apex_timeframe tf;
    if (ev->kind != APEX_MARKET_CANDLE)
      continue;
    if (apex_timeframe_parse(ev->timeframe, &tf, NULL)) {
      rc = apex_error_set(err, APEX_EINVAL, "runner: candle of %s with timeframe %s", ev->symbol, ev->timeframe);
      break;
    }
    remember_price(r, ev->symbol, &ev->bar, apex_timeframe_ms(tf));
    apex_paper_candle c = {ev->symbol, ev->timeframe, r->o.source, ev->bar};
    if (b.n_candles == b.cap_candles) {
      size_t cap = b.cap_candles ? 2 * b.cap_candles : 16;
      apex_paper_candle *grown = realloc(b.candles, cap * sizeof *grown);
      if (!grown) {
        rc = apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
        break;
      }
      b.candles = grown;
      b.cap_candles = cap;
    }
    b.candles[b.n_candles++] = c;
    if (!(rc = step_candle(r, ev->symbol, ev->timeframe, &ev->bar, &b, err)))
      rc = aggregate(r, ev->symbol, ev->timeframe, &ev->bar, &b, err);
  }
  if (rc == APEX_ENOMEM && !err->msg[0])
    apex_error_set(err, rc, "runner: out of memory");
  if (!rc && b.n_candles && !(rc = commit(r, &b, err)))
    publish_batch(r, &b);
  if (rc) { /* nothing was stored: the runs are rebuilt from the store on the next call */
    drop_runs(r);
    atomic_store(&r->reload, 1);
  }
out:
  pthread_mutex_unlock(&r->mu);
  batch_free(&b);
  return rc;
}

apex_err apex_runner_on_candle(apex_runner *r, const char *symbol, const char *timeframe, const apex_bar *bar,
                               apex_error *err)
{
  apex_market_event ev = {.kind = APEX_MARKET_CANDLE, .bar = *bar};
  if (strlen(symbol) >= sizeof ev.symbol || strlen(timeframe) >= sizeof ev.timeframe)
    return apex_error_set(err, APEX_EINVAL, "runner: symbol or timeframe too long");
  memcpy(ev.symbol, symbol, strlen(symbol) + 1);
  memcpy(ev.timeframe, timeframe, strlen(timeframe) + 1);
  return apex_runner_on_candles(r, &ev, 1, err);
}

/* After a restart on a live feed, the candles each run missed while the process was down: fetched
 * from the feed's venue, a page at a time, and stepped as the feed's would have been. Being older
 * than one timeframe they are stale (core/session.h: they fill and mark, place nothing), so the
 * sessions' state goes on as if the process had never stopped; the feed itself starts with the
 * candle open now, and a candle given twice is stepped once (last_time). */
static void catch_up(apex_runner *r)
{
  enum { PAIRS = 64, PAGE = 1000 };
  const apex_market *f = r->o.feed;
  struct {
    char symbol[APEX_MARKET_SYMBOL_MAX + 1], tf[8];
    int64_t since, tf_ms;
  } ps[PAIRS];
  size_t np = 0;
  if (!f || !r->o.live_clock || !f->ops->candles)
    return;
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i < r->n_runs; i++) {
    const run *rn = r->runs[i];
    if (!rn->row.start_time || rn->failed || !rn->row.last_time)
      continue;
    size_t k = 0;
    while (k < np && (strcmp(ps[k].symbol, rn->row.symbol) || strcmp(ps[k].tf, rn->row.timeframe)))
      k++;
    if (k == np && np == PAIRS)
      continue;
    if (k == np) {
      snprintf(ps[k].symbol, sizeof ps[k].symbol, "%s", rn->row.symbol);
      snprintf(ps[k].tf, sizeof ps[k].tf, "%s", rn->row.timeframe);
      ps[k].since = INT64_MAX;
      ps[k].tf_ms = rn->tf_ms;
      np++;
    }
    if (rn->row.last_time + rn->tf_ms < ps[k].since)
      ps[k].since = rn->row.last_time + rn->tf_ms;
  }
  pthread_mutex_unlock(&r->mu);
  apex_market_event *evs = calloc(PAGE, sizeof *evs);
  for (size_t k = 0; k < np && evs && !atomic_load(&r->stop); k++) {
    for (int64_t since = ps[k].since; !atomic_load(&r->stop);) {
      apex_error err = {0};
      apex_series *s = apex_series_new(PAGE);
      const int64_t now = r->app->now_ms();
      size_t n = 0;
      apex_err rc = s ? f->ops->candles(f->impl, ps[k].symbol, ps[k].tf, since, PAGE, s, &err) : APEX_ENOMEM;
      for (size_t i = 0; !rc && i < s->n && n < PAGE && s->time[i] >= since && s->time[i] + ps[k].tf_ms <= now; i++) {
        evs[n] = (apex_market_event){.kind = APEX_MARKET_CANDLE, .bar = apex_series_bar(s, i)};
        snprintf(evs[n].symbol, sizeof evs[n].symbol, "%s", ps[k].symbol);
        snprintf(evs[n].timeframe, sizeof evs[n].timeframe, "%s", ps[k].tf);
        n++;
      }
      apex_series_free(s);
      if (!rc && n)
        rc = apex_runner_on_candles(r, evs, n, &err);
      if (rc)
        apex_log_fields(APEX_LOG_WARN, "paper runner: catching up on missed candles failed; the feed goes on",
                        (apex_log_field[]){APEX_LOG_S("symbol", ps[k].symbol), APEX_LOG_S("timeframe", ps[k].tf),
                                           APEX_LOG_I("from_ms", since),
                                           APEX_LOG_S("error", err.msg[0] ? err.msg : "out of memory")},
                        4);
      if (rc || !n)
        break;
      since = evs[n - 1].bar.time + 1;
    }
  }
  free(evs);
}

/* Candles of one call at most: a live poll's pairs closing together. */
enum { BATCH_MAX = 256 };

static void *thread_main(void *arg)
{
  apex_runner *r = arg;
  apex_market_event *evs = calloc(BATCH_MAX, sizeof *evs);
  apex_market_event pending;
  bool have_pending = false;
  catch_up(r);
  int64_t reloaded = r->app->now_ms();
  while (evs && !atomic_load(&r->stop)) {
    apex_error err = {0};
    size_t n = 0;
    if (r->o.reload_every_ms > 0 && r->app->now_ms() - reloaded >= r->o.reload_every_ms) {
      atomic_store(&r->reload, 1);
      reloaded = r->app->now_ms();
    }
    if (atomic_load(&r->reload) && apex_runner_reload(r, &err))
      apex_log_fields(APEX_LOG_ERROR, "paper runner: loading the running strategies failed",
                      (apex_log_field[]){APEX_LOG_S("error", err.msg)}, 1);
    apex_app_fx_tick(r->app); /* fresh reference rates for the conversions, when a source is set */
    if (have_pending) {
      evs[n++] = pending;
      have_pending = false;
    } else {
      apex_err rc = r->o.feed ? r->o.feed->ops->next(r->o.feed->impl, 200, &evs[0], &err) : APEX_ETIMEOUT;
      if (rc == APEX_ETIMEOUT || rc == APEX_ENOTFOUND || rc == APEX_EINVAL) {
        if (!r->o.feed || rc != APEX_ETIMEOUT) {
          struct timespec ts = {0, 200 * 1000000L}; /* an ended replay, no feed, or no pair yet */
          nanosleep(&ts, NULL);
        }
        continue;
      }
      if (rc) {
        apex_log_fields(APEX_LOG_WARN, "paper runner: the market feed failed; trying again in 1 s",
                        (apex_log_field[]){APEX_LOG_S("error", err.msg)}, 1);
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        continue;
      }
      if (evs[0].kind == APEX_MARKET_CANDLE)
        n = 1;
    }
    /* The candles that closed with the first (other pairs of the same poll) join it in one
     * commit; the first that did not waits for the next call. */
    while (n && n < BATCH_MAX && !have_pending) {
      apex_error e2 = {0};
      if (r->o.feed->ops->next(r->o.feed->impl, 0, &pending, &e2))
        break;
      if (pending.kind != APEX_MARKET_CANDLE)
        continue;
      if (pending.bar.time == evs[0].bar.time && !strcmp(pending.timeframe, evs[0].timeframe))
        evs[n++] = pending;
      else
        have_pending = true;
    }
    if (n && apex_runner_on_candles(r, evs, n, &err))
      apex_log_fields(APEX_LOG_ERROR, "paper runner: candles not stored, the runs are rebuilt from the store",
                      (apex_log_field[]){APEX_LOG_I("candles", (int64_t)n), APEX_LOG_S("symbol", evs[0].symbol),
                                         APEX_LOG_S("timeframe", evs[0].timeframe),
                                         APEX_LOG_I("time_ms", evs[0].bar.time), APEX_LOG_S("error", err.msg)},
                      5);
  }
  free(evs);
  return NULL;
}

apex_err apex_runner_new(apex_app *app, const apex_runner_options *o, apex_runner **out, apex_error *err)
{
  apex_runner *r = calloc(1, sizeof *r);
  *out = NULL;
  if (!r)
    return apex_error_set(err, APEX_ENOMEM, "runner: out of memory");
  r->app = app;
  if (o)
    r->o = *o;
  if (!r->o.warm_max)
    r->o.warm_max = 5000;
  if (!r->o.source)
    r->o.source = "feed";
  pthread_mutex_init(&r->mu, NULL);
  *out = r;
  return APEX_OK;
}

apex_err apex_runner_start(apex_runner *r, apex_error *err)
{
  apex_err rc = apex_runner_reload(r, err);
  if (rc)
    return rc;
  if (pthread_create(&r->thread, NULL, thread_main, r))
    return apex_error_set(err, APEX_EIO, "runner: cannot start its thread");
  r->started = true;
  return APEX_OK;
}

void apex_runner_free(apex_runner *r)
{
  if (!r)
    return;
  atomic_store(&r->stop, 1);
  if (r->started)
    pthread_join(r->thread, NULL);
  drop_runs(r);
  free(r->prices);
  free(r->aggs);
  free(r->live);
  pthread_mutex_destroy(&r->mu);
  free(r);
}
