/* sqlite.c - the SQLite backend of store.h, and the only file that includes <sqlite3.h>.
 * WAL, foreign keys, 5 s busy timeout; a few connections so readers run side by side (WAL) while
 * writers take the one write lock in turn. Money is INTEGER units of 1e-8, times INTEGER ms. */
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

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

#define CONN(s) ((sqlite3 *)apex_store__pool_acquire(&(s)->pool))
#define DONE(s, db) apex_store__pool_release(&(s)->pool, (db))

/* --- the SQL driver (store_impl.h) under the entity functions written once --- */

/* Rows are kept as typed cells with their texts in one buffer: a sqlite3_value_dup per cell was
 * an allocation or two for every column of every row. */
typedef struct sd_cell {
  int type;     /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL */
  int64_t i;
  double f;
  size_t off;   /* TEXT, BLOB: NUL-terminated at r->buf + off */
  char num[32]; /* a number's text, written when first asked for */
} sd_cell;
struct apex_sql_res {
  int nrows, ncols, cap; /* cap: cells */
  sd_cell *cells;
  char *buf;
  size_t len, bcap;
  int64_t changed;
};

static void sd_free(apex_sql_res *r)
{
  if (!r)
    return;
  free(r->cells);
  free(r->buf);
  free(r);
}

/* Appends the current row of q; false when out of memory. */
static bool sd_keep_row(apex_sql_res *r, sqlite3_stmt *q)
{
  if ((r->nrows + 1) * r->ncols > r->cap) {
    int nc = r->cap ? r->cap * 2 : 16 * (r->ncols ? r->ncols : 1);
    sd_cell *ncells = realloc(r->cells, (size_t)nc * sizeof *ncells);
    if (!ncells)
      return false;
    r->cells = ncells;
    r->cap = nc;
  }
  for (int c = 0; c < r->ncols; c++) {
    sd_cell *e = &r->cells[r->nrows * r->ncols + c];
    e->type = sqlite3_column_type(q, c);
    e->num[0] = '\0';
    if (e->type == SQLITE_INTEGER) {
      e->i = sqlite3_column_int64(q, c);
    } else if (e->type == SQLITE_FLOAT) {
      e->f = sqlite3_column_double(q, c);
    } else if (e->type == SQLITE_TEXT || e->type == SQLITE_BLOB) {
      const void *p = e->type == SQLITE_TEXT ? (const void *)sqlite3_column_text(q, c) : sqlite3_column_blob(q, c);
      size_t n = (size_t)sqlite3_column_bytes(q, c);
      if (r->len + n + 1 > r->bcap) {
        size_t ncap = r->bcap ? r->bcap : 1024;
        while (ncap < r->len + n + 1)
          ncap *= 2;
        char *nb = realloc(r->buf, ncap);
        if (!nb)
          return false;
        r->buf = nb;
        r->bcap = ncap;
      }
      if (n)
        memcpy(r->buf + r->len, p, n);
      r->buf[r->len + n] = '\0';
      e->off = r->len;
      r->len += n + 1;
    }
  }
  r->nrows++;
  return true;
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
  case APEX_SQL_TS: /* INTEGER ms */
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
  /* What readiness (sq_ping) reports, beyond a query that works: */
  char path[1024];             /* the file opened, and its identity then: deleted or replaced later, */
  dev_t dev;                   /* the server would write into a file no one will ever open again */
  ino_t ino;
  pthread_mutex_t mu;          /* guards the two messages below */
  char corrupt[256];           /* the first corruption met by any query (sticky: the file needs repair) */
  char write_failed[256];      /* the last write failure (disk full, I/O error) until a write works again */
} sq_impl;

/* The file opened is no longer at its path (deleted, or another file put there). */
static bool file_gone(apex_store *s)
{
  sq_impl *im = s ? s->impl : NULL;
  struct stat st;
  return im && im->path[0] && (stat(im->path, &st) || st.st_dev != im->dev || st.st_ino != im->ino);
}

/* Remembers a failure readiness must report: corruption for good, a failed write until the
 * next write probe succeeds. */
