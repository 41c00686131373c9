/* limiter_redis.c - limiter.h with the counts in Redis, so that every API node sees one count per
 * key (login attempts per account and address). A key is a counter that expires window_s after
 * its first event (Redis's clock, not the caller's now_s). While Redis is away the node counts
 * alone, in memory, and says it limits on its own count: degraded, never open. */
#include "jobs/limiter.h"

#include <stdio.h>
#include <stdlib.h>

#include "jobs/redis.h"

#define PREFIX "apex:limit:"

typedef struct shared {
  apex_redis *r;
  apex_limiter fallback;
} shared;

/* {events in the window (the new one included, counted or not), seconds left in it} */
static const char SCRIPT[] = "local n "
                             "if ARGV[2] == '1' then n = redis.call('INCR', KEYS[1]) "
                             "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
                             "else n = tonumber(redis.call('GET', KEYS[1]) or '0') + 1 end "
                             "return {n, redis.call('TTL', KEYS[1])}";

static int hit(void *impl, const char *key, int max, int window_s, int64_t now_s, bool count)
{
  shared *s = impl;
  char k[sizeof PREFIX + APEX_LIMITER_KEY_MAX], win[16];
  snprintf(k, sizeof k, PREFIX "%s", key);
  snprintf(win, sizeof win, "%d", window_s > 0 ? window_s : 1);
  apex_redis_reply x;
  apex_error err;
  if (APEX_REDIS_RUN(s->r, &x, &err, "EVAL", SCRIPT, "1", k, win, count ? "1" : "0") ||
      x.type != APEX_REDIS_ARRAY || x.n != 2 || x.elems[0].type != APEX_REDIS_INT) {
    apex_redis_reply_free(&x);
    return apex_limiter_hit(&s->fallback, key, max, window_s, now_s, count);
  }
  long long n = x.elems[0].integer, ttl = x.elems[1].type == APEX_REDIS_INT ? x.elems[1].integer : -1;
  apex_redis_reply_free(&x);
  if (n <= max)
    return 0;
  return ttl >= 1 ? (int)ttl : window_s > 0 ? window_s : 1; /* no count yet (-2): a whole window */
}

static void shared_free(void *impl)
{
  shared *s = impl;
  if (!s)
    return;
  apex_redis_free(s->r);
  apex_limiter_free(&s->fallback);
  free(s);
}

static const apex_limiter_ops OPS = {hit, shared_free};

apex_err apex_limiter_redis_new(const char *url, size_t max_keys, apex_limiter *out, apex_error *err)
{
  *out = (apex_limiter){0};
  shared *s = calloc(1, sizeof *s);
  if (!s)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  apex_err rc = apex_limiter_inproc_new(max_keys, &s->fallback);
  if (rc)
    apex_error_set(err, rc, "cannot create the rate limiter");
  else
    rc = apex_redis_new(url, 1000, &s->r, err);
  if (rc) {
    shared_free(s);
    return rc;
  }
  *out = (apex_limiter){&OPS, s};
  return APEX_OK;
}
