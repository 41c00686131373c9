/* sql_strategies.c - strategies and their saved versions (spec 3.2), written once over the SQL driver. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

/* definition: the column, or NULL where a list leaves the documents out (read for nothing, they
 * were most of a list's bytes). */
#define COLS(definition)                                                                                           \
  "id, user_id, name, description, asset_symbol, timeframe, " definition ", stop_loss_pct, take_profit_pct, "      \
  "max_position_size_pct, max_drawdown_pct, version, status, trading_mode, apex_ms(created_at), "                 \
  "apex_ms(updated_at), apex_ms(activated_at)"
#define STRAT_COLS COLS("definition")

/* A list's filters: status and symbol, each NULL for any. */
#define LIST_WHERE                                                                                                 \
  "WHERE user_id = $1 AND (CAST($2 AS text) IS NULL OR status = $2) AND (CAST($3 AS text) IS NULL OR "            \
  "asset_symbol = $3) "
#define COUNT_SQL "SELECT count(*) FROM strategies " LIST_WHERE

void apex_strategy_row_clear(apex_strategy_row *r)
{
  if (!r)
    return;
  free(r->description);
  free(r->definition);
  r->description = r->definition = NULL;
}

/* The row keeps -1 for "no limit"; the column keeps NULL. */
static apex_dec opt_dec(apex_store *s, const apex_sql_res *r, int i, int col)
{
  return s->sql->is_null(r, i, col) ? -1 : s->sql->dec(r, i, col);
}
#define A_OPT_DEC(d) ((d) >= 0 ? A_DEC(d) : A_NULL)

static void clear_strategy(void *out, size_t k) { apex_strategy_row_clear((apex_strategy_row *)out + k); }

static apex_err read_strategy(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  apex_strategy_row *o = (apex_strategy_row *)out + k;
  memset(o, 0, sizeof *o);
  apex_store__copy(o->id, sizeof o->id, s->sql->text(r, i, 0));
  apex_store__copy(o->user_id, sizeof o->user_id, s->sql->text(r, i, 1));
  apex_store__copy(o->name, sizeof o->name, s->sql->text(r, i, 2));
  apex_store__copy(o->symbol, sizeof o->symbol, s->sql->text(r, i, 4));
  apex_store__copy(o->timeframe, sizeof o->timeframe, s->sql->text(r, i, 5));
  o->stop_loss_pct = opt_dec(s, r, i, 7);
  o->take_profit_pct = opt_dec(s, r, i, 8);
  o->max_position_size_pct = opt_dec(s, r, i, 9);
  o->max_drawdown_pct = opt_dec(s, r, i, 10);
  o->version = (int)s->sql->i64(r, i, 11);
  apex_store__copy(o->status, sizeof o->status, s->sql->text(r, i, 12));
  apex_store__copy(o->trading_mode, sizeof o->trading_mode, s->sql->text(r, i, 13));
  o->created_at = s->sql->i64(r, i, 14);
  o->updated_at = s->sql->i64(r, i, 15);
  o->activated_at = s->sql->i64(r, i, 16);
  apex_err rc;
  if ((rc = apex_sql__dup(s, r, i, 3, &o->description, err)) || (rc = apex_sql__dup(s, r, i, 6, &o->definition, err)))
    apex_strategy_row_clear(o);
  return rc;
}

/* $1..$17 in the order of the insert's columns: the update uses the first 16. */
#define STRATEGY_ARGS(r)                                                                                           \
  A_TEXT((r)->id), A_TEXT((r)->user_id), A_TEXT((r)->name), A_TEXT((r)->description), A_TEXT((r)->symbol),        \
      A_TEXT((r)->timeframe), A_TEXT((r)->definition), A_OPT_DEC((r)->stop_loss_pct),                             \
      A_OPT_DEC((r)->take_profit_pct), A_OPT_DEC((r)->max_position_size_pct), A_OPT_DEC((r)->max_drawdown_pct),   \
      A_I64((r)->version), A_TEXT((r)->status[0] ? (r)->status : "draft"), A_OPT((r)->trading_mode),             \
      A_I64((r)->updated_at), A_MS((r)->activated_at)

static const char INSERT_SQL[] =
    "INSERT INTO strategies (id, user_id, name, description, asset_symbol, timeframe, definition, stop_loss_pct, "
    "take_profit_pct, max_position_size_pct, max_drawdown_pct, version, status, trading_mode, updated_at, "
    "activated_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, apex_ts($15), "
    "apex_ts($16), apex_ts($17))";

