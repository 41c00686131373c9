/* market/sign.c on the venues' documented test vectors (venues README 1.10 and 2.6): the expected
 * signatures are the documents' text, not this code's output. ES256 (3.3) is randomised: its
 * signatures are verified here with libcrypto and a fixed test key. */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "market/sign.h"

/* ref 1.10: the documents' example key pair (no real account). */
#define BN_SECRET "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

/* ref 2.6 */
#define KR_SECRET "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
#define KR_NONCE "1616492376594"
#define KR_PAYLOAD "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
#define KR_PATH "/0/private/AddOrder"
#define KR_SIGN "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="

static void binance_expect(const char *payload, const char *want)
{
  char sig[65];
  cr_assert_eq(apex_sign_hmac_sha256_hex(BN_SECRET, strlen(BN_SECRET), payload, strlen(payload), sig), APEX_OK);
  cr_expect_str_eq(sig, want, "payload %s", payload);
}

Test(market_sign, binance_vector_1_plain_payload)
{
  binance_expect("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
                 "timestamp=1499827319559",
                 "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

Test(market_sign, binance_vector_2_percent_encoded_symbol)
{
  binance_expect("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&"
                 "timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
                 "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3");
}

Test(market_sign, binance_vector_3_query_then_body_without_separator)
{
  const char *query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
  const char *body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
  char total[256];
  snprintf(total, sizeof total, "%s%s", query, body); /* "There is no & between GTC and quantity=1" */
  binance_expect(total, "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
}

Test(market_sign, binance_refuses_a_missing_key)
{
  char sig[65] = "x";
  cr_expect_eq(apex_sign_hmac_sha256_hex(BN_SECRET, 0, "a", 1, sig), APEX_EINVAL);
  cr_expect_str_eq(sig, "");
  cr_expect_eq(apex_sign_hmac_sha256_hex(NULL, 4, "a", 1, sig), APEX_EINVAL);
  cr_expect_eq(apex_sign_hmac_sha256_hex(BN_SECRET, 4, NULL, 1, sig), APEX_EINVAL);
  /* An empty message is a message: RFC 4231-style HMAC of "" under the key. */
  cr_expect_eq(apex_sign_hmac_sha256_hex(BN_SECRET, strlen(BN_SECRET), NULL, 0, sig), APEX_OK);
  cr_expect_eq(strlen(sig), 64);
}

Test(market_sign, kraken_documented_vector)
{
  char sig[APEX_SIGN_KRAKEN_MAX];
  apex_error e = {0};
  cr_assert_eq(apex_sign_kraken(KR_SECRET, KR_PATH, KR_NONCE, KR_PAYLOAD, sig, sizeof sig, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(sig, KR_SIGN);
}

Test(market_sign, kraken_refuses_a_secret_that_is_not_base64)
{
  static const char *const BAD[] = {
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=", /* length */
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huX===", /* 3 pads */
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1hu*g==", /* alphabet */
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXh==", /* bits */
      "kQH5HW/8p1uGOVjb gWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huX==", /* blank */
      "kQ==HW/8",                                                                                  /* inner pad */
      "-_-_",                                                                                      /* base64url */
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(BAD); i++) {
    char sig[APEX_SIGN_KRAKEN_MAX] = "x";
    apex_error e = {0};
    cr_expect_eq(apex_sign_kraken(BAD[i], KR_PATH, KR_NONCE, KR_PAYLOAD, sig, sizeof sig, &e), APEX_EPARSE,
                 "case %zu", i);
    cr_expect_str_eq(sig, "", "case %zu", i);
    cr_expect(strstr(e.msg, "is not base64"), "case %zu: %s", i, e.msg);
    cr_expect(!strstr(e.msg, "kQH5"), "case %zu: the message shows the secret: %s", i, e.msg);
  }
}

Test(market_sign, kraken_refuses_bad_arguments)
{
  char sig[APEX_SIGN_KRAKEN_MAX];
  apex_error e = {0};
  cr_expect_eq(apex_sign_kraken("", KR_PATH, KR_NONCE, KR_PAYLOAD, sig, sizeof sig, &e), APEX_EINVAL);
  cr_expect_eq(apex_sign_kraken(KR_SECRET, NULL, KR_NONCE, KR_PAYLOAD, sig, sizeof sig, &e), APEX_EINVAL);
  cr_expect_eq(apex_sign_kraken(KR_SECRET, KR_PATH, KR_NONCE, KR_PAYLOAD, sig, sizeof sig - 1, &e), APEX_ETOOBIG);
  cr_expect(strstr(e.msg, "need 89"), "%s", e.msg);
  cr_expect_str_eq(sig, "");
}

/* --- ES256 JWS (ref 3.3): randomised, so each signature is verified with OpenSSL here --- */

/* Test keys made once with `openssl ecparam -name prime256v1 -genkey -noout` (and secp384r1,
 * `openssl genpkey -algorithm ed25519`): no account knows them. */
#define P256_SEC1                                                      \
  "-----BEGIN EC PRIVATE KEY-----\n"                                   \
  "MHcCAQEEIN0WBeOHmOgRMDD6e/hnQfbCNMuBTQBp3Y/JGZR49FyzoAoGCCqGSM49\n" \
  "AwEHoUQDQgAEIEGM0x3351nLO6F159hNWXMkM+tp3cgeyPuNz04KAUXslhRl0t10\n" \
  "k0F8NAdcpfCUhd/0XLSGPY6C8vBbey8+og==\n"                             \
  "-----END EC PRIVATE KEY-----\n"
#define P256_PKCS8                                                     \
  "-----BEGIN PRIVATE KEY-----\n"                                      \
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3RYF44eY6BEwMPp7\n" \
  "+GdB9sI0y4FNAGndj8kZlHj0XLOhRANCAAQgQYzTHffnWcs7oXXn2E1ZcyQz62nd\n" \
  "yB7I+43PTgoBReyWFGXS3XSTQXw0B1yl8JSF3/RctIY9joLy8Ft7Lz6i\n"         \
  "-----END PRIVATE KEY-----\n"
#define P256_PUB                                                       \
  "-----BEGIN PUBLIC KEY-----\n"                                       \
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIEGM0x3351nLO6F159hNWXMkM+tp\n" \
  "3cgeyPuNz04KAUXslhRl0t10k0F8NAdcpfCUhd/0XLSGPY6C8vBbey8+og==\n"     \
  "-----END PUBLIC KEY-----\n"
#define P384_SEC1                                                      \
  "-----BEGIN EC PRIVATE KEY-----\n"                                   \
  "MIGkAgEBBDBeW2oPoVxutgwpnGepGvRo3fzI1zw5SdZILJy7eOtEEvjLUV2Le1Q4\n" \
  "2d70V892fw6gBwYFK4EEACKhZANiAARCEUGo1Vxj8MOcW4GSaXZTQPlF4ES7v09N\n" \
  "HZtwlmblOOUYX9kQG6uvTQ7Uh7AItiPPAXfy+lMJRINza89Id7WyxU/WFMXMnm9Z\n" \
  "ToWDcYjZNabuUFd4plVNPnO6MB1Q1Vc=\n"                                 \
  "-----END EC PRIVATE KEY-----\n"
#define ED25519_PKCS8                                                  \
  "-----BEGIN PRIVATE KEY-----\n"                                      \
  "MC4CAQAwBQYDK2VwBCIEIKkKaJ3B2NwRSblP9IRCFpi94EsReOECtYAScYvVm/r1\n" \
  "-----END PRIVATE KEY-----\n"

#define JWT_HEADER "{\"alg\":\"ES256\",\"kid\":\"organizations/o/apiKeys/k\",\"nonce\":\"ab12\",\"typ\":\"JWT\"}"
#define JWT_PAYLOAD                                                                                           \
  "{\"sub\":\"organizations/o/apiKeys/k\",\"iss\":\"cdp\",\"nbf\":1700000000,\"exp\":1700000120,\"uri\":\"GET " \
  "api.coinbase.com/api/v3/brokerage/accounts\"}"

/* base64url without padding, decoded by hand (the test's own decoder). */
static size_t b64url_decode(const char *s, size_t n, unsigned char *out)
{
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint32_t acc = 0;
  int bits = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *p = strchr(A, s[i]);
    cr_assert(p && s[i], "not base64url: '%c'", s[i]);
    acc = acc << 6 | (uint32_t)(p - A);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (unsigned char)(acc >> bits);
    }
  }
  return k;
}

/* Checks token: its parts decode to header and payload, and its R||S verifies under P256_PUB. */
static void es256_verify(const char *token, const char *header, const char *payload)
{
  unsigned char buf[1024], raw[64], *der = NULL;
  const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  cr_assert(d1 && d2 && !strchr(d2 + 1, '.'), "not three parts: %s", token);
  cr_expect(!strpbrk(token, "+/="), "not base64url without padding: %s", token);

  size_t n = b64url_decode(token, (size_t)(d1 - token), buf);
  cr_expect(n == strlen(header) && memcmp(buf, header, n) == 0, "header does not round-trip");
  n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), buf);
  cr_expect(n == strlen(payload) && memcmp(buf, payload, n) == 0, "payload does not round-trip");
  cr_assert_eq(strlen(d2 + 1), 86);
  cr_assert_eq(b64url_decode(d2 + 1, 86, raw), 64);

  ECDSA_SIG *sig = ECDSA_SIG_new();
  cr_assert(sig);
  cr_assert(ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL)));
  int dlen = i2d_ECDSA_SIG(sig, &der);
  cr_assert(dlen > 0);
  BIO *bio = BIO_new_mem_buf(P256_PUB, -1);
  EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  cr_assert(pub);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  cr_assert(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1);
  cr_expect_eq(EVP_DigestVerify(md, der, (size_t)dlen, (const unsigned char *)token, (size_t)(d2 - token)), 1,
               "the signature does not verify");
  /* and not over another input */
  cr_expect_neq(EVP_DigestVerify(md, der, (size_t)dlen, (const unsigned char *)token, (size_t)(d2 - token) - 1), 1);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pub);
  BIO_free(bio);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
}

