/* denylist_redis.c - denylist.h shared by every API node on one Redis. Each node keeps the whole
 * list in memory (an in-process denylist), so the check on every request never leaves the
 * process; a revocation is written to Redis (a key per entry that expires with it) and announced
 * on the channel "apex:deny", which every node's subscriber applies within milliseconds. A node
 * that (re)connects loads every entry from Redis first, so one that was cut off misses nothing.
 *
 * A revocation that cannot reach Redis is kept here, queued, and reported (APEX_EIO: the caller
 * tells the user it is not recorded everywhere yet); the queue goes to Redis as soon as the node
 * is connected again, before anything else. */
#include "jobs/denylist.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/redis.h"

#define CHANNEL "apex:deny"
#define PREFIX "apex:deny:"
#define PENDING_MAX 10000 /* revocations waiting for Redis; beyond it they stay on this node only */

typedef struct entry {
  char key[sizeof PREFIX + 2 + APEX_DENYLIST_KEY_MAX], msg[200];
  int64_t until_s;
  bool user;
} entry;

typedef struct shared {
  apex_denylist local;
  apex_redis *r;
  apex_redis_sub *sub;
  pthread_mutex_t mu; /* pending */
  entry *pending;
  size_t n_pending;
} shared;

static int64_t wall_s(void) { return (int64_t)time(NULL); }

/* "t <jti> <until>" or "u <sub> <at> <until>": applied to this node's list. */
static void apply(shared *s, const char *msg, int64_t now)
{
  char kind, id[APEX_DENYLIST_KEY_MAX + 1];
  long long a = 0, b = 0;
  int n = sscanf(msg, "%c %64s %lld %lld", &kind, id, &a, &b);
  if (n == 3 && kind == 't')
    (void)apex_denylist_revoke_token(&s->local, id, a, now);
  else if (n == 4 && kind == 'u')
    (void)apex_denylist_revoke_user(&s->local, id, a, b, now);
}

static void on_message(void *arg, const char *data, size_t len)
{
  char msg[200];
  if (len >= sizeof msg)
    return;
  memcpy(msg, data, len);
  msg[len] = '\0';
  apply(arg, msg, wall_s());
}

/* key := msg until until_s (unless a later revocation of the user is stored), then announced. */
static apex_err send_one(shared *s, const entry *e)
{
  const char *key = e->key, *msg = e->msg;
  const bool user = e->user;
  char exat[24];
  snprintf(exat, sizeof exat, "%lld", (long long)e->until_s);
  /* A user's entry is replaced only by a later one: two resets in either order end the same. */
  static const char later[] = "local old = redis.call('GET', KEYS[1]) "
                              "if old and tonumber(string.match(old, '^u %S+ (%d+)')) >= tonumber(ARGV[2]) then "
                              "return 0 end redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[3]) return 1";
  char at[24] = "0";
  if (user)
    sscanf(msg, "u %*s %23s", at);
  const apex_redis_cmd cmds[] = {
      user ? (apex_redis_cmd){7, (const char *[]){"EVAL", later, "1", key, msg, at, exat}, NULL}
           : (apex_redis_cmd){5, (const char *[]){"SET", key, msg, "EXAT", exat}, NULL},
      {3, (const char *[]){"PUBLISH", CHANNEL, msg}, NULL},
  };
  apex_redis_reply out[2];
  apex_error err;
  apex_err rc = apex_redis_pipeline(s->r, 2, cmds, out, &err);
  if (!rc && (out[0].type == APEX_REDIS_ERR || out[1].type == APEX_REDIS_ERR))
    rc = APEX_EIO;
  apex_redis_reply_free(&out[0]);
  apex_redis_reply_free(&out[1]);
  return rc;
}

/* What waited for Redis, oldest first; stops at the first failure. True when none is left. */
static bool flush_pending(shared *s)
{
  pthread_mutex_lock(&s->mu);
  size_t done = 0;
  while (done < s->n_pending && !send_one(s, &s->pending[done]))
    done++;
  memmove(s->pending, s->pending + done, (s->n_pending - done) * sizeof *s->pending);
  s->n_pending -= done;
  bool empty = !s->n_pending;
  pthread_mutex_unlock(&s->mu);
  return empty;
}

/* e to Redis now, after what waited; queued when Redis is away (APEX_EIO). */
static apex_err share(shared *s, const entry *e)
{
  if (flush_pending(s) && !send_one(s, e))
    return APEX_OK;
  pthread_mutex_lock(&s->mu);
  if (s->n_pending < PENDING_MAX)
    s->pending[s->n_pending++] = *e;
  pthread_mutex_unlock(&s->mu);
  return APEX_EIO;
}