/* A version older than the stored one is a lost race. */
static const char UPDATE_SQL[] =
    "UPDATE strategies SET name = $3, description = $4, asset_symbol = $5, timeframe = $6, definition = $7, "
    "stop_loss_pct = $8, take_profit_pct = $9, max_position_size_pct = $10, max_drawdown_pct = $11, version = $12, "
    "status = $13, trading_mode = $14, updated_at = apex_ts($15), activated_at = apex_ts($16) "
    "WHERE id = $1 AND user_id = $2 AND version <= $12";

/* The version row is copied from the strategy row just written, saved at its updated_at. */
static const char VERSION_SQL[] =
    "INSERT INTO strategy_versions (strategy_id, version, name, description, asset_symbol, timeframe, definition, "
    "stop_loss_pct, take_profit_pct, max_position_size_pct, max_drawdown_pct, created_at) "
    "SELECT id, version, name, description, asset_symbol, timeframe, definition, stop_loss_pct, take_profit_pct, "
    "max_position_size_pct, max_drawdown_pct, updated_at FROM strategies WHERE id = $1 "
    "ON CONFLICT (strategy_id, version) DO UPDATE SET name = excluded.name, description = excluded.description, "
    "asset_symbol = excluded.asset_symbol, timeframe = excluded.timeframe, definition = excluded.definition, "
    "stop_loss_pct = excluded.stop_loss_pct, take_profit_pct = excluded.take_profit_pct, "
    "max_position_size_pct = excluded.max_position_size_pct, max_drawdown_pct = excluded.max_drawdown_pct, "
    "created_at = excluded.created_at";

