/* app.h - the application: use cases over the store, the engine and the job queue, built once in
 * main() and passed down. No HTTP here: handlers in api/ decode a request, call one function below
 * and encode its result; a failure comes back as an apex_app_error that maps onto RFC 7807. */
#ifndef APEX_APP_H
#define APEX_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/errors.h"
#include "base/err.h"
#include "base/json.h"
#include "core/problems.h"
#include "jobs/cache.h"
#include "jobs/events.h"
#include "jobs/limiter.h"
#include "jobs/queue.h"
#include "market/broker.h"
#include "market/market.h"
#include "store/store.h"
#include "sys/secrets.h"

typedef struct apex_app_settings {
  int backtest_workers;      /* 4 */
  int backtest_timeout_s;    /* 600 */
  bool live_trading;         /* FEATURE_LIVE_TRADING */
  int lease_s;               /* BACKTEST_LEASE_SECONDS (60; 0 = 60): a job's claim lasts this long, renewed
                              * while it runs; a crashed worker's job is re-queued once it expires */
  int per_user;              /* BACKTEST_MAX_PER_USER (10; 0 = 10): a user's backtests queued or running at once */
  int memory_mb;             /* BACKTEST_MAX_MEMORY_MB (2048; 0 = 2048): the estimate a backtest may need */
  int reconcile_s;           /* LIVE_RECONCILE_SECONDS (60; 0 = 60): live accounts compared with the venue */
  int test_job_delay_ms;     /* APEX_TEST_JOB_DELAY_MS: tests only, a pause after each backtest's claim */
} apex_app_settings;

/* Password and token functions, given by the api layer (api/auth.c holds the crypto libraries). */
typedef struct apex_app_auth_ops {
  apex_err (*hash_password)(const char *pw, char *out /* 128 bytes */);
  bool (*verify_password)(const char *hash, const char *pw);
  bool (*password_ok)(const char *pw, const char *email, char *why, size_t cap);
  bool (*email_ok)(const char *email);
  /* A signed access token for user id sub; *out malloc'd. */
  apex_err (*issue_access)(void *ctx, const char *sub, const char *email, int64_t now_s, int64_t ttl_s, char **out);
  void (*random_token)(char *out /* 44 bytes */);
  void (*token_hash)(const char *token, char *out /* 65 bytes */);
  void *ctx;
  /* Ends an access token before its expiry (logout); NULL: tokens live until they expire. */
  apex_err (*revoke_access)(void *ctx, const char *access_token, int64_t now_s);
  /* Ends every access token of a user issued before now_s (password reset). */
  apex_err (*revoke_user)(void *ctx, const char *user_id, int64_t now_s, int64_t ttl_s);
} apex_app_auth_ops;

/* Sends a mail (password resets); the default writes it to the server log. */
typedef void (*apex_app_mailer)(void *ctx, const char *to, const char *subject, const char *body);

/* Fetches the ECB's euro reference rates: history true the last 90 days, false the last working
 * day's; *rows malloc'd (caller frees). The composition root's closure over market/ecb.c. */
typedef apex_err (*apex_fx_fetch_fn)(void *ctx, bool history, apex_fx_rate **rows, size_t *n, apex_error *err);

/* Opens a venue's private API with decrypted credentials (is_paper: the venue's testnet or paper
 * endpoint; key_id: the stored key's id, for its nonces); the composition root's closure over
 * market/venue.c's apex_broker_open with the configured addresses. */
typedef apex_err (*apex_broker_open_fn)(void *ctx, const char *venue, bool is_paper, const char *key_id,
                                        const apex_broker_credentials *c, apex_broker *out, apex_error *err);
typedef struct apex_live apex_live; /* live trading's execution (live.c) */

