/* cache.h - the bounded cache port: values remembered by their exact key until an expiry. Two
 * uses: verified access tokens (api/auth.c: the token text -> what a full check found, until the
 * token's own expiry, so a token used on every request is checked in full once) and rendered list
 * items (app/strategies.c: every input of an item -> its JSON text, so a list of unchanged rows is
 * not encoded again on every request). The composition root picks the implementation
 * (cache_inproc.c today; a shared one where several API nodes should share verifications). A
 * cache may forget anything at any time: a miss only costs the work again. It must never answer
 * for another key. */
#ifndef APEX_JOBS_CACHE_H
#define APEX_JOBS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

#define APEX_CACHE_KEY_MAX 8448 /* bytes; longer keys are never stored (never cut) */

typedef struct apex_cache_ops {
  /* True when key (klen bytes) holds a value of at most cap bytes that expires after now_s: the
   * value is copied to val and its length stored in *len. */
  bool (*get)(void *impl, const void *key, size_t klen, int64_t now_s, void *val, size_t cap, size_t *len);
  /* Remembers val (len bytes) under key until expires_s (a get at expires_s or later misses).
   * APEX_EINVAL for an expiry not after now_s, an empty or too long key or value; APEX_ENOMEM. */
  apex_err (*put)(void *impl, const void *key, size_t klen, int64_t expires_s, int64_t now_s, const void *val,
                  size_t len);
  void (*free)(void *impl);
} apex_cache_ops;

typedef struct apex_cache {
  const apex_cache_ops *ops;
  void *impl;
} apex_cache;

static inline bool apex_cache_get(apex_cache *c, const void *key, size_t klen, int64_t now_s, void *val, size_t cap,
                                  size_t *len)
{
  return c->ops->get(c->impl, key, klen, now_s, val, cap, len);
}
static inline apex_err apex_cache_put(apex_cache *c, const void *key, size_t klen, int64_t expires_s, int64_t now_s,
                                      const void *val, size_t len)
{
  return c->ops->put(c->impl, key, klen, expires_s, now_s, val, len);
}
/* The common case of a text key (a token) and a value of one fixed size (a struct): a hit only
 * when the stored value has exactly len bytes. */
static inline bool apex_cache_get_text(apex_cache *c, const char *key, int64_t now_s, void *val, size_t len)
{
  size_t got = 0;
  return apex_cache_get(c, key, strnlen(key, APEX_CACHE_KEY_MAX + 1), now_s, val, len, &got) && got == len;
}
static inline apex_err apex_cache_put_text(apex_cache *c, const char *key, int64_t expires_s, int64_t now_s,
                                           const void *val, size_t len)
{
  return apex_cache_put(c, key, strnlen(key, APEX_CACHE_KEY_MAX + 1), expires_s, now_s, val, len);
}
/* Frees c's implementation and zeroes c; a zeroed c is a no-op. */
static inline void apex_cache_free(apex_cache *c)
{
  if (c && c->ops)
    c->ops->free(c->impl);
  if (c)
    *c = (apex_cache){0};
}

/* In-process cache: a hash table of exact keys (whole-key comparison) under one mutex, at most
 * max_entries of them with values of at most max_value bytes. When full, expired entries go
 * first, then the least recently used one. Thread-safe. APEX_EINVAL for a zero or absurd bound,
 * APEX_ENOMEM. */
apex_err apex_cache_inproc_new(size_t max_entries, size_t max_value, apex_cache *out);

#endif
