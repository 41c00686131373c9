/* sql_leases.c - job leases on backtests, written once over the SQL driver: a worker claims a
 * backtest in one atomic UPDATE ... RETURNING, so two workers can never both run it. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

/* Why a lease write changed nothing: no such backtest, or someone else's / finished. */
static apex_err why_not(apex_store *s, void *c, const char *id, apex_error *err)
{
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c, "SELECT status FROM backtests WHERE id = $1", &r, err, A_TEXT(id));
  if (!rc)
    rc = s->sql->rows(r) ? apex_error_set(err, APEX_ECONFLICT, "backtest %s: %s, lease held elsewhere or finished",
                                          id, s->sql->text(r, 0, 0))
                         : apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  s->sql->res_free(r);
  return rc;
}

static const char CLAIM[] =
    "UPDATE backtests SET status = 'running', lease_owner = $2, lease_until = apex_ts($4), "
    "started_at = CASE WHEN status = 'pending' THEN apex_ts($3) ELSE started_at END "
    "WHERE id = $1 AND (status = 'pending' OR (status = 'running' AND (lease_until IS NULL "
    "OR lease_until < apex_ts($3) OR lease_owner = $2))) RETURNING id";

apex_err apex_store_backtest_claim(apex_store *s, const char *id, const char *owner, int64_t now, int64_t lease_until,
                                   apex_error *err)
{
  NEED(id && owner && *owner, "backtest id and lease owner required");
  NEED(lease_until > now, "a lease must end after now");
  if (!apex_store__id_ok(id))
    return apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c, CLAIM, &r, err, A_TEXT(id), A_TEXT(owner), A_I64(now), A_I64(lease_until));
  if (!rc && s->sql->rows(r) == 0)
    rc = why_not(s, c, id, err);
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_backtest_renew(apex_store *s, const char *id, const char *owner, int64_t lease_until,
                                   apex_error *err)
{
  NEED(id && owner && *owner, "backtest id and lease owner required");
  if (!apex_store__id_ok(id))
    return apex_error_set(err, APEX_ENOTFOUND, "backtest: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c,
                    "UPDATE backtests SET lease_until = apex_ts($3) WHERE id = $1 AND lease_owner = $2 "
                    "AND status = 'running' RETURNING id",
                    &r, err, A_TEXT(id), A_TEXT(owner), A_I64(lease_until));
  if (!rc && s->sql->rows(r) == 0)
    rc = why_not(s, c, id, err);
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_backtest_claimable(apex_store *s, int64_t now, apex_id **ids, apex_id **owners, size_t *n,
                                       apex_error *err)
{
  NEED(ids && n, "outputs required");
  *ids = NULL;
  if (owners)
    *owners = NULL;
  *n = 0;
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c,
                    "SELECT id, user_id FROM backtests WHERE status = 'pending' OR (status = 'running' AND "
                    "(lease_until IS NULL OR lease_until < apex_ts($1))) ORDER BY created_at, id",
                    &r, err, A_I64(now));
  if (rc)
    goto out;
  int nr = s->sql->rows(r);
  if (nr) {
    *ids = malloc((size_t)nr * sizeof **ids);
    if (owners)
      *owners = malloc((size_t)nr * sizeof **owners);
    if (!*ids || (owners && !*owners)) {
      rc = apex_error_set(err, APEX_ENOMEM, "store: out of memory");
      goto out;
    }
    for (int i = 0; i < nr; i++) {
      apex_store__copy((*ids)[i], sizeof(apex_id), s->sql->text(r, i, 0));
      if (owners)
        apex_store__copy((*owners)[i], sizeof(apex_id), s->sql->text(r, i, 1));
    }
    *n = (size_t)nr;
  }
out:
  if (rc) {
    free(*ids);
    *ids = NULL;
    if (owners) {
      free(*owners);
      *owners = NULL;
    }
  }
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}
