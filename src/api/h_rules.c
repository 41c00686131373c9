/* h_rules.c - /api/v1/rules: the rule library (list, create, get, update, delete), validation
 * without storing, and a rule's indicator dependencies. */
#include <stdio.h>

#include "api/handlers.h"

static int one(apex_res *res, int status, apex_rule_row *r)
{
  apex_json *j = apex_app_rule_json(r);
  apex_rule_row_clear(r);
  return apex_res_json(res, status, j);
}

int h_rules_list(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_page p;
  apex_json *items = NULL;
  int64_t total = 0;
  if (!apex_api_page(req, res, &p))
    return 0;
  if (apex_app_rule_list(app, req->user_id, &p, &items, &total, &e))
    return apex_api_fail(res, &e);
  return apex_api_list(res, items, total, &p);
}

int h_rules_create(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_rule_row r = {0};
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_rule_create(app, req->user_id, req->body, req->body_len, &r, &e)) {
    apex_rule_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  char loc[128];
  snprintf(loc, sizeof loc, "/api/v1/rules/%s", r.id);
  apex_res_header(res, "Location", loc);
  return one(res, 201, &r);
}

int h_rules_get(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_rule_row r = {0};
  if (apex_app_rule_get(app, req->user_id, apex_req_param(req, "id"), &r, &e)) {
    apex_rule_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_rules_update(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_rule_row r = {0};
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_rule_update(app, req->user_id, apex_req_param(req, "id"), req->body, req->body_len, &r, &e)) {
    apex_rule_row_clear(&r);
    return apex_api_fail(res, &e);
  }
  return one(res, 200, &r);
}

int h_rules_delete(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  if (apex_app_rule_delete(app, req->user_id, apex_req_param(req, "id"), &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 204, NULL);
}

int h_rules_validate(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *out = NULL;
  if (!apex_req_json(req, res))
    return 0;
  if (apex_app_rule_validate(app, req->body, req->body_len, &out, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, out);
}

int h_rules_dependencies(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_json *out = NULL;
  if (apex_app_rule_dependencies(app, req->user_id, apex_req_param(req, "id"), &out, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, out);
}
