/* test_auth.c - passwords, email syntax, RS256 tokens and the attacks libjwt alone lets through
 * (alg none, HS256 keyed with the public key, wrong token type, tampering, foreign keys, size),
 * random tokens and UUIDs. Keys are fixed test-only PEMs so no test waits for RSA keygen. */
#include <criterion/criterion.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"

/* Test-only key pairs (generated with openssl genpkey, never used anywhere else). */
static const char PRIV_A[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCVqa1+DD1hxIwQ\n"
    "fst4bhuhwMQZMane/muuUjd7Qw+fJQMaB/rpIhtYPxVYRNcP034DccAlAis84KAo\n"
    "FEujOitnw8vAMFZYigY7gODSzVlQQlMd4P08bC3spOYyaqJFLUWJjKuqkDmdqUyw\n"
    "rsUPJzYIMUe6Gan/qFthCsB2NEh8gxKQS48BKZMApCcr6x6NPRW038fquFLyok9n\n"
    "Ql5ij/uDljHCM8IN5y3AQ4CQOqWLOCkTLwlNEW2oNj0XoyxnYxANoIch68B0t0lf\n"
    "SIVQ6l9NrN6G7esRj2DUbK33SP5PnYuY/uDgoC+pzCZ86Dgv6XC9qn7vCfVm1m1q\n"
    "VZOiCrdtAgMBAAECggEAH4nGnCnTI4+qHm3BzeqSGxeGm3KKRAokQfNkaq66k4RW\n"
    "r30gBFHiJkoA4v16voSIaQxm+8WFvAnv5hJE0CxZaj/p52GoSHcpkg96ESIh4JZh\n"
    "convg3SehuBG/DfZYy+DmFVS9Zn38j/zf8YMk8FlEvvjjBWNa+kb/Iqp/R7OaaJY\n"
    "sfCV72KK+aIR6dhPcHdt7BB0KQROFLsak5RapZZPkl+lcsKoOmHs0liywDQMNSHB\n"
    "Qgi1aaZO9owgyzRtGQkcIuj8B7Bpi8vrNmqVzDECYJ1oQLwDfi7Gds/KRY8U7k1R\n"
    "lzVlcm0ObtdcBWWQd/L+2ec/bmhLfILdEfkOhyo2NwKBgQDRBSJNzzCxodhXdwAO\n"
    "79R15i3jK+EfdVI+judRtSDw3wX456cGGjDd4J720NI7zkfHYIkkaOtjkiw0LIF7\n"
    "GixIq2mvC8pIFcohz0+I1CojBq+a5t8jkmSrRCkDXsTZ1X91Mp07FQ9B4olk18Sc\n"
    "E/Bm6mFM9g2GQoROWSqX/Ie15wKBgQC3TStjgczxH4eh/zo1BEL1u+kLiwzJ53yy\n"
    "P9ZvMQHp3d2Dihut9yN6ykUGvfAcrZBFc7LCbytNPNgLZW6h6rv9NFC46fWD+Io+\n"
    "MtuOMHUwTONQul2TAbS9TQu7CAHlJhh9zlNmPITa1fkyRzGk/1Db/HQ0Bvx94dBt\n"
    "qlVpzjkViwKBgEjgY1+Bt9aXOVj1kr2ifQ9GXAVyzSEsxKovJRPl9UBGYkywaBnG\n"
    "k/coVAR2NnbHq1smm2pocnnbAzKFufdz3rDPox93GuYbQsibAX4Ri0d/E0cM7Av5\n"
    "BMR6FVqpdjUFLVVtekiZRSKRm5nfaRuKEC2x1o8A0yJWms6+ZA1t7NtNAoGAECyw\n"
    "EnTGt9Q3bLUP1tPMcNCnDMy1US+rEjON4Xvqlk9sl4ndTWmMaO5mTuT9xhoOrAI8\n"
    "mOmkYYln6wGFVKZY9kvif56tenq5ACoOs6pU/PEb8eiwDyPMZhPhYByhxi2pZZiK\n"
    "RXA7rO/KsIQVvmCFKxRI0Lp5F0aQ1Mx+AvsekGcCgYBTGm0XL91jdp56PK4ISUQB\n"
    "InTaN6hgOVe4CqdyYrGdg1oikQjQqrX8WgHCNNK32kp9hxKOFbr5I59uDRzXGz/y\n"
    "20Snu1bCX/Gip90TVRjfFdA/Ts9L+PYhZbRomcy+JnJwfriGEXrF2Ok+NAMx2YtK\n"
    "wV2fS6kF8sZT8R3ychGa/w==\n"
    "-----END PRIVATE KEY-----\n";
static const char PUB_A[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlamtfgw9YcSMEH7LeG4b\n"
    "ocDEGTGp3v5rrlI3e0MPnyUDGgf66SIbWD8VWETXD9N+A3HAJQIrPOCgKBRLozor\n"
    "Z8PLwDBWWIoGO4Dg0s1ZUEJTHeD9PGwt7KTmMmqiRS1FiYyrqpA5nalMsK7FDyc2\n"
    "CDFHuhmp/6hbYQrAdjRIfIMSkEuPASmTAKQnK+sejT0VtN/H6rhS8qJPZ0JeYo/7\n"
    "g5YxwjPCDectwEOAkDqlizgpEy8JTRFtqDY9F6MsZ2MQDaCHIevAdLdJX0iFUOpf\n"
    "Tazehu3rEY9g1Gyt90j+T52LmP7g4KAvqcwmfOg4L+lwvap+7wn1ZtZtalWTogq3\n"
    "bQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char PRIV_B[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDY2GtFX+dxQXXA\n"
    "ZwvWq6EixEdhNA2NK0Mior0VWuFBpyVax1d4O7mqEOdX8zHXx4BUCv24EGWgwmBo\n"
    "ZuhGuHZmDsGtPQoY/aalXS5VA3JWBeGRrS7sarDKSBxFMpibReSXqfduHAdfbRjE\n"
    "VfLxRRegLbdeUjOsRRSvZ31KRs42MO7LJmpHbcAyB9QY4Tj/x9E5DiliMV9xZv/+\n"
    "LEHsnTSVd0QiA4ZLDCyDVXayJIZET7kXJENpxwVqkGGwNf1dzjm2WcZxgcv3pZnb\n"
    "r1Puh5uLpLxoq4HvGfk+K4ksamE4AcHL8xAZQnT2CkDvqZoVR2zGEZOjsL+fTxiB\n"
    "8m11+vKTAgMBAAECggEAPxuU9Ia5s6NKYqlar6oZZiXbZDWi7/+0NSNJhiqBvfqo\n"
    "C2hSU4KGQTFUMqtrSRIdjdf5CRV0jjmjlx7D4LkUdBU9Vm6aPrWrRxr8Pe+X2eMy\n"
    "R5QwQMu4Eda0q4rTEPVhVqY3hUsQ9juo5pLg9kiWXJ6RbBjeQveD0px6wSAkKW7B\n"
    "CHZYDc2teE2B6TFLlZ6oGHSl6y9lrqFCuVTokZ1bXyxtGQCp/8UB29iYGNKu2jXc\n"
    "xc79RlfnyDYmCBR0WztbEV5+pFO97ILcIVqjZwy/dfhHcImqtlNIdRkAK2UazJw2\n"
    "IqEqVkssOr+D3+OXIxw2Jcoq1JpNaxjTnx6W3KL2sQKBgQDzsrbPlG4ETqUHqMrY\n"
    "wMhtKkqpF7cMnzf1Qwv3XJiMRpCtYEBcVdOWsA4rH0SS544Q219qU5R2d4CMHDwM\n"
    "h04axDVfs6spaMpK8u5QAxwutw0O6EJ82m0By2Kl/0y4pJDjSoyQ1PvI2tiRdPtA\n"
    "YOcaVin2id4R+qUDBIkTLzfM6wKBgQDjyrCkFEyqdAJwN/CfXxYvd+Odf+uigfzF\n"
    "dwOK3GQaMA82yHMkJ1pAvpbEsHXJO1Noe5uS6VMvlXGLRSe3vpKczwkq71xiDEac\n"
    "BDEevb39udiARYM3ae7YYm4wyn/5DwuFrheMd8iGNAdG0lI77Mjj5+86pxo0V5rQ\n"
    "OBVe521m+QKBgBXVvWt78R+RrFezV/lzzIF7eJUN+ui2m1zuVPQk58YpzGy8Ywfi\n"
    "6MJno91ZP9upw6DfBv2P3419x5bGMNsuhGEBk4avonZjXTy554BjxvKolBLx3IMz\n"
    "TvEKOByHc2hX1mOHGnEfpC+q7BycTqbGB+7kKX5de/hAbOiIT3/YizdhAoGAdLdq\n"
    "gugT0FLY3P8Mv9xM1c2sRwtAhWftSJCOtBvw/qoZYYyb0q6HRB1jyyxPbeiD+Ek9\n"
    "ka0T/pGoOCAbFb8ECGzc2a8DuwlnNJHBSWsXamZLVI5JiZ8xzpXAuCdKIydeVAS7\n"
    "9DF8AaevAs7JbAMLfBtfLMJqXt90Z7QU3yfdmqECgYB3o/PqONBv2ssCZp2x7V25\n"
    "iSZq4SScJkaVm+bM7JKY+3eZvHHKc/hN2qclMXvdGB2TPtbwd/zk66gduuPhRtrb\n"
    "4VSjjsFxy5F3swS4P4mxFYtF9jsErcuUYhTmzsGjlLcuBZOfb5pcZEAH/E6ZVkf+\n"
    "6q2KJxJ69mbVS1o5xoIcRg==\n"
    "-----END PRIVATE KEY-----\n";
static const char PUB_B[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2NhrRV/ncUF1wGcL1quh\n"
    "IsRHYTQNjStDIqK9FVrhQaclWsdXeDu5qhDnV/Mx18eAVAr9uBBloMJgaGboRrh2\n"
    "Zg7BrT0KGP2mpV0uVQNyVgXhka0u7GqwykgcRTKYm0Xkl6n3bhwHX20YxFXy8UUX\n"
    "oC23XlIzrEUUr2d9SkbONjDuyyZqR23AMgfUGOE4/8fROQ4pYjFfcWb//ixB7J00\n"
    "lXdEIgOGSwwsg1V2siSGRE+5FyRDaccFapBhsDX9Xc45tlnGcYHL96WZ269T7oeb\n"
    "i6S8aKuB7xn5PiuJLGphOAHBy/MQGUJ09gpA76maFUdsxhGTo7C/n08YgfJtdfry\n"
    "kwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

#define NOW 1706780400        /* the spec's example iat */
#define TTL 900               /* 15 minutes */

static apex_jwt_keys *keys_a(void)
{
  apex_jwt_keys *k = NULL;
  apex_error err = {0};
  cr_assert_eq(apex_jwt_keys_new(PRIV_A, strlen(PRIV_A), PUB_A, strlen(PUB_A), &k, &err), APEX_OK, "%s", err.msg);
  return k;
}

static char *issue(apex_jwt_keys *k, const char *type, int64_t now, int64_t ttl)
{
  char *tok = NULL;
  apex_error err = {0};
  cr_assert_eq(apex_jwt_issue(k, "6f1c2d3e-0000-4000-8000-000000000001", "trader@example.com", type, now, ttl,
                              "jti-1", &tok, &err),
               APEX_OK, "%s", err.msg);
  return tok;
}

/* base64url without padding, as JWS wants it. */
static char *b64url(const void *data, size_t n)
{
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  cr_assert_not_null(out);
  int len = EVP_EncodeBlock((unsigned char *)out, data, (int)n);
  while (len > 0 && out[len - 1] == '=')
    out[--len] = '\0';
  for (int i = 0; i < len; i++)
    out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
  return out;
}

static char *join3(const char *a, const char *b, const char *c)
{
  size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
  char *s = malloc(n);
  cr_assert_not_null(s);
  snprintf(s, n, "%s.%s.%s", a, b, c);
  return s;
}

/* header.payload signed with RS256 by the given private key, built without libjwt, so tokens
 * with odd claims (a string exp, no sub) can be made genuinely signed. */
static char *sign_rs256(const char *priv_pem, const char *header, const char *payload)
{
  char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
  size_t n = strlen(h) + strlen(p) + 2;
  char *input = malloc(n);
  snprintf(input, n, "%s.%s", h, p);
  BIO *bio = BIO_new_mem_buf(priv_pem, -1);
  EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  cr_assert_not_null(key);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char sig[512];
  size_t sig_len = sizeof sig;
  cr_assert_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
  cr_assert_eq(EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, strlen(input)), 1);
  char *s = b64url(sig, sig_len);
  char *tok = join3(h, p, s);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  BIO_free(bio);
  free(h), free(p), free(s), free(input);
  return tok;
}

/* The key-confusion forgery: HS256 with the server's public key PEM as the HMAC secret. */
static char *sign_hs256_with_pub(const char *pub_pem, const char *header, const char *payload)
{
  char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
  size_t n = strlen(h) + strlen(p) + 2;
  char *input = malloc(n);
  snprintf(input, n, "%s.%s", h, p);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  cr_assert_not_null(HMAC(EVP_sha256(), pub_pem, (int)strlen(pub_pem), (const unsigned char *)input, strlen(input),
                          mac, &mac_len));
  char *s = b64url(mac, mac_len);
  char *tok = join3(h, p, s);
  free(h), free(p), free(s), free(input);
  return tok;
}

#define HDR_RS256 "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define HDR_HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* Claims that pass every check at NOW: only the header or signature makes a forgery fail. */
#define GOOD_CLAIMS \
  "{\"sub\":\"6f1c2d3e-0000-4000-8000-000000000001\",\"email\":\"trader@example.com\",\"iat\":1706780400," \
  "\"exp\":1706781300,\"type\":\"access\"}"

/* --- passwords --- */

Test(auth_password, hash_verifies_and_rejects_wrong_password)
{
  char h[APEX_AUTH_HASH_LEN], h2[APEX_AUTH_HASH_LEN];
  cr_assert_eq(apex_auth_hash_password("correct horse battery", h), APEX_OK);
  cr_expect(strncmp(h, "$argon2id$", 10) == 0, "argon2id hash string, got %.12s", h);
  cr_expect(apex_auth_verify_password(h, "correct horse battery"), "right password verifies");
  cr_expect(!apex_auth_verify_password(h, "correct horse batterY"), "one letter off is refused");
  cr_expect(!apex_auth_verify_password(h, ""), "empty password is refused");
  cr_expect(!apex_auth_password_needs_rehash(h), "fresh hash uses today's limits");
  cr_assert_eq(apex_auth_hash_password("correct horse battery", h2), APEX_OK);
  cr_expect_str_neq(h, h2, "a random salt makes two hashes of one password differ");
}

Test(auth_password, bad_hashes_and_nulls_are_refused)
{
  cr_expect(!apex_auth_verify_password(NULL, "whatever12"), "unknown user (NULL hash) is refused");
  cr_expect(!apex_auth_verify_password("not-a-hash", "whatever12"), "corrupt hash is refused");
  cr_expect(!apex_auth_verify_password("$argon2id$v=19$m=65536,t=2,p=1$AAAA$BBBB", NULL), "NULL password");
  cr_expect(apex_auth_password_needs_rehash("garbage"), "a corrupt hash needs rehashing");
  char h[APEX_AUTH_HASH_LEN];
  cr_expect_eq(apex_auth_hash_password(NULL, h), APEX_EINVAL);
  char *huge = malloc(2000);
  memset(huge, 'x', 1999);
  huge[1999] = '\0';
  cr_expect_eq(apex_auth_hash_password(huge, h), APEX_EINVAL, "over-long passwords are not hashed");
  free(huge);
}

Test(auth_password, policy)
{
  static const struct {
    const char *pw, *email;
    bool ok;
    const char *why;
  } CASES[] = {
      {"abcdefghij", "a@b.co", true, ""},
      {"abcdefghi", "a@b.co", false, "at least 10"},
      {"", "a@b.co", false, "at least 10"},
      {"Trader@Example.com", "trader@example.com", false, "not be the email"},
      {"trader@example.com", "TRADER@EXAMPLE.COM", false, "not be the email"},
      {"trader@example.co", "trader@example.com", true, ""},
      {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL, true, ""}, /* 10 x é */
      {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL, false, "at least 10"}, /* 9 x é: 18 bytes */
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char why[128] = "unset";
    bool ok = apex_auth_password_ok(CASES[i].pw, CASES[i].email, why, sizeof why);
    cr_expect_eq(ok, CASES[i].ok, "case %zu (%s): got %d (%s)", i, CASES[i].pw, ok, why);
    cr_expect(strstr(why, CASES[i].why) != NULL, "case %zu: reason \"%s\" should mention \"%s\"", i, why, CASES[i].why);
  }
  char long_pw[300];
  memset(long_pw, 'a', 256);
  long_pw[256] = '\0';
  cr_expect(apex_auth_password_ok(long_pw, NULL, NULL, 0), "256 characters is the maximum allowed");
  long_pw[256] = 'a';
  long_pw[257] = '\0';
  char why[128];
  cr_expect(!apex_auth_password_ok(long_pw, NULL, why, sizeof why), "257 characters is too long");
  cr_expect(strstr(why, "at most 256") != NULL, "%s", why);
  cr_expect(!apex_auth_password_ok(NULL, NULL, why, sizeof why), "NULL password");
}

Test(auth_email, syntax_table)
{
  static const struct {
    const char *email;
    bool ok;
  } CASES[] = {
      {"trader@example.com", true},
      {"first.last+tag@sub.example.co.uk", true},
      {"a@b.c", true},
      {"", false},
      {"trader", false},
      {"@example.com", false},
      {"trader@", false},
      {"trader@localhost", false},
      {"two@@example.com", false},
      {"a@b@example.com", false},
      {"tra der@example.com", false},
      {"trader@exa mple.com", false},
      {"trader@example.com ", false},
      {"trader\t@example.com", false},
      {"trader@.example.com", false},
      {"trader@example.com.", false},
      {"trader@example..com", false},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++)
    cr_expect_eq(apex_auth_email_ok(CASES[i].email), CASES[i].ok, "\"%s\" should be %s", CASES[i].email,
                 CASES[i].ok ? "accepted" : "refused");
  cr_expect(!apex_auth_email_ok(NULL));

  char e[300];
  memset(e, 'a', sizeof e);
  memcpy(e + 254 - 12, "@example.com", 13);   /* exactly 254 bytes, but a 242-byte local part */
  cr_expect(!apex_auth_email_ok(e), "local part over 64 bytes");
  memset(e, 'a', sizeof e);
  memcpy(e, "me@", 3);
  memcpy(e + 254 - 4, ".com", 5);             /* 254 bytes: me@aaaa...a.com */
  cr_expect(apex_auth_email_ok(e), "254 bytes is the maximum allowed");
  memset(e, 'a', sizeof e);
  memcpy(e, "me@", 3);
  memcpy(e + 255 - 4, ".com", 5);             /* 255 bytes */
  cr_expect(!apex_auth_email_ok(e), "255 bytes is too long");
}

/* --- JWT: keys --- */

Test(auth_jwt, keys_must_be_one_pair)
{
  apex_jwt_keys *k = NULL;
  apex_error err = {0};
  cr_expect_eq(apex_jwt_keys_new(PRIV_A, strlen(PRIV_A), PUB_B, strlen(PUB_B), &k, &err), APEX_EINVAL,
               "private A with public B must be refused");
  cr_expect_null(k);
  cr_expect(strstr(err.msg, "PRIVATE") == NULL && strstr(err.msg, "MII") == NULL, "no key text in: %s", err.msg);
  cr_expect_eq(apex_jwt_keys_new("not a pem", 9, PUB_A, strlen(PUB_A), &k, &err), APEX_EINVAL, "garbage private key");
  cr_expect_eq(apex_jwt_keys_new(PRIV_A, strlen(PRIV_A), "not a pem", 9, &k, &err), APEX_EINVAL, "garbage public key");
  cr_expect_eq(apex_jwt_keys_new(PRIV_A, strlen(PRIV_A), NULL, 0, &k, &err), APEX_EINVAL, "public key required");
  apex_jwt_keys_free(NULL);
}

Test(auth_jwt, verify_only_holder_verifies_but_cannot_issue)
{
  apex_jwt_keys *a = keys_a(), *v = NULL;
  apex_error err = {0};
  cr_assert_eq(apex_jwt_keys_new(NULL, 0, PUB_A, strlen(PUB_A), &v, &err), APEX_OK, "%s", err.msg);
  char *tok = issue(a, "access", NOW, TTL), *t2 = NULL;
  cr_expect_eq(apex_jwt_verify(v, tok, NOW, "access", NULL), APEX_JWT_OK);
  cr_expect_eq(apex_jwt_issue(v, "u1", NULL, "access", NOW, TTL, NULL, &t2, &err), APEX_EINVAL);
  cr_expect_null(t2);
  free(tok);
  apex_jwt_keys_free(a);
  apex_jwt_keys_free(v);
}

/* --- JWT: round trip, expiry --- */

Test(auth_jwt, round_trip_carries_the_claims)
{
  apex_jwt_keys *k = keys_a();
  char *tok = issue(k, "access", NOW, TTL);
  apex_jwt_claims c;
  cr_assert_eq(apex_jwt_verify(k, tok, NOW + 1, "access", &c), APEX_JWT_OK);
  cr_expect_str_eq(c.sub, "6f1c2d3e-0000-4000-8000-000000000001");
  cr_expect_str_eq(c.email, "trader@example.com");
  cr_expect_str_eq(c.type, "access");
  cr_expect_str_eq(c.jti, "jti-1");
  cr_expect_eq(c.iat, NOW);
  cr_expect_eq(c.exp, NOW + TTL);
  /* The header is exactly the spec's (7.2): {"alg":"RS256","typ":"JWT"}. */
  char *hdr = b64url(HDR_RS256, strlen(HDR_RS256));
  cr_expect(strncmp(tok, hdr, strlen(hdr)) == 0 && tok[strlen(hdr)] == '.', "header of %s", tok);
  free(hdr);
  free(tok);

  tok = issue(k, "refresh", NOW, 7 * 86400);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW + 6 * 86400, "refresh", &c), APEX_JWT_OK);
  cr_expect_str_eq(c.type, "refresh");
  free(tok);
  apex_jwt_keys_free(k);
}

