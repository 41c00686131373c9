/* auth.c - argon2id passwords (libsodium), RS256 tokens (libjwt), random tokens and UUIDs.
 * The only file that includes <jwt.h> and <sodium.h>. libjwt 1.10 verifies signatures but
 * trusts the token's own alg, so every claim that matters is checked here after decoding. */
#include "api/auth.h"

#include <errno.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX (64 * 1024)
#define PW_MAX_BYTES (4 * APEX_AUTH_PASSWORD_MAX)   /* 256 code points of up to 4 bytes */

/* sodium_init is idempotent and thread-safe; it fails only without a usable entropy source. */
static bool auth_init(void)
{
  return sodium_init() >= 0;
}

/* --- passwords --- */

/* argon2id of a random, discarded password with the interactive limits: verifying against it
 * costs what a real verify costs, so "no such user" is not visible in the login's timing. */
static const char DUMMY_HASH[APEX_AUTH_HASH_LEN] =
    "$argon2id$v=19$m=65536,t=2,p=1$SG4fqF5YCZRZr/NZ28WlvA$BW8gVRLCo1Wh+AgWG98LsQ55Oe51WJe56HQ9Pr6y+cU";

apex_err apex_auth_hash_password(const char *pw, char out[static APEX_AUTH_HASH_LEN])
{
  out[0] = '\0';
  if (!pw || !auth_init())
    return APEX_EINVAL;
  size_t n = strnlen(pw, PW_MAX_BYTES + 1);
  if (n > PW_MAX_BYTES)
    return APEX_EINVAL;
  if (crypto_pwhash_str(out, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    out[0] = '\0';
    return APEX_ENOMEM;   /* the only documented failure: the memory limit could not be met */
  }
  return APEX_OK;
}

/* libsodium declares the hash parameter as char[crypto_pwhash_STRBYTES]: hand it exactly that,
 * zero-padded, whatever the caller's buffer. False when hash does not fit. */
static bool copy_hash(const char *hash, char buf[static APEX_AUTH_HASH_LEN])
{
  memset(buf, 0, APEX_AUTH_HASH_LEN);
  if (!hash)
    return false;
  size_t n = strnlen(hash, APEX_AUTH_HASH_LEN);
  if (n >= APEX_AUTH_HASH_LEN)
    return false;
  memcpy(buf, hash, n);
  return true;
}

bool apex_auth_verify_password(const char *hash, const char *pw)
{
  char buf[APEX_AUTH_HASH_LEN];
  if (!pw || !auth_init())
    return false;
  size_t n = strnlen(pw, PW_MAX_BYTES + 1);
  /* An unknown user or a corrupt row still pays for one argon2id run (see DUMMY_HASH). */
  if (!copy_hash(hash, buf) || n > PW_MAX_BYTES) {
    int sink = crypto_pwhash_str_verify(DUMMY_HASH, pw, n > PW_MAX_BYTES ? PW_MAX_BYTES : n);
    (void)sink;
    return false;
  }
  return crypto_pwhash_str_verify(buf, pw, n) == 0;
}

bool apex_auth_password_needs_rehash(const char *hash)
{
  char buf[APEX_AUTH_HASH_LEN];
  if (!copy_hash(hash, buf) || !auth_init())
    return true;
  return crypto_pwhash_str_needs_rehash(buf, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

/* ASCII-only case folding: locale-independent, and what email providers actually fold. */
static bool ascii_case_equal(const char *a, const char *b)
{
  for (;; a++, b++) {
    unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
    if (x >= 'A' && x <= 'Z')
      x = (unsigned char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = (unsigned char)(y - 'A' + 'a');
    if (x != y)
      return false;
    if (!x)
      return true;
  }
}

static bool set_why(char *why, size_t cap, const char *msg)
{
  if (why && cap)
    snprintf(why, cap, "%s", msg);
  return false;
}

bool apex_auth_password_ok(const char *pw, const char *email, char *why, size_t cap)
{
  if (why && cap)
    why[0] = '\0';
  if (!pw)
    return set_why(why, cap, "password is required");
  size_t bytes = strnlen(pw, PW_MAX_BYTES + 1), chars = 0;
  if (bytes > PW_MAX_BYTES)
    return set_why(why, cap, "password must be at most 256 characters");
  for (size_t i = 0; i < bytes; i++)
    if (((unsigned char)pw[i] & 0xC0) != 0x80)  /* count UTF-8 code points, not bytes */
      chars++;
  if (chars < APEX_AUTH_PASSWORD_MIN)
    return set_why(why, cap, "password must be at least 10 characters");
  if (chars > APEX_AUTH_PASSWORD_MAX)
    return set_why(why, cap, "password must be at most 256 characters");
  if (email && ascii_case_equal(pw, email))
    return set_why(why, cap, "password must not be the email address");
  return true;
}

bool apex_auth_email_ok(const char *email)
{
  if (!email)
    return false;
  size_t n = strnlen(email, APEX_AUTH_EMAIL_MAX + 1);
  if (n == 0 || n > APEX_AUTH_EMAIL_MAX)
    return false;
  const char *at = NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)email[i];
    if (c <= 0x20 || c == 0x7F)   /* spaces and control characters */
      return false;
    if (c == '@') {
      if (at)
        return false;
      at = email + i;
    }
  }
  if (!at || at == email || at - email > 64)   /* RFC 5321: local part of 1 to 64 octets */
    return false;
  const char *dom = at + 1, *end = email + n;
  if (dom == end || *dom == '.' || end[-1] == '.' || !memchr(dom, '.', (size_t)(end - dom)))
    return false;
  for (const char *p = dom; p + 1 < end; p++)
    if (p[0] == '.' && p[1] == '.')
      return false;
  return true;
}

/* --- JWT --- */

struct apex_jwt_keys {
  unsigned char *priv;   /* NULL for a verify-only holder */
  int priv_len;
  unsigned char *pub;
  int pub_len;
  /* Tokens that passed full verification (jobs/cache.h, given by the composition root).
   * libjwt parses the PEM key again on every decode, and OpenSSL 3's decoder lookups serialise
   * threads on a lock: an API that verified the same 15-minute token on every request ran at
   * 2,200 requests/s. NULL: every verify is a full check. */
  apex_cache *cache;
  apex_denylist *deny;   /* revoked tokens and users (logout, reset); NULL: none */
  char fp[17];           /* the public key's fingerprint: prefixes cache keys (below) */
};

static unsigned char *pem_dup(const char *pem, size_t len, int *out_len)
{
  unsigned char *p = malloc(len + 1);
  if (!p)
    return NULL;
  memcpy(p, pem, len);
  p[len] = '\0';
  *out_len = (int)len;
  return p;
}

void apex_jwt_keys_free(apex_jwt_keys *keys)
{
  if (!keys)
    return;
  if (keys->priv) {
    sodium_memzero(keys->priv, (size_t)keys->priv_len);
    free(keys->priv);
  }
  free(keys->pub);
  free(keys);
}

apex_err apex_jwt_keys_new(const char *priv_pem, size_t priv_len, const char *pub_pem,
                           size_t pub_len, apex_jwt_keys **out, apex_error *err)
{
  apex_err rc = APEX_OK;
  apex_jwt_keys *k = NULL;
  char *token = NULL;

  if (!out)
    return apex_error_set(err, APEX_EINVAL, "jwt keys: no output");
  *out = NULL;
  if (!pub_pem || pub_len == 0 || pub_len > PEM_MAX || (priv_pem && (priv_len == 0 || priv_len > PEM_MAX)))
    return apex_error_set(err, APEX_EINVAL, "jwt keys: PEM text missing or larger than %d bytes", PEM_MAX);
  if (!auth_init())
    return apex_error_set(err, APEX_EIO, "jwt keys: libsodium could not initialise");
  k = calloc(1, sizeof *k);
  if (!k || !(k->pub = pem_dup(pub_pem, pub_len, &k->pub_len)) ||
      (priv_pem && !(k->priv = pem_dup(priv_pem, priv_len, &k->priv_len)))) {
    rc = apex_error_set(err, APEX_ENOMEM, "jwt keys: out of memory");
    goto out;
  }
  if (k->priv) {
    /* Sign and verify once: a bad PEM or two halves of different pairs fail here, at start,
     * not on the first login. */
    const int64_t t = 1700000000;
    apex_error e2 = {0};
    rc = apex_jwt_issue(k, "self-test", NULL, "access", t, 60, NULL, &token, &e2);
    if (rc) {
      rc = apex_error_set(err, APEX_EINVAL, "jwt keys: cannot sign with the private key (%s)", e2.msg);
      goto out;
    }
    if (apex_jwt_verify(k, token, t, "access", NULL) != APEX_JWT_OK) {
      rc = apex_error_set(err, APEX_EINVAL,
                          "jwt keys: the public key does not verify the private key's signature "
                          "(not a pair, or not an RSA public key in PEM)");
      goto out;
    }
  }
  unsigned char h[8];
  crypto_generichash(h, sizeof h, k->pub, (unsigned long long)k->pub_len, NULL, 0);
  sodium_bin2hex(k->fp, sizeof k->fp, h, sizeof h);
  *out = k;
  k = NULL;
out:
  free(token);
  apex_jwt_keys_free(k);
  return rc;
}

void apex_jwt_keys_use_cache(apex_jwt_keys *keys, apex_cache *cache)
{
  if (keys)
    keys->cache = cache;
}

void apex_jwt_keys_use_denylist(apex_jwt_keys *keys, apex_denylist *deny)
{
  if (keys)
    keys->deny = deny;
}

apex_err apex_jwt_revoke(const apex_jwt_keys *keys, const char *access_token, int64_t now_s)
{
  apex_jwt_claims c;
  if (!keys || !keys->deny || !access_token || apex_jwt_verify(keys, access_token, now_s, "access", &c) != APEX_JWT_OK)
    return APEX_OK; /* nothing that still stands: nothing to revoke */
  if (c.jti[0])
    return apex_denylist_revoke_token(keys->deny, c.jti, c.exp, now_s);
  return apex_denylist_revoke_user(keys->deny, c.sub, c.iat + 1, c.exp, now_s); /* no id: all up to it */
}

apex_err apex_jwt_revoke_user(const apex_jwt_keys *keys, const char *sub, int64_t now_s, int64_t ttl_s)
{
  if (!keys || !keys->deny)
    return APEX_OK;
  return apex_denylist_revoke_user(keys->deny, sub, now_s, now_s + ttl_s + APEX_JWT_SKEW_S, now_s);
}

/* A signature proves who issued a token, not that it still stands: a logout or a reset after
 * issue is in the denylist, checked on every use, cached or not. */
static bool denied(const apex_jwt_keys *keys, const apex_jwt_claims *c, int64_t now_s)
{
  return keys->deny && apex_denylist_revoked(keys->deny, c->jti, c->sub, c->iat, now_s);
}

/* The cache key of a token: the public key's fingerprint, then the whole token text. A hit thus
 * means this exact text passed a full check under this key (the signature cannot change without
 * the text changing), also in a cache shared by nodes or kept across a key rotation. */
static bool cache_key(const apex_jwt_keys *keys, const char *token, size_t n, char *out, size_t cap)
{
  if (sizeof keys->fp + n + 1 > cap)
    return false;
  memcpy(out, keys->fp, sizeof keys->fp - 1);
  out[sizeof keys->fp - 1] = ':';
  memcpy(out + sizeof keys->fp, token, n);
  out[sizeof keys->fp + n] = '\0';
  return true;
}

static bool is_token_type(const char *t)
{
  return t && (strcmp(t, "access") == 0 || strcmp(t, "refresh") == 0);
}

/* Printable ASCII without quotes or backslashes: sub and jti are ids, not free text. */
static bool id_ok(const char *s, size_t max)
{
  size_t n = strnlen(s, max + 1);
  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] <= 0x20 || s[i] >= 0x7F || s[i] == '"' || s[i] == '\\')
      return false;
  return true;
}

