/* gzip.c - zlib behind one function; output grows geometrically up to the caller's cap. */
#include "io/gzip.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

bool apex_gzip_is(const char *data, size_t len)
{
  return len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b;
}

apex_err apex_gzip_inflate(const char *data, size_t len, size_t max_out, char **out, size_t *out_len,
                           apex_error *err)
{
  z_stream zs = {0};
  char *buf = NULL;
  size_t cap = 0, n = 0;
  apex_err rc = APEX_OK;
  bool init = false;
  int zr;

  *out = NULL;
  *out_len = 0;
  if (len > UINT_MAX)
    return apex_error_set(err, APEX_ETOOBIG, "gzip: %zu compressed bytes, more than zlib takes at once", len);
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper only */
    return apex_error_set(err, APEX_ENOMEM, "gzip: cannot initialise zlib");
  init = true;
  zs.next_in = (Bytef *)(uintptr_t)data; /* zlib does not write through next_in */
  zs.avail_in = (uInt)len;
  for (;;) {
    if (n == cap) {
      if (cap > max_out) {
        rc = apex_error_set(err, APEX_ETOOBIG, "gzip: inflates to more than %zu bytes", max_out);
        goto out;
      }
      size_t ncap = cap ? cap * 2 : (len < 64 ? 256 : len * 4);
      if (ncap > max_out + 1)
        ncap = max_out + 1; /* one byte over the cap tells "too big" from "exactly the cap" */
      if (ncap <= cap) {
        rc = apex_error_set(err, APEX_ETOOBIG, "gzip: inflates to more than %zu bytes", max_out);
        goto out;
      }
      char *nb = realloc(buf, ncap + 1);
      if (!nb) {
        rc = apex_error_set(err, APEX_ENOMEM, "gzip: out of memory");
        goto out;
      }
      buf = nb;
      cap = ncap;
    }
    size_t room = cap - n;
    zs.next_out = (Bytef *)buf + n;
    zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
    uInt before = zs.avail_out;
    zr = inflate(&zs, Z_NO_FLUSH);
    n += before - zs.avail_out;
    if (zr == Z_STREAM_END) {
      /* Another member may follow (gzip files may be concatenated); trailing zeros are padding. */
      while (zs.avail_in && *zs.next_in == 0) {
        zs.next_in++;
        zs.avail_in--;
      }
      if (!zs.avail_in)
        break;
      if (inflateReset(&zs) != Z_OK) {
        rc = apex_error_set(err, APEX_EPARSE, "gzip: corrupt data after member end");
        goto out;
      }
      continue;
    }
    if (zr == Z_BUF_ERROR && zs.avail_out != 0) { /* no progress with room left: input ran out */
      rc = apex_error_set(err, APEX_EPARSE, "gzip: truncated data");
      goto out;
    }
    if (zr != Z_OK && zr != Z_BUF_ERROR) {
      rc = apex_error_set(err, zr == Z_MEM_ERROR ? APEX_ENOMEM : APEX_EPARSE, "gzip: %s",
                          zs.msg ? zs.msg : "corrupt data");
      goto out;
    }
  }
  if (n > max_out) {
    rc = apex_error_set(err, APEX_ETOOBIG, "gzip: inflates to more than %zu bytes", max_out);
    goto out;
  }
  buf[n] = '\0';
  *out = buf;
  *out_len = n;
  buf = NULL;
out:
  if (init)
    inflateEnd(&zs);
  free(buf);
  return rc;
}