/* At start and after Redis was away: what this node revoked meanwhile goes out, then every entry
 * in Redis comes into this node's list. */
/* Every entry in Redis into this node's list; false when Redis could not be asked. */
static bool load_all(shared *s)
{
  char cursor[32] = "0";
  const int64_t now = wall_s();
  do {
    apex_redis_reply scan;
    apex_error err;
    if (APEX_REDIS_RUN(s->r, &scan, &err, "SCAN", cursor, "MATCH", PREFIX "*", "COUNT", "1000") ||
        scan.type != APEX_REDIS_ARRAY || scan.n != 2 || scan.elems[1].type != APEX_REDIS_ARRAY) {
      apex_redis_reply_free(&scan);
      return false;
    }
    snprintf(cursor, sizeof cursor, "%s", scan.elems[0].str ? scan.elems[0].str : "0");
    for (size_t i = 0; i < scan.elems[1].n; i++) {
      const char *key = scan.elems[1].elems[i].str;
      apex_redis_reply v;
      if (!key || APEX_REDIS_RUN(s->r, &v, &err, "GET", key) || v.type != APEX_REDIS_STR) {
        apex_redis_reply_free(&v);
        continue; /* expired between the two */
      }
      apply(s, v.str, now); /* the value is the message that announced it */
      apex_redis_reply_free(&v);
    }
    apex_redis_reply_free(&scan);
  } while (strcmp(cursor, "0"));
  return true;
}

static void on_connect(void *arg)
{
  shared *s = arg;
  /* Redis is back (we are subscribed), but the command connection may still be in its back-off. */
  for (int i = 0; i < 100 && !(flush_pending(s) && load_all(s)); i++)
    nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
}

static apex_err revoke_token(void *impl, const char *jti, int64_t until_s, int64_t now_s)
{
  shared *s = impl;
  apex_err rc = apex_denylist_revoke_token(&s->local, jti, until_s, now_s);
  if (rc)
    return rc;
  entry e = {.until_s = until_s};
  snprintf(e.key, sizeof e.key, PREFIX "t:%s", jti);
  snprintf(e.msg, sizeof e.msg, "t %s %lld", jti, (long long)until_s);
  return share(s, &e);
}

static apex_err revoke_user(void *impl, const char *sub, int64_t at_s, int64_t until_s, int64_t now_s)
{
  shared *s = impl;
  apex_err rc = apex_denylist_revoke_user(&s->local, sub, at_s, until_s, now_s);
  if (rc)
    return rc;
  entry e = {.until_s = until_s, .user = true};
  snprintf(e.key, sizeof e.key, PREFIX "u:%s", sub);
  snprintf(e.msg, sizeof e.msg, "u %s %lld %lld", sub, (long long)at_s, (long long)until_s);
  return share(s, &e);
}

static bool revoked(void *impl, const char *jti, const char *sub, int64_t iat, int64_t now_s)
{
  shared *s = impl;
  return apex_denylist_revoked(&s->local, jti, sub, iat, now_s);
}

static void shared_free(void *impl)
{
  shared *s = impl;
  if (!s)
    return;
  apex_redis_unsubscribe(s->sub);
  apex_redis_free(s->r);
  apex_denylist_free(&s->local);
  pthread_mutex_destroy(&s->mu);
  free(s->pending);
  free(s);
}

static const apex_denylist_ops OPS = {revoke_token, revoke_user, revoked, shared_free};

apex_err apex_denylist_redis_new(const char *url, size_t max_entries, apex_denylist *out, apex_error *err)
{
  *out = (apex_denylist){0};
  shared *s = calloc(1, sizeof *s);
  if (!s)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  pthread_mutex_init(&s->mu, NULL);
  apex_err rc = (s->pending = malloc(PENDING_MAX * sizeof *s->pending)) ? apex_denylist_inproc_new(max_entries, &s->local)
                                                                          : APEX_ENOMEM;
  if (rc) {
    apex_error_set(err, rc, "cannot create the token denylist");
    goto fail;
  }
  if ((rc = apex_redis_new(url, 2000, &s->r, err)) ||
      (rc = apex_redis_subscribe(url, CHANNEL, on_message, on_connect, s, &s->sub, err)))
    goto fail;
  *out = (apex_denylist){&OPS, s};
  return APEX_OK;
fail:
  shared_free(s);
  return rc;
}
