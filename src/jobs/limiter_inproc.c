/* limiter_inproc.c - limiter.h's in-process implementation: a chained hash table of exact keys
 * under one mutex, bounded by max_keys. Expired entries are removed when a lookup passes them
 * and by a sweep of the whole table when it is full (at most once a second, so a flood of new
 * keys cannot turn every call into a full scan). */
#include "jobs/limiter.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

typedef struct entry {
  struct entry *next;
  int64_t since; /* first event of the window, seconds */
  int window_s, count;
  char key[]; /* NUL-terminated */
} entry;

typedef struct inproc {
  pthread_mutex_t mu;
  entry *bucket[BUCKETS];
  size_t n, max;
  int64_t last_sweep;
} inproc;

static unsigned hash(const char *k, size_t n)
{
  unsigned h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)k[i]) * 16777619u;
  return h;
}

static bool expired(const entry *e, int64_t now) { return now - e->since >= e->window_s; }

/* Removes every expired entry; returns the seconds until the first live one expires (>= 1). */
static int sweep(inproc *l, int64_t now)
{
  int64_t soonest = INT64_MAX;
  for (size_t b = 0; b < BUCKETS; b++)
    for (entry **pp = &l->bucket[b]; *pp;) {
      entry *e = *pp;
      if (expired(e, now)) {
        *pp = e->next;
        free(e);
        l->n--;
      } else {
        if (e->since + e->window_s - now < soonest)
          soonest = e->since + e->window_s - now;
        pp = &e->next;
      }
    }
  l->last_sweep = now;
  return soonest == INT64_MAX || soonest < 1 ? 1 : (int)soonest;
}

static int hit(void *impl, const char *key, int max, int window_s, int64_t now, bool count)
{
  inproc *l = impl;
  size_t n = strnlen(key, APEX_LIMITER_KEY_MAX);
  entry *found = NULL;
  int wait = 0;
  pthread_mutex_lock(&l->mu);
  entry **head = &l->bucket[hash(key, n) % BUCKETS];
  for (entry **pp = head; *pp;) {
    entry *e = *pp;
    if (strlen(e->key) == n && !memcmp(e->key, key, n)) {
      found = e;
      break;
    }
    if (expired(e, now)) { /* passing by: drop it */
      *pp = e->next;
      free(e);
      l->n--;
      continue;
    }
    pp = &e->next;
  }
  if (found && expired(found, now)) { /* a new window */
    found->since = now;
    found->window_s = window_s;
    found->count = 0;
  }
  if (!found && count) {
    if (l->n >= l->max) {
      int soonest = l->last_sweep != now ? sweep(l, now) : 1;
      if (l->n >= l->max) { /* full of live keys: never evict one, limit the newcomer */
        wait = soonest;
        goto out;
      }
    }
    found = malloc(sizeof *found + n + 1);
    if (!found) {
      wait = 1;
      goto out;
    }
    *found = (entry){*head, now, window_s, 0};
    memcpy(found->key, key, n);
    found->key[n] = '\0';
    *head = found;
    l->n++;
  }
  int c = found ? found->count : 0;
  if (count)
    found->count = ++c;
  if (found && c + (count ? 0 : 1) > max) {
    int64_t left = found->since + found->window_s - now;
    wait = left < 1 ? 1 : (int)left;
  }
out:
  pthread_mutex_unlock(&l->mu);
  return wait;
}

static void destroy(void *impl)
{
  inproc *l = impl;
  if (!l)
    return;
  for (size_t b = 0; b < BUCKETS; b++)
    while (l->bucket[b]) {
      entry *e = l->bucket[b];
      l->bucket[b] = e->next;
      free(e);
    }
  pthread_mutex_destroy(&l->mu);
  free(l);
}

static const apex_limiter_ops INPROC_OPS = {hit, destroy};

apex_err apex_limiter_inproc_new(size_t max_keys, apex_limiter *out)
{
  *out = (apex_limiter){0};
  inproc *l = calloc(1, sizeof *l);
  if (!l || !max_keys) {
    free(l);
    return l ? APEX_EINVAL : APEX_ENOMEM;
  }
  pthread_mutex_init(&l->mu, NULL);
  l->max = max_keys;
  l->last_sweep = INT64_MIN;
  *out = (apex_limiter){&INPROC_OPS, l};
  return APEX_OK;
}
