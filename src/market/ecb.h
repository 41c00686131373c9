/* ecb.h - the ECB's euro foreign exchange reference rates over market/http.c: fetches the daily
 * file or a history file and decodes it with ecb_codec.h (wire format: venues README section 6).
 * Not an apex_market (no symbols or candles): rates feed app/fx.c through the store. */
#ifndef APEX_MARKET_ECB_H
#define APEX_MARKET_ECB_H

#include <stddef.h>

#include "base/err.h"
#include "core/fx.h"

typedef enum apex_ecb_range {
  APEX_ECB_DAILY = 1, /* /stats/eurofxref/eurofxref-daily.xml: the last working day */
  APEX_ECB_90D = 2,   /* /stats/eurofxref/eurofxref-hist-90d.xml: the last 90 days */
  APEX_ECB_ALL = 3,   /* /stats/eurofxref/eurofxref-hist.xml: every day since 1999 (~7 MiB) */
} apex_ecb_range;

/* Zero fields take the default in brackets. */
typedef struct apex_ecb_options {
  const char *base_url; /* ["https://www.ecb.europa.eu"] */
  int timeout_ms;       /* per request [30000]: the whole history is several MiB */
  int backoff_base_ms;  /* first retry delay [1000]; tests shorten it */
} apex_ecb_options;

typedef struct apex_ecb apex_ecb; /* opaque; safe to share between threads, as market/http.c is */

/* o may be NULL for all defaults. APEX_EINVAL, APEX_ENOMEM, APEX_EIO (libcurl would not start).
 * Free *out with apex_ecb_free. */
apex_err apex_ecb_new(const apex_ecb_options *o, apex_ecb **out, apex_error *err);
void apex_ecb_free(apex_ecb *x); /* NULL is a no-op */

/* GETs range's file (5xx and timeouts retried by market/http.c) and decodes it as
 * apex_ecb_decode does: *rows malloc'd (the caller frees it), *n rows sorted by date then
 * currency. A non-2xx reply: 404 APEX_ENOTFOUND, 429 APEX_ERATELIMIT, other 4xx APEX_EINVAL, 5xx
 * after the last try APEX_EIO; a body that is not the ECB's XML APEX_EPARSE; network failures as
 * apex_http_get. On error *rows is NULL and *n 0. */
apex_err apex_ecb_fetch(apex_ecb *x, apex_ecb_range range, apex_fx_rate **rows, size_t *n, apex_error *err);

#endif
