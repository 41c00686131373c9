/* test_timeframe.c - timeframe parsing, calendar buckets (weeks from Monday, calendar months),
 * detection and gap counting; expected times worked out by hand from the calendar. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/timeframe.h"

#define D(y, m, d) (apex_days_from_civil(y, m, d) * APEX_MS_DAY)
#define MIN APEX_MS_MINUTE

static apex_timeframe tf(const char *s)
{
  apex_timeframe t = {0};
  apex_error e;
  cr_assert_eq(apex_timeframe_parse(s, &t, &e), APEX_OK, "%s: %s", s, e.msg);
  return t;
}

Test(timeframe, parses_the_named_list)
{
  static const char *const NAMED[] = {"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"};
  for (size_t i = 0; i < sizeof NAMED / sizeof NAMED[0]; i++) {
    apex_timeframe t = tf(NAMED[i]);
    char buf[8];
    apex_timeframe_str(t, buf, sizeof buf);
    cr_expect_str_eq(buf, NAMED[i]);
    cr_expect(apex_timeframe_is_named(t), "%s named", NAMED[i]);
  }
  cr_expect_eq(apex_timeframe_ms(tf("15m")), 15 * MIN);
  cr_expect_eq(apex_timeframe_ms(tf("1w")), 7 * APEX_MS_DAY);
  cr_expect_eq(apex_timeframe_ms(tf("1M")), 0, "months have no fixed length");
}

Test(timeframe, other_values_of_the_pattern)
{
  cr_expect(!apex_timeframe_is_named(tf("10m")));
  tf("2d");
  tf("2w");
  tf("3M");
  tf("12M");
  static const char *const BAD[] = {"7m", "0m", "100m", "1x", "m", "", "1", "01m", "5M ", "1H", "5h", "5M"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    apex_timeframe t;
    apex_error e = {0};
    cr_expect_eq(apex_timeframe_parse(BAD[i], &t, &e), APEX_EINVAL, "'%s' refused", BAD[i]);
    char want[16];
    snprintf(want, sizeof want, "'%s'", BAD[i]);
    cr_expect(strstr(e.msg, want), "message names the value: %s", e.msg);
  }
}

Test(timeframe, calendar)
{
  cr_expect_eq(D(1970, 1, 1), 0);
  cr_expect_eq(D(2024, 1, 1), INT64_C(1704067200000));
  cr_expect_eq(D(2000, 3, 1) - D(2000, 2, 28), 2 * APEX_MS_DAY, "2000 is a leap year");
  cr_expect_eq(D(1900, 3, 1) - D(1900, 2, 28), APEX_MS_DAY, "1900 is not");
  int64_t y;
  int m, d;
  apex_civil_from_days(-1, &y, &m, &d);
  cr_expect(y == 1969 && m == 12 && d == 31);
}

Test(timeframe, weeks_start_monday)
{
  apex_timeframe w = tf("1w");
  /* Wednesday 2024-01-03 15:30 -> Monday 2024-01-01 */
  cr_expect_eq(apex_timeframe_floor(w, D(2024, 1, 3) + 15 * APEX_MS_HOUR + 30 * MIN), D(2024, 1, 1));
  cr_expect_eq(apex_timeframe_floor(w, D(2024, 1, 1)), D(2024, 1, 1), "Monday 00:00 starts its own week");
  cr_expect_eq(apex_timeframe_floor(w, D(2023, 12, 31) + 23 * APEX_MS_HOUR), D(2023, 12, 25), "Sunday ends the week");
  cr_expect_eq(apex_timeframe_floor(w, 0), D(1969, 12, 29), "the epoch was a Thursday");
}

Test(timeframe, months_are_calendar_months)
{
  apex_timeframe mo = tf("1M"), q = tf("3M");
  cr_expect_eq(apex_timeframe_floor(mo, D(2024, 2, 29) + 12 * APEX_MS_HOUR), D(2024, 2, 1));
  cr_expect_eq(apex_timeframe_floor(mo, D(2024, 3, 1) - 1), D(2024, 2, 1));
  cr_expect_eq(apex_timeframe_floor(mo, D(1969, 12, 15)), D(1969, 12, 1));
  cr_expect_eq(apex_timeframe_floor(q, D(2024, 5, 20)), D(2024, 4, 1), "quarters start in Jan, Apr, Jul, Oct");
  cr_expect_eq(apex_timeframe_start(mo, apex_timeframe_index(mo, D(2024, 12, 31)) + 1), D(2025, 1, 1));
}

