/* market/kraken.c against tests/market/stub_kraken.py on 127.0.0.1: OHLC paging (the open
 * interval dropped, 720-row replies), retries (5xx, timeout, EService with HTTP 200, 429), venue
 * errors in the error array, the request spacing and next()'s closed candles. Each test starts
 * its own stub with the faults it needs and kills it in teardown. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "market/http.h"
#include "market/kraken.h"

#define PYTHON "/usr/bin/python3"
#define STUB APEX_SOURCE_DIR "/tests/market/stub_kraken.py"
#define CANDLES APEX_SOURCE_DIR "/tests/market/stub_candles_1m.csv"
#define T0 INT64_C(1699999980000) /* first candle of CANDLES (ten 1m candles) and of --synth */
#define MIN INT64_C(60000)

static pid_t stub_pid = -1;
static char base_url[64];

/* Starts the stub with faults ("500,ok", "" for none) on the candle file, or on synth generated
 * candles when synth is not NULL, and sets base_url. */
static void stub_start_with(const char *faults, const char *synth)
{
  int fds[2];
  cr_assert_eq(access(PYTHON, X_OK), 0, "%s is needed to run the Kraken stub", PYTHON);
  cr_assert_eq(pipe(fds), 0);
  stub_pid = fork();
  cr_assert_neq(stub_pid, -1);
  if (stub_pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (synth)
      execl(PYTHON, "python3", STUB, "--synth", synth, "--faults", faults, "--stall", "2", (char *)NULL);
    else
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

static void stub_start(const char *faults)
{
  stub_start_with(faults, NULL);
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

/* GET one of the stub's control paths into buf. */
static void stub_get(const char *path, char *buf, size_t cap)
{
  apex_http_client *c = NULL;
  apex_http_reply r;
  cr_assert_eq(apex_http_client_new(&(apex_http_options){.base_url = base_url}, &c, NULL), APEX_OK);
  cr_assert_eq(apex_http_get(c, path, 1, &r, NULL), APEX_OK);
  snprintf(buf, cap, "%s", r.body);
  apex_http_reply_free(&r);
  apex_http_client_free(c);
}

/* API requests the stub has seen (its control paths do not count). */
static int stub_hits(void)
{
  char buf[32];
  stub_get("/_stub/hits", buf, sizeof buf);
  return atoi(buf);
}

/* The path and query of the stub's latest API request. */
static const char *stub_last(void)
{
  static char buf[512];
  stub_get("/_stub/last", buf, sizeof buf);
  return buf;
}

static apex_market open_market_rate(const apex_market_clock *clock, double rate)
{
  apex_market m;
  apex_error err = {0};
  apex_kraken_options o = {.base_url = base_url, .timeout_ms = 500, .backoff_base_ms = 20, .rate = rate,
                           .clock = clock};
  cr_assert_eq(apex_market_kraken_new(&o, &m, &err), APEX_OK, "%s", err.msg);
  return m;
}

/* Fast spacing unless a test measures it: 15 a second would slow every test. */
static apex_market open_market(const apex_market_clock *clock)
{
  return open_market_rate(clock, 1000);
}

/* One page of 1m candles from since: the code, the rows in *out (fresh series). */
static apex_err one_page(apex_market *m, const char *symbol, int64_t since, size_t limit, apex_series **out,
                         apex_error *err)
{
  *out = apex_series_new(16);
  cr_assert(*out);
  return m->ops->candles(m->impl, symbol, "1m", since, limit, *out, err);
}

TestSuite(kraken_transport, .fini = stub_stop, .timeout = 60);

Test(kraken_transport, paging_gives_every_committed_candle_once_never_the_open_one)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_series *all = apex_series_new(16);
  apex_error err = {0};
  int64_t since = 0;
  int calls = 0;
  for (;;) {
    apex_series *page;
    cr_assert_eq(one_page(&m, "BTC/USD", since, 3, &page, &err), APEX_OK, "%s", err.msg);
    calls++;
    cr_assert_leq(page->n, 3, "cut to the limit");
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
  cr_assert_eq(calls, 4, "3 + 3 + 3 rows, then only the open interval");
  cr_assert_eq(all->n, 9, "the 10th candle is the open interval: never returned");
  for (size_t i = 0; i < all->n; i++)
    cr_assert_eq(all->time[i], T0 + (int64_t)i * MIN, "candle %zu", i);
  cr_assert_float_eq(all->open[0], 100.0, 1e-9);
  cr_assert_float_eq(all->close[0], 101.0, 1e-9);
  cr_assert_float_eq(all->volume[8], 18.5, 1e-9);
  /* Kraken's since is exclusive and in seconds: one second before the asked ms. */
  cr_assert_str_eq(stub_last(), "/0/public/OHLC?pair=XBTUSD&interval=1&since=1700000460");
  apex_series_free(all);
  apex_market_free(&m);
}

Test(kraken_transport, a_reply_holds_the_720_most_recent_intervals)
{
  stub_start_with("", "1000");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  /* 1000 candles after T0 - 1 s: Kraken sends the newest 720 (280..999), 999 still open. */
  cr_assert_eq(one_page(&m, "BTC/USD", T0, 0, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 719);
  cr_assert_eq(s->time[0], T0 + 280 * MIN);
  cr_assert_eq(s->time[718], T0 + 998 * MIN);
  apex_series_free(s);
  cr_assert_eq(one_page(&m, "BTC/USD", T0 + 998 * MIN + 1, 1000, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 0, "only the open interval is left");
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, a_500_then_ok_is_retried)
{
  stub_start("500");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "BTC/USD", 0, 2, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 2);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, service_busy_with_http_200_is_retried)
{
  stub_start("busy,unavailable");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "BTC/USD", 0, 2, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 2);
  cr_assert_eq(stub_hits(), 3);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, three_service_errors_fail_with_eio_after_three_tries)
{
  stub_start("unavailable,busy,unavailable,ok");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "BTC/USD", 0, 2, &s, &err), APEX_EIO, "%s", err.msg);
  cr_assert_eq(s->n, 0);
  cr_assert_eq(stub_hits(), 3);
  cr_assert(strstr(err.msg, "EService:Unavailable"), "%s", err.msg);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, three_500s_fail_with_eio)
{
  stub_start("500,500,500");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "BTC/USD", 0, 2, &s, &err), APEX_EIO, "%s", err.msg);
  cr_assert(strstr(err.msg, "500"), "%s", err.msg);
  cr_assert_eq(stub_hits(), 3);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, a_429_waits_retry_after_then_retries)
{
  stub_start("429");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  double t = mono_s();
  cr_assert_eq(one_page(&m, "BTC/USD", 0, 2, &s, &err), APEX_OK, "%s", err.msg);
  t = mono_s() - t;
  cr_assert_geq(t, 0.9, "Retry-After: 1 was waited (%.3f s)", t);
  cr_assert_lt(t, 5.0);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, a_long_retry_after_or_a_rate_limit_error_is_eratelimit_at_once)
{
  stub_start("ban,ratelimit");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  double t = mono_s();
  cr_assert_eq(one_page(&m, "BTC/USD", 0, 2, &s, &err), APEX_ERATELIMIT, "%s", err.msg);
  cr_assert_lt(mono_s() - t, 1.0, "a 120 s wait is not waited for");
  cr_assert(strstr(err.msg, "EGeneral:Too many requests") && strstr(err.msg, "120"), "%s", err.msg);
  apex_series_free(s);
  cr_assert_eq(one_page(&m, "BTC/USD", 0, 2, &s, &err), APEX_ERATELIMIT, "%s", err.msg);
  cr_assert(strstr(err.msg, "EAPI:Rate limit exceeded"), "%s", err.msg);
  cr_assert_eq(stub_hits(), 2, "neither is retried");
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, unknown_pair_is_enotfound_with_krakens_message)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_ticker tk;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "ETH/USD", 0, 2, &s, &err), APEX_ENOTFOUND, "%s", err.msg);
  cr_assert(strstr(err.msg, "EQuery:Unknown asset pair"), "%s", err.msg);
  cr_assert_eq(stub_hits(), 1, "not retried");
  /* DOGE is XDG at Kraken. */
  cr_assert_eq(m.ops->ticker(m.impl, "DOGE/USD", &tk, &err), APEX_ENOTFOUND, "%s", err.msg);
  cr_assert_str_eq(stub_last(), "/0/public/Ticker?pair=XDGUSD");
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, a_timeout_is_retried)
{
  stub_start("timeout");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "BTC/USD", 0, 2, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 2);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(kraken_transport, requests_are_spaced_by_the_rate)
{
  stub_start("");
  apex_market m = open_market_rate(NULL, 10);
  apex_ticker tk;
  apex_error err = {0};
  /* Six requests at 10 a second: the first at once, five more 100 ms apart. */
  double t = mono_s();
  for (int i = 0; i < 6; i++)
    cr_assert_eq(m.ops->ticker(m.impl, "BTC/USD", &tk, &err), APEX_OK, "%s", err.msg);
  t = mono_s() - t;
  cr_assert_geq(t, 0.45, "spaced (%.3f s)", t);
  cr_assert_lt(t, 5.0);
  apex_market_free(&m);
}

