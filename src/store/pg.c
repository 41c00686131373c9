/* pg.c - the PostgreSQL backend of store.h, and the only file that includes <libpq-fe.h>.
 * A pool of connections; NUMERIC money sent and read as exact decimal text, TIMESTAMPTZ times
 * through apex_ts()/apex_ms() (migration 0001), UUID ids, JSONB documents; candles by COPY. */
#include <libpq-events.h>
#include <libpq-fe.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "store/store_impl.h"

static const apex_store_ops PG_OPS;

/* Month partitions already known to exist (native partitioning), so each is checked once. */
typedef struct pg_impl {
  pthread_mutex_t mu;
  int *months; /* year * 12 + month - 1 */
  size_t n_months, cap_months;
} pg_impl;

/* --- parameters: text values, NULL for SQL NULL --- */

#define MAXP 20
typedef struct params {
  const char *v[MAXP];
  char buf[MAXP][APEX_DEC_STR_MAX + 8];
  int n;
} params;

static void p_text(params *p, const char *s) { p->v[p->n++] = s; } /* NULL stays NULL, "" stays "" */

/* --- results --- */

static const char *g_str(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}
static int64_t g_i64(const PGresult *r, int row, int col) /* NULL: 0 */
{
  const char *s = g_str(r, row, col);
  return s ? strtoll(s, NULL, 10) : 0;
}
static bool g_bool(const PGresult *r, int row, int col) { return PQgetvalue(r, row, col)[0] == 't'; }

/* Maps a failed result: unique keys taken ECONFLICT, missing parents ENOTFOUND, bad values EINVAL. */
static apex_err fail_res(PGconn *c, PGresult *r, const char *what, apex_error *err)
{
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  char m[400];
  apex_store__copy(m, sizeof m, msg && *msg ? msg : PQerrorMessage(c));
  for (char *p = m; *p; p++)
    if (*p == '\n')
      *p = ' ';
  if (!r)
    return apex_error_set(err, APEX_ENOMEM, "pg: %s: %s", what, m);
  if (state && !strcmp(state, "23505"))
    return apex_error_set(err, APEX_ECONFLICT, "pg: %s: %s", what, m);
  if (state && !strcmp(state, "23503"))
    return apex_error_set(err, APEX_ENOTFOUND, "pg: %s: a referenced row does not exist", what);
  if (state && !strncmp(state, "22", 2))
    return apex_error_set(err, APEX_EINVAL, "pg: %s: %s", what, m);
  return apex_error_set(err, APEX_EIO, "pg: %s: %s", what, m);
}

/* Runs sql with p; *res holds the result on success (caller PQclear), NULL on failure. */
static apex_err q(PGconn *c, const char *sql, const params *p, PGresult **res, apex_error *err)
{
  PGresult *r = PQexecParams(c, sql, p ? p->n : 0, NULL, p ? p->v : NULL, NULL, NULL, 0);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  *res = NULL;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    *res = r;
    return APEX_OK;
  }
  apex_err rc = fail_res(c, r, "query", err);
  PQclear(r);
  return rc;
}

/* Runs sql and drops the result. */
static apex_err run(PGconn *c, const char *sql, const params *p, apex_error *err)
{
  PGresult *r = NULL;
  apex_err rc = q(c, sql, p, &r, err);
  PQclear(r);
  return rc;
}

static void rollback(PGconn *c) { PQclear(PQexec(c, "ROLLBACK")); }

static PGconn *conn(apex_store *s)
{
  PGconn *c = apex_store__pool_acquire(&s->pool);
  if (PQstatus(c) != CONNECTION_OK) /* the server restarted or the link dropped */
    PQreset(c);
  return c;
}
#define DONE(s, c) apex_store__pool_release(&(s)->pool, (c))

/* --- the SQL driver (store_impl.h) under the entity functions written once --- */

/* A result is libpq's own: apex_sql_res is never defined here, only a name for PGresult. */
#define RES(r) ((const PGresult *)(const void *)(r))

/* Statements prepared once per connection and then run by name: parsing and planning each text on
 * every request cost a round trip's worth of server time. libpq tells pd_event when a connection
 * is reset (the new session has none of them) and when it is freed. */
