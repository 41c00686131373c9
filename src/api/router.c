/* router.c - route matching, query parsing, percent-decoding, request memory. Pure functions
 * over strings: everything here is reachable from tests/fuzz/fuzz_router.c. */
#include "api/router.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SEGMENTS 32

/* --- request memory: one malloc per allocation, each a node in a list freed at the end --- */
struct apex_req_cleanup {
  struct apex_req_cleanup *next;
  void (*fn)(void *);
  void *ptr;
  alignas(max_align_t) unsigned char data[]; /* apex_req_alloc's memory */
};

void apex_req_init(apex_req *req) { memset(req, 0, sizeof *req); }

void apex_req_end(apex_req *req)
{
  struct apex_req_cleanup *c = req->cleanups;
  while (c) {
    struct apex_req_cleanup *next = c->next;
    if (c->fn)
      c->fn(c->ptr);
    free(c);
    c = next;
  }
  req->cleanups = NULL;
}

void *apex_req_alloc(apex_req *req, size_t size)
{
  if (size > SIZE_MAX - sizeof(struct apex_req_cleanup))
    return NULL;
  struct apex_req_cleanup *c = malloc(sizeof *c + size);
  if (!c)
    return NULL;
  c->fn = NULL;
  c->ptr = NULL;
  c->next = req->cleanups;
  req->cleanups = c;
  return c->data;
}

char *apex_req_strdup(apex_req *req, const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = apex_req_alloc(req, n);
  if (d)
    memcpy(d, s, n);
  return d;
}

static char *req_strndup(apex_req *req, const char *s, size_t n)
{
  char *d = apex_req_alloc(req, n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = 0;
  }
  return d;
}

apex_err apex_req_defer(apex_req *req, void (*fn)(void *), void *ptr)
{
  struct apex_req_cleanup *c = malloc(sizeof *c);
  if (!c) {
    fn(ptr);
    return APEX_ENOMEM;
  }
  c->fn = fn;
  c->ptr = ptr;
  c->next = req->cleanups;
  req->cleanups = c;
  return APEX_OK;
}

/* --- accessors --- */
const char *apex_req_param(const apex_req *req, const char *name)
{
  for (size_t i = 0; i < req->n_params; i++)
    if (!strcmp(req->params[i].name, name))
      return req->params[i].value;
  return NULL;
}

const char *apex_req_query(apex_req *req, const char *name)
{
  if (!req->query_parsed)
    apex_http_query_parse(req, req->raw_query ? req->raw_query : "");
  for (size_t i = 0; i < req->n_query; i++)
    if (!strcmp(req->query[i].name, name))
      return req->query[i].value;
  return NULL;
}

const char *apex_req_header(const apex_req *req, const char *name)
{
  return req->header_fn ? req->header_fn(req->hctx, name) : NULL;
}

/* --- decoding --- */
static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

size_t apex_http_pct_decode(char *s, bool plus)
{
  char *w = s;
  for (const char *r = s; *r; r++) {
    if (*r == '%' && r[1] && r[2]) {
      int hi = hexval(r[1]), lo = hexval(r[2]);
      if (hi >= 0 && lo >= 0 && (hi | lo)) { /* %00 would cut the string: keep it literal */
        *w++ = (char)(hi * 16 + lo);
        r += 2;
        continue;
      }
    }
    *w++ = (plus && *r == '+') ? ' ' : *r;
  }
  *w = 0;
  return (size_t)(w - s);
}

size_t apex_http_query_parse(apex_req *req, const char *raw)
{
  req->query_parsed = true;
  req->n_query = 0;
  const char *p = raw;
  while (*p && req->n_query < APEX_HTTP_MAX_QUERY) {
    size_t len = strcspn(p, "&;");
    if (len) {
      const char *eq = memchr(p, '=', len);
      size_t klen = eq ? (size_t)(eq - p) : len;
      char *k = req_strndup(req, p, klen);
      char *v = eq ? req_strndup(req, eq + 1, len - klen - 1) : req_strndup(req, "", 0);
      if (!k || !v)
        break;
      apex_http_pct_decode(k, true);
      apex_http_pct_decode(v, true);
      req->query[req->n_query].name = k;
      req->query[req->n_query].value = v;
      req->n_query++;
    }
    p += len;
    if (*p)
      p++;
  }
  return req->n_query;
}

/* --- matching --- */
enum { SEG_WILD = 0, SEG_PARAM = 1, SEG_LIT = 2 };

typedef struct {
  const char *start;
  size_t len;
} span;

/* Splits "/a/b/c" into spans (without slashes); a trailing '/' on a longer path is dropped.
 * Returns the count, or -1 when there are too many segments. */
static int split_path(const char *path, span *segs, size_t *path_len)
{
  size_t len = strlen(path);
  if (len > 1 && path[len - 1] == '/')
    len--;
  *path_len = len;
  int n = 0;
  size_t i = 0;
  if (len == 0 || path[0] != '/')
    return -1;
  if (len == 1)
    return 0;
  i = 1;
  while (i <= len) {
    size_t j = i;
    while (j < len && path[j] != '/')
      j++;
    if (n >= MAX_SEGMENTS)
      return -1;
    segs[n].start = path + i;
    segs[n].len = j - i;
    n++;
    i = j + 1;
  }
  return n;
}

