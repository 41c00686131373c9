/* h_ws.c - GET /api/v1/ws: what the server asks before an upgrade (the token) and what the
 * WebSocket hub asks of the application (a token's owner, a portfolio's owner). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/ws.h"

int apex_api_ws_verify(void *app, const char *token, char *user_id, int64_t *exp_ms)
{
  apex_app *a = app;
  apex_jwt_claims c;
  apex_jwt_status st = apex_jwt_verify(a->auth.ctx, token, a->now_ms() / 1000, "access", &c);
  if (st != APEX_JWT_OK)
    return st == APEX_JWT_EXPIRED ? APEX_E_AUTH_TOKEN_EXPIRED : APEX_E_AUTH_TOKEN_INVALID;
  snprintf(user_id, 37, "%s", c.sub);
  *exp_ms = c.exp * 1000;
  return 0;
}

bool apex_api_ws_owns_portfolio(void *app, const char *user_id, const char *portfolio_id)
{
  apex_app *a = app;
  apex_portfolio_row row;
  apex_error err;
  return apex_store_portfolio_get(a->store, user_id, portfolio_id, &row, &err) == APEX_OK;
}

/* The token comes in the query (browsers cannot set headers on a WebSocket), in an Authorization
 * header, or later in the first message; a token given here must be good. */
int apex_api_ws_accept(void *ctx, apex_req *req, apex_res *res, void **peer)
{
  apex_api_ws *w = ctx;
  pthread_mutex_lock(&w->mu);
  size_t open = w->hub ? apex_ws_hub_count(w->hub) : 0;
  pthread_mutex_unlock(&w->mu);
  if (open >= w->max_sockets) {
    apex_res_error(res, APEX_E_UNAVAILABLE, "too many WebSocket connections are open (HTTP_MAX_CONNECTIONS): retry later");
    apex_res_header(res, "Retry-After", "5");
    return 1;
  }
  const char *token = apex_req_query(req, "token");
  const char *h = apex_req_header(req, "Authorization");
  if ((!token || !token[0]) && h && !strncasecmp(h, "Bearer ", 7))
    token = h + 7;
  apex_ws_peer *p = calloc(1, sizeof *p);
  if (!p)
    return apex_res_error(res, APEX_E_INTERNAL, NULL), 1;
  if (token && token[0]) {
    int st = apex_api_ws_verify(w->app, token, p->user_id, &p->exp_ms);
    if (st || !(p->token = strdup(token))) {
      free(p);
      if (!st)
        return apex_res_error(res, APEX_E_INTERNAL, NULL), 1;
      return apex_res_error(res, st, st == APEX_E_AUTH_TOKEN_EXPIRED ? "the access token has expired: refresh it"
                                                                     : "the access token is not valid"),
             1;
    }
    snprintf(req->user_id, sizeof req->user_id, "%s", p->user_id); /* for the access log */
  }
  *peer = p;
  return 0;
}

void apex_api_ws_discard(void *peer)
{
  apex_ws_peer *p = peer;
  if (p)
    free(p->token);
  free(p);
}

void apex_api_ws_adopt(void *ctx, void *peer, int fd, const char *extra, size_t n_extra)
{
  apex_api_ws *w = ctx;
  pthread_mutex_lock(&w->mu);
  if (w->hub)
    apex_ws_hub_adopt(w->hub, fd, extra, n_extra, peer);
  else
    close(fd);
  pthread_mutex_unlock(&w->mu);
  apex_api_ws_discard(peer); /* its token went to the hub, if there was one */
}

void apex_api_ws_stop(void *ctx)
{
  apex_api_ws *w = ctx;
  pthread_mutex_lock(&w->mu);
  apex_ws_hub_free(w->hub);
  w->hub = NULL;
  pthread_mutex_unlock(&w->mu);
}
