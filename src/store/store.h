/* store.h - the storage port: everything the application keeps, behind one interface with two
 * backends (sqlite.c, default; pg.c, for DATABASE_URL=postgresql://...). app/ sees only this file.
 * Ids are UUID text (36 chars + NUL) made by the caller; times are ms since the epoch UTC; money and
 * quantities are exact apex_dec (NUMERIC in PostgreSQL, INTEGER units of 1e-8 in SQLite).
 * Every query binds its parameters; no text is ever pasted into SQL.
 * Functions return APEX_OK, APEX_ENOTFOUND (no such row, or not this user's), APEX_ECONFLICT (unique
 * key taken), APEX_EIO (database failure; err says what) or APEX_ENOMEM.
 * A store handle may be used from several threads at once (the backends pool connections). */
#ifndef APEX_STORE_H
#define APEX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"
#include "core/fx.h"
#include "core/series.h"

#define APEX_ID_LEN 37 /* "8-4-4-4-12" hex + NUL */
typedef char apex_id[APEX_ID_LEN];

typedef struct apex_store apex_store; /* opaque */

/* url: "postgresql://...", "postgres://..." or "postgresql+DRIVER://..." (SQLAlchemy's form, e.g. the
 * spec's postgresql+asyncpg://; the driver part is dropped) for PostgreSQL; "sqlite:///PATH",
 * "sqlite:PATH" or a plain file path for SQLite. Any other scheme ("mysql://", "redis://", "foo:")
 * is APEX_EINVAL naming the accepted ones. pool: connections for PostgreSQL (ignored for SQLite). */
apex_err apex_store_open(const char *url, int pool, apex_store **out, apex_error *err);
void apex_store_close(apex_store *s); /* NULL is a no-op */
const char *apex_store_backend(const apex_store *s); /* "sqlite" or "postgresql" */
/* Applies every pending forward-only migration in order, each in a transaction. */
apex_err apex_store_migrate(apex_store *s, apex_error *err);
/* Writes one line per known migration ("0001_init applied 2026-11-25T14:00:00Z" / "pending"). */
apex_err apex_store_migration_status(apex_store *s, char *buf, size_t cap, apex_error *err);
/* Cheap round trip (for /readyz). */
apex_err apex_store_ping(apex_store *s, apex_error *err);
/* ping on PostgreSQL; for SQLite a pass over every page (PRAGMA quick_check: seconds per GiB) on
 * a connection of its own, so no pooled one is held and no cached page hides damage. Run at start,
 * so a corrupt file is found before it answers anything, and while serving (app/dbcheck.h). A
 * corrupt result is remembered (ping fails from then on); APEX_EIO names what is wrong. */
apex_err apex_store_check(apex_store *s, apex_error *err);
/* A consistent copy of the whole database into the new file dest (SQLite's online backup: one
 * snapshot, while others keep writing). APEX_ECONFLICT when dest exists; APEX_EINVAL on
 * PostgreSQL, whose own tools do it (pg_dump). */
apex_err apex_store_backup(apex_store *s, const char *dest, apex_error *err);
/* Replaces the SQLite database at db_path with the backup at src, after checking src is a whole
 * ApexTrade database (quick_check, its migrations table). No server may use db_path meanwhile
 * (the caller holds the data directory's lock). */
apex_err apex_store_restore_sqlite(const char *src, const char *db_path, apex_error *err);
/* Connections in use and in the pool (for /metrics). */
void apex_store_pool_stats(apex_store *s, int *in_use, int *size);

/* --- users --- */
typedef struct apex_user {
  apex_id id;
  char email[256];
  char password_hash[256];
  char first_name[101], last_name[101];
  char timezone[51];
  char preferred_currency[4];
  bool is_active, is_verified;
  int64_t created_at, updated_at, last_login_at; /* 0: never */
} apex_user;

