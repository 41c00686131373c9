/* http.h - what handlers see of HTTP: the request, the response, the route table and the server.
 * Handlers never see libmicrohttpd (server.c is the one file that includes it); they read an
 * apex_req, fill an apex_res through the helpers below, and return. */
#ifndef APEX_API_HTTP_H
#define APEX_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/errors.h"
#include "base/err.h"
#include "base/json.h"

typedef struct apex_req apex_req;
typedef struct apex_res apex_res;
struct apex_prom;

typedef enum apex_http_method {
  APEX_HTTP_UNKNOWN = 0,
  APEX_HTTP_GET,
  APEX_HTTP_POST,
  APEX_HTTP_PUT,
  APEX_HTTP_PATCH,
  APEX_HTTP_DELETE,
  APEX_HTTP_HEAD,    /* routed as GET; the body is dropped */
  APEX_HTTP_OPTIONS, /* answered by the server (CORS preflight / Allow), never routed */
} apex_http_method;

#define APEX_HTTP_MAX_PARAMS 8
#define APEX_HTTP_MAX_QUERY 32

/* What a route takes as its body sets how large the body may be (apex_http_body_limit); a larger
 * one is answered 413 and never kept in memory. A route names its kind in its flags with
 * APEX_ROUTE_BODY(kind); without one it takes a small body. */
typedef enum apex_http_body_kind {
  APEX_BODY_SMALL = 0, /* credentials, profiles, portfolios, keys, actions; routes without a body */
  APEX_BODY_SUBMIT,    /* a backtest submission: a strategy id and its settings */
  APEX_BODY_DOCUMENT,  /* a strategy or rule document (rules, free-text description) */
} apex_http_body_kind;
#define APEX_HTTP_BODY_SMALL (32u * 1024)
#define APEX_HTTP_BODY_SUBMIT (64u * 1024)
#define APEX_HTTP_BODY_DOCUMENT (512u * 1024)
/* The largest body of a kind, in bytes (APEX_HTTP_BODY_SMALL for unknown kinds). */
size_t apex_http_body_limit(int kind);

typedef struct apex_http_kv {
  const char *name;
  const char *value;
} apex_http_kv;

struct apex_req_cleanup; /* internal */

/* One request. Every string here lives until the request ends; fields are read-only for handlers
 * except user_id / user_email / user_ctx, which the authenticate callback fills. */
struct apex_req {
  apex_http_method method;
  const char *method_name;   /* as sent ("GET") */
  const char *path;          /* percent-decoded path without the query ("/api/v1/strategies/7") */
  const char *raw_query;     /* text after '?', not decoded; "" when none */
  const char *body;          /* NUL-terminated copy of the body (NULL when none) */
  size_t body_len;
  const char *route_name;    /* the matched route's name (for logs/metrics); NULL before routing */
  char client_ip[64];
  char request_id[64];       /* the sane incoming X-Request-ID, or a generated one; echoed back */
  char user_id[37];          /* filled by authenticate on routes with auth = true; "" otherwise */
  char user_email[256];
  void *user_ctx;            /* free for the authenticate callback (e.g. token claims) */

  /* --- internal: filled by the server and the router; use the accessors --- */
  apex_http_kv params[APEX_HTTP_MAX_PARAMS]; /* path parameters, values decoded */
  size_t n_params;
  apex_http_kv query[APEX_HTTP_MAX_QUERY];   /* parsed lazily by apex_req_query */
  size_t n_query;
  bool query_parsed;
  const char *(*header_fn)(void *hctx, const char *name);
  void *hctx;
  struct apex_req_cleanup *cleanups;
  struct apex_prom *prom;    /* the server's metrics registry (for apex_prom_handler) */
};

/* Path parameter {name} of the matched pattern, percent-decoded, or NULL. */
const char *apex_req_param(const apex_req *req, const char *name);
/* First value of query parameter name ("+" and %XX decoded), or NULL when absent.
 * "?a" gives "" for a. At most APEX_HTTP_MAX_QUERY parameters are kept. */
const char *apex_req_query(apex_req *req, const char *name);
/* Request header value (case-insensitive name), or NULL. */
const char *apex_req_header(const apex_req *req, const char *name);
/* Memory freed when the request ends (NULL on OOM). */
void *apex_req_alloc(apex_req *req, size_t size);
char *apex_req_strdup(apex_req *req, const char *s);
/* Runs fn(ptr) when the request ends, in reverse order of registration. APEX_ENOMEM on failure
 * (fn is then called at once, so ownership passes in every case). */
apex_err apex_req_defer(apex_req *req, void (*fn)(void *), void *ptr);
/* Parses the body as a JSON object or array (duplicate keys rejected). On success returns the
 * document, freed when the request ends. On failure writes a 400 problem (malformed JSON, with
 * the position) or 422 (empty body) to res and returns NULL: the handler just returns 0. */
