/* sql_runs.c - strategy runs, their risk refusals, and the one transaction a candle close writes
 * (apex_store_paper_commit), for both databases. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

#define A_AMOUNT(x) ((x) != APEX_DEC_NONE ? A_DEC(x) : A_NULL)
#define A_TS_OR_NULL(x) ((x) ? A_TS(x) : A_NULL)

#define RUN_COLS                                                                                                   \
  "id, strategy_id, user_id, portfolio_id, mode, symbol, timeframe, definition, quote_currency, base_currency, "    \
  "fx_rate, capital, commission_pct, slippage_pct, status, apex_ms(warm_from), apex_ms(start_time), "              \
  "apex_ms(last_time), coalesce(candles, 0), error_message, apex_ms(created_at), apex_ms(stopped_at), "           \
  "api_key_id, coalesce(max_order_notional, 0), coalesce(max_daily_notional, 0), outside_hours"
/* A run with its progress (migration 0007), which the runner writes at every candle. */
#define RUN_FROM "strategy_runs LEFT JOIN strategy_run_progress ON run_id = id"

void apex_run_row_clear(apex_run_row *r)
{
  if (!r)
    return;
  free(r->definition);
  r->definition = NULL;
}

static apex_err read_run(apex_store *s, const apex_sql_res *r, int i, apex_run_row *o, apex_error *err)
{
  const apex_sql_driver *d = s->sql;
  memset(o, 0, sizeof *o);
  apex_store__copy(o->id, sizeof o->id, d->text(r, i, 0));
  apex_store__copy(o->strategy_id, sizeof o->strategy_id, d->text(r, i, 1));
  apex_store__copy(o->user_id, sizeof o->user_id, d->text(r, i, 2));
  apex_store__copy(o->portfolio_id, sizeof o->portfolio_id, d->text(r, i, 3));
  apex_store__copy(o->mode, sizeof o->mode, d->text(r, i, 4));
  apex_store__copy(o->symbol, sizeof o->symbol, d->text(r, i, 5));
  apex_store__copy(o->timeframe, sizeof o->timeframe, d->text(r, i, 6));
  apex_store__copy(o->quote_currency, sizeof o->quote_currency, d->text(r, i, 8));
  apex_store__copy(o->base_currency, sizeof o->base_currency, d->text(r, i, 9));
  o->fx_rate = d->dec(r, i, 10);
  o->capital = d->dec(r, i, 11);
  o->commission_pct = d->dec(r, i, 12);
  o->slippage_pct = d->dec(r, i, 13);
  apex_store__copy(o->status, sizeof o->status, d->text(r, i, 14));
  o->warm_from = d->i64(r, i, 15);
  o->start_time = d->i64(r, i, 16);
  o->last_time = d->i64(r, i, 17);
  o->candles = d->i64(r, i, 18);
  apex_store__copy(o->error, sizeof o->error, d->text(r, i, 19));
  o->created_at = d->i64(r, i, 20);
  o->stopped_at = d->i64(r, i, 21);
  apex_store__copy(o->api_key_id, sizeof o->api_key_id, d->text(r, i, 22));
  o->max_order_notional = d->dec(r, i, 23);
  o->max_daily_notional = d->dec(r, i, 24);
  apex_store__copy(o->outside_hours, sizeof o->outside_hours, d->text(r, i, 25));
  return apex_sql__dup(s, r, i, 7, &o->definition, err);
}

