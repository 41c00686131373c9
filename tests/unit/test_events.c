/* The in-process events hub (jobs/events_inproc.c): every subscriber of a kind gets every event
 * in publication order; an unsubscribed one gets nothing more; a full subscriber drops its oldest
 * events (counted) and never blocks the publisher; concurrent publishers lose nothing. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jobs/events.h"

static apex_event progress(int pct)
{
  apex_event ev = {.kind = APEX_EVENT_BACKTEST_PROGRESS, .time_ms = pct};
  snprintf(ev.u.backtest.backtest_id, sizeof ev.u.backtest.backtest_id, "bt-1");
  ev.u.backtest.progress_pct = pct;
  snprintf(ev.u.backtest.status, sizeof ev.u.backtest.status, "running");
  return ev;
}

Test(events, fan_out_to_every_subscriber_in_order)
{
  apex_events h;
  apex_subscription *s[3];
  apex_event ev;
  uint64_t dropped = 99;
  cr_assert_eq(apex_events_inproc_new(&h), APEX_OK);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(apex_events_subscribe(&h, APEX_EVENT_ALL, 16, &s[i]), APEX_OK);
  for (int p = 1; p <= 10; p++) {
    apex_event e = progress(p);
    apex_events_publish(&h, &e);
  }
  for (int i = 0; i < 3; i++) {
    for (int p = 1; p <= 10; p++) {
      cr_assert(apex_events_next(&h, s[i], 0, &ev, &dropped), "subscriber %d event %d", i, p);
      cr_expect_eq(ev.u.backtest.progress_pct, p, "subscriber %d sees publication order", i);
      cr_expect_str_eq(ev.u.backtest.backtest_id, "bt-1");
      cr_expect_eq(dropped, 0);
    }
    cr_expect_not(apex_events_next(&h, s[i], 0, &ev, NULL), "nothing more");
    apex_events_unsubscribe(&h, s[i]);
  }
  cr_expect_str_eq(apex_event_channel(APEX_EVENT_BACKTEST_FAILED), "backtest_progress");
  apex_events_free(&h);
}

Test(events, kinds_filter_and_unsubscribe_stops_delivery)
{
  apex_events h;
  apex_subscription *all, *done;
  apex_event ev;
  cr_assert_eq(apex_events_inproc_new(&h), APEX_OK);
  cr_assert_eq(apex_events_subscribe(&h, APEX_EVENT_ALL, 8, &all), APEX_OK);
  cr_assert_eq(apex_events_subscribe(&h, APEX_EVENT_MASK(APEX_EVENT_BACKTEST_COMPLETED), 8, &done), APEX_OK);
  apex_event e = progress(5);
  apex_events_publish(&h, &e);
  cr_expect_not(apex_events_next(&h, done, 0, &ev, NULL), "progress is not in done's mask");
  cr_expect(apex_events_next(&h, all, 0, &ev, NULL));
  apex_events_unsubscribe(&h, all);
  e.kind = APEX_EVENT_BACKTEST_COMPLETED;
  apex_events_publish(&h, &e); /* all is gone: must not be touched (ASan would see it) */
  cr_expect(apex_events_next(&h, done, 0, &ev, NULL));
  cr_expect_eq(ev.kind, APEX_EVENT_BACKTEST_COMPLETED);
  apex_events_unsubscribe(&h, done);
  cr_expect_eq(apex_events_subscribe(&h, APEX_EVENT_ALL, 0, &done), APEX_EINVAL, "capacity 0");
  apex_events_free(&h);
}

Test(events, a_slow_subscriber_drops_its_oldest_and_never_blocks_the_publisher, .timeout = 10)
{
  apex_events h;
  apex_subscription *slow, *fast;
  apex_event ev;
  uint64_t dropped = 0;
  cr_assert_eq(apex_events_inproc_new(&h), APEX_OK);
  cr_assert_eq(apex_events_subscribe(&h, APEX_EVENT_ALL, 4, &slow), APEX_OK);
  cr_assert_eq(apex_events_subscribe(&h, APEX_EVENT_ALL, 1000, &fast), APEX_OK);
  for (int p = 1; p <= 1000; p++) { /* nobody reads: returns at once regardless */
    apex_event e = progress(p);
    apex_events_publish(&h, &e);
  }
  /* The slow one keeps the 4 newest (997..1000) and was told of the 996 it lost. */
  for (int p = 997; p <= 1000; p++) {
    cr_assert(apex_events_next(&h, slow, 0, &ev, &dropped));
    cr_expect_eq(ev.u.backtest.progress_pct, p);
    cr_expect_eq(dropped, p == 997 ? 996u : 0u, "the count is reported once");
  }
  cr_expect_not(apex_events_next(&h, slow, 0, &ev, NULL));
  for (int p = 1; p <= 1000; p++) {
    cr_assert(apex_events_next(&h, fast, 0, &ev, &dropped));
    cr_expect_eq(ev.u.backtest.progress_pct, p);
    cr_expect_eq(dropped, 0u);
  }
  apex_events_unsubscribe(&h, slow);
  apex_events_unsubscribe(&h, fast);
  apex_events_free(&h);
}

#define PUBLISHERS 4
#define PER_PUBLISHER 5000

typedef struct { apex_events *h; int id; } pub_arg;

static void *publisher(void *p)
{
  pub_arg *a = p;
  for (int i = 0; i < PER_PUBLISHER; i++) {
    apex_event e = progress(i);
    e.time_ms = a->id; /* which publisher */
    apex_events_publish(a->h, &e);
  }
  return NULL;
}

Test(events, concurrent_publishers_keep_each_ones_order_and_lose_nothing, .timeout = 30)
{
  apex_events h;
  apex_subscription *s;
  apex_event ev;
  pthread_t t[PUBLISHERS];
  pub_arg a[PUBLISHERS];
  int last[PUBLISHERS], seen = 0;
  uint64_t dropped = 0, total_dropped = 0;
  cr_assert_eq(apex_events_inproc_new(&h), APEX_OK);
  cr_assert_eq(apex_events_subscribe(&h, APEX_EVENT_ALL, PUBLISHERS * PER_PUBLISHER, &s), APEX_OK);
  for (int i = 0; i < PUBLISHERS; i++) {
    last[i] = -1;
    a[i] = (pub_arg){&h, i};
    pthread_create(&t[i], NULL, publisher, &a[i]);
  }
  /* Read while they publish: a waiting reader must be woken, and per-publisher order holds. */
  while (seen < PUBLISHERS * PER_PUBLISHER && apex_events_next(&h, s, 2000, &ev, &dropped)) {
    int who = (int)ev.time_ms;
    cr_assert(who >= 0 && who < PUBLISHERS);
    cr_assert_eq(ev.u.backtest.progress_pct, last[who] + 1, "publisher %d in order", who);
    last[who] = ev.u.backtest.progress_pct;
    total_dropped += dropped;
    seen++;
  }
  for (int i = 0; i < PUBLISHERS; i++)
    pthread_join(t[i], NULL);
  cr_expect_eq(seen, PUBLISHERS * PER_PUBLISHER);
  cr_expect_eq(total_dropped, 0u);
  apex_events_unsubscribe(&h, s);
  apex_events_free(&h);
}
