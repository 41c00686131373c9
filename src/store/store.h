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
#include "core/series.h"

#define APEX_ID_LEN 37 /* "8-4-4-4-12" hex + NUL */
typedef char apex_id[APEX_ID_LEN];

typedef struct apex_store apex_store; /* opaque */

/* url: "postgresql://..." / "postgres://..." for PostgreSQL, anything else is a SQLite file path
 * ("sqlite:" prefix optional). pool: connections for PostgreSQL (ignored for SQLite). */
apex_err apex_store_open(const char *url, int pool, apex_store **out, apex_error *err);
void apex_store_close(apex_store *s); /* NULL is a no-op */
const char *apex_store_backend(const apex_store *s); /* "sqlite" or "postgresql" */
/* Applies every pending forward-only migration in order, each in a transaction. */
apex_err apex_store_migrate(apex_store *s, apex_error *err);
/* Writes one line per known migration ("0001_init applied 2026-11-25T14:00:00Z" / "pending"). */
apex_err apex_store_migration_status(apex_store *s, char *buf, size_t cap, apex_error *err);
/* Cheap round trip (for /readyz). */
apex_err apex_store_ping(apex_store *s, apex_error *err);
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
/* rows: caller array of p->limit; *n rows filled; *total across all pages. */
apex_err apex_store_strategy_list(apex_store *s, const char *user_id, const apex_page *p, apex_strategy_row *rows,
                                  size_t *n, int64_t *total, apex_error *err);
/* Updates the row (version = r->version, which the caller has incremented) and stores that version. */
apex_err apex_store_strategy_update(apex_store *s, const apex_strategy_row *r, apex_error *err);
apex_err apex_store_strategy_delete(apex_store *s, const char *user_id, const char *id, apex_error *err);
/* Versions newest first: version numbers, times and definitions (owned by rows[i].definition). */
apex_err apex_store_strategy_versions(apex_store *s, const char *user_id, const char *id, apex_strategy_row *rows,
                                      size_t cap, size_t *n, apex_error *err);

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
/* Ids of backtests left pending or running (re-queued at start). *ids is malloc'd (caller frees). */
apex_err apex_store_backtest_unfinished(apex_store *s, apex_id **ids, size_t *n, apex_error *err);

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
/* Every (symbol, timeframe) stored. *rows is malloc'd (caller frees). */
apex_err apex_store_ohlcv_symbols(apex_store *st, apex_symbol_info **rows, size_t *n, apex_error *err);

#endif
