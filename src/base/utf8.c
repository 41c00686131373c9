/* utf8.c - UTF-8 well-formedness per RFC 3629's table of valid byte sequences. */
#include "base/utf8.h"

size_t apex_utf8_seq(const unsigned char *s, size_t avail)
{
  unsigned c = s[0];
  size_t n;
  unsigned lo = 0x80, hi = 0xBF; /* bounds of the second byte */
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0; /* overlong */
    else if (c == 0xED)
      hi = 0x9F; /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90; /* overlong */
    else if (c == 0xF4)
      hi = 0x8F; /* above U+10FFFF */
  } else
    return 0;
  if (avail < n || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  return n;
}

size_t apex_utf8_trim(char *s)
{
  unsigned char *p = (unsigned char *)s;
  size_t left = 0, at = 0;
  while (p[left])
    left++;
  while (at < left) {
    size_t k = apex_utf8_seq(p + at, left - at);
    if (!k)
      break;
    at += k;
  }
  s[at] = 0;
  return at;
}

bool apex_utf8_valid(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t left = 0;
  while (p[left])
    left++;
  while (left) {
    size_t k = apex_utf8_seq(p, left);
    if (!k)
      return false;
    p += k;
    left -= k;
  }
  return true;
}
