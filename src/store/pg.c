/* pg.c - the PostgreSQL backend of store.h, and the only file that includes <libpq-fe.h>.
 * A pool of connections; NUMERIC money sent and read as exact decimal text, TIMESTAMPTZ times
 * through apex_ts()/apex_ms() (migration 0001), UUID ids, JSONB documents; candles by COPY. */
#include <libpq-events.h>
#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static void p_opt(params *p, const char *s) { p->v[p->n++] = s && *s ? s : NULL; } /* "" becomes NULL */
static void p_i64(params *p, int64_t x)
{
  snprintf(p->buf[p->n], sizeof p->buf[0], "%lld", (long long)x);
  p->v[p->n] = p->buf[p->n];
  p->n++;
}
static void p_ms(params *p, int64_t ms) /* 0: never (NULL) */
{
  if (ms)
    p_i64(p, ms);
  else
    p->v[p->n++] = NULL;
}
static void p_dec(params *p, apex_dec d)
{
  apex_dec_format(d, p->buf[p->n], sizeof p->buf[0]);
  p->v[p->n] = p->buf[p->n];
  p->n++;
}
static void p_bool(params *p, bool b) { p->v[p->n++] = b ? "t" : "f"; }

/* --- results --- */

static const char *g_str(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}
static void g_copy(const PGresult *r, int row, int col, char *dst, size_t cap)
{
  apex_store__copy(dst, cap, g_str(r, row, col));
}
static int64_t g_i64(const PGresult *r, int row, int col) /* NULL: 0 */
{
  const char *s = g_str(r, row, col);
  return s ? strtoll(s, NULL, 10) : 0;
}
static bool g_bool(const PGresult *r, int row, int col) { return PQgetvalue(r, row, col)[0] == 't'; }
static apex_dec g_dec(const PGresult *r, int row, int col) /* NULL: -1 (the store's "none") */
{
  const char *s = g_str(r, row, col);
  apex_dec d = -1;
  if (s && apex_dec_from_str(s, &d))
    d = -1;
  return d;
}
static apex_err g_dup(const PGresult *r, int row, int col, char **out)
{
  const char *s = g_str(r, row, col);
  *out = NULL;
  if (!s)
    return APEX_OK;
  *out = strdup(s);
  return *out ? APEX_OK : APEX_ENOMEM;
}

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

/* Runs sql; ENOTFOUND if it changed or returned no row. */
static apex_err run_one(PGconn *c, const char *sql, const params *p, const char *what, apex_error *err)
{
  PGresult *r = NULL;
  apex_err rc = q(c, sql, p, &r, err);
  if (!rc && PQntuples(r) == 0 && atoll(PQcmdTuples(r)) == 0)
    rc = apex_error_set(err, APEX_ENOTFOUND, "%s: not found", what);
  PQclear(r);
  return rc;
}

static void rollback(PGconn *c) { PQclear(PQexec(c, "ROLLBACK")); }

/* A UUID's text form; anything else cannot name a row (and PostgreSQL would reject it). */
static bool uuid_ok(const char *s)
{
  if (!s || strlen(s) != 36)
    return false;
  for (int i = 0; i < 36; i++) {
    char ch = s[i];
    bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if ((i == 8 || i == 13 || i == 18 || i == 23) ? ch != '-' : !hex)
      return false;
  }
  return true;
}
#define NEED_UUID(id, what)                                                                        \
  do {                                                                                             \
    if (!uuid_ok(id))                                                                              \
      return apex_error_set(err, APEX_ENOTFOUND, "%s: not found", what);                           \
  } while (0)

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
  uint64_t clock, seq; /* seq names statements, never reused within a session */
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

