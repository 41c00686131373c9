/* users.c - accounts: register, login (rate limited per IP and per email), refresh-token rotation
 * with reuse detection, logout, password reset by single-use token, profile. Tokens are stored
 * only as hashes; passwords only as argon2id strings. */
#include <ctype.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "core/timeframe.h"
#include "app/ids.h"
#include "sys/log.h"

#define RESET_TTL_S (30 * 60)
#define LIMIT_WINDOW_S 60
#define LIMIT_PER_IP 100   /* attempts a minute from one address (NAT and proxies share one) */
#define LIMIT_PER_EMAIL 5  /* failed attempts a minute on one account: password guessing */

/* Seconds to wait before key may try again (0: go ahead); with count, counts this attempt. The
 * limiter keeps exact keys, so traffic on other keys never resets this one's count. Without a
 * limiter every attempt is refused (fail closed). */
static int limit_win(apex_app *app, const char *key, int max, int window_s, bool count)
{
  if (!app->limiter)
    return window_s;
  return apex_limiter_hit(app->limiter, key, max, window_s, app->now_ms() / 1000, count);
}

static int limit_hit(apex_app *app, const char *key, int max, bool count)
{
  return limit_win(app, key, max, LIMIT_WINDOW_S, count);
}

/* Exponential back-off per account: each time its failures reach the limit is a strike, and
 * strike n locks it for 60 s x 2^(n-1), at most an hour; a day without one forgets them. The
 * limiter keeps counts, not values: a count is read by asking whether one more would pass. */
#define STRIKES_MAX 7
#define STRIKE_MEMORY_S 86400
#define LOCK_MAX_S 3600

static int strikes(apex_app *app, const char *mail)
{
  char key[300];
  int n = 0;
  snprintf(key, sizeof key, "strikes:%s", mail);
  while (n < STRIKES_MAX && limit_win(app, key, n + 1, STRIKE_MEMORY_S, false))
    n++;
  return n;
}

static int lock_s(int strike)
{
  int s = LIMIT_WINDOW_S << (strike - 1); /* strike <= STRIKES_MAX: no overflow */
  return s > LOCK_MAX_S ? LOCK_MAX_S : s;
}

/* Seconds the account stays locked by its latest strike (0: not locked). */
static int locked(apex_app *app, const char *mail)
{
  char key[300];
  int n = strikes(app, mail);
  if (!n)
    return 0;
  snprintf(key, sizeof key, "lock%d:%s", n, mail);
  return limit_win(app, key, 1, lock_s(n), false);
}

/* After a failure: when the account's failures just reached the limit, a new strike and its lock. */
static void strike_if_tripped(apex_app *app, const char *mail, const char *email_key)
{
  char key[300];
  if (!limit_hit(app, email_key, LIMIT_PER_EMAIL, false))
    return;
  snprintf(key, sizeof key, "strikes:%s", mail);
  (void)limit_win(app, key, 1000, STRIKE_MEMORY_S, true);
  int n = strikes(app, mail);
  snprintf(key, sizeof key, "lock%d:%s", n, mail);
  for (int i = 0; i < 2; i++) /* two events over a limit of one: locked for the whole window */
    (void)limit_win(app, key, 1, lock_s(n), true);
}

/* Argon2id takes tens of milliseconds and 64 MiB each: at most hash_limit at once, so a burst of
 * registrations or logins queues here (up to a few seconds, then 503) instead of taking every
 * core and the memory with it. */
struct apex_app_hashing {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int free;
};

apex_err apex_app_hashing_start(apex_app *app, apex_error *err)
{
  struct apex_app_hashing *h = calloc(1, sizeof *h);
  if (!h)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  h->free = app->hash_limit > 0 ? app->hash_limit : cores > 0 ? (int)cores : 1;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  app->hashing = h;
  return APEX_OK;
}

void apex_app_hashing_stop(apex_app *app)
{
  struct apex_app_hashing *h = app->hashing;
  if (!h)
    return;
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
  free(h);
  app->hashing = NULL;
}

#define HASH_WAIT_S 5

