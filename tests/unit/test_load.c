/* test_load.c - candle loading: every shipped sample file, format detection, time formats,
 * each validation message (file:line: field), lenient counts, Binance ms/us, JSON, gzip. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeframe.h"
#include "io/gzip.h"
#include "io/load.h"

#define D(y, m, d) (apex_days_from_civil(y, m, d) * APEX_MS_DAY)

static apex_series *load_str(const char *name, const char *text, bool lenient, apex_load_report *rep, apex_error *e)
{
  apex_load_opts o = {.lenient = lenient};
  apex_series *s = NULL;
  memset(e, 0, sizeof *e);
  apex_err rc = apex_load_candles_mem(name, text, strlen(text), &o, &s, rep, e);
  if (rc)
    cr_assert_null(s);
  return s;
}

static void expect_error(const char *name, const char *text, const char *want)
{
  apex_error e;
  apex_load_report rep;
  apex_series *s = load_str(name, text, false, &rep, &e);
  cr_expect_null(s, "%s should fail", want);
  cr_expect_str_eq(e.msg, want);
  apex_series_free(s);
}

Test(load, every_backtrader_candle_file)
{
  static const struct { const char *file; size_t rows; const char *tf; } FILES[] = {
      {"2005-2006-day-001.txt", 512, "1d"}, {"2006-01-02-volume-min-001.txt", 30889, "1m"},
      {"2006-day-001-optix.txt", 255, "1d"}, {"2006-day-001.txt", 255, "1d"}, {"2006-day-002.txt", 129, "2d"},
      {"2006-min-005.txt", 2142, "5m"}, {"2006-month-001.txt", 12, "1M"}, {"2006-volume-day-001.txt", 255, "1d"},
      {"2006-week-001.txt", 52, "1w"}, {"2006-week-002.txt", 26, "2w"}, {"nvda-1999-2014.txt", 4012, "1d"},
      {"nvda-2014.txt", 252, "1d"}, {"orcl-1995-2014.txt", 5036, "1d"}, {"orcl-2003-2005.txt", 756, "1d"},
      {"orcl-2014.txt", 252, "1d"}, {"yhoo-1996-2014.txt", 4713, "1d"}, {"yhoo-1996-2015.txt", 4965, "1d"},
      {"yhoo-2003-2005.txt", 756, "1d"}, {"yhoo-2014.txt", 252, "1d"}};
  for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/data/backtrader/%s", APEX_SHARED_DIR, FILES[i].file);
    apex_series *s = NULL;
    apex_load_report rep;
    apex_error e = {0};
    cr_assert_eq(apex_load_candles(path, NULL, &s, &rep, &e), APEX_OK, "%s: %s", FILES[i].file, e.msg);
    cr_expect_eq(s->n, FILES[i].rows, "%s rows", FILES[i].file);
    cr_expect_eq(rep.rows, FILES[i].rows);
    cr_expect_str_eq(rep.format, "csv");
    apex_timeframe tf;
    int64_t step;
    char buf[8];
    apex_timeframe_detect(s->time, s->n, &tf, &step);
    apex_timeframe_str(tf, buf, sizeof buf);
    cr_expect_str_eq(buf, FILES[i].tf, "%s timeframe", FILES[i].file);
    apex_series_free(s);
  }
}

Test(load, backtrader_details)
{
  apex_series *s = NULL;
  apex_load_report rep;
  apex_error e;
  /* Date and Time columns: 2006-01-02,09:05:00,3578.73,3587.88,3578.73,3582.99,0,0 */
  cr_assert_eq(apex_load_candles(APEX_SHARED_DIR "/data/backtrader/2006-min-005.txt", NULL, &s, &rep, &e), APEX_OK);
  cr_expect_eq(s->time[0], D(2006, 1, 2) + 9 * APEX_MS_HOUR + 5 * APEX_MS_MINUTE);
  cr_expect_eq(s->high[0], 3587.88);
  cr_expect_eq(rep.timefmt, APEX_TIMEFMT_DATETIME);
  apex_series_free(s);
  /* 7 header names, 8 fields (date,time), CRLF: 2006-01-02,09:01:00,3602.00,3603.00,3597.00,3599.00,5699,0 */
  cr_assert_eq(apex_load_candles(APEX_SHARED_DIR "/data/backtrader/2006-01-02-volume-min-001.txt", NULL, &s, &rep, &e),
               APEX_OK);
  cr_expect_eq(s->time[0], D(2006, 1, 2) + 9 * APEX_MS_HOUR + APEX_MS_MINUTE);
  cr_expect_eq(s->open[0], 3602.0);
  cr_expect_eq(s->close[0], 3599.0);
  cr_expect_eq(s->volume[0], 5699.0);
  apex_series_free(s);
  /* Adj Close is ignored: 1995-01-03,2.179012,2.191358,2.117284,2.117284,1.883304,36301200 */
  cr_assert_eq(apex_load_candles(APEX_SHARED_DIR "/data/backtrader/orcl-1995-2014.txt", NULL, &s, &rep, &e), APEX_OK);
  cr_expect_eq(s->close[0], 2.117284);
  cr_expect_eq(s->volume[0], 36301200.0);
  cr_expect_eq(rep.timefmt, APEX_TIMEFMT_DATE);
  apex_series_free(s);
}

