/* app/apikeys.c on a SQLite store: credentials go in encrypted, come back out decrypted for the
 * execution layer, never appear in plain text in the store or in an error, and stay per user. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/ids.h"

static char db_path[256];
static apex_app app;
static apex_user alice, bob;

static int64_t fixed_now(void) { return 1700000000000; }

static void add_user(apex_user *u, const char *email)
{
  apex_error err = {0};
  memset(u, 0, sizeof *u);
  cr_assert_eq(apex_app_new_id(u->id), APEX_OK);
  snprintf(u->email, sizeof u->email, "%s", email);
  strcpy(u->password_hash, "x");
  u->created_at = u->updated_at = 1;
  cr_assert_eq(apex_store_user_insert(app.store, u, &err), APEX_OK, "%s", err.msg);
}

static void setup(void)
{
  apex_error err = {0};
  memset(&app, 0, sizeof app);
  snprintf(db_path, sizeof db_path, "%s/apikeys-test-%d.db", APEX_BINARY_DIR, (int)getpid());
  unlink(db_path);
  cr_assert_eq(apex_store_open(db_path, 0, &app.store, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migrate(app.store, &err), APEX_OK, "%s", err.msg);
  app.now_ms = fixed_now;
  for (size_t i = 0; i < sizeof app.enc_key; i++)
    app.enc_key[i] = (unsigned char)(i * 7 + 1);
  add_user(&alice, "alice@example.com");
  add_user(&bob, "bob@example.com");
}

static void teardown(void)
{
  char p[300];
  apex_store_close(app.store);
  unlink(db_path);
  snprintf(p, sizeof p, "%s-wal", db_path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db_path);
  unlink(p);
}

TestSuite(apikeys, .init = setup, .fini = teardown);

#define KEY "AKIAEXAMPLEKEY0123456789ABCDEF"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY+secret"
#define PASS "correct-horse-passphrase"

static void create(const char *body, apex_api_key_row *out)
{
  apex_app_error e = {0};
  cr_assert_eq(apex_app_api_key_create(&app, alice.id, body, strlen(body), out, &e), APEX_OK, "%d %s", e.status,
               e.detail);
}

Test(apikeys, round_trip_through_encryption)
{
  apex_api_key_row k, raw;
  apex_api_credentials c;
  apex_app_error e = {0};
  apex_error err = {0};
  create("{\"exchange\": \"kraken\", \"label\": \"main\", \"api_key\": \"" KEY "\", \"api_secret\": \"" SECRET
         "\", \"passphrase\": \"" PASS "\"}",
         &k);
  cr_assert_str_eq(k.key_hint, "AKIA\xe2\x80\xa6" "CDEF");
  cr_assert_null(k.api_secret_enc); /* the caller gets no ciphertext either */

  /* At rest: "v1:" ciphertext only, a fresh nonce per value. */
  cr_assert_eq(apex_store_api_key_get(app.store, alice.id, k.id, &raw, &err), APEX_OK, "%s", err.msg);
  cr_assert(!strncmp(raw.api_key_enc, "v1:", 3) && !strncmp(raw.api_secret_enc, "v1:", 3));
  cr_assert(!strncmp(raw.passphrase_enc, "v1:", 3));
  cr_assert_null(strstr(raw.api_secret_enc, SECRET));
  cr_assert_null(strstr(raw.api_key_enc, KEY));
  apex_api_key_row_clear(&raw);

  cr_assert_eq(apex_app_api_key_credentials(&app, alice.id, k.id, &c, &e), APEX_OK, "%s", e.detail);
  cr_assert_str_eq(c.exchange, "kraken");
  cr_assert_str_eq(c.api_key, KEY);
  cr_assert_str_eq(c.api_secret, SECRET);
  cr_assert_str_eq(c.passphrase, PASS);
  cr_assert(c.is_paper);
  apex_api_credentials_clear(&c);
  cr_assert_null(c.api_secret);

  /* Jobs read any user's key; another user's request never does. */
  cr_assert_eq(apex_app_api_key_credentials(&app, NULL, k.id, &c, &e), APEX_OK);
  cr_assert_str_eq(c.passphrase, PASS);
  apex_api_credentials_clear(&c);
  memset(&e, 0, sizeof e);
  cr_assert_neq(apex_app_api_key_credentials(&app, bob.id, k.id, &c, &e), APEX_OK);
  cr_assert_eq(e.status, 404);
  cr_assert_null(c.api_secret);
}

Test(apikeys, no_passphrase_and_a_changed_key)
{
  apex_api_key_row k;
  apex_api_credentials c;
  apex_app_error e = {0};
  create("{\"exchange\": \"alpaca\", \"label\": \"paper\", \"api_key\": \"" KEY "\", \"api_secret\": \"" SECRET
         "\", \"is_paper\": false}",
         &k);
  cr_assert_eq(apex_app_api_key_credentials(&app, alice.id, k.id, &c, &e), APEX_OK, "%s", e.detail);
  cr_assert_null(c.passphrase);
  cr_assert(!c.is_paper);
  apex_api_credentials_clear(&c);

  app.enc_key[0] ^= 1; /* API_KEY_ENCRYPTION_KEY changed: authentication fails, nothing leaks */
  cr_assert_neq(apex_app_api_key_credentials(&app, alice.id, k.id, &c, &e), APEX_OK);
  cr_assert_eq(e.status, 500);
  cr_assert(strstr(e.detail, "API_KEY_ENCRYPTION_KEY"), "%s", e.detail);
  cr_assert_null(c.api_key);
  cr_assert_null(c.api_secret);
}

Test(apikeys, errors_never_quote_the_secret)
{
  const char *bodies[] = {
      "{\"exchange\": \"ftx\", \"label\": \"x\", \"api_key\": \"" KEY "\", \"api_secret\": \"" SECRET "\"}",
      "{\"exchange\": \"binance\", \"label\": \"x\", \"api_key\": \"" KEY "\", \"api_secret\": \"" SECRET " x\"}",
      "{\"exchange\": \"binance\", \"" SECRET "\": 1}",
      "{\"exchange\": \"binance\", \"api_secret\": " SECRET "}",
      "[\"" SECRET "\"]",
  };
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    apex_app_error e = {0};
    apex_api_key_row k;
    cr_assert_neq(apex_app_api_key_create(&app, alice.id, bodies[i], strlen(bodies[i]), &k, &e), APEX_OK, "%zu", i);
    cr_assert(e.status == 400 || e.status == 422, "%zu: %d", i, e.status);
    cr_assert_null(strstr(e.detail, "wJalr"), "%zu: %s", i, e.detail);
    for (size_t j = 0; j < e.problems.n; j++) {
      cr_assert_null(strstr(e.problems.item[j].message, "wJalr"), "%zu: %s", i, e.problems.item[j].message);
      if (i != 2) /* there the secret was pasted as a field name, which the pointer names */
        cr_assert_null(strstr(e.problems.item[j].pointer, "wJalr"), "%zu: %s", i, e.problems.item[j].pointer);
    }
  }
}