#define STMT_CACHE 64
typedef struct pd_stmt {
  const char *key; /* the caller's text, usually a literal: its address finds it without strcmp */
  char *sql;       /* our copy: the text decides, since a caller's buffer may change */
  uint64_t used;   /* LRU clock */
  char name[24];
} pd_stmt;
typedef struct pd_cache {
  pd_stmt e[STMT_CACHE];
  int n;
  uint64_t clock;
} pd_cache;

static void pd_cache_clear(pd_cache *c)
{
  for (int i = 0; i < c->n; i++)
    free(c->e[i].sql);
  c->n = 0;
}

static int pd_event(PGEventId id, void *info, void *passthrough)
{
  (void)passthrough;
  PGconn *cn = id == PGEVT_CONNRESET     ? ((PGEventConnReset *)info)->conn
               : id == PGEVT_CONNDESTROY ? ((PGEventConnDestroy *)info)->conn
                                         : NULL;
  pd_cache *c = cn ? PQinstanceData(cn, pd_event) : NULL;
  if (c) {
    pd_cache_clear(c);
    if (id == PGEVT_CONNDESTROY) {
      PQsetInstanceData(cn, pd_event, NULL);
      free(c);
    }
  }
  return 1;
}

/* Gives a new connection its (empty) statement cache; without one it runs every text unprepared. */
static void pd_cache_attach(PGconn *cn)
{
  pd_cache *c = calloc(1, sizeof *c);
  if (c && PQregisterEventProc(cn, pd_event, "apex statements", NULL) && PQsetInstanceData(cn, pd_event, c))
    return;
  free(c);
}

static pd_stmt *pd_cache_get(pd_cache *c, const char *sql)
{
  pd_stmt *hit = NULL;
  for (int i = 0; i < c->n && !hit; i++)
    if (c->e[i].key == sql && !strcmp(c->e[i].sql, sql))
      hit = &c->e[i];
  for (int i = 0; i < c->n && !hit; i++)
    if (!strcmp(c->e[i].sql, sql))
      hit = &c->e[i];
  if (hit) {
    hit->key = sql;
    hit->used = ++c->clock;
  }
  return hit;
}

/* Statement names are unique across connections and processes, not only within one session: behind
 * pgbouncer in transaction mode several of our connections (of several processes) take turns on one
 * server session, and a per-connection counter would prepare "apex_3" twice there, or run another
 * connection's statement under a stale name. One counter per process from a random start: two
 * processes' ranges meet with negligible probability. */
static atomic_uint_fast64_t stmt_seq;
static pthread_once_t stmt_seq_once = PTHREAD_ONCE_INIT;

static void stmt_seq_seed(void)
{
  uint64_t start = 0;
  if (getrandom(&start, sizeof start, GRND_NONBLOCK) != (ssize_t)sizeof start)
    start = ((uint64_t)getpid() << 40) ^ (uint64_t)time(NULL); /* no entropy yet */
  atomic_store(&stmt_seq, start);
}

/* Prepares sql under a new name and keeps it, dropping the least recently used when full. */
static apex_err pd_cache_put(pd_cache *c, PGconn *cn, const char *sql, int n, pd_stmt **out, apex_error *err)
{
  char name[24];
  char *copy = strdup(sql);
  pthread_once(&stmt_seq_once, stmt_seq_seed);
  *out = NULL;
  if (!copy)
    return apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
  snprintf(name, sizeof name, "apex_%016llx", (unsigned long long)atomic_fetch_add(&stmt_seq, 1));
  PGresult *r = PQprepare(cn, name, sql, n, NULL);
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
    apex_err rc = fail_res(cn, r, "prepare", err);
    PQclear(r);
    free(copy);
    return rc;
  }
  PQclear(r);
  pd_stmt *e = &c->e[c->n];
  if (c->n == STMT_CACHE) {
    e = &c->e[0];
    for (int i = 1; i < c->n; i++)
      if (c->e[i].used < e->used)
        e = &c->e[i];
    char drop[40];
    snprintf(drop, sizeof drop, "DEALLOCATE %s", e->name);
    PQclear(PQexec(cn, drop)); /* if it fails (an aborted transaction) the session keeps it: harmless */
    free(e->sql);
  } else {
    c->n++;
  }
  *e = (pd_stmt){.key = sql, .sql = copy, .used = ++c->clock};
  memcpy(e->name, name, sizeof name);
  *out = e;
  return APEX_OK;
}