Test(auth_jwt, issue_rejects_bad_arguments)
{
  apex_jwt_keys *k = keys_a();
  char *tok = NULL;
  apex_error err = {0};
  cr_expect_eq(apex_jwt_issue(k, "u1", NULL, "admin", NOW, TTL, NULL, &tok, &err), APEX_EINVAL, "unknown type");
  cr_expect_eq(apex_jwt_issue(k, "", NULL, "access", NOW, TTL, NULL, &tok, &err), APEX_EINVAL, "empty sub");
  cr_expect_eq(apex_jwt_issue(k, "a\"b", NULL, "access", NOW, TTL, NULL, &tok, &err), APEX_EINVAL, "quote in sub");
  cr_expect_eq(apex_jwt_issue(k, "u1", NULL, "access", NOW, 0, NULL, &tok, &err), APEX_EINVAL, "ttl 0");
  cr_expect_eq(apex_jwt_issue(k, "u1", NULL, "access", -5, TTL, NULL, &tok, &err), APEX_EINVAL, "negative now");
  cr_expect_null(tok);
  cr_expect_eq(apex_jwt_issue(k, "u1", NULL, "access", NOW, TTL, NULL, &tok, &err), APEX_OK, "%s", err.msg);
  apex_jwt_claims c;
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", &c), APEX_JWT_OK, "no email, no jti");
  cr_expect_str_eq(c.email, "");
  cr_expect_str_eq(c.jti, "");
  free(tok);
  apex_jwt_keys_free(k);
}

