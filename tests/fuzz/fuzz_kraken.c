/* fuzz_kraken.c - libFuzzer target for the Kraken market-data codec: the same bytes go to every
 * decoder (OHLC, Ticker, Depth, AssetPairs, error bodies), which must refuse or accept them
 * without crashing, overreading or leaking, and keep their outputs consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "market/kraken_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data;
  apex_error err;

  apex_series *s = apex_series_new(0);
  if (s) {
    int64_t last = -1;
    apex_err rc = apex_kraken_decode_ohlc(buf, size, s, &last, &err);
    if (rc && (s->n != 0 || last != -1))
      abort(); /* a failed decode keeps the series and last as they were */
    for (size_t i = 0; i < s->n; i++)
      if ((i > 0 && s->time[i] <= s->time[i - 1]) || s->low[i] > s->high[i] || s->time[i] % 1000 != 0)
        abort();
    apex_series_free(s);
  }

  apex_ticker t;
  if (apex_kraken_decode_ticker(buf, size, "BTC/USD", &t, &err) == APEX_OK && t.last <= 0)
    abort();

  static apex_orderbook book; /* ~3 KB: off the stack */
  if (apex_kraken_decode_depth(buf, size, "BTC/USD", 2, &book, &err) == APEX_OK &&
      (book.n_bids > 2 || book.n_asks > 2 || (book.n_bids && book.n_asks && book.bids[0].price >= book.asks[0].price)))
    abort();

  apex_market_symbol syms[4];
  size_t n = 0, skipped = 0;
  (void)apex_kraken_decode_pairs(buf, size, syms, APEX_ARRAY_LEN(syms), &n, &skipped, &err);
  if (n > APEX_ARRAY_LEN(syms))
    abort();

  static const int STATUS[] = {200, 404, 429, 503};
  for (size_t i = 0; i < APEX_ARRAY_LEN(STATUS); i++)
    (void)apex_kraken_decode_error(STATUS[i], buf, size, &err);
  return 0;
}
