/* events_inproc.c - events.h's in-process implementation: a list of subscribers under a
 * read-write lock (publishers share it; subscribe/unsubscribe take it alone), each subscriber a
 * bounded ring with its own mutex and condition variable. A full ring drops its oldest event. */
#include "jobs/events.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct apex_subscription {
  struct apex_subscription *next;
  unsigned mask;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  apex_event *ring;
  size_t cap, head, count; /* oldest at ring[head] */
  uint64_t dropped;
  void (*wake)(void *);
  void *wake_arg;
};

typedef struct hub {
  pthread_rwlock_t lock;
  apex_subscription *subs;
} hub;

const char *apex_event_channel(apex_event_kind kind)
{
  switch (kind) {
  case APEX_EVENT_BACKTEST_PROGRESS:
  case APEX_EVENT_BACKTEST_COMPLETED:
  case APEX_EVENT_BACKTEST_FAILED:
    return "backtest_progress";
  case APEX_EVENT_TICKER:
    return "ticker";
  case APEX_EVENT_CANDLE:
    return "candles";
  case APEX_EVENT_TRADE:
    return "trade";
  case APEX_EVENT_PORTFOLIO:
    return "portfolio";
  case APEX_EVENT_STRATEGY:
    return "strategy";
  case APEX_EVENT_SESSION_REVOKED:
    break;
  }
  return "";
}

static void publish(void *impl, const apex_event *ev)
{
  hub *h = impl;
  unsigned bit = (unsigned)ev->kind < 32 ? 1u << (unsigned)ev->kind : 0;
  pthread_rwlock_rdlock(&h->lock);
  for (apex_subscription *s = h->subs; s; s = s->next) {
    if (!(s->mask & bit))
      continue;
    pthread_mutex_lock(&s->mu);
    if (s->count == s->cap) { /* slow reader: lose the oldest, never wait */
      s->head = (s->head + 1) % s->cap;
      s->count--;
      s->dropped++;
    }
    s->ring[(s->head + s->count) % s->cap] = *ev;
    s->count++;
    pthread_cond_signal(&s->cv);
    void (*wake)(void *) = s->wake;
    void *arg = s->wake_arg;
    pthread_mutex_unlock(&s->mu);
    if (wake)
      wake(arg);
  }
  pthread_rwlock_unlock(&h->lock);
}

static apex_err subscribe(void *impl, unsigned mask, size_t capacity, apex_subscription **out)
{
  hub *h = impl;
  *out = NULL;
  if (!capacity || capacity > (1u << 20))
    return APEX_EINVAL;
  apex_subscription *s = calloc(1, sizeof *s);
  if (!s || !(s->ring = calloc(capacity, sizeof *s->ring))) {
    free(s);
    return APEX_ENOMEM;
  }
  s->mask = mask;
  s->cap = capacity;
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_rwlock_wrlock(&h->lock);
  s->next = h->subs;
  h->subs = s;
  pthread_rwlock_unlock(&h->lock);
  *out = s;
  return APEX_OK;
}

static void unsubscribe(void *impl, apex_subscription *sub)
{
  hub *h = impl;
  if (!sub)
    return;
  pthread_rwlock_wrlock(&h->lock); /* no publisher holds sub's lock past this point */
  for (apex_subscription **pp = &h->subs; *pp; pp = &(*pp)->next)
    if (*pp == sub) {
      *pp = sub->next;
      break;
    }
  pthread_rwlock_unlock(&h->lock);
  pthread_mutex_destroy(&sub->mu);
  pthread_cond_destroy(&sub->cv);
  free(sub->ring);
  free(sub);
}

static bool next(void *impl, apex_subscription *s, int timeout_ms, apex_event *ev, uint64_t *dropped)
{
  (void)impl;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->mu);
  while (!s->count && timeout_ms > 0)
    if (pthread_cond_timedwait(&s->cv, &s->mu, &until))
      break; /* timed out */
  bool got = s->count > 0;
  if (got) {
    *ev = s->ring[s->head];
    s->head = (s->head + 1) % s->cap;
    s->count--;
  }
  if (dropped)
    *dropped = s->dropped;
  s->dropped = 0;
  pthread_mutex_unlock(&s->mu);
  return got;
}

static void watch(void *impl, apex_subscription *s, void (*wake)(void *), void *arg)
{
  (void)impl;
  pthread_mutex_lock(&s->mu);
  s->wake = wake;
  s->wake_arg = arg;
  pthread_mutex_unlock(&s->mu);
}

static void destroy(void *impl)
{
  hub *h = impl;
  if (!h)
    return;
  while (h->subs) /* a forgotten subscriber is freed rather than leaked */
    unsubscribe(h, h->subs);
  pthread_rwlock_destroy(&h->lock);
  free(h);
}

static const apex_events_ops INPROC_OPS = {"inproc", publish, subscribe, unsubscribe, next, destroy, watch};

apex_err apex_events_inproc_new(apex_events *out)
{
  *out = (apex_events){0};
  hub *h = calloc(1, sizeof *h);
  if (!h)
    return APEX_ENOMEM;
  pthread_rwlock_init(&h->lock, NULL);
  *out = (apex_events){&INPROC_OPS, h};
  return APEX_OK;
}
