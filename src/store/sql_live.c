/* sql_live.c - live orders (migration 0008): a trades row and its execution record, written
 * together; and broker keys' nonces (0009). For both databases. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

#define A_AMOUNT(x) ((x) != APEX_DEC_NONE ? A_DEC(x) : A_NULL)

#define LIVE_COLS                                                                                                  \
  PTRADE_COLS ", client_order_id, run_id, api_key_id, venue, close_position, quote_filled, fee_currency, "         \
              "attempts, apex_ms(last_attempt_at), error, apex_ms(signal_time), apex_ms(updated_at)"
#define LIVE_FROM "trades JOIN live_orders ON trade_id = id"

static apex_err read_live(apex_store *s, const apex_sql_res *r, int i, apex_live_order_row *o, apex_error *err)
{
  const apex_sql_driver *d = s->sql;
  const int k = PTRADE_NCOLS;
  memset(o, 0, sizeof *o);
  apex_err rc = apex_sql__read_ptrade(s, r, i, &o->t, 0, err);
  apex_store__copy(o->client_order_id, sizeof o->client_order_id, d->text(r, i, k));
  apex_store__copy(o->run_id, sizeof o->run_id, d->text(r, i, k + 1));
  apex_store__copy(o->api_key_id, sizeof o->api_key_id, d->text(r, i, k + 2));
  apex_store__copy(o->venue, sizeof o->venue, d->text(r, i, k + 3));
  o->close_position = d->boolean(r, i, k + 4);
  o->quote_filled = d->dec(r, i, k + 5);
  apex_store__copy(o->fee_currency, sizeof o->fee_currency, d->text(r, i, k + 6));
  o->attempts = (int)d->i64(r, i, k + 7);
  o->last_attempt_at = d->i64(r, i, k + 8);
  apex_store__copy(o->t.error, sizeof o->t.error, d->text(r, i, k + 9));
  o->signal_time = d->i64(r, i, k + 10);
  o->updated_at = d->i64(r, i, k + 11);
  return rc;
}

static bool row_ok(const apex_live_order_row *r)
{
  return apex_store__id_ok(r->t.id) && apex_store__id_ok(r->t.user_id) && apex_store__id_ok(r->t.portfolio_id) &&
         apex_store__id_ok(r->run_id) && r->client_order_id[0] && r->venue[0] &&
         (!r->t.strategy_id[0] || apex_store__id_ok(r->t.strategy_id)) &&
         (!r->api_key_id[0] || apex_store__id_ok(r->api_key_id));
}

apex_err apex_store_live_order_add(apex_store *s, const apex_live_order_row *r, bool *added, apex_error *err)
{
  NEED(r && added && row_ok(r), "live order needs ids, a client order id and a venue");
  const apex_portfolio_trade_row *t = &r->t;
  void *c = apex_sql__acquire(s);
  apex_sql_res *res = NULL;
  *added = false;
  apex_err rc = apex_sql__begin(s, c, err);
  if (rc)
    goto out;
  if ((rc = SQL(s, c, "SELECT 1 FROM live_orders WHERE client_order_id = $1", &res, err, A_TEXT(r->client_order_id))))
    goto fail;
  if (s->sql->rows(res) > 0) { /* stored before a crash: the candle is being stepped again */
    rc = apex_sql__exec(s, c, "COMMIT", err);
    goto out;
  }
  if ((rc = SQL(s, c,
                "INSERT INTO trades (id, user_id, strategy_id, portfolio_id, symbol, side, order_type, quantity, "
                "price, filled_quantity, filled_price, commission, slippage, status, broker_order_id, realized_pnl, "
                "is_paper, created_at, submitted_at, filled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                "$11, $12, $13, $14, $15, $16, $17, apex_ts($18), apex_ts($19), apex_ts($20))",
                NULL, err, A_TEXT(t->id), A_TEXT(t->user_id), A_OPT(t->strategy_id), A_TEXT(t->portfolio_id),
                A_TEXT(t->symbol), A_TEXT(t->side), A_TEXT(t->order_type), A_DEC(t->quantity), A_AMOUNT(t->price),
                A_DEC(t->filled_quantity), A_AMOUNT(t->filled_price), A_DEC(t->commission), A_DEC(t->slippage),
                A_TEXT(t->status[0] ? t->status : "pending"), A_OPT(t->broker_order_id), A_AMOUNT(t->realized_pnl),
                A_BOOL(false), A_I64(t->created_at), A_MS(t->submitted_at), A_MS(t->filled_at))) ||
      (rc = SQL(s, c,
                "INSERT INTO live_orders (trade_id, client_order_id, run_id, api_key_id, venue, close_position, "
                "quote_filled, fee_currency, attempts, last_attempt_at, error, signal_time, updated_at) VALUES ($1, "
                "$2, $3, $4, $5, $6, $7, $8, $9, apex_ts($10), $11, apex_ts($12), apex_ts($13))",
                NULL, err, A_TEXT(t->id), A_TEXT(r->client_order_id), A_TEXT(r->run_id), A_OPT(r->api_key_id),
                A_TEXT(r->venue), A_BOOL(r->close_position), A_DEC(r->quote_filled), A_OPT(r->fee_currency),
                A_I64(r->attempts), A_MS(r->last_attempt_at), A_OPT(r->t.error), A_I64(r->signal_time),
                A_I64(r->updated_at))) ||
      (rc = apex_sql__exec(s, c, "COMMIT", err)))
    goto fail;
  *added = true;
  goto out;
