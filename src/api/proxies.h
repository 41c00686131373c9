/* proxies.h - the trusted proxies (TRUSTED_PROXIES: addresses and CIDR blocks) and the real
 * client behind them: X-Forwarded-For is believed only when the peer is one of them, and only
 * up to the first hop that is not (RFC 7239 section 7.4: the rest is the client's to forge). */
#ifndef APEX_API_PROXIES_H
#define APEX_API_PROXIES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef struct apex_proxies apex_proxies;

/* list: "10.0.0.1, 192.168.0.0/16, ::1, fd00::/8" ("" or NULL: none). APEX_EINVAL names the
 * entry that is not an address or a block. */
apex_err apex_proxies_parse(const char *list, apex_proxies **out, apex_error *err);
void apex_proxies_free(apex_proxies *p);
/* addr (text) is a trusted proxy. NULL p trusts nothing. */
bool apex_proxies_trusted(const apex_proxies *p, const char *addr);
/* The client address for a request from peer carrying X-Forwarded-For xff (may be NULL): the
 * peer itself unless trusted; else the right-most forwarded address that is not a trusted proxy
 * (or the left-most when all are). An unparsable hop ends the walk at the hop before it. */
void apex_proxies_client(const apex_proxies *p, const char *peer, const char *xff, char *out, size_t cap);

#endif