Test(market_sign, es256_sec1_key_verifies)
{
  char tok[1024];
  apex_error e = {0};
  cr_assert_eq(apex_sign_es256_jwt(P256_SEC1, JWT_HEADER, JWT_PAYLOAD, tok, sizeof tok, &e), APEX_OK, "%s", e.msg);
  es256_verify(tok, JWT_HEADER, JWT_PAYLOAD);
}

Test(market_sign, es256_pkcs8_key_verifies_and_is_randomised)
{
  char a[1024], b[1024];
  apex_error e = {0};
  cr_assert_eq(apex_sign_es256_jwt(P256_PKCS8, JWT_HEADER, JWT_PAYLOAD, a, sizeof a, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(apex_sign_es256_jwt(P256_PKCS8, JWT_HEADER, JWT_PAYLOAD, b, sizeof b, &e), APEX_OK, "%s", e.msg);
  es256_verify(a, JWT_HEADER, JWT_PAYLOAD);
  es256_verify(b, JWT_HEADER, JWT_PAYLOAD);
  cr_expect_str_neq(a, b, "two ES256 signatures alike: the nonce is not random");
}

Test(market_sign, es256_base64url_of_every_tail_length)
{
  /* payloads of 0, 1 and 2 bytes past a multiple of 3, with bytes that base64 writes as '+' and '/' */
  static const char *const P[] = {"", "?", "??", "???", "{\"x\":\"\xff\xfe\xfb>>>\"}", "~~~~"};
  for (size_t i = 0; i < APEX_ARRAY_LEN(P); i++) {
    char tok[512];
    apex_error e = {0};
    cr_assert_eq(apex_sign_es256_jwt(P256_SEC1, "{}", P[i], tok, sizeof tok, &e), APEX_OK, "%s", e.msg);
    es256_verify(tok, "{}", P[i]);
  }
}

Test(market_sign, es256_refuses_other_keys_without_showing_them)
{
  static const char *const BAD[] = {P384_SEC1, ED25519_PKCS8, "garbage", "",
                                    "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
                                    P256_PUB};
  for (size_t i = 0; i < APEX_ARRAY_LEN(BAD); i++) {
    char tok[1024] = "x";
    apex_error e = {0};
    cr_expect_eq(apex_sign_es256_jwt(BAD[i], JWT_HEADER, JWT_PAYLOAD, tok, sizeof tok, &e), APEX_EINVAL, "case %zu",
                 i);
    cr_expect_str_eq(tok, "", "case %zu", i);
    cr_expect(!strstr(e.msg, "MIG") && !strstr(e.msg, "MC4") && !strstr(e.msg, "garbage"), "case %zu: %s", i, e.msg);
  }
}

Test(market_sign, es256_refuses_a_short_buffer_and_null)
{
  char tok[1024];
  apex_error e = {0};
  cr_assert_eq(apex_sign_es256_jwt(P256_SEC1, "{}", "{}", tok, sizeof tok, &e), APEX_OK, "%s", e.msg);
  size_t len = strlen(tok); /* 3 + 1 + 3 + 1 + 86 */
  cr_expect_eq(len, 94);
  cr_expect_eq(apex_sign_es256_jwt(P256_SEC1, "{}", "{}", tok, len, &e), APEX_ETOOBIG);
  cr_expect_str_eq(tok, "");
  cr_expect_eq(apex_sign_es256_jwt(P256_SEC1, "{}", "{}", tok, len + 1, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(apex_sign_es256_jwt(NULL, "{}", "{}", tok, sizeof tok, &e), APEX_EINVAL);
  cr_expect_eq(apex_sign_es256_jwt(P256_SEC1, NULL, "{}", tok, sizeof tok, &e), APEX_EINVAL);
}
