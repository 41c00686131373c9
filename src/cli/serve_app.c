/* serve_app.c - wiring of the application for `apextrade serve` (see serve_app.h). */
#include "cli/serve_app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/strategy.h"
#include "core/timeframe.h"
#include "io/load.h"
#include "jobs/lock.h"
#include "market/binance.h"
#include "market/ecb.h"
#include "market/ecb_codec.h"
#include "market/replay.h"
#include "sys/log.h"
#include "sys/mail.h"

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static apex_err issue_access(void *ctx, const char *sub, const char *email, int64_t now_s, int64_t ttl_s, char **out)
{
  char jti[APEX_AUTH_TOKEN_LEN]; /* an id per token, so a logout can end exactly this one */
  apex_auth_random_token(jti);
  return apex_jwt_issue(ctx, sub, email, "access", now_s, ttl_s, jti, out, NULL);
}

static apex_err revoke_access(void *ctx, const char *token, int64_t now_s) { return apex_jwt_revoke(ctx, token, now_s); }
static apex_err revoke_user(void *ctx, const char *user_id, int64_t now_s, int64_t ttl_s)
{
  return apex_jwt_revoke_user(ctx, user_id, now_s, ttl_s);
}

static apex_err hash_password(const char *pw, char *out) { return apex_auth_hash_password(pw, out); }
static void random_token(char *out) { apex_auth_random_token(out); }
static void token_hash(const char *t, char *out) { apex_auth_token_hash(t, out); }

/* Without SMTP the mail is written to the server log, where the operator reads it. */
static void log_mail(void *ctx, const char *to, const char *subject, const char *body)
{
  (void)ctx;
  apex_log_field f[] = {APEX_LOG_S("to", to), APEX_LOG_S("subject", subject), APEX_LOG_S("body", body)};
  apex_log_fields(APEX_LOG_INFO, "mail (no SMTP_URL configured)", f, 3);
}

/* With SMTP_URL: a real mail. A failure is logged (without the message, which holds a token). */
static void smtp_mail(void *ctx, const char *to, const char *subject, const char *body)
{
  const apex_config *cfg = ctx;
  apex_error err;
  if (apex_mail_send(cfg->smtp_url, cfg->smtp_from, to, subject, body, &err)) {
    apex_log_field f[] = {APEX_LOG_S("to", to), APEX_LOG_S("error", err.msg)};
    apex_log_fields(APEX_LOG_WARN, "mail not sent", f, 2);
  }
}

/* Where a replay starts: after the last candle the furthest-behind running run of its symbol
 * stepped (a restart goes on where it stopped; the runs further on skip what they have seen; a 1h
 * run's last candle ends an hour after its time), else at MARKET_REPLAY_FROM. */
static apex_err replay_start(const apex_config *cfg, apex_store *store, const apex_series *s, size_t *from,
                             apex_error *err)
{
  int64_t t = INT64_MIN;
  apex_run_row *runs = NULL;
  size_t n = 0;
  if (cfg->replay_from[0] && apex_parse_date_ms(cfg->replay_from, &t))
    return apex_error_set(err, APEX_EINVAL, "MARKET_REPLAY_FROM: %s is not a date like 2017-11-07", cfg->replay_from);
  apex_err rc = apex_store_runs_running(store, &runs, &n, err);
  if (rc)
    return rc;
  int64_t resume = INT64_MAX;
  for (size_t i = 0; i < n; i++) {
    apex_timeframe tf;
    if (!strcmp(runs[i].symbol, cfg->replay_symbol) && runs[i].last_time &&
        !apex_timeframe_parse(runs[i].timeframe, &tf, NULL)) {
      int64_t ms = apex_timeframe_ms(tf);
      int64_t next = runs[i].last_time + (ms ? ms : 1);
      if (next < resume)
        resume = next;
    }
    apex_run_row_clear(&runs[i]);
  }
  if (resume != INT64_MAX && resume > t)
    t = resume;
  free(runs);
  size_t i = 0;
  while (i < s->n && s->time[i] < t)
    i++;
  *from = i;
  return APEX_OK;
}