apex_err apex_store_user_insert(apex_store *s, const apex_user *u, apex_error *err); /* ECONFLICT: email taken */
apex_err apex_store_user_by_email(apex_store *s, const char *email, apex_user *out, apex_error *err);
apex_err apex_store_user_by_id(apex_store *s, const char *id, apex_user *out, apex_error *err);
/* Writes every field but id, email and created_at. */
apex_err apex_store_user_update(apex_store *s, const apex_user *u, apex_error *err);

/* --- refresh tokens and password reset tokens (stored as SHA-256 hex of the secret) --- */
typedef struct apex_token {
  char hash[65];       /* primary key */
  apex_id user_id;
  apex_id family;      /* refresh tokens: rotation family; reset tokens: "" */
  char kind[8];        /* "refresh" or "reset" */
  int64_t expires_at;
  bool used, revoked;
} apex_token;
apex_err apex_store_token_insert(apex_store *s, const apex_token *t, apex_error *err);
apex_err apex_store_token_get(apex_store *s, const char *hash, apex_token *out, apex_error *err);
/* Marks one token used; ECONFLICT if it already was (a race lost: treat as reuse). */
apex_err apex_store_token_use(apex_store *s, const char *hash, apex_error *err);
apex_err apex_store_token_revoke_family(apex_store *s, const char *family, apex_error *err);
apex_err apex_store_token_revoke_user(apex_store *s, const char *user_id, const char *kind, apex_error *err);

/* --- strategies --- */
typedef struct apex_strategy_row {
  apex_id id, user_id;
  char name[129];
  char *description;   /* owned, may be NULL */
  char symbol[33];
  char timeframe[8];
  char *definition;    /* owned: the strategy document as the user sent it (JSON text) */
  apex_dec stop_loss_pct, take_profit_pct, max_position_size_pct, max_drawdown_pct; /* -1: none */
  int version;
  char status[16];     /* draft, active, paused, archived */
  char trading_mode[8];/* "", paper, live */
  int64_t created_at, updated_at, activated_at;
} apex_strategy_row;
void apex_strategy_row_clear(apex_strategy_row *r); /* frees the owned strings */

typedef struct apex_page {
  int page, limit;     /* 1-based page, rows per page */
  bool desc;           /* sort by created_at descending */
  const char *status;  /* filter or NULL */
  const char *symbol;  /* filter or NULL */
} apex_page;

/* Inserts the row and its version 1 in one transaction. */
apex_err apex_store_strategy_insert(apex_store *s, const apex_strategy_row *r, apex_error *err);
/* user_id NULL: any user's (background jobs only; requests always pass the caller's id). */
apex_err apex_store_strategy_get(apex_store *s, const char *user_id, const char *id, apex_strategy_row *out,
                                 apex_error *err);
/* rows: caller array of p->limit; *n rows filled, without their definition (NULL); *total across
 * all pages. */
apex_err apex_store_strategy_list(apex_store *s, const char *user_id, const apex_page *p, apex_strategy_row *rows,
                                  size_t *n, int64_t *total, apex_error *err);
/* Updates the row (version = r->version, which the caller has incremented) and stores that version. */
apex_err apex_store_strategy_update(apex_store *s, const apex_strategy_row *r, apex_error *err);
apex_err apex_store_strategy_delete(apex_store *s, const char *user_id, const char *id, apex_error *err);
/* A page of versions, newest first (page from 1, limit rows at most, into rows): numbers, names
 * and times, without definitions (a version's document may be a megabyte); *total counts them all. */
apex_err apex_store_strategy_versions(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                      apex_strategy_row *rows, size_t *n, int64_t *total, apex_error *err);
/* One version with its definition (owned by out->definition). */
apex_err apex_store_strategy_version(apex_store *s, const char *user_id, const char *id, int version,
                                     apex_strategy_row *out, apex_error *err);

/* --- backtests --- */
typedef struct apex_backtest_row {
  apex_id id, user_id, strategy_id;
  int64_t start_date, end_date;   /* 0: open */
  apex_dec initial_capital, commission_pct, slippage_pct;
  char status[16];                /* pending, running, completed, failed, cancelled */
  int progress_pct;
  char *error_message;            /* owned, may be NULL */
  char *result;                   /* owned: metrics JSON (spec result object without trades), may be NULL */
  int64_t created_at, started_at, completed_at;
} apex_backtest_row;
void apex_backtest_row_clear(apex_backtest_row *r);

