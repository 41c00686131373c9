/* app/fx.c on a SQLite store: loading ECB files (data/fx's sample, tests/market/ecb's replies)
 * through market/ecb_codec as the composition root would hand it over, then rates between any
 * two currencies at a time, stablecoins as USD. Expected rates are long divisions by hand (digits
 * past the 8th after a '|'). 2024-06-28 00:00 UTC is day 19902 (see test_market_ecb.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "market/ecb_codec.h"

#define DAY INT64_C(86400000)
#define D0628 (INT64_C(19902) * DAY)
#define SAMPLE APEX_SOURCE_DIR "/data/fx/eurofxref-hist-sample.xml"
#define ECB_DIR APEX_SOURCE_DIR "/tests/market/ecb/"

static char db_path[256];
static apex_app app;

static void setup(void)
{
  apex_error err = {0};
  memset(&app, 0, sizeof app);
  snprintf(db_path, sizeof db_path, "%s/app-fx-test-%d.db", APEX_BINARY_DIR, (int)getpid());
  unlink(db_path);
  cr_assert_eq(apex_store_open(db_path, 0, &app.store, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migrate(app.store, &err), APEX_OK, "%s", err.msg);
  app.fx_decode = apex_ecb_decode;
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

TestSuite(app_fx, .init = setup, .fini = teardown);

static void load(const char *path, size_t want)
{
  apex_app_error e = {0};
  size_t n = 0;
  cr_assert_eq(apex_app_fx_load_file(&app, path, &n, &e), APEX_OK, "%s: %s", path, e.detail);
  cr_assert_eq(n, want, "%s", path);
}

static void expect_rate(const char *from, const char *to, int64_t at, apex_dec want, int64_t want_date)
{
  apex_app_error e = {0};
  apex_dec r = -1;
  int64_t d = -1;
  cr_assert_eq(apex_app_fx_rate(&app, from, to, at, &r, &d, &e), APEX_OK, "%s->%s: %s", from, to, e.detail);
  cr_expect_eq(r, want, "%s->%s: got %lld", from, to, (long long)r);
  cr_expect_eq(d, want_date, "%s->%s: dated %lld", from, to, (long long)d);
}

Test(app_fx, shipped_sample_loads_and_converts)
{
  load(SAMPLE, 6);
  load(SAMPLE, 6); /* idempotent */
  int64_t monday_noon = D0628 + 3 * DAY + DAY / 2;
  expect_rate("EUR", "USD", D0628, 107050000, D0628);
  /* 1 / 1.0705 = 0.93414292|386... -> down; the later day falls back to 2024-06-28 */
  expect_rate("USDT", "EUR", monday_noon, 93414292, D0628);
  expect_rate("USD", "EUR", monday_noon, 93414292, D0628);
  /* 1.0705 / 0.84638 = 1.26479831|754... -> up */
  expect_rate("GBP", "USDC", monday_noon, 126479832, D0628);
  /* 171.94 / 1.0705 = 160.61653432|975... -> up */
  expect_rate("FDUSD", "JPY", D0628, 16061653433, D0628);
  expect_rate("USDT", "USD", 123, 100000000, 123); /* same currency: 1, dated as asked */
  expect_rate("EUR", "EUR", 5, 100000000, 5);
}

Test(app_fx, hist_falls_back_to_the_day_before)
{
  load(ECB_DIR "hist_3d.xml", 9);
  /* 2024-06-27 noon: that day's 1.07; 1 / 1.07 = 0.93457943|925... -> up */
  expect_rate("USD", "EUR", D0628 - DAY / 2, 93457944, D0628 - DAY);
  expect_rate("EUR", "USD", D0628 - 1, 107000000, D0628 - DAY);
  expect_rate("EUR", "USD", D0628, 107050000, D0628);
}

Test(app_fx, missing_rates_are_5001)
{
  apex_app_error e = {0};
  apex_dec r = 7;
  int64_t d = 7;
  load(SAMPLE, 6);
  cr_assert_eq(apex_app_fx_rate(&app, "USDT", "EUR", D0628 - 1, &r, &d, &e), APEX_EINVAL);
  cr_expect_eq(e.code, 5001);
  cr_expect_eq(e.status, 404);
  cr_expect(strstr(e.detail, "no ECB reference rate for USD (USDT taken as USD) on or before 2024-06-27T23:59:59.999Z"),
            "%s", e.detail);
  cr_expect_eq(r, 7, "outputs untouched on failure");
  cr_expect_eq(d, 7);
  memset(&e, 0, sizeof e);
  cr_assert_eq(apex_app_fx_rate(&app, "EUR", "BTC", D0628, &r, &d, &e), APEX_EINVAL);
  cr_expect_eq(e.code, 5001);
  cr_expect(strstr(e.detail, "no ECB reference rate for BTC on or before"), "%s", e.detail);
  memset(&e, 0, sizeof e);
  cr_assert_eq(apex_app_fx_rate(&app, "DOGE", "EUR", D0628, &r, &d, &e), APEX_EINVAL);
  cr_expect_eq(e.status, 422);
  memset(&e, 0, sizeof e);
  cr_assert_eq(apex_app_fx_rate(&app, NULL, "EUR", D0628, &r, &d, &e), APEX_EINVAL);
  cr_expect_eq(e.status, 422);
}

Test(app_fx, load_failures)
{
  apex_app_error e = {0};
  size_t n = 9;
  cr_assert_eq(apex_app_fx_load_file(&app, ECB_DIR "no-such-file.xml", &n, &e), APEX_EINVAL);
  cr_expect_eq(e.status, 404);
  cr_expect_eq(n, 0);
  memset(&e, 0, sizeof e);
  cr_assert_eq(apex_app_fx_load_file(&app, ECB_DIR "rate_zero.xml", &n, &e), APEX_EINVAL);
  cr_expect_eq(e.status, 422);
  cr_expect(strstr(e.detail, "rate_zero.xml: ecb: line 14, 2024-06-28 GBP: rate '0'"), "%s", e.detail);
  memset(&e, 0, sizeof e);
  apex_dec r;
  int64_t d;
  cr_assert_eq(apex_app_fx_rate(&app, "EUR", "USD", D0628, &r, &d, &e), APEX_EINVAL);
  cr_expect_eq(e.code, 5001, "a refused file stores nothing");
  memset(&e, 0, sizeof e);
  app.fx_decode = NULL;
  cr_assert_eq(apex_app_fx_load_file(&app, SAMPLE, &n, &e), APEX_EINVAL);
  cr_expect_eq(e.status, 503);
}
