/* fx.c - currency conversion for portfolios (placeholder until the ECB rates land: same currency
 * only, stablecoins taken as USD). */
#include <string.h>

#include "app/app.h"

static const char *canonical(const char *c)
{
  static const char *const USD[] = {"USD", "USDT", "USDC", "BUSD", "FDUSD", NULL};
  for (size_t i = 0; USD[i]; i++)
    if (!strcmp(c, USD[i]))
      return "USD";
  return c;
}

apex_err apex_app_fx_rate(apex_app *app, const char *from, const char *to, int64_t at_ms, apex_dec *rate,
                          int64_t *rate_date_ms, apex_app_error *e)
{
  (void)app;
  if (!strcmp(canonical(from), canonical(to))) {
    *rate = APEX_DEC_SCALE;
    *rate_date_ms = at_ms;
    return APEX_OK;
  }
  return apex_app_raise(e, APEX_E_UNAVAILABLE, "no exchange rate from %s to %s", from, to);
}
