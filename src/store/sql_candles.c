/* sql_candles.c - the candle catalog (symbol, timeframe, first, last, count) and the candle reads
 * written once over the SQL driver. Each backend's bulk import calls catalog_count before and after
 * loading (inside its transaction) and catalog_add with the difference, so the catalog stays exact
 * across re-imports of overlapping ranges while counting only the imported range, never the table. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

apex_err apex_store__catalog_count(apex_store *s, void *c, const char *symbol, const char *timeframe, int64_t t0,
                                   int64_t t1, int64_t *n, apex_error *err)
{
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c,
                    "SELECT count(*) FROM ohlcv WHERE symbol = $1 AND timeframe = $2 AND time >= apex_ts($3) "
                    "AND time <= apex_ts($4)",
                    &r, err, A_TEXT(symbol), A_TEXT(timeframe), A_I64(t0), A_I64(t1));
  *n = rc ? 0 : s->sql->i64(r, 0, 0);
  s->sql->res_free(r);
  return rc;
}

apex_err apex_store__catalog_add(apex_store *s, void *c, const char *symbol, const char *timeframe, int64_t t0,
                                 int64_t t1, int64_t added, apex_error *err)
{
  return SQL(s, c,
             "INSERT INTO candle_catalog (symbol, timeframe, first_time, last_time, count) VALUES ($1, $2, $3, $4, $5) "
             "ON CONFLICT (symbol, timeframe) DO UPDATE SET "
             "first_time = CASE WHEN excluded.first_time < candle_catalog.first_time THEN excluded.first_time "
             "ELSE candle_catalog.first_time END, "
             "last_time = CASE WHEN excluded.last_time > candle_catalog.last_time THEN excluded.last_time "
             "ELSE candle_catalog.last_time END, "
             "count = candle_catalog.count + excluded.count",
             NULL, err, A_TEXT(symbol), A_TEXT(timeframe), A_I64(t0), A_I64(t1), A_I64(added));
}

/* What TIMESTAMPTZ holds (years 1-9999): beyond it means open. */
#define TS_MIN INT64_C(-62135596800000)
#define TS_MAX INT64_C(253402300800000)

#define OHLCV_COLS "time, symbol, timeframe, open, high, low, close, volume, source"

typedef struct candle_rows {
  const char *symbol, *timeframe, *source;
  const apex_series *s;
} candle_rows;

static apex_err candle_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const candle_rows *c = ctx;
  (void)err;
  a[0] = A_TS(c->s->time[i]);
  a[1] = A_TEXT(c->symbol);
  a[2] = A_TEXT(c->timeframe);
  a[3] = A_F64(c->s->open[i]);
  a[4] = A_F64(c->s->high[i]);
  a[5] = A_F64(c->s->low[i]);
  a[6] = A_F64(c->s->close[i]);
  a[7] = A_F64(c->s->volume[i]);
  a[8] = A_TEXT(c->source);
  return APEX_OK;
}

static apex_err check_put(const char *symbol, const char *timeframe, const apex_series *s, apex_error *err)
{
  if (!symbol || !*symbol || strlen(symbol) > 32)
    return apex_error_set(err, APEX_EINVAL, "store: symbol must be 1-32 characters");
  if (!timeframe || !*timeframe || strlen(timeframe) > 7)
    return apex_error_set(err, APEX_EINVAL, "store: timeframe must be 1-7 characters");
  if (!s)
    return apex_error_set(err, APEX_EINVAL, "store: series required");
  /* One upsert per key: PostgreSQL's ON CONFLICT cannot touch a row twice in one statement. */
  for (size_t i = 1; i < s->n; i++)
    if (s->time[i] <= s->time[i - 1])
      return apex_error_set(err, APEX_EINVAL, "store: candle times must increase (row %zu)", i);
  return APEX_OK;
}

