/* mail.c - one SMTP message through libcurl (see mail.h). */
#include "sys/mail.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
  const char *data;
  size_t len, pos;
} reader;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ctx)
{
  reader *r = ctx;
  size_t n = size * nitems, left = r->len - r->pos;
  if (n > left)
    n = left;
  memcpy(buf, r->data + r->pos, n);
  r->pos += n;
  return n;
}

/* The address inside "Name <addr>", or the whole text. */
static void bare(const char *in, char *out, size_t cap)
{
  const char *lt = strchr(in, '<'), *gt = lt ? strchr(lt, '>') : NULL;
  if (lt && gt && gt > lt)
    snprintf(out, cap, "<%.*s>", (int)(gt - lt - 1), lt + 1);
  else
    snprintf(out, cap, "<%s>", in);
}

apex_err apex_mail_send(const char *url, const char *from, const char *to, const char *subject, const char *body,
                        apex_error *err)
{
  apex_err rc = APEX_OK;
  CURL *c = NULL;
  struct curl_slist *rcpt = NULL;
  char *msg = NULL, from_addr[300], to_addr[300];
  reader r = {0};

  /* Header injection: a newline in a header field would let it add headers. */
  if (strpbrk(from, "\r\n") || strpbrk(to, "\r\n") || strpbrk(subject, "\r\n"))
    return apex_error_set(err, APEX_EINVAL, "mail: line breaks in a header field");
  size_t cap = strlen(from) + strlen(to) + strlen(subject) + strlen(body) + 256;
  if (!(msg = malloc(cap)))
    return apex_error_set(err, APEX_ENOMEM, "mail: out of memory");
  r.data = msg;
  r.len = (size_t)snprintf(msg, cap, "From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
                           from, to, subject, body);
  bare(from, from_addr, sizeof from_addr);
  bare(to, to_addr, sizeof to_addr);
  if (!(c = curl_easy_init()) || !(rcpt = curl_slist_append(NULL, to_addr))) {
    rc = apex_error_set(err, APEX_ENOMEM, "mail: out of memory");
    goto out;
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_addr);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &r);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USE_SSL, (long)(strncmp(url, "smtps:", 6) ? CURLUSESSL_TRY : CURLUSESSL_ALL));
  CURLcode cc = curl_easy_perform(c);
  if (cc != CURLE_OK)
    rc = apex_error_set(err, APEX_EIO, "mail: %s", curl_easy_strerror(cc));
out:
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  free(msg);
  return rc;
}
