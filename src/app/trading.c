/* trading.c - what a client shows before it offers live trading: whether this server allows it
 * (FEATURE_LIVE_TRADING) and how many live strategies the user runs, for the kill switch
 * (GET /trading/status). */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"

apex_err apex_app_trading_status(apex_app *app, const char *user_id, apex_json **out, apex_app_error *e)
{
  apex_run_row *runs = NULL;
  size_t n = 0;
  int live = 0;
  apex_error err;
  *out = NULL;
  if (apex_store_runs_running(app->store, &runs, &n, &err))
    return apex_app_store_failed(e, &err);
  for (size_t i = 0; i < n; i++) {
    live += !strcmp(runs[i].user_id, user_id) && !strcmp(runs[i].mode, "live");
    apex_run_row_clear(&runs[i]);
  }
  free(runs);
  if (!(*out = apex_json_new_object()))
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  apex_json_object_set(*out, "live_trading_enabled", apex_json_new_bool(app->settings.live_trading));
  apex_json_object_set(*out, "live_strategies", apex_json_new_integer(live));
  return APEX_OK;
}