fail:
  apex_sql__rollback(s, c);
out:
  s->sql->res_free(res);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_live_order_update(apex_store *s, const apex_live_order_row *r, apex_error *err)
{
  NEED(r && apex_store__id_ok(r->t.id), "live order id required");
  const apex_portfolio_trade_row *t = &r->t;
  void *c = apex_sql__acquire(s);
  apex_err rc = apex_sql__begin(s, c, err);
  if (rc)
    goto out;
  if ((rc = SQL(s, c,
                "UPDATE trades SET quantity = $2, filled_quantity = $3, filled_price = $4, commission = $5, "
                "status = $6, broker_order_id = $7, realized_pnl = $8, submitted_at = apex_ts($9), "
                "filled_at = apex_ts($10) WHERE id = $1",
                NULL, err, A_TEXT(t->id), A_DEC(t->quantity), A_DEC(t->filled_quantity), A_AMOUNT(t->filled_price),
                A_DEC(t->commission), A_TEXT(t->status), A_OPT(t->broker_order_id), A_AMOUNT(t->realized_pnl),
                A_MS(t->submitted_at), A_MS(t->filled_at))) ||
      (rc = SQL(s, c,
                "UPDATE live_orders SET quote_filled = $2, fee_currency = $3, attempts = $4, "
                "last_attempt_at = apex_ts($5), error = $6, updated_at = apex_ts($7) WHERE trade_id = $1",
                NULL, err, A_TEXT(t->id), A_DEC(r->quote_filled), A_OPT(r->fee_currency), A_I64(r->attempts),
                A_MS(r->last_attempt_at), A_OPT(r->t.error), A_I64(r->updated_at))) ||
      (rc = apex_sql__exec(s, c, "COMMIT", err)))
    apex_sql__rollback(s, c);
out:
  apex_sql__release(s, c);
  return rc;
}

static apex_err read_many(apex_store *s, const char *sql, const apex_sql_arg *a, int na, apex_live_order_row **rows,
                          size_t *n, apex_error *err)
{
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_live_order_row *out = NULL;
  size_t k = 0;
  apex_err rc = apex_sql__query(s, c, sql, a, na, &r, err);
  if (rc)
    goto out;
  int m = s->sql->rows(r);
  if (m && !(out = calloc((size_t)m, sizeof *out))) {
    rc = apex_error_set(err, APEX_ENOMEM, "store: out of memory");
    goto out;
  }
  for (; k < (size_t)m; k++)
    if ((rc = read_live(s, r, (int)k, &out[k], err)))
      goto out;
out:
  if (rc) {
    free(out);
    out = NULL;
    k = 0;
  }
  *rows = out;
  *n = k;
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_live_orders(apex_store *s, const char *run_id, bool unsettled, apex_live_order_row **rows,
                                size_t *n, apex_error *err)
{
  NEED(rows && n, "outputs required");
  *rows = NULL;
  *n = 0;
  if (run_id && !apex_store__id_ok(run_id))
    return APEX_OK;
  const apex_sql_arg a[] = {A_TEXT(run_id), A_BOOL(unsettled)};
  return read_many(s,
                   "SELECT " LIVE_COLS " FROM " LIVE_FROM " WHERE run_id = coalesce($1, run_id) AND "
                   "(NOT $2 OR status IN ('pending', 'open', 'partially_filled')) "
                   "ORDER BY signal_time, side DESC, id",
                   a, 2, rows, n, err);
}

apex_err apex_store_live_order_get(apex_store *s, const char *client_order_id, apex_live_order_row *out,
                                   apex_error *err)
{
  NEED(client_order_id && out, "client order id and output required");
  apex_live_order_row *rows = NULL;
  size_t n = 0;
  const apex_sql_arg a[] = {A_TEXT(client_order_id)};
  apex_err rc = read_many(s, "SELECT " LIVE_COLS " FROM " LIVE_FROM " WHERE client_order_id = $1", a, 1, &rows, &n,
                          err);
  if (!rc && !n)
    rc = apex_error_set(err, APEX_ENOTFOUND, "live order: not found");
  if (!rc)
    *out = rows[0];
  free(rows);
  return rc;
}

apex_err apex_store_nonce_next(apex_store *s, const char *api_key_id, int64_t floor, int64_t *out, apex_error *err)
{
  NEED(api_key_id && out && floor >= 0, "broker key id, floor and output required");
  if (!apex_store__id_ok(api_key_id))
    return apex_error_set(err, APEX_ENOTFOUND, "broker key: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *res = NULL;
  /* One statement: two callers at once get two different nonces, each above every earlier one. */
  apex_err rc = SQL(s, c,
                    "INSERT INTO broker_nonces (api_key_id, nonce) VALUES ($1, $2) ON CONFLICT (api_key_id) DO UPDATE "
                    "SET nonce = CASE WHEN broker_nonces.nonce + 1 > excluded.nonce THEN broker_nonces.nonce + 1 "
                    "ELSE excluded.nonce END RETURNING nonce",
                    &res, err, A_TEXT(api_key_id), A_I64(floor));
  if (!rc && s->sql->rows(res) != 1)
    rc = apex_error_set(err, APEX_ENOTFOUND, "broker key: not found");
  if (!rc)
    *out = s->sql->i64(res, 0, 0);
  s->sql->res_free(res);
  apex_sql__release(s, c);
  return rc;
}
