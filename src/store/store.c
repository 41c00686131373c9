/* store.c - the storage port's front: picks the backend by URL, checks arguments common to both,
 * forwards through the backend's operations table, and holds the connection pool both use.
 * Includes no database header: sqlite.c and pg.c are the only ones that do. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

apex_err apex_store__pool_init(apex_store_pool *p, void **conns, int size)
{
  p->conns = conns;
  p->size = size;
  p->in_use = 0;
  p->busy = calloc((size_t)size, sizeof *p->busy);
  if (!p->busy)
    return APEX_ENOMEM;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  return APEX_OK;
}

void *apex_store__pool_acquire(apex_store_pool *p)
{
  void *c = NULL;
  pthread_mutex_lock(&p->mu);
  while (p->in_use == p->size)
    pthread_cond_wait(&p->cv, &p->mu);
  for (int i = 0; i < p->size; i++)
    if (!p->busy[i]) {
      p->busy[i] = true;
      p->in_use++;
      c = p->conns[i];
      break;
    }
  pthread_mutex_unlock(&p->mu);
  return c;
}

void apex_store__pool_release(apex_store_pool *p, void *conn)
{
  pthread_mutex_lock(&p->mu);
  for (int i = 0; i < p->size; i++)
    if (p->conns[i] == conn && p->busy[i]) {
      p->busy[i] = false;
      p->in_use--;
      break;
    }
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

void apex_store__pool_destroy(apex_store_pool *p)
{
  if (!p->busy)
    return;
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->busy);
  free(p->conns);
  p->busy = NULL;
  p->conns = NULL;
}

void apex_store__copy(char *dst, size_t cap, const char *src)
{
  size_t n = src ? strnlen(src, cap - 1) : 0;
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm): no gmtime, no locale. */
apex_err apex_store__status_line(char *buf, size_t cap, size_t *k, const char *name, const char *when,
                                 apex_error *err)
{
  int w = snprintf(buf + *k, cap - *k, when[0] ? "%s applied %s\n" : "%s pending\n", name, when);
  if (w < 0 || (size_t)w >= cap - *k)
    return apex_error_set(err, APEX_ETOOBIG, "store: migration status does not fit %zu bytes", cap);
  *k += (size_t)w;
  return APEX_OK;
}

/* The URL forms of store.h: PostgreSQL under any SQLAlchemy-style driver suffix (the spec's
 * postgresql+asyncpg://), SQLite as sqlite:///PATH (SQLAlchemy: relative, or absolute with a fourth
 * slash), sqlite:PATH or a plain path; any other scheme is refused rather than taken as a file name. */
apex_err apex_store_open(const char *url, int pool, apex_store **out, apex_error *err)
{
  static const char ACCEPTED[] = "postgresql://, postgres://, postgresql+DRIVER://, sqlite:///PATH, sqlite:PATH "
                                 "or a file path";
  *out = NULL;
  if (!url || !*url)
    return apex_error_set(err, APEX_EINVAL, "store: empty database URL");
  if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))
    return apex_store__pg_open(url, pool > 0 ? pool : 10, out, err);
  if (!strncmp(url, "postgresql+", 11)) {
    const char *rest = strstr(url, "://");
    char *pg = NULL;
    if (!rest || rest == url + 11 || strcspn(url + 11, ":/") != (size_t)(rest - url - 11))
      return apex_error_set(err, APEX_EINVAL, "store: malformed database URL (accepted: %s)", ACCEPTED);
    /* libpq knows no driver suffix: the same URL without it. */
    if (!(pg = malloc(strlen("postgresql") + strlen(rest) + 1)))
      return apex_error_set(err, APEX_ENOMEM, "store: out of memory");
    strcpy(pg, "postgresql");
    strcat(pg, rest);
    apex_err rc = apex_store__pg_open(pg, pool > 0 ? pool : 10, out, err);
    free(pg);
    return rc;
  }
  if (!strncmp(url, "sqlite:///", 10))
    url += 10;
  else if (!strncmp(url, "sqlite:", 7))
    url += 7;
  else {
    /* A scheme is letters, digits, + - . before the first ':'; a path has a '/' first or none. */
    size_t k = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (k && url[k] == ':' && strcmp(url, ":memory:"))
      return apex_error_set(err, APEX_EINVAL, "store: unsupported database URL scheme '%.*s' (accepted: %s)",
                            (int)(k < 32 ? k : 32), url, ACCEPTED);
  }
  if (!*url)
    return apex_error_set(err, APEX_EINVAL, "store: empty SQLite path");
  return apex_store__sqlite_open(url, out, err);
}

void apex_store_close(apex_store *s)
{
  if (s)
    s->ops->close(s);
}

const char *apex_store_backend(const apex_store *s) { return s->ops->name; }

apex_err apex_store_migrate(apex_store *s, apex_error *err) { return s->ops->migrate(s, err); }

