/* ecb.c - ECB reference rates over market/http.c (see ecb.h): picks the file, judges the HTTP
 * status and hands the bytes to ecb_codec.c. */
#include "market/ecb.h"

#include <stdlib.h>

#include "market/ecb_codec.h"
#include "market/http.h"

struct apex_ecb {
  apex_http_client *http;
};

apex_err apex_ecb_new(const apex_ecb_options *o, apex_ecb **out, apex_error *err)
{
  static const apex_ecb_options DEFAULTS = {0};
  apex_ecb *x = NULL;
  apex_err rc;
  *out = NULL;
  if (!o)
    o = &DEFAULTS;
  if (o->timeout_ms < 0 || o->backoff_base_ms < 0)
    return apex_error_set(err, APEX_EINVAL, "ecb: invalid options");
  if (!(x = calloc(1, sizeof *x)))
    return apex_error_set(err, APEX_ENOMEM, "ecb: out of memory");
  /* No bucket: a few requests a day at most (the ECB publishes once per working day). */
  apex_http_options ho = {
    .base_url = o->base_url ? o->base_url : "https://www.ecb.europa.eu",
    .timeout_ms = o->timeout_ms ? o->timeout_ms : 30000,
    .backoff_base_ms = o->backoff_base_ms,
    .body_max = APEX_ECB_REPLY_MAX,
  };
  if ((rc = apex_http_client_new(&ho, &x->http, err))) {
    free(x);
    return rc;
  }
  *out = x;
  return APEX_OK;
}

void apex_ecb_free(apex_ecb *x)
{
  if (!x)
    return;
  apex_http_client_free(x->http);
  free(x);
}

/* A reply that is not 2xx as our code; market/http.c has already retried the 5xx ones. */
static apex_err status_error(const apex_http_reply *r, apex_error *err)
{
  if (r->status >= 500)
    return apex_error_set(err, APEX_EIO, "ecb: HTTP %d after %d tries", r->status, r->tries);
  apex_err rc = r->status == 404 ? APEX_ENOTFOUND
                : r->status == 429 ? APEX_ERATELIMIT
                : r->status >= 400 ? APEX_EINVAL
                                   : APEX_EIO; /* 1xx, 3xx: nothing to decode */
  return apex_error_set(err, rc, "ecb: HTTP %d", r->status);
}

apex_err apex_ecb_fetch(apex_ecb *x, apex_ecb_range range, apex_fx_rate **rows, size_t *n, apex_error *err)
{
  const char *path = range == APEX_ECB_DAILY ? "/stats/eurofxref/eurofxref-daily.xml"
                     : range == APEX_ECB_90D ? "/stats/eurofxref/eurofxref-hist-90d.xml"
                     : range == APEX_ECB_ALL ? "/stats/eurofxref/eurofxref-hist.xml"
                                             : NULL;
  apex_http_reply r = {0};
  apex_err rc;
  *rows = NULL;
  *n = 0;
  if (!path)
    return apex_error_set(err, APEX_EINVAL, "ecb: unknown range %d", (int)range);
  rc = apex_http_get(x->http, path, 1, &r, err);
  if (rc == APEX_OK && (r.status < 200 || r.status > 299))
    rc = status_error(&r, err);
  if (rc == APEX_OK)
    rc = apex_ecb_decode(r.body, r.len, rows, n, err);
  apex_http_reply_free(&r);
  return rc;
}
