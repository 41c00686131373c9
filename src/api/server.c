/* server.c - the HTTP server on libmicrohttpd (the one file that includes it): epoll worker
 * threads, body limits per route kind, routing, auth hook, security and CORS headers, request
 * ids, access log, metrics and graceful shutdown. Handlers only ever see apex_req / apex_res. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/http.h"
#include "api/peers.h"
#include "api/prom.h"
#include "api/proxies.h"
#include "api/router.h"
#include "base/utf8.h"
#include "sys/log.h"
#include "sys/secrets.h"

/* Each route's body limit is known from its headers (route kinds, http.h). libmicrohttpd 0.9.75
 * takes an answer only before the first body byte or after the last (MHD_queue_response refuses
 * in between, connection.c:5127), and closes without reading what the client still sends, which
 * the client sees as a reset instead of the answer. So a body over the limit is never kept: a
 * Content-Length over it is answered 413 at once when the client waits for our word (Expect:
 * 100-continue) or the length is past DRAIN_MAX; otherwise the body, and a chunked one from the
 * byte that passes the limit, is read and dropped, and the 413 goes out when it ends. Past
 * DRAIN_MAX bytes read, the connection is closed without an answer. */
#define DRAIN_MAX (16u << 20)

struct apex_server {
  struct MHD_Daemon *d;
  apex_server_opts o; /* o.routes points at routes below: both tables, copied */
  apex_route *routes;
  unsigned conn_limit, per_client, request_timeout_s, idle_timeout_s;
  apex_peers *conns;       /* open connections per peer address */
  apex_peers *clients;     /* requests in flight per client (the real one behind a trusted proxy) */
  apex_proxies *proxies;   /* TRUSTED_PROXIES */
  uint16_t port;
  atomic_uint in_flight;
  atomic_uint sampled; /* answers below 400 seen by the sampled access log */
  unsigned access_log_sample;
  atomic_bool stopping; /* set by apex_server_stop: refuse new connections, close kept-alive ones */
  bool stopped;
};

/* Per request: lives from MHD's first call to its completion callback. */
typedef struct req_ctx {
  apex_req req;
  apex_res res;
  struct timespec start;
  char *body;
  size_t body_len, body_cap, seen;
  size_t limit; /* the matched route's body limit (the small one when none matched) */
  bool too_big, dispatched;
  bool cut;         /* closed past DRAIN_MAX without an answer */
  apex_match match; /* routed once the headers are in */
  const apex_route *route;
  unsigned allow;
  const char *bad; /* why the request is refused with 400 before routing (framing, encoding) */
  bool busy;       /* the client has too many requests in flight: 429 */
  bool counted;    /* req.client_ip holds one count in srv->clients */
  int status_sent;
  const char *origin_ok; /* the request's Origin when it is allowed */
  void *ws_peer;         /* an accepted WebSocket upgrade's, until the socket is adopted */
  bool upgraded;         /* the socket went to the WebSocket hub: its counts were given back */
} req_ctx;

/* --- request ids: random UUIDv4 text from a per-thread xorshift seeded once --- */
static _Thread_local uint64_t rng_s[2];

static uint64_t rng_next(void)
{
  if (!rng_s[0] && !rng_s[1]) {
    if (getrandom(rng_s, sizeof rng_s, 0) != (ssize_t)sizeof rng_s || (!rng_s[0] && !rng_s[1])) {
      rng_s[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&rng_s;
      rng_s[1] = 0x9e3779b97f4a7c15ull;
    }
  }
  uint64_t s1 = rng_s[0];
  const uint64_t s0 = rng_s[1];
  rng_s[0] = s0;
  s1 ^= s1 << 23;
  rng_s[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
  return rng_s[1] + s0;
}

static void make_request_id(char *out)
{
  static const char hex[] = "0123456789abcdef";
  uint64_t a = rng_next(), b = rng_next();
  unsigned char r[16];
  for (int i = 0; i < 8; i++) {
    r[i] = (unsigned char)(a >> (8 * i));
    r[8 + i] = (unsigned char)(b >> (8 * i));
  }
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  size_t w = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[w++] = '-';
    out[w++] = hex[r[i] >> 4];
    out[w++] = hex[r[i] & 15];
  }
  out[w] = 0;
}

/* --- helpers --- */
static const char *header_lookup(void *hctx, const char *name)
{
  return MHD_lookup_connection_value((struct MHD_Connection *)hctx, MHD_HEADER_KIND, name);
}

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void)kind;
  apex_req *req = cls;
  if (req->n_query >= APEX_HTTP_MAX_QUERY)
    return MHD_NO;
  req->query[req->n_query].name = key;
  req->query[req->n_query].value = value ? value : "";
  req->n_query++;
  return MHD_YES;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t len)
{
  out[0] = 0;
  if (!sa)
    return;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)len);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)len);
}