Test(auth_jwt, expired_is_told_apart_from_invalid)
{
  apex_jwt_keys *k = keys_a();
  char *tok = issue(k, "access", NOW, TTL);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW + TTL - 1, "access", NULL), APEX_JWT_OK, "last valid second");
  cr_expect_eq(apex_jwt_verify(k, tok, NOW + TTL, "access", NULL), APEX_JWT_EXPIRED, "exp == now is expired");
  cr_expect_eq(apex_jwt_verify(k, tok, NOW + 86400, "access", NULL), APEX_JWT_EXPIRED);
  cr_expect_eq((int)APEX_JWT_EXPIRED, 1002, "spec code AUTH_TOKEN_EXPIRED");
  cr_expect_eq((int)APEX_JWT_INVALID, 1003, "spec code AUTH_TOKEN_INVALID");
  /* An expired token of the wrong type, or with a forged signature, is invalid, not expired. */
  cr_expect_eq(apex_jwt_verify(k, tok, NOW + 86400, "refresh", NULL), APEX_JWT_INVALID);
  char *forged = sign_hs256_with_pub(PUB_A, HDR_HS256, GOOD_CLAIMS);
  cr_expect_eq(apex_jwt_verify(k, forged, NOW + 86400, "access", NULL), APEX_JWT_INVALID);
  free(forged);
  free(tok);
  apex_jwt_keys_free(k);
}

