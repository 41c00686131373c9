/* h_portfolios.c - /api/v1/portfolios: list, create, get, update, delete, and the positions,
 * trades, performance and equity of one portfolio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"

static int one(apex_res *res, int status, apex_portfolio_row *r)
{
  apex_json *j = apex_app_portfolio_json(r);
  apex_portfolio_row_clear(r);
  return apex_res_json(res, status, j);
}

int h_portfolios_list(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_page p;
  apex_json *items;
  int64_t total = 0;
  if (!apex_api_page(req, res, &p))
    return 0;
  if (apex_app_portfolio_list(app, req->user_id, &p, &items, &total, &e))
    return apex_api_fail(res, &e);
  return apex_api_list(res, items, total, &p);
}

int h_portfolios_create(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_portfolio_row r = {0};
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_portfolio_create(app, req->user_id, req->body, req->body_len, &r, &e)) {
    apex_portfolio_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  char loc[128];
  snprintf(loc, sizeof loc, "/api/v1/portfolios/%s", r.id);
  apex_res_header(res, "Location", loc);
  return one(res, 201, &r);
}

int h_portfolios_get(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_portfolio_row r = {0};
  if (apex_app_portfolio_get(app, req->user_id, apex_req_param(req, "id"), &r, &e)) {
    apex_portfolio_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_portfolios_update(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_portfolio_row r = {0};
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_portfolio_update(app, req->user_id, apex_req_param(req, "id"), req->body, req->body_len, &r, &e)) {
    apex_portfolio_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_portfolios_delete(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  if (apex_app_portfolio_delete(app, req->user_id, apex_req_param(req, "id"), &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 204, NULL);
}

/* Paging for the sub-resources: 100 rows unless limit says otherwise (at most 100). */
static bool sub_page(apex_req *req, apex_res *res, apex_page *p)
{
  if (!apex_api_page(req, res, p))
    return false;
  if (!apex_req_query(req, "limit"))
    p->limit = 100;
  return true;
}

typedef apex_err (*sub_fn)(apex_app *app, const char *user_id, const char *id, int page, int limit, apex_json **items,
                           int64_t *total, apex_app_error *e);

static int sub_list(apex_req *req, apex_res *res, void *app, sub_fn fn)
{
  apex_app_error e = {0};
  apex_page p;
  apex_json *items;
  int64_t total = 0;
  if (!sub_page(req, res, &p))
    return 0;
  if (fn(app, req->user_id, apex_req_param(req, "id"), p.page, p.limit, &items, &total, &e))
    return apex_api_fail(res, &e);
  return apex_api_list(res, items, total, &p);
}

int h_portfolios_positions(apex_req *req, apex_res *res, void *app)
{
  return sub_list(req, res, app, apex_app_portfolio_positions);
}

int h_portfolios_trades(apex_req *req, apex_res *res, void *app)
{
  return sub_list(req, res, app, apex_app_portfolio_trades);
}

int h_portfolios_equity(apex_req *req, apex_res *res, void *app)
{
  return sub_list(req, res, app, apex_app_portfolio_equity);
}

int h_portfolios_performance(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *j;
  if (apex_app_portfolio_performance(app, req->user_id, apex_req_param(req, "id"), &j, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, j);
}
