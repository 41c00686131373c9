/* cache_inproc.c - cache.h's in-process implementation: chained buckets of exact keys
 * (compared whole: length, then every byte) plus a least-recently-used list, under one mutex.
 * Expired entries are dropped when a lookup meets them and by a sweep of the whole table when it
 * is full (at most once a second, so a flood of new tokens cannot make every put a full scan);
 * when nothing has expired, the least recently used entry makes room. */
#include "jobs/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

typedef struct entry {
  struct entry *next;             /* in its bucket */
  struct entry *newer, *older;    /* the LRU list */
  int64_t expires;
  size_t klen, vlen;
  unsigned char data[];           /* key bytes, then value bytes */
} entry;

typedef struct inproc {
  pthread_mutex_t mu;
  entry **bucket;
  size_t nbuckets;                /* a power of two */
  entry *newest, *oldest;
  size_t n, max;
  size_t max_value;
  uint64_t seed;
  int64_t last_sweep;
} inproc;

/* Spreads keys over the buckets 8 bytes a step (keys are tokens and rendered items' inputs, hundreds
 * of bytes each, hashed on every request), from a seed of this cache's own so that nobody can aim
 * keys at one bucket. Equality is decided by memcmp. */
static size_t bucket_of(const inproc *c, const unsigned char *k, size_t n)
{
  const uint64_t m = 0x9e3779b97f4a7c15ull;
  uint64_t h = c->seed ^ n, w;
  for (; n >= 8; n -= 8, k += 8) {
    memcpy(&w, k, 8);
    h = (h ^ w) * m;
    h ^= h >> 32;
  }
  w = 0;
  memcpy(&w, k, n);
  h = (h ^ w) * m;
  h ^= h >> 29;
  return (size_t)(h & (c->nbuckets - 1));
}

static void lru_unlink(inproc *c, entry *e)
{
  if (e->newer)
    e->newer->older = e->older;
  else
    c->newest = e->older;
  if (e->older)
    e->older->newer = e->newer;
  else
    c->oldest = e->newer;
  e->newer = e->older = NULL;
}

static void lru_push(inproc *c, entry *e)
{
  e->older = c->newest;
  e->newer = NULL;
  if (c->newest)
    c->newest->newer = e;
  c->newest = e;
  if (!c->oldest)
    c->oldest = e;
}

/* Unlinks e from its bucket (pp points at the link to it) and the LRU list, and frees it. */
static void drop(inproc *c, entry **pp, entry *e)
{
  *pp = e->next;
  lru_unlink(c, e);
  free(e);
  c->n--;
}

/* The link pointing at key's entry (or at the NULL ending its bucket), dropping expired entries
 * met on the way (key's own included: an expired entry is as good as absent). */
static entry **find(inproc *c, const unsigned char *key, size_t n, int64_t now)
{
  entry **pp = &c->bucket[bucket_of(c, key, n)];
  while (*pp) {
    entry *e = *pp;
    if (e->expires <= now) {
      drop(c, pp, e);
      continue;
    }
    if (e->klen == n && !memcmp(e->data, key, n))
      return pp;
    pp = &e->next;
  }
  return pp;
}

static void sweep(inproc *c, int64_t now)
{
  for (size_t b = 0; b < c->nbuckets; b++)
    for (entry **pp = &c->bucket[b]; *pp;) {
      if ((*pp)->expires <= now)
        drop(c, pp, *pp);
      else
        pp = &(*pp)->next;
    }
  c->last_sweep = now;
}

static bool get(void *impl, const void *key, size_t n, int64_t now, void *val, size_t cap, size_t *len)
{
  inproc *c = impl;
  bool hit = false;
  *len = 0;
  if (n == 0 || n > APEX_CACHE_KEY_MAX)
    return false;
  pthread_mutex_lock(&c->mu);
  entry *e = *find(c, key, n, now);
  if (e && e->vlen <= cap) {
    memcpy(val, e->data + e->klen, e->vlen);
    *len = e->vlen;
    lru_unlink(c, e);
    lru_push(c, e);
    hit = true;
  }
  pthread_mutex_unlock(&c->mu);
  return hit;
}

static apex_err put(void *impl, const void *key, size_t n, int64_t expires, int64_t now, const void *val, size_t len)
{
  inproc *c = impl;
  if (n == 0 || n > APEX_CACHE_KEY_MAX || len == 0 || len > c->max_value || expires <= now)
    return APEX_EINVAL;
  /* Allocated outside the lock; freed again when the key is already there. */
  entry *fresh = malloc(sizeof *fresh + n + len);
  if (!fresh)
    return APEX_ENOMEM;
  *fresh = (entry){.expires = expires, .klen = n, .vlen = len};
  memcpy(fresh->data, key, n);
  memcpy(fresh->data + n, val, len);

  pthread_mutex_lock(&c->mu);
  entry **pp = find(c, key, n, now);
  if (*pp) /* the same key again: take the new value and expiry */
    drop(c, pp, *pp);
  if (c->n >= c->max && c->last_sweep != now)
    sweep(c, now);
  while (c->n >= c->max) { /* nothing expired: the least recently used makes room */
    entry *old = c->oldest;
    entry **op = &c->bucket[bucket_of(c, old->data, old->klen)];
    while (*op != old)
      op = &(*op)->next;
    drop(c, op, old);
  }
  pp = &c->bucket[bucket_of(c, key, n)];
  fresh->next = *pp;
  *pp = fresh;
  lru_push(c, fresh);
  c->n++;
  pthread_mutex_unlock(&c->mu);
  return APEX_OK;
}

static void destroy(void *impl)
{
  inproc *c = impl;
  if (!c)
    return;
  while (c->oldest) {
    entry *e = c->oldest;
    c->oldest = e->newer;
    free(e);
  }
  free(c->bucket);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static const apex_cache_ops INPROC_OPS = {get, put, destroy};

apex_err apex_cache_inproc_new(size_t max_entries, size_t max_value, apex_cache *out)
{
  *out = (apex_cache){0};
  if (!max_entries || max_entries > ((size_t)1 << 24) || !max_value || max_value > ((size_t)1 << 24))
    return APEX_EINVAL;
  inproc *c = calloc(1, sizeof *c);
  size_t nb = 1;
  while (nb < max_entries) /* about one entry per bucket when full */
    nb <<= 1;
  if (!c || !(c->bucket = calloc(nb, sizeof *c->bucket))) {
    free(c);
    return APEX_ENOMEM;
  }
  pthread_mutex_init(&c->mu, NULL);
  c->nbuckets = nb;
  c->max = max_entries;
  c->max_value = max_value;
  if (getrandom(&c->seed, sizeof c->seed, GRND_NONBLOCK) != (ssize_t)sizeof c->seed)
    c->seed = (uint64_t)(uintptr_t)c ^ (uint64_t)time(NULL); /* no entropy yet: still not a constant */
  c->last_sweep = INT64_MIN;
  *out = (apex_cache){&INPROC_OPS, c};
  return APEX_OK;
}
