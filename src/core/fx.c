/* fx.c - cross rates and conversions through euro reference rates (see fx.h). */
#include "core/fx.h"

#include <string.h>

bool apex_fx_iso_ok(const char *ccy)
{
  if (!ccy)
    return false;
  for (int i = 0; i < 3; i++)
    if (ccy[i] < 'A' || ccy[i] > 'Z')
      return false;
  return ccy[3] == '\0';
}

const char *apex_fx_canonical(const char *ccy)
{
  static const char *const USD_COINS[] = {"USDT", "USDC", "BUSD", "FDUSD"};
  if (!ccy)
    return NULL;
  for (size_t i = 0; i < APEX_ARRAY_LEN(USD_COINS); i++)
    if (strcmp(ccy, USD_COINS[i]) == 0)
      return "USD";
  return ccy;
}

/* num / den (den > 0) rounded half to even, as an apex_dec. */
static apex_err div_half_even(apex_wide num, apex_wide den, apex_dec *out)
{
  bool neg = num < 0;
  apex_wide n = neg ? -num : num; /* |num| < 2^127: a product of two int64 */
  apex_wide q = n / den, r = n % den;
  if (2 * r > den || (2 * r == den && (q & 1)))
    q++;
  if (q > APEX_DEC_MAX)
    return APEX_EOVERFLOW;
  *out = (apex_dec)(neg ? -q : q);
  return APEX_OK;
}

apex_err apex_fx_convert(apex_dec amount, const char *from, const char *to, apex_dec eur_from, apex_dec eur_to,
                         apex_dec *out)
{
  from = apex_fx_canonical(from);
  to = apex_fx_canonical(to);
  if (!from || !to)
    return APEX_EINVAL;
  if (strcmp(from, to) == 0) {
    *out = amount;
    return APEX_OK;
  }
  if (strcmp(from, "EUR") == 0)
    eur_from = APEX_DEC_SCALE;
  if (strcmp(to, "EUR") == 0)
    eur_to = APEX_DEC_SCALE;
  if (eur_from <= 0 || eur_to <= 0)
    return APEX_EINVAL;
  /* Units: (a / 1e8) x (t / 1e8) / (f / 1e8) = a x t / f / 1e8, so a x t / f is the result's units. */
  return div_half_even((apex_wide)amount * eur_to, eur_from, out);
}

apex_err apex_fx_cross(const char *from, const char *to, apex_dec eur_from, apex_dec eur_to, apex_dec *rate)
{
  return apex_fx_convert(APEX_DEC_SCALE, from, to, eur_from, eur_to, rate);
}