typedef struct apex_trade_row {
  int64_t entry_time, exit_time;
  apex_dec quantity, entry_price, exit_price, gross_pnl, net_pnl, commission;
  char exit_reason[16];
} apex_trade_row;

apex_err apex_store_backtest_insert(apex_store *s, const apex_backtest_row *r, apex_error *err);
/* As insert, unless r's user already has max_unfinished backtests or more pending or running:
 * then APEX_ETOOBIG and nothing stored. *unfinished is that count before the insert. The count and
 * the insert are one transaction holding the user's row, so two submissions at once cannot both
 * take the last place. */
apex_err apex_store_backtest_insert_capped(apex_store *s, const apex_backtest_row *r, int64_t max_unfinished,
                                           int64_t *unfinished, apex_error *err);
/* user_id NULL: any user's (background jobs only). */
apex_err apex_store_backtest_get(apex_store *s, const char *user_id, const char *id, apex_backtest_row *out,
                                 apex_error *err);
apex_err apex_store_backtest_list(apex_store *s, const char *user_id, const apex_page *p, apex_backtest_row *rows,
                                  size_t *n, int64_t *total, apex_error *err);
/* Sets status, progress and (when not NULL) error message and started/completed times. Only moves a
 * backtest that is not already finished: ECONFLICT otherwise (cancel raced with completion). */
apex_err apex_store_backtest_set_status(apex_store *s, const char *id, const char *status, int progress,
                                        const char *error_message, int64_t now, apex_error *err);
/* Stores the result, trades and equity samples and marks it completed, in one transaction. */
apex_err apex_store_backtest_finish(apex_store *s, const char *id, const char *result_json,
                                    const apex_trade_row *trades, size_t n_trades, const int64_t *eq_time,
                                    const double *eq_value, size_t n_eq, int64_t now, apex_error *err);
apex_err apex_store_backtest_trades(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                    apex_trade_row *rows, size_t *n, int64_t *total, apex_error *err);
apex_err apex_store_backtest_equity(apex_store *s, const char *user_id, const char *id, int page, int limit,
                                    int64_t *times, double *values, size_t *n, int64_t *total, apex_error *err);

/* --- job leases (backtests.lease_owner, lease_until) --- */
/* Claims backtest id for owner (a worker identity such as "host:pid:thread") until lease_until (ms):
 * moves pending -> running (sets started_at = now), or takes over a running one whose lease expired
 * before now (or that has no lease: left running by a process without leases). One atomic
 * UPDATE ... WHERE ... RETURNING. The owner already holding a live lease gets it again (extended).
 * APEX_ECONFLICT when another owner holds a live lease or the backtest is finished/cancelled;
 * APEX_ENOTFOUND when there is no such backtest. */
apex_err apex_store_backtest_claim(apex_store *s, const char *id, const char *owner, int64_t now, int64_t lease_until,
                                   apex_error *err);
/* Extends owner's lease of a running backtest; APEX_ECONFLICT when owner no longer holds it,
 * APEX_ENOTFOUND when there is no such backtest. */
apex_err apex_store_backtest_renew(apex_store *s, const char *id, const char *owner, int64_t lease_until,
                                   apex_error *err);
/* Ids of backtests pending, or running with lease_until < now or no lease (what a starting process
 * re-queues), oldest first, and when owners is not NULL their users' ids (owners[i] owns ids[i]).
 * *ids and *owners malloc'd, caller frees (NULL when *n is 0). */
apex_err apex_store_backtest_claimable(apex_store *s, int64_t now, apex_id **ids, apex_id **owners, size_t *n,
                                       apex_error *err);