/* MARKET_FEED and the venue for order books; then the runner, which rebuilds the running runs. */
/* app.fx_fetch: the ECB's last 90 days or last working day, through market/ecb.c. */
static apex_err fetch_rates(void *ctx, bool history, apex_fx_rate **rows, size_t *n, apex_error *err)
{
  return apex_ecb_fetch(ctx, history ? APEX_ECB_90D : APEX_ECB_DAILY, rows, n, err);
}


/* Order books (Binance's public API), FX rates and market-data jobs: every API node's. */
static apex_err open_market(const apex_config *cfg, apex_serve_ctx *ctx, apex_error *err)
{
  apex_app *app = &ctx->app;
  apex_err rc;
  app->fx_decode = apex_ecb_decode;
  if (cfg->fx_rates_file[0]) {
    apex_app_error e = {0};
    if (apex_app_fx_load_file(app, cfg->fx_rates_file, NULL, &e))
      return apex_error_set(err, APEX_EINVAL, "FX_RATES_FILE %s: %s", cfg->fx_rates_file, e.detail);
  }
  apex_binance_options bo = {.base_url = cfg->binance_url};
  if ((rc = apex_market_binance_new(&bo, &ctx->venue, err)))
    return rc;
  app->venue = &ctx->venue;
  /* Market-data jobs (spec 3.3.4): two at once, five minutes each. */
  if ((rc = apex_app_syncs_new(app, err)))
    return rc;
  if ((rc = apex_queue_inproc_new(2, 300, apex_app_market_sync_job, app, &ctx->sync_queue)))
    return apex_error_set(err, rc, "cannot start the market-data workers");
  app->sync_queue = &ctx->sync_queue;
  /* Live trading's venues, on every API node: activation asks the venue, and the kill switch
   * cancels open orders from whichever node the user reaches. */
  apex_cli_brokers_init(&ctx->brokers, cfg, app->store);
  app->broker_open = apex_cli_broker_open;
  app->broker_ctx = &ctx->brokers;
  return apex_live_new(app, &app->live, err);
}

/* The strategies: the market feed, the paper runner and live execution. One process of a cluster
 * runs them: with REDIS_URL it must hold the "trading" lock. */
