/* proxies.c - CIDR matching on inet_pton's network-order bytes; X-Forwarded-For walked from the
 * right, the end nearest to us. */
#include "api/proxies.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_TEXT 64

typedef struct block {
  int family; /* AF_INET or AF_INET6 */
  unsigned char net[16];
  int bits;
} block;

struct apex_proxies {
  size_t n;
  block b[];
};

/* "1.2.3.4" or "1.2.3.4/24" (also IPv6) into b; false when it is neither. */
static bool parse_block(const char *s, size_t len, block *b)
{
  char text[ADDR_TEXT];
  if (!len || len >= sizeof text)
    return false;
  memcpy(text, s, len);
  text[len] = 0;
  char *slash = strchr(text, '/');
  if (slash)
    *slash = 0;
  memset(b, 0, sizeof *b);
  if (inet_pton(AF_INET, text, b->net) == 1)
    b->family = AF_INET, b->bits = 32;
  else if (inet_pton(AF_INET6, text, b->net) == 1)
    b->family = AF_INET6, b->bits = 128;
  else
    return false;
  if (slash) {
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end || bits < 0 || bits > b->bits)
      return false;
    b->bits = (int)bits;
  }
  return true;
}

static void trim(const char **s, size_t *len)
{
  while (*len && (**s == ' ' || **s == '\t'))
    (*s)++, (*len)--;
  while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
    (*len)--;
}

apex_err apex_proxies_parse(const char *list, apex_proxies **out, apex_error *err)
{
  size_t n = 0;
  *out = NULL;
  if (!list || !*list)
    return APEX_OK;
  for (const char *c = list; *c; c++)
    n += *c == ',';
  apex_proxies *p = calloc(1, sizeof *p + (n + 1) * sizeof p->b[0]);
  if (!p)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  for (const char *s = list;;) {
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    const char *item = s;
    trim(&item, &len);
    if (len && !parse_block(item, len, &p->b[p->n])) {
      free(p);
      return apex_error_set(err, APEX_EINVAL, "TRUSTED_PROXIES: '%.*s' is not an address or a CIDR block",
                            (int)(len > 60 ? 60 : len), item);
    }
    p->n += len > 0;
    if (!comma)
      break;
    s = comma + 1;
  }
  *out = p;
  return APEX_OK;
}

void apex_proxies_free(apex_proxies *p) { free(p); }

static bool in_block(const block *b, int family, const unsigned char *a)
{
  if (b->family != family)
    return false;
  int full = b->bits / 8, rest = b->bits % 8;
  if (memcmp(a, b->net, (size_t)full))
    return false;
  return !rest || ((a[full] ^ b->net[full]) & (0xFF << (8 - rest)) & 0xFF) == 0;
}

/* addr (len bytes, not NUL-terminated) as network bytes; family 0 when it is not an address. */
static int to_bytes(const char *addr, size_t len, unsigned char out[16])
{
  char text[ADDR_TEXT];
  if (!len || len >= sizeof text)
    return 0;
  memcpy(text, addr, len);
  text[len] = 0;
  if (inet_pton(AF_INET, text, out) == 1)
    return AF_INET;
  if (inet_pton(AF_INET6, text, out) == 1)
    return AF_INET6;
  return 0;
}

static bool trusted_bytes(const apex_proxies *p, int family, const unsigned char *a)
{
  for (size_t i = 0; p && i < p->n; i++)
    if (in_block(&p->b[i], family, a))
      return true;
  return false;
}

bool apex_proxies_trusted(const apex_proxies *p, const char *addr)
{
  unsigned char a[16];
  int family = addr ? to_bytes(addr, strlen(addr), a) : 0;
  return family && trusted_bytes(p, family, a);
}

void apex_proxies_client(const apex_proxies *p, const char *peer, const char *xff, char *out, size_t cap)
{
  snprintf(out, cap, "%s", peer);
  if (!xff || !apex_proxies_trusted(p, peer))
    return;
  /* Walk hops right to left: each trusted one hands over to the hop before it. */
  size_t end = strlen(xff);
  while (end > 0) {
    size_t start = end;
    while (start > 0 && xff[start - 1] != ',')
      start--;
    const char *hop = xff + start;
    size_t len = end - start;
    trim(&hop, &len);
    unsigned char a[16];
    int family = to_bytes(hop, len, a);
    if (!family)
      return; /* garbage: keep the last hop we could trust */
    snprintf(out, cap, "%.*s", (int)len, hop);
    if (!trusted_bytes(p, family, a))
      return;
    end = start ? start - 1 : 0;
  }
}
