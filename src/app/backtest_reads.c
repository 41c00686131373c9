/* backtest_reads.c - reading backtests: the list, the trade log, the equity history, the JSON of
 * one backtest, and the stored form of a failure's reason (its error code kept as a number). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/ids.h"
#include "core/backtest_json.h"
#include "core/timeframe.h"

#define MAX_RESULT (16u << 20)

/* The user's backtest id must exist before its sub-resources are read (404 otherwise). */
static apex_err owned(apex_app *app, const char *user_id, const char *id, apex_app_error *e)
{
  apex_backtest_row r = {0};
  apex_err rc = apex_app_backtest_get(app, user_id, id, &r, e);
  apex_backtest_row_clear(&r);
  return rc;
}

/* The stored exit reason's name back to its value (the writer prints the name again). */
static apex_exit_reason reason_of(const char *name)
{
  for (int r = APEX_EXIT_SIGNAL; r <= APEX_EXIT_END_OF_DATA; r++)
    if (!strcmp(apex_exit_reason_name((apex_exit_reason)r), name))
      return (apex_exit_reason)r;
  return APEX_EXIT_SIGNAL;
}

apex_err apex_app_backtest_list(apex_app *app, const char *user_id, const apex_page *p, apex_json **items,
                                int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  *total = 0;
  apex_backtest_row *rows = calloc((size_t)p->limit, sizeof *rows);
  if (!rows)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  if (apex_store_backtest_list(app->store, user_id, p, rows, &n, total, &err)) {
    free(rows);
    return apex_app_store_failed(e, &err);
  }
  *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json_array_append(*items, apex_app_backtest_json(&rows[i], false));
    apex_backtest_row_clear(&rows[i]);
  }
  free(rows);
  return *items ? APEX_OK : apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
}

apex_err apex_app_backtest_trades(apex_app *app, const char *user_id, const char *id, const apex_page *p,
                                  apex_json **items, int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  *total = 0;
  if (owned(app, user_id, id, e))
    return APEX_EINVAL;
  apex_trade_row *rows = calloc((size_t)p->limit, sizeof *rows);
  if (!rows)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  if (apex_store_backtest_trades(app->store, user_id, id, p->page, p->limit, rows, &n, total, &err)) {
    free(rows);
    return apex_app_store_failed(e, &err);
  }
  *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    const apex_trade_row *r = &rows[i];
    /* The stored trade keeps one commission for both fills and no bar indices (bars: null). */
    apex_bt_trade t = {.entry_bar = 1, .exit_bar = 0, .entry_time = r->entry_time, .exit_time = r->exit_time,
                       .qty = r->quantity, .entry_price = r->entry_price, .exit_price = r->exit_price,
                       .entry_commission = r->commission, .gross_pnl = r->gross_pnl, .net_pnl = r->net_pnl,
                       .reason = reason_of(r->exit_reason)};
    apex_json_array_append(*items, apex_backtest_trade_json(&t));
  }
  free(rows);
  return *items ? APEX_OK : apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
}

apex_err apex_app_backtest_equity(apex_app *app, const char *user_id, const char *id, const apex_page *p,
                                  apex_json **items, int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  apex_err rc = APEX_OK;
  *items = NULL;
  *total = 0;
  if (owned(app, user_id, id, e))
    return APEX_EINVAL;
  int64_t *times = calloc((size_t)p->limit, sizeof *times);
  double *values = calloc((size_t)p->limit, sizeof *values);
  if (!times || !values) {
    rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
    goto out;
  }
  if (apex_store_backtest_equity(app->store, user_id, id, p->page, p->limit, times, values, &n, total, &err)) {
    rc = apex_app_store_failed(e, &err);
    goto out;
  }
  *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json *pt = apex_json_new_object();
    apex_json_object_set(pt, "time", apex_app_json_time(times[i]));
    apex_json_object_set(pt, "equity", apex_json_new_number(values[i]));
    apex_json_array_append(*items, pt);
  }
  if (!*items)
    rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
out:
  free(times);
  free(values);
  return rc;
}

char *apex_app_backtest_reason(apex_code code, const char *message)
{
  apex_json *o = apex_json_new_object();
  if (!o)
    return NULL;
  apex_err rc = apex_json_object_set(o, "code", apex_json_new_integer(code));
  rc |= apex_json_object_set(o, "message", apex_json_new_string(message));
  char *text = rc ? NULL : apex_json_dump(o, false);
  apex_json_free(o);
  return text;
}

/* error_message and error_code from the stored reason ({"code", "message"}); text that is not
 * such an object (rows from before issue 8) is the message, with no code. */
static void set_reason(apex_json *j, const apex_backtest_row *r)
{
  apex_json *doc = NULL;
  apex_error err;
  const char *msg = r->error_message;
  int64_t code = 0;
  if (msg && msg[0] == '{' && !apex_json_parse_strict(msg, strlen(msg), 1u << 16, &doc, &err)) {
    const apex_json *m = apex_json_object_get(doc, "message"), *c = apex_json_object_get(doc, "code");
    if (apex_json_string_value(m))
      msg = apex_json_string_value(m);
    if (c && apex_json_is_integer(c))
      code = (int64_t)apex_json_number_value(c);
  }
  apex_json_object_set(j, "error_message", msg ? apex_json_new_string(msg) : apex_json_new_null());
  if (!code && !strcmp(r->status, "cancelled"))
    code = APEX_E_BACKTEST_CANCELLED;
  if (code)
    apex_json_object_set(j, "error_code", apex_json_new_integer(code));
  apex_json_free(doc); /* after msg was copied: it may point into doc */
}

apex_json *apex_app_backtest_json(const apex_backtest_row *r, bool full)
{
  apex_json *j = apex_json_new_object();
  apex_error err;
  if (!j)
    return NULL;
  apex_json_object_set(j, "id", apex_json_new_string(r->id));
  apex_json_object_set(j, "backtest_id", apex_json_new_string(r->id));
  apex_json_object_set(j, "strategy_id", apex_json_new_string(r->strategy_id));
  apex_json_object_set(j, "status", apex_json_new_string(r->status));
  apex_json_object_set(j, "progress_pct", apex_json_new_integer(r->progress_pct));
  apex_json_object_set(j, "start_date", apex_app_json_time(r->start_date));
  apex_json_object_set(j, "end_date", apex_app_json_time(r->end_date));
  apex_json_object_set(j, "initial_capital", apex_json_new_decimal(r->initial_capital));
  apex_json_object_set(j, "commission_pct", apex_json_new_number(apex_dec_to_double(r->commission_pct)));
  apex_json_object_set(j, "slippage_pct", apex_json_new_number(apex_dec_to_double(r->slippage_pct)));
  set_reason(j, r);
  apex_json_object_set(j, "created_at", apex_app_json_time(r->created_at));
  apex_json_object_set(j, "started_at", apex_app_json_time(r->started_at));
  apex_json_object_set(j, "completed_at", apex_app_json_time(r->completed_at));
  /* The result's metrics at the top level, as the spec's Backtest Result has them. */
  apex_json *res = NULL;
  if (r->result && !apex_json_parse_strict(r->result, strlen(r->result), MAX_RESULT, &res, &err)) {
    apex_json_iter it = apex_json_object_iter(res);
    const char *k;
    const apex_json *v;
    while (apex_json_object_next(&it, &k, &v))
      if (full || !apex_json_is_array(v))
        apex_json_object_set(j, k, apex_json_copy(v));
    apex_json_free(res);
  }
  return j;
}
