/* test_proxies.c - TRUSTED_PROXIES parsing, CIDR matching at the bit boundary, and the client
 * behind the proxies as RFC 7239 section 7.4 asks: right to left, never past an untrusted hop. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/proxies.h"

static apex_proxies *P(const char *list)
{
  apex_proxies *p = NULL;
  apex_error err = {0};
  cr_assert_eq(apex_proxies_parse(list, &p, &err), APEX_OK, "%s", err.msg);
  return p;
}

static const char *client(const apex_proxies *p, const char *peer, const char *xff)
{
  static char out[64];
  apex_proxies_client(p, peer, xff, out, sizeof out);
  return out;
}

Test(proxies, blocks_match_at_the_bit_boundary)
{
  apex_proxies *p = P(" 10.0.0.0/8,192.168.1.128/25 , 127.0.0.1, fd00::/8, ::1 ");
  cr_assert(apex_proxies_trusted(p, "10.255.1.2"));
  cr_assert(!apex_proxies_trusted(p, "11.0.0.1"));
  cr_assert(apex_proxies_trusted(p, "192.168.1.128"));
  cr_assert(apex_proxies_trusted(p, "192.168.1.255"));
  cr_assert(!apex_proxies_trusted(p, "192.168.1.127")); /* one below the /25 */
  cr_assert(apex_proxies_trusted(p, "127.0.0.1"));
  cr_assert(!apex_proxies_trusted(p, "127.0.0.2"));
  cr_assert(apex_proxies_trusted(p, "fd12::1"));
  cr_assert(!apex_proxies_trusted(p, "fe80::1"));
  cr_assert(apex_proxies_trusted(p, "::1"));
  cr_assert(!apex_proxies_trusted(p, "not an address"));
  apex_proxies_free(p);
  cr_assert(!apex_proxies_trusted(NULL, "127.0.0.1")); /* none configured: nothing trusted */
}

Test(proxies, bad_entries_are_named)
{
  static const char *const BAD[] = {"10.0.0.0/33", "nginx", "10.0.0.1/", "::1/129", "1.2.3.4/x", "1.2.3"};
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    apex_proxies *p = NULL;
    apex_error err = {0};
    cr_assert_eq(apex_proxies_parse(BAD[i], &p, &err), APEX_EINVAL, "%s accepted", BAD[i]);
    cr_assert(strstr(err.msg, BAD[i]) && strstr(err.msg, "TRUSTED_PROXIES"), "%s", err.msg);
    cr_assert_null(p);
  }
}

Test(proxies, the_client_is_the_first_untrusted_hop_from_the_right)
{
  apex_proxies *p = P("127.0.0.1,10.0.0.0/8");
  /* An untrusted peer's header is the client's to forge: ignored. */
  cr_assert_str_eq(client(p, "127.0.0.2", "203.0.113.7"), "127.0.0.2");
  cr_assert_str_eq(client(p, "127.0.0.1", NULL), "127.0.0.1");
  cr_assert_str_eq(client(p, "127.0.0.1", "203.0.113.7"), "203.0.113.7");
  /* The left-most entry is whatever the client wrote: only the hops our proxies added count. */
  cr_assert_str_eq(client(p, "127.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.5"), "203.0.113.7");
  /* All trusted: the left-most. */
  cr_assert_str_eq(client(p, "127.0.0.1", "10.0.0.9,10.0.0.5"), "10.0.0.9");
  /* Garbage stops the walk at the last hop that could be trusted. */
  cr_assert_str_eq(client(p, "127.0.0.1", "203.0.113.7, <script>, 10.0.0.5"), "10.0.0.5");
  cr_assert_str_eq(client(p, "127.0.0.1", "unknown"), "127.0.0.1");
  cr_assert_str_eq(client(p, "127.0.0.1", ""), "127.0.0.1");
  cr_assert_str_eq(client(p, "127.0.0.1", " 2001:db8::1 "), "2001:db8::1");
  apex_proxies_free(p);
}
