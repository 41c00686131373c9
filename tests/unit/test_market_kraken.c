/* market/kraken_codec.c on replies from the documented formats (tests/market/kraken/, venues
 * README section 2). Expected values are worked out by hand from the files' text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/kraken_codec.h"
#include "support/files.h"

#define DIR APEX_SOURCE_DIR "/tests/market/kraken/"

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

/* --- OHLC --- */

Test(market_kraken, ohlc_official_example)
{
  size_t len;
  char *buf = slurp("ohlc.json", &len);
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  int64_t last = -1;
  cr_assert_eq(apex_kraken_decode_ohlc(buf, len, s, &last, &e), APEX_OK, "%s", e.msg);
  /* 4 rows; the 4th (1688671380) is the interval still open and is not stored. */
  cr_assert_eq(s->n, 3);
  cr_expect_eq(last, 1688672160);
  cr_expect_eq(s->time[0], 1688671200000); /* seconds x 1000 */
  cr_expect_eq(s->time[1], 1688671260000);
  cr_expect_eq(s->time[2], 1688671320000);
  /* "30306.1" is 3030610000000 units of 1e-8, and so on. */
  cr_expect_eq(back(s->open[0]), 3030610000000);
  cr_expect_eq(back(s->high[0]), 3030620000000);
  cr_expect_eq(back(s->low[0]), 3030570000000);
  cr_expect_eq(back(s->close[0]), 3030570000000);
  cr_expect_eq(back(s->volume[0]), 339243896);
  cr_expect_eq(back(s->open[1]), 3030450000000);
  cr_expect_eq(back(s->low[1]), 3030000000000);
  cr_expect_eq(back(s->volume[1]), 442996871);
  cr_expect_eq(back(s->high[2]), 3030040000000);
  cr_expect_eq(back(s->close[2]), 3029140000000);
  cr_expect_eq(back(s->volume[2]), 213024789);
  cr_expect_eq(s->open[2], 30300.3); /* the nearest double to the text */
  apex_series_free(s);
  free(buf);
}