apex_err apex_store_run_insert(apex_store *s, const apex_run_row *r, apex_error *err)
{
  NEED(r && apex_store__id_ok(r->id) && r->definition && r->symbol[0] && r->timeframe[0], "run needs an id, "
                                                                                         "a document and a pair");
  if (!apex_store__id_ok(r->strategy_id) || !apex_store__id_ok(r->user_id) || !apex_store__id_ok(r->portfolio_id))
    return apex_error_set(err, APEX_ENOTFOUND, "run: strategy, user or portfolio not found");
  return WRITE_ONE(s,
                   "INSERT INTO strategy_runs (id, strategy_id, user_id, portfolio_id, mode, symbol, timeframe, "
                   "definition, quote_currency, base_currency, fx_rate, capital, commission_pct, slippage_pct, status, "
                   "created_at, api_key_id, max_order_notional, max_daily_notional, outside_hours) VALUES ($1, $2, $3, "
                   "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'running', apex_ts($15), $16, $17, $18, $19)",
                   "run", err, A_TEXT(r->id), A_TEXT(r->strategy_id), A_TEXT(r->user_id), A_TEXT(r->portfolio_id),
                   A_TEXT(r->mode), A_TEXT(r->symbol), A_TEXT(r->timeframe), A_TEXT(r->definition),
                   A_TEXT(r->quote_currency), A_TEXT(r->base_currency), A_DEC(r->fx_rate), A_DEC(r->capital),
                   A_DEC(r->commission_pct), A_DEC(r->slippage_pct), A_I64(r->created_at), A_OPT(r->api_key_id),
                   r->max_order_notional ? A_DEC(r->max_order_notional) : A_NULL,
                   r->max_daily_notional ? A_DEC(r->max_daily_notional) : A_NULL,
                   A_TEXT(r->outside_hours[0] ? r->outside_hours : "hold"));
}

