/* auth.h - passwords (argon2id), RS256 access/refresh tokens, random tokens and ids.
 * Pure building blocks: no HTTP, no database, no clock (callers pass now_s). auth.c is the
 * only file that includes <jwt.h> and <sodium.h>. Every function is thread-safe. */
#ifndef APEX_API_AUTH_H
#define APEX_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "jobs/denylist.h"
#include "jobs/cache.h"

/* --- passwords --- */

#define APEX_AUTH_HASH_LEN 128        /* crypto_pwhash_STRBYTES, NUL included */
#define APEX_AUTH_PASSWORD_MIN 10     /* characters (UTF-8 code points) */
#define APEX_AUTH_PASSWORD_MAX 256
#define APEX_AUTH_EMAIL_MAX 254

/* Hashes pw with argon2id (libsodium interactive limits, ~90 ms) into out as a self-describing
 * "$argon2id$v=19$m=...,t=...,p=...$salt$hash" string. APEX_EINVAL on NULL or a password over
 * 4 * APEX_AUTH_PASSWORD_MAX bytes, APEX_ENOMEM if the memory for the hash is not available. */
apex_err apex_auth_hash_password(const char *pw, char out[static APEX_AUTH_HASH_LEN]);
/* True only when pw matches hash (comparison in constant time by libsodium); false for NULLs,
 * a malformed hash or an over-long password. */
bool apex_auth_verify_password(const char *hash, const char *pw);
/* True when hash was made with weaker limits than today's: rehash after a successful login. */
bool apex_auth_password_needs_rehash(const char *hash);

/* Registration policy: 10 to 256 characters, not equal to the email (ignoring ASCII case;
 * email may be NULL). On false, why (if not NULL) gets a sentence for the user. */
bool apex_auth_password_ok(const char *pw, const char *email, char *why, size_t cap);
/* Email syntax: at most 254 bytes, exactly one '@', a non-empty local part, a domain with a
 * dot inside (not first or last, no empty label), no spaces or control characters. */
bool apex_auth_email_ok(const char *email);

/* --- JWT (RS256) --- */

typedef struct apex_jwt_keys apex_jwt_keys;   /* opaque, immutable once loaded */

/* Loads a key pair from PEM text (PKCS#8 or traditional private key, SubjectPublicKeyInfo
 * public key). priv_pem may be NULL for a verify-only holder (apex_jwt_issue then fails).
 * When both are given, a token is signed and verified once to prove they are one pair.
 * The PEM is copied (and wiped on free). On error *out is NULL and err says why (no key text). */
apex_err apex_jwt_keys_new(const char *priv_pem, size_t priv_len, const char *pub_pem,
                           size_t pub_len, apex_jwt_keys **out, apex_error *err);
void apex_jwt_keys_free(apex_jwt_keys *keys);  /* NULL is a no-op */
/* Remembers verified tokens in cache (borrowed: it must outlive keys; NULL: none), so a token
 * seen before is not decoded again. Call before keys are shared between threads. */
void apex_jwt_keys_use_cache(apex_jwt_keys *keys, apex_cache *cache);
/* Refuses (APEX_JWT_INVALID) tokens deny lists as revoked (borrowed like the cache). */
void apex_jwt_keys_use_denylist(apex_jwt_keys *keys, apex_denylist *deny);
/* Logout: the access token (if it still verifies) is refused from now until its expiry. */
apex_err apex_jwt_revoke(const apex_jwt_keys *keys, const char *access_token, int64_t now_s);
/* Password reset: every access token of sub issued before now_s is refused (ttl_s: the longest
 * lifetime one can have). Tokens issued in the same second as the reset stay valid. */
apex_err apex_jwt_revoke_user(const apex_jwt_keys *keys, const char *sub, int64_t now_s, int64_t ttl_s);

#define APEX_JWT_MAX_TOKEN 8192       /* longer tokens are refused before decoding */
#define APEX_JWT_SKEW_S 60            /* iat may be this far in the future (clock skew) */
#define APEX_JWT_SUB_MAX 36            /* sub is a user id: a UUID fits exactly */
#define APEX_JWT_JTI_MAX 64

/* Signs {alg: RS256, typ: JWT}.{sub, email, iat: now_s, exp: now_s + ttl_s, type, jti}.
 * type is "access" or "refresh"; email may be NULL (then omitted); jti may be NULL (omitted).
 * *out is a NUL-terminated token the caller frees with free(); NULL on error. */
apex_err apex_jwt_issue(const apex_jwt_keys *keys, const char *sub, const char *email,
                        const char *type, int64_t now_s, int64_t ttl_s, const char *jti,
                        char **out, apex_error *err);

/* Verification outcome; the non-zero values are the spec's error codes (Appendix B). */
typedef enum {
  APEX_JWT_OK = 0,
  APEX_JWT_EXPIRED = 1002,            /* genuine token of the expected type, exp <= now */
  APEX_JWT_INVALID = 1003,            /* anything else: forged, tampered, malformed, wrong type */
} apex_jwt_status;

typedef struct apex_jwt_claims {
  char sub[APEX_JWT_SUB_MAX + 1];
  char email[APEX_AUTH_EMAIL_MAX + 1]; /* "" when the token has none */
  char type[16];
  char jti[APEX_JWT_JTI_MAX + 1];      /* "" when the token has none */
  int64_t iat, exp;
} apex_jwt_claims;

/* Verifies token with the public key, then requires header alg == "RS256" and typ == "JWT"
 * (libjwt alone accepts HS256 signed with the public key as secret), claims type ==
 * expected_type, integer iat <= now_s + APEX_JWT_SKEW_S, integer exp > now_s, a non-empty sub,
 * and nbf (if present) <= now_s + skew. Expiry is reported only for a token that passed every
 * other check, so a forged token is never "expired". out (may be NULL) is filled only on OK. */
apex_jwt_status apex_jwt_verify(const apex_jwt_keys *keys, const char *token, int64_t now_s,
                                const char *expected_type, apex_jwt_claims *out);

/* --- random tokens and ids (libsodium randombytes: the kernel CSPRNG) --- */

#define APEX_AUTH_TOKEN_LEN 44        /* 43 base64url characters + NUL */
#define APEX_AUTH_TOKEN_HASH_LEN 65   /* 64 hex digits + NUL */
#define APEX_AUTH_UUID_LEN 37

/* 32 random bytes as base64url without padding: refresh and password-reset tokens. */
void apex_auth_random_token(char out[static APEX_AUTH_TOKEN_LEN]);
/* SHA-256 of token as lowercase hex: what the database stores instead of the token. */
void apex_auth_token_hash(const char *token, char out[static APEX_AUTH_TOKEN_HASH_LEN]);
/* A random (version 4, variant 10) UUID, lowercase: "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx". */
void apex_auth_uuid(char out[static APEX_AUTH_UUID_LEN]);
/* Constant-time comparison of two NUL-terminated strings (token hashes); false on NULL. */
bool apex_auth_equal(const char *a, const char *b);

#endif