Test(market_kraken, ohlc_each_rule_refused_by_row_and_field)
{
  static const struct {
    const char *file;
    apex_err rc;
    const char *msg;
  } CASES[] = {
      {"ohlc_short_row.json", APEX_EPARSE, "kraken OHLC row 1: 7 elements, expected 8"},
      {"ohlc_time_not_increasing.json", APEX_EPARSE,
       "row 2 field 0 (time): 1688671260 s is not after the previous row's 1688671260000 ms"},
      {"ohlc_time_string.json", APEX_EPARSE, "row 0 field 0 (time): expected an integer, got \"1688671200\""},
      {"ohlc_price_number.json", APEX_EPARSE, "row 1 field 1 (open): expected a decimal string, got number"},
      {"ohlc_zero_price.json", APEX_EPARSE, "row 2 field 3 (low): not above 0"},
      /* the open interval is checked though not stored */
      {"ohlc_high_below_close.json", APEX_EPARSE, "row 3 field 2 (high): below open or close"},
      {"ohlc_low_above_open.json", APEX_EPARSE, "row 0 field 3 (low): above open or close"},
      {"ohlc_negative_volume.json", APEX_EPARSE, "row 2 field 6 (volume): negative"},
      {"ohlc_negative_count.json", APEX_EPARSE, "row 1 field 7 (count): -18 is negative"},
      {"ohlc_no_last.json", APEX_EPARSE, "kraken OHLC last: expected an integer, got missing"},
      {"ohlc_two_pairs.json", APEX_EPARSE, "kraken OHLC: result has 2 pairs, expected 1"},
      {"ohlc_error_not_array.json", APEX_EPARSE, "kraken OHLC: error: expected an array, got string"},
      {"error_not_json.html", APEX_EPARSE, "kraken OHLC: "},
      {"error_unknown_pair.json", APEX_ENOTFOUND, "kraken OHLC: venue error, EQuery:Unknown asset pair"},
      {"error_rate_limit.json", APEX_ERATELIMIT, "kraken OHLC: venue error, EAPI:Rate limit exceeded"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len;
    char *buf = slurp(CASES[i].file, &len);
    apex_series *s = apex_series_new(0);
    apex_bar first = {.time = 1000, .open = 1, .high = 1, .low = 1, .close = 1};
    cr_assert_eq(apex_series_append(s, &first), APEX_OK);
    apex_error e = {0};
    int64_t last = 7;
    cr_expect_eq(apex_kraken_decode_ohlc(buf, len, s, &last, &e), CASES[i].rc, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    cr_expect_eq(s->n, 1, "%s: rows kept on error", CASES[i].file);
    cr_expect_eq(last, 7, "%s: last untouched on error", CASES[i].file);
    apex_series_free(s);
    free(buf);
  }
}

Test(market_kraken, ohlc_pages_must_follow_the_series)
{
  size_t len;
  char *buf = slurp("ohlc.json", &len);
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_ohlc(buf, len, s, NULL, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(apex_kraken_decode_ohlc(buf, len, s, NULL, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "row 0 field 0 (time): 1688671200 s is not after the previous row's 1688671320000 ms"),
            "%s", e.msg);
  cr_expect_eq(s->n, 3);
  apex_series_free(s);
  free(buf);
}

Test(market_kraken, ohlc_only_the_open_row_or_none)
{
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  int64_t last = 0;
  const char *one = "{\"error\":[],\"result\":{\"XXBTZUSD\":[[60,\"1\",\"2\",\"0.5\",\"1.5\",\"1.2\",\"10\",3]],"
                    "\"last\":0}}";
  cr_expect_eq(apex_kraken_decode_ohlc(one, strlen(one), s, &last, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(s->n, 0);
  const char *none = "{\"error\":[],\"result\":{\"XXBTZUSD\":[],\"last\":42}}";
  cr_expect_eq(apex_kraken_decode_ohlc(none, strlen(none), s, &last, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(last, 42);
  /* A volume beyond apex_dec's range still decodes: it becomes a double anyway. */
  const char *huge = "{\"error\":[],\"result\":{\"SHIBUSD\":[[60,\"1\",\"2\",\"0.5\",\"1.5\",\"1.2\",\"200000000000\",3],"
                     "[120,\"1\",\"1\",\"1\",\"1\",\"0\",\"0\",0]],\"last\":60}}";
  cr_expect_eq(apex_kraken_decode_ohlc(huge, strlen(huge), s, &last, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(s->n, 1);
  cr_expect_eq(s->volume[0], 2e11);
  cr_expect_eq(s->time[0], 60000);
  /* A time whose ms do not fit an int64. */
  const char *far = "{\"error\":[],\"result\":{\"X\":[[9223372036854776,\"1\",\"1\",\"1\",\"1\",\"1\",\"1\",1]],"
                    "\"last\":0}}";
  cr_expect_eq(apex_kraken_decode_ohlc(far, strlen(far), s, &last, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "row 0 field 0 (time): 9223372036854776 is out of range"), "%s", e.msg);
  apex_series_free(s);
}

/* --- Ticker --- */

Test(market_kraken, ticker_official_example)
{
  size_t len;
  char *buf = slurp("ticker.json", &len);
  apex_ticker t;
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_ticker(buf, len, "BTC/USD", &t, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(t.symbol, "BTC/USD");
  cr_expect_eq(t.time, 0);
  cr_expect_eq(t.last, 3030320000000);       /* c[0] "30303.20000" */
  cr_expect_eq(t.bid, 3030000000000);        /* b[0] "30300.00000" */
  cr_expect_eq(t.ask, 3030010000000);        /* a[0] "30300.10000" */
  cr_expect_eq(t.volume_24h, 441273601799);  /* v[1] "4412.73601799", not today's v[0] */
  /* (30303.2 - 30502.8) / 30502.8 x 100 = -199.6 / 30502.8 x 100 = -0.654366...; the code
   * divides the exact units, -19960000000 x 100 / 3050280000000. */
  cr_expect_float_eq(t.change_24h_pct, -19960.0 / 30502.8, 1e-12);
  free(buf);
}

Test(market_kraken, ticker_bad_replies)
{
  static const struct {
    const char *file;
    apex_err rc;
    const char *msg;
  } CASES[] = {
      {"ticker_missing_last.json", APEX_EPARSE,
       "kraken Ticker c[0]: c is missing, expected an array of at least 1"},
      {"ticker_open_zero.json", APEX_EPARSE, "kraken Ticker o: not above 0"},
      {"ticker_bid_negative.json", APEX_EPARSE, "kraken Ticker b[0]: negative"},
      {"ticker_volume_short.json", APEX_EPARSE, "kraken Ticker v[1]: v is too short, expected an array of at least 2"},
      {"ticker_price_number.json", APEX_EPARSE, "kraken Ticker a[0]: expected a decimal string, got number"},
      {"ohlc.json", APEX_EPARSE, "kraken Ticker: result has 2 pairs, expected 1"},
      {"error_unknown_pair.json", APEX_ENOTFOUND, "kraken Ticker: venue error, EQuery:Unknown asset pair"},
      {"error_unavailable.json", APEX_EIO, "kraken Ticker: venue error, EService:Unavailable"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len;
    char *buf = slurp(CASES[i].file, &len);
    apex_ticker t = {.last = 5};
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_ticker(buf, len, "BTC/USD", &t, &e), CASES[i].rc, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    cr_expect_eq(t.last, 0, "%s: zeroed on error", CASES[i].file);
    free(buf);
  }
  apex_ticker t;
  apex_error e = {0};
  cr_expect_eq(apex_kraken_decode_ticker("{}", 2, "BTCUSD", &t, &e), APEX_EINVAL);
  cr_expect_str_eq(e.msg, "kraken Ticker: BTCUSD is not a BASE/QUOTE symbol");
}

/* --- AssetPairs --- */

Test(market_kraken, asset_pairs_names_and_steps)
{
  size_t len, n = 99, skipped = 99;
  char *buf = slurp("asset_pairs.json", &len);
  apex_market_symbol out[8];
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_pairs(buf, len, out, 8, &n, &skipped, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 3);
  cr_expect_eq(skipped, 2); /* XXBTZUSD.d (no wsname), SHIBUSD (10 price decimals) */

  cr_expect_str_eq(out[0].symbol, "BTC/USD"); /* wsname "XBT/USD", XBT is BTC */
  cr_expect_str_eq(out[0].venue_symbol, "XXBTZUSD");
  cr_expect_str_eq(out[0].base, "BTC");
  cr_expect_str_eq(out[0].quote, "USD");
  cr_expect_eq(out[0].tick_size, 10000000);   /* tick_size "0.1" */
  cr_expect_eq(out[0].lot_step, 1);           /* lot_decimals 8: 1e-8 */
  cr_expect_eq(out[0].min_notional, 50000000); /* costmin "0.5" */
  cr_expect(out[0].active);

  cr_expect_str_eq(out[1].symbol, "DOGE/USD"); /* wsname "XDG/USD" */
  cr_expect_str_eq(out[1].venue_symbol, "XDGUSD");
  cr_expect_eq(out[1].tick_size, 10); /* "0.0000001" */
  cr_expect_eq(out[1].lot_step, 1);
  cr_expect(out[1].active);

  cr_expect_str_eq(out[2].symbol, "ETH/EUR");
  cr_expect_str_eq(out[2].venue_symbol, "XETHZEUR");
  cr_expect_eq(out[2].tick_size, 1000000); /* no tick_size: pair_decimals 2, 0.01 */
  cr_expect_eq(out[2].lot_step, 1);
  cr_expect_eq(out[2].min_notional, 0); /* no costmin */
  cr_expect_not(out[2].active);         /* status "cancel_only" */
  free(buf);
}

Test(market_kraken, asset_pairs_full_output_and_bad_replies)
{
  size_t len, n, skipped;
  apex_market_symbol out[2];
  apex_error e = {0};
  char *buf = slurp("asset_pairs.json", &len);
  cr_expect_eq(apex_kraken_decode_pairs(buf, len, out, 2, &n, &skipped, &e), APEX_ETOOBIG);
  cr_expect_eq(n, 2);
  cr_expect_str_eq(out[1].symbol, "DOGE/USD");
  cr_expect_str_eq(e.msg, "kraken AssetPairs: more than 2 pairs");
  free(buf);

  static const struct {
    const char *file, *msg;
    apex_err rc;
  } CASES[] = {
      {"asset_pairs_decimals_string.json", "kraken AssetPairs XETHZEUR lot_decimals: expected an integer, got \"8\"",
       APEX_EPARSE},
      {"asset_pairs_costmin_number.json", "kraken AssetPairs XDGUSD costmin: expected a decimal string, got number",
       APEX_EPARSE},
      {"asset_pairs_negative_ordermin.json", "kraken AssetPairs XDGUSD ordermin: negative", APEX_EPARSE},
      {"asset_pairs_result_array.json", "kraken AssetPairs: result: expected an object, got array", APEX_EPARSE},
      {"error_busy.json", "kraken AssetPairs: venue error, EService:Busy", APEX_EIO},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_market_symbol many[8];
    buf = slurp(CASES[i].file, &len);
    n = 99;
    cr_expect_eq(apex_kraken_decode_pairs(buf, len, many, 8, &n, NULL, &e), CASES[i].rc, "%s", CASES[i].file);
    cr_expect_str_eq(e.msg, CASES[i].msg, "%s", CASES[i].file);
    cr_expect_eq(n, 0, "%s", CASES[i].file);
    free(buf);
  }
}

Test(market_kraken, common_asset_names)
{
  cr_expect_str_eq(apex_kraken_common_asset("XBT"), "BTC");
  cr_expect_str_eq(apex_kraken_common_asset("XDG"), "DOGE");
  cr_expect_str_eq(apex_kraken_common_asset("ETH"), "ETH");
  cr_expect_str_eq(apex_kraken_common_asset("XXBT"), "XXBT"); /* ids are not wsnames */
}

/* --- Depth --- */

Test(market_kraken, depth_best_levels_first)
{
  size_t len;
  char *buf = slurp("depth.json", &len);
  apex_orderbook *book = malloc(sizeof *book);
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_depth(buf, len, "BTC/USD", 2, book, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(book->symbol, "BTC/USD");
  cr_assert_eq(book->n_bids, 2);
  cr_assert_eq(book->n_asks, 2);
  /* "30297.00000" is 3029700000000 units of 1e-8; "1.115" 111500000. */
  cr_expect_eq(book->bids[0].price, 3029700000000);
  cr_expect_eq(book->bids[0].qty, 111500000);
  cr_expect_eq(book->bids[1].price, 3029670000000);
  cr_expect_eq(book->bids[1].qty, 200200000);
  cr_expect_eq(book->asks[0].price, 3038410000000);
  cr_expect_eq(book->asks[0].qty, 205900000);
  cr_expect_eq(book->asks[1].price, 3038790000000);
  /* The newest level of the whole reply: bids[1] at 1688671674 s. */
  cr_expect_eq(book->time, 1688671674000);
  cr_assert_eq(apex_kraken_decode_depth(buf, len, "BTC/USD", 100, book, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(book->n_bids, 3);
  cr_expect_eq(book->n_asks, 3);
  cr_expect_eq(apex_kraken_decode_depth(buf, len, "BTC/USD", 0, book, &e), APEX_EINVAL);
  cr_expect_eq(apex_kraken_decode_depth(buf, len, "BTCUSD", 2, book, &e), APEX_EINVAL);
  free(book);
  free(buf);
}

Test(market_kraken, depth_each_rule_refused_by_side_and_index)
{
  static const struct {
    const char *file;
    apex_err rc;
    const char *msg;
  } CASES[] = {
      /* index 2 of each side is checked though only one level is kept */
      {"depth_unsorted_bids.json", APEX_EPARSE, "kraken Depth bids[1] price: not below the level before"},
      {"depth_crossed.json", APEX_EPARSE, "best bid is not below best ask (crossed book)"},
      {"depth_short_row.json", APEX_EPARSE, "kraken Depth asks[1]: expected [price, volume, timestamp]"},
      {"depth_zero_volume.json", APEX_EPARSE, "kraken Depth bids[1] volume: not above 0"},
      {"depth_time_string.json", APEX_EPARSE, "kraken Depth asks[0] timestamp: expected an integer"},
      {"ticker.json", APEX_EPARSE, "kraken Depth bids: expected an array, got missing"},
      {"ohlc_two_pairs.json", APEX_EPARSE, "kraken Depth: result has 3 pairs, expected 1"}, /* "last" counts */
      {"error_unknown_pair.json", APEX_ENOTFOUND, "kraken Depth: venue error, EQuery:Unknown asset pair"},
      {"error_not_json.html", APEX_EPARSE, "kraken Depth: "},
  };
  apex_orderbook *book = malloc(sizeof *book);
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len;
    char *buf = slurp(CASES[i].file, &len);
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_depth(buf, len, "BTC/USD", 1, book, &e), CASES[i].rc, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    cr_expect_eq(book->n_bids + book->n_asks, 0, "%s: zeroed on error", CASES[i].file);
    cr_expect_eq(book->symbol[0], '\0');
    free(buf);
  }
  free(book);
}

/* --- errors --- */

Test(market_kraken, error_arrays_whatever_the_status)
{
  static const struct {
    const char *file;
    int status;
    apex_err rc;
    const char *msg;
  } CASES[] = {
      {"error_unknown_pair.json", 200, APEX_ENOTFOUND, "kraken: HTTP 200, EQuery:Unknown asset pair"},
      {"error_unknown_pair.json", 400, APEX_ENOTFOUND, "kraken: HTTP 400, EQuery:Unknown asset pair"},
      {"error_rate_limit.json", 200, APEX_ERATELIMIT, "kraken: HTTP 200, EAPI:Rate limit exceeded"},
      {"error_rate_limit.json", 429, APEX_ERATELIMIT, "kraken: HTTP 429, EAPI:Rate limit exceeded"},
      {"error_unavailable.json", 503, APEX_EIO, "kraken: HTTP 503, EService:Unavailable"},
      {"error_busy.json", 200, APEX_EIO, "kraken: HTTP 200, EService:Busy"},
      {"error_invalid_arguments.json", 200, APEX_EINVAL, "kraken: HTTP 200, EGeneral:Invalid arguments"},
      {"error_not_json.html", 502, APEX_EIO, "kraken: HTTP 502 (body is not a Kraken reply)"},
      {"error_not_json.html", 429, APEX_ERATELIMIT, "kraken: HTTP 429 (body is not a Kraken reply)"},
      {"error_not_json.html", 404, APEX_ENOTFOUND, "kraken: HTTP 404 (body is not a Kraken reply)"},
      {"error_not_json.html", 403, APEX_EINVAL, "kraken: HTTP 403 (body is not a Kraken reply)"},
      {"error_not_json.html", 200, APEX_EPARSE, "kraken: HTTP 200 (body is not a Kraken reply)"},
      {"ohlc.json", 500, APEX_EIO, "kraken: HTTP 500 (empty error array)"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len;
    char *buf = slurp(CASES[i].file, &len);
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_error(CASES[i].status, buf, len, &e), CASES[i].rc, "%s %d", CASES[i].file,
                 CASES[i].status);
    cr_expect_str_eq(e.msg, CASES[i].msg, "%s %d", CASES[i].file, CASES[i].status);
    cr_expect_eq(e.code, CASES[i].rc);
    free(buf);
  }
  /* An empty error array with a 2xx status is no error: err untouched. */
  size_t len;
  char *buf = slurp("ohlc.json", &len);
  apex_error keep = {.code = APEX_EDATA, .msg = "before"};
  cr_expect_eq(apex_kraken_decode_error(200, buf, len, &keep), APEX_OK);
  cr_expect_str_eq(keep.msg, "before");
  free(buf);
  apex_error e = {0};
  const char *odd = "{\"error\":[42]}";
  cr_expect_eq(apex_kraken_decode_error(200, odd, strlen(odd), &e), APEX_EINVAL);
  cr_expect_str_eq(e.msg, "kraken: HTTP 200, error[0] is integer");
  const char *detail = "{\"error\":[\"EQuery:Unknown asset pair:FOO\"]}";
  cr_expect_eq(apex_kraken_decode_error(200, detail, strlen(detail), &e), APEX_ENOTFOUND);
}
