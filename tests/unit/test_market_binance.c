/* market/binance_codec.c on replies written from the documented formats (tests/market/binance/,
 * venues README section 1). Expected values are worked out by hand from the files' text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/binance_codec.h"
#include "support/files.h"

#define DIR APEX_SOURCE_DIR "/tests/market/binance/"

/* The file's bytes (not NUL-terminated for the decoder: *len excludes the NUL added). */
static char *slurp(const char *name, size_t *len)
{
  char path[512];
  snprintf(path, sizeof path, DIR "%s", name);
  char *buf = apex_test_slurp(path, len);
  cr_assert(buf, "cannot read %s", path);
  return buf;
}

/* The exact decimal a double in a series came from. */
static apex_dec back(double x)
{
  apex_dec d = 0;
  cr_assert_eq(apex_dec_from_double(x, &d), APEX_OK);
  return d;
}

/* --- klines --- */

Test(market_binance, klines_recorded_reply)
{
  size_t len;
  char *buf = slurp("klines.json", &len);
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_klines(buf, len, s, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(s->n, 3);
  cr_expect_eq(s->time[0], 1591478520000);
  cr_expect_eq(s->time[2], 1591478640000);
  /* "0.02501300" is 2501300 units of 1e-8, and so on. */
  cr_expect_eq(back(s->open[0]), 2501300);
  cr_expect_eq(back(s->high[0]), 2501800);
  cr_expect_eq(back(s->low[0]), 2500000);
  cr_expect_eq(back(s->close[0]), 2500000);
  cr_expect_eq(back(s->volume[0]), 2219000000);
  cr_expect_eq(back(s->low[1]), 2499400);
  cr_expect_eq(back(s->volume[2]), 15414200000);
  cr_expect_eq(s->open[1], 0.024996); /* the nearest double to the text, nothing lost on the way */
  apex_series_free(s);
  free(buf);
}

Test(market_binance, klines_doc_example_row)
{
  /* ref 1.4, verbatim values. */
  const char *doc = "[[1499040000000,\"0.01634790\",\"0.80000000\",\"0.01575800\",\"0.01577100\","
                    "\"148976.11427815\",1499644799999,\"2434.19055334\",308,\"1756.87402397\",\"28.46694368\",\"0\"]]";
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_klines(doc, strlen(doc), s, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(s->n, 1);
  cr_expect_eq(s->time[0], 1499040000000);
  cr_expect_eq(back(s->open[0]), 1634790);
  cr_expect_eq(back(s->high[0]), 80000000);
  cr_expect_eq(back(s->low[0]), 1575800);
  cr_expect_eq(back(s->close[0]), 1577100);
  cr_expect_eq(back(s->volume[0]), 14897611427815);
  apex_series_free(s);
}

Test(market_binance, klines_each_rule_refused_by_row_and_field)
{
  static const struct {
    const char *file;
    apex_err rc;
    const char *msg;
  } CASES[] = {
      {"klines_short_row.json", APEX_EPARSE, "row 1: 11 elements, expected 12"},
      {"klines_time_not_increasing.json", APEX_EPARSE,
       "row 2 field 0 (open time): 1591478580000 is not after the previous row's 1591478580000"},
      {"klines_high_below_close.json", APEX_EPARSE, "row 1 field 2 (high): below open or close"},
      {"klines_low_above_open.json", APEX_EPARSE, "row 2 field 3 (low): above open or close"},
      {"klines_zero_price.json", APEX_EPARSE, "row 0 field 4 (close): not above 0"},
      {"klines_negative_volume.json", APEX_EPARSE, "row 1 field 5 (volume): negative"},
      {"klines_price_number.json", APEX_EPARSE, "row 0 field 1 (open): expected a decimal string, got number"},
      {"klines_price_text.json", APEX_EPARSE, "row 2 field 4 (close): \"0.0250O800\" is not a decimal"},
      {"klines_not_array.json", APEX_EPARSE, "binance klines: expected an array, got object"},
      {"error_not_json.html", APEX_EPARSE, "binance klines: line 1"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len;
    char *buf = slurp(CASES[i].file, &len);
    apex_series *s = apex_series_new(0);
    apex_bar first = {.time = 1000, .open = 1, .high = 1, .low = 1, .close = 1};
    cr_assert_eq(apex_series_append(s, &first), APEX_OK);
    apex_error e = {0};
    cr_expect_eq(apex_binance_decode_klines(buf, len, s, &e), CASES[i].rc, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    cr_expect_eq(s->n, 1, "%s: rows kept on error", CASES[i].file);
    apex_series_free(s);
    free(buf);
  }
}

Test(market_binance, klines_pages_must_follow_the_series)
{
  size_t len;
  char *buf = slurp("klines.json", &len);
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_klines(buf, len, s, &e), APEX_OK, "%s", e.msg);
  /* The same page again overlaps what the series holds. */
  cr_expect_eq(apex_binance_decode_klines(buf, len, s, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "row 0 field 0 (open time): 1591478520000 is not after the previous row's 1591478640000"),
            "%s", e.msg);
  cr_expect_eq(s->n, 3);
  apex_series_free(s);
  free(buf);
}

Test(market_binance, klines_range_and_wrong_counts)
{
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  /* A volume beyond the decimals' range decodes (candles keep doubles); a price beyond it does not. */
  const char *huge = "[[1,\"1\",\"1\",\"1\",\"1\",\"123456789012345.5\",2,\"0\",0,\"0\",\"0\",\"0\"]]";
  cr_expect_eq(apex_binance_decode_klines(huge, strlen(huge), s, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(s->n, 1);
  cr_expect_eq(s->volume[0], 123456789012345.5);
  apex_series_slice(s, 0, 0);
  const char *dear = "[[1,\"100000000000\",\"100000000000\",\"1\",\"1\",\"1\",2,\"0\",0,\"0\",\"0\",\"0\"]]";
  cr_expect_eq(apex_binance_decode_klines(dear, strlen(dear), s, &e), APEX_EOVERFLOW);
  cr_expect(strstr(e.msg, "row 0 field 1 (open): \"100000000000\" is out of range"), "%s", e.msg);
  const char *junk = "[[1,\"1\",\"1\",\"1\",\"1\",\"12x\",2,\"0\",0,\"0\",\"0\",\"0\"]]";
  cr_expect_eq(apex_binance_decode_klines(junk, strlen(junk), s, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "row 0 field 5 (volume): \"12x\" is not a decimal"), "%s", e.msg);
  const char *early = "[[5000,\"1\",\"1\",\"1\",\"1\",\"1\",4999,\"0\",0,\"0\",\"0\",\"0\"]]";
  cr_expect_eq(apex_binance_decode_klines(early, strlen(early), s, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "row 0 field 6 (close time): 4999 is before the open time"), "%s", e.msg);
  const char *empty = "[]";
  cr_expect_eq(apex_binance_decode_klines(empty, strlen(empty), s, &e), APEX_OK);
  cr_expect_eq(s->n, 0);
  apex_series_free(s);
}

/* --- exchangeInfo --- */

Test(market_binance, exchange_info_symbols_and_filters)
{
  size_t len, n = 99, skipped = 99;
  char *buf = slurp("exchange_info.json", &len);
  apex_market_symbol out[8];
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_symbols(buf, len, out, 8, &n, &skipped, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 4);
  cr_expect_eq(skipped, 1); /* "币安人生USDT": its base asset has no place in our form */

  cr_expect_str_eq(out[0].symbol, "ETH/BTC");
  cr_expect_str_eq(out[0].venue_symbol, "ETHBTC");
  cr_expect_str_eq(out[0].base, "ETH");
  cr_expect_str_eq(out[0].quote, "BTC");
  cr_expect_eq(out[0].tick_size, 1000);     /* "0.00001000" */
  cr_expect_eq(out[0].lot_step, 10000);     /* "0.00010000" */
  cr_expect_eq(out[0].min_notional, 10000); /* NOTIONAL "0.00010000" */
  cr_expect(out[0].active);

  cr_expect_str_eq(out[1].symbol, "BNB/BTC");
  cr_expect_eq(out[1].tick_size, 100);
  cr_expect_eq(out[1].lot_step, 100000);
  cr_expect_eq(out[1].min_notional, 100000); /* older MIN_NOTIONAL "0.00100000" */
  cr_expect_not(out[1].active);              /* status BREAK */

  cr_expect_str_eq(out[2].symbol, "1000SATS/USDT");
  cr_expect_eq(out[2].min_notional, 100000000); /* NOTIONAL "1.00000000" wins over MIN_NOTIONAL "5.00000000" */
  cr_expect_eq(out[2].tick_size, 0);
  cr_expect_eq(out[2].lot_step, 0);

  cr_expect_str_eq(out[3].symbol, "XYZ/USDT");
  cr_expect_eq(out[3].min_notional, 0);
  cr_expect_not(out[3].active); /* HALT */
  free(buf);
}

Test(market_binance, exchange_info_full_output_and_bad_replies)
{
  size_t len, n;
  char *buf = slurp("exchange_info.json", &len);
  apex_market_symbol out[4];
  apex_error e = {0};
  cr_expect_eq(apex_binance_decode_symbols(buf, len, out, 3, &n, NULL, &e), APEX_ETOOBIG);
  cr_expect_eq(n, 3);
  cr_expect_str_eq(out[2].symbol, "1000SATS/USDT");
  cr_expect_eq(apex_binance_decode_symbols(buf, len, out, 4, &n, NULL, &e), APEX_OK);
  free(buf);

  static const struct {
    const char *file, *msg;
  } CASES[] = {
      {"exchange_info_bad_tick.json", "symbols[1] PRICE_FILTER.tickSize: \"0.000001OO\" is not a decimal"},
      {"exchange_info_missing_quote.json", "symbols[3] quoteAsset: expected a string, got missing"},
      {"exchange_info_no_symbols.json", "symbols: expected an array, got missing"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    buf = slurp(CASES[i].file, &len);
    n = 99;
    cr_expect_eq(apex_binance_decode_symbols(buf, len, out, 4, &n, NULL, &e), APEX_EPARSE, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    cr_expect_eq(n, 0);
    free(buf);
  }
}

/* --- ticker/24hr --- */

Test(market_binance, ticker_24hr)
{
  size_t len;
  char *buf = slurp("ticker_24hr.json", &len);
  apex_ticker t;
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_ticker(buf, len, "BNB/BTC", &t, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(t.symbol, "BNB/BTC");
  cr_expect_eq(t.last, 400000200);         /* "4.00000200" */
  cr_expect_eq(t.bid, 400000000);          /* "4.00000000" */
  cr_expect_eq(t.ask, 400000200);
  cr_expect_eq(t.volume_24h, 891330000000); /* "8913.30000000" */
  cr_expect_eq(t.change_24h_pct, -95.96);
  cr_expect_eq(t.time, 1499869899040);     /* closeTime */

  cr_expect_eq(apex_binance_decode_ticker(buf, len, "BNBBTC", &t, &e), APEX_EINVAL);
  cr_expect_eq(apex_binance_decode_ticker(buf, len, "ETH/BTC", &t, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "symbol is \"BNBBTC\", expected \"ETHBTC\""), "%s", e.msg);
  cr_expect_eq(t.last, 0, "zeroed on error");
  free(buf);

  static const struct {
    const char *file, *msg;
  } CASES[] = {
      {"ticker_24hr_wrong_symbol.json", "symbol is \"ETHBTC\", expected \"BNBBTC\""},
      {"ticker_24hr_missing_last.json", "lastPrice: expected a decimal string, got missing"},
      {"ticker_24hr_time_string.json", "closeTime: expected an integer, got \"1499869899040\""},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    buf = slurp(CASES[i].file, &len);
    cr_expect_eq(apex_binance_decode_ticker(buf, len, "BNB/BTC", &t, &e), APEX_EPARSE, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    free(buf);
  }
}

/* --- depth --- */

Test(market_binance, depth_best_first_cut_to_depth)
{
  size_t len;
  char *buf = slurp("depth.json", &len);
  apex_orderbook *b = malloc(sizeof *b);
  int64_t id = 0;
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_depth(buf, len, "BNB/BTC", 2, b, &id, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(b->symbol, "BNB/BTC");
  cr_expect_eq(id, 1027024);
  cr_expect_eq(b->time, 0);
  cr_assert_eq(b->n_bids, 2);
  cr_assert_eq(b->n_asks, 2);
  cr_expect_eq(b->bids[0].price, 400000000);   /* "4.00000000" */
  cr_expect_eq(b->bids[0].qty, 43100000000);   /* "431.00000000" */
  cr_expect_eq(b->bids[1].price, 399000000);
  cr_expect_eq(b->bids[1].qty, 900000000);
  cr_expect_eq(b->asks[0].price, 400000200);   /* "4.00000200" */
  cr_expect_eq(b->asks[0].qty, 1200000000);
  cr_expect_eq(b->asks[1].price, 400000300);

  cr_assert_eq(apex_binance_decode_depth(buf, len, "BNB/BTC", APEX_BOOK_MAX, b, NULL, &e), APEX_OK);
  cr_expect_eq(b->n_bids, 3);
  cr_expect_eq(b->n_asks, 3);
  cr_expect_eq(b->asks[2].qty, 10000000);      /* "0.10000000" */

  cr_expect_eq(apex_binance_decode_depth(buf, len, "BNB/BTC", 0, b, NULL, &e), APEX_EINVAL);
  cr_expect_eq(apex_binance_decode_depth(buf, len, "BNB/BTC", APEX_BOOK_MAX + 1, b, NULL, &e), APEX_EINVAL);
  cr_expect_eq(apex_binance_decode_depth(buf, len, "bnb/btc", 5, b, NULL, &e), APEX_EINVAL);
  free(buf);

  static const struct {
    const char *file, *msg;
  } CASES[] = {
      {"depth_unsorted_bids.json", "bids[2] price: not below the level before (unsorted book)"},
      {"depth_unsorted_asks.json", "asks[1] price: not above the level before (unsorted book)"},
      {"depth_crossed.json", "best bid is not below best ask (crossed book)"},
      {"depth_bad_level.json", "asks[0]: expected [price, qty]"},
      {"depth_zero_qty.json", "bids[1] qty: not above 0"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    buf = slurp(CASES[i].file, &len);
    /* depth 1: the bad level lies beyond what is kept, and is refused all the same. */
    cr_expect_eq(apex_binance_decode_depth(buf, len, "BNB/BTC", 1, b, NULL, &e), APEX_EPARSE, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    cr_expect_eq(b->n_bids, 0);
    free(buf);
  }
  free(b);
}

/* --- errors --- */

Test(market_binance, http_status_mapping)
{
  static const struct {
    int status;
    apex_err rc;
  } CASES[] = {{200, APEX_OK},        {204, APEX_OK},        {301, APEX_EIO},        {400, APEX_EINVAL},
               {401, APEX_EINVAL},    {403, APEX_EINVAL},    {404, APEX_ENOTFOUND},  {418, APEX_ERATELIMIT},
               {429, APEX_ERATELIMIT}, {500, APEX_EIO},      {503, APEX_EIO},        {0, APEX_EIO}};
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++)
    cr_expect_eq(apex_binance_http_status(CASES[i].status), CASES[i].rc, "%d", CASES[i].status);
}

Test(market_binance, error_bodies)
{
  size_t len;
  apex_error e = {0};
  char *buf = slurp("error_invalid_symbol.json", &len);
  cr_expect_eq(apex_binance_decode_error(400, buf, len, 0, &e), APEX_ENOTFOUND);
  cr_expect_str_eq(e.msg, "binance: HTTP 400, code -1121: Invalid symbol.");
  cr_expect_eq(e.code, APEX_ENOTFOUND);
  /* A 5xx stays EIO: the outcome is unknown there (ref 1.2). */
  cr_expect_eq(apex_binance_decode_error(503, buf, len, 0, &e), APEX_EIO);
  /* 2xx is not an error: err untouched. */
  apex_error keep = {.code = APEX_EDATA, .msg = "before"};
  cr_expect_eq(apex_binance_decode_error(200, buf, len, 0, &keep), APEX_OK);
  cr_expect_str_eq(keep.msg, "before");
  free(buf);

  buf = slurp("error_rate_limit.json", &len);
  cr_expect_eq(apex_binance_decode_error(429, buf, len, 30, &e), APEX_ERATELIMIT);
  cr_expect(strstr(e.msg, "binance: HTTP 429, code -1003: Too much request weight used;"), "%s", e.msg);
  cr_expect(strstr(e.msg, ", retry after 30 s"), "%s", e.msg);
  /* -1003 under a plain 400 is still a rate limit. */
  cr_expect_eq(apex_binance_decode_error(400, buf, len, 0, &e), APEX_ERATELIMIT);
  cr_expect_null(strstr(e.msg, "retry after"), "%s", e.msg);
  free(buf);

  buf = slurp("error_not_json.html", &len);
  cr_expect_eq(apex_binance_decode_error(502, buf, len, 0, &e), APEX_EIO);
  cr_expect_str_eq(e.msg, "binance: HTTP 502 (body is not a Binance error)");
  cr_expect_eq(apex_binance_decode_error(418, buf, len, 0, &e), APEX_ERATELIMIT);
  cr_expect_str_eq(e.msg, "binance: HTTP 418 (body is not a Binance error), no Retry-After given");
  cr_expect_eq(apex_binance_decode_error(418, NULL, 0, 120, &e), APEX_ERATELIMIT);
  cr_expect_str_eq(e.msg, "binance: HTTP 418 (body is not a Binance error), retry after 120 s");
  free(buf);
}
