/* sign.h - request signatures for the venues' private APIs: the market layer's one door to OpenSSL
 * (libcrypto), as market/http.c is to libcurl. Pure functions: no I/O, no clock, no globals. Key
 * material this file copies is wiped before it is freed; the caller wipes its own. Wire formats:
 * /work/shared/reference/venues/README.md 1.10 (Binance), 2.6 (Kraken) and 3.3 (Coinbase). */
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

/* Bytes of an ES256 JWS signature in base64url without padding: 64 bytes (R||S) give 86. */
#define APEX_SIGN_ES256_SIG_B64 86

/* Coinbase Advanced Trade (ref 3.3): out = base64url(header_json) "." base64url(payload_json) "."
 * base64url(R||S), a compact JWS signed with ES256: ECDSA P-256 over the SHA-256 of the first two
 * parts joined by the '.', the signature as the 64-byte raw R||S (each half left-padded to 32
 * bytes, RFC 7518 3.4), not OpenSSL's DER. base64url is RFC 4648 section 5 without '=' padding.
 * The JSON texts are taken as given (the caller builds them; ES256 signatures are randomised, so
 * two calls give different outputs for the same input).
 * pem_private_key: a P-256 private key in PEM, "-----BEGIN EC PRIVATE KEY-----" (SEC1) or
 * "-----BEGIN PRIVATE KEY-----" (unencrypted PKCS#8). Any other curve or key type, an encrypted
 * key, or text that is not such a PEM is APEX_EINVAL (the message never shows the key); a NULL
 * argument is APEX_EINVAL. APEX_ETOOBIG when out cannot hold the token and its NUL (cap >=
 * 4 * ceil(len / 3) of each part + 88 is always enough), APEX_ENOMEM, APEX_EIO if OpenSSL fails.
 * Buffers that held the key or the signing input are wiped. On error out holds "" (cap > 0). */
apex_err apex_sign_es256_jwt(const char *pem_private_key, const char *header_json, const char *payload_json,
                             char *out, size_t cap, apex_error *err);

#endif
