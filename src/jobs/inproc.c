/* inproc.c - the in-process job queue (queue.h's port): a list, a mutex, a condition variable, N
 * worker threads and a watchdog that raises the cancel flag of jobs past their time. Fairness is
 * start-time fair queuing: a job's tag is one past the later of the queue's virtual time and the
 * last tag queued in its group; workers take the smallest tag (the oldest among equals). One user
 * with 200 jobs queued thus delays another user's single job by one job, not by 200. */
#include "jobs/queue.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#define ID_MAX 64

typedef struct job {
  struct job *next;
  char id[ID_MAX];
  char group[ID_MAX];
  uint64_t tag;
  atomic_int cancel, timed_out;
  struct timespec started;
  bool running;
} job;

typedef struct inproc {
  pthread_mutex_t mu;
  pthread_cond_t cv, dog_cv;
  job *head, *tail;    /* queued */
  job **running;       /* one slot per worker */
  uint64_t vtime;      /* the tag of the job taken last */
  int workers, timeout_s;
  pthread_t *threads, dog;
  bool stopping, joined;
  apex_job_fn fn;
  void *ctx;
} inproc;

static double elapsed_s(const struct timespec *t0)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* With q->mu held and a job queued: unlinks and returns the one with the smallest tag. */
static job *take(inproc *q)
{
  job **best = &q->head, *prev = NULL, *best_prev = NULL;
  for (job **pp = &q->head; *pp; prev = *pp, pp = &(*pp)->next)
    if ((*pp)->tag < (*best)->tag) {
      best = pp;
      best_prev = prev;
    }
  job *j = *best;
  *best = j->next;
  if (q->tail == j)
    q->tail = best_prev;
  q->vtime = j->tag;
  return j;
}

typedef struct worker_arg {
  inproc *q;
  int slot;
} worker_arg;

