/* gzip.h - gzip decompression with an output cap; gzip.c is the only file that includes <zlib.h>. */
#ifndef APEX_IO_GZIP_H
#define APEX_IO_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* data starts with the gzip magic bytes 1f 8b. */
bool apex_gzip_is(const char *data, size_t len);
/* Inflates a gzip buffer (concatenated members too) into a new buffer (*out, the caller frees;
 * NUL-terminated, the NUL not counted in *out_len). More than max_out bytes of output is
 * APEX_ETOOBIG; corrupt or truncated data APEX_EPARSE; on error *out is NULL. */
apex_err apex_gzip_inflate(const char *data, size_t len, size_t max_out, char **out, size_t *out_len,
                           apex_error *err);

#endif
