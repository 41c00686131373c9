/* app/market_data.c against a scripted market (pages of three 1h candles from a table, one
 * scripted failure) and a SQLite store: paging, closed candles only, --until, resuming, progress,
 * cancel, and venue errors as the API's codes with the pages before them kept. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"

#define H INT64_C(3600000)
#define T0 INT64_C(1704067200000) /* 2024-01-01T00:00:00Z */
#define N 10                      /* candles in the table: T0 .. T0 + 9h */
#define PAGE_MAX 3

static char db_path[256];
static apex_app app;
static int64_t clock_ms = T0 + 10 * H; /* every candle of the table has closed */

typedef struct fake {
  int calls;
  int64_t since[16];  /* since_ms of each call */
  int fail_call;      /* 1-based call that fails (0: none) */
  apex_err fail_code;
} fake;
static fake F;

static int64_t now(void) { return clock_ms; }

static apex_err fake_candles(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, size_t limit,
                             apex_series *out, apex_error *err)
{
  fake *f = impl;
  (void)symbol;
  cr_assert_str_eq(timeframe, "1h");
  cr_assert_geq(limit, PAGE_MAX);
  if (f->calls < 16)
    f->since[f->calls] = since_ms;
  if (++f->calls == f->fail_call)
    return apex_error_set(err, f->fail_code, "scripted failure");
  for (int i = 0, k = 0; i < N && k < PAGE_MAX; i++) {
    int64_t t = T0 + i * H;
    if (t < since_ms)
      continue;
    apex_bar b = {.time = t, .open = 100 + i, .high = 102 + i, .low = 99 + i, .close = 101 + i, .volume = 1 + i};
    cr_assert_eq(apex_series_append(out, &b), APEX_OK);
    k++;
  }
  return APEX_OK;
}

static void fake_free(void *impl) { (void)impl; }

static const apex_market_ops FAKE_OPS = {.name = "fakevenue", .candles = fake_candles, .free = fake_free};
static apex_market market = {.ops = &FAKE_OPS, .impl = &F};

