/* h_auth.c - the /api/v1/auth routes: register, login, refresh, logout, forgot, reset, me. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/handlers.h"

#define COOKIE "refresh_token"

/* Tokens in the body (for non-browser clients) and the refresh token as an HttpOnly cookie. */
static int send_tokens(apex_res *res, int status, apex_tokens *t, const apex_user *u)
{
  char cookie[256];
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "access_token", apex_json_new_string(t->access));
  apex_json_object_set(j, "token_type", apex_json_new_string("bearer"));
  apex_json_object_set(j, "expires_in", apex_json_new_integer(t->access_expires_in));
  apex_json_object_set(j, "refresh_token", apex_json_new_string(t->refresh));
  apex_json_object_set(j, "refresh_expires_in", apex_json_new_integer(t->refresh_expires_in));
  if (u)
    apex_json_object_set(j, "user", apex_app_user_json(u));
  snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/api/v1/auth; Max-Age=%lld; HttpOnly; Secure; SameSite=Strict",
           t->refresh, (long long)t->refresh_expires_in);
  apex_res_header(res, "Set-Cookie", cookie);
  apex_res_header(res, "Cache-Control", "no-store");
  apex_tokens_clear(t);
  return apex_res_json(res, status, j);
}

/* The refresh token from the body, else from the cookie. */
static const char *refresh_token(apex_req *req, apex_res *res, bool *bad_body)
{
  *bad_body = false;
  if (req->body_len) {
    const apex_json *b = apex_req_json(req, res);
    if (!b) {
      *bad_body = true;
      return NULL;
    }
    const char *t = apex_json_string_value(apex_json_object_get(b, "refresh_token"));
    if (t)
      return t;
  }
  const char *c = apex_req_header(req, "Cookie");
  for (const char *p = c; p && (p = strstr(p, COOKIE "=")); p++) {
    if (p != c && p[-1] != ' ' && p[-1] != ';')
      continue;
    p += sizeof COOKIE;
    size_t n = strcspn(p, "; ");
    char *v = apex_req_alloc(req, n + 1);
    if (v) {
      memcpy(v, p, n);
      v[n] = '\0';
    }
    return v;
  }
  return NULL;
}

int h_auth_register(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_user u;
  const apex_json *b = apex_req_json(req, res);
  if (!b)
    return 0;
  if (apex_app_register(app, b, req->client_ip, &u, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 201, apex_app_user_json(&u));
}

int h_auth_login(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_tokens t;
  apex_user u;
  const apex_json *b = apex_req_json(req, res);
  if (!b)
    return 0;
  if (apex_app_login(app, b, req->client_ip, &t, &u, &e))
    return apex_api_fail(res, &e);
  return send_tokens(res, 200, &t, &u);
}

int h_auth_refresh(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_tokens t;
  bool bad;
  const char *tok = refresh_token(req, res, &bad);
  if (bad)
    return 0;
  if (apex_app_refresh(app, tok, &t, &e))
    return apex_api_fail(res, &e);
  return send_tokens(res, 200, &t, NULL);
}

int h_auth_logout(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  bool bad;
  const char *tok = refresh_token(req, res, &bad);
  if (bad)
    return 0;
  const char *bearer = apex_req_header(req, "Authorization");
  if (bearer && strncasecmp(bearer, "Bearer ", 7))
    bearer = NULL;
  if (apex_app_logout(app, tok, bearer ? bearer + 7 : NULL, &e))
    return apex_api_fail(res, &e);
  apex_res_header(res, "Set-Cookie", COOKIE "=; Path=/api/v1/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
  return apex_res_json(res, 204, NULL);
}

int h_auth_forgot(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  const apex_json *b = apex_req_json(req, res);
  if (!b)
    return 0;
  if (apex_app_forgot(app, b, req->client_ip, &e))
    return apex_api_fail(res, &e);
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "detail", apex_json_new_string("if the account exists, a reset token has been sent"));
  return apex_res_json(res, 202, j);
}

int h_auth_reset(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  const apex_json *b = apex_req_json(req, res);
  if (!b)
    return 0;
  if (apex_app_reset(app, b, req->client_ip, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 204, NULL);
}

int h_auth_me(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_user u;
  if (apex_app_me(app, req->user_id, &u, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, apex_app_user_json(&u));
}

int h_auth_me_update(apex_req *req, apex_res *res, void *app)
{
  apex_app_error e = {0};
  apex_user u;
  const apex_json *b = apex_req_json(req, res);
  if (!b)
    return 0;
  if (!apex_json_is_object(b))
    return apex_res_error(res, APEX_E_VALIDATION, "the body must be a JSON object");
  if (apex_app_me_update(app, req->user_id, b, &u, &e))
    return apex_api_fail(res, &e);
  return apex_res_json(res, 200, apex_app_user_json(&u));
}
