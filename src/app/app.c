/* app.c - application start and stop, error helper, time formatting. */
#include "app/app.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "base/utf8.h"
#include "core/timeframe.h"
#include "sys/log.h"

apex_err apex_app_raise(apex_app_error *e, apex_code code, const char *fmt, ...)
{
  va_list ap;
  const char *title = apex_code_title(code);
  e->code = code;
  e->status = apex_code_status(code);
  snprintf(e->title, sizeof e->title, "%s", title ? title : "Internal Server Error");
  if (!e->status)
    e->status = 500;
  va_start(ap, fmt);
  vsnprintf(e->detail, sizeof e->detail, fmt, ap);
  va_end(ap);
  apex_utf8_trim(e->detail); /* a detail quoting the client's text may end in half a character */
  return APEX_EINVAL;
}

apex_err apex_app_invalid(apex_app_error *e, const char *ptr, const char *msg)
{
  apex_app_raise(e, APEX_E_VALIDATION, "%s %s", *ptr ? ptr + 1 : "the body", msg);
  apex_problems_add(&e->problems, ptr, "%s", msg);
  return APEX_EINVAL;
}

apex_err apex_app_store_failed(apex_app_error *e, const apex_error *err)
{
  apex_log_field f[] = {APEX_LOG_S("error", err->msg)};
  apex_log_fields(APEX_LOG_ERROR, "storage failure", f, 1);
  return apex_app_raise(e, APEX_E_INTERNAL, "the database failed; the server log has the details");
}

apex_err apex_app_ready(apex_app *app, const char **backend, apex_app_error *e)
{
  apex_error err;
  *backend = apex_store_backend(app->store);
  if (apex_store_ping(app->store, &err) == APEX_OK)
    return APEX_OK;
  apex_app_store_failed(e, &err);
  return apex_app_raise(e, APEX_E_UNAVAILABLE, "the database is not reachable");
}

void apex_app_texts_clear(apex_app_texts *t)
{
  if (!t)
    return;
  for (size_t i = 0; t->text && i < t->n; i++)
    free(t->text[i]);
  free(t->text);
  free(t->len);
  *t = (apex_app_texts){0};
}

apex_json *apex_app_json_time(int64_t t)
{
  char b[40];
  if (!t)
    return apex_json_new_null();
  apex_time_iso(t, b, sizeof b);
  return apex_json_new_string(b);
}

int apex_app_lease_s(const apex_app *app) { return app->settings.lease_s > 0 ? app->settings.lease_s : 60; }

/* Queues what the store says is claimable; the job's claim decides who runs it. */
static apex_err requeue(apex_app *app, apex_error *err)
{
  apex_id *ids = NULL, *owners = NULL;
  size_t n = 0;
  apex_err rc = apex_store_backtest_claimable(app->store, app->now_ms(), &ids, &owners, &n, err);
  for (size_t i = 0; i < n && !rc; i++)
    if ((rc = apex_queue_submit(app->queue, ids[i], owners[i]))) /* in its owner's turn, as when submitted */
      apex_error_set(err, rc, "cannot queue backtest %s", ids[i]);
  free(ids);
  free(owners);
  return rc;
}

struct apex_app_sweeper {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop;
};

static void *sweep_loop(void *p)
{
  apex_app *app = p;
  struct apex_app_sweeper *w = app->sweeper;
  int every = apex_app_lease_s(app) / 2 > 0 ? apex_app_lease_s(app) / 2 : 1;
  pthread_mutex_lock(&w->mu);
  while (!w->stop) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += every;
    pthread_cond_timedwait(&w->cv, &w->mu, &until);
    if (w->stop)
      break;
    pthread_mutex_unlock(&w->mu);
    apex_error err = {0};
    apex_err rc = requeue(app, &err);
    if (rc && rc != APEX_ECANCELED) {
      apex_log_field f[] = {APEX_LOG_S("error", err.msg)};
      apex_log_fields(APEX_LOG_WARN, "re-queueing expired backtests failed", f, 1);
    }
    pthread_mutex_lock(&w->mu);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

apex_err apex_app_start(apex_app *app, apex_error *err)
{
  char host[40] = "host";
  apex_err rc;
  atomic_store(&app->stopping, 0);
  if (!app->queue)
    return apex_error_set(err, APEX_EINVAL, "no job queue");
  (void)gethostname(host, sizeof host - 1);
  snprintf(app->instance, sizeof app->instance, "%s:%ld", host, (long)getpid());
  if ((rc = requeue(app, err)) || (rc = apex_app_hashing_start(app, err)) ||
      (rc = apex_app_outbox_start(app, 1024, err)))
    return rc;
  struct apex_app_sweeper *w = calloc(1, sizeof *w);
  if (!w)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  app->sweeper = w;
  if (pthread_create(&w->thread, NULL, sweep_loop, app)) {
    app->sweeper = NULL;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    return apex_error_set(err, APEX_ENOMEM, "cannot start the lease sweeper");
  }
  return APEX_OK;
}

void apex_app_stop(apex_app *app)
{
  struct apex_app_sweeper *w = app->sweeper;
  atomic_store(&app->stopping, 1);
  if (w) {
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    app->sweeper = NULL;
  }
  if (app->queue)
    apex_queue_stop(app->queue, true);
  apex_app_outbox_stop(app);
  apex_app_hashing_stop(app);
}
