/* secrets.c - JWT key pair and encryption key from the environment or the data directory,
 * production checks, AES-256-GCM. The only file that includes OpenSSL headers. Error
 * messages name files and fixes, never secret material. */
#include "sys/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#define PEM_MAX (64 * 1024)
#define KEYFILE_MAX 1024
#define PBKDF2_ITER 600000   /* OWASP 2023 for PBKDF2-HMAC-SHA256; ~110 ms once per start */
#define NONCE_LEN 12
#define TAG_LEN 16
#define PREFIX "v1:"

static const char KDF_SALT[] = "apextrade/API_KEY_ENCRYPTION_KEY/v1";

static bool is_set(const char *s)
{
  return s && *s;
}

static bool ascii_ieq(const char *a, const char *b)
{
  for (; *a && *b; a++, b++) {
    char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
    if (x != *b)
      return false;
  }
  return *a == *b;
}

/* --- production checks: the one policy for every secret given in production --- */

/* Lowercase fragments of values people copy from examples: the spec's Appendix A
 * ("your-secret-key-min-32-chars", "your-32-byte-key", "your-jwt-secret"), placeholders and the
 * words of "Password123"-style values. Six characters or more with letters, or punctuation, so
 * that random key material contains one by chance about once in millions of keys. */
static const char *const EXAMPLES[] = {
  "your-", "your_", "changeme", "change-me", "change_me", "change-this", "placeholder", "replace-me",
  "replaceme", "example", "insecure", "password", "passw0rd", "secret-key", "secret_key", "secretkey",
  "qwerty", "letmein", "123456", "abcdef",
};

static bool has_example(const char *s)
{
  char low[257];
  size_t n = strnlen(s, sizeof low - 1);
  for (size_t i = 0; i < n; i++)
    low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
  low[n] = '\0';
  for (size_t i = 0; i < APEX_ARRAY_LEN(EXAMPLES); i++)
    if (strstr(low, EXAMPLES[i]))
      return true;
  return false;
}

static bool is_hex_char(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_hex64(const char *s)
{
  size_t n = strnlen(s, 65);
  if (n != 64)
    return false;
  for (size_t i = 0; i < 64; i++)
    if (!is_hex_char(s[i]))
      return false;
  return true;
}

static bool is_b64_char(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
         c == '-' || c == '_';
}

/* Key material in bits, counting each character at what its alphabet can carry: hex 4 bits,
 * base64 (either flavour, '=' padding not counted) 6, anything else 6.5 (printable ASCII has
 * 94 characters). Times 2 to stay in integers. */
static size_t half_bits(const char *s)
{
  size_t n = 0, pad = 0;
  bool hex = true, b64 = true;
  for (; s[n]; n++) {
    hex = hex && is_hex_char(s[n]);
    if (s[n] == '=' && b64 && !s[n + 1 + (s[n + 1] == '=')])
      pad++; /* at most two, at the end */
    else
      b64 = b64 && is_b64_char(s[n]);
  }
  if (hex)
    return n * 8;
  return b64 ? (n - pad) * 12 : n * 13;
}

/* What random key material never looks like: fewer than 10 distinct characters; 4-character
 * pieces repeated (more than a tenth of them seen before: "Password123Password123...",
 * "abab..."); a run of neighbours in the character set for a quarter of the pairs ("abcdef",
 * "0123456789"). */
static bool looks_patterned(const char *s)
{
  bool seen[256] = {false};
  size_t n = strlen(s), distinct = 0, steps = 0, repeats = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    distinct += !seen[c];
    seen[c] = true;
    if (i && (c == (unsigned char)s[i - 1] + 1 || c + 1 == (unsigned char)s[i - 1]))
      steps++;
    for (size_t j = 0; i + 4 <= n && j < i; j++)
      if (!memcmp(s + j, s + i, 4)) {
        repeats++;
        break;
      }
  }
  return distinct < 10 || (n >= 4 && repeats * 10 > n - 3) || (n > 1 && steps * 4 > n - 1);
}

