/* test_utf8.c - well-formedness against RFC 3629 section 4's table and Markus Kuhn's classic
 * malformed cases (overlongs, surrogates, truncated and stray continuation bytes). */
#include <criterion/criterion.h>

#include "base/utf8.h"

Test(utf8, accepts_every_length_and_the_edges)
{
  cr_assert(apex_utf8_valid(""));
  cr_assert(apex_utf8_valid("/api/v1/strategies?q=abc"));
  cr_assert(apex_utf8_valid("\xC2\x80"));         /* U+0080, smallest 2-byte */
  cr_assert(apex_utf8_valid("\xDF\xBF"));         /* U+07FF */
  cr_assert(apex_utf8_valid("\xE0\xA0\x80"));     /* U+0800, smallest 3-byte */
  cr_assert(apex_utf8_valid("\xED\x9F\xBF"));     /* U+D7FF, just below the surrogates */
  cr_assert(apex_utf8_valid("\xEE\x80\x80"));     /* U+E000, just above them */
  cr_assert(apex_utf8_valid("\xEF\xBF\xBF"));     /* U+FFFF */
  cr_assert(apex_utf8_valid("\xF0\x90\x80\x80")); /* U+10000, smallest 4-byte */
  cr_assert(apex_utf8_valid("\xF4\x8F\xBF\xBF")); /* U+10FFFF, the last code point */
  cr_assert(apex_utf8_valid("z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x93\x88"));
}

Test(utf8, refuses_malformed_sequences)
{
  static const char *const BAD[] = {
      "\x80",             /* stray continuation */
      "\xBF",             /* stray continuation */
      "\xC0\xAF",         /* overlong '/' (path traversal classic) */
      "\xC1\xBF",         /* overlong */
      "\xE0\x80\xAF",     /* overlong 3-byte '/' */
      "\xE0\x9F\xBF",     /* overlong 3-byte */
      "\xED\xA0\x80",     /* U+D800, a surrogate */
      "\xED\xBF\xBF",     /* U+DFFF */
      "\xF0\x80\x80\xAF", /* overlong 4-byte */
      "\xF4\x90\x80\x80", /* U+110000 */
      "\xF5\x80\x80\x80", /* lead byte past F4 */
      "\xFE", "\xFF", "\xFF\xFE",
      "\xC2",             /* truncated */
      "\xE2\x82",         /* truncated */
      "\xF0\x9F\x93",     /* truncated */
      "a\xC2" "a",        /* continuation missing mid-string */
  };
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
    cr_assert(!apex_utf8_valid(BAD[i]), "case %zu accepted", i);
}

Test(utf8, seq_respects_the_bytes_available)
{
  const unsigned char euro[] = {0xE2, 0x82, 0xAC};
  cr_assert_eq(apex_utf8_seq(euro, 3), 3);
  cr_assert_eq(apex_utf8_seq(euro, 2), 0);
  cr_assert_eq(apex_utf8_seq((const unsigned char *)"A", 1), 1);
}
