/* sql_portfolios.c - portfolios and what paper/live trading writes into them (positions, trades,
 * equity history), written once over the SQL driver. An id that is not a UUID names no row. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

#define PF_COLS                                                                                                    \
  "id, user_id, name, description, base_currency, is_paper, broker, initial_balance, cash_balance, is_active, "  \
  "apex_ms(created_at), apex_ms(updated_at)"

void apex_portfolio_row_clear(apex_portfolio_row *r)
{
  if (!r)
    return;
  free(r->description);
  r->description = NULL;
}

static void clear_portfolio(void *out, size_t k) { apex_portfolio_row_clear((apex_portfolio_row *)out + k); }

static apex_err read_portfolio(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  const apex_sql_driver *d = s->sql;
  apex_portfolio_row *o = (apex_portfolio_row *)out + k;
  memset(o, 0, sizeof *o);
  apex_store__copy(o->id, sizeof o->id, d->text(r, i, 0));
  apex_store__copy(o->user_id, sizeof o->user_id, d->text(r, i, 1));
  apex_store__copy(o->name, sizeof o->name, d->text(r, i, 2));
  apex_store__copy(o->base_currency, sizeof o->base_currency, d->text(r, i, 4));
  o->is_paper = d->boolean(r, i, 5);
  apex_store__copy(o->broker, sizeof o->broker, d->text(r, i, 6));
  o->initial_balance = d->dec(r, i, 7);
  o->cash_balance = d->dec(r, i, 8);
  o->is_active = d->boolean(r, i, 9);
  o->created_at = d->i64(r, i, 10);
  o->updated_at = d->i64(r, i, 11);
  return apex_sql__dup(s, r, i, 3, &o->description, err);
}

/* A nullable amount: APEX_DEC_NONE binds NULL. */
#define A_AMOUNT(x) ((x) != APEX_DEC_NONE ? A_DEC(x) : A_NULL)

static bool is_currency(const char *c) { return strlen(c) == 3; }

static apex_err check_portfolio(const apex_portfolio_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->name[0], "portfolio needs an id, a user and a name");
  NEED(is_currency(r->base_currency), "portfolio base currency must be 3 letters");
  return APEX_OK;
}