/* The peer, or the client a trusted proxy forwards for (X-Forwarded-For). */
static void client_ip(const apex_server *srv, struct MHD_Connection *c, char *out, size_t len)
{
  char peer[64];
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  addr_text(ci ? ci->client_addr : NULL, peer, sizeof peer);
  apex_proxies_client(srv->proxies, peer,
                      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For"), out, len);
}

static double ms_since(const struct timespec *t0)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* RFC 9112 section 6.3: a body's length must be unambiguous, or a proxy and this server could
 * split the bytes into different requests (smuggling). libmicrohttpd takes the first of several
 * Content-Length headers and lets Transfer-Encoding win over one; we refuse both cases, and any
 * transfer coding but chunked alone. Invalid Content-Length values never reach us: libmicrohttpd
 * answers 400 and closes itself. */
typedef struct framing {
  int n_length, n_coding;
  bool coding_ok;
} framing;

static enum MHD_Result framing_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void)kind;
  framing *f = cls;
  if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
    f->n_length++;
  else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
    f->n_coding++;
    f->coding_ok = value && !strcasecmp(value, "chunked");
  }
  return MHD_YES;
}

static const char *framing_problem(struct MHD_Connection *c)
{
  framing f = {0};
  MHD_get_connection_values(c, MHD_HEADER_KIND, framing_iter, &f);
  if (f.n_length > 1)
    return "more than one Content-Length header";
  if (f.n_coding && f.n_length)
    return "Content-Length and Transfer-Encoding together";
  if (f.n_coding > 1 || (f.n_coding && !f.coding_ok))
    return "unsupported Transfer-Encoding (only chunked)";
  return NULL;
}

/* Query names and values arrive percent-decoded: they may hold any bytes. */
static bool query_utf8(const apex_req *req)
{
  for (size_t i = 0; i < req->n_query; i++)
    if (!apex_utf8_valid(req->query[i].name) || !apex_utf8_valid(req->query[i].value))
      return false;
  return true;
}

/* application/json, application/problem+json, with or without "; charset=utf-8". */
static bool is_json_type(const char *ct)
{
  if (!ct)
    return false;
  while (*ct == ' ')
    ct++;
  size_t n = strcspn(ct, "; ");
  if (n == 16 && !strncasecmp(ct, "application/json", 16))
    return true;
  return n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5);
}

/* Header names a preflight may ask for: tokens only, so echoing them is safe. */
static bool header_list_ok(const char *s)
{
  size_t n = 0;
  for (; s[n]; n++) {
    char c = s[n];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == ',' || c == ' ';
    if (!ok || n > 512)
      return false;
  }
  return true;
}