apex_err apex_store_migration_status(apex_store *s, char *buf, size_t cap, apex_error *err)
{
  if (!buf || !cap)
    return apex_error_set(err, APEX_EINVAL, "store: no buffer for the migration status");
  buf[0] = '\0';
  return s->ops->migration_status(s, buf, cap, err);
}

apex_err apex_store_ping(apex_store *s, apex_error *err) { return s->ops->ping(s, err); }

void apex_store_pool_stats(apex_store *s, int *in_use, int *size)
{
  pthread_mutex_lock(&s->pool.mu);
  *in_use = s->pool.in_use;
  *size = s->pool.size;
  pthread_mutex_unlock(&s->pool.mu);
}

#define NEED(cond, what)                                                                           \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      return apex_error_set(err, APEX_EINVAL, "store: %s", what);                                  \
  } while (0)

void apex_backtest_row_clear(apex_backtest_row *r)
{
  if (!r)
    return;
  free(r->error_message);
  free(r->result);
  r->error_message = r->result = NULL;
}

static apex_err check_page(const apex_page *p, apex_error *err)
{
  NEED(p && p->page >= 1 && p->limit >= 1, "page must be >= 1 and limit >= 1");
  NEED((int64_t)(p->page - 1) * p->limit < INT32_MAX, "page out of range");
  return APEX_OK;
}

apex_err apex_store_backtest_insert(apex_store *s, const apex_backtest_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->strategy_id[0], "backtest needs an id, a user and a strategy");
  return s->ops->backtest_insert(s, r, err);
}

apex_err apex_store_backtest_get(apex_store *s, const char *user_id, const char *id, apex_backtest_row *out,
                                 apex_error *err)
{
  NEED(id && out, "id and output required"); /* user_id NULL: any user's (jobs) */
  memset(out, 0, sizeof *out);
  return s->ops->backtest_get(s, user_id, id, out, err);
}

apex_err apex_store_backtest_list(apex_store *s, const char *user_id, const apex_page *p, apex_backtest_row *rows,
                                  size_t *n, int64_t *total, apex_error *err)
{
  apex_err rc = check_page(p, err);
  if (rc)
    return rc;
  NEED(user_id && rows && n && total, "user id and outputs required");
  *n = 0;
  *total = 0;
  memset(rows, 0, (size_t)p->limit * sizeof *rows);
  return s->ops->backtest_list(s, user_id, p, rows, n, total, err);
}

static bool is_status(const char *st)
{
  static const char *const OK[] = {"pending", "running", "completed", "failed", "cancelled"};
  for (size_t i = 0; i < APEX_ARRAY_LEN(OK); i++)
    if (!strcmp(st, OK[i]))
      return true;
  return false;
}

apex_err apex_store_backtest_set_status(apex_store *s, const char *id, const char *status, int progress,
                                        const char *error_message, int64_t now, apex_error *err)
{
  NEED(id && status && is_status(status), "backtest status must be pending, running, completed, failed or cancelled");
  NEED(progress >= 0 && progress <= 100, "progress must be 0-100");
  return s->ops->backtest_set_status(s, id, status, progress, error_message, now, err);
}

apex_err apex_store_backtest_finish(apex_store *s, const char *id, const char *result_json,
                                    const apex_trade_row *trades, size_t n_trades, const int64_t *eq_time,
                                    const double *eq_value, size_t n_eq, int64_t now, apex_error *err)
{
  NEED(id && (trades || !n_trades) && ((eq_time && eq_value) || !n_eq), "backtest id and arrays required");
  return s->ops->backtest_finish(s, id, result_json, trades, n_trades, eq_time, eq_value, n_eq, now, err);
}

apex_err apex_store_backtest_trades(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                    apex_trade_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  apex_page p = {.page = page, .limit = limit};
  apex_err rc = check_page(&p, err);
  if (rc)
    return rc;
  NEED(user_id && id && rows && n && total, "user id, id and outputs required");
  *n = 0;
  *total = 0;
  return s->ops->backtest_trades(s, user_id, id, page, limit, rows, n, total, err);
}

apex_err apex_store_backtest_equity(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                    int64_t *times, double *values, size_t *n, int64_t *total, apex_error *err)
{
  apex_page p = {.page = page, .limit = limit};
  apex_err rc = check_page(&p, err);
  if (rc)
    return rc;
  NEED(user_id && id && times && values && n && total, "user id, id and outputs required");
  *n = 0;
  *total = 0;
  return s->ops->backtest_equity(s, user_id, id, page, limit, times, values, n, total, err);
}

