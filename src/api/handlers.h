/* handlers.h - the API's handlers (h_*.c) and the one route table (routes.c). Each handler decodes
 * a request, calls one app/ use case, and encodes the result or the problem. */
#ifndef APEX_API_HANDLERS_H
#define APEX_API_HANDLERS_H

#include <pthread.h>

#include "api/http.h"
#include "app/app.h"

/* The route table of the whole API. */
extern const apex_route apex_api_routes[];
extern const size_t apex_api_n_routes;

/* Bearer access token → req->user_id; 401 problem (1002 expired, 1003 invalid) otherwise. */
int apex_api_authenticate(apex_req *req, apex_res *res, void *app);
/* Writes an app error as a problem body (errors[] from its problems, Retry-After for 429). */
int apex_api_fail(apex_res *res, const apex_app_error *e);
/* 422 with one errors[] item for the field at pointer ("/limit"). Returns what apex_res_problem does. */
int apex_api_invalid(apex_res *res, const char *pointer, const char *message);
/* page/limit/sort/status/symbol from the query; 422 problem and false when malformed. */
bool apex_api_page(apex_req *req, apex_res *res, apex_page *p);
/* {"items": items, "total", "page", "limit"} */
int apex_api_list(apex_res *res, apex_json *items, int64_t total, const apex_page *p);
/* The same with items already JSON texts (apex_app_strategy_list); frees them. */
int apex_api_list_texts(apex_res *res, apex_app_texts *items, int64_t total, const apex_page *p);

/* GET /api/v1/ws (h_ws.c): apex_server_opts' ws_* callbacks over ws_ctx = an apex_api_ws, and
 * the hub's questions (apex_ws_hub_opts.verify and owns_portfolio over ctx = the app). */
struct apex_ws_hub;
typedef struct apex_api_ws {
  apex_app *app;
  struct apex_ws_hub *hub; /* NULL once stopped: sockets upgraded after are closed at once */
  size_t max_sockets;      /* upgrades beyond this many open sockets answer 503 */
  pthread_mutex_t mu;      /* hub, between the server's threads and apex_api_ws_stop */
} apex_api_ws;
/* Frees the hub (every socket closed with 1001): apex_server_opts.ws_stop. */
void apex_api_ws_stop(void *ctx);
int apex_api_ws_accept(void *ctx, apex_req *req, apex_res *res, void **peer);
void apex_api_ws_adopt(void *ctx, void *peer, int fd, const char *extra, size_t n_extra);
void apex_api_ws_discard(void *peer);
int apex_api_ws_verify(void *app, const char *token, char *user_id, int64_t *exp_ms);
bool apex_api_ws_owns_portfolio(void *app, const char *user_id, const char *portfolio_id);

#define H(name) int name(apex_req *req, apex_res *res, void *app)
H(h_health);
H(h_ready);
H(h_metrics);
H(h_openapi);
H(h_auth_register);
H(h_auth_login);
H(h_auth_refresh);
H(h_auth_logout);
H(h_auth_forgot);
H(h_auth_reset);
H(h_auth_me);
H(h_auth_me_update);
H(h_indicators_list);
H(h_rules_list);
H(h_rules_create);
H(h_rules_get);
H(h_rules_update);
H(h_rules_delete);
H(h_rules_validate);
H(h_rules_dependencies);
H(h_strategies_list);
H(h_strategies_create);
H(h_strategies_get);
H(h_strategies_update);
H(h_strategies_delete);
H(h_strategies_activate);
H(h_strategies_deactivate);
H(h_strategies_clone);
H(h_strategies_versions);
H(h_strategies_version);
H(h_strategies_run);
H(h_strategies_refusals);
H(h_strategies_drift);
H(h_trading_kill_switch);
H(h_trading_status);
H(h_backtests_list);
H(h_backtests_create);
H(h_backtests_get);
H(h_backtests_cancel);
H(h_backtests_trades);
H(h_backtests_equity);
H(h_backtests_report);
H(h_market_symbols);
H(h_market_ticker);
H(h_market_ohlcv);
H(h_market_orderbook);
H(h_market_sync_create);
H(h_market_sync_get);
H(h_portfolios_list);
H(h_portfolios_create);
H(h_portfolios_get);
H(h_portfolios_update);
H(h_portfolios_delete);
H(h_portfolios_positions);
H(h_portfolios_trades);
H(h_portfolios_performance);
H(h_portfolios_equity);
H(h_apikeys_list);
H(h_apikeys_create);
H(h_apikeys_delete);
#undef H

#endif
