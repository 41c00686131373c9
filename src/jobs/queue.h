/* queue.h - the job queue port: background jobs (backtests) run by workers. app/ sees only this
 * ops table; the composition root picks the implementation (inproc.c today, a Redis Streams one
 * later). A job is an id plus the function the queue was built with; the queue knows nothing of
 * what it does. Delivery is at-least-once: the job itself claims its id in the store (with a
 * lease), so a duplicate delivery, here or in another process, runs nothing twice. */
#ifndef APEX_JOBS_QUEUE_H
#define APEX_JOBS_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Runs one job. cancel turns non-zero when the job is cancelled or its time is up: the function
 * should return soon after (the backtest engine checks it every 1 %). timed_out tells which. */
typedef void (*apex_job_fn)(void *ctx, const char *id, const atomic_int *cancel, const atomic_int *timed_out);
/* A job given up on (its retries used up by workers that died running it): why says so. */
typedef void (*apex_job_dead_fn)(void *ctx, const char *id, const char *why);

typedef struct apex_queue_ops {
  const char *name; /* "inproc" */
  /* Queues job id (copied) for group (its owner: "" for none); an id already queued or running
   * here is not queued twice. Groups take turns: a group's queued jobs never make another group
   * wait behind all of them. APEX_ENOMEM; APEX_ECANCELED once stopping. */
  apex_err (*submit)(void *impl, const char *id, const char *group);
  /* Raises the cancel flag of a queued or running job; true if it was known. A queued job is
   * dropped without running. */
  bool (*cancel)(void *impl, const char *id);
  /* Counts for /metrics. */
  void (*counts)(void *impl, size_t *queued, size_t *running);
  /* Stops taking jobs, raises every running job's cancel flag if cancel_running, and waits for
   * the workers. Jobs still queued are dropped: they stay claimable in the store. Idempotent. */
  void (*stop)(void *impl, bool cancel_running);
  /* Stops (cancelling running jobs) if not yet stopped, and frees impl. */
  void (*free)(void *impl);
  /* Jobs started again after a worker died, and given up on (the whole cluster's, for Redis);
   * NULL: none kept. */
  void (*metrics)(void *impl, long *retries, long *dead);
} apex_queue_ops;

/* A queue: an implementation's ops and state, built by the composition root. */
typedef struct apex_queue {
  const apex_queue_ops *ops;
  void *impl;
} apex_queue;

static inline apex_err apex_queue_submit(apex_queue *q, const char *id, const char *group)
{
  return q->ops->submit(q->impl, id, group);
}
static inline bool apex_queue_cancel(apex_queue *q, const char *id) { return q->ops->cancel(q->impl, id); }
static inline void apex_queue_counts(apex_queue *q, size_t *queued, size_t *running)
{
  q->ops->counts(q->impl, queued, running);
}
static inline void apex_queue_stop(apex_queue *q, bool cancel_running) { q->ops->stop(q->impl, cancel_running); }
/* Frees q's implementation and zeroes q; a zeroed q is a no-op. */
static inline void apex_queue_free(apex_queue *q)
{
  if (q && q->ops)
    q->ops->free(q->impl);
  if (q)
    *q = (apex_queue){0};
}

/* The in-process implementation (inproc.c): fair between groups (start-time fair queuing),
 * first in first out within one, `workers` threads, and a watchdog that raises
 * the cancel flag of a job running longer than timeout_s (0: never). fn(ctx, ...) runs each job.
 * APEX_ENOMEM (threads or memory); q is zeroed on error. */
apex_err apex_queue_inproc_new(int workers, int timeout_s, apex_job_fn fn, void *ctx, apex_queue *q);

/* Across processes through a Redis Stream (queue_redis.c): jobs submitted anywhere run on any
 * process's workers; a job whose worker died is taken again once idle past timeout_s (plus 5 s),
 * at most max_retries times, then given to dead(). workers 0: this process only submits. Submit
 * answers APEX_EIO while Redis is away (the job stays claimable in the store). */
typedef struct apex_queue_redis_options {
  const char *url, *name; /* REDIS_URL; the queue ("backtest") */
  const char *consumer;   /* this process's name in the group ("host:pid") */
  int workers, timeout_s, max_retries;
  apex_job_fn fn;
  apex_job_dead_fn dead; /* may be NULL */
  void *ctx;
} apex_queue_redis_options;
apex_err apex_queue_redis_new(const apex_queue_redis_options *o, apex_queue *q, apex_error *err);

#endif