/* The session no longer has a statement we prepared (DEALLOCATE ALL, or a pooler such as pgbouncer
 * in transaction mode that handed us another server session): libpq cannot tell, so the statement
 * fails with invalid_sql_statement_name. Then none of the cache can be trusted. */
static bool pd_lost(const PGresult *r)
{
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  return state && !strcmp(state, "26000");
}

static apex_err pd_query(apex_store *s, void *cn, const char *sql, const apex_sql_arg *a, int n,
                         apex_sql_res **out, apex_error *err)
{
  char buf[MAXP][APEX_DEC_STR_MAX + 8];
  const char *v[MAXP];
  PGresult *r = NULL;
  apex_err rc;

  *out = NULL;
  if (n > MAXP)
    return apex_error_set(err, APEX_EINVAL, "pg: %d parameters (at most %d)", n, MAXP);
  for (int i = 0; i < n; i++) {
    v[i] = NULL;
    switch (a[i].t) {
    case APEX_SQL_TEXT:
      v[i] = a[i].s;
      break;
    case APEX_SQL_I64:
    case APEX_SQL_TS: /* ms, for apex_ts($n) */
      snprintf(buf[i], sizeof buf[i], "%lld", (long long)a[i].i);
      v[i] = buf[i];
      break;
    case APEX_SQL_DEC: /* exact decimal text for NUMERIC */
      apex_dec_format(a[i].i, buf[i], sizeof buf[i]);
      v[i] = buf[i];
      break;
    case APEX_SQL_F64:
      snprintf(buf[i], sizeof buf[i], "%.17g", a[i].f);
      v[i] = buf[i];
      break;
    case APEX_SQL_BOOL:
      v[i] = a[i].i ? "t" : "f";
      break;
    default:
      break;
    }
  }
  (void)s;
  pd_cache *c = PQinstanceData(cn, pd_event);
  for (bool retried = false;; retried = true) {
    pd_stmt *e = c ? pd_cache_get(c, sql) : NULL;
    if (c && !e && (rc = pd_cache_put(c, cn, sql, n, &e, err)))
      return rc;
    r = e ? PQexecPrepared(cn, e->name, n, v, NULL, NULL, 0) : PQexecParams(cn, sql, n, NULL, v, NULL, NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
      break;
    bool lost = e && pd_lost(r);
    if (lost)
      pd_cache_clear(c); /* also inside a transaction, so that its ROLLBACK is prepared afresh */
    /* Prepared again, the statement runs once more; not inside a transaction, which the server has
     * aborted: the caller must hear. */
    if (!lost || retried || PQtransactionStatus(cn) != PQTRANS_IDLE) {
      rc = fail_res(cn, r, "query", err);
      PQclear(r);
      return rc;
    }
    PQclear(r);
  }
  *out = (apex_sql_res *)(void *)r;
  return APEX_OK;
}

static int pd_rows(const apex_sql_res *r) { return PQntuples(RES(r)); }
static int64_t pd_changed(const apex_sql_res *r) { return atoll(PQcmdTuples((PGresult *)(void *)r)); }
static bool pd_is_null(const apex_sql_res *r, int row, int col) { return PQgetisnull(RES(r), row, col); }
static const char *pd_text(const apex_sql_res *r, int row, int col) { return g_str(RES(r), row, col); }
static int64_t pd_i64(const apex_sql_res *r, int row, int col) { return g_i64(RES(r), row, col); }
static apex_dec pd_dec(const apex_sql_res *r, int row, int col)
{
  const char *t = g_str(RES(r), row, col);
  apex_dec d;
  return t && !apex_dec_from_str(t, &d) ? d : APEX_DEC_NONE;
}
static double pd_f64(const apex_sql_res *r, int row, int col)
{
  const char *t = g_str(RES(r), row, col);
  return t ? strtod(t, NULL) : 0;
}
static bool pd_bool(const apex_sql_res *r, int row, int col) { return g_bool(RES(r), row, col); }
static void pd_revive(void *cn)
{
  if (PQstatus(cn) != CONNECTION_OK) /* the server restarted or the link dropped */
    PQreset(cn);
}
static void pd_free(apex_sql_res *r) { PQclear((PGresult *)(void *)r); }
static apex_err pd_copy_in(apex_store *s, void *conn, const apex_sql_copy *cp, apex_error *err);
static apex_err pd_partitions(apex_store *s, void *conn, const char *table, const int64_t *times, size_t n,
                              apex_error *err);

static const apex_sql_driver PG_SQL = {
    .query = pd_query, .rows = pd_rows, .changed = pd_changed, .is_null = pd_is_null, .text = pd_text,
    .i64 = pd_i64, .dec = pd_dec, .f64 = pd_f64, .boolean = pd_bool, .res_free = pd_free,
    .begin_write = "BEGIN",
    .revive = pd_revive,
    .copy_in = pd_copy_in,
    .partitions = pd_partitions,
};

/* --- open, close, migrations --- */

static void pg_close(apex_store *s)
{
  pg_impl *im = s->impl;
  for (int i = 0; i < s->pool.size; i++)
    PQfinish((PGconn *)s->pool.conns[i]);
  apex_store__pool_destroy(&s->pool);
  if (im) {
    pthread_mutex_destroy(&im->mu);
    free(im->months);
    free(im);
  }
  free(s);
}

apex_err apex_store__pg_open(const char *url, int pool, apex_store **out, apex_error *err)
{
  apex_store *s = calloc(1, sizeof *s);
  pg_impl *im = calloc(1, sizeof *im);
  void **conns = calloc((size_t)pool, sizeof *conns);
  apex_err rc = APEX_OK;
  int opened = 0;

  if (!s || !im || !conns) {
    rc = apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
    goto out;
  }
  for (; opened < pool; opened++) {
    PGconn *c = PQconnectdb(url);
    conns[opened] = c;
    if (!c || PQstatus(c) != CONNECTION_OK) {
      char m[300];
      apex_store__copy(m, sizeof m, c ? PQerrorMessage(c) : "out of memory");
      for (char *p = m; *p; p++)
        if (*p == '\n')
          *p = ' ';
      rc = apex_error_set(err, APEX_EIO, "pg: cannot connect: %s", m);
      opened++;
      goto out;
    }
    /* Times go in and out as ms through apex_ts/apex_ms; UTC keeps any text form unambiguous. */
    PQclear(PQexec(c, "SET TIME ZONE 'UTC'; SET client_min_messages = warning"));
    pd_cache_attach(c);
  }
  pthread_mutex_init(&im->mu, NULL);
  s->ops = &PG_OPS;
  s->sql = &PG_SQL;
  s->impl = im;
  if ((rc = apex_store__pool_init(&s->pool, conns, pool))) {
    apex_error_set(err, rc, "pg: out of memory");
    pthread_mutex_destroy(&im->mu);
    goto out;
  }
  conns = NULL;
  im = NULL;
out:
  if (rc) {
    for (int i = 0; conns && i < opened; i++)
      PQfinish(conns[i]);
    free(conns);
    free(im);
    free(s);
    s = NULL;
  }
  *out = s;
  return rc;
}

static apex_err pg_migrate(apex_store *s, apex_error *err)
{
  PGconn *c = conn(s);
  apex_err rc = APEX_OK;
  bool in_tx = false;

  for (size_t i = 0; i < apex_store__migrations_pg_n; i++) {
    const apex_store_migration *m = &apex_store__migrations_pg[i];
    params p = {0};
    PGresult *r = NULL;
    /* The advisory lock makes concurrent migrators (several API nodes starting) take turns. */
    if ((rc = run(c, "BEGIN", NULL, err)))
      goto out;
    in_tx = true;
    if ((rc = run(c, "SELECT pg_advisory_xact_lock(7406203517)", NULL, err)) ||
        (rc = run(c,
                  "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, "
                  "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                  NULL, err)))
      goto out;
    p_text(&p, m->name);
    if ((rc = q(c, "SELECT 1 FROM schema_migrations WHERE version = $1", &p, &r, err)))
      goto out;
    bool applied = PQntuples(r) > 0;
    PQclear(r);
    if (!applied) {
      r = PQexec(c, m->sql);
      if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = fail_res(c, r, m->name, err);
        PQclear(r);
        goto out;
      }
      PQclear(r);
      if ((rc = run(c, "INSERT INTO schema_migrations (version) VALUES ($1)", &p, err)))
        goto out;
    }
    if ((rc = run(c, "COMMIT", NULL, err)))
      goto out;
    in_tx = false;
  }
out:
  if (in_tx)
    rollback(c);
  DONE(s, c);
  return rc;
}

static apex_err pg_migration_status(apex_store *s, char *buf, size_t cap, apex_error *err)
{
  PGconn *c = conn(s);
  PGresult *r = NULL;
  apex_err rc;
  size_t k = 0;

  if ((rc = q(c, "SELECT to_regclass('schema_migrations') IS NOT NULL", NULL, &r, err)))
    goto out;
  bool have = g_bool(r, 0, 0);
  PQclear(r);
  r = NULL;
  if (have && (rc = q(c, "SELECT version, apex_ms(applied_at) FROM schema_migrations", NULL, &r, err)))
    goto out;
  for (size_t i = 0; i < apex_store__migrations_pg_n; i++) {
    const char *name = apex_store__migrations_pg[i].name;
    char when[40] = "";
    for (int j = 0; r && j < PQntuples(r); j++)
      if (!strcmp(PQgetvalue(r, j, 0), name))
        apex_time_iso(g_i64(r, j, 1), when, sizeof when);
    if ((rc = apex_store__status_line(buf, cap, &k, name, when, err)))
      goto out;
  }
out:
  PQclear(r);
  DONE(s, c);
  return rc;
}

static apex_err pg_ping(apex_store *s, apex_error *err)
{
  PGconn *c = conn(s);
  apex_err rc = run(c, "SELECT 1", NULL, err);
  DONE(s, c);
  return rc;
}

static apex_err pg_backup(apex_store *s, const char *dest, apex_error *err)
{
  (void)s, (void)dest;
  return apex_error_set(err, APEX_EINVAL, "backup: on PostgreSQL use pg_dump (pg_dump -Fc -f FILE DBNAME) and "
                                          "pg_restore; it is consistent while the server writes");
}

/* Sends buffered COPY text when it holds more than half of its room (or always when flush). */
typedef struct copybuf {
  char *b;
  size_t n, cap;
} copybuf;

static apex_err copy_flush(PGconn *c, copybuf *cb, bool force, apex_error *err)
{
  if (!force && cb->n < cb->cap / 2)
    return APEX_OK;
  if (cb->n && PQputCopyData(c, cb->b, (int)cb->n) != 1)
    return apex_error_set(err, APEX_EIO, "pg: COPY: %s", PQerrorMessage(c));
  cb->n = 0;
  return APEX_OK;
}

/* Ends a COPY begun with PQexec; fails if the server rejected any row. failed: we stopped
 * half-way, so the server must discard what it got (err already says why). */
static apex_err copy_end(PGconn *c, const char *what, bool failed, apex_error *err)
{
  apex_err rc = APEX_OK;
  if (failed)
    err = NULL;
  if (PQputCopyEnd(c, failed ? "aborted by the client" : NULL) != 1)
    return apex_error_set(err, APEX_EIO, "pg: %s: %s", what, PQerrorMessage(c));
  PGresult *r;
  while ((r = PQgetResult(c))) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc)
      rc = fail_res(c, r, what, err);
    PQclear(r);
  }
  return rc;
}

static apex_err copy_begin(PGconn *c, const char *sql, apex_error *err)
{
  PGresult *r = PQexec(c, sql);
  apex_err rc = APEX_OK;
  if (!r || PQresultStatus(r) != PGRES_COPY_IN)
    rc = fail_res(c, r, "COPY", err);
  PQclear(r);
  return rc;
}

/* --- candles --- */

/* Civil year and month of a ms time, as year * 12 + month - 1. */
static int month_key(int64_t ms)
{
  int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    y++;
  return (int)(y * 12 + m - 1);
}

static bool month_known(pg_impl *im, int key)
{
  bool found = false;
  pthread_mutex_lock(&im->mu);
  for (size_t i = 0; i < im->n_months && !found; i++)
    found = im->months[i] == key;
  pthread_mutex_unlock(&im->mu);
  return found;
}

static void month_add(pg_impl *im, int key)
{
  pthread_mutex_lock(&im->mu);
  if (im->n_months == im->cap_months) {
    size_t nc = im->cap_months ? im->cap_months * 2 : 64;
    int *nv = realloc(im->months, nc * sizeof *nv);
    if (!nv)
      goto out; /* only a cache: the partition is checked again next time */
    im->months = nv;
    im->cap_months = nc;
  }
  im->months[im->n_months++] = key;
out:
  pthread_mutex_unlock(&im->mu);
}

/* A natively partitioned time-series table (ohlcv, equity_history): creates the month partitions
 * that times[0..n) span, each in its own short transaction (before the data's), so a long import
 * does not hold the parent's lock. table is one of our constant names, never user text; salt keeps
 * each table's months apart in the cache. */
static apex_err ensure_month_partitions(apex_store *st, PGconn *c, const char *table, int salt, const int64_t *times,
                                        size_t n, apex_error *err)
{
  pg_impl *im = st->impl;
  apex_sql_res *res = NULL;
  const apex_sql_arg a = {.t = APEX_SQL_TEXT, .s = table};
  apex_err rc;
  if ((rc = pd_query(st, c, "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)", &a, 1, &res, err)))
    return rc;
  const PGresult *r = RES(res);
  bool native = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 'p';
  pd_free(res);
  if (!native)
    return APEX_OK; /* a TimescaleDB hypertable makes its own chunks */
  int last = -1;
  for (size_t i = 0; i < n; i++) {
    int key = month_key(times[i]);
    if (key == last || month_known(im, key | salt << 24))
      continue;
    last = key;
    int y = key / 12, m = key % 12 + 1, ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    char sql[300];
    /* Only numbers and our table name go into this DDL text (DDL takes no parameters). */
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS %s_p%04d%02d PARTITION OF %s FOR VALUES FROM "
             "('%04d-%02d-01 00:00:00+00') TO ('%04d-%02d-01 00:00:00+00')",
             table, y, m, table, y, m, ny, nm);
    PGresult *x = PQexec(c, sql);
    ExecStatusType stt = x ? PQresultStatus(x) : PGRES_FATAL_ERROR;
    const char *state = x ? PQresultErrorField(x, PG_DIAG_SQLSTATE) : NULL;
    /* Another session creating the same partition at the same moment is not an error. */
    if (stt != PGRES_COMMAND_OK && !(state && (!strcmp(state, "42P07") || !strcmp(state, "23505")))) {
      rc = fail_res(c, x, table, err);
      PQclear(x);
      return rc;
    }
    PQclear(x);
    month_add(im, key | salt << 24);
  }
  return APEX_OK;
}