apex_err apex_store_portfolio_insert(apex_store *s, const apex_portfolio_row *r, apex_error *err)
{
  apex_err rc = check_portfolio(r, err);
  if (rc)
    return rc;
  if (!apex_store__id_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "portfolio: id is not a UUID");
  if (!apex_store__id_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "portfolio: no such user");
  void *c = apex_sql__acquire(s);
  rc = SQL(s, c,
           "INSERT INTO portfolios (id, user_id, name, description, base_currency, is_paper, broker, "
           "initial_balance, cash_balance, is_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
           "$8, $9, $10, apex_ts($11), apex_ts($12))",
           NULL, err, A_TEXT(r->id), A_TEXT(r->user_id), A_TEXT(r->name), A_TEXT(r->description),
           A_TEXT(r->base_currency), A_BOOL(r->is_paper), A_OPT(r->broker), A_DEC(r->initial_balance),
           A_DEC(r->cash_balance), A_BOOL(r->is_active), A_I64(r->created_at), A_I64(r->updated_at));
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_portfolio_get(apex_store *s, const char *user_id, const char *id, apex_portfolio_row *out,
                                  apex_error *err)
{
  NEED(id && out, "id and output required"); /* user_id NULL: any user's (jobs) */
  memset(out, 0, sizeof *out);
  if (!apex_store__id_ok(id) || (user_id && !apex_store__id_ok(user_id)))
    return apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c, "SELECT " PF_COLS " FROM portfolios WHERE id = $1 AND user_id = coalesce($2, user_id)",
                    &r, err, A_TEXT(id), A_TEXT(user_id));
  if (!rc)
    rc = s->sql->rows(r) ? read_portfolio(s, r, 0, out, 0, err)
                         : apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_portfolio_list(apex_store *s, const char *user_id, const apex_page *p, apex_portfolio_row *rows,
                                   size_t *n, int64_t *total, apex_error *err)
{
  USER_PAGE(p, user_id, rows, n, total);
  /* count(*) OVER () gives the total with the page; an empty page needs its own count. */
  const apex_sql_arg a[] = {A_TEXT(user_id)};
  const apex_sql_list l = {
      .sql = p->desc ? "SELECT " PF_COLS ", count(*) OVER () FROM portfolios WHERE user_id = $1 "
                       "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
                     : "SELECT " PF_COLS ", count(*) OVER () FROM portfolios WHERE user_id = $1 "
                       "ORDER BY created_at, id LIMIT $2 OFFSET $3",
      .count_sql = "SELECT count(*) FROM portfolios WHERE user_id = $1",
      .args = a, .n = 1, .count_n = 1, .total_col = 12, .out = rows, .read = read_portfolio, .clear = clear_portfolio};
  return apex_sql__list(s, &l, p->page, p->limit, n, total, err);
}

apex_err apex_store_portfolio_update(apex_store *s, const apex_portfolio_row *r, apex_error *err)
{
  apex_err rc = check_portfolio(r, err);
  if (rc)
    return rc;
  if (!apex_store__id_ok(r->id) || !apex_store__id_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
  return WRITE_ONE(s,
                   "UPDATE portfolios SET name = $3, description = $4, base_currency = $5, broker = $6, "
                   "cash_balance = $7, is_active = $8, updated_at = apex_ts($9) WHERE id = $1 AND user_id = $2",
                   "portfolio", err, A_TEXT(r->id), A_TEXT(r->user_id), A_TEXT(r->name), A_TEXT(r->description),
                   A_TEXT(r->base_currency), A_OPT(r->broker), A_DEC(r->cash_balance), A_BOOL(r->is_active),
                   A_I64(r->updated_at));
}

apex_err apex_store_portfolio_delete(apex_store *s, const char *user_id, const char *id, apex_error *err)
{
  NEED(user_id && id, "user id and id required");
  if (!apex_store__id_ok(id) || !apex_store__id_ok(user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
  return WRITE_ONE(s, "DELETE FROM portfolios WHERE id = $1 AND user_id = $2", "portfolio", err, A_TEXT(id),
                   A_TEXT(user_id));
}

apex_err apex_store_position_put(apex_store *s, const apex_position_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->portfolio_id[0] && r->symbol[0], "position needs an id, a portfolio and a symbol");
  if (!apex_store__id_ok(r->portfolio_id))
    return apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
  if (!apex_store__id_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "position: id is not a UUID");
  /* No change: the id belongs to another portfolio's position. */
  return WRITE_ONE(
      s,
      "INSERT INTO positions (id, portfolio_id, symbol, quantity, average_entry_price, current_price, "
      "unrealized_pnl, unrealized_pnl_pct, is_open, opened_at, closed_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
      "$6, $7, $8, $9, apex_ts($10), apex_ts($11), apex_ts($12)) ON CONFLICT (id) DO UPDATE SET "
      "symbol = excluded.symbol, quantity = excluded.quantity, average_entry_price = excluded.average_entry_price, "
      "current_price = excluded.current_price, unrealized_pnl = excluded.unrealized_pnl, "
      "unrealized_pnl_pct = excluded.unrealized_pnl_pct, is_open = excluded.is_open, "
      "closed_at = excluded.closed_at, updated_at = excluded.updated_at "
      "WHERE positions.portfolio_id = excluded.portfolio_id",
      "position", err, A_TEXT(r->id), A_TEXT(r->portfolio_id), A_TEXT(r->symbol), A_DEC(r->quantity),
      A_DEC(r->average_entry_price), A_AMOUNT(r->current_price), A_AMOUNT(r->unrealized_pnl),
      A_AMOUNT(r->unrealized_pnl_pct), A_BOOL(r->is_open),
      A_I64(r->opened_at), A_MS(r->closed_at), A_I64(r->updated_at));
}

/* The total of a portfolio's child rows matching cond ($1: the portfolio; the owner, if any, is
 * $n), no row unless the portfolio is the owner's. */
#define CHILD_COUNT(table, cond, n)                                                                                \
  "SELECT (SELECT count(*) FROM " table " WHERE portfolio_id = $1" cond ") FROM portfolios WHERE id = $1 AND "     \
  "user_id = coalesce($" #n ", user_id)"

/* The paging checks shared by the portfolio sub-resources. */
#define CHILD_PAGE(rows_ok)                                                                        \
  do {                                                                                             \
    apex_page pg_ = {.page = page, .limit = limit};                                                \
    apex_err rc_ = apex_sql__page_ok(&pg_, err);                                                   \
    if (rc_)                                                                                       \
      return rc_;                                                                                  \
    NEED(portfolio_id && (rows_ok) && n && total, "portfolio id and outputs required");            \
    *n = 0;                                                                                        \
    *total = 0;                                                                                    \
    if (!apex_store__id_ok(portfolio_id) || (user_id && !apex_store__id_ok(user_id)))              \
      return apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");                          \
  } while (0)

static apex_err read_position(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  apex_position_row *o = (apex_position_row *)out + k;
  (void)err;
  memset(o, 0, sizeof *o);
  apex_store__copy(o->id, sizeof o->id, s->sql->text(r, i, 0));
  apex_store__copy(o->portfolio_id, sizeof o->portfolio_id, s->sql->text(r, i, 1));
  apex_store__copy(o->symbol, sizeof o->symbol, s->sql->text(r, i, 2));
  o->quantity = s->sql->dec(r, i, 3);
  o->average_entry_price = s->sql->dec(r, i, 4);
  o->current_price = s->sql->dec(r, i, 5);
  o->unrealized_pnl = s->sql->dec(r, i, 6);
  o->unrealized_pnl_pct = s->sql->dec(r, i, 7);
  o->is_open = s->sql->boolean(r, i, 8);
  o->opened_at = s->sql->i64(r, i, 9);
  o->closed_at = s->sql->i64(r, i, 10);
  o->updated_at = s->sql->i64(r, i, 11);
  return APEX_OK;
}

apex_err apex_store_positions(apex_store *s, const char *user_id, const char *portfolio_id, bool open_only, int page,
                              int limit, apex_position_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  CHILD_PAGE(rows);
  const apex_sql_arg a[] = {A_TEXT(portfolio_id), A_BOOL(open_only), A_TEXT(user_id)};
  const apex_sql_list l = {
      .sql = "SELECT id, portfolio_id, symbol, quantity, average_entry_price, current_price, unrealized_pnl, "
             "unrealized_pnl_pct, is_open, apex_ms(opened_at), apex_ms(closed_at), apex_ms(updated_at) "
             "FROM positions WHERE portfolio_id = $1 AND (is_open OR NOT $2) ORDER BY symbol, opened_at, id "
             "LIMIT $3 OFFSET $4",
      .count_sql = CHILD_COUNT("positions", " AND (is_open OR NOT $2)", 3),
      .args = a, .n = 2, .count_n = 3, .what = "portfolio", .out = rows, .read = read_position};
  return apex_sql__list(s, &l, page, limit, n, total, err);
}

static bool is_side(const char *side) { return !strcmp(side, "BUY") || !strcmp(side, "SELL"); }


apex_err apex_store_portfolio_trade_insert(apex_store *s, const apex_portfolio_trade_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->portfolio_id[0] && r->symbol[0] && r->order_type[0],
       "trade needs an id, a user, a portfolio, a symbol and an order type");
  NEED(is_side(r->side), "trade side must be BUY or SELL");
  if (!apex_store__id_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "trade: id is not a UUID");
  if (!apex_store__id_ok(r->user_id) || !apex_store__id_ok(r->portfolio_id))
    return apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
  if (r->strategy_id[0] && !apex_store__id_ok(r->strategy_id))
    return apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *res = NULL;
  /* Only into the same user's portfolio; its foreign key catches one deleted after this check. */
  apex_err rc = SQL(s, c, "SELECT 1 FROM portfolios WHERE id = $1 AND user_id = $2", &res, err,
                    A_TEXT(r->portfolio_id), A_TEXT(r->user_id));
  if (!rc && s->sql->rows(res) == 0)
    rc = apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
  if (!rc)
    rc = SQL(s, c,
             "INSERT INTO trades (id, user_id, strategy_id, portfolio_id, symbol, side, order_type, quantity, price, "
             "filled_quantity, filled_price, commission, slippage, status, broker_order_id, realized_pnl, is_paper, "
             "created_at, submitted_at, filled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
             "$14, $15, $16, $17, apex_ts($18), apex_ts($19), apex_ts($20))",
             NULL, err, A_TEXT(r->id), A_TEXT(r->user_id), A_OPT(r->strategy_id), A_TEXT(r->portfolio_id),
             A_TEXT(r->symbol), A_TEXT(r->side), A_TEXT(r->order_type), A_DEC(r->quantity), A_AMOUNT(r->price),
             A_DEC(r->filled_quantity), A_AMOUNT(r->filled_price), A_DEC(r->commission), A_DEC(r->slippage),
             A_TEXT(r->status[0] ? r->status : "pending"), A_OPT(r->broker_order_id), A_AMOUNT(r->realized_pnl),
             A_BOOL(r->is_paper), A_I64(r->created_at), A_MS(r->submitted_at), A_MS(r->filled_at));
  s->sql->res_free(res);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_sql__read_ptrade(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  const apex_sql_driver *d = s->sql;
  apex_portfolio_trade_row *t = (apex_portfolio_trade_row *)out + k;
  (void)err;
  memset(t, 0, sizeof *t);
  apex_store__copy(t->id, sizeof t->id, d->text(r, i, 0));
  apex_store__copy(t->user_id, sizeof t->user_id, d->text(r, i, 1));
  apex_store__copy(t->strategy_id, sizeof t->strategy_id, d->text(r, i, 2));
  apex_store__copy(t->portfolio_id, sizeof t->portfolio_id, d->text(r, i, 3));
  apex_store__copy(t->symbol, sizeof t->symbol, d->text(r, i, 4));
  apex_store__copy(t->side, sizeof t->side, d->text(r, i, 5));
  apex_store__copy(t->order_type, sizeof t->order_type, d->text(r, i, 6));
  t->quantity = d->dec(r, i, 7);
  t->price = d->dec(r, i, 8);
  t->filled_quantity = d->dec(r, i, 9);
  t->filled_price = d->dec(r, i, 10);
  t->commission = d->dec(r, i, 11);
  t->slippage = d->dec(r, i, 12);
  apex_store__copy(t->status, sizeof t->status, d->text(r, i, 13));
  apex_store__copy(t->broker_order_id, sizeof t->broker_order_id, d->text(r, i, 14));
  t->realized_pnl = d->dec(r, i, 15);
  t->is_paper = d->boolean(r, i, 16);
  t->created_at = d->i64(r, i, 17);
  t->submitted_at = d->i64(r, i, 18);
  t->filled_at = d->i64(r, i, 19);
  return APEX_OK;
}

/* A listed trade: a live order's failure follows its columns. */
static apex_err read_listed(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  apex_err rc = apex_sql__read_ptrade(s, r, i, out, k, err);
  apex_portfolio_trade_row *t = (apex_portfolio_trade_row *)out + k;
  apex_store__copy(t->error, sizeof t->error, s->sql->text(r, i, PTRADE_NCOLS));
  return rc;
}

apex_err apex_store_portfolio_trades(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                                     apex_portfolio_trade_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  CHILD_PAGE(rows);
  const apex_sql_arg a[] = {A_TEXT(portfolio_id), A_TEXT(user_id)};
  const apex_sql_list l = {.sql = "SELECT " PTRADE_COLS ", (SELECT error FROM live_orders WHERE trade_id = trades.id) "
                                  "FROM trades WHERE portfolio_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
                           .count_sql = CHILD_COUNT("trades", "", 2),
                           .args = a, .n = 1, .count_n = 2, .what = "portfolio", .out = rows, .read = read_listed};
  return apex_sql__list(s, &l, page, limit, n, total, err);
}

typedef struct equity_rows {
  const char *portfolio_id;
  const apex_equity_row *rows;
} equity_rows;

static apex_err equity_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const equity_rows *e = ctx;
  const apex_equity_row *r = &e->rows[i];
  (void)err;
  a[0] = A_TS(r->time);
  a[1] = A_TEXT(e->portfolio_id);
  a[2] = A_DEC(r->equity_value);
  a[3] = A_DEC(r->cash_balance);
  a[4] = A_DEC(r->positions_value);
  a[5] = A_AMOUNT(r->daily_pnl);
  a[6] = A_AMOUNT(r->daily_pnl_pct);
  return APEX_OK;
}

apex_err apex_store_equity_put(apex_store *s, const char *portfolio_id, const apex_equity_row *rows, size_t n,
                               apex_error *err)
{
  NEED(portfolio_id && (rows || !n), "portfolio id and rows required");
  /* One upsert per key: PostgreSQL's ON CONFLICT cannot touch a row twice in one statement. */
  for (size_t i = 1; i < n; i++)
    if (rows[i].time <= rows[i - 1].time)
      return apex_error_set(err, APEX_EINVAL, "store: equity times must increase (row %zu)", i);
  if (!n)
    return APEX_OK;
  if (!apex_store__id_ok(portfolio_id))
    return apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
  equity_rows e = {portfolio_id, rows};
  const apex_sql_copy cp = {"equity_history",
                            "time, portfolio_id, equity_value, cash_balance, positions_value, daily_pnl, daily_pnl_pct",
                            7,
                            n,
                            "ON CONFLICT (time, portfolio_id) DO UPDATE SET equity_value = excluded.equity_value, "
                            "cash_balance = excluded.cash_balance, positions_value = excluded.positions_value, "
                            "daily_pnl = excluded.daily_pnl, daily_pnl_pct = excluded.daily_pnl_pct",
                            equity_row,
                            &e};
  void *c = apex_sql__acquire(s);
  int64_t *times = NULL;
  bool in_tx = false;
  apex_err rc = APEX_OK;
  if (s->sql->partitions) {
    if (!(times = malloc(n * sizeof *times))) {
      rc = apex_error_set(err, APEX_ENOMEM, "store: out of memory");
      goto out;
    }
    for (size_t i = 0; i < n; i++)
      times[i] = rows[i].time;
    if ((rc = s->sql->partitions(s, c, "equity_history", times, n, err)))
      goto out;
  }
  if ((rc = apex_sql__begin(s, c, err)))
    goto out;
  in_tx = true;
  if ((rc = s->sql->copy_in(s, c, &cp, err)) || (rc = apex_sql__exec(s, c, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    apex_sql__rollback(s, c);
  free(times);
  apex_sql__release(s, c);
  return rc;
}

static apex_err read_equity(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  apex_equity_row *e = (apex_equity_row *)out + k;
  (void)err;
  e->time = s->sql->i64(r, i, 0);
  e->equity_value = s->sql->dec(r, i, 1);
  e->cash_balance = s->sql->dec(r, i, 2);
  e->positions_value = s->sql->dec(r, i, 3);
  e->daily_pnl = s->sql->dec(r, i, 4);
  e->daily_pnl_pct = s->sql->dec(r, i, 5);
  return APEX_OK;
}

apex_err apex_store_equity(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                           apex_equity_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  CHILD_PAGE(rows);
  const apex_sql_arg a[] = {A_TEXT(portfolio_id), A_TEXT(user_id)};
  const apex_sql_list l = {.sql = "SELECT apex_ms(time), equity_value, cash_balance, positions_value, daily_pnl, "
                                  "daily_pnl_pct FROM equity_history WHERE portfolio_id = $1 ORDER BY time "
                                  "LIMIT $2 OFFSET $3",
                           .count_sql = CHILD_COUNT("equity_history", "", 2),
                           .args = a, .n = 1, .count_n = 2, .what = "portfolio", .out = rows, .read = read_equity};
  return apex_sql__list(s, &l, page, limit, n, total, err);
}
