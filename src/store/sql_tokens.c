/* sql_tokens.c - refresh and password reset tokens by the SHA-256 of their secret, written once
 * over the SQL driver. */
#include <string.h>

#include "store/sql.h"

/* Runs one statement that returns nothing the caller needs. */
static apex_err run(apex_store *s, const char *sql, const apex_sql_arg *a, int n, apex_error *err)
{
  void *c = apex_sql__acquire(s);
  apex_err rc = apex_sql__query(s, c, sql, a, n, NULL, err);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_token_insert(apex_store *s, const apex_token *t, apex_error *err)
{
  NEED(t && t->hash[0] && t->user_id[0], "token needs a hash and a user");
  NEED(!strcmp(t->kind, "refresh") || !strcmp(t->kind, "reset"), "token kind must be refresh or reset");
  if (!apex_store__id_ok(t->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "token: no such user");
  const apex_sql_arg a[] = {A_TEXT(t->hash),       A_TEXT(t->user_id), A_TEXT(t->family), A_TEXT(t->kind),
                            A_I64(t->expires_at), A_BOOL(t->used),    A_BOOL(t->revoked)};
  return run(s,
             "INSERT INTO tokens (hash, user_id, family, kind, expires_at, used, revoked) "
             "VALUES ($1, $2, $3, $4, apex_ts($5), $6, $7)",
             a, 7, err);
}

apex_err apex_store_token_get(apex_store *s, const char *hash, apex_token *out, apex_error *err)
{
  NEED(hash && out, "hash and output required");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c,
                    "SELECT hash, user_id, family, kind, apex_ms(expires_at), used, revoked FROM tokens "
                    "WHERE hash = $1",
                    &r, err, A_TEXT(hash));
  if (!rc && !s->sql->rows(r))
    rc = apex_error_set(err, APEX_ENOTFOUND, "token: not found");
  if (!rc) {
    memset(out, 0, sizeof *out);
    apex_store__copy(out->hash, sizeof out->hash, s->sql->text(r, 0, 0));
    apex_store__copy(out->user_id, sizeof out->user_id, s->sql->text(r, 0, 1));
    apex_store__copy(out->family, sizeof out->family, s->sql->text(r, 0, 2));
    apex_store__copy(out->kind, sizeof out->kind, s->sql->text(r, 0, 3));
    out->expires_at = s->sql->i64(r, 0, 4);
    out->used = s->sql->boolean(r, 0, 5);
    out->revoked = s->sql->boolean(r, 0, 6);
  }
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_token_use(apex_store *s, const char *hash, apex_error *err)
{
  NEED(hash, "hash required");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  /* One statement tests and sets, so of two racing requests exactly one wins. */
  apex_err rc = SQL(s, c, "UPDATE tokens SET used = true WHERE hash = $1 AND NOT used", &r, err, A_TEXT(hash));
  if (rc || s->sql->changed(r) == 1)
    goto out;
  s->sql->res_free(r);
  r = NULL;
  if (!(rc = SQL(s, c, "SELECT 1 FROM tokens WHERE hash = $1", &r, err, A_TEXT(hash))))
    rc = s->sql->rows(r) ? apex_error_set(err, APEX_ECONFLICT, "token: already used")
                         : apex_error_set(err, APEX_ENOTFOUND, "token: not found");
out:
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_token_revoke_family(apex_store *s, const char *family, apex_error *err)
{
  NEED(family && *family, "family required");
  const apex_sql_arg a[] = {A_TEXT(family)};
  return run(s, "UPDATE tokens SET revoked = true WHERE family = $1", a, 1, err);
}

apex_err apex_store_token_revoke_user(apex_store *s, const char *user_id, const char *kind, apex_error *err)
{
  NEED(user_id, "user id required");
  if (!apex_store__id_ok(user_id))
    return APEX_OK; /* nobody's tokens: nothing to revoke */
  const apex_sql_arg a[] = {A_TEXT(user_id), A_OPT(kind)};
  return run(s, "UPDATE tokens SET revoked = true WHERE user_id = $1 AND (CAST($2 AS text) IS NULL OR kind = $2)", a,
             2, err);
}