static apex_err read_runs(apex_store *s, const char *sql, const apex_sql_arg *a, int na, apex_run_row **rows,
                          size_t *n, apex_error *err)
{
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_run_row *out = NULL;
  size_t k = 0;
  apex_err rc = apex_sql__query(s, c, sql, a, na, &r, err);
  if (rc)
    goto out;
  int m = s->sql->rows(r);
  if (m && !(out = calloc((size_t)m, sizeof *out))) {
    rc = apex_error_set(err, APEX_ENOMEM, "store: out of memory");
    goto out;
  }
  for (; k < (size_t)m; k++)
    if ((rc = read_run(s, r, (int)k, &out[k], err)))
      goto out;
out:
  if (rc) {
    for (size_t i = 0; i < k; i++)
      apex_run_row_clear(&out[i]);
    free(out);
    out = NULL;
    k = 0;
  }
  *rows = out;
  *n = k;
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_runs_running(apex_store *s, apex_run_row **rows, size_t *n, apex_error *err)
{
  NEED(rows && n, "outputs required");
  const apex_sql_arg none[] = {A_NULL};
  return read_runs(s, "SELECT " RUN_COLS " FROM " RUN_FROM " WHERE status = 'running' AND "
                      "CAST($1 AS text) IS NULL ORDER BY created_at, id",
                   none, 1, rows, n, err);
}

apex_err apex_store_run_latest(apex_store *s, const char *user_id, const char *strategy_id, apex_run_row *out,
                               apex_error *err)
{
  NEED(strategy_id && out, "strategy id and output required");
  memset(out, 0, sizeof *out);
  if (!apex_store__id_ok(strategy_id) || (user_id && !apex_store__id_ok(user_id)))
    return apex_error_set(err, APEX_ENOTFOUND, "run: not found");
  const apex_sql_arg a[] = {A_TEXT(strategy_id), A_TEXT(user_id)};
  apex_run_row *rows = NULL;
  size_t n = 0;
  apex_err rc = read_runs(s,
                          "SELECT " RUN_COLS " FROM " RUN_FROM " WHERE strategy_id = $1 AND "
                          "user_id = coalesce($2, user_id) ORDER BY created_at DESC, id DESC LIMIT 1",
                          a, 2, &rows, &n, err);
  if (!rc && !n)
    rc = apex_error_set(err, APEX_ENOTFOUND, "run: not found");
  if (!rc)
    *out = rows[0];
  free(rows);
  return rc;
}

apex_err apex_store_run_stop(apex_store *s, const char *run_id, const char *status, const char *error, int64_t at,
                             apex_error *err)
{
  NEED(run_id && status && (!strcmp(status, "stopped") || !strcmp(status, "failed")), "run id and an end status");
  if (!apex_store__id_ok(run_id))
    return apex_error_set(err, APEX_ENOTFOUND, "run: not found");
  return WRITE_ONE(s,
                   "UPDATE strategy_runs SET status = $2, error_message = $3, stopped_at = apex_ts($4) "
                   "WHERE id = $1 AND status = 'running'",
                   "run", err, A_TEXT(run_id), A_TEXT(status), A_OPT(error), A_I64(at));
}

static apex_err read_risk(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  (void)err;
  const apex_sql_driver *d = s->sql;
  apex_risk_event_row *o = (apex_risk_event_row *)out + k;
  memset(o, 0, sizeof *o);
  apex_store__copy(o->run_id, sizeof o->run_id, d->text(r, i, 0));
  o->seq = d->i64(r, i, 1);
  apex_store__copy(o->strategy_id, sizeof o->strategy_id, d->text(r, i, 2));
  apex_store__copy(o->portfolio_id, sizeof o->portfolio_id, d->text(r, i, 3));
  o->time = d->i64(r, i, 4);
  apex_store__copy(o->kind, sizeof o->kind, d->text(r, i, 5));
  apex_store__copy(o->detail, sizeof o->detail, d->text(r, i, 6));
  o->quantity = d->dec(r, i, 7);
  return APEX_OK;
}

apex_err apex_store_risk_events(apex_store *s, const char *user_id, const char *strategy_id, int page, int limit,
                                apex_risk_event_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  apex_page pg = {.page = page, .limit = limit};
  apex_err rc = apex_sql__page_ok(&pg, err);
  if (rc)
    return rc;
  NEED(strategy_id && rows && n && total, "strategy id and outputs required");
  *n = 0;
  *total = 0;
  if (!apex_store__id_ok(strategy_id) || (user_id && !apex_store__id_ok(user_id)))
    return apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
  const apex_sql_arg a[] = {A_TEXT(strategy_id), A_TEXT(user_id)};
  const apex_sql_list l = {
      .sql = "SELECT run_id, seq, strategy_id, portfolio_id, apex_ms(time), kind, detail, quantity FROM risk_events "
             "WHERE strategy_id = $1 ORDER BY time DESC, run_id, seq DESC LIMIT $2 OFFSET $3",
      .count_sql = "SELECT (SELECT count(*) FROM risk_events WHERE strategy_id = $1) FROM strategies "
                   "WHERE id = $1 AND user_id = coalesce($2, user_id)",
      .args = a, .n = 1, .count_n = 2, .what = "strategy", .out = rows, .read = read_risk};
  return apex_sql__list(s, &l, page, limit, n, total, err);
}

/* Orders go in as a bulk load too; an order given twice (placed, then filled, within a batch of
 * several candles) keeps its last row: the loads want each key once. keep[] lists the rows kept. */
typedef struct trade_load {
  const apex_portfolio_trade_row *rows;
  size_t *keep;
} trade_load;

static int by_id_then_index(const void *a, const void *b, void *ctx)
{
  const apex_portfolio_trade_row *rows = ctx;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  int c = strcmp(rows[x].id, rows[y].id);
  return c ? c : (x > y) - (x < y);
}

static int by_index(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* The last row of each order id, in the order they came; *m of them. NULL when out of memory. */
static size_t *last_of_each(const apex_portfolio_trade_row *rows, size_t n, size_t *m)
{
  size_t *idx = malloc((n ? n : 1) * sizeof *idx), k = 0;
  if (!idx)
    return NULL;
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  qsort_r(idx, n, sizeof *idx, by_id_then_index, (void *)rows);
  for (size_t i = 0; i < n; i++)
    if (i + 1 == n || strcmp(rows[idx[i]].id, rows[idx[i + 1]].id))
      idx[k++] = idx[i];
  qsort(idx, k, sizeof *idx, by_index);
  *m = k;
  return idx;
}

static apex_err trade_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const trade_load *t = ctx;
  const apex_portfolio_trade_row *r = &t->rows[t->keep[i]];
  (void)err;
  a[0] = A_TEXT(r->id);
  a[1] = A_TEXT(r->user_id);
  a[2] = A_OPT(r->strategy_id);
  a[3] = A_TEXT(r->portfolio_id);
  a[4] = A_TEXT(r->symbol);
  a[5] = A_TEXT(r->side);
  a[6] = A_TEXT(r->order_type);
  a[7] = A_DEC(r->quantity);
  a[8] = A_AMOUNT(r->price);
  a[9] = A_DEC(r->filled_quantity);
  a[10] = A_AMOUNT(r->filled_price);
  a[11] = A_DEC(r->commission);
  a[12] = A_DEC(r->slippage);
  a[13] = A_TEXT(r->status);
  a[14] = A_OPT(r->broker_order_id);
  a[15] = A_AMOUNT(r->realized_pnl);
  a[16] = A_BOOL(r->is_paper);
  a[17] = A_TS(r->created_at);
  a[18] = A_TS_OR_NULL(r->submitted_at);
  a[19] = A_TS_OR_NULL(r->filled_at);
  return APEX_OK;
}




static apex_err put_risk(apex_store *s, void *c, const apex_risk_event_row *r, apex_error *err)
{
  apex_sql_res *res = NULL;
  apex_err rc = SQL(s, c,
                    "INSERT INTO risk_events (run_id, seq, strategy_id, portfolio_id, time, kind, detail, quantity) "
                    "VALUES ($1, $2, $3, $4, apex_ts($5), $6, $7, $8) ON CONFLICT (run_id, seq) DO NOTHING",
                    &res, err, A_TEXT(r->run_id), A_I64(r->seq), A_TEXT(r->strategy_id), A_TEXT(r->portfolio_id),
                    A_I64(r->time), A_TEXT(r->kind), A_TEXT(r->detail), A_AMOUNT(r->quantity));
  s->sql->res_free(res);
  return rc;
}


/* Positions, equity points and run progress go in as bulk loads (one statement per 64 rows on
 * SQLite, a COPY on PostgreSQL): a candle close writes one of each per run or portfolio, and a
 * round trip each would dominate the commit. Keys are distinct within a commit (the runner's). */
static apex_err position_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const apex_position_row *r = &((const apex_position_row *)ctx)[i];
  (void)err;
  a[0] = A_TEXT(r->id);
  a[1] = A_TEXT(r->portfolio_id);
  a[2] = A_TEXT(r->symbol);
  a[3] = A_DEC(r->quantity);
  a[4] = A_DEC(r->average_entry_price);
  a[5] = A_AMOUNT(r->current_price);
  a[6] = A_AMOUNT(r->unrealized_pnl);
  a[7] = A_AMOUNT(r->unrealized_pnl_pct);
  a[8] = A_BOOL(r->is_open);
  a[9] = A_TS(r->opened_at);
  a[10] = A_TS_OR_NULL(r->closed_at);
  a[11] = A_TS(r->updated_at);
  return APEX_OK;
}

