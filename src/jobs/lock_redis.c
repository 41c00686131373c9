/* lock_redis.c - lock.h on one Redis key: SET NX PX to take it, a compare-and-extend script every
 * ttl/3 to keep it, a compare-and-delete to release it (never another holder's). */
#include "jobs/lock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/redis.h"

struct apex_lock {
  apex_redis *r;
  char key[160], holder[160], ttl[16];
  int ttl_ms;
  atomic_bool held, stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  bool started;
};

static const char EXTEND[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                             "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end "
                             "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0";
static const char RELEASE[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
                              "return 0";

static void *renew(void *arg)
{
  apex_lock *l = arg;
  pthread_mutex_lock(&l->mu);
  while (!atomic_load(&l->stop)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long ns = until.tv_nsec + (long)(l->ttl_ms / 3) * 1000000L;
    until.tv_sec += ns / 1000000000L;
    until.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&l->cv, &l->mu, &until);
    if (atomic_load(&l->stop))
      break;
    pthread_mutex_unlock(&l->mu);
    apex_redis_reply x;
    apex_error err;
    /* Redis away: still ours until the key would expire there too; taken by another: lost. */
    if (!APEX_REDIS_RUN(l->r, &x, &err, "EVAL", EXTEND, "1", l->key, l->holder, l->ttl) && x.type == APEX_REDIS_INT)
      atomic_store(&l->held, x.integer == 1);
    apex_redis_reply_free(&x);
    pthread_mutex_lock(&l->mu);
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

apex_err apex_lock_redis_take(const char *url, const char *name, const char *holder, int ttl_ms, apex_lock **out,
                              char *other, size_t other_cap, apex_error *err)
{
  *out = NULL;
  if (other_cap)
    other[0] = '\0';
  apex_lock *l = calloc(1, sizeof *l);
  if (!l)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
  snprintf(l->key, sizeof l->key, "apex:lock:%s", name);
  snprintf(l->holder, sizeof l->holder, "%s", holder);
  l->ttl_ms = ttl_ms > 300 ? ttl_ms : 300;
  snprintf(l->ttl, sizeof l->ttl, "%d", l->ttl_ms);
  apex_redis_reply x = {0};
  apex_err rc = apex_redis_new(url, 2000, &l->r, err);
  if (!rc)
    rc = APEX_REDIS_RUN(l->r, &x, err, "SET", l->key, l->holder, "NX", "PX", l->ttl);
  if (!rc && x.type != APEX_REDIS_STR) { /* nil: someone has it */
    apex_redis_reply_free(&x);
    if (!APEX_REDIS_RUN(l->r, &x, err, "GET", l->key) && x.type == APEX_REDIS_STR && other_cap)
      snprintf(other, other_cap, "%s", x.str);
    rc = apex_error_set(err, APEX_ECONFLICT, "%s is held by %s", l->key, other_cap && other[0] ? other : "another");
  }
  apex_redis_reply_free(&x);
  if (!rc) {
    atomic_store(&l->held, true);
    if (!(l->started = !pthread_create(&l->thread, NULL, renew, l)))
      rc = apex_error_set(err, APEX_ENOMEM, "cannot start renewing %s", l->key);
  }
  if (rc) {
    apex_lock_release(l);
    return rc;
  }
  *out = l;
  return APEX_OK;
}

bool apex_lock_held(apex_lock *l) { return l && atomic_load(&l->held); }

void apex_lock_release(apex_lock *l)
{
  if (!l)
    return;
  pthread_mutex_lock(&l->mu);
  atomic_store(&l->stop, true);
  pthread_cond_signal(&l->cv);
  pthread_mutex_unlock(&l->mu);
  if (l->started)
    pthread_join(l->thread, NULL);
  if (l->r && atomic_load(&l->held)) {
    apex_redis_reply x;
    apex_error err;
    (void)APEX_REDIS_RUN(l->r, &x, &err, "EVAL", RELEASE, "1", l->key, l->holder);
    apex_redis_reply_free(&x);
  }
  apex_redis_free(l->r);
  pthread_cond_destroy(&l->cv);
  pthread_mutex_destroy(&l->mu);
  free(l);
}
