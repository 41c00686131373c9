/* tokencache_inproc.c - tokencache.h's in-process implementation: chained buckets of exact keys
 * (compared whole: length, then every byte) plus a least-recently-used list, under one mutex.
 * Expired entries are dropped when a lookup meets them and by a sweep of the whole table when it
 * is full (at most once a second, so a flood of new tokens cannot make every put a full scan);
 * when nothing has expired, the least recently used entry makes room. */
#include "jobs/tokencache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
  int64_t last_sweep;
} inproc;

static size_t bucket_of(const inproc *c, const char *k, size_t n)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a: spreads keys; equality is decided by memcmp */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
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
static entry **find(inproc *c, const char *key, size_t n, int64_t now)
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

static bool get(void *impl, const char *key, int64_t now, void *val, size_t len)
{
  inproc *c = impl;
  bool hit = false;
  size_t n = strnlen(key, APEX_TOKENCACHE_KEY_MAX + 1);
  if (n == 0 || n > APEX_TOKENCACHE_KEY_MAX)
    return false;
  pthread_mutex_lock(&c->mu);
  entry *e = *find(c, key, n, now);
  if (e && e->vlen == len) {
    memcpy(val, e->data + e->klen, len);
    lru_unlink(c, e);
    lru_push(c, e);
    hit = true;
  }
  pthread_mutex_unlock(&c->mu);
  return hit;
}

static apex_err put(void *impl, const char *key, int64_t expires, int64_t now, const void *val, size_t len)
{
  inproc *c = impl;
  size_t n = strnlen(key, APEX_TOKENCACHE_KEY_MAX + 1);
  if (n == 0 || n > APEX_TOKENCACHE_KEY_MAX || len == 0 || len > APEX_TOKENCACHE_VALUE_MAX || expires <= now)
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
  if (*pp) /* the same token again: take the new value and expiry */
    drop(c, pp, *pp);
  if (c->n >= c->max && c->last_sweep != now)
    sweep(c, now);
  while (c->n >= c->max) { /* nothing expired: the least recently used makes room */
    entry *old = c->oldest;
    entry **op = &c->bucket[bucket_of(c, (const char *)old->data, old->klen)];
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

static const apex_tokencache_ops INPROC_OPS = {get, put, destroy};

apex_err apex_tokencache_inproc_new(size_t max_entries, apex_tokencache *out)
{
  *out = (apex_tokencache){0};
  if (!max_entries || max_entries > ((size_t)1 << 24))
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
  c->last_sweep = INT64_MIN;
  *out = (apex_tokencache){&INPROC_OPS, c};
  return APEX_OK;
}
