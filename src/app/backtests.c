/* backtests.c - backtest use cases: submit (validate, store pending, queue), get, cancel, and the job
 * that loads candles from the store, runs the core engine and stores results, trades and equity. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/ids.h"
#include "core/backtest.h"
#include "sys/bigbuf.h"
#include "core/backtest_json.h"
#include "core/resample.h"
#include "core/rule/rule.h"
#include "core/strategy.h"
#include "core/timeframe.h"

#define MAX_BODY (1u << 20)
#define BYTES_PER_CANDLE 160 /* the series twice (loaded and resampled) and the engine's per-candle state */
#define MAX_STORED 10000 /* equity points kept in the equity table (every candle up to that) */
#define MAX_CURVE 2000   /* points in the result's equity_curve */

static apex_err not_found(apex_app_error *e, const char *id)
{
  return apex_app_raise(e, APEX_E_NOT_FOUND, "no backtest %s", id);
}

/* The stored timeframe to read for the strategy's symbol and timeframe: the same one, or the
 * coarsest stored one that divides it (then resampled). *have_text "" when none is stored. Reads
 * the candle catalog, not the candles. */
static apex_err pick_timeframe(apex_app *app, const char *symbol, const char *tf_text, apex_timeframe *want,
                               apex_timeframe *have, char *have_text, size_t cap, int64_t *count, apex_error *err)
{
  apex_symbol_info *rows = NULL;
  size_t n = 0;
  apex_timeframe tf;
  apex_err rc;
  *have = (apex_timeframe){0, APEX_TF_NONE};
  have_text[0] = '\0';
  if (apex_timeframe_parse(tf_text, want, err))
    return APEX_EINVAL;
  if ((rc = apex_store_ohlcv_symbols(app->store, &rows, &n, err)))
    return rc;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(rows[i].symbol, symbol) || apex_timeframe_parse(rows[i].timeframe, &tf, NULL))
      continue;
    bool same = tf.n == want->n && tf.unit == want->unit;
    if (same || (apex_timeframe_divides(tf, *want) &&
                 (have->unit == APEX_TF_NONE || apex_timeframe_divides(*have, tf)))) { /* the coarsest */
      *have = tf;
      snprintf(have_text, cap, "%s", rows[i].timeframe);
      if (count)
        *count = rows[i].count;
      if (same)
        break;
    }
  }
  free(rows);
  return APEX_OK;
}

/* Candles for the strategy's symbol at its timeframe up to end, resampled when stored finer.
 * *out NULL when none are stored. */
static apex_err load_candles(apex_app *app, const char *symbol, const char *tf_text, int64_t end, apex_series **out,
                             apex_error *err)
{
  apex_timeframe want, have;
  char have_text[32];
  apex_series *s = NULL;
  apex_err rc;
  *out = NULL;
  if ((rc = pick_timeframe(app, symbol, tf_text, &want, &have, have_text, sizeof have_text, NULL, err)) ||
      !have_text[0])
    return rc;
  rc = apex_store_ohlcv_get(app->store, symbol, have_text, INT64_MIN, end, 0, &s, err);
  if (!rc && (have.n != want.n || have.unit != want.unit)) {
    apex_series *r = NULL;
    rc = apex_resample(s, have, want, &r, err);
    apex_series_free(s);
    s = r;
  }
  if (rc)
    apex_series_free(s);
  else
    *out = s;
  return rc;
}

/* At least two candles of the strategy's timeframe in [start, end), from two stored rows: the
 * first and the last of the range (the request thread reads nothing more; the job loads the
 * rest). Resampled, they must fall in two different periods. */
