/* fuzz_binance.c - libFuzzer target for the Binance market-data codec: the same bytes go to every
 * decoder (klines, exchangeInfo, ticker, depth, error bodies), which must refuse or accept them
 * without crashing, overreading or leaking, and keep their outputs consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "market/binance_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data;
  apex_error err;

  apex_series *s = apex_series_new(0);
  if (s) {
    apex_err rc = apex_binance_decode_klines(buf, size, s, &err);
    if (rc && s->n != 0)
      abort(); /* a failed decode keeps the series as it was */
    for (size_t i = 1; i < s->n; i++)
      if (s->time[i] <= s->time[i - 1] || s->low[i] > s->high[i])
        abort();
    apex_series_free(s);
  }

  apex_market_symbol syms[4];
  size_t n = 0, skipped = 0;
  (void)apex_binance_decode_symbols(buf, size, syms, APEX_ARRAY_LEN(syms), &n, &skipped, &err);
  if (n > APEX_ARRAY_LEN(syms))
    abort();

  apex_ticker t;
  (void)apex_binance_decode_ticker(buf, size, "BNB/BTC", &t, &err);

  apex_orderbook *book = malloc(sizeof *book);
  if (book) {
    for (size_t depth = 1; depth <= APEX_BOOK_MAX; depth += APEX_BOOK_MAX - 1) {
      int64_t id;
      if (apex_binance_decode_depth(buf, size, "BNB/BTC", depth, book, &id, &err) == APEX_OK &&
          (book->n_bids > depth || book->n_asks > depth))
        abort();
    }
    free(book);
  }

  static const int STATUS[] = {400, 404, 418, 429, 503};
  for (size_t i = 0; i < APEX_ARRAY_LEN(STATUS); i++)
    (void)apex_binance_decode_error(STATUS[i], buf, size, 5, &err);
  return 0;
}