Test(kraken_transport, symbols_ticker_and_orderbook_decode)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_market_symbol syms[16];
  apex_ticker tk;
  apex_orderbook *book = malloc(sizeof *book);
  apex_error err = {0};
  size_t n = 0;
  cr_assert_eq(m.ops->symbols(m.impl, syms, 16, &n, &err), APEX_OK, "%s", err.msg);
  cr_assert_geq(n, 2);
  cr_assert_str_eq(syms[0].symbol, "BTC/USD");
  cr_assert_str_eq(syms[0].venue_symbol, "XXBTZUSD");
  cr_assert_eq(m.ops->ticker(m.impl, "BTC/USD", &tk, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(tk.symbol, "BTC/USD");
  cr_assert_eq(tk.last, 3030320000000); /* "30303.20000" */
  cr_assert_gt(tk.time, 0, "stamped: Kraken's ticker has no time");
  cr_assert_eq(m.ops->orderbook(m.impl, "BTC/USD", 2, book, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(stub_last(), "/0/public/Depth?pair=XBTUSD&count=2");
  cr_assert_eq(book->n_bids, 2);
  cr_assert_eq(book->n_asks, 2);
  cr_assert_eq(book->bids[0].price, 3029700000000);
  cr_assert_eq(m.ops->orderbook(m.impl, "BTC/USD", 101, book, &err), APEX_EINVAL);
  apex_series *s = apex_series_new(1);
  cr_assert_eq(m.ops->candles(m.impl, "BTC/USD", "3m", 0, 1, s, &err), APEX_EINVAL, "no 3m at Kraken");
  cr_assert_eq(m.ops->subscribe(m.impl, "BTC/USD", "2h", &err), APEX_EINVAL, "no 2h at Kraken");
  apex_series_free(s);
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

Test(kraken_transport, next_delivers_a_candle_once_after_it_closed)
{
  stub_start("");
  apex_market_clock clock = {.now_ms = fake_now_ms, .sleep_ms = fake_sleep_ms};
  apex_market m = open_market(&clock);
  apex_market_event ev;
  apex_error err = {0};

  fake_now = T0 + 2 * MIN + 30000; /* candle 2 is open */
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_EINVAL, "nothing subscribed");
  cr_assert_eq(m.ops->subscribe(m.impl, "BTC/USD", "1m", &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(m.ops->next(m.impl, 10000, &ev, &err), APEX_ETIMEOUT, "candle 2 closes in 30 s");
  cr_assert_eq(fake_now, T0 + 2 * MIN + 40000, "waited the whole timeout");
  cr_assert_eq(stub_hits(), 0, "no poll before a close");

  fake_now = T0 + 3 * MIN; /* candle 2 has just closed */
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.kind, APEX_MARKET_CANDLE);
  cr_assert_str_eq(ev.symbol, "BTC/USD");
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

  /* Candle 9 is the interval Kraken still has open: past its close it is not committed, so
   * next() asks again every repoll_ms and never delivers it. */
  fake_now = T0 + 10 * MIN + 5;
  for (int64_t t = 6; t <= 8; t++) {
    cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
    cr_assert_eq(ev.bar.time, T0 + t * MIN);
  }
  cr_assert_eq(m.ops->next(m.impl, 2500, &ev, &err), APEX_ETIMEOUT);
  cr_assert_eq(stub_hits(), 7, "asked at once (candle 9 had closed), then again at +1 s and +2 s");
  apex_market_free(&m);
}
