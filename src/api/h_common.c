/* h_common.c - what every handler shares: authentication, problems from app errors, paging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/handlers.h"

int apex_api_authenticate(apex_req *req, apex_res *res, void *app)
{
  apex_app *a = app;
  const char *h = apex_req_header(req, "Authorization");
  apex_jwt_claims c;
  if (!h || strncasecmp(h, "Bearer ", 7))
    return apex_res_error(res, APEX_E_AUTH_TOKEN_INVALID, "send an access token: Authorization: Bearer <token>"), 1;
  apex_jwt_status st = apex_jwt_verify(a->auth.ctx, h + 7, a->now_ms() / 1000, "access", &c);
  if (st == APEX_JWT_EXPIRED)
    return apex_res_error(res, APEX_E_AUTH_TOKEN_EXPIRED, "the access token has expired: refresh it"), 1;
  if (st != APEX_JWT_OK)
    return apex_res_error(res, APEX_E_AUTH_TOKEN_INVALID, "the access token is not valid"), 1;
  snprintf(req->user_id, sizeof req->user_id, "%s", c.sub);
  snprintf(req->user_email, sizeof req->user_email, "%s", c.email);
  return 0;
}

/* One errors[] item: the field (pointer without its leading '/'), the pointer, the message, and
 * the item's own code. */
static apex_json *error_item(const char *pointer, const char *message, int code)
{
  apex_json *o = apex_json_new_object();
  apex_json_object_set(o, "field", apex_json_new_string(pointer[0] == '/' ? pointer + 1 : pointer));
  apex_json_object_set(o, "pointer", apex_json_new_string(pointer));
  apex_json_object_set(o, "message", apex_json_new_string(message));
  apex_json_object_set(o, "code", apex_json_new_integer(code));
  return o;
}

int apex_api_fail(apex_res *res, const apex_app_error *e)
{
  apex_json *errors = NULL;
  if (e->problems.n) {
    errors = apex_json_new_array();
    for (size_t i = 0; i < e->problems.n; i++) {
      const apex_problem *p = &e->problems.item[i];
      apex_json_array_append(errors, error_item(p->pointer, p->message, p->code ? p->code : e->code));
    }
  }
  if ((e->status == 429 || e->status == 503) && e->retry_after > 0) {
    char b[16];
    snprintf(b, sizeof b, "%d", e->retry_after);
    apex_res_header(res, "Retry-After", b);
  }
  return apex_res_problem(res, e->status, e->code, e->title[0] ? e->title : NULL, e->detail, errors);
}

int apex_api_invalid(apex_res *res, const char *pointer, const char *message)
{
  apex_json *errs = apex_json_new_array();
  apex_json_array_append(errs, error_item(pointer, message, APEX_E_VALIDATION));
  return apex_res_problem(res, apex_code_status(APEX_E_VALIDATION), APEX_E_VALIDATION, NULL, message, errs);
}

static bool int_param(apex_req *req, apex_res *res, const char *name, int lo, int hi, int *out)
{
  const char *v = apex_req_query(req, name);
  char *end;
  if (!v)
    return true;
  long x = strtol(v, &end, 10);
  if (!*v || *end || x < lo || x > hi) {
    char ptr[64], msg[128];
    snprintf(ptr, sizeof ptr, "/%s", name);
    snprintf(msg, sizeof msg, "%s must be an integer from %d to %d", name, lo, hi);
    apex_api_invalid(res, ptr, msg);
    return false;
  }
  *out = (int)x;
  return true;
}

bool apex_api_page(apex_req *req, apex_res *res, apex_page *p)
{
  *p = (apex_page){.page = 1, .limit = 20, .desc = true};
  if (!int_param(req, res, "page", 1, 1000000, &p->page) || !int_param(req, res, "limit", 1, 100, &p->limit))
    return false;
  const char *sort = apex_req_query(req, "sort");
  if (sort && strcmp(sort, "-created_at") && strcmp(sort, "created_at")) {
    apex_api_invalid(res, "/sort", "sort must be created_at or -created_at");
    return false;
  }
  p->desc = !sort || sort[0] == '-';
  p->status = apex_req_query(req, "status");
  p->symbol = apex_req_query(req, "symbol");
  return true;
}

/* The list envelope with items null: apex_api_list fills it in, apex_api_list_texts splices. */
static apex_json *envelope(apex_json *items, int64_t total, const apex_page *p)
{
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "items", items ? items : apex_json_new_null());
  apex_json_object_set(j, "total", apex_json_new_integer(total));
  apex_json_object_set(j, "page", apex_json_new_integer(p->page));
  apex_json_object_set(j, "limit", apex_json_new_integer(p->limit));
  return j;
}

int apex_api_list(apex_res *res, apex_json *items, int64_t total, const apex_page *p)
{
  return apex_res_json(res, 200, envelope(items, total, p));
}

int apex_api_list_texts(apex_res *res, apex_app_texts *items, int64_t total, const apex_page *p)
{
  apex_json *j = envelope(NULL, total, p);
  size_t len = 0;
  char *text = j ? apex_json_dump_with_items(j, (const char *const *)items->text, items->len, items->n, &len) : NULL;
  apex_json_free(j);
  apex_app_texts_clear(items);
  if (!text)
    return -1;
  return apex_res_take(res, 200, "application/json", text, len);
}
