/* binance.c - Binance public-data kline CSV (data.binance.vision): no header, 12 columns
 * (open time, open, high, low, close, volume, close time, quote volume, trades, taker buy base,
 * taker buy quote, ignore). Open times are ms, or us in spot files since 2025 (by magnitude). */
#include "io/rows.h"

apex_err apex_binance_load(apex_rows *r, const char *data, size_t len)
{
  /* Columns past volume are not needed for candles; rows need at least the first six. */
  const apex_csv_map m = {.delim = ',', .nheader = 0, .time = 0, .tod = -1, .open = 1, .high = 2, .low = 3,
                          .close = 4, .volume = 5, .epoch_only = true};
  r->rep->format = "binance";
  return apex_csv_rows(r, data, data + len, 1, &m);
}