/* The load inside the caller's transaction on c (partitions made before it began). */
apex_err apex_store__ohlcv_put_in(apex_store *st, void *c, const char *symbol, const char *timeframe,
                                  const apex_series *s, const char *source, apex_error *err)
{
  apex_err rc = check_put(symbol, timeframe, s, err);
  if (rc || !s->n)
    return rc;
  candle_rows rows = {symbol, timeframe, source && *source ? source : "import", s};
  apex_sql_copy cp = {"ohlcv", OHLCV_COLS, 9, s->n, NULL, candle_row, &rows};
  const int64_t t0 = s->time[0], t1 = s->time[s->n - 1];
  int64_t before, after;
  apex_sql_res *r = NULL;
  bool overlap;

  if ((rc = apex_store__catalog_count(st, c, symbol, timeframe, t0, t1, &before, err)) ||
      (rc = SQL(st, c,
                "SELECT 1 FROM ohlcv WHERE symbol = $1 AND timeframe = $2 AND time >= apex_ts($3) AND "
                "time <= apex_ts($4) LIMIT 1",
                &r, err, A_TEXT(symbol), A_TEXT(timeframe), A_I64(t0), A_I64(t1))))
    goto out;
  overlap = st->sql->rows(r) > 0;
  /* A range with no stored candle takes the fast path: a plain load (COPY on PostgreSQL). A row
   * that appears meanwhile (another import) fails it with ECONFLICT; the savepoint lets the
   * upsert take over. */
  if (!overlap) {
    if ((rc = apex_sql__exec(st, c, "SAVEPOINT fast", err)))
      goto out;
    rc = st->sql->copy_in(st, c, &cp, err);
    if (rc == APEX_ECONFLICT) {
      overlap = true;
      rc = apex_sql__exec(st, c, "ROLLBACK TO SAVEPOINT fast", err);
    }
    if (rc)
      goto out;
  }
  if (overlap) {
    cp.upsert = "ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = excluded.open, high = excluded.high, "
                "low = excluded.low, close = excluded.close, volume = excluded.volume, source = excluded.source";
    if ((rc = st->sql->copy_in(st, c, &cp, err)))
      goto out;
  }
  if (!(rc = apex_store__catalog_count(st, c, symbol, timeframe, t0, t1, &after, err)))
    rc = apex_store__catalog_add(st, c, symbol, timeframe, t0, t1, after - before, err);
out:
  st->sql->res_free(r);
  return rc;
}

