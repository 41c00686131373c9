/* market/symbol.c: ccxt symbols split exactly, and nothing else passes for one. */
#include <criterion/criterion.h>

#include "market/market.h"

Test(market_symbol, splits_and_joins)
{
  char b[APEX_MARKET_ASSET_MAX + 1], q[APEX_MARKET_ASSET_MAX + 1], j[APEX_MARKET_SYMBOL_MAX + 1];
  cr_assert_eq(apex_market_split("BTC/USDT", b, q), APEX_OK);
  cr_expect_str_eq(b, "BTC");
  cr_expect_str_eq(q, "USDT");
  cr_assert_eq(apex_market_joined("BTC/USDT", j), APEX_OK);
  cr_expect_str_eq(j, "BTCUSDT");
  cr_assert_eq(apex_market_split("BRK.B/USD", b, q), APEX_OK);
  cr_expect_str_eq(b, "BRK.B");
  cr_assert_eq(apex_market_split("1000SATS/USDT", b, q), APEX_OK);
  cr_expect_str_eq(b, "1000SATS");
}

Test(market_symbol, refuses_what_is_not_a_symbol)
{
  char b[APEX_MARKET_ASSET_MAX + 1], q[APEX_MARKET_ASSET_MAX + 1], j[APEX_MARKET_SYMBOL_MAX + 1];
  const char *bad[] = {"", "BTC", "BTCUSDT", "/USDT", "BTC/", "btc/usdt", "BTC/USDT/X", "BTC /USDT",
                       "BTC/US DT", "ABCDEFGHIJKLMNOP/USD", "BTC/ABCDEFGHIJKLMNOP", "BTC\n/USDT"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cr_expect_eq(apex_market_split(bad[i], b, q), APEX_EINVAL, "%s", bad[i]);
    cr_expect_str_eq(b, "");
    cr_expect_str_eq(q, "");
    cr_expect_eq(apex_market_joined(bad[i], j), APEX_EINVAL, "%s", bad[i]);
    cr_expect_str_eq(j, "");
  }
  cr_expect_eq(apex_market_split(NULL, b, q), APEX_EINVAL);
}