Test(auth_jwt, issued_at_allows_60_seconds_of_clock_skew)
{
  apex_jwt_keys *k = keys_a();
  char *tok = issue(k, "access", NOW + 60, TTL);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_OK, "iat 60 s ahead");
  free(tok);
  tok = issue(k, "access", NOW + 61, TTL);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID, "iat 61 s ahead");
  free(tok);
  apex_jwt_keys_free(k);
}

/* --- JWT: the attack matrix --- */

Test(auth_attack, hand_signed_control_token_is_accepted)
{
  /* The helper's own tokens verify, so the refusals below come from the checks under test. */
  apex_jwt_keys *k = keys_a();
  char *tok = sign_rs256(PRIV_A, HDR_RS256, GOOD_CLAIMS);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_OK);
  free(tok);
  apex_jwt_keys_free(k);
}

Test(auth_attack, alg_none_is_refused)
{
  apex_jwt_keys *k = keys_a();
  char *p = b64url(GOOD_CLAIMS, strlen(GOOD_CLAIMS));
  /* {"alg":"none","typ":"JWT"}, the payload, and an empty signature. */
  char *tok = join3("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", p, "");
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID, "%s", tok);
  free(tok);
  /* The same with some signature bytes appended, and with "None" capitalised. */
  tok = join3("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", p, "c2lnbmF0dXJl");
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID);
  free(tok);
  char *h = b64url("{\"alg\":\"None\",\"typ\":\"JWT\"}", 26);
  tok = join3(h, p, "c2lnbmF0dXJl");
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID);
  free(tok), free(h), free(p);
  apex_jwt_keys_free(k);
}