/* Matches one pattern; fills kinds[] and the path spans of parameters. Returns the number of
 * segments matched (>= 0) or -1. */
static int match_pattern(const char *pat, const span *segs, int nseg, const char *path, size_t path_len,
                         unsigned char *kinds, span *pvals, span *pnames, size_t *np)
{
  const char *p = pat;
  int k = 0;
  *np = 0;
  if (*p != '/')
    return -1;
  if (!strcmp(pat, "/"))
    return nseg == 0 ? 0 : -1;
  p++;
  for (;;) {
    const char *end = strchr(p, '/');
    size_t plen = end ? (size_t)(end - p) : strlen(p);
    bool is_param = plen >= 2 && p[0] == '{' && p[plen - 1] == '}';
    bool is_wild = is_param && plen >= 3 && p[plen - 2] == '*';
    if (is_wild) {
      if (end || *np >= APEX_HTTP_MAX_PARAMS)
        return -1; /* {rest*} only last */
      kinds[k] = SEG_WILD;
      pnames[*np] = (span){p + 1, plen - 3};
      if (k < nseg)
        pvals[*np] = (span){segs[k].start, (size_t)(path + path_len - segs[k].start)};
      else
        pvals[*np] = (span){"", 0};
      (*np)++;
      return k + 1;
    }
    if (k >= nseg)
      return -1;
    if (is_param) {
      if (segs[k].len == 0 || *np >= APEX_HTTP_MAX_PARAMS)
        return -1;
      kinds[k] = SEG_PARAM;
      pnames[*np] = (span){p + 1, plen - 2};
      pvals[*np] = segs[k];
      (*np)++;
    } else {
      if (plen != segs[k].len || memcmp(p, segs[k].start, plen) != 0)
        return -1;
      kinds[k] = SEG_LIT;
    }
    k++;
    if (!end)
      break;
    p = end + 1;
  }
  return k == nseg ? k : -1;
}

/* > 0 when kinds a is more specific than b. */
static int specificity_cmp(const unsigned char *a, int na, const unsigned char *b, int nb)
{
  int n = na < nb ? na : nb;
  for (int i = 0; i < n; i++)
    if (a[i] != b[i])
      return (int)a[i] - (int)b[i];
  return na - nb;
}

apex_match apex_router_match(const apex_route *routes, size_t n, int method, const char *path, apex_req *req,
                             const apex_route **out, unsigned *allow)
{
  span segs[MAX_SEGMENTS];
  size_t path_len;
  int nseg = split_path(path, segs, &path_len);
  int want = method == APEX_HTTP_HEAD ? APEX_HTTP_GET : method;
  const apex_route *best = NULL;
  unsigned char best_kinds[MAX_SEGMENTS + 1], kinds[MAX_SEGMENTS + 1];
  int best_k = 0;
  span best_vals[APEX_HTTP_MAX_PARAMS], best_names[APEX_HTTP_MAX_PARAMS];
  size_t best_np = 0;
  span vals[APEX_HTTP_MAX_PARAMS], names[APEX_HTTP_MAX_PARAMS];
  size_t np;

  *out = NULL;
  *allow = 0;
  if (nseg < 0)
    return APEX_MATCH_NOT_FOUND;
  for (size_t i = 0; i < n; i++) {
    int k = match_pattern(routes[i].pattern, segs, nseg, path, path_len, kinds, vals, names, &np);
    if (k < 0)
      continue;
    if (routes[i].method > 0 && routes[i].method < 32)
      *allow |= 1u << routes[i].method;
    if (routes[i].method != want)
      continue;
    if (best && specificity_cmp(kinds, k, best_kinds, best_k) <= 0)
      continue;
    best = &routes[i];
    memcpy(best_kinds, kinds, (size_t)k);
    best_k = k;
    memcpy(best_vals, vals, np * sizeof vals[0]);
    memcpy(best_names, names, np * sizeof names[0]);
    best_np = np;
  }
  if (!best)
    return *allow ? APEX_MATCH_BAD_METHOD : APEX_MATCH_NOT_FOUND;
  req->n_params = 0;
  for (size_t i = 0; i < best_np; i++) {
    char *name = req_strndup(req, best_names[i].start, best_names[i].len);
    char *val = req_strndup(req, best_vals[i].start, best_vals[i].len);
    if (!name || !val)
      break;
    req->params[req->n_params].name = name;
    req->params[req->n_params].value = val;
    req->n_params++;
  }
  *out = best;
  return APEX_MATCH_FOUND;
}

