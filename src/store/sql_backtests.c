/* sql_backtests.c - backtests, the trades and equity samples of finished ones, written once over
 * the SQL driver. An id that is not a UUID names no row on either database. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

#define BT_COLS                                                                                                    \
  "id, user_id, strategy_id, apex_ms(start_date), apex_ms(end_date), initial_capital, commission_pct, "            \
  "slippage_pct, status, progress_pct, error_message, result, apex_ms(created_at), apex_ms(started_at), "          \
  "apex_ms(completed_at)"

void apex_backtest_row_clear(apex_backtest_row *r)
{
  if (!r)
    return;
  free(r->error_message);
  free(r->result);
  r->error_message = r->result = NULL;
}

static void clear_backtest(void *out, size_t k) { apex_backtest_row_clear((apex_backtest_row *)out + k); }

static apex_err read_backtest(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  const apex_sql_driver *d = s->sql;
  apex_backtest_row *o = (apex_backtest_row *)out + k;
  apex_err rc;
  memset(o, 0, sizeof *o);
  apex_store__copy(o->id, sizeof o->id, d->text(r, i, 0));
  apex_store__copy(o->user_id, sizeof o->user_id, d->text(r, i, 1));
  apex_store__copy(o->strategy_id, sizeof o->strategy_id, d->text(r, i, 2));
  o->start_date = d->i64(r, i, 3);
  o->end_date = d->i64(r, i, 4);
  o->initial_capital = d->dec(r, i, 5);
  o->commission_pct = d->dec(r, i, 6);
  o->slippage_pct = d->dec(r, i, 7);
  apex_store__copy(o->status, sizeof o->status, d->text(r, i, 8));
  o->progress_pct = (int)d->i64(r, i, 9);
  o->created_at = d->i64(r, i, 12);
  o->started_at = d->i64(r, i, 13);
  o->completed_at = d->i64(r, i, 14);
  if ((rc = apex_sql__dup(s, r, i, 10, &o->error_message, err)) || (rc = apex_sql__dup(s, r, i, 11, &o->result, err)))
    apex_backtest_row_clear(o);
  return rc;
}

/* The insert on connection c (inside the caller's transaction, if any). */
static apex_err insert_on(apex_store *s, void *c, const apex_backtest_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->strategy_id[0], "backtest needs an id, a user and a strategy");
  if (!apex_store__id_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "backtest: id is not a UUID");
  if (!apex_store__id_ok(r->user_id) || !apex_store__id_ok(r->strategy_id))
    return apex_error_set(err, APEX_ENOTFOUND, "backtest: no such strategy");
  apex_sql_res *res = NULL;
  /* Only into the same user's strategy; its foreign key catches one deleted after this check. */
  apex_err rc = SQL(s, c, "SELECT 1 FROM strategies WHERE id = $1 AND user_id = $2", &res, err,
                    A_TEXT(r->strategy_id), A_TEXT(r->user_id));
  if (!rc && s->sql->rows(res) == 0)
    rc = apex_error_set(err, APEX_ENOTFOUND, "backtest: no such strategy");
  if (!rc)
    rc = SQL(s, c,
             "INSERT INTO backtests (id, user_id, strategy_id, start_date, end_date, initial_capital, "
             "commission_pct, slippage_pct, status, progress_pct, error_message, result, created_at, started_at, "
             "completed_at) VALUES ($1, $2, $3, apex_ts($4), apex_ts($5), $6, $7, $8, $9, $10, $11, $12, "
             "apex_ts($13), apex_ts($14), apex_ts($15))",
             NULL, err, A_TEXT(r->id), A_TEXT(r->user_id), A_TEXT(r->strategy_id), A_MS(r->start_date),
             A_MS(r->end_date), A_DEC(r->initial_capital), A_DEC(r->commission_pct), A_DEC(r->slippage_pct),
             A_TEXT(r->status[0] ? r->status : "pending"), A_I64(r->progress_pct), A_OPT(r->error_message),
             A_OPT(r->result), A_I64(r->created_at), A_MS(r->started_at), A_MS(r->completed_at));
  s->sql->res_free(res);
  return rc;
}

