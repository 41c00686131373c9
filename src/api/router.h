/* router.h - the pure parts of HTTP handling: route matching with {name} parameters, query
 * parsing and decoding, request ids, CORS origin lists, request memory. No sockets, so the
 * fuzz target and unit tests drive them directly. */
#ifndef APEX_API_ROUTER_H
#define APEX_API_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/http.h"
#include "base/err.h"

typedef enum { APEX_MATCH_FOUND, APEX_MATCH_NOT_FOUND, APEX_MATCH_BAD_METHOD } apex_match;

/* Finds the route for method + path (decoded, without query; one trailing '/' is ignored). HEAD
 * matches GET routes. The most specific pattern wins: at the first segment where two differ, a
 * literal beats {param} beats {rest*}. On FOUND fills req->params (copies in req memory) and
 * *out. *allow gets the methods of every route whose pattern matches (bit 1u << method), for 405's
 * Allow header. If copying a parameter runs out of memory the match is still FOUND, with
 * req->n_params short (apex_req_param then returns NULL: handlers treat it as a bad request). */
apex_match apex_router_match(const apex_route *routes, size_t n, int method, const char *path, apex_req *req,
                             const apex_route **out, unsigned *allow);
/* Checks a table at start-up: patterns start with '/', parameters are {name} or a last {name*},
 * no two routes share method and pattern shape. */
apex_err apex_router_check(const apex_route *routes, size_t n, apex_error *err);
/* "GET, HEAD, POST" from an allow mask; OPTIONS always listed. */
void apex_http_allow_text(unsigned allow, char *out, size_t len);

/* Decodes %XX (and '+' as space when plus) in place; invalid escapes and %00 stay literal.
 * Returns the new length. */
size_t apex_http_pct_decode(char *s, bool plus);
/* Parses a raw query string ("a=1&b=x%20y") into req->query (decoded copies in req memory).
 * Sets req->query_parsed. Returns the number of parameters kept. */
size_t apex_http_query_parse(apex_req *req, const char *raw);

/* True for 1-64 characters of [A-Za-z0-9._:-] (what we echo back must be safe in a header and a
 * log line). */
bool apex_http_request_id_ok(const char *s);
/* True when origin is listed in the comma-separated list (exact match, spaces around items
 * ignored) or the list is "*". */
bool apex_http_origin_allowed(const char *list, const char *origin);

/* Zeroes req (keeping nothing) so the accessors work. */
void apex_req_init(apex_req *req);
/* Runs deferred functions and frees request memory; req may be reused after apex_req_init. */
void apex_req_end(apex_req *req);

/* Frees the body and headers of res (keeps nothing); res may be reused. */
void apex_res_reset(apex_res *res);

#endif