/* --- sending --- */
static enum MHD_Result send_res(apex_server *srv, struct MHD_Connection *c, req_ctx *x, unsigned allow)
{
  apex_res *res = &x->res;
  if (res->status < 100 || res->status > 599) {
    apex_res_reset(res);
    if (apex_res_error(res, APEX_E_INTERNAL, NULL))
      res->status = 500;
  }
  struct MHD_Response *r =
      MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (void *)"", res->body ? MHD_RESPMEM_MUST_FREE
                                                                                                 : MHD_RESPMEM_PERSISTENT);
  if (!r)
    return MHD_NO;
  res->body = NULL; /* MHD frees it now */
  res->body_len = 0;
  if (res->content_type[0])
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
  /* The spec's security headers (7.4), on every response. */
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "X-XSS-Protection", "1; mode=block");
  MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'");
  MHD_add_response_header(r, "X-Request-ID", x->req.request_id);
  bool has_cache = false;
  for (size_t i = 0; i < res->n_headers; i++) {
    MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    has_cache |= !strcasecmp(res->headers[i].name, "Cache-Control");
  }
  if (!has_cache) /* API answers carry tokens and user data: no shared caches */
    MHD_add_response_header(r, "Cache-Control", "no-store");
  if (allow) {
    char text[96];
    apex_http_allow_text(allow, text, sizeof text);
    MHD_add_response_header(r, "Allow", text);
  }
  if (x->origin_ok) {
    MHD_add_response_header(r, "Access-Control-Allow-Origin", x->origin_ok);
    MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "X-Request-ID, Retry-After, Location");
  }
  if (srv->o.cors_origins && srv->o.cors_origins[0])
    MHD_add_response_header(r, "Vary", "Origin");
  if (atomic_load_explicit(&srv->stopping, memory_order_relaxed))
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close"); /* draining: no next request here */
  x->status_sent = res->status;
  MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, srv->idle_timeout_s);
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)res->status, r);
  MHD_destroy_response(r);
  return ok;
}

static int problem(req_ctx *x, apex_code code, const char *detail)
{
  apex_res_reset(&x->res);
  return apex_res_error(&x->res, code, detail);
}

/* Everything between "the request is complete" and "the response is queued". */
/* --- WebSocket upgrades (RFC 6455 4.2): the handshake here, the socket to the hub --- */

/* Whether the comma-separated header value has token (case-insensitive). */
static bool header_has_token(const char *value, const char *token)
{
  size_t n = strlen(token);
  for (const char *p = value; p && *p;) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    const char *end = p + strcspn(p, ",");
    const char *last = end;
    while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
      last--;
    if ((size_t)(last - p) == n && !strncasecmp(p, token, n))
      return true;
    p = end;
  }
  return false;
}

static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra, size_t n_extra,
                       MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
  (void)c;
  apex_server *srv = cls;
  req_ctx *x = con_cls;
  void *peer = x ? x->ws_peer : NULL;
  if (!peer) {
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    return;
  }
  x->ws_peer = NULL;
  /* The request is over: it no longer holds shutdown's drain or the client's requests in flight. */
  x->upgraded = true;
  if (x->counted) {
    apex_peers_leave(srv->clients, x->req.client_ip);
    x->counted = false;
  }
  atomic_fetch_sub(&srv->in_flight, 1);
  /* The hub gets a socket of its own and libmicrohttpd closes its descriptor and frees the
   * connection (32 KiB of pool per socket otherwise): with MHD_USE_TURBO it closes without a
   * shutdown(), so the socket lives on in the hub's descriptor. extra is copied before. */
  int own = fcntl(sock, F_DUPFD_CLOEXEC, 3);
  if (own < 0)
    srv->o.ws_discard(peer);
  else
    srv->o.ws_adopt(srv->o.ws_ctx, peer, own, extra, n_extra);
  MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* The handshake's headers, the Origin of a browser, then ws_accept (the token); queues the 101
 * and returns 0, or leaves a problem in x->res and returns non-zero. */
