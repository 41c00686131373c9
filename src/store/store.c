/* store.c - the storage port's front: picks the backend by URL, forwards open, close, migrations
 * and ping through the backend's operations table, and holds the connection pool both use. The
 * entities (sql_*.c) check their own arguments and run one SQL text on either database.
 * Includes no database header: sqlite.c and pg.c are the only ones that do. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

apex_err apex_store__pool_init(apex_store_pool *p, void **conns, int size)
{
  p->conns = conns;
  p->size = size;
  p->in_use = 0;
  p->busy = calloc((size_t)size, sizeof *p->busy);
  if (!p->busy)
    return APEX_ENOMEM;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  return APEX_OK;
}

void *apex_store__pool_acquire(apex_store_pool *p)
{
  void *c = NULL;
  pthread_mutex_lock(&p->mu);
  while (p->in_use == p->size)
    pthread_cond_wait(&p->cv, &p->mu);
  for (int i = 0; i < p->size; i++)
    if (!p->busy[i]) {
      p->busy[i] = true;
      p->in_use++;
      c = p->conns[i];
      break;
    }
  pthread_mutex_unlock(&p->mu);
  return c;
}

void apex_store__pool_release(apex_store_pool *p, void *conn)
{
  pthread_mutex_lock(&p->mu);
  for (int i = 0; i < p->size; i++)
    if (p->conns[i] == conn && p->busy[i]) {
      p->busy[i] = false;
      p->in_use--;
      break;
    }
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

void apex_store__pool_destroy(apex_store_pool *p)
{
  if (!p->busy)
    return;
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->busy);
  free(p->conns);
  p->busy = NULL;
  p->conns = NULL;
}

void apex_store__copy(char *dst, size_t cap, const char *src)
{
  size_t n = src ? strnlen(src, cap - 1) : 0;
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm): no gmtime, no locale. */
apex_err apex_store__status_line(char *buf, size_t cap, size_t *k, const char *name, const char *when,
                                 apex_error *err)
{
  int w = snprintf(buf + *k, cap - *k, when[0] ? "%s applied %s\n" : "%s pending\n", name, when);
  if (w < 0 || (size_t)w >= cap - *k)
    return apex_error_set(err, APEX_ETOOBIG, "store: migration status does not fit %zu bytes", cap);
  *k += (size_t)w;
  return APEX_OK;
}

/* The URL forms of store.h: PostgreSQL under any SQLAlchemy-style driver suffix (the spec's
 * postgresql+asyncpg://), SQLite as sqlite:///PATH (SQLAlchemy: relative, or absolute with a fourth
 * slash), sqlite:PATH or a plain path; any other scheme is refused rather than taken as a file name. */
apex_err apex_store_open(const char *url, int pool, apex_store **out, apex_error *err)
{
  static const char ACCEPTED[] = "postgresql://, postgres://, postgresql+DRIVER://, sqlite:///PATH, sqlite:PATH "
                                 "or a file path";
  *out = NULL;
  if (!url || !*url)
    return apex_error_set(err, APEX_EINVAL, "store: empty database URL");
  if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))
    return apex_store__pg_open(url, pool > 0 ? pool : 10, out, err);
  if (!strncmp(url, "postgresql+", 11)) {
    const char *rest = strstr(url, "://");
    char *pg = NULL;
    if (!rest || rest == url + 11 || strcspn(url + 11, ":/") != (size_t)(rest - url - 11))
      return apex_error_set(err, APEX_EINVAL, "store: malformed database URL (accepted: %s)", ACCEPTED);
    /* libpq knows no driver suffix: the same URL without it. */
    if (!(pg = malloc(strlen("postgresql") + strlen(rest) + 1)))
      return apex_error_set(err, APEX_ENOMEM, "store: out of memory");
    strcpy(pg, "postgresql");
    strcat(pg, rest);
    apex_err rc = apex_store__pg_open(pg, pool > 0 ? pool : 10, out, err);
    free(pg);
    return rc;
  }
  if (!strncmp(url, "sqlite:///", 10))
    url += 10;
  else if (!strncmp(url, "sqlite:", 7))
    url += 7;
  else {
    /* A scheme is letters, digits, + - . before the first ':'; a path has a '/' first or none. */
    size_t k = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (k && url[k] == ':' && strcmp(url, ":memory:"))
      return apex_error_set(err, APEX_EINVAL, "store: unsupported database URL scheme '%.*s' (accepted: %s)",
                            (int)(k < 32 ? k : 32), url, ACCEPTED);
  }
  if (!*url)
    return apex_error_set(err, APEX_EINVAL, "store: empty SQLite path");
  return apex_store__sqlite_open(url, out, err);
}

void apex_store_close(apex_store *s)
{
  if (s)
    s->ops->close(s);
}

const char *apex_store_backend(const apex_store *s) { return s->ops->name; }

apex_err apex_store_migrate(apex_store *s, apex_error *err) { return s->ops->migrate(s, err); }

apex_err apex_store_migration_status(apex_store *s, char *buf, size_t cap, apex_error *err)
{
  if (!buf || !cap)
    return apex_error_set(err, APEX_EINVAL, "store: no buffer for the migration status");
  buf[0] = '\0';
  return s->ops->migration_status(s, buf, cap, err);
}

apex_err apex_store_ping(apex_store *s, apex_error *err) { return s->ops->ping(s, err); }
apex_err apex_store_check(apex_store *s, apex_error *err) { return s->ops->check(s, err); }
apex_err apex_store_backup(apex_store *s, const char *dest, apex_error *err)
{
  if (!dest || !*dest)
    return apex_error_set(err, APEX_EINVAL, "backup: no file named");
  return s->ops->backup(s, dest, err);
}

void apex_store_pool_stats(apex_store *s, int *in_use, int *size)
{
  pthread_mutex_lock(&s->pool.mu);
  *in_use = s->pool.in_use;
  *size = s->pool.size;
  pthread_mutex_unlock(&s->pool.mu);
}