apex_err apex_store_backtest_insert(apex_store *s, const apex_backtest_row *r, apex_error *err)
{
  void *c = apex_sql__acquire(s);
  apex_err rc = insert_on(s, c, r, err);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_backtest_get(apex_store *s, const char *user_id, const char *id, apex_backtest_row *out,
                                 apex_error *err)
{
  NEED(id && out, "id and output required"); /* user_id NULL: any user's (jobs) */
  memset(out, 0, sizeof *out);
  if (!apex_store__id_ok(id) || (user_id && !apex_store__id_ok(user_id)))
    return apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c, "SELECT " BT_COLS " FROM backtests WHERE id = $1 AND user_id = coalesce($2, user_id)", &r,
                    err, A_TEXT(id), A_TEXT(user_id));
  if (!rc)
    rc = s->sql->rows(r) ? read_backtest(s, r, 0, out, 0, err)
                         : apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

/* p->status filters on the backtest, p->symbol through its strategy. */
#define BT_WHERE                                                                                                   \
  " FROM backtests b WHERE user_id = $1 AND status = coalesce($2, status) AND (coalesce($3, '') = '' OR "          \
  "EXISTS (SELECT 1 FROM strategies s WHERE s.id = b.strategy_id AND s.asset_symbol = $3))"

apex_err apex_store_backtest_list(apex_store *s, const char *user_id, const apex_page *p, apex_backtest_row *rows,
                                  size_t *n, int64_t *total, apex_error *err)
{
  USER_PAGE(p, user_id, rows, n, total);
  /* count(*) OVER () gives the total with the page; an empty page needs its own count. */
  const apex_sql_arg a[] = {A_TEXT(user_id), A_OPT(p->status), A_OPT(p->symbol)};
  const apex_sql_list l = {
      .sql = p->desc ? "SELECT " BT_COLS ", count(*) OVER ()" BT_WHERE " ORDER BY created_at DESC, id DESC "
                       "LIMIT $4 OFFSET $5"
                     : "SELECT " BT_COLS ", count(*) OVER ()" BT_WHERE " ORDER BY created_at, id LIMIT $4 OFFSET $5",
      .count_sql = "SELECT count(*)" BT_WHERE,
      .args = a, .n = 3, .count_n = 3, .total_col = 15, .out = rows, .read = read_backtest, .clear = clear_backtest};
  return apex_sql__list(s, &l, p->page, p->limit, n, total, err);
}

static bool is_status(const char *st)
{
  static const char *const OK[] = {"pending", "running", "completed", "failed", "cancelled"};
  for (size_t i = 0; i < APEX_ARRAY_LEN(OK); i++)
    if (!strcmp(st, OK[i]))
      return true;
  return false;
}

/* After a write that changed nothing: ENOTFOUND if the backtest does not exist, else ECONFLICT. */
static apex_err finished_or_missing(apex_store *s, void *c, const char *id, apex_error *err)
{
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c, "SELECT status FROM backtests WHERE id = $1", &r, err, A_TEXT(id));
  if (!rc)
    rc = s->sql->rows(r) ? apex_error_set(err, APEX_ECONFLICT, "backtest: already %s", s->sql->text(r, 0, 0))
                         : apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  s->sql->res_free(r);
  return rc;
}

apex_err apex_store_backtest_set_status(apex_store *s, const char *id, const char *status, int progress,
                                        const char *error_message, int64_t now, apex_error *err)
{
  NEED(id && status && is_status(status), "backtest status must be pending, running, completed, failed or cancelled");
  NEED(progress >= 0 && progress <= 100, "progress must be 0-100");
  if (!apex_store__id_ok(id))
    return apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  /* One type for $2 in every use: PostgreSQL would deduce varchar in SET and text elsewhere. */
  apex_err rc = SQL(s, c,
                    "UPDATE backtests SET status = CAST($2 AS TEXT), progress_pct = $3, "
                    "error_message = coalesce($4, error_message), started_at = CASE WHEN CAST($2 AS TEXT) = "
                    "'running' THEN coalesce(started_at, apex_ts($5)) ELSE started_at END, completed_at = CASE WHEN "
                    "CAST($2 AS TEXT) IN ('completed', 'failed', 'cancelled') THEN apex_ts($5) ELSE completed_at END "
                    "WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')",
                    &r, err, A_TEXT(id), A_TEXT(status), A_I64(progress), A_TEXT(error_message), A_MS(now));
  if (!rc && s->sql->changed(r) == 0)
    rc = finished_or_missing(s, c, id, err);
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

/* The rows of a finished backtest for copy_in. */
typedef struct finish_rows {
  const char *id;
  const apex_trade_row *trades;
  const int64_t *eq_time;
  const double *eq_value;
} finish_rows;

static apex_err trade_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const finish_rows *f = ctx;
  const apex_trade_row *t = &f->trades[i];
  (void)err;
  a[0] = A_TEXT(f->id);
  a[1] = A_I64((int64_t)i);
  a[2] = A_TS(t->entry_time);
  a[3] = A_TS(t->exit_time);
  a[4] = A_DEC(t->quantity);
  a[5] = A_DEC(t->entry_price);
  a[6] = A_DEC(t->exit_price);
  a[7] = A_DEC(t->gross_pnl);
  a[8] = A_DEC(t->net_pnl);
  a[9] = A_DEC(t->commission);
  a[10] = A_TEXT(t->exit_reason);
  return APEX_OK;
}