static apex_err equity_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const apex_equity_point *p = &((const apex_equity_point *)ctx)[i];
  (void)err;
  a[0] = A_TS(p->row.time);
  a[1] = A_TEXT(p->portfolio_id);
  a[2] = A_DEC(p->row.equity_value);
  a[3] = A_DEC(p->row.cash_balance);
  a[4] = A_DEC(p->row.positions_value);
  a[5] = A_AMOUNT(p->row.daily_pnl);
  a[6] = A_AMOUNT(p->row.daily_pnl_pct);
  return APEX_OK;
}

static apex_err progress_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const apex_run_progress *p = &((const apex_run_progress *)ctx)[i];
  (void)err;
  a[0] = A_TEXT(p->run_id);
  a[1] = A_TS_OR_NULL(p->warm_from);
  a[2] = A_TS_OR_NULL(p->start_time);
  a[3] = A_TS_OR_NULL(p->last_time);
  a[4] = A_I64(p->candles);
  return APEX_OK;
}

static apex_err put_cash(apex_store *s, void *c, const apex_cash_update *u, apex_error *err)
{
  apex_sql_res *res = NULL;
  apex_err rc = SQL(s, c, "UPDATE portfolios SET cash_balance = $2, updated_at = apex_ts($3) WHERE id = $1", &res,
                    err, A_TEXT(u->portfolio_id), A_DEC(u->cash_balance), A_I64(u->updated_at));
  s->sql->res_free(res);
  return rc;
}

