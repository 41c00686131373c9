/* h_apikeys.c - /api/v1/api-keys: create, list, delete broker API keys. Responses carry a masked
 * hint of the key, never the key or the secret; the body is parsed by the use case, whose errors
 * quote no value from it (jansson's own messages would). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"

int h_apikeys_list(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_page p;
  apex_json *items;
  int64_t total = 0;
  if (!apex_api_page(req, res, &p))
    return 0;
  if (apex_app_api_key_list(app, req->user_id, &p, &items, &total, &e))
    return apex_api_fail(res, &e);
  return apex_api_list(res, items, total, &p);
}

int h_apikeys_create(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_api_key_row r = {0};
  if (!req->body || !req->body_len)
    return apex_res_error(res, APEX_E_VALIDATION, "a JSON body is required");
  if (apex_app_api_key_create(app, req->user_id, req->body, req->body_len, &r, &e))
    return apex_api_fail(res, &e);
  char loc[128];
  snprintf(loc, sizeof loc, "/api/v1/api-keys/%s", r.id);
  apex_res_header(res, "Location", loc);
  return apex_res_json(res, 201, apex_app_api_key_json(&r));
}

int h_apikeys_delete(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  if (apex_app_api_key_delete(app, req->user_id, apex_req_param(req, "id"), &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 204, NULL);
}