apex_err apex_router_check(const apex_route *routes, size_t n, apex_error *err)
{
  for (size_t i = 0; i < n; i++) {
    const char *p = routes[i].pattern;
    bool kind = routes[i].flags & APEX_ROUTE_UPGRADE; /* the server answers these */
    if (!p || p[0] != '/' || (!routes[i].fn && !kind) || !routes[i].name)
      return apex_error_set(err, APEX_EINVAL, "route %zu: pattern must start with '/', fn and name are required", i);
    if (routes[i].method <= APEX_HTTP_UNKNOWN || routes[i].method >= APEX_HTTP_HEAD)
      return apex_error_set(err, APEX_EINVAL, "route %s: method must be GET, POST, PUT, PATCH or DELETE", p);
    if (APEX_ROUTE_BODY_KIND(routes[i].flags) > APEX_BODY_DOCUMENT)
      return apex_error_set(err, APEX_EINVAL, "route %s: unknown body kind", p);
    size_t nparams = 0;
    for (const char *s = p + 1; *s;) {
      const char *end = strchr(s, '/');
      size_t len = end ? (size_t)(end - s) : strlen(s);
      if (len == 0 && end)
        return apex_error_set(err, APEX_EINVAL, "route %s: empty segment", p);
      if (memchr(s, '{', len) || memchr(s, '}', len)) {
        if (len < 3 || s[0] != '{' || s[len - 1] != '}' || memchr(s + 1, '{', len - 2) ||
            memchr(s + 1, '}', len - 2))
          return apex_error_set(err, APEX_EINVAL, "route %s: a parameter must be a whole segment {name}", p);
        if (s[len - 2] == '*' && (end || len < 4))
          return apex_error_set(err, APEX_EINVAL, "route %s: {name*} must be the last segment", p);
        if (++nparams > APEX_HTTP_MAX_PARAMS)
          return apex_error_set(err, APEX_EINVAL, "route %s: too many parameters", p);
      }
      s += len;
      if (*s)
        s++;
    }
    /* Same method and shape twice means the second is dead code. */
    for (size_t j = 0; j < i; j++) {
      if (routes[j].method != routes[i].method)
        continue;
      const char *a = routes[i].pattern, *b = routes[j].pattern;
      while (*a && *b) {
        if (*a == '{' && *b == '{') {
          a = strchr(a, '}');
          b = strchr(b, '}');
          bool wa = a[-1] == '*', wb = b[-1] == '*';
          if (wa != wb)
            break;
          a++, b++;
          continue;
        }
        if (*a != *b)
          break;
        a++, b++;
      }
      if (!*a && !*b)
        return apex_error_set(err, APEX_EINVAL, "route %s duplicates %s", routes[i].pattern, routes[j].pattern);
    }
  }
  return APEX_OK;
}

/* --- methods, reasons, ids, origins --- */
static const char *const METHOD_NAMES[] = {"", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};

apex_http_method apex_http_method_parse(const char *name)
{
  for (int i = 1; i < (int)(sizeof METHOD_NAMES / sizeof METHOD_NAMES[0]); i++)
    if (!strcmp(name, METHOD_NAMES[i]))
      return (apex_http_method)i;
  return APEX_HTTP_UNKNOWN;
}

const char *apex_http_method_name(int method)
{
  if (method <= 0 || method >= (int)(sizeof METHOD_NAMES / sizeof METHOD_NAMES[0]))
    return "UNKNOWN";
  return METHOD_NAMES[method];
}

void apex_http_allow_text(unsigned allow, char *out, size_t len)
{
  size_t w = 0;
  out[0] = 0;
  if (allow & (1u << APEX_HTTP_GET))
    allow |= 1u << APEX_HTTP_HEAD;
  allow |= 1u << APEX_HTTP_OPTIONS;
  static const int ORDER[] = {APEX_HTTP_GET, APEX_HTTP_HEAD, APEX_HTTP_POST, APEX_HTTP_PUT,
                              APEX_HTTP_PATCH, APEX_HTTP_DELETE, APEX_HTTP_OPTIONS};
  for (size_t i = 0; i < sizeof ORDER / sizeof ORDER[0]; i++) {
    if (!(allow & (1u << ORDER[i])))
      continue;
    int k = snprintf(out + w, len - w, "%s%s", w ? ", " : "", METHOD_NAMES[ORDER[i]]);
    if (k < 0 || (size_t)k >= len - w)
      break;
    w += (size_t)k;
  }
}

size_t apex_http_body_limit(int kind)
{
  switch (kind) {
  case APEX_BODY_SUBMIT: return APEX_HTTP_BODY_SUBMIT;
  case APEX_BODY_DOCUMENT: return APEX_HTTP_BODY_DOCUMENT;
  default: return APEX_HTTP_BODY_SMALL;
  }
}

const char *apex_http_reason(int status)
{
  switch (status) {
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 413: return "Payload Too Large";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Entity";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "Unknown";
  }
}

bool apex_http_request_id_ok(const char *s)
{
  size_t n = 0;
  if (!s)
    return false;
  for (; s[n]; n++) {
    char c = s[n];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == ':' || c == '-';
    if (!ok || n >= 64)
      return false;
  }
  return n > 0;
}

bool apex_http_origin_allowed(const char *list, const char *origin)
{
  if (!list || !origin || !*origin)
    return false;
  size_t olen = strlen(origin);
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && p[len - 1] == ' ')
      len--;
    if (len == 1 && *p == '*')
      return true;
    if (len && len == olen && !strncasecmp(p, origin, len))
      return true;
    p += len;
    while (*p && *p != ',')
      p++;
  }
  return false;
}
