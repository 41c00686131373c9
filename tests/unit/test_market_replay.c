/* market/replay.c: stored candles played as a feed: every candle once, in order, as a closed-candle
 * event; paging over what was delivered; the end said at once; pacing at timeframe / speed. */
#include <criterion/criterion.h>
#include <math.h>
#include <time.h>

#include "market/replay.h"

static apex_series *series(size_t n)
{
  apex_series *s = apex_series_new(n);
  cr_assert(s);
  for (size_t i = 0; i < n; i++) {
    double p = 100 + (double)i;
    apex_bar b = {1700000000000 + (int64_t)i * 60000, p, p + 2, p - 1, p + 1, 10 + (double)i};
    cr_assert_eq(apex_series_append(s, &b), APEX_OK);
  }
  return s;
}

static double mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

Test(market_replay, a_coarser_timeframe_subscribes_the_fine_candles_a_finer_one_does_not)
{
  apex_series *s = series(5);
  apex_market m;
  apex_market_event ev;
  apex_error err = {0};
  cr_assert_eq(apex_replay_new(s, "BTC/USDT", "5m", 0, &m, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(m.ops->subscribe(m.impl, "BTC/USDT", "1m", &err), APEX_EINVAL, "finer than the replay");
  cr_expect_eq(m.ops->subscribe(m.impl, "BTC/USDT", "7m", &err), APEX_EINVAL, "not a timeframe");
  cr_assert_eq(m.ops->subscribe(m.impl, "BTC/USDT", "1h", &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "%s", err.msg);
  cr_expect_str_eq(ev.timeframe, "5m", "the replay's own candles: the subscriber builds the hour");
  apex_market_free(&m);
  apex_series_free(s);
}

Test(market_replay, delivers_every_candle_in_order_then_ends)
{
  apex_series *s = series(50);
  apex_market m;
  apex_market_event ev;
  apex_error err = {0};
  cr_assert_eq(apex_replay_new(s, "BTC/USDT", "1m", 0, &m, &err), APEX_OK, "%s", err.msg);
  cr_expect_str_eq(m.ops->name, "replay");
  cr_expect_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_EINVAL, "next before subscribe");
  cr_expect_eq(m.ops->subscribe(m.impl, "ETH/USDT", "1m", &err), APEX_EINVAL, "another symbol");
  cr_expect_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_EINVAL, "still nothing subscribed");
  cr_expect_eq(m.ops->subscribe(m.impl, "BTC/USDT", "bad", &err), APEX_EINVAL, "not a timeframe");
  cr_assert_eq(m.ops->subscribe(m.impl, "BTC/USDT", "1m", &err), APEX_OK, "%s", err.msg);
  for (size_t i = 0; i < 50; i++) {
    cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK, "candle %zu: %s", i, err.msg);
    apex_bar want = apex_series_bar(s, i);
    cr_expect_eq(ev.kind, APEX_MARKET_CANDLE);
    cr_expect_str_eq(ev.symbol, "BTC/USDT");
    cr_expect_str_eq(ev.timeframe, "1m");
    cr_expect(ev.bar.time == want.time && ev.bar.open == want.open && ev.bar.high == want.high &&
                  ev.bar.low == want.low && ev.bar.close == want.close && ev.bar.volume == want.volume,
              "candle %zu differs", i);
  }
  cr_expect_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_ENOTFOUND, "played out");
  cr_expect_eq(m.ops->next(m.impl, -1, &ev, &err), APEX_ENOTFOUND, "still played out, without waiting");
  apex_market_free(&m);
  cr_expect_null(m.ops);
  apex_series_free(s);
}

