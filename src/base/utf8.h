/* utf8.h - UTF-8 well-formedness (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF),
 * for text that comes from outside (paths, headers) and must reach JSON writers intact. Pure. */
#ifndef APEX_BASE_UTF8_H
#define APEX_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes in the well-formed sequence at s (1-4), or 0 when the bytes there are not one.
 * avail: bytes readable at s (at least 1). */
size_t apex_utf8_seq(const unsigned char *s, size_t avail);
/* The NUL-terminated s is well-formed UTF-8. */
bool apex_utf8_valid(const char *s);
/* Ends s before its first byte that does not start a well-formed sequence: text cut to fit a
 * buffer (snprintf, %.64s) loses the half character at the cut, so it can go into JSON. Returns
 * the new length. */
size_t apex_utf8_trim(char *s);

#endif
