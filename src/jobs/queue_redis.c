/* queue_redis.c - queue.h over a Redis Stream with a consumer group, so that jobs submitted on any
 * node run on whichever worker process (apextrade worker, or apextrade serve) takes them first.
 *
 * A job is an entry {id, owner} of the stream "apex:q:<name>"; workers read it with XREADGROUP
 * (group "workers") and acknowledge it (XACK + XDEL) when the function returns. An entry whose
 * worker died stays pending and is taken over by XAUTOCLAIM once idle past the job timeout. Each
 * start counts an attempt (hash "apex:q:<name>:attempts"); a job that has used up its retries
 * goes to the stream "apex:dead:<name>" with the reason, and dead(ctx, id, why) is told. Delivery
 * is at-least-once: the job claims its id in the store, so a second delivery runs nothing twice.
 * Cancelling reaches the worker that runs it through the channel "apex:qc:<name>".
 *
 * Fairness between owners is the stream's order (first come, first served), unlike inproc.c. */
#include "jobs/queue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/redis.h"

#define ID_MAX 64
#define GROUP "workers"
#define BLOCK_MS "1000" /* a worker wakes at least this often to see stop() */

typedef struct slot {
  char id[ID_MAX];
  atomic_int cancel, timed_out;
  struct timespec started;
  bool busy;
} slot;

typedef struct rq {
  char stream[96], attempts[112], retries[112], dead[96], cancel_channel[96], consumer[160];
  char url[600];
  apex_redis *r; /* submit, cancel, counts */
  apex_redis_sub *sub;
  int workers, timeout_s, max_retries;
  apex_job_fn fn;
  apex_job_dead_fn dead_fn;
  void *ctx;
  pthread_mutex_t mu;
  pthread_cond_t dog_cv;
  slot *slots;
  pthread_t *threads, dog;
  int started;
  bool stopping, joined, dog_started;
} rq;

static void sleep_ms(int ms) { nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL); }

static double elapsed_s(const struct timespec *t0)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* The consumer group, made with the stream if missing (at start, and after Redis lost both). */
static void ensure_group(rq *q, apex_redis *r)
{
  apex_redis_reply x;
  apex_error err;
  (void)APEX_REDIS_RUN(r, &x, &err, "XGROUP", "CREATE", q->stream, GROUP, "0", "MKSTREAM");
  apex_redis_reply_free(&x); /* BUSYGROUP: there already */
}

/* An entry [entry-id, [field, value, ...]]: its id and job id into out. */
static bool entry_of(const apex_redis_reply *e, char *entry, size_t ecap, char *id, size_t icap)
{
  if (e->type != APEX_REDIS_ARRAY || e->n != 2 || e->elems[0].type != APEX_REDIS_STR ||
      e->elems[1].type != APEX_REDIS_ARRAY)
    return false;
  snprintf(entry, ecap, "%s", e->elems[0].str);
  id[0] = '\0';
  const apex_redis_reply *f = &e->elems[1];
  for (size_t i = 0; i + 1 < f->n; i += 2)
    if (f->elems[i].str && !strcmp(f->elems[i].str, "id") && f->elems[i + 1].str)
      snprintf(id, icap, "%s", f->elems[i + 1].str);
  return true;
}

/* The next entry for this worker: first one whose worker died (idle past the timeout), else a new
 * one (waiting up to BLOCK_MS). 1: got one; 0: none; -1: Redis trouble. */
static int next_entry(rq *q, apex_redis *r, char *entry, size_t ecap, char *id, size_t icap)
{
  apex_redis_reply x;
  apex_error err;
  char idle[24];
  snprintf(idle, sizeof idle, "%lld", (long long)(q->timeout_s > 0 ? q->timeout_s : 600) * 1000 + 5000);
  if (APEX_REDIS_RUN(r, &x, &err, "XAUTOCLAIM", q->stream, GROUP, q->consumer, idle, "0-0", "COUNT", "1"))
    return -1;
  int got = 0;
  if (x.type == APEX_REDIS_ERR && strstr(x.str, "NOGROUP"))
    ensure_group(q, r);
  else if (x.type == APEX_REDIS_ARRAY && x.n >= 2 && x.elems[1].type == APEX_REDIS_ARRAY && x.elems[1].n)
    got = entry_of(&x.elems[1].elems[0], entry, ecap, id, icap);
  apex_redis_reply_free(&x);
  if (got)
    return 1;
  if (APEX_REDIS_RUN(r, &x, &err, "XREADGROUP", "GROUP", GROUP, q->consumer, "COUNT", "1", "BLOCK", BLOCK_MS,
                     "STREAMS", q->stream, ">"))
    return -1;
  if (x.type == APEX_REDIS_ERR && strstr(x.str, "NOGROUP"))
    ensure_group(q, r);
  /* [[stream, [entry]]] */
  else if (x.type == APEX_REDIS_ARRAY && x.n == 1 && x.elems[0].n == 2 && x.elems[0].elems[1].n)
    got = entry_of(&x.elems[0].elems[1].elems[0], entry, ecap, id, icap);
  apex_redis_reply_free(&x);
  return got;
}