/* Why s is not a production secret ("" when it is one), after the variable's name. */
static const char *weakness(const char *s)
{
  if (!is_set(s))
    return " is not set: give 256 bits of random key material (openssl rand -base64 32)";
  if (has_example(s))
    return " is an example or placeholder value (the spec's, 'changeme', a common password...); "
           "generate one (openssl rand -base64 32)";
  if (half_bits(s) < 2 * APEX_SECRETS_MIN_BITS)
    return " holds less than 256 bits of key material: give 64+ hex digits, 43+ base64 characters "
           "or 40+ other characters (openssl rand -base64 32)";
  if (looks_patterned(s))
    return " is not random-looking (repeated or sequential pieces, or fewer than 10 distinct characters); "
           "generate one (openssl rand -base64 32)";
  return "";
}

typedef struct {
  char *buf;
  size_t cap, used, count;
} problem_list;

static void problem(problem_list *pl, const char *msg)
{
  pl->count++;
  if (!pl->buf || pl->cap == 0 || pl->used + 1 >= pl->cap)
    return;
  int k = snprintf(pl->buf + pl->used, pl->cap - pl->used, "%s\n", msg);
  if (k > 0)
    pl->used += (size_t)k < pl->cap - pl->used ? (size_t)k : pl->cap - pl->used - 1;
}

apex_err apex_secrets_check_production(const apex_secrets_cfg *cfg, char *problems, size_t cap,
                                       size_t *count)
{
  problem_list pl = {problems, cap, 0, 0};
  if (problems && cap)
    problems[0] = '\0';
  if (count)
    *count = 0;
  if (!cfg)
    return APEX_EINVAL;
  if (!is_set(cfg->app_env) || !ascii_ieq(cfg->app_env, "production"))
    return APEX_OK;

  static const char *const NAMES[] = {"SECRET_KEY", "API_KEY_ENCRYPTION_KEY"};
  const char *values[] = {cfg->secret_key, cfg->api_key_encryption_key};
  for (size_t i = 0; i < APEX_ARRAY_LEN(NAMES); i++) {
    const char *why = weakness(values[i]);
    char line[300];
    if (*why) { /* the name and the reason, never the value */
      snprintf(line, sizeof line, "%s%s", NAMES[i], why);
      problem(&pl, line);
    }
  }

  if (is_set(cfg->jwt_public_key_file) && !is_set(cfg->jwt_private_key_file))
    problem(&pl, "JWT_PUBLIC_KEY_FILE is set without JWT_PRIVATE_KEY_FILE");

  if (count)
    *count = pl.count;
  return pl.count ? APEX_EINVAL : APEX_OK;
}

/* --- files --- */

typedef enum { FILE_PRIVATE, FILE_PUBLIC } file_kind;

/* Reads a whole file of at most max bytes into a NUL-terminated buffer. APEX_ENOTFOUND when it
 * does not exist. Permissions are checked on the open descriptor, so a swap after the check
 * cannot slip through. */