Test(auth_attack, hs256_signed_with_the_public_key_is_refused)
{
  apex_jwt_keys *k = keys_a();
  char *tok = sign_hs256_with_pub(PUB_A, HDR_HS256, GOOD_CLAIMS);
  /* Precondition, and the reason for the check: libjwt 1.10 on its own accepts this forgery. */
  jwt_t *j = NULL;
  int rc = jwt_decode(&j, tok, (const unsigned char *)PUB_A, (int)strlen(PUB_A));
  cr_expect_eq(rc, 0, "libjwt alone accepts HS256 keyed with the public key (rc %d); the forgery is well made", rc);
  jwt_free(j);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID);
  free(tok);
  /* HS256 claiming to be RS256 in the header cannot pass the RSA signature check either. */
  tok = sign_hs256_with_pub(PUB_A, HDR_RS256, GOOD_CLAIMS);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID);
  free(tok);
  apex_jwt_keys_free(k);
}

Test(auth_attack, refresh_token_where_access_is_expected)
{
  apex_jwt_keys *k = keys_a();
  char *tok = issue(k, "refresh", NOW, 7 * 86400);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID);
  free(tok);
  tok = issue(k, "access", NOW, TTL);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "refresh", NULL), APEX_JWT_INVALID, "and the other way round");
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "admin", NULL), APEX_JWT_INVALID, "unknown expected type");
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, NULL, NULL), APEX_JWT_INVALID, "no expected type");
  free(tok);
  apex_jwt_keys_free(k);
}

