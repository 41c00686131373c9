/* fuzz_ecb_codec.c - libFuzzer target for the ECB reference-rate codec: any bytes must be refused
 * or accepted without crashing, overreading, leaking or expanding entities, and what is accepted
 * must keep the codec's promises (rows sorted by date then currency, no key twice, ISO codes,
 * rates > 0, dates at 00:00 UTC). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/ecb_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apex_fx_rate *r = NULL;
  size_t n = 99;
  apex_error err;
  apex_err rc = apex_ecb_decode((const char *)data, size, &r, &n, &err);
  if (rc && (r || n))
    abort(); /* a failed decode gives nothing */
  if (!rc && (!r || !n))
    abort(); /* success always has a rate */
  for (size_t i = 0; i < n; i++) {
    if (!apex_fx_iso_ok(r[i].currency) || r[i].rate <= 0 || r[i].date % 86400000 != 0)
      abort();
    if (i && (r[i].date < r[i - 1].date ||
              (r[i].date == r[i - 1].date && strcmp(r[i].currency, r[i - 1].currency) <= 0)))
      abort();
  }
  free(r);
  return 0;
}