static apex_err read_file(const char *path, bool nofollow, file_kind kind, size_t max, char **out,
                          size_t *len, apex_error *err)
{
  apex_err rc = APEX_OK;
  char *buf = NULL;
  size_t n = 0;
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));

  *out = NULL;
  *len = 0;
  if (fd < 0) {
    if (errno == ENOENT)
      return apex_error_set(err, APEX_ENOTFOUND, "%s: no such file", path);
    if (errno == ELOOP)
      return apex_error_set(err, APEX_EINVAL, "%s is a symbolic link; secrets in the data directory must be regular files", path);
    return apex_error_set(err, APEX_EIO, "%s: %s", path, strerror(errno));
  }
  if (fstat(fd, &st) != 0) {
    rc = apex_error_set(err, APEX_EIO, "%s: %s", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = apex_error_set(err, APEX_EINVAL, "%s is not a regular file", path);
    goto out;
  }
  if (kind == FILE_PRIVATE && (st.st_mode & 077)) {
    rc = apex_error_set(err, APEX_EINVAL,
                        "%s has mode %03o: group and others must have no access to a secret (chmod 600 %s)",
                        path, (unsigned)(st.st_mode & 0777), path);
    goto out;
  }
  if (kind == FILE_PUBLIC && (st.st_mode & 022)) {
    rc = apex_error_set(err, APEX_EINVAL, "%s has mode %03o: group and others must not write to it (chmod 644 %s)",
                        path, (unsigned)(st.st_mode & 0777), path);
    goto out;
  }
  if (st.st_size < 0 || (size_t)st.st_size > max) {
    rc = apex_error_set(err, APEX_ETOOBIG, "%s is larger than %zu bytes", path, max);
    goto out;
  }
  buf = malloc(max + 1);
  if (!buf) {
    rc = apex_error_set(err, APEX_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  for (;;) {
    ssize_t k = read(fd, buf + n, max + 1 - n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0) {
      rc = apex_error_set(err, APEX_EIO, "%s: %s", path, strerror(errno));
      goto out;
    }
    if (k == 0)
      break;
    n += (size_t)k;
    if (n > max) {
      rc = apex_error_set(err, APEX_ETOOBIG, "%s is larger than %zu bytes", path, max);
      goto out;
    }
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  buf = NULL;
out:
  if (buf) {
    OPENSSL_cleanse(buf, max + 1);
    free(buf);
  }
  close(fd);
  return rc;
}

static void wipe_free(char *p, size_t n)
{
  if (p) {
    OPENSSL_cleanse(p, n);
    free(p);
  }
}

static apex_err fsync_dir(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return APEX_EIO;
  int r = fsync(fd);
  close(fd);
  return r == 0 ? APEX_OK : APEX_EIO;
}

/* Creates path with mode 0600 holding data, unless it exists. Written to a temporary name and
 * hard-linked into place: readers never see half a file, and when two processes race, the
 * first link wins and the loser's content is dropped (both then read the winner's). */
static apex_err create_file(const char *dir, const char *path, const void *data, size_t len,
                            apex_error *err)
{
  apex_err rc = APEX_OK;
  char tmp[PATH_MAX];
  unsigned char r[8];
  int fd = -1;
  bool made = false;

  if (RAND_bytes(r, sizeof r) != 1)
    return apex_error_set(err, APEX_EIO, "no randomness for a temporary file name");
  int k = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%02x%02x%02x%02x", path, (long)getpid(), r[0], r[1], r[2], r[3]);
  if (k < 0 || (size_t)k >= sizeof tmp)
    return apex_error_set(err, APEX_EINVAL, "%s: path too long", path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return apex_error_set(err, APEX_EIO, "cannot create %s: %s", tmp, strerror(errno));
  made = true;
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, (const char *)data + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      rc = apex_error_set(err, APEX_EIO, "cannot write %s: %s", tmp, strerror(errno));
      goto out;
    }
    off += (size_t)w;
  }
  if (fsync(fd) != 0) {
    rc = apex_error_set(err, APEX_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (link(tmp, path) != 0 && errno != EEXIST) {
    rc = apex_error_set(err, APEX_EIO, "cannot create %s: %s", path, strerror(errno));
    goto out;
  }
  (void)fsync_dir(dir);   /* durability only; the key is already usable */
out:
  if (fd >= 0)
    close(fd);
  if (made)
    unlink(tmp);
  return rc;
}

/* mkdir -p; directories this call creates get mode 0700. */
static apex_err make_dir(const char *dir, apex_error *err)
{
  char p[PATH_MAX];
  size_t n = strnlen(dir, sizeof p);
  if (n == 0 || n >= sizeof p)
    return apex_error_set(err, APEX_EINVAL, "data directory path empty or too long");
  memcpy(p, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != '\0')
      continue;
    char c = p[i];
    p[i] = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
      return apex_error_set(err, APEX_EIO, "cannot create directory %s: %s", p, strerror(errno));
    p[i] = c;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return apex_error_set(err, APEX_EIO, "%s is not a directory", dir);
  return APEX_OK;
}

static apex_err join(char out[PATH_MAX], const char *dir, const char *name, apex_error *err)
{
  int k = snprintf(out, PATH_MAX, "%s/%s", dir, name);
  if (k < 0 || k >= PATH_MAX)
    return apex_error_set(err, APEX_EINVAL, "data directory path too long");
  return APEX_OK;
}

/* --- keys --- */

/* A passphrase callback that refuses: OpenSSL would otherwise prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
  (void)buf, (void)size, (void)rwflag, (void)u;
  return 0;
}

static apex_err parse_private(const char *pem, size_t len, const char *path, EVP_PKEY **out, apex_error *err)
{
  *out = NULL;
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  if (!b)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
  BIO_free(b);
  if (!k)
    return apex_error_set(err, APEX_EINVAL, "%s: not an unencrypted PEM private key", path);
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
    EVP_PKEY_free(k);
    return apex_error_set(err, APEX_EINVAL, "%s: not an RSA key (RS256 needs RSA)", path);
  }
  if (EVP_PKEY_get_bits(k) < APEX_SECRETS_RSA_BITS) {
    int bits = EVP_PKEY_get_bits(k);
    EVP_PKEY_free(k);
    return apex_error_set(err, APEX_EINVAL, "%s: RSA key of %d bits; at least %d are required", path,
                          bits, APEX_SECRETS_RSA_BITS);
  }
  *out = k;
  return APEX_OK;
}

static apex_err parse_public(const char *pem, size_t len, const char *path, EVP_PKEY **out, apex_error *err)
{
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  if (!b)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  *out = PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL);
  BIO_free(b);
  if (!*out)
    return apex_error_set(err, APEX_EINVAL, "%s: not a PEM public key (BEGIN PUBLIC KEY)", path);
  return APEX_OK;
}

/* PEM text of key (private as unencrypted PKCS#8 or public as SubjectPublicKeyInfo) in a
 * malloc'd, NUL-terminated buffer. Private PEM goes through a secure-memory BIO, wiped on free. */
static apex_err pem_text(EVP_PKEY *key, bool priv, char **out, size_t *len, apex_error *err)
{
  apex_err rc = APEX_OK;
  BIO *b = BIO_new(priv ? BIO_s_secmem() : BIO_s_mem());
  char *data = NULL;

  *out = NULL;
  if (!b)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  int ok = priv ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_PUBKEY(b, key);
  long n = BIO_get_mem_data(b, &data);
  if (!ok || n <= 0) {
    rc = apex_error_set(err, APEX_EIO, "cannot write the key as PEM");
    goto out;
  }
  if (!(*out = malloc((size_t)n + 1))) {
    rc = apex_error_set(err, APEX_ENOMEM, "out of memory");
    goto out;
  }
  memcpy(*out, data, (size_t)n);
  (*out)[n] = '\0';
  *len = (size_t)n;
out:
  BIO_free(b);
  return rc;
}

/* Loads the private key at path (generating it first when gen is set and it is absent), checks
 * the public key file against it (writing it when absent and gen is set), and fills out. */
static apex_err load_jwt(const char *dir, const char *priv_path, const char *pub_path, bool in_data_dir,
                         apex_secrets *out, apex_error *err)
{
  apex_err rc;
  char *text = NULL;
  size_t len = 0;
  EVP_PKEY *priv = NULL, *pub = NULL;
  char *gen = NULL;
  size_t gen_len = 0;
  bool generated = false;

  rc = read_file(priv_path, in_data_dir, FILE_PRIVATE, PEM_MAX, &text, &len, err);
  if (rc == APEX_ENOTFOUND && in_data_dir) {
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)APEX_SECRETS_RSA_BITS);
    if (!k) {
      rc = apex_error_set(err, APEX_EIO, "RSA key generation failed");
      goto out;
    }
    rc = pem_text(k, true, &gen, &gen_len, err);
    EVP_PKEY_free(k);
    if (rc || (rc = create_file(dir, priv_path, gen, gen_len, err)))
      goto out;
    generated = true;
    rc = read_file(priv_path, true, FILE_PRIVATE, PEM_MAX, &text, &len, err);
  }
  if (rc)
    goto out;
  if ((rc = parse_private(text, len, priv_path, &priv, err)))
    goto out;
  if ((rc = pem_text(priv, true, &out->jwt_private_pem, &out->jwt_private_len, err)) ||
      (rc = pem_text(priv, false, &out->jwt_public_pem, &out->jwt_public_len, err)))
    goto out;

  if (pub_path) {
    wipe_free(text, len);
    text = NULL;
    rc = read_file(pub_path, in_data_dir, FILE_PUBLIC, PEM_MAX, &text, &len, err);
    if (rc == APEX_ENOTFOUND && in_data_dir) {
      rc = create_file(dir, pub_path, out->jwt_public_pem, out->jwt_public_len, err);
      if (rc == APEX_OK)
        rc = read_file(pub_path, true, FILE_PUBLIC, PEM_MAX, &text, &len, err);
    }
    if (rc || (rc = parse_public(text, len, pub_path, &pub, err)))
      goto out;
    if (EVP_PKEY_eq(priv, pub) != 1) {
      rc = apex_error_set(err, APEX_EINVAL, "%s does not belong to the private key %s%s", pub_path, priv_path,
                          in_data_dir ? " (delete it to have it written again)" : "");
      goto out;
    }
  }
  out->jwt_source = !in_data_dir ? APEX_SECRET_FROM_ENV : generated ? APEX_SECRET_GENERATED : APEX_SECRET_FROM_FILE;
out:
  wipe_free(text, len);
  wipe_free(gen, gen_len);
  EVP_PKEY_free(priv);
  EVP_PKEY_free(pub);
  return rc;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void hex_decode32(const char *hex, unsigned char key[static APEX_SECRETS_KEY_LEN])
{
  for (size_t i = 0; i < APEX_SECRETS_KEY_LEN; i++)
    key[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
}

apex_err apex_secrets_key_from_text(const char *text, unsigned char key[static APEX_SECRETS_KEY_LEN],
                                    apex_error *err)
{
  if (!is_set(text))
    return apex_error_set(err, APEX_EINVAL, "API_KEY_ENCRYPTION_KEY is empty");
  if (is_hex64(text)) {
    hex_decode32(text, key);
    return APEX_OK;
  }
  size_t n = strlen(text);
  if (n > INT_MAX ||
      PKCS5_PBKDF2_HMAC(text, (int)n, (const unsigned char *)KDF_SALT, (int)sizeof KDF_SALT - 1,
                        PBKDF2_ITER, EVP_sha256(), APEX_SECRETS_KEY_LEN, key) != 1)
    return apex_error_set(err, APEX_EIO, "API_KEY_ENCRYPTION_KEY: key derivation failed");
  return APEX_OK;
}

static apex_err load_enc_file(const char *dir, const char *path, apex_secrets *out, apex_error *err)
{
  apex_err rc;
  char *text = NULL;
  size_t len = 0;
  bool generated = false;

  rc = read_file(path, true, FILE_PRIVATE, KEYFILE_MAX, &text, &len, err);
  if (rc == APEX_ENOTFOUND) {
    unsigned char k[APEX_SECRETS_KEY_LEN];
    char hex[2 * APEX_SECRETS_KEY_LEN + 2];
    static const char digits[] = "0123456789abcdef";
    if (RAND_bytes(k, sizeof k) != 1) {
      rc = apex_error_set(err, APEX_EIO, "no randomness for the encryption key");
      goto out;
    }
    for (size_t i = 0; i < sizeof k; i++) {
      hex[2 * i] = digits[k[i] >> 4];
      hex[2 * i + 1] = digits[k[i] & 15];
    }
    hex[2 * sizeof k] = '\n';
    rc = create_file(dir, path, hex, 2 * sizeof k + 1, err);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(hex, sizeof hex);
    if (rc)
      goto out;
    generated = true;
    rc = read_file(path, true, FILE_PRIVATE, KEYFILE_MAX, &text, &len, err);
  }
  if (rc)
    goto out;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
    text[--len] = '\0';
  if (!is_hex64(text)) {
    rc = apex_error_set(err, APEX_EINVAL, "%s must hold exactly 64 hex digits", path);
    goto out;
  }
  hex_decode32(text, out->enc_key);
  out->enc_source = generated ? APEX_SECRET_GENERATED : APEX_SECRET_FROM_FILE;
out:
  wipe_free(text, len);
  return rc;
}

void apex_secrets_free(apex_secrets *s)
{
  if (!s)
    return;
  wipe_free(s->jwt_private_pem, s->jwt_private_len);
  free(s->jwt_public_pem);
  OPENSSL_cleanse(s, sizeof *s);
}

apex_err apex_secrets_ensure(const char *data_dir, const apex_secrets_cfg *cfg, apex_secrets *out,
                             apex_error *err)
{
  apex_err rc = APEX_OK;
  char priv_path[PATH_MAX], pub_path[PATH_MAX];
  static const apex_secrets_cfg none = {0};

  if (!out)
    return apex_error_set(err, APEX_EINVAL, "secrets: no output");
  memset(out, 0, sizeof *out);
  if (!cfg)
    cfg = &none;
  bool env_jwt = is_set(cfg->jwt_private_key_file), env_key = is_set(cfg->api_key_encryption_key);
  if (is_set(cfg->jwt_public_key_file) && !env_jwt)
    return apex_error_set(err, APEX_EINVAL, "JWT_PUBLIC_KEY_FILE is set without JWT_PRIVATE_KEY_FILE");
  if ((!env_jwt || !env_key) && !is_set(data_dir))
    return apex_error_set(err, APEX_EINVAL, "secrets: no data directory for generated secrets");
  if ((!env_jwt || !env_key) && (rc = make_dir(data_dir, err)))
    return rc;

  if (env_jwt)
    rc = load_jwt(NULL, cfg->jwt_private_key_file,
                  is_set(cfg->jwt_public_key_file) ? cfg->jwt_public_key_file : NULL, false, out, err);
  else if (!(rc = join(priv_path, data_dir, "jwt_private.pem", err)) &&
           !(rc = join(pub_path, data_dir, "jwt_public.pem", err)))
    rc = load_jwt(data_dir, priv_path, pub_path, true, out, err);
  if (rc)
    goto out;

  if (env_key) {
    if ((rc = apex_secrets_key_from_text(cfg->api_key_encryption_key, out->enc_key, err)))
      goto out;
    out->enc_source = APEX_SECRET_FROM_ENV;
  } else if ((rc = join(priv_path, data_dir, "encryption.key", err)) ||
             (rc = load_enc_file(data_dir, priv_path, out, err))) {
    goto out;
  }
out:
  if (rc)
    apex_secrets_free(out);
  return rc;
}

/* --- AES-256-GCM --- */

static bool b64_strict_len(const char *s, size_t n, size_t *raw)
{
  if (n == 0 || n % 4 != 0)
    return false;
  size_t pad = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=' && i >= n - 2)
      pad++;
    else if (!alnum || pad)   /* nothing after padding */
      return false;
  }
  *raw = n / 4 * 3 - pad;
  return true;
}

apex_err apex_secrets_encrypt(const unsigned char key[static APEX_SECRETS_KEY_LEN], const void *plain,
                              size_t len, char **out, apex_error *err)
{
  apex_err rc = APEX_OK;
  EVP_CIPHER_CTX *ctx = NULL;
  unsigned char *blob = NULL;
  size_t blob_len = NONCE_LEN + len + TAG_LEN;
  int n = 0, fin = 0;

  if (!out)
    return apex_error_set(err, APEX_EINVAL, "encrypt: no output");
  *out = NULL;
  if (!plain && len)
    return apex_error_set(err, APEX_EINVAL, "encrypt: no input");
  if (len > APEX_SECRETS_MAX_PLAIN)
    return apex_error_set(err, APEX_ETOOBIG, "encrypt: more than %d bytes", APEX_SECRETS_MAX_PLAIN);
  if (!(blob = malloc(blob_len)) || !(ctx = EVP_CIPHER_CTX_new())) {
    rc = apex_error_set(err, APEX_ENOMEM, "encrypt: out of memory");
    goto out;
  }
  if (RAND_bytes(blob, NONCE_LEN) != 1 ||
      EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, blob) != 1 ||
      EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)PREFIX, (int)strlen(PREFIX)) != 1 ||
      EVP_EncryptUpdate(ctx, blob + NONCE_LEN, &n, plain ? plain : "", (int)len) != 1 ||
      EVP_EncryptFinal_ex(ctx, blob + NONCE_LEN + n, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, blob + NONCE_LEN + len) != 1) {
    rc = apex_error_set(err, APEX_EIO, "encrypt: AES-256-GCM failed");
    goto out;
  }
  size_t pre = strlen(PREFIX), b64 = 4 * ((blob_len + 2) / 3);
  if (!(*out = malloc(pre + b64 + 1))) {
    rc = apex_error_set(err, APEX_ENOMEM, "encrypt: out of memory");
    goto out;
  }
  memcpy(*out, PREFIX, pre);
  EVP_EncodeBlock((unsigned char *)*out + pre, blob, (int)blob_len);
out:
  if (blob) {
    OPENSSL_cleanse(blob, blob_len);
    free(blob);
  }
  EVP_CIPHER_CTX_free(ctx);
  return rc;
}

