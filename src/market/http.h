/* http.h - the market layer's HTTP client: GET against one venue's base URL with a token bucket
 * for the venue's request weights and the spec's retry policy (section 9.3: 3 tries, back-off
 * 1, 2, 4 s capped at 10 s, on timeouts, connection errors and 5xx; 429/418 wait Retry-After).
 * The only file of the market layer that includes libcurl. A client is safe to share between
 * threads (a mutex guards the bucket; each call uses its own easy handle). */
#ifndef APEX_MARKET_HTTP_H
#define APEX_MARKET_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef struct apex_http_client apex_http_client; /* opaque */

/* Zero fields take the default in brackets. */
typedef struct apex_http_options {
  const char *base_url;    /* "https://api.binance.com" (copied); required */
  int connect_timeout_ms;  /* [5000] */
  int timeout_ms;          /* whole request [10000] */
  double bucket_capacity;  /* weight units; 0: no rate limit */
  double bucket_refill_per_s;
  int max_tries;           /* [3] */
  int backoff_base_ms;     /* first retry delay, doubled each try [1000] */
  int backoff_max_ms;      /* [10000] */
  int retry_after_max_s;   /* a longer Retry-After is APEX_ERATELIMIT at once [10] */
  int retry_after_unit_ms; /* how long a Retry-After second lasts: 1000 except in tests [1000] */
  size_t body_max;         /* longer bodies are APEX_ETOOBIG [16 MiB] */
} apex_http_options;

/* A finished exchange. body is NUL-terminated (len excludes the NUL), owned by the caller. */
typedef struct apex_http_reply {
  int status;        /* HTTP status of the last try */
  char *body;
  size_t len;
  int retry_after_s; /* the Retry-After header in seconds; -1 when absent */
  int tries;         /* requests sent, 1..max_tries */
  bool sent;         /* bytes of the last try's request left (set on APEX_ETIMEOUT and APEX_EIO too):
                      * false means the other side surely never saw it */
} apex_http_reply;

/* A request other than a plain GET (apex_http_send). */
typedef struct apex_http_request {
  const char *method;         /* "GET", "POST", "DELETE"; NULL: GET */
  const char *path_query;     /* appended to base_url */
  const char *const *headers; /* "Name: value" lines, NULL-terminated; NULL: none */
  const char *body;           /* NULL: none */
  size_t body_len;
  unsigned weight;            /* tokens taken from the bucket first */
  bool once;                  /* one try whatever happens: for a request whose repetition is not harmless
                               * (an order), the caller finds out what became of it instead */
} apex_http_request;

/* APEX_EINVAL (no base_url, negative fields, capacity without refill), APEX_ENOMEM, APEX_EIO
 * (libcurl would not start). On success free *out with apex_http_client_free. */
apex_err apex_http_client_new(const apex_http_options *o, apex_http_client **out, apex_error *err);
void apex_http_client_free(apex_http_client *c); /* NULL is a no-op */

/* GET base_url + path_query (e.g. "/api/v3/klines?symbol=BTCUSDT"), taking weight tokens first
 * (waits while the bucket is empty; APEX_EINVAL when weight exceeds the capacity). APEX_OK with
 * *out whenever a reply came that is not retried further: 2xx, 4xx, and a 5xx after the last try;
 * the caller judges the status. APEX_ERATELIMIT with *out filled when a 429/418 asks for a wait
 * longer than retry_after_max_s or still comes on the last try. APEX_ETIMEOUT / APEX_EIO after
 * the last try timed out / could not connect; APEX_ETOOBIG for a body over body_max. On error
 * other than APEX_ERATELIMIT *out is zeroed. Free out->body with apex_http_reply_free. */
apex_err apex_http_get(apex_http_client *c, const char *path_query, unsigned weight, apex_http_reply *out,
                       apex_error *err);
/* Any method with headers and a body, otherwise as apex_http_get (which is this with GET). With
 * once, nothing is retried (429 and 5xx come back as replies, APEX_OK) and on APEX_ETIMEOUT or
 * APEX_EIO out->sent says whether the request may have arrived; *out is otherwise zeroed. */
apex_err apex_http_send(apex_http_client *c, const apex_http_request *req, apex_http_reply *out, apex_error *err);
void apex_http_reply_free(apex_http_reply *r); /* frees the body, zeroes *r; NULL is a no-op */

/* The process's one other use of libcurl, kept here so that libcurl stays behind this file: msg
 * (an RFC 5322 message, CRLF lines) sent from from_addr to to_addr ("<a@b>") through the SMTP
 * server at url (smtp:// tries STARTTLS, smtps:// requires TLS), within timeout_s. APEX_ENOMEM;
 * APEX_EIO with libcurl's reason. sys/mail.c writes the message. */
apex_err apex_http_smtp_send(const char *url, const char *from_addr, const char *to_addr, const char *msg, size_t len,
                             int timeout_s, apex_error *err);

#endif
