/* app.c - application start and stop, error helper, time formatting. */
#include "app/app.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeframe.h"

apex_err apex_app_fail(apex_app_error *e, int status, int code, const char *title, const char *fmt, ...)
{
  va_list ap;
  e->status = status;
  e->code = code;
  snprintf(e->title, sizeof e->title, "%s", title);
  va_start(ap, fmt);
  vsnprintf(e->detail, sizeof e->detail, fmt, ap);
  va_end(ap);
  return APEX_EINVAL;
}

void apex_app_iso_time(int64_t t, char *buf, size_t cap)
{
  int64_t days = t >= 0 ? t / APEX_MS_DAY : -((-t + APEX_MS_DAY - 1) / APEX_MS_DAY), y;
  int64_t ms = t - days * APEX_MS_DAY;
  int m, d;
  apex_civil_from_days(days, &y, &m, &d);
  snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, (int)(ms / 3600000),
           (int)(ms / 60000 % 60), (int)(ms / 1000 % 60));
}

apex_err apex_app_start(apex_app *app, apex_error *err)
{
  apex_id *ids = NULL;
  size_t n = 0;
  apex_err rc;
  atomic_store(&app->stopping, 0);
  rc = apex_jobs_start(app->settings.backtest_workers, app->settings.backtest_timeout_s, apex_app_backtest_job, app,
                       &app->jobs);
  if (rc)
    return apex_error_set(err, rc, "cannot start %d backtest workers", app->settings.backtest_workers);
  /* Backtests an earlier process left behind run again from the start. */
  if ((rc = apex_store_backtest_unfinished(app->store, &ids, &n, err)))
    return rc;
  for (size_t i = 0; i < n && !rc; i++) {
    if ((rc = apex_store_backtest_set_status(app->store, ids[i], "pending", 0, NULL, app->now_ms(), err)) == APEX_OK)
      rc = apex_jobs_submit(app->jobs, ids[i]);
    if (rc == APEX_ECONFLICT)
      rc = APEX_OK; /* finished meanwhile */
  }
  free(ids);
  return rc;
}

void apex_app_stop(apex_app *app)
{
  atomic_store(&app->stopping, 1);
  apex_jobs_stop(app->jobs, true);
  app->jobs = NULL;
}
