/* market/ecb_codec.c on ECB reference-rate XML (tests/market/ecb/, venues README section 6).
 * Expected dates are worked out by hand: 2024-06-28 00:00 UTC is day 19902 since 1970-01-01
 * (54 years with 13 leap days, 19723 days to 2024-01-01, then 31+29+31+30+31 = 152 and 27 more). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "market/ecb_codec.h"
#include "support/files.h"

#define DIR APEX_SOURCE_DIR "/tests/market/ecb/"
#define DAY INT64_C(86400000)
#define D0628 (INT64_C(19902) * DAY)

static char *slurp(const char *name, size_t *len)
{
  char path[512];
  snprintf(path, sizeof path, DIR "%s", name);
  char *buf = apex_test_slurp(path, len);
  cr_assert(buf, "cannot read %s", path);
  return buf;
}

static apex_err decode(const char *name, apex_fx_rate **rows, size_t *n, apex_error *e)
{
  size_t len;
  char *buf = slurp(name, &len);
  apex_err rc = apex_ecb_decode(buf, len, rows, n, e);
  free(buf);
  return rc;
}

static void expect_row(const apex_fx_rate *r, int64_t date, const char *ccy, apex_dec rate)
{
  cr_expect_eq(r->date, date, "%s: date %lld", ccy, (long long)r->date);
  cr_expect_str_eq(r->currency, ccy);
  cr_expect_eq(r->rate, rate, "%s: rate %lld", ccy, (long long)r->rate);
}

Test(market_ecb, day_arithmetic)
{
  /* The hand count above, against the C library's own. */
  struct tm tm = {.tm_year = 124, .tm_mon = 5, .tm_mday = 28};
  cr_assert_eq((int64_t)timegm(&tm) * 1000, D0628);
}

Test(market_ecb, daily_sample)
{
  apex_fx_rate *r = NULL;
  size_t n = 0;
  apex_error e = {0};
  cr_assert_eq(decode("daily.xml", &r, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 6);
  /* sorted by currency within the day */
  expect_row(&r[0], D0628, "BGN", 195580000);
  expect_row(&r[1], D0628, "CZK", 2502500000);
  expect_row(&r[2], D0628, "DKK", 745750000);
  expect_row(&r[3], D0628, "GBP", 84638000);
  expect_row(&r[4], D0628, "JPY", 17194000000);
  expect_row(&r[5], D0628, "USD", 107050000);
  free(r);
}

Test(market_ecb, hist_sample_sorted_oldest_first)
{
  apex_fx_rate *r = NULL;
  size_t n = 0;
  apex_error e = {0};
  cr_assert_eq(decode("hist_3d.xml", &r, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 9);
  expect_row(&r[0], D0628 - 2 * DAY, "GBP", 84500000);
  expect_row(&r[1], D0628 - 2 * DAY, "JPY", 17110000000);
  expect_row(&r[2], D0628 - 2 * DAY, "USD", 106900000);
  expect_row(&r[3], D0628 - DAY, "GBP", 84610000);
  expect_row(&r[5], D0628 - DAY, "USD", 107000000);
  expect_row(&r[8], D0628, "USD", 107050000);
  free(r);
}

static const struct {
  const char *file;
  apex_err rc;
  const char *msg; /* a part of err.msg */
} BAD[] = {
    {"malformed_truncated.xml", APEX_EPARSE, "malformed XML at line"},
    {"not_xml.html", APEX_EPARSE, "not a gesmes:Envelope"},
    {"no_rates.xml", APEX_EPARSE, "no rates"},
    {"rate_not_decimal.xml", APEX_EPARSE, "2024-06-28 JPY: rate '171,94' is not a decimal above 0"},
    {"rate_zero.xml", APEX_EPARSE, "GBP: rate '0' is not a decimal above 0"},
    {"rate_missing.xml", APEX_EPARSE, "2024-06-28 CZK: no rate"},
    {"currency_lowercase.xml", APEX_EPARSE, "currency 'dkk' is not three letters A-Z"},
    {"time_not_a_day.xml", APEX_EPARSE, "time '2024-02-30' is not a YYYY-MM-DD day"},
    {"currency_twice.xml", APEX_EPARSE, "2024-06-28 USD is given twice"},
    {"no_namespace.xml", APEX_EPARSE, "no Cube element in the eurofxref namespace"},
    {"unexpected_element.xml", APEX_EPARSE, "unexpected element <Rate>"},
    {"entity_expansion.xml", APEX_EPARSE, "entity reference loop"},
    {"external_entity.xml", APEX_EPARSE, "document type declaration is not accepted"},
};

Test(market_ecb, refusals_name_what_is_wrong)
{
  for (size_t i = 0; i < APEX_ARRAY_LEN(BAD); i++) {
    apex_fx_rate *r = (apex_fx_rate *)1;
    size_t n = 99;
    apex_error e = {0};
    cr_expect_eq(decode(BAD[i].file, &r, &n, &e), BAD[i].rc, "%s: %s", BAD[i].file, e.msg);
    cr_expect(strstr(e.msg, BAD[i].msg), "%s: message '%s' lacks '%s'", BAD[i].file, e.msg, BAD[i].msg);
    cr_expect_null(r, "%s", BAD[i].file);
    cr_expect_eq(n, 0, "%s", BAD[i].file);
  }
}

/* The bomb would be 10^7 copies of the rate; it must fail fast, not expand. */
Test(market_ecb, entity_bomb_is_not_expanded, .timeout = 5)
{
  apex_fx_rate *r = NULL;
  size_t n = 0;
  apex_error e = {0};
  cr_expect_eq(decode("entity_expansion.xml", &r, &n, &e), APEX_EPARSE);
  cr_expect_null(r);
}

Test(market_ecb, size_cap_and_empty)
{
  apex_fx_rate *r = NULL;
  size_t n = 0;
  apex_error e = {0};
  char one = '<';
  cr_expect_eq(apex_ecb_decode(&one, APEX_ECB_REPLY_MAX + 1, &r, &n, &e), APEX_ETOOBIG, "not read past the cap");
  cr_expect_eq(apex_ecb_decode("", 0, &r, &n, &e), APEX_EPARSE);
  cr_expect_eq(apex_ecb_decode(NULL, 0, &r, &n, &e), APEX_EPARSE);
}
