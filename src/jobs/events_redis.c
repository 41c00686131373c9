/* events_redis.c - events.h across processes: what any process publishes reaches the subscribers
 * of every process connected to the same Redis (channel "apex:events"). publish() only queues the
 * event (it never waits on the network); a publisher thread sends what queued in one pipelined
 * round trip, and a subscriber thread hands what arrives to an in-process hub, which this
 * process's subscribers read as before. While Redis is away, events go to this process's
 * subscribers only: late or lost for other nodes, never lost here.
 *
 * An event crosses as its struct's bytes behind a tag of the layout: every node of a cluster runs
 * the same build, and a message of another layout is dropped. */
#include "jobs/events.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/redis.h"

#define CHANNEL "apex:events"
#define QUEUE_CAP 65536 /* events waiting for the publisher thread; beyond it, delivered here only */
#define BATCH 256
#define MAGIC "apexev1:"
#define MAGIC_LEN (sizeof MAGIC - 1)
#define WIRE_LEN (MAGIC_LEN + sizeof(uint32_t) + sizeof(apex_event))

typedef struct bus {
  apex_events local; /* this process's subscribers */
  apex_redis *r;
  apex_redis_sub *sub;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  apex_event *q; /* ring of QUEUE_CAP */
  size_t head, count;
  bool stop, started;
  pthread_t thread;
  apex_event *batch; /* the publisher thread's: BATCH events, BATCH encodings */
  char *wire;
} bus;

static void encode(const apex_event *ev, char *out)
{
  const uint32_t size = sizeof *ev;
  memcpy(out, MAGIC, MAGIC_LEN);
  memcpy(out + MAGIC_LEN, &size, sizeof size);
  memcpy(out + MAGIC_LEN + sizeof size, ev, sizeof *ev);
}

static void on_message(void *arg, const char *data, size_t len)
{
  bus *b = arg;
  uint32_t size;
  apex_event ev;
  if (len != WIRE_LEN || memcmp(data, MAGIC, MAGIC_LEN))
    return;
  memcpy(&size, data + MAGIC_LEN, sizeof size);
  if (size != sizeof ev)
    return; /* another build's layout */
  memcpy(&ev, data + MAGIC_LEN + sizeof size, sizeof ev);
  ev.user_id[sizeof ev.user_id - 1] = '\0';
  apex_events_publish(&b->local, &ev);
}

static void *publisher(void *arg)
{
  bus *b = arg;
  apex_event *batch = b->batch;
  char *wire = b->wire;
  apex_redis_cmd cmds[BATCH];
  const char *argv[BATCH][3];
  size_t lens[BATCH][3];
  apex_redis_reply replies[BATCH];
  for (;;) {
    pthread_mutex_lock(&b->mu);
    while (!b->count && !b->stop)
      pthread_cond_wait(&b->cv, &b->mu);
    if (!b->count && b->stop) {
      pthread_mutex_unlock(&b->mu);
      break;
    }
    size_t n = 0;
    while (b->count && n < BATCH) {
      batch[n++] = b->q[b->head];
      b->head = (b->head + 1) % QUEUE_CAP;
      b->count--;
    }
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; i < n; i++) {
      encode(&batch[i], wire + i * WIRE_LEN);
      argv[i][0] = "PUBLISH", argv[i][1] = CHANNEL, argv[i][2] = wire + i * WIRE_LEN;
      lens[i][0] = 7, lens[i][1] = sizeof CHANNEL - 1, lens[i][2] = WIRE_LEN;
      cmds[i] = (apex_redis_cmd){3, argv[i], lens[i]};
    }
    apex_error err;
    if (apex_redis_pipeline(b->r, n, cmds, replies, &err)) /* Redis away: this process's own still see them */
      for (size_t i = 0; i < n; i++)
        apex_events_publish(&b->local, &batch[i]);
    for (size_t i = 0; i < n; i++)
      apex_redis_reply_free(&replies[i]);
  }
  return NULL;
}

static void publish(void *impl, const apex_event *ev)
{
  bus *b = impl;
  pthread_mutex_lock(&b->mu);
  bool queued = b->count < QUEUE_CAP && !b->stop;
  if (queued) {
    b->q[(b->head + b->count) % QUEUE_CAP] = *ev;
    b->count++;
    pthread_cond_signal(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
  if (!queued) /* Redis far behind: this process's subscribers at least */
    apex_events_publish(&b->local, ev);
}

static apex_err subscribe(void *impl, unsigned mask, size_t capacity, apex_subscription **out)
{
  bus *b = impl;
  return apex_events_subscribe(&b->local, mask, capacity, out);
}

static void unsubscribe(void *impl, apex_subscription *sub)
{
  bus *b = impl;
  apex_events_unsubscribe(&b->local, sub);
}

static bool next(void *impl, apex_subscription *sub, int timeout_ms, apex_event *ev, uint64_t *dropped)
{
  bus *b = impl;
  return apex_events_next(&b->local, sub, timeout_ms, ev, dropped);
}

static void watch(void *impl, apex_subscription *sub, void (*wake)(void *), void *arg)
{
  bus *b = impl;
  apex_events_watch(&b->local, sub, wake, arg);
}

static void bus_free(void *impl)
{
  bus *b = impl;
  if (!b)
    return;
  pthread_mutex_lock(&b->mu);
  b->stop = true;
  pthread_cond_signal(&b->cv);
  pthread_mutex_unlock(&b->mu);
  if (b->started)
    pthread_join(b->thread, NULL); /* what queued is sent first */
  apex_redis_unsubscribe(b->sub);
  apex_redis_free(b->r);
  apex_events_free(&b->local);
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
  free(b->q);
  free(b->batch);
  free(b->wire);
  free(b);
}

static const apex_events_ops OPS = {"redis", publish, subscribe, unsubscribe, next, bus_free, watch};

apex_err apex_events_redis_new(const char *url, apex_events *out, apex_error *err)
{
  *out = (apex_events){0};
  bus *b = calloc(1, sizeof *b);
  apex_err rc = APEX_ENOMEM;
  if (!b)
    return apex_error_set(err, rc, "out of memory");
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  if (!(b->q = malloc(QUEUE_CAP * sizeof *b->q)) || !(b->batch = malloc(BATCH * sizeof *b->batch)) ||
      !(b->wire = malloc(BATCH * WIRE_LEN))) {
    apex_error_set(err, rc, "out of memory");
    goto fail;
  }
  if ((rc = apex_events_inproc_new(&b->local))) {
    apex_error_set(err, rc, "cannot create the local events hub");
    goto fail;
  }
  if ((rc = apex_redis_new(url, 2000, &b->r, err)) ||
      (rc = apex_redis_subscribe(url, CHANNEL, on_message, NULL, b, &b->sub, err)))
    goto fail;
  if (!(b->started = !pthread_create(&b->thread, NULL, publisher, b))) {
    rc = apex_error_set(err, APEX_ENOMEM, "cannot start the events publisher");
    goto fail;
  }
  *out = (apex_events){&OPS, b};
  return APEX_OK;
fail:
  bus_free(b);
  return rc;
}
