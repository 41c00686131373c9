/* config.c - one table of settings (variable, flag, type, default, help) drives defaults, the
 * environment, --flag overrides and the usage text, so they cannot drift apart. */
#include "sys/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { T_STR, T_INT, T_PORT, T_BOOL, T_UINT } opt_type;

typedef struct {
  const char *env;  /* DATABASE_URL; the flag is derived: --database-url */
  const char *flag; /* overrides the derived flag when set */
  opt_type type;
  size_t off, size; /* field in apex_config */
  const char *def;
  long min, max;    /* integers */
  bool secret;      /* never echoed in messages or usage defaults */
  const char *help;
} opt;

#define F(field) offsetof(apex_config, field), sizeof(((apex_config *)0)->field)

static const opt OPTS[] = {
    {"HOST", NULL, T_STR, F(host), "127.0.0.1", 0, 0, false, "address to listen on"},
    {"PORT", NULL, T_PORT, F(port), "8000", 0, 65535, false, "TCP port to listen on (0: any free port)"},
    {"APEX_DATA_DIR", "--data-dir", T_STR, F(data_dir), "./var", 0, 0, false,
     "directory for the SQLite database and generated secrets"},
    {"APP_ENV", NULL, T_STR, F(app_env), "development", 0, 0, false, "development, staging or production"},
    {"APP_NAME", NULL, T_STR, F(app_name), "apextrade", 0, 0, false, "application name"},
    {"DEBUG", NULL, T_BOOL, F(debug), "false", 0, 0, false, "debug mode (more logging)"},
    {"LOG_LEVEL", NULL, T_STR, F(log_level), "info", 0, 0, false, "debug, info, warn, error or off"},
    {"ACCESS_LOG", NULL, T_STR, F(access_log), "sampled", 0, 0, false,
     "JSON log lines for requests: off, errors (status 400 and above), sampled (errors and 1 in "
     "ACCESS_LOG_SAMPLE of the rest) or all"},
    {"ACCESS_LOG_SAMPLE", NULL, T_UINT, F(access_log_sample), "100", 1, 1000000, false,
     "with ACCESS_LOG=sampled, 1 in this many answers below 400 is logged"},
    {"LOG_FILE", NULL, T_STR, F(log_file), "", 0, 0, false,
     "write log lines to this file instead of stderr, rotated by size (FILE.1 ... FILE.N)"},
    {"LOG_FILE_MAX_KB", NULL, T_UINT, F(log_file_max_kb), "102400", 16, 100000000, false,
     "size at which LOG_FILE is rotated"},
    {"LOG_FILES", NULL, T_UINT, F(log_files), "5", 0, 1000, false,
     "rotated files kept besides LOG_FILE (the logs never take more than (LOG_FILES + 1) x LOG_FILE_MAX_KB)"},
    {"SECRET_KEY", NULL, T_STR, F(secret_key), "", 0, 0, true,
     "application secret: 32+ characters; " APEX_SECRETS_PRODUCTION_RULE
     " (generated in the data dir when unset, except in production)"},
    {"HTTP_THREADS", NULL, T_UINT, F(http_threads), "0", 0, 1024, false, "HTTP worker threads (0 = cores)"},
    {"CORS_ORIGINS", NULL, T_STR, F(cors_origins), "", 0, 0, false,
     "comma-separated origins allowed by CORS (empty: none)"},
    {"HTTP_MAX_CONNECTIONS", NULL, T_UINT, F(http_max_connections), "10000", 16, 1000000, false,
     "open HTTP connections in all (new ones are refused at once above 95 % of it), and open WebSockets apart"},
    {"HTTP_MAX_CONNECTIONS_PER_CLIENT", NULL, T_UINT, F(http_client_connections), "128", 1, 1000000, false,
     "open connections per client address, and requests in flight per client behind TRUSTED_PROXIES"},
    {"HTTP_REQUEST_TIMEOUT_SECONDS", NULL, T_UINT, F(http_request_timeout_s), "10", 1, 3600, false,
     "a new connection that sends nothing for this long while its request's headers and body "
     "arrive is closed"},
    {"HTTP_IDLE_TIMEOUT_SECONDS", NULL, T_UINT, F(http_idle_timeout_s), "60", 1, 86400, false,
     "a kept-alive connection idle this long between requests is closed"},
    {"TRUSTED_PROXIES", NULL, T_STR, F(trusted_proxies), "", 0, 0, false,
     "addresses and CIDR blocks of proxies in front (nginx) whose X-Forwarded-For names the client "
     "(empty: none, the header is ignored)"},
    {"APEX_WEB_DIR", "--web-dir", T_STR, F(web_dir), "", 0, 0, false, "the built web UI served at / (empty: web/dist beside the binary's directory, when built)"},
    {"DATABASE_URL", NULL, T_STR, F(database_url), "", 0, 0, true,
     "postgresql://... (empty: SQLite in the data dir)"},
    {"TIMESCALE_URL", NULL, T_STR, F(timescale_url), "", 0, 0, true,
     "TimescaleDB URL (spec)"},
    {"DB_POOL_SIZE", NULL, T_INT, F(db_pool_size), "10", 1, 1000, false, "database connections per process"},
    {"DB_CHECK_INTERVAL_SECONDS", NULL, T_UINT, F(db_check_interval_s), "300", 0, 86400, false,
     "while serving, check the database this often, off the request threads (0: only at start): "
     "SQLite's quick_check of every page, a corrupt one makes /readyz answer 503 and is logged; "
     "on PostgreSQL a round trip"},
    {"REDIS_URL", NULL, T_STR, F(redis_url), "", 0, 0, true,
     "redis://[:password@]host[:port][/db] (empty: one process; set: events, token revocations and "
     "login limits shared by every node on it)"},
    {"CELERY_BROKER_URL", NULL, T_STR, F(celery_broker_url), "", 0, 0, true,
     "Celery broker (spec)"},
    {"JWT_SECRET_KEY", NULL, T_STR, F(jwt_secret_key), "", 0, 0, true,
     "HS256 token secret (spec)"},
    {"ACCOUNT_REQUESTS_PER_MINUTE", NULL, T_UINT, F(account_limit), "10", 1, 1000000, false,
     "registrations, and password forgot/reset requests, a minute from one client address (429 beyond)"},
    {"JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "--jwt-access-minutes", T_INT, F(jwt_access_minutes), "15", 1, 1440,
     false, "access token lifetime in minutes"},
    {"JWT_REFRESH_TOKEN_EXPIRE_DAYS", "--jwt-refresh-days", T_INT, F(jwt_refresh_days), "7", 1, 365, false,
     "refresh token lifetime in days"},
    {"API_KEY_ENCRYPTION_KEY", NULL, T_STR, F(api_key_encryption_key), "", 0, 0, true,
     "key for broker API secrets at rest: 64 hex digits (the key) or a passphrase; " APEX_SECRETS_PRODUCTION_RULE
     " (generated in the data dir when unset, except in production)"},
    {"JWT_PRIVATE_KEY_FILE", NULL, T_STR, F(jwt_private_key_file), "", 0, 0, false,
     "RSA private key PEM (2048+ bits, unencrypted, mode 0600 or stricter, at most 64 KiB) for tokens "
     "(empty: generated in the data dir)"},
    {"JWT_PUBLIC_KEY_FILE", NULL, T_STR, F(jwt_public_key_file), "", 0, 0, false,
     "RSA public key PEM, checked against the private key"},
    {"BACKTEST_WORKERS", NULL, T_INT, F(backtest_workers), "4", 0, 256, false,
     "backtests run at once in this process (0, with REDIS_URL: none, apextrade worker runs them)"},
    {"BACKTEST_MAX_PER_USER", NULL, T_UINT, F(backtest_per_user), "10", 1, 100000, false,
     "a user's backtests queued or running at once; more answer 429 (users take turns in the queue)"},
    {"BACKTEST_MAX_MEMORY_MB", NULL, T_UINT, F(backtest_memory_mb), "2048", 1, 1048576, false,
     "a backtest whose estimate (stored candles x indicator columns) is above this is refused with 422"},
    {"BACKTEST_TIMEOUT_SECONDS", NULL, T_INT, F(backtest_timeout_s), "600", 1, 86400, false,
     "a backtest running longer fails with 3002"},
    {"BACKTEST_LEASE_SECONDS", NULL, T_INT, F(backtest_lease_s), "60", 2, 3600, false,
     "a worker's claim on a backtest, renewed while it runs; a crashed worker's backtest runs again once it expires"},
    {"SMTP_URL", NULL, T_STR, F(smtp_url), "", 0, 0, true, "smtp(s)://user:pass@host:port (empty: mails go to the log; required in production)"},
    {"SMTP_FROM", NULL, T_STR, F(smtp_from), "ApexTrade <noreply@localhost>", 0, 0, false, "sender of mails"},
    {"BINANCE_API_KEY", NULL, T_STR, F(binance_api_key), "", 0, 0, true,
     "Binance API key"},
    {"BINANCE_API_SECRET", NULL, T_STR, F(binance_api_secret), "", 0, 0, true,
     "Binance API secret"},
    {"BINANCE_TESTNET", NULL, T_BOOL, F(binance_testnet), "true", 0, 0, false,
     "use Binance's testnet"},
    {"ALPACA_API_KEY", NULL, T_STR, F(alpaca_api_key), "", 0, 0, true,
     "Alpaca API key"},
    {"ALPACA_API_SECRET", NULL, T_STR, F(alpaca_api_secret), "", 0, 0, true,
     "Alpaca API secret"},
    {"ALPACA_PAPER", NULL, T_BOOL, F(alpaca_paper), "true", 0, 0, false,
     "use Alpaca's paper endpoint"},
    {"PROMETHEUS_ENABLED", NULL, T_BOOL, F(prometheus_enabled), "true", 0, 0, false, "serve /metrics"},
    {"SENTRY_DSN", NULL, T_STR, F(sentry_dsn), "", 0, 0, true,
     "Sentry DSN (spec)"},
    {"FEATURE_LIVE_TRADING", NULL, T_BOOL, F(feature_live_trading), "false", 0, 0, false,
     "allow strategies to be activated in live mode"},
    {"MARKET_FEED", NULL, T_STR, F(market_feed), "none", 0, 0, false,
     "closed candles for active strategies: none, replay (MARKET_REPLAY_*) or binance (polled after each close)"},
    {"MARKET_REPLAY_FILE", NULL, T_STR, F(replay_file), "", 0, 0, false,
     "candle file played as the live feed when MARKET_FEED=replay"},
    {"MARKET_REPLAY_SYMBOL", NULL, T_STR, F(replay_symbol), "BTC/USDT", 0, 0, false, "the replayed file's symbol"},
    {"MARKET_REPLAY_TIMEFRAME", NULL, T_STR, F(replay_timeframe), "1m", 0, 0, false, "the replayed file's timeframe"},
    {"MARKET_REPLAY_SPEED", NULL, T_STR, F(replay_speed), "60", 0, 0, false,
     "replay speed in multiples of real time (60: a 1m candle a second; 0: as fast as possible)"},
    {"MARKET_REPLAY_FROM", NULL, T_STR, F(replay_from), "", 0, 0, false,
     "first candle replayed (e.g. 2017-11-07); earlier ones are history (empty: from the first)"},
    {"FX_RATES_FILE", NULL, T_STR, F(fx_rates_file), "", 0, 0, false,
     "ECB euro reference rates (eurofxref-hist.xml or -daily.xml) loaded at start, for portfolios in another "
     "currency than the pairs they trade"},
    {"BINANCE_BASE_URL", NULL, T_STR, F(binance_url), "https://api.binance.com", 0, 0, false,
     "Binance REST base URL for market data (order books, the binance feed)"},
    {"BINANCE_TRADE_URL", NULL, T_STR, F(binance_trade_url), "", 0, 0, false,
     "Binance REST base URL for live orders and balances (empty: api.binance.com, or testnet.binance.vision "
     "for a broker key stored with is_paper)"},
    {"KRAKEN_TRADE_URL", NULL, T_STR, F(kraken_trade_url), "", 0, 0, false,
     "Kraken REST base URL for live orders and balances (empty: api.kraken.com; Kraken has no spot testnet)"},
    {"ALPACA_TRADE_URL", NULL, T_STR, F(alpaca_trade_url), "", 0, 0, false,
     "Alpaca trading API base URL (empty: paper-api.alpaca.markets for a broker key stored with is_paper, "
     "else api.alpaca.markets)"},
    {"COINBASE_TRADE_URL", NULL, T_STR, F(coinbase_trade_url), "", 0, 0, false,
     "Coinbase Advanced Trade base URL for live orders and balances (empty: api.coinbase.com)"},
    {"LIVE_RECONCILE_SECONDS", NULL, T_INT, F(live_reconcile_s), "60", 1, 3600, false,
     "how often live strategies' orders and balances are compared with the venue's (a difference stops them)"},
    {"ECB_BASE_URL", NULL, T_STR, F(ecb_url), "https://www.ecb.europa.eu", 0, 0, false,
     "where the ECB's euro reference rates are fetched while the binance feed runs (at start, then every 6 hours)"},
    {"FEATURE_MULTI_EXCHANGE", NULL, T_BOOL, F(feature_multi_exchange), "false", 0, 0, false,
     "allow several exchanges at once"},
    {"APEX_TEST_ROUTES", "--test-routes", T_BOOL, F(test_routes), "false", 0, 0, false,
     "extra routes used by tests/api (never in production)"},
    {"APEX_TEST_JOB_DELAY_MS", NULL, T_UINT, F(test_job_delay_ms), "0", 0, 600000, false,
     "tests only (never in production): each backtest waits this long after its claim, so a test can "
     "stop its worker mid-run"},
};

