/* market/yahoo.c against tests/market/stub_yahoo.py on 127.0.0.1: chart ranges and paging (the
 * forming candle and null rows dropped), retries (5xx, timeout, 429), Yahoo's errors, the request
 * bucket and next()'s closed candles. Each test starts its own stub with the faults it needs and
 * kills it in teardown. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "market/http.h"
#include "market/yahoo.h"

#define PYTHON "/usr/bin/python3"
#define STUB APEX_SOURCE_DIR "/tests/market/stub_yahoo.py"
#define CANDLES APEX_SOURCE_DIR "/tests/market/stub_candles_1m.csv"
#define T0 INT64_C(1699999980000) /* first candle of CANDLES: ten 1m candles, the last forming */
#define MIN INT64_C(60000)

static pid_t stub_pid = -1;
static char base_url[64];

/* Starts the stub with faults ("500,ok", "" for none), row null_row of the candle file sent as
 * nulls unless it is NULL, and sets base_url. */
static void stub_start_with(const char *faults, const char *null_row)
{
  int fds[2];
  cr_assert_eq(access(PYTHON, X_OK), 0, "%s is needed to run the Yahoo stub", PYTHON);
  cr_assert_eq(pipe(fds), 0);
  stub_pid = fork();
  cr_assert_neq(stub_pid, -1);
  if (stub_pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (null_row)
      execl(PYTHON, "python3", STUB, "--candles", CANDLES, "--null-row", null_row, "--faults", faults, "--stall", "2",
            (char *)NULL);
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

static apex_market open_market_rate(const apex_market_clock *clock, double per_hour, double burst)
{
  apex_market m;
  apex_error err = {0};
  apex_yahoo_options o = {.base_url = base_url, .timeout_ms = 500, .backoff_base_ms = 20,
                          .requests_per_hour = per_hour, .burst = burst, .clock = clock};
  cr_assert_eq(apex_market_yahoo_new(&o, &m, &err), APEX_OK, "%s", err.msg);
  return m;
}

static apex_market open_market(const apex_market_clock *clock)
{
  return open_market_rate(clock, 0, 0);
}

/* One page of 1m candles from since: the code, the rows in *out (fresh series). */
static apex_err one_page(apex_market *m, const char *symbol, int64_t since, size_t limit, apex_series **out,
                         apex_error *err)
{
  *out = apex_series_new(16);
  cr_assert(*out);
  return m->ops->candles(m->impl, symbol, "1m", since, limit, *out, err);
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
static const apex_market_clock FAKE_CLOCK = {.now_ms = fake_now_ms, .sleep_ms = fake_sleep_ms};

TestSuite(yahoo_transport, .fini = stub_stop, .timeout = 60);

Test(yahoo_transport, paging_gives_every_closed_candle_once_never_the_forming_one)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_series *all = apex_series_new(16);
  apex_error err = {0};
  int64_t since = T0 - 3 * MIN; /* a range must hold candles: 7 days of 1m from since */
  int calls = 0;
  for (;;) {
    apex_series *page;
    cr_assert_eq(one_page(&m, "AAPL/USD", since, 3, &page, &err), APEX_OK, "%s", err.msg);
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
  cr_assert_eq(calls, 4, "3 + 3 + 3 rows, then only the forming candle");
  cr_assert_eq(all->n, 9, "the 10th candle is still forming: never returned");
  for (size_t i = 0; i < all->n; i++)
    cr_assert_eq(all->time[i], T0 + (int64_t)i * MIN, "candle %zu", i);
  cr_assert_float_eq(all->open[0], 100.0, 1e-9);
  cr_assert_float_eq(all->close[0], 101.0, 1e-9);
  cr_assert_float_eq(all->volume[8], 18.5, 1e-9);
  /* From the second after the asked ms, 7 days of 1m candles at most. */
  cr_assert_str_eq(stub_last(), "/v8/finance/chart/AAPL?period1=1700000461&period2=1700605261&interval=1m"
                                "&includePrePost=false&events=div%2Csplits");
  apex_series_free(all);
  apex_market_free(&m);
}

Test(yahoo_transport, null_rows_are_left_out)
{
  stub_start_with("", "4");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "AAPL/USD", T0, 0, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 8);
  cr_assert_eq(s->time[3], T0 + 3 * MIN);
  cr_assert_eq(s->time[4], T0 + 5 * MIN, "candle 4 was all nulls");
  apex_series_free(s);
  apex_market_free(&m);
}

Test(yahoo_transport, ranges_end_now_and_intervals_are_yahoos)
{
  stub_start("");
  apex_market m = open_market(&FAKE_CLOCK);
  apex_series *s = apex_series_new(16);
  apex_error err = {0};
  fake_now = T0 + 5 * MIN + 10000; /* candle 5 is forming */
  cr_assert_eq(m.ops->candles(m.impl, "AAPL/USD", "1m", T0, 0, s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 5, "candles 0..4; 5 ends after Yahoo's time");
  cr_assert_eq(s->time[4], T0 + 4 * MIN);
  cr_assert_str_eq(stub_last(), "/v8/finance/chart/AAPL?period1=1699999980&period2=1700000290&interval=1m"
                                "&includePrePost=false&events=div%2Csplits");
  static const struct {
    const char *ours, *sent;
  } IV[] = {{"2m", "interval=2m&"}, {"1h", "interval=60m&"}, {"1d", "interval=1d&"}, {"1w", "interval=1wk&"},
            {"1M", "interval=1mo&"}};
  for (size_t i = 0; i < sizeof IV / sizeof IV[0]; i++) {
    /* The stub serves 1m only: Yahoo's 400 is APEX_EINVAL, but the request shows the interval. */
    cr_assert_eq(m.ops->candles(m.impl, "AAPL/USD", IV[i].ours, T0, 0, s, &err), APEX_EINVAL, "%s", IV[i].ours);
    cr_assert(strstr(err.msg, "Bad Request"), "%s", err.msg);
    cr_assert(strstr(stub_last(), IV[i].sent), "%s: %s", IV[i].ours, stub_last());
  }
  int hits = stub_hits();
  cr_assert_eq(m.ops->candles(m.impl, "AAPL/USD", "4h", T0, 0, s, &err), APEX_EINVAL, "no 4h at Yahoo");
  cr_assert_eq(m.ops->candles(m.impl, "AAPL/USD", "1m", fake_now + MIN, 0, s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(stub_hits(), hits, "neither asked Yahoo");
  cr_assert_eq(s->n, 5);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(yahoo_transport, a_500_then_ok_is_retried)
{
  stub_start("500");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "AAPL/USD", T0, 2, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 2);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(yahoo_transport, three_500s_fail_with_eio_after_three_tries)
{
  stub_start("500,500,500");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "AAPL/USD", T0, 2, &s, &err), APEX_EIO, "%s", err.msg);
  cr_assert_eq(s->n, 0);
  cr_assert(strstr(err.msg, "500"), "%s", err.msg);
  cr_assert_eq(stub_hits(), 3);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(yahoo_transport, a_429_waits_retry_after_then_retries)
{
  stub_start("429");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  double t = mono_s();
  cr_assert_eq(one_page(&m, "AAPL/USD", T0, 2, &s, &err), APEX_OK, "%s", err.msg);
  t = mono_s() - t;
  cr_assert_geq(t, 0.9, "Retry-After: 1 was waited (%.3f s)", t);
  cr_assert_lt(t, 5.0);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(yahoo_transport, a_long_retry_after_is_eratelimit_at_once)
{
  stub_start("ban");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  double t = mono_s();
  cr_assert_eq(one_page(&m, "AAPL/USD", T0, 2, &s, &err), APEX_ERATELIMIT, "%s", err.msg);
  cr_assert_lt(mono_s() - t, 1.0, "a 120 s wait is not waited for");
  cr_assert(strstr(err.msg, "429") && strstr(err.msg, "120"), "%s", err.msg);
  cr_assert_eq(stub_hits(), 1);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(yahoo_transport, unknown_ticker_is_enotfound_with_yahoos_message)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_ticker tk;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "MSFT/USD", T0, 2, &s, &err), APEX_ENOTFOUND, "%s", err.msg);
  cr_assert(strstr(err.msg, "No data found"), "%s", err.msg);
  cr_assert_eq(stub_hits(), 1, "a 404 is not retried");
  cr_assert_eq(m.ops->ticker(m.impl, "MSFT/USD", &tk, &err), APEX_ENOTFOUND, "%s", err.msg);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(yahoo_transport, a_timeout_is_retried)
{
  stub_start("timeout");
  apex_market m = open_market(NULL);
  apex_series *s;
  apex_error err = {0};
  cr_assert_eq(one_page(&m, "AAPL/USD", T0, 2, &s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(s->n, 2);
  cr_assert_eq(stub_hits(), 2);
  apex_series_free(s);
  apex_market_free(&m);
}

Test(yahoo_transport, the_bucket_holds_requests_to_the_rate)
{
  stub_start("");
  apex_market m = open_market_rate(NULL, 36000, 1); /* 10 a second, one at once */
  apex_ticker tk;
  apex_error err = {0};
  double t = mono_s();
  for (int i = 0; i < 6; i++)
    cr_assert_eq(m.ops->ticker(m.impl, "AAPL/USD", &tk, &err), APEX_OK, "%s", err.msg);
  t = mono_s() - t;
  cr_assert_geq(t, 0.45, "five waits of 100 ms (%.3f s)", t);
  cr_assert_lt(t, 5.0);
  apex_market_free(&m);
}

Test(yahoo_transport, ticker_from_the_chart_meta_and_no_listing_or_book)
{
  stub_start("");
  apex_market m = open_market(NULL);
  apex_market_symbol syms[2];
  apex_ticker tk;
  apex_orderbook *book = malloc(sizeof *book);
  apex_error err = {0};
  size_t n = 7;
  cr_assert_eq(m.ops->ticker(m.impl, "AAPL/USD", &tk, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(tk.symbol, "AAPL/USD");
  cr_assert_eq(tk.last, 10250000000, "102.5, the last candle's close");
  cr_assert_eq(tk.time, 1700000550000);
  cr_assert_float_eq(tk.change_24h_pct, (102.5 - 103.0) / 103.0 * 100.0, 1e-9);
  cr_assert_str_eq(stub_last(), "/v8/finance/chart/AAPL?range=1d&interval=1d&includePrePost=false");
  cr_assert_eq(m.ops->ticker(m.impl, "AAPL/EUR", &tk, &err), APEX_EPARSE, "the reply's currency is USD");
  cr_assert_eq(m.ops->symbols(m.impl, syms, 2, &n, &err), APEX_EINVAL);
  cr_assert_eq(n, 0);
  cr_assert_eq(m.ops->orderbook(m.impl, "AAPL/USD", 5, book, &err), APEX_EINVAL);
  free(book);
  apex_market_free(&m);
}

Test(yahoo_transport, next_delivers_a_candle_once_after_it_closed)
{
  stub_start("");
  apex_market m = open_market(&FAKE_CLOCK);
  apex_market_event ev;
  apex_error err = {0};

  fake_now = T0 + 2 * MIN + 30000; /* candle 2 is forming */
  cr_assert_eq(m.ops->subscribe(m.impl, "AAPL/USD", "1m", &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(m.ops->subscribe(m.impl, "AAPL/USD", "4h", &err), APEX_EINVAL);
  cr_assert_eq(m.ops->next(m.impl, 10000, &ev, &err), APEX_ETIMEOUT, "candle 2 ends in 30 s");
  cr_assert_eq(fake_now, T0 + 2 * MIN + 40000, "waited the whole timeout");
  cr_assert_eq(stub_hits(), 0, "no poll before an end");

  fake_now = T0 + 3 * MIN; /* candle 2 has just ended */
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.kind, APEX_MARKET_CANDLE);
  cr_assert_str_eq(ev.symbol, "AAPL/USD");
  cr_assert_str_eq(ev.timeframe, "1m");
  cr_assert_eq(ev.bar.time, T0 + 2 * MIN);
  cr_assert_float_eq(ev.bar.close, 101.5, 1e-9);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_ETIMEOUT, "delivered once");

  /* Waiting as long as needed: the clock runs to candle 3's end and it comes, once. */
  cr_assert_eq(m.ops->next(m.impl, -1, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.bar.time, T0 + 3 * MIN);
  cr_assert_eq(fake_now, T0 + 4 * MIN);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_ETIMEOUT);
  cr_assert_eq(stub_hits(), 2, "one poll per end");

  /* Two minutes pass unseen: both ended candles come, oldest first, in one poll. */
  fake_now = T0 + 6 * MIN + 5;
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.bar.time, T0 + 4 * MIN);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(ev.bar.time, T0 + 5 * MIN);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_ETIMEOUT);
  cr_assert_eq(stub_hits(), 3);

  /* Yahoo's time stays inside candle 9 (the stub's last): it never comes. */
  fake_now = T0 + 10 * MIN + 5;
  for (int64_t t = 6; t <= 8; t++) {
    cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
    cr_assert_eq(ev.bar.time, T0 + t * MIN);
  }
  cr_assert_eq(m.ops->next(m.impl, 2500, &ev, &err), APEX_ETIMEOUT);
  apex_market_free(&m);
}
