/* Events of a backtest job (app/backtests.c through jobs/events.h's in-process hub): a real job
 * over candles in a SQLite store publishes progress from 0 up to 100, then exactly one
 * "completed" with the result's summary, and nothing after it; a backtest with no candles in its
 * range publishes exactly one "failed" with the spec's code 3001. Every event names the owner. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/ids.h"
#include "jobs/events.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1577836800000) /* 2020-01-01 */
#define N_CANDLES 400

static char db_path[256];
static apex_app app;
static apex_events hub;
static apex_subscription *sub;
static apex_user user;
static apex_strategy_row strat;
static int64_t clock_ms = 1700000000000;

static int64_t now(void) { return clock_ms; }

/* Entry when 10.5 < close < 11.2, exit above 12: the closes below swing through both. */
static const char DOC[] = "{\"name\": \"t\", \"asset\": \"TEST\", \"timeframe\": \"1d\","
                          " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
                          "   {\"indicator\": \"close\", \"operator\": \"between\", \"value\": [10.5, 11.2]}]}],"
                          " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
                          "   {\"indicator\": \"close\", \"operator\": \"greater_than\", \"value\": 12}]}]}";

static void setup(void)
{
  apex_error err = {0};
  memset(&app, 0, sizeof app);
  snprintf(db_path, sizeof db_path, "%s/backtest-events-test-%d.db", APEX_BINARY_DIR, (int)getpid());
  unlink(db_path);
  cr_assert_eq(apex_store_open(db_path, 0, &app.store, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migrate(app.store, &err), APEX_OK, "%s", err.msg);
  app.now_ms = now;
  app.settings.lease_s = 60;
  snprintf(app.instance, sizeof app.instance, "test:%d", (int)getpid());
  cr_assert_eq(apex_events_inproc_new(&hub), APEX_OK);
  app.events = &hub;
  cr_assert_eq(apex_events_subscribe(&hub, APEX_EVENT_ALL, 1024, &sub), APEX_OK);

  user = (apex_user){.email = "owner@example.com", .password_hash = "x", .timezone = "UTC",
                     .preferred_currency = "EUR", .is_active = true, .created_at = 1, .updated_at = 1};
  cr_assert_eq(apex_app_new_id(user.id), APEX_OK);
  cr_assert_eq(apex_store_user_insert(app.store, &user, &err), APEX_OK, "%s", err.msg);
  strat = (apex_strategy_row){.name = "t", .symbol = "TEST", .timeframe = "1d", .definition = (char *)DOC,
                              .stop_loss_pct = -1, .take_profit_pct = -1, .max_position_size_pct = -1,
                              .max_drawdown_pct = -1, .version = 1, .status = "draft", .created_at = 1,
                              .updated_at = 1};
  cr_assert_eq(apex_app_new_id(strat.id), APEX_OK);
  snprintf(strat.user_id, sizeof strat.user_id, "%s", user.id);
  cr_assert_eq(apex_store_strategy_insert(app.store, &strat, &err), APEX_OK, "%s", err.msg);

  apex_series *s = apex_series_new(N_CANDLES);
  cr_assert(s);
  for (int i = 0; i < N_CANDLES; i++) {
    double c = 11.5 + 1.2 * sin(i / 6.0); /* 10.3 .. 12.7 */
    apex_bar b = {T0 + i * DAY, c, c + 0.1, c - 0.1, c, 1000};
    cr_assert_eq(apex_series_append(s, &b), APEX_OK);
  }
  cr_assert_eq(apex_store_ohlcv_put(app.store, "TEST", "1d", s, "test", &err), APEX_OK, "%s", err.msg);
  apex_series_free(s);
}

static void teardown(void)
{
  apex_events_unsubscribe(&hub, sub);
  apex_events_free(&hub);
  apex_store_close(app.store);
  unlink(db_path);
}

/* A pending backtest of the strategy over [start, end) (0: open); its id in id. */
static void insert_backtest(apex_id id, int64_t start, int64_t end)
{
  apex_error err = {0};
  apex_backtest_row r = {.start_date = start, .end_date = end, .initial_capital = 10000 * APEX_DEC_SCALE,
                         .commission_pct = APEX_DEC_SCALE / 10, .status = "pending", .created_at = clock_ms};
  cr_assert_eq(apex_app_new_id(r.id), APEX_OK);
  snprintf(r.user_id, sizeof r.user_id, "%s", user.id);
  snprintf(r.strategy_id, sizeof r.strategy_id, "%s", strat.id);
  cr_assert_eq(apex_store_backtest_insert(app.store, &r, &err), APEX_OK, "%s", err.msg);
  memcpy(id, r.id, sizeof r.id);
}

static void run_job(const char *id)
{
  atomic_int cancel = 0, timed_out = 0;
  apex_app_backtest_job(&app, id, &cancel, &timed_out);
}

TestSuite(backtest_events, .init = setup, .fini = teardown);

Test(backtest_events, progress_rises_to_one_completed_for_the_owner)
{
  apex_id id;
  apex_event ev;
  uint64_t dropped = 0;
  insert_backtest(id, 0, 0);
  run_job(id);

  apex_backtest_row row = {0};
  apex_error err = {0};
  cr_assert_eq(apex_store_backtest_get(app.store, NULL, id, &row, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(row.status, "completed", "%s", row.error_message ? row.error_message : "");

  int last = -1, n_progress = 0, n_completed = 0;
  bool first = true;
  while (apex_events_next(&hub, sub, 0, &ev, &dropped)) {
    cr_assert_eq(dropped, 0);
    cr_assert_eq(n_completed, 0, "nothing after completed (got kind %d)", ev.kind);
    cr_expect_str_eq(ev.user_id, user.id, "every event names the owner");
    cr_expect_str_eq(ev.u.backtest.backtest_id, id);
    cr_expect_str_eq(apex_event_channel(ev.kind), "backtest_progress");
    if (first)
      cr_expect_eq(ev.u.backtest.progress_pct, 0, "the first event says 0 %%");
    first = false;
    cr_expect_geq(ev.u.backtest.progress_pct, last, "progress never goes back (%d after %d)",
                  ev.u.backtest.progress_pct, last);
    last = ev.u.backtest.progress_pct;
    if (ev.kind == APEX_EVENT_BACKTEST_PROGRESS) {
      n_progress++;
      cr_expect_str_eq(ev.u.backtest.status, "running");
      cr_expect_lt(ev.u.backtest.progress_pct, 100);
    } else {
      cr_assert_eq(ev.kind, APEX_EVENT_BACKTEST_COMPLETED, "no failure");
      n_completed++;
      cr_expect_str_eq(ev.u.backtest.status, "completed");
      cr_expect_eq(ev.u.backtest.progress_pct, 100);
      /* The summary is the stored result's: independent of the event, read back from the store. */
      apex_json *r = NULL;
      cr_assert_eq(apex_json_parse_strict(row.result, strlen(row.result), 1u << 24, &r, &err), APEX_OK);
      cr_expect_eq((double)ev.u.backtest.total_trades, apex_json_number_value(apex_json_object_get(r, "total_trades")));
      cr_expect_gt(ev.u.backtest.total_trades, 0, "the closes cross both levels: trades happen");
      cr_expect_float_eq(ev.u.backtest.total_return_pct,
                         apex_json_number_value(apex_json_object_get(r, "total_return_pct")), 1e-9);
      cr_expect_float_eq(ev.u.backtest.win_rate_pct,
                         apex_json_number_value(apex_json_object_get(r, "win_rate_pct")), 1e-9);
      apex_json_free(r);
    }
  }
  cr_expect_gt(n_progress, 10, "a percent-by-percent run, got %d progress events", n_progress);
  cr_expect_eq(n_completed, 1);
  apex_backtest_row_clear(&row);
}

Test(backtest_events, no_candles_in_range_is_one_failed_3001)
{
  apex_id id;
  apex_event ev;
  int n_failed = 0;
  insert_backtest(id, T0 + 1000 * DAY, T0 + 1100 * DAY); /* after the last candle */
  run_job(id);
  while (apex_events_next(&hub, sub, 0, &ev, NULL)) {
    cr_assert_eq(n_failed, 0, "nothing after failed");
    cr_expect_str_eq(ev.user_id, user.id);
    cr_expect_str_eq(ev.u.backtest.backtest_id, id);
    cr_expect_neq(ev.kind, APEX_EVENT_BACKTEST_COMPLETED);
    if (ev.kind == APEX_EVENT_BACKTEST_FAILED) {
      n_failed++;
      cr_expect_eq(ev.u.backtest.error_code, 3001);
      cr_expect_str_eq(ev.u.backtest.status, "failed");
      cr_expect_neq(ev.u.backtest.error_message[0], '\0', "a message for the user");
    }
  }
  cr_expect_eq(n_failed, 1);
}

Test(backtest_events, a_job_without_an_events_port_still_completes)
{
  apex_id id;
  apex_backtest_row row = {0};
  apex_error err = {0};
  app.events = NULL;
  insert_backtest(id, 0, 0);
  run_job(id);
  cr_assert_eq(apex_store_backtest_get(app.store, NULL, id, &row, &err), APEX_OK, "%s", err.msg);
  cr_expect_str_eq(row.status, "completed");
  apex_backtest_row_clear(&row);
}

/* A user's backtests queued or running at once are capped (BACKTEST_MAX_PER_USER): beyond it the
 * submission answers 429 with a Retry-After, and nothing is stored for it. */
static atomic_int gate_open;

static void held_job(void *ctx, const char *id, const atomic_int *cancel, const atomic_int *timed_out)
{
  (void)ctx, (void)id, (void)timed_out;
  while (!atomic_load(&gate_open) && !atomic_load(cancel))
    usleep(1000);
}

Test(backtest_events, a_users_queued_and_running_backtests_are_capped)
{
  apex_queue q;
  char body[128];
  apex_backtest_row row;
  cr_assert_eq(apex_queue_inproc_new(1, 60, held_job, NULL, &q), APEX_OK);
  app.queue = &q;
  app.settings.per_user = 3;
  app.settings.memory_mb = 2048;
  snprintf(body, sizeof body, "{\"strategy_id\": \"%s\"}", strat.id);
  for (int i = 0; i < 3; i++) {
    apex_app_error e = {0};
    cr_assert_eq(apex_app_backtest_submit(&app, user.id, body, strlen(body), &row, &e), APEX_OK, "%d: %s", i,
                 e.detail);
  }
  for (int i = 0; i < 2; i++) {
    apex_app_error e = {0};
    cr_assert_neq(apex_app_backtest_submit(&app, user.id, body, strlen(body), &row, &e), APEX_OK);
    cr_expect_eq(e.status, 429);
    cr_expect_gt(e.retry_after, 0);
  }
  apex_page page = {.page = 1, .limit = 50};
  apex_backtest_row rows[50];
  size_t n = 0;
  int64_t total = 0;
  apex_error err = {0};
  cr_assert_eq(apex_store_backtest_list(app.store, user.id, &page, rows, &n, &total, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(total, 3, "refused submissions store nothing");
  for (size_t i = 0; i < n; i++)
    apex_backtest_row_clear(&rows[i]);
  atomic_store(&gate_open, 1);
  apex_queue_free(&q);
  app.queue = NULL;
}

/* Backtests re-queued at start (left pending, or running under a lease that expired with the
 * process that held it) take their owner's turns: user A's five and user B's one, stored after
 * them, do not make B wait behind all of A's. Was one shared group: B ran last. */
static atomic_int requeue_gate, n_ran;
static char ran[8][40];

static void recorded_job(void *ctx, const char *id, const atomic_int *cancel, const atomic_int *timed_out)
{
  (void)ctx, (void)timed_out;
  while (!atomic_load(&requeue_gate) && !atomic_load(cancel)) /* every job is queued before any runs */
    usleep(1000);
  int k = atomic_fetch_add(&n_ran, 1);
  if (k < 8)
    snprintf(ran[k], sizeof ran[k], "%s", id);
}

Test(backtest_events, requeued_backtests_keep_their_owners_turns)
{
  apex_error err = {0};
  apex_id a[5], b;
  for (int i = 0; i < 5; i++) {
    insert_backtest(a[i], 0, 0);
    clock_ms += 1000;
  }
  /* A's first was running in a process that died: its lease expired a second ago. */
  cr_assert_eq(apex_store_backtest_claim(app.store, a[0], "dead:1/0", clock_ms - 5000, clock_ms - 1000, &err),
               APEX_OK, "%s", err.msg);

  apex_user ub = {.email = "other@example.com", .password_hash = "x", .timezone = "UTC",
                  .preferred_currency = "EUR", .is_active = true, .created_at = 1, .updated_at = 1};
  cr_assert_eq(apex_app_new_id(ub.id), APEX_OK);
  cr_assert_eq(apex_store_user_insert(app.store, &ub, &err), APEX_OK, "%s", err.msg);
  apex_strategy_row sb = strat;
  cr_assert_eq(apex_app_new_id(sb.id), APEX_OK);
  snprintf(sb.user_id, sizeof sb.user_id, "%s", ub.id);
  cr_assert_eq(apex_store_strategy_insert(app.store, &sb, &err), APEX_OK, "%s", err.msg);
  apex_backtest_row r = {.initial_capital = 10000 * APEX_DEC_SCALE, .status = "pending", .created_at = clock_ms};
  cr_assert_eq(apex_app_new_id(r.id), APEX_OK);
  snprintf(r.user_id, sizeof r.user_id, "%s", ub.id);
  snprintf(r.strategy_id, sizeof r.strategy_id, "%s", sb.id);
  cr_assert_eq(apex_store_backtest_insert(app.store, &r, &err), APEX_OK, "%s", err.msg);
  memcpy(b, r.id, sizeof r.id);

  apex_queue q;
  cr_assert_eq(apex_queue_inproc_new(1, 60, recorded_job, NULL, &q), APEX_OK);
  app.queue = &q;
  cr_assert_eq(apex_app_start(&app, &err), APEX_OK, "%s", err.msg); /* re-queues all six */
  atomic_store(&requeue_gate, 1);
  for (int i = 0; i < 500 && atomic_load(&n_ran) < 6; i++)
    usleep(10000);
  apex_app_stop(&app);
  apex_queue_free(&q);
  app.queue = NULL;
  cr_assert_eq(atomic_load(&n_ran), 6);
  int pos_b = -1;
  for (int i = 0; i < 6; i++)
    if (!strcmp(ran[i], b))
      pos_b = i;
  cr_assert_str_eq(ran[0], a[0], "A's oldest first");
  /* The one worker may take A's first before the rest are queued: then A's second ties with B's. */
  cr_expect(pos_b == 1 || pos_b == 2, "B's backtest ran at position %d of 6, not right after A's first turns", pos_b);
}

/* The queue gives up on a job (apex_app_backtest_dead): a backtest a live worker still holds keeps
 * running (the queue saw copies of it start, not a dead worker), one nobody holds fails, once. */
Test(backtest_events, a_dead_letter_fails_only_a_backtest_nobody_holds)
{
  apex_id held, orphan;
  apex_error err = {0};
  apex_event ev;
  apex_backtest_row row = {0};
  insert_backtest(held, 0, 0);
  insert_backtest(orphan, 0, 0);
  cr_assert_eq(apex_store_backtest_claim(app.store, held, "other:1/0", clock_ms, clock_ms + 60000, &err), APEX_OK);
  cr_assert_eq(apex_store_backtest_claim(app.store, orphan, "other:2/0", clock_ms - 120000, clock_ms - 60000, &err),
               APEX_OK, "a worker whose lease ran out a minute ago");
  apex_app_backtest_dead(&app, held, "given up after 4 attempts");
  apex_app_backtest_dead(&app, orphan, "given up after 4 attempts");
  cr_assert_eq(apex_store_backtest_get(app.store, NULL, held, &row, &err), APEX_OK);
  cr_expect_str_eq(row.status, "running");
  apex_backtest_row_clear(&row);
  cr_assert_eq(apex_store_backtest_get(app.store, NULL, orphan, &row, &err), APEX_OK);
  cr_expect_str_eq(row.status, "failed");
  cr_expect(row.error_message && strstr(row.error_message, "given up"), "%s", row.error_message);
  apex_backtest_row_clear(&row);
  int failed = 0;
  while (apex_events_next(&hub, sub, 0, &ev, NULL)) {
    cr_expect_str_neq(ev.u.backtest.backtest_id, held, "nothing said about the held one");
    failed += ev.kind == APEX_EVENT_BACKTEST_FAILED;
  }
  cr_expect_eq(failed, 1);
}