apex_err apex_secrets_decrypt(const unsigned char key[static APEX_SECRETS_KEY_LEN], const char *text,
                              char **plain, size_t *len, apex_error *err)
{
  apex_err rc = APEX_OK;
  EVP_CIPHER_CTX *ctx = NULL;
  unsigned char *blob = NULL;
  char *pt = NULL;
  size_t raw = 0, pt_len = 0, pre = strlen(PREFIX);
  size_t max_text = pre + 4 * ((NONCE_LEN + APEX_SECRETS_MAX_PLAIN + TAG_LEN + 2) / 3);
  int n = 0, fin = 0;

  if (!plain)
    return apex_error_set(err, APEX_EINVAL, "decrypt: no output");
  *plain = NULL;
  if (len)
    *len = 0;
  if (!text || strncmp(text, PREFIX, pre) != 0)
    return apex_error_set(err, APEX_EPARSE, "decrypt: not a v1 ciphertext");
  size_t tn = strnlen(text, max_text + 1);
  if (tn > max_text)
    return apex_error_set(err, APEX_ETOOBIG, "decrypt: ciphertext too long");
  if (!b64_strict_len(text + pre, tn - pre, &raw) || raw < NONCE_LEN + TAG_LEN)
    return apex_error_set(err, APEX_EPARSE, "decrypt: malformed ciphertext");
  pt_len = raw - NONCE_LEN - TAG_LEN;
  if (!(blob = malloc(raw + 3)) || !(pt = malloc(pt_len + 1)) || !(ctx = EVP_CIPHER_CTX_new())) {
    rc = apex_error_set(err, APEX_ENOMEM, "decrypt: out of memory");
    goto out;
  }
  if (EVP_DecodeBlock(blob, (const unsigned char *)text + pre, (int)(tn - pre)) < 0) {
    rc = apex_error_set(err, APEX_EPARSE, "decrypt: malformed ciphertext");
    goto out;
  }
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, blob) != 1 ||
      EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)PREFIX, (int)pre) != 1 ||
      EVP_DecryptUpdate(ctx, (unsigned char *)pt, &n, blob + NONCE_LEN, (int)pt_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, blob + NONCE_LEN + pt_len) != 1 ||
      EVP_DecryptFinal_ex(ctx, (unsigned char *)pt + n, &fin) != 1) {
    rc = apex_error_set(err, APEX_EDATA, "decrypt: authentication failed (wrong key or altered data)");
    goto out;
  }
  pt[pt_len] = '\0';
  *plain = pt;
  if (len)
    *len = pt_len;
  pt = NULL;