Test(auth_attack, tampered_payload_or_signature)
{
  apex_jwt_keys *k = keys_a();
  char *tok = issue(k, "access", NOW, TTL);
  char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
  /* Another user's id in a payload that keeps the original signature. */
  const char *evil = "{\"sub\":\"00000000-0000-4000-8000-000000000002\",\"email\":\"trader@example.com\","
                     "\"iat\":1706780400,\"exp\":1706781300,\"type\":\"access\",\"jti\":\"jti-1\"}";
  char *p = b64url(evil, strlen(evil));
  *d1 = '\0';
  char *forged = join3(tok, p, d2 + 1);
  *d1 = '.';
  cr_expect_eq(apex_jwt_verify(k, forged, NOW, "access", NULL), APEX_JWT_INVALID, "swapped payload");
  free(forged), free(p);
  /* One character of the payload changed. */
  char *t2 = strdup(tok);
  t2[d1 - tok + 5] = t2[d1 - tok + 5] == 'A' ? 'B' : 'A';
  cr_expect_eq(apex_jwt_verify(k, t2, NOW, "access", NULL), APEX_JWT_INVALID, "flipped payload byte");
  free(t2);
  /* One character of the signature changed, and the signature cut short. */
  t2 = strdup(tok);
  size_t n = strlen(t2);
  t2[n - 3] = t2[n - 3] == 'A' ? 'B' : 'A';
  cr_expect_eq(apex_jwt_verify(k, t2, NOW, "access", NULL), APEX_JWT_INVALID, "flipped signature byte");
  t2[n - 10] = '\0';
  cr_expect_eq(apex_jwt_verify(k, t2, NOW, "access", NULL), APEX_JWT_INVALID, "truncated signature");
  free(t2);
  free(tok);
  apex_jwt_keys_free(k);
}