static apex_err open_trading(const apex_config *cfg, apex_serve_ctx *ctx, const char *me, apex_error *err)
{
  apex_app *app = &ctx->app;
  apex_err rc;
  char other[160];
  if (cfg->redis_url[0] &&
      (rc = apex_lock_redis_take(cfg->redis_url, "trading", me, 15000, &ctx->trading_lock, other, sizeof other, err))) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg);
    if (rc == APEX_ECONFLICT)
      return apex_error_set(err, APEX_EINVAL,
                            "another node (%s) runs the strategies on this Redis: start this one with --no-workers, "
                            "or run workers with apextrade worker", other[0] ? other : "?");
    return apex_error_set(err, rc, "REDIS_URL: a full node takes the trading lock at start, and Redis did not answer "
                          "(%.200s)", why);
  }
  apex_binance_options bo = {.base_url = cfg->binance_url};
  apex_runner_options ro = {0};
  if (!strcmp(cfg->market_feed, "replay")) {
    char *end;
    double speed = strtod(cfg->replay_speed, &end);
    size_t from = 0;
    apex_load_opts lo = {0};
    if (!cfg->replay_file[0])
      return apex_error_set(err, APEX_EINVAL, "MARKET_FEED=replay needs MARKET_REPLAY_FILE");
    if (end == cfg->replay_speed || *end || !(speed >= 0))
      return apex_error_set(err, APEX_EINVAL, "MARKET_REPLAY_SPEED: %s is not a speed (0, 1, 60, ...)",
                            cfg->replay_speed);
    if ((rc = apex_load_candles(cfg->replay_file, &lo, &ctx->replayed, NULL, err)) ||
        (rc = replay_start(cfg, app->store, ctx->replayed, &from, err)))
      return rc;
    apex_series_slice(ctx->replayed, from, ctx->replayed->n);
    if ((rc = apex_replay_new(ctx->replayed, cfg->replay_symbol, cfg->replay_timeframe, speed, &ctx->feed, err)))
      return rc;
    ro.source = "replay";
  } else if (!strcmp(cfg->market_feed, "binance")) {
    if ((rc = apex_market_binance_new(&bo, &ctx->feed, err)))
      return rc;
    ro.live_clock = true;
    ro.source = "binance";
    app->sync_on_activate = true;
    /* Live conversions need today's rates: fetched at start and every 6 hours (apex_app_fx_tick). */
    apex_ecb_options eo = {.base_url = cfg->ecb_url};
    if ((rc = apex_ecb_new(&eo, &ctx->ecb, err)))
      return rc;
    app->fx_fetch = fetch_rates;
    app->fx_fetch_ctx = ctx->ecb;
  } else if (strcmp(cfg->market_feed, "none")) {
    return apex_error_set(err, APEX_EINVAL, "MARKET_FEED: %s is not none, replay or binance", cfg->market_feed);
  }
  ro.feed = ctx->feed.ops ? &ctx->feed : NULL;
  ro.reload_every_ms = cfg->redis_url[0] ? 2000 : 0; /* API nodes activate strategies this node runs */
  if ((rc = apex_runner_new(app, &ro, &ctx->runner, err)))
    return rc;
  app->runner = ctx->runner;
  if ((rc = apex_runner_start(ctx->runner, err)))
    return rc;
  /* The thread that sends live runs' orders (the venues' APIs are open_market's). */
  return apex_live_start(app->live, err);
}

