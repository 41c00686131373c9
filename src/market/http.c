/* http.c - GET with a token bucket and retries over libcurl (see http.h). Only this file of the
 * market layer includes libcurl; sys/mail.c is the other includer in src/ (SMTP, a lower layer). */
#include "market/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct apex_http_client {
  char *base_url;
  apex_http_options o;
  pthread_mutex_t lock; /* guards tokens and last_ns */
  double tokens;        /* may go negative: a reservation the caller sleeps off */
  int64_t last_ns;
};

typedef struct sink {
  char *buf;
  size_t len, cap, max;
  bool too_big, oom;
  int retry_after_s;
} sink;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* curl_global_init is not thread-safe in older libcurl: once per process. */
static void curl_init(void)
{
  curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int64_t ms)
{
  if (ms <= 0)
    return;
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

apex_err apex_http_client_new(const apex_http_options *o, apex_http_client **out, apex_error *err)
{
  apex_http_client *c = NULL;
  *out = NULL;
  if (!o || !o->base_url || !*o->base_url || o->connect_timeout_ms < 0 || o->timeout_ms < 0 || o->max_tries < 0 ||
      o->backoff_base_ms < 0 || o->backoff_max_ms < 0 || o->retry_after_max_s < 0 || o->retry_after_unit_ms < 0 ||
      !(o->bucket_capacity >= 0) || !(o->bucket_refill_per_s >= 0) ||
      (o->bucket_capacity > 0 && o->bucket_refill_per_s <= 0))
    return apex_error_set(err, APEX_EINVAL, "http: invalid client options");
  pthread_once(&curl_once, curl_init);
  if (curl_init_rc != CURLE_OK)
    return apex_error_set(err, APEX_EIO, "http: libcurl: %s", curl_easy_strerror(curl_init_rc));
  if (!(c = calloc(1, sizeof *c)) || !(c->base_url = strdup(o->base_url))) {
    free(c);
    return apex_error_set(err, APEX_ENOMEM, "http: out of memory");
  }
  c->o = *o;
  c->o.base_url = c->base_url;
#define DEFAULT(f, v) if (!c->o.f) c->o.f = (v)
  DEFAULT(connect_timeout_ms, 5000);
  DEFAULT(timeout_ms, 10000);
  DEFAULT(max_tries, 3);
  DEFAULT(backoff_base_ms, 1000);
  DEFAULT(backoff_max_ms, 10000);
  DEFAULT(retry_after_max_s, 10);
  DEFAULT(retry_after_unit_ms, 1000);
  DEFAULT(body_max, (size_t)16 << 20);
#undef DEFAULT
  c->tokens = c->o.bucket_capacity;
  c->last_ns = mono_ns();
  pthread_mutex_init(&c->lock, NULL);
  *out = c;
  return APEX_OK;
}

void apex_http_client_free(apex_http_client *c)
{
  if (!c)
    return;
  pthread_mutex_destroy(&c->lock);
  free(c->base_url);
  free(c);
}

void apex_http_reply_free(apex_http_reply *r)
{
  if (!r)
    return;
  free(r->body);
  *r = (apex_http_reply){0};
}

/* Takes weight tokens, sleeping off any deficit outside the lock. Reserving (tokens going
 * negative) rather than polling keeps callers in arrival order and never oversubscribes. */
static void bucket_take(apex_http_client *c, unsigned weight)
{
  if (c->o.bucket_capacity <= 0)
    return;
  pthread_mutex_lock(&c->lock);
  int64_t now = mono_ns();
  c->tokens += (double)(now - c->last_ns) / 1e9 * c->o.bucket_refill_per_s;
  if (c->tokens > c->o.bucket_capacity)
    c->tokens = c->o.bucket_capacity;
  c->last_ns = now;
  c->tokens -= weight;
  double deficit = c->tokens < 0 ? -c->tokens : 0;
  pthread_mutex_unlock(&c->lock);
  if (deficit > 0)
    sleep_ms((int64_t)(deficit / c->o.bucket_refill_per_s * 1000.0 + 0.999));
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
  sink *s = ud;
  size_t add = size * n;
  if (add > s->max - s->len) {
    s->too_big = true;
    return 0; /* aborts the transfer */
  }
  if (s->len + add + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + add + 1)
      cap *= 2;
    char *b = realloc(s->buf, cap);
    if (!b) {
      s->oom = true;
      return 0;
    }
    s->buf = b;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, p, add);
  s->len += add;
  s->buf[s->len] = '\0';
  return add;
}

