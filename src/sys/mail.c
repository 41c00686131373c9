/* mail.c - one SMTP message (see mail.h), sent through market/http.c: libcurl stays behind that
 * one file. */
#include "sys/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/http.h"

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
  char from_addr[300], to_addr[300];
  /* Header injection: a newline in a header field would let it add headers. */
  if (strpbrk(from, "\r\n") || strpbrk(to, "\r\n") || strpbrk(subject, "\r\n"))
    return apex_error_set(err, APEX_EINVAL, "mail: line breaks in a header field");
  size_t cap = strlen(from) + strlen(to) + strlen(subject) + strlen(body) + 256;
  char *msg = malloc(cap);
  if (!msg)
    return apex_error_set(err, APEX_ENOMEM, "mail: out of memory");
  size_t len = (size_t)snprintf(msg, cap,
                                "From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
                                from, to, subject, body);
  bare(from, from_addr, sizeof from_addr);
  bare(to, to_addr, sizeof to_addr);
  apex_err rc = apex_http_smtp_send(url, from_addr, to_addr, msg, len, 20, err);
  free(msg);
  return rc;
}
