/* The Redis adapters (jobs/redis.c, events_redis.c, denylist_redis.c, limiter_redis.c) against a
 * real redis-server in APEX_TEST_REDIS_URL (`make test` starts one, scripts/with-redis.sh); two
 * instances stand for two API nodes. Skipped when unset, failed when unset but APEX_REQUIRE_REDIS
 * is. The outage cases point at a port where nothing listens. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

#include "jobs/denylist.h"
#include "jobs/events.h"
#include "jobs/limiter.h"
#include "jobs/redis.h"

#define NOWHERE "redis://127.0.0.1:1/0" /* nothing listens on port 1 */

static const char *url(void)
{
  const char *u = getenv("APEX_TEST_REDIS_URL");
  if (!u || !*u) {
    const char *req = getenv("APEX_REQUIRE_REDIS");
    cr_assert(!req || !*req, "APEX_TEST_REDIS_URL is not set but APEX_REQUIRE_REDIS is");
    cr_skip_test("APEX_TEST_REDIS_URL is not set");
  }
  return u;
}

static void sleep_ms(int ms) { nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL); }

/* A fresh database for each test: the keys of one never meet another's. */
static void flush(const char *u)
{
  apex_redis *r;
  apex_redis_reply x;
  apex_error err;
  cr_assert_eq(apex_redis_new(u, 1000, &r, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(APEX_REDIS_RUN(r, &x, &err, "FLUSHDB"), APEX_OK, "%s", err.msg);
  apex_redis_reply_free(&x);
  apex_redis_free(r);
}

Test(redis, urls)
{
  apex_error err;
  const char *good[] = {"redis://localhost", "redis://127.0.0.1:6379/0", "redis://:secret@h:1/15", "redis://u:p@h/",
                        "redis://h:65535"};
  const char *bad[] = {"", "http://h", "redis://", "redis://h:0", "redis://h:65536", "redis://h/16", "redis://h/x",
                       "redis://h:12x", "redis://user@h", NULL};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    cr_expect_eq(apex_redis_url_ok(good[i], &err), APEX_OK, "%s: %s", good[i], err.msg);
  for (size_t i = 0; bad[i]; i++)
    cr_expect_eq(apex_redis_url_ok(bad[i], &err), APEX_EINVAL, "%s accepted", bad[i]);
  cr_expect_eq(apex_redis_url_ok(NULL, &err), APEX_EINVAL);
}

Test(redis, commands_binary_values_pipelines_and_error_replies)
{
  const char *u = url();
  flush(u);
  apex_redis *r;
  apex_redis_reply x, xs[3];
  apex_error err;
  cr_assert_eq(apex_redis_new(u, 1000, &r, &err), APEX_OK);
  const char bin[] = {'a', '\0', 'b'};
  cr_assert_eq(apex_redis_command(r, 3, (const char *[]){"SET", "k", bin}, (size_t[]){3, 1, 3}, &x, &err), APEX_OK,
               "%s", err.msg);
  cr_expect(x.type == APEX_REDIS_STR && !strcmp(x.str, "OK"));
  apex_redis_reply_free(&x);
  cr_assert_eq(APEX_REDIS_RUN(r, &x, &err, "GET", "k"), APEX_OK);
  cr_expect(x.type == APEX_REDIS_STR && x.len == 3 && !memcmp(x.str, bin, 3), "NUL bytes survive");
  apex_redis_reply_free(&x);
  const apex_redis_cmd cmds[] = {{2, (const char *[]){"INCR", "n"}, NULL},
                                 {2, (const char *[]){"INCR", "k"}, NULL}, /* not a number: an error reply */
                                 {3, (const char *[]){"MGET", "n", "missing"}, NULL}};
  cr_assert_eq(apex_redis_pipeline(r, 3, cmds, xs, &err), APEX_OK, "%s", err.msg);
  cr_expect(xs[0].type == APEX_REDIS_INT && xs[0].integer == 1);
  cr_expect(xs[1].type == APEX_REDIS_ERR && strstr(xs[1].str, "not an integer"));
  cr_expect(xs[2].type == APEX_REDIS_ARRAY && xs[2].n == 2 && xs[2].elems[0].type == APEX_REDIS_STR &&
            xs[2].elems[1].type == APEX_REDIS_NIL);
  for (int i = 0; i < 3; i++)
    apex_redis_reply_free(&xs[i]);
  cr_expect(apex_redis_up(r));
  apex_redis_free(r);
}

Test(redis, an_unreachable_server_fails_fast_and_never_hangs)
{
  apex_redis *r;
  apex_redis_reply x;
  apex_error err;
  cr_assert_eq(apex_redis_new(NOWHERE, 500, &r, &err), APEX_OK);
  cr_expect_eq(APEX_REDIS_RUN(r, &x, &err, "PING"), APEX_EIO);
  cr_expect(strstr(err.msg, "127.0.0.1:1"), "%s", err.msg);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < 1000; i++) /* within the back-off: no new connection attempt */
    cr_assert_eq(APEX_REDIS_RUN(r, &x, &err, "PING"), APEX_EIO);
  clock_gettime(CLOCK_MONOTONIC, &b);
  cr_expect((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 1000);
  cr_expect(!apex_redis_up(r));
  apex_redis_free(r);
}

static apex_event trade(int n)
{
  apex_event ev = {.kind = APEX_EVENT_TRADE, .time_ms = 1000 + n};
  snprintf(ev.user_id, sizeof ev.user_id, "user-%d", n);
  snprintf(ev.u.trade.trade_id, sizeof ev.u.trade.trade_id, "trade-%d", n);
  snprintf(ev.u.trade.symbol, sizeof ev.u.trade.symbol, "BTC/USDT");
  ev.u.trade.quantity = n;
  return ev;
}

/* Waits up to 3 s for n events on s, in order, each exactly once. */
static void expect_trades(apex_events *e, apex_subscription *s, int from, int n, const char *who)
{
  apex_event ev;
  for (int i = from; i < from + n; i++) {
    cr_assert(apex_events_next(e, s, 3000, &ev, NULL), "%s: event %d never came", who, i);
    cr_expect_str_eq(ev.u.trade.trade_id, trade(i).u.trade.trade_id, "%s: order", who);
    cr_expect_str_eq(ev.user_id, trade(i).user_id);
    cr_expect_eq(ev.u.trade.quantity, trade(i).u.trade.quantity);
  }
  cr_expect(!apex_events_next(e, s, 200, &ev, NULL), "%s: an event twice", who);
}

Test(redis, events_published_on_one_node_reach_every_node_once_and_in_order)
{
  const char *u = url();
  apex_events a, b;
  apex_subscription *sa, *sb, *sticker;
  apex_error err;
  cr_assert_eq(apex_events_redis_new(u, &a, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_events_redis_new(u, &b, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_events_subscribe(&a, APEX_EVENT_ALL, 1024, &sa), APEX_OK);
  cr_assert_eq(apex_events_subscribe(&b, APEX_EVENT_MASK(APEX_EVENT_TRADE), 1024, &sb), APEX_OK);
  cr_assert_eq(apex_events_subscribe(&b, APEX_EVENT_MASK(APEX_EVENT_TICKER), 16, &sticker), APEX_OK);
  sleep_ms(300); /* both subscribers have subscribed at Redis */
  for (int i = 0; i < 500; i++) {
    apex_event ev = trade(i);
    apex_events_publish(i % 2 ? &b : &a, &ev); /* half from each node: one order per publisher */
  }
  apex_event ev;
  int seen_a = 0, seen_b = 0, last_a[2] = {-1, -1}, last_b[2] = {-1, -1};
  while (apex_events_next(&a, sa, 1000, &ev, NULL)) {
    int n = atoi(ev.u.trade.trade_id + 6);
    cr_expect_gt(n, last_a[n % 2], "node a: publisher %d out of order", n % 2);
    last_a[n % 2] = n;
    seen_a++;
  }
  while (apex_events_next(&b, sb, 1000, &ev, NULL)) {
    int n = atoi(ev.u.trade.trade_id + 6);
    cr_expect_gt(n, last_b[n % 2], "node b: publisher %d out of order", n % 2);
    last_b[n % 2] = n;
    seen_b++;
  }
  cr_expect_eq(seen_a, 500, "node a saw %d", seen_a);
  cr_expect_eq(seen_b, 500, "node b saw %d", seen_b);
  cr_expect(!apex_events_next(&b, sticker, 0, &ev, NULL), "a ticker subscriber gets no trades");
  apex_events_unsubscribe(&a, sa);
  apex_events_unsubscribe(&b, sb);
  apex_events_unsubscribe(&b, sticker);
  apex_events_free(&a);
  apex_events_free(&b);
}

Test(redis, without_redis_events_still_reach_this_node)
{
  apex_events a;
  apex_subscription *s;
  apex_error err;
  cr_assert_eq(apex_events_redis_new(NOWHERE, &a, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_events_subscribe(&a, APEX_EVENT_ALL, 64, &s), APEX_OK);
  for (int i = 0; i < 3; i++) {
    apex_event ev = trade(i);
    apex_events_publish(&a, &ev);
  }
  expect_trades(&a, s, 0, 3, "alone");
  apex_events_unsubscribe(&a, s);
  apex_events_free(&a);
}

/* Waits up to 1 s for d to say (jti, sub, iat) is revoked. */
static bool revoked_within_a_second(apex_denylist *d, const char *jti, const char *sub, int64_t iat)
{
  for (int i = 0; i < 100; i++) {
    if (apex_denylist_revoked(d, jti, sub, iat, (int64_t)time(NULL)))
      return true;
    sleep_ms(10);
  }
  return false;
}

Test(redis, a_revocation_on_one_node_holds_on_every_node_and_on_nodes_started_later)
{
  const char *u = url();
  flush(u);
  apex_denylist a, b, late;
  apex_error err;
  const int64_t now = (int64_t)time(NULL);
  cr_assert_eq(apex_denylist_redis_new(u, 1000, &a, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_denylist_redis_new(u, 1000, &b, &err), APEX_OK, "%s", err.msg);
  sleep_ms(300);
  cr_expect(!apex_denylist_revoked(&b, "jti-1", "user-1", now - 10, now));
  cr_assert_eq(apex_denylist_revoke_token(&a, "jti-1", now + 900, now), APEX_OK);
  cr_expect(apex_denylist_revoked(&a, "jti-1", "user-1", now - 10, now), "at once where it was made");
  cr_expect(revoked_within_a_second(&b, "jti-1", "user-1", now - 10), "node b accepts a logged-out token");
  cr_expect(!apex_denylist_revoked(&b, "jti-2", "user-1", now - 10, now), "another token of the user still works");
  /* A password reset on b: every token of user-2 issued before it, on a too. */
  cr_assert_eq(apex_denylist_revoke_user(&b, "user-2", now, now + 900, now), APEX_OK);
  cr_expect(revoked_within_a_second(&a, "jti-9", "user-2", now - 1));
  cr_expect(!apex_denylist_revoked(&a, "jti-9", "user-2", now + 1, now), "a token issued after the reset works");
  /* An earlier reset arriving later never shortens the later one. */
  cr_assert_eq(apex_denylist_revoke_user(&a, "user-2", now - 100, now + 800, now), APEX_OK);
  cr_expect(apex_denylist_revoked(&b, "jti-8", "user-2", now - 1, now));
  /* A node started afterwards loads what was revoked before it. */
  cr_assert_eq(apex_denylist_redis_new(u, 1000, &late, &err), APEX_OK);
  cr_expect(revoked_within_a_second(&late, "jti-1", "user-1", now - 10));
  cr_expect(revoked_within_a_second(&late, "jti-7", "user-2", now - 1));
  cr_expect(!apex_denylist_revoked(&late, "jti-7", "user-2", now + 1, now));
  apex_denylist_free(&a);
  apex_denylist_free(&b);
  apex_denylist_free(&late);
}

Test(redis, a_revocation_that_cannot_reach_redis_is_kept_here_and_reported)
{
  apex_denylist d;
  apex_error err;
  const int64_t now = (int64_t)time(NULL);
  cr_assert_eq(apex_denylist_redis_new(NOWHERE, 100, &d, &err), APEX_OK);
  cr_expect_eq(apex_denylist_revoke_token(&d, "jti-1", now + 60, now), APEX_EIO);
  cr_expect(apex_denylist_revoked(&d, "jti-1", "u", now - 1, now));
  apex_denylist_free(&d);
}

Test(redis, login_limits_count_across_nodes)
{
  const char *u = url();
  flush(u);
  apex_limiter a, b;
  apex_error err;
  cr_assert_eq(apex_limiter_redis_new(u, 100, &a, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_limiter_redis_new(u, 100, &b, &err), APEX_OK, "%s", err.msg);
  for (int i = 0; i < 3; i++)
    cr_expect_eq(apex_limiter_hit(&a, "login:x@example.com", 5, 60, 0, true), 0);
  cr_expect_eq(apex_limiter_hit(&b, "login:x@example.com", 5, 60, 0, true), 0);
  cr_expect_eq(apex_limiter_hit(&b, "login:x@example.com", 5, 60, 0, false), 0, "a look without counting: 5 of 5");
  cr_expect_eq(apex_limiter_hit(&b, "login:x@example.com", 5, 60, 0, true), 0, "the fifth");
  int wait = apex_limiter_hit(&a, "login:x@example.com", 5, 60, 0, true);
  cr_expect(wait >= 59 && wait <= 60, "the sixth, on the other node, waits the window out: %d", wait);
  cr_expect_eq(apex_limiter_hit(&a, "login:y@example.com", 5, 60, 0, true), 0, "keys are exact");
  apex_limiter_free(&a);
  apex_limiter_free(&b);
}

Test(redis, without_redis_the_limiter_counts_alone_and_stays_closed)
{
  apex_limiter l;
  apex_error err;
  cr_assert_eq(apex_limiter_redis_new(NOWHERE, 100, &l, &err), APEX_OK);
  for (int i = 0; i < 5; i++)
    cr_expect_eq(apex_limiter_hit(&l, "k", 5, 60, 1000, true), 0);
  cr_expect_gt(apex_limiter_hit(&l, "k", 5, 60, 1000, true), 0, "the sixth is limited");
  apex_limiter_free(&l);
}

/* --- the job queue (queue_redis.c) --- */

#include <pthread.h>

#include "jobs/queue.h"

typedef struct ran {
  pthread_mutex_t mu;
  int count[64];
  int dead[64];
  atomic_int running;
  bool hold; /* jobs wait for their cancel flag */
} ran;

static int idx(const char *id) { return atoi(id + 4); } /* "job-17" */

static void job(void *ctx, const char *id, const atomic_int *cancel, const atomic_int *timed_out)
{
  ran *r = ctx;
  (void)timed_out;
  atomic_fetch_add(&r->running, 1);
  while (r->hold && !atomic_load(cancel))
    sleep_ms(10);
  pthread_mutex_lock(&r->mu);
  r->count[idx(id)]++;
  pthread_mutex_unlock(&r->mu);
  atomic_fetch_sub(&r->running, 1);
}

static void dead(void *ctx, const char *id, const char *why)
{
  ran *r = ctx;
  cr_expect(strstr(why, "attempts"), "%s", why);
  pthread_mutex_lock(&r->mu);
  r->dead[idx(id)]++;
  pthread_mutex_unlock(&r->mu);
}

static apex_queue queue(const char *u, const char *consumer, int workers, ran *r)
{
  apex_queue q;
  apex_error err;
  apex_queue_redis_options o = {u, "test", consumer, workers, 60, 3, job, dead, r};
  cr_assert_eq(apex_queue_redis_new(&o, &q, &err), APEX_OK, "%s", err.msg);
  return q;
}

static int total(ran *r, int n)
{
  int t = 0;
  pthread_mutex_lock(&r->mu);
  for (int i = 0; i < n; i++)
    t += r->count[i];
  pthread_mutex_unlock(&r->mu);
  return t;
}

Test(redis, jobs_submitted_anywhere_run_once_on_some_worker)
{
  const char *u = url();
  flush(u);
  ran r = {.mu = PTHREAD_MUTEX_INITIALIZER};
  apex_queue api = queue(u, "api:1", 0, &r), w1 = queue(u, "w:1", 2, &r), w2 = queue(u, "w:2", 2, &r);
  char id[16];
  for (int i = 0; i < 50; i++) {
    snprintf(id, sizeof id, "job-%d", i);
    cr_assert_eq(apex_queue_submit(&api, id, "owner"), APEX_OK);
  }
  for (int i = 0; i < 300 && total(&r, 50) < 50; i++)
    sleep_ms(20);
  sleep_ms(200);
  for (int i = 0; i < 50; i++)
    cr_expect_eq(r.count[i], 1, "job-%d ran %d times", i, r.count[i]);
  size_t queued = 9, running = 9;
  apex_queue_counts(&api, &queued, &running);
  cr_expect(queued == 0 && running == 0, "%zu queued, %zu running", queued, running);
  apex_queue_free(&w1);
  apex_queue_free(&w2);
  apex_queue_free(&api);
}

Test(redis, a_job_out_of_retries_goes_to_the_dead_letters)
{
  const char *u = url();
  flush(u);
  apex_redis *c;
  apex_redis_reply x;
  apex_error err;
  cr_assert_eq(apex_redis_new(u, 1000, &c, &err), APEX_OK);
  /* four starts already (its workers died each time): the fifth is not made */
  cr_assert_eq(APEX_REDIS_RUN(c, &x, &err, "HSET", "apex:q:test:attempts", "job-7", "4"), APEX_OK);
  apex_redis_reply_free(&x);
  ran r = {.mu = PTHREAD_MUTEX_INITIALIZER};
  apex_queue w = queue(u, "w:1", 1, &r);
  cr_assert_eq(apex_queue_submit(&w, "job-7", ""), APEX_OK);
  cr_assert_eq(apex_queue_submit(&w, "job-8", ""), APEX_OK);
  for (int i = 0; i < 200 && (!r.dead[7] || !r.count[8]); i++)
    sleep_ms(20);
  cr_expect_eq(r.dead[7], 1);
  cr_expect_eq(r.count[7], 0, "a dead job does not run");
  cr_expect_eq(r.count[8], 1);
  long retries = -1, dead_n = -1;
  w.ops->metrics(w.impl, &retries, &dead_n);
  cr_expect_eq(dead_n, 1);
  cr_assert_eq(APEX_REDIS_RUN(c, &x, &err, "XRANGE", "apex:dead:test", "-", "+"), APEX_OK);
  cr_expect(x.type == APEX_REDIS_ARRAY && x.n == 1);
  apex_redis_reply_free(&x);
  apex_queue_free(&w);
  apex_redis_free(c);
}

Test(redis, a_cancel_on_one_node_stops_the_job_running_on_another)
{
  const char *u = url();
  flush(u);
  ran r = {.mu = PTHREAD_MUTEX_INITIALIZER, .hold = true};
  apex_queue api = queue(u, "api:1", 0, &r), w = queue(u, "w:1", 1, &r);
  sleep_ms(200); /* the worker's cancel channel is subscribed */
  cr_assert_eq(apex_queue_submit(&api, "job-3", ""), APEX_OK);
  for (int i = 0; i < 200 && !atomic_load(&r.running); i++)
    sleep_ms(10);
  cr_assert_eq(atomic_load(&r.running), 1, "the job started");
  (void)apex_queue_cancel(&api, "job-3"); /* not here: announced */
  for (int i = 0; i < 200 && !r.count[3]; i++)
    sleep_ms(10);
  cr_expect_eq(r.count[3], 1, "the job saw its cancel flag and returned");
  apex_queue_free(&w);
  apex_queue_free(&api);
}

Test(redis, without_redis_a_submit_says_so)
{
  ran r = {.mu = PTHREAD_MUTEX_INITIALIZER};
  apex_queue q;
  apex_error err;
  apex_queue_redis_options o = {NOWHERE, "test", "api:1", 0, 60, 3, job, NULL, &r};
  cr_assert_eq(apex_queue_redis_new(&o, &q, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(apex_queue_submit(&q, "job-1", ""), APEX_EIO);
  apex_queue_free(&q);
}