/* --- rule library (spec 3.2.1/3.2.2: a user's named rules that strategies reference by id) --- */
typedef struct apex_rule_row {
  apex_id id, user_id;
  char name[128];
  char *description; /* owned, may be NULL */
  char *definition;  /* owned: the rule as JSON text (one rule object as the rule engine parses it) */
  int version;       /* 1 on create, +1 per update (the store counts) */
  int64_t created_at, updated_at;
} apex_rule_row;
void apex_rule_row_clear(apex_rule_row *r); /* frees the owned strings; NULL is a no-op */
/* Inserts r as version 1 (r->version is ignored). ENOTFOUND: no such user; EINVAL: id not a UUID. */
apex_err apex_store_rule_insert(apex_store *s, const apex_rule_row *r, apex_error *err);
/* ENOTFOUND for another user's. */
apex_err apex_store_rule_get(apex_store *s, const char *user_id, const char *id, apex_rule_row *out,
                             apex_error *err);
/* Newest first unless !p->desc; p->status and p->symbol are ignored. rows: caller array of p->limit. */
apex_err apex_store_rule_list(apex_store *s, const char *user_id, const apex_page *p, apex_rule_row *rows, size_t *n,
                              int64_t *total, apex_error *err);
/* Writes name, description, definition and updated_at of the user's rule r->id (r->user_id) and
 * adds one to its version (r->version is ignored). */
apex_err apex_store_rule_update(apex_store *s, const apex_rule_row *r, apex_error *err);
apex_err apex_store_rule_delete(apex_store *s, const char *user_id, const char *id, apex_error *err);

/* --- candles --- */
/* Upserts every candle of s on (time, symbol, timeframe), in one transaction (COPY on PostgreSQL). */
apex_err apex_store_ohlcv_put(apex_store *st, const char *symbol, const char *timeframe, const apex_series *s,
                              const char *source, apex_error *err);
/* Candles with start <= time < end (INT64_MIN/MAX: open), oldest first, at most limit (0: all).
 * *out is a new series (caller frees); an empty range gives an empty series, not an error. */
apex_err apex_store_ohlcv_get(apex_store *st, const char *symbol, const char *timeframe, int64_t start, int64_t end,
                              size_t limit, apex_series **out, apex_error *err);
typedef struct apex_symbol_info {
  char symbol[33], timeframe[8];
  int64_t first, last, count;
} apex_symbol_info;
/* The newest limit (> 0) candles with start <= time < end, oldest first: reads only those rows. */
apex_err apex_store_ohlcv_last(apex_store *st, const char *symbol, const char *timeframe, int64_t start, int64_t end,
                               size_t limit, apex_series **out, apex_error *err);
/* Every (symbol, timeframe) stored, from the candle catalog that imports keep (no scan of the
 * candles). *rows is malloc'd (caller frees). */
apex_err apex_store_ohlcv_symbols(apex_store *st, apex_symbol_info **rows, size_t *n, apex_error *err);

/* --- portfolios and what paper/live trading writes into them --- */
/* A nullable amount: a decimal never takes this value (decimal.h), so it marks SQL NULL. */
#define APEX_DEC_NONE INT64_MIN

typedef struct apex_portfolio_row {
  apex_id id, user_id;
  char name[401];      /* 1-100 characters (UTF-8) */
  char *description;   /* owned, may be NULL */
  char base_currency[4];
  bool is_paper;
  char broker[51];     /* "": none */
  apex_dec initial_balance, cash_balance;
  bool is_active;
  int64_t created_at, updated_at;
} apex_portfolio_row;
void apex_portfolio_row_clear(apex_portfolio_row *r); /* frees the owned string */

typedef struct apex_position_row {
  apex_id id, portfolio_id;
  char symbol[33];
  apex_dec quantity, average_entry_price;
  apex_dec current_price, unrealized_pnl, unrealized_pnl_pct; /* APEX_DEC_NONE: unknown */
  bool is_open;
  int64_t opened_at, closed_at, updated_at; /* closed_at 0: open */
} apex_position_row;

