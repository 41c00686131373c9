/* store_impl.h - what the backends share behind store.h: the operations table each one fills,
 * the embedded migrations, and a connection pool. Internal to src/store; app/ never includes it. */
#ifndef APEX_STORE_IMPL_H
#define APEX_STORE_IMPL_H

#include <pthread.h>

#include "core/timeframe.h"
#include "store/store.h"

/* One forward-only migration, compiled into the binary from migrations/<backend>/NNNN_name.sql. */
typedef struct apex_store_migration {
  const char *name; /* "0001_init" */
  const char *sql;
} apex_store_migration;

/* Generated at build time (cmake/embed_migrations.cmake), in file-name order. */
extern const apex_store_migration apex_store__migrations_sqlite[];
extern const size_t apex_store__migrations_sqlite_n;
extern const apex_store_migration apex_store__migrations_pg[];
extern const size_t apex_store__migrations_pg_n;

/* Every store.h function but open, with the same contract; store.c checks arguments first. */
typedef struct apex_store_ops {
  const char *name;
  void (*close)(apex_store *s);
  apex_err (*migrate)(apex_store *s, apex_error *err);
  apex_err (*migration_status)(apex_store *s, char *buf, size_t cap, apex_error *err);
  apex_err (*ping)(apex_store *s, apex_error *err);
  apex_err (*backtest_insert)(apex_store *s, const apex_backtest_row *r, apex_error *err);
  apex_err (*backtest_get)(apex_store *s, const char *user_id, const char *id, apex_backtest_row *out,
                           apex_error *err);
  apex_err (*backtest_list)(apex_store *s, const char *user_id, const apex_page *p, apex_backtest_row *rows,
                            size_t *n, int64_t *total, apex_error *err);
  apex_err (*backtest_set_status)(apex_store *s, const char *id, const char *status, int progress,
                                  const char *error_message, int64_t now, apex_error *err);
  apex_err (*backtest_finish)(apex_store *s, const char *id, const char *result_json, const apex_trade_row *trades,
                              size_t n_trades, const int64_t *eq_time, const double *eq_value, size_t n_eq,
                              int64_t now, apex_error *err);
  apex_err (*backtest_trades)(apex_store *s, const char *user_id, const char *id, int page, int limit,
                              apex_trade_row *rows, size_t *n, int64_t *total, apex_error *err);
  apex_err (*backtest_equity)(apex_store *s, const char *user_id, const char *id, int page, int limit,
                              int64_t *times, double *values, size_t *n, int64_t *total, apex_error *err);
  apex_err (*ohlcv_put)(apex_store *st, const char *symbol, const char *timeframe, const apex_series *s,
                        const char *source, apex_error *err);
  apex_err (*ohlcv_get)(apex_store *st, const char *symbol, const char *timeframe, int64_t start, int64_t end,
                        size_t limit, apex_series **out, apex_error *err);
  apex_err (*portfolio_insert)(apex_store *s, const apex_portfolio_row *r, apex_error *err);
  apex_err (*portfolio_get)(apex_store *s, const char *user_id, const char *id, apex_portfolio_row *out,
                            apex_error *err);
  apex_err (*portfolio_list)(apex_store *s, const char *user_id, const apex_page *p, apex_portfolio_row *rows,
                             size_t *n, int64_t *total, apex_error *err);
  apex_err (*portfolio_update)(apex_store *s, const apex_portfolio_row *r, apex_error *err);
  apex_err (*portfolio_delete)(apex_store *s, const char *user_id, const char *id, apex_error *err);
  apex_err (*position_put)(apex_store *s, const apex_position_row *r, apex_error *err);
  apex_err (*positions)(apex_store *s, const char *user_id, const char *portfolio_id, bool open_only, int page,
                        int limit, apex_position_row *rows, size_t *n, int64_t *total, apex_error *err);
  apex_err (*portfolio_trade_insert)(apex_store *s, const apex_portfolio_trade_row *r, apex_error *err);
  apex_err (*portfolio_trades)(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                               apex_portfolio_trade_row *rows, size_t *n, int64_t *total, apex_error *err);
  apex_err (*equity_put)(apex_store *s, const char *portfolio_id, const apex_equity_row *rows, size_t n,
                         apex_error *err);
  apex_err (*equity)(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                     apex_equity_row *rows, size_t *n, int64_t *total, apex_error *err);
} apex_store_ops;

