/* sqlite.c - the SQLite backend of store.h, and the only file that includes <sqlite3.h>.
 * WAL, foreign keys, 5 s busy timeout; a few connections so readers run side by side (WAL) while
 * writers take the one write lock in turn. Money is INTEGER units of 1e-8, times INTEGER ms. */
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_impl.h"

#define SQLITE_POOL 4
#define BUSY_MS 5000

static const apex_store_ops SQLITE_OPS;

/* --- helpers --- */

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Maps a failed call to our codes: unique keys taken are ECONFLICT, missing parents ENOTFOUND. */
static apex_err fail(sqlite3 *db, int rc, const char *what, apex_error *err)
{
  int ext = sqlite3_extended_errcode(db);
  if (rc == SQLITE_NOMEM)
    return apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
    return apex_error_set(err, APEX_ECONFLICT, "sqlite: %s: %s", what, sqlite3_errmsg(db));
  if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
    return apex_error_set(err, APEX_ENOTFOUND, "sqlite: %s: a referenced row does not exist", what);
  return apex_error_set(err, APEX_EIO, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

static apex_err prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, apex_error *err)
{
  int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
  return rc == SQLITE_OK ? APEX_OK : fail(db, rc, "prepare", err);
}

static apex_err exec(sqlite3 *db, const char *sql, apex_error *err)
{
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? APEX_OK : fail(db, rc, sql, err);
}

/* Steps a statement that returns no rows. */
static apex_err run(sqlite3 *db, sqlite3_stmt *st, const char *what, apex_error *err)
{
  int rc = sqlite3_step(st);
  return rc == SQLITE_DONE ? APEX_OK : fail(db, rc, what, err);
}

/* Steps once: APEX_OK with a row, ENOTFOUND when there is none. */
static apex_err row(sqlite3 *db, sqlite3_stmt *st, const char *what, apex_error *err)
{
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    return APEX_OK;
  if (rc == SQLITE_DONE)
    return apex_error_set(err, APEX_ENOTFOUND, "%s: not found", what);
  return fail(db, rc, what, err);
}

static void rollback(sqlite3 *db) { sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); }

/* "" and NULL are both stored as NULL. */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
  if (s && *s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}
static void bind_ms(sqlite3_stmt *st, int i, int64_t ms) /* 0: never (NULL) */
{
  if (ms)
    sqlite3_bind_int64(st, i, ms);
  else
    sqlite3_bind_null(st, i);
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
  apex_store__copy(dst, cap, (const char *)sqlite3_column_text(st, i));
}
static apex_err col_dup(sqlite3_stmt *st, int i, char **out)
{
  const char *t = (const char *)sqlite3_column_text(st, i);
  *out = NULL;
  if (!t)
    return APEX_OK;
  *out = strdup(t);
  return *out ? APEX_OK : APEX_ENOMEM;
}

#define CONN(s) ((sqlite3 *)apex_store__pool_acquire(&(s)->pool))
#define DONE(s, db) apex_store__pool_release(&(s)->pool, (db))

/* Runs one write statement; ENOTFOUND if it changed nothing. */
static apex_err changed_one(sqlite3 *db, sqlite3_stmt *st, const char *what, apex_error *err)
{
  apex_err rc = run(db, st, what, err);
  if (!rc && sqlite3_changes(db) == 0)
    rc = apex_error_set(err, APEX_ENOTFOUND, "%s: not found", what);
  return rc;
}

/* --- the SQL driver (store_impl.h) under the entity functions written once --- */

struct apex_sql_res {
  int nrows, ncols, cap;
  sqlite3_value **v; /* nrows * ncols protected copies */
  int64_t changed;
};

static void sd_free(apex_sql_res *r)
{
  if (!r)
    return;
  for (int i = 0; i < r->nrows * r->ncols; i++)
    sqlite3_value_free(r->v[i]);
  free(r->v);
  free(r);
}