static int ws_handshake(apex_server *srv, struct MHD_Connection *c, req_ctx *x)
{
  apex_req *req = &x->req;
  const char *up = apex_req_header(req, "Upgrade"), *conn = apex_req_header(req, "Connection");
  const char *ver = apex_req_header(req, "Sec-WebSocket-Version"), *key = apex_req_header(req, "Sec-WebSocket-Key");
  const char *origin = apex_req_header(req, "Origin"), *host = apex_req_header(req, "Host");
  if (!up || !header_has_token(up, "websocket") || !conn || !header_has_token(conn, "upgrade"))
    return problem(x, APEX_E_BAD_REQUEST, "this endpoint is a WebSocket: send Upgrade: websocket and Connection: Upgrade"), 1;
  if (!ver || strcmp(ver, "13")) {
    apex_res_problem(&x->res, 426, 426, "Upgrade Required", "only WebSocket version 13 (RFC 6455) is spoken", NULL);
    apex_res_header(&x->res, "Sec-WebSocket-Version", "13");
    return 1;
  }
  if (!key || strlen(key) != 24 || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != 22 ||
      strcmp(key + 22, "=="))
    return problem(x, APEX_E_BAD_REQUEST, "Sec-WebSocket-Key must be 16 bytes in base64"), 1;
  /* A browser page may open a socket with the user's token only from an origin allowed to call
   * the API (CORS_ORIGINS) or from the server's own pages; clients that send no Origin are no
   * browser and are not held to it. */
  if (origin && !x->origin_ok) {
    const char *rest = !strncmp(origin, "http://", 7) ? origin + 7 : !strncmp(origin, "https://", 8) ? origin + 8 : NULL;
    if (!rest || !host || strcasecmp(rest, host))
      return problem(x, APEX_E_FORBIDDEN, "this Origin may not open a WebSocket here (CORS_ORIGINS)"), 1;
  }
  if (srv->o.ws_accept(srv->o.ws_ctx, req, &x->res, &x->ws_peer) || !x->ws_peer) {
    if (x->res.status < 400)
      problem(x, APEX_E_UNAUTHORIZED, "authentication required");
    return 1;
  }
  char accept[APEX_SECRETS_WS_ACCEPT_LEN];
  apex_secrets_ws_accept(key, accept);
  struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, srv);
  if (!r || !accept[0]) {
    if (r)
      MHD_destroy_response(r);
    srv->o.ws_discard(x->ws_peer);
    x->ws_peer = NULL;
    return problem(x, APEX_E_INTERNAL, NULL), 1;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
  MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
  MHD_add_response_header(r, "X-Request-ID", req->request_id);
  x->status_sent = 101;
  x->dispatched = true;
  enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  MHD_destroy_response(r);
  if (ok != MHD_YES) {
    srv->o.ws_discard(x->ws_peer);
    x->ws_peer = NULL;
    x->status_sent = 0;
    return problem(x, APEX_E_INTERNAL, NULL), 1;
  }
  return 0;
}

static enum MHD_Result dispatch(apex_server *srv, struct MHD_Connection *c, req_ctx *x)
{
  apex_req *req = &x->req;
  const apex_route *route = NULL;
  unsigned allow = 0, allow_hdr = 0;

