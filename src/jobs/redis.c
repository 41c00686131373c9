/* redis.c - redis.h over hiredis (the only file that includes it). A connection is a hiredis
 * context under a mutex; a broken one is dropped and made again on a later call, no sooner than
 * its back-off allows, so a Redis outage costs callers a failed call, never a wait. */
#include "jobs/redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

typedef struct target {
  char host[256];
  int port, db;
  char user[128], pass[256]; /* pass "": no AUTH */
} target;

struct apex_redis {
  pthread_mutex_t mu;
  target t;
  int timeout_ms;
  redisContext *c;
  int64_t retry_at;
  int backoff_ms;
  bool up;
};

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval tv_of(int ms) { return (struct timeval){ms / 1000, (ms % 1000) * 1000}; }

static apex_err parse(const char *url, target *t, apex_error *err)
{
  static const char scheme[] = "redis://";
  memset(t, 0, sizeof *t);
  t->port = 6379;
  if (!url || strncmp(url, scheme, sizeof scheme - 1))
    return apex_error_set(err, APEX_EINVAL, "REDIS_URL must start with redis://");
  const char *p = url + sizeof scheme - 1, *at = strrchr(p, '@');
  if (at) { /* [user]:password@ */
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon || (size_t)(colon - p) >= sizeof t->user || (size_t)(at - colon - 1) >= sizeof t->pass)
      return apex_error_set(err, APEX_EINVAL, "REDIS_URL: credentials must be [user]:password@");
    memcpy(t->user, p, (size_t)(colon - p));
    memcpy(t->pass, colon + 1, (size_t)(at - colon - 1));
    p = at + 1;
  }
  size_t hl = strcspn(p, ":/");
  if (!hl || hl >= sizeof t->host)
    return apex_error_set(err, APEX_EINVAL, "REDIS_URL: no host");
  memcpy(t->host, p, hl);
  p += hl;
  if (*p == ':') {
    char *end;
    long port = strtol(p + 1, &end, 10);
    if (end == p + 1 || port < 1 || port > 65535)
      return apex_error_set(err, APEX_EINVAL, "REDIS_URL: the port must be 1-65535");
    t->port = (int)port;
    p = end;
  }
  if (*p == '/' && p[1]) {
    char *end;
    long db = strtol(p + 1, &end, 10);
    if (end == p + 1 || *end || db < 0 || db > 15)
      return apex_error_set(err, APEX_EINVAL, "REDIS_URL: the database must be 0-15");
    t->db = (int)db;
  } else if (*p && strcmp(p, "/")) {
    return apex_error_set(err, APEX_EINVAL, "REDIS_URL: unexpected \"%.40s\"", p);
  }
  return APEX_OK;
}

apex_err apex_redis_url_ok(const char *url, apex_error *err)
{
  target t;
  return parse(url, &t, err);
}

/* A reply that is not an error, else false with its text in err. */
static bool simple_ok(redisContext *c, int argc, const char **argv, apex_error *err)
{
  redisReply *r = redisCommandArgv(c, argc, argv, NULL);
  bool ok = r && r->type != REDIS_REPLY_ERROR;
  if (!ok)
    apex_error_set(err, APEX_EIO, "redis %s: %.200s", argv[0], r ? r->str : c->errstr);
  freeReplyObject(r);
  return ok;
}

/* A connected, authenticated context on t's database, or NULL with err set. */
static redisContext *dial(const target *t, int timeout_ms, apex_error *err)
{
  redisContext *c = redisConnectWithTimeout(t->host, t->port, tv_of(timeout_ms));
  if (!c || c->err) {
    apex_error_set(err, APEX_EIO, "redis %s:%d: %.200s", t->host, t->port, c ? c->errstr : "out of memory");
    goto fail;
  }
  redisSetTimeout(c, tv_of(timeout_ms));
  redisEnableKeepAlive(c);
  char db[8];
  snprintf(db, sizeof db, "%d", t->db);
  if (t->pass[0] && !(t->user[0] ? simple_ok(c, 3, (const char *[]){"AUTH", t->user, t->pass}, err)
                                 : simple_ok(c, 2, (const char *[]){"AUTH", t->pass}, err)))
    goto fail;
  if (t->db && !simple_ok(c, 2, (const char *[]){"SELECT", db}, err))
    goto fail;
  return c;
fail:
  if (c)
    redisFree(c);
  return NULL;
}

