/* lock.h - a lock that one process of a cluster holds while it runs: the one that runs the
 * strategies (paper runner, live execution) when several nodes share a database. Held by renewing
 * a key in Redis (lock_redis.c); a process that dies stops renewing, and the lock is free ttl_ms
 * later. */
#ifndef APEX_JOBS_LOCK_H
#define APEX_JOBS_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef struct apex_lock apex_lock;
/* Takes lock name for holder (renewed every ttl_ms / 3 until released). APEX_ECONFLICT when
 * another holds it (its holder copied to other), APEX_EIO when Redis cannot be asked. */
apex_err apex_lock_redis_take(const char *url, const char *name, const char *holder, int ttl_ms, apex_lock **out,
                              char *other, size_t other_cap, apex_error *err);
/* False once a renewal found the lock taken by another (this process paused past ttl_ms). */
bool apex_lock_held(apex_lock *l);
void apex_lock_release(apex_lock *l); /* stops renewing and frees the key if still ours; NULL: no-op */

#endif
