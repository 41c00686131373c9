/* sql_users.c - accounts (spec 3.1), written once over the SQL driver. */
#include <string.h>

#include "store/sql.h"

#define USER_COLS                                                                                                  \
  "id, email, password_hash, first_name, last_name, timezone, preferred_currency, is_active, is_verified, "       \
  "apex_ms(created_at), apex_ms(updated_at), apex_ms(last_login_at)"

static void read_user(apex_store *s, const apex_sql_res *r, apex_user *u)
{
  memset(u, 0, sizeof *u);
  apex_store__copy(u->id, sizeof u->id, s->sql->text(r, 0, 0));
  apex_store__copy(u->email, sizeof u->email, s->sql->text(r, 0, 1));
  apex_store__copy(u->password_hash, sizeof u->password_hash, s->sql->text(r, 0, 2));
  apex_store__copy(u->first_name, sizeof u->first_name, s->sql->text(r, 0, 3));
  apex_store__copy(u->last_name, sizeof u->last_name, s->sql->text(r, 0, 4));
  apex_store__copy(u->timezone, sizeof u->timezone, s->sql->text(r, 0, 5));
  apex_store__copy(u->preferred_currency, sizeof u->preferred_currency, s->sql->text(r, 0, 6));
  u->is_active = s->sql->boolean(r, 0, 7);
  u->is_verified = s->sql->boolean(r, 0, 8);
  u->created_at = s->sql->i64(r, 0, 9);
  u->updated_at = s->sql->i64(r, 0, 10);
  u->last_login_at = s->sql->i64(r, 0, 11);
}

static const char *or_default(const char *v, const char *dflt) { return v[0] ? v : dflt; }

apex_err apex_store_user_insert(apex_store *s, const apex_user *u, apex_error *err)
{
  NEED(u && u->id[0] && u->email[0], "user needs an id and an email");
  if (!apex_store__id_ok(u->id))
    return apex_error_set(err, APEX_EINVAL, "user: id is not a UUID");
  void *c = apex_sql__acquire(s);
  apex_err rc = SQL(s, c,
                    "INSERT INTO users (id, email, password_hash, first_name, last_name, timezone, "
                    "preferred_currency, is_active, is_verified, created_at, updated_at, last_login_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, apex_ts($10), apex_ts($11), apex_ts($12))",
                    NULL, err, A_TEXT(u->id), A_TEXT(u->email), A_TEXT(u->password_hash), A_OPT(u->first_name),
                    A_OPT(u->last_name), A_TEXT(or_default(u->timezone, "Europe/Paris")),
                    A_TEXT(or_default(u->preferred_currency, "EUR")), A_BOOL(u->is_active), A_BOOL(u->is_verified),
                    A_I64(u->created_at), A_I64(u->updated_at), A_MS(u->last_login_at));
  apex_sql__release(s, c);
  return rc;
}

static apex_err user_by(apex_store *s, const char *sql, const char *key, apex_user *out, apex_error *err)
{
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c, sql, &r, err, A_TEXT(key));
  if (!rc && s->sql->rows(r))
    read_user(s, r, out);
  else if (!rc)
    rc = apex_error_set(err, APEX_ENOTFOUND, "user: not found");
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

/* Case-insensitive on both, through each database's index on lower(email) (idx_users_email). */
const char apex_sql__user_by_email[] = "SELECT " USER_COLS " FROM users WHERE lower(email) = lower($1)";

apex_err apex_store_user_by_email(apex_store *s, const char *email, apex_user *out, apex_error *err)
{
  NEED(email && out, "email and output required");
  return user_by(s, apex_sql__user_by_email, email, out, err);
}

apex_err apex_store_user_by_id(apex_store *s, const char *id, apex_user *out, apex_error *err)
{
  NEED(id && out, "id and output required");
  if (!apex_store__id_ok(id))
    return apex_error_set(err, APEX_ENOTFOUND, "user: not found");
  return user_by(s, "SELECT " USER_COLS " FROM users WHERE id = $1", id, out, err);
}

apex_err apex_store_user_update(apex_store *s, const apex_user *u, apex_error *err)
{
  NEED(u && u->id[0], "user needs an id");
  if (!apex_store__id_ok(u->id))
    return apex_error_set(err, APEX_ENOTFOUND, "user: not found");
  /* Every field but id, email and created_at. */
  return WRITE_ONE(s,
                   "UPDATE users SET password_hash = $2, first_name = $3, last_name = $4, timezone = $5, "
                   "preferred_currency = $6, is_active = $7, is_verified = $8, updated_at = apex_ts($9), "
                   "last_login_at = apex_ts($10) WHERE id = $1",
                   "user", err, A_TEXT(u->id), A_TEXT(u->password_hash), A_OPT(u->first_name), A_OPT(u->last_name),
                   A_TEXT(or_default(u->timezone, "Europe/Paris")), A_TEXT(or_default(u->preferred_currency, "EUR")),
                   A_BOOL(u->is_active), A_BOOL(u->is_verified), A_I64(u->updated_at), A_MS(u->last_login_at));
}