/* One order and its fill (the spec's Trade, 4.2.4). */
typedef struct apex_portfolio_trade_row {
  apex_id id, user_id, portfolio_id;
  apex_id strategy_id;  /* "": none */
  char symbol[33];
  char side[5];         /* BUY, SELL */
  char order_type[21];  /* MARKET, LIMIT, STOP_LOSS */
  apex_dec quantity, filled_quantity, commission, slippage;
  apex_dec price, filled_price, realized_pnl; /* APEX_DEC_NONE: none */
  char status[21];      /* pending, open, filled, cancelled, failed */
  char broker_order_id[101];
  bool is_paper;
  int64_t created_at, submitted_at, filled_at; /* 0: not yet */
  char error[256];      /* a live order's failure, or why it waits; "": none */
} apex_portfolio_trade_row;

typedef struct apex_equity_row {
  int64_t time;
  apex_dec equity_value, cash_balance, positions_value;
  apex_dec daily_pnl, daily_pnl_pct; /* APEX_DEC_NONE: none */
} apex_equity_row;

apex_err apex_store_portfolio_insert(apex_store *s, const apex_portfolio_row *r, apex_error *err);
/* user_id NULL: any user's (background jobs only). */
apex_err apex_store_portfolio_get(apex_store *s, const char *user_id, const char *id, apex_portfolio_row *out,
                                  apex_error *err);
/* Newest first unless !p->desc; p->status and p->symbol are ignored. rows: caller array of p->limit. */
apex_err apex_store_portfolio_list(apex_store *s, const char *user_id, const apex_page *p, apex_portfolio_row *rows,
                                   size_t *n, int64_t *total, apex_error *err);
/* Writes name, description, base currency, broker, cash balance, is_active and updated_at of the
 * user's portfolio r->id (r->user_id). */
apex_err apex_store_portfolio_update(apex_store *s, const apex_portfolio_row *r, apex_error *err);
/* Deletes it with its positions, trades and equity history. */
apex_err apex_store_portfolio_delete(apex_store *s, const char *user_id, const char *id, apex_error *err);

/* Inserts or replaces the position r->id; ENOTFOUND if the portfolio does not exist. */
apex_err apex_store_position_put(apex_store *s, const apex_position_row *r, apex_error *err);
/* The portfolio's positions (open ones only when open_only), by symbol. ENOTFOUND unless the
 * portfolio is user_id's (NULL: anyone's). */
apex_err apex_store_positions(apex_store *s, const char *user_id, const char *portfolio_id, bool open_only, int page,
                              int limit, apex_position_row *rows, size_t *n, int64_t *total, apex_error *err);
/* Inserts a trade into r->portfolio_id; ENOTFOUND unless that portfolio is r->user_id's. */
apex_err apex_store_portfolio_trade_insert(apex_store *s, const apex_portfolio_trade_row *r, apex_error *err);
/* Newest first (created_at, then id). ENOTFOUND unless the portfolio is user_id's (NULL: anyone's). */
apex_err apex_store_portfolio_trades(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                                     apex_portfolio_trade_row *rows, size_t *n, int64_t *total, apex_error *err);
/* Upserts points on (time, portfolio) in one transaction; ENOTFOUND if the portfolio does not exist. */
apex_err apex_store_equity_put(apex_store *s, const char *portfolio_id, const apex_equity_row *rows, size_t n,
                               apex_error *err);
/* Oldest first. ENOTFOUND unless the portfolio is user_id's (NULL: anyone's). */
apex_err apex_store_equity(apex_store *s, const char *user_id, const char *portfolio_id, int page, int limit,
                           apex_equity_row *rows, size_t *n, int64_t *total, apex_error *err);

/* --- broker API keys: the store keeps what app/apikeys.c encrypted, never plain text --- */
typedef struct apex_api_key_row {
  apex_id id, user_id;
  char exchange[51];   /* binance, kraken, alpaca */
  char label[401];     /* "": none */
  char key_hint[33];   /* masked api key, safe to show */
  char *api_key_enc, *api_secret_enc, *passphrase_enc; /* owned "v1:" texts; passphrase may be NULL */
  bool is_paper;
  int64_t created_at, last_used_at; /* last_used_at 0: never */
} apex_api_key_row;
void apex_api_key_row_clear(apex_api_key_row *r); /* wipes and frees the owned texts */