/* The spec's variables that are read but do nothing yet, and what will use them: --help and the
 * start-up warning say so until that lands. */
static const struct {
  const char *env, *until;
} UNUSED[] = {
    {"TIMESCALE_URL", "the store uses DATABASE_URL"},
    {"CELERY_BROKER_URL", "jobs will use REDIS_URL"},
    {"JWT_SECRET_KEY", "tokens are RS256 with JWT_PRIVATE_KEY_FILE"},
    {"BINANCE_API_KEY", "broker keys are each user's: POST /api/v1/api-keys"},
    {"BINANCE_API_SECRET", "broker keys are each user's: POST /api/v1/api-keys"},
    {"BINANCE_TESTNET", "a broker key stored with is_paper trades on the testnet"},
    {"ALPACA_API_KEY", "broker keys are each user's: POST /api/v1/api-keys"},
    {"ALPACA_API_SECRET", "broker keys are each user's: POST /api/v1/api-keys"},
    {"ALPACA_PAPER", "a broker key stored with is_paper trades the paper account"},
    {"SENTRY_DSN", "errors go to the JSON log"},
    {"FEATURE_MULTI_EXCHANGE", "the live trading issue"},
};

#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

static const char *unused_until(const char *env)
{
  for (size_t i = 0; i < sizeof UNUSED / sizeof UNUSED[0]; i++)
    if (!strcmp(UNUSED[i].env, env))
      return UNUSED[i].until;
  return NULL;
}

