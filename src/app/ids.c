/* ids.c - new record ids: UUID version 4 from the kernel's random numbers. */
#include "app/ids.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>

apex_err apex_app_new_id(apex_id out)
{
  uint8_t b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t r = getrandom(b + got, sizeof b - got, 0);
    if (r < 0)
      return APEX_EIO;
    got += (size_t)r;
  }
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  snprintf(out, APEX_ID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
           b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return APEX_OK;
}

bool apex_app_id_ok(const char *s)
{
  static const char *const SHAPE = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  for (int i = 0; i < 36; i++) {
    char c = s[i];
    if (SHAPE[i] == '-' ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return s[36] == '\0';
}

void apex_app_name_id(void (*sha256_hex)(const char *text, char *out), const char *text, apex_id out)
{
  char hex[65];
  sha256_hex(text, hex);
  hex[12] = '5';                  /* name-based version, RFC 4122 variant */
  hex[16] = "89ab"[hex[16] % 4];
  snprintf(out, APEX_ID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}
