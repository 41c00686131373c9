/* fx.h - currency conversion through euro reference rates (ECB: 1 EUR = rate units of a
 * currency). Pure: no I/O, no clock, no globals. Stablecoins count as the fiat they track, so a
 * USDT pair converts with the USD rate; callers that show a result say so (see
 * apex_fx_canonical). Rounding here is half to even, unlike base/decimal.h's half away from zero:
 * a portfolio converts many amounts, and ties rounded one way would drift. */
#ifndef APEX_CORE_FX_H
#define APEX_CORE_FX_H

#include <stdbool.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"

#define APEX_FX_CCY_MAX 8 /* bytes of a currency field with its NUL ("USD", or a stablecoin) */

/* One reference rate: 1 EUR = rate units of currency on the day that starts at date. */
typedef struct apex_fx_rate {
  int64_t date;                   /* ms UTC of 00:00 on the reference day */
  char currency[APEX_FX_CCY_MAX]; /* ISO 4217, "USD" */
  apex_dec rate;                  /* > 0 */
} apex_fx_rate;

/* True when ccy is an ISO 4217 code as the ECB writes it: exactly three of A-Z. */
bool apex_fx_iso_ok(const char *ccy);

/* The currency whose rate prices ccy: "USD" for the dollar stablecoins USDT, USDC, BUSD and
 * FDUSD, else ccy itself (EUR stays "EUR"). Static text or ccy; NULL for NULL. Exact, uppercase
 * match: "usdt" is returned unchanged. */
const char *apex_fx_canonical(const char *ccy);

/* The rate r with amount_in_to = amount_in_from x r, from each side's euro rate (units of it per
 * EUR; ignored for a side that is EUR): r = eur_to / eur_from rounded half to even to 8 places.
 * from and to are canonicalised first; the same currency (USDT and USD included) is exactly 1
 * whatever the rates. APEX_EINVAL for NULL currencies or a rate <= 0 that is needed,
 * APEX_EOVERFLOW when r leaves apex_dec's range. *rate is written only on success. */
apex_err apex_fx_cross(const char *from, const char *to, apex_dec eur_from, apex_dec eur_to, apex_dec *rate);

/* amount in from, converted to to as amount x eur_to / eur_from with one rounding (half to
 * even, 8 places; the product is exact in 128 bits), so converting through the already rounded
 * cross rate would differ: 1000 USD at EUR/USD 1.085 is 921.65898618 EUR, not 1000 x 0.92165899.
 * Same currency: amount unchanged. Errors as apex_fx_cross; *out written only on success. */
apex_err apex_fx_convert(apex_dec amount, const char *from, const char *to, apex_dec eur_from, apex_dec eur_to,
                         apex_dec *out);

#endif