/* --database-url from DATABASE_URL */
static void flag_name(const opt *o, char *out, size_t len)
{
  if (o->flag) {
    snprintf(out, len, "%s", o->flag);
    return;
  }
  size_t j = 0;
  out[j++] = '-';
  out[j++] = '-';
  for (const char *c = o->env; *c && j + 1 < len; c++)
    out[j++] = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
  out[j] = 0;
}

static int parse_bool(const char *v)
{
  static const char *const T[] = {"1", "true", "yes", "on"}, *const N[] = {"0", "false", "no", "off", ""};
  for (size_t i = 0; i < 4; i++)
    if (!strcasecmp(v, T[i]))
      return 1;
  for (size_t i = 0; i < 5; i++)
    if (!strcasecmp(v, N[i]))
      return 0;
  return -1;
}

static apex_err set_opt(apex_config *cfg, const opt *o, const char *v, const char *src, apex_error *err)
{
  char *field = (char *)cfg + o->off;
  const char *shown = o->secret ? "(hidden)" : v;
  switch (o->type) {
  case T_STR:
    if (strlen(v) >= o->size)
      return apex_error_set(err, APEX_EINVAL, "%s: longer than %zu characters", src, o->size - 1);
    memcpy(field, v, strlen(v) + 1);
    return APEX_OK;
  case T_BOOL: {
    int b = parse_bool(v);
    if (b < 0)
      return apex_error_set(err, APEX_EINVAL, "%s: expected true or false, got '%s'", src, shown);
    *(bool *)field = b != 0;
    return APEX_OK;
  }
  case T_INT:
  case T_UINT:
  case T_PORT: {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < o->min || x > o->max)
      return apex_error_set(err, APEX_EINVAL, "%s: expected an integer %ld-%ld, got '%s'", src, o->min, o->max,
                            shown);
    if (o->type == T_INT)
      *(int *)field = (int)x;
    else if (o->type == T_UINT)
      *(unsigned *)field = (unsigned)x;
    else
      *(uint16_t *)field = (uint16_t)x;
    return APEX_OK;
  }
  }
  return APEX_EINVAL;
}

