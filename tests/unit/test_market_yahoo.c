/* market/yahoo_codec.c on chart replies (tests/market/yahoo/, venues README section 5). Expected
 * values are worked out by hand from the files' text: a JSON number's exact value rounded half
 * away from zero to 8 places. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/yahoo_codec.h"
#include "support/files.h"

#define DIR APEX_SOURCE_DIR "/tests/market/yahoo/"

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

/* --- chart --- */

Test(market_yahoo, chart_recorded_reply)
{
  size_t len, skipped = 99;
  char *buf = slurp("chart_aapl.json", &len);
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  cr_assert_eq(apex_yahoo_decode_chart(buf, len, s, &skipped, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(s->n, 1);
  cr_expect_eq(skipped, 0);
  cr_expect_eq(s->time[0], 1577975400000); /* seconds x 1000 */
  /* 74.05999755|859375 rounds up to 74.05999756, and so on. */
  cr_expect_eq(back(s->open[0]), 7405999756);
  cr_expect_eq(back(s->high[0]), 7515000153); /* 75.15000152|58789 */
  cr_expect_eq(back(s->low[0]), 7379750061);  /* 73.79750061|035156 */
  cr_expect_eq(back(s->close[0]), 7508750153); /* 75.08750152|58789 */
  cr_expect_eq(s->volume[0], 135480400.0);
  cr_expect_eq(s->close[0], 75.08750153); /* the checked value is what is stored */
  apex_series_free(s);
  free(buf);
}

Test(market_yahoo, chart_null_rows_skipped)
{
  size_t len, skipped = 99;
  char *buf = slurp("chart_nulls.json", &len);
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  cr_assert_eq(apex_yahoo_decode_chart(buf, len, s, &skipped, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(s->n, 3);
  cr_expect_eq(skipped, 1); /* 1704205860: all null */
  cr_expect_eq(s->time[0], 1704205800000);
  cr_expect_eq(s->time[1], 1704205920000);
  cr_expect_eq(s->time[2], 1704205980000);
  cr_expect_eq(s->open[0], 370.25);
  cr_expect_eq(s->high[0], 370.75);
  cr_expect_eq(s->low[0], 370.0);
  cr_expect_eq(s->close[0], 370.5);
  cr_expect_eq(s->volume[0], 153240.0);
  cr_expect_eq(s->open[1], 370.5);
  cr_expect_eq(s->high[1], 371.0);
  cr_expect_eq(s->low[1], 370.25);
  cr_expect_eq(s->close[1], 370.75);
  cr_expect_eq(s->volume[1], 98112.0);
  cr_expect_eq(s->volume[2], 0.0); /* null volume */
  /* The same page again overlaps what the series holds. */
  cr_expect_eq(apex_yahoo_decode_chart(buf, len, s, &skipped, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "row 0 timestamp: 1704205800 s is not after the previous row's 1704205980000 ms"), "%s",
            e.msg);
  cr_expect_eq(s->n, 3);
  apex_series_free(s);
  free(buf);
}

Test(market_yahoo, chart_each_rule_refused_by_row_and_field)
{
  static const struct {
    const char *file;
    apex_err rc;
    const char *msg;
  } CASES[] = {
      {"chart_partial_null.json", APEX_EPARSE, "yahoo chart row 2 high: expected a number, got null"},
      {"chart_length_mismatch.json", APEX_EPARSE,
       "yahoo chart close: expected an array of 4 (as timestamp), got another length"},
      {"chart_time_not_increasing.json", APEX_EPARSE,
       "yahoo chart row 3 timestamp: 1704205920 s is not after the previous row's 1704205920000 ms"},
      {"chart_high_below_close.json", APEX_EPARSE, "yahoo chart row 2 high: below open or close"},
      {"chart_low_above_open.json", APEX_EPARSE, "yahoo chart row 3 low: above open or close"},
      {"chart_price_string.json", APEX_EPARSE, "yahoo chart row 0 open: expected a number, got \"370.25\""},
      {"chart_zero_price.json", APEX_EPARSE, "yahoo chart row 0 low: not above 0"},
      {"chart_negative_volume.json", APEX_EPARSE, "yahoo chart row 2 volume: negative"},
      {"chart_timestamp_real.json", APEX_EPARSE, "yahoo chart row 1 timestamp: expected an integer, got number"},
      {"chart_no_result.json", APEX_EPARSE, "yahoo chart: chart.result: expected a non-empty array, got null"},
      {"error_too_many.txt", APEX_EPARSE, "yahoo chart: "},
      {"error_not_found.json", APEX_ENOTFOUND,
       "yahoo chart: provider error, Not Found: No data found, symbol may be delisted"},
      {"error_bad_request.json", APEX_EINVAL, "yahoo chart: provider error, Bad Request: Invalid input - interval=7m"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len, skipped = 99;
    char *buf = slurp(CASES[i].file, &len);
    apex_series *s = apex_series_new(0);
    apex_bar first = {.time = 1000, .open = 1, .high = 1, .low = 1, .close = 1};
    cr_assert_eq(apex_series_append(s, &first), APEX_OK);
    apex_error e = {0};
    cr_expect_eq(apex_yahoo_decode_chart(buf, len, s, &skipped, &e), CASES[i].rc, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    cr_expect_eq(s->n, 1, "%s: rows kept on error", CASES[i].file);
    cr_expect_eq(skipped, 0, "%s", CASES[i].file);
    apex_series_free(s);
    free(buf);
  }
}

Test(market_yahoo, chart_edges)
{
  apex_series *s = apex_series_new(0);
  apex_error e = {0};
  /* No timestamp: a range without trading, no rows. */
  const char *empty = "{\"chart\":{\"result\":[{\"meta\":{},\"indicators\":{\"quote\":[{}]}}],\"error\":null}}";
  cr_expect_eq(apex_yahoo_decode_chart(empty, strlen(empty), s, NULL, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(s->n, 0);
  /* A price beyond apex_dec's range (~9.2e10). */
  const char *big = "{\"chart\":{\"result\":[{\"timestamp\":[60],\"indicators\":{\"quote\":[{\"open\":[1e11],"
                    "\"high\":[1e11],\"low\":[1e11],\"close\":[1e11],\"volume\":[1]}]}}]}}";
  cr_expect_eq(apex_yahoo_decode_chart(big, strlen(big), s, NULL, &e), APEX_EOVERFLOW);
  cr_expect(strstr(e.msg, "yahoo chart row 0 open: 1e+11 is out of range"), "%s", e.msg);
  /* A huge volume is fine: it is a double in the series anyway. */
  const char *vol = "{\"chart\":{\"result\":[{\"timestamp\":[60],\"indicators\":{\"quote\":[{\"open\":[2],"
                    "\"high\":[2],\"low\":[2],\"close\":[2],\"volume\":[3e12]}]}}]}}";
  cr_expect_eq(apex_yahoo_decode_chart(vol, strlen(vol), s, NULL, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(s->n, 1);
  cr_expect_eq(s->volume[0], 3e12);
  cr_expect_eq(s->time[0], 60000);
  apex_series_free(s);
}

/* --- meta as a ticker --- */

Test(market_yahoo, quote_from_meta)
{
  size_t len;
  char *buf = slurp("chart_aapl.json", &len);
  apex_ticker t;
  apex_error e = {0};
  cr_assert_eq(apex_yahoo_decode_quote(buf, len, "AAPL/USD", &t, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(t.symbol, "AAPL/USD");
  cr_expect_eq(t.time, 1740085201000);
  cr_expect_eq(t.last, 24583000183); /* 245.83000183|10547 */
  cr_expect_eq(t.bid, 0);
  cr_expect_eq(t.ask, 0);
  cr_expect_eq(t.volume_24h, 0);
  /* previous close 73.41249847|41211 -> 7341249847 units: (24583000183 - 7341249847) x 100 /
   * 7341249847 = 1724175033600 / 7341249847 = 234.8628... */
  cr_expect_float_eq(t.change_24h_pct, 1724175033600.0 / 7341249847.0, 1e-12);
  free(buf);

  buf = slurp("chart_nulls.json", &len);
  cr_assert_eq(apex_yahoo_decode_quote(buf, len, "MSFT/USD", &t, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(t.last, 37050000000);
  cr_expect_float_eq(t.change_24h_pct, -5.5 / 376.0 * 100.0, 1e-12); /* 370.5 against 376.0 */
  free(buf);
}

Test(market_yahoo, quote_bad_replies)
{
  static const struct {
    const char *file;
    apex_err rc;
    const char *msg;
  } CASES[] = {
      {"quote_missing_price.json", APEX_EPARSE, "yahoo quote meta.regularMarketPrice: expected a number, got missing"},
      {"quote_wrong_symbol.json", APEX_EPARSE, "yahoo quote meta.symbol: \"MSFT\", expected \"AAPL\""},
      {"quote_wrong_currency.json", APEX_EPARSE, "yahoo quote meta.currency: \"EUR\", expected \"USD\""},
      {"quote_zero_prev_close.json", APEX_EPARSE, "yahoo quote meta.chartPreviousClose: not above 0"},
      {"error_not_found.json", APEX_ENOTFOUND, "yahoo quote: provider error, Not Found: No data found"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len;
    char *buf = slurp(CASES[i].file, &len);
    apex_ticker t = {.last = 5};
    apex_error e = {0};
    cr_expect_eq(apex_yahoo_decode_quote(buf, len, "AAPL/USD", &t, &e), CASES[i].rc, "%s", CASES[i].file);
    cr_expect(strstr(e.msg, CASES[i].msg), "%s: got \"%s\"", CASES[i].file, e.msg);
    cr_expect_eq(t.last, 0, "%s: zeroed on error", CASES[i].file);
    free(buf);
  }
  apex_ticker t;
  apex_error e = {0};
  cr_expect_eq(apex_yahoo_decode_quote("{}", 2, "AAPL", &t, &e), APEX_EINVAL);
  cr_expect_str_eq(e.msg, "yahoo quote: AAPL is not a BASE/QUOTE symbol");
}

/* --- errors --- */

Test(market_yahoo, error_replies_whatever_the_status)
{
  static const struct {
    const char *file;
    int status;
    apex_err rc;
    const char *msg;
  } CASES[] = {
      {"error_not_found.json", 404, APEX_ENOTFOUND,
       "yahoo: HTTP 404, Not Found: No data found, symbol may be delisted"},
      {"error_not_found.json", 200, APEX_ENOTFOUND,
       "yahoo: HTTP 200, Not Found: No data found, symbol may be delisted"},
      {"error_bad_request.json", 400, APEX_EINVAL,
       "yahoo: HTTP 400, Bad Request: Invalid input - interval=7m is not supported. Valid intervals: [1m, 2m, 5m, "
       "15m, 30m, 60m, 90m, 1h, 1d, 5d, 1wk, 1mo, 3mo]"},
      {"error_too_many.txt", 429, APEX_ERATELIMIT, "yahoo: HTTP 429 (body is not a chart reply)"},
      {"error_too_many.txt", 404, APEX_ENOTFOUND, "yahoo: HTTP 404 (body is not a chart reply)"},
      {"error_too_many.txt", 401, APEX_EINVAL, "yahoo: HTTP 401 (body is not a chart reply)"},
      {"error_too_many.txt", 502, APEX_EIO, "yahoo: HTTP 502 (body is not a chart reply)"},
      {"error_too_many.txt", 200, APEX_EPARSE, "yahoo: HTTP 200 (body is not a chart reply)"},
      {"chart_aapl.json", 500, APEX_EIO, "yahoo: HTTP 500 (no chart.error)"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len;
    char *buf = slurp(CASES[i].file, &len);
    apex_error e = {0};
    cr_expect_eq(apex_yahoo_decode_error(CASES[i].status, buf, len, &e), CASES[i].rc, "%s %d", CASES[i].file,
                 CASES[i].status);
    cr_expect_str_eq(e.msg, CASES[i].msg, "%s %d", CASES[i].file, CASES[i].status);
    free(buf);
  }
  size_t len;
  char *buf = slurp("chart_aapl.json", &len);
  apex_error keep = {.code = APEX_EDATA, .msg = "before"};
  cr_expect_eq(apex_yahoo_decode_error(200, buf, len, &keep), APEX_OK);
  cr_expect_str_eq(keep.msg, "before");
  free(buf);
}
