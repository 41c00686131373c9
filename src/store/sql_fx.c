/* sql_fx.c - the ECB's euro reference rates (store.h), written once over the SQL driver: a bulk
 * upsert through the driver's copy_in, and the latest rate on or before a time. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

typedef struct fx_ref {
  const apex_fx_rate *r;
  size_t pos; /* in the caller's rows */
} fx_ref;

static apex_err fx_row(void *ctx, size_t i, apex_sql_arg *a, apex_error *err)
{
  const apex_fx_rate *r = ((const fx_ref *)ctx)[i].r;
  (void)err;
  a[0] = A_TEXT(r->currency);
  a[1] = A_I64(r->date);
  a[2] = A_DEC(r->rate);
  return APEX_OK;
}

/* By key, then by position, so the last row given for a key ends its run. */
static int by_key_then_pos(const void *pa, const void *pb)
{
  const fx_ref *a = pa, *b = pb;
  int c = strcmp(a->r->currency, b->r->currency);
  if (c)
    return c;
  if (a->r->date != b->r->date)
    return a->r->date < b->r->date ? -1 : 1;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The last row given for each key, in key order: one upsert per key, since PostgreSQL's ON
 * CONFLICT cannot touch a row twice in one statement (a later row wins, as separate puts would). */
static apex_err last_per_key(const apex_fx_rate *rows, size_t n, fx_ref **keep, size_t *k, apex_error *err)
{
  fx_ref *v = malloc(n * sizeof *v);
  if (!v)
    return apex_error_set(err, APEX_ENOMEM, "store: out of memory");
  for (size_t i = 0; i < n; i++)
    v[i] = (fx_ref){&rows[i], i};
  qsort(v, n, sizeof *v, by_key_then_pos);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const apex_fx_rate *x = v[i].r, *next = i + 1 < n ? v[i + 1].r : NULL;
    if (!next || next->date != x->date || strcmp(next->currency, x->currency))
      v[m++] = v[i];
  }
  *keep = v;
  *k = m;
  return APEX_OK;
}

apex_err apex_store_fx_put(apex_store *s, const apex_fx_rate *rows, size_t n, apex_error *err)
{
  NEED(rows || !n, "rates required");
  for (size_t i = 0; i < n; i++) {
    if (!apex_fx_iso_ok(rows[i].currency))
      return apex_error_set(err, APEX_EINVAL, "store: fx rate %zu: currency is not three letters A-Z", i);
    if (rows[i].rate <= 0)
      return apex_error_set(err, APEX_EINVAL, "store: fx rate %zu: rate must be above 0", i);
  }
  if (!n)
    return APEX_OK;
  fx_ref *keep = NULL;
  size_t k = 0;
  apex_err rc = last_per_key(rows, n, &keep, &k, err);
  if (rc)
    return rc;
  const apex_sql_copy cp = {"fx_rates", "currency, date, rate", 3, k,
                            "ON CONFLICT (currency, date) DO UPDATE SET rate = excluded.rate", fx_row, keep};
  void *c = apex_sql__acquire(s);
  bool in_tx = false;
  if ((rc = apex_sql__begin(s, c, err)))
    goto out;
  in_tx = true;
  if ((rc = s->sql->copy_in(s, c, &cp, err)) || (rc = apex_sql__exec(s, c, "COMMIT", err)))
    goto out;
  in_tx = false;
out:
  if (in_tx)
    apex_sql__rollback(s, c);
  apex_sql__release(s, c);
  free(keep);
  return rc;
}

apex_err apex_store_fx_get(apex_store *s, const char *currency, int64_t at_ms, apex_fx_rate *out, apex_error *err)
{
  NEED(currency && out, "currency and output required");
  memset(out, 0, sizeof *out);
  if (!apex_fx_iso_ok(currency)) /* stores no rate */
    return apex_error_set(err, APEX_ENOTFOUND, "fx rate: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c,
                    "SELECT date, rate FROM fx_rates WHERE currency = $1 AND date <= $2 ORDER BY date DESC LIMIT 1",
                    &r, err, A_TEXT(currency), A_I64(at_ms));
  if (!rc && s->sql->rows(r) == 0)
    rc = apex_error_set(err, APEX_ENOTFOUND, "fx rate: not found");
  if (!rc) {
    memcpy(out->currency, currency, 4);
    out->date = s->sql->i64(r, 0, 0);
    out->rate = s->sql->dec(r, 0, 1);
  }
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}