static apex_err enough_candles(apex_app *app, const char *symbol, const char *tf_text, int64_t start, int64_t end,
                               bool *enough, int64_t *stored, apex_error *err)
{
  apex_timeframe want, have;
  char have_text[32];
  apex_series *first = NULL, *last = NULL, *two = NULL, *r = NULL;
  apex_err rc;
  *enough = false;
  *stored = 0;
  if ((rc = pick_timeframe(app, symbol, tf_text, &want, &have, have_text, sizeof have_text, stored, err)) ||
      !have_text[0])
    return rc;
  if ((rc = apex_store_ohlcv_get(app->store, symbol, have_text, start, end, 1, &first, err)) ||
      (rc = apex_store_ohlcv_last(app->store, symbol, have_text, start, end, 1, &last, err)))
    goto out;
  if (!first->n || !last->n || first->time[0] == last->time[0])
    goto out;
  if (!(two = apex_series_new(2))) {
    rc = apex_error_set(err, APEX_ENOMEM, "out of memory");
    goto out;
  }
  apex_bar a = apex_series_bar(first, 0), b = apex_series_bar(last, 0);
  if ((rc = apex_series_append(two, &a)) || (rc = apex_series_append(two, &b)))
    goto out;
  if (have.n == want.n && have.unit == want.unit)
    *enough = true;
  else if (!(rc = apex_resample(two, have, want, &r, err)))
    *enough = r->n >= 2;
out:
  apex_series_free(first);
  apex_series_free(last);
  apex_series_free(two);
  apex_series_free(r);
  return rc;
}

apex_err apex_app_backtest_submit(apex_app *app, const char *user_id, const char *body, size_t len,
                                  apex_backtest_row *out, apex_app_error *e)
{
  *out = (apex_backtest_row){0};
  apex_json *doc = NULL;
  apex_strategy *st = NULL;
  apex_strategy_row srow = {0};
  apex_error err;
  apex_err rc = APEX_EINVAL;

  memset(out, 0, sizeof *out);
  if (apex_json_parse_strict(body, len, MAX_BODY, &doc, &err))
    return apex_app_raise(e, APEX_E_BAD_REQUEST, "%s", err.msg);
  const apex_json *sid = apex_json_object_get(doc, "strategy_id");
  const char *strategy_id = apex_json_string_value(sid);
  if (!strategy_id) {
    apex_problems_add(&e->problems, "/strategy_id", sid ? "must be a string" : "is required");
    apex_app_raise(e, APEX_E_VALIDATION, "strategy_id is required");
    goto out;
  }
  if (!apex_app_id_ok(strategy_id) || apex_store_strategy_get(app->store, user_id, strategy_id, &srow, &err)) {
    apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %s", strategy_id);
    goto out;
  }
  apex_problems probs = {0};
  if (apex_strategy_parse(srow.definition, strlen(srow.definition), &st, &probs)) {
    apex_app_raise(e, APEX_E_STRATEGY_INVALID_RULES, "the stored strategy no longer validates");
    e->problems = probs;
    goto out;
  }
  apex_backtest_config cfg = st->backtest;
  apex_backtest_config_read(doc, "", &cfg, &e->problems);
  if (e->problems.total) {
    apex_app_raise(e, APEX_E_VALIDATION, "the backtest configuration has %zu problem%s", e->problems.total,
                   e->problems.total == 1 ? "" : "s");
    goto out;
  }
  /* The store must hold candles in the range: say so now rather than fail in the background. The
   * job loads them (a second per 2 M candles): this request reads two rows. */
  bool enough;
  int64_t stored;
  if (enough_candles(app, srow.symbol, srow.timeframe, cfg.start_ms, cfg.end_ms, &enough, &stored, &err)) {
    apex_app_store_failed(e, &err); /* the database's message goes to the log, not the client */
    goto out;
  }
  if (!enough) {
    char a[40] = "the beginning", b[40] = "the end";
    if (cfg.start_ms != INT64_MIN)
      apex_time_iso(cfg.start_ms, a, sizeof a);
    if (cfg.end_ms != INT64_MAX)
      apex_time_iso(cfg.end_ms, b, sizeof b);
    apex_app_raise(e, APEX_E_BACKTEST_INSUFFICIENT_DATA,
                   "no %s %s candles stored between %s and %s (import some with 'apextrade data import')", srow.symbol,
                   srow.timeframe, a, b);
    goto out;
  }

  /* The job holds every stored candle up to the end (indicators warm up on the history) and one
   * column per indicator output: 300 indicators on 2 M candles took 4.95 GB before this check. */
  double mib = (double)stored * (double)(BYTES_PER_CANDLE + 8 * apex_ruleset_nslots(st->rules)) / 1048576.0;
  int64_t cap = app->settings.memory_mb > 0 ? app->settings.memory_mb : 2048;
  if (mib > (double)cap) {
    apex_app_raise(e, APEX_E_VALIDATION,
                   "this backtest would need about %.0f MiB (%lld candles x %zu indicator columns); the limit is "
                   "%lld MiB (BACKTEST_MAX_MEMORY_MB): use fewer indicators or a shorter history",
                   mib, (long long)stored, apex_ruleset_nslots(st->rules), (long long)cap);
    goto out;
  }
  if (apex_app_new_id(out->id)) {
    apex_app_raise(e, APEX_E_INTERNAL, "cannot make an id");
    goto out;
  }
  snprintf(out->user_id, sizeof out->user_id, "%s", user_id);
  snprintf(out->strategy_id, sizeof out->strategy_id, "%s", strategy_id);
  out->start_date = cfg.start_ms == INT64_MIN ? 0 : cfg.start_ms;
  out->end_date = cfg.end_ms == INT64_MAX ? 0 : cfg.end_ms;
  if (apex_dec_from_double(cfg.initial_capital, &out->initial_capital) ||
      apex_dec_from_double(cfg.commission_pct, &out->commission_pct) ||
      apex_dec_from_double(cfg.slippage_pct, &out->slippage_pct)) {
    apex_app_raise(e, APEX_E_VALIDATION, "amounts out of range");
    goto out;
  }
  snprintf(out->status, sizeof out->status, "pending");
  out->created_at = app->now_ms();
  /* Counted in the store, not in this process's queue: what a killed process left running and
   * what other processes run count too; the count and the insert are one transaction. */
  int quota = app->settings.per_user > 0 ? app->settings.per_user : 10;
  int64_t unfinished = 0;
  apex_err irc = apex_store_backtest_insert_capped(app->store, out, quota, &unfinished, &err);
  if (irc == APEX_ETOOBIG) {
    e->retry_after = 10;
    apex_app_raise(e, APEX_E_TOO_MANY_REQUESTS,
                   "%lld backtests of yours are queued or running: the most at once is %d", (long long)unfinished,
                   quota);
    goto out;
  }
  if (irc) {
    apex_app_store_failed(e, &err);
    goto out;
  }
  /* APEX_EIO (Redis away): it is stored, pending, and the lease sweep queues it once Redis is back. */
  apex_err qrc = apex_queue_submit(app->queue, out->id, user_id);
  if (qrc && qrc != APEX_EIO) {
    apex_app_raise(e, APEX_E_UNAVAILABLE, "the server is stopping; the backtest will run after the restart");
    goto out;
  }
  rc = APEX_OK;
out:
  apex_strategy_free(st);
  apex_strategy_row_clear(&srow);
  apex_json_free(doc);
  return rc;
}

