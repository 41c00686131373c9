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

/* What each backend does apart from the SQL driver below: open/close, migrations, ping. */
typedef struct apex_store_ops {
  const char *name;
  void (*close)(apex_store *s);
  apex_err (*migrate)(apex_store *s, apex_error *err);
  apex_err (*migration_status)(apex_store *s, char *buf, size_t cap, apex_error *err);
  apex_err (*ping)(apex_store *s, apex_error *err);
  apex_err (*check)(apex_store *s, apex_error *err);
  apex_err (*backup)(apex_store *s, const char *dest, apex_error *err);
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
typedef enum apex_sql_type { APEX_SQL_NULL, APEX_SQL_TEXT, APEX_SQL_I64, APEX_SQL_DEC, APEX_SQL_F64, APEX_SQL_BOOL,
                             APEX_SQL_TS } apex_sql_type;
typedef struct apex_sql_arg {
  apex_sql_type t;
  const char *s; /* TEXT (NULL binds NULL) */
  int64_t i;     /* I64, DEC (units of 1e-8), BOOL, TS (ms: a time column's value in copy_in; I64 in query) */
  double f;      /* F64 */
} apex_sql_arg;
typedef struct apex_sql_res apex_sql_res; /* the rows a statement returned, and how many it changed */

/* A bulk load for the driver's copy_in: nrows rows of ncols arguments, each filled on demand by
 * row() so no copy of the whole load is ever built. table and cols are our constant names, never
 * user text. upsert NULL: a key already stored fails ECONFLICT; else the conflict clause, such as
 * "ON CONFLICT (k) DO UPDATE SET v = excluded.v" (the keys must be distinct within the load). */
typedef struct apex_sql_copy {
  const char *table, *cols;
  int ncols;
  size_t nrows;
  const char *upsert;
  apex_err (*row)(void *ctx, size_t i, apex_sql_arg *args, apex_error *err);
  void *ctx;
} apex_sql_copy;
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
  /* Loads cp inside the caller's transaction by the backend's fast path (PostgreSQL: COPY, through
   * a temporary table when upserting; SQLite: one prepared multi-row INSERT). */
  apex_err (*copy_in)(apex_store *s, void *conn, const apex_sql_copy *cp, apex_error *err);
  /* Makes table ready for rows at times[0..n) (PostgreSQL's native month partitions, each in its
   * own short transaction): call before the caller's transaction begins. NULL: nothing to do. */
  apex_err (*partitions)(apex_store *s, void *conn, const char *table, const int64_t *times, size_t n,
                         apex_error *err);
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
