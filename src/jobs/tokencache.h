/* tokencache.h - the verified-token cache port: remembers, by the exact token text, what a full
 * check of a token found (api/auth.c keeps its claims here), until the token's own expiry, so a
 * token used on every request is checked in full once. The auth layer sees only this ops table;
 * the composition root picks the implementation (tokencache_inproc.c today; Redis when several
 * API nodes should share verifications). A cache may forget anything at any time: a miss only
 * costs a full check. It must never answer for another key. */
#ifndef APEX_JOBS_TOKENCACHE_H
#define APEX_JOBS_TOKENCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define APEX_TOKENCACHE_KEY_MAX 8448  /* bytes; longer keys are never stored (never cut) */
#define APEX_TOKENCACHE_VALUE_MAX 1024 /* bytes */

typedef struct apex_tokencache_ops {
  /* True, with len bytes copied to val, when key was put with a value of exactly len bytes and
   * an expiry after now_s. */
  bool (*get)(void *impl, const char *key, int64_t now_s, void *val, size_t len);
  /* Remembers val (len bytes) under key until expires_s (a get at expires_s or later misses).
   * APEX_EINVAL for an expiry not after now_s, an empty or too long key or value; APEX_ENOMEM. */
  apex_err (*put)(void *impl, const char *key, int64_t expires_s, int64_t now_s, const void *val, size_t len);
  void (*free)(void *impl);
} apex_tokencache_ops;

typedef struct apex_tokencache {
  const apex_tokencache_ops *ops;
  void *impl;
} apex_tokencache;

static inline bool apex_tokencache_get(apex_tokencache *c, const char *key, int64_t now_s, void *val, size_t len)
{
  return c->ops->get(c->impl, key, now_s, val, len);
}
static inline apex_err apex_tokencache_put(apex_tokencache *c, const char *key, int64_t expires_s, int64_t now_s,
                                           const void *val, size_t len)
{
  return c->ops->put(c->impl, key, expires_s, now_s, val, len);
}
/* Frees c's implementation and zeroes c; a zeroed c is a no-op. */
static inline void apex_tokencache_free(apex_tokencache *c)
{
  if (c && c->ops)
    c->ops->free(c->impl);
  if (c)
    *c = (apex_tokencache){0};
}

/* In-process cache: a hash table of exact keys (whole-text comparison) under one mutex, at most
 * max_entries of them. When full, expired entries go first, then the least recently used one.
 * Thread-safe. APEX_EINVAL for max_entries 0, APEX_ENOMEM. */
apex_err apex_tokencache_inproc_new(size_t max_entries, apex_tokencache *out);

#endif