/* Retry-After in seconds (Binance sends seconds; an HTTP date is treated as absent). */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
  sink *s = ud;
  size_t len = size * n;
  static const char name[] = "retry-after:";
  if (len > sizeof name - 1 && !strncasecmp(p, name, sizeof name - 1)) {
    long v = 0;
    size_t i = sizeof name - 1;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
      i++;
    size_t start = i;
    while (i < len && p[i] >= '0' && p[i] <= '9' && v < 1000000)
      v = v * 10 + (p[i++] - '0');
    if (i > start)
      s->retry_after_s = (int)v;
  }
  return len;
}

/* One request. *status 0 when no HTTP reply came, *sent whether request bytes left; returns the
 * libcurl code. */
static CURLcode send_once(apex_http_client *c, const apex_http_request *req, const char *url, sink *s, int *status,
                          bool *sent)
{
  CURLcode rc = CURLE_OUT_OF_MEMORY;
  CURL *h = curl_easy_init();
  struct curl_slist *hdrs = NULL;
  long code = 0, req_size = 0;
  *status = 0;
  *sent = false;
  if (!h)
    goto out;
  for (const char *const *p = req->headers; p && *p; p++) {
    struct curl_slist *n = curl_slist_append(hdrs, *p);
    if (!n)
      goto out;
    hdrs = n;
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  if (req->method && strcmp(req->method, "GET"))
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
  if (req->body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
  }
  if (hdrs)
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->o.timeout_ms);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "apextrade");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* gzip: exchangeInfo is ~15 MB plain */
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
  rc = curl_easy_perform(h);
  if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
    *status = (int)code;
  *sent = *status > 0 || (curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &req_size) == CURLE_OK && req_size > 0);
out:
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return rc;
}

static int64_t backoff_ms(const apex_http_client *c, int tries)
{
  int64_t d = c->o.backoff_base_ms;
  for (int i = 1; i < tries && d < c->o.backoff_max_ms; i++)
    d *= 2;
  return d < c->o.backoff_max_ms ? d : c->o.backoff_max_ms;
}

apex_err apex_http_get(apex_http_client *c, const char *path_query, unsigned weight, apex_http_reply *out,
                       apex_error *err)
{
  apex_http_request req = {.path_query = path_query, .weight = weight};
  return apex_http_send(c, &req, out, err);
}

