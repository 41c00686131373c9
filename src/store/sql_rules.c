/* sql_rules.c - the user's rule library (spec 3.2.1/3.2.2), written once over the SQL driver. */
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

#define RULE_COLS "id, user_id, name, description, definition, version, apex_ms(created_at), apex_ms(updated_at)"

void apex_rule_row_clear(apex_rule_row *r)
{
  if (!r)
    return;
  free(r->description);
  free(r->definition);
  r->description = r->definition = NULL;
}

static void clear_rule(void *out, size_t k) { apex_rule_row_clear((apex_rule_row *)out + k); }

static apex_err read_rule(apex_store *s, const apex_sql_res *r, int i, void *out, size_t k, apex_error *err)
{
  apex_rule_row *o = (apex_rule_row *)out + k;
  apex_err rc;
  memset(o, 0, sizeof *o);
  apex_store__copy(o->id, sizeof o->id, s->sql->text(r, i, 0));
  apex_store__copy(o->user_id, sizeof o->user_id, s->sql->text(r, i, 1));
  apex_store__copy(o->name, sizeof o->name, s->sql->text(r, i, 2));
  o->version = (int)s->sql->i64(r, i, 5);
  o->created_at = s->sql->i64(r, i, 6);
  o->updated_at = s->sql->i64(r, i, 7);
  if ((rc = apex_sql__dup(s, r, i, 3, &o->description, err)) ||
      (rc = apex_sql__dup(s, r, i, 4, &o->definition, err)))
    apex_rule_row_clear(o);
  return rc;
}

static apex_err check_rule(const apex_rule_row *r, apex_error *err)
{
  NEED(r && r->id[0] && r->user_id[0] && r->definition, "rule needs an id, a user and a definition");
  NEED(r->name[0] && memchr(r->name, '\0', sizeof r->name), "rule name must be 1-127 characters");
  return APEX_OK;
}

apex_err apex_store_rule_insert(apex_store *s, const apex_rule_row *r, apex_error *err)
{
  apex_err rc = check_rule(r, err);
  if (rc)
    return rc;
  if (!apex_store__id_ok(r->id))
    return apex_error_set(err, APEX_EINVAL, "rule: id is not a UUID");
  if (!apex_store__id_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "rule: no such user");
  void *c = apex_sql__acquire(s);
  rc = SQL(s, c,
           "INSERT INTO rules (id, user_id, name, description, definition, version, created_at, updated_at) "
           "VALUES ($1, $2, $3, $4, $5, 1, apex_ts($6), apex_ts($7))",
           NULL, err, A_TEXT(r->id), A_TEXT(r->user_id), A_TEXT(r->name), A_TEXT(r->description),
           A_TEXT(r->definition), A_I64(r->created_at), A_I64(r->updated_at));
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_rule_get(apex_store *s, const char *user_id, const char *id, apex_rule_row *out,
                             apex_error *err)
{
  NEED(out, "output required");
  memset(out, 0, sizeof *out);
  NEED(user_id && id, "user id and id required");
  if (!apex_store__id_ok(id) || !apex_store__id_ok(user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "rule: not found");
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = SQL(s, c, "SELECT " RULE_COLS " FROM rules WHERE id = $1 AND user_id = $2", &r, err, A_TEXT(id),
                    A_TEXT(user_id));
  if (!rc)
    rc = s->sql->rows(r) ? read_rule(s, r, 0, out, 0, err) : apex_error_set(err, APEX_ENOTFOUND, "rule: not found");
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_store_rule_list(apex_store *s, const char *user_id, const apex_page *p, apex_rule_row *rows, size_t *n,
                              int64_t *total, apex_error *err)
{
  NEED(n && total, "outputs required");
  *n = 0;
  *total = 0;
  NEED(p && p->page >= 1 && p->limit >= 1 && (int64_t)(p->page - 1) * p->limit < INT32_MAX,
       "page must be >= 1 and limit >= 1");
  NEED(user_id && rows, "user id and rows required");
  memset(rows, 0, (size_t)p->limit * sizeof *rows);
  if (!apex_store__id_ok(user_id))
    return APEX_OK;
  /* count(*) OVER () gives the total with the page; an empty page needs its own count. */
  const apex_sql_arg a[] = {A_TEXT(user_id)};
  const apex_sql_list l = {.sql = p->desc ? "SELECT " RULE_COLS ", count(*) OVER () FROM rules WHERE user_id = $1 "
                                            "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
                                          : "SELECT " RULE_COLS ", count(*) OVER () FROM rules WHERE user_id = $1 "
                                            "ORDER BY created_at, id LIMIT $2 OFFSET $3",
                           .count_sql = "SELECT count(*) FROM rules WHERE user_id = $1",
                           .args = a, .n = 1, .count_n = 1, .total_col = 8, .out = rows, .read = read_rule,
                           .clear = clear_rule};
  return apex_sql__list(s, &l, p->page, p->limit, n, total, err);
}

apex_err apex_store_rule_update(apex_store *s, const apex_rule_row *r, apex_error *err)
{
  apex_err rc = check_rule(r, err);
  if (rc)
    return rc;
  if (!apex_store__id_ok(r->id) || !apex_store__id_ok(r->user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "rule: not found");
  return WRITE_ONE(s,
                   "UPDATE rules SET name = $3, description = $4, definition = $5, version = version + 1, "
                   "updated_at = apex_ts($6) WHERE id = $1 AND user_id = $2",
                   "rule", err, A_TEXT(r->id), A_TEXT(r->user_id), A_TEXT(r->name), A_TEXT(r->description),
                   A_TEXT(r->definition), A_I64(r->updated_at));
}

apex_err apex_store_rule_delete(apex_store *s, const char *user_id, const char *id, apex_error *err)
{
  NEED(user_id && id, "user id and id required");
  if (!apex_store__id_ok(id) || !apex_store__id_ok(user_id))
    return apex_error_set(err, APEX_ENOTFOUND, "rule: not found");
  return WRITE_ONE(s, "DELETE FROM rules WHERE id = $1 AND user_id = $2", "rule", err, A_TEXT(id), A_TEXT(user_id));
}
