/* fuzz_router.c - the router and the request parsers on arbitrary input: route matching against
 * a fixed table plus one pattern from the input, query parsing, percent-decoding, request ids,
 * CORS origin lists. Input: lines "METHOD\nPATH\nQUERY\nPATTERN\nEXTRA". No crash, no overread,
 * no leak, and the invariants below hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "api/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int h(apex_req *req, apex_res *res, void *app)
{
  (void)req;
  (void)res;
  (void)app;
  return 0;
}

#define FIXED_ROUTES                                                                               \
  {APEX_HTTP_GET, "/healthz", h, false, "healthz", 0},                                             \
  {APEX_HTTP_GET, "/api/v1/strategies", h, true, "strategies.list", 0},                            \
  {APEX_HTTP_POST, "/api/v1/strategies", h, true, "strategies.create", 0},                         \
  {APEX_HTTP_GET, "/api/v1/strategies/{id}", h, true, "strategies.get", 0},                        \
  {APEX_HTTP_DELETE, "/api/v1/strategies/{id}", h, true, "strategies.delete", 0},                  \
  {APEX_HTTP_GET, "/api/v1/strategies/{id}/versions", h, true, "strategies.versions", 0},          \
  {APEX_HTTP_GET, "/api/v1/strategies/templates", h, true, "strategies.templates", 0},             \
  {APEX_HTTP_GET, "/api/v1/market/ohlcv/{symbol*}", h, true, "market.ohlcv", 0},                   \
  {APEX_HTTP_GET, "/", h, false, "root", 0}

static const apex_route FIXED[] = {FIXED_ROUTES};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *buf = malloc(size + 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  char *field[5] = {"", "", "", "", ""};
  char *p = buf;
  for (int i = 0; i < 5 && p; i++) {
    field[i] = p;
    p = i < 4 ? strchr(p, '\n') : NULL;
    if (p)
      *p++ = 0;
  }

  apex_req req;
  apex_req_init(&req);
  const apex_route *r = NULL;
  unsigned allow = 0;
  int method = (int)apex_http_method_parse(field[0]);

  /* The fixed table, then the table with the input's pattern when it passes the check. */
  apex_match m = apex_router_match(FIXED, APEX_ARRAY_LEN(FIXED), method, field[1], &req, &r, &allow);
  if (m == APEX_MATCH_FOUND) {
    if (!r || req.n_params > APEX_HTTP_MAX_PARAMS)
      abort();
    for (size_t i = 0; i < req.n_params; i++)
      if (strlen(req.params[i].value) > strlen(field[1]) || !apex_req_param(&req, req.params[i].name))
        abort();
  } else if (r) {
    abort();
  }
  if (m == APEX_MATCH_BAD_METHOD && !allow)
    abort();
  char text[128];
  apex_http_allow_text(allow, text, sizeof text);

  apex_route dyn[APEX_ARRAY_LEN(FIXED) + 1] = {FIXED_ROUTES, {APEX_HTTP_GET, field[3], h, false, "dyn", 0}};
  if (apex_router_check(dyn, APEX_ARRAY_LEN(dyn), NULL) == APEX_OK) {
    apex_req_end(&req);
    apex_req_init(&req);
    (void)apex_router_match(dyn, APEX_ARRAY_LEN(dyn), method, field[1], &req, &r, &allow);
  }

  /* Query parsing, through the accessor as handlers use it. */
  req.raw_query = field[2];
  req.query_parsed = false;
  (void)apex_req_query(&req, "page");
  if (req.n_query > APEX_HTTP_MAX_QUERY)
    abort();

  size_t before = strlen(field[4]);
  char *copy = strdup(field[4]);
  if (copy) {
    if (apex_http_pct_decode(copy, true) > before)
      abort();
    free(copy);
  }
  (void)apex_http_request_id_ok(field[4]);
  (void)apex_http_origin_allowed(field[4], field[2]);

  apex_req_end(&req);
  free(buf);
  return 0;
}