apex_err apex_jwt_issue(const apex_jwt_keys *keys, const char *sub, const char *email,
                        const char *type, int64_t now_s, int64_t ttl_s, const char *jti,
                        char **out, apex_error *err)
{
  apex_err rc = APEX_OK;
  jwt_t *j = NULL;
  char *enc = NULL;

  if (!out)
    return apex_error_set(err, APEX_EINVAL, "jwt issue: no output");
  *out = NULL;
  if (!keys || !keys->priv)
    return apex_error_set(err, APEX_EINVAL, "jwt issue: no private key loaded");
  if (!sub || !id_ok(sub, APEX_JWT_SUB_MAX))
    return apex_error_set(err, APEX_EINVAL, "jwt issue: sub must be 1-%d printable characters", APEX_JWT_SUB_MAX);
  if (jti && !id_ok(jti, APEX_JWT_JTI_MAX))
    return apex_error_set(err, APEX_EINVAL, "jwt issue: jti must be 1-%d printable characters", APEX_JWT_JTI_MAX);
  if (email && strnlen(email, APEX_AUTH_EMAIL_MAX + 1) > APEX_AUTH_EMAIL_MAX)
    return apex_error_set(err, APEX_EINVAL, "jwt issue: email longer than %d bytes", APEX_AUTH_EMAIL_MAX);
  if (!is_token_type(type))
    return apex_error_set(err, APEX_EINVAL, "jwt issue: type must be \"access\" or \"refresh\"");
  if (now_s <= 0 || ttl_s <= 0 || now_s > INT64_MAX / 2 || ttl_s > INT64_MAX / 2)
    return apex_error_set(err, APEX_EINVAL, "jwt issue: now and ttl must be positive seconds");

  if (jwt_new(&j) != 0) {
    rc = apex_error_set(err, APEX_ENOMEM, "jwt issue: out of memory");
    goto out;
  }
  /* libjwt would add typ by itself; setting it keeps the header our contract, not its habit. */
  if (jwt_add_header(j, "typ", "JWT") || jwt_add_grant(j, "sub", sub) ||
      (email && jwt_add_grant(j, "email", email)) || jwt_add_grant_int(j, "iat", (long)now_s) ||
      jwt_add_grant_int(j, "exp", (long)(now_s + ttl_s)) || jwt_add_grant(j, "type", type) ||
      (jti && jwt_add_grant(j, "jti", jti))) {
    rc = apex_error_set(err, APEX_ENOMEM, "jwt issue: cannot add claims");
    goto out;
  }
  if (jwt_set_alg(j, JWT_ALG_RS256, keys->priv, keys->priv_len) != 0) {
    rc = apex_error_set(err, APEX_ENOMEM, "jwt issue: cannot set RS256 key");
    goto out;
  }
  enc = jwt_encode_str(j);
  if (!enc) {
    rc = apex_error_set(err, APEX_EINVAL, "jwt issue: signing failed (is the private key RSA PEM?)");
    goto out;
  }
  /* Our own copy, so callers free() what they got without knowing libjwt's allocator. */
  if (!(*out = strdup(enc)))
    rc = apex_error_set(err, APEX_ENOMEM, "jwt issue: out of memory");
out:
  free(enc);
  jwt_free(j);
  return rc;
}