typedef struct apex_app {
  apex_app_settings settings;
  apex_store *store;
  apex_queue *queue;       /* job queue port, built by the composition root to run apex_app_backtest_job */
  int64_t (*now_ms)(void); /* the clock: real in main(), scripted in tests */
  apex_app_auth_ops auth;
  int64_t access_ttl_s, refresh_ttl_s;
  int account_limit; /* registrations, and forgot/reset requests, a minute per client address */
  apex_app_mailer mail;
  void *mail_ctx;
  apex_limiter *limiter;   /* rate-limit port: login attempts (users.c); required for login */
  apex_cache *renders;     /* rendered list items by their whole input (strategies.c); NULL: none */
  apex_events *events;     /* events port: backtest progress, completion and failure, each with its
                            * owner's user id (backtests.c); NULL publishes nothing */
  atomic_int stopping;     /* set by apex_app_stop: jobs cancelled by it go back to "pending" */
  char instance[64];       /* lease owner prefix ("host:pid"), set by apex_app_start */
  atomic_ulong runs;       /* makes each run's lease owner unique */
  struct apex_app_sweeper *sweeper; /* re-queues expired leases (app.c) */
  struct apex_app_outbox *outbox;   /* password-reset work off the request path (outbox.c); NULL: inline */
  struct apex_app_hashing *hashing; /* bounds Argon2 work at once (users.c); NULL: unbounded */
  int hash_limit;                   /* password hashes at once (0: the number of cores) */
  unsigned char enc_key[APEX_SECRETS_KEY_LEN]; /* API_KEY_ENCRYPTION_KEY: broker secrets at rest (apikeys.c) */
  struct apex_runner *runner; /* steps active strategies (runner.c); NULL: activations wait for one */
  const struct apex_market *venue; /* order books and tickers (market.c), pairs' market-data jobs; NULL: none */
  apex_queue *sync_queue;           /* market-data jobs, built to run apex_app_market_sync_job; NULL: none */
  struct apex_app_syncs *syncs;     /* those jobs (market_sync.c: apex_app_syncs_new) */
  bool sync_on_activate;            /* a live feed runs: an activation downloads the run's warm-up history */
  apex_fx_fetch_fn fx_fetch;        /* the ECB's rates (market/ecb.c, set by the composition root); NULL: none */
  void *fx_fetch_ctx;
  atomic_llong fx_due_ms;           /* when rates are next fetched (apex_app_fx_tick); 0: at once */
  atomic_bool fx_have_history;      /* the last 90 days were fetched: the last day's rates are enough */
  apex_fx_decode_fn fx_decode; /* reads reference-rate files (fx.c): apex_ecb_decode; NULL: none */
  apex_broker_open_fn broker_open; /* venues' private APIs (live.c); NULL: live activation refused */
  void *broker_ctx;
  apex_live *live;                 /* sends live runs' orders (live.c); NULL: they wait, stored */
} apex_app;

/* A failed use case: the HTTP status, the spec's numeric code (Appendix B; the status when the spec
 * has none), a short title, a detail, and for validation every problem with its JSON Pointer. */
typedef struct apex_app_error {
  int status;
  int code;
  int retry_after; /* seconds, for 429 */
  char title[64];
  char detail[512];
  apex_problems problems;
} apex_app_error;

/* Sets e from code's row in app/errors.def (status, code, title) with a printf-style detail, and
 * returns APEX_EINVAL (so `return apex_app_raise(...)` reads well). */
