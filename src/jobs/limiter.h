/* limiter.h - the rate-limit port: counters of events per key in a sliding-start window (a key's
 * window opens at its first event and lasts window_s). app/ sees only this ops table; the
 * composition root picks the implementation (limiter_inproc.c today; Redis when several API
 * nodes must share counts). Keys are exact: one key's events never touch another's count. */
#ifndef APEX_JOBS_LIMITER_H
#define APEX_JOBS_LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct apex_limiter_ops {
  /* With count, counts one event under key at now_s. Returns the seconds to wait (>= 1) when the
   * key's events in its window (the new one included; without count, one more) exceed max, else
   * 0. An implementation that cannot track a new key (full of live keys) answers as limited. */
  int (*hit)(void *impl, const char *key, int max, int window_s, int64_t now_s, bool count);
  void (*free)(void *impl);
} apex_limiter_ops;

typedef struct apex_limiter {
  const apex_limiter_ops *ops;
  void *impl;
} apex_limiter;

static inline int apex_limiter_hit(apex_limiter *l, const char *key, int max, int window_s, int64_t now_s, bool count)
{
  return l->ops->hit(l->impl, key, max, window_s, now_s, count);
}
/* Frees l's implementation and zeroes l; a zeroed l is a no-op. */
static inline void apex_limiter_free(apex_limiter *l)
{
  if (l && l->ops)
    l->ops->free(l->impl);
  if (l)
    *l = (apex_limiter){0};
}

/* In-process limiter: exact keys (at most APEX_LIMITER_KEY_MAX bytes; longer keys are cut
 * there), at most max_keys of them in memory. Only expired keys are ever evicted; when every
 * slot holds a live key, a new key is limited until one expires. Thread-safe. APEX_ENOMEM. */
#define APEX_LIMITER_KEY_MAX 300
apex_err apex_limiter_inproc_new(size_t max_keys, apex_limiter *out);

/* Shared by every process on one Redis (limiter_redis.c): windows on Redis's clock (now_s is
 * ignored); while Redis is away, an in-process limiter of max_keys counts this process alone.
 * APEX_EINVAL (url), APEX_ENOMEM; Redis need not be up yet. */
apex_err apex_limiter_redis_new(const char *url, size_t max_keys, apex_limiter *out, apex_error *err);

#endif