/* The strategy statement, then its version row, in one write transaction. */
static apex_err strategy_write(apex_store *s, const apex_strategy_row *r, bool insert, apex_error *err)
{
  void *c = apex_sql__acquire(s);
  apex_sql_res *res = NULL;
  bool in_tx = false;
  apex_err rc;

  if ((rc = apex_sql__begin(s, c, err)))
    goto out;
  in_tx = true;
  if (insert)
    rc = SQL(s, c, INSERT_SQL, NULL, err, STRATEGY_ARGS(r), A_I64(r->created_at));
  else
    rc = SQL(s, c, UPDATE_SQL, &res, err, STRATEGY_ARGS(r));
  if (rc)
    goto out;
  if (!insert && s->sql->changed(res) == 0) {
    /* Not this user's, or a newer version was saved meanwhile. */
    s->sql->res_free(res);
    res = NULL;
    if (!(rc = SQL(s, c, "SELECT 1 FROM strategies WHERE id = $1 AND user_id = $2", &res, err, A_TEXT(r->id),
                   A_TEXT(r->user_id))))
      rc = s->sql->rows(res)
               ? apex_error_set(err, APEX_ECONFLICT, "strategy: a newer version than %d exists", r->version)
               : apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
    goto out;
  }
  if ((rc = SQL(s, c, VERSION_SQL, NULL, err, A_TEXT(r->id))) || (rc = apex_sql__exec(s, c, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    apex_sql__rollback(s, c);
  s->sql->res_free(res);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_strategy_insert(apex_store *s, const apex_strategy_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->definition, "strategy needs an id, a user and a definition");
  if (!apex_store__id_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "strategy: id is not a UUID");
  if (!apex_store__id_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "strategy: no such user");
  return strategy_write(s, r, true, err);
}

apex_err apex_store_strategy_update(apex_store *s, const apex_strategy_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->definition && r->version >= 1, "strategy needs an id, a user, a "
                                                                            "definition and a version");
  if (!apex_store__id_ok(r->id) || !apex_store__id_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
  return strategy_write(s, r, false, err);
}

apex_err apex_store_strategy_get(apex_store *s, const char *user_id, const char *id, apex_strategy_row *out,
                                 apex_error *err)
{
  NEED(id && out, "id and output required"); /* user_id NULL: any user's (jobs) */
  memset(out, 0, sizeof *out);
  if (!apex_store__id_ok(id) || (user_id && !apex_store__id_ok(user_id)))
    return apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = user_id ? SQL(s, c, "SELECT " STRAT_COLS " FROM strategies WHERE id = $1 AND user_id = $2", &r, err,
                              A_TEXT(id), A_TEXT(user_id))
                        : SQL(s, c, "SELECT " STRAT_COLS " FROM strategies WHERE id = $1", &r, err, A_TEXT(id));
  if (!rc)
    rc = s->sql->rows(r) ? read_strategy(s, r, 0, out, 0, err)
                         : apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_strategy_list(apex_store *s, const char *user_id, const apex_page *p, apex_strategy_row *rows,
                                  size_t *n, int64_t *total, apex_error *err)
{
  USER_PAGE(p, user_id, rows, n, total);
  /* The total comes with the page (one round trip) from a subquery run once; count(*) OVER ()
   * made SQLite copy every matching row, definitions included, into a temporary table. An empty
   * page needs its own count. */
  const apex_sql_arg a[] = {A_TEXT(user_id), A_OPT(p->status), A_OPT(p->symbol)};
  const apex_sql_list l = {
      .sql = p->desc ? "SELECT " COLS("NULL") ", (" COUNT_SQL ") FROM strategies " LIST_WHERE
                       "ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
                     : "SELECT " COLS("NULL") ", (" COUNT_SQL ") FROM strategies " LIST_WHERE
                       "ORDER BY created_at, id LIMIT $4 OFFSET $5",
      .count_sql = COUNT_SQL,
      .args = a, .n = 3, .count_n = 3, .total_col = 17, .out = rows, .read = read_strategy, .clear = clear_strategy};
  return apex_sql__list(s, &l, p->page, p->limit, n, total, err);
}

apex_err apex_store_strategy_delete(apex_store *s, const char *user_id, const char *id, apex_error *err)
{
  NEED(user_id && id, "user id and id required");
  /* Another user's strategy, a missing one and a malformed id all name no row of this user's. */
  if (!apex_store__id_ok(id) || !apex_store__id_ok(user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
  return WRITE_ONE(s, "DELETE FROM strategies WHERE id = $1 AND user_id = $2", "strategy", err, A_TEXT(id),
                   A_TEXT(user_id));
}

#define VERSION_SQL(definition)                                                                                    \
  "SELECT s.id, s.user_id, v.name, v.description, v.asset_symbol, v.timeframe, " definition ", "                    \
  "v.stop_loss_pct, v.take_profit_pct, v.max_position_size_pct, v.max_drawdown_pct, v.version, "                   \
  "s.status, s.trading_mode, apex_ms(v.created_at), apex_ms(v.created_at), "                                       \
  "apex_ms(s.activated_at) FROM strategies s JOIN strategy_versions v ON v.strategy_id = s.id "                     \
  "WHERE s.id = $1 AND s.user_id = $2 "

apex_err apex_store_strategy_versions(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                      apex_strategy_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  NEED(user_id && id && n && total && rows && page >= 1 && limit >= 1, "user id, id, page and outputs required");
  *n = 0;
  *total = 0;
  memset(rows, 0, (size_t)limit * sizeof *rows);
  if (!apex_store__id_ok(id) || !apex_store__id_ok(user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
  /* The owner's row is joined, so another user's strategy looks like no strategy at all. */
  const apex_sql_arg a[] = {A_TEXT(id), A_TEXT(user_id)};
  const apex_sql_list l = {.sql = VERSION_SQL("NULL") "ORDER BY v.version DESC LIMIT $3 OFFSET $4",
                           .count_sql = "SELECT count(*) FROM strategies s JOIN strategy_versions v ON "
                                        "v.strategy_id = s.id WHERE s.id = $1 AND s.user_id = $2 GROUP BY s.id",
                           .args = a, .n = 2, .count_n = 2, .what = "strategy", .out = rows,
                           .read = read_strategy, .clear = clear_strategy};
  return apex_sql__list(s, &l, page, limit, n, total, err);
}

apex_err apex_store_strategy_version(apex_store *s, const char *user_id, const char *id, int version,
                                     apex_strategy_row *out, apex_error *err)
{
  NEED(user_id && id && out, "user id, id and output required");
  memset(out, 0, sizeof *out);
  if (!apex_store__id_ok(id) || !apex_store__id_ok(user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "strategy: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c, VERSION_SQL("v.definition") "AND v.version = $3", &r, err, A_TEXT(id), A_TEXT(user_id),
                    A_I64(version));
  if (!rc && !s->sql->rows(r))
    rc = apex_error_set(err, APEX_ENOTFOUND, "strategy version: not found");
  if (!rc)
    rc = read_strategy(s, r, 0, out, 0, err);
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}
