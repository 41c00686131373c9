/* symbol.c - ccxt-style symbols ("BTC/USDT") taken apart and put into venues' forms. */
#include <string.h>

#include "market/market.h"

static bool asset_char(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* Copies [s, s + n) to out if it is a valid asset name. */
static bool asset(const char *s, size_t n, char out[static APEX_MARKET_ASSET_MAX + 1])
{
  if (n == 0 || n > APEX_MARKET_ASSET_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!asset_char(s[i]))
      return false;
  memcpy(out, s, n);
  out[n] = '\0';
  return true;
}

apex_err apex_market_split(const char *symbol, char base[static APEX_MARKET_ASSET_MAX + 1],
                           char quote[static APEX_MARKET_ASSET_MAX + 1])
{
  base[0] = quote[0] = '\0';
  if (!symbol)
    return APEX_EINVAL;
  size_t len = strnlen(symbol, APEX_MARKET_SYMBOL_MAX + 1);
  const char *slash = memchr(symbol, '/', len);
  if (len > APEX_MARKET_SYMBOL_MAX || !slash || !asset(symbol, (size_t)(slash - symbol), base) ||
      !asset(slash + 1, len - (size_t)(slash - symbol) - 1, quote)) {
    base[0] = quote[0] = '\0';
    return APEX_EINVAL;
  }
  return APEX_OK;
}

apex_err apex_market_joined(const char *symbol, char out[static APEX_MARKET_SYMBOL_MAX + 1])
{
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
  out[0] = '\0';
  apex_err rc = apex_market_split(symbol, base, quote);
  if (rc)
    return rc;
  strcpy(out, base); /* both fit: each at most APEX_MARKET_ASSET_MAX, 2 x 15 <= 32 */
  strcat(out, quote);
  return APEX_OK;
}