apex_err apex_redis_new(const char *url, int timeout_ms, apex_redis **out, apex_error *err)
{
  *out = NULL;
  apex_redis *r = calloc(1, sizeof *r);
  if (!r)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  apex_err rc = parse(url, &r->t, err);
  if (rc) {
    free(r);
    return rc;
  }
  pthread_mutex_init(&r->mu, NULL);
  r->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
  r->backoff_ms = BACKOFF_MIN_MS;
  *out = r;
  return APEX_OK;
}

void apex_redis_free(apex_redis *r)
{
  if (!r)
    return;
  if (r->c)
    redisFree(r->c);
  pthread_mutex_destroy(&r->mu);
  explicit_bzero(r->t.pass, sizeof r->t.pass);
  free(r);
}

bool apex_redis_up(apex_redis *r)
{
  pthread_mutex_lock(&r->mu);
  bool up = r->up;
  pthread_mutex_unlock(&r->mu);
  return up;
}

static void broken(apex_redis *r)
{
  if (r->c)
    redisFree(r->c);
  r->c = NULL;
  r->up = false;
  r->retry_at = now_ms() + r->backoff_ms;
  r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static apex_err ready(apex_redis *r, apex_error *err)
{
  if (r->c)
    return APEX_OK;
  if (now_ms() < r->retry_at)
    return apex_error_set(err, APEX_EIO, "redis %s:%d is unavailable (reconnecting)", r->t.host, r->t.port);
  if (!(r->c = dial(&r->t, r->timeout_ms, err))) {
    broken(r);
    return APEX_EIO;
  }
  return APEX_OK;
}

void apex_redis_reply_free(apex_redis_reply *x)
{
  if (!x)
    return;
  for (size_t i = 0; i < x->n; i++)
    apex_redis_reply_free(&x->elems[i]);
  free(x->elems);
  free(x->str);
  *x = (apex_redis_reply){0};
}

static apex_err convert(const redisReply *in, apex_redis_reply *out, int depth)
{
  *out = (apex_redis_reply){0};
  switch (in->type) {
  case REDIS_REPLY_INTEGER:
    out->type = APEX_REDIS_INT;
    out->integer = in->integer;
    return APEX_OK;
  case REDIS_REPLY_STRING:
  case REDIS_REPLY_STATUS:
  case REDIS_REPLY_ERROR:
    out->type = in->type == REDIS_REPLY_ERROR ? APEX_REDIS_ERR : APEX_REDIS_STR;
    if (!(out->str = malloc(in->len + 1)))
      return APEX_ENOMEM;
    memcpy(out->str, in->str, in->len);
    out->str[in->len] = '\0';
    out->len = in->len;
    return APEX_OK;
  case REDIS_REPLY_ARRAY:
    out->type = APEX_REDIS_ARRAY;
    if (depth > 8)
      return APEX_EDATA;
    if (in->elements && !(out->elems = calloc(in->elements, sizeof *out->elems)))
      return APEX_ENOMEM;
    out->n = in->elements;
    for (size_t i = 0; i < in->elements; i++) {
      apex_err rc = convert(in->element[i], &out->elems[i], depth + 1);
      if (rc)
        return rc;
    }
    return APEX_OK;
  default:
    out->type = APEX_REDIS_NIL;
    return APEX_OK;
  }
}

/* One reply read from r's context into out; on a broken connection, err and the back-off. */
static apex_err read_reply(apex_redis *r, const char *what, apex_redis_reply *out, apex_error *err)
{
  void *raw = NULL;
  if (redisGetReply(r->c, &raw) != REDIS_OK || !raw) {
    apex_error_set(err, APEX_EIO, "redis %s: %.200s", what, r->c->errstr[0] ? r->c->errstr : "no reply");
    broken(r);
    return APEX_EIO;
  }
  apex_err rc = convert(raw, out, 0);
  freeReplyObject(raw);
  if (rc)
    return apex_error_set(err, rc, "redis %s: %s", what, apex_strerror(rc));
  r->up = true;
  r->backoff_ms = BACKOFF_MIN_MS;
  return APEX_OK;
}

/* Appends one command to r's context (lens NULL: NUL-terminated arguments). */
static apex_err append(apex_redis *r, const apex_redis_cmd *c, apex_error *err)
{
  size_t own[16];
  const size_t *lens = c->lens;
  if (!lens) {
    if (c->argc > 16)
      return apex_error_set(err, APEX_EINVAL, "too many arguments without lengths");
    for (int i = 0; i < c->argc; i++)
      own[i] = strlen(c->argv[i]);
    lens = own;
  }
  if (redisAppendCommandArgv(r->c, c->argc, (const char **)c->argv, lens) == REDIS_OK)
    return APEX_OK;
  apex_error_set(err, APEX_EIO, "redis %s: %.200s", c->argv[0], r->c->errstr);
  broken(r);
  return APEX_EIO;
}

apex_err apex_redis_pipeline(apex_redis *r, size_t n, const apex_redis_cmd *cmds, apex_redis_reply *outs,
                             apex_error *err)
{
  for (size_t i = 0; i < n; i++)
    outs[i] = (apex_redis_reply){0};
  pthread_mutex_lock(&r->mu);
  apex_err rc = ready(r, err);
  for (size_t i = 0; !rc && i < n; i++)
    rc = append(r, &cmds[i], err);
  for (size_t i = 0; !rc && i < n; i++)
    rc = read_reply(r, cmds[i].argv[0], &outs[i], err);
  pthread_mutex_unlock(&r->mu);
  return rc;
}

apex_err apex_redis_command(apex_redis *r, int argc, const char *const *argv, const size_t *lens, apex_redis_reply *out,
                            apex_error *err)
{
  const apex_redis_cmd c = {argc, argv, lens};
  return apex_redis_pipeline(r, 1, &c, out, err);
}

/* --- the subscriber --- */

struct apex_redis_sub {
  target t;
  char channel[128];
  void (*on_message)(void *, const char *, size_t);
  void (*on_connect)(void *);
  void *arg;
  atomic_bool stop;
  pthread_t thread;
};

/* Reads replies until the connection breaks or the subscriber stops; true when stopping. */
static bool listen(apex_redis_sub *s, redisContext *c)
{
  while (!atomic_load(&s->stop)) {
    void *raw = NULL;
    if (redisGetReplyFromReader(c, &raw) != REDIS_OK)
      return false;
    if (raw) {
      redisReply *m = raw;
      /* ["message", channel, payload]; the subscription's own confirmation is skipped */
      if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 && m->element[0]->type == REDIS_REPLY_STRING &&
          !strcmp(m->element[0]->str, "message") && m->element[2]->type == REDIS_REPLY_STRING)
        s->on_message(s->arg, m->element[2]->str, m->element[2]->len);
      freeReplyObject(raw);
      continue;
    }
    struct pollfd p = {c->fd, POLLIN, 0};
    int n = poll(&p, 1, 200); /* wakes to see the stop flag */
    if (n < 0 && errno != EINTR)
      return false;
    if (n > 0 && redisBufferRead(c) != REDIS_OK)
      return false;
  }
  return true;
}

