/* fuzz_yahoo.c - libFuzzer target for the Yahoo chart codec: the same bytes go to every decoder
 * (chart rows, meta as a ticker, error bodies), which must refuse or accept them without
 * crashing, overreading or leaking, and keep their outputs consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "market/yahoo_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data;
  apex_error err;

  apex_series *s = apex_series_new(0);
  if (s) {
    size_t skipped = 99;
    apex_err rc = apex_yahoo_decode_chart(buf, size, s, &skipped, &err);
    if (rc && (s->n != 0 || skipped != 0))
      abort(); /* a failed decode keeps the series as it was */
    for (size_t i = 0; i < s->n; i++)
      if ((i > 0 && s->time[i] <= s->time[i - 1]) || s->low[i] > s->high[i] || !(s->volume[i] >= 0))
        abort();
    apex_series_free(s);
  }

  apex_ticker t;
  if (apex_yahoo_decode_quote(buf, size, "AAPL/USD", &t, &err) == APEX_OK && t.last <= 0)
    abort();

  static const int STATUS[] = {200, 404, 429, 503};
  for (size_t i = 0; i < APEX_ARRAY_LEN(STATUS); i++)
    (void)apex_yahoo_decode_error(STATUS[i], buf, size, &err);
  return 0;
}
