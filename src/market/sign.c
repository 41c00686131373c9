/* sign.c - the venues' request signatures (sign.h) over OpenSSL's libcrypto. The second of the two
 * files that include OpenSSL (sys/secrets.c keeps secrets at rest; market/ may not include sys/). */
#include "market/sign.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

static const char HEX[] = "0123456789abcdef";

static void to_hex(const unsigned char *b, size_t n, char *out)
{
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = HEX[b[i] >> 4];
    out[2 * i + 1] = HEX[b[i] & 15];
  }
  out[2 * n] = '\0';
}

apex_err apex_sign_hmac_sha256_hex(const void *key, size_t klen, const void *msg, size_t mlen, char out[static 65])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;

  out[0] = '\0';
  if (!key || klen == 0 || klen > INT_MAX || (!msg && mlen > 0))
    return APEX_EINVAL;
  if (!HMAC(EVP_sha256(), key, (int)klen, msg ? msg : (const void *)"", mlen, md, &mdlen) || mdlen != 32) {
    OPENSSL_cleanse(md, sizeof md);
    return APEX_EIO;
  }
  to_hex(md, mdlen, out);
  OPENSSL_cleanse(md, sizeof md);
  return APEX_OK;
}

/* --- base64 (RFC 4648, standard alphabet, padded) --- */

/* The 6-bit value of c, or -1. */
static int b64_value(unsigned char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* Strict: a multiple of 4 characters, '=' only as the last one or two, no blanks, and the unused
 * bits before the padding zero (so each text has one decoding). out holds len / 4 * 3 bytes;
 * *n gets the decoded length. false for anything else (out may then hold partial bytes). */
static bool b64_decode(const char *s, size_t len, unsigned char *out, size_t *n)
{
  size_t k = 0;
  if (len == 0 || len % 4 != 0)
    return false;
  for (size_t i = 0; i < len; i += 4) {
    bool last = i + 4 == len;
    int v[4];
    size_t pad = 0;
    for (size_t j = 0; j < 4; j++) {
      unsigned char c = (unsigned char)s[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        pad++;
        continue;
      }
      if (pad || (v[j] = b64_value(c)) < 0) /* a character after '=', or outside the alphabet */
        return false;
    }
    uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
      return false;
    out[k++] = (unsigned char)(w >> 16);
    if (pad < 2)
      out[k++] = (unsigned char)(w >> 8);
    if (pad < 1)
      out[k++] = (unsigned char)w;
  }
  *n = k;
  return true;
}

apex_err apex_sign_kraken(const char *secret_b64, const char *uri_path, const char *nonce, const char *post_data,
                          char *out, size_t cap, apex_error *err)
{
  unsigned char *key = NULL, *msg = NULL;
  size_t key_cap = 0, klen = 0, ulen = 0;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0, dlen = 0;
  EVP_MD_CTX *md = NULL;
  apex_err rc = APEX_OK;

  if (out && cap > 0)
    out[0] = '\0';
  if (!secret_b64 || !uri_path || !nonce || !post_data || !out)
    return apex_error_set(err, APEX_EINVAL, "kraken sign: a NULL argument");
  if (cap < APEX_SIGN_KRAKEN_MAX)
    return apex_error_set(err, APEX_ETOOBIG, "kraken sign: %zu bytes of room, need %d", cap, APEX_SIGN_KRAKEN_MAX);
  size_t slen = strlen(secret_b64);
  if (slen == 0)
    return apex_error_set(err, APEX_EINVAL, "kraken sign: the API secret is empty");
  key_cap = slen / 4 * 3 + 3;
  if (!(key = malloc(key_cap))) {
    rc = apex_error_set(err, APEX_ENOMEM, "kraken sign: out of memory");
    goto out;
  }
  /* The secret stays out of the message: it may be in a log. */
  if (!b64_decode(secret_b64, slen, key, &klen) || klen == 0 || klen > INT_MAX) {
    rc = apex_error_set(err, APEX_EPARSE, "kraken sign: the API secret (%zu characters) is not base64", slen);
    goto out;
  }

  /* msg = uri_path + SHA256(nonce + post_data) */
  ulen = strlen(uri_path);
  if (ulen > SIZE_MAX - 32 || !(msg = malloc(ulen + 32))) {
    rc = apex_error_set(err, APEX_ENOMEM, "kraken sign: out of memory");
    goto out;
  }
  memcpy(msg, uri_path, ulen);
  if (!(md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
      !EVP_DigestUpdate(md, nonce, strlen(nonce)) || !EVP_DigestUpdate(md, post_data, strlen(post_data)) ||
      !EVP_DigestFinal_ex(md, msg + ulen, &dlen) || dlen != 32) {
    rc = apex_error_set(err, APEX_EIO, "kraken sign: SHA-256 failed");
    goto out;
  }
  if (!HMAC(EVP_sha512(), key, (int)klen, msg, ulen + 32, mac, &maclen) || maclen != 64) {
    rc = apex_error_set(err, APEX_EIO, "kraken sign: HMAC-SHA512 failed");
    goto out;
  }
  /* 64 bytes give 88 characters and a NUL: APEX_SIGN_KRAKEN_MAX, checked above. */
  EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
out:
  if (key) {
    OPENSSL_cleanse(key, key_cap);
    free(key);
  }
  free(msg);
  EVP_MD_CTX_free(md); /* NULL is a no-op */
  OPENSSL_cleanse(mac, sizeof mac);
  if (rc)
    out[0] = '\0';
  return rc;
}

/* --- ES256 JWS (Coinbase, ref 3.3) --- */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Characters of n bytes in base64url without padding. */
static size_t b64url_len(size_t n) { return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0); }

/* n bytes of b as base64url without padding at out (b64url_len(n) characters, no NUL). */
static void b64url_encode(const unsigned char *b, size_t n, char *out)
{
  size_t k = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t w = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
    out[k++] = B64URL[w >> 18 & 63];
    out[k++] = B64URL[w >> 12 & 63];
    out[k++] = B64URL[w >> 6 & 63];
    out[k++] = B64URL[w & 63];
  }
  if (n - i == 1) {
    uint32_t w = (uint32_t)b[i] << 16;
    out[k++] = B64URL[w >> 18 & 63];
    out[k++] = B64URL[w >> 12 & 63];
  } else if (n - i == 2) {
    uint32_t w = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8;
    out[k++] = B64URL[w >> 18 & 63];
    out[k++] = B64URL[w >> 12 & 63];
    out[k++] = B64URL[w >> 6 & 63];
  }
}

