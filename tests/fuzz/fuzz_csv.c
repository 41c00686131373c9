/* fuzz_csv.c - libFuzzer target for the candle loader on text that is not JSON: header CSV (any
 * columns, dates, separators) and Binance kline CSV, strict and lenient. Must not crash or overread. */
#include <stddef.h>
#include <stdint.h>

#include "io/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  for (int lenient = 0; lenient < 2; lenient++) {
    apex_load_opts opts = {.lenient = lenient != 0, .max_bytes = 1 << 20};
    apex_series *s = NULL;
    apex_load_report rep;
    apex_error err;
    if (apex_load_candles_mem("fuzz.csv", (const char *)data, size, &opts, &s, &rep, &err) == APEX_OK) {
      char buf[64];
      apex_format_time(s->time[0], &rep, buf, sizeof buf); /* time write-back on whatever was read */
      apex_format_time(s->time[s->n - 1], &rep, buf, sizeof buf);
    }
    apex_series_free(s);
  }
  return 0;
}