apex_err apex_serve_app_open(const apex_config *cfg, apex_serve_role role, int workers, apex_serve_ctx *ctx,
                             apex_error *err)
{
  apex_app *app = &ctx->app;
  char path[1200], me[160], host[64] = "host";
  apex_err rc;
  apex_secrets_cfg scfg;

  memset(ctx, 0, sizeof *ctx);
  if (role != APEX_SERVE_ALL && !cfg->redis_url[0])
    return apex_error_set(err, APEX_EINVAL, "%s needs REDIS_URL: without it a job runs in the process that took it",
                          role == APEX_SERVE_API ? "--no-workers" : "apextrade worker");
  (void)gethostname(host, sizeof host - 1);
  snprintf(me, sizeof me, "%s:%ld", host, (long)getpid());
  (void)mkdir(cfg->data_dir, 0700); /* may exist; opening the store below reports real trouble */
  const char *url = cfg->database_url;
  if (!url[0]) {
    snprintf(path, sizeof path, "%s/apextrade.db", cfg->data_dir);
    url = path;
  }
  if ((rc = apex_store_open(url, cfg->db_pool_size, &app->store, err)) || (rc = apex_store_migrate(app->store, err)) ||
      (rc = apex_store_check(app->store, err))) {
    if (!cfg->database_url[0] && !strstr(err->msg, path)) { /* name the file (a URL is never echoed) */
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err->msg);
      apex_error_set(err, rc, "%s: %s", path, msg);
    }
    goto fail;
  }
  apex_config_secrets(cfg, &scfg); /* the flags and the environment, read once by sys/config */
  /* cfg passed apex_config_validate, whose production policy runs before ensure would generate
   * what production must be given. */
  if ((rc = apex_secrets_ensure(cfg->data_dir, &scfg, &ctx->secrets, err)))
    goto fail;
  if ((rc = apex_jwt_keys_new(ctx->secrets.jwt_private_pem, ctx->secrets.jwt_private_len, ctx->secrets.jwt_public_pem,
                              ctx->secrets.jwt_public_len, &ctx->keys, err)))
    goto fail;
  /* 8,192 tokens (~8 MB at most): every user active within an access token's lifetime, many times over. */
  if ((rc = apex_cache_inproc_new(8192, 1024, &ctx->tokens))) {
    apex_error_set(err, rc, "cannot create the token cache");
    goto fail;
  }
  apex_jwt_keys_use_cache(ctx->keys, &ctx->tokens);
  /* 4,096 rendered list items of at most 4 KiB (keys at most 2 KiB, app/strategies.c): 24 MiB at
   * the very most, about 4 MiB for ordinary strategies. */
  if ((rc = apex_cache_inproc_new(4096, 4096, &ctx->renders))) {
    apex_error_set(err, rc, "cannot create the render cache");
    goto fail;
  }
  ctx->app.renders = &ctx->renders;
  /* 1,000,000 entries (~100 MB at most): logouts and resets within one access token lifetime.
   * With REDIS_URL every API node shares them (and the login limits and the events below). */
  if ((rc = cfg->redis_url[0] ? apex_denylist_redis_new(cfg->redis_url, 1000000, &ctx->deny, err)
                             : apex_denylist_inproc_new(1000000, &ctx->deny))) {
    if (!cfg->redis_url[0])
      apex_error_set(err, rc, "cannot create the token denylist");
    goto fail;
  }
  apex_jwt_keys_use_denylist(ctx->keys, &ctx->deny);
  memcpy(app->enc_key, ctx->secrets.enc_key, sizeof app->enc_key); /* broker API keys at rest */
  app->settings = (apex_app_settings){cfg->backtest_workers, cfg->backtest_timeout_s, cfg->feature_live_trading,
                                      cfg->backtest_lease_s, (int)cfg->backtest_per_user,
                                      (int)cfg->backtest_memory_mb, cfg->live_reconcile_s,
                                      (int)cfg->test_job_delay_ms};
  app->now_ms = wall_ms;
  app->access_ttl_s = (int64_t)cfg->jwt_access_minutes * 60;
  app->refresh_ttl_s = (int64_t)cfg->jwt_refresh_days * 86400;
  app->account_limit = (int)cfg->account_limit;
  app->auth = (apex_app_auth_ops){hash_password, apex_auth_verify_password, apex_auth_password_ok, apex_auth_email_ok,
                                  issue_access, random_token, token_hash, ctx->keys, revoke_access, revoke_user};
  app->mail = cfg->smtp_url[0] ? smtp_mail : log_mail;
  app->mail_ctx = (void *)cfg;
  /* With REDIS_URL backtests go through a Redis Stream: any node submits, workers anywhere run them
   * (here: BACKTEST_WORKERS of them, none for --no-workers, --concurrency for apextrade worker). */
  const int nw = role == APEX_SERVE_API ? 0 : role == APEX_SERVE_WORKER ? workers : cfg->backtest_workers;
  apex_queue_redis_options qo = {cfg->redis_url, "backtest", me, nw, cfg->backtest_timeout_s, 3,
                                 apex_app_backtest_job, apex_app_backtest_dead, app};
  if ((rc = cfg->redis_url[0] ? apex_queue_redis_new(&qo, &ctx->queue, err)
                             : apex_queue_inproc_new(nw, cfg->backtest_timeout_s, apex_app_backtest_job, app,
                                                     &ctx->queue))) {
    if (!cfg->redis_url[0])
      apex_error_set(err, rc, "cannot start %d backtest workers", nw);
    goto fail;
  }
  app->queue = &ctx->queue;
  /* 100,000 keys (~40 MB at most): far more addresses and accounts than a minute of logins. */
  if ((rc = cfg->redis_url[0] ? apex_limiter_redis_new(cfg->redis_url, 100000, &ctx->limiter, err)
                             : apex_limiter_inproc_new(100000, &ctx->limiter))) {
    if (!cfg->redis_url[0])
      apex_error_set(err, rc, "cannot create the rate limiter");
    goto fail;
  }
  app->limiter = &ctx->limiter;
  if ((rc = cfg->redis_url[0] ? apex_events_redis_new(cfg->redis_url, &ctx->events, err)
                             : apex_events_inproc_new(&ctx->events))) {
    if (!cfg->redis_url[0])
      apex_error_set(err, rc, "cannot create the events hub");
    goto fail;
  }
  app->events = &ctx->events;
  if ((rc = apex_app_start(app, err)) || (role != APEX_SERVE_WORKER && (rc = open_market(cfg, ctx, err))) ||
      (role == APEX_SERVE_ALL && (rc = open_trading(cfg, ctx, me, err))))
    goto fail;
  return APEX_OK;
