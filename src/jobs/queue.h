/* queue.h - background jobs (backtests) run by a fixed set of worker threads. The port has one
 * in-process implementation now (inproc.c); a Redis Streams one will sit behind the same calls.
 * A job is an id plus a function; the queue knows nothing of what it does. */
#ifndef APEX_JOBS_QUEUE_H
#define APEX_JOBS_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef struct apex_jobs apex_jobs; /* opaque */

/* Runs one job. cancel turns non-zero when the job is cancelled or its time is up: the function
 * should return soon after (the backtest engine checks it every 1 %). timed_out tells which. */
typedef void (*apex_job_fn)(void *ctx, const char *id, const atomic_int *cancel, const atomic_int *timed_out);

/* workers threads; each job gets at most timeout_s seconds before its cancel flag is raised. */
apex_err apex_jobs_start(int workers, int timeout_s, apex_job_fn fn, void *ctx, apex_jobs **out);
/* Queues job id (copied). APEX_ENOMEM; APEX_ECANCELED once stopping. */
apex_err apex_jobs_submit(apex_jobs *q, const char *id);
/* Raises the cancel flag of a queued or running job; true if it was known. A queued job is dropped
 * without running. */
bool apex_jobs_cancel(apex_jobs *q, const char *id);
/* Counts for /metrics. */
void apex_jobs_counts(apex_jobs *q, size_t *queued, size_t *running);
/* Stops taking jobs, raises every running job's cancel flag if cancel_running, waits for the workers
 * and frees q. Jobs still queued are left to the caller's store (they stay "pending" there and are
 * re-queued at the next start). NULL is a no-op. */
void apex_jobs_stop(apex_jobs *q, bool cancel_running);

#endif