out:
  wipe_free(pt, pt_len + 1);
  wipe_free((char *)blob, raw + 3);
  EVP_CIPHER_CTX_free(ctx);
  return rc;
}

/* --- mask --- */

static char shown(char c)
{
  return (c > 0x20 && c < 0x7F) ? c : '*';
}

void apex_secrets_mask(const char *secret, char out[static APEX_SECRETS_MASK_LEN])
{
  static const char ell[] = "\xe2\x80\xa6";   /* U+2026 HORIZONTAL ELLIPSIS */
  size_t n = secret ? strlen(secret) : 0;
  char *p = out;
  if (n >= 24)
    for (size_t i = 0; i < 4; i++)
      *p++ = shown(secret[i]);
  memcpy(p, ell, 3);
  p += 3;
  if (n >= 12)
    for (size_t i = n - 4; i < n; i++)
      *p++ = shown(secret[i]);
  *p = '\0';
}

void apex_secrets_ws_accept(const char *key, char out[static APEX_SECRETS_WS_ACCEPT_LEN])
{
  static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  out[0] = 0;
  if (c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, key, strlen(key)) &&
      EVP_DigestUpdate(c, GUID, sizeof GUID - 1) && EVP_DigestFinal_ex(c, md, &n) && n == 20)
    EVP_EncodeBlock((unsigned char *)out, md, 20); /* 28 characters and the NUL */
  EVP_MD_CTX_free(c);
}