const apex_json *apex_req_json(apex_req *req, apex_res *res);

#define APEX_HTTP_MAX_HEADERS 16

/* The response the handler fills. Use the helpers; each replaces any body set before.
 * Helpers return 0, or -1 on OOM (the server then answers 500). */
struct apex_res {
  int status;                /* 0 = nothing set yet */
  char *body;                /* malloc'd, owned by res */
  size_t body_len;
  char content_type[96];
  apex_http_kv headers[APEX_HTTP_MAX_HEADERS]; /* malloc'd copies */
  size_t n_headers;
  const char *instance;      /* the request path, for problem bodies (set by the server) */
};

/* status + body = apex_json_dump(body); takes ownership of body (also on failure). NULL body
 * sends no body (e.g. 204). */
int apex_res_json(apex_res *res, int status, apex_json *body);
/* status + a JSON text the caller already encoded (copied). */
int apex_res_json_text(apex_res *res, int status, const char *json);
/* status + a copy of text with that content type ("text/plain; charset=utf-8"). */
int apex_res_text(apex_res *res, int status, const char *content_type, const char *text);
/* status + len bytes (copied); for binary bodies. */
int apex_res_bytes(apex_res *res, int status, const char *content_type, const void *data, size_t len);
/* status + a malloc'd buffer of len bytes, taken (freed by res, also on failure). */
int apex_res_take(apex_res *res, int status, const char *content_type, char *data, size_t len);
/* Adds a header (copied): Set-Cookie, Location, Retry-After, ... Several with one name are allowed. */
int apex_res_header(apex_res *res, const char *name, const char *value);

/* RFC 7807 body, application/problem+json:
 *   {"type":"https://apextrade.io/errors/<slug of title>","title","status","detail",
 *    "instance":<request path>,"code":<code, or status when code is 0>,"errors":[...]}
 * title NULL → the standard title for code (Appendix B) or status. detail may be NULL (omitted).
 * errors: a JSON array (e.g. [{"field","message","code"}]) taken over, or NULL. */
int apex_res_problem(apex_res *res, int status, int code, const char *title, const char *detail,
                     apex_json *errors);
/* Shorthand from a code alone: an Appendix B code (2001 → 404 "Strategy Not Found") or an
 * HTTP status (404 → "Not Found"). */