Test(load, ticksample_needs_lenient)
{
  apex_series *s = NULL;
  apex_load_report rep;
  apex_error e = {0};
  const char *path = APEX_SHARED_DIR "/data/backtrader/ticksample.csv";
  cr_expect_eq(apex_load_candles(path, NULL, &s, &rep, &e), APEX_EDATA);
  cr_expect(strstr(e.msg, "ticksample.csv:24: time: duplicate timestamp 2015-09-23T20:58:22.316"), "%s", e.msg);
  apex_load_opts o = {.lenient = true};
  cr_assert_eq(apex_load_candles(path, &o, &s, &rep, &e), APEX_OK);
  cr_expect_eq(s->n, 134);
  cr_expect_eq(rep.dropped, 1);
  cr_expect(rep.time_has_t && rep.time_has_ms && !rep.time_has_z);
  char buf[64];
  apex_format_time(s->time[0], &rep, buf, sizeof buf);
  cr_expect_str_eq(buf, "2015-09-23T20:57:42.146");
  apex_series_free(s);
}

Test(load, quote_files_are_refused)
{
  apex_series *s = NULL;
  apex_error e = {0};
  cr_expect_eq(apex_load_candles(APEX_SHARED_DIR "/data/backtrader/bidask.csv", NULL, &s, NULL, &e), APEX_EDATA);
  cr_expect(strstr(e.msg, "bidask.csv:1: header has no 'open' column"), "%s", e.msg);
  cr_expect_eq(apex_load_candles(APEX_SHARED_DIR "/data/backtrader/bidask2.csv", NULL, &s, NULL, &e), APEX_EDATA);
  cr_expect(strstr(e.msg, "bidask2.csv:1: header has no 'open' column"), "%s", e.msg);
}

Test(load, freqtrade_files)
{
  static const struct { const char *file; size_t rows; bool gz; } FILES[] = {
      {"UNITTEST_BTC-1m.json", 13681, false}, {"UNITTEST_BTC-8m.json.gz", 13681, true},
      {"XRP_USDT_USDT-1h-futures.json.gz", 100, true}};
  for (size_t i = 0; i < 3; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/data/freqtrade/%s", APEX_SHARED_DIR, FILES[i].file);
    apex_series *s = NULL;
    apex_load_report rep;
    apex_error e = {0};
    cr_assert_eq(apex_load_candles(path, NULL, &s, &rep, &e), APEX_OK, "%s: %s", FILES[i].file, e.msg);
    cr_expect_eq(s->n, FILES[i].rows);
    cr_expect_str_eq(rep.format, "json");
    cr_expect_eq(rep.gzip, FILES[i].gz);
    cr_expect_eq(rep.timefmt, APEX_TIMEFMT_EPOCH_MS);
    if (i == 0) { /* [1509836520000, 0.00162008, 0.00162008, 0.00162008, 0.00162008, 108.14853839] */
      cr_expect_eq(s->time[0], INT64_C(1509836520000));
      cr_expect_eq(s->open[0], 0.00162008);
      cr_expect_eq(s->volume[0], 108.14853839);
      char buf[32];
      apex_format_time(s->time[0], &rep, buf, sizeof buf);
      cr_expect_str_eq(buf, "1509836520000");
    }
    apex_series_free(s);
  }
}