static void note_failure(apex_store *s, sqlite3 *db, int st)
{
  sq_impl *im = s ? s->impl : NULL;
  int prim = st & 0xff;
  if (!im || (prim != SQLITE_CORRUPT && prim != SQLITE_NOTADB && prim != SQLITE_FULL && prim != SQLITE_IOERR &&
              prim != SQLITE_READONLY))
    return;
  pthread_mutex_lock(&im->mu);
  if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB) {
    if (!im->corrupt[0])
      snprintf(im->corrupt, sizeof im->corrupt, "%s", sqlite3_errmsg(db));
  } else {
    snprintf(im->write_failed, sizeof im->write_failed, "%s", sqlite3_errmsg(db));
  }
  pthread_mutex_unlock(&im->mu);
}

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
      note_failure(s, db, st);
      rc = fail(db, st, "prepare", err);
      goto out;
    }
    /* Only a whole text can be found again by its text (the driver runs one statement). */
    if (cache && q && tail && !*tail) {
      sd_cache_put(cache, sql, q);
      cached = true;
    }
  }
  /* A write into a file that was deleted or replaced since it was opened would answer "done" and be
   * lost at the next start: refuse it. One stat per write outside a transaction, and one per
   * transaction at its COMMIT (which SQLite calls read-only), so a transaction of many writes
   * pays once; reads go on. */
  bool check = sqlite3_get_autocommit(db) ? !sqlite3_stmt_readonly(q) : !strncmp(sql, "COMMIT", 6);
  if (check && file_gone(s)) {
    rc = apex_error_set(err, APEX_EIO, "sqlite: the database file was deleted or replaced while the server runs");
    goto out;
  }
  /* SQLite numbers "$1", "$2" by first appearance: bind each by the number in its name. */
  for (int k = 1, np = sqlite3_bind_parameter_count(q); k <= np; k++) {
    const char *name = sqlite3_bind_parameter_name(q, k);
    int i = name && name[0] == '$' ? atoi(name + 1) - 1 : -1;
    if (i >= 0 && i < n)
      sd_bind(q, k, &a[i]);
  }
  r->ncols = sqlite3_column_count(q);
  while ((st = sqlite3_step(q)) == SQLITE_ROW)
    if (!sd_keep_row(r, q)) {
      rc = apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
      goto out;
    }
  if (st != SQLITE_DONE) {
    note_failure(s, db, st);
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

/* The conversions SQLite's sqlite3_value_* make between a cell's type and the one asked for. */
static sd_cell *sd_v(const apex_sql_res *r, int row, int col) { return &r->cells[row * r->ncols + col]; }
static int sd_rows(const apex_sql_res *r) { return r->nrows; }
static int64_t sd_changed(const apex_sql_res *r) { return r->changed; }
static bool sd_is_null(const apex_sql_res *r, int row, int col) { return sd_v(r, row, col)->type == SQLITE_NULL; }
static const char *sd_text(const apex_sql_res *r, int row, int col)
{
  sd_cell *e = sd_v(r, row, col);
  if (e->type == SQLITE_TEXT || e->type == SQLITE_BLOB)
    return r->buf + e->off;
  if (e->type == SQLITE_NULL)
    return NULL;
  if (e->num[0])
    return e->num;
  if (e->type == SQLITE_INTEGER)
    sqlite3_snprintf((int)sizeof e->num, e->num, "%lld", (sqlite3_int64)e->i);
  else /* SQLite's own text for a REAL */
    sqlite3_snprintf((int)sizeof e->num, e->num, "%!.15g", e->f);
  return e->num;
}
static int64_t sd_i64(const apex_sql_res *r, int row, int col)
{
  const sd_cell *e = sd_v(r, row, col);
  return e->type == SQLITE_INTEGER ? e->i
         : e->type == SQLITE_FLOAT ? (int64_t)e->f
         : e->type == SQLITE_TEXT  ? strtoll(r->buf + e->off, NULL, 10)
                                   : 0;
}
static apex_dec sd_dec(const apex_sql_res *r, int row, int col)
{
  return sd_is_null(r, row, col) ? APEX_DEC_NONE : sd_i64(r, row, col);
}
static double sd_f64(const apex_sql_res *r, int row, int col)
{
  const sd_cell *e = sd_v(r, row, col);
  return e->type == SQLITE_FLOAT ? e->f
         : e->type == SQLITE_INTEGER ? (double)e->i
         : e->type == SQLITE_TEXT    ? strtod(r->buf + e->off, NULL)
                                     : 0;
}
static bool sd_bool(const apex_sql_res *r, int row, int col) { return sd_i64(r, row, col) != 0; }

/* --- bulk loads (the driver's copy_in) --- */

#define COPY_ROWS 64 /* rows per INSERT: amortises each statement's run over many rows */
#define COPY_COLS 32

/* "INSERT INTO table (cols) VALUES (?, ...), ... upsert" for rows rows; only our constant names. */
static apex_err sd_copy_prepare(sqlite3 *db, const apex_sql_copy *cp, size_t rows, sqlite3_stmt **q,
                                apex_error *err)
{
  size_t cap = strlen(cp->table) + strlen(cp->cols) + (cp->upsert ? strlen(cp->upsert) : 0) + 64 +
               rows * ((size_t)cp->ncols * 2 + 3);
  char *sql = malloc(cap);
  size_t k;
  if (!sql)
    return apex_error_set(err, APEX_ENOMEM, "sqlite: out of memory");
  k = (size_t)snprintf(sql, cap, "INSERT INTO %s (%s) VALUES ", cp->table, cp->cols);
  for (size_t r = 0; r < rows; r++) {
    sql[k++] = r ? ',' : '(';
    if (r)
      sql[k++] = '(';
    for (int c = 0; c < cp->ncols; c++) {
      sql[k++] = c ? ',' : '?';
      if (c)
        sql[k++] = '?';
    }
    sql[k++] = ')';
  }
  snprintf(sql + k, cap - k, " %s", cp->upsert ? cp->upsert : "");
  apex_err rc = prep(db, sql, q, err);
  free(sql);
  return rc;
}

static apex_err sd_copy_in(apex_store *s, void *conn, const apex_sql_copy *cp, apex_error *err)
{
  sqlite3 *db = conn;
  sqlite3_stmt *full = NULL, *part = NULL;
  apex_sql_arg a[COPY_COLS];
  size_t per = COPY_ROWS, maxv = (size_t)sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
  apex_err rc = APEX_OK;
  (void)s;

  if (cp->ncols < 1 || cp->ncols > COPY_COLS)
    return apex_error_set(err, APEX_EINVAL, "sqlite: copy of %d columns (at most %d)", cp->ncols, COPY_COLS);
  if (per * (size_t)cp->ncols > maxv)
    per = maxv / (size_t)cp->ncols;
  for (size_t i = 0; i < cp->nrows && !rc;) {
    size_t k = cp->nrows - i < per ? cp->nrows - i : per;
    sqlite3_stmt **q = k == per ? &full : &part; /* only the last batch is shorter */
    if (!*q && (rc = sd_copy_prepare(db, cp, k, q, err)))
      break;
    for (size_t r = 0; r < k && !rc; r++)
      if (!(rc = cp->row(cp->ctx, i + r, a, err)))
        for (int c = 0; c < cp->ncols; c++)
          sd_bind(*q, (int)(r * (size_t)cp->ncols) + c + 1, &a[c]);
    if (!rc) {
      int st = sqlite3_step(*q);
      if (st != SQLITE_DONE)
        rc = fail(db, st, cp->table, err);
    }
    sqlite3_reset(*q);
    i += k;
  }
  sqlite3_finalize(full);
  sqlite3_finalize(part);
  return rc;
}

static const apex_sql_driver SQLITE_SQL = {
    .query = sd_query, .rows = sd_rows, .changed = sd_changed, .is_null = sd_is_null, .text = sd_text,
    .i64 = sd_i64, .dec = sd_dec, .f64 = sd_f64, .boolean = sd_bool, .res_free = sd_free,
    .begin_write = "BEGIN IMMEDIATE", /* take the write lock first: no deadlock upgrading a reader */
    .copy_in = sd_copy_in,
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
  if (im)
    pthread_mutex_destroy(&im->mu);
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
  struct stat fst;
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
  pthread_mutex_init(&im->mu, NULL);
  if (strcmp(path, ":memory:") && !stat(path, &fst) && strlen(path) < sizeof im->path) {
    snprintf(im->path, sizeof im->path, "%s", path);
    im->dev = fst.st_dev;
    im->ino = fst.st_ino;
  }
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

#define MIN_FREE_MB 64 /* below this, writes are about to fail: not ready */

/* Bytes the database and its WAL can still grow by: the disk's free space, or less when the
 * process has a file size limit (RLIMIT_FSIZE, which a container or ulimit may set). */
static double room(const char *path)
{
  struct statvfs vfs;
  struct rlimit lim;
  double free_b = statvfs(path, &vfs) ? 1e300 : (double)vfs.f_bavail * (double)vfs.f_frsize;
  if (!getrlimit(RLIMIT_FSIZE, &lim) && lim.rlim_cur != RLIM_INFINITY) {
    char wal[1100];
    struct stat st;
    double biggest = stat(path, &st) ? 0 : (double)st.st_size;
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (!stat(wal, &st) && (double)st.st_size > biggest)
      biggest = (double)st.st_size;
    if ((double)lim.rlim_cur - biggest < free_b)
      free_b = (double)lim.rlim_cur - biggest;
  }
  return free_b;
}

/* Ready means the database can be read and written where it was opened: the same file (not
 * deleted or replaced), no corruption met, the schema readable, the last failed write healed by a
 * write that works, and room left on its disk. Messages name the file, never a URL. */
static apex_err sq_ping(apex_store *s, apex_error *err)
{
  sq_impl *im = s->impl;
  char corrupt[256], write_failed[256];
  pthread_mutex_lock(&im->mu);
  snprintf(corrupt, sizeof corrupt, "%s", im->corrupt);
  snprintf(write_failed, sizeof write_failed, "%s", im->write_failed);
  pthread_mutex_unlock(&im->mu);
  if (corrupt[0])
    return apex_error_set(err, APEX_EIO, "sqlite: %s is corrupt (%s): restore a backup", im->path, corrupt);
  if (file_gone(s))
    return apex_error_set(err, APEX_EIO, "sqlite: %s was deleted or replaced while the server runs: restart it",
                          im->path);
  sqlite3 *db = CONN(s);
  apex_err rc = exec(db, "SELECT count(*) FROM sqlite_master", err);
  bool unhealed = false;
  if (!rc && write_failed[0]) {
    /* Rewriting the header's user_version is a real, tiny commit: it works once the disk does. */
    int r = sqlite3_exec(db, "BEGIN IMMEDIATE; PRAGMA user_version = 0; COMMIT", NULL, NULL, NULL);
    if (r == SQLITE_OK) {
      pthread_mutex_lock(&im->mu);
      im->write_failed[0] = '\0';
      pthread_mutex_unlock(&im->mu);
    } else {
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
      unhealed = true;
    }
  }
  DONE(s, db);
  if (rc)
    return rc;
  /* A full disk is told as such even when it is why writes fail: that names what to fix. */
  if (im->path[0] && room(im->path) < MIN_FREE_MB * 1048576.0)
    return apex_error_set(err, APEX_EIO, "sqlite: less than %d MiB left to write %s (disk space or file size limit)",
                          MIN_FREE_MB, im->path);
  if (unhealed)
    return apex_error_set(err, APEX_EIO, "sqlite: writes to %s fail: %s", im->path, write_failed);
  return APEX_OK;
}

/* PRAGMA quick_check reads every page. It runs on a connection of its own, opened for it: the
 * pool's connections keep pages in their caches across transactions (WAL), so they could pass a
 * page that is damaged on disk, and a check that takes seconds per GiB must not hold one of the
 * few pooled connections from requests. An in-memory database has only its pooled connection. */
static apex_err sq_check(apex_store *s, apex_error *err)
{
  /* Not sq_ping: a nearly full disk makes the server unready, it does not keep it from starting. */
  sq_impl *im = s->impl;
  apex_err rc = APEX_OK;
  sqlite3 *db = NULL;
  bool own = im->path[0] != '\0';
  sqlite3_stmt *q = NULL;
  char first[200] = "";
  if (own) {
    int r = sqlite3_open_v2(im->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (r != SQLITE_OK) {
      rc = apex_error_set(err, r == SQLITE_NOMEM ? APEX_ENOMEM : APEX_EIO, "sqlite: cannot open %s to check it: %s",
                          im->path, db ? sqlite3_errmsg(db) : sqlite3_errstr(r));
      sqlite3_close_v2(db);
      return rc;
    }
    sqlite3_busy_timeout(db, BUSY_MS);
  } else {
    db = CONN(s);
  }
  int st = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &q, NULL);
  if (st == SQLITE_OK)
    st = sqlite3_step(q);
  if (st == SQLITE_ROW) {
    snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(q, 0));
  } else if ((st & 0xff) == SQLITE_CORRUPT || (st & 0xff) == SQLITE_NOTADB) {
    snprintf(first, sizeof first, "%s", sqlite3_errmsg(db));
  } else if (st != SQLITE_DONE) {
    /* Busy, out of memory, an I/O error: the check did not run, which says nothing of the pages
     * (and must not mark the file corrupt for good). */
    rc = apex_error_set(err, st == SQLITE_NOMEM ? APEX_ENOMEM : APEX_EIO, "sqlite: cannot check %s: %s",
                        own ? im->path : ":memory:", sqlite3_errmsg(db));
  }
  sqlite3_finalize(q);
  if (own)
    sqlite3_close_v2(db);
  else
    DONE(s, db);
  if (!rc && strcmp(first, "ok")) {
    pthread_mutex_lock(&im->mu);
    snprintf(im->corrupt, sizeof im->corrupt, "%s", first);
    pthread_mutex_unlock(&im->mu);
    rc = apex_error_set(err, APEX_EIO, "sqlite: %s is corrupt (%s): restore a backup", im->path, first);
  }
  return rc;
}

/* Copies every page of from into to in one step: one read transaction on from, so the copy is a
 * single snapshot even while other connections commit. */
static apex_err copy_db(sqlite3 *from, sqlite3 *to, const char *what, apex_error *err)
{
  sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
  if (!b)
    return apex_error_set(err, APEX_EIO, "sqlite: %s: %s", what, sqlite3_errmsg(to));
  int st = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (st != SQLITE_DONE)
    return apex_error_set(err, APEX_EIO, "sqlite: %s: %s", what, sqlite3_errstr(st));
  return APEX_OK;
}

static apex_err sq_backup(apex_store *s, const char *dest, apex_error *err)
{
  sqlite3 *to = NULL;
  struct stat st;
  if (!stat(dest, &st))
    return apex_error_set(err, APEX_ECONFLICT, "backup: %s exists; name a new file", dest);
  int r = sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (r != SQLITE_OK) {
    apex_err rc = apex_error_set(err, APEX_EIO, "backup: cannot create %s: %s", dest,
                                 to ? sqlite3_errmsg(to) : sqlite3_errstr(r));
    sqlite3_close_v2(to);
    return rc;
  }
  sqlite3 *db = CONN(s);
  apex_err rc = copy_db(db, to, "backup", err);
  DONE(s, db);
  /* The copy is one file: no WAL beside it to lose when it is moved. */
  if (!rc)
    rc = exec(to, "PRAGMA journal_mode=DELETE", err);
  sqlite3_close_v2(to);
  if (rc)
    unlink(dest);
  return rc;
}

apex_err apex_store_restore_sqlite(const char *src, const char *db_path, apex_error *err)
{
  sqlite3 *from = NULL, *to = NULL;
  sqlite3_stmt *q = NULL;
  apex_err rc = APEX_OK;
  char first[200] = "";
  int r = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL);
  if (r != SQLITE_OK) {
    rc = apex_error_set(err, APEX_EIO, "restore: cannot open %s: %s", src, from ? sqlite3_errmsg(from) : sqlite3_errstr(r));
    goto out;
  }
  /* Whole and ours, before anything of the current database is touched. */
  if ((rc = prep(from, "PRAGMA quick_check(1)", &q, err)))
    goto bad;
  if (sqlite3_step(q) == SQLITE_ROW)
    snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  q = NULL;
  if (strcmp(first, "ok")) {
    rc = apex_error_set(err, APEX_EDATA, "restore: %s is not a whole database (%s)", src,
                        first[0] ? first : sqlite3_errmsg(from));
    goto out;
  }
  if (exec(from, "SELECT 1 FROM schema_migrations LIMIT 1", err)) {
    rc = apex_error_set(err, APEX_EDATA, "restore: %s is not an ApexTrade database (no schema_migrations)", src);
    goto out;
  }
  r = sqlite3_open_v2(db_path, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (r != SQLITE_OK) {
    rc = apex_error_set(err, APEX_EIO, "restore: cannot open %s: %s", db_path, to ? sqlite3_errmsg(to) : sqlite3_errstr(r));
    goto out;
  }
  sqlite3_busy_timeout(to, BUSY_MS);
  if (!(rc = copy_db(from, to, "restore", err)))
    rc = exec(to, "PRAGMA journal_mode=WAL", err);
  goto out;
bad:
  apex_error_set(err, APEX_EDATA, "restore: %s is not a database: %s", src, sqlite3_errmsg(from));
  rc = APEX_EDATA;
out:
  sqlite3_finalize(q);
  sqlite3_close_v2(from);
  sqlite3_close_v2(to);
  return rc;
}

static const apex_store_ops SQLITE_OPS = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = sq_migrate,
    .migration_status = sq_migration_status,
    .ping = sq_ping,
    .check = sq_check,
    .backup = sq_backup,
};
