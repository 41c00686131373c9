#!/usr/bin/python3
"""Writes src/api/openapi.json, the OpenAPI 3.1 document of the API. Run after changing routes:
   /usr/bin/python3 scripts/gen-openapi.py
tests/api/test_openapi.py checks the document against the server's route table both ways."""
import json, os

P = lambda name, where="path", schema=None, required=None, desc=None: {
    "name": name, "in": where, "required": where == "path" if required is None else required,
    "schema": schema or {"type": "string"}, **({"description": desc} if desc else {})}
PAGE = [P("page", "query", {"type": "integer", "minimum": 1, "default": 1}),
        P("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
        P("sort", "query", {"type": "string", "enum": ["created_at", "-created_at"], "default": "-created_at"})]
FILTERS = [P("status", "query"), P("symbol", "query")]
ID = [P("id", schema={"type": "string", "format": "uuid"})]
SYM = [P("symbol", desc="e.g. BTC/USDT or ORCL (the slash is part of the path)")]

def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def body(schema): return {"required": True, "content": {"application/json": {"schema": schema}}}
def ok(schema=None, status="200", desc="OK"):
    r = {"description": desc}
    if schema is not None:
        r["content"] = {"application/json": {"schema": schema}}
    return {status: r}
# Body limits per route kind (src/api/http.h, apex_http_body_limit); tests/api/test_openapi.py
# checks x-max-body-bytes against `apextrade serve --routes`.
SMALL, SUBMIT, DOCUMENT = 32 * 1024, 64 * 1024, 512 * 1024
def problems(*codes, limit=SMALL):
    names = {400: "Malformed JSON", 401: "Not authenticated (1002 token expired, 1003 token invalid)",
             403: "Forbidden", 404: "Not found (also another user's resource)", 405: "Method not allowed",
             409: "Conflict", 413: f"Body over {limit // 1024} KiB", 415: "Body is not JSON", 422: "Validation error",
             426: "Upgrade Required (WebSocket version 13 only)", 429: "Rate limited (Retry-After)",
             501: "Not implemented yet", 503: "Not ready"}
    return {str(c): {"description": names.get(c, "Error"),
                     "content": {"application/problem+json": {"schema": ref("Problem")}}} for c in codes}
def page_of(n): return {"type": "object", "properties": {"items": {"type": "array", "items": ref(n)}, "total": {"type": "integer"},
                                                        "page": {"type": "integer"}, "limit": {"type": "integer"}}}
def op(summary, tag, responses, params=None, req=None, auth=True, codes=(), limit=SMALL):
    # Every route: 429 when the client has too many requests in flight (HTTP_MAX_CONNECTIONS_PER_CLIENT);
    # with a body also 400 (malformed JSON or framing), 413 (over the route's limit) and 415 (not JSON).
    codes = sorted(set(codes) | {429} | ({400, 413, 415} if req else set()))
    o = {"summary": summary, "tags": [tag], "responses": {**responses, **problems(*codes, limit=limit)}}
    if params: o["parameters"] = params
    if req: o["requestBody"] = {**req, "x-max-body-bytes": limit}
    o["security"] = [{"bearer": []}] if auth else []
    return o

AUTHC = (401,)
paths = {
 "/healthz": {"get": op("Process alive", "system", ok({"type": "object"}), auth=False)},
 "/readyz": {"get": op("Database reachable", "system", ok({"type": "object"}), auth=False, codes=(503,))},
 "/metrics": {"get": op("Prometheus metrics (text format)", "system",
                        {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}}, auth=False)},
 "/api/v1/openapi.json": {"get": op("This document", "system", ok({"type": "object"}), auth=False)},
 "/api/v1/ws": {"get": {**op("Live events over WebSocket (spec 5.7; protocol: docs/websocket.md): ticker, candles, "
                              "portfolio, trade, backtest_progress, strategy", "system",
                              {"101": {"description": "Switching Protocols: JSON text frames as docs/websocket.md"}},
                              params=[{"name": "token", "in": "query", "required": False, "schema": {"type": "string"},
                                       "description": "the access token; without it the first message must be "
                                                      "{\"action\": \"auth\", \"token\": ...}"}],
                              auth=False, codes=(400, 401, 403, 426, 503)),
                          "x-websocket": "docs/websocket.md"}},
 "/api/v1/auth/register": {"post": op("Create an account", "auth", ok(ref("User"), "201", "Created"),
                                      req=body(ref("Register")), auth=False, codes=(400, 409, 415, 422))},
 "/api/v1/auth/login": {"post": op("Log in: access token + refresh token (also as HttpOnly cookie)", "auth",
                                   ok(ref("Tokens")), req=body(ref("Login")), auth=False, codes=(400, 401, 422, 429))},
 "/api/v1/auth/refresh": {"post": op("Rotate a refresh token (body or cookie); reuse revokes the family", "auth",
                                     ok(ref("Tokens")), req={"required": False, "content": {"application/json": {"schema": ref("Refresh")}}},
                                     auth=False, codes=(400, 401))},
 "/api/v1/auth/logout": {"post": op("Revoke the refresh token's family", "auth", {"204": {"description": "Logged out"}},
                                    req={"required": False, "content": {"application/json": {"schema": ref("Refresh")}}}, auth=False)},
 "/api/v1/auth/forgot": {"post": op("Send a password reset token (same answer for unknown emails)", "auth",
                                    ok({"type": "object"}, "202", "Accepted"), req=body(ref("Forgot")), auth=False, codes=(400, 422))},
 "/api/v1/auth/reset": {"post": op("Set a new password with a reset token", "auth", {"204": {"description": "Done"}},
                                   req=body(ref("Reset")), auth=False, codes=(400, 401, 422))},
 "/api/v1/auth/me": {"get": op("The current user", "auth", ok(ref("User")), codes=AUTHC),
                     "patch": op("Update profile, time zone, preferred currency", "auth", ok(ref("User")),
                                 req=body(ref("Profile")), codes=AUTHC + (400, 422))},
 "/api/v1/strategies": {"get": op("List strategies", "strategies", ok(ref("StrategyPage")), PAGE + FILTERS, codes=AUTHC + (422,)),
                        "post": op("Create a strategy (the document apextrade backtest --strategy reads)", "strategies",
                                   ok(ref("Strategy"), "201", "Created"), req=body(ref("StrategyDocument")), codes=AUTHC + (400, 415, 422),
                                   limit=DOCUMENT)},
 "/api/v1/strategies/{id}": {"get": op("Get a strategy", "strategies", ok(ref("Strategy")), ID, codes=AUTHC + (404,)),
                             "put": op("Replace a strategy (stores a new version)", "strategies", ok(ref("Strategy")), ID,
                                       body(ref("StrategyDocument")), codes=AUTHC + (400, 404, 415, 422), limit=DOCUMENT),
                             "delete": op("Delete a strategy", "strategies", {"204": {"description": "Deleted"}}, ID, codes=AUTHC + (404,))},
 "/api/v1/strategies/{id}/activate": {"post": op("Start a run: paper on one of the user's portfolios, or live with one of their broker keys "
                                                 "(FEATURE_LIVE_TRADING=true, confirm_live; 4001 the venue's free balance is below the capital, "
                                                 "4002 the venue refuses the key, 4003 the venue does not answer, 5001 the venue does not trade the pair)", "strategies",
                                                 ok(ref("Strategy")), ID, {"required": True, "content": {"application/json": {"schema": ref("Activate")}}},
                                                 codes=AUTHC + (403, 404, 409, 422, 429, 501, 502, 503))},
 "/api/v1/strategies/{id}/drift": {"get": op("The run's real fills against a backtest of the same strategy over the same candles: per round trip "
                                             "(backtest, real, entry/exit price difference in basis points, positive worse for the trader, time, fee and "
                                             "P&L differences) and totals", "strategies", ok(ref("Drift")), ID, codes=AUTHC + (404, 422))},
 "/api/v1/trading/status": {"get": op("Whether this server trades live (FEATURE_LIVE_TRADING) and how many live strategies the caller runs",
                                       "trading", ok(ref("TradingStatus")), codes=AUTHC)},
 "/api/v1/trading/kill-switch": {"post": op("The kill switch: every live strategy of the caller stopped, orders not yet sent failed, open ones "
                                            "cancelled at the venue", "trading", ok(ref("KillSwitch")), codes=AUTHC)},
 "/api/v1/strategies/{id}/run": {"get": op("The strategy's newest run: portfolio, capital in the quote currency, FX rate, first and last candle stepped", "strategies",
                                           ok({"type": "object"}), ID, codes=AUTHC + (404,))},
 "/api/v1/strategies/{id}/refusals": {"get": op("Pre-trade risk refusals, newest first: a page of {time, kind, detail, quantity, run_id, portfolio_id}", "strategies",
                                                ok({"type": "object"}), ID + PAGE[:2], codes=AUTHC + (404, 422))},
 "/api/v1/strategies/{id}/deactivate": {"post": op("Pause trading", "strategies", ok(ref("Strategy")), ID, codes=AUTHC + (404, 409))},
 "/api/v1/strategies/{id}/clone": {"post": op("Duplicate a strategy", "strategies", ok(ref("Strategy"), "201", "Created"), ID, codes=AUTHC + (404,))},
 "/api/v1/strategies/{id}/versions": {"get": op("Version history, newest first: a page of {version, name, created_at}", "strategies", ok({"type": "object"}), ID + PAGE[:2], codes=AUTHC + (404, 422))},
 "/api/v1/strategies/{id}/versions/{version}": {"get": op("One version with its document (definition)", "strategies", ok({"type": "object"}), ID + [P("version", schema={"type": "integer", "minimum": 1})], codes=AUTHC + (404,))},
 "/api/v1/indicators": {"get": op("The indicator registry rules can use: {items: [{name, title, params: [{name, default, min, max, integer}], outputs, inputs}], total}; the first output is a condition's default", "rules",
                                  ok({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"}}}), codes=AUTHC)},
 "/api/v1/rules": {"get": op("List the rule library", "rules", ok(page_of("LibraryRule")), PAGE, codes=AUTHC + (422,)),
                   "post": op("Add a rule to the library (spec 3.2.1 rule object; the id is assigned)", "rules",
                              ok(ref("LibraryRule"), "201", "Created"), req=body(ref("RuleDocument")), codes=AUTHC + (400, 415, 422),
                              limit=DOCUMENT)},
 "/api/v1/rules/validate": {"post": op("Validate a rule without storing it: every problem with its JSON Pointer", "rules",
                                       ok(ref("RuleValidation")), req=body(ref("RuleDocument")), codes=AUTHC + (400, 415), limit=DOCUMENT)},
 "/api/v1/rules/{id}": {"get": op("Get a rule", "rules", ok(ref("LibraryRule")), ID, codes=AUTHC + (404,)),
                        "put": op("Replace a rule (version + 1; saved strategy versions keep the old text)", "rules",
                                  ok(ref("LibraryRule")), ID, body(ref("RuleDocument")), codes=AUTHC + (400, 404, 415, 422), limit=DOCUMENT),
                        "delete": op("Delete a rule", "rules", {"204": {"description": "Deleted"}}, ID, codes=AUTHC + (404,))},
 "/api/v1/rules/{id}/dependencies": {"get": op("Indicators the rule needs, with parameters, lookbacks and its warm-up", "rules",
                                               ok(ref("RuleDependencies")), ID, codes=AUTHC + (404, 422))},
 "/api/v1/backtests": {"get": op("List backtests", "backtests", ok(ref("BacktestPage")), PAGE + FILTERS, codes=AUTHC + (422,)),
                       "post": op("Start a backtest (runs in the background)", "backtests", ok(ref("Backtest"), "202", "Accepted"),
                                  req=body(ref("BacktestConfig")), codes=AUTHC + (400, 404, 415, 422), limit=SUBMIT)},
 "/api/v1/backtests/{id}": {"get": op("Status, progress and results", "backtests", ok(ref("Backtest")), ID, codes=AUTHC + (404,)),
                            "delete": op("Cancel a pending or running backtest (code 3003)", "backtests", ok(ref("Backtest")), ID, codes=AUTHC + (404, 409))},
 "/api/v1/backtests/{id}/trades": {"get": op("Trade log", "backtests", ok(page_of("BacktestTrade")), ID + PAGE[:2], codes=AUTHC + (404, 422))},
 "/api/v1/backtests/{id}/equity": {"get": op("Equity curve", "backtests", ok({"type": "object"}), ID + PAGE[:2], codes=AUTHC + (404, 422))},
 "/api/v1/backtests/{id}/report": {"get": op("PDF report (not yet: 404 with a problem body)", "backtests",
                                             {"200": {"description": "PDF", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
                                             ID, codes=AUTHC + (404,))},
 "/api/v1/portfolios": {"get": op("List portfolios", "portfolios", ok(ref("PortfolioPage")), PAGE, codes=AUTHC + (422,)),
                        "post": op("Create a paper portfolio (EUR or USD)", "portfolios", ok(ref("Portfolio"), "201", "Created"),
                                   req=body(ref("PortfolioCreate")), codes=AUTHC + (400, 415, 422))},
 "/api/v1/portfolios/{id}": {"get": op("Get a portfolio", "portfolios", ok(ref("Portfolio")), ID, codes=AUTHC + (404,)),
                             "put": op("Change name, description, base currency, broker or is_active", "portfolios",
                                       ok(ref("Portfolio")), ID, body(ref("PortfolioUpdate")), codes=AUTHC + (400, 404, 415, 422)),
                             "delete": op("Delete a portfolio with its positions, trades and equity history", "portfolios",
                                          {"204": {"description": "Deleted"}}, ID, codes=AUTHC + (404,))},
 "/api/v1/portfolios/{id}/positions": {"get": op("Open positions", "portfolios", ok(page_of("Position")), ID + PAGE[:2], codes=AUTHC + (404, 422))},
 "/api/v1/portfolios/{id}/trades": {"get": op("Trade history, newest first", "portfolios", ok(page_of("PortfolioTrade")), ID + PAGE[:2],
                                              codes=AUTHC + (404, 422))},
 "/api/v1/portfolios/{id}/performance": {"get": op("Performance metrics over the equity history and closed trades", "portfolios",
                                                   ok(ref("Performance")), ID, codes=AUTHC + (404,))},
 "/api/v1/portfolios/{id}/equity": {"get": op("Equity history, oldest first", "portfolios", ok(page_of("EquityPoint")), ID + PAGE[:2],
                                              codes=AUTHC + (404, 422))},
 "/api/v1/api-keys": {"get": op("List broker API keys (masked hints only)", "api-keys", ok(page_of("ApiKey")), PAGE, codes=AUTHC + (422,)),
                      "post": op("Store a broker API key, encrypted at rest (AES-256-GCM); the secret is never returned", "api-keys",
                                 ok(ref("ApiKey"), "201", "Created"), req=body(ref("ApiKeyCreate")), codes=AUTHC + (400, 415, 422))},
 "/api/v1/api-keys/{id}": {"delete": op("Delete a broker API key", "api-keys", {"204": {"description": "Deleted"}}, ID, codes=AUTHC + (404,))},
 "/api/v1/market/symbols": {"get": op("Stored symbols and timeframes", "market", ok({"type": "object"}), codes=AUTHC)},
 "/api/v1/market/ticker/{symbol}": {"get": op("Last price: the feed's newest close while a strategy runs on the symbol (source feed), else the newest stored close (source store); change_24h_pct against the close 24 h earlier", "market", ok({"type": "object"}), SYM, codes=AUTHC + (404,))},
 "/api/v1/market/ohlcv/{symbol}": {"get": op("Candles at any timeframe (resampled from stored ones)", "market", ok({"type": "object"}),
                                             SYM + [P("timeframe", "query"), P("start", "query"), P("end", "query"),
                                                    P("limit", "query", {"type": "integer", "minimum": 1, "maximum": 10000})],
                                             codes=AUTHC + (404, 422))},
 "/api/v1/market/sync": {"post": op("Queue a market-data job (spec 3.3.4): the pair's candles of the last `days` downloaded from the venue (BINANCE_BASE_URL) into the store, resuming after the newest stored; two run at once, five minutes each; a job of yours for the same history that is queued or running answers instead", "market",
                                   ok(ref("MarketSync"), "202", "Accepted"), req=body(ref("MarketSyncRequest")), codes=AUTHC + (422, 429, 503))},
 "/api/v1/market/sync/{id}": {"get": op("A market-data job of yours: status (queued, running, completed, failed, cancelled), candles stored, error", "market",
                                       ok(ref("MarketSync")), ID, codes=AUTHC + (404,))},
 "/api/v1/market/orderbook/{symbol}": {"get": op("Order book from the venue (BINANCE_BASE_URL): {symbol, bids, asks: [[price, qty]] best first, timestamp, source}", "market", ok({"type": "object"}), SYM + [P("depth", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20})], codes=AUTHC + (404, 422, 429, 503))},
}

obj = lambda props, req=(): {"type": "object", "properties": props, **({"required": list(req)} if req else {})}
S, N, I = {"type": "string"}, {"type": "number"}, {"type": "integer"}
DEC = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,8})?$", "description": "exact decimal"}
COST = {"type": "number", "minimum": 0, "maximum": 10, "description": "percent (APEX_COST_PCT_MAX)"}
TZ = {"type": "string", "description": "an IANA time zone name (Europe/Paris, UTC, ...)"}
schemas = {
 "Problem": obj({"type": S, "title": S, "status": I, "detail": S, "instance": S, "code": I,
                 "errors": {"type": "array", "items": obj({"field": S, "pointer": S, "message": S, "code": I})}}, ("type", "title", "status")),
 "Register": obj({"email": {"type": "string", "format": "email"}, "password": {"type": "string", "minLength": 10},
                  "first_name": S, "last_name": S}, ("email", "password")),
 "Login": obj({"email": S, "password": S}, ("email", "password")),
 "Refresh": obj({"refresh_token": S}),
 "Forgot": obj({"email": S}, ("email",)),
 "Reset": obj({"token": S, "password": S}, ("token", "password")),
 "Profile": obj({"first_name": S, "last_name": S, "timezone": TZ, "preferred_currency": {"type": "string", "enum": ["EUR", "USD"]}}),
 "User": obj({"id": S, "email": S, "first_name": S, "last_name": S, "timezone": S, "preferred_currency": S,
              "is_active": {"type": "boolean"}, "is_verified": {"type": "boolean"}, "created_at": S}),
 "Tokens": obj({"access_token": S, "token_type": S, "expires_in": I, "refresh_token": S, "refresh_expires_in": I, "user": ref("User")}),
 "Rule": {"type": "object", "description": "See README: signal, logic, conditions (indicator, params, output, offset, operator, value)"},
 "StrategyDocument": obj({"name": S, "description": S, "asset": S, "timeframe": S,
                          "rules": {"type": "array", "items": ref("Rule")},
                          "asset_symbol": {"type": "string", "description": "alias of asset (spec 7.5)"},
                          "entry_rules": {"type": "array", "items": {}, "description": "rule ids (of /rules or of the rule library) or rule objects"},
                          "exit_rules": {"type": "array", "items": {}},
                          "risk_management": obj({"stop_loss_pct": N, "take_profit_pct": N, "max_position_size": N, "max_drawdown_pct": N, "max_trades_per_day": I, "max_open_positions": I}),
                          "stop_loss_pct": {"type": "number", "description": "alias of risk_management.stop_loss_pct (spec 7.5)"},
                          "take_profit_pct": {"type": "number", "description": "alias of risk_management.take_profit_pct (spec 7.5)"},
                          "backtest": ref("BacktestConfig")}, ("name", "timeframe", "entry_rules")),
 "Strategy": obj({"id": S, "name": S, "description": S, "version": I, "asset_symbol": S, "timeframe": S,
                  "stop_loss_pct": N, "take_profit_pct": N, "max_position_size_pct": N, "max_drawdown_pct": N,
                  "status": S, "trading_mode": S, "entry_rules": {}, "exit_rules": {}, "rules": {}, "definition": ref("StrategyDocument"),
                  "created_at": S, "updated_at": S, "activated_at": S}),
 "MarketSyncRequest": obj({"symbol": {"type": "string", "description": "a pair, e.g. BTC/USDT"}, "timeframe": {"type": "string", "enum": ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"]},
                              "days": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 30}}, ["symbol", "timeframe"]),
 "MarketSync": obj({"id": S, "symbol": S, "timeframe": S, "venue": S, "since": S, "status": {"type": "string", "enum": ["queued", "running", "completed", "failed", "cancelled"]},
                    "candles_stored": I, "error": {"type": ["string", "null"]}, "error_code": {"type": ["integer", "null"]},
                    "created_at": S, "started_at": {"type": ["string", "null"]}, "finished_at": {"type": ["string", "null"]}}),
 "Activate": obj({"mode": {"type": "string", "enum": ["paper", "live"]}, "portfolio_id": {"type": "string", "description": "paper: the portfolio to trade; default: your only one, or a new 'Paper trading' portfolio of 10000 USD when you have none"}, "capital": {"type": ["string", "number"], "description": "paper: in the portfolio's currency, default its cash; live: in the pair's quote currency, default the venue's free balance of it"},
                  "api_key_id": {"type": "string", "description": "live: the broker key to trade with (POST /api-keys)"},
                  "confirm_live": {"type": "boolean", "description": "live: must be true"},
                  "max_order_notional": {"type": ["string", "number"], "description": "live: largest buy, in the quote currency (default: none)"},
                  "max_daily_notional": {"type": ["string", "number"], "description": "live: most bought per UTC day, in the quote currency (default: none)"},
                  "outside_hours": {"type": "string", "enum": ["hold", "refuse", "extended"], "description": "live, a venue with market hours (Alpaca): an order made while the market is closed waits for the open (default), is refused, or goes out as an extended-hours limit order at the last price"}}),
 "Drift": obj({"strategy_id": S, "run_id": S, "mode": S, "symbol": S, "timeframe": S,
               "total": obj({"backtest_trades": I, "real_trades": I, "matched": I, "backtest_pnl": DEC, "real_pnl": DEC, "pnl_diff": DEC,
                             "backtest_fees": DEC, "real_fees": DEC, "avg_entry_diff_bps": N, "avg_exit_diff_bps": N}),
               "trades": {"type": "array", "items": {"type": "object"}}}),
 "TradingStatus": obj({"live_trading_enabled": {"type": "boolean"}, "live_strategies": I}),
 "KillSwitch": obj({"strategies_stopped": I, "orders_cancelled": I, "orders_not_sent": I, "orders_unresolved": I}),
 "StrategyPage": obj({"items": {"type": "array", "items": ref("Strategy")}, "total": I, "page": I, "limit": I}),
 "BacktestConfig": obj({"strategy_id": S, "start_date": S, "end_date": S, "initial_capital": N, "commission_pct": COST, "slippage_pct": COST}),
 "Backtest": obj({"id": S, "backtest_id": S, "strategy_id": S, "status": S, "progress_pct": I, "start_date": S, "end_date": S,
                  "initial_capital": DEC, "commission_pct": COST, "slippage_pct": COST, "error_message": S, "error_code": I,
                  "final_capital": DEC, "total_return_pct": N, "cagr_pct": N, "sharpe_ratio": N, "sortino_ratio": N,
                  "max_drawdown_pct": N, "win_rate_pct": N, "total_trades": I, "profit_factor": N,
                  "monthly_returns": {"type": "array"}, "equity_curve": {"type": "array"}, "stats": {"type": "object"},
                  "created_at": S, "started_at": S, "completed_at": S}),
 "PortfolioCreate": obj({"name": {"type": "string", "minLength": 1, "maxLength": 100}, "description": {"type": ["string", "null"]},
                         "base_currency": {"type": "string", "enum": ["EUR", "USD"], "default": "EUR"},
                         "is_paper": {"type": "boolean", "const": True, "description": "paper only until live trading arrives"},
                         "broker": {"type": ["string", "null"]},
                         "initial_balance": {"oneOf": [DEC, N], "description": "> 0, at most 2 decimal places"},
                         "is_active": {"type": "boolean", "default": True}}, ("name", "initial_balance")),
 "PortfolioUpdate": obj({"name": {"type": "string", "minLength": 1, "maxLength": 100}, "description": {"type": ["string", "null"]},
                         "base_currency": {"type": "string", "enum": ["EUR", "USD"]}, "broker": {"type": ["string", "null"]},
                         "is_active": {"type": "boolean"}}),
 "Portfolio": obj({"id": S, "name": S, "description": S, "base_currency": S, "is_paper": {"type": "boolean"}, "broker": S,
                   "initial_balance": DEC, "cash_balance": DEC, "is_active": {"type": "boolean"}, "created_at": S, "updated_at": S}),
 "PortfolioPage": page_of("Portfolio"),
 "Position": obj({"id": S, "portfolio_id": S, "symbol": S, "quantity": DEC, "average_entry_price": DEC, "current_price": DEC,
                  "unrealized_pnl": DEC, "unrealized_pnl_pct": N, "is_open": {"type": "boolean"}, "opened_at": S, "closed_at": S, "updated_at": S}),
 "RuleDocument": {"type": "object", "required": ["name", "signal", "conditions"], "description":
                  "a rule as in a strategy's rules (spec 3.2.1): name, description?, signal, logic?, conditions",
                  "properties": {"name": S, "description": S, "signal": {"type": "string", "enum": ["BUY", "SELL", "HOLD"]},
                                 "logic": {"type": "string", "enum": ["AND", "OR", "NOT"]}, "conditions": {"type": "array"}}},
 "LibraryRule": obj({"id": S, "name": S, "description": S, "version": I, "signal": S, "logic": S, "conditions": {"type": "array"},
              "created_at": S, "updated_at": S}),
 "RuleValidation": obj({"valid": {"type": "boolean"}, "error_count": I,
                        "errors": {"type": "array", "items": obj({"field": S, "pointer": S, "message": S, "code": I})}}),
 "RuleDependencies": obj({"rule_id": S, "version": I, "warmup_bars": I,
                          "dependencies": {"type": "array", "items": obj({"indicator": S, "title": S, "params": {"type": "object"},
                                                                          "outputs": {"type": "array", "items": S}, "lookback": I})}}),
 "BacktestTrade": obj({"entry_time": S, "exit_time": S, "side": S, "quantity": DEC, "entry_price": DEC, "exit_price": DEC,
                       "gross_pnl": DEC, "commission": DEC, "net_pnl": DEC, "return_pct": N,
                       "bars": {"type": ["integer", "null"], "description": "candles held; null for a stored trade"},
                       "exit_reason": {"type": "string", "enum": ["signal", "stop_loss", "take_profit", "max_drawdown", "end_of_data"]}}),
 "PortfolioTrade": obj({"id": S, "portfolio_id": S, "strategy_id": S, "symbol": S, "side": {"type": "string", "enum": ["BUY", "SELL"]},
                        "order_type": S, "quantity": DEC, "price": DEC, "filled_quantity": DEC, "filled_price": DEC, "commission": DEC,
                        "slippage": DEC, "status": S, "broker_order_id": S, "realized_pnl": DEC, "is_paper": {"type": "boolean"},
                        "created_at": S, "submitted_at": S, "filled_at": S,
                        "error": {"type": ["string", "null"], "description": "A live order's failure, or why it waits (market closed); null otherwise"}}),
 "EquityPoint": obj({"time": S, "equity_value": DEC, "cash_balance": DEC, "positions_value": DEC, "daily_pnl": DEC, "daily_pnl_pct": N}),
 "Performance": obj({"portfolio_id": S, "base_currency": S, "initial_balance": DEC, "cash_balance": DEC, "current_equity": DEC,
                     "total_return_pct": N, "cagr_pct": N, "sharpe_ratio": N, "sortino_ratio": N, "max_drawdown_pct": N,
                     "max_drawdown_duration_days": N, "total_trades": I, "winning_trades": I, "losing_trades": I, "win_rate_pct": N,
                     "profit_factor": {"type": ["number", "null"]}, "avg_trade_pct": N, "best_trade_pct": N, "worst_trade_pct": N,
                     "exposure_pct": N, "periods_per_year": I, "equity_points": I, "start": S, "end": S,
                     "monthly_returns": {"type": "array", "items": obj({"month": S, "return_pct": N})}}),
 "ApiKeyCreate": obj({"exchange": {"type": "string", "enum": ["binance", "kraken", "alpaca", "coinbase"]},
                      "label": {"type": "string", "minLength": 1, "maxLength": 100}, "api_key": S, "api_secret": S,
                      "passphrase": {"type": ["string", "null"]}, "is_paper": {"type": "boolean", "default": True}},
                     ("exchange", "label", "api_key", "api_secret")),
 "ApiKey": obj({"id": S, "exchange": S, "label": S, "key_hint": {"type": "string", "description": "masked api_key, e.g. abcd…wxyz"},
                "is_paper": {"type": "boolean"}, "created_at": S, "last_used_at": S}),
 "BacktestPage": obj({"items": {"type": "array", "items": ref("Backtest")}, "total": I, "page": I, "limit": I}),
}
doc = {"openapi": "3.1.0",
       "info": {"title": "ApexTrade API", "version": "0.1.0",
                "description": "Errors are RFC 7807 problem+json with the spec's numeric code (Appendix B)."},
       "servers": [{"url": "http://127.0.0.1:8000"}],
       "paths": paths,
       "components": {"schemas": schemas,
                      "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}}
out = os.path.join(os.path.dirname(__file__), "..", "src", "api", "openapi.json")
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