int apex_res_error(apex_res *res, int code, const char *detail);
/* printf-style detail. */
int apex_res_errorf(apex_res *res, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The error codes (app/errors.def: the spec's Appendix B and the plain HTTP statuses).
 * apex_problem_status/title map a listed code, or any HTTP status, to its status and title;
 * 500 / "Internal Server Error" for anything else. */
int apex_problem_status(int code);
const char *apex_problem_title(int code);
/* The HTTP status for a library error (ENOTFOUND → 404, ECONFLICT → 409, EINVAL/EDATA/EPARSE →
 * 422, ETOOBIG → 413, others 500). */
int apex_http_status_for(apex_err e);

/* A handler: decode req, call one app use case, encode into res. Return 0; a non-zero return
 * with no response set becomes a 500 problem (the detail is not leaked). app is the pointer given
 * in apex_server_opts. Handlers run on the server's worker threads, several at once. */
typedef int (*apex_handler)(apex_req *req, apex_res *res, void *app);

enum {
  APEX_ROUTE_ANY_BODY = 1u << 0, /* accept any Content-Type (default: bodies must be JSON → 415) */
  /* A route the server handles itself (fn is NULL): */
  APEX_ROUTE_UPGRADE = 1u << 2, /* a WebSocket upgrade: apex_server_opts.ws_accept and ws_adopt */
};
/* Flag bits naming the route's body kind (apex_http_body_kind), and reading it back. */
#define APEX_ROUTE_BODY(kind) ((unsigned)(kind) << 8)
#define APEX_ROUTE_BODY_KIND(flags) ((int)(((flags) >> 8) & 0xfu))

/* Answers with the file rel (percent-decoded, relative) under root: 200 with its content type,
 * index.html for an empty path or one without an extension that names no file (single-page app
 * routes), 404 for anything else, including "..", "." and hidden segments. Returns what the
 * apex_res_* helpers return. */
int apex_static_serve(const char *root, const char *rel, apex_res *res);
/* "text/html; charset=utf-8" for "x.html"; application/octet-stream for unknown extensions. */
const char *apex_static_content_type(const char *path);

/* A route: pattern segments are literal or {name}; a last segment {name*} takes the rest of the
 * path (slashes included). Literal segments win over parameters, whatever the table order.
 * auth: authenticate runs first and the handler only if it filled req->user_id.
 * name: the route's label in metrics and logs ("strategies.get"). */
typedef struct apex_route {
  int method; /* apex_http_method */
  const char *pattern;
  apex_handler fn;
  bool auth;
  const char *name;
  unsigned flags; /* APEX_ROUTE_*, and APEX_ROUTE_BODY(kind) */
} apex_route;

/* Called for auth routes before the handler: fill req->user_id (and user_email) and return 0,
 * or write a 401 problem to res and return non-zero. */
typedef int (*apex_authenticate_fn)(apex_req *req, apex_res *res, void *app);
/* Called by /readyz-style handlers or anyone; not used by the server itself. */
typedef bool (*apex_ready_fn)(void *app, char *why, size_t why_len);

/* Which requests get an access log line: none, answers 400 and above (and aborted ones), those
 * and 1 in access_log_sample of the rest, or every one. */
enum { APEX_ACCESS_LOG_OFF, APEX_ACCESS_LOG_ERRORS, APEX_ACCESS_LOG_SAMPLED, APEX_ACCESS_LOG_ALL };

typedef struct apex_server_opts {
  const char *host;          /* "127.0.0.1"; numeric IPv4 or IPv6 */
  uint16_t port;             /* 0 = any free port (see apex_server_port) */
  unsigned threads;          /* worker threads; 0 = number of cores */
  unsigned conn_limit;       /* 0 = 10000; new connections are refused above 95 % of it */
  unsigned client_limit;     /* 0 = 128: connections per peer address (trusted proxies exempt), and
                              * requests in flight per client (behind a trusted proxy too) */
  unsigned request_timeout_s; /* 0 = 10: idle limit while a connection's first request arrives */
  unsigned idle_timeout_s;   /* 0 = 60: idle limit after an answer (keep-alive) */
  const char *trusted_proxies; /* TRUSTED_PROXIES text (apex_proxies_parse); NULL/"": none */
  const char *cors_origins;  /* comma list of allowed origins, "*" for any; NULL/"" = no CORS */
  int access_log;            /* JSON lines through sys/log: APEX_ACCESS_LOG_* */
  unsigned access_log_sample; /* APEX_ACCESS_LOG_SAMPLED: 1 in N answers below 400 (0 = 100) */
  const apex_route *routes;  /* copied by reference: must outlive the server */
  size_t n_routes;
  apex_authenticate_fn authenticate; /* NULL: auth routes answer 401 */
  void *app;                 /* passed to handlers and authenticate */
  struct apex_prom *prom;    /* request metrics go here; NULL = none */
  /* The web UI's directory: a GET or HEAD outside /api/ that no route takes is a file there, or
   * its index.html for a page of the single-page app (static.c). NULL: 404 problems. */
  const char *static_root;
  const apex_route *extra_routes; /* a second table appended to routes (e.g. test-only routes) */
  size_t n_extra_routes;
  /* WebSocket upgrades (APEX_ROUTE_UPGRADE routes; ws_accept NULL: they answer 501). Once the
   * server has checked the handshake's headers and a browser's Origin, ws_accept checks the
   * request (the token): 0 with *peer (its own, opaque) to upgrade, or non-zero with a problem in
   * res. After the 101, ws_adopt gets the socket (fd is its own: it closes it), the bytes read
   * past the handshake and peer; libmicrohttpd has let go of the connection by then, so that an
   * open WebSocket holds no HTTP connection's memory nor a place under HTTP_MAX_CONNECTIONS.
   * ws_discard frees a peer whose socket never came (the client left during the handshake). */
  int (*ws_accept)(void *ws_ctx, apex_req *req, apex_res *res, void **peer);
  void (*ws_adopt)(void *ws_ctx, void *peer, int fd, const char *extra, size_t n_extra);
  void (*ws_discard)(void *peer);
  /* Called by apex_server_stop once no request runs, before the server stops: the hub closes
   * its sockets (1001). */
  void (*ws_stop)(void *ws_ctx);
  void *ws_ctx;
} apex_server_opts;

typedef struct apex_server apex_server;

/* Starts listening and serving on worker threads. On failure *out is NULL and err says why. */
apex_err apex_server_start(const apex_server_opts *opts, apex_server **out, apex_error *err);
/* The port actually bound (useful with port 0). */
uint16_t apex_server_port(const apex_server *srv);
/* Graceful stop: stops accepting, waits up to timeout_ms for in-flight requests, then stops the
 * threads. Safe to call once; apex_server_free calls it if needed. Returns the number of requests
 * that were still in flight when it gave up (0 = clean). */
unsigned apex_server_stop(apex_server *srv, unsigned timeout_ms);
void apex_server_free(apex_server *srv);

/* Method name ↔ enum ("GET" → APEX_HTTP_GET; unknown → APEX_HTTP_UNKNOWN). */
apex_http_method apex_http_method_parse(const char *name);
const char *apex_http_method_name(int method);
const char *apex_http_reason(int status); /* "Not Found"; "Unknown" for unlisted statuses */

#endif