/* Prepares sql under a new name and keeps it, dropping the least recently used when full. */
static apex_err pd_cache_put(pd_cache *c, PGconn *cn, const char *sql, int n, pd_stmt **out, apex_error *err)
{
  char name[24];
  char *copy = strdup(sql);
  *out = NULL;
  if (!copy)
    return apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
  snprintf(name, sizeof name, "apex_%llu", (unsigned long long)++c->seq);
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
  pd_stmt *e = c ? pd_cache_get(c, sql) : NULL;
  if (c && !e && (rc = pd_cache_put(c, cn, sql, n, &e, err)))
    return rc;
  r = e ? PQexecPrepared(cn, e->name, n, v, NULL, NULL, 0) : PQexecParams(cn, sql, n, NULL, v, NULL, NULL, 0);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    rc = fail_res(cn, r, "query", err);
    PQclear(r);
    return rc;
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

static const apex_sql_driver PG_SQL = {
    .query = pd_query, .rows = pd_rows, .changed = pd_changed, .is_null = pd_is_null, .text = pd_text,
    .i64 = pd_i64, .dec = pd_dec, .f64 = pd_f64, .boolean = pd_bool, .res_free = pd_free,
    .begin_write = "BEGIN",
    .revive = pd_revive,
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

/* --- backtests --- */

#define BT_COLS                                                                                                    \
  "id, user_id, strategy_id, apex_ms(start_date), apex_ms(end_date), initial_capital, commission_pct, "            \
  "slippage_pct, status, progress_pct, error_message, result, apex_ms(created_at), apex_ms(started_at), "          \
  "apex_ms(completed_at)"

static apex_err read_backtest(const PGresult *r, int i, apex_backtest_row *o, apex_error *err)
{
  memset(o, 0, sizeof *o);
  g_copy(r, i, 0, o->id, sizeof o->id);
  g_copy(r, i, 1, o->user_id, sizeof o->user_id);
  g_copy(r, i, 2, o->strategy_id, sizeof o->strategy_id);
  o->start_date = g_i64(r, i, 3);
  o->end_date = g_i64(r, i, 4);
  o->initial_capital = g_dec(r, i, 5);
  o->commission_pct = g_dec(r, i, 6);
  o->slippage_pct = g_dec(r, i, 7);
  g_copy(r, i, 8, o->status, sizeof o->status);
  o->progress_pct = (int)g_i64(r, i, 9);
  o->created_at = g_i64(r, i, 12);
  o->started_at = g_i64(r, i, 13);
  o->completed_at = g_i64(r, i, 14);
  if (g_dup(r, i, 10, &o->error_message) || g_dup(r, i, 11, &o->result)) {
    apex_backtest_row_clear(o);
    return apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
  }
  return APEX_OK;
}

static apex_err pg_backtest_insert(apex_store *s, const apex_backtest_row *r, apex_error *err)
{
  if (!uuid_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "backtest: id is not a UUID");
  NEED_UUID(r->user_id, "strategy");
  NEED_UUID(r->strategy_id, "strategy");
  PGconn *c = conn(s);
  params p = {0};
  p_text(&p, r->id);
  p_text(&p, r->user_id);
  p_text(&p, r->strategy_id);
  p_ms(&p, r->start_date);
  p_ms(&p, r->end_date);
  p_dec(&p, r->initial_capital);
  p_dec(&p, r->commission_pct);
  p_dec(&p, r->slippage_pct);
  p_text(&p, r->status[0] ? r->status : "pending");
  p_i64(&p, r->progress_pct);
  p_text(&p, r->error_message);
  p_text(&p, r->result);
  p_i64(&p, r->created_at);
  p_ms(&p, r->started_at);
  p_ms(&p, r->completed_at);
  /* Inserted only when the strategy is the same user's: otherwise nothing changes (ENOTFOUND). */
  apex_err rc = run_one(
      c,
      "INSERT INTO backtests (id, user_id, strategy_id, start_date, end_date, initial_capital, commission_pct, "
      "slippage_pct, status, progress_pct, error_message, result, created_at, started_at, completed_at) "
      "SELECT CAST($1 AS uuid), CAST($2 AS uuid), CAST($3 AS uuid), apex_ts($4), apex_ts($5), CAST($6 AS numeric), "
      "CAST($7 AS numeric), CAST($8 AS numeric), CAST($9 AS text), CAST($10 AS integer), CAST($11 AS text), "
      "CAST($12 AS jsonb), apex_ts($13), apex_ts($14), apex_ts($15) "
      "WHERE EXISTS (SELECT 1 FROM strategies WHERE id = CAST($3 AS uuid) AND user_id = CAST($2 AS uuid))",
      &p, "strategy", err);
  DONE(s, c);
  return rc;
}

static apex_err pg_backtest_get(apex_store *s, const char *user_id, const char *id, apex_backtest_row *out,
                                apex_error *err)
{
  NEED_UUID(id, "backtest");
  if (user_id)
    NEED_UUID(user_id, "backtest");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  p_text(&p, id);
  p_text(&p, user_id);
  if ((rc = q(c, "SELECT " BT_COLS " FROM backtests WHERE id = $1 AND (CAST($2 AS uuid) IS NULL OR user_id = $2)", &p,
              &r, err)))
    goto out;
  if (PQntuples(r) == 0) {
    rc = apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
    goto out;
  }
  rc = read_backtest(r, 0, out, err);
out:
  PQclear(r);
  DONE(s, c);
  return rc;
}

static apex_err pg_backtest_list(apex_store *s, const char *user_id, const apex_page *p, apex_backtest_row *rows,
                                 size_t *n, int64_t *total, apex_error *err)
{
  if (!uuid_ok(user_id))
    return APEX_OK;
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params pp = {0};
  apex_err rc;
  p_text(&pp, user_id);
  p_opt(&pp, p->status);
  p_opt(&pp, p->symbol);
  p_i64(&pp, p->limit);
  p_i64(&pp, (int64_t)(p->page - 1) * p->limit);
#define BT_WHERE                                                                                                   \
  " FROM backtests b WHERE user_id = $1 AND (CAST($2 AS text) IS NULL OR status = $2) AND (CAST($3 AS text) IS "   \
  "NULL OR EXISTS (SELECT 1 FROM strategies s WHERE s.id = b.strategy_id AND s.asset_symbol = $3))"
  if ((rc = q(c,
              p->desc ? "SELECT " BT_COLS ", count(*) OVER ()" BT_WHERE " ORDER BY created_at DESC, id DESC LIMIT $4 "
                        "OFFSET $5"
                      : "SELECT " BT_COLS ", count(*) OVER ()" BT_WHERE " ORDER BY created_at, id LIMIT $4 OFFSET $5",
              &pp, &r, err)))
    goto out;
  int nt = PQntuples(r);
  if (nt > 0) {
    *total = g_i64(r, 0, 15);
  } else {
    PQclear(r);
    pp.n = 3;
    if ((rc = q(c, "SELECT count(*)" BT_WHERE, &pp, &r, err)))
      goto out;
    *total = g_i64(r, 0, 0);
  }
#undef BT_WHERE
  for (int i = 0; i < nt && *n < (size_t)p->limit; i++) {
    if ((rc = read_backtest(r, i, &rows[*n], err)))
      goto out;
    (*n)++;
  }
out:
  if (rc) {
    for (size_t i = 0; i < *n; i++)
      apex_backtest_row_clear(&rows[i]);
    *n = 0;
  }
  PQclear(r);
  DONE(s, c);
  return rc;
}

/* After a write that changed nothing: ENOTFOUND if the backtest does not exist, else ECONFLICT. */
static apex_err finished_or_missing(PGconn *c, const char *id, apex_error *err)
{
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  p_text(&p, id);
  if ((rc = q(c, "SELECT status FROM backtests WHERE id = $1", &p, &r, err)))
    return rc;
  rc = PQntuples(r) ? apex_error_set(err, APEX_ECONFLICT, "backtest: already %s", PQgetvalue(r, 0, 0))
                    : apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  PQclear(r);
  return rc;
}

static apex_err pg_backtest_set_status(apex_store *s, const char *id, const char *status, int progress,
                                       const char *error_message, int64_t now, apex_error *err)
{
  NEED_UUID(id, "backtest");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  p_text(&p, id);
  p_text(&p, status);
  p_i64(&p, progress);
  p_text(&p, error_message);
  p_ms(&p, now);
  if ((rc = q(c,
              "UPDATE backtests SET status = CAST($2 AS text), progress_pct = $3, "
              "error_message = coalesce($4, error_message), started_at = CASE WHEN CAST($2 AS text) = 'running' "
              "THEN coalesce(started_at, apex_ts($5)) ELSE started_at END, completed_at = CASE WHEN "
              "CAST($2 AS text) IN ('completed', 'failed', 'cancelled') THEN apex_ts($5) "
              "ELSE completed_at END WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')",
              &p, &r, err)))
    goto out;
  if (atoll(PQcmdTuples(r)) == 0)
    rc = finished_or_missing(c, id, err);
out:
  PQclear(r);
  DONE(s, c);
  return rc;
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

static apex_err pg_backtest_finish(apex_store *s, const char *id, const char *result_json,
                                   const apex_trade_row *trades, size_t n_trades, const int64_t *eq_time,
                                   const double *eq_value, size_t n_eq, int64_t now, apex_error *err)
{
  NEED_UUID(id, "backtest");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  bool in_tx = false;
  copybuf cb = {malloc(1 << 16), 0, 1 << 16};

  if (!cb.b) {
    rc = apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
    goto out;
  }
  if ((rc = run(c, "BEGIN", NULL, err)))
    goto out;
  in_tx = true;
  /* The status moves first: a backtest cancelled meanwhile keeps its state and gets no results. */
  p_text(&p, id);
  p_text(&p, result_json);
  p_ms(&p, now);
  if ((rc = q(c,
              "UPDATE backtests SET status = 'completed', progress_pct = 100, result = $2, "
              "completed_at = apex_ts($3), started_at = coalesce(started_at, apex_ts($3)) "
              "WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')",
              &p, &r, err)))
    goto out;
  if (atoll(PQcmdTuples(r)) == 0) {
    rc = finished_or_missing(c, id, err);
    goto out;
  }
  p.n = 1;
  /* A backtest re-run after a restart replaces what its first run left. */
  if ((rc = run(c, "DELETE FROM backtest_trades WHERE backtest_id = $1", &p, err)) ||
      (rc = run(c, "DELETE FROM backtest_equity WHERE backtest_id = $1", &p, err)))
    goto out;
  if (n_trades) {
    if ((rc = copy_begin(c,
                         "COPY backtest_trades (backtest_id, seq, entry_time, exit_time, quantity, entry_price, "
                         "exit_price, gross_pnl, net_pnl, commission, exit_reason) FROM STDIN",
                         err)))
      goto out;
    for (size_t i = 0; i < n_trades && !rc; i++) {
      const apex_trade_row *t = &trades[i];
      char et[40], xt[40], d[6][APEX_DEC_STR_MAX];
      apex_time_iso(t->entry_time, et, sizeof et);
      apex_time_iso(t->exit_time, xt, sizeof xt);
      apex_dec_format(t->quantity, d[0], sizeof d[0]);
      apex_dec_format(t->entry_price, d[1], sizeof d[1]);
      apex_dec_format(t->exit_price, d[2], sizeof d[2]);
      apex_dec_format(t->gross_pnl, d[3], sizeof d[3]);
      apex_dec_format(t->net_pnl, d[4], sizeof d[4]);
      apex_dec_format(t->commission, d[5], sizeof d[5]);
      char reason[sizeof t->exit_reason];
      apex_store__copy(reason, sizeof reason, t->exit_reason);
      for (char *x = reason; *x; x++) /* COPY text format: no tabs, newlines or backslashes */
        if (*x == '\t' || *x == '\n' || *x == '\\' || *x == '\r')
          *x = ' ';
      int w = snprintf(cb.b + cb.n, cb.cap - cb.n, "%s\t%zu\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, i, et, xt,
                       d[0], d[1], d[2], d[3], d[4], d[5], reason);
      cb.n += (size_t)w;
      rc = copy_flush(c, &cb, false, err);
    }
    if (!rc)
      rc = copy_flush(c, &cb, true, err);
    apex_err rc2 = copy_end(c, "backtest trades", rc != APEX_OK, err);
    if (!rc)
      rc = rc2;
    if (rc)
      goto out;
  }
  if (n_eq) {
    if ((rc = copy_begin(c, "COPY backtest_equity (backtest_id, seq, time, value) FROM STDIN", err)))
      goto out;
    for (size_t i = 0; i < n_eq && !rc; i++) {
      char t[40], v[APEX_DEC_STR_MAX];
      apex_dec d;
      if (apex_dec_from_double(eq_value[i], &d)) {
        rc = apex_error_set(err, APEX_EINVAL, "backtest equity %zu: %g is not a storable amount", i, eq_value[i]);
        break;
      }
      apex_dec_format(d, v, sizeof v);
      apex_time_iso(eq_time[i], t, sizeof t);
      int w = snprintf(cb.b + cb.n, cb.cap - cb.n, "%s\t%zu\t%s\t%s\n", id, i, t, v);
      cb.n += (size_t)w;
      rc = copy_flush(c, &cb, false, err);
    }
    if (!rc)
      rc = copy_flush(c, &cb, true, err);
    apex_err rc2 = copy_end(c, "backtest equity", rc != APEX_OK, err);
    if (!rc)
      rc = rc2;
    if (rc)
      goto out;
  }
  if ((rc = run(c, "COMMIT", NULL, err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    rollback(c);
  free(cb.b);
  PQclear(r);
  DONE(s, c);
  return rc;
}

/* ENOTFOUND unless the backtest is this user's; then the row count of its child table. */
static apex_err child_total(PGconn *c, const char *user_id, const char *id, const char *count_sql, int64_t *total,
                            apex_error *err)
{
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  p_text(&p, id);
  p_text(&p, user_id);
  if ((rc = q(c, "SELECT 1 FROM backtests WHERE id = $1 AND user_id = $2", &p, &r, err)))
    goto out;
  if (PQntuples(r) == 0) {
    rc = apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
    goto out;
  }
  PQclear(r);
  p.n = 1;
  if ((rc = q(c, count_sql, &p, &r, err)))
    goto out;
  *total = g_i64(r, 0, 0);
out:
  PQclear(r);
  return rc;
}

static apex_err pg_backtest_trades(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                   apex_trade_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  NEED_UUID(id, "backtest");
  NEED_UUID(user_id, "backtest");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  if ((rc = child_total(c, user_id, id, "SELECT count(*) FROM backtest_trades WHERE backtest_id = $1", total, err)))
    goto out;
  p_text(&p, id);
  p_i64(&p, limit);
  p_i64(&p, (int64_t)(page - 1) * limit);
  if ((rc = q(c,
              "SELECT apex_ms(entry_time), apex_ms(exit_time), quantity, entry_price, exit_price, gross_pnl, "
              "net_pnl, commission, exit_reason FROM backtest_trades WHERE backtest_id = $1 ORDER BY seq "
              "LIMIT $2 OFFSET $3",
              &p, &r, err)))
    goto out;
  for (int i = 0; i < PQntuples(r) && *n < (size_t)limit; i++) {
    apex_trade_row *t = &rows[(*n)++];
    memset(t, 0, sizeof *t);
    t->entry_time = g_i64(r, i, 0);
    t->exit_time = g_i64(r, i, 1);
    t->quantity = g_dec(r, i, 2);
    t->entry_price = g_dec(r, i, 3);
    t->exit_price = g_dec(r, i, 4);
    t->gross_pnl = g_dec(r, i, 5);
    t->net_pnl = g_dec(r, i, 6);
    t->commission = g_dec(r, i, 7);
    g_copy(r, i, 8, t->exit_reason, sizeof t->exit_reason);
  }
out:
  if (rc)
    *n = 0;
  PQclear(r);
  DONE(s, c);
  return rc;
}

static apex_err pg_backtest_equity(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                   int64_t *times, double *values, size_t *n, int64_t *total, apex_error *err)
{
  NEED_UUID(id, "backtest");
  NEED_UUID(user_id, "backtest");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  if ((rc = child_total(c, user_id, id, "SELECT count(*) FROM backtest_equity WHERE backtest_id = $1", total, err)))
    goto out;
  p_text(&p, id);
  p_i64(&p, limit);
  p_i64(&p, (int64_t)(page - 1) * limit);
  if ((rc = q(c,
              "SELECT apex_ms(time), value FROM backtest_equity WHERE backtest_id = $1 ORDER BY seq LIMIT $2 "
              "OFFSET $3",
              &p, &r, err)))
    goto out;
  for (int i = 0; i < PQntuples(r) && *n < (size_t)limit; i++) {
    apex_dec d = 0;
    (void)apex_dec_from_str(PQgetvalue(r, i, 1), &d);
    times[*n] = g_i64(r, i, 0);
    values[*n] = apex_dec_to_double(d);
    (*n)++;
  }
out:
  if (rc)
    *n = 0;
  PQclear(r);
  DONE(s, c);
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
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  p_text(&p, table);
  if ((rc = q(c, "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)", &p, &r, err)))
    return rc;
  bool native = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 'p';
  PQclear(r);
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
    r = PQexec(c, sql);
    ExecStatusType stt = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    /* Another session creating the same partition at the same moment is not an error. */
    if (stt != PGRES_COMMAND_OK && !(state && (!strcmp(state, "42P07") || !strcmp(state, "23505")))) {
      rc = fail_res(c, r, table, err);
      PQclear(r);
      return rc;
    }
    PQclear(r);
    month_add(im, key | salt << 24);
  }
  return APEX_OK;
}

static apex_err ensure_partitions(apex_store *st, PGconn *c, const apex_series *s, apex_error *err)
{
  return ensure_month_partitions(st, c, "ohlcv", 0, s->time, s->n, err);
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

/* COPY the whole series into target (ohlcv or the staging table). */
static apex_err copy_series(PGconn *c, const char *sql, const char *symbol, const char *timeframe,
                            const apex_series *s, const char *source, apex_error *err)
{
  char mid[2 * 33 + 2 * 8 + 4], tail[2 * 64 + 4];
  size_t mk = 0, tk = 0;
  copybuf cb = {malloc(1 << 18), 0, 1 << 18};
  apex_err rc;

  if (!cb.b)
    return apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
  mid[mk++] = '\t';
  mk += copy_escape(mid + mk, symbol);
  mid[mk++] = '\t';
  mk += copy_escape(mid + mk, timeframe);
  mid[mk++] = '\t';
  tail[tk++] = '\t';
  char src[64];
  apex_store__copy(src, sizeof src, source);
  tk += copy_escape(tail + tk, src);
  tail[tk++] = '\n';
  if ((rc = copy_begin(c, sql, err)))
    goto out;
  for (size_t i = 0; i < s->n && !rc; i++) {
    char *b = cb.b + cb.n;
    size_t k = 0;
    apex_time_iso(s->time[i], b, 40);
    k = strlen(b);
    memcpy(b + k, mid, mk);
    k += mk;
    const double v[5] = {s->open[i], s->high[i], s->low[i], s->close[i], s->volume[i]};
    for (int j = 0; j < 5 && !rc; j++) {
      rc = put_num(b, &k, v[j], err);
      if (j < 4)
        b[k++] = '\t';
    }
    memcpy(b + k, tail, tk);
    cb.n += k + tk;
    if (!rc)
      rc = copy_flush(c, &cb, false, err);
  }
  if (!rc)
    rc = copy_flush(c, &cb, true, err);
  apex_err rc2 = copy_end(c, "ohlcv COPY", rc != APEX_OK, err);
  if (!rc)
    rc = rc2;
out:
  free(cb.b);
  return rc;
}

static const char OHLCV_COPY[] =
    "COPY ohlcv (time, symbol, timeframe, open, high, low, close, volume, source) FROM STDIN";

static apex_err pg_ohlcv_put(apex_store *st, const char *symbol, const char *timeframe, const apex_series *s,
                             const char *source, apex_error *err)
{
  PGconn *c = conn(st);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  bool in_tx = false;

  int64_t before, after;
  const int64_t t0 = s->time[0], t1 = s->time[s->n - 1];
  if ((rc = ensure_partitions(st, c, s, err)) || (rc = run(c, "BEGIN", NULL, err)))
    goto out;
  in_tx = true;
  if ((rc = apex_store__catalog_count(st, c, symbol, timeframe, t0, t1, &before, err)))
    goto out;
  /* A range with no stored candle takes the fast path: COPY straight into ohlcv. A row that
   * appears meanwhile (another import) fails it with a unique violation; the savepoint lets the
   * upsert path take over. */
  p_text(&p, symbol);
  p_text(&p, timeframe);
  p_i64(&p, s->time[0]);
  p_i64(&p, s->time[s->n - 1]);
  if ((rc = q(c,
              "SELECT EXISTS (SELECT 1 FROM ohlcv WHERE symbol = $1 AND timeframe = $2 AND time >= apex_ts($3) "
              "AND time <= apex_ts($4))",
              &p, &r, err)))
    goto out;
  bool overlap = g_bool(r, 0, 0);
  PQclear(r);
  r = NULL;
  if (!overlap) {
    if ((rc = run(c, "SAVEPOINT fast", NULL, err)))
      goto out;
    rc = copy_series(c, OHLCV_COPY, symbol, timeframe, s, source, err);
    if (rc != APEX_ECONFLICT) {
      if (rc)
        goto out;
      goto commit;
    }
    if ((rc = run(c, "ROLLBACK TO SAVEPOINT fast", NULL, err)))
      goto out;
  }
  if ((rc = run(c,
                "CREATE TEMP TABLE IF NOT EXISTS ohlcv_load (time timestamptz, symbol text, timeframe text, "
                "open numeric, high numeric, low numeric, close numeric, volume numeric, source text) "
                "ON COMMIT DELETE ROWS",
                NULL, err)) ||
      (rc = copy_series(c, "COPY ohlcv_load (time, symbol, timeframe, open, high, low, close, volume, source) FROM STDIN",
                        symbol, timeframe, s, source, err)) ||
      (rc = run(c,
                "INSERT INTO ohlcv (time, symbol, timeframe, open, high, low, close, volume, source) "
                "SELECT time, symbol, timeframe, open, high, low, close, volume, source FROM ohlcv_load "
                "ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, "
                "low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume, source = EXCLUDED.source",
                NULL, err)))
    goto out;
commit:
  if ((rc = apex_store__catalog_count(st, c, symbol, timeframe, t0, t1, &after, err)) ||
      (rc = apex_store__catalog_add(st, c, symbol, timeframe, t0, t1, after - before, err)) ||
      (rc = run(c, "COMMIT", NULL, err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    rollback(c);
  PQclear(r);
  DONE(st, c);
  return rc;
}

static apex_err pg_ohlcv_get(apex_store *st, const char *symbol, const char *timeframe, int64_t start, int64_t end,
                             size_t limit, apex_series **out, apex_error *err)
{
  PGconn *c = conn(st);
  PGresult *r = NULL;
  params p = {0};
  apex_series *s = NULL;
  apex_err rc;

  p_text(&p, symbol);
  p_text(&p, timeframe);
  /* Beyond what TIMESTAMPTZ holds means open. */
  if (start > INT64_C(-62135596800000))
    p_i64(&p, start);
  else
    p_text(&p, NULL);
  if (end < INT64_C(253402300800000))
    p_i64(&p, end);
  else
    p_text(&p, NULL);
  if (limit && limit < (size_t)INT64_MAX)
    p_i64(&p, (int64_t)limit);
  else
    p_text(&p, NULL);
  if ((rc = q(c,
              "SELECT apex_ms(time), open, high, low, close, volume FROM ohlcv WHERE symbol = $1 AND timeframe = $2 "
              "AND (CAST($3 AS bigint) IS NULL OR time >= apex_ts($3)) "
              "AND (CAST($4 AS bigint) IS NULL OR time < apex_ts($4)) ORDER BY time LIMIT $5",
              &p, &r, err)))
    goto out;
  int nt = PQntuples(r);
  if (!(s = apex_series_new((size_t)nt))) {
    rc = apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
    goto out;
  }
  for (int i = 0; i < nt; i++) {
    apex_bar b = {g_i64(r, i, 0), strtod(PQgetvalue(r, i, 1), NULL), strtod(PQgetvalue(r, i, 2), NULL),
                  strtod(PQgetvalue(r, i, 3), NULL), strtod(PQgetvalue(r, i, 4), NULL),
                  strtod(PQgetvalue(r, i, 5), NULL)};
    apex_series_append(s, &b); /* within the reserved capacity: cannot fail */
  }
out:
  *out = s;
  PQclear(r);
  DONE(st, c);
  return rc;
}


/* --- portfolios, positions, trades, equity history --- */

static void p_amount(params *p, apex_dec d) /* APEX_DEC_NONE: NULL */
{
  if (d != APEX_DEC_NONE)
    p_dec(p, d);
  else
    p->v[p->n++] = NULL;
}
static apex_dec g_amount(const PGresult *r, int row, int col) /* NULL: APEX_DEC_NONE */
{
  apex_dec d = APEX_DEC_NONE;
  if (!PQgetisnull(r, row, col) && apex_dec_from_str(PQgetvalue(r, row, col), &d))
    d = APEX_DEC_NONE;
  return d;
}

#define PF_COLS                                                                                                    \
  "id, user_id, name, description, base_currency, is_paper, broker, initial_balance, cash_balance, is_active, "  \
  "apex_ms(created_at), apex_ms(updated_at)"

static apex_err read_portfolio(const PGresult *r, int i, apex_portfolio_row *o, apex_error *err)
{
  memset(o, 0, sizeof *o);
  g_copy(r, i, 0, o->id, sizeof o->id);
  g_copy(r, i, 1, o->user_id, sizeof o->user_id);
  g_copy(r, i, 2, o->name, sizeof o->name);
  g_copy(r, i, 4, o->base_currency, sizeof o->base_currency);
  o->is_paper = g_bool(r, i, 5);
  g_copy(r, i, 6, o->broker, sizeof o->broker);
  o->initial_balance = g_amount(r, i, 7);
  o->cash_balance = g_amount(r, i, 8);
  o->is_active = g_bool(r, i, 9);
  o->created_at = g_i64(r, i, 10);
  o->updated_at = g_i64(r, i, 11);
  if (g_dup(r, i, 3, &o->description))
    return apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
  return APEX_OK;
}

/* $1..$12 in PF_COLS order. */
static void bind_portfolio(params *p, const apex_portfolio_row *r)
{
  p_text(p, r->id);
  p_text(p, r->user_id);
  p_text(p, r->name);
  p_text(p, r->description);
  p_text(p, r->base_currency);
  p_bool(p, r->is_paper);
  p_opt(p, r->broker);
  p_dec(p, r->initial_balance);
  p_dec(p, r->cash_balance);
  p_bool(p, r->is_active);
  p_i64(p, r->created_at);
  p_i64(p, r->updated_at);
}

static apex_err pg_portfolio_insert(apex_store *s, const apex_portfolio_row *r, apex_error *err)
{
  if (!uuid_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "portfolio: id is not a UUID");
  if (!uuid_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "portfolio: no such user");
  PGconn *c = conn(s);
  params p = {0};
  bind_portfolio(&p, r);
  apex_err rc = run(c,
                    "INSERT INTO portfolios (id, user_id, name, description, base_currency, is_paper, broker, "
                    "initial_balance, cash_balance, is_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
                    "$6, $7, $8, $9, $10, apex_ts($11), apex_ts($12))",
                    &p, err);
  DONE(s, c);
  return rc;
}

static apex_err pg_portfolio_get(apex_store *s, const char *user_id, const char *id, apex_portfolio_row *out,
                                 apex_error *err)
{
  NEED_UUID(id, "portfolio");
  if (user_id)
    NEED_UUID(user_id, "portfolio");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  p_text(&p, id);
  p_text(&p, user_id);
  if ((rc = q(c, "SELECT " PF_COLS " FROM portfolios WHERE id = $1 AND (CAST($2 AS uuid) IS NULL OR user_id = $2)",
              &p, &r, err)))
    goto out;
  if (PQntuples(r) == 0) {
    rc = apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
    goto out;
  }
  rc = read_portfolio(r, 0, out, err);
out:
  PQclear(r);
  DONE(s, c);
  return rc;
}

static apex_err pg_portfolio_list(apex_store *s, const char *user_id, const apex_page *p, apex_portfolio_row *rows,
                                  size_t *n, int64_t *total, apex_error *err)
{
  if (!uuid_ok(user_id))
    return APEX_OK;
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params pp = {0};
  apex_err rc;
  p_text(&pp, user_id);
  p_i64(&pp, p->limit);
  p_i64(&pp, (int64_t)(p->page - 1) * p->limit);
  if ((rc = q(c,
              p->desc ? "SELECT " PF_COLS ", count(*) OVER () FROM portfolios WHERE user_id = $1 "
                        "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
                      : "SELECT " PF_COLS ", count(*) OVER () FROM portfolios WHERE user_id = $1 "
                        "ORDER BY created_at, id LIMIT $2 OFFSET $3",
              &pp, &r, err)))
    goto out;
  int nt = PQntuples(r);
  if (nt > 0) {
    *total = g_i64(r, 0, 12);
  } else {
    PQclear(r);
    pp.n = 1;
    if ((rc = q(c, "SELECT count(*) FROM portfolios WHERE user_id = $1", &pp, &r, err)))
      goto out;
    *total = g_i64(r, 0, 0);
  }
  for (int i = 0; i < nt && *n < (size_t)p->limit; i++) {
    if ((rc = read_portfolio(r, i, &rows[*n], err)))
      goto out;
    (*n)++;
  }
out:
  if (rc) {
    for (size_t i = 0; i < *n; i++)
      apex_portfolio_row_clear(&rows[i]);
    *n = 0;
  }
  PQclear(r);
  DONE(s, c);
  return rc;
}

static apex_err pg_portfolio_update(apex_store *s, const apex_portfolio_row *r, apex_error *err)
{
  NEED_UUID(r->id, "portfolio");
  NEED_UUID(r->user_id, "portfolio");
  PGconn *c = conn(s);
  params p = {0};
  p_text(&p, r->id);
  p_text(&p, r->user_id);
  p_text(&p, r->name);
  p_text(&p, r->description);
  p_text(&p, r->base_currency);
  p_opt(&p, r->broker);
  p_dec(&p, r->cash_balance);
  p_bool(&p, r->is_active);
  p_i64(&p, r->updated_at);
  apex_err rc = run_one(c,
                        "UPDATE portfolios SET name = $3, description = $4, base_currency = $5, broker = $6, "
                        "cash_balance = $7, is_active = $8, updated_at = apex_ts($9) WHERE id = $1 AND user_id = $2",
                        &p, "portfolio", err);
  DONE(s, c);
  return rc;
}

static apex_err pg_portfolio_delete(apex_store *s, const char *user_id, const char *id, apex_error *err)
{
  NEED_UUID(id, "portfolio");
  NEED_UUID(user_id, "portfolio");
  PGconn *c = conn(s);
  params p = {0};
  p_text(&p, id);
  p_text(&p, user_id);
  apex_err rc = run_one(c, "DELETE FROM portfolios WHERE id = $1 AND user_id = $2", &p, "portfolio", err);
  DONE(s, c);
  return rc;
}

/* ENOTFOUND unless the portfolio is this user's (NULL: anyone's); then the row count of count_sql. */
static apex_err portfolio_child_total(PGconn *c, const char *user_id, const char *id, const char *count_sql,
                                      int64_t *total, apex_error *err)
{
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  p_text(&p, id);
  p_text(&p, user_id);
  if ((rc = q(c, "SELECT 1 FROM portfolios WHERE id = $1 AND (CAST($2 AS uuid) IS NULL OR user_id = $2)", &p, &r,
              err)))
    goto out;
  if (PQntuples(r) == 0) {
    rc = apex_error_set(err, APEX_ENOTFOUND, "portfolio: not found");
    goto out;
  }
  PQclear(r);
  p.n = 1;
  if ((rc = q(c, count_sql, &p, &r, err)))
    goto out;
  *total = g_i64(r, 0, 0);
out:
  PQclear(r);
  return rc;
}

static apex_err pg_position_put(apex_store *s, const apex_position_row *r, apex_error *err)
{
  NEED_UUID(r->portfolio_id, "portfolio");
  if (!uuid_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "position: id is not a UUID");
  PGconn *c = conn(s);
  params p = {0};
  p_text(&p, r->id);
  p_text(&p, r->portfolio_id);
  p_text(&p, r->symbol);
  p_dec(&p, r->quantity);
  p_dec(&p, r->average_entry_price);
  p_amount(&p, r->current_price);
  p_amount(&p, r->unrealized_pnl);
  p_amount(&p, r->unrealized_pnl_pct);
  p_bool(&p, r->is_open);
  p_i64(&p, r->opened_at);
  p_ms(&p, r->closed_at);
  p_i64(&p, r->updated_at);
  /* No change: the id belongs to another portfolio's position. */
  apex_err rc = run_one(c,
                        "INSERT INTO positions (id, portfolio_id, symbol, quantity, average_entry_price, "
                        "current_price, unrealized_pnl, unrealized_pnl_pct, is_open, opened_at, closed_at, "
                        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, apex_ts($10), apex_ts($11), "
                        "apex_ts($12)) ON CONFLICT (id) DO UPDATE SET symbol = EXCLUDED.symbol, "
                        "quantity = EXCLUDED.quantity, average_entry_price = EXCLUDED.average_entry_price, "
                        "current_price = EXCLUDED.current_price, unrealized_pnl = EXCLUDED.unrealized_pnl, "
                        "unrealized_pnl_pct = EXCLUDED.unrealized_pnl_pct, is_open = EXCLUDED.is_open, "
                        "closed_at = EXCLUDED.closed_at, updated_at = EXCLUDED.updated_at "
                        "WHERE positions.portfolio_id = EXCLUDED.portfolio_id",
                        &p, "position", err);
  DONE(s, c);
  return rc;
}

static apex_err pg_positions(apex_store *s, const char *user_id, const char *portfolio_id, bool open_only, int page,
                             int limit, apex_position_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  NEED_UUID(portfolio_id, "portfolio");
  if (user_id)
    NEED_UUID(user_id, "portfolio");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  if ((rc = portfolio_child_total(c, user_id, portfolio_id,
                                  open_only ? "SELECT count(*) FROM positions WHERE portfolio_id = $1 AND is_open"
                                            : "SELECT count(*) FROM positions WHERE portfolio_id = $1",
                                  total, err)))
    goto out;
  p_text(&p, portfolio_id);
  p_i64(&p, limit);
  p_i64(&p, (int64_t)(page - 1) * limit);
  p_bool(&p, open_only);
  if ((rc = q(c,
              "SELECT id, portfolio_id, symbol, quantity, average_entry_price, current_price, unrealized_pnl, "
              "unrealized_pnl_pct, is_open, apex_ms(opened_at), apex_ms(closed_at), apex_ms(updated_at) "
              "FROM positions WHERE portfolio_id = $1 AND (NOT $4 OR is_open) ORDER BY symbol, opened_at, id "
              "LIMIT $2 OFFSET $3",
              &p, &r, err)))
    goto out;
  for (int i = 0; i < PQntuples(r) && *n < (size_t)limit; i++) {
    apex_position_row *o = &rows[(*n)++];
    memset(o, 0, sizeof *o);
    g_copy(r, i, 0, o->id, sizeof o->id);
    g_copy(r, i, 1, o->portfolio_id, sizeof o->portfolio_id);
    g_copy(r, i, 2, o->symbol, sizeof o->symbol);
    o->quantity = g_amount(r, i, 3);
    o->average_entry_price = g_amount(r, i, 4);
    o->current_price = g_amount(r, i, 5);
    o->unrealized_pnl = g_amount(r, i, 6);
    o->unrealized_pnl_pct = g_amount(r, i, 7);
    o->is_open = g_bool(r, i, 8);
    o->opened_at = g_i64(r, i, 9);
    o->closed_at = g_i64(r, i, 10);
    o->updated_at = g_i64(r, i, 11);
  }
out:
  if (rc)
    *n = 0;
  PQclear(r);
  DONE(s, c);
  return rc;
}

static apex_err pg_portfolio_trade_insert(apex_store *s, const apex_portfolio_trade_row *r, apex_error *err)
{
  if (!uuid_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "trade: id is not a UUID");
  NEED_UUID(r->user_id, "portfolio");
  NEED_UUID(r->portfolio_id, "portfolio");
  if (r->strategy_id[0])
    NEED_UUID(r->strategy_id, "strategy");
  PGconn *c = conn(s);
  params p = {0};
  p_text(&p, r->id);
  p_text(&p, r->user_id);
  p_opt(&p, r->strategy_id);
  p_text(&p, r->portfolio_id);
  p_text(&p, r->symbol);
  p_text(&p, r->side);
  p_text(&p, r->order_type);
  p_dec(&p, r->quantity);
  p_amount(&p, r->price);
  p_dec(&p, r->filled_quantity);
  p_amount(&p, r->filled_price);
  p_dec(&p, r->commission);
  p_dec(&p, r->slippage);
  p_text(&p, r->status[0] ? r->status : "pending");
  p_opt(&p, r->broker_order_id);
  p_amount(&p, r->realized_pnl);
  p_bool(&p, r->is_paper);
  p_i64(&p, r->created_at);
  p_ms(&p, r->submitted_at);
  p_ms(&p, r->filled_at);
  /* Inserted only into the same user's portfolio: otherwise nothing changes (ENOTFOUND). */
  apex_err rc = run_one(
      c,
      "INSERT INTO trades (id, user_id, strategy_id, portfolio_id, symbol, side, order_type, quantity, price, "
      "filled_quantity, filled_price, commission, slippage, status, broker_order_id, realized_pnl, is_paper, "
      "created_at, submitted_at, filled_at) SELECT CAST($1 AS uuid), CAST($2 AS uuid), CAST($3 AS uuid), "
      "CAST($4 AS uuid), CAST($5 AS text), CAST($6 AS text), CAST($7 AS text), CAST($8 AS numeric), "
      "CAST($9 AS numeric), CAST($10 AS numeric), CAST($11 AS numeric), CAST($12 AS numeric), CAST($13 AS numeric), "
      "CAST($14 AS text), CAST($15 AS text), CAST($16 AS numeric), CAST($17 AS boolean), apex_ts($18), "
      "apex_ts($19), apex_ts($20) "
      "WHERE EXISTS (SELECT 1 FROM portfolios WHERE id = CAST($4 AS uuid) AND user_id = CAST($2 AS uuid))",
      &p, "portfolio", err);
  DONE(s, c);
  return rc;
}

static apex_err pg_portfolio_trades(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                                    apex_portfolio_trade_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  NEED_UUID(portfolio_id, "portfolio");
  if (user_id)
    NEED_UUID(user_id, "portfolio");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  if ((rc = portfolio_child_total(c, user_id, portfolio_id, "SELECT count(*) FROM trades WHERE portfolio_id = $1",
                                  total, err)))
    goto out;
  p_text(&p, portfolio_id);
  p_i64(&p, limit);
  p_i64(&p, (int64_t)(page - 1) * limit);
  if ((rc = q(c,
              "SELECT id, user_id, strategy_id, portfolio_id, symbol, side, order_type, quantity, price, "
              "filled_quantity, filled_price, commission, slippage, status, broker_order_id, realized_pnl, is_paper, "
              "apex_ms(created_at), apex_ms(submitted_at), apex_ms(filled_at) FROM trades WHERE portfolio_id = $1 "
              "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
              &p, &r, err)))
    goto out;
  for (int i = 0; i < PQntuples(r) && *n < (size_t)limit; i++) {
    apex_portfolio_trade_row *t = &rows[(*n)++];
    memset(t, 0, sizeof *t);
    g_copy(r, i, 0, t->id, sizeof t->id);
    g_copy(r, i, 1, t->user_id, sizeof t->user_id);
    g_copy(r, i, 2, t->strategy_id, sizeof t->strategy_id);
    g_copy(r, i, 3, t->portfolio_id, sizeof t->portfolio_id);
    g_copy(r, i, 4, t->symbol, sizeof t->symbol);
    g_copy(r, i, 5, t->side, sizeof t->side);
    g_copy(r, i, 6, t->order_type, sizeof t->order_type);
    t->quantity = g_amount(r, i, 7);
    t->price = g_amount(r, i, 8);
    t->filled_quantity = g_amount(r, i, 9);
    t->filled_price = g_amount(r, i, 10);
    t->commission = g_amount(r, i, 11);
    t->slippage = g_amount(r, i, 12);
    g_copy(r, i, 13, t->status, sizeof t->status);
    g_copy(r, i, 14, t->broker_order_id, sizeof t->broker_order_id);
    t->realized_pnl = g_amount(r, i, 15);
    t->is_paper = g_bool(r, i, 16);
    t->created_at = g_i64(r, i, 17);
    t->submitted_at = g_i64(r, i, 18);
    t->filled_at = g_i64(r, i, 19);
  }
out:
  if (rc)
    *n = 0;
  PQclear(r);
  DONE(s, c);
  return rc;
}

static apex_err pg_equity_put(apex_store *s, const char *portfolio_id, const apex_equity_row *rows, size_t n,
                              apex_error *err)
{
  NEED_UUID(portfolio_id, "portfolio");
  PGconn *c = conn(s);
  apex_err rc = APEX_OK;
  bool in_tx = false;
  int64_t *times = malloc(n * sizeof *times);
  if (!times) {
    rc = apex_error_set(err, APEX_ENOMEM, "pg: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    times[i] = rows[i].time;
  if ((rc = ensure_month_partitions(s, c, "equity_history", 1, times, n, err)) || (rc = run(c, "BEGIN", NULL, err)))
    goto out;
  in_tx = true;
  for (size_t i = 0; i < n; i++) {
    params p = {0};
    p_i64(&p, rows[i].time);
    p_text(&p, portfolio_id);
    p_dec(&p, rows[i].equity_value);
    p_dec(&p, rows[i].cash_balance);
    p_dec(&p, rows[i].positions_value);
    p_amount(&p, rows[i].daily_pnl);
    p_amount(&p, rows[i].daily_pnl_pct);
    if ((rc = run(c,
                  "INSERT INTO equity_history (time, portfolio_id, equity_value, cash_balance, positions_value, "
                  "daily_pnl, daily_pnl_pct) VALUES (apex_ts($1), $2, $3, $4, $5, $6, $7) "
                  "ON CONFLICT (time, portfolio_id) DO UPDATE SET equity_value = EXCLUDED.equity_value, "
                  "cash_balance = EXCLUDED.cash_balance, positions_value = EXCLUDED.positions_value, "
                  "daily_pnl = EXCLUDED.daily_pnl, daily_pnl_pct = EXCLUDED.daily_pnl_pct",
                  &p, err)))
      goto out;
  }
  if ((rc = run(c, "COMMIT", NULL, err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    rollback(c);
  free(times);
  DONE(s, c);
  return rc;
}

static apex_err pg_equity(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                          apex_equity_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  NEED_UUID(portfolio_id, "portfolio");
  if (user_id)
    NEED_UUID(user_id, "portfolio");
  PGconn *c = conn(s);
  PGresult *r = NULL;
  params p = {0};
  apex_err rc;
  if ((rc = portfolio_child_total(c, user_id, portfolio_id,
                                  "SELECT count(*) FROM equity_history WHERE portfolio_id = $1", total, err)))
    goto out;
  p_text(&p, portfolio_id);
  p_i64(&p, limit);
  p_i64(&p, (int64_t)(page - 1) * limit);
  if ((rc = q(c,
              "SELECT apex_ms(time), equity_value, cash_balance, positions_value, daily_pnl, daily_pnl_pct "
              "FROM equity_history WHERE portfolio_id = $1 ORDER BY time LIMIT $2 OFFSET $3",
              &p, &r, err)))
    goto out;
  for (int i = 0; i < PQntuples(r) && *n < (size_t)limit; i++) {
    apex_equity_row *e = &rows[(*n)++];
    e->time = g_i64(r, i, 0);
    e->equity_value = g_amount(r, i, 1);
    e->cash_balance = g_amount(r, i, 2);
    e->positions_value = g_amount(r, i, 3);
    e->daily_pnl = g_amount(r, i, 4);
    e->daily_pnl_pct = g_amount(r, i, 5);
  }
out:
  if (rc)
    *n = 0;
  PQclear(r);
  DONE(s, c);
  return rc;
}

static const apex_store_ops PG_OPS = {
    .name = "postgresql",
    .close = pg_close,
    .migrate = pg_migrate,
    .migration_status = pg_migration_status,
    .ping = pg_ping,
    .backtest_insert = pg_backtest_insert,
    .backtest_get = pg_backtest_get,
    .backtest_list = pg_backtest_list,
    .backtest_set_status = pg_backtest_set_status,
    .backtest_finish = pg_backtest_finish,
    .backtest_trades = pg_backtest_trades,
    .backtest_equity = pg_backtest_equity,
    .ohlcv_put = pg_ohlcv_put,
    .ohlcv_get = pg_ohlcv_get,
    .portfolio_insert = pg_portfolio_insert,
    .portfolio_get = pg_portfolio_get,
    .portfolio_list = pg_portfolio_list,
    .portfolio_update = pg_portfolio_update,
    .portfolio_delete = pg_portfolio_delete,
    .position_put = pg_position_put,
    .positions = pg_positions,
    .portfolio_trade_insert = pg_portfolio_trade_insert,
    .portfolio_trades = pg_portfolio_trades,
    .equity_put = pg_equity_put,
    .equity = pg_equity,
};