static void done(rq *q, apex_redis *r, const char *entry, const char *id)
{
  const apex_redis_cmd cmds[] = {{4, APEX_REDIS_ARGV("XACK", q->stream, GROUP, entry), NULL},
                                 {3, APEX_REDIS_ARGV("XDEL", q->stream, entry), NULL},
                                 {3, APEX_REDIS_ARGV("HDEL", q->attempts, id), NULL}};
  apex_redis_reply x[3];
  apex_error err;
  (void)apex_redis_pipeline(r, 3, cmds, x, &err); /* lost: the entry is claimed again, and claims nothing */
  for (int i = 0; i < 3; i++)
    apex_redis_reply_free(&x[i]);
}

typedef struct worker_arg {
  rq *q;
  int slot;
} worker_arg;

static void *worker(void *p)
{
  worker_arg *a = p;
  rq *q = a->q;
  slot *me = &q->slots[a->slot];
  free(a);
  apex_redis *r = NULL;
  apex_error err;
  if (apex_redis_new(q->url, 5000, &r, &err)) /* its own connection: XREADGROUP blocks on it */
    return NULL;
  ensure_group(q, r);
  for (;;) {
    pthread_mutex_lock(&q->mu);
    bool stopping = q->stopping;
    pthread_mutex_unlock(&q->mu);
    if (stopping)
      break;
    char entry[64], id[ID_MAX];
    int got = next_entry(q, r, entry, sizeof entry, id, sizeof id);
    if (got < 0)
      sleep_ms(200); /* Redis away: the connection retries with its back-off */
    if (got <= 0)
      continue;
    if (!id[0]) { /* not one of ours */
      done(q, r, entry, id);
      continue;
    }
    apex_redis_reply x;
    long long attempt = 1;
    if (!APEX_REDIS_RUN(r, &x, &err, "HINCRBY", q->attempts, id, "1") && x.type == APEX_REDIS_INT)
      attempt = x.integer;
    apex_redis_reply_free(&x);
    if (attempt > 1 + q->max_retries) {
      char why[160], n[24];
      snprintf(n, sizeof n, "%lld", attempt - 1);
      snprintf(why, sizeof why, "given up after %lld attempts: its worker stopped each time", attempt - 1);
      (void)APEX_REDIS_RUN(r, &x, &err, "XADD", q->dead, "*", "id", id, "attempts", n, "error", why);
      apex_redis_reply_free(&x);
      if (q->dead_fn)
        q->dead_fn(q->ctx, id, why);
      done(q, r, entry, id);
      continue;
    }
    if (attempt > 1) { /* counted for the whole cluster: /metrics of any API node shows it */
      (void)APEX_REDIS_RUN(r, &x, &err, "INCR", q->retries);
      apex_redis_reply_free(&x);
    }
    pthread_mutex_lock(&q->mu);
    snprintf(me->id, sizeof me->id, "%s", id);
    atomic_store(&me->cancel, 0);
    atomic_store(&me->timed_out, 0);
    clock_gettime(CLOCK_MONOTONIC, &me->started);
    me->busy = true;
    pthread_mutex_unlock(&q->mu);
    q->fn(q->ctx, id, &me->cancel, &me->timed_out);
    pthread_mutex_lock(&q->mu);
    me->busy = false;
    pthread_mutex_unlock(&q->mu);
    done(q, r, entry, id);
  }
  apex_redis_free(r);
  return NULL;
}

