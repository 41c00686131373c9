/* apikeys.c - broker API keys: the key, secret and passphrase are encrypted with AES-256-GCM under
 * API_KEY_ENCRYPTION_KEY before they reach the store, and only a masked hint ever leaves it.
 * No message built here quotes a value from the request: they could be secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/timeframe.h"
#include "app/ids.h"
#include "sys/secrets.h"

#define MAX_BODY (64u * 1024)
#define MAX_LABEL 100   /* characters */
#define MAX_KEY 512     /* bytes: exchange keys are 64-100 characters */
#define MAX_SECRET 1024 /* bytes: Kraken's private keys are 88, Alpaca's 40 */

static const char *const EXCHANGES[] = {"binance", "kraken", "alpaca", "coinbase"};

static apex_err not_found(apex_app_error *e, const char *id)
{
  return apex_app_raise(e, APEX_E_NOT_FOUND, "no API key %.40s", id);
}

static apex_err oom(apex_app_error *e) { return apex_app_raise(e, APEX_E_INTERNAL, "out of memory"); }

static size_t utf8_len(const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Credentials are printable ASCII without blanks; anything else is a paste gone wrong. */
static bool credential_ok(const char *s, size_t max)
{
  size_t n = strlen(s);
  if (n < 1 || n > max)
    return false;
  for (; *s; s++)
    if (*s <= ' ' || *s > '~')
      return false;
  return true;
}

/* A secret may also be a PEM private key (Coinbase's EC keys): its BEGIN/END lines hold spaces and
 * its lines end with newlines; nothing else outside printable ASCII. */
static bool secret_ok(const char *s, size_t max)
{
  if (credential_ok(s, max))
    return true;
  size_t n = strlen(s);
  if (n > max || strncmp(s, "-----BEGIN ", 11) || !strstr(s, "-----END "))
    return false;
  for (; *s; s++)
    if ((*s < ' ' && *s != '\n' && *s != '\r') || *s > '~')
      return false;
  return true;
}

/* The body's credentials, borrowed from the parsed document. */
typedef struct key_input {
  const char *api_key, *api_secret, *passphrase;
} key_input;

static void read_body(const apex_json *doc, apex_api_key_row *r, key_input *in, apex_problems *pr)
{
  bool seen_exchange = false, seen_label = false;
  apex_json_iter it = apex_json_object_iter(doc);
  const char *k;
  const apex_json *v;
  while (apex_json_object_next(&it, &k, &v)) {
    const char *s = apex_json_string_value(v);
    if (!strcmp(k, "exchange")) {
      seen_exchange = true;
      for (size_t i = 0; s && i < APEX_ARRAY_LEN(EXCHANGES); i++)
        if (!strcmp(s, EXCHANGES[i]))
          snprintf(r->exchange, sizeof r->exchange, "%s", s);
      if (!r->exchange[0])
        apex_problems_add(pr, "/exchange", "must be \"binance\", \"kraken\", \"alpaca\" or \"coinbase\"");
    } else if (!strcmp(k, "label")) {
      seen_label = true;
      if (!s || !*s || utf8_len(s) > MAX_LABEL)
        apex_problems_add(pr, "/label", "must be a string of 1-%d characters", MAX_LABEL);
      else
        snprintf(r->label, sizeof r->label, "%s", s);
    } else if (!strcmp(k, "api_key")) {
      if (!s || !credential_ok(s, MAX_KEY))
        apex_problems_add(pr, "/api_key", "must be 1-%d printable characters without spaces", MAX_KEY);
      else
        in->api_key = s;
    } else if (!strcmp(k, "api_secret")) {
      if (!s || !secret_ok(s, MAX_SECRET))
        apex_problems_add(pr, "/api_secret", "must be 1-%d printable characters without spaces, or a PEM key",
                          MAX_SECRET);
      else
        in->api_secret = s;
    } else if (!strcmp(k, "passphrase")) {
      if (!apex_json_is_null(v) && (!s || !credential_ok(s, MAX_KEY)))
        apex_problems_add(pr, "/passphrase", "must be null or 1-%d printable characters without spaces", MAX_KEY);
      else
        in->passphrase = s;
    } else if (!strcmp(k, "is_paper")) {
      if (!apex_json_is_bool(v))
        apex_problems_add(pr, "/is_paper", "must be true or false");
      else
        r->is_paper = apex_json_bool_value(v);
    } else {
      char ptr[80];
      snprintf(ptr, sizeof ptr, "/%.60s", k); /* a key name, never a value */
      apex_problems_add(pr, ptr, "unknown field");
    }
  }
  if (!seen_exchange)
    apex_problems_add(pr, "/exchange", "is required");
  if (!seen_label)
    apex_problems_add(pr, "/label", "is required");
  if (!in->api_key && !apex_json_object_get(doc, "api_key"))
    apex_problems_add(pr, "/api_key", "is required");
  if (!in->api_secret && !apex_json_object_get(doc, "api_secret"))
    apex_problems_add(pr, "/api_secret", "is required");
}

apex_err apex_app_api_key_create(apex_app *app, const char *user_id, const char *body, size_t len,
                                 apex_api_key_row *out, apex_app_error *e)
{
  *out = (apex_api_key_row){0};
  apex_json *doc = NULL;
  apex_error err = {0};
  key_input in = {0};
  apex_err rc = APEX_EINVAL;

  memset(out, 0, sizeof *out);
  out->is_paper = true;
  if (apex_json_parse_strict(body, len, MAX_BODY, &doc, &err)) {
    /* jansson's message quotes the text near the error: give the position only. */
    int line = 0, col = 0;
    (void)sscanf(err.msg, "line %d, column %d", &line, &col);
    return apex_app_raise(e, APEX_E_BAD_REQUEST, "the body is not valid JSON (line %d, column %d)", line, col);
  }
  if (!apex_json_is_object(doc))
    apex_problems_add(&e->problems, "", "the body must be a JSON object");
  else
    read_body(doc, out, &in, &e->problems);
  if (e->problems.total) {
    apex_app_raise(e, APEX_E_VALIDATION, "the API key has %zu problem%s", e->problems.total,
                  e->problems.total == 1 ? "" : "s");
    goto out;
  }
  char hint[APEX_SECRETS_MASK_LEN];
  apex_secrets_mask(in.api_key, hint);
  snprintf(out->key_hint, sizeof out->key_hint, "%s", hint);
  if (apex_secrets_encrypt(app->enc_key, in.api_key, strlen(in.api_key), &out->api_key_enc, &err) ||
      apex_secrets_encrypt(app->enc_key, in.api_secret, strlen(in.api_secret), &out->api_secret_enc, &err) ||
      (in.passphrase &&
       apex_secrets_encrypt(app->enc_key, in.passphrase, strlen(in.passphrase), &out->passphrase_enc, &err))) {
    apex_app_raise(e, APEX_E_INTERNAL, "the credentials could not be encrypted");
    goto out;
  }
  if (apex_app_new_id(out->id)) {
    apex_app_raise(e, APEX_E_INTERNAL, "cannot make an id");
    goto out;
  }
  snprintf(out->user_id, sizeof out->user_id, "%s", user_id);
  out->created_at = app->now_ms();
  if (apex_store_api_key_insert(app->store, out, &err)) {
    apex_app_store_failed(e, &err);
    goto out;
  }
  rc = APEX_OK;
out:
  /* The caller needs the row's public fields only: the ciphertext goes as soon as it is stored. */
  apex_api_key_row_clear(out);
  apex_json_free(doc);
  return rc;
}

apex_err apex_app_api_key_list(apex_app *app, const char *user_id, const apex_page *p, apex_json **items,
                               int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  apex_api_key_row *rows = calloc((size_t)p->limit, sizeof *rows);
  if (!rows)
    return oom(e);
  if (apex_store_api_key_list(app->store, user_id, p, rows, &n, total, &err)) {
    free(rows);
    return apex_app_store_failed(e, &err);
  }
  *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json_array_append(*items, apex_app_api_key_json(&rows[i]));
    apex_api_key_row_clear(&rows[i]);
  }
  free(rows);
  return *items ? APEX_OK : oom(e);
}

