/* app.c - application start and stop, error helper, time formatting. */
#include "app/app.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

apex_json *apex_app_json_time(int64_t t)
{
  char b[40];
  if (!t)
    return apex_json_new_null();
  apex_time_iso(t, b, sizeof b);
  return apex_json_new_string(b);
}

apex_err apex_app_start(apex_app *app, apex_error *err)
{
  apex_id *ids = NULL;
  size_t n = 0;
  apex_err rc;
  atomic_store(&app->stopping, 0);
  if (!app->queue)
    return apex_error_set(err, APEX_EINVAL, "no job queue");
  /* Backtests an earlier process left behind run again from the start. */
  if ((rc = apex_store_backtest_unfinished(app->store, &ids, &n, err)))
    return rc;
  for (size_t i = 0; i < n && !rc; i++) {
    if ((rc = apex_store_backtest_set_status(app->store, ids[i], "pending", 0, NULL, app->now_ms(), err)) == APEX_OK)
      rc = apex_queue_submit(app->queue, ids[i]);
    if (rc == APEX_ECONFLICT)
      rc = APEX_OK; /* finished meanwhile */
  }
  free(ids);
  return rc;
}

void apex_app_stop(apex_app *app)
{
  atomic_store(&app->stopping, 1);
  if (app->queue)
    apex_queue_stop(app->queue, true);
}
