/* sql.c - the few helpers every entity function written once shares over the SQL driver. */
#include <string.h>

#include "store/sql.h"

void *apex_sql__acquire(apex_store *s)
{
  void *c = apex_store__pool_acquire(&s->pool);
  if (s->sql->revive)
    s->sql->revive(c);
  return c;
}

void apex_sql__release(apex_store *s, void *c) { apex_store__pool_release(&s->pool, c); }

apex_err apex_sql__query(apex_store *s, void *c, const char *sql, const apex_sql_arg *a, int n, apex_sql_res **out,
                         apex_error *err)
{
  apex_sql_res *r = NULL;
  apex_err rc = s->sql->query(s, c, sql, a, n, &r, err);
  if (out)
    *out = r;
  else
    s->sql->res_free(r);
  return rc;
}

apex_err apex_sql__write_one(apex_store *s, const char *sql, const apex_sql_arg *a, int n, const char *what,
                             apex_error *err)
{
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc = apex_sql__query(s, c, sql, a, n, &r, err);
  if (!rc && s->sql->changed(r) == 0)
    rc = apex_error_set(err, APEX_ENOTFOUND, "%s: not found", what);
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}

apex_err apex_sql__exec(apex_store *s, void *c, const char *sql, apex_error *err)
{
  return apex_sql__query(s, c, sql, NULL, 0, NULL, err);
}

apex_err apex_sql__begin(apex_store *s, void *c, apex_error *err) { return apex_sql__exec(s, c, s->sql->begin_write, err); }

void apex_sql__rollback(apex_store *s, void *c) { apex_sql__exec(s, c, "ROLLBACK", NULL); }

apex_err apex_sql__dup(apex_store *s, const apex_sql_res *r, int row, int col, char **out, apex_error *err)
{
  const char *t = s->sql->text(r, row, col);
  *out = NULL;
  if (t && !(*out = strdup(t)))
    return apex_error_set(err, APEX_ENOMEM, "store: out of memory");
  return APEX_OK;
}

bool apex_store__id_ok(const char *id)
{
  if (!id || strlen(id) != 36)
    return false;
  for (int i = 0; i < 36; i++) {
    char ch = id[i];
    bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    if ((i == 8 || i == 13 || i == 18 || i == 23) ? ch != '-' : !hex)
      return false;
  }
  return true;
}

apex_err apex_sql__page_ok(const apex_page *p, apex_error *err)
{
  if (!p || p->page < 1 || p->limit < 1)
    return apex_error_set(err, APEX_EINVAL, "store: page must be >= 1 and limit >= 1");
  if ((int64_t)(p->page - 1) * p->limit >= INT32_MAX)
    return apex_error_set(err, APEX_EINVAL, "store: page out of range");
  return APEX_OK;
}

/* *total: the one value of l's count_sql. */
static apex_err list_count(apex_store *s, void *c, const apex_sql_list *l, int64_t *total, apex_error *err)
{
  apex_sql_res *r = NULL;
  apex_err rc = apex_sql__query(s, c, l->count_sql, l->args, l->count_n, &r, err);
  if (!rc && !s->sql->rows(r))
    rc = apex_error_set(err, APEX_ENOTFOUND, "%s: not found", l->what);
  if (!rc)
    *total = s->sql->i64(r, 0, 0);
  s->sql->res_free(r);
  return rc;
}

apex_err apex_sql__list(apex_store *s, const apex_sql_list *l, int page, int limit, size_t *n, int64_t *total,
                        apex_error *err)
{
  apex_sql_arg a[8]; /* l's, then limit and offset */
  *n = 0;
  *total = 0;
  if (l->n < 0 || l->n + 2 > (int)APEX_ARRAY_LEN(a))
    return apex_error_set(err, APEX_EINVAL, "store: %d list arguments", l->n);
  memcpy(a, l->args, (size_t)l->n * sizeof *a);
  a[l->n] = A_I64(limit);
  a[l->n + 1] = A_I64((int64_t)(page - 1) * limit);
  void *c = apex_sql__acquire(s);
  apex_sql_res *r = NULL;
  apex_err rc;
  if ((!l->total_col && (rc = list_count(s, c, l, total, err))) ||
      (rc = apex_sql__query(s, c, l->sql, a, l->n + 2, &r, err)))
    goto out;
  int nr = s->sql->rows(r);
  if (l->total_col && nr)
    *total = s->sql->i64(r, 0, l->total_col);
  else if (l->total_col && (rc = list_count(s, c, l, total, err)))
    goto out;
  for (int i = 0; i < nr && *n < (size_t)limit; i++) {
    if ((rc = l->read(s, r, i, l->out, *n, err)))
      goto out;
    (*n)++;
  }
out:
  if (rc) {
    for (size_t k = 0; l->clear && k < *n; k++)
      l->clear(l->out, k);
    *n = 0;
    *total = 0;
  }
  s->sql->res_free(r);
  apex_sql__release(s, c);
  return rc;
}
