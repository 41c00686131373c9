/* Login rate limits through app/users.c: five failed logins lock an account for the window, and
 * no amount of traffic on other keys (other accounts, other addresses) resets that count. The
 * old limiter hashed keys into 1,024 slots and let a new key overwrite an old one's slot, so an
 * attacker could reset a victim's failure counter by failing logins on other accounts. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "jobs/limiter.h"

static char db_path[256];
static apex_app app;
static apex_limiter limiter;
static int64_t clock_ms = 1700000000000;

static int64_t now(void) { return clock_ms; }
static apex_err fake_hash(const char *pw, char *out) { snprintf(out, 128, "plain:%.100s", pw); return APEX_OK; }
static bool fake_verify(const char *hash, const char *pw) { return !strncmp(hash, "plain:", 6) && !strcmp(hash + 6, pw); }
static bool fake_pw_ok(const char *pw, const char *email, char *why, size_t cap)
{
  (void)pw, (void)email, (void)why, (void)cap;
  return true;
}
static bool fake_email_ok(const char *e) { return strchr(e, '@') != NULL; }
static apex_err fake_issue(void *c, const char *sub, const char *email, int64_t t, int64_t ttl, char **out)
{
  (void)c, (void)email, (void)t, (void)ttl;
  *out = strdup(sub);
  return *out ? APEX_OK : APEX_ENOMEM;
}
static void fake_token(char *out) { snprintf(out, 44, "tok%lld", (long long)clock_ms++); }
static void fake_token_hash(const char *t, char *out) { snprintf(out, 65, "h-%.60s", t); }

static void setup(void)
{
  apex_error err = {0};
  memset(&app, 0, sizeof app);
  snprintf(db_path, sizeof db_path, "%s/login-limits-test-%d.db", APEX_BINARY_DIR, (int)getpid());
  unlink(db_path);
  cr_assert_eq(apex_store_open(db_path, 0, &app.store, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migrate(app.store, &err), APEX_OK, "%s", err.msg);
  app.now_ms = now;
  app.access_ttl_s = 900;
  app.refresh_ttl_s = 86400;
  app.auth = (apex_app_auth_ops){fake_hash, fake_verify, fake_pw_ok, fake_email_ok, fake_issue, fake_token,
                                 fake_token_hash, NULL, NULL, NULL};
  cr_assert_eq(apex_limiter_inproc_new(100000, &limiter), APEX_OK);
  app.limiter = &limiter;
  apex_user u = {.id = "00000000-0000-4000-8000-000000000001", .email = "victim@example.com",
                 .password_hash = "plain:the right password", .timezone = "UTC", .preferred_currency = "EUR",
                 .is_active = true, .created_at = 1, .updated_at = 1};
  cr_assert_eq(apex_store_user_insert(app.store, &u, &err), APEX_OK, "%s", err.msg);
}

static void teardown(void)
{
  apex_store_close(app.store);
  apex_limiter_free(&limiter);
  unlink(db_path);
}

/* One login attempt; returns the HTTP status the API would answer. */
static int login(const char *email, const char *pw, const char *ip)
{
  char body[300];
  apex_json *doc = NULL;
  apex_tokens t;
  apex_user u;
  apex_app_error e = {0};
  apex_error err;
  snprintf(body, sizeof body, "{\"email\": \"%s\", \"password\": \"%s\"}", email, pw);
  cr_assert_eq(apex_json_parse_strict(body, strlen(body), sizeof body, &doc, &err), APEX_OK);
  apex_err rc = apex_app_login(&app, doc, ip, &t, &u, &e);
  apex_json_free(doc);
  apex_tokens_clear(&t);
  return rc ? e.status : 200;
}

Test(login_limits, five_failures_lock_the_account_for_the_window, .init = setup, .fini = teardown)
{
  for (int i = 0; i < 5; i++)
    cr_expect_eq(login("victim@example.com", "a wrong guess", "10.0.0.1"), 401, "attempt %d", i + 1);
  cr_expect_eq(login("victim@example.com", "the right password", "10.0.0.2"), 429, "locked, from any address");
  clock_ms += 61 * 1000; /* the window (60 s) is over */
  cr_expect_eq(login("victim@example.com", "the right password", "10.0.0.2"), 200);
}

