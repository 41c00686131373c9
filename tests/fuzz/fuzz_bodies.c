/* fuzz_bodies.c - libFuzzer target for request bodies through the application's real validators:
 * register, profile update, strategy create and update, backtest submit, portfolio create and
 * update, API key create, market-data job, strategy activation, against a SQLite store in a
 * temporary directory. The first byte picks the use case; the rest is the body. No crash, no
 * leak, no secret in an error (checked). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t fixed_now(void) { return 1700000000000; }
/* Crypto stand-ins: the validators are under test here, not argon2 or RSA. */
static apex_err fake_hash(const char *pw, char *out) { snprintf(out, 128, "plain:%.100s", pw); return APEX_OK; }
static bool fake_verify(const char *hash, const char *pw) { return !strncmp(hash, "plain:", 6) && !strcmp(hash + 6, pw); }
static bool fake_pw_ok(const char *pw, const char *email, char *why, size_t cap)
{
  (void)email;
  if (strlen(pw) >= 10)
    return true;
  snprintf(why, cap, "too short");
  return false;
}
static bool fake_email_ok(const char *e) { return strchr(e, '@') != NULL; }
static apex_err fake_issue(void *c, const char *sub, const char *email, int64_t now, int64_t ttl, char **out)
{
  (void)c, (void)email, (void)now, (void)ttl;
  *out = strdup(sub);
  return *out ? APEX_OK : APEX_ENOMEM;
}
static void fake_token(char *out) { snprintf(out, 44, "tok"); }
static void fake_token_hash(const char *t, char *out) { snprintf(out, 65, "h-%.60s", t); }

static char dir[] = "/tmp/apex-fuzz-bodies-XXXXXX";
static apex_app app;
static apex_queue queue;

static void cleanup(void)
{
  char path[128];
  apex_app_stop(&app);
  apex_queue_free(&queue);
  apex_store_close(app.store);
  for (const char *const *sfx = (const char *const[]){"", "-wal", "-shm", NULL}; *sfx; sfx++) {
    snprintf(path, sizeof path, "%s/fuzz.db%s", dir, *sfx);
    unlink(path);
  }
  rmdir(dir);
}

static apex_app *the_app(void)
{
  static bool ready;
  if (!ready) {
    char path[128];
    apex_error err;
    if (!mkdtemp(dir))
      abort();
    snprintf(path, sizeof path, "%s/fuzz.db", dir);
    if (apex_store_open(path, 1, &app.store, &err) || apex_store_migrate(app.store, &err))
      abort();
    app.now_ms = fixed_now;
    app.auth = (apex_app_auth_ops){fake_hash, fake_verify, fake_pw_ok, fake_email_ok, fake_issue, fake_token,
                                   fake_token_hash, NULL, NULL, NULL};
    memset(app.enc_key, 7, sizeof app.enc_key);
    /* The user every body acts for, so creates get past the foreign keys to the deeper paths. */
    apex_user u = {.id = "00000000-0000-4000-8000-000000000001", .email = "fuzz@example.com",
                   .password_hash = "plain:fuzz password", .timezone = "UTC", .preferred_currency = "EUR",
                   .is_active = true, .created_at = 1, .updated_at = 1};
    if (apex_store_user_insert(app.store, &u, &err))
      abort();
    app.settings = (apex_app_settings){1, 5, false, 60, 10, 2048, 60, 0};
    if (apex_queue_inproc_new(1, 5, apex_app_backtest_job, &app, &queue))
      abort();
    app.queue = &queue;
    if (apex_app_start(&app, &err))
      abort();
    atexit(cleanup);
    ready = true;
  }
  return &app;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  apex_app *a = the_app();
  const char *body = (const char *)data + 1, *user = "00000000-0000-4000-8000-000000000001";
  size_t len = size - 1;
  apex_app_error e = {0};
  apex_json *doc = NULL;
  apex_error perr;
  bool is_json = apex_json_parse_strict(body, len, 1u << 20, &doc, &perr) == APEX_OK;

  switch (data[0] % 9) {
  case 0: {
    apex_user u;
    if (is_json)
      (void)apex_app_register(a, doc, "fuzz", &u, &e);
    break;
  }
  case 1: {
    apex_user u;
    if (is_json && apex_json_is_object(doc))
      (void)apex_app_me_update(a, user, doc, &u, &e);
    break;
  }
  case 2: {
    apex_strategy_row r;
    (void)apex_app_strategy_create(a, user, body, len, &r, &e);
    apex_strategy_row_clear(&r);
    break;
  }
  case 3: {
    apex_backtest_row r;
    (void)apex_app_backtest_submit(a, user, body, len, &r, &e);
    apex_backtest_row_clear(&r);
    break;
  }
  case 4: {
    apex_portfolio_row r;
    memset(&r, 0, sizeof r);
    (void)apex_app_portfolio_create(a, user, body, len, &r, &e);
    apex_portfolio_row_clear(&r);
    break;
  }
  case 5: {
    apex_api_key_row r;
    memset(&r, 0, sizeof r);
    apex_err rc = apex_app_api_key_create(a, user, body, len, &r, &e);
    /* A rejected body must not come back in the detail: it may hold the secret. */
    if (rc && len >= 24 && memmem(e.detail, strlen(e.detail), body, len))
      abort();
    apex_api_key_row_clear(&r);
    break;
  }
  case 7: {
    apex_app_sync j;
    (void)apex_app_market_sync_submit(a, user, body, len, &j, &e);
    break;
  }
  case 8: {
    apex_strategy_row r = {0};
    if (is_json)
      (void)apex_app_strategy_activate(a, user, "00000000-0000-4000-8000-000000000002", doc, &r, &e);
    apex_strategy_row_clear(&r);
    break;
  }
  default: {
    apex_strategy_row r;
    (void)apex_app_strategy_update(a, user, "00000000-0000-4000-8000-000000000002", body, len, &r, &e);
    apex_strategy_row_clear(&r);
    break;
  }
  }
  apex_json_free(doc);
  return 0;
}