/* Appends text with COPY's escapes (backslash, tab, newline, carriage return). */
static size_t copy_escape(char *dst, const char *s)
{
  size_t k = 0;
  for (; *s; s++) {
    char ch = *s;
    if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') {
      dst[k++] = '\\';
      ch = ch == '\t' ? 't' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : '\\';
    }
    dst[k++] = ch;
  }
  return k;
}

/* A candle value as exact 8-place text (what NUMERIC(18, 8) keeps). */
static apex_err put_num(char *dst, size_t *k, double x, apex_error *err)
{
  apex_dec d;
  apex_err rc = apex_dec_from_double(x, &d);
  if (rc == APEX_EOVERFLOW && x > -1e16 && x < 1e16) { /* volumes beyond apex_dec fit NUMERIC(24, 8) */
    *k += (size_t)snprintf(dst + *k, 40, "%.8f", x);
    return APEX_OK;
  }
  if (rc)
    return apex_error_set(err, APEX_EINVAL, "ohlcv: %g cannot be stored (not a number or too large)", x);
  apex_dec_format(d, dst + *k, APEX_DEC_STR_MAX);
  *k += strlen(dst + *k);
  return APEX_OK;
}

static apex_err pd_partitions(apex_store *s, void *conn, const char *table, const int64_t *times, size_t n,
                              apex_error *err)
{
  int salt = !strcmp(table, "ohlcv") ? 0 : !strcmp(table, "equity_history") ? 1 : 2;
  return ensure_month_partitions(s, conn, table, salt, times, n, err);
}

