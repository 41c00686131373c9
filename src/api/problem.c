/* problem.c - filling responses: JSON, text and bytes bodies, extra headers, and RFC 7807
 * problem details with the spec's error codes (Appendix B). No I/O: server.c sends what is here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http.h"
#include "api/router.h"
#include "base/utf8.h"

void apex_res_reset(apex_res *res)
{
  free(res->body);
  res->body = NULL;
  res->body_len = 0;
  for (size_t i = 0; i < res->n_headers; i++) {
    free((char *)res->headers[i].name);
    free((char *)res->headers[i].value);
  }
  res->n_headers = 0;
  res->status = 0;
  res->content_type[0] = 0;
}

int apex_res_take(apex_res *res, int status, const char *content_type, char *data, size_t len)
{
  free(res->body);
  res->body = data;
  res->body_len = data ? len : 0;
  res->status = status;
  snprintf(res->content_type, sizeof res->content_type, "%s", content_type ? content_type : "");
  return 0;
}

int apex_res_bytes(apex_res *res, int status, const char *content_type, const void *data, size_t len)
{
  char *copy = malloc(len ? len : 1);
  if (!copy)
    return -1;
  if (len)
    memcpy(copy, data, len);
  return apex_res_take(res, status, content_type, copy, len);
}

int apex_res_text(apex_res *res, int status, const char *content_type, const char *text)
{
  return apex_res_bytes(res, status, content_type, text, strlen(text));
}

int apex_res_json_text(apex_res *res, int status, const char *json)
{
  return apex_res_bytes(res, status, "application/json", json, strlen(json));
}

int apex_res_json(apex_res *res, int status, apex_json *body)
{
  if (!body)
    return apex_res_take(res, status, NULL, NULL, 0);
  char *text = apex_json_dump(body, false);
  apex_json_free(body);
  if (!text)
    return -1;
  return apex_res_take(res, status, "application/json", text, strlen(text));
}

int apex_res_header(apex_res *res, const char *name, const char *value)
{
  if (res->n_headers >= APEX_HTTP_MAX_HEADERS)
    return -1;
  /* A CR or LF would let a value start a new header. */
  if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
    return -1;
  char *n = strdup(name), *v = strdup(value);
  if (!n || !v) {
    free(n);
    free(v);
    return -1;
  }
  res->headers[res->n_headers].name = n;
  res->headers[res->n_headers].value = v;
  res->n_headers++;
  return 0;
}

/* --- codes: app/errors.def is the one list --- */
int apex_problem_status(int code)
{
  int st = apex_code_status(code);
  if (st)
    return st;
  if (code >= 100 && code <= 599)
    return code;
  return 500;
}

const char *apex_problem_title(int code)
{
  const char *t = apex_code_title(code);
  if (t)
    return t;
  if (code >= 100 && code <= 599 && strcmp(apex_http_reason(code), "Unknown"))
    return apex_http_reason(code);
  return "Internal Server Error";
}

int apex_http_status_for(apex_err e)
{
  switch (e) {
  case APEX_OK: return 200;
  case APEX_ENOTFOUND: return 404;
  case APEX_ECONFLICT: return 409;
  case APEX_EINVAL:
  case APEX_EDATA:
  case APEX_EPARSE:
  case APEX_ENOFUNDS: return 422;
  case APEX_ETOOBIG: return 413;
  case APEX_ECANCELED: return 409;
  default: return 500;
  }
}

/* "Strategy Not Found" → "strategy-not-found" */
static void slugify(const char *title, char *out, size_t len)
{
  size_t w = 0;
  bool dash = false;
  for (const char *c = title; *c && w + 2 < len; c++) {
    char ch = *c;
    if (ch >= 'A' && ch <= 'Z')
      ch = (char)(ch - 'A' + 'a');
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
      if (dash && w)
        out[w++] = '-';
      out[w++] = ch;
      dash = false;
    } else {
      dash = true;
    }
  }
  out[w] = 0;
}

int apex_res_problem(apex_res *res, int status, int code, const char *title, const char *detail, apex_json *errors)
{
  if (!title)
    title = apex_problem_title(code ? code : status);
  char slug[96], type[160];
  slugify(title, slug, sizeof slug);
  snprintf(type, sizeof type, "https://apextrade.io/errors/%s", slug);
  apex_json *o = apex_json_new_object();
  if (!o) {
    apex_json_free(errors);
    return -1;
  }
  apex_err rc = APEX_OK;
  rc |= apex_json_object_set(o, "type", apex_json_new_string(type));
  rc |= apex_json_object_set(o, "title", apex_json_new_string(title));
  rc |= apex_json_object_set(o, "status", apex_json_new_integer(status));
  if (detail)
    rc |= apex_json_object_set(o, "detail", apex_json_new_string(detail));
  rc |= apex_json_object_set(o, "instance", apex_json_new_string(res->instance ? res->instance : ""));
  rc |= apex_json_object_set(o, "code", apex_json_new_integer(code ? code : status));
  if (errors)
    rc |= apex_json_object_set(o, "errors", errors);
  if (rc) {
    apex_json_free(o);
    return -1;
  }
  char *text = apex_json_dump(o, false);
  apex_json_free(o);
  if (!text)
    return -1;
  return apex_res_take(res, status, "application/problem+json", text, strlen(text));
}

int apex_res_error(apex_res *res, int code, const char *detail)
{
  return apex_res_problem(res, apex_problem_status(code), code, NULL, detail, NULL);
}

int apex_res_errorf(apex_res *res, int code, const char *fmt, ...)
{
  char detail[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  apex_utf8_trim(detail); /* a detail quoting the client's text may end in half a character */
  return apex_res_error(res, code, detail);
}

static void free_json(void *p) { apex_json_free(p); }

const apex_json *apex_req_json(apex_req *req, apex_res *res)
{
  apex_json *doc = NULL;
  apex_error err = {0};
  if (!req->body || req->body_len == 0) {
    apex_res_error(res, APEX_E_VALIDATION, "a JSON body is required");
    return NULL;
  }
  apex_err rc = apex_json_parse_strict(req->body, req->body_len, req->body_len, &doc, &err);
  if (rc == APEX_ENOMEM) {
    apex_res_error(res, APEX_E_INTERNAL, NULL);
    return NULL;
  }
  if (rc) {
    apex_res_error(res, APEX_E_BAD_REQUEST, err.msg[0] ? err.msg : "the body is not valid JSON");
    return NULL;
  }
  if (apex_req_defer(req, free_json, doc)) {
    apex_res_error(res, APEX_E_INTERNAL, NULL);
    return NULL;
  }
  return doc;
}