/* A claim that must be a JSON integer literal: 1..18 digits, no sign, no fraction, no string.
 * jwt_get_grant_int would read "exp": "999" as 0 without an error. */
static bool int_claim(jwt_t *j, const char *name, int64_t *out, bool *present)
{
  char *js = jwt_get_grants_json(j, name);
  bool ok = false;
  *present = js != NULL;
  if (!js)
    return false;
  size_t n = strlen(js);
  if (n >= 1 && n <= 18) {
    int64_t v = 0;
    ok = true;
    for (size_t i = 0; i < n && ok; i++) {
      if (js[i] < '0' || js[i] > '9')
        ok = false;
      else
        v = v * 10 + (js[i] - '0');
    }
    *out = v;
  }
  free(js);
  return ok;
}

/* A claim that must be a string of at most max bytes; copied into dst. */
static bool str_claim(jwt_t *j, const char *name, char *dst, size_t max, bool required)
{
  const char *s = jwt_get_grant(j, name);
  dst[0] = '\0';
  if (!s) {
    if (required)
      return false;
    /* Present but not a string (a number, an object) is a forged or foreign token. */
    char *js = jwt_get_grants_json(j, name);
    bool absent = js == NULL;
    free(js);
    return absent;
  }
  size_t n = strnlen(s, max + 1);
  if (n > max || (required && n == 0))
    return false;
  memcpy(dst, s, n + 1);
  return true;
}

