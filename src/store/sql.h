/* sql.h - what the entity functions written once (sql_*.c) use over the driver in store_impl.h:
 * typed arguments, a connection from the pool, one statement, a transaction, and the one id check
 * both databases share. Internal to src/store. */
#ifndef APEX_STORE_SQL_H
#define APEX_STORE_SQL_H

#include <string.h>

#include "store/store_impl.h"

#define A_TEXT(x) ((apex_sql_arg){.t = APEX_SQL_TEXT, .s = (x)})
#define A_OPT(x) ((apex_sql_arg){.t = APEX_SQL_TEXT, .s = (x) && *(x) ? (x) : NULL}) /* "": NULL */
#define A_I64(x) ((apex_sql_arg){.t = APEX_SQL_I64, .i = (x)})
#define A_MS(x) ((apex_sql_arg){.t = (x) ? APEX_SQL_I64 : APEX_SQL_NULL, .i = (x)}) /* 0: NULL */
#define A_DEC(x) ((apex_sql_arg){.t = APEX_SQL_DEC, .i = (x)})
#define A_F64(x) ((apex_sql_arg){.t = APEX_SQL_F64, .f = (x)})
#define A_BOOL(x) ((apex_sql_arg){.t = APEX_SQL_BOOL, .i = (x) ? 1 : 0})
#define A_NULL ((apex_sql_arg){.t = APEX_SQL_NULL})
#define A_TS(x) ((apex_sql_arg){.t = APEX_SQL_TS, .i = (x)}) /* a time column's ms, for copy_in */

/* An argument check of an entity function (its apex_error *err in scope): EINVAL "store: what". */
#define NEED(cond, what)                                                                                           \
  do {                                                                                                             \
    if (!(cond))                                                                                                   \
      return apex_error_set(err, APEX_EINVAL, "store: %s", what);                                                  \
  } while (0)

/* The checks that start a list of one user's rows: the page, the outputs (emptied), and a user id
 * that is not a UUID, which owns no row. */
#define USER_PAGE(p, user_id, rows, n, total)                                                                      \
  do {                                                                                                             \
    apex_err rc_ = apex_sql__page_ok((p), err);                                                                    \
    if (rc_)                                                                                                       \
      return rc_;                                                                                                  \
    NEED((user_id) && (rows) && (n) && (total), "user id and outputs required");                                   \
    *(n) = 0;                                                                                                      \
    *(total) = 0;                                                                                                  \
    memset((rows), 0, (size_t)(p)->limit * sizeof *(rows));                                                        \
    if (!apex_store__id_ok(user_id))                                                                               \
      return APEX_OK;                                                                                              \
  } while (0)

/* Runs sql with the arguments that follow on connection c: SQL(s, c, sql, &res, err, A_TEXT(id), ...). */
#define SQL(s, c, sql, out, err, ...)                                                                             \
  apex_sql__query((s), (c), (sql), (const apex_sql_arg[]){__VA_ARGS__},                                          \
                  (int)(sizeof((const apex_sql_arg[]){__VA_ARGS__}) / sizeof(apex_sql_arg)), (out), (err))

void *apex_sql__acquire(apex_store *s);
void apex_sql__release(apex_store *s, void *c);
apex_err apex_sql__query(apex_store *s, void *c, const char *sql, const apex_sql_arg *a, int n, apex_sql_res **out,
                         apex_error *err);
/* Runs a write that must change a row on a pooled connection: ENOTFOUND "<what>: not found" when it
 * changed none. WRITE_ONE(s, sql, what, err, A_TEXT(id), ...) passes the arguments as SQL does. */
apex_err apex_sql__write_one(apex_store *s, const char *sql, const apex_sql_arg *a, int n, const char *what,
                             apex_error *err);
#define WRITE_ONE(s, sql, what, err, ...)                                                                          \
  apex_sql__write_one((s), (sql), (const apex_sql_arg[]){__VA_ARGS__},                                            \
                      (int)(sizeof((const apex_sql_arg[]){__VA_ARGS__}) / sizeof(apex_sql_arg)), (what), (err))
/* Runs sql (no arguments) and drops the result: transactions. */
apex_err apex_sql__exec(apex_store *s, void *c, const char *sql, apex_error *err);
apex_err apex_sql__begin(apex_store *s, void *c, apex_error *err);
void apex_sql__rollback(apex_store *s, void *c);

/* Loads s's candles of symbol/timeframe inside the transaction open on c (ohlcv partitions made
 * before it began): new rows by the fast path, overlapping ones upserted, the catalog kept exact. */
apex_err apex_store__ohlcv_put_in(apex_store *st, void *c, const char *symbol, const char *timeframe,
                                  const apex_series *s, const char *source, apex_error *err);

/* A UUID's text form (8-4-4-4-12 hex). An id that is not one names no row in either database. */
bool apex_store__id_ok(const char *id);

/* *out = a malloc'd copy of the text at (row, col), NULL for SQL NULL; ENOMEM (set in err) if out of memory. */
apex_err apex_sql__dup(apex_store *s, const apex_sql_res *r, int row, int col, char **out, apex_error *err);

/* One page of a list for apex_sql__list: the statements and how a row is read. */
typedef struct apex_sql_list {
  const char *sql;       /* the page: args[0..n) as $1..$n, then LIMIT $n+1 OFFSET $n+2 */
  const char *count_sql; /* the total, over args[0..count_n); no row: ENOTFOUND "<what>: not found" */
  const apex_sql_arg *args;
  int n, count_n;
  /* sql's column that carries the total (one round trip; count_sql then runs only for an empty
   * page); 0: count_sql runs first, so a list whose owner it checks reads no row of another's. */
  int total_col;
  const char *what;
  void *out; /* the caller's outputs */
  /* Reads row i of r into output k (on failure leaving nothing allocated there); clear (NULL when
   * the outputs own no memory) frees output k. */
  apex_err (*read)(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err);
  void (*clear)(void *out, size_t k);
} apex_sql_list;

/* Reads page (>= 1) of limit (>= 1) rows of l on a pooled connection: *n outputs, *total rows in
 * all. On failure *n and *total are 0 and no output holds memory. */
apex_err apex_sql__list(apex_store *s, const apex_sql_list *l, int page, int limit, size_t *n, int64_t *total,
                        apex_error *err);

/* A trades row's columns (apex_portfolio_trade_row) as apex_sql__read_ptrade reads them from
 * column 0 on; the portfolio's trade list and live orders (sql_live.c) share them. */
#define PTRADE_COLS                                                                                                \
  "id, user_id, strategy_id, portfolio_id, symbol, side, order_type, quantity, price, filled_quantity, "          \
  "filled_price, commission, slippage, status, broker_order_id, realized_pnl, is_paper, apex_ms(created_at), "    \
  "apex_ms(submitted_at), apex_ms(filled_at)"
#define PTRADE_NCOLS 20
apex_err apex_sql__read_ptrade(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err);

/* The statement apex_store_user_by_email runs ($1: the email), so tests can check its plan. */
extern const char apex_sql__user_by_email[];

/* EINVAL unless p is a page: page >= 1, limit >= 1, its offset within INT32_MAX. */
apex_err apex_sql__page_ok(const apex_page *p, apex_error *err);

#endif
