/* market/binance.c and market/http.c against tests/market/stub_binance.py on 127.0.0.1: paging,
 * retries (5xx, timeout, 429/418), venue errors, the weight bucket and next()'s closed candles.
 * Each test starts its own stub with the faults it needs and kills it in teardown. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "market/binance.h"
#include "market/http.h"

#define PYTHON "/usr/bin/python3"
#define STUB APEX_SOURCE_DIR "/tests/market/stub_binance.py"
#define CANDLES APEX_SOURCE_DIR "/tests/market/stub_candles_1m.csv"
#define T0 INT64_C(1699999980000) /* first candle of CANDLES; ten 1m candles */
#define MIN INT64_C(60000)

static pid_t stub_pid = -1;
static char base_url[64];

/* Starts the stub with faults ("500,ok", "" for none) and sets base_url; fails the test if it
 * cannot (python3 is always installed where the tests run). */
static void stub_start(const char *faults)
{
  int fds[2];
  cr_assert_eq(access(PYTHON, X_OK), 0, "%s is needed to run the Binance stub", PYTHON);
  cr_assert_eq(pipe(fds), 0);
  stub_pid = fork();
  cr_assert_neq(stub_pid, -1);
  if (stub_pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(PYTHON, "python3", STUB, "--candles", CANDLES, "--faults", faults, "--stall", "2", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char line[32] = "";
  cr_assert(f && fgets(line, sizeof line, f), "the stub printed no port");
  fclose(f);
  int port = atoi(line);
  cr_assert(port > 0 && port < 65536, "bad port line '%s'", line);
  snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
}

static void stub_stop(void)
{
  if (stub_pid > 0) {
    kill(stub_pid, SIGTERM);
    waitpid(stub_pid, NULL, 0);
    stub_pid = -1;
  }
}

static double mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* API requests the stub has seen (its control path does not count). */
static int stub_hits(void)
{
  apex_http_client *c = NULL;
  apex_http_reply r;
  cr_assert_eq(apex_http_client_new(&(apex_http_options){.base_url = base_url}, &c, NULL), APEX_OK);
  cr_assert_eq(apex_http_get(c, "/_stub/hits", 1, &r, NULL), APEX_OK);
  int n = atoi(r.body);
  apex_http_reply_free(&r);
  apex_http_client_free(c);
  return n;
}

static apex_market open_market(const apex_market_clock *clock)
{
  apex_market m;
  apex_error err = {0};
  apex_binance_options o = {.base_url = base_url, .timeout_ms = 500, .backoff_base_ms = 20, .clock = clock};
  cr_assert_eq(apex_market_binance_new(&o, &m, &err), APEX_OK, "%s", err.msg);
  return m;
}

/* One page of candles from since: the code, the rows in *out (fresh series). */
static apex_err one_page(apex_market *m, const char *symbol, int64_t since, size_t limit, apex_series **out,
                         apex_error *err)
{
  *out = apex_series_new(16);
  cr_assert(*out);
  return m->ops->candles(m->impl, symbol, "1m", since, limit, *out, err);
}

TestSuite(binance_transport, .fini = stub_stop, .timeout = 60);

Test(binance_transport, paging_gives_every_candle_once_in_order)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_series *all = apex_series_new(16);
  apex_error err = {0};
  int64_t since = 0;
  int calls = 0;
  for (;;) {
    apex_series *page;
    cr_assert_eq(one_page(&m, "BTC/USDT", since, 3, &page, &err), APEX_OK, "%s", err.msg);
    calls++;
    cr_assert_leq(page->n, 3, "the stub pages by limit");
    for (size_t i = 0; i < page->n; i++) {
      apex_bar b = apex_series_bar(page, i);
      cr_assert_eq(apex_series_append(all, &b), APEX_OK);
    }
    size_t n = page->n;
    if (n)
      since = page->time[n - 1] + 1;
    apex_series_free(page);
    if (!n)
      break;
  }
  cr_assert_eq(calls, 5, "3 + 3 + 3 + 1 rows, then an empty page");
  cr_assert_eq(all->n, 10);
  for (size_t i = 0; i < all->n; i++)
    cr_assert_eq(all->time[i], T0 + (int64_t)i * MIN, "candle %zu", i);
  cr_assert_float_eq(all->open[0], 100.0, 1e-9);
  cr_assert_float_eq(all->close[0], 101.0, 1e-9);
  cr_assert_float_eq(all->volume[9], 19.5, 1e-9);
  apex_series_free(all);
  apex_market_free(&m);
}

Test(binance_transport, a_500_then_ok_is_retried)
{
  stub_start("500");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "BTC/USDT", 0, 2, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 2);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(binance_transport, three_500s_fail_with_eio_after_three_tries)
{
  stub_start("500,500,500");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "BTC/USDT", 0, 2, &s, &err), APEX_EIO, "%s", err.msg);
  cr_assert_eq(s->n, 0);
  cr_assert_eq(stub_hits(), 3);
  cr_assert(strstr(err.msg, "500"), "%s", err.msg);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(binance_transport, a_429_waits_retry_after_then_retries)
{
  stub_start("429");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  double t = mono_s();
  cr_assert_eq(one_page(&m, "BTC/USDT", 0, 2, &s, &err), APEX_OK, "%s", err.msg);
  t = mono_s() - t;
  cr_assert_geq(t, 0.9, "Retry-After: 1 was waited (%.3f s)", t);
  cr_assert_lt(t, 5.0);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(binance_transport, a_418_longer_than_the_cap_is_eratelimit_at_once)
{
  stub_start("418");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  double t = mono_s();
  cr_assert_eq(one_page(&m, "BTC/USDT", 0, 2, &s, &err), APEX_ERATELIMIT, "%s", err.msg);
  cr_assert_lt(mono_s() - t, 1.0, "a 120 s ban is not waited for");
  cr_assert(strstr(err.msg, "418") && strstr(err.msg, "120"), "%s", err.msg);
  cr_assert_eq(stub_hits(), 1);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(binance_transport, invalid_symbol_is_enotfound_with_binances_message)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "ETH/USDT", 0, 2, &s, &err), APEX_ENOTFOUND, "%s", err.msg);
  cr_assert(strstr(err.msg, "-1121") && strstr(err.msg, "Invalid symbol."), "%s", err.msg);
  cr_assert_eq(stub_hits(), 1, "a 4xx is not retried");
  apex_series_free(s);
  apex_market_free(&m);
}