Test(auth_attack, token_from_another_key_pair)
{
  apex_jwt_keys *a = keys_a(), *b = NULL;
  apex_error err = {0};
  cr_assert_eq(apex_jwt_keys_new(PRIV_B, strlen(PRIV_B), PUB_B, strlen(PUB_B), &b, &err), APEX_OK, "%s", err.msg);
  char *tok = issue(b, "access", NOW, TTL);
  cr_expect_eq(apex_jwt_verify(b, tok, NOW, "access", NULL), APEX_JWT_OK, "B verifies its own");
  cr_expect_eq(apex_jwt_verify(a, tok, NOW, "access", NULL), APEX_JWT_INVALID, "A refuses B's token");
  free(tok);
  apex_jwt_keys_free(a);
  apex_jwt_keys_free(b);
}

Test(auth_attack, genuinely_signed_but_malformed_claims)
{
  static const struct {
    const char *what, *header, *claims;
  } CASES[] = {
      {"no typ header", "{\"alg\":\"RS256\"}", GOOD_CLAIMS},
      {"typ not JWT", "{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}", GOOD_CLAIMS},
      {"typ in lowercase (libjwt folds case, the spec does not)", "{\"alg\":\"RS256\",\"typ\":\"jwt\"}", GOOD_CLAIMS},
      {"no sub", HDR_RS256, "{\"iat\":1706780400,\"exp\":1706781300,\"type\":\"access\"}"},
      {"empty sub", HDR_RS256, "{\"sub\":\"\",\"iat\":1706780400,\"exp\":1706781300,\"type\":\"access\"}"},
      {"sub a number", HDR_RS256, "{\"sub\":42,\"iat\":1706780400,\"exp\":1706781300,\"type\":\"access\"}"},
      {"no type", HDR_RS256, "{\"sub\":\"u1\",\"iat\":1706780400,\"exp\":1706781300}"},
      {"type admin", HDR_RS256, "{\"sub\":\"u1\",\"iat\":1706780400,\"exp\":1706781300,\"type\":\"admin\"}"},
      {"no exp", HDR_RS256, "{\"sub\":\"u1\",\"iat\":1706780400,\"type\":\"access\"}"},
      {"exp a string", HDR_RS256, "{\"sub\":\"u1\",\"iat\":1706780400,\"exp\":\"1706781300\",\"type\":\"access\"}"},
      {"exp a float", HDR_RS256, "{\"sub\":\"u1\",\"iat\":1706780400,\"exp\":1706781300.5,\"type\":\"access\"}"},
      {"no iat", HDR_RS256, "{\"sub\":\"u1\",\"exp\":1706781300,\"type\":\"access\"}"},
      {"iat a string", HDR_RS256, "{\"sub\":\"u1\",\"iat\":\"0\",\"exp\":1706781300,\"type\":\"access\"}"},
      {"exp before iat", HDR_RS256, "{\"sub\":\"u1\",\"iat\":1706780400,\"exp\":1706780300,\"type\":\"access\"}"},
      {"nbf in the future", HDR_RS256,
       "{\"sub\":\"u1\",\"iat\":1706780400,\"nbf\":1706781000,\"exp\":1706781300,\"type\":\"access\"}"},
      {"email an object", HDR_RS256,
       "{\"sub\":\"u1\",\"email\":{},\"iat\":1706780400,\"exp\":1706781300,\"type\":\"access\"}"},
      {"sub over 36 bytes", HDR_RS256,
       "{\"sub\":\"0123456789012345678901234567890123456789012345678901234567890123456789\","
       "\"iat\":1706780400,\"exp\":1706781300,\"type\":\"access\"}"},
  };
  apex_jwt_keys *k = keys_a();
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char *tok = sign_rs256(PRIV_A, CASES[i].header, CASES[i].claims);
    cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID, "%s", CASES[i].what);
    free(tok);
  }
  apex_jwt_keys_free(k);
}

