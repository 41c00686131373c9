/* fuzz_jsonarr.c - libFuzzer target for JSON candle arrays ([time, open, high, low, close, volume]),
 * through the same entry point as real files; inputs not starting with '[' are given one. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *buf = malloc(size + 1);
  if (!buf)
    return 0;
  /* Keep the fuzzer on the JSON path: an input that does not open an array gets a '[' in front. */
  size_t n = 0;
  if (!size || (data[0] != '[' && data[0] != '{'))
    buf[n++] = '[';
  if (size)
    memcpy(buf + n, data, size);
  n += size;
  for (int lenient = 0; lenient < 2; lenient++) {
    apex_load_opts opts = {.lenient = lenient != 0, .max_bytes = 1 << 20};
    apex_series *s = NULL;
    apex_load_report rep;
    apex_error err;
    (void)apex_load_candles_mem("fuzz.json", buf, n, &opts, &s, &rep, &err);
    apex_series_free(s);
  }
  free(buf);
  return 0;
}