Test(timeframe, fixed_buckets_from_the_epoch)
{
  cr_expect_eq(apex_timeframe_floor(tf("3d"), D(2024, 1, 3) + 15 * APEX_MS_HOUR), D(2024, 1, 3),
               "19725 days since the epoch is a multiple of 3");
  cr_expect_eq(apex_timeframe_floor(tf("3d"), D(2024, 1, 2)), D(2023, 12, 31));
  cr_expect_eq(apex_timeframe_floor(tf("4h"), D(2024, 1, 1) + 7 * APEX_MS_HOUR + 59 * MIN), D(2024, 1, 1) + 4 * APEX_MS_HOUR);
  cr_expect_eq(apex_timeframe_floor(tf("1d"), -1), -APEX_MS_DAY, "floor, not truncation, before 1970");
}

Test(timeframe, divides)
{
  cr_expect(apex_timeframe_divides(tf("1h"), tf("1d")));
  cr_expect(apex_timeframe_divides(tf("1d"), tf("1w")));
  cr_expect(apex_timeframe_divides(tf("15m"), tf("1h")));
  cr_expect(apex_timeframe_divides(tf("1d"), tf("1M")));
  cr_expect(apex_timeframe_divides(tf("1M"), tf("3M")));
  cr_expect(!apex_timeframe_divides(tf("3d"), tf("1w")));
  cr_expect(!apex_timeframe_divides(tf("2d"), tf("1M")));
  cr_expect(!apex_timeframe_divides(tf("1w"), tf("1M")));
  cr_expect(!apex_timeframe_divides(tf("1d"), tf("1h")));
  cr_expect(!apex_timeframe_divides(tf("3M"), tf("1M")));
}

static void expect_detect(const int64_t *t, size_t n, const char *want)
{
  apex_timeframe got;
  int64_t step;
  char buf[8];
  cr_assert_eq(apex_timeframe_detect(t, n, &got, &step), APEX_OK);
  apex_timeframe_str(got, buf, sizeof buf);
  cr_expect_str_eq(buf, want);
}

Test(timeframe, detect)
{
  int64_t t[16];
  for (int i = 0; i < 10; i++)
    t[i] = 1000 * MIN + i * MIN + (i > 6 ? 3 * MIN : 0); /* one gap still leaves 1m the common step */
  expect_detect(t, 10, "1m");
  /* Last trading day of each month of 2006 (backtrader's 2006-month-001.txt) */
  static const int DAYS[12][2] = {{1, 31}, {2, 28}, {3, 31}, {4, 28}, {5, 31}, {6, 30},
                                  {7, 31}, {8, 31}, {9, 29}, {10, 31}, {11, 30}, {12, 29}};
  for (int i = 0; i < 12; i++)
    t[i] = D(2006, DAYS[i][0], DAYS[i][1]);
  expect_detect(t, 12, "1M");
  /* Fridays, one a Thursday before a holiday */
  for (int i = 0; i < 8; i++)
    t[i] = D(2006, 1, 6) + i * 7 * APEX_MS_DAY - (i == 3 ? APEX_MS_DAY : 0);
  expect_detect(t, 8, "1w");
  int64_t ticks[] = {0, 250, 500, 1300, 1550, 4000};
  expect_detect(ticks, 6, "?");
  apex_timeframe got;
  int64_t step;
  cr_expect_eq(apex_timeframe_detect(ticks, 1, &got, &step), APEX_EDATA);
}

Test(timeframe, gaps)
{
  int64_t t[] = {0, MIN, 2 * MIN, 5 * MIN, 6 * MIN, 10 * MIN, 10 * MIN + 30000};
  apex_gaps g;
  cr_assert_eq(apex_gaps_count(t, 7, tf("1m"), &g), APEX_OK);
  cr_expect_eq(g.missing, 5, "3,4 and 7,8,9");
  cr_expect_eq(g.gaps, 2);
  cr_expect_eq(g.largest, 3);
  cr_expect_eq(g.largest_start, 7 * MIN);
  cr_expect_eq(g.largest_ms, 3 * MIN);
  cr_expect_eq(g.shared, 1, "10:30 shares the 10th minute");
  /* Friday to Monday on daily data: Saturday and Sunday are missing */
  int64_t d[] = {D(2024, 1, 5), D(2024, 1, 8)};
  cr_assert_eq(apex_gaps_count(d, 2, tf("1d"), &g), APEX_OK);
  cr_expect_eq(g.missing, 2);
  cr_expect_eq(g.largest_start, D(2024, 1, 6));
  /* Month-end closes have no gaps at 1M */
  int64_t m[] = {D(2006, 1, 31), D(2006, 2, 28), D(2006, 4, 28)};
  cr_assert_eq(apex_gaps_count(m, 3, tf("1M"), &g), APEX_OK);
  cr_expect_eq(g.missing, 1, "March is missing");
  cr_expect_eq(g.largest_start, D(2006, 3, 1));
}