void apex_config_defaults(apex_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  for (size_t i = 0; i < N_OPTS; i++)
    (void)set_opt(cfg, &OPTS[i], OPTS[i].def, OPTS[i].env, NULL); /* the table's defaults parse */
}

apex_err apex_config_from_env(apex_config *cfg, const char *(*get)(const char *name), apex_error *err)
{
  for (size_t i = 0; i < N_OPTS; i++) {
    const char *v = get ? get(OPTS[i].env) : getenv(OPTS[i].env);
    if (!v)
      continue;
    apex_err rc = set_opt(cfg, &OPTS[i], v, OPTS[i].env, err);
    if (rc)
      return rc;
  }
  return APEX_OK;
}

apex_err apex_config_from_args(apex_config *cfg, int argc, char **argv, bool *help, apex_error *err)
{
  if (help)
    *help = false;
  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      if (help)
        *help = true;
      continue;
    }
    if (strncmp(arg, "--", 2) != 0)
      return apex_error_set(err, APEX_EINVAL, "unexpected argument '%s' (see --help)", arg);
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    bool negated = false;
    const opt *o = NULL;
    char name[96];
    for (size_t i = 0; i < N_OPTS && !o; i++) {
      flag_name(&OPTS[i], name, sizeof name);
      if (strlen(name) == nlen && !strncmp(arg, name, nlen))
        o = &OPTS[i];
      else if (OPTS[i].type == T_BOOL && nlen == strlen(name) + 3 && !strncmp(arg, "--no-", 5) &&
               !strncmp(arg + 5, name + 2, nlen - 5)) {
        o = &OPTS[i];
        negated = true;
      }
    }
    if (!o)
      return apex_error_set(err, APEX_EINVAL, "unknown option '%.*s' (see --help)", (int)nlen, arg);
    const char *v;
    if (eq) {
      v = eq + 1;
    } else if (o->type == T_BOOL) {
      v = negated ? "false" : "true";
    } else {
      if (a + 1 >= argc)
        return apex_error_set(err, APEX_EINVAL, "option '%s' needs a value", arg);
      v = argv[++a];
    }
    if (negated && eq)
      return apex_error_set(err, APEX_EINVAL, "option '%.*s' takes no value", (int)nlen, arg);
    char label[96];
    snprintf(label, sizeof label, "%.*s", (int)nlen, arg);
    apex_err rc = set_opt(cfg, o, v, label, err);
    if (rc)
      return rc;
  }
  return APEX_OK;
}

