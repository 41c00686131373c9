/* h_backtests.c - /api/v1/backtests: list, submit, status/result, cancel, trades, equity, report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "core/timeframe.h"
#include "app/ids.h"

static int one(apex_res *res, int status, apex_backtest_row *r)
{
  apex_json *j = apex_app_backtest_json(r);
  apex_backtest_row_clear(r);
  return apex_res_json(res, status, j);
}

int h_backtests_list(apex_req *req, apex_res *res, void *app)
{
  apex_app *a = app;
  apex_page p;
  apex_error err;
  size_t n = 0;
  int64_t total = 0;
  if (!apex_api_page(req, res, &p))
    return 0;
  apex_backtest_row *rows = calloc((size_t)p.limit, sizeof *rows);
  if (!rows)
    return -1;
  if (apex_store_backtest_list(a->store, req->user_id, &p, rows, &n, &total, &err)) {
    free(rows);
    return apex_res_problem(res, 500, 0, "Storage failure", NULL, NULL);
  }
  apex_json *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json_array_append(items, apex_app_backtest_json(&rows[i]));
    apex_backtest_row_clear(&rows[i]);
  }
  free(rows);
  return apex_api_list(res, items, total, &p);
}

int h_backtests_create(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_backtest_row r = {0};
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_backtest_submit(app, req->user_id, req->body, req->body_len, &r, &e)) {
    apex_backtest_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  char loc[128];
  snprintf(loc, sizeof loc, "/api/v1/backtests/%s", r.id);
  apex_res_header(res, "Location", loc);
  return one(res, 202, &r);
}

int h_backtests_get(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_backtest_row r = {0};
  if (apex_app_backtest_get(app, req->user_id, apex_req_param(req, "id"), &r, &e)) {
    apex_backtest_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_backtests_cancel(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_backtest_row r = {0};
  if (apex_app_backtest_cancel(app, req->user_id, apex_req_param(req, "id"), &r, &e)) {
    apex_backtest_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  /* The spec's 3003 BACKTEST_CANCELLED is a 200: the backtest resource, with its code. */
  apex_json *j = apex_app_backtest_json(&r);
  apex_json_object_set(j, "code", apex_json_new_integer(APEX_E_BACKTEST_CANCELLED));
  apex_backtest_row_clear(&r);
  return apex_res_json(res, 200, j);
}

/* Paging for the trades and equity sub-resources (up to 1000 rows a page). */
static bool sub_page(apex_req *req, apex_res *res, apex_page *p)
{
  if (!apex_api_page(req, res, p))
    return false;
  const char *lim = apex_req_query(req, "limit");
  if (!lim)
    p->limit = 100;
  return true;
}

int h_backtests_trades(apex_req *req, apex_res *res, void *app)
{
  apex_app *a = app;
  apex_app_error e = {0};
  apex_backtest_row r = {0};
  apex_page p;
  apex_error err;
  size_t n = 0;
  int64_t total = 0;
  const char *id = apex_req_param(req, "id");
  if (!sub_page(req, res, &p))
    return 0;
  if (apex_app_backtest_get(app, req->user_id, id, &r, &e)) {
    apex_backtest_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  apex_backtest_row_clear(&r);
  apex_trade_row *rows = calloc((size_t)p.limit, sizeof *rows);
  if (!rows)
    return -1;
  if (apex_store_backtest_trades(a->store, req->user_id, id, p.page, p.limit, rows, &n, &total, &err)) {
    free(rows);
    return apex_res_problem(res, 500, 0, "Storage failure", NULL, NULL);
  }
  apex_json *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json *t = apex_json_new_object();
    char tb[40];
    apex_time_iso(rows[i].entry_time, tb, sizeof tb);
    apex_json_object_set(t, "entry_time", apex_json_new_string(tb));
    apex_time_iso(rows[i].exit_time, tb, sizeof tb);
    apex_json_object_set(t, "exit_time", apex_json_new_string(tb));
    apex_json_object_set(t, "side", apex_json_new_string("long"));
    apex_json_object_set(t, "quantity", apex_json_new_decimal(rows[i].quantity));
    apex_json_object_set(t, "entry_price", apex_json_new_decimal(rows[i].entry_price));
    apex_json_object_set(t, "exit_price", apex_json_new_decimal(rows[i].exit_price));
    apex_json_object_set(t, "gross_pnl", apex_json_new_decimal(rows[i].gross_pnl));
    apex_json_object_set(t, "commission", apex_json_new_decimal(rows[i].commission));
    apex_json_object_set(t, "net_pnl", apex_json_new_decimal(rows[i].net_pnl));
    apex_json_object_set(t, "exit_reason", apex_json_new_string(rows[i].exit_reason));
    apex_json_array_append(items, t);
  }
  free(rows);
  return apex_api_list(res, items, total, &p);
}

int h_backtests_equity(apex_req *req, apex_res *res, void *app)
{
  apex_app *a = app;
  apex_app_error e = {0};
  apex_backtest_row r = {0};
  apex_page p;
  apex_error err;
  size_t n = 0;
  int64_t total = 0;
  const char *id = apex_req_param(req, "id");
  if (!sub_page(req, res, &p))
    return 0;
  if (apex_app_backtest_get(app, req->user_id, id, &r, &e)) {
    apex_backtest_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  apex_backtest_row_clear(&r);
  int64_t *times = calloc((size_t)p.limit, sizeof *times);
  double *values = calloc((size_t)p.limit, sizeof *values);
  if (!times || !values) {
    free(times);
    free(values);
    return -1;
  }
  if (apex_store_backtest_equity(a->store, req->user_id, id, p.page, p.limit, times, values, &n, &total, &err)) {
    free(times);
    free(values);
    return apex_res_problem(res, 500, 0, "Storage failure", NULL, NULL);
  }
  apex_json *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json *pt = apex_json_new_object();
    char tb[40];
    apex_time_iso(times[i], tb, sizeof tb);
    apex_json_object_set(pt, "time", apex_json_new_string(tb));
    apex_json_object_set(pt, "equity", apex_json_new_number(values[i]));
    apex_json_array_append(items, pt);
  }
  free(times);
  free(values);
  return apex_api_list(res, items, total, &p);
}

int h_backtests_report(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_backtest_row r = {0};
  if (apex_app_backtest_get(app, req->user_id, apex_req_param(req, "id"), &r, &e)) {
    apex_backtest_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  apex_backtest_row_clear(&r);
  return apex_res_problem(res, 404, 0, "Report not available",
                          "PDF reports arrive with the reports feature; use /trades and /equity meanwhile", NULL);
}
