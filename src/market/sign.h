/* sign.h - request signatures for the venues' private APIs: the market layer's one door to OpenSSL
 * (libcrypto), as market/http.c is to libcurl. Pure functions: no I/O, no clock, no globals. Key
 * material this file copies is wiped before it is freed; the caller wipes its own. Wire formats:
 * /work/shared/reference/venues/README.md 1.10 (Binance) and 2.6 (Kraken). */
#ifndef APEX_MARKET_SIGN_H
#define APEX_MARKET_SIGN_H

#include <stddef.h>

#include "base/err.h"

/* Bytes of a Kraken API-Sign with its NUL: base64 of a 64-byte HMAC-SHA512. */
#define APEX_SIGN_KRAKEN_MAX 89

/* Binance (ref 1.10): out = lowercase hex of HMAC-SHA256(key, msg), 64 digits and a NUL. msg is the
 * query string concatenated, without a separator, to the request body. msg may be NULL when mlen
 * is 0. APEX_EINVAL for a NULL or empty key, a NULL msg with mlen > 0 or a key over INT_MAX bytes;
 * APEX_EIO if OpenSSL fails. On error out holds "". */
apex_err apex_sign_hmac_sha256_hex(const void *key, size_t klen, const void *msg, size_t mlen, char out[static 65]);

/* Kraken (ref 2.6): out = base64(HMAC-SHA512(base64decode(secret_b64), uri_path + SHA256(nonce +
 * post_data))), where uri_path starts at "/0/private" and the SHA-256 is the raw 32-byte digest.
 * All four strings must be given (post_data may be ""). secret_b64 is standard base64 with its
 * '=' padding, no blanks. APEX_EPARSE when it is not (the message never shows the secret),
 * APEX_EINVAL for a NULL argument or an empty secret, APEX_ETOOBIG when cap <
 * APEX_SIGN_KRAKEN_MAX, APEX_ENOMEM, APEX_EIO if OpenSSL fails. On error out holds "" (cap > 0). */
apex_err apex_sign_kraken(const char *secret_b64, const char *uri_path, const char *nonce, const char *post_data,
                          char *out, size_t cap, apex_error *err);

#endif
