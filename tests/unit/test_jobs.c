/* The in-process job queue: every job runs once, at most `workers` at a time; cancel drops a
 * queued job and raises a running job's flag; the watchdog raises cancel and timed_out on a job
 * past its time (the API reports that as 3002); stop waits for the workers. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jobs/queue.h"

typedef struct ctx {
  atomic_int ran, running, max_running, saw_timeout, saw_cancel;
} ctx;

static void sleep_ms(int ms)
{
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* "wait" jobs run until cancelled; others take 20 ms. */
static void job(void *p, const char *id, const atomic_int *cancel, const atomic_int *timed_out)
{
  ctx *c = p;
  int now = atomic_fetch_add(&c->running, 1) + 1;
  int seen = atomic_load(&c->max_running);
  while (now > seen && !atomic_compare_exchange_weak(&c->max_running, &seen, now))
    ;
  if (!strncmp(id, "wait", 4)) {
    for (int i = 0; i < 500 && !atomic_load(cancel); i++)
      sleep_ms(10);
    if (atomic_load(timed_out))
      atomic_fetch_add(&c->saw_timeout, 1);
    else if (atomic_load(cancel))
      atomic_fetch_add(&c->saw_cancel, 1);
  } else {
    sleep_ms(20);
  }
  atomic_fetch_sub(&c->running, 1);
  atomic_fetch_add(&c->ran, 1);
}

Test(jobs, every_job_runs_once_within_the_worker_limit)
{
  ctx c = {0};
  apex_queue q;
  cr_assert_eq(apex_queue_inproc_new(3, 60, job, &c, &q), APEX_OK);
  for (int i = 0; i < 20; i++) {
    char id[16];
    snprintf(id, sizeof id, "job%d", i);
    cr_assert_eq(apex_queue_submit(&q, id, ""), APEX_OK);
  }
  for (int i = 0; i < 300 && atomic_load(&c.ran) < 20; i++)
    sleep_ms(10);
  cr_expect_eq(atomic_load(&c.ran), 20);
  cr_expect_leq(atomic_load(&c.max_running), 3);
  cr_expect_geq(atomic_load(&c.max_running), 2, "workers ran in parallel");
  apex_queue_free(&q);
}

Test(jobs, cancel_drops_queued_and_flags_running)
{
  ctx c = {0};
  apex_queue q;
  cr_assert_eq(apex_queue_inproc_new(1, 60, job, &c, &q), APEX_OK);
  apex_queue_submit(&q, "wait-1", "");
  apex_queue_submit(&q, "queued", "");
  sleep_ms(50);
  size_t queued, running;
  apex_queue_counts(&q, &queued, &running);
  cr_expect_eq(queued, 1);
  cr_expect_eq(running, 1);
  cr_expect(apex_queue_cancel(&q, "queued"), "a queued job is known");
  cr_expect(apex_queue_cancel(&q, "wait-1"), "a running job is known");
  cr_expect_not(apex_queue_cancel(&q, "never"), "an unknown job is not");
  for (int i = 0; i < 200 && atomic_load(&c.ran) < 1; i++)
    sleep_ms(10);
  sleep_ms(50);
  cr_expect_eq(atomic_load(&c.ran), 1, "the dropped job never ran");
  cr_expect_eq(atomic_load(&c.saw_cancel), 1);
  cr_expect_eq(atomic_load(&c.saw_timeout), 0);
  apex_queue_free(&q);
}

Test(jobs, watchdog_times_out_a_long_job, .timeout = 10)
{
  ctx c = {0};
  apex_queue q;
  cr_assert_eq(apex_queue_inproc_new(1, 1, job, &c, &q), APEX_OK);
  apex_queue_submit(&q, "wait-long", "");
  for (int i = 0; i < 400 && atomic_load(&c.ran) < 1; i++)
    sleep_ms(10);
  cr_expect_eq(atomic_load(&c.saw_timeout), 1, "timed_out raised after the 1 s limit");
  apex_queue_free(&q);
}

