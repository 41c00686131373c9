/* config.h - the server's configuration: defaults, then environment variables (the spec's
 * Appendix A plus ours), then --flag overrides; validated, immutable once loaded.
 * One table in config.c lists every setting with its variable, flag, default and help. */
#ifndef APEX_SYS_CONFIG_H
#define APEX_SYS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "sys/secrets.h"

typedef struct apex_config {
  /* application */
  char app_name[64];        /* APP_NAME (apextrade) */
  char app_env[16];         /* APP_ENV: development | staging | production */
  bool debug;               /* DEBUG */
  char secret_key[256];     /* SECRET_KEY; generated into the data dir when empty (not production) */
  char log_level[16];       /* LOG_LEVEL: debug | info | warn | error | off */
  /* server */
  char host[256];           /* HOST / --host (127.0.0.1) */
  uint16_t port;            /* PORT / --port (8000) */
  unsigned http_threads;    /* HTTP_THREADS (0 = number of cores) */
  char cors_origins[1024];  /* CORS_ORIGINS: comma list; empty = no CORS */
  unsigned http_max_connections;   /* HTTP_MAX_CONNECTIONS (10000) */
  unsigned http_client_connections; /* HTTP_MAX_CONNECTIONS_PER_CLIENT (128) */
  unsigned http_request_timeout_s; /* HTTP_REQUEST_TIMEOUT_SECONDS (10): headers and body */
  unsigned http_idle_timeout_s;    /* HTTP_IDLE_TIMEOUT_SECONDS (60): kept-alive, between requests */
  char trusted_proxies[1024];      /* TRUSTED_PROXIES: addresses/CIDR blocks whose X-Forwarded-For counts */
  char data_dir[1024];      /* APEX_DATA_DIR (./var) */
  char web_dir[1024];       /* APEX_WEB_DIR: built UI to serve; empty = none */
  /* storage and queues */
  char database_url[1024];  /* DATABASE_URL; empty = SQLite in data_dir */
  char timescale_url[1024]; /* TIMESCALE_URL (accepted; the store uses DATABASE_URL) */
  int db_pool_size;         /* DB_POOL_SIZE (10) */
  unsigned db_check_interval_s; /* DB_CHECK_INTERVAL_SECONDS (300; 0 = off): integrity check while serving */
  char redis_url[512];      /* REDIS_URL; empty = one process (events, revocations, limits in memory) */
  char celery_broker_url[512]; /* CELERY_BROKER_URL (accepted for compatibility; unused) */
  /* auth */
  char jwt_secret_key[256]; /* JWT_SECRET_KEY (accepted; tokens are RS256 with keys in data_dir) */
  unsigned account_limit;   /* ACCOUNT_REQUESTS_PER_MINUTE (10): register, forgot, reset per client address */
  int jwt_access_minutes;   /* JWT_ACCESS_TOKEN_EXPIRE_MINUTES (15) */
  int jwt_refresh_days;     /* JWT_REFRESH_TOKEN_EXPIRE_DAYS (7) */
  char api_key_encryption_key[256]; /* API_KEY_ENCRYPTION_KEY; empty = sys/secrets generates one */
  char jwt_private_key_file[1024]; /* JWT_PRIVATE_KEY_FILE; empty = data_dir/jwt_private.pem */
  char jwt_public_key_file[1024];  /* JWT_PUBLIC_KEY_FILE (optional, checked against the private key) */
  /* jobs */
  int backtest_workers;     /* BACKTEST_WORKERS (4) */
  unsigned backtest_per_user; /* BACKTEST_MAX_PER_USER (10) */
  unsigned backtest_memory_mb; /* BACKTEST_MAX_MEMORY_MB (2048) */
  int backtest_timeout_s;   /* BACKTEST_TIMEOUT_SECONDS (600) */
  int backtest_lease_s;     /* BACKTEST_LEASE_SECONDS (60): a worker's claim on a job, renewed while it runs */
  /* mail */
  char smtp_url[512];       /* SMTP_URL; empty = mails go to the log */
  char smtp_from[256];      /* SMTP_FROM (ApexTrade <noreply@localhost>) */
  /* external APIs */
  char binance_api_key[256], binance_api_secret[256];
  bool binance_testnet;     /* BINANCE_TESTNET (true) */
  char alpaca_api_key[256], alpaca_api_secret[256];
  bool alpaca_paper;        /* ALPACA_PAPER (true) */
  /* monitoring, features */
  bool prometheus_enabled;  /* PROMETHEUS_ENABLED (true): serve /metrics */
  char sentry_dsn[512];     /* SENTRY_DSN (accepted; unused) */
  char access_log[16];      /* ACCESS_LOG: off | errors | sampled | all (sampled) */
  unsigned access_log_sample; /* ACCESS_LOG_SAMPLE (100): sampled writes 1 in N answers below 400 */
  char log_file[1024];      /* LOG_FILE: empty = stderr; else a file rotated by size */
  unsigned log_file_max_kb; /* LOG_FILE_MAX_KB (102400) */
  unsigned log_files;       /* LOG_FILES (5): rotated files kept besides LOG_FILE */
  bool feature_live_trading;   /* FEATURE_LIVE_TRADING (false) */
  char market_feed[16];        /* MARKET_FEED: none, replay, binance (none) */
  char replay_file[1024];      /* MARKET_REPLAY_FILE: candles played as the live feed */
  char replay_symbol[33];      /* MARKET_REPLAY_SYMBOL (BTC/USDT) */
  char replay_timeframe[8];    /* MARKET_REPLAY_TIMEFRAME (1m) */
  char replay_speed[16];       /* MARKET_REPLAY_SPEED: x real time, 0 as fast as possible (60) */
  char replay_from[32];        /* MARKET_REPLAY_FROM: the first candle played (date); "": the file's first */
  char binance_url[256];       /* BINANCE_BASE_URL (https://api.binance.com) */
  char binance_trade_url[256]; /* BINANCE_TRADE_URL ("": the key's venue, live or testnet) */
  char kraken_trade_url[256];  /* KRAKEN_TRADE_URL ("": api.kraken.com) */
  char alpaca_trade_url[256];  /* ALPACA_TRADE_URL ("": the key's account, paper or live) */
  char coinbase_trade_url[256]; /* COINBASE_TRADE_URL ("": api.coinbase.com) */
  int live_reconcile_s;        /* LIVE_RECONCILE_SECONDS (60) */
  char ecb_url[256];           /* ECB_BASE_URL (https://www.ecb.europa.eu) */
  char fx_rates_file[1024];    /* FX_RATES_FILE: ECB reference rates loaded at start ("": none) */
  bool feature_multi_exchange; /* FEATURE_MULTI_EXCHANGE (false) */
  bool test_routes;         /* APEX_TEST_ROUTES (false): extra routes for tests/api only */
  unsigned test_job_delay_ms; /* APEX_TEST_JOB_DELAY_MS (0): tests only, a pause in each backtest */
} apex_config;