apex_err apex_http_send(apex_http_client *c, const apex_http_request *req, apex_http_reply *out, apex_error *err)
{
  char *url = NULL;
  sink s = {0};
  apex_err rc = APEX_OK;
  int status = 0, tries = 0;
  bool sent = false;

  *out = (apex_http_reply){0};
  if (!c || !req || !req->path_query)
    return apex_error_set(err, APEX_EINVAL, "http: no client or path");
  const char *path_query = req->path_query, *method = req->method ? req->method : "GET";
  const unsigned weight = req->weight;
  const int max_tries = req->once ? 1 : c->o.max_tries;
  if (c->o.bucket_capacity > 0 && weight > c->o.bucket_capacity)
    return apex_error_set(err, APEX_EINVAL, "http: weight %u exceeds the bucket's %.0f", weight,
                          c->o.bucket_capacity);
  size_t n = strlen(c->base_url) + strlen(path_query) + 1;
  if (!(url = malloc(n)))
    return apex_error_set(err, APEX_ENOMEM, "http: out of memory");
  snprintf(url, n, "%s%s", c->base_url, path_query);

  for (;;) {
    free(s.buf);
    s = (sink){.max = c->o.body_max, .retry_after_s = -1};
    bucket_take(c, weight);
    tries++;
    CURLcode cc = send_once(c, req, url, &s, &status, &sent);
    int64_t wait = -1; /* >= 0: retry after this many ms */
    if (s.too_big) {
      rc = apex_error_set(err, APEX_ETOOBIG, "http: %s %s: body over %zu bytes", method, path_query, c->o.body_max);
      goto out;
    }
    if (cc == CURLE_OK && (status == 429 || status == 418) && !req->once) {
      if (s.retry_after_s > c->o.retry_after_max_s || tries >= max_tries) {
        rc = apex_error_set(err, APEX_ERATELIMIT, "http: %s %s: HTTP %d, retry after %d s", method, path_query,
                            status, s.retry_after_s);
        goto reply;
      }
      wait = (int64_t)(s.retry_after_s > 0 ? s.retry_after_s : 1) * c->o.retry_after_unit_ms;
    } else if (cc == CURLE_OK && status >= 500 && tries < max_tries) {
      wait = backoff_ms(c, tries);
    } else if (cc == CURLE_OK) {
      goto reply; /* 2xx, 4xx, or a 5xx on the last try: the caller judges it */
    } else if (cc == CURLE_OUT_OF_MEMORY || s.oom) {
      rc = apex_error_set(err, APEX_ENOMEM, "http: out of memory");
      goto out;
    } else if (tries >= max_tries) {
      rc = apex_error_set(err, cc == CURLE_OPERATION_TIMEDOUT ? APEX_ETIMEOUT : APEX_EIO,
                          "http: %s %s: %s after %d tries", method, path_query, curl_easy_strerror(cc), tries);
      out->sent = sent;
      goto out;
    } else {
      wait = backoff_ms(c, tries); /* timeout, refused, reset: worth another try */
    }
    sleep_ms(wait);
  }
reply:
  out->status = status;
  out->retry_after_s = s.retry_after_s;
  out->tries = tries;
  out->sent = true;
  if (!s.buf && !(s.buf = calloc(1, 1))) {
    rc = apex_error_set(err, APEX_ENOMEM, "http: out of memory");
    *out = (apex_http_reply){0};
    goto out;
  }
  out->body = s.buf;
  out->len = s.len;
  s.buf = NULL;
out:
  free(s.buf);
  free(url);
  return rc;
}

typedef struct reader {
  const char *data;
  size_t len, pos;
} reader;

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
  reader *r = ctx;
  size_t n = size * nitems, left = r->len - r->pos;
  if (n > left)
    n = left;
  memcpy(buf, r->data + r->pos, n);
  r->pos += n;
  return n;
}

apex_err apex_http_smtp_send(const char *url, const char *from_addr, const char *to_addr, const char *msg, size_t len,
                             int timeout_s, apex_error *err)
{
  apex_err rc = APEX_OK;
  CURL *c = NULL;
  struct curl_slist *rcpt = NULL;
  reader r = {msg, len, 0};
  pthread_once(&curl_once, curl_init);
  if (curl_init_rc != CURLE_OK)
    return apex_error_set(err, APEX_EIO, "mail: libcurl would not start: %s", curl_easy_strerror(curl_init_rc));
  if (!(c = curl_easy_init()) || !(rcpt = curl_slist_append(NULL, to_addr))) {
    rc = apex_error_set(err, APEX_ENOMEM, "mail: out of memory");
    goto out;
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_addr);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(c, CURLOPT_READDATA, &r);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout_s);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USE_SSL, (long)(strncmp(url, "smtps:", 6) ? CURLUSESSL_TRY : CURLUSESSL_ALL));
  CURLcode cc = curl_easy_perform(c);
  if (cc != CURLE_OK)
    rc = apex_error_set(err, APEX_EIO, "mail: %s", curl_easy_strerror(cc));
out:
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  return rc;
}