static void sd_bind(sqlite3_stmt *q, int k, const apex_sql_arg *a)
{
  switch (a->t) {
  case APEX_SQL_TEXT:
    if (a->s)
      sqlite3_bind_text(q, k, a->s, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(q, k);
    break;
  case APEX_SQL_I64:
  case APEX_SQL_DEC: /* INTEGER units of 1e-8 */
  case APEX_SQL_BOOL:
    sqlite3_bind_int64(q, k, a->i);
    break;
  case APEX_SQL_F64:
    sqlite3_bind_double(q, k, a->f);
    break;
  default:
    sqlite3_bind_null(q, k);
  }
}

/* Prepared statements kept per connection: preparing was a fifth of a list request's CPU. */
#define STMT_CACHE 64
typedef struct sd_stmt {
  const char *key; /* the caller's text, usually a literal: its address finds it without strcmp */
  sqlite3_stmt *q;
  uint64_t used;   /* LRU clock */
} sd_stmt;
typedef struct sd_cache {
  sd_stmt e[STMT_CACHE];
  int n;
  uint64_t clock;
} sd_cache;
typedef struct sq_impl {
  sd_cache cache[SQLITE_POOL]; /* one per pool slot */
} sq_impl;

static sd_cache *sd_cache_of(apex_store *s, sqlite3 *db)
{
  sq_impl *im = s ? s->impl : NULL;
  for (int i = 0; im && i < s->pool.size; i++)
    if (s->pool.conns[i] == db)
      return &im->cache[i];
  return NULL;
}

static void sd_cache_clear(sd_cache *c)
{
  for (int i = 0; i < c->n; i++)
    sqlite3_finalize(c->e[i].q);
  c->n = 0;
}

/* The cached statement for sql, or NULL. The address matches first; the text decides, since a
 * caller's buffer may hold another text at the same address. */
static sqlite3_stmt *sd_cache_get(sd_cache *c, const char *sql)
{
  sd_stmt *hit = NULL;
  for (int i = 0; i < c->n && !hit; i++)
    if (c->e[i].key == sql && !strcmp(sqlite3_sql(c->e[i].q), sql))
      hit = &c->e[i];
  for (int i = 0; i < c->n && !hit; i++)
    if (!strcmp(sqlite3_sql(c->e[i].q), sql))
      hit = &c->e[i];
  if (!hit)
    return NULL;
  hit->key = sql;
  hit->used = ++c->clock;
  return hit->q;
}

/* Keeps q, finalizing the least recently used statement when full. */
static void sd_cache_put(sd_cache *c, const char *sql, sqlite3_stmt *q)
{
  sd_stmt *e = &c->e[c->n];
  if (c->n == STMT_CACHE) {
    e = &c->e[0];
    for (int i = 1; i < c->n; i++)
      if (c->e[i].used < e->used)
        e = &c->e[i];
    sqlite3_finalize(e->q);
  } else {
    c->n++;
  }
  *e = (sd_stmt){.key = sql, .q = q, .used = ++c->clock};
}

static apex_err sd_query(apex_store *s, void *conn, const char *sql, const apex_sql_arg *a, int n,
                         apex_sql_res **out, apex_error *err)
{
  sqlite3 *db = conn;
  sd_cache *cache = sd_cache_of(s, db);
  sqlite3_stmt *q = cache ? sd_cache_get(cache, sql) : NULL;
  bool cached = q != NULL;
  apex_sql_res *r = calloc(1, sizeof *r);
  apex_err rc = APEX_OK;
  int st;

  *out = NULL;
  if (!r)
    return apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
  if (!q) {
    const char *tail = NULL;
    st = sqlite3_prepare_v3(db, sql, -1, cache ? SQLITE_PREPARE_PERSISTENT : 0, &q, &tail);
    if (st != SQLITE_OK) {
      rc = fail(db, st, "prepare", err);
      goto out;
    }
    /* Only a whole text can be found again by its text (the driver runs one statement). */
    if (cache && q && tail && !*tail) {
      sd_cache_put(cache, sql, q);
      cached = true;
    }
  }
  /* SQLite numbers "$1", "$2" by first appearance: bind each by the number in its name. */
  for (int k = 1, np = sqlite3_bind_parameter_count(q); k <= np; k++) {
    const char *name = sqlite3_bind_parameter_name(q, k);
    int i = name && name[0] == '$' ? atoi(name + 1) - 1 : -1;
    if (i >= 0 && i < n)
      sd_bind(q, k, &a[i]);
  }
  r->ncols = sqlite3_column_count(q);
  while ((st = sqlite3_step(q)) == SQLITE_ROW) {
    if ((r->nrows + 1) * r->ncols > r->cap) {
      int nc = r->cap ? r->cap * 2 : 16 * (r->ncols ? r->ncols : 1);
      sqlite3_value **nv = realloc(r->v, (size_t)nc * sizeof *nv);
      if (!nv) {
        rc = apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
        goto out;
      }
      r->v = nv;
      r->cap = nc;
    }
    for (int c = 0; c < r->ncols; c++)
      if (!(r->v[r->nrows * r->ncols + c] = sqlite3_value_dup(sqlite3_column_value(q, c)))) {
        for (int j = 0; j < c; j++)
          sqlite3_value_free(r->v[r->nrows * r->ncols + j]);
        rc = apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
        goto out;
      }
    r->nrows++;
  }
  if (st != SQLITE_DONE) {
    rc = fail(db, st, "query", err);
    goto out;
  }
  r->changed = sqlite3_changes(db);
out:
  if (cached) { /* ready for the next run, holding no lock and no caller's memory */
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
  } else {
    sqlite3_finalize(q);
  }
  if (rc)
    sd_free(r);
  else
    *out = r;
  return rc;
}

static sqlite3_value *sd_v(const apex_sql_res *r, int row, int col) { return r->v[row * r->ncols + col]; }
static int sd_rows(const apex_sql_res *r) { return r->nrows; }
static int64_t sd_changed(const apex_sql_res *r) { return r->changed; }
static bool sd_is_null(const apex_sql_res *r, int row, int col)
{
  return sqlite3_value_type(sd_v(r, row, col)) == SQLITE_NULL;
}
static const char *sd_text(const apex_sql_res *r, int row, int col)
{
  return (const char *)sqlite3_value_text(sd_v(r, row, col));
}
static int64_t sd_i64(const apex_sql_res *r, int row, int col) { return sqlite3_value_int64(sd_v(r, row, col)); }
static apex_dec sd_dec(const apex_sql_res *r, int row, int col)
{
  return sd_is_null(r, row, col) ? APEX_DEC_NONE : sqlite3_value_int64(sd_v(r, row, col));
}
static double sd_f64(const apex_sql_res *r, int row, int col) { return sqlite3_value_double(sd_v(r, row, col)); }
static bool sd_bool(const apex_sql_res *r, int row, int col) { return sqlite3_value_int64(sd_v(r, row, col)) != 0; }

static const apex_sql_driver SQLITE_SQL = {
    .query = sd_query, .rows = sd_rows, .changed = sd_changed, .is_null = sd_is_null, .text = sd_text,
    .i64 = sd_i64, .dec = sd_dec, .f64 = sd_f64, .boolean = sd_bool, .res_free = sd_free,
    .begin_write = "BEGIN IMMEDIATE", /* take the write lock first: no deadlock upgrading a reader */
};

/* Times are INTEGER ms here, so the SQL texts' apex_ts()/apex_ms() conversions are the identity. */
static void sd_identity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  (void)argc;
  sqlite3_result_value(ctx, argv[0]);
}

/* --- open, close, migrations --- */

static void sq_close(apex_store *s)
{
  sq_impl *im = s->impl;
  for (int i = 0; i < s->pool.size; i++) {
    if (im)
      sd_cache_clear(&im->cache[i]); /* first: a connection with statements left only becomes a zombie */
    sqlite3_close_v2((sqlite3 *)s->pool.conns[i]);
  }
  apex_store__pool_destroy(&s->pool);
  free(im);
  free(s);
}

static apex_err open_one(const char *path, sqlite3 **out, apex_error *err)
{
  sqlite3 *db = NULL;
  apex_err rc = APEX_OK;
  /* NOMUTEX: the pool hands each connection to one thread at a time. */
  int r = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (r != SQLITE_OK) {
    rc = apex_error_set(err, r == SQLITE_NOMEM ? APEX_ENOMEM : APEX_EIO, "sqlite: cannot open %s: %s", path,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(r));
    goto out;
  }
  sqlite3_busy_timeout(db, BUSY_MS);
  for (int i = 0; i < 2; i++)
    if (sqlite3_create_function(db, i ? "apex_ms" : "apex_ts", 1,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, sd_identity, NULL,
                                NULL) != SQLITE_OK) {
      rc = fail(db, SQLITE_ERROR, "apex_ts/apex_ms", err);
      goto out;
    }
  /* synchronous=NORMAL is crash-safe in WAL (a power cut may lose the last commits, never corrupts). */
  if ((rc = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err)))
    goto out;
out:
  if (rc) {
    sqlite3_close_v2(db);
    db = NULL;
  }
  *out = db;
  return rc;
}