/* Once a second: raise the flags of jobs past their time. */
static void *watchdog(void *p)
{
  rq *q = p;
  pthread_mutex_lock(&q->mu);
  while (!q->stopping) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    pthread_cond_timedwait(&q->dog_cv, &q->mu, &until);
    for (int i = 0; i < q->workers; i++) {
      slot *s = &q->slots[i];
      if (s->busy && q->timeout_s > 0 && elapsed_s(&s->started) > q->timeout_s && !atomic_load(&s->timed_out)) {
        atomic_store(&s->timed_out, 1);
        atomic_store(&s->cancel, 1);
      }
    }
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

/* A cancel announced by any node: raised here if this process runs the job. */
static bool cancel_here(rq *q, const char *id)
{
  bool found = false;
  pthread_mutex_lock(&q->mu);
  for (int i = 0; i < q->workers; i++)
    if (q->slots[i].busy && !strcmp(q->slots[i].id, id)) {
      atomic_store(&q->slots[i].cancel, 1);
      found = true;
    }
  pthread_mutex_unlock(&q->mu);
  return found;
}

static void on_cancel(void *arg, const char *data, size_t len)
{
  char id[ID_MAX];
  if (len >= sizeof id)
    return;
  memcpy(id, data, len);
  id[len] = '\0';
  (void)cancel_here(arg, id);
}

static apex_err submit(void *impl, const char *id, const char *group)
{
  rq *q = impl;
  pthread_mutex_lock(&q->mu);
  bool stopping = q->stopping;
  pthread_mutex_unlock(&q->mu);
  if (stopping)
    return APEX_ECANCELED;
  apex_redis_reply x;
  apex_error err;
  apex_err rc = APEX_REDIS_RUN(q->r, &x, &err, "XADD", q->stream, "*", "id", id, "owner", group ? group : "");
  if (!rc && x.type == APEX_REDIS_ERR)
    rc = APEX_EIO;
  apex_redis_reply_free(&x);
  return rc; /* APEX_EIO: stored but not queued; the store's sweep queues it once Redis is back */
}

static bool cancel(void *impl, const char *id)
{
  rq *q = impl;
  bool here = cancel_here(q, id);
  apex_redis_reply x;
  apex_error err;
  (void)APEX_REDIS_RUN(q->r, &x, &err, "PUBLISH", q->cancel_channel, id);
  apex_redis_reply_free(&x);
  return here; /* a queued one is skipped when taken: its claim in the store fails */
}

/* Queued: entries no worker has read (the group's lag); running: read, not yet acknowledged. */
static void counts(void *impl, size_t *queued, size_t *running)
{
  rq *q = impl;
  apex_redis_reply x;
  apex_error err;
  *queued = *running = 0;
  if (!APEX_REDIS_RUN(q->r, &x, &err, "XINFO", "GROUPS", q->stream) && x.type == APEX_REDIS_ARRAY)
    for (size_t g = 0; g < x.n; g++) {
      const apex_redis_reply *f = &x.elems[g];
      bool ours = false;
      long long lag = 0, pending = 0;
      for (size_t i = 0; f->type == APEX_REDIS_ARRAY && i + 1 < f->n; i += 2) {
        const char *k = f->elems[i].str ? f->elems[i].str : "";
        const apex_redis_reply *v = &f->elems[i + 1];
        if (!strcmp(k, "name"))
          ours = v->str && !strcmp(v->str, GROUP);
        else if (!strcmp(k, "lag") && v->type == APEX_REDIS_INT)
          lag = v->integer;
        else if (!strcmp(k, "pending") && v->type == APEX_REDIS_INT)
          pending = v->integer;
      }
      if (ours) {
        *queued = (size_t)(lag > 0 ? lag : 0);
        *running = (size_t)(pending > 0 ? pending : 0);
      }
    }
  apex_redis_reply_free(&x);
}

static void stop(void *impl, bool cancel_running)
{
  rq *q = impl;
  pthread_mutex_lock(&q->mu);
  if (q->joined) {
    pthread_mutex_unlock(&q->mu);
    return;
  }
  q->stopping = true;
  if (cancel_running)
    for (int i = 0; i < q->workers; i++)
      if (q->slots[i].busy)
        atomic_store(&q->slots[i].cancel, 1);
  pthread_cond_broadcast(&q->dog_cv);
  pthread_mutex_unlock(&q->mu);
  for (int i = 0; i < q->started; i++) /* each finishes its job, or returns within BLOCK_MS */
    pthread_join(q->threads[i], NULL);
  if (q->dog_started)
    pthread_join(q->dog, NULL);
  pthread_mutex_lock(&q->mu);
  q->joined = true;
  pthread_mutex_unlock(&q->mu);
}

static void destroy(void *impl)
{
  rq *q = impl;
  if (!q)
    return;
  stop(q, true);
  apex_redis_unsubscribe(q->sub);
  apex_redis_free(q->r);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->dog_cv);
  free(q->slots);
  free(q->threads);
  free(q);
}