apex_err apex_app_backtest_get(apex_app *app, const char *user_id, const char *id, apex_backtest_row *out,
                               apex_app_error *e)
{
  apex_error err;
  memset(out, 0, sizeof *out);
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_err rc = apex_store_backtest_get(app->store, user_id, id, out, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_err apex_app_backtest_cancel(apex_app *app, const char *user_id, const char *id, apex_backtest_row *out,
                                  apex_app_error *e)
{
  *out = (apex_backtest_row){0};
  apex_error err;
  if (apex_app_backtest_get(app, user_id, id, out, e))
    return APEX_EINVAL;
  char *why = apex_app_backtest_reason(APEX_E_BACKTEST_CANCELLED, "cancelled by the user");
  if (!why)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  apex_err rc =
      apex_store_backtest_set_status(app->store, id, "cancelled", out->progress_pct, why, app->now_ms(), &err);
  free(why);
  if (rc == APEX_ECONFLICT)
    return apex_app_raise(e, APEX_E_CONFLICT, "backtest %s is already %s", id, out->status);
  if (rc)
    return apex_app_store_failed(e, &err);
  apex_queue_cancel(app->queue, id);
  apex_backtest_row_clear(out);
  return apex_app_backtest_get(app, user_id, id, out, e);
}

/* --- the job --- */

/* An event about backtest id of user_id, stamped now; app->events NULL publishes nothing. */
static void publish(apex_app *app, apex_event *ev, const char *id, const char *user_id, const char *status)
{
  if (!app->events)
    return;
  ev->time_ms = app->now_ms();
  snprintf(ev->user_id, sizeof ev->user_id, "%s", user_id);
  snprintf(ev->u.backtest.backtest_id, sizeof ev->u.backtest.backtest_id, "%s", id);
  snprintf(ev->u.backtest.status, sizeof ev->u.backtest.status, "%s", status);
  apex_events_publish(app->events, ev);
}

static void publish_progress(apex_app *app, const char *id, const char *user_id, int pct, int64_t t)
{
  apex_event ev = {.kind = APEX_EVENT_BACKTEST_PROGRESS};
  ev.u.backtest.progress_pct = pct;
  ev.u.backtest.current_ms = t;
  publish(app, &ev, id, user_id, "running");
}

typedef struct progress_ctx {
  apex_app *app;
  const char *id, *owner;
  const char *user_id;        /* the backtest's owner, whom its events are for */
  int last;
  int64_t renewed_ms;         /* last lease renewal */
  const atomic_int *cancel;   /* the queue's flag */
  atomic_int stop;            /* what the engine checks: the queue's flag, or the lease lost */
  bool lost;
} progress_ctx;

/* Extends the lease when a sixth of it has passed (or when forced); false once it is lost. */
static bool renew(progress_ctx *p, bool force)
{
  apex_error err;
  int64_t now = p->app->now_ms(), lease_ms = (int64_t)apex_app_lease_s(p->app) * 1000;
  if (p->lost)
    return false;
  if (!force && now - p->renewed_ms < lease_ms / 6)
    return true;
  apex_err rc = apex_store_backtest_renew(p->app->store, p->id, p->owner, now + lease_ms, &err);
  if (rc == APEX_ECONFLICT || rc == APEX_ENOTFOUND)
    p->lost = true; /* expired and taken over, cancelled, or gone: another run owns the outcome */
  else if (!rc)
    p->renewed_ms = now;
  return !p->lost;
}

static void on_progress(void *ctx, double pct, int64_t t)
{
  progress_ctx *p = ctx;
  apex_error err;
  int now = (int)pct;
  if (now > p->last && now < 100) { /* at most one write (and one event) per percent */
    p->last = now;
    if (apex_store_backtest_set_status(p->app->store, p->id, "running", now, NULL, 0, &err) == APEX_OK)
      publish_progress(p->app, p->id, p->user_id, now, t);
  }
  if (!renew(p, false) || atomic_load(p->cancel))
    atomic_store(&p->stop, 1);
}

/* The result object stored with the backtest: the spec's Backtest Result fields without the trades
 * (they are in their own table) and with the sampled equity curve. */
static apex_json *result_json(const apex_backtest_result *r, const apex_series *s, const apex_backtest_opts *o,
                              double engine_s)
{
  apex_json *j = apex_json_new_object(), *stats = apex_json_new_object();
  if (!j || apex_backtest_json_fill(j, r, s, o, MAX_CURVE)) {
    apex_json_free(j);
    apex_json_free(stats);
    return NULL;
  }
  apex_json_object_set(stats, "bars", apex_json_new_integer((int64_t)r->bars));
  apex_json_object_set(stats, "engine_seconds", apex_json_new_number(engine_s));
  apex_json_object_set(j, "stats", stats);
  return j;
}

static double now_s(apex_app *app) { return (double)app->now_ms() / 1000.0; }

/* Backtest id fails with code and message (stored whole, announced cut to the event's size). Only a
 * failure that was stored is announced: a cancel that won the race keeps its status. */
static void fail(apex_app *app, const char *id, const char *user_id, int stored_pct, int announced_pct, apex_code code,
                 const char *message)
{
  apex_error err;
  char *why = apex_app_backtest_reason(code, message);
  if (apex_store_backtest_set_status(app->store, id, "failed", stored_pct, why ? why : message, app->now_ms(), &err) ==
      APEX_OK) {
    apex_event ev = {.kind = APEX_EVENT_BACKTEST_FAILED};
    ev.u.backtest.progress_pct = announced_pct;
    ev.u.backtest.error_code = (int)code;
    snprintf(ev.u.backtest.error_message, sizeof ev.u.backtest.error_message, "%.*s",
             (int)sizeof ev.u.backtest.error_message - 1, message);
    publish(app, &ev, id, user_id, "failed");
  }
  free(why);
}

void apex_app_backtest_job(void *ctx, const char *id, const atomic_int *cancel, const atomic_int *timed_out)
{
  apex_app *app = ctx;
  apex_backtest_row row = {0};
  apex_strategy_row srow = {0};
  apex_strategy *st = NULL;
  apex_series *s = NULL;
  apex_backtest_result res = {0};
  apex_trade_row *trades = NULL;
  int64_t *eq_t = NULL;
  char *result_text = NULL;
  apex_json *rj = NULL;
  apex_error err = {0};
  char failure[600] = "";
  apex_code fcode = APEX_E_INTERNAL; /* the failure's code, stored with it (apex_app_backtest_reason) */

  char owner[96];
  snprintf(owner, sizeof owner, "%s/%lu", app->instance, (unsigned long)atomic_fetch_add(&app->runs, 1));
  int64_t t_claim = app->now_ms();
  progress_ctx pc = {app, id, owner, "", 0, t_claim, cancel, 0, false};
  /* Atomic in the store: of two workers (or processes) given this id, exactly one gets it. */
  if (apex_store_backtest_claim(app->store, id, owner, t_claim, t_claim + (int64_t)apex_app_lease_s(app) * 1000,
                                &err) ||
      apex_store_backtest_get(app->store, NULL, id, &row, &err)) {
    pc.lost = true; /* held elsewhere, finished, cancelled or gone: nothing of ours to write */
    goto out;
  }
  pc.user_id = row.user_id;
  publish_progress(app, id, row.user_id, 0, 0); /* claimed: the run starts (again) from 0 */
  for (int waited = 0; waited < app->settings.test_job_delay_ms && !atomic_load(cancel); waited += 20)
    nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL); /* tests: a worker to stop mid-run */
  apex_problems probs = {0};
  if (apex_store_strategy_get(app->store, NULL, row.strategy_id, &srow, &err) ||
      apex_strategy_parse(srow.definition, strlen(srow.definition), &st, &probs)) {
    fcode = APEX_E_STRATEGY_NOT_FOUND;
    snprintf(failure, sizeof failure, "the strategy is gone or no longer valid");
    goto out;
  }
  int64_t end = row.end_date ? row.end_date : INT64_MAX;
  if (load_candles(app, srow.symbol, srow.timeframe, end, &s, &err) || !s) {
    fcode = APEX_E_BACKTEST_INSUFFICIENT_DATA;
    snprintf(failure, sizeof failure, "no %s %s candles in the store%s%s", srow.symbol, srow.timeframe,
             err.msg[0] ? ": " : "", err.msg);
    goto out;
  }
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.alloc = apex_bigbuf_alloc; /* huge pages: 4 KiB page faults cost more than an indicator */
  o.free = apex_bigbuf_free;
  o.cfg.start_ms = row.start_date ? row.start_date : INT64_MIN;
  o.cfg.end_ms = end;
  o.cfg.initial_capital = apex_dec_to_double(row.initial_capital);
  o.cfg.commission_pct = apex_dec_to_double(row.commission_pct);
  o.cfg.slippage_pct = apex_dec_to_double(row.slippage_pct);
  o.equity_every = s->n > MAX_STORED ? (s->n + MAX_STORED - 1) / MAX_STORED : 1;
  o.progress = on_progress;
  o.progress_ctx = &pc;
  o.cancel = &pc.stop;
  double t0 = now_s(app);
  apex_err rc = apex_backtest_run(st, s, &o, &res, &err);
  double engine_s = now_s(app) - t0;
  if (rc == APEX_ECANCELED) {
    if (pc.lost)
      goto out;
    if (atomic_load(timed_out)) {
      fcode = APEX_E_BACKTEST_TIMEOUT;
      snprintf(failure, sizeof failure, "the backtest took longer than %d s", app->settings.backtest_timeout_s);
    }
    else if (atomic_load(&app->stopping)) /* shutting down: run again after the restart */
      (void)apex_store_backtest_set_status(app->store, id, "pending", 0, NULL, 0, &err);
    /* else cancelled by the user: the cancel already stored its status */
    if (!failure[0])
      goto out;
  } else if (rc == APEX_EDATA) {
    fcode = APEX_E_BACKTEST_INSUFFICIENT_DATA;
    snprintf(failure, sizeof failure, "%s", err.msg);
  } else if (rc) {
    snprintf(failure, sizeof failure, "%s", err.msg);
  }
  if (failure[0])
    goto out;

  trades = calloc(res.n_trades ? res.n_trades : 1, sizeof *trades);
  eq_t = calloc(res.n_equity ? res.n_equity : 1, sizeof *eq_t);
  rj = result_json(&res, s, &o, engine_s);
  result_text = rj ? apex_json_dump(rj, false) : NULL;
  if (!trades || !eq_t || !result_text) {
    snprintf(failure, sizeof failure, "out of memory storing the result");
    goto out;
  }
  for (size_t i = 0; i < res.n_trades; i++) {
    const apex_bt_trade *t = &res.trades[i];
    trades[i] = (apex_trade_row){t->entry_time, t->exit_time, t->qty, t->entry_price, t->exit_price, t->gross_pnl,
                                 t->net_pnl, t->entry_commission + t->exit_commission, ""};
    snprintf(trades[i].exit_reason, sizeof trades[i].exit_reason, "%s", apex_exit_reason_name(t->reason));
  }
  for (size_t i = 0; i < res.n_equity; i++)
    eq_t[i] = s->time[res.first_bar + apex_backtest_equity_offset(&res, &o, i)];
  if (!renew(&pc, true)) /* lost meanwhile: the run holding the lease stores its own result */
    goto out;
  apex_err frc = apex_store_backtest_finish(app->store, id, result_text, trades, res.n_trades, eq_t, res.equity,
                                           res.n_equity, app->now_ms(), &err);
  if (frc == APEX_EIO) {
    apex_app_error se = {0};
    apex_app_store_failed(&se, &err); /* logs the database's message; the row gets the generic one */
    snprintf(failure, sizeof failure, "storing the result: %s", se.detail);
  } else if (frc == APEX_OK) {
    apex_event ev = {.kind = APEX_EVENT_BACKTEST_COMPLETED};
    const apex_metrics *m = &res.metrics;
    ev.u.backtest.progress_pct = 100;
    ev.u.backtest.current_ms = s->n ? s->time[s->n - 1] : 0;
    ev.u.backtest.total_return_pct = m->total_return_pct;
    ev.u.backtest.sharpe_ratio = m->sharpe_ratio;
    ev.u.backtest.max_drawdown_pct = m->max_drawdown_pct;
    ev.u.backtest.win_rate_pct = m->win_rate_pct;
    ev.u.backtest.profit_factor = m->profit_factor;
    ev.u.backtest.total_trades = (int64_t)m->total_trades;
    publish(app, &ev, id, row.user_id, "completed");
  }
out:
  if (failure[0] && !pc.lost)
    fail(app, id, row.user_id, row.progress_pct, pc.last, fcode, failure);
  free(result_text);
  apex_json_free(rj);
  free(trades);
  free(eq_t);
  apex_backtest_result_clear(&res);
  apex_series_free(s);
  apex_strategy_free(st);
  apex_strategy_row_clear(&srow);
  apex_backtest_row_clear(&row);
}

/* A backtest whose workers died running it, again and again (the queue gave up): failed, with the
 * queue's reason, and announced. Only when nobody holds it: the queue counts starts, and copies of
 * one job (the lease sweep re-queues what waits long) can start while a live worker runs it, so
 * the claim in the store decides, as for any run. */
void apex_app_backtest_dead(void *ctx, const char *id, const char *why)
{
  apex_app *app = ctx;
  apex_backtest_row row = {0};
  apex_error err;
  char owner[112];
  snprintf(owner, sizeof owner, "%s/dead-letter", app->instance);
  const int64_t now = app->now_ms();
  if (apex_store_backtest_claim(app->store, id, owner, now, now + 1000, &err) ||
      apex_store_backtest_get(app->store, NULL, id, &row, &err))
    return; /* held by a live worker, or finished */
  fail(app, id, row.user_id, row.progress_pct, row.progress_pct, APEX_E_INTERNAL, why);
  apex_backtest_row_clear(&row);
}