apex_err apex_store__sqlite_open(const char *path, apex_store **out, apex_error *err)
{
  apex_store *s = calloc(1, sizeof *s);
  void **conns = calloc(SQLITE_POOL, sizeof *conns);
  sq_impl *im = calloc(1, sizeof *im);
  apex_err rc = APEX_OK;
  /* Every ":memory:" connection is its own database: one connection only there. */
  int n = !strcmp(path, ":memory:") ? 1 : SQLITE_POOL;

  if (!s || !conns || !im) {
    rc = apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
    goto out;
  }
  for (int i = 0; i < n; i++)
    if ((rc = open_one(path, (sqlite3 **)&conns[i], err)))
      goto out;
  s->ops = &SQLITE_OPS;
  s->sql = &SQLITE_SQL;
  if ((rc = apex_store__pool_init(&s->pool, conns, n))) {
    apex_error_set(err, rc, "sqlite: out of memory");
    goto out;
  }
  s->impl = im;
  conns = NULL;
out:
  if (rc) {
    for (int i = 0; conns && i < SQLITE_POOL; i++)
      sqlite3_close_v2((sqlite3 *)conns[i]);
    free(conns);
    free(im);
    free(s);
    s = NULL;
  }
  *out = s;
  return rc;
}

static const char MIGRATIONS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)";