/* Cheap shape check before libjwt: header.payload.signature in base64url, signature present. */
static bool token_shape_ok(const char *t, size_t n)
{
  size_t dots = 0, last_dot = 0;
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (c == '.') {
      if (i == 0 || i == last_dot + 1)
        return false;
      dots++;
      last_dot = i;
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_')) {
      return false;
    }
  }
  return dots == 2 && last_dot + 1 < n;
}

apex_jwt_status apex_jwt_verify(const apex_jwt_keys *keys, const char *token, int64_t now_s,
                                const char *expected_type, apex_jwt_claims *out)
{
  apex_jwt_status st = APEX_JWT_INVALID;
  jwt_t *j = NULL;
  apex_jwt_claims c;
  bool present;

  memset(&c, 0, sizeof c);
  if (!keys || !token || !is_token_type(expected_type))
    return APEX_JWT_INVALID;
  size_t n = strnlen(token, APEX_JWT_MAX_TOKEN + 1);
  if (n > APEX_JWT_MAX_TOKEN || !token_shape_ok(token, n))
    return APEX_JWT_INVALID;
  char key[APEX_JWT_MAX_TOKEN + 32];
  bool keyed = keys->cache && cache_key(keys, token, n, key, sizeof key);
  if (keyed && apex_cache_get_text(keys->cache, key, now_s, &c, sizeof c)) {
    /* Exactly what a full check of this text would conclude now: the claims are the token's. */
    if (strcmp(c.type, expected_type) || c.iat > now_s + APEX_JWT_SKEW_S)
      return APEX_JWT_INVALID;
    if (c.exp <= now_s)
      return APEX_JWT_EXPIRED;
    if (denied(keys, &c, now_s))
      return APEX_JWT_INVALID;
    if (out)
      *out = c;
    return APEX_JWT_OK;
  }
  if (jwt_decode(&j, token, keys->pub, keys->pub_len) != 0 || !j)
    goto out;
  /* The signature checked out under the algorithm the token chose; only RS256 is ours. */
  if (jwt_get_alg(j) != JWT_ALG_RS256)
    goto out;
  const char *typ = jwt_get_header(j, "typ");
  if (!typ || strcmp(typ, "JWT") != 0)
    goto out;
  if (!str_claim(j, "type", c.type, sizeof c.type - 1, true) || strcmp(c.type, expected_type) != 0)
    goto out;
  if (!str_claim(j, "sub", c.sub, APEX_JWT_SUB_MAX, true) ||
      !str_claim(j, "email", c.email, APEX_AUTH_EMAIL_MAX, false) ||
      !str_claim(j, "jti", c.jti, APEX_JWT_JTI_MAX, false))
    goto out;
  if (!int_claim(j, "iat", &c.iat, &present) || !int_claim(j, "exp", &c.exp, &present))
    goto out;
  if (c.iat > now_s + APEX_JWT_SKEW_S || c.exp <= c.iat)
    goto out;
  int64_t nbf;
  if (int_claim(j, "nbf", &nbf, &present)) {
    if (nbf > now_s + APEX_JWT_SKEW_S)
      goto out;
  } else if (present) {
    goto out;
  }
  if (c.exp <= now_s) {
    st = APEX_JWT_EXPIRED;
    goto out;
  }
  if (keyed) /* until the token's own expiry; a failed put only costs the next full check */
    (void)apex_cache_put_text(keys->cache, key, c.exp, now_s, &c, sizeof c);
  if (denied(keys, &c, now_s))
    goto out;
  st = APEX_JWT_OK;
  if (out)
    *out = c;
out:
  jwt_free(j);
  return st;
}