/* Room for need more bytes in cb: sends what it holds, or grows it for one field longer than it. */
static apex_err copy_room(PGconn *c, copybuf *cb, size_t need, apex_error *err)
{
  apex_err rc;
  if (cb->n + need <= cb->cap)
    return APEX_OK;
  if ((rc = copy_flush(c, cb, true, err)))
    return rc;
  if (need > cb->cap) {
    char *nb = realloc(cb->b, need);
    if (!nb)
      return apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
    cb->b = nb;
    cb->cap = need;
  }
  return APEX_OK;
}

/* One argument in COPY's text form, then sep. */
static apex_err copy_field(PGconn *c, copybuf *cb, const apex_sql_arg *a, char sep, apex_error *err)
{
  apex_err rc = copy_room(c, cb, (a->t == APEX_SQL_TEXT && a->s ? 2 * strlen(a->s) : 0) + 64, err);
  char *b = cb->b + cb->n;
  size_t k = 0;
  if (rc)
    return rc;
  switch (a->t) {
  case APEX_SQL_TEXT:
    if (a->s) {
      k = copy_escape(b, a->s);
      break;
    }
    memcpy(b, "\\N", 2);
    k = 2;
    break;
  case APEX_SQL_I64:
    k = (size_t)snprintf(b, 32, "%lld", (long long)a->i);
    break;
  case APEX_SQL_TS:
    apex_time_iso(a->i, b, 40);
    k = strlen(b);
    break;
  case APEX_SQL_DEC:
    apex_dec_format(a->i, b, APEX_DEC_STR_MAX);
    k = strlen(b);
    break;
  case APEX_SQL_F64:
    if ((rc = put_num(b, &k, a->f, err)))
      return rc;
    break;
  case APEX_SQL_BOOL:
    b[k++] = a->i ? 't' : 'f';
    break;
  default:
    memcpy(b, "\\N", 2);
    k = 2;
  }
  b[k++] = sep;
  cb->n += k;
  return APEX_OK;
}