static apex_err equity_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const finish_rows *f = ctx;
  apex_dec v;
  if (apex_dec_from_double(f->eq_value[i], &v))
    return apex_error_set(err, APEX_EINVAL, "backtest equity %zu: %g is not a storable amount", i, f->eq_value[i]);
  a[0] = A_TEXT(f->id);
  a[1] = A_I64((int64_t)i);
  a[2] = A_TS(f->eq_time[i]);
  a[3] = A_DEC(v);
  return APEX_OK;
}

apex_err apex_store_backtest_finish(apex_store *s, const char *id, const char *result_json,
                                    const apex_trade_row *trades, size_t n_trades, const int64_t *eq_time,
                                    const double *eq_value, size_t n_eq, int64_t now, apex_error *err)
{
  NEED(id && (trades || !n_trades) && ((eq_time && eq_value) || !n_eq), "backtest id and arrays required");
  if (!apex_store__id_ok(id))
    return apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  finish_rows f = {id, trades, eq_time, eq_value};
  const apex_sql_copy tc = {"backtest_trades",
                            "backtest_id, seq, entry_time, exit_time, quantity, entry_price, exit_price, gross_pnl, "
                            "net_pnl, commission, exit_reason",
                            11, n_trades, NULL, trade_row, &f};
  const apex_sql_copy ec = {"backtest_equity", "backtest_id, seq, time, value", 4, n_eq, NULL, equity_row, &f};
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  bool in_tx = false;
  apex_err rc;

  if ((rc = apex_sql__begin(s, c, err)))
    goto out;
  in_tx = true;
  /* The status moves first: a backtest cancelled meanwhile keeps its state and gets no results. */
  if ((rc = SQL(s, c,
                "UPDATE backtests SET status = 'completed', progress_pct = 100, result = $2, completed_at = "
                "apex_ts($3), started_at = coalesce(started_at, apex_ts($3)) "
                "WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')",
                &r, err, A_TEXT(id), A_OPT(result_json), A_MS(now))))
    goto out;
  if (s->sql->changed(r) == 0) {
    rc = finished_or_missing(s, c, id, err);
    goto out;
  }
  /* A backtest re-run after a restart replaces what its first run left. */
  if ((rc = SQL(s, c, "DELETE FROM backtest_trades WHERE backtest_id = $1", NULL, err, A_TEXT(id))) ||
      (rc = SQL(s, c, "DELETE FROM backtest_equity WHERE backtest_id = $1", NULL, err, A_TEXT(id))) ||
      (n_trades && (rc = s->sql->copy_in(s, c, &tc, err))) || (n_eq && (rc = s->sql->copy_in(s, c, &ec, err))) ||
      (rc = apex_sql__exec(s, c, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    apex_sql__rollback(s, c);
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

/* The paging checks of a backtest's trades and equity. */
#define CHILD_PAGE(outs_ok)                                                                        \
  do {                                                                                             \
    apex_page pg_ = {.page = page, .limit = limit};                                                \
    apex_err rc_ = apex_sql__page_ok(&pg_, err);                                                   \
    if (rc_)                                                                                       \
      return rc_;                                                                                  \
    NEED(user_id && id && (outs_ok) && n && total, "user id, id and outputs required");            \
    *n = 0;                                                                                        \
    *total = 0;                                                                                    \
    if (!apex_store__id_ok(id) || !apex_store__id_ok(user_id))                                     \
      return apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");                           \
  } while (0)

static apex_err read_trade(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  apex_trade_row *t = (apex_trade_row *)out + k;
  (void)err;
  memset(t, 0, sizeof *t);
  t->entry_time = s->sql->i64(r, i, 0);
  t->exit_time = s->sql->i64(r, i, 1);
  t->quantity = s->sql->dec(r, i, 2);
  t->entry_price = s->sql->dec(r, i, 3);
  t->exit_price = s->sql->dec(r, i, 4);
  t->gross_pnl = s->sql->dec(r, i, 5);
  t->net_pnl = s->sql->dec(r, i, 6);
  t->commission = s->sql->dec(r, i, 7);
  apex_store__copy(t->exit_reason, sizeof t->exit_reason, s->sql->text(r, i, 8));
  return APEX_OK;
}

/* The total of a backtest's child rows in table, the backtest user_id's (else no row). */
#define CHILD_COUNT(table)                                                                                         \
  "SELECT (SELECT count(*) FROM " table " WHERE backtest_id = $1) FROM backtests WHERE id = $1 AND user_id = $2"

apex_err apex_store_backtest_trades(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                    apex_trade_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  CHILD_PAGE(rows);
  const apex_sql_arg a[] = {A_TEXT(id), A_TEXT(user_id)};
  const apex_sql_list l = {.sql = "SELECT apex_ms(entry_time), apex_ms(exit_time), quantity, entry_price, "
                                  "exit_price, gross_pnl, net_pnl, commission, exit_reason FROM backtest_trades "
                                  "WHERE backtest_id = $1 ORDER BY seq LIMIT $2 OFFSET $3",
                           .count_sql = CHILD_COUNT("backtest_trades"),
                           .args = a, .n = 1, .count_n = 2, .what = "backtest", .out = rows, .read = read_trade};
  return apex_sql__list(s, &l, page, limit, n, total, err);
}

typedef struct equity_out {
  int64_t *times;
  double *values;
} equity_out;

static apex_err read_equity(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  equity_out *e = out;
  (void)err;
  e->times[k] = s->sql->i64(r, i, 0);
  e->values[k] = apex_dec_to_double(s->sql->dec(r, i, 1));
  return APEX_OK;
}

apex_err apex_store_backtest_equity(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                    int64_t *times, double *values, size_t *n, int64_t *total, apex_error *err)
{
  CHILD_PAGE(times && values);
  const apex_sql_arg a[] = {A_TEXT(id), A_TEXT(user_id)};
  equity_out e = {times, values};
  const apex_sql_list l = {.sql = "SELECT apex_ms(time), value FROM backtest_equity WHERE backtest_id = $1 "
                                  "ORDER BY seq LIMIT $2 OFFSET $3",
                           .count_sql = CHILD_COUNT("backtest_equity"),
                           .args = a, .n = 1, .count_n = 2, .what = "backtest", .out = &e, .read = read_equity};
  return apex_sql__list(s, &l, page, limit, n, total, err);
}

apex_err apex_store_backtest_insert_capped(apex_store *s, const apex_backtest_row *r, int64_t max_unfinished,
                                           int64_t *unfinished, apex_error *err)
{
  NEED(r && unfinished && max_unfinished > 0, "a backtest, an output and a cap above 0 required");
  *unfinished = 0;
  if (!apex_store__id_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "backtest: no such strategy");
  void *c = apex_sql__acquire(s);
  apex_sql_res *res = NULL;
  bool in_tx = false;
  apex_err rc;
  if ((rc = apex_sql__begin(s, c, err)))
    goto out;
  in_tx = true;
  /* SQLite's BEGIN IMMEDIATE already lets one writer in at a time; on PostgreSQL the user's row,
   * locked by this no-op update, makes the user's next submission count after this one commits. */
  if ((rc = SQL(s, c, "UPDATE users SET updated_at = updated_at WHERE id = $1", NULL, err, A_TEXT(r->user_id))) ||
      (rc = SQL(s, c, "SELECT count(*) FROM backtests WHERE user_id = $1 AND status IN ('pending', 'running')",
                &res, err, A_TEXT(r->user_id))))
    goto out;
  *unfinished = s->sql->i64(res, 0, 0);
  if (*unfinished >= max_unfinished) {
    rc = apex_error_set(err, APEX_ETOOBIG, "backtest: %lld pending or running, the most is %lld",
                        (long long)*unfinished, (long long)max_unfinished);
    goto out;
  }
  if ((rc = insert_on(s, c, r, err)) || (rc = apex_sql__exec(s, c, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    apex_sql__rollback(s, c);
  s->sql->res_free(res);
  apex_sql__release(s, c);
  return rc;
}
