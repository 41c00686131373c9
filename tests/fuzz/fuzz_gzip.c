/* fuzz_gzip.c - libFuzzer target for gzip inflation with a small output cap (bombs must stop at
 * the cap), then loading what came out. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/gzip.h"
#include "io/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *out = NULL;
  size_t n = 0;
  apex_error err;
  if (apex_gzip_inflate((const char *)data, size, 1 << 16, &out, &n, &err) == APEX_OK) {
    if (out[n] != '\0')
      abort(); /* the contract: NUL-terminated */
    apex_series *s = NULL;
    apex_load_opts opts = {.lenient = true, .max_bytes = 1 << 16};
    (void)apex_load_candles_mem("fuzz.gz", out, n, &opts, &s, NULL, &err);
    apex_series_free(s);
  }
  free(out);
  return 0;
}