Test(load, header_csv_variants)
{
  apex_load_report rep;
  apex_error e;
  /* any order, any case, extra columns, quotes, semicolons, blank lines, BOM */
  apex_series *s = load_str("a.csv",
                            "\xEF\xBB\xBF\"Volume\";\"CLOSE\";x;Low;High;Open;Timestamp\r\n"
                            "5;1.5;q;0.5;2;1;2024-01-01T00:00:00Z\r\n\r\n"
                            "6;2.5;q;1;3;1.5;2024-01-01T02:00:00+01:00\r\n",
                            false, &rep, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_expect_eq(s->n, 2);
  cr_expect_eq(s->time[0], D(2024, 1, 1));
  cr_expect_eq(s->time[1], D(2024, 1, 1) + APEX_MS_HOUR, "+01:00 is subtracted");
  cr_expect_eq(s->volume[1], 6);
  cr_expect(rep.time_has_t && rep.time_has_z);
  apex_series_free(s);

  s = load_str("b.csv", "date,open,high,low,close,volume\n2024-01-01 09:30:00,1,2,0.5,1.5,5\n2024-01-01 09:31:00.250,1,2,0.5,1.5,5\n",
               false, &rep, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_expect_eq(s->time[1], D(2024, 1, 1) + (9 * 60 + 31) * APEX_MS_MINUTE + 250);
  cr_expect(!rep.time_has_t && rep.time_has_ms);
  char buf[64];
  apex_format_time(s->time[0], &rep, buf, sizeof buf);
  cr_expect_str_eq(buf, "2024-01-01 09:30:00.000");
  apex_series_free(s);

  /* epoch seconds and milliseconds by magnitude */
  s = load_str("c.csv", "time,open,high,low,close,volume\n1704067200,1,2,0.5,1.5,5\n", false, &rep, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_expect_eq(s->time[0], D(2024, 1, 1));
  cr_expect_eq(rep.timefmt, APEX_TIMEFMT_EPOCH_S);
  apex_format_time(s->time[0], &rep, buf, sizeof buf);
  cr_expect_str_eq(buf, "1704067200");
  apex_series_free(s);
  s = load_str("c.csv", "timestamp,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,5\n", false, &rep, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_expect_eq(s->time[0], D(2024, 1, 1));
  cr_expect_eq(rep.timefmt, APEX_TIMEFMT_EPOCH_MS);
  apex_series_free(s);
}

Test(load, the_duplicate_made_by_an_offset_is_caught)
{
  expect_error("a.csv", "timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,5\n"
                        "2024-01-01T01:00:00+01:00,1,2,0.5,1.5,5\n",
               "a.csv:3: time: duplicate timestamp 2024-01-01T00:00:00Z (line 2 has the same)");
}

#define HDR "date,open,high,low,close,volume\n"
#define OK1 "2024-01-01,10,11,9,10.5,100\n"

Test(load, validation_messages)
{
  expect_error("orcl.csv", HDR OK1 "2024-01-02,10.2,9.5,9,10,1\n", "orcl.csv:3: high: 9.5 is below max(open, close) 10.2");
  expect_error("x.csv", HDR OK1 "2024-01-02,10.2,11,10.3,10.4,1\n", "x.csv:3: low: 10.3 is above min(open, close) 10.2");
  expect_error("x.csv", HDR OK1 "2024-01-02,10,11,9,10,-1\n", "x.csv:3: volume: -1 is negative");
  expect_error("x.csv", HDR OK1 "2024-01-02,10,11,9,abc,1\n", "x.csv:3: close: 'abc' is not a number");
  expect_error("x.csv", HDR OK1 "2024-01-02,nan,11,9,10,1\n", "x.csv:3: open: 'nan' is not a number");
  expect_error("x.csv", HDR OK1 "2024-01-02,10,inf,9,10,1\n", "x.csv:3: high: 'inf' is not a number");
  expect_error("x.csv", HDR OK1 "2024-01-02,10,11,9\n", "x.csv:3: close: missing field (row has 4 fields)");
  expect_error("x.csv", HDR OK1 "2024-01-02,10,11,,10,1\n", "x.csv:3: low: empty field");
  expect_error("x.csv", HDR OK1 "2024-02-30,10,11,9,10,1\n", "x.csv:3: time: '2024-02-30' is not a date, date-time or epoch");
  expect_error("x.csv", HDR OK1 OK1, "x.csv:3: time: duplicate timestamp 2024-01-01 (line 2 has the same)");
  expect_error("x.csv", HDR "2024-01-02,10,11,9,10,1\n" OK1,
               "x.csv:3: time: 2024-01-01 is before 2024-01-02 on line 2 (times must increase)");
  expect_error("x.csv", HDR, "x.csv: no candles: no data rows");
  expect_error("x.csv", "", "x.csv: no candles: the file is empty");
  expect_error("x.csv", "date,high,low,close,volume\n" OK1, "x.csv:1: header has no 'open' column");
  expect_error("x.csv", "1,2,3\n", "x.csv:1: no header line (date, open, high, low, close, volume) and 3 fields, not a "
                                   "12-column Binance kline row");
}

Test(load, lenient_counts_and_keeps_the_rest)
{
  apex_load_report rep;
  apex_error e;
  apex_series *s = load_str("x.csv", HDR OK1 "2024-01-02,10.2,9.5,9,10,1\n2024-01-03,1,2,x,1,1\n" OK1
                                         "2024-01-04,10,11,9,10,1\n",
                            true, &rep, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_expect_eq(s->n, 2);
  cr_expect_eq(rep.rows, 2);
  cr_expect_eq(rep.dropped, 3);
  cr_expect_str_eq(rep.first_problem, "x.csv:3: high: 9.5 is below max(open, close) 10.2");
  cr_expect_eq(s->time[1], D(2024, 1, 4));
  apex_series_free(s);
  s = load_str("x.csv", HDR "2024-01-02,10.2,9.5,9,10,1\n", true, &rep, &e);
  cr_expect_null(s);
  cr_expect(strstr(e.msg, "all 1 rows dropped"), "%s", e.msg);
}

Test(load, binance_ms_and_us)
{
  apex_load_report rep;
  apex_error e;
  const char *ms = "1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68108,1704070799999,53957248.97,47134,"
                   "682.57581,28957416.82,0\n"
                   "1704070800000,42475.23,42775.00,42431.65,42613.56,1196.37856,1704074399999,50984893.83,46489,"
                   "628.52343,26782312.02,0\n";
  apex_series *s = load_str("BTCUSDT-1h-2024-01.csv", ms, false, &rep, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_expect_str_eq(rep.format, "binance");
  cr_expect_eq(s->n, 2);
  cr_expect_eq(s->time[1], D(2024, 1, 1) + APEX_MS_HOUR);
  cr_expect_eq(s->high[1], 42775.0);
  cr_expect_eq(s->volume[0], 1271.68108);
  cr_expect_eq(rep.timefmt, APEX_TIMEFMT_EPOCH_MS);
  apex_series_free(s);
  const char *us = "1735689600000000,93576.00,93610.93,93537.50,93610.93,8.21827,1735689659999999,768978.5,1623,"
                   "4.09,382693.7,0\n";
  s = load_str("BTCUSDT-1m-2025-01-01.csv", us, false, &rep, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_expect_eq(s->time[0], D(2025, 1, 1));
  cr_expect_eq(rep.timefmt, APEX_TIMEFMT_EPOCH_US);
  char buf[32];
  apex_format_time(s->time[0], &rep, buf, sizeof buf);
  cr_expect_str_eq(buf, "1735689600000000");
  apex_series_free(s);
  expect_error("b.csv", "1704067200000,1,2,0.5,1.5,1,0,0,0,0,0,0\n1704067260000,1,0.9,0.5,1.5,1,0,0,0,0,0,0\n",
               "b.csv:2: high: 0.9 is below max(open, close) 1.5");
}

Test(load, json_arrays)
{
  apex_load_report rep;
  apex_error e;
  apex_series *s = load_str("a.json", " [[1704067200000, \"1.5\", 2, 1, \"1.75\", 3], [1704067260000, 1.75, 2, 1.5, 2, 0]]\n",
                            false, &rep, &e);
  cr_assert_not_null(s, "%s", e.msg);
  cr_expect_eq(s->n, 2);
  cr_expect_eq(s->open[0], 1.5, "numeric strings are numbers");
  cr_expect_eq(s->close[0], 1.75);
  apex_series_free(s);
  expect_error("a.json", "[[1704067200000, 1, 2, 1, 1.5, 3], [1704067260000, 1, 1.2, 1, 1.5, 3]]",
               "a.json: element 1: high: 1.2 is below max(open, close) 1.5");
  expect_error("a.json", "[[1704067200000, 1, 2, 1, 1.5]]", "a.json: element 0: volume: missing (the array has 5 values)");
  expect_error("a.json", "[[1704067200000, 1, 2, 1, \"NaN\", 3]]", "a.json: element 0: close: string is not a number");
  expect_error("a.json", "[[1704067200000, 1, 2, 1, null, 3]]", "a.json: element 0: close: null is not a number");
  expect_error("a.json", "[5]", "a.json: element 0: expected an array [time, open, high, low, close, volume], got integer");
  expect_error("a.json", "{\"a\": 1}", "a.json: JSON top level is object, expected an array of [time, open, high, low, close, volume]");
  expect_error("a.json", "[[1704067200000, 1, 2, 1, 1.5, 3],\n [1, 2", "a.json: JSON line 2, column 6: ']' expected near end of file");
  expect_error("a.json", "[{\"a\": 1}]", "a.json: element 0: expected an array [time, open, high, low, close, volume], got object");
  expect_error("a.json", "[[1704067200000.5, 1, 2, 1, 1.5, 3]]", "a.json: element 0: time: not an integer epoch");
}

Test(load, gzip_csv)
{
  static const unsigned char GZ[] = {
      0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0x49, 0x2c, 0x49, 0xd5, 0xc9, 0x2f,
      0x48, 0xcd, 0xd3, 0xc9, 0xc8, 0x4c, 0xcf, 0xd0, 0xc9, 0xc9, 0x2f, 0xd7, 0x49, 0xce, 0xc9, 0x2f, 0x4e,
      0xd5, 0x29, 0xcb, 0xcf, 0x29, 0xcd, 0x4d, 0xe5, 0x32, 0x32, 0x30, 0x32, 0xd0, 0x35, 0x30, 0x04, 0x22,
      0x1d, 0x43, 0x1d, 0x23, 0x1d, 0x03, 0x3d, 0x53, 0x1d, 0x43, 0x10, 0x36, 0x40, 0xc8, 0x18, 0x81, 0x45,
      0x8c, 0x40, 0xa2, 0x40, 0x15, 0x46, 0x06, 0x5c, 0x00, 0xd8, 0x21, 0xf6, 0x76, 0x54, 0x00, 0x00, 0x00};
  apex_series *s = NULL;
  apex_load_report rep;
  apex_error e;
  cr_assert_eq(apex_load_candles_mem("a.csv.gz", (const char *)GZ, sizeof GZ, NULL, &s, &rep, &e), APEX_OK, "%s", e.msg);
  cr_expect(rep.gzip);
  cr_expect_eq(s->n, 2);
  cr_expect_eq(s->volume[1], 20);
  apex_series_free(s);
  /* truncated */
  cr_expect_eq(apex_load_candles_mem("a.csv.gz", (const char *)GZ, 40, NULL, &s, &rep, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "a.csv.gz: gzip: truncated"), "%s", e.msg);
  /* cap on the inflated size (84 bytes): exactly the cap passes, one less is refused */
  char *out = NULL;
  size_t n = 0;
  cr_expect_eq(apex_gzip_inflate((const char *)GZ, sizeof GZ, 84, &out, &n, &e), APEX_OK);
  cr_expect_eq(n, 84);
  cr_expect_eq(out[84], '\0');
  free(out);
  cr_expect_eq(apex_gzip_inflate((const char *)GZ, sizeof GZ, 83, &out, &n, &e), APEX_ETOOBIG);
  cr_expect_null(out);
}

Test(load, missing_file)
{
  apex_series *s = NULL;
  apex_error e;
  cr_expect_eq(apex_load_candles("/nonexistent/x.csv", NULL, &s, NULL, &e), APEX_EIO);
  cr_expect(strstr(e.msg, "/nonexistent/x.csv: cannot open"), "%s", e.msg);
}

Test(load, shipped_samples)
{
  apex_series *s = NULL;
  apex_error e;
  cr_assert_eq(apex_load_candles(APEX_SOURCE_DIR "/data/orcl-1995-2014.csv", NULL, &s, NULL, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(s->n, 5036);
  apex_series_free(s);
  cr_assert_eq(apex_load_candles(APEX_SOURCE_DIR "/data/btc-usdt-1m.json", NULL, &s, NULL, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(s->n, 13681);
  apex_series_free(s);
}
