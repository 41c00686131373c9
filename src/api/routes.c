/* routes.c - the API's one route table (method, pattern, handler, auth, metrics label, flags with
 * the body kind: every route not marked takes a small body, http.h has the sizes).
 * tests/api/test_openapi.py checks it against openapi.json both ways. */
#include "api/handlers.h"

#define GET APEX_HTTP_GET
#define POST APEX_HTTP_POST
#define PUT APEX_HTTP_PUT
#define PATCH APEX_HTTP_PATCH
#define DEL APEX_HTTP_DELETE
#define DOCUMENT APEX_ROUTE_BODY(APEX_BODY_DOCUMENT)
#define SUBMIT APEX_ROUTE_BODY(APEX_BODY_SUBMIT)

const apex_route apex_api_routes[] = {
    {GET, "/healthz", h_health, false, "healthz", 0},
    {GET, "/readyz", h_ready, false, "readyz", 0},
    {GET, "/metrics", h_metrics, false, "metrics", 0},
    {GET, "/api/v1/openapi.json", h_openapi, false, "openapi", 0},
    /* Live events (spec 5.7): a route kind the server answers itself (501 until the hub exists). */
    {GET, "/api/v1/ws", NULL, false, "ws", APEX_ROUTE_UPGRADE},

    {POST, "/api/v1/auth/register", h_auth_register, false, "auth.register", 0},
    {POST, "/api/v1/auth/login", h_auth_login, false, "auth.login", 0},
    {POST, "/api/v1/auth/refresh", h_auth_refresh, false, "auth.refresh", 0},
    {POST, "/api/v1/auth/logout", h_auth_logout, false, "auth.logout", 0},
    {POST, "/api/v1/auth/forgot", h_auth_forgot, false, "auth.forgot", 0},
    {POST, "/api/v1/auth/reset", h_auth_reset, false, "auth.reset", 0},
    {GET, "/api/v1/auth/me", h_auth_me, true, "auth.me", 0},
    {PATCH, "/api/v1/auth/me", h_auth_me_update, true, "auth.me_update", 0},

    {GET, "/api/v1/indicators", h_indicators_list, true, "indicators.list", 0},
    {GET, "/api/v1/strategies", h_strategies_list, true, "strategies.list", 0},
    {POST, "/api/v1/strategies", h_strategies_create, true, "strategies.create", DOCUMENT},
    {GET, "/api/v1/strategies/{id}", h_strategies_get, true, "strategies.get", 0},
    {PUT, "/api/v1/strategies/{id}", h_strategies_update, true, "strategies.update", DOCUMENT},
    {DEL, "/api/v1/strategies/{id}", h_strategies_delete, true, "strategies.delete", 0},
    {POST, "/api/v1/strategies/{id}/activate", h_strategies_activate, true, "strategies.activate", 0},
    {POST, "/api/v1/strategies/{id}/deactivate", h_strategies_deactivate, true, "strategies.deactivate", 0},
    {POST, "/api/v1/strategies/{id}/clone", h_strategies_clone, true, "strategies.clone", 0},
    {GET, "/api/v1/strategies/{id}/run", h_strategies_run, true, "strategies.run", 0},
    {GET, "/api/v1/strategies/{id}/refusals", h_strategies_refusals, true, "strategies.refusals", 0},
    {GET, "/api/v1/strategies/{id}/drift", h_strategies_drift, true, "strategies.drift", 0},
    {GET, "/api/v1/strategies/{id}/versions", h_strategies_versions, true, "strategies.versions", 0},
    {GET, "/api/v1/strategies/{id}/versions/{version}", h_strategies_version, true, "strategies.version", 0},

    {GET, "/api/v1/rules", h_rules_list, true, "rules.list", 0},
    {POST, "/api/v1/rules", h_rules_create, true, "rules.create", DOCUMENT},
    {POST, "/api/v1/rules/validate", h_rules_validate, true, "rules.validate", DOCUMENT},
    {GET, "/api/v1/rules/{id}", h_rules_get, true, "rules.get", 0},
    {PUT, "/api/v1/rules/{id}", h_rules_update, true, "rules.update", DOCUMENT},
    {DEL, "/api/v1/rules/{id}", h_rules_delete, true, "rules.delete", 0},
    {GET, "/api/v1/rules/{id}/dependencies", h_rules_dependencies, true, "rules.dependencies", 0},

    {GET, "/api/v1/backtests", h_backtests_list, true, "backtests.list", 0},
    {POST, "/api/v1/backtests", h_backtests_create, true, "backtests.create", SUBMIT},
    {GET, "/api/v1/backtests/{id}", h_backtests_get, true, "backtests.get", 0},
    {DEL, "/api/v1/backtests/{id}", h_backtests_cancel, true, "backtests.cancel", 0},
    {GET, "/api/v1/backtests/{id}/trades", h_backtests_trades, true, "backtests.trades", 0},
    {GET, "/api/v1/backtests/{id}/equity", h_backtests_equity, true, "backtests.equity", 0},
    {GET, "/api/v1/backtests/{id}/report", h_backtests_report, true, "backtests.report", 0},

    {GET, "/api/v1/portfolios", h_portfolios_list, true, "portfolios.list", 0},
    {POST, "/api/v1/portfolios", h_portfolios_create, true, "portfolios.create", 0},
    {GET, "/api/v1/portfolios/{id}", h_portfolios_get, true, "portfolios.get", 0},
    {PUT, "/api/v1/portfolios/{id}", h_portfolios_update, true, "portfolios.update", 0},
    {DEL, "/api/v1/portfolios/{id}", h_portfolios_delete, true, "portfolios.delete", 0},
    {GET, "/api/v1/portfolios/{id}/positions", h_portfolios_positions, true, "portfolios.positions", 0},
    {GET, "/api/v1/portfolios/{id}/trades", h_portfolios_trades, true, "portfolios.trades", 0},
    {GET, "/api/v1/portfolios/{id}/performance", h_portfolios_performance, true, "portfolios.performance", 0},
    {GET, "/api/v1/portfolios/{id}/equity", h_portfolios_equity, true, "portfolios.equity", 0},

    {GET, "/api/v1/trading/status", h_trading_status, true, "trading.status", 0},
    {POST, "/api/v1/trading/kill-switch", h_trading_kill_switch, true, "trading.kill_switch", 0},

    {GET, "/api/v1/api-keys", h_apikeys_list, true, "api_keys.list", 0},
    {POST, "/api/v1/api-keys", h_apikeys_create, true, "api_keys.create", 0},
    {DEL, "/api/v1/api-keys/{id}", h_apikeys_delete, true, "api_keys.delete", 0},

    {GET, "/api/v1/market/symbols", h_market_symbols, true, "market.symbols", 0},
    {GET, "/api/v1/market/ticker/{symbol*}", h_market_ticker, true, "market.ticker", 0},
    {GET, "/api/v1/market/ohlcv/{symbol*}", h_market_ohlcv, true, "market.ohlcv", 0},
    {GET, "/api/v1/market/orderbook/{symbol*}", h_market_orderbook, true, "market.orderbook", 0},
    {POST, "/api/v1/market/sync", h_market_sync_create, true, "market.sync_create", 0},
    {GET, "/api/v1/market/sync/{id}", h_market_sync_get, true, "market.sync_get", 0},
};
const size_t apex_api_n_routes = sizeof apex_api_routes / sizeof apex_api_routes[0];