Test(binance_transport, a_timeout_is_retried)
{
  stub_start("timeout");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "BTC/USDT", 0, 2, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 2);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(binance_transport, http_reports_tries_and_bucket_delays_a_burst)
{
  stub_start("500");
  apex_http_client *c = NULL;
  apex_http_reply r;
  apex_error err = {0};
  apex_http_options o = {.base_url = base_url, .backoff_base_ms = 20, .bucket_capacity = 4,
                         .bucket_refill_per_s = 20};
  cr_assert_eq(apex_http_client_new(&o, &c, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_http_get(c, "/api/v3/exchangeInfo", 1, &r, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(r.status, 200);
  cr_assert_eq(r.tries, 2);
  cr_assert_eq(r.retry_after_s, -1);
  apex_http_reply_free(&r);
  cr_assert_eq(apex_http_get(c, "/x", 5, &r, &err), APEX_EINVAL, "weight over the capacity");
  /* Two tokens were spent above; 10 more requests of weight 1 need 8 refilled at 20/s: >= 0.4 s. */
  double t = mono_s();
  for (int i = 0; i < 10; i++) {
    cr_assert_eq(apex_http_get(c, "/api/v3/exchangeInfo", 1, &r, &err), APEX_OK, "%s", err.msg);
    apex_http_reply_free(&r);
  }
  t = mono_s() - t;
  cr_assert_geq(t, 0.3, "the bucket made the burst wait (%.3f s)", t);
  cr_assert_lt(t, 5.0);
  apex_http_client_free(c);
}

Test(binance_transport, body_over_the_cap_is_etoobig)
{
  stub_start("");
  apex_http_client *c = NULL;
  apex_http_reply r;
  apex_error err = {0};
  cr_assert_eq(apex_http_client_new(&(apex_http_options){.base_url = base_url, .body_max = 100}, &c, &err), APEX_OK);
  cr_assert_eq(apex_http_get(c, "/api/v3/exchangeInfo", 1, &r, &err), APEX_ETOOBIG, "%s", err.msg);
  cr_assert_null(r.body);
  apex_http_client_free(c);
}

Test(binance_transport, symbols_ticker_and_orderbook_decode)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_market_symbol syms[16];
  apex_ticker tk;
  apex_orderbook *book = malloc(sizeof *book);
  apex_error err = {0};
  size_t n = 0;
  cr_assert_eq(m.ops->symbols(m.impl, syms, 16, &n, &err), APEX_OK, "%s", err.msg);
  cr_assert_gt(n, 0);
  cr_assert_eq(m.ops->ticker(m.impl, "BNB/BTC", &tk, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(tk.symbol, "BNB/BTC");
  cr_assert_eq(m.ops->orderbook(m.impl, "BNB/BTC", 1, book, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(book->n_bids, 1);
  cr_assert_eq(m.ops->orderbook(m.impl, "BNB/BTC", 101, book, &err), APEX_EINVAL);
  free(book);
  apex_market_free(&m);
}

/* A scripted clock: sleeping moves it on at once. */
static int64_t fake_now;
static int64_t fake_now_ms(void *ctx)
{
  (void)ctx;
  return fake_now;
}
static void fake_sleep_ms(void *ctx, int64_t ms)
{
  (void)ctx;
  fake_now += ms;
}

Test(binance_transport, next_delivers_a_candle_once_after_it_closed)
{
  stub_start("");
  apex_market_clock clock = {.now_ms = fake_now_ms, .sleep_ms = fake_sleep_ms};
  apex_market m = open_market(&clock);
  apex_market_event ev;
  apex_error err = {0};

  fake_now = T0 + 2 * MIN + 30000; /* candle 2 is open */
  cr_assert_eq(m.ops->subscribe(m.impl, "BTC/USDT", "1m", &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(m.ops->next(m.impl, 10000, &ev, &err), APEX_ETIMEOUT, "candle 2 closes in 30 s");
  cr_assert_eq(fake_now, T0 + 2 * MIN + 40000, "waited the whole timeout");
  cr_assert_eq(stub_hits(), 0, "no poll before a close");

  fake_now = T0 + 3 * MIN; /* candle 2 has just closed */
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.kind, APEX_MARKET_CANDLE);
  cr_assert_str_eq(ev.symbol, "BTC/USDT");
  cr_assert_str_eq(ev.timeframe, "1m");
  cr_assert_eq(ev.bar.time, T0 + 2 * MIN);
  cr_assert_float_eq(ev.bar.close, 101.5, 1e-9);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_ETIMEOUT, "delivered once");

  /* Waiting as long as needed: the clock runs to candle 3's close and it comes, once. */
  cr_assert_eq(m.ops->next(m.impl, -1, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.bar.time, T0 + 3 * MIN);
  cr_assert_eq(fake_now, T0 + 4 * MIN);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_ETIMEOUT);
  cr_assert_eq(stub_hits(), 2, "one poll per close");

  /* Two minutes pass unseen: both closed candles come, oldest first, in one poll. */
  fake_now = T0 + 6 * MIN + 5;
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.bar.time, T0 + 4 * MIN);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.bar.time, T0 + 5 * MIN);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_ETIMEOUT);
  cr_assert_eq(stub_hits(), 3);
  apex_market_free(&m);
}