static void metrics(void *impl, long *retries, long *dead)
{
  rq *q = impl;
  const apex_redis_cmd cmds[] = {{2, APEX_REDIS_ARGV("GET", q->retries), NULL}, {2, APEX_REDIS_ARGV("XLEN", q->dead), NULL}};
  apex_redis_reply x[2];
  apex_error err;
  *retries = *dead = 0;
  if (!apex_redis_pipeline(q->r, 2, cmds, x, &err)) {
    *retries = x[0].type == APEX_REDIS_STR ? strtol(x[0].str, NULL, 10) : 0;
    *dead = x[1].type == APEX_REDIS_INT ? (long)x[1].integer : 0;
  }
  apex_redis_reply_free(&x[0]);
  apex_redis_reply_free(&x[1]);
}

static const apex_queue_ops REDIS_OPS = {"redis", submit, cancel, counts, stop, destroy, metrics};

apex_err apex_queue_redis_new(const apex_queue_redis_options *o, apex_queue *out, apex_error *err)
{
  *out = (apex_queue){0};
  if (!o->name || !*o->name || strlen(o->name) > 32 || o->workers < 0 || !o->fn)
    return apex_error_set(err, APEX_EINVAL, "a queue needs a name (at most 32 bytes) and a job function");
  if (!o->consumer || strlen(o->consumer) >= 140)
    return apex_error_set(err, APEX_EINVAL, "a queue needs a consumer name (at most 139 bytes)");
  apex_err rc = apex_redis_url_ok(o->url, err);
  if (rc)
    return rc;
  rq *q = calloc(1, sizeof *q);
  if (!q)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->dog_cv, NULL);
  snprintf(q->url, sizeof q->url, "%s", o->url);
  snprintf(q->stream, sizeof q->stream, "apex:q:%s", o->name);
  snprintf(q->attempts, sizeof q->attempts, "apex:q:%s:attempts", o->name);
  snprintf(q->retries, sizeof q->retries, "apex:q:%s:retries", o->name);
  snprintf(q->dead, sizeof q->dead, "apex:dead:%s", o->name);
  snprintf(q->cancel_channel, sizeof q->cancel_channel, "apex:qc:%s", o->name);
  snprintf(q->consumer, sizeof q->consumer, "%s", o->consumer);
  q->workers = o->workers;
  q->timeout_s = o->timeout_s;
  q->max_retries = o->max_retries;
  q->fn = o->fn;
  q->dead_fn = o->dead;
  q->ctx = o->ctx;
  if ((rc = apex_redis_new(o->url, 2000, &q->r, err)))
    goto fail;
  if (q->workers) {
    if (!(q->slots = calloc((size_t)q->workers, sizeof *q->slots)) ||
        !(q->threads = calloc((size_t)q->workers, sizeof *q->threads))) {
      rc = apex_error_set(err, APEX_ENOMEM, "out of memory");
      goto fail;
    }
    if ((rc = apex_redis_subscribe(o->url, q->cancel_channel, on_cancel, NULL, q, &q->sub, err)))
      goto fail;
    for (; q->started < q->workers; q->started++) {
      worker_arg *a = malloc(sizeof *a);
      if (a)
        *a = (worker_arg){q, q->started};
      if (!a || pthread_create(&q->threads[q->started], NULL, worker, a)) {
        free(a);
        rc = apex_error_set(err, APEX_ENOMEM, "cannot start %d workers", q->workers);
        goto fail;
      }
    }
    if (!(q->dog_started = !pthread_create(&q->dog, NULL, watchdog, q))) {
      rc = apex_error_set(err, APEX_ENOMEM, "cannot start the job watchdog");
      goto fail;
    }
  }
  *out = (apex_queue){&REDIS_OPS, q};
  return APEX_OK;
fail:
  destroy(q);
  return rc;
}
