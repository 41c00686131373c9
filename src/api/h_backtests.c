/* h_backtests.c - /api/v1/backtests: list, submit, status/result, cancel, trades, equity, report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"

static int one(apex_res *res, int status, apex_backtest_row *r)
{
  apex_json *j = apex_app_backtest_json(r, true);
  apex_backtest_row_clear(r);
  return apex_res_json(res, status, j);
}

int h_backtests_list(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_page p;
  apex_json *items = NULL;
  int64_t total = 0;
  if (!apex_api_page(req, res, &p))
    return 0;
  if (apex_app_backtest_list(app, req->user_id, &p, &items, &total, &e))
    return apex_api_fail(res, &e);
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
  apex_json *j = apex_app_backtest_json(&r, true);
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

/* A sub-resource page (trades, equity) from one app use case. */
static int sub_list(apex_req *req, apex_res *res, void *app,
                    apex_err (*fn)(apex_app *, const char *, const char *, const apex_page *, apex_json **, int64_t *,
                                   apex_app_error *))
{
  apex_app_error e = {0};
  apex_page p;
  apex_json *items = NULL;
  int64_t total = 0;
  if (!sub_page(req, res, &p))
    return 0;
  if (fn(app, req->user_id, apex_req_param(req, "id"), &p, &items, &total, &e))
    return apex_api_fail(res, &e);
  return apex_api_list(res, items, total, &p);
}

int h_backtests_trades(apex_req *req, apex_res *res, void *app)
{
  return sub_list(req, res, app, apex_app_backtest_trades);
}

int h_backtests_equity(apex_req *req, apex_res *res, void *app)
{
  return sub_list(req, res, app, apex_app_backtest_equity);
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
  return apex_res_error(res, APEX_E_NOT_FOUND,
                        "PDF reports arrive with the reports feature; use /trades and /equity meanwhile");
}
