/* market_sync.c - market-data jobs (spec 3.3.4): a pair's history downloaded from the venue into
 * the store by the sync queue's workers (2 at once, 5 minutes each), through the same use case as
 * `apextrade data download` (market_data.c). Asked through the API, and by an activation while a
 * live feed runs (the run's warm-up history). The jobs live in this process: a table of the last
 * SYNC_SLOTS, which a restart forgets (what they stored stays stored). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/ids.h"
#include "core/timeframe.h"
#include "market/market.h"
#include "sys/log.h"

#define SYNC_SLOTS 256
#define SYNC_PER_USER 4   /* queued or running at once */
#define SYNC_MAX_DAYS 3650
#define MAX_BODY 4096
#define FX_EVERY_MS (6 * INT64_C(3600000)) /* the ECB publishes once a working day, about 16:00 CET */
#define FX_RETRY_MS (10 * INT64_C(60000))
#define FX_HISTORY "fx:ecb:90d"
#define FX_DAILY "fx:ecb:daily"

struct apex_app_syncs {
  pthread_mutex_t mu;
  apex_app_sync slot[SYNC_SLOTS];
  size_t next; /* the slot the next job takes (the oldest one finished) */
};

static bool busy(const apex_app_sync *s) { return !strcmp(s->status, "queued") || !strcmp(s->status, "running"); }

apex_err apex_app_syncs_new(apex_app *app, apex_error *err)
{
  struct apex_app_syncs *t = calloc(1, sizeof *t);
  if (!t)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  pthread_mutex_init(&t->mu, NULL);
  app->syncs = t;
  return APEX_OK;
}

void apex_app_syncs_free(apex_app *app)
{
  if (!app->syncs)
    return;
  pthread_mutex_destroy(&app->syncs->mu);
  free(app->syncs);
  app->syncs = NULL;
}



apex_err apex_app_market_sync_start(apex_app *app, const char *user_id, const char *symbol, const char *timeframe,
                                    int64_t since_ms, apex_app_sync *out, apex_app_error *e)
{
  struct apex_app_syncs *t = app->syncs;
  apex_timeframe tf;
  if (!t || !app->sync_queue)
    return apex_app_raise(e, APEX_E_UNAVAILABLE, "this server runs no market-data jobs");
  if (!strchr(symbol, '/') || strlen(symbol) > APEX_MARKET_SYMBOL_MAX)
    return apex_app_invalid(e, "/symbol", "must be a pair such as BTC/USDT (a stock's history: apextrade data download "
                                 "--venue yahoo)");
  if (apex_timeframe_parse(timeframe, &tf, NULL))
    return apex_app_invalid(e, "/timeframe", "must be one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M");
  if (!app->venue)
    return apex_app_raise(e, APEX_E_UNAVAILABLE, "no venue is configured for %s", symbol);
  apex_err rc = APEX_OK;
  pthread_mutex_lock(&t->mu);
  size_t mine = 0, k = SYNC_SLOTS;
  for (size_t i = 0; i < SYNC_SLOTS; i++) {
    const apex_app_sync *s = &t->slot[i];
    if (!s->id[0] || !busy(s))
      continue;
    if (!strcmp(s->symbol, symbol) && !strcmp(s->timeframe, timeframe) && s->since_ms <= since_ms &&
        !strcmp(s->user_id, user_id)) {
      *out = *s; /* the same history is on its way: that job answers */
      pthread_mutex_unlock(&t->mu);
      return APEX_OK;
    }
    mine += !strcmp(s->user_id, user_id);
  }
  if (mine >= SYNC_PER_USER) {
    e->retry_after = 60;
    rc = apex_app_raise(e, APEX_E_TOO_MANY_REQUESTS, "%zu market-data jobs of yours are queued or running; wait "
                        "for one to end", mine);
    goto out;
  }
  for (size_t n = 0; n < SYNC_SLOTS && k == SYNC_SLOTS; n++) {
    size_t i = (t->next + n) % SYNC_SLOTS;
    if (!t->slot[i].id[0] || !busy(&t->slot[i]))
      k = i;
  }
  if (k == SYNC_SLOTS) {
    e->retry_after = 60;
    rc = apex_app_raise(e, APEX_E_TOO_MANY_REQUESTS, "%d market-data jobs are queued or running", SYNC_SLOTS);
    goto out;
  }
  apex_app_sync s = {0};
  if (apex_app_new_id(s.id)) {
    rc = apex_app_raise(e, APEX_E_INTERNAL, "no randomness for an id");
    goto out;
  }
  snprintf(s.user_id, sizeof s.user_id, "%s", user_id);
  snprintf(s.symbol, sizeof s.symbol, "%s", symbol);
  snprintf(s.timeframe, sizeof s.timeframe, "%s", timeframe);
  snprintf(s.venue, sizeof s.venue, "%s", app->venue->ops->name);
  snprintf(s.status, sizeof s.status, "queued");
  s.since_ms = since_ms;
  s.created_at = app->now_ms();
  t->slot[k] = s;
  t->next = (k + 1) % SYNC_SLOTS;
  if (apex_queue_submit(app->sync_queue, s.id, user_id)) {
    t->slot[k].id[0] = '\0';
    rc = apex_app_raise(e, APEX_E_UNAVAILABLE, "the market-data queue is stopping");
    goto out;
  }
  *out = s;
out:
  pthread_mutex_unlock(&t->mu);
  return rc;
}