bool apex_config_is_production(const apex_config *cfg) { return !strcmp(cfg->app_env, "production"); }

int apex_config_access_log(const apex_config *cfg)
{
  static const char *const MODES[] = {"off", "errors", "sampled", "all"};
  for (int i = 0; i < (int)APEX_ARRAY_LEN(MODES); i++)
    if (!strcasecmp(cfg->access_log, MODES[i]))
      return i;
  int b = parse_bool(cfg->access_log); /* ACCESS_LOG was a boolean before: true is all */
  return b < 0 ? -1 : b ? 3 : 0;
}

/* The forms store/store.c opens: PostgreSQL URLs (also the spec's postgresql+asyncpg://), sqlite: URLs
 * and plain paths; anything else with a scheme (mysql://, redis://, foo:) is refused here, at start. */
static bool database_url_ok(const char *u)
{
  size_t k = strspn(u, "abcdefghijklmnopqrstuvwxyz0123456789+.-");
  if (k == 0 || u[k] != ':')
    return true; /* a path */
  return !strncmp(u, "postgresql://", 13) || !strncmp(u, "postgres://", 11) || !strncmp(u, "postgresql+", 11) ||
         !strncmp(u, "sqlite:", 7);
}

apex_err apex_config_validate_store(const apex_config *cfg, apex_error *err)
{
  if (!cfg->data_dir[0])
    return apex_error_set(err, APEX_EINVAL, "APEX_DATA_DIR: must not be empty");
  if (cfg->database_url[0] && !database_url_ok(cfg->database_url))
    return apex_error_set(err, APEX_EINVAL, "DATABASE_URL: expected postgresql://..., postgres://..., "
                                            "postgresql+DRIVER://..., sqlite:///PATH or a file path");
  return APEX_OK;
}

