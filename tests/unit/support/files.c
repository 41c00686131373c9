/* files.c - files.h. */
#include "support/files.h"

#include <stdio.h>
#include <stdlib.h>

char *apex_test_slurp(const char *path, size_t *len)
{
  char *buf = NULL;
  long n;
  FILE *f = fopen(path, "rb");
  *len = 0;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)n + 1)) ||
      fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    fclose(f);
    return NULL;
  }
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}
