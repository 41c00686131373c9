/* test_secrets.c - secrets in the data directory (created 0600, reused, refused when others can
 * read them), secrets from the environment, production checks, AES-256-GCM, masking.
 * Every file goes under a fresh mkdtemp directory in /tmp, removed at the end of each test. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/secrets.h"

/* A 1024-bit key, test-only: too small to be accepted. */
static const char PRIV_1024[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAL++t6IVfzvtvJeK\n"
    "8AmOgvQHQkPkui660HEYxaOFB19xLZzTY+ntVF6nqdBGvqEzC18+iOmiLVWjBIsA\n"
    "ZbyW6gVwfX0enLx9KAByZtH/wN2Vm8iEEF7CpXiqhL58WFaKhjP2/vRm4ryilCuI\n"
    "EBh79vNysgPyjiqjqZZu35jX3GwtAgMBAAECgYBPQvQ/4SkGSeECt+E/4hRJ8dI3\n"
    "pI4+EOVnSvkv/iatEmjrggq0QXH16tLskMHuet5BkeUgxvR8iPWwzApCKhQ0UY/W\n"
    "qYLgmL/W8qb7V5/OEosQt8hnVb9JSETPgfAholqXn+wBftN5MslHoaKx4earK4aM\n"
    "dUg+92VVeIOLRUHuVQJBAPGNvr24cq55UqWdntuOqPcyZMviGllaIXMCqTWjLM0z\n"
    "1bcAd9ojfm4hi+VYKI9wp5m/i+z8v9opakiop4dwDbMCQQDLNmMSpMkndR/CA5bP\n"
    "dbndYfqCOODIS4eHDeR9eMFuDlv/AMT2w0SvU4VY+HHoTgq81k8gFiTywUNGIqWY\n"
    "m26fAkEAsKTNlgQqqXjDfaWUpE7hNVS+7XI9fpYw2+BYSYc4nh+H7DoFa5qFPJh/\n"
    "q4oarzrc9cxj0TzMOAgNV3EughbpjQJAXAE7ye0hxeOZhVXqqfM7O6hoqxzlaMoJ\n"
    "inQXx1cs/I8zx7ipdK/kIR1HeojBydPLuMOu/3AHOoGV2+ND5lw5MQJAHO7jRD4m\n"
    "tW3tp2oHz+mJckSsbxx7AjPXkYDIOOwQIwVvK+/zdplSIVlnj0WekulGdcmf0iQn\n"
    "fzI28Zt8aZkgrA==\n"
    "-----END PRIVATE KEY-----\n";

static char tmp_root[64];

static void make_tmp(void)
{
  snprintf(tmp_root, sizeof tmp_root, "/tmp/apex-secrets-XXXXXX");
  cr_assert_not_null(mkdtemp(tmp_root));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void remove_tmp(void)
{
  if (tmp_root[0])
    nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(secrets_files, .init = make_tmp, .fini = remove_tmp);

/* tmp_root/rel in a ring of buffers: each result stays valid for the next 63 calls, more than
 * any one test makes. */
static const char *path_in(const char *rel)
{
  static char buf[64][512];
  static int i;
  i = (i + 1) % 64;
  snprintf(buf[i], sizeof buf[i], "%s/%s", tmp_root, rel);
  return buf[i];
}

static unsigned mode_of(const char *path)
{
  struct stat st;
  cr_assert_eq(stat(path, &st), 0, "%s exists", path);
  return (unsigned)(st.st_mode & 0777);
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s", path);
  char *buf = calloc(1, 70000);
  size_t n = fread(buf, 1, 69999, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "%s", path);
  fputs(text, f);
  fclose(f);
  cr_assert_eq(chmod(path, mode), 0);
}

static bool is_zero(const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

/* --- data directory --- */

Test(secrets_files, first_start_creates_private_files_and_second_reuses_them)
{
  char *dir = strdup(path_in("var/data"));   /* two levels that do not exist yet */
  apex_secrets s = {0}, s2 = {0};
  apex_error err = {0};
  cr_assert_eq(apex_secrets_ensure(dir, NULL, &s, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(mode_of(dir), 0700u, "data dir mode %03o", mode_of(dir));
  const char *files[] = {"var/data/jwt_private.pem", "var/data/jwt_public.pem", "var/data/encryption.key"};
  for (size_t i = 0; i < 3; i++)
    cr_expect_eq(mode_of(path_in(files[i])), 0600u, "%s has mode %03o", files[i], mode_of(path_in(files[i])));
  cr_expect_eq(s.jwt_source, APEX_SECRET_GENERATED);
  cr_expect_eq(s.enc_source, APEX_SECRET_GENERATED);
  cr_expect(strstr(s.jwt_private_pem, "-----BEGIN PRIVATE KEY-----") == s.jwt_private_pem);
  cr_expect(strstr(s.jwt_public_pem, "-----BEGIN PUBLIC KEY-----") == s.jwt_public_pem);
  cr_expect_eq(strlen(s.jwt_private_pem), s.jwt_private_len);
  cr_expect(!is_zero(s.enc_key, sizeof s.enc_key));
  char *keyfile = slurp(path_in("var/data/encryption.key"));
  cr_expect_eq(strlen(keyfile), 65u, "64 hex digits and a newline");
  cr_expect_eq(strspn(keyfile, "0123456789abcdef"), 64u);
  free(keyfile);
  char *pub = slurp(path_in("var/data/jwt_public.pem"));
  cr_expect_str_eq(pub, s.jwt_public_pem);
  free(pub);

  cr_assert_eq(apex_secrets_ensure(dir, NULL, &s2, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(s2.jwt_source, APEX_SECRET_FROM_FILE);
  cr_expect_eq(s2.enc_source, APEX_SECRET_FROM_FILE);
  cr_expect_str_eq(s2.jwt_private_pem, s.jwt_private_pem, "same private key on the second start");
  cr_expect_str_eq(s2.jwt_public_pem, s.jwt_public_pem);
  cr_expect(memcmp(s2.enc_key, s.enc_key, sizeof s.enc_key) == 0, "same encryption key");
  apex_secrets_free(&s);
  apex_secrets_free(&s2);
  cr_expect_null(s.jwt_private_pem, "free leaves a zeroed struct");
  apex_secrets_free(&s);   /* twice is harmless */
  apex_secrets_free(NULL);
  free(dir);
}

Test(secrets_files, loose_permissions_are_refused)
{
  apex_secrets s = {0};
  apex_error err = {0};
  cr_assert_eq(apex_secrets_ensure(tmp_root, NULL, &s, &err), APEX_OK, "%s", err.msg);
  char *priv = strdup(s.jwt_private_pem);
  apex_secrets_free(&s);

  static const struct {
    const char *file;
    mode_t mode;
    bool ok;
  } CASES[] = {
      {"jwt_private.pem", 0644, false}, {"jwt_private.pem", 0640, false}, {"jwt_private.pem", 0604, false},
      {"jwt_private.pem", 0400, true},  {"encryption.key", 0644, false},  {"encryption.key", 0660, false},
      {"jwt_public.pem", 0644, true},   {"jwt_public.pem", 0664, false},  {"jwt_public.pem", 0646, false},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    const char *p = path_in(CASES[i].file);
    cr_assert_eq(chmod(p, CASES[i].mode), 0);
    memset(&err, 0, sizeof err);
    apex_err rc = apex_secrets_ensure(tmp_root, NULL, &s, &err);
    if (CASES[i].ok) {
      cr_expect_eq(rc, APEX_OK, "%s at %03o: %s", CASES[i].file, (unsigned)CASES[i].mode, err.msg);
    } else {
      cr_expect_eq(rc, APEX_EINVAL, "%s at %03o must be refused", CASES[i].file, (unsigned)CASES[i].mode);
      cr_expect(strstr(err.msg, CASES[i].file) && strstr(err.msg, "chmod"), "message names file and fix: %s", err.msg);
      cr_expect_null(s.jwt_private_pem, "nothing handed out on error");
    }
    apex_secrets_free(&s);
    cr_assert_eq(chmod(p, 0600), 0);
  }
  /* No message carries key material. */
  cr_expect(strstr(err.msg, "BEGIN") == NULL && strstr(err.msg, priv + 40) == NULL);
  free(priv);
}

Test(secrets_files, symlinks_and_bad_contents_are_refused)
{
  apex_secrets s = {0};
  apex_error err = {0};
  write_file(path_in("elsewhere.key"), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600);
  cr_assert_eq(symlink(path_in("elsewhere.key"), path_in("encryption.key")), 0);
  cr_expect_eq(apex_secrets_ensure(tmp_root, NULL, &s, &err), APEX_EINVAL, "symlinked secret in the data dir");
  cr_expect(strstr(err.msg, "symbolic link") != NULL, "%s", err.msg);
  cr_assert_eq(unlink(path_in("encryption.key")), 0);

  write_file(path_in("encryption.key"), "not hex at all\n", 0600);
  cr_expect_eq(apex_secrets_ensure(tmp_root, NULL, &s, &err), APEX_EINVAL, "encryption.key of the wrong form");
  cr_expect(strstr(err.msg, "64 hex digits") != NULL, "%s", err.msg);
  write_file(path_in("encryption.key"), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600);
  cr_assert_eq(apex_secrets_ensure(tmp_root, NULL, &s, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(s.enc_key[0], 0x00);
  cr_expect_eq(s.enc_key[1], 0x11);
  cr_expect_eq(s.enc_key[31], 0xff);
  apex_secrets_free(&s);

  write_file(path_in("jwt_private.pem"), PRIV_1024, 0600);
  cr_expect_eq(apex_secrets_ensure(tmp_root, NULL, &s, &err), APEX_EINVAL, "1024-bit RSA");
  cr_expect(strstr(err.msg, "1024 bits") != NULL, "%s", err.msg);
  write_file(path_in("jwt_private.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0600);
  cr_expect_eq(apex_secrets_ensure(tmp_root, NULL, &s, &err), APEX_EINVAL, "garbage PEM");
}

Test(secrets_files, public_key_file_must_match_the_private_key)
{
  apex_secrets a = {0}, b = {0};
  apex_error err = {0};
  cr_assert_eq(apex_secrets_ensure(path_in("a"), NULL, &a, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_secrets_ensure(path_in("b"), NULL, &b, &err), APEX_OK, "%s", err.msg);
  cr_expect_str_neq(a.jwt_public_pem, b.jwt_public_pem, "two data dirs, two key pairs");
  write_file(path_in("a/jwt_public.pem"), b.jwt_public_pem, 0600);
  apex_secrets s = {0};
  cr_expect_eq(apex_secrets_ensure(path_in("a"), NULL, &s, &err), APEX_EINVAL);
  cr_expect(strstr(err.msg, "does not belong") != NULL, "%s", err.msg);
  /* A deleted public key is written again from the private key. */
  cr_assert_eq(unlink(path_in("a/jwt_public.pem")), 0);
  cr_expect_eq(apex_secrets_ensure(path_in("a"), NULL, &s, &err), APEX_OK, "%s", err.msg);
  char *pub = slurp(path_in("a/jwt_public.pem"));
  cr_expect_str_eq(pub, a.jwt_public_pem);
  free(pub);
  apex_secrets_free(&s);
  apex_secrets_free(&a);
  apex_secrets_free(&b);
}

Test(secrets_files, two_processes_starting_at_once_agree_on_the_keys)
{
  char dir[512];
  snprintf(dir, sizeof dir, "%s", path_in("shared"));
  pid_t kids[3];
  for (int i = 0; i < 3; i++) {
    kids[i] = fork();
    cr_assert_neq(kids[i], -1);
    if (kids[i] == 0) {
      apex_secrets s = {0};
      char out[600];
      if (apex_secrets_ensure(dir, NULL, &s, NULL) != APEX_OK)
        _exit(1);
      snprintf(out, sizeof out, "%s/seen.%d", tmp_root, i);
      FILE *f = fopen(out, "wb");
      if (!f)
        _exit(2);
      fwrite(s.jwt_private_pem, 1, s.jwt_private_len, f);
      fwrite(s.jwt_public_pem, 1, s.jwt_public_len, f);
      fwrite(s.enc_key, 1, sizeof s.enc_key, f);
      fclose(f);
      apex_secrets_free(&s);
      _exit(0);
    }
  }
  for (int i = 0; i < 3; i++) {
    int st = 0;
    cr_assert_eq(waitpid(kids[i], &st, 0), kids[i]);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed (status %d)", i, st);
  }
  char *a = slurp(path_in("seen.0")), *b = slurp(path_in("seen.1")), *c = slurp(path_in("seen.2"));
  cr_expect(strstr(a, "BEGIN PRIVATE KEY") != NULL);
  cr_expect(memcmp(a, b, 70000) == 0 && memcmp(a, c, 70000) == 0, "every process got the same secrets");
  free(a), free(b), free(c);
}

/* --- environment --- */

Test(secrets_files, environment_values_win_and_nothing_is_written)
{
  apex_secrets gen = {0}, s = {0};
  apex_error err = {0};
  cr_assert_eq(apex_secrets_ensure(path_in("gen"), NULL, &gen, &err), APEX_OK, "%s", err.msg);
  write_file(path_in("k.pem"), gen.jwt_private_pem, 0600);
  write_file(path_in("k.pub"), gen.jwt_public_pem, 0644);

  apex_secrets_cfg cfg = {
      .jwt_private_key_file = path_in("k.pem"),
      .jwt_public_key_file = path_in("k.pub"),
      .api_key_encryption_key = "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff",
  };
  char dir[512];
  snprintf(dir, sizeof dir, "%s", path_in("never"));
  cr_assert_eq(apex_secrets_ensure(dir, &cfg, &s, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(s.jwt_source, APEX_SECRET_FROM_ENV);
  cr_expect_eq(s.enc_source, APEX_SECRET_FROM_ENV);
  cr_expect_str_eq(s.jwt_public_pem, gen.jwt_public_pem);
  cr_expect_eq(s.enc_key[10], 0xaa, "hex decoded, either case");
  struct stat st;
  cr_expect_neq(stat(dir, &st), 0, "no data dir is created when every secret comes from the environment");
  apex_secrets_free(&s);

  /* The private key file from the environment obeys the same permission rule. */
  cr_assert_eq(chmod(path_in("k.pem"), 0644), 0);
  cr_expect_eq(apex_secrets_ensure(dir, &cfg, &s, &err), APEX_EINVAL);
  cr_expect(strstr(err.msg, "k.pem") != NULL, "%s", err.msg);
  cr_assert_eq(chmod(path_in("k.pem"), 0600), 0);

  /* Only the private key: the public one is derived. A public key alone is refused. */
  cfg.jwt_public_key_file = NULL;
  cr_expect_eq(apex_secrets_ensure(dir, &cfg, &s, &err), APEX_OK, "%s", err.msg);
  cr_expect_str_eq(s.jwt_public_pem, gen.jwt_public_pem);
  apex_secrets_free(&s);
  cfg.jwt_private_key_file = "";
  cfg.jwt_public_key_file = path_in("k.pub");
  cr_expect_eq(apex_secrets_ensure(dir, &cfg, &s, &err), APEX_EINVAL);
  cr_expect(strstr(err.msg, "JWT_PUBLIC_KEY_FILE") != NULL, "%s", err.msg);
  cfg.jwt_private_key_file = path_in("missing.pem");
  cfg.jwt_public_key_file = NULL;
  cr_expect_eq(apex_secrets_ensure(dir, &cfg, &s, &err), APEX_ENOTFOUND, "a named file that does not exist");
  apex_secrets_free(&gen);
}

Test(secrets_key, passphrase_is_stretched_with_pbkdf2)
{
  unsigned char k[APEX_SECRETS_KEY_LEN], k2[APEX_SECRETS_KEY_LEN];
  apex_error err = {0};
  /* Expected bytes from Python: hashlib.pbkdf2_hmac('sha256', passphrase,
   * b'apextrade/API_KEY_ENCRYPTION_KEY/v1', 600000, 32). */
  static const unsigned char want[32] = {
      0x62, 0x70, 0x2f, 0xf6, 0xfc, 0x0f, 0x79, 0x9b, 0x5a, 0x60, 0xef, 0x47, 0x08, 0x00, 0x6c, 0xd0,
      0xa4, 0xd9, 0x1b, 0xb0, 0x83, 0x0a, 0x15, 0x5b, 0x56, 0x8c, 0xbd, 0x9a, 0x2d, 0x61, 0xb2, 0x75};
  cr_assert_eq(apex_secrets_key_from_text("correct horse battery staple, forty chars", k, &err), APEX_OK, "%s", err.msg);
  cr_expect(memcmp(k, want, 32) == 0, "PBKDF2-HMAC-SHA256 vector");
  cr_assert_eq(apex_secrets_key_from_text("correct horse battery staple, forty chars!", k2, &err), APEX_OK);
  cr_expect(memcmp(k, k2, 32) != 0);
  cr_expect_eq(apex_secrets_key_from_text("", k, &err), APEX_EINVAL);
  cr_expect_eq(apex_secrets_key_from_text(NULL, k, &err), APEX_EINVAL);
  /* 63 or 65 hex digits are passphrases, not keys. */
  cr_assert_eq(apex_secrets_key_from_text("000000000000000000000000000000000000000000000000000000000000000", k, &err), APEX_OK);
  cr_expect(!is_zero(k, 32));
}

/* --- production checks --- */

/* 32 random bytes in base64 (openssl rand -base64 32) and in hex: exactly 256 bits each. */
#define GOOD_SECRET "mQ3vZ8kR1xT6pW2yB9nL4cF7hJ0sD5gA8eU3oI6rK1w="
#define GOOD_HEX "4f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"

Test(secrets_production, problems_are_listed_one_per_line)
{
  static const struct {
    const char *what, *env, *secret, *enc, *priv, *pub;
    size_t n;
    const char *mention;
  } CASES[] = {
      {"all good", "production", GOOD_SECRET, GOOD_HEX, NULL, NULL, 0, ""},
      {"base64url without padding", "production", "Xf9_k2Lq-7Zr4vBn8Tw1Hy6Mc3Js0Pd5Ge2Ua9Ko4Wi", GOOD_HEX, NULL, NULL, 0, ""},
      {"good passphrase", "production", GOOD_SECRET, "a long passphrase of more than 40 chars!", NULL, NULL, 0, ""},
      {"development ignores everything", "development", NULL, NULL, NULL, NULL, 0, ""},
      {"unset APP_ENV is not production", NULL, "short", "short", NULL, NULL, 0, ""},
      {"PRODUCTION in capitals", "PRODUCTION", NULL, GOOD_HEX, NULL, NULL, 1, "SECRET_KEY is not set"},
      {"missing secret key", "production", "", GOOD_HEX, NULL, NULL, 1, "SECRET_KEY is not set"},
      {"63 hex digits", "production", "4f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2", GOOD_HEX,
       NULL, NULL, 1, "less than 256 bits"},
      {"42 base64 characters", "production", "mQ3vZ8kR1xT6pW2yB9nL4cF7hJ0sD5gA8eU3oI6rK1", GOOD_HEX, NULL, NULL, 1,
       "less than 256 bits"},
      {"32 characters (the old minimum)", "production", "Zq7Rk2mXv9Lp4Wt8Hs1Nd6Jf3Bc5Gy0U", GOOD_HEX, NULL, NULL, 1,
       "less than 256 bits"},
      {"spec placeholder", "production", "your-secret-key-min-32-chars-0123456", GOOD_HEX, NULL, NULL, 1, "example"},
      {"changeme", "production", "CHANGEME-please-0123456789abcdefghij", GOOD_HEX, NULL, NULL, 1, "example"},
      {"Password123 style", "production", "Password123Password123Password123!!", GOOD_HEX, NULL, NULL, 1, "example"},
      {"repeated piece", "production", "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3", GOOD_HEX, NULL, NULL, 1,
       "not random-looking"},
      {"sequential", "production", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", GOOD_HEX, NULL, NULL, 1,
       "example"},
      {"sequential without a listed word", "production", "bcdeghijklmnopqrstuvwxyzBCDEGHIJKLMNOPQRSTUVWXYZ", GOOD_HEX,
       NULL, NULL, 1, "not random-looking"},
      {"one repeated character", "production", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", GOOD_HEX,
       NULL, NULL, 1, "not random-looking"},
      {"missing encryption key", "production", GOOD_SECRET, NULL, NULL, NULL, 1, "API_KEY_ENCRYPTION_KEY is not set"},
      {"spec's encryption placeholder", "production", GOOD_SECRET, "your-32-byte-key", NULL, NULL, 1,
       "API_KEY_ENCRYPTION_KEY is an example"},
      {"short encryption key", "production", GOOD_SECRET, "0123456789abcdef", NULL, NULL, 1, "API_KEY_ENCRYPTION_KEY"},
      {"32-character passphrase (the old minimum)", "production", GOOD_SECRET, "q8Zr2LmX9vTw4NpK7sYb3HcF6gJd1Ae5",
       NULL, NULL, 1, "API_KEY_ENCRYPTION_KEY holds less than 256 bits"},
      {"all-zero hex key", "production", GOOD_SECRET,
       "0000000000000000000000000000000000000000000000000000000000000000", NULL, NULL, 1, "not random-looking"},
      {"public key without private", "production", GOOD_SECRET, GOOD_HEX, NULL, "/etc/apex/jwt.pub", 1, "JWT_PUBLIC_KEY_FILE"},
      {"everything missing", "production", NULL, NULL, NULL, "/x", 3, "SECRET_KEY"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_secrets_cfg cfg = {.app_env = CASES[i].env, .secret_key = CASES[i].secret,
                            .api_key_encryption_key = CASES[i].enc, .jwt_private_key_file = CASES[i].priv,
                            .jwt_public_key_file = CASES[i].pub};
    char buf[1024];
    size_t n = 99;
    apex_err rc = apex_secrets_check_production(&cfg, buf, sizeof buf, &n);
    cr_expect_eq(n, CASES[i].n, "%s: %zu problems:\n%s", CASES[i].what, n, buf);
    cr_expect_eq(rc, CASES[i].n ? APEX_EINVAL : APEX_OK, "%s", CASES[i].what);
    size_t lines = 0;
    for (const char *p = buf; *p; p++)
      lines += *p == '\n';
    cr_expect_eq(lines, CASES[i].n, "%s: one line per problem:\n%s", CASES[i].what, buf);
    cr_expect(strstr(buf, CASES[i].mention) != NULL, "%s: \"%s\" should mention \"%s\"", CASES[i].what, buf,
              CASES[i].mention);
    if (CASES[i].secret && strlen(CASES[i].secret) > 4)
      cr_expect(strstr(buf, CASES[i].secret) == NULL, "%s: the secret itself is never shown", CASES[i].what);
    if (CASES[i].enc && strlen(CASES[i].enc) > 4)
      cr_expect(strstr(buf, CASES[i].enc) == NULL, "%s: the key itself is never shown", CASES[i].what);
  }
}

Test(secrets_production, small_buffers_are_safe)
{
  apex_secrets_cfg cfg = {.app_env = "production"};
  char buf[20];
  size_t n = 0;
  cr_expect_eq(apex_secrets_check_production(&cfg, buf, sizeof buf, &n), APEX_EINVAL);
  cr_expect_eq(n, 2u, "the count is exact even when the text is cut");
  cr_expect_lt(strlen(buf), sizeof buf);
  cr_expect_eq(apex_secrets_check_production(&cfg, NULL, 0, NULL), APEX_EINVAL);
}

/* --- AES-256-GCM --- */

static const unsigned char KEY[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                      16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

Test(secrets_aes, round_trip)
{
  static const struct {
    const char *data;
    size_t len;
  } CASES[] = {
      {"binance-secret-0123456789", 25}, {"", 0}, {"a", 1}, {"with\0nul and \xff bytes", 21},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char *ct = NULL, *pt = NULL;
    size_t n = 99;
    apex_error err = {0};
    cr_assert_eq(apex_secrets_encrypt(KEY, CASES[i].data, CASES[i].len, &ct, &err), APEX_OK, "%s", err.msg);
    cr_expect(strncmp(ct, "v1:", 3) == 0, "%s", ct);
    cr_expect_eq(strlen(ct), 3 + 4 * ((12 + CASES[i].len + 16 + 2) / 3));
    cr_assert_eq(apex_secrets_decrypt(KEY, ct, &pt, &n, &err), APEX_OK, "case %zu: %s", i, err.msg);
    cr_expect_eq(n, CASES[i].len);
    cr_expect(memcmp(pt, CASES[i].data, n) == 0 && pt[n] == '\0', "case %zu", i);
    free(pt);
    free(ct);
  }
  char *a = NULL, *b = NULL;
  cr_assert_eq(apex_secrets_encrypt(KEY, "same", 4, &a, NULL), APEX_OK);
  cr_assert_eq(apex_secrets_encrypt(KEY, "same", 4, &b, NULL), APEX_OK);
  cr_expect_str_neq(a, b, "a fresh nonce each time");
  free(a), free(b);
}

Test(secrets_aes, decrypts_a_reference_ciphertext)
{
  /* Made with Python's cryptography AESGCM(key 00..1f).encrypt(nonce a0..ab, pt, aad=b"v1:"). */
  const char *ct = "v1:oKGio6SlpqeoqaqrhHESTCuoZ5IRAOShYg7t7kGeaiSngXVUpZFZPKh/hmMDLy/2BLDgcig=";
  char *pt = NULL;
  size_t n = 0;
  apex_error err = {0};
  cr_assert_eq(apex_secrets_decrypt(KEY, ct, &pt, &n, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(n, 25u);
  cr_expect_str_eq(pt, "binance-secret-0123456789");
  free(pt);
}

Test(secrets_aes, tampering_and_wrong_keys_fail_cleanly)
{
  char *ct = NULL, *pt = NULL;
  size_t n = 7;
  apex_error err = {0};
  cr_assert_eq(apex_secrets_encrypt(KEY, "binance-secret-0123456789", 25, &ct, &err), APEX_OK);
  size_t len = strlen(ct);
  /* Flip one base64 character in the nonce, the ciphertext and the tag. */
  size_t at[] = {4, 3 + 16 + 4, len - 6};
  for (size_t i = 0; i < APEX_ARRAY_LEN(at); i++) {
    char *t = strdup(ct);
    t[at[i]] = t[at[i]] == 'A' ? 'B' : 'A';
    cr_expect_eq(apex_secrets_decrypt(KEY, t, &pt, &n, &err), APEX_EDATA, "flip at %zu", at[i]);
    cr_expect_null(pt);
    cr_expect_eq(n, 0u);
    cr_expect(strstr(err.msg, "binance") == NULL, "%s", err.msg);
    free(t);
  }
  unsigned char other[32];
  memcpy(other, KEY, 32);
  other[31] ^= 1;
  cr_expect_eq(apex_secrets_decrypt(other, ct, &pt, &n, &err), APEX_EDATA, "wrong key");
  cr_expect_null(pt);

  char *t = strdup(ct);
  t[1] = '2';   /* "v2:": another version is not this format */
  cr_expect_eq(apex_secrets_decrypt(KEY, t, &pt, &n, &err), APEX_EPARSE);
  free(t);
  static const char *const BAD[] = {"", "v1:", "v1:AAAA", "v1:!!!!", "v1:AAA", "v1:AA=A", "plain text",
                                    "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};   /* 27 bytes: too short */
  for (size_t i = 0; i < APEX_ARRAY_LEN(BAD); i++)
    cr_expect_eq(apex_secrets_decrypt(KEY, BAD[i], &pt, &n, &err), APEX_EPARSE, "\"%s\"", BAD[i]);
  cr_expect_eq(apex_secrets_decrypt(KEY, NULL, &pt, &n, &err), APEX_EPARSE);
  /* Well-formed but forged: zero nonce, no ciphertext, zero tag (28 bytes). */
  cr_expect_eq(apex_secrets_decrypt(KEY, "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", &pt, &n, &err), APEX_EDATA);
  /* Cut the tag short. */
  t = strdup(ct);
  t[len - 8] = '\0';
  cr_expect_neq(apex_secrets_decrypt(KEY, t, &pt, &n, &err), APEX_OK, "truncated");
  cr_expect_null(pt);
  free(t);
  free(ct);

  char *big = calloc(1, APEX_SECRETS_MAX_PLAIN + 1);
  cr_expect_eq(apex_secrets_encrypt(KEY, big, APEX_SECRETS_MAX_PLAIN + 1, &ct, &err), APEX_ETOOBIG);
  cr_expect_null(ct);
  free(big);
}

/* --- mask --- */

Test(secrets_mask, hints_never_give_much_away)
{
  static const struct {
    const char *secret, *want;
  } CASES[] = {
      {"abcdefghijklmnopqrstuvwxyz", "abcd\xe2\x80\xa6wxyz"},
      {"abcdefghijklmnopqrstuvwx", "abcd\xe2\x80\xa6uvwx"},    /* 24: first and last four */
      {"abcdefghijklmnopqrstuvw", "\xe2\x80\xa6tuvw"},         /* 23: last four only */
      {"abcdefghijkl", "\xe2\x80\xa6ijkl"},                    /* 12 */
      {"abcdefghijk", "\xe2\x80\xa6"},                         /* 11: nothing shown */
      {"", "\xe2\x80\xa6"},
      {NULL, "\xe2\x80\xa6"},
      {"ab\ncdefghijklmnopqrstu\x01wxyz", "ab*c\xe2\x80\xa6wxyz"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char out[APEX_SECRETS_MASK_LEN];
    memset(out, '#', sizeof out);
    apex_secrets_mask(CASES[i].secret, out);
    cr_expect_str_eq(out, CASES[i].want, "case %zu", i);
  }
}