apex_err apex_config_validate(const apex_config *cfg, apex_error *err)
{
  apex_err rc;
  if (strcmp(cfg->app_env, "development") && strcmp(cfg->app_env, "staging") && strcmp(cfg->app_env, "production"))
    return apex_error_set(err, APEX_EINVAL, "APP_ENV: expected development, staging or production, got '%s'",
                          cfg->app_env);
  if (!strcmp(cfg->log_level, "") || (strcasecmp(cfg->log_level, "debug") && strcasecmp(cfg->log_level, "info") &&
                                      strcasecmp(cfg->log_level, "warn") && strcasecmp(cfg->log_level, "warning") &&
                                      strcasecmp(cfg->log_level, "error") && strcasecmp(cfg->log_level, "off")))
    return apex_error_set(err, APEX_EINVAL, "LOG_LEVEL: expected debug, info, warn, error or off, got '%s'",
                          cfg->log_level);
  if (apex_config_access_log(cfg) < 0)
    return apex_error_set(err, APEX_EINVAL, "ACCESS_LOG: expected off, errors, sampled or all, got '%s'",
                          cfg->access_log);
  if (!cfg->host[0])
    return apex_error_set(err, APEX_EINVAL, "HOST: must not be empty");
  if ((rc = apex_config_validate_store(cfg, err)))
    return rc;
  if (cfg->redis_url[0] && strncmp(cfg->redis_url, "redis://", 8))
    return apex_error_set(err, APEX_EINVAL, "REDIS_URL: expected redis://...");
  if (!cfg->backtest_workers && !cfg->redis_url[0])
    return apex_error_set(err, APEX_EINVAL, "BACKTEST_WORKERS=0 needs REDIS_URL: without it no process would run backtests");
  if (cfg->smtp_url[0] && strncmp(cfg->smtp_url, "smtp://", 7) && strncmp(cfg->smtp_url, "smtps://", 8))
    return apex_error_set(err, APEX_EINVAL, "SMTP_URL: expected smtp://... or smtps://...");
  if (apex_config_is_production(cfg)) {
    /* The one secret policy (sys/secrets.c); every problem on one line, names only. */
    apex_secrets_cfg scfg;
    char problems[1024];
    size_t n = 0;
    apex_config_secrets(cfg, &scfg);
    if (apex_secrets_check_production(&scfg, problems, sizeof problems, &n) || n) {
      for (char *p = problems; (p = strchr(p, '\n'));)
        *p = p[1] ? ';' : '\0';
      return apex_error_set(err, APEX_EINVAL, "refusing to start in production: %s", problems);
    }
    if (cfg->test_routes)
      return apex_error_set(err, APEX_EINVAL, "APEX_TEST_ROUTES: not allowed when APP_ENV=production");
    if (cfg->test_job_delay_ms)
      return apex_error_set(err, APEX_EINVAL, "APEX_TEST_JOB_DELAY_MS: not allowed when APP_ENV=production");
    /* Without a mailer, reset mails (tokens) would go to the log, where operators and log
     * shippers read them. */
    if (!cfg->smtp_url[0])
      return apex_error_set(err, APEX_EINVAL, "SMTP_URL: required when APP_ENV=production (password reset mails)");
  } else if (cfg->secret_key[0] && strlen(cfg->secret_key) < 32) {
    return apex_error_set(err, APEX_EINVAL, "SECRET_KEY: must have at least 32 characters");
  }
  return APEX_OK;
}

static apex_err mkdir_p(const char *dir, apex_error *err)
{
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = 0;
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
      return apex_error_set(err, APEX_EIO, "APEX_DATA_DIR: cannot create %s: %s", tmp, strerror(errno));
    *p = '/';
  }
  if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
    return apex_error_set(err, APEX_EIO, "APEX_DATA_DIR: cannot create %s: %s", tmp, strerror(errno));
  return APEX_OK;
}

