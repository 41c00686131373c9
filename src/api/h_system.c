/* h_system.c - /healthz (process alive), /readyz (database reachable), /metrics, the OpenAPI document. */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "api/prom.h"

extern const char apex_openapi_json[]; /* openapi.json, compiled in (see CMakeLists.txt) */

int h_health(apex_req *req, apex_res *res, void *app)
{
  (void)req;
  (void)app;
  return apex_res_json_text(res, 200, "{\"status\":\"ok\"}");
}

int h_ready(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  const char *backend = NULL;
  (void)req;
  if (apex_app_ready(app, &backend, &e))
    return apex_api_fail(res, &e);
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "status", apex_json_new_string("ready"));
  apex_json_object_set(j, "database", apex_json_new_string(backend));
  return apex_res_json(res, 200, j);
}

int h_metrics(apex_req *req, apex_res *res, void *app) { return apex_prom_handler(req, res, app); }

int h_openapi(apex_req *req, apex_res *res, void *app)
{
  (void)req;
  (void)app;
  return apex_res_json_text(res, 200, apex_openapi_json);
}