  if (x->bad) {
    problem(x, APEX_E_BAD_REQUEST, x->bad);
    goto send;
  }
  if (x->busy) {
    problem(x, APEX_E_TOO_MANY_REQUESTS, "too many requests in flight from this client");
    apex_res_header(&x->res, "Retry-After", "1");
    goto send;
  }
  if (x->too_big) {
    char d[96];
    snprintf(d, sizeof d, "the body is larger than %zu bytes, the most this endpoint takes", x->limit);
    problem(x, APEX_E_PAYLOAD_TOO_LARGE, d);
    goto send;
  }
  apex_match m = x->match;
  route = x->route;
  allow = x->allow;
  if (req->method == APEX_HTTP_OPTIONS) {
    if (!allow) {
      problem(x, APEX_E_NOT_FOUND, "no such endpoint");
      goto send;
    }
    apex_res_reset(&x->res);
    x->res.status = 204;
    allow_hdr = allow;
    const char *want = apex_req_header(req, "Access-Control-Request-Method");
    if (x->origin_ok && want) {
      char text[96];
      apex_http_allow_text(allow, text, sizeof text);
      apex_res_header(&x->res, "Access-Control-Allow-Methods", text);
      const char *hdrs = apex_req_header(req, "Access-Control-Request-Headers");
      apex_res_header(&x->res, "Access-Control-Allow-Headers",
                      hdrs && header_list_ok(hdrs) ? hdrs : "Authorization, Content-Type, X-Request-ID");
      apex_res_header(&x->res, "Access-Control-Max-Age", "600");
    }
    req->route_name = "preflight";
    goto send;
  }
  if (m == APEX_MATCH_NOT_FOUND) {
    if (srv->o.static_root && (req->method == APEX_HTTP_GET || req->method == APEX_HTTP_HEAD) &&
        strncmp(req->path, "/api/", 5) && strcmp(req->path, "/api")) {
      req->route_name = "web";
      if (apex_static_serve(srv->o.static_root, req->path + 1, &x->res))
        problem(x, APEX_E_INTERNAL, NULL);
      goto send;
    }
    problem(x, APEX_E_NOT_FOUND, "no such endpoint");
    goto send;
  }
  if (m == APEX_MATCH_BAD_METHOD) {
    char d[160];
    snprintf(d, sizeof d, "%s is not allowed on this endpoint", req->method_name);
    problem(x, APEX_E_METHOD_NOT_ALLOWED, d);
    allow_hdr = allow;
    goto send;
  }
  req->route_name = route->name;
  if (req->body_len && !(route->flags & APEX_ROUTE_ANY_BODY) &&
      !is_json_type(apex_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
    problem(x, APEX_E_UNSUPPORTED_MEDIA_TYPE, "the body must be JSON (Content-Type: application/json)");
    goto send;
  }
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_iter, req);
  req->query_parsed = true;
  if (!query_utf8(req)) {
    problem(x, APEX_E_BAD_REQUEST, "the query string is not valid UTF-8");
    goto send;
  }
  if (route->auth) {
    int a = srv->o.authenticate ? srv->o.authenticate(req, &x->res, srv->o.app) : -1;
    if (a != 0 || !req->user_id[0]) {
      if (x->res.status < 400)
        problem(x, APEX_E_UNAUTHORIZED, "authentication required");
      goto send;
    }
    apex_res_reset(&x->res);
  }
  if (route->flags & APEX_ROUTE_UPGRADE) {
    if (!srv->o.ws_accept) {
      problem(x, APEX_E_NOT_IMPLEMENTED, "this server has no WebSocket hub");
      goto send;
    }
    if (atomic_load(&srv->stopping)) {
      problem(x, APEX_E_UNAVAILABLE, "the server is shutting down");
      goto send;
    }
    if (ws_handshake(srv, c, x))
      goto send;
    return MHD_YES;
  }
  if (route->fn(req, &x->res, srv->o.app) != 0 || x->res.status == 0) {
    /* The handler failed without saying how: do not leak its state. */
    if (x->res.status == 0 || x->res.status < 400) {
      apex_log_fields(APEX_LOG_ERROR, "handler failed without a response",
                      (apex_log_field[]){APEX_LOG_S("request_id", req->request_id), APEX_LOG_S("route", route->name)},
                      2);
      problem(x, APEX_E_INTERNAL, NULL);
    }
  }
send:
  x->dispatched = true;
  return send_res(srv, c, x, allow_hdr);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
  (void)version;
  apex_server *srv = cls;
  req_ctx *x = *con_cls;