apex_err apex_store_ohlcv_put(apex_store *st, const char *symbol, const char *timeframe, const apex_series *s,
                              const char *source, apex_error *err)
{
  apex_err rc = check_put(symbol, timeframe, s, err);
  if (rc || !s->n)
    return rc;
  void *c = apex_sql__acquire(st);
  bool in_tx = false;
  if ((st->sql->partitions && (rc = st->sql->partitions(st, c, "ohlcv", s->time, s->n, err))) ||
      (rc = apex_sql__begin(st, c, err)))
    goto out;
  in_tx = true;
  if ((rc = apex_store__ohlcv_put_in(st, c, symbol, timeframe, s, source, err)) ||
      (rc = apex_sql__exec(st, c, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    apex_sql__rollback(st, c);
  apex_sql__release(st, c);
  return rc;
}

apex_err apex_store_ohlcv_get(apex_store *st, const char *symbol, const char *timeframe, int64_t start, int64_t end,
                              size_t limit, apex_series **out, apex_error *err)
{
  if (!symbol || !timeframe || !out)
    return apex_error_set(err, APEX_EINVAL, "store: symbol, timeframe and output required");
  *out = NULL;
  void *c = apex_sql__acquire(st);
  apex_sql_res *r = NULL;
  apex_series *s = NULL;
  /* Oldest first from start along the key, so a limit reads only the rows it returns. */
  apex_err rc = SQL(st, c,
                    "SELECT apex_ms(time), open, high, low, close, volume FROM ohlcv WHERE symbol = $1 AND "
                    "timeframe = $2 AND time >= apex_ts($3) AND time < apex_ts($4) ORDER BY time LIMIT $5",
                    &r, err, A_TEXT(symbol), A_TEXT(timeframe), A_I64(start > TS_MIN ? start : TS_MIN),
                    A_I64(end < TS_MAX ? end : TS_MAX), A_I64(limit && limit < INT32_MAX ? (int64_t)limit : INT32_MAX));
  if (rc)
    goto out;
  int nr = st->sql->rows(r);
  if (!(s = apex_series_new((size_t)(nr ? nr : 1)))) {
    rc = apex_error_set(err, APEX_ENOMEM, "store: out of memory");
    goto out;
  }
  for (int i = 0; i < nr; i++) {
    apex_bar b = {st->sql->i64(r, i, 0), st->sql->f64(r, i, 1), st->sql->f64(r, i, 2), st->sql->f64(r, i, 3),
                  st->sql->f64(r, i, 4), st->sql->f64(r, i, 5)};
    apex_series_append(s, &b); /* within the reserved capacity: cannot fail */
  }
out:
  *out = s;
  st->sql->res_free(r);
  apex_sql__release(st, c);
  return rc;
}

apex_err apex_store_ohlcv_symbols(apex_store *st, apex_symbol_info **rows, size_t *n, apex_error *err)
{
  if (!rows || !n)
    return apex_error_set(err, APEX_EINVAL, "store: outputs required");
  *rows = NULL;
  *n = 0;
  void *c = apex_sql__acquire(st);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(st, c,
                    "SELECT symbol, timeframe, first_time, last_time, count FROM candle_catalog WHERE count > $1 "
                    "ORDER BY symbol, timeframe",
                    &r, err, A_I64(0));
  if (rc)
    goto out;
  int nr = st->sql->rows(r);
  apex_symbol_info *v = calloc((size_t)(nr ? nr : 1), sizeof *v);
  if (!v) {
    rc = apex_error_set(err, APEX_ENOMEM, "store: out of memory");
    goto out;
  }
  for (int i = 0; i < nr; i++) {
    apex_store__copy(v[i].symbol, sizeof v[i].symbol, st->sql->text(r, i, 0));
    apex_store__copy(v[i].timeframe, sizeof v[i].timeframe, st->sql->text(r, i, 1));
    v[i].first = st->sql->i64(r, i, 2);
    v[i].last = st->sql->i64(r, i, 3);
    v[i].count = st->sql->i64(r, i, 4);
  }
  *rows = v;
  *n = (size_t)nr;
out:
  st->sql->res_free(r);
  apex_sql__release(st, c);
  return rc;
}


apex_err apex_store_ohlcv_last(apex_store *st, const char *symbol, const char *timeframe, int64_t start, int64_t end,
                               size_t limit, apex_series **out, apex_error *err)
{
  if (!out)
    return apex_error_set(err, APEX_EINVAL, "store: output required");
  *out = NULL;
  if (!symbol || !timeframe || !limit)
    return apex_error_set(err, APEX_EINVAL, "store: symbol, timeframe and a limit required");
  if (limit > INT32_MAX)
    limit = INT32_MAX;
  void *c = apex_sql__acquire(st);
  apex_sql_res *r = NULL;
  apex_series *s = NULL;
  /* Newest first from the key's end, so only the rows returned are read. */
  apex_err rc = SQL(st, c,
                    "SELECT apex_ms(time), open, high, low, close, volume FROM ohlcv WHERE symbol = $1 AND "
                    "timeframe = $2 AND time >= apex_ts($3) AND time < apex_ts($4) ORDER BY time DESC LIMIT $5",
                    &r, err, A_TEXT(symbol), A_TEXT(timeframe), A_I64(start > TS_MIN ? start : TS_MIN),
                    A_I64(end < TS_MAX ? end : TS_MAX), A_I64((int64_t)limit));
  if (rc)
    goto out;
  int nr = st->sql->rows(r);
  if (!(s = apex_series_new((size_t)(nr ? nr : 1)))) {
    rc = apex_error_set(err, APEX_ENOMEM, "store: out of memory");
    goto out;
  }
  for (int i = nr - 1; i >= 0; i--) {
    apex_bar b = {st->sql->i64(r, i, 0), st->sql->f64(r, i, 1), st->sql->f64(r, i, 2), st->sql->f64(r, i, 3),
                  st->sql->f64(r, i, 4), st->sql->f64(r, i, 5)};
    apex_series_append(s, &b); /* within the reserved capacity: cannot fail */
  }
out:
  *out = s;
  st->sql->res_free(r);
  apex_sql__release(st, c);
  return rc;
}