apex_err apex_app_raise(apex_app_error *e, apex_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 500 for a storage failure: the database's message goes to the log, not to the client. */
apex_err apex_app_store_failed(apex_app_error *e, const apex_error *err);
/* 422 for one field: e's detail "<field> <msg>" and the problem at ptr (a JSON Pointer, "" for the
 * whole body). Returns APEX_EINVAL. */
apex_err apex_app_invalid(apex_app_error *e, const char *ptr, const char *msg);
/* /readyz: the database answers (503, its message logged, when it does not); *backend "sqlite" or
 * "postgresql". */
apex_err apex_app_ready(apex_app *app, const char **backend, apex_app_error *e);
/* ISO 8601 UTC text of t, or null for 0 ("never"). */
apex_json *apex_app_json_time(int64_t t);

/* Queues the backtests the store says are claimable (pending, or running under an expired lease:
 * left behind by a crashed process), and starts a thread that does so again every half lease, so
 * a job whose worker died (here or in another process) runs again once its lease expires.
 * app->queue must be set. */
apex_err apex_app_start(apex_app *app, apex_error *err);
/* Stops that thread and the queue's workers: running backtests are cancelled and left "pending"
 * for the next start. The queue itself belongs to the composition root, which frees it. */
void apex_app_stop(apex_app *app);

/* --- accounts (users.c) --- */
typedef struct apex_tokens {
  char *access;            /* malloc'd JWT */
  char refresh[48];        /* the refresh token itself (only its hash is stored) */
  int64_t access_expires_in, refresh_expires_in; /* seconds */
} apex_tokens;
void apex_tokens_clear(apex_tokens *t);

apex_err apex_app_register(apex_app *app, const apex_json *body, const char *ip, apex_user *out, apex_app_error *e);
/* ip: the client's address, for the per-IP limit. 429 with e->retry_after when limited. */
apex_err apex_app_login(apex_app *app, const apex_json *body, const char *ip, apex_tokens *out, apex_user *user,
                        apex_app_error *e);
/* Rotates a refresh token; a token used twice revokes its whole family (401, 1004). */
apex_err apex_app_refresh(apex_app *app, const char *refresh_token, apex_tokens *out, apex_app_error *e);
/* access_token: the Authorization bearer token sent with the logout (may be NULL). */
/* The work a forgot request asks for, done by the outbox's thread (or inline without one): look
 * the email up and, for an account, store a reset token and mail it. */
void apex_app_forgot_deliver(apex_app *app, const char *email);
/* outbox.c: started and stopped by apex_app_start/stop. push copies email; false when full. */
apex_err apex_app_outbox_start(apex_app *app, size_t cap, apex_error *err);
void apex_app_outbox_stop(apex_app *app);
bool apex_app_outbox_push(apex_app *app, const char *email);
/* users.c: the hashing bound, made by apex_app_start and freed by apex_app_stop. */
apex_err apex_app_hashing_start(apex_app *app, apex_error *err);
void apex_app_hashing_stop(apex_app *app);

apex_err apex_app_logout(apex_app *app, const char *refresh_token, const char *access_token, apex_app_error *e);
/* Always succeeds for a well-formed email (never tells whether an account exists). */
apex_err apex_app_forgot(apex_app *app, const apex_json *body, const char *ip, apex_app_error *e);
apex_err apex_app_reset(apex_app *app, const apex_json *body, const char *ip, apex_app_error *e);
apex_err apex_app_me(apex_app *app, const char *user_id, apex_user *out, apex_app_error *e);
apex_err apex_app_me_update(apex_app *app, const char *user_id, const apex_json *body, apex_user *out,
                            apex_app_error *e);
apex_json *apex_app_user_json(const apex_user *u);

/* --- strategies (strategies.c). Bodies are the JSON text of the request. --- */
/* Validates doc as `apextrade backtest --strategy` would; on problems: 422, code 2002, every problem. */
apex_err apex_app_strategy_create(apex_app *app, const char *user_id, const char *body, size_t len,
                                  apex_strategy_row *out, apex_app_error *e);
apex_err apex_app_strategy_get(apex_app *app, const char *user_id, const char *id, apex_strategy_row *out,
                               apex_app_error *e);
apex_err apex_app_strategy_update(apex_app *app, const char *user_id, const char *id, const char *body, size_t len,
                                  apex_strategy_row *out, apex_app_error *e);
apex_err apex_app_strategy_delete(apex_app *app, const char *user_id, const char *id, apex_app_error *e);
apex_err apex_app_strategy_clone(apex_app *app, const char *user_id, const char *id, apex_strategy_row *out,
                                 apex_app_error *e);
/* body: {"mode": "paper" | "live" (live only with FEATURE_LIVE_TRADING), "portfolio_id": the user's
 * portfolio the run trades, "capital"?: the amount it may use, in the portfolio's currency
 * (default: the portfolio's cash)}. Starts a run (store.h apex_run_row) with the strategy's
 * document as it is now, converted to the pair's quote currency at the day's ECB rate, and tells
 * the runner. 409/2003 if already active; 404 for another user's portfolio; 422 with problems. */
apex_err apex_app_strategy_activate(apex_app *app, const char *user_id, const char *id, const apex_json *body,
                                    apex_strategy_row *out, apex_app_error *e);
/* The strategy's newest run as JSON ({id, portfolio_id, mode, status, symbol, timeframe, capital,
 * quote_currency, base_currency, fx_rate, warm_from, start_time, last_time, candles, error, ...});
 * 404 when it never ran. */
apex_err apex_app_strategy_run(apex_app *app, const char *user_id, const char *id, apex_json **out, apex_app_error *e);
/* A page of the strategy's risk refusals, newest first: {time, kind, detail, quantity, run_id, portfolio_id}. */
apex_err apex_app_strategy_refusals(apex_app *app, const char *user_id, const char *id, const apex_page *p,
                                    apex_json **items, int64_t *total, apex_app_error *e);
apex_err apex_app_strategy_deactivate(apex_app *app, const char *user_id, const char *id, apex_strategy_row *out,
                                      apex_app_error *e);
/* A page of list items, each already one JSON text (for apex_json_dump_with_items). */
typedef struct apex_app_texts {
  char **text; /* malloc'd, n of them */
  size_t *len;
  size_t n;
} apex_app_texts;
void apex_app_texts_clear(apex_app_texts *t);
/* *items the page's strategies (without their documents) as JSON texts, rendered once per
 * distinct row through app->renders. */
apex_err apex_app_strategy_list(apex_app *app, const char *user_id, const apex_page *p, apex_app_texts *items,
                                int64_t *total, apex_app_error *e);
/* A page of the strategy's versions newest first: {version, name, created_at}; *total counts all. */
apex_err apex_app_strategy_versions(apex_app *app, const char *user_id, const char *id, const apex_page *p,
                                    apex_json **items, int64_t *total, apex_app_error *e);
/* One version (its number as text, from the path): {version, name, created_at, definition}. */
apex_err apex_app_strategy_version(apex_app *app, const char *user_id, const char *id, const char *version,
                                   apex_json **out, apex_app_error *e);
/* The JSON form of a row (spec 4.2.2 fields); with full, also its rules and "definition" (the
 * document as written), which lists leave out to stay fast. NULL on OOM. */
apex_json *apex_app_strategy_json(const apex_strategy_row *r, bool full);
/* The list item of r (apex_app_strategy_json without the document) as JSON text, malloc'd, *len
 * bytes: from app->renders when this exact row was rendered before, else rendered and
 * remembered there. NULL on OOM. */
char *apex_app_strategy_item_text(apex_app *app, const apex_strategy_row *r, size_t *len);

/* --- the rule library (rules.c; spec 3.2.1). Bodies are a rule object as in a strategy's "rules"
 * (name required, "description" optional, "id" assigned by the library); invalid: 422, 2002. --- */
apex_err apex_app_rule_create(apex_app *app, const char *user_id, const char *body, size_t len, apex_rule_row *out,
                              apex_app_error *e);
apex_err apex_app_rule_get(apex_app *app, const char *user_id, const char *id, apex_rule_row *out, apex_app_error *e);
apex_err apex_app_rule_list(apex_app *app, const char *user_id, const apex_page *p, apex_json **items, int64_t *total,
                            apex_app_error *e);
/* Replaces the rule (its version goes up by one); strategy versions saved before keep the old text. */
apex_err apex_app_rule_update(apex_app *app, const char *user_id, const char *id, const char *body, size_t len,
                              apex_rule_row *out, apex_app_error *e);
apex_err apex_app_rule_delete(apex_app *app, const char *user_id, const char *id, apex_app_error *e);
/* {"valid", "error_count", "errors": [{field, pointer, message, code}]}, nothing stored. */
apex_err apex_app_rule_validate(apex_app *app, const char *body, size_t len, apex_json **out, apex_app_error *e);
/* {"rule_id", "version", "dependencies": [{indicator, title, params, outputs, lookback}], "warmup_bars"}. */
apex_err apex_app_rule_dependencies(apex_app *app, const char *user_id, const char *id, apex_json **out,
                                    apex_app_error *e);
apex_json *apex_app_rule_json(const apex_rule_row *r);
/* Appends to doc's "rules" the library rules that its entry_rules/exit_rules name by id (and that
 * are not inline), under their library ids. An id not in the user's library (another user's
 * included) is a problem at its pointer: 422, 2002. */
apex_err apex_app_rules_resolve(apex_app *app, const char *user_id, apex_json *doc, apex_app_error *e);

/* --- backtests (backtests.c) --- */
/* body: {"strategy_id", "start_date", "end_date", "initial_capital", "commission_pct", "slippage_pct"}:
 * validates, stores it pending and queues it. 404/2001 unknown strategy; 422 with problems. */
apex_err apex_app_backtest_submit(apex_app *app, const char *user_id, const char *body, size_t len,
                                  apex_backtest_row *out, apex_app_error *e);
apex_err apex_app_backtest_get(apex_app *app, const char *user_id, const char *id, apex_backtest_row *out,
                               apex_app_error *e);
/* Cancels a pending or running backtest (status "cancelled"); a finished one answers 409. */
apex_err apex_app_backtest_cancel(apex_app *app, const char *user_id, const char *id, apex_backtest_row *out,
                                  apex_app_error *e);
/* backtest_reads.c: *items a new JSON array of one page, *total across pages; another user's
 * backtest is 404. Trades are written by core's apex_backtest_trade_json (the CLI's form). */
apex_err apex_app_backtest_list(apex_app *app, const char *user_id, const apex_page *p, apex_json **items,
                                int64_t *total, apex_app_error *e);
apex_err apex_app_backtest_trades(apex_app *app, const char *user_id, const char *id, const apex_page *p,
                                  apex_json **items, int64_t *total, apex_app_error *e);
apex_err apex_app_backtest_equity(apex_app *app, const char *user_id, const char *id, const apex_page *p,
                                  apex_json **items, int64_t *total, apex_app_error *e);
/* With error_message as the person-readable message and error_code as the failure's code. */
/* One backtest with its result's metrics; full adds the result's arrays (the sampled equity
 * curve): a list leaves them out, so a page of backtests stays small whatever they hold. */
apex_json *apex_app_backtest_json(const apex_backtest_row *r, bool full);
/* The stored error_message of a failed or cancelled backtest: {"code": code, "message": message}
 * as JSON text (malloc'd; NULL on OOM), so the code is kept as a number, not parsed from prose. */
char *apex_app_backtest_reason(apex_code code, const char *message);
/* The job body the queue runs (exposed for tests): claims the backtest in the store with a lease
 * (skips it when someone else holds it or it is finished), renews the lease while it runs (at
 * progress updates, every sixth of the lease), and stops without writing if the lease was lost. */
void apex_app_backtest_job(void *app, const char *id, const atomic_int *cancel, const atomic_int *timed_out);
/* The queue gave up on backtest id (its workers died running it, retries used up): failed with
 * why, and announced (an apex_job_dead_fn). */
void apex_app_backtest_dead(void *app, const char *id, const char *why);
/* settings.lease_s, or its default (60). */
int apex_app_lease_s(const apex_app *app);

/* --- portfolios (portfolios.c). Paper only for now: live portfolios arrive with live trading. --- */
/* body: {"name", "description"?, "base_currency"? (EUR | USD, default EUR), "is_paper"? (true),
 * "broker"?, "initial_balance" (> 0, decimal string or number), "is_active"?}; 422 with problems. */
apex_err apex_app_portfolio_create(apex_app *app, const char *user_id, const char *body, size_t len,
                                   apex_portfolio_row *out, apex_app_error *e);
apex_err apex_app_portfolio_get(apex_app *app, const char *user_id, const char *id, apex_portfolio_row *out,
                                apex_app_error *e);
/* *items: a new JSON array of the page's portfolios. */
apex_err apex_app_portfolio_list(apex_app *app, const char *user_id, const apex_page *p, apex_json **items,
                                 int64_t *total, apex_app_error *e);
/* Changes any of name, description, base_currency, broker, is_active (the balances and is_paper
 * cannot change: 422). */
apex_err apex_app_portfolio_update(apex_app *app, const char *user_id, const char *id, const char *body, size_t len,
                                   apex_portfolio_row *out, apex_app_error *e);
apex_err apex_app_portfolio_delete(apex_app *app, const char *user_id, const char *id, apex_app_error *e);
/* Sub-resources: *items a new JSON array of one page, *total across pages. Another user's
 * portfolio is 404 everywhere. Positions are the open ones; trades newest first; equity oldest first. */
apex_err apex_app_portfolio_positions(apex_app *app, const char *user_id, const char *id, int page, int limit,
                                      apex_json **items, int64_t *total, apex_app_error *e);
apex_err apex_app_portfolio_trades(apex_app *app, const char *user_id, const char *id, int page, int limit,
                                   apex_json **items, int64_t *total, apex_app_error *e);
apex_err apex_app_portfolio_equity(apex_app *app, const char *user_id, const char *id, int page, int limit,
                                   apex_json **items, int64_t *total, apex_app_error *e);
/* core/metrics over the equity history and the closed trades; zeros with no history yet. */
apex_err apex_app_portfolio_performance(apex_app *app, const char *user_id, const char *id, apex_json **out,
                                        apex_app_error *e);
apex_json *apex_app_portfolio_json(const apex_portfolio_row *r);

/* --- broker API keys (apikeys.c): secrets encrypted with app->enc_key, never returned --- */
/* body: {"exchange" (binance | kraken | alpaca), "label", "api_key", "api_secret", "passphrase"?,
 * "is_paper"?}. Error details never quote a value from the body. */
apex_err apex_app_api_key_create(apex_app *app, const char *user_id, const char *body, size_t len,
                                 apex_api_key_row *out, apex_app_error *e);
apex_err apex_app_api_key_list(apex_app *app, const char *user_id, const apex_page *p, apex_json **items,
                               int64_t *total, apex_app_error *e);
apex_err apex_app_api_key_delete(apex_app *app, const char *user_id, const char *id, apex_app_error *e);
/* id, exchange, label, key_hint, is_paper, created_at, last_used_at: never a secret. */
apex_json *apex_app_api_key_json(const apex_api_key_row *r);

/* Decrypted credentials for the execution layer. Wipe them with apex_api_credentials_clear. */
typedef struct apex_api_credentials {
  char exchange[51];
  bool is_paper;
  char *api_key, *api_secret, *passphrase; /* passphrase NULL when none */
} apex_api_credentials;
void apex_api_credentials_clear(apex_api_credentials *c);
/* user_id NULL: any user's (execution jobs). 404 when missing; 500 when the key cannot decrypt
 * (API_KEY_ENCRYPTION_KEY changed). */
apex_err apex_app_api_key_credentials(apex_app *app, const char *user_id, const char *id, apex_api_credentials *out,
                                      apex_app_error *e);

/* --- live trading (live.c) --- */
/* The execution of live runs' orders: apex_live_new, then apex_live_start for its thread (which
 * passes every 250 ms or when notified); apex_live_free stops it. */
apex_err apex_live_new(apex_app *app, apex_live **out, apex_error *err);
apex_err apex_live_start(apex_live *l, apex_error *err);
void apex_live_stop(apex_live *l); /* joins the thread: nothing is sent after it; NULL is a no-op */
void apex_live_free(apex_live *l); /* stops, then frees; NULL is a no-op */
/* New orders were stored: the thread passes now. NULL is a no-op. */
void apex_live_notify(apex_live *l);
/* One pass now (what the thread does; tests drive it without one): reconciliation first when
 * reconcile_now or a minute has passed, then every unsettled order sent, settled or polled. */
apex_err apex_live_tick(apex_live *l, bool reconcile_now, apex_error *err);
/* The kill switch: every live strategy of the user stopped (paused), its orders not yet sent
 * failed, the rest cancelled at the venue. *out {strategies_stopped, orders_cancelled,
 * orders_not_sent, orders_unresolved}. */
apex_err apex_app_kill_switch(apex_app *app, const char *user_id, apex_json **out, apex_app_error *e);
/* GET /trading/status: *out {live_trading_enabled, live_strategies (the user's running live runs)}
 * (trading.c). */
apex_err apex_app_trading_status(apex_app *app, const char *user_id, apex_json **out, apex_app_error *e);
/* A live or paper strategy's real fills against a backtest of the same strategy over the same
 * candles (GET /strategies/{id}/drift). 404 when it never ran. */
apex_err apex_app_strategy_drift(apex_app *app, const char *user_id, const char *id, apex_json **out,
                                 apex_app_error *e);
/* Publishes a trades row's state on the events port (the trade channel). */
void apex_app_publish_trade(apex_app *app, const apex_portfolio_trade_row *t);

/* --- market data (market.c) --- */
/* Every stored (symbol, timeframe) with its first/last time and count; *rows malloc'd, caller frees. */
apex_err apex_app_market_symbols(apex_app *app, apex_symbol_info **rows, size_t *n, apex_app_error *e);
/* symbol's candles at tf (resampled from the finest stored timeframe dividing it) in [start, end),
 * the last limit (0: all) of them: (*out)->[*first ..n). *out new (caller frees), NULL on error.
 * 5001 when nothing is stored for symbol; 422 for a bad tf or one no stored timeframe builds. */
apex_err apex_app_market_candles(apex_app *app, const char *symbol, const char *tf, int64_t start, int64_t end,
                                 size_t limit, apex_series **out, size_t *first, apex_app_error *e);
/* The last stored candle of symbol (at its most recently updated timeframe) as a price. */
typedef struct apex_market_tick {
  double price;
  int64_t time;
  char timeframe[8];
  double change_24h_pct; /* vs the close 24 h before time; NAN when no candle that old is stored */
  const char *source;    /* "feed" (the runner's last candle) or "store" */
} apex_market_tick;
apex_err apex_app_market_ticker(apex_app *app, const char *symbol, apex_market_tick *out, apex_app_error *e);
/* The venue's order book (app->venue), depth levels a side (1..100). 5001 unknown symbol, 5002
 * rate limited, 503 no venue configured or it did not answer. */
apex_err apex_app_market_orderbook(apex_app *app, const char *symbol, size_t depth, struct apex_orderbook *out,
                                   apex_app_error *e);

/* --- market data from a venue (market_data.c) --- */
/* Progress of a download: done_ms is where the next page starts (the open time after the newest
 * candle stored so far), until_ms where the download ends, candles how many this call stored. */
typedef void (*apex_app_download_progress)(void *ctx, int64_t done_ms, int64_t until_ms, size_t candles);
/* Downloads symbol's closed timeframe candles with open time in [since_ms, until_ms) from m
 * (until_ms <= 0: up to now) into the store, source m's venue name. Resumes after the newest
 * stored candle of (symbol, timeframe) in that range when there is one. Pages until a page
 * comes back empty or passes until_ms, upserting each page as it arrives, so whatever was stored
 * before a failure or a cancel stays stored. progress (may be NULL) is called once before the
 * first request (done_ms: where the download starts) and after each page. cancel (may be NULL)
 * is checked before each page: once set, APEX_ECANCELED (e: 503, "cancelled"). *stored counts the
 * candles stored by this call, on failure too. Errors: 422 bad symbol, timeframe or range; 5001 unknown symbol;
 * 5002 rate limited; 503 the venue unreachable or failing; 500 storage. m is borrowed. */
apex_err apex_app_market_download(apex_app *app, apex_market *m, const char *symbol, const char *timeframe,
                                  int64_t since_ms, int64_t until_ms, apex_app_download_progress progress, void *ctx,
                                  const atomic_int *cancel, size_t *stored, apex_app_error *e);
/* --- market-data jobs (market_sync.c, spec 3.3.4) --- */
typedef struct apex_app_sync {
  apex_id id, user_id;
  char symbol[33], timeframe[8], venue[16];
  char status[12]; /* queued, running, completed, failed, cancelled */
  int64_t since_ms, created_at, started_at, finished_at; /* 0: not yet */
  size_t stored;   /* candles stored so far (when it ended) */
  int error_code;
  char error[256];
} apex_app_sync;
apex_err apex_app_syncs_new(apex_app *app, apex_error *err);
void apex_app_syncs_free(apex_app *app);
/* Queues a download of the pair's timeframe candles from since_ms to now from app->venue; a job of
 * the user's for the same history that is queued or running answers instead. 422 bad symbol (a
 * stock ticker too: `apextrade data download --venue yahoo` fetches those) or timeframe, 429 four
 * of the user's jobs queued or running (or the table full), 503 no queue or no venue. */
apex_err apex_app_market_sync_start(apex_app *app, const char *user_id, const char *symbol, const char *timeframe,
                                    int64_t since_ms, apex_app_sync *out, apex_app_error *e);
/* The same from a request body {symbol, timeframe, days? (1..3650, default 30)}. */
apex_err apex_app_market_sync_submit(apex_app *app, const char *user_id, const char *body, size_t len,
                                     apex_app_sync *out, apex_app_error *e);
/* The user's job id (404 otherwise). */
apex_err apex_app_market_sync_get(apex_app *app, const char *user_id, const char *id, apex_app_sync *out,
                                  apex_app_error *e);
/* The queue's job function: runs the download through apex_app_market_download, and records how it ended. */
void apex_app_market_sync_job(void *ctx, const char *id, const atomic_int *cancel, const atomic_int *timed_out);
apex_json *apex_app_market_sync_json(const apex_app_sync *s);

/* --- currency conversion (fx.c) with the ECB's euro reference rates in the store --- */
/* The rate with amount_in_to = amount_in_from x *rate at at_ms (core/fx.h: stablecoins priced as
 * USD, cross rates through EUR, half to even to 8 places), from the stored rates dated <= at_ms
 * (the latest before a day without one). *rate_date_ms is that rate's date (the older of the two
 * sides' for a cross), at_ms for the same currency, whose rate is exactly 1. A caller that shows
 * the result says when apex_fx_canonical(from) or (to) differs from what was asked ("USDT taken as
 * USD"). No stored rate: 404 with code 5001; a currency that is not three letters after
 * canonicalising: 422; storage: 500. *rate and *rate_date_ms are written only on success. */
apex_err apex_app_fx_rate(apex_app *app, const char *from, const char *to, int64_t at_ms, apex_dec *rate,
                          int64_t *rate_date_ms, apex_app_error *e);
/* Loads an ECB reference-rate file (eurofxref-daily.xml, eurofxref-hist*.xml) into the store
 * through app->fx_decode, upserting, so loading a file again changes nothing; *n rows loaded (may
 * be NULL). 503 without app->fx_decode; 404 for a file that cannot be opened; 413 over
 * APEX_APP_FX_FILE_MAX; 422 for a file the decoder refuses (detail from it); 500 storage. */
#define APEX_APP_FX_FILE_MAX ((size_t)32 << 20)
apex_err apex_app_fx_load_file(apex_app *app, const char *path, size_t *n, apex_app_error *e);
/* Fetches rates through app->fx_fetch (the last 90 days when history) and upserts them; *n rows
 * (may be NULL). 503 without app->fx_fetch or when the ECB does not answer; 500 storage. */
apex_err apex_app_fx_refresh(apex_app *app, bool history, size_t *n, apex_app_error *e);
/* Called often (the runner's thread does): when rates are due (at first, then every 6 hours; 10
 * minutes after a failed fetch), queues their fetch as a market-data job (the last 90 days until
 * that worked once, the last day after). */
void apex_app_fx_tick(apex_app *app);

#endif