apex_err apex_store_api_key_insert(apex_store *s, const apex_api_key_row *r, apex_error *err);
/* With the encrypted texts. user_id NULL: any user's (execution jobs only). */
apex_err apex_store_api_key_get(apex_store *s, const char *user_id, const char *id, apex_api_key_row *out,
                                apex_error *err);
/* Without the encrypted texts (they stay NULL). Newest first unless !p->desc. */
apex_err apex_store_api_key_list(apex_store *s, const char *user_id, const apex_page *p, apex_api_key_row *rows,
                                 size_t *n, int64_t *total, apex_error *err);
apex_err apex_store_api_key_delete(apex_store *s, const char *user_id, const char *id, apex_error *err);

/* --- strategy runs (paper/live trading: app/runner.c) and their risk refusals --- */
typedef struct apex_run_row {
  apex_id id, strategy_id, user_id, portfolio_id;
  char mode[8];               /* paper, live */
  char symbol[33], timeframe[8];
  char *definition;           /* owned: the strategy document as activated */
  char quote_currency[16];    /* the pair's (USDT) */
  char base_currency[4];      /* the portfolio's (EUR) */
  apex_dec fx_rate;           /* base -> quote at activation */
  apex_dec capital;           /* in the quote currency */
  apex_dec commission_pct, slippage_pct;
  char status[16];            /* running, stopped, failed */
  int64_t warm_from, start_time, last_time; /* 0: not yet */
  int64_t candles;            /* stepped, warm-up included */
  char error[256];            /* "": none */
  int64_t created_at, stopped_at;
  apex_id api_key_id;         /* live: the broker key it trades with; "" for paper */
  apex_dec max_order_notional, max_daily_notional; /* live, in the quote currency; 0: no limit */
  char outside_hours[12];     /* live, a market that closes: hold (for the open), refuse, extended */
} apex_run_row;
void apex_run_row_clear(apex_run_row *r); /* frees the owned text; NULL is a no-op */

/* ECONFLICT when the strategy already has a running run. */
apex_err apex_store_run_insert(apex_store *s, const apex_run_row *r, apex_error *err);
/* Every running run, oldest first; *rows malloc'd (clear each, then free). */
apex_err apex_store_runs_running(apex_store *s, apex_run_row **rows, size_t *n, apex_error *err);
/* The strategy's newest run (user_id NULL: anyone's); ENOTFOUND when it never ran. */
apex_err apex_store_run_latest(apex_store *s, const char *user_id, const char *strategy_id, apex_run_row *out,
                               apex_error *err);
/* Ends a running run: status stopped or failed, error ("" none), stopped_at. ENOTFOUND when it is
 * not running. */
apex_err apex_store_run_stop(apex_store *s, const char *run_id, const char *status, const char *error, int64_t at,
                             apex_error *err);

/* --- live orders: a trades row plus its execution record (migration 0008) --- */
typedef struct apex_live_order_row {
  apex_portfolio_trade_row t; /* t.id, user, strategy, portfolio, symbol, side, type, quantity, status... */
  char client_order_id[37];
  apex_id run_id, api_key_id;
  char venue[16];
  bool close_position;        /* a SELL of whatever the run holds when it is sent */
  apex_dec quote_filled;      /* sum of price x qty of its fills */
  char fee_currency[16];
  int attempts;               /* times sent */
  int64_t last_attempt_at;    /* 0: never sent; its failure is t.error */
  int64_t signal_time;        /* the candle close that made it */
  int64_t updated_at;
} apex_live_order_row;
/* Stores the order (trades row and record, one transaction) unless its client order id is stored
 * already: *added says which. That is what makes a restart that steps a candle again harmless. */
apex_err apex_store_live_order_add(apex_store *s, const apex_live_order_row *r, bool *added, apex_error *err);
/* Writes r's status, fills, fee, venue id, times, attempts and error (both tables). */
apex_err apex_store_live_order_update(apex_store *s, const apex_live_order_row *r, apex_error *err);
/* Orders in the order they were made: by the candle close that made them, a SELL before a BUY of
 * the same close (the exit a stop made during that candle goes before the next entry); of run_id
 * (NULL: every run), only those not yet settled (pending, open, partially_filled) when
 * unsettled. *rows malloc'd (free it). */