apex_err apex_store_paper_commit(apex_store *s, const apex_paper_commit *pc, apex_error *err)
{
  NEED(pc, "commit required");
  size_t n_trades = 0;
  trade_load tl = {pc->trades, last_of_each(pc->trades, pc->n_trades, &n_trades)};
  if (!tl.keep)
    return apex_error_set(err, APEX_ENOMEM, "store: out of memory");
  void *c = apex_sql__acquire(s);
  bool in_tx = false;
  apex_err rc = APEX_OK;
  if (s->sql->partitions) {
    for (size_t i = 0; i < pc->n_equity && !rc; i++)
      rc = s->sql->partitions(s, c, "equity_history", &pc->equity[i].row.time, 1, err);
    for (size_t i = 0; i < pc->n_candles && !rc; i++)
      rc = s->sql->partitions(s, c, "ohlcv", &pc->candles[i].bar.time, 1, err);
  }
  if (rc || (rc = apex_sql__begin(s, c, err)))
    goto out;
  in_tx = true;
  for (size_t i = 0; i < pc->n_candles && !rc; i++) {
    const apex_paper_candle *k = &pc->candles[i];
    apex_bar b = k->bar;
    apex_series one = {.n = 1, .time = &b.time, .open = &b.open, .high = &b.high, .low = &b.low, .close = &b.close,
                       .volume = &b.volume};
    rc = apex_store__ohlcv_put_in(s, c, k->symbol, k->timeframe, &one, k->source, err);
  }
  const apex_sql_copy loads[] = {
      {"trades",
       "id, user_id, strategy_id, portfolio_id, symbol, side, order_type, quantity, price, filled_quantity, "
       "filled_price, commission, slippage, status, broker_order_id, realized_pnl, is_paper, created_at, "
       "submitted_at, filled_at",
       20, n_trades,
       "ON CONFLICT (id) DO UPDATE SET quantity = excluded.quantity, filled_quantity = excluded.filled_quantity, "
       "filled_price = excluded.filled_price, commission = excluded.commission, slippage = excluded.slippage, "
       "status = excluded.status, realized_pnl = excluded.realized_pnl, submitted_at = excluded.submitted_at, "
       "filled_at = excluded.filled_at",
       trade_row, &tl},
      {"positions",
       "id, portfolio_id, symbol, quantity, average_entry_price, current_price, unrealized_pnl, unrealized_pnl_pct, "
       "is_open, opened_at, closed_at, updated_at",
       12, pc->n_positions,
       "ON CONFLICT (id) DO UPDATE SET quantity = excluded.quantity, average_entry_price = "
       "excluded.average_entry_price, current_price = excluded.current_price, unrealized_pnl = "
       "excluded.unrealized_pnl, unrealized_pnl_pct = excluded.unrealized_pnl_pct, is_open = excluded.is_open, "
       "closed_at = excluded.closed_at, updated_at = excluded.updated_at",
       position_row, (void *)pc->positions},
      {"equity_history", "time, portfolio_id, equity_value, cash_balance, positions_value, daily_pnl, daily_pnl_pct",
       7, pc->n_equity,
       "ON CONFLICT (time, portfolio_id) DO UPDATE SET equity_value = excluded.equity_value, cash_balance = "
       "excluded.cash_balance, positions_value = excluded.positions_value, daily_pnl = excluded.daily_pnl, "
       "daily_pnl_pct = excluded.daily_pnl_pct",
       equity_row, (void *)pc->equity},
      {"strategy_run_progress", "run_id, warm_from, start_time, last_time, candles", 5, pc->n_runs,
       "ON CONFLICT (run_id) DO UPDATE SET warm_from = excluded.warm_from, start_time = excluded.start_time, "
       "last_time = excluded.last_time, candles = excluded.candles",
       progress_row, (void *)pc->runs},
  };
  for (size_t i = 0; i < pc->n_cash && !rc; i++)
    rc = put_cash(s, c, &pc->cash[i], err);
  for (size_t i = 0; i < pc->n_risk && !rc; i++)
    rc = put_risk(s, c, &pc->risk[i], err);
  for (size_t i = 0; i < sizeof loads / sizeof loads[0] && !rc; i++)
    if (loads[i].nrows)
      rc = s->sql->copy_in(s, c, &loads[i], err);
  if (rc || (rc = apex_sql__exec(s, c, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    apex_sql__rollback(s, c);
  apex_sql__release(s, c);
  free(tl.keep);
  return rc;
}