/* COPY cannot resolve a conflict, so an upsert loads a temporary copy of the table and inserts
 * from it. Only our constant table, column and conflict texts go into these statements. */
static apex_err pd_copy_in(apex_store *s, void *conn, const apex_sql_copy *cp, apex_error *err)
{
  PGconn *c = conn;
  apex_sql_arg a[32];
  copybuf cb = {malloc(1 << 18), 0, 1 << 18};
  char *sql = NULL;
  size_t cap = 2 * strlen(cp->table) + 2 * strlen(cp->cols) + (cp->upsert ? strlen(cp->upsert) : 0) + 160;
  apex_err rc = APEX_OK;
  (void)s;

  if (cp->ncols < 1 || cp->ncols > 32)
    return apex_error_set(err, APEX_EINVAL, "pg: copy of %d columns (at most 32)", cp->ncols);
  if (!cb.b || !(sql = malloc(cap))) {
    rc = apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
    goto out;
  }
  if (cp->upsert) {
    snprintf(sql, cap, "CREATE TEMP TABLE IF NOT EXISTS %s_load (LIKE %s INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
             cp->table, cp->table);
    if ((rc = run(c, sql, NULL, err)))
      goto out;
    snprintf(sql, cap, "TRUNCATE %s_load", cp->table);
    if ((rc = run(c, sql, NULL, err)))
      goto out;
  }
  snprintf(sql, cap, "COPY %s%s (%s) FROM STDIN", cp->table, cp->upsert ? "_load" : "", cp->cols);
  if ((rc = copy_begin(c, sql, err)))
    goto out;
  for (size_t i = 0; i < cp->nrows && !rc; i++) {
    if ((rc = cp->row(cp->ctx, i, a, err)))
      break;
    for (int j = 0; j < cp->ncols && !rc; j++)
      rc = copy_field(c, &cb, &a[j], j + 1 < cp->ncols ? '\t' : '\n', err);
    if (!rc)
      rc = copy_flush(c, &cb, false, err);
  }
  if (!rc)
    rc = copy_flush(c, &cb, true, err);
  apex_err rc2 = copy_end(c, cp->table, rc != APEX_OK, err);
  if (!rc)
    rc = rc2;
  if (!rc && cp->upsert) {
    snprintf(sql, cap, "INSERT INTO %s (%s) SELECT %s FROM %s_load %s", cp->table, cp->cols, cp->cols, cp->table,
             cp->upsert);
    rc = run(c, sql, NULL, err);
  }
out:
  free(sql);
  free(cb.b);
  return rc;
}

static const apex_store_ops PG_OPS = {
    .name = "postgresql",
    .close = pg_close,
    .migrate = pg_migrate,
    .migration_status = pg_migration_status,
    .ping = pg_ping,
    .check = pg_ping, /* the server keeps its own pages whole */
    .backup = pg_backup,
};
