/* h_rules.c - /api/v1/rules: the rule library (list, create, get, update, delete), validation
 * without storing, and a rule's indicator dependencies; /api/v1/indicators, what rules can use. */
#include <stdio.h>

#include "api/handlers.h"
#include "core/ind/ind.h"

/* The registry as the strategy builder needs it: each indicator's parameters with their ranges
 * and defaults, its outputs (the first is the default "output"), and the candle fields it reads. */
int h_indicators_list(apex_req *req, apex_res *res, void *app)
{
  static const struct {
    unsigned bit;
    const char *name;
  } INPUTS[] = {{APEX_IN_OPEN, "open"},     {APEX_IN_HIGH, "high"},     {APEX_IN_LOW, "low"},
                {APEX_IN_CLOSE, "close"},   {APEX_IN_VOLUME, "volume"}, {APEX_IN_TIME, "time"}};
  (void)req;
  (void)app;
  size_t n = 0;
  const apex_ind_info *const *list = apex_ind_list(&n);
  apex_json *items = apex_json_new_array();
  for (size_t i = 0; items && i < n; i++) {
    const apex_ind_info *ind = list[i];
    apex_json *o = apex_json_new_object(), *params = apex_json_new_array(), *outputs = apex_json_new_array(),
              *inputs = apex_json_new_array();
    for (int k = 0; k < ind->n_params; k++) {
      const apex_ind_param *p = &ind->params[k];
      apex_json *pj = apex_json_new_object();
      apex_json_object_set(pj, "name", apex_json_new_string(p->name));
      apex_json_object_set(pj, "default", apex_json_new_number(p->def));
      apex_json_object_set(pj, "min", apex_json_new_number(p->min));
      apex_json_object_set(pj, "max", apex_json_new_number(p->max));
      apex_json_object_set(pj, "integer", apex_json_new_bool(p->integer));
      apex_json_array_append(params, pj);
    }
    for (int k = 0; k < ind->n_outputs; k++)
      apex_json_array_append(outputs, apex_json_new_string(ind->outputs[k]));
    for (size_t k = 0; k < sizeof INPUTS / sizeof INPUTS[0]; k++)
      if (ind->inputs & INPUTS[k].bit)
        apex_json_array_append(inputs, apex_json_new_string(INPUTS[k].name));
    apex_json_object_set(o, "name", apex_json_new_string(ind->name));
    apex_json_object_set(o, "title", apex_json_new_string(ind->title));
    apex_json_object_set(o, "params", params);
    apex_json_object_set(o, "outputs", outputs);
    apex_json_object_set(o, "inputs", inputs);
    apex_json_array_append(items, o);
  }
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "items", items);
  apex_json_object_set(j, "total", apex_json_new_integer((int64_t)n));
  return apex_res_json(res, 200, j);
}

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