static bool hashing_enter(apex_app *app)
{
  struct apex_app_hashing *h = app->hashing;
  if (!h)
    return true;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += HASH_WAIT_S;
  pthread_mutex_lock(&h->mu);
  int rc = 0;
  while (h->free == 0 && rc == 0)
    rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
  bool ok = h->free > 0;
  if (ok)
    h->free--;
  pthread_mutex_unlock(&h->mu);
  return ok;
}

static void hashing_leave(apex_app *app)
{
  struct apex_app_hashing *h = app->hashing;
  if (!h)
    return;
  pthread_mutex_lock(&h->mu);
  h->free++;
  pthread_cond_signal(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

/* hash_password and verify_password under the bound; -1 when the server is too busy. */
static int hash_pw(apex_app *app, const char *pw, char *out)
{
  if (!hashing_enter(app))
    return -1;
  int rc = app->auth.hash_password(pw, out) ? 1 : 0;
  hashing_leave(app);
  return rc;
}

static int verify_pw(apex_app *app, const char *hash, const char *pw)
{
  if (!hashing_enter(app))
    return -1;
  int ok = app->auth.verify_password(hash, pw) ? 1 : 0;
  hashing_leave(app);
  return ok;
}

static apex_err busy(apex_app_error *e)
{
  e->retry_after = HASH_WAIT_S;
  return apex_app_raise(e, APEX_E_UNAVAILABLE, "too many password checks at once; try again in a few seconds");
}

static const char *str_field(const apex_json *body, const char *key) { return apex_json_string_value(apex_json_object_get(body, key)); }

static void lower(char *s)
{
  for (; *s; s++)
    *s = (char)tolower((unsigned char)*s);
}

void apex_tokens_clear(apex_tokens *t)
{
  free(t->access);
  memset(t, 0, sizeof *t);
}

static apex_err issue(apex_app *app, const apex_user *u, const char *family, apex_tokens *out, apex_app_error *e)
{
  apex_token t = {0};
  apex_error err;
  int64_t now = app->now_ms();
  memset(out, 0, sizeof *out);
  if (app->auth.issue_access(app->auth.ctx, u->id, u->email, now / 1000, app->access_ttl_s, &out->access))
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot sign an access token");
  app->auth.random_token(out->refresh);
  app->auth.token_hash(out->refresh, t.hash);
  snprintf(t.user_id, sizeof t.user_id, "%s", u->id);
  snprintf(t.family, sizeof t.family, "%s", family);
  snprintf(t.kind, sizeof t.kind, "refresh");
  t.expires_at = now + app->refresh_ttl_s * 1000;
  if (apex_store_token_insert(app->store, &t, &err)) {
    apex_tokens_clear(out);
    return apex_app_store_failed(e, &err);
  }
  out->access_expires_in = app->access_ttl_s;
  out->refresh_expires_in = app->refresh_ttl_s;
  return APEX_OK;
}

/* Per client address: a 429 with the seconds to wait. */
static apex_err limited(apex_app *app, const char *what, const char *ip, int max, apex_app_error *e)
{
  char key[300];
  snprintf(key, sizeof key, "%s:%s", what, ip ? ip : "");
  int wait = limit_hit(app, key, max, true);
  if (!wait)
    return APEX_OK;
  e->retry_after = wait;
  return apex_app_raise(e, APEX_E_TOO_MANY_REQUESTS, "try again in %d seconds", wait);
}

apex_err apex_app_register(apex_app *app, const apex_json *body, const char *ip, apex_user *out, apex_app_error *e)
{
  *out = (apex_user){0};
  const char *email = str_field(body, "email"), *pw = str_field(body, "password");
  const char *first = str_field(body, "first_name"), *last = str_field(body, "last_name");
  char why[200];
  apex_error err;
  memset(out, 0, sizeof *out);
  if (!email || !app->auth.email_ok(email))
    apex_problems_add(&e->problems, "/email", "must be an email address like name@example.com");
  if (!pw)
    apex_problems_add(&e->problems, "/password", "is required");
  else if (!app->auth.password_ok(pw, email, why, sizeof why))
    apex_problems_add(&e->problems, "/password", "%s", why);
  if ((first && strlen(first) > 100) || (last && strlen(last) > 100))
    apex_problems_add(&e->problems, first && strlen(first) > 100 ? "/first_name" : "/last_name",
                      "must be at most 100 characters");
  if (e->problems.total)
    return apex_app_raise(e, APEX_E_VALIDATION, "the registration has %zu problem%s", e->problems.total,
                         e->problems.total == 1 ? "" : "s");
  /* Each account costs an Argon2 hash: a flood of them is a CPU flood. */
  if (limited(app, "register", ip, app->account_limit, e))
    return APEX_EINVAL;
  snprintf(out->email, sizeof out->email, "%s", email);
  lower(out->email);
  /* Before the password hash (tens of ms of CPU): a taken email costs the server nothing. */
  apex_user taken;
  apex_err found = apex_store_user_by_email(app->store, out->email, &taken, &err);
  if (found == APEX_OK)
    return apex_app_raise(e, APEX_E_CONFLICT, "an account with this email exists");
  if (found != APEX_ENOTFOUND)
    return apex_app_store_failed(e, &err);
  if (apex_app_new_id(out->id))
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot make an id");
  int hashed = hash_pw(app, pw, out->password_hash);
  if (hashed < 0)
    return busy(e);
  if (hashed)
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot hash the password");
  snprintf(out->first_name, sizeof out->first_name, "%s", first ? first : "");
  snprintf(out->last_name, sizeof out->last_name, "%s", last ? last : "");
  snprintf(out->timezone, sizeof out->timezone, "Europe/Paris");
  snprintf(out->preferred_currency, sizeof out->preferred_currency, "EUR");
  out->is_active = true;
  out->created_at = out->updated_at = app->now_ms();
  apex_err rc = apex_store_user_insert(app->store, out, &err);
  if (rc == APEX_ECONFLICT)
    return apex_app_raise(e, APEX_E_CONFLICT, "an account with this email exists");
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

/* A fixed argon2id hash, checked when the email is unknown so both answers take the same time. */
static const char DUMMY_HASH[] =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG5mC6BJhQQEI";

apex_err apex_app_login(apex_app *app, const apex_json *body, const char *ip, apex_tokens *out, apex_user *user,
                        apex_app_error *e)
{
  *out = (apex_tokens){0};
  *user = (apex_user){0};
  const char *email = str_field(body, "email"), *pw = str_field(body, "password");
  char key[300], mail[256];
  apex_error err;
  memset(out, 0, sizeof *out);
  memset(user, 0, sizeof *user);
  if (!email || !pw)
    return apex_app_raise(e, APEX_E_VALIDATION, "email and password are required");
  snprintf(mail, sizeof mail, "%s", email);
  lower(mail);
  snprintf(key, sizeof key, "ip:%s", ip ? ip : "");
  int wait = limit_hit(app, key, LIMIT_PER_IP, true);
  snprintf(key, sizeof key, "email:%s", mail);
  int wait2 = limit_hit(app, key, LIMIT_PER_EMAIL, false); /* failures are counted below */
  int wait3 = locked(app, mail);
  if (wait3 > wait2)
    wait2 = wait3;
  if (wait || wait2) {
    e->retry_after = wait > wait2 ? wait : wait2;
    return apex_app_raise(e, APEX_E_TOO_MANY_REQUESTS, "try again in %d seconds", e->retry_after);
  }
  apex_err rc = apex_store_user_by_email(app->store, mail, user, &err);
  if (rc && rc != APEX_ENOTFOUND)
    return apex_app_store_failed(e, &err);
  int verified = verify_pw(app, rc ? DUMMY_HASH : user->password_hash, pw);
  if (verified < 0)
    return busy(e);
  bool ok = verified && !rc && user->is_active;
  if (!ok) {
    (void)limit_hit(app, key, LIMIT_PER_EMAIL, true);
    strike_if_tripped(app, mail, key);
    return apex_app_raise(e, APEX_E_AUTH_INVALID_CREDENTIALS, "email or password incorrect");
  }
  apex_id family;
  if (apex_app_new_id(family))
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot make an id");
  if (issue(app, user, family, out, e))
    return APEX_EINVAL;
  user->last_login_at = app->now_ms();
  (void)apex_store_user_update(app->store, user, &err);
  return APEX_OK;
}

static apex_err refresh_invalid(apex_app_error *e)
{
  return apex_app_raise(e, APEX_E_AUTH_REFRESH_INVALID, "the refresh token is invalid, expired or revoked");
}

apex_err apex_app_refresh(apex_app *app, const char *refresh_token, apex_tokens *out, apex_app_error *e)
{
  *out = (apex_tokens){0};
  apex_token t;
  apex_user u;
  apex_error err;
  char hash[65];
  memset(out, 0, sizeof *out);
  if (!refresh_token || !*refresh_token || strlen(refresh_token) > 64)
    return refresh_invalid(e);
  app->auth.token_hash(refresh_token, hash);
  apex_err rc = apex_store_token_get(app->store, hash, &t, &err);
  if (rc == APEX_ENOTFOUND)
    return refresh_invalid(e);
  if (rc)
    return apex_app_store_failed(e, &err);
  if (strcmp(t.kind, "refresh") || t.revoked || t.expires_at <= app->now_ms())
    return refresh_invalid(e);
  if (t.used || apex_store_token_use(app->store, hash, &err) == APEX_ECONFLICT) {
    /* A used token came back: someone holds a copy. End the whole family, the thief's and ours. */
    (void)apex_store_token_revoke_family(app->store, t.family, &err);
    return refresh_invalid(e);
  }
  if (apex_store_user_by_id(app->store, t.user_id, &u, &err) || !u.is_active)
    return refresh_invalid(e);
  return issue(app, &u, t.family, out, e);
}

/* Tells the WebSocket hub that user_id's tokens were revoked ("": someone's). */
static void sessions_revoked(apex_app *app, const char *user_id)
{
  if (!app->events)
    return;
  apex_event ev = {.kind = APEX_EVENT_SESSION_REVOKED, .time_ms = app->now_ms()};
  snprintf(ev.user_id, sizeof ev.user_id, "%s", user_id);
  apex_events_publish(app->events, &ev);
}

apex_err apex_app_logout(apex_app *app, const char *refresh_token, const char *access_token, apex_app_error *e)
{
  apex_token t;
  apex_error err;
  char hash[65];
  /* The access token would otherwise stand until it expires (15 minutes by default). */
  if (access_token && app->auth.revoke_access &&
      app->auth.revoke_access(app->auth.ctx, access_token, app->now_ms() / 1000))
    return apex_app_raise(e, APEX_E_UNAVAILABLE, "cannot record the logout now; try again");
  bool known = false;
  if (refresh_token && *refresh_token && strlen(refresh_token) <= 64) {
    app->auth.token_hash(refresh_token, hash);
    if ((known = apex_store_token_get(app->store, hash, &t, &err) == APEX_OK && !strcmp(t.kind, "refresh")))
      (void)apex_store_token_revoke_family(app->store, t.family, &err);
  }
  /* Live sockets opened with the access token close now (a user we cannot name: every socket's
   * token is checked again). */
  if (access_token && app->auth.revoke_access)
    sessions_revoked(app, known ? t.user_id : "");
  return APEX_OK; /* nothing to revoke: logging out is idempotent */
}

apex_err apex_app_forgot(apex_app *app, const apex_json *body, const char *ip, apex_app_error *e)
{
  const char *email = str_field(body, "email");
  char mail[256];
  if (!email || !app->auth.email_ok(email)) {
    apex_problems_add(&e->problems, "/email", "must be an email address");
    return apex_app_raise(e, APEX_E_VALIDATION, "email must be an email address");
  }
  if (limited(app, "forgot", ip, app->account_limit, e))
    return APEX_EINVAL;
  snprintf(mail, sizeof mail, "%s", email);
  lower(mail);
  /* Whether the account exists is decided later, off this request: same answer, same time. */
  if (app->outbox)
    (void)apex_app_outbox_push(app, mail);
  else
    apex_app_forgot_deliver(app, mail);
  return APEX_OK;
}

void apex_app_forgot_deliver(apex_app *app, const char *mail)
{
  char token[48], text[512];
  apex_user u;
  apex_token t = {0};
  apex_error err;
  if (apex_store_user_by_email(app->store, mail, &u, &err))
    return; /* no such account (or no database now): nothing to send */
  app->auth.random_token(token);
  app->auth.token_hash(token, t.hash);
  snprintf(t.user_id, sizeof t.user_id, "%s", u.id);
  snprintf(t.kind, sizeof t.kind, "reset");
  t.expires_at = app->now_ms() + RESET_TTL_S * 1000;
  if (apex_store_token_insert(app->store, &t, &err)) {
    apex_log_fields(APEX_LOG_ERROR, "cannot store a password reset token",
                    (apex_log_field[]){APEX_LOG_S("error", err.msg)}, 1);
    return;
  }
  snprintf(text, sizeof text,
           "Someone asked to reset the ApexTrade password of %s.\nReset token (valid 30 minutes, once): %s\n"
           "POST /api/v1/auth/reset {\"token\": \"...\", \"password\": \"...\"}\n",
           u.email, token);
  if (app->mail)
    app->mail(app->mail_ctx, u.email, "ApexTrade password reset", text);
}

apex_err apex_app_reset(apex_app *app, const apex_json *body, const char *ip, apex_app_error *e)
{
  const char *token = str_field(body, "token"), *pw = str_field(body, "password");
  char hash[65], why[200];
  apex_token t;
  apex_user u;
  apex_error err;
  if (!token || !pw || strlen(token) > 64)
    return apex_app_raise(e, APEX_E_VALIDATION, "token and password are required");
  if (limited(app, "reset", ip, app->account_limit, e))
    return APEX_EINVAL;
  app->auth.token_hash(token, hash);
  if (apex_store_token_get(app->store, hash, &t, &err) || strcmp(t.kind, "reset") || t.used || t.revoked ||
      t.expires_at <= app->now_ms() || apex_store_user_by_id(app->store, t.user_id, &u, &err))
    return apex_app_raise(e, APEX_E_AUTH_REFRESH_INVALID, "the reset token is invalid, used or expired");
  if (!app->auth.password_ok(pw, u.email, why, sizeof why)) {
    apex_problems_add(&e->problems, "/password", "%s", why);
    return apex_app_raise(e, APEX_E_VALIDATION, "%s", why);
  }
  if (apex_store_token_use(app->store, hash, &err))
    return apex_app_raise(e, APEX_E_AUTH_REFRESH_INVALID, "the reset token was already used");
  int hashed = hash_pw(app, pw, u.password_hash);
  if (hashed < 0)
    return busy(e);
  if (hashed)
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot hash the password");
  u.updated_at = app->now_ms();
  if (apex_store_user_update(app->store, &u, &err))
    return apex_app_store_failed(e, &err);
  /* A new password ends every session the old one opened, and every other reset link mailed
   * before it (a copy in a forwarded or stolen mail must not work once the owner has reset). */
  if (apex_store_token_revoke_user(app->store, u.id, "refresh", &err) ||
      apex_store_token_revoke_user(app->store, u.id, "reset", &err))
    return apex_app_store_failed(e, &err);
  if (app->auth.revoke_user && app->auth.revoke_user(app->auth.ctx, u.id, app->now_ms() / 1000, app->access_ttl_s))
    return apex_app_raise(e, APEX_E_UNAVAILABLE, "the password is changed but open sessions could not be ended");
  sessions_revoked(app, u.id);
  return APEX_OK;
}

apex_err apex_app_me(apex_app *app, const char *user_id, apex_user *out, apex_app_error *e)
{
  *out = (apex_user){0};
  apex_error err;
  apex_err rc = apex_store_user_by_id(app->store, user_id, out, &err);
  if (rc == APEX_ENOTFOUND)
    return apex_app_raise(e, APEX_E_AUTH_TOKEN_INVALID, "the account no longer exists");
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

static const char *const TIMEZONES[] = {
#include "app/timezones.inc"
};

static int tz_cmp(const void *key, const void *elem) { return strcmp(key, *(const char *const *)elem); }

/* Only names of the IANA database: a free-form value (today "../../etc/passwd" was stored) would
 * reach whatever later opens a zone by name. The list is sorted (sort -u in C locale). */
static bool timezone_known(const char *s)
{
  return bsearch(s, TIMEZONES, APEX_ARRAY_LEN(TIMEZONES), sizeof TIMEZONES[0], tz_cmp) != NULL;
}

apex_err apex_app_me_update(apex_app *app, const char *user_id, const apex_json *body, apex_user *out,
                            apex_app_error *e)
{
  *out = (apex_user){0};
  static const struct { const char *key; size_t off, cap; } FIELDS[] = {
      {"first_name", offsetof(apex_user, first_name), sizeof((apex_user *)0)->first_name},
      {"last_name", offsetof(apex_user, last_name), sizeof((apex_user *)0)->last_name},
      {"timezone", offsetof(apex_user, timezone), sizeof((apex_user *)0)->timezone},
      {"preferred_currency", offsetof(apex_user, preferred_currency), sizeof((apex_user *)0)->preferred_currency},
  };
  apex_error err;
  if (apex_app_me(app, user_id, out, e))
    return APEX_EINVAL;
  apex_json_iter it = apex_json_object_iter(body);
  const char *k;
  const apex_json *v;
  while (apex_json_object_next(&it, &k, &v)) {
    size_t i = 0;
    char ptr[80];
    snprintf(ptr, sizeof ptr, "/%s", k);
    while (i < APEX_ARRAY_LEN(FIELDS) && strcmp(FIELDS[i].key, k))
      i++;
    const char *s = apex_json_string_value(v);
    if (i == APEX_ARRAY_LEN(FIELDS))
      apex_problems_add(&e->problems, ptr, "unknown or read-only field");
    else if (!s)
      apex_problems_add(&e->problems, ptr, "must be a string");
    else if (strlen(s) >= FIELDS[i].cap)
      apex_problems_add(&e->problems, ptr, "must be at most %zu characters", FIELDS[i].cap - 1);
    else if (!strcmp(k, "preferred_currency") && strcmp(s, "EUR") && strcmp(s, "USD"))
      apex_problems_add(&e->problems, ptr, "must be \"EUR\" or \"USD\" (the currencies supported)");
    else if (!strcmp(k, "timezone") && !timezone_known(s))
      apex_problems_add(&e->problems, ptr, "must be an IANA time zone name like Europe/Paris or UTC");
    else
      snprintf((char *)out + FIELDS[i].off, FIELDS[i].cap, "%s", s);
  }
  if (e->problems.total)
    return apex_app_raise(e, APEX_E_VALIDATION, "the profile has %zu problem%s", e->problems.total,
                         e->problems.total == 1 ? "" : "s");
  out->updated_at = app->now_ms();
  return apex_store_user_update(app->store, out, &err) ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_json *apex_app_user_json(const apex_user *u)
{
  apex_json *j = apex_json_new_object();
  char b[40];
  apex_json_object_set(j, "id", apex_json_new_string(u->id));
  apex_json_object_set(j, "email", apex_json_new_string(u->email));
  apex_json_object_set(j, "first_name", u->first_name[0] ? apex_json_new_string(u->first_name) : apex_json_new_null());
  apex_json_object_set(j, "last_name", u->last_name[0] ? apex_json_new_string(u->last_name) : apex_json_new_null());
  apex_json_object_set(j, "timezone", apex_json_new_string(u->timezone));
  apex_json_object_set(j, "preferred_currency", apex_json_new_string(u->preferred_currency));
  apex_json_object_set(j, "is_active", apex_json_new_bool(u->is_active));
  apex_json_object_set(j, "is_verified", apex_json_new_bool(u->is_verified));
  apex_time_iso(u->created_at, b, sizeof b);
  apex_json_object_set(j, "created_at", apex_json_new_string(b));
  return j;
}