static void setup(void)
{
  apex_error err = {0};
  memset(&app, 0, sizeof app);
  memset(&F, 0, sizeof F);
  clock_ms = T0 + 10 * H;
  snprintf(db_path, sizeof db_path, "%s/market-download-test-%d.db", APEX_BINARY_DIR, (int)getpid());
  unlink(db_path);
  cr_assert_eq(apex_store_open(db_path, 0, &app.store, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migrate(app.store, &err), APEX_OK, "%s", err.msg);
  app.now_ms = now;
}

static void teardown(void)
{
  apex_store_close(app.store);
  unlink(db_path);
}

/* Stored open times of BTC/USDT 1h, as offsets in hours from T0, into h; returns how many. */
static size_t stored_hours(int64_t *h, size_t cap)
{
  apex_series *s = NULL;
  cr_assert_eq(apex_store_ohlcv_get(app.store, "BTC/USDT", "1h", INT64_MIN, INT64_MAX, 0, &s, NULL), APEX_OK);
  size_t n = s->n;
  for (size_t i = 0; i < n && i < cap; i++) {
    h[i] = (s->time[i] - T0) / H;
    cr_assert_float_eq(s->close[i], 101.0 + (double)h[i], 1e-12, "close of the candle at +%lldh", (long long)h[i]);
  }
  apex_series_free(s);
  return n;
}

static apex_err run(int64_t since, int64_t until, size_t *stored, apex_app_error *e)
{
  return apex_app_market_download(&app, &market, "BTC/USDT", "1h", since, until, NULL, NULL, NULL, stored, e);
}

Test(market_download, pages_until_an_empty_page, .init = setup, .fini = teardown)
{
  apex_app_error e = {0};
  size_t stored = 0;
  int64_t h[16];
  cr_assert_eq(run(T0, 0, &stored, &e), APEX_OK, "%s", e.detail);
  cr_expect_eq(stored, N);
  cr_expect_eq(F.calls, 4, "pages of 3, 3, 3 and 1, which reaches now: no fifth request");
  cr_expect_eq(F.since[1], T0 + 3 * H, "the next page asks from the last candle + 1h");
  cr_assert_eq(stored_hours(h, 16), N);
  for (int i = 0; i < N; i++)
    cr_expect_eq(h[i], i);
}

Test(market_download, the_open_candle_is_not_stored, .init = setup, .fini = teardown)
{
  apex_app_error e = {0};
  size_t stored = 0;
  clock_ms = T0 + 7 * H + 30 * 60000; /* the candle open at +7h closes at +8h */
  cr_assert_eq(run(T0, 0, &stored, &e), APEX_OK, "%s", e.detail);
  cr_expect_eq(stored, 7);
  cr_expect_eq(F.calls, 3, "the page reaching into the open candle is the last");
}

Test(market_download, until_is_exclusive_and_ends_the_paging, .init = setup, .fini = teardown)
{
  apex_app_error e = {0};
  size_t stored = 0;
  int64_t h[16];
  cr_assert_eq(run(T0, T0 + 5 * H, &stored, &e), APEX_OK, "%s", e.detail);
  cr_expect_eq(stored, 5);
  cr_expect_eq(F.calls, 2);
  cr_expect_eq(stored_hours(h, 16), 5);
  cr_expect_eq(h[4], 4);
}

Test(market_download, resumes_after_the_newest_stored_candle, .init = setup, .fini = teardown)
{
  apex_app_error e = {0};
  size_t stored = 0;
  int64_t h[16];
  cr_assert_eq(run(T0, T0 + 4 * H, &stored, &e), APEX_OK, "%s", e.detail);
  cr_assert_eq(stored, 4);
  memset(&F, 0, sizeof F);
  cr_assert_eq(run(T0, 0, &stored, &e), APEX_OK, "%s", e.detail);
  cr_expect_eq(F.since[0], T0 + 4 * H, "asks only after what is stored");
  cr_expect_eq(stored, N - 4);
  cr_expect_eq(stored_hours(h, 16), N);
  /* A range before the stored candles is not skipped: resuming looks only inside [since, until). */
  memset(&F, 0, sizeof F);
  cr_assert_eq(run(T0 - 5 * H, T0, &stored, &e), APEX_OK, "%s", e.detail);
  cr_expect_eq(F.since[0], T0 - 5 * H);
}

typedef struct seen {
  int calls;
  int64_t done[16];
  size_t candles[16];
  atomic_int *cancel_after_first_page;
} seen;

static void on_progress(void *ctx, int64_t done_ms, int64_t until_ms, size_t candles)
{
  seen *s = ctx;
  cr_assert_eq(until_ms, T0 + 8 * H);
  if (s->calls < 16) {
    s->done[s->calls] = done_ms;
    s->candles[s->calls] = candles;
  }
  if (++s->calls == 2 && s->cancel_after_first_page)
    atomic_store(s->cancel_after_first_page, 1);
}

Test(market_download, progress_before_and_after_each_page, .init = setup, .fini = teardown)
{
  apex_app_error e = {0};
  size_t stored = 0;
  seen s = {0};
  cr_assert_eq(apex_app_market_download(&app, &market, "BTC/USDT", "1h", T0, T0 + 8 * H, on_progress, &s, NULL,
                                        &stored, &e),
               APEX_OK, "%s", e.detail);
  cr_assert_eq(s.calls, 4, "the start, then pages of 3, 3 and 2 (the last reaches until)");
  cr_expect_eq(s.done[0], T0);
  cr_expect_eq(s.candles[0], 0);
  cr_expect_eq(s.done[1], T0 + 3 * H);
  cr_expect_eq(s.candles[1], 3);
  cr_expect_eq(s.done[3], T0 + 8 * H);
  cr_expect_eq(s.candles[3], 8);
}

Test(market_download, cancel_stops_before_the_next_page_keeping_the_stored, .init = setup, .fini = teardown)
{
  apex_app_error e = {0};
  size_t stored = 0;
  atomic_int cancel = 0;
  seen s = {.cancel_after_first_page = &cancel};
  int64_t h[16];
  cr_assert_eq(apex_app_market_download(&app, &market, "BTC/USDT", "1h", T0, T0 + 8 * H, on_progress, &s, &cancel,
                                        &stored, &e),
               APEX_ECANCELED);
  cr_expect_eq(F.calls, 1);
  cr_expect_eq(stored, 3);
  cr_expect_eq(stored_hours(h, 16), 3);
}

Test(market_download, venue_errors_map_to_the_api_codes_and_keep_earlier_pages, .init = setup, .fini = teardown)
{
  static const struct {
    apex_err code;
    int status, api_code;
  } CASES[] = {
      {APEX_ENOTFOUND, 404, 5001}, {APEX_ERATELIMIT, 429, 5002}, {APEX_EIO, 503, 503},
      {APEX_ETIMEOUT, 503, 503},   {APEX_EINVAL, 422, 422},
  };
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    apex_app_error e = {0};
    size_t stored = 99;
    char sym[16];
    snprintf(sym, sizeof sym, "C%zu/USDT", i); /* its own symbol: nothing stored to resume after */
    memset(&F, 0, sizeof F);
    F.fail_call = 2;
    F.fail_code = CASES[i].code;
    cr_assert_neq(apex_app_market_download(&app, &market, sym, "1h", T0, 0, NULL, NULL, NULL, &stored, &e), APEX_OK);
    cr_expect_eq(e.status, CASES[i].status, "%s", apex_err_name(CASES[i].code));
    cr_expect_eq(e.code, CASES[i].api_code, "%s", apex_err_name(CASES[i].code));
    cr_expect_eq(stored, 3, "%s: the first page stays stored", apex_err_name(CASES[i].code));
    cr_expect(strstr(e.detail, "scripted failure"), "%s: the venue's message in '%s'", apex_err_name(CASES[i].code),
              e.detail);
  }
}

Test(market_download, bad_arguments_are_422_without_a_request, .init = setup, .fini = teardown)
{
  apex_app_error e = {0};
  size_t stored = 0;
  cr_expect_neq(apex_app_market_download(&app, &market, "BTC/USDT", "7q", T0, 0, NULL, NULL, NULL, &stored, &e),
                APEX_OK);
  cr_expect_eq(e.status, 422);
  cr_expect_neq(run(T0, T0, &stored, &e), APEX_OK);
  cr_expect_eq(e.status, 422);
  cr_expect_neq(apex_app_market_download(&app, &market, "", "1h", T0, 0, NULL, NULL, NULL, &stored, &e), APEX_OK);
  cr_expect_eq(e.status, 422);
  cr_expect_eq(F.calls, 0);
}