apex_err apex_app_market_sync_submit(apex_app *app, const char *user_id, const char *body, size_t len,
                                     apex_app_sync *out, apex_app_error *e)
{
  apex_json *doc = NULL;
  apex_error perr;
  const char *symbol = NULL, *timeframe = NULL;
  double days = 30;
  apex_err rc = APEX_EINVAL;
  if (apex_json_parse_strict(body, len, MAX_BODY, &doc, &perr))
    return apex_app_raise(e, APEX_E_BAD_REQUEST, "%s", perr.msg);
  if (!apex_json_is_object(doc)) {
    apex_app_invalid(e, "", "must be a JSON object");
    goto out;
  }
  apex_json_iter it = apex_json_object_iter(doc);
  const char *k;
  const apex_json *v;
  while (apex_json_object_next(&it, &k, &v)) {
    char ptr[80];
    snprintf(ptr, sizeof ptr, "/%.60s", k);
    if (!strcmp(k, "symbol") && apex_json_is_string(v))
      symbol = apex_json_string_value(v);
    else if (!strcmp(k, "timeframe") && apex_json_is_string(v))
      timeframe = apex_json_string_value(v);
    else if (!strcmp(k, "days") && apex_json_is_integer(v) && apex_json_number_value(v) >= 1 &&
             apex_json_number_value(v) <= SYNC_MAX_DAYS)
      days = apex_json_number_value(v);
    else if (!strcmp(k, "symbol") || !strcmp(k, "timeframe"))
      apex_problems_add(&e->problems, ptr, "must be a string");
    else if (!strcmp(k, "days"))
      apex_problems_add(&e->problems, ptr, "must be a whole number of days from 1 to %d", SYNC_MAX_DAYS);
    else
      apex_problems_add(&e->problems, ptr, "unknown field");
  }
  if (!apex_json_object_get(doc, "symbol"))
    apex_problems_add(&e->problems, "/symbol", "is required");
  if (!apex_json_object_get(doc, "timeframe"))
    apex_problems_add(&e->problems, "/timeframe", "is required");
  if (e->problems.total) {
    apex_app_raise(e, APEX_E_VALIDATION, "the market-data job has %zu problem%s", e->problems.total,
                   e->problems.total == 1 ? "" : "s");
    goto out;
  }
  rc = apex_app_market_sync_start(app, user_id, symbol, timeframe, app->now_ms() - (int64_t)days * 86400000, out, e);
out:
  apex_json_free(doc);
  return rc;
}

apex_err apex_app_market_sync_get(apex_app *app, const char *user_id, const char *id, apex_app_sync *out,
                                  apex_app_error *e)
{
  struct apex_app_syncs *t = app->syncs;
  bool found = false;
  if (t && apex_app_id_ok(id)) {
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < SYNC_SLOTS && !found; i++)
      if (!strcmp(t->slot[i].id, id) && !strcmp(t->slot[i].user_id, user_id)) {
        *out = t->slot[i];
        found = true;
      }
    pthread_mutex_unlock(&t->mu);
  }
  return found ? APEX_OK : apex_app_raise(e, APEX_E_NOT_FOUND, "no market-data job %.40s", id);
}

/* Sets the job's fields under the lock; false when the job is gone (a restart's queue). */
static bool update(apex_app *app, const char *id, apex_app_sync *copy, const char *status, size_t stored,
                   const apex_app_error *e)
{
  struct apex_app_syncs *t = app->syncs;
  bool found = false;
  pthread_mutex_lock(&t->mu);
  for (size_t i = 0; i < SYNC_SLOTS && !found; i++) {
    apex_app_sync *s = &t->slot[i];
    if (strcmp(s->id, id))
      continue;
    found = true;
    snprintf(s->status, sizeof s->status, "%s", status);
    s->stored = stored;
    if (!strcmp(status, "running"))
      s->started_at = app->now_ms();
    else
      s->finished_at = app->now_ms();
    if (e) {
      s->error_code = e->code;
      snprintf(s->error, sizeof s->error, "%.*s", (int)sizeof s->error - 1, e->detail);
    }
    *copy = *s;
  }
  pthread_mutex_unlock(&t->mu);
  return found;
}