  if (!x) {
    /* First call: headers only. Answering here would force Connection: close, so we set up
     * and answer on a later call (the measured 3x difference in ARCHITECTURE.md). */
    x = calloc(1, sizeof *x);
    if (!x)
      return MHD_NO;
    *con_cls = x;
    atomic_fetch_add(&srv->in_flight, 1);
    clock_gettime(CLOCK_MONOTONIC, &x->start);
    apex_req *req = &x->req;
    req->method = apex_http_method_parse(method);
    req->method_name = method;
    req->path = url;
    req->raw_query = "";
    req->header_fn = header_lookup;
    req->hctx = c;
    req->prom = srv->o.prom;
    x->res.instance = url;
    client_ip(srv, c, req->client_ip, sizeof req->client_ip);
    const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-ID");
    if (apex_http_request_id_ok(rid))
      snprintf(req->request_id, sizeof req->request_id, "%s", rid);
    else
      make_request_id(req->request_id);
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (origin && apex_http_origin_allowed(srv->o.cors_origins, origin) && !strpbrk(origin, "\r\n"))
      x->origin_ok = origin;
    /* Refused before any body byte is read; answering now also closes the connection, which
     * is what an ambiguous framing needs. The path is echoed in problem bodies and the log. */
    if (!apex_utf8_valid(url)) {
      x->res.instance = NULL;
      x->bad = "the path is not valid UTF-8";
    } else {
      x->bad = framing_problem(c);
    }
    if (x->bad)
      return dispatch(srv, c, x);
    /* A direct client is held to its connections; one behind a proxy shares the proxy's, so its
     * requests in flight are what is counted. */
    if (!(x->counted = apex_peers_enter(srv->clients, req->client_ip, srv->per_client))) {
      x->busy = true;
      return dispatch(srv, c, x);
    }
    /* Routed now: the route's kind sets the body limit before any body byte is read. */
    x->match = apex_router_match(srv->o.routes, srv->o.n_routes, (int)req->method, url, req, &x->route, &x->allow);
    x->limit = apex_http_body_limit(x->match == APEX_MATCH_FOUND ? APEX_ROUTE_BODY_KIND(x->route->flags)
                                                                 : APEX_BODY_SMALL);
    if (x->match == APEX_MATCH_FOUND)
      req->route_name = x->route->name; /* for the log line of a request refused or cut early */
    /* libmicrohttpd has checked that a Content-Length is all digits and fits 64 bits. */
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (declared > x->limit) {
      x->too_big = true;
      const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
      if ((expect && !strcasecmp(expect, "100-continue")) || declared > DRAIN_MAX)
        return dispatch(srv, c, x); /* no body sent yet, or too much to drain: MHD closes after */
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (x->dispatched)
      return MHD_YES;
    x->seen += n;
    if (x->seen > x->limit && !x->too_big) {
      /* A chunked body has no length to refuse up front: from here it is dropped (see DRAIN_MAX). */
      x->too_big = true;
      free(x->body);
      x->body = NULL;
      x->body_len = x->body_cap = 0;
    }
    if (x->too_big) {
      if (x->seen <= DRAIN_MAX)
        return MHD_YES;
      x->cut = true;
      return MHD_NO;
    }
    if (x->body_len + n + 1 > x->body_cap) {
      size_t cap = x->body_cap ? x->body_cap : 4096;
      while (cap < x->body_len + n + 1)
        cap *= 2;
      char *nb = realloc(x->body, cap);
      if (!nb)
        return MHD_NO;
      x->body = nb;
      x->body_cap = cap;
    }
    memcpy(x->body + x->body_len, upload_data, n);
    x->body_len += n;
    x->body[x->body_len] = 0;
    return MHD_YES;
  }
  if (x->dispatched)
    return MHD_YES;
  x->req.body = x->body;
  x->req.body_len = x->body_len;
  return dispatch(srv, c, x);
}

/* Errors are always worth a line; successes, under load, are most of the disk a log takes. */
static bool logged(apex_server *srv, int status)
{
  switch (srv->o.access_log) {
  case APEX_ACCESS_LOG_ALL:
    return true;
  case APEX_ACCESS_LOG_SAMPLED:
    if (status < 400)
      return atomic_fetch_add_explicit(&srv->sampled, 1, memory_order_relaxed) % srv->access_log_sample == 0;
    return true;
  case APEX_ACCESS_LOG_ERRORS:
    return status >= 400;
  default:
    return false;
  }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
  (void)c;
  (void)toe; /* an aborted request shows as status 499 */
  apex_server *srv = cls;
  req_ctx *x = *con_cls;
  if (!x)
    return;
  *con_cls = NULL;
  double ms = ms_since(&x->start);
  /* 499 (nginx's "client closed request") marks requests that ended before an answer was sent;
   * 413 those cut off past DRAIN_MAX. */
  int status = x->status_sent ? x->status_sent : x->cut ? 413 : 499;
  const char *route = x->req.route_name ? x->req.route_name : "unmatched";
  apex_prom_observe_request(srv->o.prom, route, x->req.method_name ? x->req.method_name : "?", status, ms / 1e3);
  if (logged(srv, status)) {
    apex_log_field f[] = {
        APEX_LOG_S("request_id", x->req.request_id), APEX_LOG_S("method", x->req.method_name),
        APEX_LOG_S("route", route),                  APEX_LOG_S("path", x->req.path),
        APEX_LOG_I("status", status),                APEX_LOG_N("duration_ms", ms),
        APEX_LOG_S("client_ip", x->req.client_ip),   APEX_LOG_S("user_id", x->req.user_id[0] ? x->req.user_id : NULL),
    };
    apex_log_fields(APEX_LOG_INFO, "request", f, APEX_ARRAY_LEN(f));
  }
  if (x->ws_peer) /* accepted, but the socket never came */
    srv->o.ws_discard(x->ws_peer);
  if (x->counted)
    apex_peers_leave(srv->clients, x->req.client_ip);
  apex_req_end(&x->req);
  apex_res_reset(&x->res);
  free(x->body);
  if (!x->upgraded)
    atomic_fetch_sub(&srv->in_flight, 1);
  free(x);
}

/* Called by the worker that accepted a connection: once stopping, MHD closes it at once. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
  (void)addrlen;
  apex_server *srv = cls;
  if (atomic_load_explicit(&srv->stopping, memory_order_relaxed))
    return MHD_NO;
  /* Refused connections are closed at once: a client learns now, instead of waiting in the
   * listen backlog behind connections that will never finish (one address holding thousands). */
  char peer[64];
  addr_text(addr, peer, sizeof peer);
  if (apex_peers_total(srv->conns) >= srv->conn_limit - srv->conn_limit / 20)
    return MHD_NO;
  if (!apex_proxies_trusted(srv->proxies, peer) && apex_peers_count(srv->conns, peer) >= srv->per_client)
    return MHD_NO;
  return MHD_YES;
}

