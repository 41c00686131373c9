/* denylist.h - the revoked-access-token port: access tokens are checked by signature alone, so a
 * logout or a password reset must be remembered until the tokens it ends would expire anyway.
 * Two kinds of entry: one token (by its jti) and every token of a user issued before a moment.
 * Unlike the token cache, a denylist may never forget an entry before its end: when it cannot
 * hold a new one it says so (the caller reports it). In-process today; shared (Redis) when
 * several API nodes must agree, in the scale-out issue. */
#ifndef APEX_JOBS_DENYLIST_H
#define APEX_JOBS_DENYLIST_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define APEX_DENYLIST_KEY_MAX 64 /* jti and user id bytes */

typedef struct apex_denylist_ops {
  /* Token jti is revoked until until_s (its expiry). APEX_EINVAL (empty or too long jti),
   * APEX_ENOMEM (full of live entries). */
  apex_err (*revoke_token)(void *impl, const char *jti, int64_t until_s, int64_t now_s);
  /* Every token of user sub issued before at_s is revoked, until until_s (at_s plus the longest
   * access token lifetime). A later call with a later at_s replaces it. */
  apex_err (*revoke_user)(void *impl, const char *sub, int64_t at_s, int64_t until_s, int64_t now_s);
  /* The token (jti may be "": none) of sub issued at iat is revoked at now_s. */
  bool (*revoked)(void *impl, const char *jti, const char *sub, int64_t iat, int64_t now_s);
  void (*free)(void *impl);
} apex_denylist_ops;

typedef struct apex_denylist {
  const apex_denylist_ops *ops;
  void *impl;
} apex_denylist;

static inline apex_err apex_denylist_revoke_token(apex_denylist *d, const char *jti, int64_t until_s, int64_t now_s)
{
  return d->ops->revoke_token(d->impl, jti, until_s, now_s);
}
static inline apex_err apex_denylist_revoke_user(apex_denylist *d, const char *sub, int64_t at_s, int64_t until_s,
                                                 int64_t now_s)
{
  return d->ops->revoke_user(d->impl, sub, at_s, until_s, now_s);
}
static inline bool apex_denylist_revoked(apex_denylist *d, const char *jti, const char *sub, int64_t iat, int64_t now_s)
{
  return d->ops->revoked(d->impl, jti, sub, iat, now_s);
}
/* Frees d's implementation and zeroes d; a zeroed d is a no-op. */
static inline void apex_denylist_free(apex_denylist *d)
{
  if (d && d->ops)
    d->ops->free(d->impl);
  if (d)
    *d = (apex_denylist){0};
}

/* In-process denylist: at most max_entries live entries (tokens and users together), expired ones
 * dropped to make room, never a live one. Thread-safe. APEX_EINVAL for 0, APEX_ENOMEM. */
apex_err apex_denylist_inproc_new(size_t max_entries, apex_denylist *out);

/* Shared by every process on one Redis (denylist_redis.c): each keeps the whole list in memory
 * (revoked() never leaves the process) and applies the others' revocations as Redis announces
 * them, reloading everything after an outage. A revocation that cannot reach Redis is kept here
 * and answered APEX_EIO. APEX_EINVAL (url), APEX_ENOMEM; Redis need not be up yet. */
apex_err apex_denylist_redis_new(const char *url, size_t max_entries, apex_denylist *out, apex_error *err);

#endif