fail:
  apex_serve_app_close(ctx);
  return rc;
}

void apex_serve_app_close(apex_serve_ctx *ctx)
{
  apex_live_stop(ctx->app.live); /* no order is sent from here on; the runner may still notify it */
  apex_runner_free(ctx->runner); /* first: it writes to the store and reads the feed */
  ctx->runner = ctx->app.runner = NULL;
  apex_live_free(ctx->app.live);
  ctx->app.live = NULL;
  apex_lock_release(ctx->trading_lock); /* another node may run the strategies now */
  ctx->trading_lock = NULL;
  apex_market_free(&ctx->feed);
  apex_series_free(ctx->replayed);
  ctx->replayed = NULL;
  apex_queue_free(&ctx->sync_queue); /* its jobs use the venue and the ECB: stopped (cancelled) first */
  ctx->app.sync_queue = NULL;
  apex_app_syncs_free(&ctx->app);
  ctx->app.fx_fetch = NULL;
  apex_ecb_free(ctx->ecb);
  ctx->ecb = NULL;
  ctx->app.venue = NULL;
  apex_market_free(&ctx->venue);
  if (ctx->app.queue)
    apex_app_stop(&ctx->app);
  apex_queue_free(&ctx->queue);
  ctx->app.queue = NULL;
  apex_limiter_free(&ctx->limiter);
  ctx->app.limiter = NULL;
  apex_events_free(&ctx->events); /* after the queue: no job publishes any more */
  ctx->app.events = NULL;
  apex_store_close(ctx->app.store);
  ctx->app.store = NULL;
  apex_jwt_keys_free(ctx->keys);
  ctx->keys = NULL;
  apex_cache_free(&ctx->tokens); /* after the keys that use it */
  ctx->app.renders = NULL;
  apex_cache_free(&ctx->renders);
  apex_denylist_free(&ctx->deny);
  apex_secrets_free(&ctx->secrets);
  explicit_bzero(ctx->app.enc_key, sizeof ctx->app.enc_key);
}

apex_err apex_serve_demo_account(apex_serve_ctx *ctx, apex_error *err)
{
  apex_app *app = &ctx->app;
  apex_user u;
  char pw[48];
  if (apex_store_user_by_email(app->store, "demo@apextrade.local", &u, err) == APEX_OK)
    return APEX_OK;
  apex_auth_random_token(pw);
  pw[20] = '\0'; /* 20 base64url characters: 120 bits */
  char body[160];
  snprintf(body, sizeof body, "{\"email\": \"demo@apextrade.local\", \"password\": \"%s\", \"first_name\": \"Demo\"}", pw);
  apex_json *doc = NULL;
  apex_app_error e = {0};
  apex_err rc = apex_json_parse_strict(body, strlen(body), sizeof body, &doc, err);
  if (!rc && apex_app_register(app, doc, "demo", &u, &e))
    rc = apex_error_set(err, APEX_EINVAL, "demo account: %s", e.detail);
  apex_json_free(doc);
  if (!rc)
    printf("Demo account (shown once): email demo@apextrade.local, password %s\n", pw);
  fflush(stdout);
  return rc;
}