/* Counts connections per peer (the socket context holds the key until the close), and gives a new
 * connection the short timeout for its request; send_res() gives it the idle one after. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
  apex_server *srv = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    char *peer = malloc(64);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!peer)
      return;
    addr_text(ci ? ci->client_addr : NULL, peer, 64);
    if (!apex_peers_enter(srv->conns, peer, UINT_MAX)) {
      free(peer);
      return;
    }
    *socket_context = peer;
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, srv->request_timeout_s);
  } else if (*socket_context) {
    apex_peers_leave(srv->conns, *socket_context);
    free(*socket_context);
    *socket_context = NULL;
  }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && msg[n - 1] == '\n')
    msg[--n] = 0;
  apex_log_fields(APEX_LOG_WARN, "http", (apex_log_field[]){APEX_LOG_S("detail", msg)}, 1);
}

/* Thousands of connections need thousands of descriptors; lift the soft limit to the hard one. */
static void raise_fd_limit(unsigned want)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want + 64 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

apex_err apex_server_start(const apex_server_opts *opts, apex_server **out, apex_error *err)
{
  apex_err rc = APEX_OK;
  apex_server *srv = NULL;
  struct sockaddr_in sin;
  struct sockaddr_in6 sin6;
  const struct sockaddr *sa;
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TURBO | MHD_ALLOW_UPGRADE;

  *out = NULL;
  srv = calloc(1, sizeof *srv);
  size_t n_routes = opts->n_routes + opts->n_extra_routes;
  if (!srv || !(srv->routes = calloc(n_routes ? n_routes : 1, sizeof *srv->routes))) {
    rc = apex_error_set(err, APEX_ENOMEM, "out of memory");
    goto out;
  }
  if (opts->n_routes)
    memcpy(srv->routes, opts->routes, opts->n_routes * sizeof *srv->routes);
  if (opts->n_extra_routes)
    memcpy(srv->routes + opts->n_routes, opts->extra_routes, opts->n_extra_routes * sizeof *srv->routes);
  if ((rc = apex_router_check(srv->routes, n_routes, err)))
    goto out;
  srv->o = *opts;
  srv->o.routes = srv->routes;
  srv->o.n_routes = n_routes;
  srv->o.extra_routes = NULL;
  srv->o.n_extra_routes = 0;
  const char *host = opts->host && opts->host[0] ? opts->host : "127.0.0.1";
  memset(&sin, 0, sizeof sin);
  memset(&sin6, 0, sizeof sin6);
  if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(opts->port);
    sa = (const struct sockaddr *)&sin;
  } else if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(opts->port);
    sa = (const struct sockaddr *)&sin6;
    flags |= MHD_USE_IPv6;
  } else {
    rc = apex_error_set(err, APEX_EINVAL, "host '%s' is not a numeric IPv4 or IPv6 address", host);
    goto out;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned threads = opts->threads ? opts->threads : (cores > 0 ? (unsigned)cores : 1);
  unsigned limit = opts->conn_limit ? opts->conn_limit : 10000;
  srv->conn_limit = limit;
  srv->per_client = opts->client_limit ? opts->client_limit : 128;
  srv->request_timeout_s = opts->request_timeout_s ? opts->request_timeout_s : 10;
  srv->access_log_sample = opts->access_log_sample ? opts->access_log_sample : 100;
  srv->idle_timeout_s = opts->idle_timeout_s ? opts->idle_timeout_s : 60;
  if ((rc = apex_peers_new(&srv->conns, err)) || (rc = apex_peers_new(&srv->clients, err)) ||
      (rc = apex_proxies_parse(opts->trusted_proxies, &srv->proxies, err)))
    goto out;
  raise_fd_limit(limit);
  srv->d = MHD_start_daemon(flags, opts->port, accept_policy, srv, on_request, srv,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first, or MHD prints itself */
                            MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_LIMIT, limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, srv->idle_timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
                            MHD_OPTION_END);
  if (!srv->d) {
    rc = apex_error_set(err, APEX_EIO, "cannot listen on %s:%u: %s", host, (unsigned)opts->port,
                        errno ? strerror(errno) : "libmicrohttpd refused to start");
    goto out;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = di ? di->port : opts->port;
  *out = srv;
  srv = NULL;
out:
  if (srv) {
    free(srv->routes);
    apex_peers_free(srv->conns);
    apex_peers_free(srv->clients);
    apex_proxies_free(srv->proxies);
  }
  free(srv);
  return rc;
}

uint16_t apex_server_port(const apex_server *srv) { return srv->port; }

unsigned apex_server_stop(apex_server *srv, unsigned timeout_ms)
{
  if (!srv || srv->stopped)
    return 0;
  srv->stopped = true;
  /* No MHD_quiesce_daemon(): with epoll worker threads it races the workers over removing the
   * listen socket from their epoll sets and aborts the process when it loses ("Failed to remove
   * listen FD from epoll set", libmicrohttpd 0.9.75, seen under load at SIGINT). Instead the
   * listen socket stays where it is and accept_policy() closes every new connection at once,
   * while send_res() marks answers Connection: close, so kept-alive clients leave too. */
  atomic_store(&srv->stopping, true);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (atomic_load(&srv->in_flight) > 0 && ms_since(&t0) < (double)timeout_ms) {
    struct timespec nap = {0, 5 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
  unsigned left = atomic_load(&srv->in_flight);
  if (srv->o.ws_stop)
    srv->o.ws_stop(srv->o.ws_ctx);
  MHD_stop_daemon(srv->d);
  srv->d = NULL;
  return left;
}

void apex_server_free(apex_server *srv)
{
  if (!srv)
    return;
  apex_server_stop(srv, 0);
  free(srv->routes);
  apex_peers_free(srv->conns);
  apex_peers_free(srv->clients);
  apex_proxies_free(srv->proxies);
  free(srv);
}