Test(login_limits, traffic_on_other_keys_does_not_reset_an_account, .init = setup, .fini = teardown)
{
  for (int i = 0; i < 5; i++)
    login("victim@example.com", "a wrong guess", "10.0.0.1");
  cr_assert_eq(login("victim@example.com", "a wrong guess", "10.0.0.1"), 429);
  /* 4,000 failed logins on other accounts from other addresses: 8,000 keys, far more than the old
   * table's 1,024 slots, so the old code overwrote the victim's slot with near certainty. */
  for (int i = 0; i < 4000; i++) {
    char email[64], ip[32];
    snprintf(email, sizeof email, "other%d@example.com", i);
    snprintf(ip, sizeof ip, "10.1.%d.%d", i / 256, i % 256);
    login(email, "a wrong guess", ip);
  }
  cr_expect_eq(login("victim@example.com", "the right password", "10.9.9.9"), 429,
               "the victim's failure count survived other keys' traffic");
}

/* Argon2 costs tens of milliseconds and 64 MiB: a burst of logins (or registrations) must not run
 * more hashes at once than the bound, however many HTTP workers ask. */
static atomic_int in_hash, max_in_hash;

static bool slow_verify(const char *hash, const char *pw)
{
  int now_in = atomic_fetch_add(&in_hash, 1) + 1;
  for (int seen = atomic_load(&max_in_hash); now_in > seen && !atomic_compare_exchange_weak(&max_in_hash, &seen, now_in);)
    ;
  usleep(30 * 1000);
  atomic_fetch_sub(&in_hash, 1);
  return fake_verify(hash, pw);
}

static void *login_thread(void *arg)
{
  char ip[32];
  snprintf(ip, sizeof ip, "10.0.0.%d", (int)(intptr_t)arg);
  return (void *)(intptr_t)login("victim@example.com", "the right password", ip);
}

Test(login_limits, password_checks_at_once_are_bounded, .init = setup, .fini = teardown)
{
  apex_error err = {0};
  pthread_t t[8];
  app.hash_limit = 2;
  app.auth.verify_password = slow_verify;
  cr_assert_eq(apex_app_hashing_start(&app, &err), APEX_OK);
  for (int i = 0; i < 8; i++)
    cr_assert_eq(pthread_create(&t[i], NULL, login_thread, (void *)(intptr_t)i), 0);
  for (int i = 0; i < 8; i++) {
    void *status;
    pthread_join(t[i], &status);
    cr_assert_eq((int)(intptr_t)status, 200, "login %d answered %d", i, (int)(intptr_t)status);
  }
  cr_assert_eq(atomic_load(&max_in_hash), 2, "%d hashes ran at once", atomic_load(&max_in_hash));
  apex_app_hashing_stop(&app);
}

/* Exponential back-off: each time an account's failures reach the limit, its lock doubles
 * (60 s, 120 s, 240 s ...), so a patient guesser gets ever fewer tries an hour. */
Test(login_limits, lockouts_double_each_time, .init = setup, .fini = teardown)
{
  int lock = 60;
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 5; i++)
      cr_assert_eq(login("victim@example.com", "a wrong guess", "10.0.0.1"), 401, "round %d attempt %d", round, i);
    cr_expect_eq(login("victim@example.com", "the right password", "10.0.0.3"), 429, "round %d: locked", round);
    clock_ms += (int64_t)(lock - 5) * 1000;
    cr_expect_eq(login("victim@example.com", "the right password", "10.0.0.3"), 429,
                 "round %d: still locked %d s later", round, lock - 5);
    clock_ms += 6 * 1000;
    lock *= 2;
  }
  /* The fifth round's lock is 16 minutes; then the owner gets in. */
  for (int i = 0; i < 5; i++)
    login("victim@example.com", "a wrong guess", "10.0.0.1");
  clock_ms += 961 * 1000;
  cr_expect_eq(login("victim@example.com", "the right password", "10.0.0.3"), 200);
}