/* A fixed set of connections handed out one at a time: acquire waits while all are busy. */
typedef struct apex_store_pool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  void **conns;
  bool *busy;
  int size, in_use;
} apex_store_pool;

/* The SQL driver: the small seam under the entity functions written once (sql_*.c), as SQLite's VFS
 * is a small table under its engine. One SQL text serves both databases: parameters are $1..$n
 * (SQLite binds them by name), times go through apex_ts($n) / apex_ms(col) (identity functions
 * registered on SQLite, ms <-> TIMESTAMPTZ in PostgreSQL), exact decimals bind as INTEGER units of
 * 1e-8 (SQLite) or NUMERIC text (PostgreSQL). conn is one pooled connection. */
typedef enum apex_sql_type { APEX_SQL_NULL, APEX_SQL_TEXT, APEX_SQL_I64, APEX_SQL_DEC, APEX_SQL_F64, APEX_SQL_BOOL } apex_sql_type;
typedef struct apex_sql_arg {
  apex_sql_type t;
  const char *s; /* TEXT (NULL binds NULL) */
  int64_t i;     /* I64, DEC (units of 1e-8), BOOL */
  double f;      /* F64 */
} apex_sql_arg;
typedef struct apex_sql_res apex_sql_res; /* the rows a statement returned, and how many it changed */
typedef struct apex_sql_driver {
  /* Runs one statement with args; *out (caller frees with res_free) on success. Failures map as
   * everywhere in the store: unique key ECONFLICT, missing parent ENOTFOUND, else EIO. Each
   * connection keeps its prepared statements by sql text (s finds SQLite's cache). */
  apex_err (*query)(apex_store *s, void *conn, const char *sql, const apex_sql_arg *args, int n,
                    apex_sql_res **out, apex_error *err);
  int (*rows)(const apex_sql_res *r);
  int64_t (*changed)(const apex_sql_res *r);
  bool (*is_null)(const apex_sql_res *r, int row, int col);
  const char *(*text)(const apex_sql_res *r, int row, int col); /* NULL for SQL NULL */
  int64_t (*i64)(const apex_sql_res *r, int row, int col);      /* NULL: 0 */
  apex_dec (*dec)(const apex_sql_res *r, int row, int col);     /* NULL: APEX_DEC_NONE */
  double (*f64)(const apex_sql_res *r, int row, int col);
  bool (*boolean)(const apex_sql_res *r, int row, int col);
  void (*res_free)(apex_sql_res *r); /* NULL is a no-op */
  const char *begin_write;           /* opens a transaction that will write */
  void (*revive)(void *conn);        /* reconnects a dropped connection (may be NULL) */
} apex_sql_driver;

struct apex_store {
  const apex_store_ops *ops; /* what is not yet written once over sql (below) */
  const apex_sql_driver *sql;
  apex_store_pool pool;
  void *impl; /* backend state beyond the pool (may be NULL) */
};

/* conns: size opened connections; the pool takes ownership of the array. */
apex_err apex_store__pool_init(apex_store_pool *p, void **conns, int size);
void *apex_store__pool_acquire(apex_store_pool *p);
void apex_store__pool_release(apex_store_pool *p, void *conn);
/* Frees the pool's arrays (not the connections: the backend closes them first). */
void apex_store__pool_destroy(apex_store_pool *p);

/* Backend constructors (sqlite.c, pg.c). */
apex_err apex_store__sqlite_open(const char *path, apex_store **out, apex_error *err);
apex_err apex_store__pg_open(const char *url, int pool, apex_store **out, apex_error *err);

/* The candle catalog (sql_candles.c), kept by each backend's import inside its transaction:
 * count candles in [t0, t1] before and after loading, then add the difference. c: a pooled conn. */
apex_err apex_store__catalog_count(apex_store *s, void *c, const char *symbol, const char *timeframe, int64_t t0,
                                   int64_t t1, int64_t *n, apex_error *err);
apex_err apex_store__catalog_add(apex_store *s, void *c, const char *symbol, const char *timeframe, int64_t t0,
                                 int64_t t1, int64_t added, apex_error *err);

/* Bounded copy that always NUL-terminates (cap > 0). */
void apex_store__copy(char *dst, size_t cap, const char *src);

/* Appends "NAME applied WHEN\n" (or "NAME pending\n" when when is "") to buf at *k, for
 * apex_store_migration_status. APEX_ETOOBIG when it does not fit. */
apex_err apex_store__status_line(char *buf, size_t cap, size_t *k, const char *name, const char *when,
                                 apex_error *err);

#endif