Test(market_replay, pages_through_what_was_delivered)
{
  apex_series *s = series(30), *page = apex_series_new(0);
  apex_market m;
  apex_market_event ev;
  apex_ticker tk;
  apex_error err = {0};
  cr_assert_eq(apex_replay_new(s, "BTC/USDT", "1m", 0, &m, &err), APEX_OK);
  cr_assert_eq(m.ops->subscribe(m.impl, "BTC/USDT", "1m", &err), APEX_OK);
  cr_expect_eq(m.ops->ticker(m.impl, "BTC/USDT", &tk, &err), APEX_ENOTFOUND, "no ticker before the first candle");
  cr_assert_eq(m.ops->candles(m.impl, "BTC/USDT", "1m", 0, 100, page, &err), APEX_OK);
  cr_expect_eq(page->n, 0, "nothing delivered, nothing to page");
  for (int i = 0; i < 25; i++)
    cr_assert_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_OK);
  cr_assert_eq(m.ops->ticker(m.impl, "BTC/USDT", &tk, &err), APEX_OK);
  apex_dec want;
  cr_assert_eq(apex_dec_from_double(s->close[24], &want), APEX_OK);
  cr_expect_eq(tk.last, want, "ticker: the last delivered close");
  cr_expect_eq(tk.time, s->time[24]);
  /* pages of 10 from the start: 10, 10, 5 (the 25 delivered), then none */
  int64_t since = 0;
  size_t sizes[4], pages = 0;
  do {
    size_t before = page->n;
    cr_assert_eq(m.ops->candles(m.impl, "BTC/USDT", "1m", since, 10, page, &err), APEX_OK, "%s", err.msg);
    sizes[pages++] = page->n - before;
    if (page->n)
      since = page->time[page->n - 1] + 1;
  } while (sizes[pages - 1] && pages < 4);
  cr_expect_eq(pages, 4);
  cr_expect(sizes[0] == 10 && sizes[1] == 10 && sizes[2] == 5 && sizes[3] == 0, "%zu %zu %zu %zu", sizes[0],
            sizes[1], sizes[2], sizes[3]);
  for (size_t i = 0; i < page->n; i++)
    cr_expect_eq(page->time[i], s->time[i], "page row %zu", i);
  cr_expect_eq(m.ops->candles(m.impl, "ETH/USDT", "1m", 0, 10, page, &err), APEX_EINVAL);
  apex_market_symbol sym;
  size_t n = 0;
  cr_assert_eq(m.ops->symbols(m.impl, &sym, 1, &n, &err), APEX_OK);
  cr_expect_eq(n, 1);
  cr_expect_str_eq(sym.base, "BTC");
  cr_expect_str_eq(sym.quote, "USDT");
  apex_orderbook *book = malloc(sizeof *book);
  cr_expect_eq(m.ops->orderbook(m.impl, "BTC/USDT", 10, book, &err), APEX_EINVAL);
  free(book);
  apex_market_free(&m);
  apex_series_free(page);
  apex_series_free(s);
}

/* 1m candles at speed 1200: 50 ms apart, so 11 candles take 10 waits = 0.5 s. */
Test(market_replay, paces_candles_at_timeframe_over_speed)
{
  apex_series *s = series(11);
  apex_market m;
  apex_market_event ev;
  apex_error err = {0};
  cr_assert_eq(apex_replay_new(s, "BTC/USDT", "1m", 1200, &m, &err), APEX_OK);
  cr_assert_eq(m.ops->subscribe(m.impl, "BTC/USDT", "1m", &err), APEX_OK);
  double t0 = mono_s();
  cr_assert_eq(m.ops->next(m.impl, -1, &ev, &err), APEX_OK);
  cr_expect_lt(mono_s() - t0, 0.04, "the first candle comes at once");
  cr_expect_eq(m.ops->next(m.impl, 0, &ev, &err), APEX_ETIMEOUT, "the second is not due yet");
  for (int i = 1; i < 11; i++)
    cr_assert_eq(m.ops->next(m.impl, -1, &ev, &err), APEX_OK);
  double took = mono_s() - t0;
  cr_expect(took >= 0.49 && took < 1.5, "11 candles took %.3f s, expected 0.5", took);
  cr_expect_eq(m.ops->next(m.impl, -1, &ev, &err), APEX_ENOTFOUND);
  apex_market_free(&m);
  apex_series_free(s);
}

Test(market_replay, refuses_bad_arguments)
{
  apex_series *s = series(3);
  apex_market m;
  apex_error err = {0};
  cr_expect_eq(apex_replay_new(s, "BTC/USDT", "1m", -1, &m, &err), APEX_EINVAL);
  cr_expect(strstr(err.msg, "speed"), "%s", err.msg);
  cr_expect_eq(apex_replay_new(s, "BTC/USDT", "1m", NAN, &m, &err), APEX_EINVAL);
  cr_expect_eq(apex_replay_new(s, "BTC/USDT", "7q", 0, &m, &err), APEX_EINVAL);
  cr_expect_eq(apex_replay_new(s, "", "1m", 0, &m, &err), APEX_EINVAL);
  cr_expect_null(m.ops);
  apex_series_free(s);
}
