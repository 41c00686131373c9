/* secrets.h - the server's secrets: JWT key pair and API-key encryption key (from the
 * environment, or generated once into the data directory), the production checks, and
 * AES-256-GCM for broker secrets at rest. secrets.c is the only file that includes OpenSSL. */
#ifndef APEX_SYS_SECRETS_H
#define APEX_SYS_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define APEX_SECRETS_KEY_LEN 32        /* AES-256 */
#define APEX_SECRETS_RSA_BITS 2048     /* generated size, and the smallest accepted */
#define APEX_SECRETS_MIN_CHARS 32      /* SECRET_KEY outside production */
#define APEX_SECRETS_MIN_BITS 256      /* key material of a production secret */
/* The production rule for SECRET_KEY and API_KEY_ENCRYPTION_KEY, as `serve --help` states it. */
#define APEX_SECRETS_PRODUCTION_RULE                                                                  \
  "in production: 256 bits of random key material (64+ hex digits, 43+ base64 characters or 40+ "    \
  "other characters; openssl rand -base64 32), not an example or placeholder value, no repeated or " \
  "sequential pieces"

/* The settings this module uses; sys/config fills it (apex_config_secrets) from what it read
 * from the environment and the flags: this module reads neither. NULL and "" both mean "not
 * set". Borrowed pointers. */
typedef struct apex_secrets_cfg {
  const char *app_env;                 /* APP_ENV: "development", "staging", "production" */
  const char *secret_key;              /* SECRET_KEY */
  const char *jwt_private_key_file;    /* JWT_PRIVATE_KEY_FILE: path to an RSA private key PEM */
  const char *jwt_public_key_file;     /* JWT_PUBLIC_KEY_FILE: optional; checked against it */
  const char *api_key_encryption_key;  /* API_KEY_ENCRYPTION_KEY: 64 hex digits or a passphrase */
} apex_secrets_cfg;

/* The one production policy (APEX_SECRETS_PRODUCTION_RULE), applied when app_env is
 * "production" (any case); otherwise APEX_OK. SECRET_KEY and API_KEY_ENCRYPTION_KEY each must be
 * set and hold at least 256 bits of key material counted by alphabet (hex 4 bits a character,
 * base64 6, other 6.5: 64 hex digits, 43 base64 characters or 40 others), contain no example or
 * placeholder fragment (the spec's Appendix A values, "changeme", "password", ...) and look
 * random (10+ distinct characters, at most a tenth of its 4-character pieces repeated, at most a
 * quarter of neighbouring pairs sequential). JWT_PUBLIC_KEY_FILE needs JWT_PRIVATE_KEY_FILE (the
 * key files' modes and sizes are checked when loaded, in every environment). problems (may be
 * NULL) gets one sentence per line naming the variable, never a secret's value; *count (may be
 * NULL) their number. APEX_EINVAL when there is at least one problem. sys/config's validate
 * calls it, so a refused secret stops `serve` before anything is generated. */
apex_err apex_secrets_check_production(const apex_secrets_cfg *cfg, char *problems, size_t cap,
                                       size_t *count);

typedef enum {
  APEX_SECRET_FROM_ENV = 1,            /* a path or value given in the environment */
  APEX_SECRET_FROM_FILE,               /* read back from the data directory */
  APEX_SECRET_GENERATED,               /* created in the data directory by this call */
} apex_secret_source;

/* Loaded secrets. Owned by the struct; apex_secrets_free wipes and frees them. */
typedef struct apex_secrets {
  char *jwt_private_pem;               /* PKCS#8 PEM, NUL-terminated */
  size_t jwt_private_len;
  char *jwt_public_pem;                /* SubjectPublicKeyInfo PEM, NUL-terminated */
  size_t jwt_public_len;
  unsigned char enc_key[APEX_SECRETS_KEY_LEN];
  apex_secret_source jwt_source, enc_source;
} apex_secrets;

/* Loads every secret, creating what is missing, so a first start needs no setup:
 *   JWT: JWT_PRIVATE_KEY_FILE (+ optional JWT_PUBLIC_KEY_FILE, which must match) when set,
 *        else data_dir/jwt_private.pem + jwt_public.pem (RSA 2048, generated when absent);
 *   AES: API_KEY_ENCRYPTION_KEY when set (see apex_secrets_key_from_text),
 *        else data_dir/encryption.key (64 hex digits, generated when absent).
 * data_dir is created (mode 0700) only when a file must go there; files are created 0600,
 * atomically (two processes starting at once end up with the same keys). Refuses private
 * files readable or writable by group/other, a public key file writable by them, symlinks
 * inside data_dir, RSA keys under 2048 bits, encrypted private keys and mismatched pairs.
 * On error out is left zeroed and err names the file and the fix, never a secret. */
apex_err apex_secrets_ensure(const char *data_dir, const apex_secrets_cfg *cfg, apex_secrets *out,
                             apex_error *err);
/* Wipes and frees; a zeroed struct or NULL is a no-op. */
void apex_secrets_free(apex_secrets *s);

/* API_KEY_ENCRYPTION_KEY to key bytes: exactly 64 hex digits are the key itself; any other
 * non-empty text is a passphrase stretched with PBKDF2-HMAC-SHA256 (600,000 iterations, fixed
 * application salt: the key is one per deployment, so a per-value salt would buy nothing).
 * APEX_EINVAL for NULL or "". */
apex_err apex_secrets_key_from_text(const char *text, unsigned char key[static APEX_SECRETS_KEY_LEN],
                                    apex_error *err);

#define APEX_SECRETS_MAX_PLAIN (64 * 1024)

/* AES-256-GCM with a random 96-bit nonce: *out is "v1:" + base64(nonce | ciphertext | tag),
 * NUL-terminated, freed by the caller with free(). The "v1" prefix is authenticated too. */
apex_err apex_secrets_encrypt(const unsigned char key[static APEX_SECRETS_KEY_LEN], const void *plain,
                              size_t len, char **out, apex_error *err);
/* Reverses apex_secrets_encrypt. *plain is NUL-terminated (len excludes the NUL), freed by the
 * caller (wipe it first). APEX_EPARSE for text that is not "v1:" + base64 of a long enough
 * blob, APEX_EDATA when authentication fails (wrong key, tampering); *plain is NULL then. */
apex_err apex_secrets_decrypt(const unsigned char key[static APEX_SECRETS_KEY_LEN], const char *text,
                              char **plain, size_t *len, apex_error *err);

#define APEX_SECRETS_MASK_LEN 16
/* A hint safe to show: "abcd…wxyz" for 24+ characters, "…wxyz" for 12-23, "…" below that
 * (showing 4 of 8 characters would give half the secret away). Non-printable bytes show '*'. */
void apex_secrets_mask(const char *secret, char out[static APEX_SECRETS_MASK_LEN]);

#define APEX_SECRETS_WS_ACCEPT_LEN 29
/* A WebSocket handshake's Sec-WebSocket-Accept for the client's Sec-WebSocket-Key (RFC 6455
 * 4.2.2: base64 of the SHA-1 of the key and the protocol's GUID). */
void apex_secrets_ws_accept(const char *key, char out[static APEX_SECRETS_WS_ACCEPT_LEN]);

#endif