void apex_app_fx_tick(apex_app *app)
{
  if (!app->fx_fetch || !app->sync_queue)
    return;
  const int64_t now = app->now_ms();
  long long due = atomic_load(&app->fx_due_ms);
  if (now < due || !atomic_compare_exchange_strong(&app->fx_due_ms, &due, now + FX_EVERY_MS))
    return;
  (void)apex_queue_submit(app->sync_queue, atomic_load(&app->fx_have_history) ? FX_DAILY : FX_HISTORY, "");
}

/* A rates job: the last 90 days or the last day, logged (no one polls for it). */
static void fx_job(apex_app *app, bool history)
{
  apex_app_error e = {0};
  size_t n = 0;
  if (apex_app_fx_refresh(app, history, &n, &e)) {
    atomic_store(&app->fx_due_ms, app->now_ms() + FX_RETRY_MS);
    apex_log_field f[] = {APEX_LOG_S("error", e.detail)};
    apex_log_fields(APEX_LOG_WARN, "fetching the ECB's reference rates failed; conversions use the newest stored",
                    f, 1);
    return;
  }
  if (history)
    atomic_store(&app->fx_have_history, true);
  apex_log_field f[] = {APEX_LOG_I("rates", (int64_t)n)};
  apex_log_fields(APEX_LOG_INFO, history ? "ECB reference rates of the last 90 days stored"
                                         : "ECB reference rates of the last working day stored", f, 1);
}

void apex_app_market_sync_job(void *ctx, const char *id, const atomic_int *cancel, const atomic_int *timed_out)
{
  apex_app *app = ctx;
  apex_app_sync s;
  apex_app_error e = {0};
  size_t stored = 0;
  if (!strcmp(id, FX_HISTORY) || !strcmp(id, FX_DAILY)) {
    fx_job(app, !strcmp(id, FX_HISTORY));
    return;
  }
  if (!app->syncs || !update(app, id, &s, "running", 0, NULL))
    return;
  const apex_market *m = app->venue;
  apex_err rc = m ? apex_app_market_download(app, (apex_market *)m, s.symbol, s.timeframe, s.since_ms, 0, NULL, NULL,
                                             cancel, &stored, &e)
                  : apex_app_raise(&e, APEX_E_UNAVAILABLE, "no venue is configured for %s", s.symbol);
  if (rc == APEX_ECANCELED && atomic_load(timed_out))
    apex_app_raise(&e, APEX_E_UNAVAILABLE, "the job ran out of its time (5 minutes); run it again to go on from "
                                           "the candles it stored");
  update(app, id, &s, !rc ? "completed" : rc == APEX_ECANCELED && !atomic_load(timed_out) ? "cancelled" : "failed",
         stored, rc ? &e : NULL);
}

apex_json *apex_app_market_sync_json(const apex_app_sync *s)
{
  apex_json *j = apex_json_new_object();
  char tb[40];
  apex_json_object_set(j, "id", apex_json_new_string(s->id));
  apex_json_object_set(j, "symbol", apex_json_new_string(s->symbol));
  apex_json_object_set(j, "timeframe", apex_json_new_string(s->timeframe));
  apex_json_object_set(j, "venue", apex_json_new_string(s->venue));
  apex_time_iso(s->since_ms, tb, sizeof tb);
  apex_json_object_set(j, "since", apex_json_new_string(tb));
  apex_json_object_set(j, "status", apex_json_new_string(s->status));
  apex_json_object_set(j, "candles_stored", apex_json_new_integer((int64_t)s->stored));
  apex_json_object_set(j, "error", s->error[0] ? apex_json_new_string(s->error) : apex_json_new_null());
  apex_json_object_set(j, "error_code", s->error[0] ? apex_json_new_integer(s->error_code) : apex_json_new_null());
  const struct {
    const char *key;
    int64_t t;
  } times[] = {{"created_at", s->created_at}, {"started_at", s->started_at}, {"finished_at", s->finished_at}};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    apex_time_iso(times[i].t, tb, sizeof tb);
    apex_json_object_set(j, times[i].key, times[i].t ? apex_json_new_string(tb) : apex_json_new_null());
  }
  return j;
}
