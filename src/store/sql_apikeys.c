/* sql_apikeys.c - broker API keys as app/apikeys.c encrypted them, written once over the SQL driver. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

#define KEY_COLS "id, user_id, broker, name, key_hint, is_paper, apex_ms(created_at), apex_ms(last_used_at)"
#define COUNT_SQL "SELECT count(*) FROM api_keys WHERE user_id = $1"

/* Secrets are encrypted, but plain or not they leave no copy behind in freed memory. */
static void wipe_free(char **p)
{
  if (!*p)
    return;
  volatile char *v = *p;
  for (size_t i = 0; v[i]; i++)
    v[i] = 0;
  free(*p);
  *p = NULL;
}

void apex_api_key_row_clear(apex_api_key_row *r)
{
  if (!r)
    return;
  wipe_free(&r->api_key_enc);
  wipe_free(&r->api_secret_enc);
  wipe_free(&r->passphrase_enc);
}

static apex_err read_key(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  apex_api_key_row *o = (apex_api_key_row *)out + k;
  (void)err;
  memset(o, 0, sizeof *o);
  apex_store__copy(o->id, sizeof o->id, s->sql->text(r, i, 0));
  apex_store__copy(o->user_id, sizeof o->user_id, s->sql->text(r, i, 1));
  apex_store__copy(o->exchange, sizeof o->exchange, s->sql->text(r, i, 2));
  apex_store__copy(o->label, sizeof o->label, s->sql->text(r, i, 3));
  apex_store__copy(o->key_hint, sizeof o->key_hint, s->sql->text(r, i, 4));
  o->is_paper = s->sql->boolean(r, i, 5);
  o->created_at = s->sql->i64(r, i, 6);
  o->last_used_at = s->sql->i64(r, i, 7);
  return APEX_OK;
}

apex_err apex_store_api_key_insert(apex_store *s, const apex_api_key_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->exchange[0] && r->key_hint[0] && r->api_key_enc && r->api_secret_enc,
       "API key needs an id, a user, an exchange, a hint and both encrypted texts");
  /* Only ciphertext may reach the database. */
  NEED(!strncmp(r->api_key_enc, "v1:", 3) && !strncmp(r->api_secret_enc, "v1:", 3) &&
           (!r->passphrase_enc || !strncmp(r->passphrase_enc, "v1:", 3)),
       "API key texts must be encrypted (v1:)");
  if (!apex_store__id_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "api key: id is not a UUID");
  if (!apex_store__id_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "api key: no such user");
  void *c = apex_sql__acquire(s);
  apex_err rc = SQL(s, c,
                    "INSERT INTO api_keys (id, user_id, broker, name, key_hint, is_paper, created_at, last_used_at, "
                    "api_key_enc, api_secret_enc, passphrase_enc) VALUES ($1, $2, $3, $4, $5, $6, apex_ts($7), "
                    "apex_ts($8), $9, $10, $11)",
                    NULL, err, A_TEXT(r->id), A_TEXT(r->user_id), A_TEXT(r->exchange), A_OPT(r->label),
                    A_TEXT(r->key_hint), A_BOOL(r->is_paper), A_I64(r->created_at), A_MS(r->last_used_at),
                    A_TEXT(r->api_key_enc), A_TEXT(r->api_secret_enc), A_OPT(r->passphrase_enc));
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_api_key_get(apex_store *s, const char *user_id, const char *id, apex_api_key_row *out,
                                apex_error *err)
{
  NEED(id && out, "id and output required");
  memset(out, 0, sizeof *out);
  if (!apex_store__id_ok(id) || (user_id && !apex_store__id_ok(user_id)))
    return apex_error_set(err, APEX_ENOTFOUND, "api key: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc;
  /* user_id NULL: any user's (execution jobs only). */
  if (user_id)
    rc = SQL(s, c,
             "SELECT " KEY_COLS ", api_key_enc, api_secret_enc, passphrase_enc FROM api_keys "
             "WHERE id = $1 AND user_id = $2",
             &r, err, A_TEXT(id), A_TEXT(user_id));
  else
    rc = SQL(s, c, "SELECT " KEY_COLS ", api_key_enc, api_secret_enc, passphrase_enc FROM api_keys WHERE id = $1",
             &r, err, A_TEXT(id));
  if (!rc && !s->sql->rows(r))
    rc = apex_error_set(err, APEX_ENOTFOUND, "api key: not found");
  if (!rc) {
    read_key(s, r, 0, out, 0, err);
    if ((rc = apex_sql__dup(s, r, 0, 8, &out->api_key_enc, err)) ||
        (rc = apex_sql__dup(s, r, 0, 9, &out->api_secret_enc, err)) ||
        (rc = apex_sql__dup(s, r, 0, 10, &out->passphrase_enc, err)))
      apex_api_key_row_clear(out);
  }
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_api_key_list(apex_store *s, const char *user_id, const apex_page *p, apex_api_key_row *rows,
                                 size_t *n, int64_t *total, apex_error *err)
{
  USER_PAGE(p, user_id, rows, n, total);
  /* The total comes with the page from a subquery run once (not count(*) OVER (), which SQLite
   * answers by copying every row into a temporary table). An empty page needs its own count. */
  const apex_sql_arg a[] = {A_TEXT(user_id)};
  const apex_sql_list l = {.sql = p->desc ? "SELECT " KEY_COLS ", (" COUNT_SQL ") FROM api_keys WHERE user_id = $1 "
                                            "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
                                          : "SELECT " KEY_COLS ", (" COUNT_SQL ") FROM api_keys WHERE user_id = $1 "
                                            "ORDER BY created_at, id LIMIT $2 OFFSET $3",
                           .count_sql = COUNT_SQL,
                           .args = a, .n = 1, .count_n = 1, .total_col = 8, .out = rows, .read = read_key};
  return apex_sql__list(s, &l, p->page, p->limit, n, total, err);
}

apex_err apex_store_api_key_delete(apex_store *s, const char *user_id, const char *id, apex_error *err)
{
  NEED(user_id && id, "user id and id required");
  if (!apex_store__id_ok(id) || !apex_store__id_ok(user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "api key: not found");
  return WRITE_ONE(s, "DELETE FROM api_keys WHERE id = $1 AND user_id = $2", "api key", err, A_TEXT(id),
                   A_TEXT(user_id));
}