/* Reads data_dir/name into out, or creates it with 32 random bytes in hex (0600, O_EXCL so two
 * processes starting at once agree on one value). */
static apex_err load_or_make_secret(const char *dir, const char *name, char *out, size_t out_len, apex_error *err)
{
  char path[1200];
  apex_err rc = APEX_OK;
  int fd = -1;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  for (int attempt = 0; attempt < 2; attempt++) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[256];
      ssize_t n = read(fd, buf, sizeof buf - 1);
      if (n <= 0) {
        rc = apex_error_set(err, APEX_EIO, "cannot read %s", path);
        goto out;
      }
      while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
      if ((size_t)n >= out_len || n < 32) {
        rc = apex_error_set(err, APEX_EDATA, "%s: expected a secret of 32+ characters", path);
        goto out;
      }
      memcpy(out, buf, (size_t)n);
      out[n] = 0;
      goto out;
    }
    if (errno != ENOENT) {
      rc = apex_error_set(err, APEX_EIO, "cannot open %s: %s", path, strerror(errno));
      goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST)
        continue; /* another process made it first: read theirs */
      rc = apex_error_set(err, APEX_EIO, "cannot create %s: %s", path, strerror(errno));
      goto out;
    }
    unsigned char raw[32];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
      rc = apex_error_set(err, APEX_EIO, "getrandom failed");
      goto out;
    }
    char hex[66];
    for (size_t i = 0; i < sizeof raw; i++)
      snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    hex[64] = '\n';
    if (write(fd, hex, 65) != 65) {
      rc = apex_error_set(err, APEX_EIO, "cannot write %s", path);
      goto out;
    }
    hex[64] = 0;
    snprintf(out, out_len, "%s", hex);
    goto out;
  }
  rc = apex_error_set(err, APEX_EIO, "cannot create %s", path);
out:
  if (fd >= 0)
    close(fd);
  return rc;
}

apex_err apex_config_prepare_data_dir(apex_config *cfg, apex_error *err)
{
  apex_err rc = mkdir_p(cfg->data_dir, err);
  if (rc || apex_config_is_production(cfg))
    return rc;
  if (!cfg->secret_key[0] &&
      (rc = load_or_make_secret(cfg->data_dir, "secret_key", cfg->secret_key, sizeof cfg->secret_key, err)))
    return rc;
  return APEX_OK;
}

void apex_config_secrets(const apex_config *cfg, apex_secrets_cfg *out)
{
  *out = (apex_secrets_cfg){cfg->app_env, cfg->secret_key, cfg->jwt_private_key_file, cfg->jwt_public_key_file,
                            cfg->api_key_encryption_key};
}

apex_err apex_config_load(apex_config *cfg, int argc, char **argv, bool *help, apex_error *err)
{
  apex_err rc;
  apex_config_defaults(cfg);
  if ((rc = apex_config_from_env(cfg, NULL, err)) || (rc = apex_config_from_args(cfg, argc, argv, help, err)))
    return rc;
  if (help && *help)
    return APEX_OK;
  return apex_config_validate(cfg, err);
}

void apex_config_usage(FILE *f)
{
  char name[96], arg[112];
  for (size_t i = 0; i < N_OPTS; i++) {
    const opt *o = &OPTS[i];
    flag_name(o, name, sizeof name);
    snprintf(arg, sizeof arg, "%s%s", name, o->type == T_BOOL ? "[=BOOL]" : o->type == T_STR ? " TEXT" : " N");
    fprintf(f, "  %-40s %s", arg, o->help);
    if (o->def[0] && !o->secret)
      fprintf(f, " (default %s)", o->def);
    const char *until = unused_until(o->env);
    if (until)
      fprintf(f, " [does nothing yet: %s]", until);
    fprintf(f, "\n  %-40s env %s\n", "", o->env);
  }
}

size_t apex_config_unused_set(const apex_config *cfg, const char **names, size_t cap)
{
  apex_config def;
  size_t n = 0;
  apex_config_defaults(&def);
  for (size_t i = 0; i < N_OPTS; i++)
    if (unused_until(OPTS[i].env) && memcmp((const char *)cfg + OPTS[i].off, (const char *)&def + OPTS[i].off, OPTS[i].size)) {
      if (n < cap)
        names[n] = OPTS[i].env;
      n++;
    }
  return n;
}