Test(auth_attack, garbage_and_huge_input)
{
  static const char *const CASES[] = {
      "", "abc", "a.b", "a.b.c", "..", "a..c", ".b.c", "a.b.", "a.b.c.d", "Bearer a.b.c",
      "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ9.c2ln", "eyJ hbGci.eyJ9.c2ln", "\xff\xfe.\x01.\x02",
      "e30.e30.e30",   /* {}.{}.{} */
  };
  apex_jwt_keys *k = keys_a();
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++)
    cr_expect_eq(apex_jwt_verify(k, CASES[i], NOW, "access", NULL), APEX_JWT_INVALID, "case %zu: \"%s\"", i, CASES[i]);
  cr_expect_eq(apex_jwt_verify(k, NULL, NOW, "access", NULL), APEX_JWT_INVALID, "NULL token");
  cr_expect_eq(apex_jwt_verify(NULL, "a.b.c", NOW, "access", NULL), APEX_JWT_INVALID, "NULL keys");

  /* 10 KiB of base64url in token shape. */
  char *big = malloc(10 * 1024 + 1);
  memset(big, 'A', 10 * 1024);
  big[100] = big[5000] = '.';
  big[10 * 1024] = '\0';
  cr_expect_eq(apex_jwt_verify(k, big, NOW, "access", NULL), APEX_JWT_INVALID, "10 KiB token");
  free(big);

  /* A genuinely signed token over 8 KiB: refused for its size alone. */
  size_t pad = 7000;
  char *claims = malloc(pad + 200);
  int n = snprintf(claims, 200, "{\"sub\":\"u1\",\"iat\":1706780400,\"exp\":1706781300,\"type\":\"access\",\"x\":\"");
  memset(claims + n, 'x', pad);
  memcpy(claims + (size_t)n + pad, "\"}", 3);
  char *tok = sign_rs256(PRIV_A, HDR_RS256, claims);
  cr_expect_gt(strlen(tok), (size_t)APEX_JWT_MAX_TOKEN);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_INVALID, "signed but %zu bytes", strlen(tok));
  free(tok);
  claims[(size_t)n + 5000] = '\0';
  memcpy(claims + (size_t)n + 4998, "\"}", 3);
  tok = sign_rs256(PRIV_A, HDR_RS256, claims);
  cr_expect_lt(strlen(tok), (size_t)APEX_JWT_MAX_TOKEN);
  cr_expect_eq(apex_jwt_verify(k, tok, NOW, "access", NULL), APEX_JWT_OK, "the same under 8 KiB passes");
  free(tok);
  free(claims);
  apex_jwt_keys_free(k);
}

/* --- random tokens and ids --- */

static bool all_in(const char *s, const char *set)
{
  return strspn(s, set) == strlen(s);
}

Test(auth_random, token_is_43_base64url_characters)
{
  char a[APEX_AUTH_TOKEN_LEN], b[APEX_AUTH_TOKEN_LEN];
  apex_auth_random_token(a);
  apex_auth_random_token(b);
  cr_expect_eq(strlen(a), 43u);
  cr_expect(all_in(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), "%s", a);
  cr_expect_str_neq(a, b, "two tokens differ");
}

Test(auth_random, token_hash_is_sha256_hex)
{
  char h[APEX_AUTH_TOKEN_HASH_LEN];
  apex_auth_token_hash("abc", h);   /* FIPS 180-2 test vector */
  cr_expect_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  apex_auth_token_hash("", h);
  cr_expect_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(auth_random, uuid_v4_format)
{
  char u[APEX_AUTH_UUID_LEN], v[APEX_AUTH_UUID_LEN];
  for (int i = 0; i < 64; i++) {
    apex_auth_uuid(u);
    cr_assert_eq(strlen(u), 36u);
    for (int j = 0; j < 36; j++) {
      if (j == 8 || j == 13 || j == 18 || j == 23)
        cr_assert_eq(u[j], '-', "%s", u);
      else
        cr_assert(strchr("0123456789abcdef", u[j]) && u[j], "%s", u);
    }
    cr_assert_eq(u[14], '4', "version 4: %s", u);
    cr_assert(strchr("89ab", u[19]) != NULL, "variant 10: %s", u);
  }
  apex_auth_uuid(v);
  cr_expect_str_neq(u, v);
}

Test(auth_random, constant_time_equal)
{
  cr_expect(apex_auth_equal("abc", "abc"));
  cr_expect(!apex_auth_equal("abc", "abd"));
  cr_expect(!apex_auth_equal("abc", "abcd"));
  cr_expect(!apex_auth_equal(NULL, "abc"));
}