apex_err apex_store_ohlcv_put(apex_store *st, const char *symbol, const char *timeframe, const apex_series *s,
                              const char *source, apex_error *err)
{
  NEED(symbol && *symbol && strlen(symbol) < 33, "symbol must be 1-32 characters");
  NEED(timeframe && *timeframe && strlen(timeframe) < 8, "timeframe must be 1-7 characters");
  NEED(s, "series required");
  /* One upsert per key: PostgreSQL's ON CONFLICT cannot touch a row twice in one statement. */
  for (size_t i = 1; i < s->n; i++)
    if (s->time[i] <= s->time[i - 1])
      return apex_error_set(err, APEX_EINVAL, "store: candle times must increase (row %zu)", i);
  if (!s->n)
    return APEX_OK;
  return st->ops->ohlcv_put(st, symbol, timeframe, s, source && *source ? source : "import", err);
}

apex_err apex_store_ohlcv_get(apex_store *st, const char *symbol, const char *timeframe, int64_t start, int64_t end,
                              size_t limit, apex_series **out, apex_error *err)
{
  NEED(symbol && timeframe && out, "symbol, timeframe and output required");
  *out = NULL;
  return st->ops->ohlcv_get(st, symbol, timeframe, start, end, limit, out, err);
}


void apex_portfolio_row_clear(apex_portfolio_row *r)
{
  if (!r)
    return;
  free(r->description);
  r->description = NULL;
}

static bool is_currency(const char *c) { return strlen(c) == 3; }

apex_err apex_store_portfolio_insert(apex_store *s, const apex_portfolio_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->name[0], "portfolio needs an id, a user and a name");
  NEED(is_currency(r->base_currency), "portfolio base currency must be 3 letters");
  return s->ops->portfolio_insert(s, r, err);
}

apex_err apex_store_portfolio_get(apex_store *s, const char *user_id, const char *id, apex_portfolio_row *out,
                                  apex_error *err)
{
  NEED(id && out, "id and output required"); /* user_id NULL: any user's (jobs) */
  memset(out, 0, sizeof *out);
  return s->ops->portfolio_get(s, user_id, id, out, err);
}

apex_err apex_store_portfolio_list(apex_store *s, const char *user_id, const apex_page *p, apex_portfolio_row *rows,
                                   size_t *n, int64_t *total, apex_error *err)
{
  apex_err rc = check_page(p, err);
  if (rc)
    return rc;
  NEED(user_id && rows && n && total, "user id and outputs required");
  *n = 0;
  *total = 0;
  memset(rows, 0, (size_t)p->limit * sizeof *rows);
  return s->ops->portfolio_list(s, user_id, p, rows, n, total, err);
}

apex_err apex_store_portfolio_update(apex_store *s, const apex_portfolio_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->name[0], "portfolio needs an id, a user and a name");
  NEED(is_currency(r->base_currency), "portfolio base currency must be 3 letters");
  return s->ops->portfolio_update(s, r, err);
}

apex_err apex_store_portfolio_delete(apex_store *s, const char *user_id, const char *id, apex_error *err)
{
  NEED(user_id && id, "user id and id required");
  return s->ops->portfolio_delete(s, user_id, id, err);
}

apex_err apex_store_position_put(apex_store *s, const apex_position_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->portfolio_id[0] && r->symbol[0], "position needs an id, a portfolio and a symbol");
  return s->ops->position_put(s, r, err);
}

/* The paging checks shared by the portfolio sub-resources. */
#define CHILD_PAGE(rows_ok)                                                                        \
  do {                                                                                             \
    apex_page pg_ = {.page = page, .limit = limit};                                                \
    apex_err rc_ = check_page(&pg_, err);                                                          \
    if (rc_)                                                                                       \
      return rc_;                                                                                  \
    NEED(portfolio_id && (rows_ok) && n && total, "portfolio id and outputs required");            \
    *n = 0;                                                                                        \
    *total = 0;                                                                                    \
  } while (0)

apex_err apex_store_positions(apex_store *s, const char *user_id, const char *portfolio_id, bool open_only, int page,
                              int limit, apex_position_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  CHILD_PAGE(rows);
  return s->ops->positions(s, user_id, portfolio_id, open_only, page, limit, rows, n, total, err);
}

static bool is_side(const char *side) { return !strcmp(side, "BUY") || !strcmp(side, "SELL"); }

apex_err apex_store_portfolio_trade_insert(apex_store *s, const apex_portfolio_trade_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->portfolio_id[0] && r->symbol[0] && r->order_type[0],
       "trade needs an id, a user, a portfolio, a symbol and an order type");
  NEED(is_side(r->side), "trade side must be BUY or SELL");
  return s->ops->portfolio_trade_insert(s, r, err);
}

apex_err apex_store_portfolio_trades(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                                     apex_portfolio_trade_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  CHILD_PAGE(rows);
  return s->ops->portfolio_trades(s, user_id, portfolio_id, page, limit, rows, n, total, err);
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
  return s->ops->equity_put(s, portfolio_id, rows, n, err);
}

apex_err apex_store_equity(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                           apex_equity_row *rows, size_t *n, int64_t *total, apex_error *err)
{
  CHILD_PAGE(rows);
  return s->ops->equity(s, user_id, portfolio_id, page, limit, rows, n, total, err);
}
