/* h_strategies.c - /api/v1/strategies: list, create, get, update, delete, clone, versions,
 * activate, deactivate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"

static int one(apex_res *res, int status, apex_strategy_row *r)
{
  apex_json *j = apex_app_strategy_json(r, true);
  apex_strategy_row_clear(r);
  return apex_res_json(res, status, j);
}

int h_strategies_list(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_page p;
  apex_app_texts items = {0};
  int64_t total = 0;
  if (!apex_api_page(req, res, &p))
    return 0;
  if (apex_app_strategy_list(app, req->user_id, &p, &items, &total, &e))
    return apex_api_fail(res, &e);
  return apex_api_list_texts(res, &items, total, &p);
}

int h_strategies_create(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_strategy_row r = {0};
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_strategy_create(app, req->user_id, req->body, req->body_len, &r, &e)) {
    apex_strategy_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  char loc[128];
  snprintf(loc, sizeof loc, "/api/v1/strategies/%s", r.id);
  apex_res_header(res, "Location", loc);
  return one(res, 201, &r);
}

int h_strategies_get(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_strategy_row r = {0};
  if (apex_app_strategy_get(app, req->user_id, apex_req_param(req, "id"), &r, &e)) {
    apex_strategy_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_strategies_update(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_strategy_row r = {0};
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_strategy_update(app, req->user_id, apex_req_param(req, "id"), req->body, req->body_len, &r, &e)) {
    apex_strategy_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_strategies_delete(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  if (apex_app_strategy_delete(app, req->user_id, apex_req_param(req, "id"), &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 204, NULL);
}

int h_strategies_clone(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_strategy_row r = {0};
  if (apex_app_strategy_clone(app, req->user_id, apex_req_param(req, "id"), &r, &e)) {
    apex_strategy_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 201, &r);
}

int h_strategies_activate(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_strategy_row r = {0};
  const apex_json *b = NULL;
  if (req->body_len && !(b = apex_req_json(req, res)))
    return 0;
  if (apex_app_strategy_activate(app, req->user_id, apex_req_param(req, "id"), b, &r, &e)) {
    apex_strategy_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_strategies_deactivate(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_strategy_row r = {0};
  if (apex_app_strategy_deactivate(app, req->user_id, apex_req_param(req, "id"), &r, &e)) {
    apex_strategy_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_strategies_versions(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *items = NULL;
  int64_t total = 0;
  apex_page p;
  if (!apex_api_page(req, res, &p))
    return 0;
  if (apex_app_strategy_versions(app, req->user_id, apex_req_param(req, "id"), &p, &items, &total, &e))
    return apex_api_fail(res, &e);
  return apex_api_list(res, items, total, &p);
}

int h_strategies_version(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *j = NULL;
  if (apex_app_strategy_version(app, req->user_id, apex_req_param(req, "id"), apex_req_param(req, "version"), &j,
                                &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, j);
}

int h_strategies_run(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *j = NULL;
  if (apex_app_strategy_run(app, req->user_id, apex_req_param(req, "id"), &j, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, j);
}

int h_strategies_drift(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *j = NULL;
  if (apex_app_strategy_drift(app, req->user_id, apex_req_param(req, "id"), &j, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, j);
}

/* The kill switch (POST /trading/kill-switch): every live strategy of the caller stopped, their
 * open orders cancelled at the venue. */
int h_trading_kill_switch(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *j = NULL;
  if (apex_app_kill_switch(app, req->user_id, &j, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, j);
}

int h_trading_status(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *j = NULL;
  if (apex_app_trading_status(app, req->user_id, &j, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, j);
}

int h_strategies_refusals(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *items = NULL;
  int64_t total = 0;
  apex_page p;
  if (!apex_api_page(req, res, &p))
    return 0;
  if (apex_app_strategy_refusals(app, req->user_id, apex_req_param(req, "id"), &p, &items, &total, &e))
    return apex_api_fail(res, &e);
  return apex_api_list(res, items, total, &p);
}