apex_err apex_app_api_key_delete(apex_app *app, const char *user_id, const char *id, apex_app_error *e)
{
  apex_error err;
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_err rc = apex_store_api_key_delete(app->store, user_id, id, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_json *apex_app_api_key_json(const apex_api_key_row *r)
{
  apex_json *j = apex_json_new_object();
  if (!j)
    return NULL;
  apex_json_object_set(j, "id", apex_json_new_string(r->id));
  apex_json_object_set(j, "exchange", apex_json_new_string(r->exchange));
  apex_json_object_set(j, "label", r->label[0] ? apex_json_new_string(r->label) : apex_json_new_null());
  apex_json_object_set(j, "key_hint", apex_json_new_string(r->key_hint));
  apex_json_object_set(j, "is_paper", apex_json_new_bool(r->is_paper));
  apex_json_object_set(j, "created_at", apex_app_json_time(r->created_at));
  apex_json_object_set(j, "last_used_at", apex_app_json_time(r->last_used_at));
  return j;
}

static void wipe_free(char **p)
{
  if (!*p)
    return;
  volatile char *v = *p;
  for (size_t i = 0; v[i]; i++)
    v[i] = 0;
  free(*p);
  *p = NULL;
}

void apex_api_credentials_clear(apex_api_credentials *c)
{
  if (!c)
    return;
  wipe_free(&c->api_key);
  wipe_free(&c->api_secret);
  wipe_free(&c->passphrase);
}

apex_err apex_app_api_key_credentials(apex_app *app, const char *user_id, const char *id, apex_api_credentials *out,
                                      apex_app_error *e)
{
  *out = (apex_api_credentials){0};
  apex_api_key_row r = {0};
  apex_error err = {0};
  size_t len;
  apex_err rc;
  memset(out, 0, sizeof *out);
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  if ((rc = apex_store_api_key_get(app->store, user_id, id, &r, &err)))
    return rc == APEX_ENOTFOUND ? not_found(e, id) : apex_app_store_failed(e, &err);
  if (apex_secrets_decrypt(app->enc_key, r.api_key_enc, &out->api_key, &len, &err) ||
      apex_secrets_decrypt(app->enc_key, r.api_secret_enc, &out->api_secret, &len, &err) ||
      (r.passphrase_enc && apex_secrets_decrypt(app->enc_key, r.passphrase_enc, &out->passphrase, &len, &err))) {
    apex_api_credentials_clear(out);
    rc = apex_app_raise(e, APEX_E_INTERNAL, "API key %s cannot be decrypted: was API_KEY_ENCRYPTION_KEY changed?", id);
    goto out;
  }
  snprintf(out->exchange, sizeof out->exchange, "%s", r.exchange);
  out->is_paper = r.is_paper;
out:
  apex_api_key_row_clear(&r);
  return rc;
}