/* --- random tokens and ids --- */

void apex_auth_random_token(char out[static APEX_AUTH_TOKEN_LEN])
{
  unsigned char b[32];
  (void)auth_init();   /* randombytes works (or aborts) even when this fails */
  randombytes_buf(b, sizeof b);
  sodium_bin2base64(out, APEX_AUTH_TOKEN_LEN, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(b, sizeof b);
}

void apex_auth_token_hash(const char *token, char out[static APEX_AUTH_TOKEN_HASH_LEN])
{
  unsigned char h[crypto_hash_sha256_BYTES];
  (void)auth_init();
  if (!token)
    token = "";
  crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
  sodium_bin2hex(out, APEX_AUTH_TOKEN_HASH_LEN, h, sizeof h);
}

void apex_auth_uuid(char out[static APEX_AUTH_UUID_LEN])
{
  unsigned char b[16];
  char hex[33];
  (void)auth_init();
  randombytes_buf(b, sizeof b);
  b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);   /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);   /* variant 10 (RFC 4122) */
  sodium_bin2hex(hex, sizeof hex, b, sizeof b);
  snprintf(out, APEX_AUTH_UUID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

bool apex_auth_equal(const char *a, const char *b)
{
  if (!a || !b)
    return false;
  size_t na = strlen(a), nb = strlen(b);
  return na == nb && sodium_memcmp(a, b, na) == 0;
}