/* Fills cfg with the defaults. */
void apex_config_defaults(apex_config *cfg);

/* Reads every known variable through get (NULL = getenv). A value that does not parse is
 * APEX_EINVAL with err = "PORT: expected an integer 1-65535, got 'x'". */
apex_err apex_config_from_env(apex_config *cfg, const char *(*get)(const char *name), apex_error *err);

/* Applies --flag VALUE / --flag=VALUE overrides from argv[1..argc-1] (each setting's flag is its
 * variable in lower case with '-', e.g. --database-url; booleans also take --flag alone and
 * --no-flag). Other arguments are APEX_EINVAL ("unexpected argument"). *help is set on --help/-h.
 * Unknown flags are APEX_EINVAL ("unknown option '--x'"). */
apex_err apex_config_from_args(apex_config *cfg, int argc, char **argv, bool *help, apex_error *err);

/* Checks ranges and combinations; in production refuses a missing or weak SECRET_KEY (< 32
 * characters, or the spec's example value) and a missing API_KEY_ENCRYPTION_KEY. */
apex_err apex_config_validate(const apex_config *cfg, apex_error *err);
/* ACCESS_LOG as 0 off, 1 errors, 2 sampled, 3 all (true and false, its old boolean values, are
 * all and off); -1 when it is none of them. */
int apex_config_access_log(const apex_config *cfg);

/* The part of validate that the commands opening the store need: APEX_DATA_DIR not empty and a
 * DATABASE_URL of a form the store opens (the message never quotes the URL). */
apex_err apex_config_validate_store(const apex_config *cfg, apex_error *err);

/* Creates data_dir (0700) and fills an empty secret_key from data_dir/secret_key (64 hex
 * characters, mode 0600), created from the system's random source on first start. Not done in
 * production (validate refuses an empty one). The JWT keys and the encryption key are
 * sys/secrets.h's job (apex_secrets_ensure). */
apex_err apex_config_prepare_data_dir(apex_config *cfg, apex_error *err);

/* The secrets' settings of cfg for sys/secrets (pointers into cfg: it must outlive out). */
void apex_config_secrets(const apex_config *cfg, apex_secrets_cfg *out);

/* defaults + env + args + validate, the usual sequence. */
apex_err apex_config_load(apex_config *cfg, int argc, char **argv, bool *help, apex_error *err);

/* Writes the options table: flag, variable, default, help; one per line. */
void apex_config_usage(FILE *f);

/* Settings of the spec that are read but do nothing yet (REDIS_URL, BINANCE_*, ALPACA_*, ...) and
 * were set to something other than their default: their variable names into names[0..cap), the
 * count returned. The server warns about them at start (names only, never values). */
size_t apex_config_unused_set(const apex_config *cfg, const char **names, size_t cap);

/* True for APP_ENV=production. */
bool apex_config_is_production(const apex_config *cfg);

#endif