apex_err apex_store_live_orders(apex_store *s, const char *run_id, bool unsettled, apex_live_order_row **rows,
                                size_t *n, apex_error *err);
/* One by its client order id; ENOTFOUND. */
apex_err apex_store_live_order_get(apex_store *s, const char *client_order_id, apex_live_order_row *out,
                                   apex_error *err);

/* The next nonce of a broker key: above every one handed out before for it (also by another
 * process) and at least floor (the caller's clock). ENOTFOUND for a key that does not exist. */
apex_err apex_store_nonce_next(apex_store *s, const char *api_key_id, int64_t floor, int64_t *out, apex_error *err);

typedef struct apex_risk_event_row {
  apex_id run_id, strategy_id, portfolio_id;
  int64_t seq;          /* per run, from 0 */
  int64_t time;         /* the candle whose signal was refused */
  char kind[32];        /* insufficient_cash, drawdown_halt, order_rate, max_open_positions, stale_candle */
  char detail[256];
  apex_dec quantity;    /* APEX_DEC_NONE: none */
} apex_risk_event_row;
/* The strategy's refusals, newest first; ENOTFOUND unless the strategy is user_id's. */
apex_err apex_store_risk_events(apex_store *s, const char *user_id, const char *strategy_id, int page, int limit,
                                apex_risk_event_row *rows, size_t *n, int64_t *total, apex_error *err);

typedef struct apex_run_progress {
  const char *run_id;
  int64_t warm_from, start_time, last_time, candles;
} apex_run_progress;
typedef struct apex_cash_update {
  const char *portfolio_id;
  apex_dec cash_balance;
  int64_t updated_at;
} apex_cash_update;
typedef struct apex_equity_point {
  const char *portfolio_id;
  apex_equity_row row;
} apex_equity_point;

/* A closed candle of a feed, stored with what it did. */
typedef struct apex_paper_candle {
  const char *symbol, *timeframe, *source;
  apex_bar bar;
} apex_paper_candle;

/* What candles closing together did to the runs stepped on them, written in one transaction so
 * that a crash keeps all of it or none: the candles themselves (upserted), the runs' progress,
 * orders (trades upserted by id: a pending order stored at the signal becomes filled at the fill),
 * positions (upserted by id), the portfolios' cash, equity points (upserted on time and
 * portfolio) and refusals (inserted once per run and seq). Rows of each kind in any order; the
 * keys of positions, equity points and progress rows distinct within a commit. */
typedef struct apex_paper_commit {
  const apex_paper_candle *candles;
  size_t n_candles;
  const apex_run_progress *runs;
  size_t n_runs;
  const apex_portfolio_trade_row *trades;
  size_t n_trades;
  const apex_position_row *positions;
  size_t n_positions;
  const apex_cash_update *cash;
  size_t n_cash;
  const apex_equity_point *equity;
  size_t n_equity;
  const apex_risk_event_row *risk;
  size_t n_risk;
} apex_paper_commit;
apex_err apex_store_paper_commit(apex_store *s, const apex_paper_commit *c, apex_error *err);
/* --- euro reference exchange rates (sql_fx.c): the ECB's, 1 EUR = rate units of currency --- */
/* Upserts rows on (currency, date) in one transaction: an existing rate is replaced, so loading
 * the same file twice changes nothing; a key given twice in rows keeps the later row. APEX_EINVAL
 * (nothing written) unless every currency is three of A-Z and every rate > 0. */
apex_err apex_store_fx_put(apex_store *s, const apex_fx_rate *rows, size_t n, apex_error *err);
/* The latest rate of currency dated <= at_ms into *out (its date is the rate's, not at_ms);
 * APEX_ENOTFOUND when there is none (a currency not three of A-Z has none). */
apex_err apex_store_fx_get(apex_store *s, const char *currency, int64_t at_ms, apex_fx_rate *out, apex_error *err);

#endif
