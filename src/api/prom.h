/* prom.h - a small Prometheus registry: HTTP request counters and latency histogram (fed by the
 * server), gauges anyone can set, and the text exposition format for /metrics. Thread-safe. */
#ifndef APEX_API_PROM_H
#define APEX_API_PROM_H

#include <stddef.h>

#include "api/http.h"
#include "base/err.h"

typedef struct apex_prom apex_prom;

apex_prom *apex_prom_new(void); /* NULL on OOM */
void apex_prom_free(apex_prom *p); /* NULL is a no-op */

/* Counts one request: apex_http_requests_total{route,method,status} and
 * apex_http_request_duration_seconds{route} (histogram). route is a route name (static string
 * or copied). */
void apex_prom_observe_request(apex_prom *p, const char *route, const char *method, int status,
                               double seconds);

/* Sets gauge name{labels} = value. labels is the inner label text, e.g. "state=\"running\""
 * (values escaped by the caller; apex_prom_label_escape helps), or NULL/"" for none. help is
 * printed once per name (the first non-NULL wins). Copies everything. APEX_ENOMEM on OOM. */
apex_err apex_prom_gauge_set(apex_prom *p, const char *name, const char *help, const char *labels,
                             double value);

/* Registers fn(p, ctx), called at the start of every render: the place to refresh gauges that
 * are cheaper to read on scrape (jobs by state, DB pool use). Up to 8 callbacks. */
apex_err apex_prom_on_scrape(apex_prom *p, void (*fn)(apex_prom *p, void *ctx), void *ctx);

/* The text exposition format (version 0.0.4); malloc'd, the caller frees. NULL on OOM. */
char *apex_prom_render(apex_prom *p, size_t *len);

/* Escapes a label value (\\, \", \n) into out (always NUL-terminated, truncated if needed). */
void apex_prom_label_escape(const char *in, char *out, size_t out_len);

/* A route handler serving /metrics from req->prom (404 when the server has none). */
int apex_prom_handler(apex_req *req, apex_res *res, void *app);

#endif
