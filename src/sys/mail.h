/* mail.h - outgoing mail (password resets) over SMTP with libcurl. mail.c is the only file that
 * includes <curl/curl.h> until the market data layer's HTTP client arrives (then both move behind
 * one libcurl wrapper). */
#ifndef APEX_SYS_MAIL_H
#define APEX_SYS_MAIL_H

#include "base/err.h"

/* Sends one plain-text message. url: "smtp://host:port" or "smtps://..." (user:password@ in the
 * URL for authentication). from and to are bare addresses or "Name <addr>". The message text never
 * appears in err (it may hold a token). APEX_EIO with curl's reason on failure. */
apex_err apex_mail_send(const char *url, const char *from, const char *to, const char *subject, const char *body,
                        apex_error *err);

#endif