static void *sub_main(void *arg)
{
  apex_redis_sub *s = arg;
  int backoff = BACKOFF_MIN_MS;
  while (!atomic_load(&s->stop)) {
    apex_error err;
    redisContext *c = dial(&s->t, 2000, &err);
    if (c) {
      redisReply *r = redisCommand(c, "SUBSCRIBE %s", s->channel);
      bool ok = r && r->type == REDIS_REPLY_ARRAY;
      freeReplyObject(r);
      if (ok) {
        backoff = BACKOFF_MIN_MS;
        if (s->on_connect)
          s->on_connect(s->arg);
        bool stopping = listen(s, c);
        redisFree(c);
        if (stopping)
          break;
        continue; /* broken: dial again at once, then back off */
      }
      redisFree(c);
    }
    for (int waited = 0; waited < backoff && !atomic_load(&s->stop); waited += 50)
      nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
  }
  return NULL;
}

apex_err apex_redis_subscribe(const char *url, const char *channel, void (*on_message)(void *, const char *, size_t),
                              void (*on_connect)(void *), void *arg, apex_redis_sub **out, apex_error *err)
{
  *out = NULL;
  apex_redis_sub *s = calloc(1, sizeof *s);
  if (!s)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  apex_err rc = parse(url, &s->t, err);
  if (!rc && strlen(channel) >= sizeof s->channel)
    rc = apex_error_set(err, APEX_EINVAL, "channel name too long");
  if (rc) {
    free(s);
    return rc;
  }
  snprintf(s->channel, sizeof s->channel, "%s", channel);
  s->on_message = on_message;
  s->on_connect = on_connect;
  s->arg = arg;
  if (pthread_create(&s->thread, NULL, sub_main, s)) {
    free(s);
    return apex_error_set(err, APEX_ENOMEM, "cannot start the redis subscriber");
  }
  *out = s;
  return APEX_OK;
}

void apex_redis_unsubscribe(apex_redis_sub *s)
{
  if (!s)
    return;
  atomic_store(&s->stop, true);
  pthread_join(s->thread, NULL);
  explicit_bzero(s->t.pass, sizeof s->t.pass);
  free(s);
}