Test(jobs, stop_cancels_running_jobs_and_waits_for_them)
{
  ctx c = {0};
  apex_queue q;
  cr_assert_eq(apex_queue_inproc_new(2, 60, job, &c, &q), APEX_OK);
  apex_queue_submit(&q, "wait-a", "");
  apex_queue_submit(&q, "wait-b", "");
  sleep_ms(50);
  apex_queue_stop(&q, true); /* returns only once both workers have finished */
  cr_expect_eq(atomic_load(&c.ran), 2);
  cr_expect_eq(atomic_load(&c.saw_cancel), 2);
  cr_expect_eq(apex_queue_submit(&q, "late", ""), APEX_ECANCELED, "a stopped queue takes no job");
  apex_queue_free(&q);
}

Test(jobs, an_id_queued_or_running_is_not_queued_twice)
{
  ctx c = {0};
  apex_queue q;
  cr_assert_eq(apex_queue_inproc_new(1, 60, job, &c, &q), APEX_OK);
  apex_queue_submit(&q, "wait-1", "");
  sleep_ms(50);
  cr_expect_eq(apex_queue_submit(&q, "wait-1", ""), APEX_OK, "running: accepted, not queued");
  cr_expect_eq(apex_queue_submit(&q, "other", ""), APEX_OK);
  cr_expect_eq(apex_queue_submit(&q, "other", ""), APEX_OK, "queued: accepted, not queued");
  size_t queued, running;
  apex_queue_counts(&q, &queued, &running);
  cr_expect_eq(queued, 1);
  cr_expect_eq(running, 1);
  apex_queue_cancel(&q, "wait-1");
  for (int i = 0; i < 200 && atomic_load(&c.ran) < 2; i++)
    sleep_ms(10);
  sleep_ms(50);
  cr_expect_eq(atomic_load(&c.ran), 2, "each id ran once");
  apex_queue_free(&q);
}

/* Users take turns: one user's 6 queued jobs delay another's single job by one job, not six
 * (start-time fair queuing); within one user, first in, first out. */
static char order[16][16];
static atomic_int n_order;

static void record(void *p, const char *id, const atomic_int *cancel, const atomic_int *timed_out)
{
  (void)p, (void)timed_out;
  if (!strcmp(id, "gate")) { /* holds the only worker until every job is queued */
    for (int i = 0; i < 500 && !atomic_load(cancel) && atomic_load(&n_order) < 0; i++)
      sleep_ms(10);
    return;
  }
  int k = atomic_fetch_add(&n_order, 1);
  if (k >= 0 && k < 16)
    snprintf(order[k], sizeof order[k], "%s", id);
}

Test(jobs, groups_take_turns)
{
  apex_queue q;
  atomic_store(&n_order, -1); /* the gate holds while negative */
  cr_assert_eq(apex_queue_inproc_new(1, 60, record, NULL, &q), APEX_OK);
  cr_assert_eq(apex_queue_submit(&q, "gate", "admin"), APEX_OK);
  sleep_ms(50);
  const char *flood[] = {"a1", "a2", "a3", "a4", "a5", "a6"};
  for (int i = 0; i < 6; i++)
    cr_assert_eq(apex_queue_submit(&q, flood[i], "alice"), APEX_OK);
  cr_assert_eq(apex_queue_submit(&q, "b1", "bob"), APEX_OK);
  cr_assert_eq(apex_queue_submit(&q, "c1", "carol"), APEX_OK);
  atomic_store(&n_order, 0); /* open the gate */
  for (int i = 0; i < 300 && atomic_load(&n_order) < 8; i++)
    sleep_ms(10);
  cr_assert_eq(atomic_load(&n_order), 8);
  const char *want[] = {"a1", "b1", "c1", "a2", "a3", "a4", "a5", "a6"};
  for (int i = 0; i < 8; i++)
    cr_expect_str_eq(order[i], want[i], "position %d", i);
  apex_queue_free(&q);
}