static apex_err sq_migrate(apex_store *s, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL, *ins = NULL;
  apex_err rc;
  bool in_tx = false;

  if ((rc = exec(db, MIGRATIONS_TABLE, err)) ||
      (rc = prep(db, "SELECT 1 FROM schema_migrations WHERE version = ?1", &q, err)) ||
      (rc = prep(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)", &ins, err)))
    goto out;
  for (size_t i = 0; i < apex_store__migrations_sqlite_n; i++) {
    const apex_store_migration *m = &apex_store__migrations_sqlite[i];
    /* IMMEDIATE takes the write lock first, so two processes migrating at once apply each file once. */
    if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
      goto out;
    in_tx = true;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, m->name, -1, SQLITE_STATIC);
    int r = sqlite3_step(q);
    if (r == SQLITE_DONE) {
      if (sqlite3_exec(db, m->sql, NULL, NULL, NULL) != SQLITE_OK) {
        rc = apex_error_set(err, APEX_EIO, "sqlite: migration %s: %s", m->name, sqlite3_errmsg(db));
        goto out;
      }
      sqlite3_reset(ins);
      sqlite3_bind_text(ins, 1, m->name, -1, SQLITE_STATIC);
      sqlite3_bind_int64(ins, 2, now_ms());
      if ((rc = run(db, ins, m->name, err)))
        goto out;
    } else if (r != SQLITE_ROW) {
      rc = fail(db, r, "schema_migrations", err);
      goto out;
    }
    sqlite3_reset(q);
    if ((rc = exec(db, "COMMIT", err)))
      goto out;
    in_tx = false;
  }
out:
  sqlite3_finalize(q);
  sqlite3_finalize(ins);
  if (in_tx)
    rollback(db);
  DONE(s, db);
  return rc;
}

static apex_err sq_migration_status(apex_store *s, char *buf, size_t cap, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  size_t k = 0;
  bool have_table;

  if ((rc = prep(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", &q,
                 err)) ||
      (rc = row(db, q, "sqlite_master", err)))
    goto out;
  have_table = sqlite3_column_int(q, 0) > 0;
  sqlite3_finalize(q);
  q = NULL;
  if (have_table && (rc = prep(db, "SELECT applied_at FROM schema_migrations WHERE version = ?1", &q, err)))
    goto out;
  for (size_t i = 0; i < apex_store__migrations_sqlite_n; i++) {
    const char *name = apex_store__migrations_sqlite[i].name;
    char when[40] = "";
    if (have_table) {
      sqlite3_reset(q);
      sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
      int r = sqlite3_step(q);
      if (r == SQLITE_ROW)
        apex_time_iso(sqlite3_column_int64(q, 0), when, sizeof when);
      else if (r != SQLITE_DONE) {
        rc = fail(db, r, "schema_migrations", err);
        goto out;
      }
    }
    if ((rc = apex_store__status_line(buf, cap, &k, name, when, err)))
      goto out;
  }
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_ping(apex_store *s, apex_error *err)
{
  sqlite3 *db = CONN(s);
  apex_err rc = exec(db, "SELECT 1", err);
  DONE(s, db);
  return rc;
}

static apex_err count_rows(sqlite3 *db, sqlite3_stmt *q, int64_t *total, apex_error *err)
{
  apex_err rc = row(db, q, "count", err);
  if (!rc)
    *total = sqlite3_column_int64(q, 0);
  return rc;
}

/* --- backtests --- */

#define BT_COLS                                                                                                    \
  "id, user_id, strategy_id, start_date, end_date, initial_capital, commission_pct, slippage_pct, status, "       \
  "progress_pct, error_message, result, created_at, started_at, completed_at"

static apex_err read_backtest(sqlite3_stmt *q, apex_backtest_row *r, apex_error *err)
{
  memset(r, 0, sizeof *r);
  col_copy(q, 0, r->id, sizeof r->id);
  col_copy(q, 1, r->user_id, sizeof r->user_id);
  col_copy(q, 2, r->strategy_id, sizeof r->strategy_id);
  r->start_date = sqlite3_column_int64(q, 3);
  r->end_date = sqlite3_column_int64(q, 4);
  r->initial_capital = sqlite3_column_int64(q, 5);
  r->commission_pct = sqlite3_column_int64(q, 6);
  r->slippage_pct = sqlite3_column_int64(q, 7);
  col_copy(q, 8, r->status, sizeof r->status);
  r->progress_pct = sqlite3_column_int(q, 9);
  r->created_at = sqlite3_column_int64(q, 12);
  r->started_at = sqlite3_column_int64(q, 13);
  r->completed_at = sqlite3_column_int64(q, 14);
  if (col_dup(q, 10, &r->error_message) || col_dup(q, 11, &r->result)) {
    apex_backtest_row_clear(r);
    return apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
  }
  return APEX_OK;
}

static apex_err sq_backtest_insert(apex_store *s, const apex_backtest_row *r, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  /* Inserted only when the strategy is the same user's: otherwise nothing changes (ENOTFOUND). */
  if ((rc = prep(db,
                 "INSERT INTO backtests (" BT_COLS ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                 "?14, ?15 WHERE EXISTS (SELECT 1 FROM strategies WHERE id = ?3 AND user_id = ?2)",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, r->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, r->user_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, r->strategy_id, -1, SQLITE_STATIC);
  bind_ms(q, 4, r->start_date);
  bind_ms(q, 5, r->end_date);
  sqlite3_bind_int64(q, 6, r->initial_capital);
  sqlite3_bind_int64(q, 7, r->commission_pct);
  sqlite3_bind_int64(q, 8, r->slippage_pct);
  sqlite3_bind_text(q, 9, r->status[0] ? r->status : "pending", -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 10, r->progress_pct);
  bind_text(q, 11, r->error_message);
  bind_text(q, 12, r->result);
  sqlite3_bind_int64(q, 13, r->created_at);
  bind_ms(q, 14, r->started_at);
  bind_ms(q, 15, r->completed_at);
  rc = changed_one(db, q, "strategy", err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_backtest_get(apex_store *s, const char *user_id, const char *id, apex_backtest_row *out,
                                apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db, "SELECT " BT_COLS " FROM backtests WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)", &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  bind_text(q, 2, user_id);
  if ((rc = row(db, q, "backtest", err)))
    goto out;
  rc = read_backtest(q, out, err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_backtest_list(apex_store *s, const char *user_id, const apex_page *p, apex_backtest_row *rows,
                                 size_t *n, int64_t *total, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *c = NULL, *q = NULL;
  apex_err rc;
  int r;
  /* p->symbol filters through the backtest's strategy. */
  if ((rc = prep(db,
                 p->desc ? "SELECT " BT_COLS " FROM backtests b WHERE user_id = ?1 AND (?2 IS NULL OR status = ?2) "
                           "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM strategies s WHERE s.id = b.strategy_id AND "
                           "s.asset_symbol = ?3)) ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
                         : "SELECT " BT_COLS " FROM backtests b WHERE user_id = ?1 AND (?2 IS NULL OR status = ?2) "
                           "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM strategies s WHERE s.id = b.strategy_id AND "
                           "s.asset_symbol = ?3)) ORDER BY created_at, id LIMIT ?4 OFFSET ?5",
                 &q, err)) ||
      (rc = prep(db,
                 "SELECT count(*) FROM backtests b WHERE user_id = ?1 AND (?2 IS NULL OR status = ?2) "
                 "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM strategies s WHERE s.id = b.strategy_id AND "
                 "s.asset_symbol = ?3))",
                 &c, err)))
    goto out;
  for (int k = 0; k < 2; k++) {
    sqlite3_stmt *t = k ? q : c;
    sqlite3_bind_text(t, 1, user_id, -1, SQLITE_STATIC);
    bind_text(t, 2, p->status);
    bind_text(t, 3, p->symbol);
  }
  sqlite3_bind_int(q, 4, p->limit);
  sqlite3_bind_int64(q, 5, (int64_t)(p->page - 1) * p->limit);
  if ((rc = count_rows(db, c, total, err)))
    goto out;
  while ((r = sqlite3_step(q)) == SQLITE_ROW && *n < (size_t)p->limit) {
    if ((rc = read_backtest(q, &rows[*n], err)))
      goto out;
    (*n)++;
  }
  if (r != SQLITE_DONE && r != SQLITE_ROW)
    rc = fail(db, r, "backtests", err);
out:
  if (rc) {
    for (size_t i = 0; i < *n; i++)
      apex_backtest_row_clear(&rows[i]);
    *n = 0;
  }
  sqlite3_finalize(c);
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

/* After a write that changed nothing: ENOTFOUND if the backtest does not exist, else ECONFLICT. */
static apex_err finished_or_missing(sqlite3 *db, const char *id, apex_error *err)
{
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db, "SELECT status FROM backtests WHERE id = ?1", &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  if ((rc = row(db, q, "backtest", err)))
    goto out;
  rc = apex_error_set(err, APEX_ECONFLICT, "backtest: already %s", (const char *)sqlite3_column_text(q, 0));
out:
  sqlite3_finalize(q);
  return rc;
}

static apex_err sq_backtest_set_status(apex_store *s, const char *id, const char *status, int progress,
                                       const char *error_message, int64_t now, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db,
                 "UPDATE backtests SET status = ?2, progress_pct = ?3, error_message = coalesce(?4, error_message), "
                 "started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, ?5) ELSE started_at END, "
                 "completed_at = CASE WHEN ?2 IN ('completed', 'failed', 'cancelled') THEN ?5 ELSE completed_at END "
                 "WHERE id = ?1 AND status NOT IN ('completed', 'failed', 'cancelled')",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 3, progress);
  if (error_message)
    sqlite3_bind_text(q, 4, error_message, -1, SQLITE_STATIC);
  bind_ms(q, 5, now);
  if ((rc = run(db, q, "backtest", err)))
    goto out;
  if (sqlite3_changes(db) == 0)
    rc = finished_or_missing(db, id, err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_backtest_finish(apex_store *s, const char *id, const char *result_json,
                                   const apex_trade_row *trades, size_t n_trades, const int64_t *eq_time,
                                   const double *eq_value, size_t n_eq, int64_t now, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *up = NULL, *del = NULL, *dele = NULL, *tr = NULL, *eq = NULL;
  apex_err rc;
  bool in_tx = false;

  if ((rc = prep(db,
                 "UPDATE backtests SET status = 'completed', progress_pct = 100, result = ?2, completed_at = ?3, "
                 "started_at = coalesce(started_at, ?3) "
                 "WHERE id = ?1 AND status NOT IN ('completed', 'failed', 'cancelled')",
                 &up, err)) ||
      (rc = prep(db, "DELETE FROM backtest_trades WHERE backtest_id = ?1", &del, err)) ||
      (rc = prep(db, "DELETE FROM backtest_equity WHERE backtest_id = ?1", &dele, err)) ||
      (rc = prep(db,
                 "INSERT INTO backtest_trades (backtest_id, seq, entry_time, exit_time, quantity, entry_price, "
                 "exit_price, gross_pnl, net_pnl, commission, exit_reason) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                 &tr, err)) ||
      (rc = prep(db, "INSERT INTO backtest_equity (backtest_id, seq, time, value) VALUES (?1, ?2, ?3, ?4)", &eq, err)))
    goto out;
  if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
    goto out;
  in_tx = true;
  /* The status moves first: a backtest cancelled meanwhile keeps its state and gets no results. */
  sqlite3_bind_text(up, 1, id, -1, SQLITE_STATIC);
  bind_text(up, 2, result_json);
  bind_ms(up, 3, now);
  if ((rc = run(db, up, "backtest", err)))
    goto out;
  if (sqlite3_changes(db) == 0) {
    rc = finished_or_missing(db, id, err);
    goto out;
  }
  /* A backtest re-run after a restart replaces what its first run left. */
  sqlite3_bind_text(del, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(dele, 1, id, -1, SQLITE_STATIC);
  if ((rc = run(db, del, "backtest trades", err)) || (rc = run(db, dele, "backtest equity", err)))
    goto out;
  sqlite3_bind_text(tr, 1, id, -1, SQLITE_STATIC);
  for (size_t i = 0; i < n_trades; i++) {
    const apex_trade_row *t = &trades[i];
    sqlite3_bind_int64(tr, 2, (int64_t)i);
    sqlite3_bind_int64(tr, 3, t->entry_time);
    sqlite3_bind_int64(tr, 4, t->exit_time);
    sqlite3_bind_int64(tr, 5, t->quantity);
    sqlite3_bind_int64(tr, 6, t->entry_price);
    sqlite3_bind_int64(tr, 7, t->exit_price);
    sqlite3_bind_int64(tr, 8, t->gross_pnl);
    sqlite3_bind_int64(tr, 9, t->net_pnl);
    sqlite3_bind_int64(tr, 10, t->commission);
    sqlite3_bind_text(tr, 11, t->exit_reason, -1, SQLITE_STATIC);
    if ((rc = run(db, tr, "backtest trade", err)))
      goto out;
    sqlite3_reset(tr);
  }
  sqlite3_bind_text(eq, 1, id, -1, SQLITE_STATIC);
  for (size_t i = 0; i < n_eq; i++) {
    apex_dec v;
    if (apex_dec_from_double(eq_value[i], &v)) {
      rc = apex_error_set(err, APEX_EINVAL, "backtest equity %zu: %g is not a storable amount", i, eq_value[i]);
      goto out;
    }
    sqlite3_bind_int64(eq, 2, (int64_t)i);
    sqlite3_bind_int64(eq, 3, eq_time[i]);
    sqlite3_bind_int64(eq, 4, v);
    if ((rc = run(db, eq, "backtest equity", err)))
      goto out;
    sqlite3_reset(eq);
  }
  if ((rc = exec(db, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    rollback(db);
  sqlite3_finalize(up);
  sqlite3_finalize(del);
  sqlite3_finalize(dele);
  sqlite3_finalize(tr);
  sqlite3_finalize(eq);
  DONE(s, db);
  return rc;
}

/* ENOTFOUND unless the backtest is this user's; then the row count of its child table. */
static apex_err child_total(sqlite3 *db, const char *user_id, const char *id, const char *count_sql, int64_t *total,
                            apex_error *err)
{
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db, "SELECT 1 FROM backtests WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)", &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  bind_text(q, 2, user_id);
  if ((rc = row(db, q, "backtest", err)))
    goto out;
  sqlite3_finalize(q);
  q = NULL;
  if ((rc = prep(db, count_sql, &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  rc = count_rows(db, q, total, err);
out:
  sqlite3_finalize(q);
  return rc;
}

static apex_err sq_backtest_trades(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                   apex_trade_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  int r;
  if ((rc = child_total(db, user_id, id, "SELECT count(*) FROM backtest_trades WHERE backtest_id = ?1", total, err)) ||
      (rc = prep(db,
                 "SELECT entry_time, exit_time, quantity, entry_price, exit_price, gross_pnl, net_pnl, commission, "
                 "exit_reason FROM backtest_trades WHERE backtest_id = ?1 ORDER BY seq LIMIT ?2 OFFSET ?3",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, limit);
  sqlite3_bind_int64(q, 3, (int64_t)(page - 1) * limit);
  while ((r = sqlite3_step(q)) == SQLITE_ROW && *n < (size_t)limit) {
    apex_trade_row *t = &rows[(*n)++];
    memset(t, 0, sizeof *t);
    t->entry_time = sqlite3_column_int64(q, 0);
    t->exit_time = sqlite3_column_int64(q, 1);
    t->quantity = sqlite3_column_int64(q, 2);
    t->entry_price = sqlite3_column_int64(q, 3);
    t->exit_price = sqlite3_column_int64(q, 4);
    t->gross_pnl = sqlite3_column_int64(q, 5);
    t->net_pnl = sqlite3_column_int64(q, 6);
    t->commission = sqlite3_column_int64(q, 7);
    col_copy(q, 8, t->exit_reason, sizeof t->exit_reason);
  }
  if (r != SQLITE_DONE && r != SQLITE_ROW)
    rc = fail(db, r, "backtest trades", err);
out:
  if (rc)
    *n = 0;
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_backtest_equity(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                   int64_t *times, double *values, size_t *n, int64_t *total, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  int r;
  if ((rc = child_total(db, user_id, id, "SELECT count(*) FROM backtest_equity WHERE backtest_id = ?1", total, err)) ||
      (rc = prep(db, "SELECT time, value FROM backtest_equity WHERE backtest_id = ?1 ORDER BY seq LIMIT ?2 OFFSET ?3",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, limit);
  sqlite3_bind_int64(q, 3, (int64_t)(page - 1) * limit);
  while ((r = sqlite3_step(q)) == SQLITE_ROW && *n < (size_t)limit) {
    times[*n] = sqlite3_column_int64(q, 0);
    values[*n] = apex_dec_to_double(sqlite3_column_int64(q, 1));
    (*n)++;
  }
  if (r != SQLITE_DONE && r != SQLITE_ROW)
    rc = fail(db, r, "backtest equity", err);
out:
  if (rc)
    *n = 0;
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

/* --- candles --- */

static apex_err sq_ohlcv_put(apex_store *st, const char *symbol, const char *timeframe, const apex_series *s,
                             const char *source, apex_error *err)
{
  sqlite3 *db = CONN(st);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  bool in_tx = false;

  if ((rc = prep(db,
                 "INSERT INTO ohlcv (time, symbol, timeframe, open, high, low, close, volume, source) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (symbol, timeframe, time) DO UPDATE SET "
                 "open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close, "
                 "volume = excluded.volume, source = excluded.source",
                 &q, err)) ||
      (rc = exec(db, "BEGIN IMMEDIATE", err)))
    goto out;
  in_tx = true;
  int64_t before, after;
  const int64_t t0 = s->time[0], t1 = s->time[s->n - 1];
  if ((rc = apex_store__catalog_count(st, db, symbol, timeframe, t0, t1, &before, err)))
    goto out;
  /* Bindings survive sqlite3_reset: the constant ones are bound once. */
  sqlite3_bind_text(q, 2, symbol, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, timeframe, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 9, source, -1, SQLITE_STATIC);
  for (size_t i = 0; i < s->n; i++) {
    sqlite3_bind_int64(q, 1, s->time[i]);
    sqlite3_bind_double(q, 4, s->open[i]);
    sqlite3_bind_double(q, 5, s->high[i]);
    sqlite3_bind_double(q, 6, s->low[i]);
    sqlite3_bind_double(q, 7, s->close[i]);
    sqlite3_bind_double(q, 8, s->volume[i]);
    if ((rc = run(db, q, "ohlcv", err)))
      goto out;
    sqlite3_reset(q);
  }
  if ((rc = apex_store__catalog_count(st, db, symbol, timeframe, t0, t1, &after, err)) ||
      (rc = apex_store__catalog_add(st, db, symbol, timeframe, t0, t1, after - before, err)) ||
      (rc = exec(db, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    rollback(db);
  sqlite3_finalize(q);
  DONE(st, db);
  return rc;
}

static apex_err sq_ohlcv_get(apex_store *st, const char *symbol, const char *timeframe, int64_t start, int64_t end,
                             size_t limit, apex_series **out, apex_error *err)
{
  sqlite3 *db = CONN(st);
  sqlite3_stmt *q = NULL;
  apex_series *s = apex_series_new(limit && limit < 1024 ? limit : 1024);
  apex_err rc;
  int r;

  if (!s) {
    rc = apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
    goto out;
  }
  if ((rc = prep(db,
                 "SELECT time, open, high, low, close, volume FROM ohlcv WHERE symbol = ?1 AND timeframe = ?2 "
                 "AND time >= ?3 AND time < ?4 ORDER BY time LIMIT ?5",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, symbol, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, timeframe, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 3, start);
  sqlite3_bind_int64(q, 4, end);
  sqlite3_bind_int64(q, 5, limit && limit < INT64_MAX ? (int64_t)limit : -1);
  while ((r = sqlite3_step(q)) == SQLITE_ROW) {
    apex_bar b = {sqlite3_column_int64(q, 0), sqlite3_column_double(q, 1), sqlite3_column_double(q, 2),
                  sqlite3_column_double(q, 3), sqlite3_column_double(q, 4), sqlite3_column_double(q, 5)};
    if (apex_series_append(s, &b)) {
      rc = apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
      goto out;
    }
  }
  if (r != SQLITE_DONE)
    rc = fail(db, r, "ohlcv", err);
out:
  if (rc) {
    apex_series_free(s);
    s = NULL;
  }
  *out = s;
  sqlite3_finalize(q);
  DONE(st, db);
  return rc;
}


/* --- portfolios, positions, trades, equity history --- */

static void bind_opt_amount(sqlite3_stmt *st, int i, apex_dec d) /* APEX_DEC_NONE: NULL */
{
  if (d != APEX_DEC_NONE)
    sqlite3_bind_int64(st, i, d);
  else
    sqlite3_bind_null(st, i);
}
static apex_dec col_opt_amount(sqlite3_stmt *st, int i)
{
  return sqlite3_column_type(st, i) == SQLITE_NULL ? APEX_DEC_NONE : sqlite3_column_int64(st, i);
}

#define PF_COLS                                                                                                    \
  "id, user_id, name, description, base_currency, is_paper, broker, initial_balance, cash_balance, is_active, "  \
  "created_at, updated_at"

static apex_err read_portfolio(sqlite3_stmt *q, apex_portfolio_row *r, apex_error *err)
{
  memset(r, 0, sizeof *r);
  col_copy(q, 0, r->id, sizeof r->id);
  col_copy(q, 1, r->user_id, sizeof r->user_id);
  col_copy(q, 2, r->name, sizeof r->name);
  col_copy(q, 4, r->base_currency, sizeof r->base_currency);
  r->is_paper = sqlite3_column_int(q, 5) != 0;
  col_copy(q, 6, r->broker, sizeof r->broker);
  r->initial_balance = sqlite3_column_int64(q, 7);
  r->cash_balance = sqlite3_column_int64(q, 8);
  r->is_active = sqlite3_column_int(q, 9) != 0;
  r->created_at = sqlite3_column_int64(q, 10);
  r->updated_at = sqlite3_column_int64(q, 11);
  if (col_dup(q, 3, &r->description))
    return apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
  return APEX_OK;
}

/* Binds ?1..?12 in PF_COLS order. */
static void bind_portfolio(sqlite3_stmt *q, const apex_portfolio_row *r)
{
  sqlite3_bind_text(q, 1, r->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, r->user_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, r->name, -1, SQLITE_STATIC);
  if (r->description)
    sqlite3_bind_text(q, 4, r->description, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(q, 4);
  sqlite3_bind_text(q, 5, r->base_currency, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 6, r->is_paper);
  bind_text(q, 7, r->broker);
  sqlite3_bind_int64(q, 8, r->initial_balance);
  sqlite3_bind_int64(q, 9, r->cash_balance);
  sqlite3_bind_int(q, 10, r->is_active);
  sqlite3_bind_int64(q, 11, r->created_at);
  sqlite3_bind_int64(q, 12, r->updated_at);
}

static apex_err sq_portfolio_insert(apex_store *s, const apex_portfolio_row *r, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db, "INSERT INTO portfolios (" PF_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                 &q, err)))
    goto out;
  bind_portfolio(q, r);
  rc = run(db, q, "portfolio", err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_portfolio_get(apex_store *s, const char *user_id, const char *id, apex_portfolio_row *out,
                                 apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db, "SELECT " PF_COLS " FROM portfolios WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)", &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  bind_text(q, 2, user_id);
  if ((rc = row(db, q, "portfolio", err)))
    goto out;
  rc = read_portfolio(q, out, err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_portfolio_list(apex_store *s, const char *user_id, const apex_page *p, apex_portfolio_row *rows,
                                  size_t *n, int64_t *total, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *c = NULL, *q = NULL;
  apex_err rc;
  int r;
  if ((rc = prep(db,
                 p->desc ? "SELECT " PF_COLS " FROM portfolios WHERE user_id = ?1 ORDER BY created_at DESC, id DESC "
                           "LIMIT ?2 OFFSET ?3"
                         : "SELECT " PF_COLS " FROM portfolios WHERE user_id = ?1 ORDER BY created_at, id "
                           "LIMIT ?2 OFFSET ?3",
                 &q, err)) ||
      (rc = prep(db, "SELECT count(*) FROM portfolios WHERE user_id = ?1", &c, err)))
    goto out;
  sqlite3_bind_text(c, 1, user_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 1, user_id, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, p->limit);
  sqlite3_bind_int64(q, 3, (int64_t)(p->page - 1) * p->limit);
  if ((rc = count_rows(db, c, total, err)))
    goto out;
  while ((r = sqlite3_step(q)) == SQLITE_ROW && *n < (size_t)p->limit) {
    if ((rc = read_portfolio(q, &rows[*n], err)))
      goto out;
    (*n)++;
  }
  if (r != SQLITE_DONE && r != SQLITE_ROW)
    rc = fail(db, r, "portfolios", err);
out:
  if (rc) {
    for (size_t i = 0; i < *n; i++)
      apex_portfolio_row_clear(&rows[i]);
    *n = 0;
  }
  sqlite3_finalize(c);
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_portfolio_update(apex_store *s, const apex_portfolio_row *r, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  /* ?6 (is_paper), ?8 (initial_balance) and ?11 (created_at) are bound but kept. */
  if ((rc = prep(db,
                 "UPDATE portfolios SET name = ?3, description = ?4, base_currency = ?5, broker = ?7, "
                 "cash_balance = ?9, is_active = ?10, updated_at = ?12 WHERE id = ?1 AND user_id = ?2",
                 &q, err)))
    goto out;
  bind_portfolio(q, r);
  rc = changed_one(db, q, "portfolio", err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_portfolio_delete(apex_store *s, const char *user_id, const char *id, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db, "DELETE FROM portfolios WHERE id = ?1 AND user_id = ?2", &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, user_id, -1, SQLITE_STATIC);
  rc = changed_one(db, q, "portfolio", err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

/* ENOTFOUND unless the portfolio is this user's (NULL: anyone's); then the row count of count_sql. */
static apex_err portfolio_child_total(sqlite3 *db, const char *user_id, const char *id, const char *count_sql,
                                      int64_t *total, apex_error *err)
{
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db, "SELECT 1 FROM portfolios WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)", &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  bind_text(q, 2, user_id);
  if ((rc = row(db, q, "portfolio", err)))
    goto out;
  sqlite3_finalize(q);
  q = NULL;
  if ((rc = prep(db, count_sql, &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  rc = count_rows(db, q, total, err);
out:
  sqlite3_finalize(q);
  return rc;
}

static apex_err sq_position_put(apex_store *s, const apex_position_row *r, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  if ((rc = prep(db,
                 "INSERT INTO positions (id, portfolio_id, symbol, quantity, average_entry_price, current_price, "
                 "unrealized_pnl, unrealized_pnl_pct, is_open, opened_at, closed_at, updated_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (id) DO UPDATE SET "
                 "symbol = excluded.symbol, quantity = excluded.quantity, "
                 "average_entry_price = excluded.average_entry_price, current_price = excluded.current_price, "
                 "unrealized_pnl = excluded.unrealized_pnl, unrealized_pnl_pct = excluded.unrealized_pnl_pct, "
                 "is_open = excluded.is_open, closed_at = excluded.closed_at, updated_at = excluded.updated_at "
                 "WHERE positions.portfolio_id = excluded.portfolio_id",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, r->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, r->portfolio_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, r->symbol, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 4, r->quantity);
  sqlite3_bind_int64(q, 5, r->average_entry_price);
  bind_opt_amount(q, 6, r->current_price);
  bind_opt_amount(q, 7, r->unrealized_pnl);
  bind_opt_amount(q, 8, r->unrealized_pnl_pct);
  sqlite3_bind_int(q, 9, r->is_open);
  sqlite3_bind_int64(q, 10, r->opened_at);
  bind_ms(q, 11, r->closed_at);
  sqlite3_bind_int64(q, 12, r->updated_at);
  /* No change: the id belongs to another portfolio's position. */
  rc = changed_one(db, q, "position", err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_positions(apex_store *s, const char *user_id, const char *portfolio_id, bool open_only, int page,
                             int limit, apex_position_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  int r;
  if ((rc = portfolio_child_total(db, user_id, portfolio_id,
                                  open_only ? "SELECT count(*) FROM positions WHERE portfolio_id = ?1 AND is_open = 1"
                                            : "SELECT count(*) FROM positions WHERE portfolio_id = ?1",
                                  total, err)) ||
      (rc = prep(db,
                 "SELECT id, portfolio_id, symbol, quantity, average_entry_price, current_price, unrealized_pnl, "
                 "unrealized_pnl_pct, is_open, opened_at, closed_at, updated_at FROM positions "
                 "WHERE portfolio_id = ?1 AND (?4 = 0 OR is_open = 1) ORDER BY symbol, opened_at, id "
                 "LIMIT ?2 OFFSET ?3",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, portfolio_id, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, limit);
  sqlite3_bind_int64(q, 3, (int64_t)(page - 1) * limit);
  sqlite3_bind_int(q, 4, open_only);
  while ((r = sqlite3_step(q)) == SQLITE_ROW && *n < (size_t)limit) {
    apex_position_row *p = &rows[(*n)++];
    memset(p, 0, sizeof *p);
    col_copy(q, 0, p->id, sizeof p->id);
    col_copy(q, 1, p->portfolio_id, sizeof p->portfolio_id);
    col_copy(q, 2, p->symbol, sizeof p->symbol);
    p->quantity = sqlite3_column_int64(q, 3);
    p->average_entry_price = sqlite3_column_int64(q, 4);
    p->current_price = col_opt_amount(q, 5);
    p->unrealized_pnl = col_opt_amount(q, 6);
    p->unrealized_pnl_pct = col_opt_amount(q, 7);
    p->is_open = sqlite3_column_int(q, 8) != 0;
    p->opened_at = sqlite3_column_int64(q, 9);
    p->closed_at = sqlite3_column_int64(q, 10);
    p->updated_at = sqlite3_column_int64(q, 11);
  }
  if (r != SQLITE_DONE && r != SQLITE_ROW)
    rc = fail(db, r, "positions", err);
out:
  if (rc)
    *n = 0;
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

#define PTRADE_COLS                                                                                                \
  "id, user_id, strategy_id, portfolio_id, symbol, side, order_type, quantity, price, filled_quantity, "          \
  "filled_price, commission, slippage, status, broker_order_id, realized_pnl, is_paper, created_at, "             \
  "submitted_at, filled_at"

static apex_err sq_portfolio_trade_insert(apex_store *s, const apex_portfolio_trade_row *r, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  /* Inserted only into the same user's portfolio: otherwise nothing changes (ENOTFOUND). */
  if ((rc = prep(db,
                 "INSERT INTO trades (" PTRADE_COLS ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                 "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20 "
                 "WHERE EXISTS (SELECT 1 FROM portfolios WHERE id = ?4 AND user_id = ?2)",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, r->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, r->user_id, -1, SQLITE_STATIC);
  bind_text(q, 3, r->strategy_id);
  sqlite3_bind_text(q, 4, r->portfolio_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 5, r->symbol, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 6, r->side, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 7, r->order_type, -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 8, r->quantity);
  bind_opt_amount(q, 9, r->price);
  sqlite3_bind_int64(q, 10, r->filled_quantity);
  bind_opt_amount(q, 11, r->filled_price);
  sqlite3_bind_int64(q, 12, r->commission);
  sqlite3_bind_int64(q, 13, r->slippage);
  sqlite3_bind_text(q, 14, r->status[0] ? r->status : "pending", -1, SQLITE_STATIC);
  bind_text(q, 15, r->broker_order_id);
  bind_opt_amount(q, 16, r->realized_pnl);
  sqlite3_bind_int(q, 17, r->is_paper);
  sqlite3_bind_int64(q, 18, r->created_at);
  bind_ms(q, 19, r->submitted_at);
  bind_ms(q, 20, r->filled_at);
  rc = changed_one(db, q, "portfolio", err);
out:
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_portfolio_trades(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                                    apex_portfolio_trade_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  int r;
  if ((rc = portfolio_child_total(db, user_id, portfolio_id, "SELECT count(*) FROM trades WHERE portfolio_id = ?1",
                                  total, err)) ||
      (rc = prep(db,
                 "SELECT " PTRADE_COLS " FROM trades WHERE portfolio_id = ?1 ORDER BY created_at DESC, id DESC "
                 "LIMIT ?2 OFFSET ?3",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, portfolio_id, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, limit);
  sqlite3_bind_int64(q, 3, (int64_t)(page - 1) * limit);
  while ((r = sqlite3_step(q)) == SQLITE_ROW && *n < (size_t)limit) {
    apex_portfolio_trade_row *t = &rows[(*n)++];
    memset(t, 0, sizeof *t);
    col_copy(q, 0, t->id, sizeof t->id);
    col_copy(q, 1, t->user_id, sizeof t->user_id);
    col_copy(q, 2, t->strategy_id, sizeof t->strategy_id);
    col_copy(q, 3, t->portfolio_id, sizeof t->portfolio_id);
    col_copy(q, 4, t->symbol, sizeof t->symbol);
    col_copy(q, 5, t->side, sizeof t->side);
    col_copy(q, 6, t->order_type, sizeof t->order_type);
    t->quantity = sqlite3_column_int64(q, 7);
    t->price = col_opt_amount(q, 8);
    t->filled_quantity = sqlite3_column_int64(q, 9);
    t->filled_price = col_opt_amount(q, 10);
    t->commission = sqlite3_column_int64(q, 11);
    t->slippage = sqlite3_column_int64(q, 12);
    col_copy(q, 13, t->status, sizeof t->status);
    col_copy(q, 14, t->broker_order_id, sizeof t->broker_order_id);
    t->realized_pnl = col_opt_amount(q, 15);
    t->is_paper = sqlite3_column_int(q, 16) != 0;
    t->created_at = sqlite3_column_int64(q, 17);
    t->submitted_at = sqlite3_column_int64(q, 18);
    t->filled_at = sqlite3_column_int64(q, 19);
  }
  if (r != SQLITE_DONE && r != SQLITE_ROW)
    rc = fail(db, r, "trades", err);
out:
  if (rc)
    *n = 0;
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_equity_put(apex_store *s, const char *portfolio_id, const apex_equity_row *rows, size_t n,
                              apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  bool in_tx = false;
  if ((rc = prep(db,
                 "INSERT INTO equity_history (time, portfolio_id, equity_value, cash_balance, positions_value, "
                 "daily_pnl, daily_pnl_pct) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                 "ON CONFLICT (time, portfolio_id) DO UPDATE SET equity_value = excluded.equity_value, "
                 "cash_balance = excluded.cash_balance, positions_value = excluded.positions_value, "
                 "daily_pnl = excluded.daily_pnl, daily_pnl_pct = excluded.daily_pnl_pct",
                 &q, err)) ||
      (rc = exec(db, "BEGIN IMMEDIATE", err)))
    goto out;
  in_tx = true;
  sqlite3_bind_text(q, 2, portfolio_id, -1, SQLITE_STATIC);
  for (size_t i = 0; i < n; i++) {
    sqlite3_bind_int64(q, 1, rows[i].time);
    sqlite3_bind_int64(q, 3, rows[i].equity_value);
    sqlite3_bind_int64(q, 4, rows[i].cash_balance);
    sqlite3_bind_int64(q, 5, rows[i].positions_value);
    bind_opt_amount(q, 6, rows[i].daily_pnl);
    bind_opt_amount(q, 7, rows[i].daily_pnl_pct);
    if ((rc = run(db, q, "equity", err)))
      goto out;
    sqlite3_reset(q);
  }
  if ((rc = exec(db, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    rollback(db);
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static apex_err sq_equity(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                          apex_equity_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  sqlite3 *db = CONN(s);
  sqlite3_stmt *q = NULL;
  apex_err rc;
  int r;
  if ((rc = portfolio_child_total(db, user_id, portfolio_id,
                                  "SELECT count(*) FROM equity_history WHERE portfolio_id = ?1", total, err)) ||
      (rc = prep(db,
                 "SELECT time, equity_value, cash_balance, positions_value, daily_pnl, daily_pnl_pct "
                 "FROM equity_history WHERE portfolio_id = ?1 ORDER BY time LIMIT ?2 OFFSET ?3",
                 &q, err)))
    goto out;
  sqlite3_bind_text(q, 1, portfolio_id, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, limit);
  sqlite3_bind_int64(q, 3, (int64_t)(page - 1) * limit);
  while ((r = sqlite3_step(q)) == SQLITE_ROW && *n < (size_t)limit) {
    apex_equity_row *e = &rows[(*n)++];
    e->time = sqlite3_column_int64(q, 0);
    e->equity_value = sqlite3_column_int64(q, 1);
    e->cash_balance = sqlite3_column_int64(q, 2);
    e->positions_value = sqlite3_column_int64(q, 3);
    e->daily_pnl = col_opt_amount(q, 4);
    e->daily_pnl_pct = col_opt_amount(q, 5);
  }
  if (r != SQLITE_DONE && r != SQLITE_ROW)
    rc = fail(db, r, "equity", err);
out:
  if (rc)
    *n = 0;
  sqlite3_finalize(q);
  DONE(s, db);
  return rc;
}

static const apex_store_ops SQLITE_OPS = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = sq_migrate,
    .migration_status = sq_migration_status,
    .ping = sq_ping,
    .backtest_insert = sq_backtest_insert,
    .backtest_get = sq_backtest_get,
    .backtest_list = sq_backtest_list,
    .backtest_set_status = sq_backtest_set_status,
    .backtest_finish = sq_backtest_finish,
    .backtest_trades = sq_backtest_trades,
    .backtest_equity = sq_backtest_equity,
    .ohlcv_put = sq_ohlcv_put,
    .ohlcv_get = sq_ohlcv_get,
    .portfolio_insert = sq_portfolio_insert,
    .portfolio_get = sq_portfolio_get,
    .portfolio_list = sq_portfolio_list,
    .portfolio_update = sq_portfolio_update,
    .portfolio_delete = sq_portfolio_delete,
    .position_put = sq_position_put,
    .positions = sq_positions,
    .portfolio_trade_insert = sq_portfolio_trade_insert,
    .portfolio_trades = sq_portfolio_trades,
    .equity_put = sq_equity_put,
    .equity = sq_equity,
};