/* Refuses a passphrase: an encrypted key is not one we take, and OpenSSL must never prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)u;
  return -1;
}

/* The P-256 private key in pem, or NULL (EINVAL: not a P-256 private key PEM). */
static EVP_PKEY *p256_key(const char *pem)
{
  char group[64] = "";
  size_t glen = 0;
  size_t n = strlen(pem);
  EVP_PKEY *pk = NULL;
  BIO *bio = n <= INT_MAX ? BIO_new_mem_buf(pem, (int)n) : NULL;
  if (!bio)
    return NULL;
  pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
  BIO_free(bio);
  if (pk && (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || !EVP_PKEY_get_group_name(pk, group, sizeof group, &glen) ||
             strcmp(group, SN_X9_62_prime256v1) != 0)) {
    EVP_PKEY_free(pk); /* frees and clears the private key */
    pk = NULL;
  }
  return pk;
}

apex_err apex_sign_es256_jwt(const char *pem_private_key, const char *header_json, const char *payload_json,
                             char *out, size_t cap, apex_error *err)
{
  EVP_PKEY *pk = NULL;
  EVP_MD_CTX *md = NULL;
  ECDSA_SIG *sig = NULL;
  unsigned char der[128], raw[64];
  size_t derlen = sizeof der, hlen, plen, need, input_len = 0;
  apex_err rc = APEX_OK;

  if (out && cap > 0)
    out[0] = '\0';
  if (!pem_private_key || !header_json || !payload_json || !out)
    return apex_error_set(err, APEX_EINVAL, "es256 sign: a NULL argument");
  hlen = strlen(header_json);
  plen = strlen(payload_json);
  if (hlen > SIZE_MAX / 2 || plen > SIZE_MAX / 2 - hlen)
    return apex_error_set(err, APEX_ETOOBIG, "es256 sign: header and payload too long");
  need = b64url_len(hlen) + 1 + b64url_len(plen) + 1 + APEX_SIGN_ES256_SIG_B64 + 1;
  if (cap < need)
    return apex_error_set(err, APEX_ETOOBIG, "es256 sign: %zu bytes of room, need %zu", cap, need);

  /* The key text stays out of every message: it may be in a log. */
  if (!(pk = p256_key(pem_private_key))) {
    rc = apex_error_set(err, APEX_EINVAL, "es256 sign: the key is not a P-256 private key in PEM (SEC1 or PKCS#8)");
    goto out;
  }

  /* The signing input is written where the token goes: base64url(header) "." base64url(payload). */
  b64url_encode((const unsigned char *)header_json, hlen, out);
  input_len = b64url_len(hlen);
  out[input_len++] = '.';
  b64url_encode((const unsigned char *)payload_json, plen, out + input_len);
  input_len += b64url_len(plen);

  if (!(md = EVP_MD_CTX_new()) || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
      EVP_DigestSign(md, der, &derlen, (const unsigned char *)out, input_len) != 1) {
    rc = apex_error_set(err, APEX_EIO, "es256 sign: ECDSA signing failed");
    goto out;
  }
  /* DER SEQUENCE {r, s} -> R||S, each left-padded to 32 bytes (RFC 7518 3.4). */
  const unsigned char *p = der;
  const BIGNUM *r = NULL, *s = NULL;
  if (!(sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) || (ECDSA_SIG_get0(sig, &r, &s), !r || !s) ||
      BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32) {
    rc = apex_error_set(err, APEX_EIO, "es256 sign: cannot read OpenSSL's signature");
    goto out;
  }
  out[input_len++] = '.';
  b64url_encode(raw, sizeof raw, out + input_len);
  out[input_len + APEX_SIGN_ES256_SIG_B64] = '\0';
out:
  ECDSA_SIG_free(sig);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pk);
  OPENSSL_cleanse(der, sizeof der);
  OPENSSL_cleanse(raw, sizeof raw);
  if (rc) {
    ERR_clear_error(); /* OpenSSL's queue may describe the key: leave nothing behind */
    OPENSSL_cleanse(out, input_len < cap ? input_len : cap);
    out[0] = '\0';
  }
  return rc;
}