static void *worker(void *p)
{
  worker_arg *a = p;
  inproc *q = a->q;
  int slot = a->slot;
  free(a);
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (!q->head && !q->stopping)
      pthread_cond_wait(&q->cv, &q->mu);
    if (q->stopping)
      break;
    job *j = take(q);
    j->running = true;
    clock_gettime(CLOCK_MONOTONIC, &j->started);
    q->running[slot] = j;
    pthread_mutex_unlock(&q->mu);
    q->fn(q->ctx, j->id, &j->cancel, &j->timed_out);
    pthread_mutex_lock(&q->mu);
    q->running[slot] = NULL;
    free(j);
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

/* Once a second: raise the flags of jobs past their time. */
static void *watchdog(void *p)
{
  inproc *q = p;
  pthread_mutex_lock(&q->mu);
  while (!q->stopping) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    pthread_cond_timedwait(&q->dog_cv, &q->mu, &until);
    for (int i = 0; i < q->workers; i++) {
      job *j = q->running[i];
      if (j && q->timeout_s > 0 && elapsed_s(&j->started) > q->timeout_s && !atomic_load(&j->timed_out)) {
        atomic_store(&j->timed_out, 1);
        atomic_store(&j->cancel, 1);
      }
    }
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

static apex_err start(int workers, int timeout_s, apex_job_fn fn, void *ctx, inproc **out)
{
  inproc *q = calloc(1, sizeof *q);
  *out = NULL;
  if (!q || workers < 1)
    goto fail;
  q->workers = workers;
  q->timeout_s = timeout_s;
  q->fn = fn;
  q->ctx = ctx;
  q->running = calloc((size_t)workers, sizeof *q->running);
  q->threads = calloc((size_t)workers, sizeof *q->threads);
  if (!q->running || !q->threads)
    goto fail;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  pthread_cond_init(&q->dog_cv, NULL);
  int started = 0;
  for (; started < workers; started++) {
    worker_arg *a = malloc(sizeof *a);
    if (!a)
      break;
    *a = (worker_arg){q, started};
    if (pthread_create(&q->threads[started], NULL, worker, a)) {
      free(a);
      break;
    }
  }
  if (started < workers || pthread_create(&q->dog, NULL, watchdog, q)) {
    q->workers = started;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < started; i++)
      pthread_join(q->threads[i], NULL);
    goto fail;
  }
  *out = q;
  return APEX_OK;
fail:
  if (q) {
    free(q->running);
    free(q->threads);
    free(q);
  }
  return APEX_ENOMEM;
}

/* With q->mu held: true when a job with this id is queued or running. */
static bool known(inproc *q, const char *id)
{
  for (job *j = q->head; j; j = j->next)
    if (!strcmp(j->id, id))
      return true;
  for (int i = 0; i < q->workers; i++)
    if (q->running[i] && !strcmp(q->running[i]->id, id))
      return true;
  return false;
}

static apex_err submit(void *impl, const char *id, const char *group)
{
  inproc *q = impl;
  job *j = calloc(1, sizeof *j);
  if (!j)
    return APEX_ENOMEM;
  snprintf(j->id, sizeof j->id, "%s", id);
  snprintf(j->group, sizeof j->group, "%s", group ? group : "");
  pthread_mutex_lock(&q->mu);
  if (q->stopping || known(q, j->id)) {
    apex_err rc = q->stopping ? APEX_ECANCELED : APEX_OK;
    pthread_mutex_unlock(&q->mu);
    free(j);
    return rc;
  }
  j->tag = q->vtime;
  for (job *k = q->head; k; k = k->next)
    if (!strcmp(k->group, j->group) && k->tag > j->tag)
      j->tag = k->tag;
  j->tag++;
  if (q->tail)
    q->tail->next = j;
  else
    q->head = j;
  q->tail = j;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
  return APEX_OK;
}

static bool cancel(void *impl, const char *id)
{
  inproc *q = impl;
  bool found = false;
  pthread_mutex_lock(&q->mu);
  for (job **pp = &q->head; *pp; pp = &(*pp)->next) {
    if (!strcmp((*pp)->id, id)) {
      job *j = *pp;
      *pp = j->next;
      if (q->tail == j) {
        q->tail = NULL;
        for (job *k = q->head; k; k = k->next)
          q->tail = k;
      }
      free(j);
      found = true;
      break;
    }
  }
  for (int i = 0; !found && i < q->workers; i++)
    if (q->running[i] && !strcmp(q->running[i]->id, id)) {
      atomic_store(&q->running[i]->cancel, 1);
      found = true;
    }
  pthread_mutex_unlock(&q->mu);
  return found;
}

static void counts(void *impl, size_t *queued, size_t *running)
{
  inproc *q = impl;
  size_t a = 0, b = 0;
  pthread_mutex_lock(&q->mu);
  for (job *j = q->head; j; j = j->next)
    a++;
  for (int i = 0; i < q->workers; i++)
    b += q->running[i] != NULL;
  pthread_mutex_unlock(&q->mu);
  *queued = a;
  *running = b;
}

static void stop(void *impl, bool cancel_running)
{
  inproc *q = impl;
  pthread_mutex_lock(&q->mu);
  if (q->joined) {
    pthread_mutex_unlock(&q->mu);
    return;
  }
  q->stopping = true;
  if (cancel_running)
    for (int i = 0; i < q->workers; i++)
      if (q->running[i])
        atomic_store(&q->running[i]->cancel, 1);
  pthread_cond_broadcast(&q->cv);
  pthread_cond_broadcast(&q->dog_cv);
  pthread_mutex_unlock(&q->mu);
  for (int i = 0; i < q->workers; i++)
    pthread_join(q->threads[i], NULL);
  pthread_join(q->dog, NULL);
  pthread_mutex_lock(&q->mu);
  q->joined = true;
  while (q->head) {
    job *j = q->head;
    q->head = j->next;
    free(j);
  }
  q->tail = NULL;
  pthread_mutex_unlock(&q->mu);
}

static void destroy(void *impl)
{
  inproc *q = impl;
  if (!q)
    return;
  stop(q, true);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  pthread_cond_destroy(&q->dog_cv);
  free(q->running);
  free(q->threads);
  free(q);
}

static const apex_queue_ops INPROC_OPS = {"inproc", submit, cancel, counts, stop, destroy, NULL};

apex_err apex_queue_inproc_new(int workers, int timeout_s, apex_job_fn fn, void *ctx, apex_queue *out)
{
  inproc *q = NULL;
  *out = (apex_queue){0};
  apex_err rc = start(workers, timeout_s, fn, ctx, &q);
  if (rc)
    return rc;
  *out = (apex_queue){&INPROC_OPS, q};
  return APEX_OK;
}
