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
