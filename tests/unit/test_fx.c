/* core/fx: stablecoins as USD, cross rates and conversions through euro reference rates, rounded
 * half to even to 8 places. Expected values are long divisions done by hand (digits past the 8th
 * shown after a '|'); the GBP and USD rates are the ECB's of 2024-06-28 as quoted in the venues
 * README section 6 (USD 1.0705, GBP 0.84638). */
#include <criterion/criterion.h>

#include "core/fx.h"

#define U APEX_DEC_SCALE

Test(fx, canonical_maps_dollar_stablecoins_to_usd)
{
  cr_expect_str_eq(apex_fx_canonical("USDT"), "USD");
  cr_expect_str_eq(apex_fx_canonical("USDC"), "USD");
  cr_expect_str_eq(apex_fx_canonical("BUSD"), "USD");
  cr_expect_str_eq(apex_fx_canonical("FDUSD"), "USD");
  cr_expect_str_eq(apex_fx_canonical("USD"), "USD");
  cr_expect_str_eq(apex_fx_canonical("EUR"), "EUR");
  cr_expect_str_eq(apex_fx_canonical("GBP"), "GBP");
  cr_expect_str_eq(apex_fx_canonical("usdt"), "usdt", "exact uppercase match only");
  cr_expect_null(apex_fx_canonical(NULL));
}

Test(fx, iso_codes)
{
  cr_expect(apex_fx_iso_ok("USD"));
  cr_expect(apex_fx_iso_ok("JPY"));
  cr_expect_not(apex_fx_iso_ok("US"));
  cr_expect_not(apex_fx_iso_ok("USDT"));
  cr_expect_not(apex_fx_iso_ok("usd"));
  cr_expect_not(apex_fx_iso_ok("U1D"));
  cr_expect_not(apex_fx_iso_ok(""));
  cr_expect_not(apex_fx_iso_ok(NULL));
}

static const struct {
  const char *name, *from, *to;
  apex_dec eur_from, eur_to, want;
} CROSS[] = {
    /* 1.0850 / 1 */
    {"EUR->USD is the USD rate", "EUR", "USD", 0, 108500000, 108500000},
    /* 1 / 1.085 = 0.92165898|6175... -> up */
    {"USD->EUR is its inverse", "USD", "EUR", 108500000, 0, 92165899},
    {"USDT->EUR as USD->EUR", "USDT", "EUR", 108500000, 0, 92165899},
    {"EUR->USDC as EUR->USD", "EUR", "USDC", 0, 108500000, 108500000},
    /* 1.0705 / 0.84638 = 1.26479831|754... -> up */
    {"GBP->USD via EUR", "GBP", "USD", 84638000, 107050000, 126479832},
    /* 0.84638 / 1.0705 = 0.79063988|790... -> up */
    {"USD->GBP via EUR", "USD", "GBP", 107050000, 84638000, 79063989},
    /* 171.94 / 1.0705 = 160.61653432|975... -> up */
    {"USDT->JPY via EUR", "USDT", "JPY", 107050000, 17194000000, 16061653433},
    {"same currency is 1", "GBP", "GBP", 84638000, 90000000, U},
    {"USDT->USD is 1", "USDT", "USD", 1, 2, U},
    {"USDC->USDT is 1, rates ignored", "USDC", "USDT", 0, 0, U},
    {"EUR->EUR is 1", "EUR", "EUR", 0, 0, U},
};

Test(fx, cross_hand_computed)
{
  for (size_t i = 0; i < APEX_ARRAY_LEN(CROSS); i++) {
    apex_dec r = -1;
    cr_expect_eq(apex_fx_cross(CROSS[i].from, CROSS[i].to, CROSS[i].eur_from, CROSS[i].eur_to, &r), APEX_OK, "%s",
                 CROSS[i].name);
    cr_expect_eq(r, CROSS[i].want, "%s: got %lld", CROSS[i].name, (long long)r);
  }
}

Test(fx, convert_rounds_once)
{
  apex_dec out = 0;
  /* 1000 / 1.085 = 921.65898617|5115... -> 921.65898618, whereas 1000 x 0.92165899 (the rounded
   * cross rate) would be 921.65899: conversion never goes through a rounded rate. */
  cr_assert_eq(apex_fx_convert(1000 * U, "USDT", "EUR", 108500000, 0, &out), APEX_OK);
  cr_expect_eq(out, 92165898618);
  cr_assert_eq(apex_fx_convert(1000 * U, "EUR", "USD", 0, 108500000, &out), APEX_OK);
  cr_expect_eq(out, 108500000000); /* 1085 exactly */
  cr_assert_eq(apex_fx_convert(-1000 * U, "USD", "EUR", 108500000, 0, &out), APEX_OK);
  cr_expect_eq(out, -92165898618, "negative amounts round symmetrically");
  cr_assert_eq(apex_fx_convert(12345, "USDT", "USD", 5, 7, &out), APEX_OK);
  cr_expect_eq(out, 12345, "same currency: the amount unchanged");
}

/* Exact ties (…|5) go to the even last digit; base/decimal.h would round them all away from 0. */
Test(fx, convert_ties_half_to_even)
{
  static const struct {
    apex_dec amount, want;
  } T[] = {
      {1, 0},   /* 0.00000001 / 2 = 0.00000000|5 -> 0 (even) */
      {3, 2},   /* 0.00000001|5 -> 0.00000002 */
      {5, 2},   /* 0.00000002|5 -> 0.00000002 */
      {7, 4},   /* 0.00000003|5 -> 0.00000004 */
      {-3, -2}, /* sign-symmetric */
      {-5, -2},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(T); i++) {
    apex_dec out = 99;
    cr_assert_eq(apex_fx_convert(T[i].amount, "USD", "EUR", 2 * U, 0, &out), APEX_OK);
    cr_expect_eq(out, T[i].want, "%lld units of USD at EUR/USD 2: got %lld", (long long)T[i].amount,
                 (long long)out);
  }
}

Test(fx, refusals)
{
  apex_dec r = 77;
  cr_expect_eq(apex_fx_cross("USD", "EUR", 0, 0, &r), APEX_EINVAL, "no USD rate");
  cr_expect_eq(apex_fx_cross("EUR", "USD", 0, -1, &r), APEX_EINVAL, "negative rate");
  cr_expect_eq(apex_fx_cross("GBP", "USD", 84638000, 0, &r), APEX_EINVAL, "one side missing");
  cr_expect_eq(apex_fx_cross(NULL, "USD", U, U, &r), APEX_EINVAL);
  cr_expect_eq(apex_fx_cross("USD", NULL, U, U, &r), APEX_EINVAL);
  /* 1 / 0.00000001 = 1e8 fits; 1000 / 0.00000001 = 1e11 is beyond apex_dec's ~9.2e10. */
  cr_expect_eq(apex_fx_cross("XAA", "XBB", 1, U, &r), APEX_OK);
  cr_expect_eq(r, 100000000 * U);
  cr_expect_eq(apex_fx_convert(1000 * U, "XAA", "XBB", 1, U, &r), APEX_EOVERFLOW);
  cr_expect_eq(r, 100000000 * U, "left as it was on failure");
}
